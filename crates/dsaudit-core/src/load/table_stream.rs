//! Tables larger than the memory budget (`--memory-limit`): read a block at a time.
//! What can be counted exactly as the blocks pass is counted over every row (rows per
//! split and class, each column's missing and non-finite values and its mergeable
//! summary); the stages that need rows side by side (duplicates, shift tests, label
//! and outlier search) get a seeded sample chosen by each row's content, so exact
//! copies are kept or left out together and a duplicate group in the sample is whole.

use super::rows::{fingerprint, Features};
use super::table::{column_stats, label_and_split, source_of, Roles, Rows, Tables};
use super::{DatasetSpec, Loaded};
use crate::load::columns::{merge_all, ColumnStats};
use crate::safe_read::bytes_text;
use crate::table_io::batched::{streamable, Groups, Reader};
use crate::table_io::blocks::Block;
use crate::tally::Tally;
use anyhow::Result;
use polars::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// The memory a table scan may plan for when none is set: 2 GiB.
pub const DEFAULT_MEMORY_LIMIT: u64 = 2 << 30;

static MEMORY_LIMIT: AtomicU64 = AtomicU64::new(DEFAULT_MEMORY_LIMIT);

/// Sets the budget (`--memory-limit`) for the process.
pub fn set_memory_limit(bytes: u64) {
    MEMORY_LIMIT.store(bytes.max(1), Ordering::Relaxed);
}

pub fn memory_limit() -> u64 {
    MEMORY_LIMIT.load(Ordering::Relaxed)
}

/// A whole scan's peak memory per byte of a text table: the 181 MB benchmark CSV
/// (1,000,000 × 21) peaks at 659 MiB, 3.6×.
const TEXT_FACTOR: u64 = 4;

/// A whole scan's peak memory per byte of the rows as polars holds them (the same
/// table: 168 MB of columns), for sizing the sample.
pub(super) const FRAME_FACTOR: u64 = 4;

/// Seeds the content key that picks the sample: fixed, so a scan is repeatable.
const SAMPLE_SEED: u64 = 0x6473_6175_6469_7421;

/// The budget, when `files` would not fit it read whole: the builds, which write every
/// row again, always read whole.
pub fn needed(spec: &DatasetSpec, files: &[(Option<String>, PathBuf)]) -> Option<u64> {
    if spec.hints.keep_tables {
        return None;
    }
    let limit = spec.hints.memory_limit.unwrap_or_else(memory_limit);
    let need: u64 = files
        .iter()
        .filter(|(_, p)| streamable(p))
        .map(|(_, p)| match crate::util::ext_of(p).as_str() {
            "parquet" | "pq" => Groups::declared_bytes(p).saturating_mul(FRAME_FACTOR),
            // Uncompressed IPC holds its columns as polars does.
            "arrow" | "feather" | "ipc" => std::fs::metadata(p)
                .map_or(0, |m| m.len())
                .saturating_mul(FRAME_FACTOR),
            _ => std::fs::metadata(p)
                .map_or(0, |m| m.len())
                .saturating_mul(TEXT_FACTOR),
        })
        .fold(0, u64::saturating_add);
    (need > limit).then_some(limit)
}

/// Each row's sampling key, from its content hash: copies share theirs.
pub(crate) fn sample_keys(hashes: &[u128]) -> Vec<u64> {
    hashes
        .iter()
        .map(|h| xxhash_rust::xxh3::xxh3_64_with_seed(&h.to_le_bytes(), SAMPLE_SEED))
        .collect()
}

/// The rows of one file the sample holds so far, in file order.
struct Piece {
    file: usize,
    df: DataFrame,
    keys: Vec<u64>,
    rows: Vec<u64>,
}

/// What the blocks add up to.
struct Stream {
    limit: u64,
    /// Rows the sample may hold (set from the first block's width).
    room: Option<usize>,
    /// Rows whose key is above it are not kept.
    threshold: u64,
    pieces: Vec<Piece>,
    kept: usize,
    rows: u64,
    stats: Vec<ColumnStats>,
    tally: Tally,
    features: Option<Features>,
}

