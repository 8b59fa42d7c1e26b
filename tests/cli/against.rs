//! `dsaudit scan NEW --against profile.dsp`: the shift tests of new data against a
//! saved profile (the parts of an earlier `dsaudit partial`), for images and tables,
//! on real data: no shift where there is none, the skew where it was put, and what
//! cannot be compared refused in one line.

use crate::partial::partial;
use crate::util::*;
use std::path::{Path, PathBuf};

/// `scan --against`: real photographs profiled once; the same photographs show no
/// shift against the profile, and the same photographs brightened show it.
#[test]
fn shift_tests_against_a_saved_profile() {
    let dir = Dir::new();
    let photos = Path::new("tests/data/detection/yolo/images");
    copy_tree(photos, &dir.join("served"));
    let profile = dir.join("profile.dsp");
    partial(photos, &["--shard", "1/1"], &profile);
    // Brighter by 60 of 255: the skew a changed camera setting gives.
    let bright = dir.join("bright");
    for e in walkdir(&dir.join("served")) {
        let rel = e.strip_prefix(dir.join("served")).unwrap();
        let img = image::open(&e).unwrap().brighten(60);
        let to = bright.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        img.save(&to).unwrap();
    }
    let against = ["--against", profile.to_str().unwrap()];
    let same = scan_json(&dir.join("served"), &against);
    let skewed = scan_json(&bright, &against);
    assert!(shift_codes(&same).is_empty(), "{:?}", codes(&same));
    assert!(
        shift_codes(&skewed).contains(&"S001".to_string()),
        "{:?}",
        codes(&skewed)
    );
    // Every comparison is against the profile, and the report says which it is.
    for ds in [&same, &skewed] {
        let comparisons = ds["shift"]["comparisons"].as_array().unwrap();
        assert!(!comparisons.is_empty());
        assert!(
            comparisons.iter().all(|c| c["reference"] == "reference"),
            "{comparisons:?}"
        );
        let guesses = ds["guesses"].to_string();
        assert!(
            guesses.contains("against the reference profile") && guesses.contains("profile.dsp"),
            "{guesses}"
        );
    }
    let brightness = |ds: &serde_json::Value| -> f64 {
        let c = &ds["shift"]["comparisons"][0];
        let f = c["features"].as_array().unwrap();
        let b = f.iter().find(|x| x["feature"] == "brightness").unwrap();
        b["p_value"].as_f64().unwrap()
    };
    assert!(brightness(&skewed) < 1e-6 && brightness(&same) > 0.05);
    // --reference names one of the dataset's own splits: not with --against.
    let out = run_path(
        &bright,
        &[
            "--against",
            profile.to_str().unwrap(),
            "--reference",
            "train",
        ],
    );
    assert!(error_of(&out).contains("with --against the reference is the saved profile"));
    // `dsaudit check` takes a profile too (a data repository's hook against the
    // training data's profile): the scan's findings; an unchanged re-check prints them
    // again; a profile saved again under the same name is a change; a check without it
    // compares the dataset's own splits, not the profile's leftovers.
    let cache = dir.join("cache");
    let check = |extra: &[&str]| {
        let mut args = vec!["check", bright.to_str().unwrap(), "--cache-dir"];
        args.extend([cache.to_str().unwrap(), "--format", "json", "--timings"]);
        args.extend_from_slice(extra);
        let out = run(&args);
        assert!(matches!(out.status.code(), Some(0) | Some(1)), "{out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (v["datasets"][0].clone(), stderr)
    };
    let (checked, _) = check(&against);
    assert_eq!(codes(&checked), codes(&skewed));
    let (again, stderr) = check(&against);
    assert!(
        stderr.contains("nothing changed since the last check"),
        "{stderr}"
    );
    assert_eq!(codes(&again), codes(&skewed));
    partial(&bright, &["--shard", "1/1"], &profile);
    let (resaved, stderr) = check(&against);
    assert!(!stderr.contains("nothing changed"), "{stderr}");
    assert!(shift_codes(&resaved).is_empty(), "{:?}", codes(&resaved));
    let (own, _) = check(&[]);
    let comparisons = own["shift"]["comparisons"].as_array().unwrap();
    assert!(
        comparisons.iter().all(|c| c["reference"] != "reference"),
        "{comparisons:?}"
    );
}

/// Every file below `root`, sorted.
fn walkdir(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// scikit-learn's breast-cancer table, its rows `keep` picks, each cell passed
/// through `cell(column, value)`, with `extra` appended as a column (header, value).
fn cancer_rows(
    path: &Path,
    keep: impl Fn(usize) -> bool,
    cell: impl Fn(&str, &str) -> String,
    extra: Option<(&str, &dyn Fn(usize) -> String)>,
) {
    let text = std::fs::read_to_string("tests/data/breast_cancer.csv").unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut out = vec![header.join(",")];
    if let Some((name, _)) = extra {
        out[0] += &format!(",{name}");
    }
    for (i, row) in lines.enumerate().filter(|(i, _)| keep(*i)) {
        let cells: Vec<String> = row
            .split(',')
            .zip(&header)
            .map(|(v, c)| cell(c, v))
            .collect();
        let mut line = cells.join(",");
        if let Some((_, value)) = extra {
            line += &format!(",{}", value(i));
        }
        out.push(line);
    }
    std::fs::write(path, out.join("\n") + "\n").unwrap();
}

fn shift_codes(ds: &serde_json::Value) -> Vec<String> {
    codes(ds)
        .into_iter()
        .filter(|c| c.starts_with('S'))
        .collect()
}

/// The p-value of one feature's test in the first comparison.
fn p_value(ds: &serde_json::Value, feature: &str) -> f64 {
    let f = ds["shift"]["comparisons"][0]["features"]
        .as_array()
        .unwrap();
    let x = f.iter().find(|x| x["feature"] == feature).unwrap();
    x["p_value"].as_f64().unwrap()
}

/// A table's profile in two parts (even rows of the breast-cancer table); the odd
/// rows show no shift against it, the odd rows with one column in other units show
/// that column, and a column missing or of another kind is refused in one line.
#[test]
fn shift_tests_of_a_table_against_its_saved_profile() {
    let dir = Dir::new();
    let same = |_: &str, v: &str| v.to_string();
    std::fs::create_dir(dir.join("training")).unwrap();
    let training = dir.join("training/training.csv");
    cancer_rows(&training, |i| i % 2 == 0, same, None);
    let profile: Vec<PathBuf> = (1..=2)
        .map(|k| {
            let out = dir.join(&format!("profile{k}.dsp"));
            let shard = format!("{k}/2");
            partial(&training, &["--shard", &shard, "--block-size", "8KB"], &out);
            out
        })
        .collect();
    let mut against = Vec::new();
    for p in &profile {
        against.extend(["--against", p.to_str().unwrap()]);
    }
    // Untouched real rows from the same distribution: no shift finding.
    let served = dir.join("served.csv");
    cancer_rows(&served, |i| i % 2 == 1, same, None);
    let ds = scan_json(&served, &against);
    assert!(shift_codes(&ds).is_empty(), "{:?}", codes(&ds));
    let comparisons = ds["shift"]["comparisons"].as_array().unwrap();
    assert_eq!(comparisons.len(), 1, "{comparisons:?}");
    assert_eq!(comparisons[0]["reference"], "reference");
    assert_eq!(comparisons[0]["current"], "current");
    assert!(p_value(&ds, "mean_radius") > 0.05);
    let guesses = ds["guesses"].to_string();
    assert!(
        guesses.contains("against the reference profile")
            && guesses.contains("profile2.dsp")
            && guesses.contains("285 samples"),
        "{guesses}"
    );

    // The serving pipeline sends mean_radius in centimetres and adds a request id.
    let skewed = dir.join("skewed.csv");
    let cm = |c: &str, v: &str| match c {
        "mean_radius" => format!("{}", v.parse::<f64>().unwrap() / 10.0),
        _ => v.to_string(),
    };
    let id = |i: usize| format!("{}", 1_000_000 + i * 7);
    cancer_rows(&skewed, |i| i % 2 == 1, cm, Some(("request_id", &id)));
    let ds = scan_json(&skewed, &against);
    assert!(
        shift_codes(&ds).contains(&"S001".to_string()),
        "{:?}",
        codes(&ds)
    );
    assert!(p_value(&ds, "mean_radius") < 1e-6);
    assert!(p_value(&ds, "mean_texture") > 0.01);
    let features = ds["shift"]["comparisons"][0]["features"].to_string();
    assert!(!features.contains("request_id"), "{features}");
    // The report says what it was compared with, and what to do about serving skew.
    let parts: Vec<String> = profile.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(ds["shift"]["against"], serde_json::json!(parts));
    for f in ds["findings"].as_array().unwrap() {
        if f["code"] == "S001" || f["code"] == "S002" {
            assert!(
                f["fix"]
                    .as_str()
                    .unwrap()
                    .contains("training data's saved profile"),
                "{f}"
            );
        }
    }
    let guesses = ds["guesses"].to_string();
    assert!(
        guesses.contains("the data's column 'request_id' is not in the profile"),
        "{guesses}"
    );

    // The text report says which profile the reference split is.
    let out = run_path(&skewed, &against);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("shift    'current' vs 'reference' (the saved profile ")
            && text.contains("profile1.dsp, "),
        "{text}"
    );
    // A column the profile compares is missing, or holds text.
    let lacking = dir.join("lacking.csv");
    let text = std::fs::read_to_string(&served).unwrap();
    let cut: Vec<String> = text
        .lines()
        .map(|l| l.split_once(',').unwrap().1.to_string())
        .collect();
    std::fs::write(&lacking, cut.join("\n") + "\n").unwrap();
    let e = error_of(&run_path(&lacking, &against));
    assert!(
        e.contains("the data has no column 'mean_radius', which the reference profile compares"),
        "{e}"
    );
    let worded = dir.join("worded.csv");
    let word = |c: &str, v: &str| match c {
        "mean_texture" if v.parse::<f64>().unwrap() > 20.0 => "rough".to_string(),
        "mean_texture" => "smooth".to_string(),
        _ => v.to_string(),
    };
    cancer_rows(&worded, |i| i % 2 == 1, word, None);
    let e = error_of(&run_path(&worded, &against));
    assert!(
        e.contains(
            "column 'mean_texture' holds numbers in the reference profile and text in the data"
        ),
        "{e}"
    );

    // A table's profile is not an image dataset's, nor the other way round.
    let photos = Path::new("tests/data/detection/yolo/images");
    let e = error_of(&run_path(photos, &against));
    assert!(e.contains("the reference profile is a table's"), "{e}");
    let images = dir.join("images.dsp");
    partial(photos, &["--shard", "1/1"], &images);
    let e = error_of(&run_path(&served, &["--against", images.to_str().unwrap()]));
    assert!(e.contains("a reference profile holds images"), "{e}");
}

/// The breast-cancer table's even rows as the training data (`training/training.csv`)
/// and their profile in one part (`profile.dsp`).
fn even_rows_profile(dir: &Dir) -> (PathBuf, PathBuf) {
    std::fs::create_dir(dir.join("training")).unwrap();
    let training = dir.join("training/training.csv");
    cancer_rows(&training, |i| i % 2 == 0, |_, v| v.to_string(), None);
    let profile = dir.join("profile.dsp");
    partial(&training, &["--shard", "1/1"], &profile);
    (training, profile)
}

/// The serving pipeline fills a missing `mean_smoothness` with the training median in a
/// quarter of the rows: the values barely move (the KS test alone does not flag the
/// column), but one value's share jumps from a fraction of a percent to a quarter.
#[test]
fn a_default_filled_in_by_the_serving_pipeline_is_a_spike() {
    let dir = Dir::new();
    let (training, profile) = even_rows_profile(&dir);
    let text = std::fs::read_to_string(&training).unwrap();
    let column = text
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == "mean_smoothness");
    let mut values: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(column.unwrap()).unwrap().parse().unwrap())
        .collect();
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    let filled = dir.join("filled.csv");
    let row = std::cell::Cell::new(0usize);
    let fill = |c: &str, v: &str| match c {
        "mean_smoothness" => {
            row.set(row.get() + 1);
            if row.get().is_multiple_of(4) {
                median.to_string()
            } else {
                v.to_string()
            }
        }
        _ => v.to_string(),
    };
    cancer_rows(&filled, |i| i % 2 == 1, fill, None);
    let ds = scan_json(&filled, &["--against", profile.to_str().unwrap()]);
    let features = ds["shift"]["comparisons"][0]["features"]
        .as_array()
        .unwrap();
    let rows: Vec<&serde_json::Value> = features
        .iter()
        .filter(|f| f["feature"] == "mean_smoothness")
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (ks, spike) = (
        rows.iter().find(|f| f["test"] == "ks").unwrap(),
        rows.iter().find(|f| f["test"] == "spike").unwrap(),
    );
    assert_eq!(ks["drifting"], false, "{ks}");
    assert_eq!(spike["drifting"], true, "{spike}");
    assert_eq!(spike["effect_name"], "share_moved");
    assert!(spike["effect"].as_f64().unwrap() > 0.2, "{spike}");
    let drifting: Vec<&str> = features
        .iter()
        .filter(|f| f["drifting"] == true)
        .map(|f| f["feature"].as_str().unwrap())
        .collect();
    assert_eq!(drifting, ["mean_smoothness"], "{features:?}");
    let s001 = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "S001")
        .expect("S001");
    let message = s001["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "1 of 30 features of 'current' drift from 'reference': mean_smoothness (a spike: "
        ) && message.contains("25% of current"),
        "{message}"
    );
}

