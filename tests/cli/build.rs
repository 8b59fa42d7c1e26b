//! The build commands (split, rebalance, subset, clean) on generated datasets with
//! known class counts and planted duplicate clusters: exact stratification, clusters
//! kept whole, exact counts, byte-identical reruns, rescannable outputs, and every
//! refusal leaving OUT as it was.

use crate::util::{counts, error_of, run, scan_json, snapshot, Dir};
use polars::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A table: `train` rows per class then `test` rows per class, four numeric features
/// and a colour; `clusters` groups of three identical train rows (one label each).
fn table(
    d: &Dir,
    name: &str,
    train: &[(&str, usize)],
    test: &[(&str, usize)],
    clusters: usize,
) -> PathBuf {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut csv = String::from("f0,f1,f2,f3,colour,label,split\n");
    let row = |rng: &mut ChaCha8Rng, label: &str, split: &str| {
        let v: Vec<f64> = (0..4)
            .map(|_| (rng.random::<f64>() * 100.0).round() / 10.0)
            .collect();
        let colour = ["red", "green", "blue"][rng.random_range(0..3)];
        format!(
            "{},{},{},{},{colour},{label},{split}\n",
            v[0], v[1], v[2], v[3]
        )
    };
    let mut planted = 0;
    for (split, classes) in [("train", train), ("test", test)] {
        for &(label, n) in classes {
            let mut k = 0;
            while k < n {
                let line = row(&mut rng, label, split);
                // Every tenth train row starts a cluster of three identical rows.
                let copies = if split == "train" && planted < clusters && k % 10 == 0 && k + 3 <= n
                {
                    3
                } else {
                    1
                };
                planted += usize::from(copies == 3);
                for _ in 0..copies {
                    csv.push_str(&line);
                }
                k += copies;
            }
        }
    }
    d.write(&format!("data/{name}"), csv)
}

struct Manifest {
    df: DataFrame,
}

impl Manifest {
    fn read(out: &Path) -> Manifest {
        let file = std::fs::File::open(out.join("manifest.parquet")).expect("manifest.parquet");
        Manifest {
            df: ParquetReader::new(file).finish().unwrap(),
        }
    }

