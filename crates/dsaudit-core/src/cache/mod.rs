//! The incremental cache of `dsaudit check`: what was learnt about each image file,
//! keyed by its path, size and modification time and then by its content hash, and
//! the whole output of an unchanged re-check.
//!
//! Where it lives: `--cache-dir`, else `.dsaudit_cache/` in the git repository above
//! the dataset, else `dsaudit/` in the user's cache directory; never inside a dataset
//! (see `locate`). Its layout:
//! `CACHEDIR.TAG`, a `.gitignore` of `*`, and `v1/files/<dataset>.bin` and
//! `v1/state/<dataset>.bin` (one each per dataset root: the per-file records, and
//! what the dataset-wide stages keep, see `crate::incremental`) and
//! `v1/results/<command>.bin` (one per command line). Every file is
//! written to a temporary name and renamed, so concurrent runs each see a whole file;
//! the last writer wins. A file that does not decode, or of another version, is
//! reported and rebuilt.

mod check;
mod files;
mod fingerprint;
mod location;
pub(crate) mod record;

pub use check::{Check, Lookup};
use files::{sorted, Entry};
pub use files::{Files, RunIds, Stamp, Stamps};
use fingerprint::stamp_bytes;
pub use fingerprint::{content_fingerprint, fingerprint_inputs, inputs, run_fingerprints};
pub use location::locate;
use record::Record;

use crate::incremental::DatasetState;
use crate::load::image::{ErrorKind, ImageInfo};
use crate::load::perceptual::{Hashes, SHAPE_DIMS, SMALL_PIXELS};
use crate::load::pixel_stats::PixelStats;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Bumped whenever what is stored, or how it is computed, changes.
pub(crate) const VERSION: u32 = 9;
const DIR_VERSION: &str = "v1";
pub const DEFAULT_DIR: &str = ".dsaudit_cache";

/// What tells this build of dsaudit from another: its version, and the size and
/// modification time of its executable. Stored results are keyed by it, so that a
/// rebuilt binary never prints an older build's output.
pub fn build_id() -> [u8; 16] {
    static ID: std::sync::OnceLock<[u8; 16]> = std::sync::OnceLock::new();
    *ID.get_or_init(|| {
        let mut h = blake3::Hasher::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        if let Some(stamp) = std::env::current_exe().ok().and_then(|e| Stamp::of(&e)) {
            h.update(&stamp_bytes(Some(stamp)));
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&h.finalize().as_bytes()[..16]);
        id
    })
}

