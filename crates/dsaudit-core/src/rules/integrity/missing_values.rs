use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct MissingValues;

pub const META: RuleMeta = RuleMeta {
    code: "I008",
    name: "missing-values",
    severity: Severity::Warning,
    summary: "A feature column has missing (null) values.",
    doc: "**What it finds.** Feature columns with null values (empty CSV fields, nulls in Parquet/Arrow/JSON), one finding per column with the count, the share and the first rows.\n\n\
             **Why it matters.** Most models cannot take nulls; the usual silent fixes (dropping rows, filling with 0) change the data distribution and, if done differently at test time, create train/test skew.\n\n\
             **Example.** `column 'age': 1,204 of 50,000 values missing (2.4%)`.",
    thresholds: &[],
    fix: "Impute with a statistic computed on the training split only, add a missing-indicator feature, or drop the column if mostly empty.",
};

impl Rule for MissingValues {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        ctx.loaded
            .columns
            .iter()
            .filter(|c| c.nulls > 0)
            .map(|c| {
                Finding::new(
                    self.meta(),
                    format!(
                        "column '{}': {} of {} values missing ({:.1}%)",
                        c.name,
                        c.nulls,
                        c.count,
                        100.0 * c.nulls as f64 / c.count.max(1) as f64
                    ),
                )
                .evidence("column", c.name.clone())
                .evidence("count", c.nulls)
                .evidence(
                    "share",
                    crate::util::round4(c.nulls as f64 / c.count.max(1) as f64),
                )
                .with_examples(c.null_examples.clone(), c.nulls)
            })
            .collect()
    }
}
