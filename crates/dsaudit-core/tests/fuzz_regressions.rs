//! Replays every input the fuzzers found a crash with (`fuzz/regressions/<target>/`;
//! also through the binary, by tests/cli/faults.rs),
//! and the sample data, through the same entry points the fuzz targets call: each
//! must come back with an answer, not a panic.

use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn replay(target: &str, data: &[u8]) {
    use dsaudit_core::fuzzing as f;
    match target {
        "image" => f::image(data),
        "csv" => {
            f::table(data, "csv");
            f::table_dataset(data);
        }
        "parquet" => f::table(data, "parquet"),
        "ipc" => f::table(data, "arrow"),
        "ndjson" => f::table(data, "ndjson"),
        "npy" => f::npy(data),
        "labels" => f::labels(data),
        "config" => f::config(data),
        "cache_record" => f::cache_record(data),
        "hf_parquet" => f::hf_parquet(data),
        "webdataset" => f::webdataset(data),
        "coco" => f::coco(data),
        "yolo" => f::yolo(data),
        "dsp" => f::dsp(data),
        other => panic!("fuzz/regressions/{other}: no such target"),
    }
}

#[test]
fn crashers_and_samples_come_back_with_an_answer() {
    // As in the binary: the panics the readers' guard catches print nothing.
    std::panic::set_hook(Box::new(|_| {}));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut seen = 0;
    for target_dir in files(&root.join("fuzz/regressions"))
        .iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect::<std::collections::BTreeSet<_>>()
    {
        let target = target_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for input in files(&target_dir) {
            // The `*-alloc` inputs once made polars ask for more memory than exists,
            // which ends any process; table_io::vet now refuses them first, so a
            // test process survives them too.
            replay(&target, &std::fs::read(&input).unwrap());
            seen += 1;
        }
    }
    // The sample data through the image and table readers, so that the harness
    // itself is exercised on inputs with known answers.
    for p in files(&root.join("sample_data")) {
        let data = std::fs::read(&p).unwrap();
        match p.extension().and_then(|e| e.to_str()) {
            Some("png") => replay("image", &data),
            Some("csv") => replay("csv", &data),
            _ => continue,
        }
        seen += 1;
    }
    assert!(seen > 100, "{seen} inputs replayed");
}
