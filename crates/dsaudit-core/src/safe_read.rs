//! Opening and reading input files without hanging or running out of memory: the
//! path is `stat`ed before it is opened (a FIFO, a device or a socket is refused, not
//! opened: opening a FIFO blocks until a writer comes, and `/dev/zero` never ends),
//! the open itself cannot block, and every read stops at a size limit.
//!
//! Every reader of input data goes through here: sample files, tables, labels files,
//! `dsaudit.toml` and the check's cache records.

use std::fs::{File, FileType};
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The default `--max-file-size`: larger than any image a training set holds, smaller
/// than the memory a scan may take. A table is not a sample file and is not bounded
/// by it (tables are read by the table reader, which streams).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 512 << 20;

static MAX_FILE_SIZE: AtomicU64 = AtomicU64::new(DEFAULT_MAX_FILE_SIZE);

/// Sets the largest sample file dsaudit reads (`--max-file-size`), process-wide: it
/// bounds the memory of the whole run, as the decode budget does.
pub fn set_max_file_size(bytes: u64) {
    MAX_FILE_SIZE.store(bytes.max(1), Ordering::Relaxed);
}

pub fn max_file_size() -> u64 {
    MAX_FILE_SIZE.load(Ordering::Relaxed)
}

/// Why a file was not read.
#[derive(Debug)]
pub enum OpenError {
    Io(io::Error),
    /// Not a regular file: what it is instead.
    NotRegular(&'static str),
    /// Over the limit: its size when it was measured (None: it grew while read).
    TooLarge {
        size: Option<u64>,
        limit: u64,
    },
}

impl OpenError {
    pub fn is_missing(&self) -> bool {
        matches!(self, OpenError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Io(e) => f.write_str(&crate::util::io_problem(e)),
            OpenError::NotRegular(what) => write!(f, "not a regular file: {what}"),
            OpenError::TooLarge { size, limit } => write!(
                f,
                "{} is over the {} limit on one file (--max-file-size)",
                match size {
                    Some(n) => bytes_text(*n),
                    None => "the file grew while read and".into(),
                },
                bytes_text(*limit)
            ),
        }
    }
}

impl std::error::Error for OpenError {}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> OpenError {
        OpenError::Io(e)
    }
}

/// What a file that is not a regular file is, in words.
pub fn kind_of(ft: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// Opens `path` (through symbolic links) if it is a regular file of at most `limit`
/// bytes; returns it with its length.
pub fn open_limited(path: &Path, limit: u64) -> Result<(File, u64), OpenError> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(OpenError::NotRegular(kind_of(&meta.file_type())));
    }
    let file = open_nonblocking(path)?;
    // The path may have been swapped for a FIFO between the stat and the open: the
    // handle's own type decides.
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(OpenError::NotRegular(kind_of(&meta.file_type())));
    }
    if meta.len() > limit {
        return Err(OpenError::TooLarge {
            size: Some(meta.len()),
            limit,
        });
    }
    Ok((file, meta.len()))
}

/// `open_limited` at the `--max-file-size` limit.
pub fn open_regular(path: &Path) -> Result<(File, u64), OpenError> {
    open_limited(path, max_file_size())
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// Reads an opened file of length `len` whole, stopping at `limit` bytes: a file that
/// grew past the limit since it was measured is refused, not read on.
pub fn read_opened(file: File, len: u64, limit: u64) -> Result<Vec<u8>, OpenError> {
    let mut bytes = Vec::with_capacity(len.min(limit) as usize);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(OpenError::TooLarge { size: None, limit });
    }
    Ok(bytes)
}

/// The whole of a regular file of at most `limit` bytes.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, OpenError> {
    let (file, len) = open_limited(path, limit)?;
    read_opened(file, len, limit)
}

/// The whole of a regular file, at the `--max-file-size` limit.
pub fn read(path: &Path) -> Result<Vec<u8>, OpenError> {
    read_limited(path, max_file_size())
}

/// "512 MiB", "3.1 GiB", "12 bytes".
pub fn bytes_text(n: u64) -> String {
    const UNITS: &[(u64, &str)] = &[(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for &(size, unit) in UNITS {
        if n >= size {
            let v = n as f64 / size as f64;
            return if v.fract() == 0.0 {
                format!("{v:.0} {unit}")
            } else {
                format!("{v:.1} {unit}")
            };
        }
    }
    format!("{n} bytes")
}

/// Parses a size as people write it: `512MiB`, `2G`, `1.5 GiB`, `100000` (bytes).
/// K, M, G and T are powers of 1024 with or without `iB`; `kB`, `MB`, `GB` are powers
/// of 1000.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size (e.g. 512MiB, 2G, 100000)"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024f64.powi(2),
        "g" | "gib" => 1024f64.powi(3),
        "t" | "tib" => 1024f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        other => return Err(format!("'{s}': unknown unit '{other}' (use KiB, MiB, GiB)")),
    };
    let bytes = value * scale;
    if !(1.0..=u64::MAX as f64).contains(&bytes) {
        return Err(format!("'{s}': a size must be at least one byte"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_as_written() {
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("1.5 GiB").unwrap(), 3 << 29);
        assert_eq!(parse_size("100000").unwrap(), 100_000);
        assert_eq!(parse_size("1kB").unwrap(), 1000);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(bytes_text(512 << 20), "512 MiB");
        assert_eq!(bytes_text(3_328_599_654), "3.1 GiB");
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("pipe");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let e = read(&fifo).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file: a FIFO (named pipe)");
        let link = d.path().join("zero.png");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let e = read(&link).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file: a character device");
        assert!(read(d.path()).is_err());
    }

    #[test]
    fn reads_stop_at_the_limit() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("big.png");
        std::fs::write(&p, vec![7u8; 5000]).unwrap();
        assert_eq!(read_limited(&p, 5000).unwrap().len(), 5000);
        let e = read_limited(&p, 2048).unwrap_err();
        assert_eq!(
            e.to_string(),
            "4.9 KiB is over the 2 KiB limit on one file (--max-file-size)"
        );
        assert!(read_limited(&d.path().join("none"), 10)
            .unwrap_err()
            .is_missing());
    }
}
