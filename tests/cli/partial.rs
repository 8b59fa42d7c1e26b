//! `dsaudit partial` and `dsaudit merge`: parts made apart and merged give the
//! report `dsaudit scan` gives of the whole dataset, in every report format, with the
//! same manifest and exit code; what cannot be merged is refused in one line.

use crate::util::*;
use std::path::{Path, PathBuf};

/// The report without its timing line (the only line that differs run to run).
fn untimed(out: &[u8]) -> String {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.starts_with("scanned in"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `dsaudit partial DATA ARGS -qo OUT`.
pub(crate) fn partial_run(data: &Path, args: &[&str], out: &Path) -> std::process::Output {
    dsaudit()
        .arg("partial")
        .arg(data)
        .args(args)
        .arg("-qo")
        .arg(out)
        .output()
        .unwrap()
}

/// `dsaudit partial DATA ARGS -o OUT`, which must succeed.
pub(crate) fn partial(data: &Path, args: &[&str], out: &Path) {
    let run = partial_run(data, args, out);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// `dsaudit partial DATA --shard k/n` for every k, into `dir`.
fn parts(data: &Path, n: u64, dir: &Path) -> Vec<PathBuf> {
    parts_with(data, n, dir, &[])
}

/// As `parts`, each run with `extra` too.
fn parts_with(data: &Path, n: u64, dir: &Path, extra: &[&str]) -> Vec<PathBuf> {
    (1..=n)
        .map(|k| {
            let out = dir.join(format!("part{k}.dsp"));
            let shard = format!("{k}/{n}");
            let mut args = vec!["--shard", shard.as_str()];
            args.extend_from_slice(extra);
            partial(data, &args, &out);
            out
        })
        .collect()
}

/// `dsaudit partial DATA ARGS -o OUT`, which must fail: its one-line error.
fn partial_error(data: &str, args: &[&str], out: &Path) -> String {
    let mut all = vec!["partial", data];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", out.to_str().unwrap()]);
    error_of(&run(&all))
}

fn merge(parts: &[PathBuf], extra: &[&str]) -> std::process::Output {
    dsaudit()
        .arg("merge")
        .args(parts)
        .arg("-q")
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn parts_merged_report_as_the_scan_in_every_format() {
    let dir = Dir::new();
    let data = Path::new("sample_data/images");
    let before = snapshot(data);
    let parts = parts(data, 3, dir.path());
    for format in ["text", "json", "markdown", "github", "sarif"] {
        let scan = run_path(data, &["-q", "--format", format]);
        let merged = merge(&parts, &["--format", format]);
        assert_eq!(merged.status.code(), scan.status.code(), "{format}");
        assert_eq!(untimed(&merged.stdout), untimed(&scan.stdout), "{format}");
    }
    // The same manifest, row for row.
    let (a, b) = (dir.join("scan.csv"), dir.join("merged.csv"));
    run_path(data, &["-q", "--manifest", a.to_str().unwrap()]);
    merge(&parts, &["--manifest", b.to_str().unwrap()]);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // The parts hold every sample once between them.
    assert_eq!(snapshot(data), before, "the dataset was changed");
}

/// Two different images whose names read alike once made UTF-8 (`a\u{fffd}.png`):
/// the merge keeps each one's own description, as the scan does, and calls them no
/// copies of each other.
#[test]
#[cfg(unix)]
fn names_alike_when_lossy_keep_their_own_descriptions() {
    use std::os::unix::ffi::OsStrExt;
    let dir = Dir::new();
    for split in ["train", "test"] {
        for class in ["cat", "dog"] {
            for i in 0..4u8 {
                let seed = i + 10 * (class == "dog") as u8 + 20 * (split == "test") as u8;
                dir.png(&format!("data/{split}/{class}/{i}.png"), seed);
            }
        }
    }
    for (seed, name) in [(100u8, &b"a\xfe.png"[..]), (101, b"a\xff.png")] {
        let made = dir.png("made.png", seed);
        let to = dir
            .join("data/train/cat")
            .join(std::ffi::OsStr::from_bytes(name));
        std::fs::rename(made, to).unwrap();
    }
    let data = dir.join("data");
    let parts = parts(&data, 2, dir.path());
    let scan = run_path(&data, &["-q", "--format", "json"]);
    let merged = merge(&parts, &["--format", "json"]);
    let report = String::from_utf8_lossy(&scan.stdout).to_string();
    assert!(report.contains("I014"), "{report}");
    assert!(!report.contains("D001"), "{report}");
    assert_eq!(untimed(&merged.stdout), untimed(&scan.stdout));
}

/// Twelve images in `data/` listed in a labels file that also names one missing, one
/// outside the dataset and one of the twelve twice (both rows go to the part that
/// holds it), with a configuration file beside them. The dataset's path.
pub(crate) fn labelled(dir: &Dir) -> PathBuf {
    let mut csv = String::from("path,label,split\n");
    for i in 0..12u8 {
        dir.png(&format!("data/img/{i}.png"), i * 17 + 1);
        let split = if i % 3 == 0 { "test" } else { "train" };
        csv.push_str(&format!(
            "img/{i}.png,{},{split}\n",
            ["cat", "dog"][i as usize % 2]
        ));
    }
    csv.push_str("img/gone.png,cat,train\n../outside.png,dog,test\nimg/1.png,cat,test\n");
    dir.write("data/labels.csv", &csv);
    dir.write(
        "outside.png",
        encode(&rgb(8, 8, 3), image::ImageFormat::Png),
    );
    dir.write(
        "data/dsaudit.toml",
        "ignore = [\"B001\"]\nfail-on = \"never\"\n",
    );
    dir.join("data")
}

/// Images listed in a labels file, one missing and one outside the dataset, with a
/// configuration file beside them: parts by `--files` lists merge to the scan.
#[test]
fn labels_file_parts_by_lists_merge_with_the_configuration() {
    let dir = Dir::new();
    let data = labelled(&dir);
    let first: Vec<String> = (0..6).map(|i| format!("img/{i}.png")).collect();
    let mut second: Vec<String> = (6..12).map(|i| format!("img/{i}.png")).collect();
    second.extend(["img/gone.png".to_string(), "../outside.png".to_string()]);
    let mut files = Vec::new();
    for (i, list) in [first, second].iter().enumerate() {
        let l = dir.write(&format!("list{i}.txt"), list.join("\n") + "\n");
        let out = dir.join(&format!("part{i}.dsp"));
        partial(&data, &["--files", l.to_str().unwrap()], &out);
        files.push(out);
    }
    let scan = run_path(&data, &["-q", "--format", "json"]);
    let merged = merge(&files, &["--format", "json"]);
    assert_eq!(
        merged.status.code(),
        Some(0),
        "fail-on never, from the configuration"
    );
    assert_eq!(untimed(&merged.stdout), untimed(&scan.stdout));
    let report = String::from_utf8_lossy(&merged.stdout);
    assert!(
        report.contains("missing") && report.contains("outside"),
        "{report}"
    );
    // --isolated leaves the parts' configuration out: fail-on is error again.
    let isolated = merge(&files, &["--isolated", "--format", "json"]);
    assert_eq!(isolated.status.code(), Some(1));
    // A list naming a path that is no sample of the dataset.
    let l = dir.write("bad.txt", "img/0.png\nimg/nope.png\n");
    let out = dsaudit()
        .arg("partial")
        .arg(&data)
        .arg("--files")
        .arg(&l)
        .arg("-qo")
        .arg(dir.join("bad.dsp"))
        .output()
        .unwrap();
    let e = error_of(&out);
    assert!(
        e.contains("bad.txt: 1 listed paths are not samples") && e.contains("img/nope.png"),
        "{e}"
    );
}

#[test]
fn what_cannot_be_merged_is_refused_in_one_line() {
    let dir = Dir::new();
    let data = Path::new("sample_data/images");
    let parts = parts(data, 2, dir.path());
    // A part left out.
    let e = error_of(&merge(&parts[..1], &[]));
    assert!(
        e.contains("are in no partial scan (the parts given hold 1/2): is a part missing?"),
        "{e}"
    );
    // A part given twice: counted once, and said so.
    let twice = merge(
        &[parts[0].clone(), parts[1].clone(), parts[0].clone()],
        &["--format", "json"],
    );
    assert_eq!(twice.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("each counted once"));
    let ds: serde_json::Value = serde_json::from_slice(&twice.stdout).unwrap();
    let once = scan_json(data, &[]);
    assert_eq!(counts(&ds["datasets"][0]), counts(&once));
    // Another version's part.
    let mut bytes = std::fs::read(&parts[0]).unwrap();
    let at = bytes
        .windows(5)
        .position(|w| w == env!("CARGO_PKG_VERSION").as_bytes())
        .unwrap();
    bytes[at..at + 5].copy_from_slice(b"0.0.9");
    let old = dir.write("old.dsp", &bytes);
    let e = error_of(&merge(&[old, parts[1].clone()], &[]));
    let format = dsaudit_core::partial::dsp::FORMAT;
    assert!(
        e.contains(&format!(
            "old.dsp: written by dsaudit 0.0.9 (.dsp format {format}); this is dsaudit"
        )),
        "{e}"
    );
    // Cut short, and not a partial scan at all.
    let cut = dir.write("cut.dsp", &std::fs::read(&parts[0]).unwrap()[..5000]);
    assert!(error_of(&merge(&[cut], &[])).contains("cut.dsp: damaged partial scan"));
    let text = dir.write("notes.dsp", "hello\n");
    assert!(error_of(&merge(&[text], &[])).contains("not a partial scan"));
    // A FIFO named like a part, or given as a list, is refused, not waited on.
    #[cfg(unix)]
    {
        let fifo = dir.join("pipe.dsp");
        crate::faults::mkfifo(&fifo);
        let e = error_of(&merge(std::slice::from_ref(&fifo), &[]));
        assert!(e.contains("pipe.dsp: not a regular file"), "{e}");
        let e = partial_error(
            "sample_data/images",
            &["--files", fifo.to_str().unwrap()],
            &dir.join("f.dsp"),
        );
        assert!(e.contains("pipe.dsp: not a regular file"), "{e}");
    }
    // The reading flags belong to the parts.
    let e = error_of(&merge(&parts, &["--label", "y"]));
    assert!(e.contains("are given to dsaudit partial"), "{e}");
    // A table is split by blocks, not by a list of paths; nothing is written inside
    // a dataset.
    let list = dir.join("list.txt");
    std::fs::write(&list, "table.csv\n").unwrap();
    let e = partial_error(
        "sample_data/table.csv",
        &["--files", list.to_str().unwrap()],
        &dir.join("t.dsp"),
    );
    assert!(e.contains("a table is split by --shard K/N"), "{e}");
    let inside = Path::new("sample_data/images/p.dsp");
    let e = partial_error("sample_data/images", &["--shard", "1/2"], inside);
    assert!(e.contains("refusing to write inside the dataset"), "{e}");
    assert!(!inside.exists());
    let e = partial_error(
        "sample_data/images",
        &["--shard", "3/2"],
        &dir.join("x.dsp"),
    );
    assert!(e.contains("expected K/N"), "{e}");
}

/// The findings as compared: code, severity, message, and samples with their rows.
fn findings(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["code"], f["severity"], f["message"], f["samples"]
            )
        })
        .collect()
}

/// `dsaudit scan DATA` as JSON with every finding's samples listed: the dataset,
/// which holds the copies, leaks, conflicting labels and missing values
/// `cancer_table` put in.
fn every_finding(data: &Path) -> serde_json::Value {
    let out = run_path(data, &["-q", "--format", "json", "--max-samples", "1000"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ds = v["datasets"][0].clone();
    let codes: Vec<String> = findings(&ds).iter().map(|f| f[..6].to_string()).collect();
    for code in ["\"D001\"", "\"D003\"", "\"L001\"", "\"I008\""] {
        assert!(codes.iter().any(|c| c == code), "{code} in {codes:?}");
    }
    ds
}

/// scikit-learn's breast-cancer table with a split column (every fifth row test), a
/// few values blanked, and 30 rows copied at the end with the other label.
fn cancer_table(path: &Path) {
    let text = std::fs::read_to_string("tests/data/breast_cancer.csv").unwrap();
    let mut lines = text.lines();
    let mut out = vec![format!("{},split", lines.next().unwrap())];
    let rows: Vec<&str> = lines.collect();
    for (i, row) in rows.iter().enumerate() {
        let mut cells: Vec<&str> = row.split(',').collect();
        if i % 41 == 7 {
            cells[3] = "";
        }
        let split = if i % 5 == 0 { "test" } else { "train" };
        out.push(format!("{},{split}", cells.join(",")));
    }
    for i in 0..30 {
        let mut cells: Vec<String> = rows[i * 17].split(',').map(str::to_string).collect();
        let last = cells.last_mut().unwrap();
        *last = if last == "malignant" {
            "benign"
        } else {
            "malignant"
        }
        .to_string();
        out.push(format!("{},train", cells.join(",")));
    }
    std::fs::write(path, out.join("\n") + "\n").unwrap();
}

#[test]
fn parts_of_a_table_file_merge_to_the_scans_findings() {
    let dir = Dir::new();
    std::fs::create_dir(dir.join("data")).unwrap();
    let table = dir.join("data/cancer.csv");
    cancer_table(&table);
    let scan = scan_json(&table, &[]);
    // 8 KB blocks: about fifteen, dealt to three parts.
    let parts = parts_with(&table, 3, dir.path(), &["--block-size", "8KB"]);
    // The rows' decimal values are packed: under 3 bytes a value, 8 as `f64`.
    let bytes: u64 = parts
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(
        bytes < 599 * 30 * 3,
        "{bytes} bytes for 599 rows of 30 numbers"
    );
    let merged = merge(&parts, &["--format", "json", "--max-samples", "1000"]);
    let merged: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    let merged = &merged["datasets"][0];
    let scan_all = &every_finding(&table);
    assert_eq!(findings(merged), findings(scan_all));
    for key in [
        "path",
        "layout",
        "samples",
        "splits",
        "label_column",
        "split_column",
    ] {
        assert_eq!(merged[key], scan[key], "{key}");
    }
    // Any order of the parts gives the same report, byte for byte.
    let reversed: Vec<PathBuf> = parts.iter().rev().cloned().collect();
    let a = merge(&parts, &["--format", "json"]);
    let b = merge(&reversed, &["--format", "json"]);
    assert_eq!(a.stdout, b.stdout);
    // A part missing, a part of another block size, an image part among them.
    let e = error_of(&merge(&parts[..2], &[]));
    assert!(
        e.contains("blocks are in no part given (1/3, 2/3): a part is missing"),
        "{e}"
    );
    let other = dir.join("other.dsp");
    partial(&table, &["--shard", "3/3", "--block-size", "16KB"], &other);
    let e = error_of(&merge(&[parts[0].clone(), parts[1].clone(), other], &[]));
    assert!(e.contains("parts of different scans"), "{e}");
    // The file changed between the parts.
    let mut text = std::fs::read_to_string(&table).unwrap();
    let copy = format!("{}\n", text.lines().nth(5).unwrap());
    text.push_str(&copy);
    std::fs::write(&table, text).unwrap();
    let later = dir.join("later.dsp");
    partial(&table, &["--shard", "3/3", "--block-size", "8KB"], &later);
    let e = error_of(&merge(&[parts[0].clone(), parts[1].clone(), later], &[]));
    assert!(e.contains("the file changed between them"), "{e}");
    let images = dir.join("images.dsp");
    partial(
        Path::new("sample_data/images"),
        &["--shard", "1/1"],
        &images,
    );
    let e = error_of(&merge(&[parts[0].clone(), images], &[]));
    assert!(
        e.contains("images.dsp: a partial scan of images, not of a table"),
        "{e}"
    );
}

#[test]
fn a_parquet_table_splits_by_row_groups_and_a_bad_block_fails_its_own_part() {
    use polars::prelude::*;
    let dir = Dir::new();
    std::fs::create_dir(dir.join("data")).unwrap();
    let csv = dir.join("data/cancer.csv");
    cancer_table(&csv);
    // Parquet row groups of 100 rows: seven groups, dealt to two parts.
    let pq = dir.join("data/cancer.parquet");
    let mut df = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(csv.clone()))
        .unwrap()
        .finish()
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .with_row_group_size(Some(100))
        .finish(&mut df)
        .unwrap();
    std::fs::remove_file(&csv).unwrap();
    let parts: Vec<PathBuf> = (1..=2)
        .map(|k| {
            let out = dir.join(&format!("p{k}.dsp"));
            partial(&pq, &["--shard", &format!("{k}/2")], &out);
            out
        })
        .collect();
    let merged = merge(&parts, &["--format", "json", "--max-samples", "1000"]);
    let merged: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    let scan = run_path(&pq, &["-q", "--format", "json", "--max-samples", "1000"]);
    let scan: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap();
    assert_eq!(
        findings(&merged["datasets"][0]),
        findings(&scan["datasets"][0])
    );
    assert_eq!(
        merged["datasets"][0]["splits"],
        scan["datasets"][0]["splits"]
    );
    // A short row in the last block of a CSV: the part that parses that block says
    // where, as a scan does; the part that only cuts it passes over it.
    std::fs::remove_file(&pq).unwrap();
    cancer_table(&csv);
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text.push_str("1.0,2.0\n");
    std::fs::write(&csv, &text).unwrap();
    let lines = text.lines().count();
    let blocks_of = |k: u64| {
        let out = dir.join(&format!("r{k}.dsp"));
        dsaudit()
            .arg("partial")
            .arg(&csv)
            .args(["--shard", &format!("{k}/2"), "--block-size", "64KB", "-qo"])
            .arg(&out)
            .output()
            .unwrap()
    };
    let (a, b) = (blocks_of(1), blocks_of(2));
    let failed: Vec<&std::process::Output> = [&a, &b]
        .into_iter()
        .filter(|o| !o.status.success())
        .collect();
    assert_eq!(failed.len(), 1, "one part holds the last block");
    let e = error_of(failed[0]);
    assert!(e.contains(&format!("line {lines} has 2 fields")), "{e}");
}

/// A table of one file per split (`train.csv`, `test.csv` of the breast-cancer table,
/// with blanked values and flipped copies, some across the files): parts of both files'
/// blocks merge to the scan's findings, rows and counts; files whose columns differ
/// are refused in one line naming both.
#[test]
fn parts_of_a_table_of_one_file_per_split_merge_to_the_scans_findings() {
    let dir = Dir::new();
    let data = dir.join("data");
    std::fs::create_dir(&data).unwrap();
    let whole = dir.join("whole.csv");
    cancer_table(&whole);
    let text = std::fs::read_to_string(&whole).unwrap();
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .rsplit_once(',')
        .unwrap()
        .0
        .to_string();
    let (mut train, mut test) = (vec![header.clone()], vec![header]);
    for l in lines {
        let (row, split) = l.rsplit_once(',').unwrap();
        match split {
            "test" => test.push(row.to_string()),
            _ => train.push(row.to_string()),
        }
    }
    std::fs::write(data.join("train.csv"), train.join("\n") + "\n").unwrap();
    std::fs::write(data.join("test.csv"), test.join("\n") + "\n").unwrap();
    let args = ["-q", "--format", "json", "--max-samples", "1000"];
    let scan_all = &every_finding(&data);
    assert_eq!(scan_all["layout"], "table (one file per split)");
    // 8 KB blocks: about eleven of train.csv then three of test.csv, dealt to three parts.
    let parts: Vec<PathBuf> = (1..=3)
        .map(|k| {
            let out = dir.join(&format!("s{k}.dsp"));
            let shard = format!("{k}/3");
            partial(&data, &["--shard", &shard, "--block-size", "8KB"], &out);
            out
        })
        .collect();
    let merged = merge(&parts, &args[1..]);
    let merged: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    let merged = &merged["datasets"][0];
    assert_eq!(findings(merged), findings(scan_all));
    for key in ["path", "layout", "samples", "splits", "label_column"] {
        assert_eq!(merged[key], scan_all[key], "{key}");
    }
    // Column statistics: counts, extremes and quantiles exact; moments summed block by
    // block equal the whole read's to the last bits.
    let columns = |ds: &serde_json::Value| ds["stats"]["columns"].as_array().unwrap().clone();
    let (a, b) = (columns(merged), columns(scan_all));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        for key in [
            "name",
            "count",
            "nulls",
            "finite",
            "min",
            "max",
            "quantiles",
        ] {
            assert_eq!(x[key], y[key], "{} {key}", y["name"]);
        }
        for key in ["mean", "std", "skewness"] {
            let (u, v) = (x[key].as_f64().unwrap(), y[key].as_f64().unwrap());
            assert!(
                (u - v).abs() <= 1e-9 * v.abs().max(1.0),
                "{} {key}: {u} {v}",
                y["name"]
            );
        }
    }
    let reversed: Vec<PathBuf> = parts.iter().rev().cloned().collect();
    let a = merge(&parts, &["--format", "json"]);
    let b = merge(&reversed, &["--format", "json"]);
    assert_eq!(a.stdout, b.stdout);
    // A column that is text in one file and numbers in the other.
    test[1] = format!("n/a,{}", test[1].split_once(',').unwrap().1);
    std::fs::write(data.join("test.csv"), test.join("\n") + "\n").unwrap();
    let e = partial_error(
        data.to_str().unwrap(),
        &["--shard", "1/2"],
        &dir.join("x.dsp"),
    );
    assert!(
        e.contains("differ from") && e.contains("train.csv") && e.contains("test.csv"),
        "{e}"
    );
}

/// An identifier column of 70,000 values read in blocks of about 23,000 rows: more
/// distinct values than a block's summary holds (65,536) once merged, so the merge
/// estimates the count and says so, and N005 still names the column; the whole scan
/// counts it exactly. (Before, the merge reported the largest block's count, half the
/// rows, and N005 was missing.)
#[test]
fn an_identifier_column_past_the_sketch_is_estimated_and_still_found() {
    let dir = Dir::new();
    std::fs::create_dir(dir.join("data")).unwrap();
    let table = dir.join("data/ids.csv");
    let mut text = String::from("id,x\n");
    for i in 0..70_000u32 {
        let x = (i.wrapping_mul(2_654_435_761) % 1000) as f64 / 10.0;
        text.push_str(&format!("u{i:06},{x}\n"));
    }
    std::fs::write(&table, text).unwrap();
    let n005 =
        |ds: &serde_json::Value| finding(ds, "N005")["message"].as_str().unwrap().to_string();
    let scan = scan_json(&table, &["--no-label-check"]);
    assert_eq!(
        n005(&scan),
        "column 'id' has 70000 distinct values in 70000 rows"
    );
    let parts = parts_with(&table, 2, dir.path(), &["--block-size", "300KB"]);
    let merged = merge(&parts, &["--format", "json", "--no-label-check"]);
    let merged: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    let ds = &merged["datasets"][0];
    let id = ds["stats"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "id")
        .unwrap();
    assert_eq!(id["n_unique_estimated"], true);
    let n = id["n_unique"].as_u64().unwrap();
    assert!(n.abs_diff(70_000) < 1_000, "{n}");
    assert_eq!(
        n005(ds),
        format!("column 'id' has about {n} distinct values in 70000 rows")
    );
}
