//! Checks the sizes a Parquet file declares against the file itself and the memory
//! limit before polars reads it.
//!
//! polars-parquet allocates from counts it reads from the file without a check: a
//! page whose value count is negative becomes a 2^61-byte validity bitmap, a row
//! group of 10^10 rows a 55 GB buffer (`fuzz/regressions/parquet/*-alloc`). Such an
//! allocation cannot be caught (an allocator must not unwind): it ends the process, or
//! the notebook's kernel when it comes through the Python package. So every count
//! and length the reader will trust is read here first, by the same footer decoder
//! and the same page-header thrift decoder, and refused with a one-line reason when it
//! points outside the file, is negative, or adds up to more memory than the limit.

use super::declared_limit;
use polars_parquet_format::thrift::protocol::TCompactInputProtocol;
use polars_parquet_format::{
    ColumnMetaData, FieldRepetitionType, FileMetaData, PageHeader, PageType, SchemaElement, Type,
};
use std::io::{BufReader, Read, Seek, SeekFrom};

/// A page header is a few hundred bytes; its optional statistics are what can grow.
const MAX_HEADER_BYTES: usize = 16 << 20;

/// Schemas nest a few levels; a deeper one is a damaged file (and would take the
/// stack).
const MAX_DEPTH: usize = 64;

/// Ok when every declared count and length is consistent with the file and the
/// declared decoded size fits the limit (`each`: one row group at a time, for a reader
/// that holds one at a time); otherwise why not, in words.
pub fn vet_groups<R: Read + Seek>(file: R, len: u64, each: bool) -> Result<(), String> {
    let mut file = BufReader::new(file);
    let meta = footer(&mut file, len)?;
    let nested = leaves(&meta.schema)?;
    let limit = declared_limit();
    let mut decoded: u128 = 0;
    for (g, group) in meta.row_groups.iter().enumerate() {
        if group.num_rows < 0 || group.columns.len() != nested.len() {
            return Err(format!(
                "row group {g}: {} rows and {} columns, for a schema of {} columns",
                group.num_rows,
                group.columns.len(),
                nested.len()
            ));
        }
        let rows = group.num_rows as u128;
        // Rows are sized for even when no column declares a value.
        decoded += rows;
        for (chunk, &nested) in group.columns.iter().zip(&nested) {
            let Some(chunk) = &chunk.meta_data else {
                return Err(format!("row group {g}: a column without its metadata"));
            };
            let name = chunk.path_in_schema.join(".");
            let at = |why: String| format!("row group {g}, column '{name}': {why}");
            let values = chunk_values(chunk, rows, nested).map_err(at)?;
            // An empty chunk has no pages to read (writers give it offset 0).
            if values == 0 && (0..=len as i64).contains(&chunk.total_compressed_size) {
                continue;
            }
            let (start, end) = chunk_bytes(chunk, len).map_err(at)?;
            let pages = walk_pages(&mut file, start, end, values, limit).map_err(at)?;
            decoded += values * width(chunk.type_) + pages;
        }
        if decoded > limit as u128 {
            return Err(too_large(decoded, limit));
        }
        if each {
            decoded = 0;
        }
    }
    Ok(())
}

/// The footer, decoded by the format's own thrift decoder under a byte budget: a list
/// may not declare more elements than the footer has bytes (polars' decoder reserves
/// whatever count it reads: 55 GB in `fuzz/regressions/parquet/3ae8b7f82284-alloc`).
pub(super) fn footer<R: Read + Seek>(file: &mut R, len: u64) -> Result<FileMetaData, String> {
    if len < 12 {
        return Err(format!("{len} bytes: too short for a Parquet file"));
    }
    let mut tail = [0u8; 8];
    file.seek(SeekFrom::Start(len - 8))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(|e| format!("cannot read the footer: {e}"))?;
    let size = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]) as u64;
    if &tail[4..] != b"PAR1" || size + 12 > len {
        return Err(format!(
            "not a Parquet footer (metadata of {size} bytes in a file of {len})"
        ));
    }
    let mut bytes = vec![0u8; size as usize];
    file.seek(SeekFrom::Start(len - 8 - size))
        .and_then(|_| file.read_exact(&mut bytes))
        .map_err(|e| format!("cannot read the footer: {e}"))?;
    let budget = 8 * bytes.len() + 4096;
    let mut prot = TCompactInputProtocol::new(bytes.as_slice(), budget);
    FileMetaData::read_from_in_protocol(&mut prot).map_err(|e| format!("parquet footer: {e}"))
}

