//! The statistics section: normalization constants, image histograms and per-column
//! summaries. In every JSON report, and on its own from `dsaudit stats`.

use crate::load::columns::ColumnStats;
use crate::rules::normalization::unnormalized_array::classify;
use crate::scanned::Scan;
use crate::stats::images::{image_stats, ChannelStats, ImageStats};
use crate::stats::numeric::QUANTILES;
use serde_json::{json, Value};
use std::fmt::Write;

/// The constants a training script should use: the train split's, else all images'.
pub fn normalize_constants(s: &ImageStats) -> Option<&ChannelStats> {
    s.channels
        .iter()
        .find(|c| c.split.as_deref() == Some("train"))
        .or_else(|| s.channels.iter().find(|c| c.split.is_none()))
        .or(s.channels.first())
}

fn column_json(c: &ColumnStats) -> Value {
    let mut v = json!({ "name": c.name, "dtype": c.dtype, "count": c.count, "nulls": c.nulls, "nan": c.nan, "inf": c.inf });
    if let Some(n) = &c.numeric {
        let m = &n.moments;
        let finite = m.n > 0;
        v["finite"] = json!(m.n);
        v["mean"] = json!(finite.then_some(m.mean));
        v["std"] = json!(finite.then(|| m.std()));
        v["min"] = json!(finite.then_some(m.min));
        v["max"] = json!(finite.then_some(m.max));
        v["zeros"] = json!(m.zeros);
        v["skewness"] = json!(finite.then(|| m.skewness()));
        v["quantiles"] = Value::Object(
            QUANTILES
                .iter()
                .map(|&q| (format!("p{}", (q * 100.0).round()), json!(n.quantile(q))))
                .collect(),
        );
        v["quantiles_exact"] = json!(n.sketch.exact());
        if !n.sketch.exact() {
            // The sketch's bound: no quantile's rank is off by more (a share of the values).
            v["quantiles_rank_error"] = json!(bound(n.sketch.rank_error()));
        }
    }
    if let Some(s) = &c.strings {
        v["n_unique"] = json!(s.n_unique);
        if s.estimated {
            // Merged from blocks whose distinct values were more than their sketches hold.
            v["n_unique_estimated"] = json!(true);
        }
        v["numeric_share"] = json!(s.numeric_share);
    }
    v
}

pub fn json(scan: &Scan) -> Value {
    let images = image_stats(&scan.loaded.manifest);
    let normalize = images
        .as_ref()
        .and_then(normalize_constants)
        .map(|c| json!({ "split": c.split, "mean": c.mean, "std": c.std }));
    let array = scan.loaded.array_values.as_ref().map(|n| {
        let m = &n.moments;
        json!({ "kind": classify(n), "count": m.n, "min": m.min, "max": m.max, "mean": m.mean, "std": m.std() })
    });
    json!({
        "normalize": normalize,
        "images": images,
        "array": array,
        "columns": scan.loaded.columns.iter().map(column_json).collect::<Vec<_>>(),
    })
}

fn list3(v: [f64; 3]) -> String {
    format!("[{:.4}, {:.4}, {:.4}]", v[0], v[1], v[2])
}

fn hist_line<K: std::fmt::Display>(h: &[(K, u64)], max: usize) -> String {
    let mut parts: Vec<String> = h
        .iter()
        .take(max)
        .map(|(k, n)| format!("{k} ({n})"))
        .collect();
    if h.len() > max {
        parts.push(format!("and {} more", h.len() - max));
    }
    parts.join(", ")
}

fn num(x: Option<f64>) -> String {
    match x {
        Some(v) => crate::rules::normalization::fmt_num(v),
        None => "-".into(),
    }
}

pub fn text(scan: &Scan) -> String {
    let mut o = String::new();
    if let Some(s) = image_stats(&scan.loaded.manifest) {
        image_lines(&s, &mut o);
    }
    if let Some(n) = &scan.loaded.array_values {
        let m = &n.moments;
        let _ = writeln!(
            o,
            "Array values: {} (min {}, max {}, mean {}, std {})",
            classify(n),
            num(Some(m.min)),
            num(Some(m.max)),
            num(Some(m.mean)),
            num(Some(m.std()))
        );
    }
    numeric_table(&scan.loaded.columns, &mut o);
    for c in scan.loaded.columns.iter().filter(|c| c.strings.is_some()) {
        let s = c.strings.as_ref().unwrap();
        let _ = writeln!(
            o,
            "  {:<10} text, {}{} distinct values, {} missing",
            c.name,
            if s.estimated { "about " } else { "" },
            s.n_unique,
            c.nulls
        );
    }
    o
}

/// The image statistics: per-channel constants, sizes, aspect ratios, modes, depths.
fn image_lines(s: &ImageStats, o: &mut String) {
    let _ = writeln!(
        o,
        "Per-channel mean and std (RGB, 0-1 units, over every pixel of the readable images):"
    );
    for c in &s.channels {
        let _ = writeln!(
            o,
            "  {:<8} mean {}  std {}  ({} images)",
            c.split.as_deref().unwrap_or("all"),
            list3(c.mean),
            list3(c.std),
            c.images
        );
    }
    if let Some(c) = normalize_constants(s) {
        let _ = writeln!(
            o,
            "  paste: transforms.Normalize(mean={}, std={})  # {} split",
            list3(c.mean),
            list3(c.std),
            c.split.as_deref().unwrap_or("all")
        );
    }
    let _ = writeln!(o, "Sizes: {}", hist_line(&s.sizes, 5));
    let _ = writeln!(o, "Aspect ratios (w/h): {}", hist_line(&s.aspect_ratios, 5));
    let _ = writeln!(o, "Modes: {}", hist_line(&s.modes, 5));
    let bits: Vec<(String, u64)> = s
        .bit_depths
        .iter()
        .map(|(b, n)| (format!("{b}-bit"), *n))
        .collect();
    let _ = writeln!(o, "Bit depths: {}", hist_line(&bits, 5));
}

/// One line per numeric column: moments, median, skew, missing values.
fn numeric_table(columns: &[ColumnStats], o: &mut String) {
    let numeric: Vec<&ColumnStats> = columns.iter().filter(|c| c.numeric.is_some()).collect();
    if numeric.is_empty() {
        return;
    }
    let w = numeric
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(
        o,
        "  {:<w$} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8}",
        "column", "mean", "std", "min", "median", "max", "skew", "missing"
    );
    for c in numeric {
        let n = c.numeric.as_ref().unwrap();
        let m = &n.moments;
        let f = m.n > 0;
        let _ = writeln!(
            o,
            "  {:<w$} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8}",
            c.name,
            num(f.then_some(m.mean)),
            num(f.then(|| m.std())),
            num(f.then_some(m.min)),
            num(n.quantile(0.5)),
            num(f.then_some(m.max)),
            num(f.then(|| m.skewness())),
            c.nulls + c.nan + c.inf
        );
    }
}

/// A bound for a report: two significant digits, rounded up (it stays a bound).
fn bound(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x;
    }
    let unit = 10f64.powi(x.log10().floor() as i32 - 1);
    let up = (x / unit - 1e-9).ceil() * unit;
    format!("{up:.1e}").parse().unwrap_or(up)
}
