//! CSV and TSV rows copied as the input's own bytes. Re-formatting a million parsed
//! rows through polars' writer took 2 s of a 4.5 s split; copying lines takes a tenth
//! of that, and the output then keeps every value exactly as the input wrote it
//! (digits, exponents, spacing), which a dataset's provenance should.
//!
//! Only plain files qualify: no quote character (a quoted field may hold a separator
//! or a line break), no carriage return, no blank line, and exactly as many lines as
//! the rows polars read, so that line k is row k. Anything else is written by polars.

use super::Samples;
use anyhow::{Context, Result};
use dsaudit_core::discover::ext_of;
use dsaudit_core::load::Writer;
use std::io::Write;
use std::path::Path;

pub struct Lines {
    /// The input files' bytes, whole, mapped rather than read: a copy of a 160 MB
    /// table was a tenth of a second spent zeroing and filling fresh memory.
    files: Vec<memmap2::Mmap>,
    /// The header to write (the split column left out).
    header: Vec<u8>,
    /// Each row's (file, start, end) in `files`, line break excluded, in row order.
    rows: Vec<(u32, u64, u64)>,
    /// The field left out of every line (the split column), by position.
    drop: Option<usize>,
    /// Whether that field is the last one: then it is cut from the end, with one
    /// `memrchr` rather than a `memchr` per field before it (twenty a line, which
    /// `perf` put at 3% of a split of the benchmark table).
    drop_last: bool,
    sep: u8,
}

/// The rows' lines when every input file is a plain CSV/TSV with the same header;
/// None otherwise.
pub fn index(s: &Samples) -> Result<Option<Lines>> {
    let Writer::Tables(files) = s.spec.layout.writer() else {
        return Ok(None);
    };
    let ext = files.first().map(|f| ext_of(&f.1)).unwrap_or_default();
    let sep = match ext.as_str() {
        "csv" => b',',
        "tsv" => b'\t',
        _ => return Ok(None),
    };
    if files.iter().any(|f| ext_of(&f.1) != ext) || s.loaded.tables.len() != files.len() {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(files.len());
    let mut rows = Vec::with_capacity(s.len());
    let mut header: Option<&[u8]> = None;
    for (_, path) in files {
        let (file, _) = dsaudit_core::safe_read::open_limited(path, u64::MAX)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        // Safety: the map is only read. A file changed by another program while it is
        // mapped could show the change, which the line count check below catches when
        // rows were added or removed; dsaudit itself never writes to its input.
        let data = unsafe { memmap2::Mmap::map(&file) }
            .with_context(|| format!("{}: cannot read", path.display()))?;
        if memchr::memchr2(b'"', b'\r', &data).is_some() {
            return Ok(None);
        }
        bytes.push(data);
    }
    for (k, data) in bytes.iter().enumerate() {
        let mut start = 0usize;
        let ends = memchr::memchr_iter(b'\n', data).chain(
            // A last line without a line break.
            (data.last() != Some(&b'\n') && !data.is_empty()).then_some(data.len()),
        );
        let first = rows.len();
        for (lines, end) in ends.enumerate() {
            let line = &data[start..end];
            if line.is_empty() {
                return Ok(None);
            }
            if lines == 0 {
                match header {
                    None => header = Some(line),
                    Some(h) if h == line => {}
                    Some(_) => return Ok(None),
                }
            } else {
                rows.push((k as u32, start as u64, end as u64));
            }
            start = end + 1;
        }
        if rows.len() - first != s.loaded.tables[k].height() {
            return Ok(None);
        }
    }
    let Some(header) = header else {
        return Ok(None);
    };
    if rows.len() != s.len() {
        return Ok(None);
    }
    let drop = match &s.loaded.split_column {
        Some(c) => match header.split(|&b| b == sep).position(|f| f == c.as_bytes()) {
            Some(k) => Some(k),
            None => return Ok(None),
        },
        None => None,
    };
    let mut out_header = Vec::new();
    push_line(&mut out_header, header, drop, sep);
    // Every line has the header's fields: polars refused longer rows and `read`
    // shorter ones, and quoted fields never come here.
    let fields = memchr::memchr_iter(sep, header).count() + 1;
    Ok(Some(Lines {
        header: out_header,
        files: bytes,
        rows,
        drop,
        drop_last: drop == Some(fields - 1),
        sep,
    }))
}

impl Lines {
    /// Writes the header and the input rows `src`, in order, to `path`.
    pub fn write(&self, src: impl Iterator<Item = usize>, path: &Path) -> Result<()> {
        let file = std::fs::File::create(path)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        w.write_all(&self.header)?;
        let mut line = Vec::new();
        for r in src {
            let (k, start, end) = self.rows[r];
            let bytes = &self.files[k as usize][start as usize..end as usize];
            if self.drop.is_none() {
                w.write_all(bytes)?;
                w.write_all(b"\n")?;
            } else if let (true, Some(cut)) = (self.drop_last, memchr::memrchr(self.sep, bytes)) {
                w.write_all(&bytes[..cut])?;
                w.write_all(b"\n")?;
            } else {
                line.clear();
                push_line(&mut line, bytes, self.drop, self.sep);
                w.write_all(&line)?;
            }
        }
        w.flush()?;
        Ok(())
    }
}

/// `line` with field `drop` left out, and a line break.
fn push_line(out: &mut Vec<u8>, line: &[u8], drop: Option<usize>, sep: u8) {
    let Some(drop) = drop else {
        out.extend_from_slice(line);
        out.push(b'\n');
        return;
    };
    let mut seps = memchr::memchr_iter(sep, line);
    let start = match drop {
        0 => Some(0),
        _ => seps.nth(drop - 1).map(|p| p + 1),
    };
    match (start, seps.next()) {
        // The field and the separator after it.
        (Some(start), Some(end)) => {
            out.extend_from_slice(&line[..start]);
            out.extend_from_slice(&line[end + 1..]);
        }
        // The last field and the separator before it.
        (Some(start), None) => out.extend_from_slice(&line[..start.saturating_sub(1)]),
        // A short line (the reader would have refused it): kept whole.
        (None, _) => out.extend_from_slice(line),
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::push_line;

    #[test]
    fn drops_one_field() {
        let mut out = Vec::new();
        push_line(&mut out, b"a,b,c", Some(1), b',');
        push_line(&mut out, b"a,b,c", Some(2), b',');
        push_line(&mut out, b"a,b,c", Some(0), b',');
        push_line(&mut out, b"a,,c", None, b',');
        push_line(&mut out, b"x", Some(0), b',');
        push_line(&mut out, b"a\tb", Some(1), b'\t');
        assert_eq!(out, b"a,c\na,b\nb,c\na,,c\n\na\n");
    }
}
