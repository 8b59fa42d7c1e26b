//! The `.dsp` file: one partial scan's described samples, and what the dataset holds
//! besides them, under a versioned header. The byte layout is documented in
//! docs/partial.md.

use crate::cache::record::Record;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

const MAGIC: &[u8; 16] = b"DSAUDIT PARTIAL\n";
/// Bumped whenever what follows the version string changes shape.
pub const FORMAT: u32 = 2;

/// One partial scan, as written by `dsaudit partial`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Dsp {
    /// What every partial of one scan shares; the merge refuses partials that differ.
    pub header: Header,
    /// Which part this is, for messages: `2/4` or `files listed in LIST`.
    pub shard: String,
    /// The samples this part described, in listing order. Last, and the fields in
    /// this order: `decoded_part` reads them one by one (a part written and read back
    /// must give the same bytes: `tests/partial.rs`).
    pub rows: Vec<Row>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Header {
    /// How the samples were described (the check cache's record version).
    pub described_by: u32,
    /// The dataset path as given, and the folder sources are relative to.
    pub input: String,
    pub root: String,
    /// The layout found, as reports name it.
    pub layout: String,
    pub declares_classes_as: String,
    /// The configuration file read (its absolute path and text), if any.
    pub config: Option<(String, String)>,
    /// `--layout`, `--label`, `--split`, `--allow-outside-paths`.
    pub hints: StoredHints,
    /// BLAKE3 of every sample's listing entry (source, split, label, row) in order:
    /// partials made while the dataset changed do not merge.
    pub listing: [u8; 32],
    /// Samples in the whole dataset.
    pub total: u64,
    /// The parts know the whole listing (`partial` of a folder): each sample takes its
    /// place in it, and the merge checks none is missing. Parts of samples handed over
    /// in memory (a Spark partition's rows) do not: they are merged in path order.
    pub listed: bool,
    pub dataset: DatasetLevel,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct StoredHints {
    pub layout: Option<String>,
    pub label: Option<String>,
    pub split: Option<String>,
    pub allow_outside_paths: bool,
}

/// What the load learns of the dataset besides its samples.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct DatasetLevel {
    /// The discovery's guesses, then the load's.
    pub guesses: Vec<String>,
    pub load_guesses: Vec<String>,
    pub label_column: Option<String>,
    pub split_column: Option<String>,
    pub declared_splits: Vec<String>,
    pub declared_classes: Vec<(Option<String>, String)>,
    pub ignored_files: Vec<String>,
    /// Paths the walk could not follow, and why.
    pub walk_issues: Vec<(String, String)>,
    /// Files whose names are not UTF-8 (as lossy relative names).
    pub non_utf8: Vec<String>,
}

/// One described sample: its place in the listing, and its description.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Row {
    pub index: u64,
    pub source: String,
    pub split: Option<String>,
    pub label: Option<String>,
    pub row: Option<u64>,
    pub(crate) info: Record,
}

/// The dsaudit version written after the format number: read whatever the format.
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

