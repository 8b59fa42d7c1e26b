//! Input formats. A format recognises its layout in a `Survey` of the path and says
//! how the layout is loaded, which files `check` fingerprints, and how a build writes
//! its samples again. A new format is one file here and one row of `LayoutKind::ALL`.

pub mod coco;
pub mod frame;
pub mod hf_parquet;
pub mod image_folder;
pub mod image_labels;
pub mod npy;
pub mod table;
pub mod webdataset;
pub mod yolo;

use super::{Loaded, Recall};
use crate::discover::Survey;
use crate::walk::Walked;
use anyhow::Result;
use std::path::{Path, PathBuf};

/// Recognises one layout.
pub trait Format: Sync {
    /// The layout this format finds in `survey`. `named`: the user asked for this
    /// format (`--layout`), so not finding it is an error saying why; otherwise None
    /// leaves the survey to the next format. Guesses are added only for a layout found.
    fn find(
        &self,
        survey: &Survey,
        named: bool,
        guesses: &mut Vec<String>,
    ) -> Result<Option<Found>>;
}

/// Whether a layout of folders can be in `survey`: not in a single file, which is an
/// error when `--layout NAME` asked for it.
fn directory_layout(survey: &Survey, named: bool, name: &str) -> Result<bool> {
    if survey.is_file && named {
        anyhow::bail!(
            "{}: --layout {name} does not apply to a single table file",
            survey.input.display()
        );
    }
    Ok(!survey.is_file)
}

pub enum Found {
    Layout(Box<dyn Layout>),
    /// Every sample is under this one folder of the root: the dataset is there.
    Below(String),
}

/// A layout found: its files, and what the load, `check` and the builds do with it.
pub trait Layout: Send + Sync + std::fmt::Debug {
    /// How reports name it, e.g. `image-folder (ROOT/<class>/*)`.
    fn name(&self) -> &'static str;
    /// The samples are image files.
    fn is_image(&self) -> bool;
    /// Reads every sample.
    fn load(&self, spec: &DatasetSpec, quiet: bool, files: Option<&dyn Recall>) -> Result<Loaded>;
    /// Why a load with no samples is an empty dataset, for its error.
    fn empty(&self) -> &'static str;
    /// The files besides image samples the scan reads (labels files, tables, arrays):
    /// `check` fingerprints them.
    fn inputs(&self) -> Vec<PathBuf>;
    /// How a build writes the samples again.
    fn writer(&self) -> Writer<'_>;
    /// What declares the classes it lists in `Loaded::declared_classes`, for I010.
    fn declares_classes_as(&self) -> &'static str {
        "class folder"
    }
    /// `dsaudit partial` can describe any shard of its samples alone: each sample is
    /// one image file, described on its own, and what the layout holds besides (splits,
    /// classes, labels) is known from the listing.
    fn shardable(&self) -> bool {
        false
    }
}

