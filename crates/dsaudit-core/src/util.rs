//! Small helpers shared by loaders and writers.

use std::io;

/// A short, lower-case description of an I/O error for one-line messages.
pub fn io_problem(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            // std appends " (os error N)"; the number helps nobody reading a report.
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

/// Canonical split name: the aliases people use for the same three roles.
pub fn canonical_split(name: &str) -> Option<&'static str> {
    match name.trim().to_ascii_lowercase().as_str() {
        "train" | "training" => Some("train"),
        "val" | "valid" | "validation" | "dev" => Some("val"),
        "test" | "testing" => Some("test"),
        // The two validation splits `dsaudit split` writes (one per distribution).
        "train-val" | "train_val" | "trainval" => Some("train-val"),
        "test-val" | "test_val" | "testval" => Some("test-val"),
        _ => None,
    }
}

/// Split value as stored in the manifest: canonical when recognised, else lower-cased.
pub fn split_value(name: &str) -> String {
    canonical_split(name)
        .map(str::to_string)
        .unwrap_or_else(|| name.trim().to_ascii_lowercase())
}

pub fn split_order(split: &str) -> (u8, String) {
    let rank = match split {
        "train" => 0,
        "train-val" => 1,
        "val" => 2,
        "test-val" => 3,
        "test" => 4,
        _ => 5,
    };
    (rank, split.to_string())
}

/// Rounds for reports: four decimals keep JSON stable and readable.
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// "1 cluster", "3 clusters": counts in messages read as English.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A path's extension, lower case ("" without one).
pub fn ext_of(path: &std::path::Path) -> String {
    extension(path)
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether `path`'s extension is `ext` (lower-case ASCII) in any case: `ext_of(path)
/// == ext` without building the string.
pub fn ext_is(path: &std::path::Path, ext: &str) -> bool {
    ext_in(path, &[ext])
}

/// Whether `path`'s extension is one of `exts` (lower-case ASCII) in any case, the
/// extension found once for all of them.
pub fn ext_in(path: &std::path::Path, exts: &[&str]) -> bool {
    debug_assert!(exts
        .iter()
        .all(|e| !e.bytes().any(|b| b.is_ascii_uppercase())));
    extension(path).is_some_and(|e| {
        let e = e.as_encoded_bytes();
        exts.iter().any(|x| e.eq_ignore_ascii_case(x.as_bytes()))
    })
}

/// `Path::extension`, read from the bytes after the last `/` when the last component
/// is a plain name (not empty, `.` or `..`, which `Path` parses on its own). The
/// survey and every format's detection ask it of every file of the walk: parsing each
/// whole path into components was 12% of a warm `dsaudit check` of 100,000 images.
pub fn extension(path: &std::path::Path) -> Option<&std::ffi::OsStr> {
    if !cfg!(unix) {
        return path.extension();
    }
    let bytes = path.as_os_str().as_encoded_bytes();
    let name = &bytes[bytes.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1)..];
    if name.is_empty() || name == b"." || name == b".." {
        return path.extension();
    }
    match name.iter().rposition(|&b| b == b'.') {
        None | Some(0) => None,
        // SAFETY: split just after an ASCII byte of the OsStr's own encoded bytes.
        Some(dot) => {
            Some(unsafe { std::ffi::OsStr::from_encoded_bytes_unchecked(&name[dot + 1..]) })
        }
    }
}

/// A message on one line: every run of white space (line breaks included) one space.
/// An error and its causes on one line, control characters escaped: what every
/// front end prints (the CLI after `error: `, the Python package as the exception).
pub fn error_line(e: &anyhow::Error) -> String {
    let parts: Vec<String> = e.chain().map(|c| one_line(&c.to_string())).collect();
    printable(&parts.join(": ")).into_owned()
}

pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `s` with its control characters written as escapes (`\n`, `\r`, `\t`, `\u{1b}`),
/// and the Unicode controls that reorder text on screen too: a file name or a label
/// holding a line break could otherwise forge lines of a report, or a GitHub
/// workflow command (`::error`) in a CI log.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let hostile =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !s.chars().any(hostile) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hostile(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Runs `f`, turning a panic into an error with its message: the last line of defence
/// at a file boundary, so that one file a parser cannot handle is reported as that
/// file's problem instead of ending the run. The binary's panic hook prints nothing;
/// whoever catches the panic words it.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        one_line(&msg)
    })
}

/// Two sorted lists of distinct values as one, sorted and distinct.
pub fn sorted_union<T: Ord + Copy>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => (out.push(a[i]), i += 1),
            std::cmp::Ordering::Greater => (out.push(b[j]), j += 1),
            std::cmp::Ordering::Equal => (out.push(a[i]), (i, j) = (i + 1, j + 1)),
        };
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("train/cat/a.png"), "train/cat/a.png");
        assert_eq!(
            printable("x\n::error::pwned\r\u{1b}[31m\u{202e}"),
            "x\\n::error::pwned\\r\\u{1b}[31m\\u{202e}"
        );
        assert_eq!(printable("café ünïcode"), "café ünïcode");
    }

    /// Every path of up to ten bytes from an alphabet of separators, dots, letters
    /// of both cases and a byte that is not UTF-8.
    #[cfg(unix)]
    fn paths() -> impl proptest::strategy::Strategy<Value = std::path::PathBuf> {
        use proptest::prelude::*;
        use std::os::unix::ffi::OsStrExt;
        prop::collection::vec(prop::sample::select(b"/./.aPng.\xff".to_vec()), 0..10)
            .prop_map(|b| std::path::PathBuf::from(std::ffi::OsStr::from_bytes(&b)))
    }

    #[cfg(unix)]
    proptest::proptest! {
        #[test]
        fn extension_is_paths_own(path in paths()) {
            proptest::prop_assert_eq!(extension(&path), path.extension());
            let own = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
            for ext in ["png", "a", ""] {
                proptest::prop_assert_eq!(ext_is(&path, ext), own.as_deref() == Some(ext));
            }
        }
    }

    #[test]
    fn extensions_of_plain_and_odd_names() {
        for p in [
            "a/b/c.PNG",
            "c.png",
            "c",
            ".hidden",
            "..x",
            "a.",
            "a//b.tar",
            "/",
            "a/b/.",
            "a/b/..",
            "a/b.png/",
            "a/b.png/.",
            "",
            ".",
            "..",
            "x/.png",
            "x/y.tar.gz",
        ] {
            let path = std::path::Path::new(p);
            assert_eq!(extension(path), path.extension(), "{p:?}");
        }
        assert!(ext_is(std::path::Path::new("a/B.PnG"), "png"));
        assert!(!ext_is(std::path::Path::new("a/b.png.txt"), "png"));
        assert_eq!(ext_of(std::path::Path::new("x/y.TAR")), "tar");
    }

    #[test]
    fn panics_become_errors() {
        assert_eq!(guarded(|| 3), Ok(3));
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let caught = guarded(|| -> u8 { panic!("bad {}\nthing", 1) });
        std::panic::set_hook(hook);
        assert_eq!(caught, Err("bad 1 thing".to_string()));
    }
}
