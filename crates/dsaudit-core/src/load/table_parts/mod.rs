//! A table handed over in parts (a Spark DataFrame's partitions): each part is
//! described where it is — every row counted per split and class, every column
//! summarised, and a sample of rows chosen by content under the memory budget, with
//! the key `table_stream` samples by — and the parts are merged into what a scan of
//! the whole table loads: exact counts and column statistics, and the rows the row
//! checks run on (every row, when the whole table fits the budget; else the rows of
//! the lowest keys, so exact copies are kept or left out together).

mod finish;

pub use finish::{finish, finish_files};

use crate::load::columns::ColumnStats;
use crate::load::rows::{fingerprint, Features};
use crate::load::table::{column_stats, label_and_split, Roles, Tables};
use crate::load::table_stream::{sample_keys, FRAME_FACTOR};
use crate::load::target::TargetShape;
use crate::load::Hints;
use crate::tally::Tally;
use anyhow::{bail, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One block of rows a part read: its place in the table, and what was counted.
#[derive(Clone, Debug)]
pub struct Block {
    /// The block's place among every part's blocks (a Spark partition's index), over
    /// the table's files in turn.
    pub order: u64,
    /// Which of the table's files it is of (0 for a table of one file).
    pub file: u32,
    pub rows: u64,
    pub tally: Tally,
    /// What decides whether a numeric label is a continuous target, of this block's
    /// values (the merge decides on every block's).
    pub target: Option<TargetShape>,
    /// Column statistics (the label column's too), example rows numbered from the
    /// block's first row; None
    /// when the part's sample holds every row of its one block, which the merge
    /// describes (the part then carries each value once, in its rows).
    pub stats: Option<Vec<ColumnStats>>,
}

/// How a part read the table's columns; every part of one table reads them alike.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartRoles {
    pub label: Option<String>,
    pub split: Option<String>,
    /// A label column read as a continuous target.
    pub regression: Option<String>,
    /// What choosing them said (a scan's guesses).
    pub guesses: Vec<String>,
    /// Each column's name and type.
    pub schema: Vec<(String, String)>,
}

impl PartRoles {
    /// The columns a part leaves out of its column statistics: the split column. A
    /// label column is described, for the merge may find it a continuous target (and
    /// then reports it as a column); else the merge drops it.
    pub(super) fn undescribed(&self) -> Vec<&str> {
        self.split.as_deref().into_iter().collect()
    }