/// Served rows with labels, two of every three benign ones dropped: the class mix
/// moved from the profile's (B004, named against the profile), whatever the features.
#[test]
fn a_class_mix_that_moved_from_the_profile_is_label_shift() {
    let dir = Dir::new();
    let same = |_: &str, v: &str| v.to_string();
    let (_, profile) = even_rows_profile(&dir);
    let text = std::fs::read_to_string("tests/data/breast_cancer.csv").unwrap();
    let benign: Vec<bool> = text
        .lines()
        .skip(1)
        .map(|l| l.ends_with(",benign"))
        .collect();
    let served = dir.join("served.csv");
    cancer_rows(
        &served,
        |i| i % 2 == 1 && (!benign[i] || i % 3 == 0),
        same,
        None,
    );
    let ds = scan_json(&served, &["--against", profile.to_str().unwrap()]);
    let b004: Vec<&serde_json::Value> = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "B004")
        .collect();
    assert_eq!(b004.len(), 1, "{:?}", codes(&ds));
    let message = b004[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("split 'current' vs the saved profile: TVD "),
        "{message}"
    );
    assert!(b004[0]["fix"]
        .as_str()
        .unwrap()
        .contains("training data's saved profile"));
    // The untouched odd rows: no label shift.
    let untouched = dir.join("untouched.csv");
    cancer_rows(&untouched, |i| i % 2 == 1, same, None);
    let ds = scan_json(&untouched, &["--against", profile.to_str().unwrap()]);
    assert!(
        !codes(&ds).contains(&"B004".to_string()),
        "{:?}",
        codes(&ds)
    );
}
