//! Distribution shift on injected cases with known answers: honest random splits
//! of real data (no shift), two features moved by 1.5 standard deviations, images
//! darkened and noised in test, and the degenerate inputs a test must skip.

use crate::util::*;
use image::{DynamicImage, ImageFormat, RgbImage};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A seeded stream of uniform numbers in [0, 1) (an LCG: enough for choosing rows).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Approximately standard normal: the sum of 12 uniforms, centred.
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.next()).sum::<f64>() - 6.0
    }
}

fn real_table() -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/breast_cancer.csv"),
    )
    .expect("test table");
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// The real table with a random 80/20 split column; `shift` moves the named
/// columns of every test row by that many of their standard deviations.
fn split_table(d: &Dir, seed: u64, shift: &[(&str, f64)]) -> PathBuf {
    let (header, rows) = real_table();
    let mut rng = Lcg(seed);
    let is_test: Vec<bool> = rows.iter().map(|_| rng.next() < 0.2).collect();
    let mut rows = rows;
    for &(name, by) in shift {
        let j = header.iter().position(|h| h == name).expect("column");
        let v: Vec<f64> = rows.iter().map(|r| r[j].parse().unwrap()).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        for (r, &t) in rows.iter_mut().zip(&is_test) {
            if t {
                let x: f64 = r[j].parse().unwrap();
                r[j] = format!("{}", x + by * std);
            }
        }
    }
    let mut text = format!("{},split\n", header.join(","));
    for (r, t) in rows.iter().zip(&is_test) {
        text.push_str(&format!(
            "{},{}\n",
            r.join(","),
            if *t { "test" } else { "train" }
        ));
    }
    d.write("table.csv", text)
}

fn comparison(ds: &Value) -> &Value {
    let s = &ds["shift"];
    assert!(s["skipped"].is_null(), "shift skipped: {}", s["skipped"]);
    &s["comparisons"][0]
}

fn auc(c: &Value) -> f64 {
    c["classifier"]["auc"].as_f64().expect("classifier ran")
}

