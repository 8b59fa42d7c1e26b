//! The per-file records of one dataset (looked up while loading, saved after) and
//! the dataset-wide stages' state; the load reads through them (`load::Recall`).

use super::fingerprint::{other_inputs, stamp_bytes};
use super::*;

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
    pub(super) rel: String,
    pub(super) stamp: Stamp,
    pub(super) info: Record,
}

/// The per-file records of one dataset: looked up while loading, saved after; and
/// the dataset-wide stages' state.
pub struct Files {
    pub(super) path: PathBuf,
    pub(super) state_path: PathBuf,
    pub(super) state: Option<DatasetState>,
    /// The write of this run's state, started as soon as the stages set it.
    pub(super) state_write: Mutex<Option<std::thread::JoinHandle<()>>>,
    pub(super) stamps: Stamps,
    /// Each input's identities as this run saw them (see `save_records`).
    pub(super) run_ids: Mutex<Option<RunIds>>,
    /// Sorted by `rel`.
    pub(super) by_path: Vec<Entry>,
    /// This run's records, in the order loading described the files (see `keep`).
    pub(super) kept: Mutex<Vec<Option<Box<Entry>>>>,
    pub(super) hits: AtomicU64,
    pub(super) rehashed: AtomicU64,
    pub(super) read: AtomicU64,
}

/// Per input of a run, in `inputs` order: its content identity (as
/// `content_fingerprint` hashes it) and its size and time (as `fingerprint_inputs`
/// does).
pub struct RunIds {
    /// The inputs after the walked files (see `inputs`).
    pub(super) others: Vec<PathBuf>,
    pub(super) contents: Vec<Vec<u8>>,
    pub(super) stamps: Vec<Vec<u8>>,
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
            (None, None) => crate::safe_read::open_regular(path)
                .ok()
                .and_then(|(f, _)| {
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
                match crate::safe_read::read(path) {
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
            Some(ErrorKind::Missing | ErrorKind::Unreadable | ErrorKind::Outside)
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
    pub fn save_records(&self, spec: &crate::load::DatasetSpec) {
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
    fn identities_seen(&self, spec: &crate::load::DatasetSpec, fresh: &[Box<Entry>]) -> RunIds {
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
    match crate::safe_read::read(path) {
        Ok(bytes) => blake3::hash(&bytes).as_bytes().to_vec(),
        Err(_) => b"unreadable".to_vec(),
    }
}

/// Records sorted by name: usually they are already (a stored file as written, this
/// run's in the walk's order), and then nothing is moved.
pub(super) fn sorted<E: std::borrow::Borrow<Entry>>(mut v: Vec<E>) -> Vec<E> {
    if !v.is_sorted_by(|a, b| a.borrow().rel <= b.borrow().rel) {
        v.sort_unstable_by(|a, b| a.borrow().rel.cmp(&b.borrow().rel));
    }
    v
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
