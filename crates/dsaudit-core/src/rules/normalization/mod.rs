//! Normalization: inputs on the wrong scale, and images whose size, mode or exposure
//! will trip a training pipeline.

pub mod constant_column;
pub mod heavy_skew;
pub mod high_cardinality;
pub mod image_quality;
pub mod mixed_bit_depths;
pub mod mixed_image_sizes;
pub mod mixed_modes;
pub mod mixed_types;
pub mod not_standardized;
pub mod odd_aspect_ratio;
pub mod scale_mismatch;
pub mod unnormalized_array;

use crate::finding::{Finding, SampleRef};
use crate::load::columns::ColumnStats;
use crate::rules::{Context, Rule};
use crate::stats::numeric::NumericStats;

pub use crate::load::pixel_stats::BLANK_CONTRAST;

/// Per-sample lists stop here; `sample_count` stays exact.
pub const MAX_LISTED: usize = 1000;

/// Whether no sample has a value in `column`: a table's manifest has none of the
/// image measures, and the image rules, which could then find nothing, skip their
/// pass over every row (six of them took 0.17 s of a million-row table's scan).
pub(crate) fn all_null<T: polars::prelude::PolarsDataType>(
    column: &polars::prelude::ChunkedArray<T>,
) -> bool {
    column.null_count() == column.len()
}

/// Numeric columns with at least one finite value (a regression target among them:
/// `feature_columns` leaves it out).
pub(crate) fn numeric_columns<'a>(
    ctx: &'a Context,
) -> impl Iterator<Item = (&'a ColumnStats, &'a NumericStats)> {
    ctx.loaded.columns.iter().filter_map(|c| {
        c.numeric
            .as_ref()
            .filter(|n| n.moments.n > 0)
            .map(|n| (c, n))
    })
}

/// Numeric feature columns with at least one finite value: `numeric_columns` less a
/// regression target, which is described with the features but is not one: its scale
/// says nothing of how the features were scaled (scikit-learn's diabetes table, its
/// features scaled and its target raw, was called 1,619× out of scale).
pub(crate) fn feature_columns<'a>(
    ctx: &'a Context,
) -> impl Iterator<Item = (&'a ColumnStats, &'a NumericStats)> {
    let target = ctx.loaded.regression_target.as_deref();
    numeric_columns(ctx).filter(move |(c, _)| Some(c.name.as_str()) != target)
}

/// Readable images whose `column` value satisfies `flagged`, worst first (by `worse`),
/// each noted with `note(value)`.
pub(crate) fn flag_images(
    rule: &dyn Rule,
    ctx: &Context,
    column: &str,
    flagged: impl Fn(f64) -> bool,
    low_is_worse: bool,
    note: impl Fn(f64) -> String,
    message: impl Fn(usize, usize) -> String,
) -> Vec<Finding> {
    let m = &ctx.loaded.manifest;
    let values = m.f64s(column);
    if all_null(values) {
        return Vec::new();
    }
    // Blank images are blank-image's alone: every other measure is degenerate on them.
    let contrast = m.f64s("contrast");
    let errors = m.strs("error_kind");
    let blank = |i: usize| {
        errors.get(i).is_some()
            || (column != "contrast" && contrast.get(i).is_some_and(|c| c < BLANK_CONTRAST))
    };
    let mut hits: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter(|(i, _)| !blank(*i))
        .filter_map(|(i, v)| v.filter(|&v| flagged(v)).map(|v| (i, v)))
        .collect();
    if hits.is_empty() {
        return Vec::new();
    }
    hits.sort_by(|a, b| {
        let o = a.1.total_cmp(&b.1);
        (if low_is_worse { o } else { o.reverse() }).then(a.0.cmp(&b.0))
    });
    let readable = values.len() - values.null_count();
    let total = hits.len();
    let samples: Vec<SampleRef> = hits
        .iter()
        .take(MAX_LISTED)
        .map(|&(i, v)| {
            let mut r = m.sample_ref(i);
            r.note = Some(note(v));
            r
        })
        .collect();
    vec![Finding::new(rule.meta(), message(total, readable))
        .evidence("count", total)
        .evidence(
            "share",
            crate::util::round4(total as f64 / readable.max(1) as f64),
        )
        .with_examples(samples, total as u64)]
}

/// The most common value, every value's count, examples of the others, their count.
pub(crate) type Minority = (String, Vec<(String, u64)>, Vec<SampleRef>, u64);

/// Readable images whose value in a categorical manifest column differs from the most
/// common one; None when all agree.
pub(crate) fn minority(ctx: &Context, key: impl Fn(usize) -> Option<String>) -> Option<Minority> {
    let m = &ctx.loaded.manifest;
    let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
    let errors = m.strs("error_kind");
    let keys: Vec<Option<String>> = (0..m.len())
        .map(|i| {
            if errors.get(i).is_some() {
                None
            } else {
                key(i)
            }
        })
        .collect();
    for k in keys.iter().flatten() {
        *counts.entry(k.clone()).or_insert(0) += 1;
    }
    if counts.len() < 2 {
        return None;
    }
    let mut hist: Vec<(String, u64)> = counts.into_iter().collect();
    hist.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let common = hist[0].0.clone();
    let odd: Vec<usize> = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| k.as_ref().is_some_and(|k| *k != common))
        .map(|(i, _)| i)
        .collect();
    let total = odd.len() as u64;
    let samples = odd
        .into_iter()
        .take(MAX_LISTED)
        .map(|i| {
            let mut r = m.sample_ref(i);
            r.note = keys[i].clone();
            r
        })
        .collect();
    Some((common, hist, samples, total))
}

pub(crate) fn hist_json(hist: &[(String, u64)]) -> serde_json::Value {
    serde_json::Value::Object(hist.iter().map(|(k, v)| (k.clone(), (*v).into())).collect())
}

pub(crate) fn fmt_num(x: f64) -> String {
    if x == 0.0 || (x.abs() >= 1e-3 && x.abs() < 1e6) {
        format!("{}", (x * 1e4).round() / 1e4)
    } else {
        format!("{x:.3e}")
    }
}