/// A cache directory that exists and takes writes.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// Opens (creating) the cache directory; None, with a warning on stderr, when it
    /// cannot be written: the check then runs without a cache.
    pub fn open(dir: &Path) -> Option<Cache> {
        let setup = || -> std::io::Result<()> {
            std::fs::create_dir_all(dir.join(DIR_VERSION).join("files"))?;
            std::fs::create_dir_all(dir.join(DIR_VERSION).join("results"))?;
            std::fs::create_dir_all(dir.join(DIR_VERSION).join("state"))?;
            let tag = dir.join("CACHEDIR.TAG");
            if !tag.exists() {
                std::fs::write(
                    &tag,
                    "Signature: 8a477f597d28d172789f06886806bc55\n# dsaudit's cache: safe to delete.\n",
                )?;
            }
            let ignore = dir.join(".gitignore");
            if !ignore.exists() {
                std::fs::write(&ignore, "# Created by dsaudit.\n*\n")?;
            }
            // create_dir_all succeeds on a read-only existing tree: probe a write.
            let probe = dir
                .join(DIR_VERSION)
                .join(format!(".probe.{}", std::process::id()));
            std::fs::write(&probe, b"")?;
            std::fs::remove_file(&probe)
        };
        match setup() {
            Ok(()) => Some(Cache {
                dir: dir.to_path_buf(),
            }),
            Err(e) => {
                eprintln!(
                    "warning: {}: cache directory not writable ({}); running without the cache",
                    dir.display(),
                    crate::util::io_problem(&e)
                );
                None
            }
        }
    }

    fn entry(&self, kind: &str, key: &[u8]) -> PathBuf {
        let name = blake3::hash(key).to_hex();
        self.dir
            .join(DIR_VERSION)
            .join(kind)
            .join(format!("{}.bin", &name[..32]))
    }

    /// Decodes the bytes of every kind of cache file (the fuzzers' entry point: a
    /// damaged file must decode to None, never panic).
    pub fn decode_any(bytes: &[u8]) {
        let _ = Cache::decode::<Vec<Entry>>(bytes);
        let _ = Cache::decode::<DatasetState>(bytes);
        let _ = Cache::decode::<StoredResult>(bytes);
    }

    fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Option<Result<T, postcard::Error>> {
        match postcard::take_from_bytes::<u32>(bytes) {
            Ok((VERSION, rest)) => Some(postcard::from_bytes::<T>(rest)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        }
    }

    /// Reads a cache file; a missing file is None, a damaged one is reported and None.
    fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
        // dsaudit's own file, of any size, but never a FIFO someone put there.
        let bytes = crate::safe_read::read_limited(path, u64::MAX).ok()?;
        // An older dsaudit's file is replaced quietly; a damaged one with a word.
        let decoded = Cache::decode::<T>(&bytes)?;
        match decoded {
            Ok(value) => Some(value),
            Err(e) => {
                eprintln!(
                    "warning: {}: cache file is corrupt ({e}); rebuilding it",
                    path.display()
                );
                None
            }
        }
    }

    fn write<T: Serialize>(path: &Path, value: &T) {
        // A unique temporary name per writer, then an atomic rename.
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let tmp = path.with_extension(format!(
            "{}.{}.tmp",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        // Streamed into the file: no serialised copy of 36 MB of records in memory.
        let ok = std::fs::File::create(&tmp)
            .and_then(|f| {
                let w = std::io::BufWriter::with_capacity(1 << 20, f);
                postcard::to_io(&(VERSION, value), w)
                    .map_err(std::io::Error::other)?
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .map(drop)
            })
            .and_then(|_| std::fs::rename(&tmp, path));
        if let Err(e) = ok {
            let _ = std::fs::remove_file(&tmp);
            eprintln!(
                "warning: {}: cannot update the cache ({})",
                path.display(),
                crate::util::io_problem(&e)
            );
        }
    }

    /// The per-file records of one dataset root; `stamps`: sizes and times this run
    /// already took.
    pub fn files(&self, dataset_root: &Path, stamps: Stamps) -> Files {
        let abs = crate::output::absolute(dataset_root);
        let path = self.entry("files", abs.to_string_lossy().as_bytes());
        let state_path = self.entry("state", abs.to_string_lossy().as_bytes());
        let (old, state) = rayon::join(
            || Cache::read::<Vec<Entry>>(&path).unwrap_or_default(),
            || Cache::read::<DatasetState>(&state_path),
        );
        Files {
            path,
            state_path,
            state,
            state_write: Mutex::new(None),
            stamps,
            run_ids: Mutex::new(None),
            by_path: sorted(old),
            kept: Mutex::new(Vec::new()),
            hits: AtomicU64::new(0),
            rehashed: AtomicU64::new(0),
            read: AtomicU64::new(0),
        }
    }

    /// The last stored output of a command line.
    pub fn result(&self, command: &[u8]) -> Option<StoredResult> {
        Cache::read(&self.entry("results", command))
    }

    pub fn store_result(&self, command: &[u8], result: &StoredResult) {
        Cache::write(&self.entry("results", command), result);
    }
}

/// What a re-check with the same fingerprint prints, and its exit code.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct StoredResult {
    /// Of the inputs' names, sizes and times: compared first, without reading a byte.
    pub fingerprint: [u8; 32],
    /// Of the inputs' names and contents: compared when the times moved (a checkout
    /// or a rebase touches files without changing them).
    pub content: [u8; 32],
    pub exit: i32,
    pub output: String,
}