    fn strs(&self, name: &str) -> Vec<Option<String>> {
        let c = self
            .df
            .column(name)
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        c.str()
            .unwrap()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    fn u64s(&self, name: &str) -> Vec<Option<u64>> {
        let c = self
            .df
            .column(name)
            .unwrap()
            .cast(&DataType::UInt64)
            .unwrap();
        c.u64().unwrap().iter().collect()
    }

    /// (split, label) → count over output rows.
    fn tally(&self) -> BTreeMap<(String, String), u64> {
        let mut t = BTreeMap::new();
        for ((s, l), a) in self
            .strs("split")
            .into_iter()
            .zip(self.strs("label"))
            .zip(self.strs("action"))
        {
            if a.as_deref() != Some("dropped") {
                *t.entry((s.unwrap_or_default(), l.unwrap_or_default()))
                    .or_default() += 1;
            }
        }
        t
    }
}

/// Byte-identical file sets, reported by name (a byte dump helps nobody).
fn same_files(a: &[(PathBuf, Vec<u8>)], b: &[(PathBuf, Vec<u8>)]) {
    let names = |x: &[(PathBuf, Vec<u8>)]| x.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(a), names(b));
    for ((p, x), (_, y)) in a.iter().zip(b) {
        assert!(x == y, "{} differs", p.display());
    }
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn input_counts(train: &[(&str, usize)]) -> HashMap<String, f64> {
    train
        .iter()
        .map(|(l, n)| (l.to_string(), *n as f64))
        .collect()
}

const TRAIN: &[(&str, usize)] = &[("a", 600), ("b", 290), ("c", 97)];
const TEST: &[(&str, usize)] = &[("a", 120), ("b", 61), ("c", 19)];

#[test]
fn split_is_stratified_keeps_clusters_whole_and_reruns_byte_identical() {
    let d = Dir::new();
    let data = table(&d, "data/table.csv", TRAIN, TEST, 40);
    let before = snapshot(&data);
    let out = d.join("out");
    // --overwrite on a new OUT is allowed; the same command line gives the same build.json.
    let args = [
        "split",
        s(&data),
        "-o",
        s(&out),
        "--train-val",
        "0.2",
        "--test-val",
        "0.5",
        "-q",
        "--overwrite",
    ];
    let text = ok(&args);
    assert!(text.contains("train-val"), "{text}");
    assert_eq!(snapshot(&data), before, "the input must not change");
    let m = Manifest::read(&out);
    // Every input sample exactly once.
    let ids: Vec<u64> = m.u64s("source_id").into_iter().flatten().collect();
    assert_eq!(ids.len(), 987 + 200);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len());
    // Within one sample of exact stratification, both holdouts.
    let t = m.tally();
    for (pool, held, frac, classes) in [
        ("train", "train-val", 0.2, TRAIN),
        ("test", "test-val", 0.5, TEST),
    ] {
        let total: usize = classes.iter().map(|c| c.1).sum();
        let held_total: u64 = classes
            .iter()
            .map(|(l, _)| t[&(held.to_string(), l.to_string())])
            .sum();
        assert_eq!(held_total, (frac * total as f64).round() as u64);
        for (label, n) in input_counts(classes) {
            let got = t[&(held.to_string(), label.clone())] as f64;
            assert!(
                (got - frac * n).abs() <= 1.0,
                "{held} {label}: {got} vs {}",
                frac * n
            );
            let rest = t[&(pool.to_string(), label.clone())] as f64;
            assert_eq!(got + rest, n);
        }
    }
    // No duplicate cluster spans two output splits.
    let mut splits_of: HashMap<u64, BTreeSet<String>> = HashMap::new();
    for (c, sp) in m.u64s("dup_cluster").into_iter().zip(m.strs("split")) {
        if let (Some(c), Some(sp)) = (c, sp) {
            splits_of.entry(c).or_default().insert(sp);
        }
    }
    assert!(splits_of.len() >= 40, "{} clusters", splits_of.len());
    assert!(splits_of.values().all(|v| v.len() == 1), "{splits_of:?}");
    assert!(
        splits_of.values().any(|v| v.contains("train-val")),
        "some clusters are held out whole"
    );
    // One table per split, in the input's format, without the split column.
    for split in ["train", "train-val", "test-val", "test"] {
        let text = std::fs::read_to_string(out.join(format!("{split}.csv"))).unwrap();
        assert!(
            text.starts_with("f0,f1,f2,f3,colour,label\n"),
            "{split}: {}",
            &text[..40]
        );
        let rows = text.lines().count() as u64 - 1;
        let want: u64 = t
            .iter()
            .filter(|((sp, _), _)| sp == split)
            .map(|(_, n)| n)
            .sum();
        assert_eq!(rows, want, "{split}");
    }
    // Same input, same seed: the same bytes; another seed: another hold-out.
    let first = snapshot(&out);
    ok(&args);
    same_files(&snapshot(&out), &first);
    let other = d.join("other");
    ok(&[
        "split",
        s(&data),
        "-o",
        s(&other),
        "--train-val",
        "0.2",
        "--test-val",
        "0.5",
        "-q",
        "--seed",
        "1",
    ]);
    assert_ne!(
        std::fs::read(other.join("train-val.csv")).unwrap(),
        std::fs::read(out.join("train-val.csv")).unwrap()
    );
    // The output is a dataset dsaudit reads back with the same counts.
    let ds = scan_json(&out, &["--select", "I"]);
    let mut rescanned = BTreeMap::new();
    for (sp, l, n) in counts(&ds) {
        rescanned.insert((sp, l), n);
    }
    assert_eq!(rescanned, t);
}

