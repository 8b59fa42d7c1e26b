//! What `dsaudit check` keeps between runs about a dataset as a whole, so that a
//! re-check after a small change does not redo every dataset-wide search:
//!
//! - the near-duplicate pairs, updated exactly: only the images whose pixels are new
//!   are compared, and the answer is the one a full search gives;
//! - the models of the label-error search and of the classifier shift test, reused
//!   while few samples have changed since they were fitted (at most `REFIT_SHARE`):
//!   changed samples are scored by the stored models, everything computed from the
//!   scores (thresholds, confident joint, AUC ranking) is computed afresh, and the
//!   report says that the models were reused. `check --refit` and `scan` always fit.
//!
//! Identities are per sample (its source, row, bytes, split and label), so they
//! exist for image datasets, whose files the per-file cache already tracks; a table
//! is one file read whole, and its checks always run in full.

use crate::manifest::Manifest;
use serde::{Deserialize, Serialize};

pub use crate::identity::{changed, Changes, Prior, REFIT_SHARE};

/// Everything stored for one dataset root.
#[derive(Serialize, Deserialize, Default, Debug, Clone)]
pub struct DatasetState {
    pub near: Option<crate::duplicates::images::NearState>,
    pub labels: Option<crate::labels::reuse::LabelFit>,
    pub shift: Vec<crate::shift::reuse::ShiftFit>,
}

/// Each manifest row's identity: None unless every readable row has a content hash
/// (unreadable ones take part in no model).
pub fn identities(m: &Manifest) -> Option<Vec<u128>> {
    let hash = m.strs("file_blake3");
    let errors = m.strs("error_kind");
    // Iterated, not indexed: a chunked column's `get` searches its chunks each time.
    if m.is_empty()
        || hash
            .iter()
            .zip(errors.iter())
            .any(|(h, e)| h.is_none() && e.is_none())
    {
        return None;
    }
    let rows = m
        .strs("source")
        .iter()
        .zip(hash.iter())
        .zip(m.strs("split").iter())
        .zip(m.strs("label").iter())
        .zip(m.u64s("row").iter());
    Some(
        rows.map(|((((source, hash), split), label), row)| {
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            for part in [source, hash, split, label] {
                // Present and absent differ, and no part runs into the next.
                match part {
                    Some(s) => {
                        h.update(&[1]);
                        h.update(s.as_bytes());
                    }
                    None => h.update(&[0]),
                }
                h.update(&[0xff]);
            }
            h.update(&row.unwrap_or(u64::MAX).to_le_bytes());
            h.digest128()
        })
        .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_count_both_ways() {
        let fitted = vec![1u128, 3, 5, 7];
        assert_eq!(changed(&fitted, [1u128, 3, 5, 7].into_iter()).count(), 0);
        // 7 rewritten as 9: one change, seen both ways.
        let c = changed(&fitted, [1u128, 3, 5, 9].into_iter());
        assert_eq!((c.added, c.removed, c.count()), (1, 1, 1));
        assert_eq!(changed(&fitted, std::iter::empty()).count(), 4);
        assert_eq!(
            changed(&fitted, [1u128, 3, 5, 7, 8, 9].into_iter()).count(),
            2
        );
        let of = |fitted, added| Changes {
            fitted,
            added,
            removed: 0,
        };
        assert!(of(1000, 10).reusable());
        assert!(!of(1000, 11).reusable());
        assert!(!of(0, 0).reusable());
    }
}
