//! Parts joined into one `.dsp`: the parts of a Spark DataFrame (one per partition or
//! Arrow batch) saved as one file, a saved profile that `--against` reads. A table's
//! parts become one part (their blocks, and the lowest keys of their samples under the
//! room); an image dataset's, one part holding every described sample.

use super::{table, Dsp};
use crate::load::table_parts::{absorb, prune_part};
use anyhow::{bail, Result};

/// The parts (each named by `shown` in errors, in any order) as one part's bytes.
pub fn joined(parts: Vec<(String, Vec<u8>)>) -> Result<Vec<u8>> {
    let Some((_, first)) = parts.first() else {
        bail!("empty dataset: no parts to join");
    };
    if table::is_table(first) {
        let (name, decoded) = table::decode_all(parts)?;
        let mut it = decoded.into_iter();
        let mut part = it.next().expect("decode_all gives a part or an error");
        for p in it {
            part = absorb(&name, part, p)?;
        }
        let room = part.room as usize;
        prune_part(&name, &mut part, room)?;
        return table::to_bytes(&name, part);
    }
    let named = parts
        .into_iter()
        .map(|(shown, b)| (std::path::PathBuf::from(shown), b))
        .collect();
    let mut decoded = Dsp::from_all(named)?.into_iter();
    let (_, mut all) = decoded.next().expect("from_all gives a part or an error");
    if all.header.listed {
        bail!(
            "{}: a part of a folder's scan (dsaudit partial): merge those with dsaudit merge; only parts of rows handed over in memory (a Spark DataFrame's) are joined",
            all.shard
        );
    }
    for (shown, dsp) in decoded {
        if dsp.header != all.header {
            bail!(
                "{}: a part of another scan than {}'s (another dataset name, root or configuration)",
                shown.display(),
                all.shard
            );
        }
        all.rows.extend(dsp.rows);
    }
    all.shard = "joined".to_string();
    all.to_bytes()
}
