//! Walks a dataset directory once: every file (special files too), every directory, and every
//! problem met on the way (unreadable directories, symlink loops, non-UTF-8 names).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct WalkedFile {
    pub path: PathBuf,
    /// Relative to the walk root, with `/` separators (lossy for non-UTF-8 names).
    pub rel: String,
    pub utf8: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkIssue {
    pub path: String,
    pub problem: String,
}

#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<WalkedFile>,
    /// Directories below the root, relative, sorted.
    pub dirs: Vec<String>,
    pub issues: Vec<WalkIssue>,
}

pub fn rel_string(root: &Path, path: &Path) -> (String, bool) {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let utf8 = rel.to_str().is_some();
    let s = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    (s, utf8)
}

/// Hidden files and folders (`.git`, `.DS_Store`, `.gitkeep`) are skipped; .gitignore
/// is deliberately not honoured: data repositories often ignore their data folders
/// for git, and silently skipping samples is the worst failure an audit can have.
pub fn walk(root: &Path) -> Walked {
    let mut out = Walked::default();
    let walker = ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .hidden(true)
        .follow_links(true)
        .build();
    for entry in walker {
        match entry {
            Ok(e) => {
                if e.depth() == 0 {
                    continue;
                }
                let (rel, utf8) = rel_string(root, e.path());
                let ft = match e.file_type() {
                    Some(ft) => ft,
                    None => continue,
                };
                if ft.is_dir() {
                    out.dirs.push(rel);
                } else if ft.is_file() {
                    out.files.push(WalkedFile {
                        path: e.into_path(),
                        rel,
                        utf8,
                    });
                } else if ft.is_symlink() {
                    // follow_links is on, so a symlink left here is dangling.
                    out.issues.push(WalkIssue {
                        path: rel,
                        problem: "dangling symbolic link".into(),
                    });
                } else {
                    // A FIFO, a device or a socket (or a link to one) is listed like a
                    // file, so that it gets a manifest row and a finding: the reader
                    // refuses it without opening it (`safe_read`).
                    out.files.push(WalkedFile {
                        path: e.into_path(),
                        rel,
                        utf8,
                    });
                }
            }
            Err(err) => out.issues.push(walk_issue(root, &err)),
        }
    }
    out.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.dirs.sort();
    out
}

fn walk_issue(root: &Path, err: &ignore::Error) -> WalkIssue {
    use ignore::Error as E;
    match err {
        E::WithPath { path, err } => {
            let mut issue = walk_issue(root, err);
            issue.path = rel_string(root, path).0;
            issue
        }
        E::WithDepth { err, .. } | E::WithLineNumber { err, .. } => walk_issue(root, err),
        E::Loop { ancestor, child } => WalkIssue {
            path: rel_string(root, child).0,
            problem: format!("symbolic link loop back to {}", display_rel(root, ancestor)),
        },
        E::Io(io) => WalkIssue {
            path: String::new(),
            problem: crate::util::io_problem(io),
        },
        other => WalkIssue {
            path: String::new(),
            problem: other.to_string(),
        },
    }
}

fn display_rel(root: &Path, p: &Path) -> String {
    let (s, _) = rel_string(root, p);
    if s.is_empty() {
        "the dataset root".into()
    } else {
        s
    }
}
