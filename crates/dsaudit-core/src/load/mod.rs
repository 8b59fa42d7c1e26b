//! Reads the samples a `DatasetSpec` names, in parallel, into the manifest plus the
//! per-column tallies. An unreadable sample is recorded in the manifest, never fatal.

pub mod coco;
pub mod columns;
pub mod decode_budget;
pub mod detection;
pub mod format;
pub mod hf_card;
pub mod hf_parquet;
pub mod image;
pub mod image_folder;
pub mod labels;
pub mod npy;
pub mod perceptual;
pub mod pixel_stats;
pub mod rows;
mod shape;
pub mod table;
pub mod table_file;
pub mod table_parts;
pub mod table_stream;
pub mod target;
mod triangle;
pub mod webdataset;
pub mod yolo;

use crate::manifest::Manifest;
use crate::walk::WalkIssue;
use anyhow::Result;
use columns::ColumnStats;
pub use format::{open, open_frame, DatasetSpec, Hints, Layout, LayoutKind, Writer};

pub struct Loaded {
    pub manifest: Manifest,
    /// Feature columns of tables and arrays.
    pub columns: Vec<ColumnStats>,
    /// Column names that carry the label and split, when the data is a table.
    pub label_column: Option<String>,
    pub split_column: Option<String>,
    /// The label column, when it holds a continuous target (a regression task): then
    /// there are no classes, and `label_column` is None.
    pub regression_target: Option<String>,
    /// Every split the layout declares (folders, files), even when it holds nothing.
    pub declared_splits: Vec<String>,
    /// Every (split, class) the layout declares, e.g. class folders, even empty ones.
    pub declared_classes: Vec<(Option<String>, String)>,
    /// Files under the root that are not samples (e.g. a README), relative paths.
    pub ignored_files: Vec<String>,
    pub walk_issues: Vec<WalkIssue>,
    /// Summary over every value of the feature arrays (npy layout).
    pub array_values: Option<crate::stats::numeric::NumericStats>,
    /// Guesses made while loading (columns chosen), appended to the spec's.
    pub guesses: Vec<String>,
    /// Row fingerprints and numeric features of a table, for the duplicate search.
    pub rows: Option<rows::TableRows>,
    /// Per manifest row of an image dataset, its 8×8 grey thumbnail (None when
    /// unreadable or smaller than 8×8); empty for other layouts.
    pub thumbs: Vec<Option<[u8; 64]>>,
    /// Per manifest row of an image dataset, its centred pHash and 32×32 grey pixels
    /// (None when unreadable or smaller than 8×8): the near-duplicate search's input.
    pub smalls: Vec<Option<perceptual::Small>>,
    /// Per manifest row of an image dataset, its shape descriptor (`perceptual::shape`).
    pub shapes: Vec<Option<[u8; perceptual::SHAPE_DIMS]>>,
    /// The tables as read, one per file, when `Hints::keep_tables` asks for them.
    pub tables: Vec<polars::prelude::DataFrame>,
    /// The row groups of Parquet shards whose size matters to readers (hf-parquet).
    pub row_groups: Vec<RowGroup>,
    /// Samples whose key an earlier sample already had (webdataset).
    pub repeated_keys: Vec<RepeatedKey>,
    /// The boxes of a detection dataset (coco, yolo).
    pub detection: Option<detection::Detection>,
    /// Samples per split and label over every row, when the manifest holds a sample
    /// of a table read in blocks (`table_stream`); None: the manifest's own counts.
    pub tally: Option<crate::tally::Tally>,
}

/// A sample key seen twice: the manifest rows of its first and its later sample.
#[derive(Debug, Clone)]
pub struct RepeatedKey {
    pub key: String,
    pub first: usize,
    pub again: usize,
}

/// One Parquet row group, as its file's footer records it.
#[derive(Debug, Clone)]
pub struct RowGroup {
    /// The shard, relative to the dataset root.
    pub source: String,
    pub index: usize,
    /// Uncompressed size (`total_byte_size`).
    pub bytes: u64,
}

impl Loaded {
    pub fn empty(manifest: Manifest) -> Loaded {
        Loaded {
            manifest,
            columns: Vec::new(),
            label_column: None,
            split_column: None,
            regression_target: None,
            declared_splits: Vec::new(),
            declared_classes: Vec::new(),
            ignored_files: Vec::new(),
            walk_issues: Vec::new(),
            array_values: None,
            guesses: Vec::new(),
            rows: None,
            thumbs: Vec::new(),
            smalls: Vec::new(),
            shapes: Vec::new(),
            tables: Vec::new(),
            row_groups: Vec::new(),
            repeated_keys: Vec::new(),
            detection: None,
            tally: None,
        }
    }

