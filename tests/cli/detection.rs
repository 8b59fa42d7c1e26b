//! COCO and YOLO: the same real-image detection set (tests/data/detection, written by
//! tests/reference/detection_fixture.py: scikit-learn's digits pasted on its two
//! sample photos, every box known) scanned untouched, where no annotation rule may
//! fire, and with one injected defect of each kind, each of which must be found and
//! named by its annotation id or file:line.

use crate::util::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/detection")
        .join(name)
}

/// The annotation findings' codes.
fn box_codes(ds: &Value) -> BTreeSet<String> {
    codes(ds)
        .into_iter()
        .filter(|c| c.starts_with('A'))
        .collect()
}

/// Everything a finding says about its places: message, notes and listed places.
fn said(f: &Value) -> String {
    let mut s = f["message"].as_str().unwrap().to_string();
    for sample in f["samples"].as_array().unwrap() {
        s.push('\n');
        s.push_str(sample["note"].as_str().unwrap_or(""));
    }
    if let Some(places) = f["evidence"]["places"].as_array() {
        for p in places {
            s.push('\n');
            s.push_str(p.as_str().unwrap());
        }
    }
    s
}

#[test]
fn clean_detection_sets_give_no_annotation_finding_and_are_left_untouched() {
    for (name, layout) in [("coco", "coco (images"), ("yolo", "yolo (images")] {
        let data = fixture(name);
        let before = snapshot(&data);
        let ds = scan_json(&data, &[]);
        assert!(
            ds["layout"].as_str().unwrap().starts_with(layout),
            "{}",
            ds["layout"]
        );
        assert_eq!(ds["samples"], 104, "{name}");
        let boxes: Vec<(String, u64)> = ds["boxes"]["splits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_string(),
                    s["boxes"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            boxes,
            [("train".to_string(), 156), ("val".to_string(), 44)],
            "{name}"
        );
        // The label-error search reads one label per image: it says why it does not run.
        let skipped = ds["labels"]["skipped"].as_str().unwrap_or_default();
        assert!(skipped.starts_with("a detection set"), "{name}: {skipped}");
        assert_eq!(
            box_codes(&ds),
            BTreeSet::new(),
            "{name}: {:#}",
            ds["findings"]
        );
        assert!(
            !codes(&ds)
                .iter()
                .any(|c| c.starts_with('I') || c.starts_with('D')),
            "{name}: {:?}",
            codes(&ds)
        );
        assert_eq!(
            snapshot(&data),
            before,
            "{name}: the scan changed its input"
        );
    }
}

#[test]
fn the_text_report_counts_boxes_per_class() {
    let out = run_path(&fixture("yolo"), &["--quiet"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("class (boxes)"), "{text}");
    let boxes = text
        .lines()
        .find(|l| l.trim_start().starts_with("boxes"))
        .unwrap();
    let images = text
        .lines()
        .find(|l| l.trim_start().starts_with("images "))
        .unwrap();
    assert_eq!(
        boxes.split_whitespace().collect::<Vec<_>>(),
        ["boxes", "156", "44"]
    );
    assert_eq!(
        images.split_whitespace().collect::<Vec<_>>(),
        ["images", "80", "24"]
    );
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn write_json(p: &Path, v: &Value) {
    std::fs::write(p, serde_json::to_vec(v).unwrap()).unwrap();
}

/// A copy of the COCO set in `dir`: its root, and its train annotation file's path
/// and content.
fn coco_copy(dir: &Dir) -> (PathBuf, PathBuf, Value) {
    let data = dir.join("coco");
    copy_tree(&fixture("coco"), &data);
    let train = data.join("annotations/instances_train.json");
    let coco = read_json(&train);
    (data, train, coco)
}

#[test]
fn coco_defects_are_each_found_with_their_annotation_id() {
    let dir = Dir::new();
    let (data, train, mut coco) = coco_copy(&dir);
    let anns = coco["annotations"].as_array_mut().unwrap();
    let id = |a: &Value| a["id"].as_u64().unwrap();
    let mut expect: Vec<(&str, String)> = Vec::new();
    // A001: 30 px wide from x = 90 on a 96 px image.
    anns[0]["bbox"] = json!([90, 10, 30, 20]);
    expect.push(("A001", format!("annotation {}: box", id(&anns[0]))));
    anns[1]["bbox"] = json!([10, 10, 0, 20]);
    expect.push(("A002", format!("annotation {}: width 0", id(&anns[1]))));
    anns[2]["category_id"] = json!(99);
    expect.push(("A004", format!("annotation {}: category 99", id(&anns[2]))));
    anns[3]["bbox"] = json!([1, 2, 3]);
    expect.push((
        "A005",
        format!("annotation {}: bbox is not four", id(&anns[3])),
    ));
    let mut copy = anns[4].clone();
    copy["id"] = json!(900001);
    copy["bbox"][0] = json!(copy["bbox"][0].as_f64().unwrap() + 0.2);
    expect.push(("A008", "annotation 900001: IoU 0.9".to_string()));
    anns[5]["bbox"] = json!([20, 20, 1, 12]);
    expect.push(("A009", format!("annotation {}: 1 px", id(&anns[5]))));
    anns.push(copy);
    anns.push(json!({"id": 900002, "image_id": 99999, "category_id": 1, "bbox": [1, 1, 5, 5]}));
    expect.push(("A005", "annotation 900002: names image id 99999".into()));
    // A006: the last training image loses its boxes.
    let last = coco["images"].as_array().unwrap().last().unwrap()["id"].clone();
    let last_name = coco["images"].as_array().unwrap().last().unwrap()["file_name"].clone();
    coco["annotations"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a["image_id"] != last);
    // A012: val's first image listed in train too.
    coco["images"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": 777, "file_name": "val_0000.jpg", "width": 96, "height": 72}));
    expect.push(("A012", "val/val_0000.jpg in train and val".into()));
    // A005: an image id and an annotation id used twice (loaders index by id).
    let first = coco["images"][0].clone();
    coco["images"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": first["id"], "file_name": "train_0001.jpg"}));
    expect.push((
        "A005",
        format!(
            "image id {} is also train/{}'s",
            first["id"],
            first["file_name"].as_str().unwrap()
        ),
    ));
    let anns = coco["annotations"].as_array_mut().unwrap();
    let mut again = anns[6].clone();
    again["bbox"] = json!([0, 0, 5, 5]);
    anns.push(again);
    expect.push((
        "A005",
        format!("id {} is also annotation #6's", anns[6]["id"]),
    ));
    // Not A008: a crowd region over a box of its class is not a repeat.
    let mut crowd = anns[7].clone();
    crowd["id"] = json!(900003);
    crowd["iscrowd"] = json!(1);
    anns.push(crowd);
    // A006: the last training image, val's image as train lists it, and the image
    // listed under a repeated id (no boxes there).
    expect.push(("A006", "split 'train': 3 of 82 images have no box".into()));
    write_json(&train, &coco);
    let before = snapshot(&data);
    let ds = scan_json(&data, &[]);
    for (code, text) in &expect {
        let f = finding(&ds, code);
        assert!(
            said(f).contains(text.as_str()),
            "{code}: {text:?} not in {}",
            said(f)
        );
    }
    let a006 = &ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "A006" && f["evidence"]["split"] == "train")
        .unwrap();
    let empty: BTreeSet<String> = sources(a006).into_iter().collect();
    assert_eq!(
        empty,
        [
            format!("train/{}", last_name.as_str().unwrap()),
            "val/val_0000.jpg".into(),
            "train/train_0001.jpg".into()
        ]
        .into()
    );
    assert!(
        !said(finding(&ds, "A008")).contains("900003"),
        "a crowd region was called a repeat"
    );
    let expected: BTreeSet<String> = expect.iter().map(|(c, _)| c.to_string()).collect();
    assert_eq!(box_codes(&ds), expected, "{:#}", ds["findings"]);
    assert_eq!(snapshot(&data), before, "the scan changed its input");
}

#[test]
fn yolo_defects_are_each_found_with_their_file_and_line() {
    let dir = Dir::new();
    let data = dir.join("yolo");
    copy_tree(&fixture("yolo"), &data);
    let labels = |n: u32| data.join(format!("labels/train/train_{n:04}.txt"));
    let append = |n: u32, line: &str| {
        let p = labels(n);
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str(line);
        text.push('\n');
        std::fs::write(&p, &text).unwrap();
        text.lines().count()
    };
    let first_line = |n: u32| {
        std::fs::read_to_string(labels(n))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    let at = |n: u32, line: usize| format!("labels/train/train_{n:04}.txt:{line}");
    let mut expect: Vec<(&str, String)> = Vec::new();
    // A005: a line of four numbers (its class id lost).
    let rest = std::fs::read_to_string(labels(0)).unwrap();
    std::fs::write(labels(0), format!("0.5 0.5 0.2 0.2\n{rest}")).unwrap();
    expect.push(("A005", format!("{}: 4 numbers", at(0, 1))));
    let l = append(1, "1 1.4 0.5 0.2 0.2");
    expect.push(("A003", format!("{}: cx = 1.4", at(1, l))));
    let l = append(2, "12 0.5 0.5 0.2 0.2");
    expect.push((
        "A004",
        format!("{}: category 12 is not one of the 10", at(2, l)),
    ));
    let l = append(3, &first_line(3));
    expect.push(("A008", format!("{}: IoU 1.00 with {}", at(3, l), at(3, 1))));
    let l = append(4, "2 0.5 0.5 0.0 0.2");
    expect.push(("A002", format!("{}: width 0", at(4, l))));
    let l = append(5, "2 0.99 0.5 0.2 0.2");
    expect.push(("A001", format!("{}: box", at(5, l))));
    let l = append(6, "2 0.5 0.5 0.01 0.2");
    expect.push(("A009", format!("{}: 0.96 px", at(6, l))));
    std::fs::remove_file(labels(7)).unwrap();
    expect.push(("A006", "split 'train': 1 of 80 images have no box".into()));
    std::fs::write(data.join("labels/val/ghost.txt"), "1 0.5 0.5 0.1 0.1\n").unwrap();
    expect.push(("A007", "labels/val/ghost.txt".into()));
    let ds = scan_json(&data, &[]);
    for (code, text) in &expect {
        let f = finding(&ds, code);
        assert!(
            said(f).contains(text.as_str()),
            "{code}: {text:?} not in {}",
            said(f)
        );
    }
    assert_eq!(
        sources(finding(&ds, "A006")),
        ["images/train/train_0007.jpg"]
    );
    let expected: BTreeSet<String> = expect.iter().map(|(c, _)| c.to_string()).collect();
    assert_eq!(box_codes(&ds), expected, "{:#}", ds["findings"]);
}

#[test]
fn skewed_classes_and_shifted_boxes_are_found() {
    let dir = Dir::new();
    let (data, train, mut coco) = coco_copy(&dir);
    // Train: every box but one of each other class becomes a '0'.
    let mut kept = BTreeSet::new();
    for a in coco["annotations"].as_array_mut().unwrap() {
        if !kept.insert(a["category_id"].as_u64().unwrap()) {
            a["category_id"] = json!(0);
        }
    }
    write_json(&train, &coco);
    // Val: every box shrunk to a third of its sides, around its centre.
    let val = data.join("annotations/instances_val.json");
    let mut coco = read_json(&val);
    for a in coco["annotations"].as_array_mut().unwrap() {
        let b: Vec<f64> = a["bbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        a["bbox"] = json!([b[0] + b[2] / 3.0, b[1] + b[3] / 3.0, b[2] / 3.0, b[3] / 3.0]);
    }
    write_json(&val, &coco);
    let ds = scan_json(&data, &[]);
    let imbalance = finding(&ds, "A010");
    assert_eq!(imbalance["evidence"]["split"], "train");
    assert!(
        said(imbalance).contains("class '0' has 147 boxes"),
        "{}",
        said(imbalance)
    );
    let shift = finding(&ds, "A011");
    assert_eq!(shift["evidence"]["split"], "val");
    assert!(
        said(shift).starts_with("split 'val' vs 'train': box size"),
        "{}",
        said(shift)
    );
    assert!(shift["evidence"].get("boxes_per_image_ks").is_none());
    assert_eq!(
        box_codes(&ds),
        ["A010", "A011"].map(String::from).into_iter().collect()
    );
}

#[test]
fn broken_annotation_files_are_findings_not_aborts() {
    let dir = Dir::new();
    let (data, ..) = coco_copy(&dir);
    let val = data.join("annotations/instances_val.json");
    let bytes = std::fs::read(&val).unwrap();
    std::fs::write(&val, &bytes[..bytes.len() / 2]).unwrap();
    let ds = scan_json(&data, &[]);
    let f = finding(&ds, "A005");
    assert!(
        said(f).contains("annotations/instances_val.json: not COCO JSON: EOF"),
        "{}",
        said(f)
    );
    // The train file's images are still scanned.
    assert_eq!(ds["samples"], 80);
    // With the train file broken too, nothing is left to scan: the error says why.
    let train = data.join("annotations/instances_train.json");
    std::fs::write(&train, b"{\"images\": [{\"file_name\": \"x.jpg\"").unwrap();
    let err = error_of(&run_path(&data, &["--quiet"]));
    assert!(
        err.contains("annotations/instances_train.json: cannot read: not COCO JSON: EOF"),
        "{err}"
    );

    let yolo = dir.join("yolo");
    copy_tree(&fixture("yolo"), &yolo);
    std::fs::write(yolo.join("data.yaml"), "names: [a, b\n").unwrap();
    let err = error_of(&run_path(&yolo, &["--quiet"]));
    assert!(err.contains("data.yaml: cannot read:"), "{err}");
}

#[test]
fn a_coco_file_given_alone_says_to_pass_its_folder() {
    let json = fixture("coco").join("annotations/instances_val.json");
    let err = error_of(&run_path(&json, &["--quiet"]));
    assert!(
        err.contains("instances_val.json: a JSON file is read as COCO annotations"),
        "{err}"
    );
    assert!(err.contains("pass the dataset's folder"), "{err}");
}

#[test]
fn naming_a_detection_layout_that_is_not_there_says_why() {
    let images = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/images");
    let err = error_of(&run_path(&images, &["--layout", "coco"]));
    assert!(
        err.contains("--layout coco needs a COCO annotation file"),
        "{err}"
    );
    let err = error_of(&run_path(&images, &["--layout", "yolo"]));
    assert!(
        err.contains("--layout yolo needs images under an images/ folder"),
        "{err}"
    );
}

/// Each image's boxes, by file name: YOLO lines parsed (numbers to 1e-5), sorted.
fn yolo_boxes(root: &Path) -> std::collections::BTreeMap<String, Vec<Vec<i64>>> {
    let mut out = std::collections::BTreeMap::new();
    for (path, bytes) in snapshot(&root.join("labels")) {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let mut lines: Vec<Vec<i64>> = String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| {
                l.split_whitespace()
                    .map(|x| (x.parse::<f64>().unwrap() * 1e5).round() as i64)
                    .collect()
            })
            .collect();
        lines.sort();
        out.insert(name, lines);
    }
    out
}

/// Each image's boxes, by file name: (category, bbox) from every COCO file, sorted.
fn coco_boxes(root: &Path) -> std::collections::BTreeMap<String, Vec<(i64, Vec<i64>)>> {
    let mut out = std::collections::BTreeMap::<String, Vec<(i64, Vec<i64>)>>::new();
    for (path, _) in snapshot(&root.join("annotations")) {
        let coco = read_json(&path);
        let names: std::collections::HashMap<u64, String> = coco["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["id"].as_u64().unwrap(),
                    i["file_name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        for name in names.values() {
            out.entry(name.clone()).or_default();
        }
        for a in coco["annotations"].as_array().unwrap() {
            let bbox = a["bbox"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| (x.as_f64().unwrap() * 1e3).round() as i64)
                .collect();
            let name = &names[&a["image_id"].as_u64().unwrap()];
            out.get_mut(name)
                .unwrap()
                .push((a["category_id"].as_i64().unwrap(), bbox));
        }
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

#[test]
fn split_keeps_every_image_with_all_its_boxes() {
    for (name, boxes_equal) in [
        (
            "yolo",
            (|a: &Path, b: &Path| yolo_boxes(a) == yolo_boxes(b)) as fn(&Path, &Path) -> bool,
        ),
        ("coco", |a: &Path, b: &Path| coco_boxes(a) == coco_boxes(b)),
    ] {
        let data = fixture(name);
        let before = snapshot(&data);
        let dir = Dir::new();
        let out = dir.join("out");
        let run = run(&[
            "split",
            data.to_str().unwrap(),
            "--carve-test",
            "0.2",
            "--materialize",
            "copy",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(
            snapshot(&data),
            before,
            "{name}: the build changed its input"
        );
        assert!(boxes_equal(&data, &out), "{name}: an image's boxes changed");
        // The written dataset reads back in the same format, with the new splits, and
        // its annotations raise nothing the input did not.
        let ds = scan_json(&out, &[]);
        assert!(
            ds["layout"].as_str().unwrap().starts_with(name),
            "{}",
            ds["layout"]
        );
        let splits: BTreeSet<String> = ds["splits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            splits,
            ["test", "test-val", "train", "train-val", "val"]
                .map(String::from)
                .into()
        );
        assert_eq!(ds["samples"], 104);
        let left: BTreeSet<String> = box_codes(&ds).into_iter().filter(|c| c != "A010").collect();
        assert_eq!(left, BTreeSet::new(), "{name}: {:#}", ds["findings"]);
    }
}

#[cfg(feature = "baseline")]
#[test]
fn the_baseline_refuses_a_detection_set_with_the_reason() {
    let err = error_of(&run(&["baseline", fixture("coco").to_str().unwrap()]));
    assert!(
        err.contains("a detection dataset's images have boxes"),
        "{err}"
    );
}

/// `dsaudit check` (the pre-commit hook) keeps each image's description: a second
/// check of a detection set reads none of its images again and reports the same.
#[test]
fn check_reads_a_detection_set_s_images_once() {
    for name in ["coco", "yolo"] {
        let dir = Dir::new();
        let data = dir.join(name);
        copy_tree(&fixture(name), &data);
        let cache = dir.join("cache");
        let check = |samples: &str| {
            let out = run(&[
                "check",
                data.to_str().unwrap(),
                "--cache-dir",
                cache.to_str().unwrap(),
                "--timings",
                "--format",
                "json",
                "--max-samples",
                samples,
            ]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            (
                String::from_utf8_lossy(&out.stderr).into_owned(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        };
        let (cold_err, cold) = check("5");
        assert!(
            cold_err.contains("0 files unchanged, 0 unchanged by content, 104 read"),
            "{name}: {cold_err}"
        );
        // Another command line: no stored report, every image from the cache.
        let (warm_err, warm) = check("6");
        assert!(
            warm_err.contains("104 files unchanged, 0 unchanged by content, 0 read"),
            "{name}: {warm_err}"
        );
        assert_eq!(warm, cold, "{name}: the cache changed the report");
    }
}
