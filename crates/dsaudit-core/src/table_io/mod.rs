//! Reading table files (CSV/TSV, Parquet, Arrow IPC/Feather, NDJSON) with polars,
//! whole or their head, with one-line errors that name the file and the problem.
//! Below the pipeline: discovery sniffs a labels table with it, the load reads
//! tables, the builds re-read them.

use crate::csv_dialect;
use crate::util::ext_of;
use anyhow::{bail, Result};
use polars::prelude::*;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

pub mod batched;
pub mod blocks;
mod vet_ipc;
mod vet_parquet;

/// The most decoded memory a Parquet or IPC file may declare (0: this machine's
/// memory plus swap).
static DECLARED_LIMIT: AtomicU64 = AtomicU64::new(0);

/// Lowers the limit below the machine's memory: the fuzzers run under libFuzzer's
/// 2 GB allocation limit, as on a machine of that size.
pub fn set_declared_limit(bytes: u64) {
    DECLARED_LIMIT.store(bytes, Ordering::Relaxed);
}

fn declared_limit() -> u64 {
    match DECLARED_LIMIT.load(Ordering::Relaxed) {
        0 => crate::alloc_guard::machine_bytes().unwrap_or(u64::MAX),
        n => n,
    }
}

/// Checks what a Parquet or Arrow IPC file declares (value counts, page and buffer
/// lengths, decoded size) against the file and the memory limit, as `read` does before
/// polars sees the file; other formats pass. The reason is one line.
pub fn vet(path: &Path) -> std::result::Result<(), String> {
    let (file, len) = crate::safe_read::open_limited(path, u64::MAX).map_err(|e| e.to_string())?;
    vet_file(&file, &ext_of(path), len, false)
}

