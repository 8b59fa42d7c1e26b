//! Surveys a path before any format is chosen: the files under it (walked once), what
//! its top level holds, and the checks every dataset must pass (it exists, it is a
//! directory or a table file). The formats (`load::format`) recognise their layout
//! from the survey.

use crate::walk::{self, Walked};
use anyhow::{bail, Result};
use polars::prelude::{Column, DataFrame, DataType};
use std::path::{Path, PathBuf};

pub const IMAGE_EXTS: &[&str] = &["png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "webp"];
pub const TABLE_EXTS: &[&str] = &[
    "csv", "tsv", "parquet", "pq", "arrow", "feather", "ipc", "ndjson", "jsonl",
];

/// What a path holds, which the formats recognise their layout from.
pub struct Survey {
    /// The path as the user gave it, for display.
    pub input: PathBuf,
    /// Directory that relative sources are relative to: the input, or a file's folder.
    pub root: PathBuf,
    /// The input is one table file, not a directory.
    pub is_file: bool,
    /// The directory walk (empty for a file).
    pub walked: Walked,
    /// Relative names of the files directly under the root.
    pub names: Vec<String>,
    /// Tables directly under the root (the file itself, for a file).
    pub tables: Vec<PathBuf>,
    /// `.npy` arrays directly under the root.
    pub npy: Vec<PathBuf>,
    /// Images anywhere below the root.
    pub images: usize,
    /// What was guessed while surveying, first among the spec's guesses.
    pub guesses: Vec<String>,
}

pub use crate::util::ext_of;

pub fn is_image_path(path: &Path) -> bool {
    crate::util::ext_in(path, IMAGE_EXTS)
}

pub fn is_table_path(path: &Path) -> bool {
    crate::util::ext_in(path, TABLE_EXTS)
}

pub fn stem_lower(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Surveys `input`; a path that is neither a directory nor a table file fails here,
/// with one line naming it.
pub fn survey(input: &Path) -> Result<Survey> {
    let shown = input.display();
    let meta = match std::fs::metadata(input) {
        Ok(m) => m,
        Err(e) => bail!("{shown}: {}", crate::util::io_problem(&e)),
    };
    if meta.is_file() {
        return survey_file(input);
    }
    if !meta.is_dir() {
        bail!(
            "{shown}: not a regular file: {}",
            crate::safe_read::kind_of(&meta.file_type())
        );
    }
    let mut guesses = Vec::new();
    let walked = walk_dataset(input, &mut guesses)?;
    let top: Vec<&walk::WalkedFile> = walked
        .files
        .iter()
        .filter(|f| !f.rel.contains('/'))
        .collect();
    let paths = |keep: &dyn Fn(&Path) -> bool| -> Vec<PathBuf> {
        top.iter()
            .filter(|f| keep(&f.path))
            .map(|f| f.path.clone())
            .collect()
    };
    Ok(Survey {
        input: input.to_path_buf(),
        root: input.to_path_buf(),
        is_file: false,
        names: top.iter().map(|f| f.rel.clone()).collect(),
        tables: paths(&|p| is_table_path(p)),
        npy: paths(&|p| crate::util::ext_is(p, "npy")),
        images: walked.files.iter().filter(|f| f.ext_in(IMAGE_EXTS)).count(),
        guesses,
        walked,
    })
}

/// A file given as the dataset: only a table is one.
fn survey_file(input: &Path) -> Result<Survey> {
    let shown = input.display();
    if !is_table_path(input) {
        if is_image_path(input) {
            bail!(
                "{shown}: a single image is not a dataset; pass the folder that holds the images"
            );
        }
        if ext_of(input) == "json" {
            bail!("{shown}: a JSON file is read as COCO annotations with their images: pass the dataset's folder (the one holding annotations/ and the images)");
        }
        if ext_of(input) == "npy" {
            bail!("{shown}: pass the folder that holds the X_*.npy / y_*.npy pairs, not one array");
        }
        bail!(
            "{shown}: unsupported file type; dsaudit reads image folders and tables ({})",
            TABLE_EXTS.join(", ")
        );
    }
    let root = input
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(Survey {
        input: input.to_path_buf(),
        root,
        is_file: true,
        walked: Walked::default(),
        names: Vec::new(),
        tables: vec![input.to_path_buf()],
        npy: Vec::new(),
        images: 0,
        guesses: Vec::new(),
    })
}

impl Survey {
    /// The error for a directory no format recognised.
    pub fn unrecognised(&self) -> anyhow::Error {
        let shown = self.input.display();
        if self.walked.files.is_empty() && self.walked.issues.is_empty() {
            return anyhow::anyhow!("{shown}: empty directory: no files to scan");
        }
        anyhow::anyhow!(
            "{shown}: no recognisable dataset layout: found {} files but no images ({}), tables ({}) or X_*.npy arrays; pass --layout to say which it is",
            self.walked.files.len(),
            IMAGE_EXTS.join("/"),
            TABLE_EXTS.join("/")
        )
    }

    /// The file name of `path`, for guesses and messages.
    pub fn name(path: &Path) -> String {
        path.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    }
}

/// The directory's files, less a dsaudit build's own records (the dataset is what it
/// wrote).
fn walk_dataset(input: &Path, guesses: &mut Vec<String>) -> Result<Walked> {
    let shown = input.display();
    if let Err(e) = std::fs::read_dir(input) {
        bail!(
            "{shown}: cannot list directory: {}",
            crate::util::io_problem(&e)
        );
    }
    let mut walked = walk::walk(input);
    if input.join(crate::output::BUILD_MARKER).is_file() {
        walked
            .files
            .retain(|f| !crate::output::BUILD_RECORDS.contains(&f.rel.as_str()));
        if walked.files.is_empty() {
            bail!("{shown}: a dsaudit build with only its manifest: build again with --materialize to write the images");
        }
        guesses.push("a dsaudit build: its manifest and build.json are not samples".to_string());
    }
    Ok(walked)
}

/// Names the column of image paths in a labels table: discovery tells a labels file
/// from a plain table by it, and the load reads the paths from it.
pub const PATH_NAMES: &[&str] = &[
    "path",
    "file",
    "filename",
    "file_name",
    "filepath",
    "file_path",
    "image",
    "image_path",
    "img",
    "image_file",
];

/// The column holding image paths: a conventional name, else the first string
/// column whose values mostly end in an image extension.
pub fn path_column(df: &DataFrame) -> Option<String> {
    let string_cols: Vec<&Column> = df
        .columns()
        .iter()
        .filter(|c| c.dtype() == &DataType::String)
        .collect();
    let mostly_images = |c: &Column| -> bool {
        let Ok(ca) = c.str() else { return false };
        let vals: Vec<&str> = ca.iter().flatten().take(200).collect();
        !vals.is_empty()
            && vals.iter().filter(|v| is_image_path(Path::new(v))).count() * 2 >= vals.len()
    };
    for name in PATH_NAMES {
        if let Some(c) = string_cols
            .iter()
            .find(|c| c.name().as_str().eq_ignore_ascii_case(name))
        {
            if mostly_images(c) {
                return Some(c.name().to_string());
            }
        }
    }
    string_cols
        .into_iter()
        .find(|c| mostly_images(c))
        .map(|c| c.name().to_string())
}

pub fn path_column_of_file(path: &Path) -> Result<Option<String>> {
    Ok(path_column(&crate::table_io::read_head(path, 200)?))
}
