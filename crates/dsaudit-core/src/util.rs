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
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
