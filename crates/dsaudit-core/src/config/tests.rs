use super::*;

fn err(text: &str) -> String {
    parse(Path::new("dsaudit.toml"), text)
        .unwrap_err()
        .to_string()
}

#[test]
fn reads_every_section() {
    let c = parse(
        Path::new("/data/dsaudit.toml"),
        r#"
select = ["I", "D"]
ignore = ["D002"]
fail-on = "warning"
[layout]
kind = "table"
label = "target"
[thresholds.class-imbalance]
max-ratio = 20
[thresholds.B002]
min-count = 3.5
[per-path-ignores]
"raw/**" = ["O001", "near-duplicates"]
[cache]
enabled = false
"#,
    )
    .unwrap();
    assert_eq!(
        c.select.as_deref(),
        Some(&["I".to_string(), "D".to_string()][..])
    );
    assert_eq!(c.ignore, vec!["D002".to_string()]);
    assert_eq!(c.fail_on, Some(FailOn(Some(Severity::Warning))));
    assert_eq!(
        c.layout.kind,
        <LayoutKind as crate::choice::Choice>::parse("table")
    );
    assert_eq!(c.layout.label.as_deref(), Some("target"));
    let imbalance = &crate::rules::balance::class_imbalance::ClassImbalance;
    assert_eq!(c.thresholds.get(imbalance, "max-ratio"), 20.0);
    assert_eq!(c.cache_enabled, Some(false));
    assert!(c.ignores_path("O001", Path::new("/data/raw/a/b.png")));
    assert!(c.ignores_path("D002", Path::new("/data/raw/x.png")));
    assert!(!c.ignores_path("D003", Path::new("/data/raw/x.png")));
    assert!(!c.ignores_path("O001", Path::new("/data/clean/x.png")));
}

#[test]
fn errors_name_line_column_and_nearest() {
    let e = err("select = [\"I\"]\nselct = [\"D\"]\n");
    assert!(
        e.starts_with("dsaudit.toml:2:1: unknown field `selct`"),
        "{e}"
    );
    assert!(e.ends_with("did you mean 'select'?"), "{e}");
    let e = err("select = [\"I\", \"D0022\"]\n");
    assert!(e.starts_with("dsaudit.toml:1:16: unknown rule code"), "{e}");
    assert!(e.contains("did you mean 'D002'?"), "{e}");
    let e = err("fail-on = \"sometimes\"\n");
    assert!(
        e.starts_with("dsaudit.toml:1:11: fail-on 'sometimes'"),
        "{e}"
    );
    let e = err("[thresholds.class-imbalance]\nmax-ration = 3\n");
    assert!(e.contains("did you mean 'max-ratio'?"), "{e}");
    let e = err("select = [\"I\"\n");
    assert!(e.starts_with("dsaudit.toml:1:"), "{e}");
    assert!(!e.contains('\n'), "{e}");
    let e = err("[layout]\nkind = \"tabel\"\n");
    assert!(e.contains("did you mean 'table'?"), "{e}");
}

#[test]
fn pyproject_needs_its_table() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(dir.path().join("pyproject.toml"), "[tool.ruff]\nx = 1\n").unwrap();
    assert_eq!(find(&data).unwrap(), None);
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.ruff]\nx = 1\n[tool.dsaudit]\nfail-on = \"info\"\n",
    )
    .unwrap();
    let found = find(&data).unwrap().unwrap();
    let c = load(&data, None, false).unwrap();
    assert_eq!(c.fail_on, Some(FailOn(Some(Severity::Info))));
    std::fs::write(data.join("dsaudit.toml"), "fail-on = \"never\"\n").unwrap();
    assert_ne!(find(&data).unwrap().unwrap(), found);
    assert_eq!(load(&data, None, true).unwrap().fail_on, None);
}