#[test]
fn split_explains_what_cannot_be_stratified_and_refuses_bad_sizes() {
    let d = Dir::new();
    let data = table(
        &d,
        "t.csv",
        &[("a", 50), ("b", 30), ("lonely", 1)],
        &[("a", 10), ("b", 10)],
        0,
    );
    let out = d.join("out");
    let text = ok(&["split", s(&data), "-o", s(&out), "-q"]);
    assert!(
        text.contains("class 'lonely' has 1 sample in train: it cannot be stratified"),
        "{text}"
    );
    let t = Manifest::read(&out).tally();
    assert_eq!(t[&("train".into(), "lonely".into())], 1);
    // Too large a hold-out: a clear error and nothing written.
    let bad = d.join("bad");
    let err = error_of(&run(&[
        "split",
        s(&data),
        "-o",
        s(&bad),
        "--train-val",
        "500",
        "-q",
    ]));
    assert!(
        err.contains("--train-val: 500 samples requested, but train has 81"),
        "{err}"
    );
    assert!(!bad.exists());
    let err = error_of(&run(&[
        "split",
        s(&data),
        "-o",
        s(&bad),
        "--train-val",
        "1.5",
        "-q",
    ]));
    assert!(err.contains("expected a fraction between 0 and 1"), "{err}");
    assert!(!bad.exists());
    // Test classes train lacks.
    let unseen = table(&d, "u.csv", &[("a", 40)], &[("a", 10), ("z", 5)], 0);
    let err = error_of(&run(&["split", s(&unseen), "-o", s(&bad), "-q"]));
    assert!(
        err.contains("test has classes that train lacks (z)"),
        "{err}"
    );
    assert!(!bad.exists());
    ok(&[
        "split",
        s(&unseen),
        "-o",
        s(&bad),
        "-q",
        "--allow-unseen-classes",
    ]);
    // No test split: an error naming the way out, then the way out.
    let unsplit = d.write(
        "data/plain.csv",
        "x,label\n1,a\n2,a\n3,a\n4,b\n5,b\n6,b\n7,a\n8,b\n9,a\n10,b\n",
    );
    let none = d.join("none");
    let err = error_of(&run(&["split", s(&unsplit), "-o", s(&none), "-q"]));
    assert!(err.contains("--carve-test"), "{err}");
    assert!(!none.exists());
    ok(&[
        "split",
        s(&unsplit),
        "-o",
        s(&none),
        "-q",
        "--carve-test",
        "0.4",
        "--train-val",
        "0.2",
    ]);
    let t = Manifest::read(&none).tally();
    assert_eq!(
        t.iter()
            .filter(|((sp, _), _)| sp == "test" || sp == "test-val")
            .map(|(_, n)| n)
            .sum::<u64>(),
        4
    );
    for l in ["a", "b"] {
        let test: u64 = ["test", "test-val"]
            .iter()
            .map(|sp| t.get(&(sp.to_string(), l.into())).copied().unwrap_or(0))
            .sum();
        assert_eq!(test, 2, "class {l} is stratified into the carved test");
    }
}

/// Rebalances `data` into `d/name` with `args` and returns the train split's counts.
fn rebalanced(d: &Dir, data: &Path, name: &str, args: &[&str]) -> (PathBuf, BTreeMap<String, u64>) {
    let out = d.join(name);
    let mut all = vec!["rebalance", s(data), "-o", s(&out), "-q"];
    all.extend_from_slice(args);
    ok(&all);
    let counts = train_counts(&out, "train");
    (out, counts)
}

fn train_counts(out: &Path, split: &str) -> BTreeMap<String, u64> {
    Manifest::read(out)
        .tally()
        .into_iter()
        .filter(|((sp, _), _)| sp == split)
        .map(|((_, l), n)| (l, n))
        .collect()
}

fn classes(counts: &[(&str, u64)]) -> BTreeMap<String, u64> {
    counts.iter().map(|(l, n)| (l.to_string(), *n)).collect()
}

