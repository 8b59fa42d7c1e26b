//! The JSON report: a versioned, stable schema documented in docs/json-schema.md.
//! No timings or absolute paths, so the same input gives byte-identical output.

use crate::finding::Severity;
use crate::scanned::Scan;
use serde_json::{json, Value};

pub const SCHEMA_VERSION: u32 = 1;

pub fn dataset(scan: &Scan) -> Value {
    let tally = scan.tally();
    let splits: Vec<Value> = scan
        .splits_ordered()
        .into_iter()
        .map(|(split, classes)| {
            let total: u64 = classes.values().sum();
            let classes: serde_json::Map<String, Value> = classes
                .iter()
                .filter_map(|(l, n)| l.as_ref().map(|l| (l.clone(), json!(n))))
                .collect();
            let unlabeled = tally
                .get(&split)
                .and_then(|c| c.get(&None))
                .copied()
                .unwrap_or(0);
            json!({ "name": split, "samples": total, "unlabeled": unlabeled, "classes": classes })
        })
        .collect();
    let mut doc = json!({
        "path": scan.spec.input.to_string_lossy(),
        "layout": scan.spec.layout.name(),
        "guesses": scan.guesses().collect::<Vec<_>>(),
        "label_column": scan.loaded.label_column,
        "split_column": scan.loaded.split_column,
        "samples": scan.samples(),
        "unreadable": scan.unreadable(),
        "ignored_files": scan.loaded.ignored_files,
        "splits": splits,
        "summary": {
            "error": scan.count(Severity::Error),
            "warning": scan.count(Severity::Warning),
            "info": scan.count(Severity::Info),
        },
        "findings": scan.findings,
        "duplicates": scan.dups.json(),
        "shift": scan.shift,
        "labels": scan.labels,
        "stats": super::stats::json(scan),
    });
    // A table read in blocks whose checks ran on a sample: how many rows they saw.
    if scan.loaded.tally.is_some() {
        doc["sampled_rows"] = json!(scan.loaded.manifest.len());
    }
    // Detection layouts only: the key's absence keeps other reports as they were.
    if let Some(boxes) = scan.box_tally() {
        let splits: Vec<Value> = boxes
            .into_iter()
            .map(|(split, classes)| {
                let unknown = classes.get(&None).copied().unwrap_or(0);
                let named: serde_json::Map<String, Value> = classes
                    .iter()
                    .filter_map(|(c, n)| c.as_ref().map(|c| (c.clone(), json!(n))))
                    .collect();
                let total: u64 = classes.values().sum();
                json!({ "name": split, "boxes": total, "unknown_category": unknown, "classes": named })
            })
            .collect();
        doc["boxes"] = json!({ "splits": splits });
    }
    doc
}

pub struct Json;

impl super::Render for Json {
    fn render(&self, reports: &super::Reports) -> String {
        render(reports.scans)
    }
}

pub fn render(scans: &[Scan]) -> String {
    let doc = json!({
        "schema_version": SCHEMA_VERSION,
        "tool": { "name": "dsaudit", "version": env!("CARGO_PKG_VERSION") },
        "datasets": scans.iter().map(dataset).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("report serialises");
    s.push('\n');
    s
}
