//! Duplicates with injected truth: exact copies, near copies, leaks and conflicts
//! planted in real-looking images and tables, then counted back.

use crate::util::{codes, encode, finding, run, scan_json, Dir};
use dsaudit_core::scan::{scan, Scan, ScanOptions};
use image::{imageops::FilterType, DynamicImage, ImageFormat, Rgb, RgbImage};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

/// A 64×64 scene: smooth waves, a few shapes, sensor noise. Distinct seeds give
/// distinct pictures, as distinct photographs are.
pub(crate) fn scene(seed: u64) -> RgbImage {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let s = 64.0f32;
    let waves: Vec<[f32; 4]> = (0..4)
        .map(|_| {
            [
                rng.random_range(0.5..3.0f32),
                rng.random_range(0.0..6.3f32),
                rng.random_range(0.0..6.3f32),
                rng.random_range(20.0..60.0f32),
            ]
        })
        .collect();
    let channels: Vec<usize> = (0..4).map(|_| rng.random_range(0..3usize)).collect();
    let base: [f32; 3] = std::array::from_fn(|_| rng.random_range(40.0..200.0f32));
    let shapes: Vec<(u8, f32, f32, f32, [f32; 3])> = (0..rng.random_range(3..7))
        .map(|_| {
            (
                rng.random_range(0..3u8),
                rng.random_range(0.1..0.9f32) * s,
                rng.random_range(0.1..0.9f32) * s,
                rng.random_range(0.08..0.3f32) * s,
                std::array::from_fn(|_| rng.random_range(0.0..255.0f32)),
            )
        })
        .collect();
    let mut img = RgbImage::new(64, 64);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let (fx, fy) = (x as f32 / s, y as f32 / s);
        let mut c = base;
        for (w, &ch) in waves.iter().zip(&channels) {
            // 6.28, not TAU: the test's images were drawn with it.
            #[allow(clippy::approx_constant)]
            let v = w[3] * (6.28 * w[0] * (fx * w[1].cos() + fy * w[1].sin()) + w[2]).sin();
            c[ch] += v;
            c[(ch + 1) % 3] += v * 0.5;
        }
        for &(kind, cx, cy, r, col) in &shapes {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            let inside = match kind {
                0 => dx * dx + dy * dy <= r * r,
                1 => dx.abs() <= r && dy.abs() <= r * 0.6,
                _ => dy <= r * 0.8 && dy >= -r && dx.abs() <= (dy + r) * 0.6,
            };
            if inside {
                c = col;
            }
        }
        let n = rng.random_range(-6.0..6.0f32);
        *p = Rgb(c.map(|v| (v + n).clamp(0.0, 255.0) as u8));
    }
    img
}

fn brightness(img: &RgbImage, f: f32) -> RgbImage {
    let mut o = img.clone();
    o.pixels_mut()
        .for_each(|p| p.0 = p.0.map(|c| (c as f32 * f).round().clamp(0.0, 255.0) as u8));
    o
}

/// Moved right by two pixels, the left column repeated: one pixel of the 32×32
/// image that near copies are confirmed on (half a pixel is not recovered on
/// textured pictures; see `duplicates::similarity`).
fn shifted(img: &RgbImage) -> RgbImage {
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        *img.get_pixel(x.saturating_sub(2), y)
    })
}

fn resized(img: &RgbImage) -> RgbImage {
    DynamicImage::ImageRgb8(img.clone())
        .resize_exact(58, 58, FilterType::Triangle)
        .to_rgb8()
}

fn png(img: &RgbImage) -> Vec<u8> {
    encode(&DynamicImage::ImageRgb8(img.clone()), ImageFormat::Png)
}

/// Same pixels, different bytes: PNG with another compression setting.
pub(crate) fn png_fast(img: &RgbImage) -> Vec<u8> {
    use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
    let mut out = Vec::new();
    let enc = PngEncoder::new_with_quality(&mut out, CompressionType::Fast, PngFilter::NoFilter);
    img.write_with_encoder(enc).unwrap();
    out
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    encode(&DynamicImage::ImageRgb8(img.clone()), ImageFormat::Jpeg)
}