pub fn load(spec: &DatasetSpec, files: &[(Option<String>, PathBuf)], limit: u64) -> Result<Loaded> {
    let mut acc = Tables::default();
    let mut stream = Stream {
        limit,
        room: None,
        threshold: u64::MAX,
        pieces: Vec::new(),
        kept: 0,
        rows: 0,
        stats: Vec::new(),
        tally: Tally::new(),
        features: None,
    };
    let mut roles: Vec<Roles> = Vec::with_capacity(files.len());
    let mut first_ids = Vec::with_capacity(files.len());
    let block_bytes = (limit / 32).clamp(64 << 10, 256 << 20) as usize;
    let sources: Vec<String> = files.iter().map(|(_, p)| source_of(spec, p)).collect();
    for (f, (file_split, path)) in files.iter().enumerate() {
        let source = &sources[f];
        acc.note_separator(path);
        first_ids.push(stream.rows);
        let mut blocks = Reader::open(path, block_bytes)?;
        let mut file_roles: Option<Roles> = None;
        while let Some(block) = blocks.next_block()? {
            let r = match &file_roles {
                Some(r) => r.clone(),
                None => {
                    let r = acc.roles(spec, &block.df, file_split.as_ref(), path)?;
                    acc.take_roles(&r);
                    file_roles = Some(r.clone());
                    r
                }
            };
            stream.add(&acc, spec, (f, file_split.as_ref(), source), &r, block)?;
        }
        roles.push(file_roles.unwrap_or_default());
    }
    let total = stream.rows;
    let room = stream.room.unwrap_or(0);
    stream.prune(room);
    // Rows were left out by this prune or an earlier one.
    let sampled = (stream.kept as u64) < total;
    let Stream {
        pieces,
        stats,
        tally,
        kept,
        ..
    } = stream;
    for (f, rows) in per_file(pieces, files.len())?.into_iter().enumerate() {
        let Some(rows) = rows else { continue };
        acc.offset = first_ids[f];
        let split = files[f].0.as_ref();
        acc.add_rows(false, split, rows, sources[f].clone(), &roles[f], false)?;
    }
    acc.guesses.push(match sampled {
        true => format!(
            "sample: the table's {total} rows are more than --memory-limit ({}) holds in a whole scan, so it was read in blocks: row counts, class balance and column statistics cover every row; duplicates, shift tests, label errors and outliers ran on {kept} rows chosen by their content with a fixed seed (exact copies are kept or left out together, so a duplicate group found is whole; near copies are found only among the rows kept)",
            bytes_text(limit)
        ),
        false => format!(
            "blocks: the table's {total} rows were read in blocks under --memory-limit ({}); every row was kept for the checks",
            bytes_text(limit)
        ),
    });
    let mut loaded = acc.finish()?;
    loaded.columns = stats;
    if sampled {
        loaded.tally = Some(tally);
    }
    Ok(loaded)
}

/// The sample's rows of each file, in file order (None: none kept).
fn per_file(pieces: Vec<Piece>, files: usize) -> Result<Vec<Option<Rows>>> {
    let mut out: Vec<Option<Rows>> = (0..files).map(|_| None).collect();
    for p in pieces {
        match &mut out[p.file] {
            None => {
                out[p.file] = Some(Rows {
                    df: p.df,
                    picked: Some(p.rows),
                })
            }
            Some(r) => {
                r.df.vstack_mut(&p.df)?;
                r.picked.get_or_insert_with(Vec::new).extend(p.rows);
            }
        }
    }
    for r in out.iter_mut().flatten() {
        r.df.rechunk_mut();
    }
    Ok(out)
}

