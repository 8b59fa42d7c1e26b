use super::{fmt_num, numeric_columns};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta, Threshold};
use crate::util::round4;

pub struct HeavySkew;

pub const META: RuleMeta = RuleMeta {
    code: "N003",
    name: "heavy-skew",
    severity: Severity::Info,
    summary: "A numeric feature is heavily skewed.",
    doc: "**What it finds.** Numeric features (at least 20 finite values) whose sample skewness (g1, as `scipy.stats.skew`) exceeds `max-abs-skew` in absolute value. A common rule of thumb calls |skew| > 1 highly skewed; 2 keeps the report to the columns where a transform clearly helps.\n\n\
             **Why it matters.** A long tail squeezes most values into a sliver of the standardized range, so the model sees little variation where most data is, and the few extreme values dominate the loss.\n\n\
             **Example.** `column 'price' has skewness 6.8 (min 0): try log1p`.",
    thresholds: &[Threshold {
        key: "max-abs-skew",
        default: 2.0,
        doc: "absolute skewness above which a feature is flagged",
    }],
    fix: "Transform before scaling: log1p for non-negative values, Yeo-Johnson (sklearn PowerTransformer) otherwise, or quantile-transform.",
};

impl Rule for HeavySkew {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let max = ctx.threshold(self, "max-abs-skew");
        numeric_columns(ctx)
            // Near-constant columns are skewed by construction; constant-column reports them.
            .filter(|(_, n)| n.moments.n >= 20 && n.sketch.top_share() < 0.99)
            .filter_map(|(c, n)| {
                let skew = n.moments.skewness();
                if skew.abs() <= max {
                    return None;
                }
                let advice = if n.moments.min >= 0.0 {
                    "try log1p"
                } else {
                    "try a Yeo-Johnson transform"
                };
                Some(
                    Finding::new(
                        self.meta(),
                        format!(
                            "column '{}' has skewness {} (min {}): {advice}",
                            c.name,
                            fmt_num(skew),
                            fmt_num(n.moments.min)
                        ),
                    )
                    .evidence("column", c.name.clone())
                    .evidence("skewness", round4(skew))
                    .evidence("min", n.moments.min),
                )
            })
            .collect()
    }
}
