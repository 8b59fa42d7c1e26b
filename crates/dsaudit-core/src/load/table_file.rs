//! `dsaudit partial` of one table file: the file read a block at a time (CSV, TSV and
//! NDJSON blocks of whole lines, Parquet row groups, Arrow IPC record batches), every
//! part reading the same blocks and describing those whose index falls in its shard
//! (block `b` in part `b mod N + 1`), as `table_parts` describes a Spark partition.

use super::table_parts::{absorb, describe, empty_part, prune_part, Part};
use super::{DatasetSpec, Hints};
use crate::table_io::batched::{streamable, Reader};
use anyhow::{bail, Result};

/// Part `k` of `n` of the one table file `spec` lists, read `block_bytes` of text at a
/// time (every part of one table must use the same, which the merge checks): its
/// blocks' counts and statistics, its sample, and how many blocks the file has.
pub fn describe_file(
    spec: &DatasetSpec,
    hints: &Hints,
    (k, n): (u64, u64),
    block_bytes: u64,
) -> Result<(String, Part, u64)> {
    let inputs = spec.layout.inputs();
    let [path] = inputs.as_slice() else {
        bail!(
            "{}: dsaudit partial splits a table of one file; this one is {}: scan it whole with dsaudit scan",
            spec.input.display(),
            spec.layout.name()
        );
    };
    if !streamable(path) {
        bail!(
            "{}: dsaudit partial splits CSV, TSV, NDJSON, Parquet and Arrow IPC tables; scan this one whole with dsaudit scan",
            path.display()
        );
    }
    let name = super::table::source_of(spec, path);
    let block_bytes = usize::try_from(block_bytes.max(1)).unwrap_or(usize::MAX);
    let mut reader = Reader::open(path, block_bytes)?;
    let (mut part, mut blocks): (Option<Part>, u64) = (None, 0);
    // Block 0 is parsed by every part: its columns' types are every later block's, and
    // a part that holds no block still carries how it reads (roles, room) for the
    // merge's check. Other parts' blocks are cut, not parsed.
    let mut first: Option<Part> = None;
    loop {
        let held = blocks % n == k - 1;
        if !held && blocks > 0 {
            if !reader.skip_block()? {
                break;
            }
            blocks += 1;
            continue;
        }
        let Some(block) = reader.next_block()? else {
            break;
        };
        if held {
            let p = describe(&name, hints, blocks, block.df, None)?;
            part = Some(match part {
                None => p,
                Some(q) => absorb(&name, q, p)?,
            });
        } else {
            first = Some(empty_part(&name, hints, &block.df)?);
        }
        blocks += 1;
    }
    let part = match (part, first) {
        (Some(mut p), _) => {
            let room = p.room as usize;
            prune_part(&name, &mut p, room)?;
            p
        }
        (None, Some(empty)) => empty,
        (None, None) => bail!(
            "{}: empty dataset: {}",
            spec.input.display(),
            spec.layout.empty()
        ),
    };
    Ok((name, part, blocks))
}
