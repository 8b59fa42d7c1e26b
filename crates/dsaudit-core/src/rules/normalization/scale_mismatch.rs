use super::{feature_columns, fmt_num};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta, Threshold};
use crate::util::round4;

pub struct ScaleMismatch;

pub const META: RuleMeta = RuleMeta {
    code: "N001",
    name: "scale-mismatch",
    severity: Severity::Warning,
    summary: "Numeric features live on very different scales.",
    doc: "**What it finds.** The ratio of the largest to the smallest standard deviation among numeric feature columns that are neither constant nor near-constant (N004's `max-top-share`: their spread says how rare their other values are, not their scale), label and split columns excluded, and a regression target, whose scale is the task's, not the features'. Flagged above `max-std-ratio`.\n\n\
             **Why it matters.** Gradient descent on unscaled inputs zig-zags: the large feature dominates the first layer's updates and the learning rate that suits it is far too small for the others. Distance-based models (k-NN, k-means, RBF kernels) effectively ignore the small features. A ratio of 100 is two orders of magnitude, beyond what weight initialisation can absorb.\n\n\
             **Example.** `feature scales differ 1000×: 'income' (std 21,000) vs 'rooms' (std 1.2)`.",
    thresholds: &[Threshold {
        key: "max-std-ratio",
        default: 100.0,
        doc: "largest / smallest feature std above which scales are flagged",
    }],
    fix: "Standardize every numeric feature with the training split's mean and std (sklearn StandardScaler), or min-max scale it; fit the scaler on train only.",
};

impl Rule for ScaleMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let max_ratio = ctx.threshold(self, "max-std-ratio");
        // A near-constant column's spread says how rare its other values are, not
        // what scale it is on (scikit-learn's digits as a table: every pixel column
        // 0-16, a corner's std 0.02 against 6.5 in the middle, called 277x apart);
        // N004 names those columns.
        let max_top = ctx.threshold(&super::constant_column::ConstantColumn, "max-top-share");
        let mut cols: Vec<(&str, f64)> = feature_columns(ctx)
            .filter(|(_, n)| n.moments.n < 20 || n.sketch.top_share() < max_top)
            .map(|(c, n)| (c.name.as_str(), n.moments.std()))
            .filter(|(_, s)| *s > 0.0 && s.is_finite())
            .collect();
        if cols.len() < 2 {
            return Vec::new();
        }
        cols.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        let (big, small) = (cols[0], cols[cols.len() - 1]);
        let ratio = big.1 / small.1;
        if ratio <= max_ratio {
            return Vec::new();
        }
        let stds: serde_json::Map<String, serde_json::Value> = cols
            .iter()
            .map(|(n, s)| (n.to_string(), round4(*s).into()))
            .collect();
        vec![Finding::new(
            self.meta(),
            format!(
                "feature scales differ {ratio:.0}×: '{}' (std {}) vs '{}' (std {})",
                big.0,
                fmt_num(big.1),
                small.0,
                fmt_num(small.1)
            ),
        )
        .evidence("ratio", round4(ratio))
        .evidence("largest", big.0.to_string())
        .evidence("smallest", small.0.to_string())
        .evidence("stds", serde_json::Value::Object(stds))]
    }
}
