//! Balance and normalization rules on injected cases with known answers.

use crate::util::*;
use image::{DynamicImage, ImageFormat};

fn table(
    d: &Dir,
    name: &str,
    header: &str,
    rows: impl IntoIterator<Item = String>,
) -> std::path::PathBuf {
    let mut text = format!("{header}\n");
    for r in rows {
        text.push_str(&r);
        text.push('\n');
    }
    d.write(name, text)
}

/// Deterministic pseudo-normal values (sum of uniforms from an LCG) for test tables.
fn noise(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            let mut acc = 0.0;
            for _ in 0..12 {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                acc += (s >> 11) as f64 / (1u64 << 53) as f64;
            }
            acc - 6.0
        })
        .collect()
}

#[test]
fn one_to_twenty_imbalance_is_flagged_and_balance_is_not() {
    let d = Dir::new();
    let rows = (0..210).map(|i| format!("{},{}", i % 7, if i < 200 { "a" } else { "b" }));
    let ds = scan_json(&table(&d, "imb.csv", "x,label", rows), &[]);
    let f = finding(&ds, "B001");
    assert_eq!(f["evidence"]["ratio"], 20.0);
    assert_eq!(f["evidence"]["smallest"], "b");
    assert!(f["evidence"]["normalized_entropy"].as_f64().unwrap() < 0.3);
    // b has 10 samples: too few to learn.
    assert_eq!(finding(&ds, "B002")["evidence"]["class"], "b");
    let rows = (0..200).map(|i| format!("{},{}", i % 7, if i % 2 == 0 { "a" } else { "b" }));
    let ds = scan_json(&table(&d, "bal.csv", "x,label", rows), &[]);
    assert!(
        !codes(&ds).iter().any(|c| c.starts_with('B')),
        "{:?}",
        codes(&ds)
    );
    // The threshold is the user's to set.
    let ds = scan_json(
        &d.join("imb.csv"),
        &["--threshold", "class-imbalance.max-ratio=25"],
    );
    assert!(!codes(&ds).contains(&"B001".to_string()));
}