impl Dsp {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        stamped_postcard(&[], self)
    }

    /// Writes the file's bytes (`to_bytes`) atomically (a temporary name, then a
    /// rename), encoding as it writes.
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::output::write_atomic(path, |w| {
            w.write_all(&stamped(&[]))?;
            postcard::to_io(self, w)?;
            Ok(())
        })
    }

    /// Reads a `.dsp`; one line naming the file for anything that is not one this
    /// build wrote the same way.
    pub fn read(path: &Path) -> Result<Dsp> {
        Dsp::from_bytes(&path.display().to_string(), &Dsp::read_bytes(path)?)
    }

    /// Parts from their bytes (each with the file it was read from), decoded in
    /// parallel.
    pub fn from_all(
        parts: Vec<(std::path::PathBuf, Vec<u8>)>,
    ) -> Result<Vec<(std::path::PathBuf, Dsp)>> {
        use rayon::prelude::*;
        // Collected whole, then the first error in the parts' order: the same message
        // whichever thread finished first.
        let read: Vec<Result<_>> = parts
            .into_par_iter()
            .map(|(p, b)| {
                let dsp = Dsp::from_bytes(&p.display().to_string(), &b)?;
                Ok((p, dsp))
            })
            .collect();
        read.into_iter().collect()
    }

    /// A part file's bytes: any size (a part of a large dataset is large), but only a
    /// regular file (a FIFO named *.dsp is refused, not waited on).
    pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
        match crate::safe_read::read_limited(path, u64::MAX) {
            Ok(b) => Ok(b),
            Err(e) => bail!("{}: {e}", path.display()),
        }
    }

    /// What the part's bytes are spent on, field by field, summed over its rows (the
    /// header and the shard's name once each), in the order first met: `just
    /// bench-partial` prints it per sample. The sums are the encoded file's bytes
    /// less the stamp (`tests/partial.rs`).
    pub fn bytes_by_field(&self) -> Vec<(&'static str, u64)> {
        let mut sums: Vec<(&'static str, u64)> = Vec::new();
        let mut add = |what: &'static str, n: usize| match sums.iter_mut().find(|s| s.0 == what) {
            Some(s) => s.1 += n as u64,
            None => sums.push((what, n as u64)),
        };
        use crate::cache::record::encoded_len as size;
        add("header and shard name", size(&(&self.header, &self.shard)));
        add("row count", size(&self.rows.len()));
        for r in &self.rows {
            add("place in the listing", size(&r.index));
            add("path", size(&r.source));
            add(
                "split, label, labels-file row",
                size(&(&r.split, &r.label, r.row)),
            );
            r.info.sizes(&mut add);
        }
        sums
    }

    /// A part from its bytes; `shown` names it in errors.
    pub fn from_bytes(shown: &str, bytes: &[u8]) -> Result<Dsp> {
        let body = checked_body(shown, bytes)?;
        refuse_other_kinds(shown, bytes)?;
        decoded_part(shown, &mut InMemory { shown, rest: body })
    }
}

/// One line naming `shown` when `head` (a file's first bytes at least as far as its
/// kind) is a table's part or a plan, not an image part.
pub(super) fn refuse_other_kinds(shown: &str, head: &[u8]) -> Result<()> {
    if super::table::is_table(head) {
        bail!("{shown}: a partial scan of a table, not of images");
    }
    if super::plan::is_plan(head) {
        bail!("{shown}: a plan of a scan in parts (dsaudit partial --plan-for), not a partial scan: run dsaudit partial --plan {shown} --shard K/N for each part and merge those");
    }
    Ok(())
}

/// Where an image part's fields come from, one after another: its bytes in memory,
/// or its file a block at a time (`dsp_file`). Both are decoded by `decoded_part`.
pub(super) trait Fields {
    /// The next field; one line naming the part for a cut or damaged one.
    fn take<T: serde::de::DeserializeOwned>(&mut self) -> Result<T>;
    /// Bytes not yet decoded.
    fn left(&self) -> usize;
    /// Nothing after the last field; one line saying how much there is else.
    fn ended(&mut self) -> Result<()>;
}

struct InMemory<'a> {
    shown: &'a str,
    rest: &'a [u8],
}

impl Fields for InMemory<'_> {
    fn take<T: serde::de::DeserializeOwned>(&mut self) -> Result<T> {
        let (v, rest) = postcard::take_from_bytes(self.rest).map_err(|e| damaged(self.shown, e))?;
        self.rest = rest;
        Ok(v)
    }

    fn left(&self) -> usize {
        self.rest.len()
    }

    fn ended(&mut self) -> Result<()> {
        ended(self.shown, self.rest)
    }
}

/// A part's body decoded whole; one line naming `shown` for a cut or damaged one.
pub fn decoded<T: serde::de::DeserializeOwned>(shown: &str, body: &[u8]) -> Result<T> {
    let mut fields = InMemory { shown, rest: body };
    let v = fields.take()?;
    fields.ended()?;
    Ok(v)
}

