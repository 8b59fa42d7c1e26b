//! A table's part as bytes (a Spark partition's, sent back to the driver): the blocks'
//! counts and column statistics, and the sampled rows (their decimal columns packed,
//! the others as a zstd-compressed Arrow IPC file), behind the `.dsp` header of this
//! build. Layout in docs/partial.md.

use super::decimal_columns::{self, Packed};
use crate::finding::SampleRef;
use crate::load::columns::ColumnStats;
use crate::load::table_parts::{Block, Part, PartRoles};
use crate::load::target::TargetShape;
use crate::stats::moments::Moments;
use crate::stats::numeric::{NumericStats, StringStats};
use crate::stats::sketch::QuantileSketch;
use anyhow::{bail, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

/// What follows the header names the kind of part: a table's, not a `Dsp`.
const KIND: &[u8; 8] = b"TABLE 3\n";
/// What every format of a table's part starts with.
const TABLE: &[u8] = b"TABLE ";

#[derive(Serialize, Deserialize)]
struct Stored {
    name: String,
    roles: PartRoles,
    room: u64,
    blocks: Vec<StoredBlock>,
    /// The sampled rows: how many, their decimal float columns, and the other columns
    /// as an Arrow IPC file (empty when there are none).
    rows: u64,
    decimals: Vec<Packed>,
    #[serde(with = "serde_bytes")]
    sample: Vec<u8>,
    /// Per sampled row its key, block and row in that block; all three left out
    /// (`whole`) when the rows are every row of the part's blocks in their order, as
    /// a part that kept every row writes them: the merge computes them again.
    whole: bool,
    keys: Vec<u64>,
    block_of: Vec<u32>,
    at: Vec<u64>,
    /// Parts of a table file (`dsaudit partial`); None for a Spark partition's.
    origin: Option<Origin>,
}

/// Where a part of a table file comes from: what every part of one scan shares (the
/// merge refuses parts that differ) and what the merged report names.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Origin {
    /// The dataset path as given, the folder sources are relative to, and its files:
    /// each with the split its name gives (one per split) and its name in the manifest.
    pub input: String,
    pub root: String,
    pub files: Vec<(Option<String>, String)>,
    pub sources: Vec<String>,
    /// The discovery's guesses (the layout line first).
    pub guesses: Vec<String>,
    /// The configuration file read (its absolute path and text), if any.
    pub config: Option<(String, String)>,
    pub hints: super::dsp::StoredHints,
    pub memory_limit: Option<u64>,
    pub block_bytes: u64,
    /// The files' lengths in bytes: parts of a file that changed between them differ.
    pub file_bytes: Vec<u64>,
    /// Blocks in the files: the merge checks every one is in a part.
    pub blocks: u64,
    /// Which part this is, for messages (`2/4`).
    pub shard: String,
}

impl Origin {
    pub fn same_scan(&self, other: &Origin) -> bool {
        Origin {
            shard: String::new(),
            ..self.clone()
        } == Origin {
            shard: String::new(),
            ..other.clone()
        }
    }
}

#[derive(Serialize, Deserialize)]
struct StoredBlock {
    order: u64,
    /// Which of the table's files (one per split) it is of.
    file: u32,
    rows: u64,
    /// (split, class, rows).
    tally: Vec<(Option<String>, Option<String>, u64)>,
    target: Option<TargetShape>,
    /// None: the part's rows are all of the block's, the merge describes them.
    stats: Option<Vec<StoredColumn>>,
}

#[derive(Serialize, Deserialize)]
struct StoredColumn {
    name: String,
    dtype: String,
    count: u64,
    nulls: u64,
    nan: u64,
    inf: u64,
    /// Example rows, from the block's first.
    null_rows: Vec<u64>,
    nonfinite_rows: Vec<u64>,
    numeric: Option<(Moments, QuantileSketch)>,
    strings: Option<StringStats>,
}

/// The part's bytes, behind this build's header.
pub fn to_bytes(name: &str, part: Part) -> Result<Vec<u8>> {
    to_bytes_from(name, part, None)
}

/// A part of a table file's bytes, with where it comes from.
pub fn to_bytes_from(name: &str, part: Part, origin: Option<Origin>) -> Result<Vec<u8>> {
    let (mut rest, decimals) = decimal_columns::pack(&part.sample)?;
    // The IPC file is compressed whole, not buffer by buffer by the IPC writer:
    // polars' reader of compressed buffers panics on damaged lengths, and the
    // frame's checksum refuses damage before the IPC reader sees it.
    let mut ipc = Vec::new();
    if rest.width() > 0 {
        IpcWriter::new(&mut ipc).finish(&mut rest)?;
        ipc = decimal_columns::compressed(&ipc)?;
    }
    let whole = holds_its_blocks(&part);
    fn listed<T>(whole: bool, v: Vec<T>) -> Vec<T> {
        if whole {
            Vec::new()
        } else {
            v
        }
    }
    let stored = Stored {
        name: name.to_string(),
        roles: part.roles,
        room: part.room,
        blocks: part.blocks.iter().map(stored_block).collect(),
        rows: part.sample.height() as u64,
        decimals,
        sample: ipc,
        whole,
        keys: listed(whole, part.keys),
        block_of: listed(whole, part.block_of),
        at: listed(whole, part.at),
        origin,
    };
    super::dsp::stamped_postcard(KIND, &stored)
}

