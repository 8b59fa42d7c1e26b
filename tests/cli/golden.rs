//! Golden JSON reports on the committed sample data. `UPDATE_GOLDEN=1 cargo test`
//! rewrites them; review the diff before committing.

use crate::util::{run, snapshot};
use std::path::Path;

/// Asserts `actual` equals tests/golden/NAME, or rewrites it under UPDATE_GOLDEN.
fn compare(actual: &str, name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "report differs from {}; rerun with UPDATE_GOLDEN=1 and review\n{actual}",
        path.display()
    );
}

fn check_golden(dataset: &str, golden: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let before = snapshot(&root.join(dataset));
    let out = run(&["scan", dataset, "--format", "json", "--quiet"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "sample data has error findings; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let actual = String::from_utf8(out.stdout).unwrap();
    compare(&actual, golden);
    // A second run gives the same bytes, and the input is untouched.
    let again = run(&["scan", dataset, "--format", "json", "--quiet"]);
    assert_eq!(String::from_utf8(again.stdout).unwrap(), actual);
    assert!(
        before == snapshot(&root.join(dataset)),
        "scan modified the input"
    );
}

#[test]
fn sample_images_golden() {
    check_golden("sample_data/images", "sample_images.json");
}

#[test]
fn sample_table_golden() {
    check_golden("sample_data/table.csv", "sample_table.json");
}

#[test]
fn text_report_names_layout_counts_and_findings() {
    let out = run(&["scan", "sample_data/images", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "layout   image-folder (ROOT/<split>/<class>/*)",
        "guessed  layout: image folder with split folders",
        "samples  167 (3 unreadable)",
        "error[I002] truncated-file",
        "train/circle/040_truncated.png",
        "warning[I010] empty-class: class folder 'test/hexagon'",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // Worst first: every error line comes before every warning line.
    let last_error = text.rfind("\nerror[").unwrap();
    let first_warning = text.find("\nwarning[").unwrap();
    assert!(last_error < first_warning);
}

#[test]
fn rules_doc_is_up_to_date() {
    let out = run(&["rules", "--markdown"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md"))
        .unwrap_or_default();
    assert!(
        doc == String::from_utf8(out.stdout).unwrap(),
        "docs/rules.md is stale: run `cargo run -- rules --markdown > docs/rules.md`"
    );
}

#[test]
fn sample_data_is_what_the_generator_makes() {
    // `cargo test` builds the examples beside the test binaries (target/debug/examples).
    let exe = std::env::current_exe().unwrap();
    let gen = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(format!("gen_data{}", std::env::consts::EXE_SUFFIX));
    assert!(gen.exists(), "{} not built", gen.display());
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(&gen)
        .arg("sample")
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let strip = |base: &Path, files: Vec<(std::path::PathBuf, Vec<u8>)>| {
        files
            .into_iter()
            .map(|(p, b)| (p.strip_prefix(base).unwrap().to_path_buf(), b))
            .collect::<Vec<_>>()
    };
    let made = strip(out.path(), snapshot(out.path()));
    let committed = strip(&root, snapshot(&root));
    assert_eq!(made.len(), committed.len());
    for ((pm, bm), (pc, bc)) in made.iter().zip(&committed) {
        assert_eq!(pm, pc);
        assert!(
            bm == bc,
            "{} differs from the generator's output: run `just sample-data`",
            pc.display()
        );
    }
}

#[test]
fn stats_text_prints_constants_ready_to_paste() {
    let out = run(&["stats", "sample_data/images", "sample_data/table.csv"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "  paste: transforms.Normalize(mean=[0.2936, 0.2805, 0.2714], std=[0.2553, 0.2485, 0.2379])  # train split",
        "Modes: RGB (163), L (1)",
        "dsaudit stats · sample_data/table.csv",
        "  petal_area",
        "  color      text, 3 distinct values, 0 missing",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

/// Markdown and SARIF on the sample data, golden like the JSON (same UPDATE_GOLDEN).
fn check_golden_format(dataset: &str, format: &str, golden: &str) {
    let out = run(&[
        "check",
        dataset,
        "--format",
        format,
        "--no-cache",
        "--quiet",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    compare(&String::from_utf8(out.stdout).unwrap(), golden);
}

#[test]
fn sample_images_markdown_golden() {
    check_golden_format("sample_data/images", "markdown", "sample_images.md");
}

#[test]
fn sample_table_markdown_golden() {
    check_golden_format("sample_data/table.csv", "markdown", "sample_table.md");
}

#[test]
fn sample_images_sarif_golden() {
    check_golden_format("sample_data/images", "sarif", "sample_images.sarif");
}
