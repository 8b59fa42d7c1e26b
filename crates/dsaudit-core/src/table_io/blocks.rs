//! A CSV, TSV or NDJSON file read a block of whole rows at a time, each block parsed
//! on its own with the types the first block gave: how a table larger than the memory
//! budget is read without holding it.

use super::{checked_separator, csv_options, ragged_text};
use crate::util::ext_of;
use anyhow::{bail, Result};
use polars::prelude::*;
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

/// One block's rows and where they sit in the file.
pub struct Block {
    pub df: DataFrame,
    /// Rows of the file before this block's first.
    pub first_row: u64,
}

/// The blocks of one text table, in file order.
pub struct Blocks {
    path: PathBuf,
    file: File,
    kind: Kind,
    /// CSV and TSV: the header line, which every block's text starts with.
    header: Vec<u8>,
    /// Bytes read past the last whole row handed out.
    carry: Vec<u8>,
    block_bytes: usize,
    eof: bool,
    /// The first block's column types, which every later block is parsed with.
    schema: Option<SchemaRef>,
    rows: u64,
    /// Records before the current block (CSV: lines after the header), for messages.
    records: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Delimited(u8),
    JsonLines,
}

impl Blocks {
    /// Opens a text table to be read about `block_bytes` at a time.
    pub fn open(path: &Path, block_bytes: usize) -> Result<Blocks> {
        let shown = path.display();
        let file = super::open_blockwise(path)?;
        let ext = ext_of(path);
        let kind = match ext.as_str() {
            "csv" | "tsv" => Kind::Delimited(checked_separator(path, &ext)?),
            "ndjson" | "jsonl" => Kind::JsonLines,
            _ => bail!("{shown}: '.{ext}' tables are read whole, not in blocks"),
        };
        let mut blocks = Blocks {
            path: path.to_path_buf(),
            file,
            kind,
            header: Vec::new(),
            carry: Vec::new(),
            block_bytes: block_bytes.max(1),
            eof: false,
            schema: None,
            rows: 0,
            records: 0,
        };
        if let Kind::Delimited(_) = kind {
            blocks.header = blocks.take_rows(true)?.unwrap_or_default();
        }
        Ok(blocks)
    }

    /// The next block of rows, or None at the end of the file.
    pub fn next_block(&mut self) -> Result<Option<Block>> {
        let Some(text) = self.take_rows(false)? else {
            return Ok(None);
        };
        let ends = record_ends(&text, self.kind);
        let parsed = crate::util::guarded(|| self.parse(&text));
        let shown = self.path.display();
        let df = match parsed {
            Err(panic) => {
                bail!("{shown}: cannot read table: the reader failed on this file ({panic})")
            }
            Ok(Err(e)) => {
                self.ragged(&text)?;
                if self.schema.is_some() && e.to_string().contains("could not parse") {
                    bail!(
                        "{shown}: a value after row {} does not parse as its column's type, which the first {} rows gave ({}); a table read in blocks (larger than --memory-limit, or cut by `dsaudit partial`) takes its types from its first block: raise --memory-limit to read it whole, or --block-size",
                        self.rows,
                        self.rows,
                        crate::util::one_line(&e.to_string())
                    );
                }
                bail!(
                    "{shown}: cannot read table: {}",
                    crate::util::one_line(&e.to_string())
                )
            }
            Ok(Ok(df)) => df,
        };
        // As for a whole file: a short row reads as nulls in its missing fields.
        if matches!(self.kind, Kind::Delimited(_))
            && df.columns().last().is_some_and(|c| c.null_count() > 0)
        {
            self.ragged(&text)?;
        }
        if self.schema.is_none() {
            self.schema = Some(df.schema().clone());
        }
        let block = Block {
            first_row: self.rows,
            df,
        };
        self.rows += block.df.height() as u64;
        self.records += ends;
        Ok(Some(block))
    }

    /// Cuts the next block without parsing it (its rows counted by their line breaks);
    /// false at the end of the file.
    pub fn skip_block(&mut self) -> Result<bool> {
        let Some(text) = self.take_rows(false)? else {
            return Ok(false);
        };
        let ends = record_ends(&text, self.kind);
        self.rows += ends as u64;
        self.records += ends;
        Ok(true)
    }

    fn parse(&self, text: &[u8]) -> PolarsResult<DataFrame> {
        match self.kind {
            Kind::Delimited(sep) => {
                let mut body = Vec::with_capacity(self.header.len() + text.len());
                body.extend_from_slice(&self.header);
                body.extend_from_slice(text);
                // The first block's types are inferred from all of it, not its first
                // 10,000 rows: every later block must parse with them.
                let options = match &self.schema {
                    None => csv_options(sep, None, None),
                    Some(s) => csv_options(sep, None, Some(0)).with_schema(Some(s.clone())),
                };
                options
                    .into_reader_with_file_handle(Cursor::new(body))
                    .finish()
            }
            Kind::JsonLines => {
                let reader =
                    JsonReader::new(Cursor::new(text)).with_json_format(JsonFormat::JsonLines);
                match &self.schema {
                    None => reader.infer_schema_len(None).finish(),
                    Some(s) => reader.with_schema(s.clone()).finish(),
                }
            }
        }
    }

    /// A row with more or fewer fields than the header, named by its line in the file.
    fn ragged(&self, text: &[u8]) -> Result<()> {
        let Kind::Delimited(sep) = self.kind else {
            return Ok(());
        };
        let mut body = self.header.clone();
        body.extend_from_slice(text);
        match ragged_text(&body, sep, self.records) {
            Some(msg) => bail!("{}: {msg}", self.path.display()),
            None => Ok(()),
        }
    }