fn quiet_scan(path: &Path) -> Scan {
    scan(
        path,
        &ScanOptions {
            hints: Default::default(),
            rules: dsaudit_core::rules::registry(),
            thresholds: Default::default(),
            quiet: true,
            timings: false,
            duplicates: true,
            shift_tests: true,
            shift: Default::default(),
            labels: Default::default(),
            refit: false,
            against: None,
        },
    )
    .expect("scan")
}

type Pairs = BTreeSet<(String, String)>;

/// Unordered pairs of sources that share a cluster (near) or an exact group.
fn predicted_pairs(s: &Scan) -> (Pairs, Pairs) {
    let src = s.loaded.manifest.strs("source");
    let name = |i: u32| src.get(i as usize).unwrap().to_string();
    let pairs = |members: &[u32]| {
        let mut out = BTreeSet::new();
        for (k, &a) in members.iter().enumerate() {
            for &b in &members[k + 1..] {
                let (a, b) = (name(a), name(b));
                out.insert(if a < b { (a, b) } else { (b, a) });
            }
        }
        out
    };
    let mut all = BTreeSet::new();
    let mut exact = BTreeSet::new();
    for c in &s.dups.clusters {
        all.extend(pairs(&c.members));
        for g in &c.exact {
            exact.extend(pairs(g));
        }
    }
    (all, exact)
}

