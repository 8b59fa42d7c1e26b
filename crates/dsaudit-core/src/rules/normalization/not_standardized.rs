use super::{feature_columns, fmt_num};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct NotStandardized;

/// Mean within 0.1 of 0 and std within 10% of 1.
pub fn looks_standardized(mean: f64, std: f64) -> bool {
    mean.abs() <= 0.1 && (std - 1.0).abs() <= 0.1
}

pub const META: RuleMeta = RuleMeta {
    code: "N002",
    name: "not-standardized",
    severity: Severity::Warning,
    summary: "Most features are standardized but some are not.",
    doc: "**What it finds.** When at least half of the non-constant numeric features (a regression target is not one: targets are commonly left raw) look standardized (mean within 0.1 of 0, std within 10% of 1), the features that do not: not centred, not scaled, or neither.\n\n\
             **Why it matters.** It is the signature of a preprocessing step that skipped some columns (a column list out of date, a feature added later), so those columns reach the model raw.\n\n\
             **Example.** `5 of 6 features are standardized, 'age' is not (mean 41.3, std 12.9)`.",
    thresholds: &[],
    fix: "Apply the same scaler to these columns, fitted on the training split.",
};

impl Rule for NotStandardized {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let cols: Vec<(&str, f64, f64)> = feature_columns(ctx)
            .map(|(c, n)| (c.name.as_str(), n.moments.mean, n.moments.std()))
            .filter(|c| c.2 > 0.0)
            .collect();
        let standardized = cols.iter().filter(|c| looks_standardized(c.1, c.2)).count();
        if cols.len() < 2 || standardized * 2 < cols.len() || standardized == cols.len() {
            return Vec::new();
        }
        cols.iter()
            .filter(|c| !looks_standardized(c.1, c.2))
            .map(|(name, mean, std)| {
                let what = match (mean.abs() > 0.1, (std - 1.0).abs() > 0.1) {
                    (true, true) => "neither centred nor scaled",
                    (true, false) => "not centred",
                    _ => "not scaled",
                };
                Finding::new(
                    self.meta(),
                    format!("{standardized} of {} features are standardized, '{name}' is {what} (mean {}, std {})", cols.len(), fmt_num(*mean), fmt_num(*std)),
                )
                .evidence("column", name.to_string())
                .evidence("mean", *mean)
                .evidence("std", *std)
            })
            .collect()
    }
}
