//! A scan in parts: `partial` describes one shard of a dataset's samples (the decode,
//! the hashes, the statistics: nearly all of a scan's time on images) into a `.dsp`
//! file; `merge` puts the parts together again and hands the samples to the same
//! analysis and rules as `dsaudit scan`, so the report is the scan's.
//!
//! Which sample a shard holds is decided by a hash of its path alone, so every part
//! can be made on another machine without any of them listing what the others hold;
//! every part records how many samples the whole listing has and a fingerprint of it,
//! so the merge knows when one is missing, when two overlap, and when the dataset
//! changed between the parts. Layouts whose samples are one image file each
//! (`Layout::shardable`) can be split so far.

mod decimal_columns;
pub mod dsp;
pub mod dsp_file;
pub mod join;
mod merge;
pub mod plan;
pub mod reference;
pub mod rows;
pub mod table;
pub mod table_file;

use crate::cache::record::Record;
use crate::load::image::{ErrorKind, ImageInfo};
use crate::load::image_folder::Job;
use crate::load::{self, Hints, Kept, Recall};
use anyhow::{bail, Result};
pub use dsp::Dsp;
pub use merge::{merge, Merged};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Which samples a partial scan describes.
pub enum Shard {
    /// Part `k` of `n` (1-based), by a hash of each sample's path.
    Part { k: u64, n: u64 },
    /// The samples whose paths (relative, as the report names them) a file lists.
    Files {
        list: PathBuf,
        sources: HashSet<String>,
    },
}

impl Shard {
    /// `K/N`, with 1 ≤ K ≤ N.
    pub fn parse(s: &str) -> Result<Shard> {
        let parsed = s.split_once('/').and_then(|(k, n)| {
            Some((k.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?))
        });
        match parsed {
            Some((k, n)) if (1..=n).contains(&k) => Ok(Shard::Part { k, n }),
            _ => bail!("--shard '{s}': expected K/N with 1 <= K <= N, e.g. 2/4"),
        }
    }

    /// The paths listed in `list`, one per line (blank lines and `#` comments skipped).
    pub fn files(list: &Path) -> Result<Shard> {
        let text = match crate::safe_read::read(list).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => bail!("{}: not UTF-8 text", list.display()),
            Err(e) => bail!("{}: {e}", list.display()),
        };
        let sources = text
            .lines()
            .map(|l| l.trim().trim_start_matches("./"))
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect();
        Ok(Shard::Files {
            list: list.to_path_buf(),
            sources,
        })
    }

    pub fn holds(&self, source: &str) -> bool {
        match self {
            Shard::Part { k, n } => bucket(source, *n) == k - 1,
            Shard::Files { sources, .. } => sources.contains(source),
        }
    }

    fn describe(&self) -> String {
        match self {
            Shard::Part { k, n } => format!("{k}/{n}"),
            Shard::Files { list, .. } => format!("files listed in {}", list.display()),
        }
    }
}

/// The part (0-based) of `n` a sample's path falls in: its BLAKE3, not its place in
/// the listing, so that a part needs nobody else's listing.
fn bucket(source: &str, n: u64) -> u64 {
    let h = blake3::hash(source.as_bytes());
    u64::from_le_bytes(h.as_bytes()[..8].try_into().unwrap()) % n
}

/// The listing a partial scan saw: how many samples the layout lists, its
/// fingerprint, and the places of the samples the shard holds.
#[derive(Default)]
struct Listing {
    total: u64,
    fingerprint: [u8; 32],
    kept: Vec<u64>,
    /// Every path listed, for `--files` to check its list against.
    sources: HashSet<String>,
}

/// Which of the samples the load lists it describes.
enum Choosing<'a> {
    /// One shard's (recording the listing).
    Shard(&'a Shard),
    /// Every one (a plan's section, chosen when the plan was written).
    All,
    /// None: the listing is recorded, every sample as a plan stores it.
    Plan,
}

