//! GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` line per
//! finding, anchored at its first sample's file (and row, for CSV tables).

use super::family;
use crate::finding::Severity;
use crate::scanned::Scan;
use std::fmt::Write;

/// Escapes a message (data) as the runner expects.
fn data(s: &str) -> String {
    // Other control characters made visible too: an escape sequence in a file name
    // would otherwise reach the log as is.
    crate::util::printable(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (file, title).
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub struct Github;

impl super::Render for Github {
    fn render(&self, reports: &super::Reports) -> String {
        render(reports.scans)
    }
}

pub fn render(scans: &[Scan]) -> String {
    let mut o = String::new();
    for scan in scans {
        for f in &scan.findings {
            let command = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let mut props = Vec::new();
            if let Some(s) = f.samples.first() {
                props.push(format!(
                    "file={}",
                    property(&family::sample_path(scan, &s.source))
                ));
                if let Some(line) = super::sarif::csv_line(&s.source, s.row) {
                    props.push(format!("line={line}"));
                }
            }
            props.push(format!(
                "title={}",
                property(&format!("{} {}", f.code, f.rule))
            ));
            let more = if f.sample_count > 1 {
                format!(" ({} samples; `dsaudit scan` lists them)", f.sample_count)
            } else {
                String::new()
            };
            let _ = writeln!(
                o,
                "::{command} {}::{}",
                props.join(","),
                data(&format!("{}{more} Fix: {}", f.message, f.fix))
            );
        }
    }
    o
}
