//! A table scanned in parts (as `dsaudit.spark.scan` scans a DataFrame's partitions)
//! gives the findings of the whole table scanned in memory: for random cuts of real
//! tables into blocks, each block described alone, written to bytes and read back,
//! the parts merged in a random order. One part gives the whole report byte for byte
//! (but the layout line); several give the same findings, exact counts and column
//! statistics within floating-point rounding. Tables: sample_data/table.csv (missing
//! values, text, splits) and scikit-learn's breast-cancer table with exact copies
//! injected (conflicting labels) and the sample forced down to a budget's share.

use dsaudit_core::config::Config;
use dsaudit_core::load::table_parts;
use dsaudit_core::load::Hints;
use dsaudit_core::partial::table;
use dsaudit_core::report::{Format, Reports};
use dsaudit_core::request::{self, Audit, Request};
use polars::prelude::*;
use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;

fn read(rel: &str) -> DataFrame {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    dsaudit_core::table_io::read(&path, None).unwrap()
}

fn req(memory_limit: Option<u64>) -> Request {
    Request {
        quiet: true,
        hints: Hints {
            memory_limit,
            ..Default::default()
        },
        labels: dsaudit_core::labels::Options {
            enabled: true,
            folds: 5,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn json(audit: Audit) -> Value {
    let s = request::settings(Config::default(), Request::default()).unwrap();
    let text = Format::JSON.render(&Reports {
        scans: &[audit.scan],
        max_samples: 1000,
        rules: &s.options.rules,
    });
    serde_json::from_str(&text).unwrap()
}

/// `df` cut before each row of `cuts`, each block a part, merged in `order`.
fn merged(
    name: &str,
    df: &DataFrame,
    cuts: &[usize],
    order: &[usize],
    (limit, rows): (Option<u64>, Option<u64>),
) -> Value {
    let mut bounds: Vec<usize> = cuts.iter().map(|&c| c % df.height()).collect();
    bounds.extend([0, df.height()]);
    bounds.sort_unstable();
    bounds.dedup();
    let hints = Hints {
        memory_limit: limit,
        ..Default::default()
    };
    let mut parts: Vec<(String, Vec<u8>)> = bounds
        .windows(2)
        .enumerate()
        .map(|(b, w)| {
            let block = df.slice(w[0] as i64, w[1] - w[0]);
            let part = table_parts::describe(name, &hints, b as u64, block, rows).unwrap();
            (format!("block {b}"), table::to_bytes(name, part).unwrap())
        })
        .collect();
    let n = parts.len();
    let mut shuffled = Vec::with_capacity(n);
    for &o in order {
        if o < parts.len() && !parts[o].1.is_empty() {
            shuffled.push(std::mem::take(&mut parts[o]));
        }
    }
    shuffled.extend(parts.into_iter().filter(|p| !p.1.is_empty()));
    json(request::audit_table_parts(shuffled, req(limit)).unwrap())
}

fn whole(name: &str, df: &DataFrame) -> Value {
    json(request::audit_frame(name, df.clone(), req(None)).unwrap())
}

/// The findings as compared: code, severity, message, samples.
fn findings(v: &Value) -> Vec<String> {
    v["datasets"][0]["findings"]
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

fn columns(v: &Value) -> Vec<(String, u64, u64, f64)> {
    v["datasets"][0]["stats"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mean = c["mean"].as_f64().unwrap_or(0.0);
            (
                c["name"].to_string(),
                c["count"].as_u64().unwrap(),
                c["nulls"].as_u64().unwrap(),
                mean,
            )
        })
        .collect()
}

fn assert_same(got: &Value, want: &Value) {
    assert_eq!(findings(got), findings(want));
    assert_eq!(
        got["datasets"][0]["samples"],
        want["datasets"][0]["samples"]
    );
    let (g, w) = (columns(got), columns(want));
    assert_eq!(g.len(), w.len());
    for (a, b) in g.iter().zip(&w) {
        assert_eq!((&a.0, a.1, a.2), (&b.0, b.1, b.2));
        assert!(
            (a.3 - b.3).abs() <= 1e-9 * b.3.abs().max(1.0),
            "{a:?} vs {b:?}"
        );
    }
}

#[test]
fn one_part_is_the_whole_scan() {
    let df = read("sample_data/table.csv");
    let mut got = merged("table.csv", &df, &[], &[], (None, None));
    let mut want = whole("table.csv", &df);
    for v in [&mut got, &mut want] {
        v["datasets"][0]["guesses"][0] = Value::Null;
        v["datasets"][0]["layout"] = Value::Null;
    }
    let (g, w) = (
        serde_json::to_string_pretty(&got).unwrap(),
        serde_json::to_string_pretty(&want).unwrap(),
    );
    let first = g.lines().zip(w.lines()).position(|(a, b)| a != b);
    assert!(
        g == w,
        "first difference at line {first:?}:\n{}",
        first.map_or(String::new(), |i| format!(
            "{}\n{}",
            g.lines().nth(i).unwrap(),
            w.lines().nth(i).unwrap()
        ))
    );
}

/// The breast-cancer table with 40 rows copied, each copy given the other class.
fn with_conflicting_copies() -> DataFrame {
    let df = read("tests/data/breast_cancer.csv");
    let idx: Vec<IdxSize> = (0..40).map(|i| i * 13).collect();
    let copies = df.take(&IdxCa::from_vec("".into(), idx)).unwrap();
    let flipped: Vec<&str> = copies
        .column("label")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|l| {
            if l == Some("malignant") {
                "benign"
            } else {
                "malignant"
            }
        })
        .collect();
    let mut copies = copies;
    copies
        .with_column(Column::new("label".into(), flipped))
        .unwrap();
    df.vstack(&copies).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn parts_of_sample_data_give_the_whole_scans_findings(
        cuts in proptest::collection::vec(0usize..1000, 0..7),
        order in Just((0..8).collect::<Vec<usize>>()).prop_shuffle(),
    ) {
        let df = read("sample_data/table.csv");
        assert_same(&merged("table.csv", &df, &cuts, &order, (None, None)), &whole("table.csv", &df));
    }

    /// scikit-learn's diabetes table (442 rows; its target 214 whole numbers) is a
    /// regression, in blocks of any size: a block of 60 rows alone looked like 60
    /// classes, and its part reported a class table of the target's values.
    #[test]
    fn parts_of_a_regression_table_find_the_whole_tables_task(
        cuts in proptest::collection::vec(0usize..442, 1..9),
        order in Just((0..10).collect::<Vec<usize>>()).prop_shuffle(),
    ) {
        let df = read("tests/data/diabetes.csv");
        let want = whole("diabetes.csv", &df);
        let got = merged("diabetes.csv", &df, &cuts, &order, (None, None));
        assert_same(&got, &want);
        let (g, w) = (&got["datasets"][0], &want["datasets"][0]);
        prop_assert!(w["guesses"][1].as_str().unwrap().starts_with("task: regression"));
        prop_assert_eq!(&g["guesses"].as_array().unwrap()[1..], &w["guesses"].as_array().unwrap()[1..]);
        prop_assert_eq!(&g["label_column"], &w["label_column"]);
        prop_assert_eq!(&g["splits"], &w["splits"]);
        prop_assert_eq!(&g["labels"], &w["labels"]);
        let target = |v: &Value| v["stats"]["columns"].as_array().unwrap().iter().any(|c| c["name"] == "target");
        prop_assert!(target(g) && target(w));
        // A table of classes keeps its label out of the columns, cut or whole.
        let iris = read("tests/data/iris.csv");
        let got = merged("iris.csv", &iris, &cuts, &order, (None, None));
        let want = whole("iris.csv", &iris);
        assert_same(&got, &want);
        prop_assert_eq!(&got["datasets"][0]["splits"], &want["datasets"][0]["splits"]);
    }

    #[test]
    fn parts_of_a_sampled_table_agree_whatever_the_cuts(
        cuts in proptest::collection::vec(0usize..1000, 1..7),
        order in Just((0..8).collect::<Vec<usize>>()).prop_shuffle(),
    ) {
        // A budget that holds about a third of the rows: the sample is the rows of the
        // lowest keys whatever the cuts and the order; counts still cover every row.
        let df = with_conflicting_copies();
        let limit = Some(600_000);
        let one = merged("bc.csv", &df, &[], &[], (limit, None));
        let got = merged("bc.csv", &df, &cuts, &order, (limit, None));
        assert_same(&got, &one);
        // Told the table's row count, each part keeps only its share of the sample
        // (fewer rows to send), and the merged sample is the same.
        let rows = Some(df.height() as u64);
        assert_same(&merged("bc.csv", &df, &cuts, &order, (limit, rows)), &one);
        let kept = |rows| {
            let hints = Hints { memory_limit: limit, ..Default::default() };
            (0..4)
                .map(|k| {
                    let block = df.slice(k * 160, 160);
                    table_parts::describe("bc.csv", &hints, k as u64, block, rows).unwrap().keys.len()
                })
                .sum::<usize>()
        };
        prop_assert!(kept(rows) < kept(None) * 3 / 4, "{} vs {}", kept(rows), kept(None));
        let sampled = one["datasets"][0]["sampled_rows"].as_u64().unwrap();
        prop_assert!(sampled > 100 && sampled < 400, "{sampled}");
        prop_assert_eq!(one["datasets"][0]["samples"].as_u64(), Some(609));
        // Every conflicting pair found is whole (a row and its copy: rows i·13 and 569 + i).
        let l001 = &one["datasets"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "L001")
            .expect("conflicting copies in the sample")["samples"];
        let mut clusters: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
        for s in l001.as_array().unwrap() {
            let note = s["note"].as_str().unwrap();
            let cluster = note.split(" · ").next().unwrap().to_string();
            clusters.entry(cluster).or_default().push(s["row"].as_u64().unwrap());
        }
        prop_assert!(clusters.len() >= 5, "{clusters:?}");
        for rows in clusters.values() {
            prop_assert_eq!(rows.len(), 2);
            prop_assert_eq!(rows[0] % 13, 0);
            prop_assert_eq!(rows[1], 569 + rows[0] / 13);
        }
    }
}

fn part_bytes(name: &str, df: &DataFrame, order: u64) -> Vec<u8> {
    let part = table_parts::describe(name, &Hints::default(), order, df.clone(), None).unwrap();
    table::to_bytes(name, part).unwrap()
}

fn merge_error(parts: Vec<(String, Vec<u8>)>) -> String {
    match request::audit_table_parts(parts, req(None)) {
        Ok(_) => panic!("merged"),
        Err(e) => dsaudit_core::util::error_line(&e),
    }
}

#[test]
fn bad_parts_are_one_line_errors_naming_the_part() {
    let df = read("sample_data/table.csv");
    let (a, b) = (df.slice(0, 100), df.slice(100, 400));
    let good = part_bytes("table.csv", &a, 0);
    let cut = good[..good.len() * 2 / 3].to_vec();
    let e = merge_error(vec![("p1".into(), cut)]);
    assert!(e.starts_with("p1: damaged partial scan"), "{e}");
    let mut extra = good.clone();
    extra.push(0);
    let e = merge_error(vec![("p1".into(), extra)]);
    assert!(
        e.contains("p1: damaged partial scan: 1 bytes after its end"),
        "{e}"
    );
    let e = merge_error(vec![("p1".into(), b"not a part".to_vec())]);
    assert!(e.contains("p1: not a partial scan"), "{e}");
    let older = dsaudit_core::partial::dsp::stamped(b"TABLE 1\nits blocks without files");
    let e = merge_error(vec![("p1".into(), older)]);
    assert!(
        e.contains("p1: a table's partial scan in format 1 where this build reads format 3"),
        "{e}"
    );
    // The same block twice, another table's part, a part whose columns differ.
    let e = merge_error(vec![
        ("p1".into(), good.clone()),
        ("p2".into(), good.clone()),
    ]);
    assert!(e.contains("block 0 is in two parts"), "{e}");
    let other = part_bytes("other.csv", &b, 1);
    let e = merge_error(vec![("p1".into(), good.clone()), ("p2".into(), other)]);
    assert!(
        e.contains("p2: a part of table other.csv, not of table.csv"),
        "{e}"
    );
    let fewer = part_bytes("table.csv", &b.drop("color").unwrap(), 1);
    let e = merge_error(vec![("p1".into(), good.clone()), ("p2".into(), fewer)]);
    assert!(e.contains("the parts read the table differently"), "{e}");
    // A row count far above the table's: the parts keep too few rows for the room.
    let hints = Hints {
        memory_limit: Some(100_000),
        ..Default::default()
    };
    let told = |d: &DataFrame, order| {
        let part = table_parts::describe("table.csv", &hints, order, d.clone(), Some(1 << 40));
        table::to_bytes("table.csv", part.unwrap()).unwrap()
    };
    let e = match request::audit_table_parts(
        vec![("p1".into(), told(&a, 0)), ("p2".into(), told(&b, 1))],
        req(Some(100_000)),
    ) {
        Ok(_) => panic!("merged"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("shared sampling threshold kept 0 rows"), "{e}");
    // An image part is not a table's, and the other way round.
    let e = dsaudit_core::partial::Dsp::from_bytes("p1", &good)
        .unwrap_err()
        .to_string();
    assert!(e.contains("p1: a partial scan of a table"), "{e}");
    // Parts of one table in any order, one empty, are still the whole table's.
    let empty = part_bytes("table.csv", &df.slice(0, 0), 2);
    let merged = request::audit_table_parts(
        vec![
            ("p3".into(), empty),
            ("p2".into(), part_bytes("table.csv", &b, 1)),
            ("p1".into(), good),
        ],
        req(None),
    )
    .unwrap();
    assert_eq!(merged.scan.loaded.manifest.len(), df.height());
}

#[test]
fn damaged_parts_are_errors_not_panics() {
    // Every cut of a real part and bytes flipped across it, through the fuzz target's
    // entry point (decode, then a merge of the part alone): an answer each time.
    let df = read("sample_data/table.csv");
    let good = part_bytes("table.csv", &df.slice(0, 120), 0);
    let body = dsaudit_core::partial::dsp::body(&good).unwrap().to_vec();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..400 {
        let mut b = body.clone();
        if i % 2 == 0 {
            b.truncate(b.len() * i / 400);
        } else {
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed % b.len() as u64) as usize;
                b[at] ^= (seed >> 32) as u8 | 1;
            }
        }
        dsaudit_core::fuzzing::dsp(&b);
    }
}

/// A text column with one value in each part (`north` in one partition, `south` in
/// the other) has two values, not one: counted as sets, not by the larger part's count
/// (which called it constant); and an identifier column cut anywhere keeps its N005.
#[test]
fn distinct_text_values_add_up_across_parts() {
    let mut df = read("tests/data/breast_cancer.csv");
    let h = df.height();
    let site: Vec<&str> = (0..h)
        .map(|i| if i < 300 { "north" } else { "south" })
        .collect();
    let id: Vec<String> = (0..h).map(|i| format!("patient-{i:04}")).collect();
    df.with_column(Column::new("site".into(), site)).unwrap();
    df.with_column(Column::new("patient_id".into(), id))
        .unwrap();
    let got = merged("bc.csv", &df, &[300, 150, 450], &[2, 0, 3, 1], (None, None));
    let want = whole("bc.csv", &df);
    assert_same(&got, &want);
    let n_unique = |v: &Value, name: &str| {
        v["datasets"][0]["stats"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["n_unique"]
            .as_u64()
    };
    assert_eq!(n_unique(&got, "site"), Some(2));
    assert_eq!(n_unique(&got, "patient_id"), Some(h as u64));
    let codes: Vec<String> = findings(&got);
    assert!(
        codes
            .iter()
            .any(|f| f.contains("N005") && f.contains("patient_id")),
        "{codes:?}"
    );
    assert!(!codes.iter().any(|f| f.contains("'site'")), "{codes:?}");
}
