//! Turns a path into a `DatasetSpec`: which layout, which files, and what was guessed.

use crate::util::canonical_split;
use crate::walk::{self, Walked};
use anyhow::{bail, Result};
use polars::prelude::{Column, DataFrame, DataType};
use std::path::{Path, PathBuf};

pub const IMAGE_EXTS: &[&str] = &["png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "webp"];
pub const TABLE_EXTS: &[&str] = &[
    "csv", "tsv", "parquet", "pq", "arrow", "feather", "ipc", "ndjson", "jsonl",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutKind {
    /// `ROOT/<split>/<class>/*` or `ROOT/<class>/*`
    ImageFolder,
    /// images plus a labels file (path, label[, split])
    ImageLabels,
    /// one table with a label column, or `train.*` / `val.*` / `test.*` side by side
    Table,
    /// NumPy `X_<split>.npy` / `y_<split>.npy` pairs
    Npy,
}

impl crate::choice::Choice for LayoutKind {
    const ALL: &'static [(LayoutKind, &'static str, &'static str)] = &[
        (
            LayoutKind::ImageFolder,
            "image-folder",
            "`ROOT/<split>/<class>/*` or `ROOT/<class>/*`",
        ),
        (
            LayoutKind::ImageLabels,
            "image-labels",
            "images plus a labels file (path, label[, split])",
        ),
        (
            LayoutKind::Table,
            "table",
            "one table with a label column, or `train.*` / `val.*` / `test.*` side by side",
        ),
        (
            LayoutKind::Npy,
            "npy",
            "NumPy `X_<split>.npy` / `y_<split>.npy` pairs",
        ),
    ];
}

#[derive(Debug, Clone)]
pub enum Layout {
    ImageFolder {
        split_dirs: bool,
    },
    ImageLabels {
        labels_file: PathBuf,
    },
    /// Each file with the split its name gives (None for a single table).
    Table {
        files: Vec<(Option<String>, PathBuf)>,
    },
    Npy {
        pairs: Vec<NpyPair>,
    },
}

impl Layout {
    pub fn name(&self) -> &'static str {
        match self {
            Layout::ImageFolder { split_dirs: true } => "image-folder (ROOT/<split>/<class>/*)",
            Layout::ImageFolder { split_dirs: false } => "image-folder (ROOT/<class>/*)",
            Layout::ImageLabels { .. } => "image-labels (images + labels file)",
            Layout::Table { files } if files.len() == 1 => "table (one file)",
            Layout::Table { .. } => "table (one file per split)",
            Layout::Npy { .. } => "npy (X_*.npy / y_*.npy pairs)",
        }
    }

    pub fn is_image(&self) -> bool {
        matches!(
            self,
            Layout::ImageFolder { .. } | Layout::ImageLabels { .. }
        )
    }
}

#[derive(Debug, Clone)]
pub struct NpyPair {
    pub split: Option<String>,
    pub x: PathBuf,
    pub y: Option<PathBuf>,
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
}

#[derive(Debug)]
pub struct DatasetSpec {
    /// The path as the user gave it, for display.
    pub input: PathBuf,
    /// Directory that relative sources are relative to.
    pub root: PathBuf,
    pub layout: Layout,
    pub hints: Hints,
    /// Human-readable lines: what was guessed and from what.
    pub guesses: Vec<String>,
    /// The directory walk, for image layouts.
    pub walked: Walked,
}

pub use crate::util::ext_of;

pub fn is_image_path(path: &Path) -> bool {
    IMAGE_EXTS.contains(&ext_of(path).as_str())
}

pub fn is_table_path(path: &Path) -> bool {
    TABLE_EXTS.contains(&ext_of(path).as_str())
}