/// A Parquet file's footer (schema, row groups, key-value metadata), decoded under
/// the same byte budget as `vet`: formats look at a file's columns without polars.
pub fn parquet_footer(path: &Path) -> Result<polars_parquet_format::FileMetaData> {
    let (file, len) = crate::safe_read::open_limited(path, u64::MAX)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut file = std::io::BufReader::new(file);
    vet_parquet::footer(&mut file, len).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// `each`: what a Parquet or IPC file declares is held to the limit one row group or
/// record batch at a time, for a reader that holds no more (`batched`).
fn vet_file(file: &File, ext: &str, len: u64, each: bool) -> std::result::Result<(), String> {
    let parquet = match ext {
        "parquet" | "pq" => true,
        "arrow" | "feather" | "ipc" => false,
        _ => return Ok(()),
    };
    // The checks decode the footer and page headers as the readers do, so a reader's
    // panic on the damaged file can come from here first.
    let result = crate::util::guarded(|| match parquet {
        true => vet_parquet::vet_groups(file, len, each),
        false => vet_ipc::vet_batches(file, len, each),
    })
    .unwrap_or_else(|panic| Err(format!("the reader failed on this file ({panic})")));
    use std::io::Seek;
    let mut f = file;
    f.rewind().map_err(|e| crate::util::io_problem(&e))?;
    result
}

/// A table file opened for a reader that takes it a block at a time: not empty, and
/// for Parquet and Arrow IPC what it declares checked one row group or batch at a time.
fn open_blockwise(path: &Path) -> Result<File> {
    let shown = path.display();
    let (file, len) = crate::safe_read::open_limited(path, u64::MAX)
        .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    if len == 0 {
        bail!("{shown}: empty file: no header and no rows");
    }
    if let Err(why) = vet_file(&file, &ext_of(path), len, true) {
        bail!("{shown}: cannot read table: {why}");
    }
    Ok(file)
}

/// A reader's answer as one line naming the file; a reader's panic on a damaged file
/// is that file's error, not the end of the run.
fn answer<T>(path: &Path, read: std::result::Result<PolarsResult<T>, String>) -> Result<T> {
    let shown = path.display();
    match read {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => bail!(
            "{shown}: cannot read table: {}",
            crate::util::one_line(&e.to_string())
        ),
        Err(panic) => bail!("{shown}: cannot read table: the reader failed on this file ({panic})"),
    }
}

pub fn name_of(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// The field separator of a CSV or TSV file, guessed from its first lines
/// (`csv_dialect::sniff`); None for other formats.
pub fn separator(path: &Path) -> Option<u8> {
    let ext = ext_of(path);
    if !matches!(ext.as_str(), "csv" | "tsv") {
        return None;
    }
    let head = head_of(path, csv_dialect::SNIFF_BYTES as u64).unwrap_or_default();
    Some(csv_dialect::sniff(&head, &ext))
}

/// The first `n` bytes of a regular file.
fn head_of(path: &Path, n: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let (file, _) = crate::safe_read::open_limited(path, u64::MAX)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut head = Vec::new();
    file.take(n).read_to_end(&mut head)?;
    Ok(head)
}

/// Reads a whole table, or its first `n_rows`.
pub fn read(path: &Path, n_rows: Option<usize>) -> Result<DataFrame> {
    let shown = path.display();
    let _reading = crate::alloc_guard::reading(path);
    // A table is streamed by its reader, so its size is not bounded here; its type is:
    // a FIFO or `/dev/zero` named `labels.csv` would never end.
    let (file, len) = crate::safe_read::open_limited(path, u64::MAX)
        .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    if len == 0 {
        bail!("{shown}: empty file: no header and no rows");
    }
    let ext = ext_of(path);
    let sep = checked_separator(path, &ext)?;
    let csv = |file: File, infer: Option<usize>| {
        csv_options(sep, n_rows, infer)
            .into_reader_with_file_handle(file)
            .finish()
    };
    // A reader's panic on a damaged file is that file's error, not the end of the run.
    if !matches!(
        ext.as_str(),
        "csv" | "tsv" | "parquet" | "pq" | "arrow" | "feather" | "ipc" | "ndjson" | "jsonl"
    ) {
        bail!("{shown}: unsupported table extension '.{ext}'");
    }
    if let Err(why) = vet_file(&file, &ext, len, false) {
        bail!("{shown}: cannot read table: {why}");
    }
    let guarded = crate::util::guarded(|| match ext.as_str() {
        // Types are inferred from the first 10,000 rows; a column whose type changes
        // later (ints, then a float) is re-read with inference over the whole file.
        "csv" | "tsv" => match csv(file, Some(10_000)) {
            Err(e) if e.to_string().contains("could not parse") => {
                crate::safe_read::open_limited(path, u64::MAX)
                    .map_err(|e| PolarsError::IO {
                        error: std::io::Error::other(e.to_string()).into(),
                        msg: None,
                    })
                    .and_then(|(f, _)| csv(f, None))
            }
            other => other,
        },
        "parquet" | "pq" => {
            let r = ParquetReader::new(file);
            match n_rows {
                Some(n) => r.with_slice(Some((0, n))).finish(),
                None => r.finish(),
            }
        }
        "arrow" | "feather" | "ipc" => IpcReader::new(file).with_n_rows(n_rows).finish(),
        _ => JsonReader::new(file)
            .with_json_format(JsonFormat::JsonLines)
            .infer_schema_len(std::num::NonZeroUsize::new(10_000))
            .finish()
            .map(|df| match n_rows {
                Some(n) => df.head(Some(n)),
                None => df,
            }),
    });
    let result = match guarded {
        Ok(r) => r,
        Err(panic) => bail!("{shown}: cannot read table: the reader failed on this file ({panic})"),
    };
    checked(path, &ext, sep, n_rows, result)
}

/// A delimited file's separator (sniffed), after checking that no two header names
/// are equal; `,` for other formats.
fn checked_separator(path: &Path, ext: &str) -> Result<u8> {
    if !matches!(ext, "csv" | "tsv") {
        return Ok(b',');
    }
    let head = head_of(path, csv_dialect::SNIFF_BYTES as u64)?;
    let sep = csv_dialect::sniff(&head, ext);
    if let Some((name, a, b)) = csv_dialect::duplicate_name(&csv_dialect::header(&head, sep)) {
        bail!(
            "{}: two columns are named '{}' (columns {a} and {b}); rename one: which is meant is ambiguous",
            path.display(),
            crate::util::printable(&name)
        );
    }
    Ok(sep)
}

/// The reader's result, as one line naming the file; a CSV row with more or fewer
/// fields than the header is an error, not missing values.
fn checked(
    path: &Path,
    ext: &str,
    sep: u8,
    n_rows: Option<usize>,
    result: PolarsResult<DataFrame>,
) -> Result<DataFrame> {
    let shown = path.display();
    match result {
        Ok(df) => {
            // polars reads a row with too few fields as nulls in the missing ones, which
            // would then pass as missing values; it is a broken row, as a long one is.
            let short_rows_possible = matches!(ext, "csv" | "tsv")
                && n_rows.is_none()
                && df.columns().last().is_some_and(|c| c.null_count() > 0);
            if short_rows_possible {
                if let Some(msg) = ragged_row(path, sep) {
                    bail!("{shown}: {msg}");
                }
            }
            Ok(df)
        }
        Err(e) => {
            if matches!(ext, "csv" | "tsv") {
                if let Some(msg) = ragged_row(path, sep) {
                    bail!("{shown}: {msg}");
                }
            }
            bail!(
                "{shown}: cannot read table: {}",
                crate::util::one_line(&e.to_string())
            )
        }
    }
}

/// How dsaudit reads a CSV or TSV separated by `sep`: a header line, types inferred
/// from the first `infer` rows (all when None).
fn csv_options(sep: u8, n_rows: Option<usize>, infer: Option<usize>) -> CsvReadOptions {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_n_rows(n_rows)
        .with_infer_schema_length(infer)
        .map_parse_options(|o| o.with_separator(sep))
}

/// Bytes of a CSV or TSV parsed by `read_head`.
const HEAD_BYTES: u64 = 1 << 20;

/// The first `n_rows` rows, for telling what a table holds. A CSV or TSV is parsed
/// from its first megabyte only: asked for 200 rows, polars still mapped and split
/// the whole file (0.1 s of every command on a 160 MB table). Anything unusual is
/// left to `read`, which also words the errors.
pub fn read_head(path: &Path, n_rows: usize) -> Result<DataFrame> {
    let ext = ext_of(path);
    if !matches!(ext.as_str(), "csv" | "tsv") {
        return read(path, Some(n_rows));
    }
    let head = match head_of(path, HEAD_BYTES) {
        Ok(h) if !h.is_empty() => h,
        _ => return read(path, Some(n_rows)),
    };
    let sep = csv_dialect::sniff(&head[..head.len().min(csv_dialect::SNIFF_BYTES)], &ext);
    if csv_dialect::duplicate_name(&csv_dialect::header(&head, sep)).is_some() {
        return read(path, Some(n_rows));
    }
    let mut head = head;
    if head.len() as u64 == HEAD_BYTES {
        // Whole lines only; one line longer than the head is read the long way.
        match memchr::memrchr(b'\n', &head) {
            Some(end) => head.truncate(end + 1),
            None => return read(path, Some(n_rows)),
        }
    }
    let parsed = crate::util::guarded(|| {
        csv_options(sep, Some(n_rows), Some(n_rows))
            .into_reader_with_file_handle(std::io::Cursor::new(head))
            .finish()
    });
    match parsed {
        Ok(Ok(df)) => Ok(df),
        _ => read(path, Some(n_rows)),
    }
}

/// Names the first line whose field count differs from the header's. Only run when
/// polars failed, or when the last column has nulls (a short row reads as nulls in
/// its missing fields), so the happy path reads the file once. Blank lines are left to
/// polars, which reads them as rows of nulls.
fn ragged_row(path: &Path, sep: u8) -> Option<String> {
    let (file, _) = crate::safe_read::open_limited(path, u64::MAX).ok()?;
    // Safety: only read; dsaudit never writes its input, and a file changed by another
    // program meanwhile can at worst give a wrong line number in this message.
    let text = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    ragged_text(&text, sep, 0)
}

/// `ragged_row` on text in memory whose first line is the header, for a block that
/// starts `shift` lines into the file after it.
fn ragged_text(text: &[u8], sep: u8, shift: usize) -> Option<String> {
    let mut expected = None;
    let mut in_quotes = false;
    let mut fields = 1usize;
    let mut line = 1usize;
    let mut empty = true;
    let mut check = |fields: usize, line: usize, empty: bool| -> Option<String> {
        if empty && fields == 1 {
            return None;
        }
        match expected {
            None => expected = Some(fields),
            Some(n) if n != fields => {
                let noun = if fields == 1 { "field" } else { "fields" };
                let line = if line > 1 { line + shift } else { line };
                return Some(format!(
                    "ragged rows: line {line} has {fields} {noun}, the header has {n}"
                ));
            }
            _ => {}
        }
        None
    };
    if memchr::memchr(b'"', text).is_none() {
        // No quoted field: every line break ends a row, and the separators of a line
        // are counted in one pass the compiler vectorises. A table whose last column
        // has missing values comes here on every scan: read into memory and walked
        // byte by byte, the 160 MB benchmark table (one value of its last column
        // blanked) loaded in 1.29–1.42 s, mapped and counted this way in 0.90–1.19 s.
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', text).chain(std::iter::once(text.len()));
        for (k, end) in ends.enumerate() {
            let row = &text[start.min(end)..end];
            let row = row.strip_suffix(b"\r").unwrap_or(row);
            let fields = 1 + row.iter().filter(|&&b| b == sep).count();
            if let Some(msg) = check(fields, k + 1, row.is_empty()) {
                return Some(msg);
            }
            start = end + 1;
        }
        return None;
    }
    for &b in text.iter() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b if b == sep && !in_quotes => fields += 1,
            b'\n' if !in_quotes => {
                if let Some(msg) = check(fields, line, empty) {
                    return Some(msg);
                }
                fields = 1;
                line += 1;
                empty = true;
                continue;
            }
            b'\r' => continue,
            _ => {}
        }
        empty = false;
    }
    // A last line without a line break.
    check(fields, line, empty)
}