/// A part's load: it chooses the shard's samples from the listing (recording the
/// listing), every sample of a plan's section, or none while a plan is written, and
/// describes those it chose as the scan would.
struct ShardRecall<'a> {
    choosing: Choosing<'a>,
    listing: Mutex<Listing>,
    /// With `Choosing::Plan`: every sample the layout listed, in order.
    planned: Mutex<Vec<plan::Planned>>,
    /// Each described sample's record, boxed, handed back by the load in the order
    /// of its samples (`Recall::keep`): by place, not by name, so two files whose
    /// names read alike once made UTF-8 keep their own descriptions.
    records: Mutex<Vec<Kept>>,
}

impl<'a> ShardRecall<'a> {
    fn new(choosing: Choosing<'a>) -> ShardRecall<'a> {
        ShardRecall {
            choosing,
            listing: Mutex::new(Listing::default()),
            planned: Mutex::new(Vec::new()),
            records: Mutex::new(Vec::new()),
        }
    }
}

impl Recall for ShardRecall<'_> {
    fn describe(
        &self,
        _rel: &str,
        _path: &Path,
        compute: &dyn Fn(Option<(std::fs::File, u64)>) -> ImageInfo,
    ) -> (ImageInfo, Kept) {
        let info = compute(None);
        let record = Box::new(Record::of(&info));
        (listed_only(info), Kept(Some(record)))
    }

    fn keep(&self, records: Vec<Kept>) {
        *self.records.lock().unwrap_or_else(|p| p.into_inner()) = records;
    }