impl Stream {
    /// One block: its counts and statistics, then the rows whose key is low enough.
    fn add(
        &mut self,
        acc: &Tables,
        spec: &DatasetSpec,
        (file, file_split, source): (usize, Option<&String>, &str),
        roles: &Roles,
        block: Block,
    ) -> Result<()> {
        let Block { df, first_row } = block;
        let h = df.height();
        if h == 0 {
            return Ok(());
        }
        let described: Vec<&str> = [roles.label.as_deref(), roles.split.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let skip: Vec<&str> = described
            .iter()
            .copied()
            .chain(acc.regression.as_deref())
            .collect();
        let features = self
            .features
            .get_or_insert_with(|| Features::of(&df, &skip))
            .clone();
        // Rows of earlier blocks and files: this block's first sample id.
        let id = self.rows;
        let ((names, stats), hashes) = rayon::join(
            || {
                rayon::join(
                    || label_and_split(&df, roles, file_split),
                    || match spec.hints.skip_column_stats {
                        true => Ok(Vec::new()),
                        false => column_stats(&df, &described, source, id, first_row),
                    },
                )
            },
            || fingerprint(&df, &features).map(|r| r.hash),
        );
        let (label, split) = names?;
        self.stats = merge_all(vec![std::mem::take(&mut self.stats), stats?]);
        let (label, split) = (label.str()?.clone(), split.str()?.clone());
        let block_tally = crate::tally::tally(split.iter().zip(label.iter()));
        for (s, classes) in block_tally {
            let into = self.tally.entry(s).or_default();
            for (l, n) in classes {
                *into.entry(l).or_default() += n;
            }
        }
        if self.room.is_none() {
            let per_row = (df.estimated_size() / h).max(1) as u64;
            let room = self.limit * 2 / 5 / (FRAME_FACTOR * per_row);
            self.room = Some(room.max(1) as usize);
        }
        let keys = sample_keys(&hashes?);
        let chosen: Vec<IdxSize> = (0..h as IdxSize)
            .filter(|&i| keys[i as usize] <= self.threshold)
            .collect();
        let rows: Vec<u64> = chosen.iter().map(|&i| first_row + i as u64).collect();
        let keys: Vec<u64> = chosen.iter().map(|&i| keys[i as usize]).collect();
        let taken = df.take(&IdxCa::from_vec("".into(), chosen))?;
        self.kept += keys.len();
        self.rows += h as u64;
        self.pieces.push(Piece {
            file,
            df: taken,
            keys,
            rows,
        });
        let room = self.room.unwrap_or(usize::MAX);
        if self.kept > room.saturating_mul(2) {
            self.prune(room);
        }
        Ok(())
    }

    /// Keeps the rows of the `room` lowest keys (and any sharing the last of them).
    fn prune(&mut self, room: usize) {
        if self.kept <= room || room == 0 {
            return;
        }
        let mut all: Vec<u64> = self
            .pieces
            .iter()
            .flat_map(|p| p.keys.iter().copied())
            .collect();
        let (_, nth, _) = all.select_nth_unstable(room - 1);
        self.threshold = *nth;
        drop(all);
        let t = self.threshold;
        self.kept = 0;
        for p in &mut self.pieces {
            let keep: BooleanChunked = p.keys.iter().map(|&k| k <= t).collect();
            p.df = p.df.filter(&keep).expect("a mask of the piece's height");
            let mut i = 0;
            p.rows.retain(|_| {
                i += 1;
                p.keys[i - 1] <= t
            });
            p.keys.retain(|&k| k <= t);
            self.kept += p.keys.len();
        }
        self.pieces.retain(|p| !p.keys.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Hints;
    use std::path::Path;

    /// A table of `n` rows whose every 10th row repeats the row before it with the
    /// other label (copies with conflicting labels), and some missing values.
    fn write_table(path: &Path, n: usize) {
        let mut text = String::from("x,y,note,label\n");
        for i in 0..n {
            let k = if i % 10 == 9 { i - 1 } else { i };
            let label = if (i % 10 == 9) ^ (k % 3 == 0) {
                "a"
            } else {
                "b"
            };
            let y = if k % 7 == 0 {
                String::new()
            } else {
                format!("{}", k * 31 % 101)
            };
            text.push_str(&format!("{}.5,{y},n{},{label}\n", k, k % 5));
        }
        std::fs::write(path, text).unwrap();
    }

    fn opened(path: &Path) -> DatasetSpec {
        crate::load::open(path, Hints::default()).unwrap()
    }

    fn column(loaded: &Loaded, name: &str) -> Vec<Option<String>> {
        let m = &loaded.manifest;
        m.df.column(name)
            .unwrap()
            .cast(&DataType::String)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    type Files = Vec<(Option<String>, PathBuf)>;

    /// `write_table`'s 30,000 rows as one CSV, opened, and read whole.
    fn one_table(dir: &Path) -> (DatasetSpec, Files, Loaded) {
        let path = dir.join("t.csv");
        write_table(&path, 30_000);
        let spec = opened(&path);
        let files = vec![(None, path)];
        let whole = crate::load::table::load(&spec, &files).unwrap();
        (spec, files, whole)
    }

    #[test]
    fn with_room_for_every_row_blocks_give_the_whole_reads_manifest_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let (spec, files, whole) = one_table(dir.path());
        // 64 MiB blocks would hold the file at once: 1 MiB blocks (a 32 MiB budget)
        // take several, and the sample has room for all 30,000 rows.
        let streamed = load(&spec, &files, 512 << 20).unwrap();
        assert!(streamed.tally.is_none());
        for name in ["id", "row", "label", "split", "source"] {
            assert_eq!(column(&streamed, name), column(&whole, name), "{name}");
        }
        let counts = |l: &Loaded| {
            l.columns
                .iter()
                .map(|c| (c.name.clone(), c.count, c.nulls, c.nan))
                .collect::<Vec<_>>()
        };
        assert_eq!(counts(&streamed), counts(&whole));
    }

    #[test]
    fn a_parquet_file_is_read_a_row_group_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("t.csv");
        write_table(&csv, 30_000);
        let path = dir.path().join("t.parquet");
        let mut df = crate::table_io::read(&csv, None).unwrap();
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .with_row_group_size(Some(4_000))
            .finish(&mut df)
            .unwrap();
        let spec = opened(&path);
        let files = vec![(None, path.clone())];
        let whole = crate::load::table::load(&spec, &files).unwrap();
        let streamed = load(&spec, &files, 512 << 20).unwrap();
        assert!(streamed
            .guesses
            .iter()
            .any(|g| g.contains("every row was kept")));
        for name in ["id", "row", "label"] {
            assert_eq!(column(&streamed, name), column(&whole, name), "{name}");
        }
        let sampled = load(&spec, &files, 1 << 20).unwrap();
        let counted: u64 = sampled
            .tally
            .as_ref()
            .unwrap()
            .values()
            .flat_map(|c| c.values())
            .sum();
        assert_eq!(counted, 30_000);
        assert!(sampled.manifest.len() < 30_000);
    }

    #[test]
    fn a_sample_keeps_copies_together_and_names_each_row_by_its_place_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (spec, files, whole) = one_table(dir.path());
        let limit = 1 << 20;
        let a = load(&spec, &files, limit).unwrap();
        let b = load(&spec, &files, limit).unwrap();
        let n = a.manifest.len();
        assert!(n > 1_000 && n < 20_000, "{n} rows kept");
        // Repeatable, and exact where it counts every row.
        assert_eq!(column(&a, "row"), column(&b, "row"));
        let tally = a.tally.as_ref().unwrap();
        let counted: u64 = tally.values().flat_map(|c| c.values()).sum();
        assert_eq!(counted, 30_000);
        let m = &whole.manifest;
        let expected = crate::tally::tally(m.strs("split").iter().zip(m.strs("label").iter()));
        assert_eq!(tally, &expected);
        let y = a.columns.iter().find(|c| c.name == "y").unwrap();
        let y_whole = whole.columns.iter().find(|c| c.name == "y").unwrap();
        assert_eq!((y.count, y.nulls), (y_whole.count, y_whole.nulls));
        // Each kept row's label is the file's at that row, and a copy (row 10k + 9) is
        // kept exactly when its original (10k + 8) is.
        let rows: Vec<u64> = a.manifest.u64s("row").into_no_null_iter().collect();
        let labels = column(&a, "label");
        let all_labels = column(&whole, "label");
        for (r, l) in rows.iter().zip(&labels) {
            assert_eq!(l, &all_labels[*r as usize], "row {r}");
        }
        let kept: std::collections::BTreeSet<u64> = rows.iter().copied().collect();
        for &r in &kept {
            match r % 10 {
                8 => assert!(kept.contains(&(r + 1)), "{r} without its copy"),
                9 => assert!(kept.contains(&(r - 1)), "copy {r} without its original"),
                _ => {}
            }
        }
        // Sample ids are the whole read's ids of the same rows.
        let ids: Vec<u64> = a.manifest.u64s("id").into_no_null_iter().collect();
        assert_eq!(ids, rows);
    }

    #[test]
    fn split_files_read_in_blocks_number_their_rows_on_from_the_file_before() {
        let dir = tempfile::tempdir().unwrap();
        let train = dir.path().join("train.csv");
        let test = dir.path().join("test.csv");
        write_table(&train, 12_000);
        write_table(&test, 5_000);
        let spec = opened(dir.path());
        let files = vec![
            (Some("train".to_string()), train),
            (Some("test".to_string()), test),
        ];
        let whole = crate::load::table::load(&spec, &files).unwrap();
        let a = load(&spec, &files, 2 << 20).unwrap();
        let tally = a.tally.as_ref().expect("a sample");
        // The guesses a whole read makes, once, and the sample's line.
        let said =
            |l: &Loaded, what: &str| l.guesses.iter().filter(|g| g.starts_with(what)).count();
        assert_eq!(said(&a, "label column"), said(&whole, "label column"));
        assert_eq!(
            said(&a, "sample: the table's 17000 rows"),
            1,
            "{:?}",
            a.guesses
        );
        let m = &whole.manifest;
        let expected = crate::tally::tally(m.strs("split").iter().zip(m.strs("label").iter()));
        assert_eq!(tally, &expected);
        let ids: Vec<u64> = a.manifest.u64s("id").into_no_null_iter().collect();
        let whole_ids = column(&whole, "row");
        let sources = column(&a, "source");
        for (k, id) in ids.iter().enumerate() {
            let from_test = sources[k].as_deref() == Some("test.csv");
            assert_eq!(from_test, *id >= 12_000, "id {id}");
            let row = a.manifest.u64s("row").get(k).unwrap();
            assert_eq!(whole_ids[*id as usize], Some(row.to_string()));
        }
    }
}
