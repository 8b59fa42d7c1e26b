//! Every bad input gets a one-line error naming the file (exit 2) or a finding.

use crate::util::*;

#[test]
fn nonexistent_path() {
    let err = error_of(&run(&["scan", "no/such/dataset"]));
    assert_eq!(err, "error: no/such/dataset: no such file or directory");
}

#[test]
fn empty_directory() {
    let d = Dir::new();
    let err = error_of(&run_path(d.path(), &[]));
    assert!(
        err.ends_with(": empty directory: no files to scan"),
        "{err}"
    );
    assert!(err.contains(d.path().to_str().unwrap()));
}

#[test]
fn no_recognisable_layout() {
    let d = Dir::new();
    d.write("notes.txt", "hi");
    d.write("sub/model.bin", [0u8, 1, 2]);
    let err = error_of(&run_path(d.path(), &[]));
    assert!(
        err.contains("no recognisable dataset layout: found 2 files"),
        "{err}"
    );
}

#[test]
fn single_image_and_unknown_file() {
    let d = Dir::new();
    let p = d.png("a.png", 1);
    let err = error_of(&run_path(&p, &[]));
    assert!(
        err.contains("a.png: a single image is not a dataset"),
        "{err}"
    );
    let q = d.write("weights.bin", [1u8]);
    let err = error_of(&run_path(&q, &[]));
    assert!(err.contains("weights.bin: unsupported file type"), "{err}");
}

