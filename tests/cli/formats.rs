//! One dataset stored in different formats gives the same report: sample_data/images
//! as an image folder, as Hugging Face Parquet shards with the same bytes inline
//! (tests/data/hf_parquet/sample, tests/reference/hf_parquet_fixture.py) and as
//! WebDataset tar shards (tests/data/webdataset/sample,
//! tests/reference/webdataset_fixture.py). Samples are matched by the BLAKE3 of their
//! bytes, which the manifest holds, since their names differ (`train/circle/000.png`,
//! `data/train-….parquet:row 1`, `train-000000.tar:circle/000.png`).

use crate::util::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Manifest id → file BLAKE3 (or the source, for a sample with no bytes).
fn fingerprints(dataset: &Path, dir: &Dir) -> BTreeMap<u64, String> {
    let manifest = dir.join("manifest.csv");
    let out = run_path(
        dataset,
        &[
            "--quiet",
            "--manifest",
            manifest.to_str().unwrap(),
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    // The columns read here come before the first that may hold a comma (`error`).
    let (id, hash, kind) = (col("id"), col("file_blake3"), col("error_kind"));
    let (split, label) = (col("split"), col("label"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            // A file that is not an image is hashed by some readers and not others:
            // it is known by where it is and what is wrong with it.
            let h = if f[hash].is_empty() || f[kind] == "unsupported" {
                format!("{}/{}/{}", f[split], f[label], f[kind])
            } else {
                f[hash].to_string()
            };
            (f[id].parse().unwrap(), h)
        })
        .collect()
}

/// Each finding as its code, its count and the samples it names (by content), plus the
/// split/class counts: what must not depend on how the dataset is stored.
fn essence(dataset: &Path) -> (BTreeSet<String>, Vec<(String, String, u64)>) {
    let dir = Dir::new();
    let ids = fingerprints(dataset, &dir);
    let ds: Value = scan_json(dataset, &[]);
    let findings = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut samples: Vec<String> = f["samples"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| ids[&s["id"].as_u64().unwrap()].clone())
                .collect();
            samples.sort_unstable();
            format!(
                "{} ×{} {}",
                f["code"].as_str().unwrap(),
                f["sample_count"],
                samples.join(" ")
            )
        })
        .collect();
    let mut counts = counts(&ds);
    counts.sort();
    (findings, counts)
}

/// `unstorable`: codes of findings the copy's format cannot carry (a tar has no
/// empty class folder), left out on both sides.
fn same_report_as_the_image_folder(copy: &str, unstorable: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let keep = |set: BTreeSet<String>| -> BTreeSet<String> {
        set.into_iter()
            .filter(|f| !unstorable.iter().any(|c| f.starts_with(&format!("{c} "))))
            .collect()
    };
    let (folder, folder_counts) = essence(&root.join("sample_data/images"));
    let (shards, shard_counts) = essence(&root.join(copy));
    let (folder, shards) = (keep(folder), keep(shards));
    assert_eq!(folder_counts, shard_counts, "{copy}");
    let only_folder: Vec<_> = folder.difference(&shards).collect();
    let only_shards: Vec<_> = shards.difference(&folder).collect();
    assert!(
        only_folder.is_empty() && only_shards.is_empty(),
        "image folder only: {only_folder:#?}\n{copy} only: {only_shards:#?}"
    );
    assert!(folder.len() >= 10, "{folder:#?}");
}

#[test]
fn hugging_face_parquet_shards_report_as_the_image_folder_does() {
    same_report_as_the_image_folder("tests/data/hf_parquet/sample", &[]);
}

/// Shards without the `huggingface` metadata: the class names (and the empty class,
/// I010) come from the dataset card's YAML.
#[test]
fn hugging_face_shards_named_by_their_dataset_card_report_as_the_image_folder_does() {
    same_report_as_the_image_folder("tests/data/hf_parquet/sample-card", &[]);
}

#[test]
fn webdataset_shards_report_as_the_image_folder_does() {
    same_report_as_the_image_folder("tests/data/webdataset/sample", &["I010"]);
}

#[test]
fn hugging_face_shards_are_found_without_flags_and_name_shard_and_row() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ds = scan_json(&root.join("tests/data/hf_parquet/sample"), &[]);
    assert!(
        ds["layout"].as_str().unwrap().starts_with("hf-parquet"),
        "{}",
        ds["layout"]
    );
    let truncated = &finding(&ds, "I002")["samples"][0];
    assert_eq!(truncated["source"], "data/train-00000-of-00001.parquet");
    assert!(truncated["row"].as_u64().is_some(), "{truncated}");
}

