//! The incremental cache of `dsaudit check`: what was learnt about each image file,
//! keyed by its path, size and modification time and then by its content hash, and
//! the whole output of an unchanged re-check.
//!
//! Where it lives: `--cache-dir`, else `.dsaudit_cache/` in the git repository above
//! the dataset, else `dsaudit/` in the user's cache directory; never inside a dataset
//! (see `cli::open_cache`). Its layout:
//! `CACHEDIR.TAG`, a `.gitignore` of `*`, and `v1/files/<dataset>.bin` and
//! `v1/state/<dataset>.bin` (one each per dataset root: the per-file records, and
//! what the dataset-wide stages keep, see `crate::incremental`) and
//! `v1/results/<command>.bin` (one per command line). Every file is
//! written to a temporary name and renamed, so concurrent runs each see a whole file;
//! the last writer wins. A file that does not decode, or of another version, is
//! reported and rebuilt.

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
const VERSION: u32 = 8;
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

    /// Reads a cache file; a missing file is None, a damaged one is reported and None.
    fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
        let bytes = std::fs::read(path).ok()?;
        // An older dsaudit's file is replaced quietly; a damaged one with a word.
        let decoded = match postcard::take_from_bytes::<u32>(&bytes) {
            Ok((VERSION, rest)) => postcard::from_bytes::<T>(rest),
            Ok(_) => return None,
            Err(e) => Err(e),
        };
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

/// Sizes and times taken by this run, by path.
pub type Stamps = HashMap<PathBuf, Option<Stamp>>;

/// Size and modification time: what is compared before any byte is read.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp {
    pub size: u64,
    pub mtime_ns: i128,
}

impl Stamp {
    pub fn of(path: &Path) -> Option<Stamp> {
        Stamp::from_metadata(&std::fs::metadata(path).ok()?)
    }

    pub fn from_metadata(m: &std::fs::Metadata) -> Option<Stamp> {
        let mtime = m.modified().ok()?;
        let ns = match mtime.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        };
        Some(Stamp {
            size: m.len(),
            mtime_ns: ns,
        })
    }
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub(crate) struct Entry {
    rel: String,
    stamp: Stamp,
    info: Record,
}

/// The per-file records of one dataset: looked up while loading, saved after; and
/// the dataset-wide stages' state.
pub struct Files {
    path: PathBuf,
    state_path: PathBuf,
    state: Option<DatasetState>,
    /// The write of this run's state, started as soon as the stages set it.
    state_write: Mutex<Option<std::thread::JoinHandle<()>>>,
    stamps: Stamps,
    /// Each input's identities as this run saw them (see `save_records`).
    run_ids: Mutex<Option<RunIds>>,
    /// Sorted by `rel`.
    by_path: Vec<Entry>,
    /// This run's records, in the order loading described the files (see `keep`).
    kept: Mutex<Vec<Option<Box<Entry>>>>,
    hits: AtomicU64,
    rehashed: AtomicU64,
    read: AtomicU64,
}

/// Per input of a run, in `inputs` order: its content identity (as
/// `content_fingerprint` hashes it) and its size and time (as `fingerprint_inputs`
/// does).
pub struct RunIds {
    /// The inputs after the walked files (see `inputs`).
    others: Vec<PathBuf>,
    contents: Vec<Vec<u8>>,
    stamps: Vec<Vec<u8>>,
}