    /// The columns left out of the row fingerprints: label, split, a regression target.
    pub(crate) fn not_features(&self) -> Vec<&str> {
        [
            self.label.as_deref(),
            self.split.as_deref(),
            self.regression.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn file_roles(&self) -> Roles {
        Roles {
            label: self.label.clone(),
            split: self.split.clone(),
        }
    }
}

/// One file of a table: the name its rows go by (the manifest's source) and the
/// split its name gives, when the table has one file per split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableFile {
    pub source: String,
    pub split: Option<String>,
}

impl TableFile {
    /// The one file of a table that has no file per split.
    pub fn whole(name: &str) -> TableFile {
        TableFile {
            source: name.to_string(),
            split: None,
        }
    }
}

/// One part of a table: its blocks and its sample's rows.
pub struct Part {
    pub roles: PartRoles,
    pub blocks: Vec<Block>,
    /// Rows the sample may hold (from the memory budget and the rows' size).
    pub room: u64,
    pub sample: DataFrame,
    /// Per sampled row: its key, its block (an index into `blocks`), and its row in
    /// that block.
    pub keys: Vec<u64>,
    pub block_of: Vec<u32>,
    pub at: Vec<u64>,
}

/// Describes `df`, the block at `order` of the table `name`. `table_rows`: the whole
/// table's row count when known beforehand, which lets the part keep only its share of
/// the sample (`share`) instead of up to the whole room.
pub fn describe(
    name: &str,
    hints: &Hints,
    order: u64,
    df: DataFrame,
    table_rows: Option<u64>,
) -> Result<Part> {
    describe_block((0, &TableFile::whole(name)), hints, order, df, table_rows)
}

/// As `describe`, for a block of file `file` of a table of several files (the file's
/// index among them, and the file).
pub fn describe_block(
    (file, of): (u32, &TableFile),
    hints: &Hints,
    order: u64,
    df: DataFrame,
    table_rows: Option<u64>,
) -> Result<Part> {
    let name = of.source.as_str();
    let (roles, room) = roles_and_room(of, hints, &df)?;
    let (undescribed, skip) = (roles.undescribed(), roles.not_features());
    let features = Features::of(&df, &skip);
    let (names, hashes) = rayon::join(
        || label_and_split(&df, &roles.file_roles(), of.split.as_ref()),
        || fingerprint(&df, &features).map(|r| r.hash),
    );
    let (label, split) = names?;
    let tally = crate::tally::tally(split.str()?.iter().zip(label.str()?.iter()));
    let keys = sample_keys(&hashes?);
    let threshold = threshold(&keys, room).min(share(table_rows, room));
    let chosen: Vec<IdxSize> = (0..df.height() as IdxSize)
        .filter(|&i| keys[i as usize] <= threshold)
        .collect();
    let whole = chosen.len() == df.height();
    let stats = match whole {
        true => None,
        false => Some(column_stats(&df, &undescribed, name, 0, 0)?),
    };
    let target = match &roles.label {
        Some(l) => TargetShape::of(df.column(l)?),
        None => None,
    };
    Ok(Part {
        roles,
        blocks: vec![Block {
            order,
            file,
            rows: df.height() as u64,
            tally,
            target,
            stats,
        }],
        room: room as u64,
        keys: chosen.iter().map(|&i| keys[i as usize]).collect(),
        block_of: vec![0; chosen.len()],
        at: chosen.iter().map(|&i| i as u64).collect(),
        // Whole, the rows keep their chunks: the merge's statistics of them are then
        // the ones a scan of this frame computes, to the last bit.
        sample: match whole {
            true => df,
            false => df.take(&IdxCa::from_vec("".into(), chosen))?,
        },
    })
}

/// How a block's columns are read (roles, the guesses choosing them said, types), and
/// the rows a sample of such rows may hold under the budget.
fn roles_and_room(of: &TableFile, hints: &Hints, df: &DataFrame) -> Result<(PartRoles, usize)> {
    let name = of.source.as_str();
    let spec = super::open_frame(name, DataFrame::empty(), hints.clone());
    let mut acc = Tables::default();
    acc.defer_task = true;
    let roles = acc.roles(&spec, df, of.split.as_ref(), Path::new(name))?;
    let limit = hints
        .memory_limit
        .unwrap_or_else(super::table_stream::memory_limit);
    let part_roles = PartRoles {
        label: roles.label,
        split: roles.split,
        regression: acc.regression,
        guesses: acc.guesses,
        schema: df
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), c.dtype().to_string()))
            .collect(),
    };
    Ok((part_roles, room_of(limit, df)))
}

/// A part that holds no block of the table: how `df` (its first block) reads, and
/// its room, for the merge to check against the other parts.
pub(super) fn empty_part(of: &TableFile, hints: &Hints, df: &DataFrame) -> Result<Part> {
    let (roles, room) = roles_and_room(of, hints, df)?;
    Ok(Part {
        roles,
        blocks: Vec::new(),
        room: room as u64,
        sample: df.clear(),
        keys: Vec::new(),
        block_of: Vec::new(),
        at: Vec::new(),
    })
}