    fn choose(&self, jobs: &[Job<'_>]) -> Option<Vec<bool>> {
        let shard = match self.choosing {
            Choosing::All => return None,
            Choosing::Shard(shard) => Some(shard),
            Choosing::Plan => None,
        };
        let mut listing = Listing {
            total: jobs.len() as u64,
            fingerprint: fingerprint(jobs),
            ..Default::default()
        };
        let Some(shard) = shard else {
            *self.planned.lock().unwrap_or_else(|p| p.into_inner()) =
                jobs.iter().enumerate().map(plan::planned).collect();
            *self.listing.lock().unwrap_or_else(|p| p.into_inner()) = listing;
            return Some(vec![false; jobs.len()]);
        };
        let mut keep = Vec::with_capacity(jobs.len());
        for (i, j) in jobs.iter().enumerate() {
            let held = shard.holds(&j.source);
            if held {
                listing.kept.push(i as u64);
            }
            if matches!(shard, Shard::Files { .. }) {
                listing.sources.insert(j.source.clone());
            }
            keep.push(held);
        }
        *self.listing.lock().unwrap_or_else(|p| p.into_inner()) = listing;
        Some(keep)
    }
}

/// BLAKE3 of every sample's listing entry (source, split, label, labels-file row),
/// in order. The bytes are gathered, then hashed at once: ten small updates a
/// sample kept BLAKE3 to one 64-byte block at a time (its SIMD paths hash many 1 KiB
/// chunks side by side). The same bytes, so the same hash.
fn fingerprint(jobs: &[Job<'_>]) -> [u8; 32] {
    let mut listed = Vec::with_capacity(jobs.len() * 64);
    for j in jobs {
        for part in [
            Some(j.source.as_str()),
            j.split.as_deref(),
            j.label.as_deref(),
        ] {
            listed.push(part.is_some() as u8);
            listed.extend_from_slice(part.unwrap_or("").as_bytes());
            listed.push(0);
        }
        listed.extend_from_slice(&j.row.unwrap_or(u64::MAX).to_le_bytes());
    }
    *blake3::hash(&listed).as_bytes()
}

/// What the shard's own load keeps of a description, the record holding the rest:
/// the load reads none of the hashes and statistics, and `rows_of` only the error,
/// while copying the thumbnails, the 32×32 grey images and the hashes' hex into its
/// columns took a sixth of a part's fresh pages.
fn listed_only(info: ImageInfo) -> ImageInfo {
    ImageInfo {
        file_blake3: None,
        pixel_blake3: None,
        pixels: None,
        hashes: None,
        ..info
    }
}

/// Describes one shard of the dataset at `path`. `config`: the configuration file
/// read for it (path and text), which the merge applies again.
pub fn partial(
    path: &Path,
    hints: Hints,
    config: Option<(String, String)>,
    shard: &Shard,
    quiet: bool,
) -> Result<Dsp> {
    let spec = load::open(path, hints.clone())?;
    partial_images(spec, hints, config, shard, quiet)
}

/// One shard's `.dsp`, before it is written.
pub enum Part {
    Images(Box<Dsp>),
    /// A table's part, encoded.
    Table(Vec<u8>),
}

impl Part {
    /// Writes the `.dsp` file atomically. An image part is encoded as it is written:
    /// encoded whole first, its 37 MB (a quarter of the 100,000-image benchmark) were
    /// a fifth of a part's fresh pages.
    pub fn write(&self, path: &Path) -> Result<()> {
        match self {
            Part::Images(dsp) => dsp.write(path),
            Part::Table(bytes) => crate::output::write_bytes_atomic(path, bytes),
        }
    }
}

/// The `.dsp` of one shard of the dataset at `path`: its images' descriptions, or
/// for a table file the blocks of its rows the shard holds (`block_bytes` at a time;
/// every part of one table must use the same).
pub fn partial_part(
    path: &Path,
    hints: Hints,
    config: Option<(String, String)>,
    shard: &Shard,
    (quiet, block_bytes): (bool, u64),
) -> Result<Part> {
    let spec = load::open(path, hints.clone())?;
    if table_file::is_table(&spec) {
        return Ok(Part::Table(table_file::partial_file(
            &spec,
            config,
            shard,
            block_bytes,
        )?));
    }
    Ok(Part::Images(Box::new(partial_images(
        spec, hints, config, shard, quiet,
    )?)))
}

fn partial_images(
    spec: load::DatasetSpec,
    hints: Hints,
    config: Option<(String, String)>,
    shard: &Shard,
    quiet: bool,
) -> Result<Dsp> {
    let path = spec.input.clone();
    refuse_unshardable(&spec)?;
    let recall = ShardRecall::new(Choosing::Shard(shard));
    // The layout's own load: `load::load` would call an empty shard an empty dataset.
    let loaded = spec.layout.load(&spec, quiet, Some(&recall))?;
    let listing = std::mem::take(&mut *recall.listing.lock().unwrap_or_else(|p| p.into_inner()));
    if listing.total == 0 {
        bail!(
            "{}: empty dataset: {}",
            spec.input.display(),
            spec.layout.empty()
        );
    }
    if let Shard::Files { list, sources } = shard {
        let unknown: Vec<&String> = sources
            .iter()
            .filter(|s| !listing.sources.contains(s.as_str()))
            .collect();
        if let Some(first) = unknown.iter().min() {
            bail!(
                "{}: {} listed paths are not samples of {} (first: {first})",
                list.display(),
                unknown.len(),
                path.display()
            );
        }
    }
    let records = recall
        .records
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    let rows = rows_of(&loaded, &listing.kept, records)?;
    Ok(Dsp {
        header: header_of(&spec, hints, config, &listing, &loaded),
        shard: shard.describe(),
        rows,
    })
}

/// Refuses, in one line, a dataset whose samples are not one image file each.
fn refuse_unshardable(spec: &load::DatasetSpec) -> Result<()> {
    if !spec.layout.shardable() {
        bail!(
            "{}: dsaudit partial splits datasets whose samples are image files (image-folder, image-labels) and tables of one file; this one is {}: scan it whole with dsaudit scan",
            spec.input.display(),
            spec.layout.name()
        );
    }
    Ok(())
}

/// What every part of one scan of `spec` shares (and a plan of it holds).
fn header_of(
    spec: &load::DatasetSpec,
    hints: Hints,
    config: Option<(String, String)>,
    listing: &Listing,
    loaded: &load::Loaded,
) -> dsp::Header {
    dsp::Header {
        described_by: crate::cache::VERSION,
        input: spec.input.to_string_lossy().into_owned(),
        root: spec.root.to_string_lossy().into_owned(),
        layout: spec.layout.name().to_string(),
        declares_classes_as: spec.layout.declares_classes_as().to_string(),
        config,
        hints: dsp::StoredHints {
            layout: hints
                .layout
                .map(|l| crate::choice::Choice::name(l).to_string()),
            label: hints.label,
            split: hints.split,
            allow_outside_paths: hints.allow_outside_paths,
        },
        listing: listing.fingerprint,
        total: listing.total,
        listed: true,
        dataset: dataset_level(spec, loaded),
    }
}

/// The shard's samples as rows: the load's manifest row `i` is the listing's
/// `kept[i]`-th sample, described by `records[i]` (none for a path a labels file
/// names outside the dataset, which is not read).
fn rows_of(loaded: &load::Loaded, kept: &[u64], records: Vec<Kept>) -> Result<Vec<dsp::Row>> {
    let m = &loaded.manifest;
    if m.len() != kept.len() || m.len() != records.len() {
        bail!(
            "internal: the shard lists {} samples but loaded {} and described {}",
            kept.len(),
            m.len(),
            records.len()
        );
    }
    let (sources, splits, labels) = (m.strs("source"), m.strs("split"), m.strs("label"));
    let (row_numbers, errors) = (m.u64s("row"), m.strs("error_kind"));
    let mut rows = Vec::with_capacity(m.len());
    for ((i, &index), record) in kept.iter().enumerate().zip(records) {
        let source = sources.get(i).unwrap_or("");
        let info = match record.0.map(|r| r.downcast::<Record>()) {
            Some(Ok(r)) => *r,
            // Read by no one: a path the labels file names outside the dataset.
            None if errors.get(i) == Some(ErrorKind::Outside.as_str()) => Record::of(
                &ImageInfo::error(ErrorKind::Outside, m.strs("error").get(i).unwrap_or("")),
            ),
            _ => bail!("internal: {source} was listed but not described"),
        };
        rows.push(dsp::Row {
            index,
            source: source.to_string(),
            split: splits.get(i).map(str::to_string),
            label: labels.get(i).map(str::to_string),
            row: row_numbers.get(i),
            info,
        });
    }
    Ok(rows)
}

/// What the load learnt of the dataset besides its samples.
fn dataset_level(spec: &load::DatasetSpec, loaded: &load::Loaded) -> dsp::DatasetLevel {
    dsp::DatasetLevel {
        guesses: spec.guesses.clone(),
        load_guesses: loaded.guesses.clone(),
        label_column: loaded.label_column.clone(),
        split_column: loaded.split_column.clone(),
        declared_splits: loaded.declared_splits.clone(),
        declared_classes: loaded.declared_classes.clone(),
        ignored_files: loaded.ignored_files.clone(),
        walk_issues: spec
            .walked
            .issues
            .iter()
            .map(|w| (w.path.clone(), w.problem.clone()))
            .collect(),
        non_utf8: spec
            .walked
            .files
            .iter()
            .filter(|f| !f.utf8)
            .map(|f| f.rel.clone())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse() {
        assert!(matches!(
            Shard::parse("2/4"),
            Ok(Shard::Part { k: 2, n: 4 })
        ));
        for bad in ["0/4", "5/4", "4", "a/b", "1/0", ""] {
            let e = Shard::parse(bad).err().unwrap().to_string();
            assert!(e.contains("expected K/N"), "{bad}: {e}");
        }
    }

    #[test]
    fn every_path_is_in_exactly_one_part() {
        for n in [1u64, 2, 3, 8] {
            for i in 0..200 {
                let source = format!("class_{}/img_{i}.png", i % 7);
                let holders = (1..=n)
                    .filter(|&k| Shard::Part { k, n }.holds(&source))
                    .count();
                assert_eq!(holders, 1, "{source} in {holders} of {n} parts");
            }
        }
    }
}