#[cfg(unix)]
#[test]
fn unreadable_file_and_folder() {
    use std::os::unix::fs::PermissionsExt;
    let d = Dir::new();
    d.png("a/ok.png", 1);
    let locked = d.png("a/locked.png", 2);
    d.png("b/inner/x.png", 3);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(d.join("b/inner"), std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads through permissions: run as a user they apply to.
    let Some(mut c) = unprivileged(d.path()) else {
        eprintln!(
            "skipped: running as root without setpriv (DSAUDIT_REQUIRE_NONROOT makes this fail)"
        );
        return;
    };
    let out = c
        .args(["scan", "--format", "json", "-q"])
        .arg(d.path())
        .output()
        .unwrap();
    std::fs::set_permissions(d.join("b/inner"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let ds = &v["datasets"][0];
    let f = finding(ds, "I001");
    assert_eq!(sources(f), ["a/locked.png"]);
    assert_eq!(f["samples"][0]["note"], "permission denied");
    assert_eq!(sources(finding(ds, "I013")), ["b/inner"]);
}

#[cfg(unix)]
#[test]
fn unreadable_table_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let d = Dir::new();
    let t = d.write("t.csv", "a,label\n1,x\n");
    std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o000)).unwrap();
    let Some(mut c) = unprivileged(d.path()) else {
        eprintln!(
            "skipped: running as root without setpriv (DSAUDIT_REQUIRE_NONROOT makes this fail)"
        );
        return;
    };
    let err = error_of(&c.arg("scan").arg(&t).output().unwrap());
    assert!(err.contains("t.csv: permission denied"), "{err}");
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_dangling_links() {
    let d = Dir::new();
    d.png("a/0.png", 1);
    d.png("b/0.png", 2);
    std::os::unix::fs::symlink(d.path(), d.join("a/loop")).unwrap();
    std::os::unix::fs::symlink(d.join("nowhere.png"), d.join("b/dangling.png")).unwrap();
    let ds = scan_json(d.path(), &[]);
    assert_eq!(ds["samples"], 2);
    let f = finding(&ds, "I013");
    let notes: Vec<String> = f["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s["source"].as_str().unwrap(),
                s["note"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        notes.contains(&"a/loop: symbolic link loop back to the dataset root".to_string()),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with("b/dangling.png: ")),
        "{notes:?}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn non_utf8_file_names() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let d = Dir::new();
    d.png("a/0.png", 1);
    let name = OsStr::from_bytes(b"caf\xe9.png");
    std::fs::write(
        d.join("a").join(name),
        crate::util::encode(&rgb(4, 4, 1), image::ImageFormat::Png),
    )
    .unwrap();
    let ds = scan_json(d.path(), &[]);
    assert_eq!(ds["samples"], 2);
    assert_eq!(ds["unreadable"], 0);
    assert_eq!(sources(finding(&ds, "I014")), ["a/caf\u{FFFD}.png"]);
}

#[test]
fn ragged_csv_names_the_line() {
    let d = Dir::new();
    d.write("t.csv", "a,b,label\n1,2,x\n3,4,y,extra\n5,6,z\n");
    let err = error_of(&run_path(&d.join("t.csv"), &[]));
    assert!(
        err.contains("t.csv: ragged rows: line 3 has 4 fields, the header has 3"),
        "{err}"
    );
}

#[test]
fn a_short_csv_row_is_named_not_read_as_missing_values() {
    let d = Dir::new();
    d.write("t.csv", "a,b,label\n1,2,x\n3\n5,6,z\n");
    let err = error_of(&run_path(&d.join("t.csv"), &[]));
    assert!(
        err.contains("t.csv: ragged rows: line 3 has 1 field, the header has 3"),
        "{err}"
    );
    // The same in a last line with no line break, and in a TSV.
    d.write("u.tsv", "a\tb\tlabel\n1\t2\tx\n5\t6");
    let err = error_of(&run_path(&d.join("u.tsv"), &[]));
    assert!(
        err.contains("u.tsv: ragged rows: line 3 has 2 fields, the header has 3"),
        "{err}"
    );
    // With quoted fields (a separator inside one), rows are told apart by the quotes.
    d.write("q.csv", "a,b,label\n\"1,5\",2,x\n3\n");
    let err = error_of(&run_path(&d.join("q.csv"), &[]));
    assert!(
        err.contains("q.csv: ragged rows: line 3 has 1 field, the header has 3"),
        "{err}"
    );
    // Empty last fields are missing values, not broken rows.
    d.write("v.csv", "a,label,b\n1,x,\n2,y,3\n");
    let ds = scan_json(&d.join("v.csv"), &[]);
    assert_eq!(ds["samples"], 2);
}

#[test]
fn missing_label_column() {
    let d = Dir::new();
    d.write("t.csv", "a,b,label\n1,2,x\n");
    let err = error_of(&run_path(&d.join("t.csv"), &["--label", "nope"]));
    assert!(
        err.contains("t.csv: --label column 'nope' not found; columns are: a, b, label"),
        "{err}"
    );
}

#[test]
fn empty_table_file() {
    let d = Dir::new();
    d.write("t.csv", "");
    let err = error_of(&run_path(&d.join("t.csv"), &[]));
    assert!(err.contains("t.csv: empty file"), "{err}");
}

#[test]
fn corrupt_parquet() {
    let d = Dir::new();
    d.write("t.parquet", "this is not parquet");
    let err = error_of(&run_path(&d.join("t.parquet"), &[]));
    assert!(err.contains("t.parquet: cannot read table"), "{err}");
}

#[test]
fn zero_byte_image_is_a_finding() {
    let d = Dir::new();
    d.png("a/0.png", 1);
    d.write("a/1.png", b"");
    let ds = scan_json(d.path(), &[]);
    assert_eq!(sources(finding(&ds, "I003")), ["a/1.png"]);
}

#[test]
fn refuses_to_write_inside_the_dataset() {
    let d = Dir::new();
    d.png("a/0.png", 1);
    let before = snapshot(d.path());
    let inside = d.join("a/manifest.parquet");
    let err = error_of(&run_path(
        d.path(),
        &["--manifest", inside.to_str().unwrap()],
    ));
    assert!(
        err.contains("refusing to write inside the dataset"),
        "{err}"
    );
    let err = error_of(&run_path(
        d.path(),
        &["--output", d.join("report.json").to_str().unwrap()],
    ));
    assert!(
        err.contains("refusing to write inside the dataset"),
        "{err}"
    );
    assert!(before == snapshot(d.path()));
}

#[test]
fn bad_flags_exit_2() {
    let d = Dir::new();
    d.png("a/0.png", 1);
    let out = run_path(d.path(), &["--select", "Q999"]);
    let err = error_of(&out);
    assert!(
        err.contains("unknown rule code, prefix or name 'Q999'"),
        "{err}"
    );
    assert!(error_of(&run_path(d.path(), &["--fail-on", "fatal"])).contains("--fail-on 'fatal'"));
    assert_eq!(run(&["scan"]).status.code(), Some(2));
}