fn stem_lower(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

pub fn discover(input: &Path, hints: Hints) -> Result<DatasetSpec> {
    let shown = input.display();
    let meta = match std::fs::metadata(input) {
        Ok(m) => m,
        Err(e) => bail!("{shown}: {}", crate::util::io_problem(&e)),
    };
    let mut guesses = Vec::new();
    if meta.is_file() {
        return discover_file(input, hints, guesses);
    }
    if !meta.is_dir() {
        bail!(
            "{shown}: not a regular file: {}",
            crate::safe_read::kind_of(&meta.file_type())
        );
    }
    let walked = walk_dataset(input, &mut guesses)?;
    let top = TopFiles::of(&walked);
    // Reading table heads to find a labels file is only worth it when there are images.
    let labels = if top.images > 0 || hints.layout == Some(LayoutKind::ImageLabels) {
        labels_file_candidate(&top.tables)
    } else {
        None
    };
    let kind = match hints.layout {
        Some(k) => {
            guesses.push(format!("layout: {:?} (from --layout)", k));
            k
        }
        None => match guess_kind(input, &walked, &top, labels.is_some())? {
            Guess::Kind(k) => k,
            Guess::Below(dir) => return discover_below(input, &dir, hints, &top),
        },
    };
    let layout = layout_of(
        kind,
        input,
        &walked,
        &top,
        labels,
        hints.layout.is_some(),
        &mut guesses,
    )?;
    Ok(DatasetSpec {
        input: input.to_path_buf(),
        root: input.to_path_buf(),
        layout,
        hints,
        guesses,
        walked,
    })
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

/// What the top of a dataset directory holds, which the layout is guessed from.
struct TopFiles {
    /// Relative names of the files directly under the root.
    names: Vec<String>,
    tables: Vec<PathBuf>,
    npy: Vec<PathBuf>,
    /// Images anywhere below the root.
    images: usize,
}

impl TopFiles {
    fn of(walked: &Walked) -> TopFiles {
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
        TopFiles {
            names: top.iter().map(|f| f.rel.clone()).collect(),
            tables: paths(&|p| is_table_path(p)),
            npy: paths(&|p| ext_of(p) == "npy"),
            images: walked
                .files
                .iter()
                .filter(|f| is_image_path(&f.path))
                .count(),
        }
    }
}

enum Guess {
    Kind(LayoutKind),
    /// Every image is under this one folder: the dataset is there.
    Below(String),
}

/// The layout no flag named, guessed from the files: arrays, then images with a
/// labels file, then one folder holding every image, then images, then tables.
fn guess_kind(input: &Path, walked: &Walked, top: &TopFiles, labels: bool) -> Result<Guess> {
    let shown = input.display();
    Ok(Guess::Kind(
        if top.npy.iter().any(|p| stem_lower(p).starts_with("x")) {
            LayoutKind::Npy
        } else if top.images > 0 && labels {
            LayoutKind::ImageLabels
        } else if let Some(dir) = single_image_folder(walked) {
            return Ok(Guess::Below(dir));
        } else if top.images > 0 {
            LayoutKind::ImageFolder
        } else if !top.tables.is_empty() {
            LayoutKind::Table
        } else if walked.files.is_empty() && walked.issues.is_empty() {
            bail!("{shown}: empty directory: no files to scan");
        } else {
            bail!(
                "{shown}: no recognisable dataset layout: found {} files but no images ({}), tables ({}) or X_*.npy arrays; pass --layout to say which it is",
                walked.files.len(),
                IMAGE_EXTS.join("/"),
                TABLE_EXTS.join("/")
            );
        },
    ))
}

/// e.g. `data/` holding `images/train/cat/*` and a stray `notes.csv`: the dataset is
/// the folder below, not a class called "images".
fn discover_below(input: &Path, dir: &str, hints: Hints, top: &TopFiles) -> Result<DatasetSpec> {
    let mut spec = discover(&input.join(dir), hints)?;
    let left = if top.names.is_empty() {
        String::new()
    } else {
        format!(
            "; left out: {} (scan them separately)",
            top.names.join(", ")
        )
    };
    spec.guesses.insert(
        0,
        format!("every image is under {dir}/, so that is the dataset root{left}"),
    );
    Ok(spec)
}

/// The layout of `kind`, with what was guessed for it.
fn layout_of(
    kind: LayoutKind,
    input: &Path,
    walked: &Walked,
    top: &TopFiles,
    labels: Option<PathBuf>,
    from_flag: bool,
    guesses: &mut Vec<String>,
) -> Result<Layout> {
    let shown = input.display();
    Ok(match kind {
        LayoutKind::Npy => {
            let pairs = npy_pairs(input, &top.npy)?;
            if !from_flag {
                guesses.push(format!("layout: npy, {} X/y pair(s) found", pairs.len()));
            }
            Layout::Npy { pairs }
        }
        LayoutKind::ImageLabels => {
            let Some(labels) = labels else {
                bail!("{shown}: --layout image-labels needs one labels table (CSV/Parquet) at the top of the directory");
            };
            guesses.push(format!(
                "labels file: {}",
                labels.file_name().unwrap_or_default().to_string_lossy()
            ));
            Layout::ImageLabels {
                labels_file: labels,
            }
        }
        LayoutKind::ImageFolder => {
            let split_dirs = has_split_dirs(walked);
            guesses.push(if split_dirs {
                let names: Vec<&str> = walked
                    .dirs
                    .iter()
                    .filter(|d| !d.contains('/'))
                    .map(|s| s.as_str())
                    .collect();
                format!(
                    "layout: image folder with split folders ({}) then class folders",
                    names.join(", ")
                )
            } else {
                "layout: image folder with one folder per class (no split folders)".into()
            });
            Layout::ImageFolder { split_dirs }
        }
        LayoutKind::Table => {
            let files = table_files(input, &top.tables)?;
            guesses.push(table_guess(&files));
            Layout::Table { files }
        }
    })
}

fn table_guess(files: &[(Option<String>, PathBuf)]) -> String {
    let name = |p: &Path| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string()
    };
    if files.len() == 1 {
        return format!("layout: one table ({})", name(&files[0].1));
    }
    let names: Vec<String> = files
        .iter()
        .map(|(s, p)| format!("{} = {}", s.as_deref().unwrap_or("?"), name(p)))
        .collect();
    format!("layout: one table per split ({})", names.join(", "))
}

fn discover_file(input: &Path, hints: Hints, mut guesses: Vec<String>) -> Result<DatasetSpec> {
    let shown = input.display();
    let root = input
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    if !is_table_path(input) {
        if is_image_path(input) {
            bail!(
                "{shown}: a single image is not a dataset; pass the folder that holds the images"
            );
        }
        if ext_of(input) == "npy" {
            bail!("{shown}: pass the folder that holds the X_*.npy / y_*.npy pairs, not one array");
        }
        bail!(
            "{shown}: unsupported file type; dsaudit reads image folders and tables ({})",
            TABLE_EXTS.join(", ")
        );
    }
    let wants_images = match hints.layout {
        Some(LayoutKind::ImageLabels) => true,
        Some(LayoutKind::Table) | None => false,
        Some(other) => bail!(
            "{shown}: --layout {:?} does not apply to a single table file",
            other
        ),
    };
    // A table handed over directly is a labels file when it names image files.
    let looks_like_labels = wants_images
        || (hints.layout.is_none() && path_column_of_file(input).ok().flatten().is_some());
    let layout = if looks_like_labels {
        guesses.push(format!(
            "layout: images listed in {} (it has a column of image paths)",
            input.file_name().unwrap_or_default().to_string_lossy()
        ));
        Layout::ImageLabels {
            labels_file: input.to_path_buf(),
        }
    } else {
        guesses.push(format!(
            "layout: one table ({})",
            input.file_name().unwrap_or_default().to_string_lossy()
        ));
        Layout::Table {
            files: vec![(None, input.to_path_buf())],
        }
    };
    let walked = if looks_like_labels {
        walk::walk(&root)
    } else {
        Walked::default()
    };
    Ok(DatasetSpec {
        input: input.to_path_buf(),
        root,
        layout,
        hints,
        guesses,
        walked,
    })
}

/// A top-level table that lists image paths: preferred by name (labels, annotations,
/// metadata), else the only table there is.
fn labels_file_candidate(tables: &[PathBuf]) -> Option<PathBuf> {
    let named = |p: &&PathBuf| {
        matches!(
            stem_lower(p).as_str(),
            "labels" | "label" | "annotations" | "metadata" | "manifest" | "index"
        )
    };
    let candidates: Vec<&PathBuf> = if let Some(p) = tables.iter().find(named) {
        vec![p]
    } else {
        tables.iter().collect()
    };
    candidates
        .into_iter()
        .find(|p| path_column_of_file(p).ok().flatten().is_some())
        .cloned()
}

/// The one top-level folder that holds every image at least two levels down, when
/// it is not itself a split folder.
fn single_image_folder(walked: &Walked) -> Option<String> {
    let mut dir: Option<&str> = None;
    for f in walked.files.iter().filter(|f| is_image_path(&f.path)) {
        let mut parts = f.rel.split('/');
        let top = parts.next()?;
        if parts.count() < 2 || dir.is_some_and(|d| d != top) {
            return None;
        }
        dir = Some(top);
    }
    dir.filter(|d| canonical_split(d).is_none())
        .map(str::to_string)
}

fn has_split_dirs(walked: &Walked) -> bool {
    let mut top_with_files: Vec<&str> = walked
        .files
        .iter()
        .filter(|f| is_image_path(&f.path) || f.rel.contains('/'))
        .filter_map(|f| f.rel.split_once('/').map(|(d, _)| d))
        .collect();
    top_with_files.dedup();
    if top_with_files.is_empty() {
        // Nothing but empty folders: split folders if the folder names say so.
        return walked
            .dirs
            .iter()
            .filter(|d| !d.contains('/'))
            .any(|d| canonical_split(d).is_some());
    }
    top_with_files.iter().all(|d| canonical_split(d).is_some())
}

fn table_files(input: &Path, tables: &[PathBuf]) -> Result<Vec<(Option<String>, PathBuf)>> {
    let split_named: Vec<(String, PathBuf)> = tables
        .iter()
        .filter_map(|p| canonical_split(&stem_lower(p)).map(|s| (s.to_string(), p.clone())))
        .collect();
    if !split_named.is_empty() {
        let mut seen = std::collections::BTreeSet::new();
        for (s, p) in &split_named {
            if !seen.insert(s.clone()) {
                bail!(
                    "{}: two tables for split '{s}' (one is {}); keep one per split",
                    input.display(),
                    p.file_name().unwrap_or_default().to_string_lossy()
                );
            }
        }
        let mut files: Vec<(Option<String>, PathBuf)> =
            split_named.into_iter().map(|(s, p)| (Some(s), p)).collect();
        files.sort_by_key(|(s, _)| crate::util::split_order(s.as_deref().unwrap_or("")));
        return Ok(files);
    }
    if tables.len() == 1 {
        return Ok(vec![(None, tables[0].clone())]);
    }
    let names: Vec<String> = tables
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    bail!(
        "{}: {} tables ({}) and none named train/val/test; pass one file, or name them by split",
        input.display(),
        tables.len(),
        names.join(", ")
    )
}

fn npy_pairs(input: &Path, files: &[PathBuf]) -> Result<Vec<NpyPair>> {
    let mut pairs = Vec::new();
    let suffix = |p: &Path, prefix: char| -> Option<String> {
        let stem = p.file_stem()?.to_string_lossy().into_owned();
        let mut chars = stem.chars();
        let first = chars.next()?;
        if first.to_ascii_lowercase() != prefix {
            return None;
        }
        let rest: String = chars.collect();
        if rest.is_empty() {
            Some(String::new())
        } else {
            rest.strip_prefix('_').map(str::to_string)
        }
    };
    for x in files {
        let Some(sfx) = suffix(x, 'x') else { continue };
        let y = files
            .iter()
            .find(|p| suffix(p, 'y').as_deref() == Some(sfx.as_str()))
            .cloned();
        let split = if sfx.is_empty() {
            None
        } else {
            Some(crate::util::split_value(&sfx))
        };
        pairs.push(NpyPair {
            split,
            x: x.clone(),
            y,
        });
    }
    for y in files {
        if let Some(sfx) = suffix(y, 'y') {
            if !files
                .iter()
                .any(|p| suffix(p, 'x').as_deref() == Some(sfx.as_str()))
            {
                bail!(
                    "{}: labels without features: no X file matches {}",
                    input.display(),
                    y.file_name().unwrap_or_default().to_string_lossy()
                );
            }
        }
    }
    if pairs.is_empty() {
        bail!("{}: no X_*.npy feature arrays found", input.display());
    }
    pairs.sort_by_key(|p| crate::util::split_order(p.split.as_deref().unwrap_or("")));
    Ok(pairs)
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