fn drifting(c: &Value) -> Vec<String> {
    c["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["drifting"].as_bool().unwrap())
        .map(|f| f["feature"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn honest_split_of_a_real_table_shows_no_shift() {
    for seed in [1, 2, 3] {
        let d = Dir::new();
        let ds = scan_json(&split_table(&d, seed, &[]), &[]);
        let c = comparison(&ds);
        assert_eq!(c["verdict"], "none", "seed {seed}: {}", c["evidence"]);
        assert!((auc(c) - 0.5).abs() <= 0.1, "seed {seed}: AUC {}", auc(c));
        assert!(drifting(c).is_empty());
        assert_eq!(c["features_tested"], 30);
        assert!(
            !codes(&ds).iter().any(|c| c.starts_with('S')),
            "{:?}",
            codes(&ds)
        );
    }
}

#[test]
fn two_shifted_features_are_ranked_first_and_separate_the_splits() {
    let d = Dir::new();
    let path = split_table(&d, 1, &[("mean_texture", 1.5), ("worst_smoothness", 1.5)]);
    let ds = scan_json(&path, &[]);
    let c = comparison(&ds);
    let ranked: Vec<&str> = c["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["feature"].as_str().unwrap())
        .collect();
    let mut top2 = ranked[..2].to_vec();
    top2.sort();
    assert_eq!(top2, ["mean_texture", "worst_smoothness"], "{ranked:?}");
    assert_eq!(drifting(c).len(), 2, "{:?}", drifting(c));
    assert!(auc(c) >= 0.8, "AUC {}", auc(c));
    assert_eq!(c["verdict"], "strong", "{}", c["evidence"]);
    let top_features: Vec<&str> = c["classifier"]["top_features"]
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .map(|w| w["feature"].as_str().unwrap())
        .collect();
    assert!(top_features.contains(&"mean_texture") || top_features.contains(&"worst_smoothness"));
    assert_eq!(c["classifier"]["most_unlike"].as_array().unwrap().len(), 10);
    let f = finding(&ds, "S001");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("2 of 30 features of 'test' drift from 'train'"),
        "{}",
        f["message"]
    );
    assert_eq!(finding(&ds, "S002")["severity"], "warning");
}

/// The committed sample images, copied; `darken` rewrites every test image at 60%
/// brightness with noise added.
fn sample_images(d: &Dir, darken: bool) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/images");
    let dst = d.join("images");
    let mut rng = Lcg(9);
    for split in ["train", "test"] {
        for class in ["circle", "square", "triangle"] {
            let dir = src.join(split).join(class);
            std::fs::create_dir_all(dst.join(split).join(class)).unwrap();
            let mut names: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            names.sort();
            for p in names {
                let Ok(img) = image::open(&p) else { continue };
                let out = dst
                    .join(split)
                    .join(class)
                    .join(p.file_name().unwrap())
                    .with_extension("png");
                let mut rgb: RgbImage = img.to_rgb8();
                if darken && split == "test" {
                    for px in rgb.pixels_mut() {
                        for c in px.0.iter_mut() {
                            let v = *c as f64 * 0.6 + rng.normal() * 12.0;
                            *c = v.clamp(0.0, 255.0) as u8;
                        }
                    }
                }
                std::fs::write(
                    &out,
                    encode(&DynamicImage::ImageRgb8(rgb), ImageFormat::Png),
                )
                .unwrap();
            }
        }
    }
    dst
}

#[test]
fn honest_image_split_shows_no_shift() {
    let d = Dir::new();
    let ds = scan_json(&sample_images(&d, false), &[]);
    let c = comparison(&ds);
    assert_eq!(c["verdict"], "none", "{}", c["evidence"]);
    assert!((auc(c) - 0.5).abs() <= 0.1, "AUC {}", auc(c));
    assert!(drifting(c).is_empty(), "{:?}", drifting(c));
}

#[test]
fn darker_noisier_test_images_are_a_strong_shift() {
    let d = Dir::new();
    let ds = scan_json(&sample_images(&d, true), &[]);
    let c = comparison(&ds);
    assert_eq!(c["verdict"], "strong", "{}", c["evidence"]);
    let drift = drifting(c);
    assert!(drift.contains(&"brightness".to_string()), "{drift:?}");
    assert_eq!(c["features"][0]["drifting"], true);
    assert!(auc(c) >= 0.9, "AUC {}", auc(c));
    assert!(codes(&ds).contains(&"S001".to_string()));
    assert!(codes(&ds).contains(&"S002".to_string()));
}

#[test]
fn reference_and_current_choose_the_pair_and_unknown_splits_are_errors() {
    let d = Dir::new();
    let mut text = String::from("x,y,split\n");
    let mut rng = Lcg(4);
    for (split, n, shift) in [("train", 200, 0.0), ("val", 60, 0.0), ("test", 60, 2.0)] {
        for _ in 0..n {
            text.push_str(&format!(
                "{},{},{split}\n",
                rng.normal() + shift,
                rng.normal()
            ));
        }
    }
    let path = d.write("t.csv", text);
    let ds = scan_json(&path, &[]);
    let pairs: Vec<(String, String)> = ds["shift"]["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["reference"].as_str().unwrap().into(),
                c["current"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("train".into(), "val".into()),
            ("train".into(), "test".into())
        ]
    );
    assert_eq!(ds["shift"]["comparisons"][0]["verdict"], "none");
    assert_eq!(ds["shift"]["comparisons"][1]["verdict"], "strong");
    assert_eq!(ds["shift"]["verdict"], "strong");
    let ds = scan_json(&path, &["--reference", "val", "--current", "test"]);
    let c = comparison(&ds);
    assert_eq!(
        (c["reference"].as_str(), c["current"].as_str()),
        (Some("val"), Some("test"))
    );
    let out = run_path(&path, &["--reference", "holdout"]);
    assert_eq!(out.status.code(), Some(2), "{}", error_of(&out));
    let e = error_of(&out);
    assert!(
        e.contains("t.csv: --reference holdout") && e.contains("train, val, test"),
        "{e}"
    );
}

#[test]
fn same_input_same_seed_same_report_and_the_seed_matters() {
    let d = Dir::new();
    let path = split_table(&d, 5, &[]);
    let a = run_path(&path, &["--format", "json"]);
    let b = run_path(&path, &["--format", "json"]);
    assert_eq!(a.stdout, b.stdout);
    let shift = |extra: &[&str]| scan_json(&path, extra)["shift"].clone();
    let s0 = shift(&[]);
    let s1 = shift(&["--seed", "1"]);
    assert_eq!(s1["seed"], 1);
    assert_ne!(s0["comparisons"][0]["mmd"]["p_value"], Value::Null);
    assert_ne!(
        s0, s1,
        "a different seed draws different folds and permutations"
    );
}

#[test]
fn degenerate_columns_and_splits_are_skipped_with_a_reason() {
    let d = Dir::new();
    // Constant, all-missing, a column only in train.csv, a text column, and a
    // split too small to test.
    let mut train = String::from("x,c,gone,only_train,color,label\n");
    let mut test = String::from("x,c,gone,color,label\n");
    let mut rng = Lcg(3);
    for i in 0..100 {
        train.push_str(&format!(
            "{},1,,{},red,{}\n",
            rng.normal(),
            rng.normal(),
            i % 2
        ));
    }
    for i in 0..30 {
        test.push_str(&format!(
            "{},1,,{},{}\n",
            rng.normal(),
            if i % 2 == 0 { "red" } else { "blue" },
            i % 2
        ));
    }
    let dir = d.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("train.csv"), train).unwrap();
    std::fs::write(dir.join("test.csv"), test).unwrap();
    let out = run_path(&dir, &["--format", "json"]);
    let ds: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ds = &ds["datasets"][0];
    // serde_json writes NaN as null: the shift section must hold neither.
    let section = ds["shift"].to_string();
    assert!(
        !section.contains("null") && !section.contains("NaN"),
        "{section}"
    );
    let c = comparison(ds);
    let skipped: Vec<(String, String)> = c["skipped_features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["feature"].as_str().unwrap().into(),
                s["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    let reason = |f: &str| {
        skipped
            .iter()
            .find(|s| s.0 == f)
            .map(|s| s.1.clone())
            .unwrap_or_default()
    };
    assert!(reason("c").starts_with("constant"), "{skipped:?}");
    assert!(
        reason("gone").starts_with("no values in 'train'"),
        "{skipped:?}"
    );
    assert!(
        reason("only_train").starts_with("no values in 'test'"),
        "{skipped:?}"
    );
    assert_eq!(c["features_tested"], 2, "x and color");
    let color = c["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["feature"] == "color")
        .unwrap();
    assert_eq!(
        color["drifting"], true,
        "red only in train, half blue in test"
    );

    // A split with fewer than 20 rows: every test is skipped, by name.
    let mut small = String::from("x,split\n");
    for i in 0..100 {
        small.push_str(&format!(
            "{},{}\n",
            i,
            if i < 90 { "train" } else { "test" }
        ));
    }
    let ds = scan_json(&d.write("small.csv", small), &[]);
    let c = comparison(&ds);
    assert_eq!(c["features_tested"], 0);
    assert!(c["skipped_features"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("fewer than 20"));
    assert!(c["classifier_skipped"]
        .as_str()
        .unwrap()
        .contains("fewer than 20 readable samples in 'test'"));
    assert_eq!(c["verdict"], "none");

    // One split: nothing to compare, said once.
    let ds = scan_json(&d.write("one.csv", "x\n1\n2\n3\n"), &[]);
    assert!(
        ds["shift"]["skipped"]
            .as_str()
            .unwrap()
            .contains("nothing to compare"),
        "{}",
        ds["shift"]
    );
}