/// Whether each leaf column (in the order of the row groups' columns) sits under a
/// repeated field: such a column may hold more values than rows.
fn leaves(schema: &[SchemaElement]) -> Result<Vec<bool>, String> {
    fn walk(
        schema: &[SchemaElement],
        i: usize,
        repeated: bool,
        depth: usize,
        out: &mut Vec<bool>,
    ) -> Result<usize, String> {
        let e = schema
            .get(i)
            .ok_or("the schema names more children than it holds")?;
        if depth > MAX_DEPTH {
            return Err(format!("the schema nests deeper than {MAX_DEPTH} levels"));
        }
        let repeated = repeated || e.repetition_type == Some(FieldRepetitionType::REPEATED);
        match e.num_children {
            Some(n) if n > 0 => {
                let mut next = i + 1;
                for _ in 0..n {
                    next = walk(schema, next, repeated, depth + 1, out)?;
                }
                Ok(next)
            }
            _ => {
                out.push(repeated);
                Ok(i + 1)
            }
        }
    }
    let mut out = Vec::new();
    let root = schema.first().ok_or("an empty schema")?;
    let mut next = 1;
    for _ in 0..root.num_children.unwrap_or(0).max(0) {
        next = walk(schema, next, false, 1, &mut out)?;
    }
    Ok(out)
}

pub(super) fn too_large(decoded: u128, limit: u64) -> String {
    format!(
        "the file declares about {} of decoded data, more than the {} this machine can hold (damaged, or too large to read here)",
        crate::safe_read::bytes_text(decoded.min(u64::MAX as u128) as u64),
        crate::safe_read::bytes_text(limit)
    )
}

/// The chunk's value count: not negative, and for a column that is not nested (no
/// repetition) no more than the row group's rows, as every writer makes it.
fn chunk_values(chunk: &ColumnMetaData, rows: u128, nested: bool) -> Result<u128, String> {
    let values = chunk.num_values;
    if values < 0 {
        return Err(format!("negative value count {values}"));
    }
    if !nested && values as u128 > rows {
        return Err(format!(
            "{values} values declared in a row group of {rows} rows"
        ));
    }
    Ok(values as u128)
}

/// The chunk's byte range, inside the file between its two magic numbers.
fn chunk_bytes(chunk: &ColumnMetaData, len: u64) -> Result<(u64, u64), String> {
    let size = chunk.total_compressed_size;
    let first = match chunk.dictionary_page_offset {
        Some(d) if d > 0 => d.min(chunk.data_page_offset),
        _ => chunk.data_page_offset,
    };
    if size < 0 || first < 4 {
        return Err(format!("bytes {first}+{size} lie outside the file"));
    }
    let end = (first as u64).checked_add(size as u64);
    match end {
        Some(end) if end <= len.saturating_sub(8) => Ok((first as u64, end)),
        _ => Err(format!(
            "bytes {first}+{size} lie outside the file of {len} bytes"
        )),
    }
}

/// Bytes one decoded value takes in memory (views and offsets for byte arrays; their
/// payload is counted by the pages' uncompressed sizes).
fn width(t: Type) -> u128 {
    match t {
        Type::BOOLEAN => 1,
        Type::INT32 | Type::FLOAT => 4,
        Type::INT64 | Type::DOUBLE => 8,
        Type::INT96 => 12,
        _ => 16,
    }
}