/// How a build writes a layout's samples.
pub enum Writer<'a> {
    /// Image files, linked or copied; named relative to the labels file's folder
    /// when one lists them, else to the dataset root.
    Images { listed_in: Option<&'a Path> },
    /// Table rows, from these files (with the split each file's name gives).
    Tables(&'a [(Option<String>, PathBuf)]),
    /// Rows of `.npy` feature and label arrays.
    Arrays(&'a [npy::NpyPair]),
    /// Images with boxes, written again in their format with every box.
    Detection(DetectionFormat),
    /// Hugging Face Parquet shards: rows (image bytes and every column) copied into
    /// new shards.
    HfShards(&'a hf_parquet::Shards),
    /// WebDataset tar shards: each sample's members copied into new shards.
    TarShards(&'a [webdataset::Shard]),
}

/// The detection formats a build writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectionFormat {
    Coco,
    Yolo,
}

/// A format, by name (`--layout NAME`, `[layout] kind` in `dsaudit.toml`).
#[derive(Clone, Copy)]
pub struct LayoutKind {
    name: &'static str,
    format: &'static dyn Format,
}

impl PartialEq for LayoutKind {
    fn eq(&self, other: &LayoutKind) -> bool {
        self.name == other.name
    }
}

impl std::fmt::Debug for LayoutKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

const fn row(
    name: &'static str,
    help: &'static str,
    format: &'static dyn Format,
) -> (LayoutKind, &'static str, &'static str) {
    (LayoutKind { name, format }, name, help)
}

impl crate::choice::Choice for LayoutKind {
    /// Also the order formats are tried in when none is named: arrays, then Parquet
    /// shards with images inline, then tar shards, then detection labels (COCO, then
    /// YOLO), then images with a labels file, then image folders, then tables.
    const ALL: &'static [(LayoutKind, &'static str, &'static str)] = &[
        row(
            "npy",
            "NumPy `X_<split>.npy` / `y_<split>.npy` pairs",
            &npy::Npy,
        ),
        row(
            "hf-parquet",
            "Hugging Face Parquet shards with images inline (`{bytes, path}`)",
            &hf_parquet::HfParquet,
        ),
        row(
            "webdataset",
            "WebDataset `.tar` shards (members grouped by key: `000123.jpg` + `000123.cls`)",
            &webdataset::WebDataset,
        ),
        row(
            "coco",
            "images plus COCO annotation JSON (`annotations/instances_<split>.json`)",
            &coco::Coco,
        ),
        row(
            "yolo",
            "`images/<split>/*` plus `labels/<split>/*.txt` boxes (names from `data.yaml`)",
            &yolo::Yolo,
        ),
        row(
            "image-labels",
            "images plus a labels file (path, label[, split])",
            &image_labels::ImageLabels,
        ),
        row(
            "image-folder",
            "`ROOT/<split>/<class>/*` or `ROOT/<class>/*`",
            &image_folder::ImageFolder,
        ),
        row(
            "table",
            "one table with a label column, or `train.*` / `val.*` / `test.*` side by side",
            &table::Table,
        ),
    ];
}

/// What the user told us; every field overrides a guess.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    pub layout: Option<LayoutKind>,
    pub label: Option<String>,
    pub split: Option<String>,
    /// Keep each table in memory after loading (the build commands write its rows again).
    pub keep_tables: bool,
    /// Leave out the per-column statistics, which only rules and reports read (the
    /// build commands run neither; 0.1 s on a million rows).
    pub skip_column_stats: bool,
    /// Read the files a labels file names outside its dataset (`--allow-outside-paths`).
    pub allow_outside_paths: bool,
    /// The memory a table scan plans for; None: the process's (`--memory-limit`).
    pub memory_limit: Option<u64>,
}

#[derive(Debug)]
pub struct DatasetSpec {
    /// The path as the user gave it, for display.
    pub input: PathBuf,
    /// Directory that relative sources are relative to.
    pub root: PathBuf,
    pub layout: Box<dyn Layout>,
    pub hints: Hints,
    /// Human-readable lines: what was guessed and from what.
    pub guesses: Vec<String>,
    /// The directory walk, for image layouts.
    pub walked: Walked,
}

/// Turns a path into a `DatasetSpec`: surveys it, then takes the format `--layout`
/// names or the first that recognises it.
pub fn open(input: &Path, hints: Hints) -> Result<DatasetSpec> {
    use crate::choice::Choice;
    let survey = crate::discover::survey(input)?;
    let mut guesses = survey.guesses.clone();
    let found = match hints.layout {
        Some(kind) => {
            if !survey.is_file {
                guesses.push(format!("layout: {} (from --layout)", kind.name()));
            }
            kind.format.find(&survey, true, &mut guesses)?
        }
        None => first_found(&survey, &mut guesses)?,
    };
    let layout = match found {
        Some(Found::Layout(layout)) => layout,
        Some(Found::Below(dir)) => return open_below(&survey, &dir, hints),
        None => return Err(survey.unrecognised()),
    };
    // Images a table file lists are looked for from its folder.
    let walked = if survey.is_file && layout.is_image() {
        crate::walk::walk(&survey.root)
    } else {
        survey.walked
    };
    Ok(DatasetSpec {
        input: survey.input,
        root: survey.root,
        layout,
        hints,
        guesses,
        walked,
    })
}

/// The spec of a table already in memory, named `name` in the report (nothing is
/// read from disk, and the root is the working directory).
pub fn open_frame(name: &str, df: polars::prelude::DataFrame, hints: Hints) -> DatasetSpec {
    DatasetSpec {
        input: PathBuf::from(name),
        root: PathBuf::from("."),
        guesses: vec![format!(
            "layout: one table in memory ({name}, {} rows)",
            df.height()
        )],
        layout: Box::new(frame::Frame {
            name: name.to_string(),
            df,
        }),
        hints,
        walked: Walked::default(),
    }
}

fn first_found(survey: &Survey, guesses: &mut Vec<String>) -> Result<Option<Found>> {
    use crate::choice::Choice;
    for (kind, ..) in LayoutKind::ALL {
        if let Some(found) = kind.format.find(survey, false, guesses)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// e.g. `data/` holding `images/train/cat/*` and a stray `notes.csv`: the dataset is
/// the folder below, not a class called "images".
fn open_below(survey: &Survey, dir: &str, hints: Hints) -> Result<DatasetSpec> {
    let mut spec = open(&survey.input.join(dir), hints)?;
    let left = if survey.names.is_empty() {
        String::new()
    } else {
        format!(
            "; left out: {} (scan them separately)",
            survey.names.join(", ")
        )
    };
    spec.guesses.insert(
        0,
        format!("every image is under {dir}/, so that is the dataset root{left}"),
    );
    Ok(spec)
}
