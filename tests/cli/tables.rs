//! Tables in every format, split files side by side, and NumPy pairs.

use crate::util::*;
use polars::prelude::*;

fn frame() -> DataFrame {
    df!(
        "x1" => [1.0, 2.0, f64::NAN, 4.0, 5.0, f64::INFINITY],
        "x2" => [Some(1i64), None, Some(3), Some(4), None, Some(6)],
        "target" => ["a", "b", "a", "b", "a", "b"],
        "split" => ["train", "train", "train", "TEST", "test", "valid"]
    )
    .unwrap()
}

fn check_frame_report(ds: &serde_json::Value) {
    assert_eq!(ds["layout"], "table (one file)");
    assert_eq!(ds["label_column"], "target");
    assert_eq!(ds["split_column"], "split");
    assert_eq!(ds["samples"], 6);
    assert_eq!(
        counts(ds),
        vec![
            ("train".into(), "a".into(), 2),
            ("train".into(), "b".into(), 1),
            ("val".into(), "b".into(), 1),
            ("test".into(), "a".into(), 1),
            ("test".into(), "b".into(), 1)
        ]
    );
    let nf = finding(ds, "I009");
    assert_eq!(nf["evidence"]["column"], "x1");
    assert_eq!(
        (
            nf["evidence"]["nan"].as_u64(),
            nf["evidence"]["inf"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(rows(nf), [2, 5]);
    let mv = finding(ds, "I008");
    assert_eq!(mv["evidence"]["column"], "x2");
    assert_eq!(mv["evidence"]["count"], 2);
    assert_eq!(integrity_codes(ds), ["I009", "I008"]);
}

#[test]
fn csv_table() {
    let d = Dir::new();
    d.write("data.csv", "x1,x2,target,split\n1.0,1,a,train\n2.0,,b,train\nNaN,3,a,train\n4.0,4,b,TEST\n5.0,,a,test\ninf,6,b,valid\n");
    check_frame_report(&scan_json(&d.join("data.csv"), &[]));
    // A directory holding just the table is the same dataset.
    check_frame_report(&scan_json(d.path(), &[]));
}

#[test]
fn parquet_table() {
    let d = Dir::new();
    ParquetWriter::new(std::fs::File::create(d.join("data.parquet")).unwrap())
        .finish(&mut frame())
        .unwrap();
    check_frame_report(&scan_json(&d.join("data.parquet"), &[]));
}

#[test]
fn arrow_ipc_and_feather_tables() {
    let d = Dir::new();
    for name in ["data.arrow", "data.feather"] {
        IpcWriter::new(std::fs::File::create(d.join(name)).unwrap())
            .finish(&mut frame())
            .unwrap();
        check_frame_report(&scan_json(&d.join(name), &[]));
    }
}

#[test]
fn ndjson_table() {
    let d = Dir::new();
    d.write(
        "data.ndjson",
        "{\"x1\":1.0,\"x2\":1,\"target\":\"a\",\"split\":\"train\"}\n{\"x1\":2.0,\"x2\":null,\"target\":\"b\",\"split\":\"train\"}\n{\"x1\":3.0,\"x2\":3,\"target\":\"a\",\"split\":\"train\"}\n{\"x1\":4.0,\"x2\":4,\"target\":\"b\",\"split\":\"TEST\"}\n{\"x1\":5.0,\"x2\":null,\"target\":\"a\",\"split\":\"test\"}\n{\"x1\":6.0,\"x2\":6,\"target\":\"b\",\"split\":\"valid\"}\n",
    );
    let ds = scan_json(&d.join("data.ndjson"), &[]);
    assert_eq!(ds["samples"], 6);
    assert_eq!(ds["label_column"], "target");
    assert_eq!(finding(&ds, "I008")["evidence"]["column"], "x2");
}

#[test]
fn split_files_side_by_side() {
    let d = Dir::new();
    d.write("train.csv", "f,label\n1,0\n2,1\n3,0\n");
    d.write("val.csv", "f,label\n4,1\n");
    d.write("test.csv", "f,label\n5,0\n6,1\n");
    let ds = scan_json(d.path(), &[]);
    assert_eq!(ds["layout"], "table (one file per split)");
    let splits: Vec<(&str, u64)> = ds["splits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["samples"].as_u64().unwrap()))
        .collect();
    assert_eq!(splits, [("train", 3), ("val", 1), ("test", 2)]);
    assert!(integrity_codes(&ds).is_empty(), "{ds:#}");
    // Sample ids run across files; rows restart in each file.
    let out = tempfile::tempdir().unwrap();
    let m = out.path().join("m.csv");
    scan_json(d.path(), &["--manifest", m.to_str().unwrap()]);
    let text = std::fs::read_to_string(&m).unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("3,val,1,val.csv,0,")),
        "{text}"
    );
}

#[test]
fn empty_split_file_and_single_class() {
    let d = Dir::new();
    d.write("train.csv", "f,label\n1,7\n2,7\n");
    d.write("test.csv", "f,label\n");
    let ds = scan_json(d.path(), &[]);
    assert_eq!(finding(&ds, "I011")["evidence"]["split"], "test");
    assert_eq!(finding(&ds, "I012")["evidence"]["label"], "7");
}

#[test]
fn no_label_column_means_unlabeled_and_label_flag_fixes_it() {
    let d = Dir::new();
    d.write("t.csv", "a,b,kind\n1,2,x\n3,4,y\n");
    let ds = scan_json(&d.join("t.csv"), &[]);
    let f = finding(&ds, "I007");
    assert_eq!(f["sample_count"], 2);
    assert!(f["message"].as_str().unwrap().contains("no label column"));
    let ds = scan_json(&d.join("t.csv"), &["--label", "kind"]);
    assert!(integrity_codes(&ds).is_empty(), "{ds:#}");
    assert_eq!(ds["label_column"], "kind");
}

#[test]
fn float_labels_nan_is_unlabeled_and_whole_numbers_read_as_ints() {
    let d = Dir::new();
    d.write("t.csv", "f,y\n1,1.0\n2,0.0\n3,NaN\n4,1.0\n");
    let ds = scan_json(&d.join("t.csv"), &[]);
    assert_eq!(
        counts(&ds),
        vec![("-".into(), "0".into(), 1), ("-".into(), "1".into(), 2)]
    );
    assert_eq!(finding(&ds, "I007")["sample_count"], 1);
}

pub(crate) fn write_npy_2d(path: &std::path::Path, rows: u64, cols: u64, values: &[f32]) {
    use npyz::WriterBuilder;
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[rows, cols])
        .writer(std::fs::File::create(path).unwrap())
        .begin_nd()
        .unwrap();
    w.extend(values.iter().copied()).unwrap();
    w.finish().unwrap();
}

#[test]
fn npy_pairs() {
    let d = Dir::new();
    let mut x = vec![0.5f32; 4 * 3];
    x[4] = f32::NAN;
    x[11] = f32::NEG_INFINITY;
    write_npy_2d(&d.join("X_train.npy"), 4, 3, &x);
    npyz::to_file_1d(d.join("y_train.npy"), vec![0i64, 1, 1, 2]).unwrap();
    write_npy_2d(&d.join("X_test.npy"), 2, 3, &[0.1f32; 6]);
    npyz::to_file_1d(d.join("y_test.npy"), vec![0u8, 2]).unwrap();
    let ds = scan_json(d.path(), &[]);
    assert_eq!(ds["layout"], "npy (X_*.npy / y_*.npy pairs)");
    assert_eq!(ds["samples"], 6);
    assert_eq!(counts(&ds).len(), 5);
    // Non-finite values are reported per feature column of a 2-D array.
    let nf: Vec<(String, u64, u64, u64)> = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "I009")
        .map(|f| {
            let e = &f["evidence"];
            (
                e["column"].as_str().unwrap().to_string(),
                e["nan"].as_u64().unwrap(),
                e["inf"].as_u64().unwrap(),
                f["samples"][0]["row"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        nf,
        [("x1".to_string(), 1, 0, 1), ("x2".to_string(), 0, 1, 3)]
    );
}

#[test]
fn npy_length_mismatch_is_an_error() {
    let d = Dir::new();
    write_npy_2d(&d.join("X_train.npy"), 2, 1, &[1.0, 2.0]);
    npyz::to_file_1d(d.join("y_train.npy"), vec![0i64, 1, 1]).unwrap();
    let err = error_of(&run_path(d.path(), &[]));
    assert!(
        err.contains("y_train.npy: 3 labels for 2 samples in X_train.npy"),
        "{err}"
    );
}

#[test]
fn csv_column_whose_type_changes_after_the_inference_window() {
    let d = Dir::new();
    let mut text = String::from("x,label\n");
    for i in 0..10_050 {
        text.push_str(&format!(
            "{},a\n",
            if i == 10_040 {
                "2.5".to_string()
            } else {
                i.to_string()
            }
        ));
    }
    text.push_str("1,b\n");
    d.write("t.csv", text);
    let ds = scan_json(&d.join("t.csv"), &[]);
    assert_eq!(ds["samples"], 10_051);
}

/// Iris as R and seaborn ship it names its label `species`: read as unlabeled, every
/// row was reported without a label (I007) and the class table was one "(unlabeled)".
#[test]
fn the_iris_tables_species_column_is_its_label() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/iris.csv");
    let ds = &scan_json(&path, &[]);
    assert_eq!(ds["label_column"], "species");
    assert!(ds["guesses"].to_string().contains("label column: species"));
    let codes = codes(ds);
    assert!(!codes.contains(&"I007".to_string()), "{codes:?}");
    assert_eq!(
        counts(ds),
        ["setosa", "versicolor", "virginica"]
            .iter()
            .map(|c| ("-".to_string(), c.to_string(), 50))
            .collect::<Vec<_>>()
    );
    // Rows 101 and 142 are the same flower twice, with the same species.
    assert_eq!(rows(finding(ds, "D001")), [101, 142]);
}

/// A list column named `label` (several labels a row, as multi-label sets keep them)
/// is not guessed to be classes: the table is scanned as unlabeled; named with
/// --label it is refused in one line naming the file (it failed with "cannot cast List
/// type" and no file named).
#[test]
fn a_column_of_label_lists_is_no_class_column() {
    let d = Dir::new();
    let label = Series::new(
        "label".into(),
        [
            Series::new("".into(), [1i64, 2]),
            Series::new("".into(), [3i64]),
            Series::new("".into(), Vec::<i64>::new()),
            Series::new("".into(), [1i64]),
        ],
    );
    let mut df = df!("x" => [1.0, 2.0, 3.0, 4.0]).unwrap();
    df.with_column(label.into()).unwrap();
    let path = d.join("multi.parquet");
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    let ds = scan_json(&path, &[]);
    assert_eq!(ds["label_column"], serde_json::Value::Null);
    assert_eq!(finding(&ds, "I007")["sample_count"], 4);
    let e = error_of(&run_path(&path, &["--label", "label"]));
    assert!(
        e.contains(
            "multi.parquet: --label column 'label' holds list[i64] values, not one class a row"
        ),
        "{e}"
    );
}
