//! Images listed in a labels table (`path,label[,split]`), plus any image on disk
//! that the table forgets (reported as unlabeled).

use super::image_folder::{describe_all, Job};
use super::table::{label_strings, read, resolve_label, resolve_split, split_strings};
use super::DatasetSpec;
use super::{Loaded, LABEL_NAMES};
use crate::discover::{path_column, IMAGE_EXTS, PATH_NAMES};
use anyhow::{bail, Result};
use polars::prelude::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub fn load(
    spec: &DatasetSpec,
    labels_file: &Path,
    quiet: bool,
    files: Option<&dyn super::Recall>,
) -> Result<Loaded> {
    let df = read(labels_file, None)?;
    let Some(path_col) = path_column(&df) else {
        bail!(
            "{}: no column of image paths found (looked for {})",
            labels_file.display(),
            PATH_NAMES.join(", ")
        );
    };
    let label = resolve_label(&df, labels_file, spec.hints.label.as_deref())?;
    let split = resolve_split(&df, labels_file, spec.hints.split.as_deref())?;
    let guesses = column_guesses(spec, &path_col, &label, &split);
    let base = labels_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let h = df.height();
    let paths = df.column(&path_col)?.str()?.clone();
    let labels_col = match &label {
        Some(l) => label_strings(df.column(l)?)?,
        None => Column::full_null("label".into(), h, &DataType::String),
    };
    let labels = labels_col.str()?.clone();
    let splits_col = match &split {
        Some(s) => split_strings(df.column(s)?)?,
        None => Column::full_null("split".into(), h, &DataType::String),
    };
    let splits = splits_col.str()?.clone();

    let listed: Vec<PathBuf> = (0..h)
        .map(|i| base.join(paths.get(i).unwrap_or("")))
        .collect();
    // Paths that leave the dataset are not read unless the user says so.
    let root = crate::output::absolute(&spec.root);
    let abs_base = crate::output::absolute(&base);
    let refuse = |listed: &str| !spec.hints.allow_outside_paths && leaves(&root, &abs_base, listed);
    let mut jobs = Vec::with_capacity(h);
    let mut seen = HashSet::new();
    for (i, p) in listed.iter().enumerate() {
        let rel = paths
            .get(i)
            .unwrap_or("")
            .trim_start_matches("./")
            .to_string();
        seen.insert(crate::walk::rel_string(&spec.root, p).0);
        jobs.push(Job {
            path: p,
            source: rel,
            split: splits.get(i).map(str::to_string),
            label: labels.get(i).map(str::to_string),
            row: Some(i as u64),
            outside: refuse(paths.get(i).unwrap_or("")),
        });
    }
    let ignored = add_unlisted(spec, labels_file, &seen, &mut jobs);
    let samples = describe_all(jobs, quiet, files);
    let mut loaded = Loaded::from_images(&samples)?;
    loaded.label_column = label;
    loaded.split_column = split;
    loaded.ignored_files = ignored;
    loaded.guesses = guesses;
    Ok(loaded)
}

/// What was guessed of the labels file's columns.
fn column_guesses(
    spec: &DatasetSpec,
    path_col: &str,
    label: &Option<String>,
    split: &Option<String>,
) -> Vec<String> {
    let mut guesses = vec![format!("path column: {path_col}")];
    match (label, spec.hints.label.is_some()) {
        (Some(l), false) => guesses.push(format!("label column: {l}")),
        (None, _) => guesses.push(format!(
            "label column: none found (looked for {}); pass --label",
            LABEL_NAMES.join(", ")
        )),
        _ => {}
    }
    if let (Some(s), false) = (split, spec.hints.split.is_some()) {
        guesses.push(format!("split column: {s}"));
    }
    guesses
}

/// Images under the root that the labels file does not list become unlabeled
/// samples; other files not listed are returned, as ignored.
fn add_unlisted<'a>(
    spec: &'a DatasetSpec,
    labels_file: &Path,
    seen: &HashSet<String>,
    jobs: &mut Vec<Job<'a>>,
) -> Vec<String> {
    let labels_rel = crate::walk::rel_string(&spec.root, labels_file).0;
    let mut ignored = Vec::new();
    for f in &spec.walked.files {
        if seen.contains(&f.rel) || f.rel == labels_rel {
            continue;
        }
        if f.ext_in(IMAGE_EXTS) {
            jobs.push(Job {
                path: &f.path,
                source: f.rel.clone(),
                split: None,
                label: None,
                row: None,
                outside: false,
            });
        } else {
            ignored.push(f.rel.clone());
        }
    }
    ignored
}

/// Whether `listed`, a path a labels file in `base` names, lies outside `root` (both
/// absolute): an absolute path elsewhere, or `..` climbing above the root. Decided on
/// the names, so that a path is refused before anything of it is touched.
pub fn leaves(root: &Path, base: &Path, listed: &str) -> bool {
    use std::path::Component;
    let mut at = PathBuf::new();
    for c in base.join(listed).components() {
        match c {
            Component::ParentDir => {
                if !at.pop() {
                    return true;
                }
            }
            Component::CurDir => {}
            other => at.push(other.as_os_str()),
        }
    }
    !at.starts_with(root)
}

#[cfg(test)]
mod tests {
    use super::leaves;
    use std::path::Path;

    #[test]
    fn paths_that_leave_the_root() {
        let (root, base) = (Path::new("/data/ds"), Path::new("/data/ds/meta"));
        assert!(!leaves(root, base, "../img/a.png"));
        assert!(!leaves(root, base, "./b.png"));
        assert!(!leaves(root, base, "/data/ds/img/c.png"));
        assert!(leaves(root, base, "../../other/a.png"));
        assert!(leaves(root, base, "/etc/passwd"));
        assert!(leaves(root, base, "../../ds2/x.png"));
        assert!(leaves(root, base, "../../../../../../etc/shadow"));
        assert!(!leaves(root, base, "x/../../img/a.png"));
    }
}