fn pair(a: &str, b: &str) -> (String, String) {
    if a < b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

#[test]
fn images_injected_copies_are_found_with_high_precision_and_recall() {
    let d = Dir::new();
    let classes = ["cat", "dog", "fox"];
    let mut originals = Vec::new();
    for i in 0..150u64 {
        let split = if i % 3 == 0 { "test" } else { "train" };
        let rel = format!("{split}/{}/{i:03}.png", classes[i as usize % 3]);
        let img = scene(1000 + i);
        d.write(&rel, png(&img));
        originals.push((rel, img));
    }
    let mut exact = BTreeSet::new();
    let mut near = BTreeSet::new();
    let mut leaks = BTreeSet::new();
    let mut conflicts = BTreeSet::new();
    // Copy k of original i goes to: train (same class), test (a leak), or another class (a conflict).
    let mut plant = |i: usize, kind: &str, bytes: Vec<u8>, same_pixels: bool, k: usize| {
        let (orig, _) = &originals[i];
        let class = classes[i % 3];
        let (split, label) = match k % 4 {
            1 => ("test", class),
            2 => ("train", classes[(i + 1) % 3]),
            _ => ("train", class),
        };
        let rel = format!(
            "{split}/{label}/copy_{kind}_{i:03}.{}",
            if kind == "jpeg" { "jpg" } else { "png" }
        );
        d.write(&rel, bytes);
        if same_pixels {
            exact.insert(pair(orig, &rel));
        } else {
            near.insert(pair(orig, &rel));
        }
        if split == "test" && orig.starts_with("train/") {
            leaks.insert(rel.clone());
        }
        if split == "train" && orig.starts_with("test/") {
            leaks.insert(orig.clone());
        }
        if label != class {
            conflicts.insert(rel.clone());
            conflicts.insert(orig.clone());
        }
    };
    for k in 0..60usize {
        let i = k * 2 + 1;
        let img = originals[i].1.clone();
        match k % 6 {
            0 => plant(
                i,
                "bytes",
                std::fs::read(d.join(&originals[i].0)).unwrap(),
                true,
                k,
            ),
            1 => plant(i, "reencoded", png_fast(&img), true, k),
            2 => plant(i, "jpeg", jpeg(&img), false, k),
            3 => plant(
                i,
                "bright",
                png(&brightness(&img, if k % 4 == 1 { 0.9 } else { 1.1 })),
                false,
                k,
            ),
            4 => plant(i, "shift", png(&shifted(&img)), false, k),
            _ => plant(i, "resize", png(&resized(&img)), false, k),
        }
    }
    let s = quiet_scan(d.path());
    let (found, found_exact) = predicted_pairs(&s);
    // Exact: every planted identical pair, and nothing else.
    assert_eq!(
        found_exact, exact,
        "exact groups differ from the planted ones"
    );
    // Near: recall and precision over pairs.
    let hit = near.iter().filter(|p| found.contains(*p)).count();
    let recall = hit as f64 / near.len() as f64;
    let truth: BTreeSet<_> = exact.union(&near).cloned().collect();
    let near_found: BTreeSet<_> = found.difference(&found_exact).collect();
    let correct = near_found.iter().filter(|p| truth.contains(**p)).count();
    let precision = correct as f64 / near_found.len().max(1) as f64;
    eprintln!(
        "near duplicates: recall {recall:.3}, precision {precision:.3} ({} planted, {} found)",
        near.len(),
        near_found.len()
    );
    assert!(
        recall >= 0.95,
        "recall {recall}: missed {:?}",
        near.difference(&found).collect::<Vec<_>>()
    );
    assert!(precision >= 0.95, "precision {precision}");

    // Every leak and every conflict is named by its rule.
    let ds = scan_json(d.path(), &[]);
    let listed_by = |code: &str| -> BTreeSet<String> {
        finding(&ds, code)["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["source"].as_str().unwrap().to_string())
            .collect()
    };
    let leak = finding(&ds, "D003");
    let listed = listed_by("D003");
    assert!(
        leaks.is_subset(&listed),
        "missed leaks {:?}",
        leaks.difference(&listed).collect::<Vec<_>>()
    );
    let listed = listed_by("L001");
    assert!(
        conflicts.is_subset(&listed),
        "missed conflicts {:?}",
        conflicts.difference(&listed).collect::<Vec<_>>()
    );
    // The share of test that leaked is reported against test's size.
    let test_size = s
        .loaded
        .manifest
        .strs("split")
        .iter()
        .filter(|x| *x == Some("test"))
        .count();
    assert_eq!(leak["evidence"]["into_split_size"], test_size as u64);
}

#[test]
fn table_injected_copies_are_found_with_high_precision_and_recall() {
    let d = Dir::new();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let n = 3000;
    let colors = ["red", "green", "blue"];
    let mut rows: Vec<(Vec<f64>, &str, String, &str)> = (0..n)
        .map(|i| {
            let k = i % 3;
            let v = (0..6)
                .map(|j| rng.random_range(-1.0..1.0f64) * 10f64.powi(j % 3) + k as f64)
                .collect();
            (
                v,
                colors[rng.random_range(0..3usize)],
                format!("c{k}"),
                if i % 4 == 0 { "test" } else { "train" },
            )
        })
        .collect();
    let mut exact = BTreeSet::new();
    let mut near = BTreeSet::new();
    let mut leaks = BTreeSet::new();
    let mut conflicts = BTreeSet::new();
    for k in 0..80usize {
        let i = 7 + k * 31;
        let mut copy = rows[i].clone();
        let new_row = rows.len();
        if k % 2 == 0 {
            // Exact, with a zero written as -0.0 in some copies.
            if k % 4 == 0 {
                copy.0[5] = 0.0;
                rows[i].0[5] = -0.0;
            }
            exact.insert((i.min(new_row), new_row.max(i)));
        } else {
            // Near: every feature nudged by 0.1% of its scale.
            for (j, v) in copy.0.iter_mut().enumerate() {
                *v += 0.001 * 10f64.powi(j as i32 % 3);
            }
            near.insert((i, new_row));
        }
        match k % 5 {
            1 if rows[i].3 == "train" => {
                copy.3 = "test";
                leaks.insert(new_row);
            }
            2 => {
                copy.2 = "other".into();
                conflicts.insert(i);
                conflicts.insert(new_row);
            }
            _ => {}
        }
        rows.push(copy);
    }
    let mut csv = String::from("a,b,c,d,e,f,color,label,split\n");
    for (v, color, label, split) in &rows {
        for x in v {
            let _ = write!(csv, "{x:?},");
        }
        let _ = writeln!(csv, "{color},{label},{split}");
    }
    let path = d.write("data.csv", csv);
    let s = quiet_scan(&path);
    let row_pairs = |members: &[u32]| {
        let mut out = BTreeSet::new();
        for (k, &a) in members.iter().enumerate() {
            for &b in &members[k + 1..] {
                out.insert((a as usize, b as usize));
            }
        }
        out
    };
    let mut found = BTreeSet::new();
    let mut found_exact = BTreeSet::new();
    for c in &s.dups.clusters {
        found.extend(row_pairs(&c.members));
        for g in &c.exact {
            found_exact.extend(row_pairs(g));
        }
    }
    assert_eq!(
        found_exact, exact,
        "exact groups differ from the planted ones"
    );
    let hit = near.iter().filter(|p| found.contains(*p)).count();
    let recall = hit as f64 / near.len() as f64;
    let near_found: Vec<_> = found.difference(&found_exact).collect();
    let correct = near_found
        .iter()
        .filter(|p| near.contains(**p) || exact.contains(**p))
        .count();
    let precision = correct as f64 / near_found.len().max(1) as f64;
    eprintln!("table near duplicates: recall {recall:.3}, precision {precision:.3}");
    assert!(
        recall >= 0.95 && precision >= 0.95,
        "recall {recall}, precision {precision}"
    );

    let ds = scan_json(&path, &[]);
    let rows_of = |code: &str| -> BTreeSet<usize> {
        finding(&ds, code)["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["row"].as_u64().unwrap() as usize)
            .collect()
    };
    assert!(leaks.is_subset(&rows_of("D003")));
    assert!(conflicts.is_subset(&rows_of("L001")));
}

#[test]
fn train_and_test_files_are_compared_with_each_other() {
    let d = Dir::new();
    d.write("train.csv", "x,y,label\n1.5,2,a\n3,4,b\n5,6,a\n7,8,b\n");
    d.write("test.csv", "x,y,label\n3,4,b\n9,10,a\n11,12,b\n");
    d.write("val.csv", "x,y,label\n5,6,a\n13,14,b\n15,16,a\n");
    let ds = scan_json(d.path(), &[]);
    // Into test is an error; into val a warning.
    let leaks: Vec<_> = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "D003")
        .map(|f| (f["evidence"]["into_split"].clone(), f["severity"].clone()))
        .collect();
    assert_eq!(
        leaks,
        vec![
            (serde_json::json!("test"), serde_json::json!("error")),
            (serde_json::json!("val"), serde_json::json!("warning"))
        ]
    );
    let leak = finding(&ds, "D003");
    assert_eq!(leak["samples"][0]["source"], "test.csv");
    assert_eq!(leak["samples"][0]["row"], 0);
    assert!(leak["message"]
        .as_str()
        .unwrap()
        .contains("1 row of test (33.3%)"));
}

#[test]
fn json_and_manifest_carry_cluster_ids() {
    let d = Dir::new();
    let a = png(&scene(1));
    d.write("train/x/a.png", &a);
    d.write("train/x/b.png", &a);
    d.write("train/y/c.png", png(&scene(2)));
    d.write("test/x/d.png", png(&shifted(&scene(2))));
    let ds = scan_json(d.path(), &[]);
    let clusters = ds["duplicates"]["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 2);
    // Ids follow the sorted paths: test/x/d.png is 0, train/x/a.png 1.
    assert_eq!(clusters[0]["members"], serde_json::json!([0, 3]));
    assert_eq!(clusters[0]["near"], true);
    assert_eq!(clusters[1]["exact"], serde_json::json!([[1, 2]]));
    // The near member carries its pixel similarity to the representative.
    let rep = clusters[0]["representative"].as_u64().unwrap();
    let near = &clusters[0]["near_members"][0];
    assert_eq!(near["sample"].as_u64().unwrap(), 3 - rep);
    assert!(near["similarity"].as_f64().unwrap() > 0.995, "{near}");
    let thresholds = &ds["duplicates"]["thresholds"];
    assert_eq!(thresholds["phash"], 10);
    assert_eq!(thresholds["max_distance"], 0.005);
    assert!(
        thresholds["distance"].as_f64().unwrap() <= 0.005,
        "{thresholds}"
    );
    let manifest = d.join("../manifest_dups.csv");
    let out = run(&[
        "scan",
        "-q",
        "--fail-on",
        "never",
        "--manifest",
        manifest.to_str().unwrap(),
        d.path().to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::remove_file(&manifest).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "dup_cluster")
        .expect("dup_cluster column");
    let values: HashMap<String, String> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[3].to_string(), f[col].to_string())
        })
        .collect();
    assert_eq!(values["train/x/a.png"], "1");
    assert_eq!(values["test/x/d.png"], "0");
    // Thresholds are tunable: a zero-bit pHash radius leaves only the exact copies.
    let ds = scan_json(d.path(), &["--threshold", "D002.phash=0"]);
    assert_eq!(ds["duplicates"]["clusters"].as_array().unwrap().len(), 1);
}

#[test]
fn degenerate_inputs_give_findings_not_panics() {
    // All images identical: one cluster holding all of them.
    let d = Dir::new();
    let a = png(&scene(5));
    for i in 0..6 {
        d.write(&format!("c/{i}.png"), &a);
    }
    let ds = scan_json(d.path(), &[]);
    assert!(finding(&ds, "D001")["message"]
        .as_str()
        .unwrap()
        .starts_with("5 redundant copies: 6 images in 1 group"));

    // Images too small to hash: an info finding naming them.
    let d = Dir::new();
    for i in 0..3u8 {
        d.write(
            &format!("c/{i}.png"),
            encode(&crate::util::rgb(4, 4, i * 40 + 1), ImageFormat::Png),
        );
    }
    let ds = scan_json(d.path(), &[]);
    let f = finding(&ds, "D002");
    assert_eq!(f["severity"], "info");
    assert_eq!(f["sample_count"], 3);

    // 1×1 and 2×2 images and blank pictures of different greys: each reported as
    // such, none clustered with another (a flat picture correlates with nothing).
    let d = Dir::new();
    for (i, side) in [1u32, 1, 2, 2].into_iter().enumerate() {
        d.write(
            &format!("c/tiny{i}.png"),
            encode(
                &crate::util::rgb(side, side, 30 + 50 * i as u8),
                ImageFormat::Png,
            ),
        );
    }
    for i in 0..3u8 {
        let flat = RgbImage::from_pixel(64, 64, Rgb([60 + 70 * i; 3]));
        d.write(
            &format!("c/blank{i}.png"),
            encode(&DynamicImage::ImageRgb8(flat), ImageFormat::Png),
        );
    }
    let ds = scan_json(d.path(), &[]);
    assert_eq!(ds["duplicates"]["clusters"], serde_json::json!([]));
    assert_eq!(finding(&ds, "D002")["sample_count"], 4);
    // A 1×1 picture is flat too, so blank-image may name it as well.
    let blank = crate::util::sources(finding(&ds, "N108"));
    for i in 0..3 {
        assert!(blank.contains(&format!("c/blank{i}.png")), "{blank:?}");
    }

    // A table with a single numeric column, and one with a single text column.
    let d = Dir::new();
    let p = d.write("one.csv", "x,label\n1,a\n2,b\n2,a\n3,b\n4,a\n5,b\n");
    let ds = scan_json(&p, &[]);
    assert!(codes(&ds).contains(&"L001".to_string()));
    let p = d.write("text.csv", "name,label\nann,a\nbob,b\nann,a\n");
    let ds = scan_json(&p, &[]);
    assert!(codes(&ds).contains(&"D001".to_string()));
    let skipped = ds["duplicates"]["near_search"]["skipped"].as_str().unwrap();
    assert_eq!(skipped, "no numeric feature columns");
}

#[test]
fn a_table_too_wide_to_search_says_so_and_still_finds_identical_rows() {
    // 70 numeric features: above what the k-d tree searches. Rows are distinct
    // except row 1, a byte copy of row 0, and row 2, row 0 moved by 0.0001 in one
    // column: an identical cluster, and a near copy that is not searched.
    let d = Dir::new();
    let mut csv: String = (0..70).map(|j| format!("f{j},")).collect::<String>() + "label\n";
    for i in 0..60u32 {
        let src = if i < 3 { 0 } else { i };
        let row: Vec<String> = (0..70u32)
            .map(|j| {
                let v = ((src * 7919 + j * 104_729) % 1000) as f64 / 100.0;
                let v = if i == 2 && j == 5 { v + 0.0001 } else { v };
                format!("{v:.4}")
            })
            .collect();
        csv += &format!("{},{}\n", row.join(","), ["a", "b"][i as usize % 2]);
    }
    let p = d.write("wide.csv", &csv);
    let ds = scan_json(&p, &[]);
    assert!(ds["duplicates"]["near_search"]["skipped"]
        .as_str()
        .unwrap()
        .starts_with("70 numeric features: above 64"));
    let near = finding(&ds, "D002");
    assert_eq!(near["severity"], "info");
    assert!(near["message"]
        .as_str()
        .unwrap()
        .starts_with("near duplicates not searched: 70 numeric features"));
    assert!(near["fix"]
        .as_str()
        .unwrap()
        .contains("near copies may remain"));
    let rows: Vec<u64> = finding(&ds, "D001")["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["row"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, [0, 1], "the identical pair only, not the near copy");
}
