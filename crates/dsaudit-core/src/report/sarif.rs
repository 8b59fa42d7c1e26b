//! SARIF 2.1.0 for code-scanning tools: the rules that ran as the driver's rules, one
//! result per finding, with a location per listed sample.

use super::family;
use crate::finding::Severity;
use crate::scanned::Scan;
use serde_json::{json, Value};

/// The 1-based line of a CSV row (header on line 1); other formats have no lines.
pub fn csv_line(source: &str, row: Option<u64>) -> Option<u64> {
    let is_csv = source.to_ascii_lowercase().ends_with(".csv");
    row.filter(|_| is_csv).map(|r| r + 2)
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Locations per result, at most: SARIF viewers choke on thousands.
const MAX_LOCATIONS: usize = 100;

pub struct Sarif;

impl super::Render for Sarif {
    fn render(&self, reports: &super::Reports) -> String {
        render(reports.scans, reports.rules)
    }
}

pub fn render(scans: &[Scan], rules: &[&'static dyn crate::rules::Rule]) -> String {
    let driver_rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.code(),
                "name": r.name(),
                "shortDescription": { "text": r.summary() },
                "fullDescription": { "text": r.doc() },
                "help": { "text": r.fix() },
                "defaultConfiguration": { "level": level(r.default_severity()) },
                "properties": { "tags": [family::of(r.code())] },
            })
        })
        .collect();
    let index = |code: &str| rules.iter().position(|r| r.code() == code);
    let mut results = Vec::new();
    for scan in scans {
        for f in &scan.findings {
            let mut locations: Vec<Value> = f
                .samples
                .iter()
                .take(MAX_LOCATIONS)
                .map(|s| {
                    let mut physical = json!({
                        "artifactLocation": { "uri": family::sample_path(scan, &s.source) },
                    });
                    if let Some(line) = csv_line(&s.source, s.row) {
                        physical["region"] = json!({ "startLine": line });
                    }
                    let mut loc = json!({ "physicalLocation": physical });
                    if let Some(n) = &s.note {
                        loc["message"] = json!({ "text": n });
                    }
                    loc
                })
                .collect();
            if locations.is_empty() {
                let uri = scan.spec.input.to_string_lossy().replace('\\', "/");
                locations
                    .push(json!({ "physicalLocation": { "artifactLocation": { "uri": uri } } }));
            }
            let mut result = json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": { "text": format!("{} Fix: {}", f.message, f.fix) },
                "locations": locations,
                "properties": { "sampleCount": f.sample_count, "evidence": f.evidence },
            });
            if let Some(i) = index(f.code) {
                result["ruleIndex"] = json!(i);
            }
            results.push(result);
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "dsaudit",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": driver_rules,
            } },
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("sarif serialises");
    s.push('\n');
    s
}
