//! `dsaudit baseline`: the overfit-one-batch phase on both backends, the loss-curve
//! diagnoses on data made to fail, the full run's artifacts and error paths.

use crate::util::{error_of, run, snapshot, Dir};
use serde_json::Value;
use std::fmt::Write as _;
use std::process::Output;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\nstderr: {}",
            stdout(o),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Whether wgpu finds an adapter here; CI (DSAUDIT_REQUIRE_WGPU) insists on one.
fn wgpu_adapter() -> bool {
    let o = run(&[
        "baseline",
        "sample_data/table.csv",
        "--device",
        "wgpu",
        "--overfit",
        "--overfit-steps",
        "1",
        "-q",
    ]);
    let found = !String::from_utf8_lossy(&o.stderr).contains("no wgpu adapter found");
    if !found && std::env::var_os("DSAUDIT_REQUIRE_WGPU").is_some() {
        panic!(
            "DSAUDIT_REQUIRE_WGPU is set but wgpu finds no adapter (install mesa-vulkan-drivers)"
        );
    }
    found
}

#[test]
fn overfits_one_batch_of_the_sample_images_on_the_cpu() {
    let o = run(&[
        "baseline",
        "sample_data/images",
        "--overfit",
        "--device",
        "cpu",
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let r = json(&o);
    assert_eq!(r["backend"], "cpu");
    assert_eq!(r["overfit"]["passed"], true);
    assert_eq!(r["overfit"]["curve"], "converged");
    assert_eq!(r["overfit"]["batch_size"], 32);
    let losses = r["overfit"]["losses"].as_array().unwrap();
    assert!(losses.last().unwrap().as_f64().unwrap() < 0.01);
    assert!(r["model"]
        .as_str()
        .unwrap()
        .starts_with("LeNet-like CNN: 3×32×32"));
    // Only the overfit phase ran.
    assert!(r["training"].is_null());
}

#[test]
fn overfits_one_batch_of_the_sample_table_on_wgpu() {
    if !wgpu_adapter() {
        eprintln!("skipped: no wgpu adapter here");
        return;
    }
    let o = run(&[
        "baseline",
        "sample_data/table.csv",
        "--overfit",
        "--device",
        "wgpu",
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let r = json(&o);
    assert_eq!(r["backend"], "wgpu");
    assert_eq!(r["overfit"]["passed"], true);
    assert!(!r["adapter"].as_str().unwrap().is_empty());
}

#[test]
fn auto_never_trains_on_a_cpu_vulkan_adapter_and_gpu_refuses_it() {
    let o = run(&[
        "baseline",
        "sample_data/table.csv",
        "--overfit",
        "--overfit-steps",
        "2",
        "--format",
        "json",
        "-q",
    ]);
    let r = json(&o);
    let gpu = r["adapters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["kind"] != "cpu");
    if gpu {
        assert_eq!(r["backend"], "wgpu");
        return;
    }
    assert_eq!(r["backend"], "cpu");
    assert!(r["device_note"]
        .as_str()
        .unwrap()
        .starts_with("no GPU adapter"));
    let err = error_of(&run(&[
        "baseline",
        "sample_data/table.csv",
        "--device",
        "gpu",
    ]));
    assert!(err.contains("--device gpu: no GPU adapter found"), "{err}");
}

/// A table of `n` rows whose two classes are labeled at random.
fn random_labels_table(dir: &Dir, n: usize, constant: bool) -> std::path::PathBuf {
    let mut csv = String::from("a,b,c,label\n");
    let mut state = 12345u64;
    for i in 0..n {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let label = if (state >> 33).is_multiple_of(2) {
            "x"
        } else {
            "y"
        };
        if constant {
            let _ = writeln!(csv, "1.5,2.5,3.5,{label}");
        } else {
            let v = (i as f64 * 0.37).sin();
            let _ = writeln!(csv, "{v},{},{},{label}", v * v, i % 7);
        }
    }
    dir.write("t.csv", csv)
}

#[test]
fn shuffled_labels_at_a_learning_rate_of_10_explode_or_oscillate() {
    let dir = Dir::new();
    let t = random_labels_table(&dir, 200, false);
    let o = run(&[
        "baseline",
        t.to_str().unwrap(),
        "--overfit",
        "--device",
        "cpu",
        "--lr",
        "10",
        "--overfit-steps",
        "200",
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let r = json(&o);
    assert_eq!(r["overfit"]["passed"], false);
    let curve = r["overfit"]["curve"].as_str().unwrap();
    assert!(curve == "explodes" || curve == "oscillates", "{curve}");
    let text = stdout(&run(&[
        "baseline",
        t.to_str().unwrap(),
        "--overfit",
        "--device",
        "cpu",
        "--lr",
        "10",
        "--overfit-steps",
        "200",
        "-q",
    ]));
    assert!(text.contains("overfit one batch: FAILED"), "{text}");
    assert!(text.contains("learning rate too high"), "{text}");
}

#[test]
fn constant_inputs_plateau_and_are_named_first() {
    let dir = Dir::new();
    let t = random_labels_table(&dir, 100, true);
    let o = run(&[
        "baseline",
        t.to_str().unwrap(),
        "--overfit",
        "--device",
        "cpu",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(text.contains("the curve plateaus"), "{text}");
    assert!(
        text.contains("first: every input in the batch is identical"),
        "{text}"
    );
    // The duplicates with different labels are named too.
    assert!(
        text.contains("with the same input as another sample but a different label"),
        "{text}"
    );
}

#[test]
fn full_run_writes_its_artifacts_and_embeddings_the_scan_reads() {
    let dir = Dir::new();
    let out = dir.join("out");
    let emb = dir.join("emb.npy");
    let before = snapshot(std::path::Path::new("sample_data/table.csv"));
    let args = |format: &str| {
        vec![
            "baseline".to_string(),
            "sample_data/table.csv".into(),
            "--device".into(),
            "cpu".into(),
            "--epochs".into(),
            "8".into(),
            "--human-error".into(),
            "0.01".into(),
            "--out".into(),
            out.display().to_string(),
            "--overwrite".into(),
            "--embeddings".into(),
            emb.display().to_string(),
            "--format".into(),
            format.into(),
            "-q".into(),
        ]
    };
    let a: Vec<String> = args("text");
    let o = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let text = stdout(&o);
    for want in [
        "overfit one batch: passed",
        "errors    train ",
        "bias (train − irreducible 1.0%)",
        "variance (train-val − train)",
        "distribution shift (test-val − train-val)",
        "validation overfitting (test − test-val)",
        "advice",
        "no train-val and test-val splits: made for this run",
        "imputed with the train median",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    for f in ["metrics.json", "overfit.csv", "training.csv", "curves.svg"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let metrics: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let e = &metrics["errors"];
    let d = &metrics["decomposition"];
    let close = |a: &Value, b: f64| (a.as_f64().unwrap() - b).abs() < 1e-9;
    let f = |v: &Value| v.as_f64().unwrap();
    assert!(close(&d["bias"]["value"], f(&e["train"]) - 0.01));
    assert!(close(
        &d["variance"]["value"],
        f(&e["train_val"]) - f(&e["train"])
    ));
    assert!(close(
        &d["shift"]["value"],
        f(&e["test_val"]) - f(&e["train_val"])
    ));
    assert!(close(
        &d["val_overfitting"]["value"],
        f(&e["test"]) - f(&e["test_val"])
    ));
    let epochs = metrics["training"]["epochs"].as_array().unwrap().len();
    let csv = std::fs::read_to_string(out.join("training.csv")).unwrap();
    assert_eq!(csv.lines().count(), epochs + 1);
    assert!(csv
        .starts_with("epoch,steps,train_loss,train_accuracy,train_val_loss,train_val_accuracy\n"));
    let svg = std::fs::read_to_string(out.join("curves.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("training: loss"));
    // One float32 row of 128 features per table row.
    let npy = std::fs::read(&emb).unwrap();
    let header = String::from_utf8_lossy(&npy[..128]);
    assert!(header.contains("'shape': (303, 128"), "{header}");
    assert!(header.contains("'<f4'"), "{header}");
    // The label check reads them.
    let scan = run(&[
        "scan",
        "sample_data/table.csv",
        "--embeddings",
        emb.to_str().unwrap(),
        "--format",
        "json",
        "-q",
    ]);
    assert!(
        matches!(scan.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&scan.stderr)
    );
    assert!(
        stdout(&scan).contains("embeddings from"),
        "{}",
        stdout(&scan)
    );
    // Same seed, same bytes; the input untouched.
    let first = std::fs::read(out.join("metrics.json")).unwrap();
    let o = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(first, std::fs::read(out.join("metrics.json")).unwrap());
    assert_eq!(
        before,
        snapshot(std::path::Path::new("sample_data/table.csv"))
    );
    // JSON on stdout is metrics.json.
    let j: Vec<String> = args("json");
    let o = run(&j.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.stdout, first);
}

#[test]
fn tune_prints_its_table_of_learning_rates() {
    let o = run(&[
        "baseline",
        "sample_data/table.csv",
        "--device",
        "cpu",
        "--tune",
        "--tune-steps",
        "20",
        "--epochs",
        "3",
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let r = json(&o);
    let trials = r["tuning"].as_array().unwrap();
    assert_eq!(trials.len(), 18);
    let best = trials
        .iter()
        .min_by(|a, b| {
            f64_or_inf(&a["train_val_loss"]).total_cmp(&f64_or_inf(&b["train_val_loss"]))
        })
        .unwrap();
    assert_eq!(r["training"]["lr"], best["lr"]);
}

fn f64_or_inf(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::INFINITY)
}

#[test]
fn existing_validation_splits_are_used_and_images_of_mixed_sizes_resized() {
    let dir = Dir::new();
    let mut seed = 1u8;
    for split in ["train", "train-val", "test-val", "test"] {
        for class in ["a", "b"] {
            for k in 0..3 {
                let (w, h) = if k == 0 { (12, 12) } else { (16, 10) };
                let img = crate::util::rgb(w, h, seed);
                seed = seed.wrapping_add(37);
                dir.write(
                    &format!("d/{split}/{class}/{k}.png"),
                    crate::util::encode(&img, image::ImageFormat::Png),
                );
            }
        }
    }
    let o = run(&[
        "baseline",
        dir.join("d").to_str().unwrap(),
        "--device",
        "cpu",
        "--epochs",
        "2",
        "--image-size",
        "16",
        "-q",
    ]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = stdout(&o);
    assert!(
        text.contains("train 6 · train-val 6 · test-val 6 · test 6"),
        "{text}"
    );
    assert!(!text.contains("made for this run"), "{text}");
    assert!(
        text.contains("images come in 2 sizes (12×12 (8), 16×10 (16)): all resized to 16×16"),
        "{text}"
    );
    assert!(
        text.contains("the overfit batch holds 6 instead of 32"),
        "{text}"
    );
}

#[test]
fn bad_input_gets_one_line() {
    let dir = Dir::new();
    let single = dir.write("one.csv", "a,label\n1,x\n2,x\n3,x\n4,x\n5,x\n6,x\n");
    let tiny = dir.write("tiny.csv", "a,label\n1,x\n2,y\n");
    let (single, tiny) = (single.to_str().unwrap(), tiny.to_str().unwrap());
    let cases: [(&[&str], &str); 7] = [
        (&[single, "--device", "cpu"], "the one class 'x'"),
        (&[tiny, "--device", "cpu"], "too few samples"),
        (
            &["sample_data/images", "--out", "sample_data/images/out"],
            "refusing to write inside the dataset",
        ),
        (
            &[
                "sample_data/images",
                "--embeddings",
                "sample_data/images/e.npy",
            ],
            "refusing to write inside the dataset",
        ),
        (
            &["sample_data/images", "--image-size", "30"],
            "--image-size 30: must be a multiple of 4",
        ),
        (
            &["sample_data/table.csv", "--human-error", "1.5"],
            "--human-error 1.5",
        ),
        (&["nowhere.csv"], "nowhere.csv: no such file or directory"),
    ];
    for (args, expected) in cases {
        let argv: Vec<&str> = std::iter::once("baseline")
            .chain(args.iter().copied())
            .collect();
        let err = error_of(&run(&argv));
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}