#[test]
fn rebalance_gives_exactly_the_requested_counts() {
    let d = Dir::new();
    let data = table(&d, "t.csv", TRAIN, TEST, 0);
    let all = |n: u64| classes(&[("a", n), ("b", n), ("c", n)]);
    let (o, train) = rebalanced(&d, &data, "under", &["--strategy", "undersample"]);
    assert_eq!(train, all(97));
    assert_eq!(
        train_counts(&o, "test"),
        classes(&[("a", 120), ("b", 61), ("c", 19)])
    );
    let (o, train) = rebalanced(
        &d,
        &data,
        "over",
        &["--strategy", "oversample", "--count", "700"],
    );
    assert_eq!(train, all(700));
    let text = std::fs::read_to_string(o.join("train.csv")).unwrap();
    assert_eq!(text.lines().count() - 1, 2100);
    let copies = Manifest::read(&o)
        .strs("action")
        .iter()
        .filter(|a| a.as_deref() == Some("copy"))
        .count();
    assert_eq!(copies, 2100 - 987);
    // The largest subset with exactly these shares: c limits it to 97 / 0.2 = 485.
    let shares = ["--strategy", "target", "--target", "a=0.5,b=0.3,c=0.2"];
    assert_eq!(
        rebalanced(&d, &data, "target", &shares).1,
        classes(&[("a", 243), ("b", 145), ("c", 97)])
    );
    let test_mix = ["--strategy", "target", "--target", "test", "--count", "400"];
    assert_eq!(
        rebalanced(&d, &data, "target-test", &test_mix).1,
        classes(&[("a", 240), ("b", 122), ("c", 38)])
    );
    let clip = ["--max-per-class", "200", "--min-per-class", "150"];
    assert_eq!(
        rebalanced(&d, &data, "clip", &clip).1,
        classes(&[("a", 200), ("b", 200), ("c", 150)])
    );
    // Loss weights only.
    let o = d.join("weights");
    let args = [
        "rebalance",
        s(&data),
        "-o",
        s(&o),
        "--strategy",
        "weights",
        "-q",
    ];
    ok(&args);
    let w: serde_json::Value =
        serde_json::from_slice(&std::fs::read(o.join("weights.json")).unwrap()).unwrap();
    let v: Vec<f64> = w["weight_vector"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    for (got, n) in v.iter().zip([600.0, 290.0, 97.0]) {
        assert!((got - 987.0 / (3.0 * n)).abs() < 1e-5, "{got}");
    }
    assert!(!o.join("manifest.csv").exists());
    // Impossible requests: clear errors, nothing written.
    let bad = d.join("bad");
    let err = error_of(&run(&[
        "rebalance",
        s(&data),
        "-o",
        s(&bad),
        "--strategy",
        "undersample",
        "--count",
        "100",
        "-q",
    ]));
    assert!(err.contains("class 'c' has 97"), "{err}");
    let err = error_of(&run(&[
        "rebalance",
        s(&data),
        "-o",
        s(&bad),
        "--strategy",
        "target",
        "--target",
        "a=1,q=1",
        "-q",
    ]));
    assert!(err.contains("class 'q' is not in the dataset"), "{err}");
    assert!(!bad.exists());
}

#[test]
fn smote_rows_lie_between_two_samples_of_their_class() {
    let d = Dir::new();
    let data = table(
        &d,
        "t.csv",
        &[("a", 60), ("b", 12)],
        &[("a", 5), ("b", 5)],
        0,
    );
    let o = d.join("o");
    ok(&[
        "rebalance",
        s(&data),
        "-o",
        s(&o),
        "--strategy",
        "oversample",
        "--smote",
        "-q",
    ]);
    let m = Manifest::read(&o);
    let input = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(data.clone()))
        .unwrap()
        .finish()
        .unwrap();
    let output = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(o.join("train.csv")))
        .unwrap()
        .finish()
        .unwrap();
    let f = |df: &DataFrame, c: &str, i: usize| {
        df.column(c)
            .unwrap()
            .cast(&DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .get(i)
            .unwrap()
    };
    let labels = input.column("label").unwrap().str().unwrap().clone();
    let (actions, details, rows) = (m.strs("action"), m.strs("detail"), m.u64s("path_row"));
    let mut synthetic = 0;
    for k in 0..actions.len() {
        if actions[k].as_deref() != Some("synthetic") {
            continue;
        }
        synthetic += 1;
        let detail = details[k].clone().unwrap();
        let ids: Vec<usize> = detail.split(' ').filter_map(|w| w.parse().ok()).collect();
        let (a, b, r) = (ids[0], ids[1], rows[k].unwrap() as usize);
        assert_eq!(labels.get(a), Some("b"), "{detail}");
        assert_eq!(labels.get(b), Some("b"), "{detail}");
        for c in ["f0", "f1", "f2", "f3"] {
            let (x, y, v) = (f(&input, c, a), f(&input, c, b), f(&output, c, r));
            assert!(
                v >= x.min(y) - 1e-9 && v <= x.max(y) + 1e-9,
                "{c}: {v} not between {x} and {y}"
            );
        }
    }
    assert_eq!(synthetic, 48);
    // Images have no features to interpolate.
    let err = error_of(&run(&[
        "rebalance",
        "sample_data/images",
        "-o",
        s(&d.join("img")),
        "--strategy",
        "oversample",
        "--smote",
        "-q",
    ]));
    assert!(err.contains("--smote interpolates table features"), "{err}");
}

