//! The HTML report: one self-contained file (inline CSS, SVG charts drawn by
//! plotters, thumbnails as data: URIs), no script and no network, readable on a
//! laptop screen and in print.

mod charts;

use super::family;
use crate::finding::{Finding, Severity};
use crate::scanned::Scan;
use base64::Engine;
use charts::{bar_chart, histogram, shorten};
use std::fmt::Write;

/// Thumbnails per finding and per report: the file must stay small enough to open.
const THUMBS_PER_FINDING: usize = 12;
const THUMBS_PER_REPORT: usize = 240;
const THUMB_SIDE: u32 = 96;
/// Samples listed in text per finding.
const LISTED: usize = 50;
/// Drifting features drawn per comparison.
const DRIFT_CHARTS: usize = 4;

const STYLE: &str = r#"
:root { --fg:#1d2433; --muted:#5b6475; --line:#d9dee7; --err:#c62828; --warn:#b26a00; --info:#1565c0; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 6px; } h3.family { text-transform: capitalize; }
.muted { color: var(--muted); } code { font-size: 13px; background: #f3f5f9; padding: 1px 4px; border-radius: 3px; }
.summary { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0; }
.pill { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; }
.pill b { font-size: 18px; }
.error { color: var(--err); } .warning { color: var(--warn); } .info { color: var(--info); }
.badge { display: inline-block; min-width: 64px; text-align: center; font-size: 12px; font-weight: 600; color: #fff; border-radius: 4px; padding: 1px 6px; margin-right: 6px; }
.badge.error { background: var(--err); } .badge.warning { background: var(--warn); } .badge.info { background: var(--info); }
.finding { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; margin: 10px 0; break-inside: avoid; }
.finding p { margin: 6px 0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.charts figure { margin: 0; break-inside: avoid; }
.thumbs { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.thumbs figure { margin: 0; width: 112px; font-size: 11px; color: var(--muted); overflow-wrap: anywhere; }
.thumbs img { display: block; width: 96px; height: 96px; object-fit: contain; background: #eef1f6; border: 1px solid var(--line); image-rendering: pixelated; }
ul.samples { margin: 4px 0; padding-left: 20px; font-size: 13px; columns: 2; }
table.classes { border-collapse: collapse; font-size: 13px; }
table.classes td, table.classes th { border-bottom: 1px solid var(--line); padding: 2px 10px; text-align: right; }
table.classes td:first-child, table.classes th:first-child { text-align: left; }
@media print { body { max-width: none; padding: 0; font-size: 12px; } h2 { break-after: avoid; } ul.samples { columns: 1; } }
"#;

pub struct Html;

impl super::Render for Html {
    fn render(&self, reports: &super::Reports) -> String {
        render(reports.scans)
    }
}

pub fn render(scans: &[Scan]) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>dsaudit report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    );
    let mut budget = THUMBS_PER_REPORT;
    for scan in scans {
        dataset(scan, &mut budget, &mut o);
    }
    let _ = writeln!(
        o,
        "<p class=\"muted\">dsaudit {} · rules and thresholds: <code>dsaudit rules</code>, <code>dsaudit config</code></p>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    o
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn dataset(scan: &Scan, budget: &mut usize, o: &mut String) {
    let m = &scan.loaded.manifest;
    let _ = writeln!(
        o,
        "<h1>dsaudit · <code>{}</code></h1>\n<p class=\"muted\">{}</p>",
        esc(&scan.spec.input.display().to_string()),
        esc(scan.spec.layout.name())
    );
    let _ = writeln!(o, "<div class=\"summary\">");
    let pill = |o: &mut String, n: usize, what: &str, class: &str| {
        let _ = writeln!(
            o,
            "<div class=\"pill {class}\"><b>{n}</b> {}</div>",
            esc(what)
        );
    };
    pill(o, m.len(), "samples", "");
    pill(o, scan.unreadable(), "unreadable", "");
    pill(o, scan.count(Severity::Error), "errors", "error");
    pill(o, scan.count(Severity::Warning), "warnings", "warning");
    pill(o, scan.count(Severity::Info), "info", "info");
    let _ = writeln!(o, "</div>");
    for g in scan.guesses() {
        let _ = writeln!(o, "<p class=\"muted\">guessed: {}</p>", esc(g));
    }
    classes(scan, o);
    drift(scan, o);
    findings(scan, budget, o);
}

/// One bar chart of class counts per split, and the same numbers as a table.
fn classes(scan: &Scan, o: &mut String) {
    let splits = scan.splits_ordered();
    let names = scan.classes();
    let _ = writeln!(o, "<h2>Classes</h2>");
    if names.len() > 50 {
        let _ = writeln!(o, "<p>{} distinct labels: no class chart.</p>", names.len());
        return;
    }
    let label = |l: &Option<String>| l.clone().unwrap_or_else(|| "(unlabeled)".into());
    let _ = writeln!(o, "<div class=\"charts\">");
    for (split, counts) in &splits {
        let values: Vec<(String, u64)> = names
            .iter()
            .map(|c| (label(c), counts.get(c).copied().unwrap_or(0)))
            .collect();
        let title = format!(
            "{} ({} samples)",
            split.as_deref().unwrap_or("all"),
            counts.values().sum::<u64>()
        );
        let _ = writeln!(
            o,
            "<figure>{}</figure>",
            bar_chart(&title, &values)
                .unwrap_or_else(|e| format!("<p>chart failed: {}</p>", esc(&e)))
        );
    }
    let _ = writeln!(o, "</div>");
    let _ = write!(o, "<table class=\"classes\"><tr><th>class</th>");
    for (s, _) in &splits {
        let _ = write!(o, "<th>{}</th>", esc(s.as_deref().unwrap_or("(all)")));
    }
    let _ = writeln!(o, "</tr>");
    for c in &names {
        let _ = write!(o, "<tr><td>{}</td>", esc(&label(c)));
        for (_, counts) in &splits {
            let _ = write!(o, "<td>{}</td>", counts.get(c).copied().unwrap_or(0));
        }
        let _ = writeln!(o, "</tr>");
    }
    let _ = writeln!(o, "</table>");
}

/// Histograms of the most drifting numeric features, reference against current.
fn drift(scan: &Scan, o: &mut String) {
    let shift = &scan.shift;
    let _ = writeln!(o, "<h2>Distribution shift</h2>");
    if let Some(why) = &shift.skipped {
        let _ = writeln!(o, "<p>Not tested: {}</p>", esc(why));
        return;
    }
    let Some(features) = crate::shift::features::of(&scan.loaded) else {
        return;
    };
    let m = &scan.loaded.manifest;
    let split = m.strs("split");
    let errors = m.strs("error_kind");
    for c in &shift.comparisons {
        let _ = writeln!(
            o,
            "<h3>{} vs {}: {}</h3>",
            esc(&c.current),
            esc(&c.reference),
            esc(c.verdict.words())
        );
        for e in &c.evidence {
            let _ = writeln!(o, "<p class=\"muted\">{}</p>", esc(e));
        }
        if let Some(r) = &c.reused {
            let _ = writeln!(
                o,
                "<p class=\"muted\">Classifier and kernel tests: {}</p>",
                esc(r)
            );
        }
        let rows = |name: &str| -> Vec<usize> {
            (0..m.len())
                .filter(|&i| split.get(i) == Some(name) && errors.get(i).is_none())
                .collect()
        };
        let (ref_rows, cur_rows) = (rows(&c.reference), rows(&c.current));
        let _ = writeln!(o, "<div class=\"charts\">");
        drift_charts(c, &features, (&ref_rows, &cur_rows), o);
        let _ = writeln!(o, "</div>");
    }
}

/// Up to DRIFT_CHARTS histograms of one comparison's numeric features, the most
/// drifting first.
fn drift_charts(
    c: &crate::shift::Comparison,
    features: &crate::shift::features::Features,
    (ref_rows, cur_rows): (&[usize], &[usize]),
    o: &mut String,
) {
    let mut ranked: Vec<&crate::shift::FeatureDrift> = c.features.iter().collect();
    ranked.sort_by(|a, b| {
        b.drifting
            .cmp(&a.drifting)
            .then(b.effect.total_cmp(&a.effect))
            .then(a.feature.cmp(&b.feature))
    });
    let mut drawn = 0;
    let mut seen = std::collections::BTreeSet::new();
    // A feature with a spike row beside its KS row is drawn once.
    for f in ranked
        .into_iter()
        .filter(|f| seen.insert(f.feature.as_str()))
    {
        if drawn == DRIFT_CHARTS {
            break;
        }
        let Some(num) = features.numeric.iter().find(|n| n.name == f.feature) else {
            continue;
        };
        let values = |rows: &[usize]| -> Vec<f64> {
            rows.iter()
                .map(|&i| (num.get)(i))
                .filter(|v| v.is_finite())
                .collect()
        };
        let title = format!(
            "{} · {} {:.3}{}",
            shorten(&f.feature, 24),
            f.effect_name,
            f.effect,
            if f.drifting { " · drifting" } else { "" }
        );
        match histogram(
            &title,
            &values(ref_rows),
            &values(cur_rows),
            (&c.reference, &c.current),
        ) {
            Ok(svg) => {
                let _ = writeln!(o, "<figure>{svg}</figure>");
                drawn += 1;
            }
            Err(e) => {
                let _ = writeln!(o, "<p>chart failed: {}</p>", esc(&e));
            }
        }
    }
}

fn findings(scan: &Scan, budget: &mut usize, o: &mut String) {
    let _ = writeln!(o, "<h2>Findings</h2>");
    if let Some(r) = &scan.labels.reused {
        let _ = writeln!(
            o,
            "<p class=\"muted\">Label-error probabilities: {}</p>",
            esc(r)
        );
    }
    // Why the label search listed nothing, or what model it took: in the text
    // report's `labels` line, and here too, where no finding would say it.
    for n in &scan.labels.notes {
        let _ = writeln!(o, "<p class=\"muted\">Label-error search: {}</p>", esc(n));
    }
    if scan.findings.is_empty() {
        let _ = writeln!(o, "<p>No findings.</p>");
        return;
    }
    for (fam, group) in family::grouped(&scan.findings) {
        let _ = writeln!(o, "<h3 class=\"family\">{fam}</h3>");
        for f in group {
            finding(scan, f, budget, o);
        }
    }
}

fn finding(scan: &Scan, f: &Finding, budget: &mut usize, o: &mut String) {
    let sev = f.severity.as_str();
    let _ = writeln!(
        o,
        "<div class=\"finding\">\n<p><span class=\"badge {sev}\">{sev}</span><b>{}</b> <code>{}</code> {}</p>",
        f.code,
        f.rule,
        esc(&f.message)
    );
    if scan.spec.layout.is_image() {
        thumbs(scan, f, budget, o);
    }
    if f.sample_count > 0 {
        let _ = writeln!(
            o,
            "<details><summary>{} sample{}</summary><ul class=\"samples\">",
            f.sample_count,
            if f.sample_count == 1 { "" } else { "s" }
        );
        for s in f.samples.iter().take(LISTED) {
            let note = s
                .note
                .as_deref()
                .map(|n| format!(" — {}", esc(n)))
                .unwrap_or_default();
            let _ = writeln!(o, "<li><code>{}</code>{note}</li>", esc(&s.display()));
        }
        if f.sample_count as usize > LISTED.min(f.samples.len()) {
            let _ = writeln!(
                o,
                "<li>… and {} more</li>",
                f.sample_count as usize - LISTED.min(f.samples.len())
            );
        }
        let _ = writeln!(o, "</ul></details>");
    }
    let _ = writeln!(o, "<p class=\"muted\">Fix: {}</p>\n</div>", esc(&f.fix));
}

/// Thumbnails of the finding's first images, captioned with their path and note
/// (a duplicate's cluster, a label issue's given and suggested labels).
fn thumbs(scan: &Scan, f: &Finding, budget: &mut usize, o: &mut String) {
    let mut opened = false;
    for s in f.samples.iter().take(THUMBS_PER_FINDING) {
        if *budget == 0 {
            break;
        }
        // Only a sample the load read: never a file it refused (a FIFO, a path
        // outside the dataset, one over the size limit).
        let refused = scan
            .loaded
            .manifest
            .strs("error_kind")
            .get(s.id as usize)
            .is_some();
        if refused {
            continue;
        }
        let Some(uri) = thumbnail(&scan.spec.root.join(&s.source)) else {
            continue;
        };
        if !opened {
            let _ = writeln!(o, "<div class=\"thumbs\">");
            opened = true;
        }
        *budget -= 1;
        let caption = match &s.note {
            Some(n) => format!("{}<br>{}", esc(&s.source), esc(n)),
            None => esc(&s.source),
        };
        let _ = writeln!(
            o,
            "<figure><img src=\"{uri}\" alt=\"{}\"><figcaption>{caption}</figcaption></figure>",
            esc(&s.source)
        );
    }
    if opened {
        let _ = writeln!(o, "</div>");
    }
}

/// A PNG data: URI of the image scaled to fit 96×96; None when it does not decode.
fn thumbnail(path: &std::path::Path) -> Option<String> {
    let bytes = crate::safe_read::read(path).ok()?;
    let format = image::guess_format(&bytes).ok()?;
    let (img, _held) = crate::load::decode_budget::decode(&bytes, format).ok()?;
    let small = if img.width() > THUMB_SIDE || img.height() > THUMB_SIDE {
        img.thumbnail(THUMB_SIDE, THUMB_SIDE)
    } else {
        img
    };
    let rgba = image::DynamicImage::ImageRgba8(small.to_rgba8());
    let mut png = Vec::new();
    rgba.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .ok()?;
    Some(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&png)
    ))
}
