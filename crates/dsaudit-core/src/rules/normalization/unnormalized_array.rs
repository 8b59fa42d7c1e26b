use super::fmt_num;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};
use crate::stats::numeric::NumericStats;

pub struct UnnormalizedArray;

/// How the values of a feature array look: already normalized, or raw.
pub fn classify(n: &NumericStats) -> &'static str {
    let m = &n.moments;
    if m.n == 0 {
        "empty"
    } else if m.min >= 0.0 && m.max <= 1.0 {
        "scaled to [0, 1]"
    } else if m.min >= -1.0 && m.max <= 1.0 {
        "scaled to [-1, 1]"
    } else if super::not_standardized::looks_standardized(m.mean, m.std()) {
        "standardized"
    } else if m.min >= 0.0 && m.max <= 255.0 && n.sketch.all_integral() {
        "raw 0-255"
    } else {
        "unnormalized"
    }
}

pub const META: RuleMeta = RuleMeta {
    code: "N007",
    name: "unnormalized-array",
    severity: Severity::Warning,
    summary: "The values of a NumPy feature array look raw, not normalized.",
    doc: "**What it finds.** For the npy layout, the range and moments over every value of the X arrays, classified as scaled to [0, 1], scaled to [-1, 1], standardized (mean within 0.1 of 0, std within 10% of 1), raw 0-255 (whole numbers in 0..255, i.e. pixels never scaled), or otherwise unnormalized. The last two are flagged.\n\n\
             **Why it matters.** Feeding 0-255 pixels into a network initialised for unit-scale inputs saturates activations and makes the usual learning rates far too large: the classic 'images never scaled' bug.\n\n\
             **Example.** `X values look raw 0-255 (min 0, max 255, mean 33.3): divide by 255`.",
    thresholds: &[],
    fix: "Divide pixel arrays by 255 (or by the format's maximum), or standardize with the training split's mean and std.",
};

impl Rule for UnnormalizedArray {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let Some(n) = &ctx.loaded.array_values else {
            return Vec::new();
        };
        let kind = classify(n);
        if !matches!(kind, "raw 0-255" | "unnormalized") {
            return Vec::new();
        }
        let m = &n.moments;
        let advice = if kind == "raw 0-255" {
            "divide by 255"
        } else {
            "standardize with the training statistics"
        };
        vec![Finding::new(
            self.meta(),
            format!(
                "X values look {kind} (min {}, max {}, mean {}, std {}): {advice}",
                fmt_num(m.min),
                fmt_num(m.max),
                fmt_num(m.mean),
                fmt_num(m.std())
            ),
        )
        .evidence("kind", kind)
        .evidence("min", m.min)
        .evidence("max", m.max)
        .evidence("mean", m.mean)
        .evidence("std", m.std())]
    }
}
