//! Fingerprints of a check's inputs: names, sizes and times (compared first, without
//! reading a byte), then names and contents (when the times moved).

use super::*;

/// The files a dataset is read from, for the fingerprint of an unchanged re-check:
/// the walked files in the walk's order (by relative name), then the layout's other
/// inputs (labels file, tables, arrays) that the walk did not list.
pub fn inputs(spec: &crate::load::DatasetSpec) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = spec.walked.files.iter().map(|f| f.path.clone()).collect();
    out.extend(other_inputs(spec));
    out
}

/// The layout's inputs beyond the walked files, sorted.
pub(super) fn other_inputs(spec: &crate::load::DatasetSpec) -> Vec<PathBuf> {
    let mut out = spec.layout.inputs();
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
pub fn fingerprint_inputs(h: &mut blake3::Hasher, spec: &crate::load::DatasetSpec) -> Stamps {
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
    spec: &crate::load::DatasetSpec,
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

pub(super) fn stamp_bytes(stamp: Option<Stamp>) -> Vec<u8> {
    match stamp {
        Some(s) => [s.size.to_le_bytes().as_slice(), &s.mtime_ns.to_le_bytes()].concat(),
        None => b"missing".to_vec(),
    }
}

/// Feeds each input's name and content identity into `h` (see `Files::content_id`).
pub fn content_fingerprint(h: &mut blake3::Hasher, spec: &crate::load::DatasetSpec, files: &Files) {
    feed(h, spec, |p| {
        files.content_id(&crate::walk::rel_string(&spec.root, p).0, p)
    });
}

/// The dataset root, then each input's path and `id`, computed in parallel.
fn feed(
    h: &mut blake3::Hasher,
    spec: &crate::load::DatasetSpec,
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
    spec: &crate::load::DatasetSpec,
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