/// An image part's body decoded field by field, its rows' vector sized once from
/// their count. serde sizes a vector of large elements for 1 MiB at first and
/// doubles it as it fills: the rows (1.3 kB each in memory) were copied twice over
/// into fresh pages, 6% of a four-part merge's CPU. The count is believed only as
/// far as the bytes left can hold rows of at least their 32×32 picture, so a damaged
/// count cannot reserve more than the file's size. A part whose samples another
/// record version described is refused in one line naming `shown`.
pub(super) fn decoded_part(shown: &str, fields: &mut impl Fields) -> Result<Dsp> {
    let header: Header = fields.take()?;
    let shard: String = fields.take()?;
    // A sequence's length is written as a usize's varint.
    let n: usize = fields.take()?;
    let room = fields.left() / crate::load::perceptual::SMALL_PIXELS;
    let mut rows = Vec::with_capacity(n.min(room));
    for _ in 0..n {
        rows.push(fields.take::<Row>()?);
    }
    fields.ended()?;
    if header.described_by != crate::cache::VERSION {
        bail!(
            "{shown}: its samples were described by record version {}; this dsaudit describes them as version {}",
            header.described_by,
            crate::cache::VERSION
        );
    }
    Ok(Dsp {
        header,
        shard,
        rows,
    })
}

pub(super) fn damaged(shown: &str, e: postcard::Error) -> anyhow::Error {
    match e {
        postcard::Error::DeserializeUnexpectedEnd => {
            anyhow::anyhow!("{shown}: damaged partial scan: cut short")
        }
        e => anyhow::anyhow!("{shown}: damaged partial scan: {e}"),
    }
}

pub(super) fn ended(shown: &str, rest: &[u8]) -> Result<()> {
    if !rest.is_empty() {
        bail!(
            "{shown}: damaged partial scan: {} bytes after its end",
            rest.len()
        );
    }
    Ok(())
}

/// What follows the header, if `bytes` have one (of any version).
pub fn body(bytes: &[u8]) -> Option<&[u8]> {
    stamp(bytes.strip_prefix(MAGIC)?).map(|(_, _, body)| body)
}

/// What follows the header, when this build wrote it; one line naming `shown` else.
pub fn checked_body<'a>(shown: &str, bytes: &'a [u8]) -> Result<&'a [u8]> {
    let Some(rest) = bytes.strip_prefix(MAGIC) else {
        bail!("{shown}: not a partial scan (.dsp files are written by dsaudit partial)");
    };
    let (format, theirs, body) = stamp(rest)
        .ok_or_else(|| anyhow::anyhow!("{shown}: cut short: the header is incomplete"))?;
    if format != FORMAT || theirs != version() {
        bail!(
            "{shown}: written by dsaudit {theirs} (.dsp format {format}); this is dsaudit {} (format {FORMAT}): run dsaudit partial again with this version",
            version()
        );
    }
    Ok(body)
}

/// `body` behind this build's header: the magic bytes, the format number and the
/// version.
pub fn stamped(body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(32 + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT.to_le_bytes());
    bytes.extend_from_slice(&(version().len() as u32).to_le_bytes());
    bytes.extend_from_slice(version().as_bytes());
    bytes.extend_from_slice(body);
    bytes
}

/// `stamped(kind + value's postcard encoding)`, the encoding written in place once
/// its size is known (a vector grown by doubling, then copied behind the stamp, held
/// about three times a part's size at its peak).
pub fn stamped_postcard<T: Serialize>(kind: &[u8], value: &T) -> Result<Vec<u8>> {
    let size = postcard::serialize_with_flavor(value, postcard::ser_flavors::Size::default())?;
    let mut bytes = stamped(kind);
    let head = bytes.len();
    bytes.resize(head + size, 0);
    postcard::to_slice(value, &mut bytes[head..])?;
    Ok(bytes)
}

/// The format number, the writer's version and the body after them.
fn stamp(rest: &[u8]) -> Option<(u32, String, &[u8])> {
    let format = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?);
    let len = u32::from_le_bytes(rest.get(4..8)?.try_into().ok()?) as usize;
    let version = rest.get(8..8usize.checked_add(len)?)?;
    let body = &rest[8 + len..];
    Some((format, String::from_utf8_lossy(version).into_owned(), body))
}
