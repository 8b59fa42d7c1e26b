//! A table handed over in parts (a Spark DataFrame's partitions): each part is
//! described where it is — every row counted per split and class, every column
//! summarised, and a sample of rows chosen by content under the memory budget, with
//! the key `table_stream` samples by — and the parts are merged into what a scan of
//! the whole table loads: exact counts and column statistics, and the rows the row
//! checks run on (every row, when the whole table fits the budget; else the rows of
//! the lowest keys, so exact copies are kept or left out together).

use super::rows::{fingerprint, Features};
use super::table::{column_stats, label_and_split, Roles, Rows, Tables};
use super::table_stream::{sample_keys, FRAME_FACTOR};
use super::{DatasetSpec, Hints, Loaded};
use crate::load::columns::{merge_all, ColumnStats};
use crate::tally::Tally;
use anyhow::{bail, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One block of rows a part read: its place in the table, and what was counted.
#[derive(Clone, Debug)]
pub struct Block {
    /// The block's place among every part's blocks (a Spark partition's index).
    pub order: u64,
    pub rows: u64,
    pub tally: Tally,
    /// Column statistics, example rows numbered from the block's first row; None
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
    /// The label and split columns, which are described but are no features.
    pub(super) fn described(&self) -> Vec<&str> {
        [self.label.as_deref(), self.split.as_deref()]
            .into_iter()
            .flatten()
            .collect()
    }

    /// The columns left out of the row fingerprints: label, split, a regression target.
    pub(super) fn not_features(&self) -> Vec<&str> {
        let mut out = self.described();
        out.extend(self.regression.as_deref());
        out
    }

    fn file_roles(&self) -> Roles {
        Roles {
            label: self.label.clone(),
            split: self.split.clone(),
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
    let (roles, room) = roles_and_room(name, hints, &df)?;
    let (described, skip) = (roles.described(), roles.not_features());
    let features = Features::of(&df, &skip);
    let (names, hashes) = rayon::join(
        || label_and_split(&df, &roles.file_roles(), None),
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
        false => Some(column_stats(&df, &described, name, 0, 0)?),
    };
    Ok(Part {
        roles,
        blocks: vec![Block {
            order,
            rows: df.height() as u64,
            tally,
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
fn roles_and_room(name: &str, hints: &Hints, df: &DataFrame) -> Result<(PartRoles, usize)> {
    let spec = super::open_frame(name, DataFrame::empty(), hints.clone());
    let mut acc = Tables::default();
    let roles = acc.roles(&spec, df, None, Path::new(name))?;
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
pub(super) fn empty_part(name: &str, hints: &Hints, df: &DataFrame) -> Result<Part> {
    let (roles, room) = roles_and_room(name, hints, df)?;
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

/// The rows the merge holds so far: their keys, table rows and values.
struct Sample {
    keys: Vec<u64>,
    ids: Vec<u64>,
    df: Option<DataFrame>,
}

impl Sample {
    fn add(&mut self, keys: Vec<u64>, ids: Vec<u64>, df: DataFrame) -> Result<()> {
        self.keys.extend(keys);
        self.ids.extend(ids);
        match &mut self.df {
            None => self.df = Some(df),
            Some(d) => {
                d.vstack_mut(&df)?;
            }
        }
        Ok(())
    }

    /// Keeps the rows of the `room` lowest keys (and any sharing the last of them).
    fn prune(&mut self, room: usize) -> Result<()> {
        let t = threshold(&self.keys, room);
        if t == u64::MAX {
            return Ok(());
        }
        let keep: BooleanChunked = self.keys.iter().map(|&k| k <= t).collect();
        if let Some(d) = &mut self.df {
            *d = d.filter(&keep)?;
        }
        let mut i = 0;
        self.ids.retain(|_| {
            i += 1;
            self.keys[i - 1] <= t
        });
        self.keys.retain(|&k| k <= t);
        Ok(())
    }
}

/// The parts of the table `name` merged into a scan's dataset and load. Any order of
/// the parts gives the same result: blocks are put in their order, and the sample is
/// the rows of the lowest keys.
pub fn finish(name: &str, hints: &Hints, mut parts: Vec<Part>) -> Result<(DatasetSpec, Loaded)> {
    let Some(first) = parts.first() else {
        bail!("{name}: empty dataset: no parts to merge");
    };
    let roles = first.roles.clone();
    if let Some(other) = parts.iter().find(|p| p.roles != roles) {
        bail!("{name}: the parts read the table differently (columns, types or label): one has {}, another {}; every part of one table must have the same columns", shown(&roles), shown(&other.roles));
    }
    describe_whole_parts(name, &mut parts)?;
    let (first_row, total, stats, tally) = in_block_order(name, &parts)?;
    if total == 0 {
        bail!("{name}: empty dataset: the table has no rows");
    }
    let room = parts.iter().map(|p| p.room).min().unwrap_or(0) as usize;
    let n_parts = parts.len();
    let mut sample = Sample {
        keys: Vec::new(),
        ids: Vec::new(),
        df: None,
    };
    // Parts in the order of their first block: single-block parts then add their rows
    // in table order, and the sample needs no sorting.
    let mut by_order: Vec<(u64, usize, Part)> = parts
        .into_iter()
        .enumerate()
        .map(|(p, part)| {
            (
                part.blocks.iter().map(|b| b.order).min().unwrap_or(0),
                p,
                part,
            )
        })
        .collect();
    by_order.sort_unstable_by_key(|(o, p, _)| (*o, *p));
    for (_, p, part) in by_order {
        let ids = part
            .block_of
            .iter()
            .zip(&part.at)
            .map(|(&b, &at)| first_row[p][b as usize] + at)
            .collect();
        sample.add(part.keys, ids, part.sample)?;
        if sample.keys.len() > room.saturating_mul(2) {
            sample.prune(room)?;
        }
    }
    sample.prune(room)?;
    let kept = sample.keys.len();
    if total > room as u64 && kept < room {
        bail!("{name}: the parts' shared sampling threshold kept {kept} rows, fewer than the {room} the budget holds (many copies of few rows?): scan it again without the table's row count");
    }
    let loaded = loaded_of(name, &roles, sample, (total, room), (stats, tally))?;
    let mut spec = super::open_frame(name, DataFrame::empty(), hints.clone());
    spec.guesses = vec![format!(
        "layout: one table in {n_parts} parts ({name}, {total} rows)"
    )];
    Ok((spec, loaded))
}

/// What the blocks add up to, in block order: each part's blocks' first rows in the
/// whole table, the table's rows, its column statistics and class counts.
type Folded = (Vec<Vec<u64>>, u64, Vec<ColumnStats>, Tally);

/// The parts' blocks folded in block order.
fn in_block_order(name: &str, parts: &[Part]) -> Result<Folded> {
    let mut order: Vec<(u64, usize, usize)> = parts
        .iter()
        .enumerate()
        .flat_map(|(p, part)| (0..part.blocks.len()).map(move |b| (part.blocks[b].order, p, b)))
        .collect();
    order.sort_unstable();
    if let Some(w) = order.windows(2).find(|w| w[0].0 == w[1].0) {
        bail!(
            "{name}: block {} is in two parts (a part given twice?)",
            w[0].0
        );
    }
    let mut first_row: Vec<Vec<u64>> = parts.iter().map(|p| vec![0; p.blocks.len()]).collect();
    let (mut total, mut stats, mut tally) = (0u64, Vec::new(), Tally::new());
    for &(_, p, b) in &order {
        let block = &parts[p].blocks[b];
        first_row[p][b] = total;
        let described = block.stats.as_deref().unwrap_or_default();
        stats = merge_all(vec![stats, shifted(described, name, total)]);
        for (s, classes) in &block.tally {
            let into = tally.entry(s.clone()).or_default();
            for (l, n) in classes {
                *into.entry(l.clone()).or_default() += n;
            }
        }
        total += block.rows;
    }
    Ok((first_row, total, stats, tally))
}

/// Two parts of one table as one: both parts' blocks, and the lowest keys of their
/// samples.
pub(super) fn absorb(name: &str, mut a: Part, b: Part) -> Result<Part> {
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
pub(super) fn prune_part(name: &str, p: &mut Part, room: usize) -> Result<()> {
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

/// The column statistics of the parts' blocks whose rows they carry whole, from those
/// rows (before the merged sample drops any).
fn describe_whole_parts(name: &str, parts: &mut [Part]) -> Result<()> {
    use rayon::prelude::*;
    parts.par_iter_mut().try_for_each(|p| fill_stats(name, p))
}

/// The statistics of each block of `p` that has none, from its rows in the sample (a
/// part of one block: the sample itself, in the chunks it was read in).
fn fill_stats(name: &str, p: &mut Part) -> Result<()> {
    let described = p.roles.described();
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
            true => column_stats(&p.sample, &described, name, 0, 0)?,
            false => {
                let df = p.sample.take(&IdxCa::from_vec("".into(), rows))?;
                column_stats(&df, &described, name, 0, 0)?
            }
        };
        block.stats = Some(stats);
    }
    Ok(())
}

/// The load of the merged sample, under the whole table's counts and statistics.
fn loaded_of(
    name: &str,
    roles: &PartRoles,
    sample: Sample,
    (total, room): (u64, usize),
    (stats, tally): (Vec<ColumnStats>, Tally),
) -> Result<Loaded> {
    let Sample { ids, df, .. } = sample;
    let kept = ids.len();
    let mut df = df.expect("a table of rows has a sample");
    let mut picked = ids;
    if !picked.is_sorted() {
        let mut order: Vec<IdxSize> = (0..kept as IdxSize).collect();
        order.sort_unstable_by_key(|&i| picked[i as usize]);
        df = df.take(&IdxCa::from_vec("".into(), order.clone()))?;
        picked = order.iter().map(|&i| picked[i as usize]).collect();
    } else {
        df.rechunk_mut();
    }
    let sampled = (kept as u64) < total;
    let mut acc = Tables::default();
    acc.guesses = roles.guesses.clone();
    acc.regression = roles.regression.clone();
    let file_roles = roles.file_roles();
    let rows = Rows {
        df,
        picked: sampled.then_some(picked),
    };
    acc.add_rows(false, None, rows, name.to_string(), &file_roles, false)?;
    if sampled {
        acc.guesses.push(format!(
            "sample: the table's {total} rows are more than the memory budget holds in a whole scan ({room} rows), so duplicates, shift tests, label errors and outliers ran on {kept} rows chosen by their content with a fixed seed (exact copies are kept or left out together); row counts, class balance and column statistics cover every row"
        ));
    }
    let mut loaded = acc.finish()?;
    loaded.columns = stats;
    if sampled {
        loaded.tally = Some(tally);
    }
    Ok(loaded)
}

/// Column statistics whose example rows are rows of `name`, numbered from `first` on.
fn shifted(stats: &[ColumnStats], name: &str, first: u64) -> Vec<ColumnStats> {
    let mut out = stats.to_vec();
    for c in &mut out {
        for e in c.null_examples.iter_mut().chain(&mut c.nonfinite_examples) {
            e.source = name.to_string();
            e.id += first;
            e.row = e.row.map(|r| r + first);
        }
    }
    out
}

fn shown(r: &PartRoles) -> String {
    let cols: Vec<String> = r.schema.iter().map(|(n, t)| format!("{n}: {t}")).collect();
    format!(
        "label {} and columns [{}]",
        r.label
            .as_deref()
            .or(r.regression.as_deref())
            .unwrap_or("none"),
        cols.join(", ")
    )
}
