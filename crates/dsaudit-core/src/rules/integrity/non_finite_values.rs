use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct NonFiniteValues;

pub const META: RuleMeta = RuleMeta {
    code: "I009",
    name: "non-finite-values",
    severity: Severity::Error,
    summary: "A numeric feature holds NaN or infinite values.",
    doc: "**What it finds.** Float columns (and float `.npy` arrays) containing NaN, +inf or -inf, one finding per column with the counts of each and the first rows.\n\n\
             **Why it matters.** One NaN in an input turns the loss into NaN and training diverges at a step that looks random; infinities come from divisions by zero upstream.\n\n\
             **Example.** `column 'ratio': 12 NaN and 3 infinite values in 10,000`.",
    thresholds: &[],
    fix: "Find the upstream computation that produced them (division by zero, log of 0); replace with a documented value or drop the rows.",
};

impl Rule for NonFiniteValues {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        ctx.loaded
            .columns
            .iter()
            .filter(|c| c.nan + c.inf > 0)
            .map(|c| {
                Finding::new(
                    self.meta(),
                    format!(
                        "column '{}': {} NaN and {} infinite values in {}",
                        c.name, c.nan, c.inf, c.count
                    ),
                )
                .evidence("column", c.name.clone())
                .evidence("nan", c.nan)
                .evidence("inf", c.inf)
                .evidence(
                    "share",
                    crate::util::round4((c.nan + c.inf) as f64 / c.count.max(1) as f64),
                )
                .with_examples(c.nonfinite_examples.clone(), c.nan + c.inf)
            })
            .collect()
    }
}
