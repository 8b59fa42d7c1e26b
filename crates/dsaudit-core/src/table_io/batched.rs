//! Parquet and Arrow IPC files a row group or record batch at a time, and the one
//! reader over every table format that a table larger than the memory budget is read
//! through (text tables by `blocks`).

use super::blocks::{Block, Blocks};
use crate::util::ext_of;
use anyhow::{bail, Result};
use polars::prelude::*;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Whether `Blocks` (the text formats), `Groups` (Parquet) or `Batches` (Arrow IPC)
/// can read this file.
pub fn streamable(path: &Path) -> bool {
    matches!(
        ext_of(path).as_str(),
        "csv" | "tsv" | "ndjson" | "jsonl" | "parquet" | "pq" | "arrow" | "feather" | "ipc"
    )
}

/// An Arrow IPC (Feather v2) file read a record batch at a time, each checked as
/// `vet` checks a file.
pub struct Batches {
    path: PathBuf,
    reader: polars_arrow::io::ipc::read::FileReader<std::io::BufReader<File>>,
    first_row: u64,
}

impl Batches {
    pub fn open(path: &Path) -> Result<Batches> {
        use std::io::Seek;
        let shown = path.display();
        let (mut file, len) = crate::safe_read::open_limited(path, u64::MAX)
            .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
        let checked = crate::util::guarded(|| super::vet_ipc::vet_batches(&file, len, true))
            .unwrap_or_else(|panic| Err(format!("the reader failed on this file ({panic})")));
        if let Err(why) = checked {
            bail!("{shown}: cannot read table: {why}");
        }
        file.rewind()
            .map_err(|e| anyhow::anyhow!("{shown}: {}", crate::util::io_problem(&e)))?;
        let mut file = std::io::BufReader::new(file);
        let meta = polars_arrow::io::ipc::read::read_file_metadata(&mut file).map_err(|e| {
            anyhow::anyhow!(
                "{shown}: cannot read table: {}",
                crate::util::one_line(&e.to_string())
            )
        })?;
        Ok(Batches {
            path: path.to_path_buf(),
            reader: polars_arrow::io::ipc::read::FileReader::new(file, meta, None, None),
            first_row: 0,
        })
    }

    pub fn next_block(&mut self) -> Result<Option<Block>> {
        let shown = self.path.display();
        let read = crate::util::guarded(|| self.reader.next());
        let batch = match read {
            Ok(None) => return Ok(None),
            Ok(Some(Ok(batch))) => batch,
            Ok(Some(Err(e))) => bail!(
                "{shown}: cannot read table: {}",
                crate::util::one_line(&e.to_string())
            ),
            Err(panic) => {
                bail!("{shown}: cannot read table: the reader failed on this file ({panic})")
            }
        };
        let df = DataFrame::from(batch);
        let block = Block {
            first_row: self.first_row,
            df,
        };
        self.first_row += block.df.height() as u64;
        Ok(Some(block))
    }
}

/// A Parquet file read a row group at a time, each checked as `vet` checks a file.
pub struct Groups {
    path: PathBuf,
    /// Rows of each row group, in file order.
    rows: Vec<u64>,
    next: usize,
    first_row: u64,
}

impl Groups {
    pub fn open(path: &Path) -> Result<Groups> {
        let shown = path.display();
        let (file, len) = crate::safe_read::open_limited(path, u64::MAX)
            .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
        if len == 0 {
            bail!("{shown}: empty file: no header and no rows");
        }
        let checked = crate::util::guarded(|| super::vet_parquet::vet_groups(&file, len, true))
            .unwrap_or_else(|panic| Err(format!("the reader failed on this file ({panic})")));
        if let Err(why) = checked {
            bail!("{shown}: cannot read table: {why}");
        }
        let footer = super::parquet_footer(path)?;
        Ok(Groups {
            path: path.to_path_buf(),
            rows: footer
                .row_groups
                .iter()
                .map(|g| g.num_rows.max(0) as u64)
                .collect(),
            next: 0,
            first_row: 0,
        })
    }

    /// Uncompressed bytes the footer declares for the whole file.
    pub fn declared_bytes(path: &Path) -> u64 {
        super::parquet_footer(path)
            .map(|f| {
                f.row_groups
                    .iter()
                    .map(|g| g.total_byte_size.max(0) as u64)
                    .sum()
            })
            .unwrap_or(0)
    }

