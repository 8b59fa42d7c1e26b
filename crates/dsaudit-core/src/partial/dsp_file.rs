//! An image part read from its file a block at a time and decoded as the bytes come,
//! so that the merge never holds a part's bytes whole: the four parts of the
//! 100,000-image benchmark were 148 MB read into fresh pages (a fifth of the merge's
//! page faults) before their first row was decoded. The fields are decoded by
//! `dsp::decoded_part`, as `Dsp::from_bytes` decodes them, with the same one-line
//! errors.

use super::dsp::{self, Dsp, Fields};
use anyhow::{bail, Result};
use serde::de::DeserializeOwned;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Bytes asked of the file at a time; a row (about 1.5 kB) that does not fit what is
/// left of the block is decoded again once the next block is in.
const BLOCK: usize = 4 << 20;

/// The part in the file at `path`, read as `Dsp::from_bytes(path, whole file)` would
/// read it.
pub fn read(path: &Path) -> Result<Dsp> {
    read_by(path, BLOCK)
}

/// `read`, `block` bytes asked at a time (the tests cut rows across blocks with it).
#[doc(hidden)]
pub fn read_by(path: &Path, block: usize) -> Result<Dsp> {
    let shown = path.display().to_string();
    let (file, len) = match crate::safe_read::open_limited(path, u64::MAX) {
        Ok(opened) => opened,
        Err(e) => bail!("{shown}: {e}"),
    };
    let mut s = Stream {
        shown: &shown,
        file,
        len: len as usize,
        buf: Vec::with_capacity(block.min(len as usize)),
        block: block.max(1),
        pos: 0,
        eof: false,
        consumed: 0,
    };
    s.more()?;
    let body = dsp::checked_body(&shown, &s.buf)?;
    dsp::refuse_other_kinds(&shown, &s.buf)?;
    s.pos = s.buf.len() - body.len();
    dsp::decoded_part(&shown, &mut s)
}

/// What is in hand of the file (`len` bytes long): `buf[pos..]` not yet decoded,
/// `consumed` bytes of the file before `buf[0]`.
struct Stream<'a> {
    shown: &'a str,
    file: File,
    len: usize,
    buf: Vec<u8>,
    block: usize,
    pos: usize,
    eof: bool,
    consumed: usize,
}

impl Fields for Stream<'_> {
    /// The next value; more of the file is read while the bytes in hand end inside it.
    fn take<T: DeserializeOwned>(&mut self) -> Result<T> {
        loop {
            match postcard::take_from_bytes::<T>(&self.buf[self.pos..]) {
                Ok((v, rest)) => {
                    self.pos = self.buf.len() - rest.len();
                    return Ok(v);
                }
                Err(postcard::Error::DeserializeUnexpectedEnd) if !self.eof => self.more()?,
                Err(e) => return Err(dsp::damaged(self.shown, e)),
            }
        }
    }

    fn left(&self) -> usize {
        self.len.saturating_sub(self.consumed + self.pos)
    }

    /// What follows is read to the end, to say how much there is.
    fn ended(&mut self) -> Result<()> {
        while !self.eof {
            self.more()?;
        }
        dsp::ended(self.shown, &self.buf[self.pos..])
    }
}

impl Stream<'_> {
    /// Drops what is decoded and reads the next block, or as much again as is in
    /// hand when one value is longer than a block.
    fn more(&mut self) -> Result<()> {
        self.consumed += self.pos;
        self.buf.drain(..self.pos);
        self.pos = 0;
        let want = self.block.max(self.buf.len());
        let got = match (&mut self.file)
            .take(want as u64)
            .read_to_end(&mut self.buf)
        {
            Ok(got) => got,
            Err(e) => bail!("{}: {e}", self.shown),
        };
        self.eof = got == 0;
        Ok(())
    }
}

/// The image parts in `paths`, read side by side; the first error in the files' order.
pub fn read_all(paths: &[PathBuf]) -> Result<Vec<(PathBuf, Dsp)>> {
    use rayon::prelude::*;
    let read: Vec<Result<_>> = paths
        .par_iter()
        .map(|p| Ok((p.clone(), read(p)?)))
        .collect();
    read.into_iter().collect()
}

/// Whether the part file at `path` is a table's (read as far as its kind).
pub fn is_table(path: &Path) -> Result<bool> {
    let mut head = Vec::new();
    let opened = crate::safe_read::open_limited(path, u64::MAX);
    let read = opened.map_err(|e| e.to_string()).and_then(|(file, _)| {
        file.take(4096)
            .read_to_end(&mut head)
            .map_err(|e| e.to_string())
    });
    if let Err(e) = read {
        bail!("{}: {e}", path.display());
    }
    Ok(super::table::is_table(&head))
}
