//! Writing outputs safely: never inside the dataset being read, and a file always via
//! a temporary file in the same directory and a rename, so a crash leaves no half
//! file (a device or a FIFO is written in place).

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The file every build writes; its presence marks a directory dsaudit may replace.
pub const BUILD_MARKER: &str = "build.json";
/// Every file a build writes besides the dataset itself.
pub const BUILD_RECORDS: &[&str] = &[
    "build.json",
    "manifest.parquet",
    "manifest.csv",
    "changes.csv",
    "weights.json",
];

/// The absolute path, resolved through symlinks as far as it exists.
pub fn absolute(p: &Path) -> PathBuf {
    // canonicalize needs the path to exist: resolve the nearest existing ancestor.
    let mut existing = p.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = if parent.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    parent.to_path_buf()
                };
            }
            _ => break,
        }
    }
    let mut abs = existing.canonicalize().unwrap_or(existing);
    for part in rest.into_iter().rev() {
        abs.push(part);
    }
    abs
}

/// The folder a dataset occupies, resolved: the folder given, or the folder of the
/// table or labels file given (its neighbours are the rest of the dataset: the other
/// splits' tables, the images a labels file lists).
pub fn dataset_root(input: &Path) -> PathBuf {
    let abs = absolute(input);
    if abs.is_dir() {
        return abs;
    }
    match abs.parent() {
        Some(p) => p.to_path_buf(),
        None => abs,
    }
}

/// Whether `path` lies inside the dataset `input` (or is it): the one test of "inside
/// the dataset" for every output of every command, the check's cache included.
pub fn inside_dataset(path: &Path, input: &Path) -> bool {
    absolute(path).starts_with(dataset_root(input))
}

/// Refuses an output path inside the dataset: dsaudit writes nothing there.
pub fn ensure_outside(output: &Path, dataset: &Path) -> Result<()> {
    if inside_dataset(output, dataset) {
        bail!(
            "{}: refusing to write inside the dataset being read ({}); choose an output path outside it",
            output.display(),
            dataset_root(dataset).display()
        );
    }
    Ok(())
}

/// Writes `path` through a temporary file and a rename, or in place when `path` is
/// something other than a file or a directory: a device (`-o /dev/null`), a FIFO,
/// `/dev/stdout`. A rename would put a regular file where the device was (run as
/// root, `-o /dev/null` replaced the system's /dev/null) or fail to make a temporary
/// file beside it; what such a target holds is a stream, with nothing to leave half
/// written.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("{}: cannot open for writing", path.display()))?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        w.flush()
            .with_context(|| format!("{}: cannot write", path.display()))?;
        return Ok(());
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        bail!("{}: output directory does not exist", dir.display());
    }
    let name = path
        .file_name()
        .context("output path has no file name")?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> Result<()> {
        let file =
            File::create(&tmp).with_context(|| format!("{}: cannot create", tmp.display()))?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        w.flush()?;
        w.get_ref().sync_all()?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path)
        .with_context(|| format!("{}: cannot rename into place", path.display()))?;
    Ok(())
}

pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |w| {
        w.write_all(bytes)?;
        Ok(())
    })
}