    pub fn next_block(&mut self) -> Result<Option<Block>> {
        let Some(&n) = self.rows.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        let shown = self.path.display();
        let (file, _) = crate::safe_read::open_limited(&self.path, u64::MAX)
            .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
        let slice = Some((self.first_row as usize, n as usize));
        let read = crate::util::guarded(|| ParquetReader::new(file).with_slice(slice).finish());
        let df = match read {
            Ok(Ok(df)) => df,
            Ok(Err(e)) => bail!(
                "{shown}: cannot read table: {}",
                crate::util::one_line(&e.to_string())
            ),
            Err(panic) => {
                bail!("{shown}: cannot read table: the reader failed on this file ({panic})")
            }
        };
        let block = Block {
            df,
            first_row: self.first_row,
        };
        self.first_row += n;
        Ok(Some(block))
    }
}

/// A table file's blocks: lines of CSV, TSV or NDJSON, Parquet row groups, Arrow IPC
/// record batches.
pub enum Reader {
    Text(Blocks),
    Groups(Groups),
    Batches(Box<Batches>),
}

impl Reader {
    /// `block_bytes`: about how much text a block of a text table holds.
    pub fn open(path: &Path, block_bytes: usize) -> Result<Reader> {
        Ok(match ext_of(path).as_str() {
            "parquet" | "pq" => Reader::Groups(Groups::open(path)?),
            "arrow" | "feather" | "ipc" => Reader::Batches(Box::new(Batches::open(path)?)),
            _ => Reader::Text(Blocks::open(path, block_bytes)?),
        })
    }

    pub fn next_block(&mut self) -> Result<Option<Block>> {
        match self {
            Reader::Text(b) => b.next_block(),
            Reader::Groups(g) => g.next_block(),
            Reader::Batches(b) => b.next_block(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parquet_row_groups_add_up_to_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let mut df = df!(
            "x" => (0..5_000).map(|i| i as f64 * 0.5).collect::<Vec<_>>(),
            "label" => (0..5_000).map(|i| format!("c{}", i % 4)).collect::<Vec<_>>()
        )
        .unwrap();
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .with_row_group_size(Some(700))
            .finish(&mut df)
            .unwrap();
        let mut groups = Groups::open(&path).unwrap();
        let (mut joined, mut blocks, mut next_row): (Option<DataFrame>, usize, u64) = (None, 0, 0);
        while let Some(b) = groups.next_block().unwrap() {
            assert_eq!(b.first_row, next_row);
            next_row += b.df.height() as u64;
            blocks += 1;
            match &mut joined {
                None => joined = Some(b.df),
                Some(j) => {
                    j.vstack_mut(&b.df).unwrap();
                }
            }
        }
        assert!(blocks > 2, "{blocks} row groups");
        assert!(joined.unwrap().equals_missing(&df));
    }

    #[test]
    fn arrow_ipc_batches_add_up_to_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.arrow");
        // Four chunks, which the writer writes as four record batches.
        let mut df: Option<DataFrame> = None;
        for b in 0..4 {
            let part = df!(
                "x" => (0..900).map(|i| (b * 900 + i) as f64).collect::<Vec<_>>(),
                "label" => (0..900).map(|i| format!("c{}", i % 3)).collect::<Vec<_>>()
            )
            .unwrap();
            match &mut df {
                None => df = Some(part),
                Some(d) => {
                    d.vstack_mut(&part).unwrap();
                }
            }
        }
        let mut df = df.unwrap();
        IpcWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut df)
            .unwrap();
        let whole = super::super::read(&path, None).unwrap();
        let mut batches = Batches::open(&path).unwrap();
        let (mut joined, mut n): (Option<DataFrame>, usize) = (None, 0);
        while let Some(b) = batches.next_block().unwrap() {
            assert_eq!(b.first_row, 900 * n as u64);
            n += 1;
            match &mut joined {
                None => joined = Some(b.df),
                Some(j) => {
                    j.vstack_mut(&b.df).unwrap();
                }
            }
        }
        assert_eq!(n, 4);
        assert!(joined.unwrap().equals_missing(&whole));
    }
}
