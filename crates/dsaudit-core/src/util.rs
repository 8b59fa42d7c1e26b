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
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
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