/// Rows the sample may hold under `limit`: 40% of it at the whole scan's memory per
/// byte of rows, as `table_stream` plans, with each row's size from the columns'
/// types alone (a text value counted as 32 bytes) so that every part of one table
/// finds the same room, however its rows fell.
fn room_of(limit: u64, df: &DataFrame) -> usize {
    let per_row: u64 = df
        .columns()
        .iter()
        .map(|c| match c.dtype().to_physical() {
            DataType::Boolean | DataType::Int8 | DataType::UInt8 => 1,
            DataType::Int16 | DataType::UInt16 => 2,
            DataType::Int32 | DataType::UInt32 | DataType::Float32 => 4,
            d if d.is_primitive_numeric() => 8,
            _ => 32,
        })
        .sum::<u64>()
        .max(1);
    (limit * 2 / 5 / (FRAME_FACTOR * per_row)).max(1) as usize
}

/// The highest key a part of a table of `rows` rows keeps so that the parts together
/// still hold the table's `room` lowest keys: keys are uniform, so about
/// `rows × key / 2⁶⁴` rows fall at or below a key; the margin (8 standard deviations
/// and 64 rows) makes a shortfall, which the merge detects, vanishingly rare.
fn share(rows: Option<u64>, room: usize) -> u64 {
    let Some(rows) = rows else { return u64::MAX };
    let room = room as f64;
    let want = room + 8.0 * room.sqrt() + 64.0;
    if want >= rows as f64 {
        return u64::MAX;
    }
    (want / rows as f64 * u64::MAX as f64) as u64
}

/// The highest key of the `room` lowest (every key when there are no more).
fn threshold(keys: &[u64], room: usize) -> u64 {
    if keys.len() <= room || room == 0 {
        return u64::MAX;
    }
    let mut all = keys.to_vec();
    *all.select_nth_unstable(room - 1).1
}

/// Two parts of one table as one: both parts' blocks, and the lowest keys of their
/// samples.
pub fn absorb(name: &str, mut a: Part, b: Part) -> Result<Part> {
    let offset = a.blocks.len() as u32;
    a.blocks.extend(b.blocks);
    a.keys.extend(b.keys);
    a.block_of.extend(b.block_of.iter().map(|&x| x + offset));
    a.at.extend(b.at);
    a.sample.vstack_mut(&b.sample)?;
    a.room = a.room.min(b.room);
    let room = a.room as usize;
    if a.keys.len() > room.saturating_mul(2) {
        prune_part(name, &mut a, room)?;
    }
    Ok(a)
}

/// Keeps the part's rows of the `room` lowest keys (and any sharing the last), the
/// statistics of blocks it held whole taken from their rows first.
pub fn prune_part(name: &str, p: &mut Part, room: usize) -> Result<()> {
    let t = threshold(&p.keys, room);
    if t == u64::MAX {
        return Ok(());
    }
    fill_stats(name, p)?;
    let keep: Vec<bool> = p.keys.iter().map(|&k| k <= t).collect();
    let mask: BooleanChunked = keep.iter().copied().collect();
    p.sample = p.sample.filter(&mask)?;
    let mut i = 0;
    p.at.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    let mut i = 0;
    p.block_of.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    p.keys.retain(|&k| k <= t);
    Ok(())
}

/// The statistics of each block of `p` that has none, from its rows in the sample (a
/// part of one block: the sample itself, in the chunks it was read in).
fn fill_stats(name: &str, p: &mut Part) -> Result<()> {
    let undescribed = p.roles.undescribed();
    let single = p.blocks.len() == 1;
    for (b, block) in p.blocks.iter_mut().enumerate() {
        if block.stats.is_some() {
            continue;
        }
        let rows: Vec<IdxSize> = (0..p.keys.len())
            .filter(|&i| p.block_of[i] as usize == b)
            .map(|i| i as IdxSize)
            .collect();
        if rows.len() as u64 != block.rows {
            bail!("{name}: damaged part: its block of {} rows has no column statistics and {} of its rows", block.rows, rows.len());
        }
        let stats = match single {
            true => column_stats(&p.sample, &undescribed, name, 0, 0)?,
            false => {
                let df = p.sample.take(&IdxCa::from_vec("".into(), rows))?;
                column_stats(&df, &undescribed, name, 0, 0)?
            }
        };
        block.stats = Some(stats);
    }
    Ok(())
}