#[test]
fn label_shift_and_missing_classes_between_splits() {
    let d = Dir::new();
    let mut rows = Vec::new();
    for (split, counts) in [
        ("train", [50, 30, 20, 0]),
        ("test", [20, 30, 50, 0]),
        ("val", [10, 10, 10, 5]),
    ] {
        for (k, n) in counts.iter().enumerate() {
            for _ in 0..*n {
                rows.push(format!("1,{},{split}", ["a", "b", "c", "d"][k]));
            }
        }
    }
    let ds = scan_json(
        &table(&d, "t.csv", "x,label,split", rows),
        &["--ignore", "B002"],
    );
    let shifts: Vec<&serde_json::Value> = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "B004")
        .collect();
    assert_eq!(shifts.len(), 2, "{ds:#}");
    let test = shifts
        .iter()
        .find(|f| f["evidence"]["split"] == "test")
        .unwrap();
    assert!((test["evidence"]["tvd"].as_f64().unwrap() - 0.3).abs() < 1e-9);
    assert!((test["evidence"]["chi2"].as_f64().unwrap() - 25.7143).abs() < 1e-3);
    // 'd' exists only in val: missing from train is an error, from test a warning.
    let missing: Vec<(&str, &str)> = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "B003")
        .map(|f| {
            (
                f["evidence"]["missing_from"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(missing, [("train", "error"), ("test", "warning")]);
}

#[test]
fn column_scaled_by_1000_is_flagged() {
    let d = Dir::new();
    let (a, b, c) = (noise(1, 300), noise(2, 300), noise(3, 300));
    let rows = (0..300).map(|i| format!("{},{},{},{}", a[i], b[i], c[i] * 1000.0, i % 2));
    let ds = scan_json(&table(&d, "t.csv", "a,b,big,label", rows), &[]);
    let f = finding(&ds, "N001");
    assert_eq!(f["evidence"]["largest"], "big");
    assert!(f["evidence"]["ratio"].as_f64().unwrap() > 500.0);
    // a and b are standardized-looking; big is not.
    assert_eq!(finding(&ds, "N002")["evidence"]["column"], "big");
    let rows = (0..300).map(|i| format!("{},{},{},{}", a[i], b[i], c[i], i % 2));
    let ds = scan_json(&table(&d, "u.csv", "a,b,c,label", rows), &[]);
    assert!(
        !codes(&ds).iter().any(|c| c.starts_with('N')),
        "{:?}",
        codes(&ds)
    );
}

#[test]
fn skew_constants_cardinality_and_text_numbers() {
    let d = Dir::new();
    let rows = (0..200).map(|i| {
        let skewed = if i % 50 == 0 { 1000.0 } else { (i % 5) as f64 };
        let near = if i == 7 { 1 } else { 0 };
        let bmi = if i % 40 == 3 {
            "?".to_string()
        } else {
            format!("{}.5", 20 + i % 9)
        };
        let mixed = if i % 2 == 0 {
            "abc".to_string()
        } else {
            i.to_string()
        };
        format!("{skewed},5,{near},user{i},{bmi},{mixed},{}", i % 2)
    });
    let ds = scan_json(
        &table(&d, "t.csv", "skewed,const,near,uid,bmi,mixed,label", rows),
        &[],
    );
    assert_eq!(finding(&ds, "N003")["evidence"]["column"], "skewed");
    let constant: Vec<&str> = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "N004")
        .map(|f| f["evidence"]["column"].as_str().unwrap())
        .collect();
    assert_eq!(constant, ["const", "near"]);
    assert_eq!(finding(&ds, "N005")["evidence"]["column"], "uid");
    let mixed: Vec<String> = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "N006")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(mixed.len(), 2, "{mixed:?}");
    assert!(
        mixed[0].contains("'bmi'") && mixed[0].contains("'?'"),
        "{mixed:?}"
    );
    assert!(
        mixed[1].contains("'mixed' mixes numbers (50.0%)"),
        "{mixed:?}"
    );
}

#[test]
fn degenerate_tables_give_findings_not_panics() {
    let d = Dir::new();
    // All-NaN column, zero-variance column, a split with one row.
    let mut rows: Vec<String> = (0..30)
        .map(|i| format!("NaN,3,{},{},train", i, i % 2))
        .collect();
    rows.push("NaN,3,1,0,test".into());
    let ds = scan_json(&table(&d, "t.csv", "allnan,zero,x,label,split", rows), &[]);
    let constant: Vec<String> = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "N004")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        constant
            .iter()
            .any(|m| m.contains("'allnan' has no finite value")),
        "{constant:?}"
    );
    assert!(
        constant.iter().any(|m| m.contains("'zero' is constant")),
        "{constant:?}"
    );
    assert_eq!(finding(&ds, "I009")["evidence"]["nan"], 31);
    // The stats output stays valid JSON with nulls where nothing is defined.
    let out = run(&[
        "stats",
        "--format",
        "json",
        d.join("t.csv").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cols = v["datasets"][0]["stats"]["columns"].as_array().unwrap();
    assert!(cols[0]["mean"].is_null() && cols[0]["quantiles"]["p50"].is_null());
    assert_eq!(cols[1]["std"], 0.0);
}

#[test]
fn grey_among_rgb_and_other_image_problems() {
    let d = Dir::new();
    let base = rgb(16, 16, 9);
    for i in 0..4 {
        d.write(
            &format!("a/{i}.png"),
            encode(&rgb(16, 16, 30 + i), ImageFormat::Png),
        );
    }
    d.write(
        "a/grey.png",
        encode(&DynamicImage::ImageLuma8(base.to_luma8()), ImageFormat::Png),
    );
    d.write("a/wide.png", encode(&rgb(60, 10, 3), ImageFormat::Png));
    let dark = image::RgbImage::from_fn(16, 16, |x, y| {
        image::Rgb([(((x + y) * 4) % 80) as u8, 5, 5])
    });
    d.write(
        "b/dark.png",
        encode(&DynamicImage::ImageRgb8(dark), ImageFormat::Png),
    );
    d.write(
        "b/white.png",
        encode(
            &DynamicImage::ImageRgb8(image::RgbImage::from_fn(16, 16, |x, _| {
                image::Rgb([243 + (x * 13 / 16) as u8; 3])
            })),
            ImageFormat::Png,
        ),
    );
    d.write("b/one.png", encode(&rgb(1, 1, 200), ImageFormat::Png));
    let twelve_bit =
        image::ImageBuffer::from_fn(16, 16, |x, y| image::Luma([((x * 16 + y) * 16) as u16]));
    d.write(
        "b/scan16.png",
        encode(&DynamicImage::ImageLuma16(twelve_bit), ImageFormat::Png),
    );
    let ds = scan_json(d.path(), &[]);
    assert_eq!(
        sources(finding(&ds, "N103")),
        ["a/grey.png", "b/scan16.png"]
    );
    assert_eq!(sources(finding(&ds, "N104")), ["b/scan16.png"]);
    assert_eq!(sources(finding(&ds, "N102")), ["a/wide.png"]);
    assert!(sources(finding(&ds, "N105")).contains(&"b/dark.png".to_string()));
    assert_eq!(sources(finding(&ds, "N106")), ["b/white.png"]);
    assert_eq!(sources(finding(&ds, "N110")), ["b/scan16.png"]);
    assert!(finding(&ds, "N101")["sample_count"].as_u64().unwrap() >= 2);
    // A 1x1 image has statistics but no sharpness, and breaks nothing.
    let out = tempfile::tempdir().unwrap();
    let m = out.path().join("m.csv");
    scan_json(d.path(), &["--manifest", m.to_str().unwrap()]);
    let text = std::fs::read_to_string(&m).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("b/one.png") && l.ends_with(',')),
        "1x1 image must have a null sharpness"
    );
}

