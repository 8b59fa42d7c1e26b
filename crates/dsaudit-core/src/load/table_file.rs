//! `dsaudit partial` of a table: its file (or its files, one per split) read a block
//! at a time (CSV, TSV and NDJSON blocks of whole lines, Parquet row groups, Arrow IPC
//! record batches), every part reading the same blocks and describing those whose
//! index falls in its shard (block `b`, counted over the files in turn, in part
//! `b mod N + 1`), as `table_parts` describes a Spark partition.

use super::format::Writer;
use super::table::source_of;
use super::table_parts::{absorb, describe_block, empty_part, prune_part, Part, TableFile};
use super::DatasetSpec;
use crate::table_io::batched::{streamable, Reader};
use anyhow::{bail, Result};
use std::path::PathBuf;

/// The files of the table `spec` opened, each with the split its name gives.
pub fn files_of(spec: &DatasetSpec) -> Result<Vec<(Option<String>, PathBuf)>> {
    let files = match spec.layout.writer() {
        Writer::Tables(files) => files.to_vec(),
        _ => bail!(
            "{}: dsaudit partial splits a table by blocks of rows; this one is {}: scan it whole with dsaudit scan",
            spec.input.display(),
            spec.layout.name()
        ),
    };
    if let Some((_, path)) = files.iter().find(|(_, p)| !streamable(p)) {
        bail!(
            "{}: dsaudit partial splits CSV, TSV, NDJSON, Parquet and Arrow IPC tables; scan this one whole with dsaudit scan",
            path.display()
        );
    }
    Ok(files)
}

/// Part `k` of `n` of the table `spec` lists as `files`, read `block_bytes` of text at
/// a time (every part of one table must use the same, which the merge checks): its
/// blocks' counts and statistics, its sample, and how many blocks the files have.
pub fn describe_file(
    spec: &DatasetSpec,
    files: &[(Option<String>, PathBuf)],
    (k, n): (u64, u64),
    block_bytes: u64,
) -> Result<(String, Part, u64)> {
    let name = match files {
        [(_, path)] => source_of(spec, path),
        _ => spec.input.display().to_string(),
    };
    let block_bytes = usize::try_from(block_bytes.max(1)).unwrap_or(usize::MAX);
    let (mut part, mut blocks): (Option<Part>, u64) = (None, 0);
    // Each file's block 0 is parsed by every part: its columns' types are its later
    // blocks', and a part that holds no block still carries how the table reads
    // (roles, room) for the merge's check. Other parts' blocks are cut, not parsed.
    let mut first: Option<Part> = None;
    let mut schema: Option<(polars::prelude::Schema, &PathBuf)> = None;
    for (f, (split, path)) in files.iter().enumerate() {
        let of = TableFile {
            source: source_of(spec, path),
            split: split.clone(),
        };
        let mut reader = Reader::open(path, block_bytes)?;
        let mut in_file = 0u64;
        loop {
            let held = blocks % n == k - 1;
            if !held && in_file > 0 {
                if !reader.skip_block()? {
                    break;
                }
                (blocks, in_file) = (blocks + 1, in_file + 1);
                continue;
            }
            let Some(block) = reader.next_block()? else {
                break;
            };
            if in_file == 0 {
                same_columns(&mut schema, &block.df, path)?;
            }
            if held {
                let p = describe_block((f as u32, &of), &spec.hints, blocks, block.df, None)?;
                part = Some(match part {
                    None => p,
                    Some(q) => absorb(&name, q, p)?,
                });
            } else if first.is_none() {
                first = Some(empty_part(&of, &spec.hints, &block.df)?);
            }
            (blocks, in_file) = (blocks + 1, in_file + 1);
        }
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

/// The files of one table read in parts must have the same columns and types (the
/// parts' rows are put side by side); the first file's are the others'.
fn same_columns<'a>(
    first: &mut Option<(polars::prelude::Schema, &'a PathBuf)>,
    df: &polars::prelude::DataFrame,
    path: &'a PathBuf,
) -> Result<()> {
    let schema = df.schema().as_ref().clone();
    match first {
        None => *first = Some((schema, path)),
        Some((want, other)) if *want != schema => {
            let shown = |s: &polars::prelude::Schema| {
                let cols: Vec<String> = s.iter().map(|(n, t)| format!("{n}: {t}")).collect();
                cols.join(", ")
            };
            bail!(
                "{}: its columns [{}] differ from {}'s [{}]: dsaudit partial needs a table's files to have the same columns and types; scan it whole with dsaudit scan",
                path.display(),
                shown(&schema),
                other.display(),
                shown(want)
            );
        }
        Some(_) => {}
    }
    Ok(())
}