#[test]
fn subset_takes_n_distinct_samples_per_class() {
    let d = Dir::new();
    let data = table(
        &d,
        "t.csv",
        &[("a", 60), ("b", 31)],
        &[("a", 5), ("b", 5)],
        6,
    );
    let o = d.join("o");
    ok(&["subset", s(&data), "-o", s(&o), "--per-class", "8", "-q"]);
    let m = Manifest::read(&o);
    assert_eq!(
        m.tally(),
        [
            (("train".to_string(), "a".to_string()), 8),
            (("train".into(), "b".into()), 8)
        ]
        .into_iter()
        .collect()
    );
    // One member of a cluster at most: a tiny subset is not spent on copies.
    let mut seen = BTreeSet::new();
    for (c, a) in m.u64s("dup_cluster").into_iter().zip(m.strs("action")) {
        if let (Some(c), Some("kept")) = (c, a.as_deref()) {
            assert!(seen.insert(c), "cluster {c} twice");
        }
    }
    let err = error_of(&run(&[
        "subset",
        s(&data),
        "-o",
        s(&d.join("bad")),
        "--per-class",
        "40",
        "-q",
    ]));
    assert!(err.contains("'b' has 31"), "{err}");
    assert!(!d.join("bad").exists());
}

#[test]
fn clean_drops_leaks_copies_and_conflicts_and_the_result_rescans_clean() {
    let d = Dir::new();
    let out = d.join("clean");
    let text = ok(&[
        "clean",
        "sample_data/images",
        "-o",
        s(&out),
        "--materialize",
        "hardlink",
        "-q",
    ]);
    assert!(text.contains("leak 1"), "{text}");
    // --drop-near also reduces the near-copy clusters within a split to one sample.
    let near = d.join("near");
    ok(&[
        "clean",
        "sample_data/images",
        "-o",
        s(&near),
        "--drop-near",
        "-q",
    ]);
    let log = std::fs::read_to_string(near.join("changes.csv")).unwrap();
    assert!(log.contains(",dropped,near-duplicate,copy of id "), "{log}");
    let only_manifest = d.join("manifest-only");
    ok(&["clean", "sample_data/images", "-o", s(&only_manifest), "-q"]);
    let err = error_of(&crate::util::run_path(&only_manifest, &[]));
    assert!(err.contains("build again with --materialize"), "{err}");
    let log = std::fs::read_to_string(out.join("changes.csv")).unwrap();
    assert!(
        log.contains("train/circle/007.png,,train,circle,circle,dropped,leak,copy in test"),
        "{log}"
    );
    assert!(log.contains("conflicting-labels"), "{log}");
    assert!(log.contains("unreadable"), "{log}");
    assert_eq!(
        log.lines().count() - 1,
        text.lines()
            .find(|l| l.contains("dropped"))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<usize>()
            .unwrap()
    );
    let ds = scan_json(&out, &[]);
    let codes = crate::util::codes(&ds);
    for gone in [
        "D001", "D003", "L001", "I001", "I002", "I003", "I004", "I007",
    ] {
        assert!(
            !codes.contains(&gone.to_string()),
            "{gone} still found: {codes:?}"
        );
    }
}

#[test]
fn materialized_splits_rescan_with_the_counts_in_build_json() {
    let d = Dir::new();
    for mode in ["symlink", "copy"] {
        let out = d.join(mode);
        ok(&[
            "split",
            "sample_data/images",
            "-o",
            s(&out),
            "--materialize",
            mode,
            "-q",
        ]);
        let build: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("build.json")).unwrap()).unwrap();
        let mut want = BTreeMap::new();
        for (split, classes) in build["counts"]["output"].as_object().unwrap() {
            for (label, n) in classes.as_object().unwrap() {
                want.insert((split.clone(), label.clone()), n.as_u64().unwrap());
            }
        }
        let ds = scan_json(&out, &["--select", "I"]);
        let got: BTreeMap<(String, String), u64> = counts(&ds)
            .into_iter()
            .map(|(sp, l, n)| ((sp, l), n))
            .collect();
        assert_eq!(got, want, "{mode}");
        assert_eq!(ds["samples"], want.values().sum::<u64>());
        let link = std::fs::symlink_metadata(out.join("train/circle/000.png")).unwrap();
        assert_eq!(link.file_type().is_symlink(), mode == "symlink");
    }
}