#[test]
fn channel_constants_match_an_independent_computation() {
    use std::path::Path;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/images/train");
    // Reference: every pixel of every decodable image under train/<class>/, converted to
    // RGB, in f64, in one pass.
    let mut sum = [0f64; 3];
    let mut sumsq = [0f64; 3];
    let mut n = 0f64;
    let mut images = 0;
    // Files directly in train/ belong to the split too (unlabeled, but pixels all the same).
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for e in std::fs::read_dir(&root).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|f| f.unwrap().path()));
        } else {
            files.push(p);
        }
    }
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let Ok(fmt) = image::guess_format(&bytes) else {
            continue;
        };
        let Ok(img) = image::load_from_memory_with_format(&bytes, fmt) else {
            continue;
        };
        images += 1;
        for p in img.to_rgb8().pixels() {
            for k in 0..3 {
                let v = p.0[k] as f64 / 255.0;
                sum[k] += v;
                sumsq[k] += v * v;
            }
            n += 1.0;
        }
    }
    let out = run(&["stats", "--format", "json", "sample_data/images"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let norm = &v["datasets"][0]["stats"]["normalize"];
    assert_eq!(norm["split"], "train");
    let train = v["datasets"][0]["stats"]["images"]["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["split"] == "train")
        .unwrap()
        .clone();
    assert_eq!(train["images"], images);
    for k in 0..3 {
        let mean = sum[k] / n;
        let std = (sumsq[k] / n - mean * mean).sqrt();
        assert!(
            (norm["mean"][k].as_f64().unwrap() - mean).abs() < 1e-6,
            "mean[{k}]"
        );
        assert!(
            (norm["std"][k].as_f64().unwrap() - std).abs() < 1e-6,
            "std[{k}]"
        );
    }
}

#[test]
fn npy_raw_pixels_are_flagged_and_scaled_ones_are_not() {
    use npyz::WriterBuilder;
    let d = Dir::new();
    let write = |name: &str, vals: Vec<u8>| {
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[4, 2, 2])
            .writer(std::fs::File::create(d.join(name)).unwrap())
            .begin_nd()
            .unwrap();
        w.extend(vals).unwrap();
        w.finish().unwrap();
    };
    write("X_train.npy", (0..16).map(|i| (i * 16) as u8).collect());
    npyz::to_file_1d(d.join("y_train.npy"), vec![0i64, 1, 0, 1]).unwrap();
    let ds = scan_json(d.path(), &["--ignore", "B002"]);
    assert_eq!(finding(&ds, "N007")["evidence"]["kind"], "raw 0-255");
    let d2 = Dir::new();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[4, 2])
        .writer(std::fs::File::create(d2.join("X.npy")).unwrap())
        .begin_nd()
        .unwrap();
    w.extend([0.1f32, 0.5, 0.9, 0.0, 1.0, 0.3, 0.2, 0.7])
        .unwrap();
    w.finish().unwrap();
    npyz::to_file_1d(d2.join("y.npy"), vec![0i64, 1, 0, 1]).unwrap();
    let ds = scan_json(d2.path(), &["--ignore", "B002"]);
    assert_eq!(ds["stats"]["array"]["kind"], "scaled to [0, 1]");
    assert!(!codes(&ds).contains(&"N007".to_string()));
}

#[test]
fn bad_thresholds_are_usage_errors() {
    let d = Dir::new();
    d.png("a/0.png", 1);
    for (arg, msg) in [
        ("nope.x=1", "no rule named 'nope'"),
        (
            "class-imbalance.nope=1",
            "has no threshold 'nope'; it has: max-ratio",
        ),
        ("class-imbalance.max-ratio=x", "'x' is not a number"),
    ] {
        let err = error_of(&run_path(d.path(), &["--threshold", arg]));
        assert!(err.contains(msg), "{err}");
    }
}