impl Files {
    /// The description of `path` (relative name `rel`) from the cache when the file
    /// is unchanged: same size and time, or else same bytes (then read, not decoded).
    /// Computes it otherwise. Either way the result is returned with what to keep of
    /// it for the next run (hand those to `keep`). `compute` gets the file already
    /// opened when this run opened it to take its size and time (then no path is
    /// looked up twice).
    pub(crate) fn describe(
        &self,
        rel: &str,
        path: &Path,
        compute: &dyn Fn(Option<(std::fs::File, u64)>) -> ImageInfo,
    ) -> (ImageInfo, Option<Box<Entry>>) {
        // What this run keeps of the file for the next: nothing for a file that
        // vanished or could not be read (it is looked at again next time). Boxed, so
        // that the records are sorted and passed around as pointers.
        let old = self.lookup(rel);
        // Nothing recorded for the file and no size and time taken yet: it will be
        // read, so its size and time come from the open handle (one `stat` a file,
        // as a scan pays), taken before reading so that a write racing the read
        // makes the next run look again.
        let mut opened = None;
        let stamp = match (old, self.stamps.get(path)) {
            (_, Some(s)) => *s,
            (Some(_), None) => Stamp::of(path),
            (None, None) => std::fs::File::open(path).ok().and_then(|f| {
                let m = f.metadata().ok()?;
                let stamp = Stamp::from_metadata(&m);
                opened = Some((f, m.len()));
                stamp
            }),
        };
        let reused = match (stamp, old) {
            (Some(s), Some(e)) if e.stamp == s => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(e.info.to_info())
            }
            (Some(s), Some(e)) if e.stamp.size == s.size && e.info.file_blake3.is_some() => {
                // Touched or checked out again: the content hash decides.
                match std::fs::read(path) {
                    Ok(bytes) if Some(*blake3::hash(&bytes).as_bytes()) == e.info.file_blake3 => {
                        self.rehashed.fetch_add(1, Ordering::Relaxed);
                        Some(e.info.to_info())
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        let info = match reused {
            Some(i) => i,
            None => {
                self.read.fetch_add(1, Ordering::Relaxed);
                compute(opened)
            }
        };
        // A file that vanished or could not be read is looked at again next time;
        // a corrupt or truncated one stays what it was until it changes.
        let transient = matches!(
            info.error_kind,
            Some(ErrorKind::Missing | ErrorKind::Unreadable)
        );
        let kept = match (stamp, transient) {
            (Some(stamp), false) => Some(Box::new(Entry {
                rel: rel.to_string(),
                stamp,
                info: Record::of(&info),
            })),
            _ => None,
        };
        (info, kept)
    }

    /// This run's records, from `describe`, in the order the files were described.
    pub(crate) fn keep(&self, records: Vec<Option<Box<Entry>>>) {
        self.kept.lock().expect("cache lock").extend(records);
    }

    /// The BLAKE3 of a file's bytes: the stored one when size and time are
    /// unchanged, else computed.
    pub fn content_id(&self, rel: &str, path: &Path) -> Vec<u8> {
        let recorded = self
            .lookup(rel)
            .filter(|e| self.stamp(path) == Some(e.stamp));
        content_id_of(recorded, path)
    }

    /// (unchanged by size and time, unchanged by content, described anew).
    pub fn counts(&self) -> (u64, u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.rehashed.load(Ordering::Relaxed),
            self.read.load(Ordering::Relaxed),
        )
    }

    fn lookup(&self, rel: &str) -> Option<&Entry> {
        self.by_path
            .binary_search_by(|e| e.rel.as_str().cmp(rel))
            .ok()
            .map(|p| &self.by_path[p])
    }

    /// The size and time of a file: as this run first saw them, else from the disk.
    fn stamp(&self, path: &Path) -> Option<Stamp> {
        match self.stamps.get(path) {
            Some(s) => *s,
            None => Stamp::of(path),
        }
    }

    /// What the last check's dataset-wide stages kept.
    pub fn state(&self) -> Option<&DatasetState> {
        self.state.as_ref()
    }

    /// Starts writing what this run's stages keep, in the background: the write
    /// overlaps the rules and the report (see `finish`).
    pub fn set_state(&self, state: DatasetState) {
        let path = self.state_path.clone();
        let state = std::sync::Arc::new(state);
        let shared = state.clone();
        // Where no thread can be started, the state is written here and now.
        let write = match std::thread::Builder::new().spawn(move || Cache::write(&path, &*shared)) {
            Ok(w) => w,
            Err(_) => return Cache::write(&self.state_path, &*state),
        };
        if let Some(earlier) = self.state_write.lock().expect("cache lock").replace(write) {
            let _ = earlier.join();
        }
    }

    /// Writes this run's records in place of the stored ones (files gone are
    /// dropped), and takes each input's identities from them for the fingerprints
    /// (`run_fingerprints`). Called once loading is done, while the dataset-wide
    /// stages run, so that neither waits for the end of the run.
    pub fn save_records(&self, spec: &crate::discover::DatasetSpec) {
        let kept = std::mem::take(&mut *self.kept.lock().expect("cache lock"));
        // A labels file lists its files in its own order, not by name.
        let fresh = sorted(kept.into_iter().flatten().collect());
        let ids = self.identities_seen(spec, &fresh);
        *self.run_ids.lock().expect("cache lock") = Some(ids);
        // A box serialises as what it holds: read back as a `Vec<Entry>`.
        Cache::write(&self.path, &fresh);
    }

    /// Each input's content identity and size and time as this run read them: from
    /// its record when it has one (its size and time taken before its bytes were
    /// read, see `describe`), else from the disk.
    fn identities_seen(&self, spec: &crate::discover::DatasetSpec, fresh: &[Box<Entry>]) -> RunIds {
        let walked = &spec.walked.files;
        let others = other_inputs(spec);
        let n = walked.len() + others.len();
        let (mut contents, mut stamps) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut add = |recorded: Option<&Entry>, p: &Path| {
            let stamp = recorded.map(|e| e.stamp).or_else(|| self.stamp(p));
            contents.push(content_id_of(recorded, p));
            stamps.push(stamp_bytes(stamp));
        };
        // The records and the walked files are both sorted by relative name: one merge.
        let mut next = 0;
        for f in walked {
            while fresh.get(next).is_some_and(|e| e.rel < f.rel) {
                next += 1;
            }
            add(
                fresh.get(next).map(|e| &**e).filter(|e| e.rel == f.rel),
                &f.path,
            );
        }
        // A labels file, a table or an array is never described as an image: no record.
        for p in &others {
            add(None, p);
        }
        RunIds {
            others,
            contents,
            stamps,
        }
    }

    /// The inputs' identities as this run saw them, once `save_records` ran (None
    /// before).
    pub fn run_ids(&self) -> Option<RunIds> {
        self.run_ids.lock().expect("cache lock").take()
    }

    /// Waits for the state's write, if one was started.
    pub fn finish(mut self) {
        self.join_state_write();
    }

    fn join_state_write(&mut self) {
        if let Some(w) = self.state_write.get_mut().ok().and_then(|w| w.take()) {
            let _ = w.join();
        }
    }
}

impl Drop for Files {
    /// A run that stops early still leaves a whole state file, not a temporary one.
    fn drop(&mut self) {
        self.join_state_write();
    }
}

/// The content identity of a file this run read (`recorded`), else of its bytes now:
/// its BLAKE3, or a word where it cannot be read.
fn content_id_of(recorded: Option<&Entry>, path: &Path) -> Vec<u8> {
    if let Some(h) = recorded.and_then(|e| e.info.file_blake3) {
        return h.to_vec();
    }
    match std::fs::read(path) {
        Ok(bytes) => blake3::hash(&bytes).as_bytes().to_vec(),
        Err(_) => b"unreadable".to_vec(),
    }
}

/// Records sorted by name: usually they are already (a stored file as written, this
/// run's in the walk's order), and then nothing is moved.
fn sorted<E: std::borrow::Borrow<Entry>>(mut v: Vec<E>) -> Vec<E> {
    if !v.is_sorted_by(|a, b| a.borrow().rel <= b.borrow().rel) {
        v.sort_unstable_by(|a, b| a.borrow().rel.cmp(&b.borrow().rel));
    }
    v
}

/// `ImageInfo` as serde stores it: hashes as bytes, names as their index in `NAMES`,
/// the thumbnail and shape descriptor as byte strings (nothing allocated to decode).
#[derive(Serialize, Deserialize, Debug, Clone)]
struct Record {
    bytes: Option<u64>,
    // As byte strings: serde's arrays are 32 one-byte values to postcard.
    #[serde(with = "serde_bytes")]
    file_blake3: Option<[u8; 32]>,
    #[serde(with = "serde_bytes")]
    pixel_blake3: Option<[u8; 32]>,
    format: Option<u8>,
    ext_format: Option<u8>,
    width: Option<u32>,
    height: Option<u32>,
    channels: Option<u8>,
    bit_depth: Option<u8>,
    mode: Option<u8>,
    error_kind: Option<String>,
    error: Option<String>,
    pixels: Option<Pixels>,
    hashes: Option<Perceptual>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Perceptual {
    phash: u64,
    dhash: u64,
    aligned: u64,
    #[serde(with = "serde_bytes")]
    thumb: [u8; 64],
    #[serde(with = "serde_bytes")]
    small: [u8; SMALL_PIXELS],
    #[serde(with = "serde_bytes")]
    centred_thumb: [u8; 64],
    #[serde(with = "serde_bytes")]
    shape: [u8; SHAPE_DIMS],
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Pixels {
    mean: [f64; 3],
    std: [f64; 3],
    brightness: [f64; 3],
    contrast: f64,
    dynamic_range: f64,
    max_value: f64,
    entropy: f64,
    sharpness: Option<f64>,
}

/// Every name `ImageInfo` holds as a `&'static str`.
const NAMES: &[&str] = &[
    "png", "jpeg", "gif", "webp", "tiff", "bmp", "ico", "avif", "pnm", "tga", "dds", "hdr", "exr",
    "farbfeld", "qoi", "other", "L", "LA", "RGB", "RGBA",
];

fn code(s: Option<&str>) -> Option<u8> {
    s.map(|s| NAMES.iter().position(|n| *n == s).unwrap_or(15) as u8)
}

fn name(c: Option<u8>) -> Option<&'static str> {
    c.map(|c| NAMES.get(c as usize).copied().unwrap_or("other"))
}

impl Record {
    fn of(i: &ImageInfo) -> Record {
        Record {
            bytes: i.bytes,
            file_blake3: i.file_blake3.map(|h| *h.as_bytes()),
            pixel_blake3: i.pixel_blake3.map(|h| *h.as_bytes()),
            format: code(i.format),
            ext_format: code(i.ext_format),
            width: i.width,
            height: i.height,
            channels: i.channels,
            bit_depth: i.bit_depth,
            mode: code(i.mode),
            error_kind: i.error_kind.map(|k| k.as_str().to_string()),
            error: i.error.clone(),
            pixels: i.pixels.map(|p| Pixels {
                mean: p.mean,
                std: p.std,
                brightness: [p.brightness, p.brightness_p5, p.brightness_p99],
                contrast: p.contrast,
                dynamic_range: p.dynamic_range,
                max_value: p.max_value,
                entropy: p.entropy,
                sharpness: p.sharpness,
            }),
            hashes: i.hashes.map(|h| Perceptual {
                phash: h.phash,
                dhash: h.dhash,
                aligned: h.aligned,
                thumb: h.thumb,
                shape: h.shape,
                small: h.small,
                centred_thumb: h.centred_thumb,
            }),
        }
    }

    fn to_info(&self) -> ImageInfo {
        let hashes = self.hashes.as_ref().map(|h| Hashes {
            phash: h.phash,
            dhash: h.dhash,
            aligned: h.aligned,
            thumb: h.thumb,
            shape: h.shape,
            small: h.small,
            centred_thumb: h.centred_thumb,
        });
        ImageInfo {
            bytes: self.bytes,
            file_blake3: self.file_blake3.map(blake3::Hash::from_bytes),
            pixel_blake3: self.pixel_blake3.map(blake3::Hash::from_bytes),
            format: name(self.format),
            ext_format: name(self.ext_format),
            width: self.width,
            height: self.height,
            channels: self.channels,
            bit_depth: self.bit_depth,
            mode: name(self.mode),
            error_kind: self.error_kind.as_deref().and_then(|k| {
                [
                    ErrorKind::Empty,
                    ErrorKind::Truncated,
                    ErrorKind::Corrupt,
                    ErrorKind::Unsupported,
                ]
                .into_iter()
                .find(|e| e.as_str() == k)
            }),
            error: self.error.clone(),
            pixels: self.pixels.as_ref().map(|p| PixelStats {
                mean: p.mean,
                std: p.std,
                brightness: p.brightness[0],
                brightness_p5: p.brightness[1],
                brightness_p99: p.brightness[2],
                contrast: p.contrast,
                dynamic_range: p.dynamic_range,
                max_value: p.max_value,
                entropy: p.entropy,
                sharpness: p.sharpness,
            }),
            hashes,
        }
    }
}

/// The files a dataset is read from, for the fingerprint of an unchanged re-check:
/// the walked files in the walk's order (by relative name), then the layout's other
/// inputs (labels file, tables, arrays) that the walk did not list.
pub fn inputs(spec: &crate::discover::DatasetSpec) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = spec.walked.files.iter().map(|f| f.path.clone()).collect();
    out.extend(other_inputs(spec));
    out
}

/// The layout's inputs beyond the walked files, sorted.
fn other_inputs(spec: &crate::discover::DatasetSpec) -> Vec<PathBuf> {
    use crate::discover::Layout;
    let mut out = Vec::new();
    match &spec.layout {
        Layout::ImageFolder { .. } => {}
        Layout::ImageLabels { labels_file } => out.push(labels_file.clone()),
        Layout::Table { files } => out.extend(files.iter().map(|(_, f)| f.clone())),
        Layout::Npy { pairs } => {
            for p in pairs {
                out.push(p.x.clone());
                out.extend(p.y.clone());
            }
        }
    }
    out.sort();
    out.dedup();
    let walked = &spec.walked.files;
    out.retain(|p| {
        let rel = crate::walk::rel_string(&spec.root, p).0;
        !walked
            .binary_search_by(|f| f.rel.as_str().cmp(&rel))
            .is_ok_and(|i| walked[i].path == *p)
    });
    out
}

/// Feeds each input's name, size and time into `h`, in parallel over the files;
/// returns the sizes and times.
pub fn fingerprint_inputs(h: &mut blake3::Hasher, spec: &crate::discover::DatasetSpec) -> Stamps {
    let taken = Mutex::new(Vec::new());
    feed(h, spec, |p| {
        let stamp = Stamp::of(p);
        taken
            .lock()
            .expect("stamps lock")
            .push((p.to_path_buf(), stamp));
        stamp_bytes(stamp)
    });
    taken
        .into_inner()
        .expect("stamps lock")
        .into_iter()
        .collect()
}

/// After a run: `content_fingerprint` into `contents`, and into `names`, when given,
/// the same bytes as `fingerprint_inputs` (for a run that had nothing stored to
/// compare with), from the identities the run took while its stages ran (see
/// `Files::save_records`): a cold check stats nothing twice and reads no image again.
pub fn run_fingerprints(
    contents: &mut blake3::Hasher,
    names: Option<&mut blake3::Hasher>,
    spec: &crate::discover::DatasetSpec,
    ids: RunIds,
) {
    let paths = || {
        spec.walked
            .files
            .iter()
            .map(|f| f.path.as_path())
            .chain(ids.others.iter().map(|p| p.as_path()))
    };
    feed_ids(contents, spec, paths(), ids.contents);
    if let Some(h) = names {
        feed_ids(h, spec, paths(), ids.stamps);
    }
}

fn stamp_bytes(stamp: Option<Stamp>) -> Vec<u8> {
    match stamp {
        Some(s) => [s.size.to_le_bytes().as_slice(), &s.mtime_ns.to_le_bytes()].concat(),
        None => b"missing".to_vec(),
    }
}

/// Feeds each input's name and content identity into `h` (see `Files::content_id`).
pub fn content_fingerprint(
    h: &mut blake3::Hasher,
    spec: &crate::discover::DatasetSpec,
    files: &Files,
) {
    feed(h, spec, |p| {
        files.content_id(&crate::walk::rel_string(&spec.root, p).0, p)
    });
}

/// The dataset root, then each input's path and `id`, computed in parallel.
fn feed(
    h: &mut blake3::Hasher,
    spec: &crate::discover::DatasetSpec,
    id: impl Fn(&Path) -> Vec<u8> + Sync,
) {
    use rayon::prelude::*;
    let files = inputs(spec);
    let ids: Vec<Vec<u8>> = files.par_iter().map(|p| id(p)).collect();
    feed_ids(h, spec, files.iter().map(|p| p.as_path()), ids);
}

/// What `feed` hashes, with the ids already computed.
fn feed_ids<'a>(
    h: &mut blake3::Hasher,
    spec: &crate::discover::DatasetSpec,
    files: impl Iterator<Item = &'a Path>,
    ids: Vec<Vec<u8>>,
) {
    h.update(
        crate::output::absolute(&spec.root)
            .to_string_lossy()
            .as_bytes(),
    );
    h.update(&(ids.len() as u64).to_le_bytes());
    for (p, id) in files.zip(ids) {
        // Lengths first: an id is raw bytes, and no path runs into an id.
        let p = p.as_os_str().as_encoded_bytes();
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
        h.update(&(id.len() as u64).to_le_bytes());
        h.update(&id);
    }
}

impl crate::load::Recall for Files {
    fn describe(
        &self,
        rel: &str,
        path: &Path,
        compute: &dyn Fn(Option<(std::fs::File, u64)>) -> ImageInfo,
    ) -> (ImageInfo, crate::load::Kept) {
        let (info, kept) = Files::describe(self, rel, path, compute);
        let kept = kept.map(|e| e as Box<dyn std::any::Any + Send>);
        (info, crate::load::Kept(kept))
    }

    fn keep(&self, records: Vec<crate::load::Kept>) {
        // Only this implementation makes the records, so each is an entry.
        let entries = records
            .into_iter()
            .map(|k| k.0.and_then(|b| b.downcast::<Entry>().ok()))
            .collect();
        Files::keep(self, entries);
    }
}