#[test]
fn output_directory_is_checked_before_anything_is_written() {
    let d = Dir::new();
    let data = d.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let table_path = table(
        &d,
        "data/t.csv",
        &[("a", 20), ("b", 20)],
        &[("a", 5), ("b", 5)],
        0,
    );
    let before = snapshot(&data);
    let err = error_of(&run(&["split", s(&data), "-o", s(&data.join("out")), "-q"]));
    assert!(
        err.contains("refusing to write inside the dataset"),
        "{err}"
    );
    let err = error_of(&run(&[
        "split",
        s(&table_path),
        "-o",
        s(d.path()),
        "-q",
        "--overwrite",
    ]));
    assert!(err.contains("lies inside this output directory"), "{err}");
    let mine = d.write("mine/notes.txt", "keep me");
    let err = error_of(&run(&[
        "split",
        s(&table_path),
        "-o",
        s(&d.join("mine")),
        "-q",
    ]));
    assert!(err.contains("not empty; pass --overwrite"), "{err}");
    let err = error_of(&run(&[
        "split",
        s(&table_path),
        "-o",
        s(&d.join("mine")),
        "-q",
        "--overwrite",
    ]));
    assert!(err.contains("not a dsaudit output"), "{err}");
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "keep me");
    let file = d.write("file.txt", "x");
    let err = error_of(&run(&["split", s(&table_path), "-o", s(&file), "-q"]));
    assert!(err.contains("exists and is not a directory"), "{err}");
    assert_eq!(snapshot(&data), before);
    // An empty directory is fine, and a failing plan leaves it as it was.
    std::fs::create_dir(d.join("empty")).unwrap();
    error_of(&run(&[
        "subset",
        s(&table_path),
        "-o",
        s(&d.join("empty")),
        "--per-class",
        "99",
        "-q",
    ]));
    assert!(d.join("empty").is_dir());
    ok(&[
        "subset",
        s(&table_path),
        "-o",
        s(&d.join("empty")),
        "--per-class",
        "3",
        "-q",
    ]);
    assert!(d.join("empty/build.json").is_file());
    let leftovers: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("dsaudit-"))
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
}

