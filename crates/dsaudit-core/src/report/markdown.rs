//! Markdown for pull-request comments: a summary line, the class table, then the
//! findings grouped by family, each with its samples folded in a <details> block.

use super::family;
use crate::finding::{Finding, Severity};
use crate::scanned::Scan;
use std::fmt::Write;

pub struct Markdown;

impl super::Render for Markdown {
    fn render(&self, reports: &super::Reports) -> String {
        render(reports.scans, reports.max_samples)
    }
}

pub fn render(scans: &[Scan], max_samples: usize) -> String {
    let mut o = String::new();
    for scan in scans {
        dataset(scan, max_samples, &mut o);
    }
    o
}

fn icon(s: Severity) -> &'static str {
    match s {
        Severity::Error => "🔴 error",
        Severity::Warning => "🟠 warning",
        Severity::Info => "🔵 info",
    }
}

/// Pipes would break a table cell; control characters (a line break in a file
/// name) are escaped.
fn cell(s: &str) -> String {
    crate::util::printable(s).replace('|', "\\|")
}

fn dataset(scan: &Scan, max_samples: usize, o: &mut String) {
    let m = &scan.loaded.manifest;
    let _ = writeln!(o, "## dsaudit · `{}`\n", scan.spec.input.display());
    let (e, w, i) = (
        scan.count(Severity::Error),
        scan.count(Severity::Warning),
        scan.count(Severity::Info),
    );
    let _ = writeln!(
        o,
        "**{}** · {} samples ({} unreadable) · **{e}** errors, **{w}** warnings, **{i}** info\n",
        scan.spec.layout.name(),
        m.len(),
        scan.unreadable(),
    );
    for g in scan.guesses() {
        let _ = writeln!(o, "- guessed: {}", cell(g));
    }
    let reused: Vec<String> = scan
        .labels
        .reused
        .iter()
        .map(|r| format!("label-error probabilities: {r}"))
        .chain(scan.shift.comparisons.iter().filter_map(|c| {
            c.reused
                .as_ref()
                .map(|r| format!("shift '{}' vs '{}' classifier: {r}", c.current, c.reference))
        }))
        .collect();
    for r in &reused {
        let _ = writeln!(o, "- {}", cell(r));
    }
    if scan.guesses().next().is_some() || !reused.is_empty() {
        o.push('\n');
    }
    class_table(scan, o);
    if scan.findings.is_empty() {
        let _ = writeln!(o, "No findings.\n");
        return;
    }
    for (i, (fam, group)) in family::grouped(&scan.findings).into_iter().enumerate() {
        if i > 0 {
            o.push('\n');
        }
        let _ = writeln!(o, "### {fam}\n");
        for f in group {
            finding(scan, f, max_samples, o);
        }
    }
    o.push('\n');
}

fn finding(scan: &Scan, f: &Finding, max_samples: usize, o: &mut String) {
    let _ = writeln!(
        o,
        "- {} **{}** `{}`: {}",
        icon(f.severity),
        f.code,
        f.rule,
        cell(&f.message)
    );
    if f.sample_count > 0 {
        let _ = writeln!(
            o,
            "  <details><summary>{} sample{}</summary>\n",
            f.sample_count,
            if f.sample_count == 1 { "" } else { "s" }
        );
        for s in f.samples.iter().take(max_samples) {
            let path = family::sample_path(scan, &s.source);
            let path = crate::util::printable(&path);
            let at = s.row.map(|r| format!(" row {r}")).unwrap_or_default();
            match &s.note {
                Some(n) => {
                    let _ = writeln!(o, "  - `{path}`{at}: {}", cell(n));
                }
                None => {
                    let _ = writeln!(o, "  - `{path}`{at}");
                }
            }
        }
        let shown = f.samples.len().min(max_samples) as u64;
        if f.sample_count > shown {
            let _ = writeln!(o, "  - … and {} more", f.sample_count - shown);
        }
        let _ = writeln!(o, "\n  </details>");
    }
    let _ = writeln!(o, "  *Fix:* {}", cell(&f.fix));
}

fn class_table(scan: &Scan, o: &mut String) {
    let splits = scan.splits_ordered();
    let classes = scan.classes();
    if classes.len() > 50 || splits.is_empty() {
        return;
    }
    let _ = write!(o, "| class |");
    for (s, _) in &splits {
        let _ = write!(o, " {} |", cell(s.as_deref().unwrap_or("(all)")));
    }
    let _ = write!(o, "\n|---|");
    for _ in &splits {
        o.push_str("--:|");
    }
    o.push('\n');
    for c in &classes {
        let _ = write!(o, "| {} |", cell(c.as_deref().unwrap_or("(unlabeled)")));
        for (_, counts) in &splits {
            let _ = write!(o, " {} |", counts.get(c).copied().unwrap_or(0));
        }
        o.push('\n');
    }
    o.push('\n');
}
