//! Walks a dataset directory once: every file (special files too), every directory, and every
//! problem met on the way (unreadable directories, symlink loops, non-UTF-8 names).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct WalkedFile {
    pub path: PathBuf,
    /// Relative to the walk root, with `/` separators (lossy for non-UTF-8 names).
    pub rel: String,
    pub utf8: bool,
    ext: Ext,
}

impl WalkedFile {
    pub fn new(path: PathBuf, rel: String, utf8: bool) -> WalkedFile {
        let ext = Ext::of(&path);
        WalkedFile {
            path,
            rel,
            utf8,
            ext,
        }
    }

    /// Whether the file's extension is one of `exts` (lower-case ASCII), in any case:
    /// `util::ext_in(&self.path, exts)`. Every format's detection asks it of every file
    /// of the walk; reading each path's bytes again, six passes over 100,000 paths,
    /// was 15% of a part of 1% of them.
    pub fn ext_in(&self, exts: &[&str]) -> bool {
        exts.iter().any(|e| self.ext.is(e))
    }
}

/// A file's extension in lower case, zero-padded; all `0xFF` when longer than eight
/// bytes (no extension dsaudit reads is), all zero when there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ext([u8; 8]);

impl Ext {
    fn of(path: &Path) -> Ext {
        let mut out = [0u8; 8];
        let Some(e) = crate::util::extension(path) else {
            return Ext(out);
        };
        let e = e.as_encoded_bytes();
        if e.len() > out.len() {
            return Ext([0xFF; 8]);
        }
        for (o, c) in out.iter_mut().zip(e) {
            *o = c.to_ascii_lowercase();
        }
        Ext(out)
    }

    /// `ext`: lower-case ASCII, not empty.
    fn is(&self, ext: &str) -> bool {
        let e = ext.as_bytes();
        debug_assert!(!e.is_empty() && !e.iter().any(|b| b.is_ascii_uppercase()));
        e.len() <= self.0.len()
            && self.0[..e.len()] == *e
            && self.0[e.len()..].iter().all(|&c| c == 0)
    }
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
    if let Some(rest) = plain_rest(root, path) {
        return (
            String::from_utf8_lossy(rest).into_owned(),
            std::str::from_utf8(rest).is_ok(),
        );
    }
    by_components(root, path)
}

/// `path` less `root`, its components joined by `/`, each lossy; and whether that
/// relative path is UTF-8.
fn by_components(root: &Path, path: &Path) -> (String, bool) {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let s = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    (s, rel.to_str().is_some())
}

/// The bytes after `root/` when `path` is `root`'s bytes, `/`, then names separated
/// by single `/`s (none `.`): what the walk's joins give, and what `strip_prefix` and
/// the components would give too, without taking every path of the walk apart
/// (`rel_string` was 7.9% of the CPU of a part of 1% of 100,000 images, 1.9% with
/// this). None otherwise.
fn plain_rest<'a>(root: &Path, path: &'a Path) -> Option<&'a [u8]> {
    if !cfg!(unix) {
        return None;
    }
    let (r, p) = (
        root.as_os_str().as_encoded_bytes(),
        path.as_os_str().as_encoded_bytes(),
    );
    if r.is_empty() || r.ends_with(b"/") || !p.starts_with(r) || p.get(r.len()) != Some(&b'/') {
        return None;
    }
    let rest = &p[r.len() + 1..];
    rest.split(|&b| b == b'/')
        .all(|c| !c.is_empty() && c != b".")
        .then_some(rest)
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
                    out.files.push(WalkedFile::new(e.into_path(), rel, utf8));
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
                    out.files.push(WalkedFile::new(e.into_path(), rel, utf8));
                }
            }
            Err(err) => out.issues.push(walk_issue(root, &err)),
        }
    }
    // Two names alike once made UTF-8 (lossily) are ordered by their bytes, not
    // as the directory listed them; unstable, so no scratch copy of the listing.
    out.files.sort_unstable_by(|a, b| {
        a.rel.cmp(&b.rel).then_with(|| {
            let (x, y) = (a.path.as_os_str(), b.path.as_os_str());
            x.as_encoded_bytes().cmp(y.as_encoded_bytes())
        })
    });
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn piece() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "a",
            "b.png",
            ".",
            "..",
            "",
            "/",
            "x y",
            "é",
            "c.JPEG",
            "data",
            "img.tar.gz",
        ])
        .prop_map(str::to_string)
    }

    proptest! {
        /// Roots and paths with empty, `.` and `..` parts, doubled and trailing
        /// slashes, absolute and relative: the shortcut, where it applies, is what the
        /// components give.
        #[test]
        fn rel_string_is_the_components_joined(
            root in prop::collection::vec(piece(), 1..4),
            rest in prop::collection::vec(piece(), 1..5),
            slash in prop::bool::ANY,
        ) {
            let root = PathBuf::from(root.join("/"));
            let path = PathBuf::from(format!("{}{}{}", root.display(), if slash { "/" } else { "" }, rest.join("/")));
            prop_assert_eq!(rel_string(&root, &path), by_components(&root, &path));
        }

        /// The extension kept from the walk answers as the path's own does.
        #[test]
        fn ext_in_is_the_paths(name in "[a-zA-Z.]{0,5}\\.?[a-zA-Z]{0,10}") {
            let f = WalkedFile::new(PathBuf::from(format!("d/{name}")), name.clone(), true);
            for exts in [crate::discover::IMAGE_EXTS, crate::discover::TABLE_EXTS, &["json"], &["yaml", "yml"]] {
                prop_assert_eq!(f.ext_in(exts), crate::util::ext_in(&f.path, exts), "{}", name);
            }
        }
    }

    /// Two names that read alike once made UTF-8 come in the order of their bytes,
    /// whichever the directory lists first.
    #[test]
    #[cfg(unix)]
    fn names_alike_when_lossy_are_ordered_by_their_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let (low, high) = (&b"a\xfe.png"[..], &b"a\xff.png"[..]);
        for (sub, order) in [("x", [high, low]), ("y", [low, high])] {
            let d = dir.path().join(sub);
            std::fs::create_dir(&d).unwrap();
            for name in order {
                std::fs::write(d.join(std::ffi::OsStr::from_bytes(name)), b"").unwrap();
            }
            let walked = walk(&d);
            let names: Vec<&[u8]> = walked
                .files
                .iter()
                .map(|f| f.path.file_name().unwrap().as_bytes())
                .collect();
            assert_eq!(names, [low, high], "{sub}");
            assert_eq!(walked.files[0].rel, walked.files[1].rel);
        }
    }

    #[test]
    #[cfg(unix)]
    fn non_utf8_names_are_lossy_and_say_so() {
        use std::os::unix::ffi::OsStrExt;
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(b"root/a\xff/b.png"));
        let root = Path::new("root");
        assert_eq!(rel_string(root, &path), by_components(root, &path));
        assert_eq!(
            rel_string(root, &path),
            ("a\u{fffd}/b.png".to_string(), false)
        );
    }
}