#[test]
fn an_interrupted_run_leaves_out_absent_or_untouched() {
    let d = Dir::new();
    let mut csv = String::from("a,b,c,label,split\n");
    for i in 0..150_000u64 {
        let _ = writeln!(
            csv,
            "{},{},{},{},{}",
            i % 997,
            i % 991,
            i % 983,
            i % 3,
            if i % 5 == 0 { "test" } else { "train" }
        );
    }
    let data = d.write("data/big.csv", csv);
    let out = d.join("out");
    let kill_midway = || {
        let mut child = crate::util::dsaudit()
            .args(["split", s(&data), "-o", s(&out), "-q", "--overwrite"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let staging = d.join(&format!(".out.dsaudit-tmp-{}", child.id()));
        let start = std::time::Instant::now();
        while !staging.exists() && start.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(staging.exists(), "the run never staged");
        child.kill().unwrap();
        child.wait().unwrap();
    };
    kill_midway();
    assert!(!out.exists(), "a killed first run must leave no OUT");
    ok(&["split", s(&data), "-o", s(&out), "-q"]);
    let done = snapshot(&out);
    kill_midway();
    same_files(&snapshot(&out), &done);
    // The next run clears what the killed ones left.
    ok(&["split", s(&data), "-o", s(&out), "-q", "--overwrite"]);
    let stale = std::fs::read_dir(d.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("dsaudit-")
        })
        .count();
    assert_eq!(stale, 0);
}

#[test]
fn label_issue_tables_relabel_or_drop_the_flagged_rows() {
    let d = Dir::new();
    let data = d.write("data/t.csv", "x,label,split\n1,cat,train\n2,cat,train\n3,dog,train\n4,dog,train\n5,cat,test\n6,dog,test\n");
    let issues = d.write("issues.csv", "source,row,is_label_issue,suggested_label\nt.csv,1,true,dog\nt.csv,2,false,dog\nt.csv,5,true,cat\n");
    let o = d.join("relabel");
    ok(&[
        "clean",
        s(&data),
        "-o",
        s(&o),
        "--label-issues",
        s(&issues),
        "--relabel",
        "-q",
    ]);
    assert_eq!(
        std::fs::read_to_string(o.join("train.csv")).unwrap(),
        "x,label\n1,cat\n2,dog\n3,dog\n4,dog\n"
    );
    assert_eq!(
        std::fs::read_to_string(o.join("test.csv")).unwrap(),
        "x,label\n5,cat\n6,cat\n"
    );
    let log = std::fs::read_to_string(o.join("changes.csv")).unwrap();
    // source_label, then the new label, from the manifest's label codes.
    assert!(
        log.contains(",cat,dog,relabeled,label-issue,was 'cat'"),
        "{log}"
    );
    let o = d.join("drop");
    ok(&[
        "clean",
        s(&data),
        "-o",
        s(&o),
        "--label-issues",
        s(&issues),
        "--drop-label-issues",
        "-q",
    ]);
    assert_eq!(
        std::fs::read_to_string(o.join("train.csv")).unwrap(),
        "x,label\n1,cat\n3,dog\n4,dog\n"
    );
    let stranger = d.write("other.csv", "source,row,is_label_issue\nelse.csv,0,true\n");
    let err = error_of(&run(&[
        "clean",
        s(&data),
        "-o",
        s(&d.join("bad")),
        "--label-issues",
        s(&stranger),
        "--drop-label-issues",
        "-q",
    ]));
    assert!(
        err.contains("row 1 matches no sample of the dataset"),
        "{err}"
    );
    let err = error_of(&run(&[
        "clean",
        s(&data),
        "-o",
        s(&d.join("bad")),
        "--drop-label-issues",
        "-q",
    ]));
    assert!(
        err.contains("cannot look for label issues: fewer than 2 classes with at least 5 samples"),
        "{err}"
    );
    assert!(!d.join("bad").exists());
}

#[test]
fn parquet_and_npy_datasets_are_written_in_their_own_format() {
    let d = Dir::new();
    let csv = table(
        &d,
        "src.csv",
        &[("a", 40), ("b", 40)],
        &[("a", 10), ("b", 10)],
        0,
    );
    let mut df = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(csv))
        .unwrap()
        .finish()
        .unwrap();
    let pq = d.join("pq/data.parquet");
    std::fs::create_dir_all(pq.parent().unwrap()).unwrap();
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .finish(&mut df)
        .unwrap();
    let o = d.join("pq-out");
    ok(&["split", s(&pq), "-o", s(&o), "-q"]);
    for split in ["train", "train-val", "test-val", "test"] {
        assert!(o.join(format!("{split}.parquet")).is_file(), "{split}");
    }
    let ds = scan_json(&o, &["--select", "I"]);
    assert_eq!(ds["samples"], 100);
    // NumPy: X rows copied byte for byte, labels with them.
    let npy = d.join("npy");
    std::fs::create_dir_all(&npy).unwrap();
    for (split, n) in [("train", 60u64), ("test", 20)] {
        let x: Vec<f32> = (0..n * 3)
            .map(|v| v as f32 + if split == "test" { 1000.0 } else { 0.0 })
            .collect();
        let y: Vec<i64> = (0..n as i64).map(|i| i % 2).collect();
        npyz::to_file_1d(npy.join(format!("y_{split}.npy")), y).unwrap();
        crate::tables::write_npy_2d(&npy.join(format!("X_{split}.npy")), n, 3, &x);
    }
    let o = d.join("npy-out");
    ok(&["split", s(&npy), "-o", s(&o), "-q"]);
    let m = Manifest::read(&o);
    let x = npyz::NpyFile::new(std::fs::File::open(o.join("X_train-val.npy")).unwrap()).unwrap();
    assert_eq!(x.shape(), &[6, 3]);
    let values: Vec<f32> = x.into_vec().unwrap();
    let held: Vec<u64> = m
        .strs("split")
        .into_iter()
        .zip(m.u64s("row"))
        .filter(|(sp, _)| sp.as_deref() == Some("train-val"))
        .map(|(_, r)| r.unwrap())
        .collect();
    for (k, r) in held.iter().enumerate() {
        assert_eq!(values[k * 3], (*r * 3) as f32, "row {k} is input row {r}");
    }
    let ds = scan_json(&o, &["--select", "I"]);
    assert_eq!(ds["samples"], 80);
}

