//! Duplicates: identical and near-identical samples, and copies shared between
//! splits. The clusters are found once per scan (`crate::duplicates`); these rules
//! only read them.

pub mod exact_duplicates;
pub mod leakage;
pub mod near_duplicates;

use crate::finding::SampleRef;
use crate::rules::Context;
use std::collections::BTreeMap;

/// Per-sample lists stop here; `sample_count` and the JSON `duplicates` section stay complete.
pub const MAX_LISTED: usize = 1000;

/// "1 image", "3 rows": the samples of this dataset, counted.
pub(crate) fn things(ctx: &Context, n: usize) -> String {
    if ctx.loaded.rows.is_some() {
        crate::util::count(n, "row", "rows")
    } else {
        crate::util::count(n, "image", "images")
    }
}

pub(crate) fn sample(ctx: &Context, id: u32, note: String) -> SampleRef {
    let mut r = ctx.loaded.manifest.sample_ref(id as usize);
    r.note = Some(note);
    r
}

/// Count of each value of a manifest string column among `members` (nulls left out).
pub(crate) fn counts(ctx: &Context, column: &str, members: &[u32]) -> BTreeMap<String, u64> {
    let col = ctx.loaded.manifest.strs(column);
    let mut out = BTreeMap::new();
    for &m in members {
        if let Some(v) = col.get(m as usize) {
            *out.entry(v.to_string()).or_insert(0) += 1;
        }
    }
    out
}

/// "cat×2, dog×1"
pub(crate) fn counts_text(c: &BTreeMap<String, u64>) -> String {
    c.iter()
        .map(|(k, n)| format!("{k}×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the identical members of a group are byte-identical files or only the
/// same decoded pixels.
pub(crate) fn identity(ctx: &Context, group: &[u32]) -> &'static str {
    if ctx.loaded.rows.is_some() {
        return "identical rows";
    }
    let files = ctx.loaded.manifest.strs("file_blake3");
    let first = files.get(group[0] as usize);
    if group.iter().all(|&m| files.get(m as usize) == first) {
        "same bytes"
    } else {
        "same pixels, different encoding"
    }
}