    pub fn from_images(samples: &[crate::manifest::ImageSample]) -> Result<Loaded> {
        use rayon::prelude::*;
        // Side by side and in parallel: done one after another on one core, these
        // copies (a kilobyte a sample, into fresh pages) were 4% of a scan of small
        // PNGs while the other core waited.
        let (manifest, (smalls, (thumbs, shapes))) = rayon::join(
            || Manifest::from_images(samples),
            || {
                let smalls = samples
                    .par_iter()
                    .map(|s| {
                        s.info.hashes.as_ref().map(|h| perceptual::Small {
                            aligned: h.aligned,
                            pixels: h.small,
                            centred_thumb: h.centred_thumb,
                        })
                    })
                    .collect();
                let thumbs = samples
                    .par_iter()
                    .map(|s| s.info.hashes.as_ref().map(|h| h.thumb))
                    .collect();
                let shapes = samples
                    .par_iter()
                    .map(|s| s.info.hashes.as_ref().map(|h| h.shape))
                    .collect();
                (smalls, (thumbs, shapes))
            },
        );
        let mut loaded = Loaded::empty(manifest?);
        loaded.thumbs = thumbs;
        loaded.smalls = smalls;
        loaded.shapes = shapes;
        Ok(loaded)
    }
}

/// What `dsaudit check`'s file cache offers the load, which owns this interface so
/// that the cache plugs in from above (`cache::Files` implements it).
pub trait Recall: Sync {
    /// The description of `path` (relative name `rel`): recalled when the file is
    /// unchanged, else `compute`d (handed the file when the cache opened it to take its
    /// size and time); with what to keep of it for the next run.
    fn describe(
        &self,
        rel: &str,
        path: &std::path::Path,
        compute: &dyn Fn(Option<(std::fs::File, u64)>) -> image::ImageInfo,
    ) -> (image::ImageInfo, Kept);
    /// This run's records, from `describe`, in the order the files were described.
    fn keep(&self, records: Vec<Kept>);
    /// Which of the samples the layout lists (all of them, in order) to load, before
    /// any is described: a partial scan loads one shard and leaves the rest out.
    /// None: every one.
    fn choose(&self, _listing: &[image_folder::Job<'_>]) -> Option<Vec<bool>> {
        None
    }
}

/// A record the cache keeps for the next run; opaque to the load.
pub struct Kept(pub Option<Box<dyn std::any::Any + Send>>);

/// Reads every sample; `files` (the check's cache) spares re-reading unchanged images.
pub fn load(spec: &DatasetSpec, quiet: bool, files: Option<&dyn Recall>) -> Result<Loaded> {
    let mut loaded = spec.layout.load(spec, quiet, files)?;
    loaded.walk_issues = spec.walked.issues.clone();
    if loaded.manifest.is_empty() {
        // Nothing to check is not a clean bill of health: a header-only export or an
        // empty folder tree is an error, as an empty directory is.
        anyhow::bail!(
            "{}: empty dataset: {}",
            spec.input.display(),
            spec.layout.empty()
        );
    }
    Ok(loaded)
}

/// Runs a reader of a whole table or array dataset; its panic on a damaged file ends
/// in an error naming the dataset (images are guarded file by file, in `describe_all`).
pub(crate) fn guarded_load(
    spec: &DatasetSpec,
    load: impl FnOnce() -> Result<Loaded>,
) -> Result<Loaded> {
    match crate::util::guarded(load) {
        Ok(loaded) => loaded,
        Err(panic) => anyhow::bail!(
            "{}: cannot read: the reader failed on this dataset ({panic})",
            spec.input.display()
        ),
    }
}

/// Label column names tried in order when none is given: the generic names, then
/// those of well-known tables (iris and penguins' `species`, the Wisconsin breast
/// cancer file's `diagnosis`, the Pima diabetes file's `outcome`), each a label in
/// every copy of them we know.
pub const LABEL_NAMES: &[&str] = &[
    "label",
    "target",
    "class",
    "y",
    "species",
    "diagnosis",
    "outcome",
];
