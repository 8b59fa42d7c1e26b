//! The terminal report: what was scanned and guessed, the class table, then the
//! findings worst first, each with its samples capped at `max_samples`.

use crate::choice::Choice;
use crate::finding::{Finding, Severity};
use crate::scanned::Scan;
use crate::tally::ClassCounts;
use crate::util::printable;
use std::fmt::Write;

pub struct Text;

impl super::Render for Text {
    fn render(&self, reports: &super::Reports) -> String {
        reports
            .scans
            .iter()
            .map(|s| render(s, reports.max_samples))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

pub fn render(scan: &Scan, max_samples: usize) -> String {
    let mut o = String::new();
    let m = &scan.loaded.manifest;
    header(scan, &mut o);
    o.push('\n');
    class_table(scan, &mut o);
    if let Some(c) = crate::stats::images::image_stats(m)
        .as_ref()
        .and_then(super::stats::normalize_constants)
    {
        let f = |v: [f64; 3]| format!("[{:.4}, {:.4}, {:.4}]", v[0], v[1], v[2]);
        let _ = writeln!(
            o,
            "\nnormalize  mean={} std={}  ({} split; `dsaudit stats` for more)",
            f(c.mean),
            f(c.std),
            c.split.as_deref().unwrap_or("all")
        );
    }
    shift(scan, &mut o);
    labels(scan, &mut o);
    o.push('\n');
    let (e, w, i) = (
        scan.count(Severity::Error),
        scan.count(Severity::Warning),
        scan.count(Severity::Info),
    );
    if scan.findings.is_empty() {
        let _ = writeln!(o, "No findings.");
    } else {
        let _ = writeln!(
            o,
            "{} findings: {e} errors, {w} warnings, {i} info",
            scan.findings.len()
        );
    }
    for f in &scan.findings {
        finding(f, max_samples, &mut o);
    }
    let _ = writeln!(o, "\nscanned in {:.2} s", scan.elapsed.as_secs_f64());
    o
}

/// What was scanned: version, path, layout, guesses, sample count.
fn header(scan: &Scan, o: &mut String) {
    let _ = writeln!(
        o,
        "dsaudit {} · {}",
        env!("CARGO_PKG_VERSION"),
        scan.spec.input.display()
    );
    let _ = writeln!(o, "layout   {}", scan.spec.layout.name());
    for g in scan.guesses() {
        let _ = writeln!(o, "guessed  {g}");
    }
    let _ = writeln!(
        o,
        "samples  {} ({} unreadable){}{}",
        scan.samples(),
        scan.unreadable(),
        match scan.loaded.tally {
            Some(_) => format!(", row checks on a sample of {}", scan.loaded.manifest.len()),
            None => String::new(),
        },
        if scan.loaded.ignored_files.is_empty() {
            String::new()
        } else {
            format!(", {} other files ignored", scan.loaded.ignored_files.len())
        }
    );
}

/// One finding with its listed samples and its fix.
fn finding(f: &Finding, max_samples: usize, o: &mut String) {
    o.push('\n');
    let _ = writeln!(
        o,
        "{}[{}] {}: {}",
        f.severity.as_str(),
        f.code,
        f.rule,
        f.message
    );
    for s in f.samples.iter().take(max_samples) {
        match &s.note {
            Some(n) => {
                let _ = writeln!(o, "    {}  ({})", s.display(), printable(n));
            }
            None => {
                let _ = writeln!(o, "    {}", s.display());
            }
        }
    }
    let shown = f.samples.len().min(max_samples) as u64;
    if f.sample_count > shown {
        let _ = writeln!(o, "    ... and {} more", f.sample_count - shown);
    }
    let _ = writeln!(o, "  fix: {}", f.fix);
}

/// A stored text report with its timing line(s) saying where it came from.
pub fn from_cache(stored: &str, took: std::time::Duration) -> String {
    stored
        .lines()
        .map(|l| {
            if l.starts_with("scanned in ") {
                format!(
                    "scanned in {:.2} s (nothing changed since the last check: the results are the cache's)",
                    took.as_secs_f64()
                )
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect()
}

/// One line per compared split with the verdict, then the numbers behind it.
fn shift(scan: &Scan, o: &mut String) {
    let s = &scan.shift;
    if let Some(why) = &s.skipped {
        let _ = writeln!(o, "\nshift    not tested: {why}");
        return;
    }
    // Against a saved profile, the reference split is the profile's samples.
    let profile = match &s.against {
        Some(parts) => format!(" (the saved profile {})", printable(&parts.join(", "))),
        None => String::new(),
    };
    for c in &s.comparisons {
        let _ = writeln!(
            o,
            "\nshift    '{}' vs '{}'{profile}: {}",
            printable(&c.current),
            printable(&c.reference),
            c.verdict.words()
        );
        for e in &c.evidence {
            let _ = writeln!(o, "         {e}");
        }
        if let Some(r) = &c.reused {
            let _ = writeln!(o, "         classifier and kernel tests: {r}");
        }
    }
}

/// What confident learning and the outlier search found, in two lines.
fn labels(scan: &Scan, o: &mut String) {
    let l = &scan.labels;
    match &l.skipped {
        Some(why) => {
            let _ = writeln!(o, "\nlabels   not checked: {why}");
        }
        None => {
            let noisiest = l.noise.iter().max_by(|a, b| {
                a.noise_rate
                    .total_cmp(&b.noise_rate)
                    .then(b.class.cmp(&a.class))
            });
            let _ = writeln!(
                o,
                "\nlabels   {} of {} scored flagged ({}); out-of-sample accuracy {:.2}{}",
                l.issues,
                l.scored,
                l.method.name(),
                l.accuracy,
                noisiest
                    .filter(|c| c.noise_rate > 0.0)
                    .map(|c| format!(
                        "; noisiest class '{}' ~{:.1}%",
                        c.class,
                        100.0 * c.noise_rate
                    ))
                    .unwrap_or_default()
            );
            for n in &l.notes {
                let _ = writeln!(o, "         {n}");
            }
            if let Some(r) = &l.reused {
                let _ = writeln!(o, "         probabilities: {r}");
            }
        }
    }
    match (&l.outliers, &l.outliers_skipped) {
        (Some(x), _) => {
            let _ = writeln!(
                o,
                "outliers {} {} mean distance to the {} nearest neighbours above {:.3} (Q3 + {} × IQR)",
                x.outliers,
                if x.outliers == 1 { "sample has its" } else { "samples have their" },
                x.k,
                x.cutoff,
                x.iqr
            );
        }
        (None, Some(why)) if l.skipped.as_deref() != Some(why.as_str()) => {
            let _ = writeln!(o, "outliers not checked: {why}");
        }
        _ => {}
    }
}

/// A detection set's table: boxes per class and split, then the boxes' and the
/// images' totals.
fn box_table(scan: &Scan, boxes: &[(Option<String>, ClassCounts)], o: &mut String) {
    let images = scan.splits_ordered();
    let mut classes: Vec<Option<String>> =
        boxes.iter().flat_map(|(_, c)| c.keys().cloned()).collect();
    classes.sort_by(|a, b| (a.is_none(), a).cmp(&(b.is_none(), b)));
    classes.dedup();
    let name = |l: &Option<String>| printable(l.as_deref().unwrap_or("(unknown id)")).into_owned();
    let w = classes
        .iter()
        .map(|c| name(c).chars().count())
        .chain([13])
        .max()
        .unwrap_or(13);
    let _ = write!(o, "  {:<w$}", "class (boxes)");
    for (s, _) in &images {
        let _ = write!(o, " {:>8}", printable(s.as_deref().unwrap_or("(all)")));
    }
    o.push('\n');
    let in_split = |s: &Option<String>, c: &Option<String>| {
        boxes
            .iter()
            .find(|(b, _)| b == s)
            .and_then(|(_, counts)| counts.get(c).copied())
            .unwrap_or(0)
    };
    let rows = classes.iter().take(50).map(|c| (name(c), Some(c)));
    let rows = rows.chain([("boxes".to_string(), None)]);
    for (label, class) in rows {
        let _ = write!(o, "  {label:<w$}");
        for (s, _) in &images {
            let n = match class {
                Some(c) => in_split(s, c),
                None => classes.iter().map(|c| in_split(s, c)).sum(),
            };
            let _ = write!(o, " {n:>8}");
        }
        o.push('\n');
    }
    let _ = write!(o, "  {:<w$}", "images");
    for (_, counts) in &images {
        let _ = write!(o, " {:>8}", counts.values().sum::<u64>());
    }
    o.push('\n');
}

fn class_table(scan: &Scan, o: &mut String) {
    if let Some(target) = &scan.loaded.regression_target {
        let _ = writeln!(
            o,
            "target   {} is continuous: a regression task, no classes",
            printable(target)
        );
        return;
    }
    if let Some(boxes) = scan.box_tally() {
        return box_table(scan, &boxes, o);
    }
    let splits = scan.splits_ordered();
    let classes = scan.classes();
    // A table of a million distinct regression targets is no class table.
    if classes.len() > 50 {
        let _ = writeln!(o, "{} distinct labels (table omitted)", classes.len());
        for (s, c) in &splits {
            let _ = writeln!(
                o,
                "  {:<10} {:>8}",
                s.as_deref().unwrap_or("(all)"),
                c.values().sum::<u64>()
            );
        }
        return;
    }
    let name = |l: &Option<String>| printable(l.as_deref().unwrap_or("(unlabeled)")).into_owned();
    let w = classes
        .iter()
        .map(|c| name(c).chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = write!(o, "  {:<w$}", "class");
    for (s, _) in &splits {
        let _ = write!(o, " {:>8}", printable(s.as_deref().unwrap_or("(all)")));
    }
    o.push('\n');
    let class_total = |c: &Option<String>| {
        splits
            .iter()
            .map(|(_, counts)| counts.get(c).copied().unwrap_or(0))
            .sum::<u64>()
    };
    let max = classes.iter().map(class_total).max().unwrap_or(1).max(1);
    for c in &classes {
        let _ = write!(o, "  {:<w$}", name(c));
        for (_, counts) in &splits {
            let _ = write!(o, " {:>8}", counts.get(c).copied().unwrap_or(0));
        }
        // The bar shows each class's share of the largest class, all splits together.
        let bar = ((class_total(c) as f64 / max as f64) * 20.0).round() as usize;
        let _ = writeln!(o, "  {}", "█".repeat(bar).trim_end());
    }
    let _ = write!(o, "  {:<w$}", "total");
    for (_, counts) in &splits {
        let _ = write!(o, " {:>8}", counts.values().sum::<u64>());
    }
    o.push('\n');
}
