//! The scan-only build (`cargo build --no-default-features`): the pre-commit hook's
//! binary. It must report exactly what the full build reports, and say in one line
//! how to get what it lacks. The suite runs it when DSAUDIT_SCAN_ONLY_BIN names one
//! (`.ci/run` builds it first); with DSAUDIT_REQUIRE_SCAN_ONLY set, a missing one
//! fails instead of skipping.

use crate::util::run;
use std::path::PathBuf;
use std::process::{Command, Output};

fn scan_only() -> Option<PathBuf> {
    match std::env::var_os("DSAUDIT_SCAN_ONLY_BIN") {
        Some(p) => Some(PathBuf::from(p)),
        None if cfg!(not(feature = "baseline")) => Some(env!("CARGO_BIN_EXE_dsaudit").into()),
        None if std::env::var_os("DSAUDIT_REQUIRE_SCAN_ONLY").is_some() => {
            panic!("DSAUDIT_REQUIRE_SCAN_ONLY is set but DSAUDIT_SCAN_ONLY_BIN names no binary")
        }
        None => {
            eprintln!("skipped: set DSAUDIT_SCAN_ONLY_BIN to a --no-default-features build");
            None
        }
    }
}

fn run_with(bin: &PathBuf, args: &[&str]) -> Output {
    let mut c = Command::new(bin);
    c.current_dir(env!("CARGO_MANIFEST_DIR")).args(args);
    c.output().expect("run the scan-only dsaudit")
}

#[test]
fn reports_exactly_what_the_full_build_reports() {
    let Some(bin) = scan_only() else { return };
    for (path, format) in [
        ("sample_data/images", "json"),
        ("sample_data/table.csv", "json"),
        ("sample_data/images", "sarif"),
    ] {
        let args = ["scan", path, "--format", format, "--fail-on", "never"];
        let full = run(&args);
        let lean = run_with(&bin, &args);
        assert!(full.status.success() && lean.status.success());
        assert_eq!(
            String::from_utf8_lossy(&full.stdout),
            String::from_utf8_lossy(&lean.stdout),
            "{path} as {format}"
        );
    }
}

#[test]
fn says_in_one_line_how_to_get_the_baseline() {
    let Some(bin) = scan_only() else { return };
    let o = run_with(&bin, &["baseline", "sample_data/images", "--overfit"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("without the `baseline` feature"), "{err}");
    assert!(err.contains("cargo install dsaudit"), "{err}");
}

#[test]
fn refuses_the_label_networks_in_one_line() {
    let Some(bin) = scan_only() else { return };
    for model in ["cnn", "mlp"] {
        let o = run_with(
            &bin,
            &["scan", "sample_data/table.csv", "--label-model", model],
        );
        assert_eq!(o.status.code(), Some(2), "{model}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.contains("--label-model") && err.contains("`baseline` feature"),
            "{err}"
        );
    }
}