/// Rows of plain CSV and TSV files are written as the input's own lines (the split
/// field left out), so numbers keep their spelling; a file with quoted fields goes
/// through the table writer and still holds every row.
#[test]
fn table_rows_keep_their_input_spelling() {
    let d = Dir::new();
    for (name, sep) in [("plain.csv", ','), ("plain.tsv", '\t')] {
        let mut text = ["x", "split", "n", "label"].join(&sep.to_string());
        let mut want: Vec<String> = Vec::new();
        for i in 0..120 {
            let split = if i < 80 { "train" } else { "test" };
            // Spellings a reader normalizes: trailing zeros, exponents, leading zeros.
            let x = format!("{}.{}0", i / 10, i % 10);
            let n = format!("{:03}e-1", i);
            let label = ["p", "q"][i % 2];
            let f = [x.as_str(), split, n.as_str(), label];
            text.push('\n');
            text.push_str(&f.join(&sep.to_string()));
            want.push([f[0], f[2], f[3]].join(&sep.to_string()));
        }
        // No line break after the last row.
        let data = d.write(&format!("data/{name}"), &text);
        let out = d.join(&format!("out-{name}"));
        ok(&["split", s(&data), "-o", s(&out), "-q"]);
        let ext = name.rsplit('.').next().unwrap();
        let mut got: Vec<String> = Vec::new();
        for split in ["train", "train-val", "test-val", "test"] {
            let body = std::fs::read_to_string(out.join(format!("{split}.{ext}"))).unwrap();
            let mut lines = body.lines();
            assert_eq!(
                lines.next(),
                Some(["x", "n", "label"].join(&sep.to_string()).as_str())
            );
            got.extend(lines.map(str::to_string));
        }
        got.sort();
        want.sort();
        assert_eq!(got, want, "{name}");
    }

    let mut text = String::from("colour,f,label,split\n");
    for i in 0..120 {
        let split = if i < 80 { "train" } else { "test" };
        text.push_str(&format!(
            "\"red, {i}\",{i}.5,{},{split}\n",
            ["p", "q"][i % 2]
        ));
    }
    let data = d.write("data/quoted.csv", &text);
    let out = d.join("out-quoted");
    ok(&["split", s(&data), "-o", s(&out), "-q"]);
    let mut colours: Vec<String> = Vec::new();
    for split in ["train", "train-val", "test-val", "test"] {
        let df = CsvReadOptions::default()
            .try_into_reader_with_file_path(Some(out.join(format!("{split}.csv"))))
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(df.get_column_names(), ["colour", "f", "label"]);
        colours.extend(
            df.column("colour")
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.unwrap().to_string()),
        );
    }
    colours.sort();
    let mut want: Vec<String> = (0..120).map(|i| format!("red, {i}")).collect();
    want.sort();
    assert_eq!(colours, want);
}

#[test]
fn builds_find_duplicates_with_the_configured_thresholds() {
    // Rows on a grid, and one row a hair away from another: near duplicates by the
    // default radius, not by a configured radius a thousand times smaller.
    let d = Dir::new();
    let mut csv = String::from("a,b,label,split\n");
    for i in 0..60 {
        let split = if i % 4 == 0 { "test" } else { "train" };
        let _ = writeln!(csv, "{},{},{},{split}", i % 10, i / 10, i % 2);
    }
    csv.push_str("4.001,3,0,train\n");
    let data = d.write("data/t.csv", csv);
    let build = |out: &str| {
        let out = d.join(out);
        ok(&["split", s(&data), "-o", s(&out), "-q"]);
        let m = Manifest::read(&out);
        let rows = m.u64s("row");
        let cluster = m.u64s("dup_cluster");
        // Data rows 34 (4,3) and 60 (4.001,3), counted from 0.
        let of = |r: u64| cluster[rows.iter().position(|&x| x == Some(r)).unwrap()];
        (of(34), of(60))
    };
    let (a, b) = build("out-default");
    assert!(a.is_some() && a == b, "default radius: {a:?} {b:?}");
    d.write(
        "dsaudit.toml",
        "[thresholds.near-duplicates]\ntable-radius = 0.0001\n",
    );
    assert_eq!(build("out-configured"), (None, None));
}
