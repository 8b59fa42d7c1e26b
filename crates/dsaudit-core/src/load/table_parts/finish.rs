//! The parts of a table merged into what a scan of the whole table loads: blocks
//! folded in their order (over the table's files in turn), counts added, column
//! statistics merged, and the sample's rows of the lowest keys kept, whatever the
//! order or cut of the parts.

use super::{fill_stats, threshold, Part, PartRoles, TableFile};
use crate::load::columns::{merge_all, ColumnStats};
use crate::load::table::{regression_guess, Rows, Tables};
use crate::load::target::TargetShape;
use crate::load::{DatasetSpec, Hints, Loaded};
use crate::tally::Tally;
use anyhow::{bail, Result};
use polars::prelude::*;

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
pub fn finish(name: &str, hints: &Hints, parts: Vec<Part>) -> Result<(DatasetSpec, Loaded)> {
    finish_files(name, &[TableFile::whole(name)], hints, parts)
}

/// As `finish`, for a table of `files` (one per split), whose blocks are numbered over
/// the files in turn.
pub fn finish_files(
    name: &str,
    files: &[TableFile],
    hints: &Hints,
    mut parts: Vec<Part>,
) -> Result<(DatasetSpec, Loaded)> {
    let Some(first) = parts.first() else {
        bail!("{name}: empty dataset: no parts to merge");
    };
    let roles = first.roles.clone();
    if let Some(other) = parts.iter().find(|p| p.roles != roles) {
        bail!("{name}: the parts read the table differently (columns, types or label): one has {}, another {}; every part of one table must have the same columns", shown(&roles), shown(&other.roles));
    }
    let roles = task_of(roles, &parts);
    describe_whole_parts(name, &mut parts)?;
    let Folded {
        first_row,
        file_first,
        total,
        mut stats,
        mut tally,
    } = in_block_order(name, files, &parts)?;
    as_decided(&roles, &mut stats, &mut tally);
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
    let files = (files, file_first.as_slice());
    let loaded = loaded_of(files, &roles, sample, (total, room), (stats, tally))?;
    let mut spec = crate::load::open_frame(name, DataFrame::empty(), hints.clone());
    spec.guesses = vec![format!(
        "layout: one table in {n_parts} parts ({name}, {total} rows)"
    )];
    Ok((spec, loaded))
}

/// The parts' roles once every block's label values are seen: a numeric label that
/// all of them together show to be a continuous target becomes the regression target,
/// with the guess a scan of the whole table makes (parts do not decide alone: a block
/// of few rows of a continuous target looks like a few classes).
fn task_of(mut roles: PartRoles, parts: &[Part]) -> PartRoles {
    let Some(label) = roles.label.clone() else {
        return roles;
    };
    let mut shape: Option<TargetShape> = None;
    for t in parts
        .iter()
        .flat_map(|p| &p.blocks)
        .filter_map(|b| b.target.as_ref())
    {
        match &mut shape {
            None => shape = Some(t.clone()),
            Some(s) => s.merge(t),
        }
    }
    let Some(why) = shape.and_then(|s| s.continuous()) else {
        return roles;
    };
    // The whole scan's guesses for a regression: the task alone (no label or split line).
    roles.guesses = vec![regression_guess(&label, &why)];
    roles.regression = Some(label);
    roles.label = None;
    roles
}

/// The folded statistics and counts as the task decided makes them: classes leave the
/// label column out of the report's columns, as a scan does; a continuous target's
/// rows are counted per split, not per value.
fn as_decided(roles: &PartRoles, stats: &mut Vec<ColumnStats>, tally: &mut Tally) {
    match (&roles.label, &roles.regression) {
        (Some(l), _) => stats.retain(|c| c.name != *l),
        (None, Some(_)) => {
            for classes in tally.values_mut() {
                let n = classes.values().sum();
                *classes = [(None, n)].into_iter().collect();
            }
        }
        (None, None) => {}
    }
}

/// What the blocks add up to, in block order.
struct Folded {
    /// Each part's blocks' first rows in the whole table (sample ids).
    first_row: Vec<Vec<u64>>,
    /// Each file's first row in the whole table.
    file_first: Vec<u64>,
    /// The table's rows, its column statistics and class counts.
    total: u64,
    stats: Vec<ColumnStats>,
    tally: Tally,
}

/// The parts' blocks folded in block order (the files' blocks in turn).
fn in_block_order(name: &str, files: &[TableFile], parts: &[Part]) -> Result<Folded> {
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
    let mut file_first: Vec<Option<u64>> = vec![None; files.len()];
    let (mut total, mut stats, mut tally) = (0u64, Vec::new(), Tally::new());
    let mut file = 0usize;
    for &(_, p, b) in &order {
        let block = &parts[p].blocks[b];
        let f = block.file as usize;
        if f >= files.len() || f < file {
            bail!(
                "{name}: damaged part: block {} is of file {f}, out of the table's {} in order",
                block.order,
                files.len()
            );
        }
        // Files without a block (no rows) start where the next one does.
        for first in &mut file_first[file..=f] {
            first.get_or_insert(total);
        }
        file = f;
        first_row[p][b] = total;
        let at = (total, total - file_first[f].unwrap_or(0));
        let described = block.stats.as_deref().unwrap_or_default();
        stats = merge_all(vec![stats, shifted(described, &files[f].source, at)]);
        for (s, classes) in &block.tally {
            let into = tally.entry(s.clone()).or_default();
            for (l, n) in classes {
                *into.entry(l.clone()).or_default() += n;
            }
        }
        total += block.rows;
    }
    Ok(Folded {
        first_row,
        file_first: file_first.into_iter().map(|f| f.unwrap_or(total)).collect(),
        total,
        stats,
        tally,
    })
}

/// The column statistics of the parts' blocks whose rows they carry whole, from those
/// rows (before the merged sample drops any).
fn describe_whole_parts(name: &str, parts: &mut [Part]) -> Result<()> {
    use rayon::prelude::*;
    parts.par_iter_mut().try_for_each(|p| fill_stats(name, p))
}

/// The load of the merged sample, under the whole table's counts and statistics: each
/// file's rows named by its source, numbered from its first row on.
fn loaded_of(
    (files, file_first): (&[TableFile], &[u64]),
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
    for (f, of) in files.iter().enumerate() {
        let end = file_first.get(f + 1).copied().unwrap_or(u64::MAX);
        let (from, to) = (
            picked.partition_point(|&id| id < file_first[f]),
            picked.partition_point(|&id| id < end),
        );
        if from == to {
            continue;
        }
        let rows = Rows {
            df: df.slice(from as i64, to - from),
            picked: sampled.then(|| {
                picked[from..to]
                    .iter()
                    .map(|id| id - file_first[f])
                    .collect()
            }),
        };
        acc.offset = file_first[f];
        acc.add_rows(
            false,
            of.split.as_ref(),
            rows,
            of.source.clone(),
            &file_roles,
            false,
        )?;
    }
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

/// Column statistics whose example rows are rows of `source`: sample ids from
/// `at.0` on, the file's rows from `at.1` on.
fn shifted(stats: &[ColumnStats], source: &str, at: (u64, u64)) -> Vec<ColumnStats> {
    let mut out = stats.to_vec();
    for c in &mut out {
        for e in c.null_examples.iter_mut().chain(&mut c.nonfinite_examples) {
            e.source = source.to_string();
            e.id += at.0;
            e.row = e.row.map(|r| r + at.1);
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