/// `dsaudit split` of shard layouts writes new shards of the same layout: scanned
/// again, they hold exactly the input's kept samples (by the BLAKE3 of their bytes,
/// copied, not re-encoded), in the new splits; a second build is byte-identical.
#[test]
fn builds_of_shard_layouts_write_shards_that_read_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (layout, data, shard) in [
        (
            "hf-parquet",
            "tests/data/hf_parquet/sample",
            "data/train-val-00000-of-00001.parquet",
        ),
        (
            "webdataset",
            "tests/data/webdataset/sample",
            "train-val-000000.tar",
        ),
    ] {
        let input = root.join(data);
        let out_dir = Dir::new();
        let build = |name: &str| {
            let out = out_dir.join(name);
            let run = run(&[
                "split",
                input.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ]);
            assert_eq!(
                run.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&run.stderr)
            );
            out
        };
        let (out, again) = (build("out"), build("again"));
        assert_eq!(
            std::fs::read(out.join(shard)).unwrap(),
            std::fs::read(again.join(shard)).unwrap(),
            "{layout}: two builds differ"
        );
        let ds = scan_json(&out, &[]);
        assert!(
            ds["layout"].as_str().unwrap().starts_with(layout),
            "{}",
            ds["layout"]
        );
        let splits: Vec<&str> = ds["splits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            splits,
            ["train", "train-val", "test-val", "test"],
            "{layout}"
        );
        // The kept rows of the build's manifest, by their input sample's bytes.
        let input_hashes = fingerprints(&input, &out_dir);
        let manifest = std::fs::read_to_string(out.join("manifest.csv")).unwrap();
        let mut lines = manifest.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
        let (src, action) = (col("source_id"), col("action"));
        let mut kept: Vec<String> = lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f[action] != "dropped")
            .map(|f| input_hashes[&f[src].parse::<u64>().unwrap()].clone())
            .collect();
        let mut written: Vec<String> = fingerprints(&out, &Dir::new()).into_values().collect();
        kept.sort();
        written.sort();
        assert_eq!(kept.len(), 163, "{layout}");
        assert_eq!(
            kept, written,
            "{layout}: the shards do not hold the kept samples"
        );
    }
}

#[test]
fn shard_builds_refuse_materialize_and_the_baseline_says_why() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out_dir = Dir::new();
    let data = root.join("tests/data/webdataset/sample");
    let out = out_dir.join("out");
    let err = error_of(&run(&[
        "split",
        data.to_str().unwrap(),
        "--materialize",
        "copy",
        "-o",
        out.to_str().unwrap(),
    ]));
    assert!(
        err.contains("shard datasets are written as new shards"),
        "{err}"
    );
    assert!(!out.exists());
    #[cfg(feature = "baseline")]
    {
        let err = error_of(&run(&["baseline", data.to_str().unwrap()]));
        assert!(err.contains("does not read images inside shards"), "{err}");
    }
}

#[test]
fn a_shard_without_image_bytes_is_a_finding_and_the_others_are_scanned() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ds = scan_json(
        &root.join("tests/data/hf_parquet/sample-without-bytes"),
        &[],
    );
    let bad = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["samples"].as_array().unwrap())
        .find(|s| s["source"] == "data/train-00000-of-00001.parquet")
        .unwrap_or_else(|| panic!("the bad shard is not named: {ds:#}"));
    let note = bad["note"].as_str().unwrap_or_default();
    assert!(note.contains("bytes"), "{bad}");
    // The good shard's 37 samples were read, and the bad shard is one more.
    assert_eq!(ds["samples"].as_u64(), Some(38));
    assert_eq!(ds["unreadable"].as_u64(), Some(1));
}

#[test]
fn a_tar_member_cut_short_is_a_finding_naming_shard_and_member() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tar = std::fs::read(root.join("tests/data/webdataset/sample/test-000000.tar")).unwrap();
    let d = Dir::new();
    // Cut in the middle of the third member's bytes (headers and data are 512-byte
    // blocks: header 0, data 1, header 2, data 3, header 4, data 5…).
    d.write("test-000000.tar", &tar[..5 * 512 + 100]);
    let ds = scan_json(d.path(), &["--fail-on", "never"]);
    let cut = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["samples"].as_array().unwrap())
        .find(|s| s["note"].as_str().is_some_and(|n| n.contains("cut short")))
        .unwrap_or_else(|| panic!("no cut-short sample: {ds:#}"));
    assert!(
        cut["source"]
            .as_str()
            .unwrap()
            .starts_with("test-000000.tar:"),
        "{cut}"
    );
}