    /// Whole rows from the file: the first one only (the header), or about a block's
    /// worth; None when nothing is left.
    fn take_rows(&mut self, one: bool) -> Result<Option<Vec<u8>>> {
        let quoted = matches!(self.kind, Kind::Delimited(_));
        loop {
            let cut = if one {
                first_end(&self.carry, quoted)
            } else if self.carry.len() >= self.block_bytes {
                last_end(&self.carry, quoted)
            } else {
                None
            };
            if let Some(cut) = cut {
                let rest = self.carry.split_off(cut);
                return Ok(Some(std::mem::replace(&mut self.carry, rest)));
            }
            if self.eof {
                if self.carry.iter().all(|b| b.is_ascii_whitespace()) {
                    return Ok(None);
                }
                return Ok(Some(std::mem::take(&mut self.carry)));
            }
            self.fill()?;
        }
    }

    /// Reads about a block more into `carry`.
    fn fill(&mut self) -> Result<()> {
        let start = self.carry.len();
        let want = self.block_bytes.max(1 << 10);
        self.carry.resize(start + want, 0);
        let mut got = 0;
        while got < want {
            match self.file.read(&mut self.carry[start + got..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => bail!("{}: {}", self.path.display(), crate::util::io_problem(&e)),
            }
        }
        self.carry.truncate(start + got);
        Ok(())
    }
}

/// Just past each line break outside quotes: every block starts outside quotes, so
/// its quotes pair up within it (RFC 4180's `""` is two toggles).
fn record_breaks(text: &[u8], quoted: bool) -> Box<dyn Iterator<Item = usize> + '_> {
    if !quoted || memchr::memchr(b'"', text).is_none() {
        return Box::new(memchr::memchr_iter(b'\n', text).map(|i| i + 1));
    }
    let mut inside = false;
    Box::new(
        memchr::memchr2_iter(b'"', b'\n', text).filter_map(move |i| match text[i] {
            b'"' => {
                inside = !inside;
                None
            }
            _ => (!inside).then_some(i + 1),
        }),
    )
}

fn first_end(text: &[u8], quoted: bool) -> Option<usize> {
    record_breaks(text, quoted).next()
}

fn last_end(text: &[u8], quoted: bool) -> Option<usize> {
    if !quoted || memchr::memchr(b'"', text).is_none() {
        return memchr::memrchr(b'\n', text).map(|i| i + 1);
    }
    record_breaks(text, quoted).last()
}

/// Records the text ends, for numbering lines in messages.
fn record_ends(text: &[u8], kind: Kind) -> usize {
    record_breaks(text, kind != Kind::JsonLines).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(path: &Path, block: usize) -> Result<DataFrame> {
        let mut b = Blocks::open(path, block)?;
        let mut out: Option<DataFrame> = None;
        let mut next_row = 0;
        while let Some(block) = b.next_block()? {
            assert_eq!(block.first_row, next_row);
            next_row += block.df.height() as u64;
            match &mut out {
                None => out = Some(block.df),
                Some(o) => {
                    o.vstack_mut(&block.df)?;
                }
            }
        }
        Ok(out.unwrap())
    }

    #[test]
    fn blocks_of_a_csv_add_up_to_the_whole_file_whatever_their_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut text = String::from("name,label,score\n");
        for i in 0..3_000 {
            // Quoted fields with separators, doubled quotes and line breaks inside.
            let name = match i % 4 {
                0 => format!("\"a, {i}\""),
                1 => format!("\"say \"\"{i}\"\"\""),
                2 => format!("\"two\nlines {i}\""),
                _ => format!("plain{i}"),
            };
            text.push_str(&format!("{name},c{},{}.5\n", i % 3, i));
        }
        std::fs::write(&path, &text).unwrap();
        let whole = super::super::read(&path, None).unwrap();
        for block in [1, 100, 4_096, 1 << 20] {
            let joined = all(&path, block).unwrap();
            assert!(joined.equals_missing(&whole), "block size {block}");
        }
    }

    #[test]
    fn ndjson_blocks_add_up_to_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ndjson");
        let text: String = (0..2_000)
            .map(|i| format!("{{\"x\": {i}.25, \"label\": \"c{}\"}}\n", i % 5))
            .collect();
        std::fs::write(&path, &text).unwrap();
        let whole = super::super::read(&path, None).unwrap();
        assert!(all(&path, 1_000).unwrap().equals_missing(&whole));
    }

    #[test]
    fn a_ragged_row_in_a_later_block_is_named_by_its_line_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut text = String::from("a,b,label\n");
        for i in 0..5_000 {
            if i == 4_321 {
                text.push_str("1,2\n");
            } else {
                text.push_str(&format!("{i},{i},x\n"));
            }
        }
        std::fs::write(&path, &text).unwrap();
        let err = all(&path, 2_000).unwrap_err().to_string();
        assert!(
            err.contains("line 4323 has 2 fields, the header has 3"),
            "{err}"
        );
        assert!(err.starts_with(&path.display().to_string()), "{err}");
    }

    #[test]
    fn a_later_block_whose_values_do_not_fit_the_first_blocks_types_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut text = String::from("a,label\n");
        for i in 0..5_000 {
            text.push_str(&format!("{i},x\n"));
        }
        text.push_str("oops,x\n");
        std::fs::write(&path, &text).unwrap();
        let err = all(&path, 2_000).unwrap_err().to_string();
        assert!(err.contains("does not parse as its column's type"), "{err}");
        assert!(err.contains("--memory-limit"), "{err}");
    }
}