/// Whether the part's rows are every row of its blocks, block after block in order:
/// then its keys and places need not be written.
fn holds_its_blocks(part: &Part) -> bool {
    let mut expected = part
        .blocks
        .iter()
        .enumerate()
        .flat_map(|(b, block)| (0..block.rows).map(move |at| (b as u32, at)));
    part.blocks.iter().all(|b| b.stats.is_none())
        && part.block_of.len() == part.sample.height()
        && part
            .block_of
            .iter()
            .zip(&part.at)
            .all(|(&b, &at)| expected.next() == Some((b, at)))
        && expected.next().is_none()
}

/// Whether `bytes` are a table's part (else an image part, or no part).
pub fn is_table(bytes: &[u8]) -> bool {
    super::dsp::body(bytes).is_some_and(|b| b.starts_with(TABLE))
}

/// A table's part from its bytes (`shown` names it in errors), and the table's name.
pub fn from_bytes(shown: &str, bytes: &[u8]) -> Result<(String, Part)> {
    decode(shown, bytes).map(|(name, part, _)| (name, part))
}

/// The parts of one table (a Spark DataFrame's, each named by `shown` in errors),
/// decoded in parallel: the table's name and the parts. Parts of two tables are
/// refused, the first error in the parts' order reported.
pub fn decode_all<B: AsRef<[u8]> + Sync>(parts: Vec<(String, B)>) -> Result<(String, Vec<Part>)> {
    let decoded = decode_each(&parts)?;
    let shown: Vec<&str> = parts.iter().map(|(s, _)| s.as_str()).collect();
    one_table(decoded, &shown)
}

/// Parts decoded in parallel, each with its origin; the first error in the parts'
/// order, whichever thread finished first.
pub fn decode_each<B: AsRef<[u8]> + Sync>(
    parts: &[(String, B)],
) -> Result<Vec<(String, Part, Option<Origin>)>> {
    use rayon::prelude::*;
    let decoded: Vec<Result<_>> = parts
        .par_iter()
        .map(|(shown, bytes)| decode(shown, bytes.as_ref()))
        .collect();
    decoded.into_iter().collect()
}

/// Decoded parts (named by `shown` in errors) of one table: its name and the parts.
pub fn one_table(
    decoded: Vec<(String, Part, Option<Origin>)>,
    shown: &[&str],
) -> Result<(String, Vec<Part>)> {
    let mut name: Option<String> = None;
    let mut kept = Vec::with_capacity(decoded.len());
    for ((n, part, _), shown) in decoded.into_iter().zip(shown) {
        match &name {
            Some(first) if *first != n => bail!("{shown}: a part of table {n}, not of {first}"),
            Some(_) => {}
            None => name = Some(n),
        }
        kept.push(part);
    }
    let name = name.ok_or_else(|| anyhow::anyhow!("empty dataset: no parts to merge"))?;
    Ok((name, kept))
}

/// As `from_bytes`, with where the part comes from (a table file's part).
pub fn decode(shown: &str, bytes: &[u8]) -> Result<(String, Part, Option<Origin>)> {
    let body = super::dsp::checked_body(shown, bytes)?;
    let Some(body) = body.strip_prefix(KIND) else {
        if let Some(rest) = body.strip_prefix(TABLE) {
            let format: String = rest
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .map(|&b| b as char)
                .collect();
            bail!(
                "{shown}: a table's partial scan in format {format} where this build reads format {}: make the parts again with this build",
                String::from_utf8_lossy(&KIND[TABLE.len()..KIND.len() - 1])
            );
        }
        bail!("{shown}: a partial scan of images, not of a table");
    };
    let stored: Stored = super::dsp::decoded(shown, body)?;
    let blocks = match stored
        .blocks
        .into_iter()
        .map(block_of)
        .collect::<Result<Vec<Block>, _>>()
    {
        Ok(b) => b,
        Err(e) => bail!("{shown}: damaged partial scan: {e}"),
    };
    let n = stored.rows as usize;
    let (block_of, at) = match stored.whole {
        true => places_of_whole(shown, &blocks, n)?,
        false => (stored.block_of, stored.at),
    };
    if (!stored.whole && stored.keys.len() != n) || block_of.len() != n || at.len() != n {
        bail!(
            "{shown}: damaged partial scan: {n} sampled rows but {} keys, {} blocks and {} places",
            stored.keys.len(),
            block_of.len(),
            at.len()
        );
    }
    if let Some(i) = (0..n).find(|&i| {
        blocks
            .get(block_of[i] as usize)
            .is_none_or(|b| at[i] >= b.rows)
    }) {
        bail!("{shown}: damaged partial scan: sampled row {i} is in no block");
    }
    let rest = match other_columns(&stored.sample) {
        Ok(df) => df,
        Err(e) => bail!("{shown}: damaged partial scan: its rows do not read: {e}"),
    };
    let sample = match decimal_columns::unpack(rest, stored.decimals, n) {
        Ok(df) if df.width() == stored.roles.schema.len() => df,
        Ok(df) => bail!(
            "{shown}: damaged partial scan: {} columns for {} in its schema",
            df.width(),
            stored.roles.schema.len()
        ),
        Err(e) => bail!("{shown}: damaged partial scan: its rows do not read: {e}"),
    };
    let keys = match stored.whole {
        true => keys_of(&sample, &stored.roles)?,
        false => stored.keys,
    };
    let part = Part {
        roles: stored.roles,
        blocks,
        room: stored.room,
        sample,
        keys,
        block_of,
        at,
    };
    Ok((stored.name, part, stored.origin))
}