/// Whole numbers in 0..255 but one: past 100,000 values the quantile sketch keeps a
/// share of them, and whether every value is whole is kept exactly, not read off the
/// values kept (a thinned sample that skipped the one fraction called these raw pixels).
#[test]
fn one_fraction_among_many_whole_numbers_is_not_raw_pixels() {
    let d = Dir::new();
    let (rows, cols) = (40_000u64, 4u64);
    let mut x: Vec<f32> = (0..rows * cols).map(|i| ((i * 37) % 256) as f32).collect();
    x[99_999] = 127.5;
    crate::tables::write_npy_2d(&d.join("X_train.npy"), rows, cols, &x);
    npyz::to_file_1d(
        d.join("y_train.npy"),
        (0..rows as i64).map(|i| i % 2).collect::<Vec<_>>(),
    )
    .unwrap();
    let ds = scan_json(d.path(), &[]);
    assert_eq!(finding(&ds, "N007")["evidence"]["kind"], "unnormalized");
    x[99_999] = 127.0;
    crate::tables::write_npy_2d(&d.join("X_train.npy"), rows, cols, &x);
    let ds = scan_json(d.path(), &[]);
    assert_eq!(finding(&ds, "N007")["evidence"]["kind"], "raw 0-255");
}

#[test]
fn a_regression_target_is_not_a_feature_out_of_scale() {
    // The real breast-cancer table as a regression: `mean_area` (std about 350) is the
    // target, kept raw as targets are; every other column standardized, but for
    // `mean_radius`, left raw. The scale rules speak of the features only: the raw
    // feature is named, the target never (scikit-learn's diabetes table, its target
    // raw, was called 1,619× out of scale).
    let (names, rows) = breast_cancer_features();
    let (area, radius) = (
        names.iter().position(|n| *n == "mean_area").unwrap(),
        names.iter().position(|n| *n == "mean_radius").unwrap(),
    );
    let columns = rows[0].len();
    let n = rows.len() as f64;
    let scaled: Vec<Vec<f64>> = (0..columns)
        .map(|j| {
            let col: Vec<f64> = rows.iter().map(|r| r[j]).collect();
            if j == area || j == radius {
                return col;
            }
            let mean = col.iter().sum::<f64>() / n;
            let sd = (col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
            col.iter().map(|x| (x - mean) / sd).collect()
        })
        .collect();
    let header: Vec<String> = (0..columns)
        .map(|j| {
            if j == area {
                "target".into()
            } else {
                names[j].clone()
            }
        })
        .collect();
    let d = Dir::new();
    let out = (0..rows.len()).map(|i| {
        (0..columns)
            .map(|j| scaled[j][i].to_string())
            .collect::<Vec<_>>()
            .join(",")
    });
    let ds = scan_json(&table(&d, "regression.csv", &header.join(","), out), &[]);
    let guesses = ds["guesses"].to_string();
    assert!(guesses.contains("task: regression"), "{guesses}");
    let named: Vec<String> = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "N001" || f["code"] == "N002")
        .map(|f| f["message"].to_string())
        .collect();
    assert!(named.iter().all(|m| !m.contains("'target'")), "{named:?}");
    assert_eq!(finding(&ds, "N002")["evidence"]["column"], "mean_radius");
}

#[test]
fn a_near_constant_column_is_not_a_scale() {
    // `rare` is 0 in all rows but one: its std (0.006) measures how rare the other
    // value is, not a scale (scikit-learn's digits as a table, every pixel 0-16, was
    // called 277x apart by its corner pixels). N004 names it; N001 does not count it.
    let d = Dir::new();
    let (a, b) = (noise(1, 300), noise(2, 300));
    let rows = (0..300).map(|i| {
        let rare = if i == 7 { 0.1 } else { 0.0 };
        format!("{},{},{rare},{}", a[i], b[i], i % 2)
    });
    let ds = scan_json(&table(&d, "t.csv", "a,b,rare,label", rows), &[]);
    assert!(!codes(&ds).iter().any(|c| c == "N001"), "{:?}", codes(&ds));
    assert_eq!(finding(&ds, "N004")["evidence"]["column"], "rare");
    // A column on another scale among them is still named.
    let rows = (0..300).map(|i| {
        let rare = if i == 7 { 0.1 } else { 0.0 };
        format!("{},{},{rare},{}", a[i], b[i] * 1000.0, i % 2)
    });
    let ds = scan_json(&table(&d, "u.csv", "a,big,rare,label", rows), &[]);
    assert_eq!(finding(&ds, "N001")["evidence"]["largest"], "big");
    assert_eq!(finding(&ds, "N001")["evidence"]["smallest"], "a");
}
