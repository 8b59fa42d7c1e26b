//! The loaders' entry points for the fuzzers (`fuzz/`, `just fuzz`) and for the
//! regression tests of what they found: each takes arbitrary bytes as one input file
//! and runs the reader dsaudit runs on such a file. An error is a right answer; a
//! panic that gets out, a hang or unbounded memory is a bug.

use std::path::{Path, PathBuf};

/// Every fuzz target's setup. As the binary does, a panic a reader raises on a damaged
/// file is caught at the file boundary (`util::guarded`) and becomes that file's error:
/// only a panic past it, an abort, a hang or an OOM is a crash. With
/// DSAUDIT_FUZZ_CAUSES set, libFuzzer's own hook stays and every panic, caught or not,
/// is a crash: how the dependencies' panics are found.
pub fn init() {
    // libFuzzer counts an allocation over its 2 GB limit (-rss_limit_mb=2048) as a
    // crash: the fuzzers run as on a machine of 1 GiB, whose Parquet and IPC readers
    // must refuse a file declaring more (table_io::vet).
    crate::table_io::set_declared_limit(1 << 30);
    if std::env::var_os("DSAUDIT_FUZZ_CAUSES").is_none() {
        std::panic::set_hook(Box::new(|_| {}));
    }
}

/// A private folder per process for the inputs written as files (the table, array
/// and configuration readers take paths).
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dsaudit-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn file(name: &str, data: &[u8]) -> PathBuf {
    let p = scratch().join(name);
    std::fs::write(&p, data).expect("scratch file");
    p
}

/// An image file, described as a scan describes it (signature, decode, statistics,
/// hashes).
pub fn image(data: &[u8]) {
    let p = file("sample.png", data);
    let _ = crate::load::image_folder::describe_file(&p, None);
}

/// A table file of the given extension (csv, tsv, parquet, arrow, ndjson), read
/// whole and by its head, as discovery and the load read it.
pub fn table(data: &[u8], ext: &str) {
    let p = file(&format!("table.{ext}"), data);
    let _ = crate::table_io::read_head(&p, 200);
    if let Ok(df) = crate::table_io::read(&p, None) {
        // What the load computes from a table: column statistics and row fingerprints.
        let _ = crate::load::table::column_stats(&df, &[], "table", 0, 0);
    }
}

/// A dataset of one table (`data` as `train.csv`): discovered and loaded whole, label
/// guess, separator, continuous target and all.
pub fn table_dataset(data: &[u8]) {
    let dir = scratch().join("table-ds");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let p = dir.join("train.csv");
    std::fs::write(&p, data).expect("scratch file");
    load_dataset(&p);
}

/// An `.npy` feature array (`X_train.npy`, with labels for its rows when it has any).
pub fn npy(data: &[u8]) {
    let dir = scratch().join("npy-ds");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    std::fs::write(dir.join("X_train.npy"), data).expect("scratch file");
    load_dataset(&dir);
}

/// A labels file (`labels.csv`) beside two images.
pub fn labels(data: &[u8]) {
    let dir = scratch().join("labels-ds");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    for name in ["a.png", "b.png"] {
        std::fs::write(dir.join(name), ONE_PIXEL_PNG).expect("scratch file");
    }
    std::fs::write(dir.join("labels.csv"), data).expect("scratch file");
    load_dataset(&dir);
}

/// A Hugging Face Parquet shard (`data/train-00000-of-00001.parquet`), loaded as a
/// dataset: found by its footer, its image bytes described.
pub fn hf_parquet(data: &[u8]) {
    shard_dataset("hf-ds", "data/train-00000-of-00001.parquet", data);
}

/// A WebDataset shard (`train-000000.tar`), loaded as a dataset: members grouped by
/// key, images described, labels read.
pub fn webdataset(data: &[u8]) {
    shard_dataset("wds-ds", "train-000000.tar", data);
}

/// A COCO annotation file (`annotations/instances_train.json`) beside two images it
/// may name (`train/a.png`, `train/b.png`): parsed, its images found, its boxes read.
pub fn coco(data: &[u8]) {
    let dir = detection_dir("coco-ds", &["train/a.png", "train/b.png"]);
    let p = dir.join("annotations/instances_train.json");
    std::fs::create_dir_all(p.parent().expect("a folder")).expect("scratch folder");
    std::fs::write(&p, data).expect("scratch file");
    load_dataset(&dir);
}

/// A YOLO label file (`labels/train/a.txt`) of an image, with a data.yaml naming two
/// classes: every line parsed and judged against the image's size.
pub fn yolo(data: &[u8]) {
    let dir = detection_dir("yolo-ds", &["images/train/a.png", "images/train/b.png"]);
    std::fs::write(dir.join("data.yaml"), "names: [x, y]\n").expect("scratch file");
    let p = dir.join("labels/train/a.txt");
    std::fs::create_dir_all(p.parent().expect("a folder")).expect("scratch folder");
    std::fs::write(&p, data).expect("scratch file");
    load_dataset(&dir);
}

/// A fresh folder holding a 1×1 PNG at each of `images`.
fn detection_dir(name: &str, images: &[&str]) -> PathBuf {
    let dir = scratch().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for rel in images {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("a folder")).expect("scratch folder");
        std::fs::write(&p, ONE_PIXEL_PNG).expect("scratch file");
    }
    dir
}

const ONE_PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0x3a, 0x7e, 0x9b, 0x55, 0, 0, 0, 0x0a, 0x49, 0x44, 0x41, 0x54,
    0x78, 0x9c, 0x63, 0x60, 0, 0, 0, 2, 0, 1, 0x48, 0xaf, 0xa4, 0x71, 0, 0, 0, 0, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

fn shard_dataset(name: &str, rel: &str, data: &[u8]) {
    let dir = scratch().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("a folder")).expect("scratch folder");
    std::fs::write(&p, data).expect("scratch file");
    load_dataset(&dir);
}

fn load_dataset(path: &Path) {
    let hints = crate::load::Hints::default();
    if let Ok(spec) = crate::load::open(path, hints) {
        let _ = crate::load::load(&spec, true, None);
    }
}

/// A configuration file (`dsaudit.toml`).
pub fn config(data: &[u8]) {
    let p = file("dsaudit.toml", data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::config::parse(&p, text);
    }
}

/// A file of the check's cache.
pub fn cache_record(data: &[u8]) {
    crate::cache::Cache::decode_any(data);
}

/// A partial scan's body (after the `.dsp` header, so that the fuzzer spends its time
/// past the magic bytes): read as an image part and as a table's, then merged alone.
pub fn dsp(body: &[u8]) {
    let bytes = crate::partial::dsp::stamped(body);
    if let Ok(part) = crate::partial::Dsp::from_bytes("fuzz.dsp", &bytes) {
        let _ = crate::partial::merge(vec![(std::path::PathBuf::from("fuzz.dsp"), part)]);
    }
    if let Ok((name, part, _)) = crate::partial::table::decode("fuzz.dsp", &bytes) {
        let hints = crate::load::Hints::default();
        let _ = crate::load::table_parts::finish(&name, &hints, vec![part]);
    }
}
