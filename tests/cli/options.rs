//! Rule selection, fail levels and outputs.

use crate::util::*;

fn dataset_with_warning_and_error() -> Dir {
    let d = Dir::new();
    d.png("a/0.png", 1);
    d.png("b/1.png", 2);
    d.write("a/2.png", b""); // I003, error
    d.png("stray.png", 3); // I007, warning
    d
}

#[test]
fn exit_codes_follow_fail_on() {
    let d = dataset_with_warning_and_error();
    assert_eq!(run_path(d.path(), &["-q"]).status.code(), Some(1));
    assert_eq!(
        run_path(d.path(), &["-q", "--fail-on", "never"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run_path(d.path(), &["-q", "--ignore", "I003"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run_path(
            d.path(),
            &["-q", "--ignore", "I003", "--fail-on", "warning"]
        )
        .status
        .code(),
        Some(1)
    );
}

#[test]
fn select_and_ignore_by_code_prefix_and_name() {
    let d = dataset_with_warning_and_error();
    assert_eq!(integrity_codes(&scan_json(d.path(), &[])), ["I003", "I007"]);
    assert_eq!(codes(&scan_json(d.path(), &["--select", "I007"])), ["I007"]);
    assert_eq!(
        codes(&scan_json(
            d.path(),
            &["--select", "I00", "--ignore", "unlabeled-sample"]
        )),
        ["I003"]
    );
    assert_eq!(
        integrity_codes(&scan_json(d.path(), &["--ignore", "I"])),
        Vec::<String>::new()
    );
}

#[test]
fn several_paths_and_report_file() {
    let a = dataset_with_warning_and_error();
    let b = Dir::new();
    b.write("t.csv", "x,label\n1,a\n2,b\n");
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("r.json");
    let o = dsaudit()
        .args([
            "scan",
            "-q",
            "--format",
            "json",
            "--output",
            report.to_str().unwrap(),
        ])
        .arg(a.path())
        .arg(b.join("t.csv"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["datasets"].as_array().unwrap().len(), 2);
    assert_eq!(v["datasets"][1]["samples"], 2);
}

#[test]
fn every_sample_is_counted_once() {
    // rows read = rows reported: samples = sum over splits, and the manifest agrees.
    let ds = scan_json(std::path::Path::new("sample_data/images"), &[]);
    let per_split: u64 = ds["splits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["samples"].as_u64().unwrap())
        .sum();
    assert_eq!(per_split, ds["samples"].as_u64().unwrap());
    let labelled: u64 = counts(&ds).iter().map(|c| c.2).sum();
    let unlabeled: u64 = ds["splits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["unlabeled"].as_u64().unwrap())
        .sum();
    assert_eq!(labelled + unlabeled, per_split);
}