#[test]
fn a_row_group_over_the_hubs_limit_is_named_with_its_shard() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shards = root.join("tests/data/hf_parquet/sample");
    assert!(!codes(&scan_json(&shards, &[])).contains(&"I016".to_string()));
    // The train shard's one row group is about 0.29 MB uncompressed, the test
    // shard's 0.09 MB.
    let ds = scan_json(&shards, &["--threshold", "large-row-group.max-mb=0.1"]);
    let found: Vec<&Value> = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "I016")
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("data/train-00000-of-00001.parquet: row group 0 holds "),
        "{message}"
    );
}

/// sample_data/images as images beside a labels file (path, label, split): every file
/// of a class folder copied to `img/<split>_<class>_<name>` and listed with its class
/// and split, the file outside any class folder listed with no label.
fn as_labels_file(dir: &Dir) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/images");
    let mut rows = vec!["path,label,split".to_string()];
    for (p, bytes) in snapshot(&root) {
        let rel = p.strip_prefix(&root).unwrap();
        let parts: Vec<String> = rel
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        // Split folders only (not the README beside them), no hidden files.
        if parts.len() < 2 || parts.last().unwrap().starts_with('.') {
            continue;
        }
        let (split, rest) = (&parts[0], &parts[1..]);
        let label = if rest.len() > 1 { rest[0].as_str() } else { "" };
        let name = format!("img/{split}_{}", rest.join("_"));
        dir.write(&name, bytes);
        rows.push(format!("{name},{label},{split}"));
    }
    dir.write("labels.csv", rows.join("\n") + "\n");
}

#[test]
fn images_with_a_labels_file_report_as_the_image_folder_does() {
    let dir = Dir::new();
    as_labels_file(&dir);
    // A labels file cannot declare a class with no image: I010 is left out.
    same_report_as_the_image_folder(dir.path().to_str().unwrap(), &["I010"]);
}

#[test]
fn keys_repeated_across_tar_shards_are_one_finding_naming_both_samples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tar = std::fs::read(root.join("tests/data/webdataset/sample/test-000000.tar")).unwrap();
    let d = Dir::new();
    // The same shard written twice into one split (a sharding job run twice): all
    // 37 keys twice.
    d.write("train-000000.tar", &tar);
    d.write("train-000001.tar", &tar);
    let ds = scan_json(d.path(), &["--fail-on", "never"]);
    let f = finding(&ds, "I017");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("37 sample keys are repeated (first: "),
        "{f}"
    );
    assert_eq!(f["sample_count"], 74);
    // The committed shards number train and test alike ('circle/000' in both): keys
    // repeated across splits are not this finding.
    let clean = scan_json(&root.join("tests/data/webdataset/sample"), &[]);
    assert!(!codes(&clean).contains(&"I017".to_string()));
}

/// A Parquet shard whose `label` column holds lists (a multi-label set) is read for
/// its images, unlabeled: the column is not taken for classes. It was reported wholly
/// unreadable (I001, "cannot cast List type"), every image in it lost.
#[test]
fn a_shards_list_label_column_is_no_class_column() {
    use polars::prelude::*;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let from = root.join("tests/data/hf_parquet/sample/data/train-00000-of-00001.parquet");
    let mut df = ParquetReader::new(std::fs::File::open(&from).unwrap())
        .finish()
        .unwrap();
    let n = df.height();
    let lists: Vec<Series> = (0..n)
        .map(|i| Series::new("".into(), [i as i64 % 3]))
        .collect();
    df.with_column(Series::new("label".into(), lists).into())
        .unwrap();
    let dir = Dir::new();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    ParquetWriter::new(
        std::fs::File::create(dir.join("data/train-00000-of-00001.parquet")).unwrap(),
    )
    .finish(&mut df)
    .unwrap();
    let ds = scan_json(&dir.join(""), &[]);
    assert!(
        ds["layout"].as_str().unwrap().starts_with("hf-parquet"),
        "{}",
        ds["layout"]
    );
    // Its images read as they do with the shard's own labels (the sample's truncated
    // and empty pictures stay unreadable); none is lost to the label column.
    let text = ds["findings"].to_string();
    assert!(!text.contains("cannot cast"), "{text}");
    assert_eq!(ds["samples"], n);
    assert!(
        ds["unreadable"].as_u64().unwrap() <= 3,
        "{}",
        ds["unreadable"]
    );
    assert_eq!(ds["label_column"], serde_json::Value::Null);
}
