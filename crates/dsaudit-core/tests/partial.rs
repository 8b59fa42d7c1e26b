//! A scan in parts gives the whole scan's report: for random partitions of a
//! dataset's samples into parts (any sizes, empty parts included), each part described
//! alone, written to a `.dsp` and read back, then merged in a random order, the
//! JSON report equals `scan`'s byte for byte. On sample_data/images (every integrity
//! problem the loaders report) and on real photographs with digits pasted in
//! (tests/data/detection/yolo/images, read as an image folder).

use dsaudit_core::config::Config;
use dsaudit_core::partial::{self, Dsp, Shard};
use dsaudit_core::report::{Format, Reports};
use dsaudit_core::request::{self, Request};
use dsaudit_core::scan::{self, Scan};
use proptest::prelude::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn dataset(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn settings() -> request::Settings {
    request::settings(
        Config::default(),
        Request {
            quiet: true,
            labels: dsaudit_core::labels::Options {
                enabled: true,
                folds: 5,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap()
}

fn json(scan: Scan, s: &request::Settings) -> String {
    Format::JSON.render(&Reports {
        scans: &[scan],
        max_samples: 10,
        rules: &s.options.rules,
    })
}

/// The whole scan's report, and every sample's path, once per dataset.
fn whole(rel: &str) -> &'static (String, Vec<String>) {
    static SAMPLE: OnceLock<(String, Vec<String>)> = OnceLock::new();
    static PHOTOS: OnceLock<(String, Vec<String>)> = OnceLock::new();
    let cell = if rel.starts_with("sample_data") {
        &SAMPLE
    } else {
        &PHOTOS
    };
    cell.get_or_init(|| {
        let s = settings();
        let scan = scan::scan(&dataset(rel), &s.options).unwrap();
        let sources = scan
            .loaded
            .manifest
            .strs("source")
            .iter()
            .map(|s| s.unwrap().to_string())
            .collect();
        (json(scan, &s), sources)
    })
}

/// The report of `rel` scanned as parts: `part_of[i]` is sample i's part; parts are
/// merged in `order`.
fn merged(rel: &str, sources: &[String], part_of: &[usize], order: &[usize]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let parts = part_of.iter().max().unwrap() + 1;
    let mut files = Vec::new();
    for p in 0..parts {
        let listed: HashSet<String> = sources
            .iter()
            .zip(part_of)
            .filter(|(_, &q)| q == p)
            .map(|(s, _)| s.clone())
            .collect();
        let shard = Shard::Files {
            list: PathBuf::from(format!("part{p}.txt")),
            sources: listed,
        };
        let dsp = partial::partial(&dataset(rel), Default::default(), None, &shard, true).unwrap();
        let file = dir.path().join(format!("part{p}.dsp"));
        dsp.write(&file).unwrap();
        files.push(file);
    }
    let read: Vec<(PathBuf, Dsp)> = order
        .iter()
        .filter(|&&p| p < parts)
        .map(|&p| (files[p].clone(), Dsp::read(&files[p]).unwrap()))
        .collect();
    report_of_merge(&read)
}

/// The JSON report of `parts` merged, as `dsaudit merge` finishes them.
fn report_of_merge(parts: &[(PathBuf, Dsp)]) -> String {
    let m = partial::merge(parts.to_vec()).unwrap();
    let s = settings();
    let input = m.spec.input.clone();
    let scan = scan::scan_loaded(
        &input,
        m.spec,
        m.loaded,
        &s.options,
        std::time::Instant::now(),
    );
    json(scan.unwrap(), &s)
}

/// A partition of `n` samples into at most `max_parts` parts, and an order to merge them.
fn partition(n: usize, max_parts: usize) -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (1..=max_parts).prop_flat_map(move |k| {
        (
            proptest::collection::vec(0..k, n),
            Just((0..k).collect::<Vec<_>>()).prop_shuffle(),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn parts_of_sample_data_merge_to_the_scan((part_of, order) in partition(whole("sample_data/images").1.len(), 5)) {
        let (report, sources) = whole("sample_data/images");
        let got = merged("sample_data/images", sources, &part_of, &order);
        prop_assert!(got == *report, "merged report differs:\n{got}\n---\n{report}");
    }
}

#[test]
fn parts_of_real_photographs_merge_to_the_scan() {
    let rel = "tests/data/detection/yolo/images";
    let (report, sources) = whole(rel);
    // Every third sample in its own part, the rest split by a hash: three parts.
    let part_of: Vec<usize> = (0..sources.len()).map(|i| i % 3).collect();
    assert_eq!(&merged(rel, sources, &part_of, &[2, 0, 1]), report);
}

#[test]
fn hash_shards_cover_the_dataset_once() {
    let path = dataset("sample_data/images");
    let (_, sources) = whole("sample_data/images");
    let mut held = 0;
    let mut parts = Vec::new();
    for k in 1..=4 {
        let dsp = partial::partial(
            &path,
            Default::default(),
            None,
            &Shard::Part { k, n: 4 },
            true,
        )
        .unwrap();
        held += dsp.rows.len();
        parts.push((PathBuf::from(format!("part{k}.dsp")), dsp));
    }
    assert_eq!(held, sources.len());
    // Three of four parts: the merge names the missing samples' count and the parts.
    let e = partial::merge(parts[..3].to_vec())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("are in no partial scan") && e.contains("1/4, 2/4, 3/4"),
        "{e}"
    );
    // A part given twice is counted once, and the report says so.
    parts.push(parts[0].clone());
    let m = partial::merge(parts).unwrap();
    assert_eq!(m.loaded.manifest.len(), sources.len());
    assert!(m.loaded.guesses.iter().any(|g| g.contains("counted once")));
}

/// The merge's one-line error for parts `a` and `b`, named so.
fn merge_error(a: &Dsp, b_name: &str, b: &Dsp) -> String {
    let parts = vec![("a.dsp".into(), a.clone()), (b_name.into(), b.clone())];
    partial::merge(parts).err().unwrap().to_string()
}

/// Part `k` of 2 of the dataset at `rel`.
fn half(rel: &str, k: u64) -> Dsp {
    let shard = Shard::Part { k, n: 2 };
    partial::partial(&dataset(rel), Default::default(), None, &shard, true).unwrap()
}

/// What `bytes_by_field` says a part's bytes are spent on adds up to the part's
/// encoding, byte for byte, with and without samples that failed to decode (the
/// sample_data images include every integrity problem the loaders report).
#[test]
fn bytes_by_field_add_up_to_the_part() {
    for k in 1..=2 {
        let part = half("sample_data/images", k);
        let stamp = partial::dsp::stamped(&[]).len() as u64;
        let whole = part.to_bytes().unwrap().len() as u64;
        let fields = part.bytes_by_field();
        assert_eq!(
            fields.iter().map(|f| f.1).sum::<u64>(),
            whole - stamp,
            "{fields:?}"
        );
        let picture = fields
            .iter()
            .find(|f| f.0.starts_with("32x32 grey picture"));
        assert!(picture.is_some_and(|p| p.1 > 0), "{fields:?}");
    }
}

/// A part's bytes read back as the part (and write again to the same bytes); cut
/// anywhere, lengthened, or claiming more rows than its bytes can hold, it is
/// refused in one line naming it, and never reserves what its count claims.
#[test]
fn damaged_parts_are_refused_in_one_line() {
    let part = half("sample_data/images", 1);
    let bytes = part.to_bytes().unwrap();
    let back = Dsp::from_bytes("p.dsp", &bytes).unwrap();
    assert_eq!(back.rows.len(), part.rows.len());
    assert_eq!(back.to_bytes().unwrap(), bytes);
    // Written as it is encoded, the file holds the same bytes.
    let dir = tempfile::tempdir().unwrap();
    let written = dir.path().join("p.dsp");
    part.write(&written).unwrap();
    assert_eq!(std::fs::read(&written).unwrap(), bytes);
    let error = |b: &[u8]| Dsp::from_bytes("p.dsp", b).err().unwrap().to_string();
    for share in [0.3, 0.6, 0.95, 0.9999] {
        let cut = (bytes.len() as f64 * share) as usize;
        let e = error(&bytes[..cut]);
        assert_eq!(e, "p.dsp: damaged partial scan: cut short", "{share}");
    }
    let mut longer = bytes.clone();
    longer.push(7);
    assert_eq!(
        error(&longer),
        "p.dsp: damaged partial scan: 1 bytes after its end"
    );
    // Rows are the last field: an empty part ends in its count, 0.
    let mut empty = part.clone();
    empty.rows.clear();
    let mut claims = empty.to_bytes().unwrap();
    assert_eq!(claims.pop(), Some(0));
    claims.extend([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    assert_eq!(error(&claims), "p.dsp: damaged partial scan: cut short");
    // Read from its file a block at a time (blocks shorter than a row included), the
    // merge's way: the same part, or the same one-line error, every time.
    let dir = tempfile::tempdir().unwrap();
    let mut variants = vec![bytes.clone(), longer, claims];
    variants.extend(
        [0.3, 0.6, 0.95, 0.9999].map(|s| bytes[..(bytes.len() as f64 * s) as usize].to_vec()),
    );
    variants.push(bytes[..10].to_vec());
    for (i, v) in variants.iter().enumerate() {
        let file = dir.path().join(format!("v{i}.dsp"));
        std::fs::write(&file, v).unwrap();
        let shown = file.display().to_string();
        let whole = Dsp::from_bytes(&shown, v).map(|d| d.to_bytes().unwrap());
        for block in [700, 4096, 1 << 22] {
            let streamed = partial::dsp_file::read_by(&file, block).map(|d| d.to_bytes().unwrap());
            match (&whole, streamed) {
                (Ok(a), Ok(b)) => assert!(*a == b, "variant {i}, block {block}"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "variant {i}"),
                (a, b) => panic!(
                    "variant {i}, block {block}: {:?} against {:?}",
                    a.is_ok(),
                    b.is_ok()
                ),
            }
        }
    }
    let gone = dir.path().join("gone.dsp");
    let e = partial::dsp_file::read(&gone).err().unwrap().to_string();
    assert!(e.starts_with(&format!("{}: ", gone.display())), "{e}");
    assert!(!partial::dsp_file::is_table(&dir.path().join("v0.dsp")).unwrap());
}

#[test]
fn parts_of_different_datasets_or_listings_do_not_merge() {
    let a = half("sample_data/images", 1);
    let e = merge_error(&a, "b.dsp", &half("tests/data/detection/yolo/images", 2));
    assert!(
        e.contains("a.dsp and b.dsp are parts of scans of different datasets"),
        "{e}"
    );
    let mut changed = a.clone();
    changed.header.total += 1;
    changed.header.listing[0] ^= 1;
    let e = merge_error(&a, "c.dsp", &changed);
    assert!(
        e.contains("the dataset changed between the partial scans"),
        "{e}"
    );
    let mut configured = a.clone();
    configured.header.config = Some(("/x/dsaudit.toml".into(), "fail-on = \"never\"\n".into()));
    let e = merge_error(&a, "d.dsp", &configured);
    assert!(
        e.contains("different configurations (no configuration file and /x/dsaudit.toml"),
        "{e}"
    );
}

/// A row as a Spark partition hands it over: path, bytes, label, split.
type Given = (String, Vec<u8>, String, String);

/// Every file of sample_data/images below a split and a class folder, as rows.
fn image_rows() -> &'static Vec<Given> {
    static ROWS: OnceLock<Vec<Given>> = OnceLock::new();
    ROWS.get_or_init(|| {
        let root = dataset("sample_data/images");
        let mut rows = Vec::new();
        for split in ["train", "test"] {
            for class in std::fs::read_dir(root.join(split)).unwrap() {
                let class = class.unwrap().path();
                if !class.is_dir() {
                    continue;
                }
                for f in std::fs::read_dir(&class).unwrap() {
                    let f = f.unwrap().path();
                    let rel = f
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    let label = class.file_name().unwrap().to_string_lossy().into_owned();
                    rows.push((rel, std::fs::read(&f).unwrap(), label, split.to_string()));
                }
            }
        }
        rows
    })
}

/// The report of `rows` described as parts (`part_of[i]` is row i's part; a row
/// whose `again[i]` is set is given to part 0 too), merged in `order`.
fn merged_rows(part_of: &[usize], again: &[bool], order: &[usize]) -> String {
    let rows = image_rows();
    let parts = part_of.iter().max().map_or(1, |m| m + 1);
    let mut dsps = Vec::new();
    for p in 0..parts {
        let given: Vec<partial::rows::Given<'_>> = rows
            .iter()
            .enumerate()
            .filter(|(i, _)| part_of[*i] == p || (p == 0 && again[*i]))
            .map(|(_, (source, bytes, label, split))| partial::rows::Given {
                source,
                bytes: Some(bytes),
                label: Some(label),
                split: Some(split),
            })
            .collect();
        let dsp = partial::rows::describe("rows", &format!("part {p}"), &given);
        // Through the bytes a Spark row carries.
        let back = Dsp::from_bytes("part", &dsp.to_bytes().unwrap()).unwrap();
        dsps.push((PathBuf::from(format!("part {p}")), back));
    }
    let ordered: Vec<(PathBuf, Dsp)> = order
        .iter()
        .filter(|&&p| p < parts)
        .map(|&p| dsps[p].clone())
        .collect();
    let mut report: serde_json::Value = serde_json::from_str(&report_of_merge(&ordered)).unwrap();
    // The overlap note names the parts; which parts depends on the partition.
    report["datasets"][0]["guesses"] = serde_json::Value::Null;
    report.to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// Rows in memory have no listing: the merge orders them by path, so any partition,
    /// any merge order and any path given twice give the one report.
    #[test]
    fn parts_of_rows_merge_alike_whatever_the_partition(
        (part_of, order) in partition(image_rows().len(), 6),
        again in proptest::collection::vec(proptest::bool::weighted(0.1), image_rows().len()),
    ) {
        static ONE: OnceLock<String> = OnceLock::new();
        let n = image_rows().len();
        let one = ONE.get_or_init(|| merged_rows(&vec![0; n], &vec![false; n], &[0]));
        let got = merged_rows(&part_of, &again, &order);
        prop_assert!(got == *one, "merged report differs:\n{got}\n---\n{one}");
    }
}