/// Reads every page header of one chunk and checks its counts; returns the pages'
/// uncompressed bytes together.
fn walk_pages<R: Read + Seek>(
    file: &mut R,
    start: u64,
    end: u64,
    values: u128,
    limit: u64,
) -> Result<u128, String> {
    let mut at = start;
    let mut seen: u128 = 0;
    let mut bytes: u128 = 0;
    while at < end && seen < values.max(1) {
        file.seek(SeekFrom::Start(at))
            .map_err(|e| format!("cannot seek to byte {at}: {e}"))?;
        let mut counted = Counted {
            inner: &mut *file,
            n: 0,
        };
        let header = {
            let mut prot = TCompactInputProtocol::new(&mut counted, MAX_HEADER_BYTES);
            PageHeader::read_from_in_protocol(&mut prot)
                .map_err(|e| format!("page header at byte {at}: {e}"))?
        };
        let page = page_sizes(&header, values).map_err(|e| format!("page at byte {at}: {e}"))?;
        seen += page.values;
        bytes += page.uncompressed;
        if page.uncompressed > limit as u128 {
            return Err(too_large(page.uncompressed, limit));
        }
        at += counted.n + page.compressed;
        if at > end {
            return Err(format!(
                "a page at byte {} runs past its column's end ({end})",
                at - page.compressed - counted.n
            ));
        }
    }
    Ok(bytes)
}

struct Page {
    values: u128,
    compressed: u64,
    uncompressed: u128,
}

/// One page header's sizes and counts, each checked for sign and against the chunk.
fn page_sizes(h: &PageHeader, chunk_values: u128) -> Result<Page, String> {
    if h.compressed_page_size < 0 || h.uncompressed_page_size < 0 {
        return Err(format!(
            "negative size (compressed {}, uncompressed {})",
            h.compressed_page_size, h.uncompressed_page_size
        ));
    }
    let counts: Vec<(&str, i32)> = match h.type_ {
        PageType::DATA_PAGE => match &h.data_page_header {
            Some(d) => vec![("value count", d.num_values)],
            None => return Err("a data page without its header".into()),
        },
        PageType::DATA_PAGE_V2 => match &h.data_page_header_v2 {
            Some(d) => vec![
                ("value count", d.num_values),
                ("null count", d.num_nulls),
                ("row count", d.num_rows),
                ("definition levels length", d.definition_levels_byte_length),
                ("repetition levels length", d.repetition_levels_byte_length),
            ],
            None => return Err("a v2 data page without its header".into()),
        },
        PageType::DICTIONARY_PAGE => match &h.dictionary_page_header {
            Some(d) => vec![("dictionary size", d.num_values)],
            None => return Err("a dictionary page without its header".into()),
        },
        _ => vec![],
    };
    if let Some((what, n)) = counts.iter().find(|(_, n)| *n < 0) {
        return Err(format!("negative {what} {n}"));
    }
    if let Some(v2) = &h.data_page_header_v2 {
        let levels =
            v2.definition_levels_byte_length as i64 + v2.repetition_levels_byte_length as i64;
        if v2.num_nulls > v2.num_values || levels > h.compressed_page_size as i64 {
            return Err(format!(
                "{} nulls of {} values, {levels} bytes of levels in a page of {}",
                v2.num_nulls, v2.num_values, h.compressed_page_size
            ));
        }
    }
    let values = match h.type_ {
        PageType::DATA_PAGE | PageType::DATA_PAGE_V2 => counts[0].1 as u128,
        _ => 0,
    };
    if values > chunk_values {
        return Err(format!(
            "{values} values in a column chunk of {chunk_values}"
        ));
    }
    // A dictionary's entries are decoded too; each takes at least a view.
    let entries = match h.type_ {
        PageType::DICTIONARY_PAGE => counts[0].1 as u128 * 16,
        _ => 0,
    };
    Ok(Page {
        values,
        compressed: h.compressed_page_size as u64,
        uncompressed: h.uncompressed_page_size as u128 + entries,
    })
}

/// Counts the bytes the thrift decoder takes, to find where the page's data starts.
struct Counted<'a, R> {
    inner: &'a mut R,
    n: u64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}
