//! Materialising an image dataset: `OUT/<split>/<class>/<file>` (or `OUT/<class>/<file>`
//! unsplit) as symbolic links, hard links or copies of the input files, so the
//! result is an image folder that `dsaudit scan` and every framework read as is.

use super::{Action, Plan, Samples};
use anyhow::{bail, Context, Result};
use dsaudit_core::load::Writer;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Symbolic links to the input files (absolute paths): instant, no space.
    Symlink,
    /// Hard links: no space, survive moving the input, same file system only.
    Hardlink,
    /// Copies: independent of the input.
    Copy,
}

impl dsaudit_core::choice::Choice for Mode {
    const ALL: &'static [(Mode, &'static str, &'static str)] = &[
        (
            Mode::Symlink,
            "symlink",
            "Symbolic links to the input files (absolute paths): instant, no space",
        ),
        (
            Mode::Hardlink,
            "hardlink",
            "Hard links: no space, survive moving the input, same file system only",
        ),
        (Mode::Copy, "copy", "Copies: independent of the input"),
    ];
}

/// The directory sample sources are relative to, resolved once: images of a labels
/// file are listed relative to it (unlisted ones are unlabeled and never written).
pub fn source_base(s: &Samples) -> Result<PathBuf> {
    let base = match s.spec.layout.writer() {
        Writer::Images {
            listed_in: Some(labels_file),
        } => labels_file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
        _ => s.spec.root.clone(),
    };
    std::fs::canonicalize(&base)
        .map_err(|e| anyhow::anyhow!("{}: {}", base.display(), dsaudit_core::util::io_problem(&e)))
}

fn folder_name(label: &str) -> Result<&str> {
    if label.is_empty() || label == "." || label == ".." || label.contains(['/', '\\', '\0']) {
        bail!("label '{label}' cannot be a folder name; materialise a table of paths instead (drop --materialize)");
    }
    Ok(label)
}

/// Writes the files of the output rows (`order` indexes `plan.rows`) under `dir`,
/// returning each row's path relative to `dir` (None for dropped rows).
pub fn materialize(
    s: &Samples,
    plan: &Plan,
    order: &[usize],
    mode: Mode,
    dir: &Path,
) -> Result<Vec<Option<String>>> {
    let sources = s.loaded.manifest.strs("source");
    let base = source_base(s)?;
    // The manifest names a file whose name is not UTF-8 lossily; its real name is the
    // walk's. Two such names that read the same cannot be told apart.
    let mut real: HashMap<&str, &Path> = HashMap::new();
    for f in s.spec.walked.files.iter().filter(|f| !f.utf8) {
        if real.insert(f.rel.as_str(), &f.path).is_some() {
            bail!(
                "{}: two file names that are not UTF-8 read the same; rename them to materialise the dataset",
                f.rel
            );
        }
    }
    let input_path = |source: &str| -> PathBuf {
        match real.get(source) {
            Some(p) => base.join(p.strip_prefix(&s.spec.root).unwrap_or(p)),
            None => base.join(source),
        }
    };
    let mut taken: HashSet<String> = HashSet::new();
    let mut rel: Vec<Option<String>> = vec![None; plan.rows.len()];
    let mut jobs: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut folders: Vec<PathBuf> = Vec::new();
    for &k in order {
        let r = &plan.rows[k];
        if !r.action.is_output() {
            continue;
        }
        let source = sources.get(r.src as usize).unwrap_or("");
        let label = match &r.action {
            Action::Relabeled { to } => to.as_str(),
            _ => s.classes[s.class[r.src as usize] as usize].as_str(),
        };
        let mut folder = PathBuf::new();
        if let Some(sp) = r.split {
            folder.push(&plan.splits[sp as usize]);
        }
        folder.push(folder_name(label)?);
        let name = free_name(source, r.src, r.copy, |n| {
            taken.contains(&folder.join(n).to_string_lossy().into_owned())
        })
        .with_context(|| format!("{source}: no free file name in {}", folder.display()))?;
        let path = folder.join(&name);
        let key = path.to_string_lossy().into_owned();
        taken.insert(key.clone());
        rel[k] = Some(key);
        if folders.last() != Some(&folder) {
            folders.push(folder);
        }
        jobs.push((input_path(source), dir.join(path)));
    }
    folders.sort();
    folders.dedup();
    for f in &folders {
        std::fs::create_dir_all(dir.join(f))
            .with_context(|| format!("{}: cannot create", f.display()))?;
    }
    jobs.par_iter()
        .try_for_each(|(from, to)| link(from, to, mode))?;
    Ok(rel)
}

/// The output name of input file `source` (its sample id `src`, copy number `copy`):
/// its own name when free, else one made distinct by the id or the copy, so that
/// copies and same-named files from different folders never collide. None when
/// every candidate is `taken`.
pub fn free_name(
    source: &str,
    src: u32,
    copy: u32,
    taken: impl Fn(&str) -> bool,
) -> Option<String> {
    let file = Path::new(source);
    let stem = file.file_stem().unwrap_or_default().to_string_lossy();
    let ext = file
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let candidates = [
        (copy == 0).then(|| format!("{stem}{ext}")),
        Some(if copy == 0 {
            format!("{stem}.{src}{ext}")
        } else {
            format!("{stem}.copy{copy}{ext}")
        }),
        Some(format!("{stem}.{src}.{copy}{ext}")),
    ];
    candidates.into_iter().flatten().find(|n| !taken(n))
}

/// One input file placed in the output: linked or copied as `mode` says.
pub fn link(from: &Path, to: &Path, mode: Mode) -> Result<()> {
    let done = match mode {
        // A link to nothing would be written without complaint.
        Mode::Symlink => std::fs::metadata(from).and_then(|_| symlink(from, to)),
        Mode::Hardlink => std::fs::hard_link(from, to),
        Mode::Copy => std::fs::copy(from, to).map(|_| ()),
    };
    done.map_err(|e| {
        let hint = if mode == Mode::Hardlink && e.raw_os_error() == Some(18) {
            " (the output is on another file system: use --materialize symlink or copy)"
        } else {
            ""
        };
        anyhow::anyhow!(
            "{}: cannot {} to {}: {}{hint}",
            from.display(),
            verb(mode),
            to.display(),
            dsaudit_core::util::io_problem(&e)
        )
    })
}

fn verb(mode: Mode) -> &'static str {
    match mode {
        Mode::Symlink => "link",
        Mode::Hardlink => "hard-link",
        Mode::Copy => "copy",
    }
}

#[cfg(unix)]
fn symlink(from: &Path, to: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(from, to)
}

#[cfg(windows)]
fn symlink(from: &Path, to: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_file(from, to)
}
