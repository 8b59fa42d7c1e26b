//! Parquet and Arrow IPC files a row group or record batch at a time, and the one
//! reader over every table format that a table larger than the memory budget is read
//! through (text tables by `blocks`).

use super::blocks::{Block, Blocks};
use crate::util::ext_of;
use anyhow::Result;
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
        let mut file = std::io::BufReader::new(super::open_blockwise(path)?);
        let meta = super::answer(
            path,
            crate::util::guarded(|| polars_arrow::io::ipc::read::read_file_metadata(&mut file)),
        )?;
        Ok(Batches {
            path: path.to_path_buf(),
            reader: polars_arrow::io::ipc::read::FileReader::new(file, meta, None, None),
            first_row: 0,
        })
    }

    pub fn next_block(&mut self) -> Result<Option<Block>> {
        let read = crate::util::guarded(|| self.reader.next().transpose());
        let Some(batch) = super::answer(&self.path, read)? else {
            return Ok(None);
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
    file: File,
    /// The footer, decoded once: every group's read is handed it.
    meta: FileMetadataRef,
    next: usize,
    first_row: u64,
}

impl Groups {
    pub fn open(path: &Path) -> Result<Groups> {
        let file = super::open_blockwise(path)?;
        let mut reader = ParquetReader::new(file.try_clone()?);
        let meta = super::answer(
            path,
            crate::util::guarded(|| reader.get_metadata().cloned()),
        )?;
        Ok(Groups {
            path: path.to_path_buf(),
            file,
            meta,
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
        let Some(group) = self.meta.row_groups.get(self.next) else {
            return Ok(None);
        };
        let n = group.num_rows();
        self.next += 1;
        let mut reader = ParquetReader::new(self.file.try_clone()?)
            .with_slice(Some((self.first_row as usize, n)));
        reader.set_metadata(self.meta.clone());
        let df = super::answer(&self.path, crate::util::guarded(|| reader.finish()))?;
        let block = Block {
            df,
            first_row: self.first_row,
        };
        self.first_row += n as u64;
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

    /// Passes over the next block without parsing it where the format allows (text
    /// lines are cut, not parsed; a Parquet row group is not read); false at the end.
    /// Another part of a scan in parts parses it.
    pub fn skip_block(&mut self) -> Result<bool> {
        match self {
            Reader::Text(b) => b.skip_block(),
            Reader::Groups(g) => {
                let Some(group) = g.meta.row_groups.get(g.next) else {
                    return Ok(false);
                };
                g.first_row += group.num_rows() as u64;
                g.next += 1;
                Ok(true)
            }
            Reader::Batches(b) => Ok(b.next_block()?.is_some()),
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