/// The sampled rows' columns other than the packed ones, from their zstd frame of an
/// Arrow IPC file (none: no such columns).
fn other_columns(frame: &[u8]) -> Result<DataFrame> {
    if frame.is_empty() {
        return Ok(DataFrame::empty());
    }
    let ipc = decimal_columns::decompressed(frame, u64::MAX)?;
    Ok(IpcReader::new(std::io::Cursor::new(ipc))
        .set_rechunk(false)
        .finish()?)
}

/// The blocks and places of the `n` rows of a part that holds every row of its
/// blocks, in their order.
fn places_of_whole(shown: &str, blocks: &[Block], n: usize) -> Result<(Vec<u32>, Vec<u64>)> {
    let total = blocks.iter().try_fold(0u64, |a, b| a.checked_add(b.rows));
    if total != Some(n as u64) || blocks.iter().any(|b| b.stats.is_some()) {
        bail!("{shown}: damaged partial scan: {n} rows said to be its blocks' every row");
    }
    Ok(blocks
        .iter()
        .enumerate()
        .flat_map(|(b, block)| (0..block.rows).map(move |at| (b as u32, at)))
        .unzip())
}

/// The sampling keys of a part's rows, as `table_parts::describe` computed them.
fn keys_of(sample: &DataFrame, roles: &PartRoles) -> Result<Vec<u64>> {
    let features = crate::load::rows::Features::of(sample, &roles.not_features());
    let hashes = crate::load::rows::fingerprint(sample, &features)?.hash;
    Ok(crate::load::table_stream::sample_keys(&hashes))
}

fn stored_block(b: &Block) -> StoredBlock {
    StoredBlock {
        order: b.order,
        file: b.file,
        rows: b.rows,
        tally: b
            .tally
            .iter()
            .flat_map(|(s, classes)| classes.iter().map(move |(l, &n)| (s.clone(), l.clone(), n)))
            .collect(),
        target: b.target.clone(),
        stats: b
            .stats
            .as_ref()
            .map(|s| s.iter().map(stored_column).collect()),
    }
}

fn block_of(b: StoredBlock) -> Result<Block, String> {
    let mut tally = crate::tally::Tally::new();
    for (s, l, n) in b.tally {
        *tally.entry(s).or_default().entry(l).or_default() += n;
    }
    let stats = match b.stats {
        Some(s) => Some(
            s.into_iter()
                .map(column_of)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        None => None,
    };
    Ok(Block {
        order: b.order,
        file: b.file,
        rows: b.rows,
        tally,
        target: b.target,
        stats,
    })
}

fn stored_column(c: &ColumnStats) -> StoredColumn {
    let rows = |e: &[SampleRef]| e.iter().filter_map(|r| r.row).collect();
    StoredColumn {
        name: c.name.clone(),
        dtype: c.dtype.clone(),
        count: c.count,
        nulls: c.nulls,
        nan: c.nan,
        inf: c.inf,
        null_rows: rows(&c.null_examples),
        nonfinite_rows: rows(&c.nonfinite_examples),
        numeric: c.numeric.as_ref().map(|n| (n.moments, n.sketch.clone())),
        strings: c.strings.clone(),
    }
}

/// Examples name the table by the source the merge gives (`finish` numbers them).
fn column_of(c: StoredColumn) -> Result<ColumnStats, String> {
    let refs = |rows: Vec<u64>| {
        rows.into_iter()
            .map(|r| SampleRef {
                id: r,
                source: String::new(),
                row: Some(r),
                note: None,
            })
            .collect()
    };
    let numeric = match c.numeric {
        Some((moments, sketch)) => Some(NumericStats {
            moments,
            sketch: sketch
                .checked()
                .map_err(|e| format!("column '{}': its quantile sketch: {e}", c.name))?,
        }),
        None => None,
    };
    Ok(ColumnStats {
        name: c.name,
        dtype: c.dtype,
        count: c.count,
        nulls: c.nulls,
        nan: c.nan,
        inf: c.inf,
        null_examples: refs(c.null_rows),
        nonfinite_examples: refs(c.nonfinite_rows),
        numeric,
        strings: c.strings,
    })
}
