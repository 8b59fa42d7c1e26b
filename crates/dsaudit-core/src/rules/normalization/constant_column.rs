use super::fmt_num;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta, Threshold};
use crate::util::round4;

pub struct ConstantColumn;

pub const META: RuleMeta = RuleMeta {
    code: "N004",
    name: "constant-column",
    severity: Severity::Warning,
    summary: "A feature column is constant, near-constant, or has no finite value.",
    doc: "**What it finds.** Feature columns with a single value (numeric std 0, or one distinct string), numeric columns whose most frequent value covers at least `max-top-share` of the rows (estimated from up to 100,000 evenly spaced values), and numeric columns with no finite value at all (all null or NaN).\n\n\
             **Why it matters.** A constant input carries no information; standardizing it divides by zero and produces NaN. A near-constant one lets a model memorise the rare rows.\n\n\
             **Example.** `column 'country' has one value ('FR') in 10,000 rows`.",
    thresholds: &[Threshold {
        key: "max-top-share",
        default: 0.99,
        doc: "share of the most frequent value at which a numeric column is near-constant",
    }],
    fix: "Drop constant columns; for near-constant ones, check the rare values are real, and consider a binary indicator instead.",
};

impl Rule for ConstantColumn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let max_top = ctx.threshold(self, "max-top-share");
        let mut out = Vec::new();
        for c in &ctx.loaded.columns {
            let msg = if let Some(n) = &c.numeric {
                let m = &n.moments;
                if m.n == 0 {
                    Some((
                        format!("column '{}' has no finite value ({} rows)", c.name, c.count),
                        1.0,
                    ))
                } else if m.min == m.max {
                    Some((
                        format!(
                            "column '{}' is constant ({}) in {} finite values",
                            c.name,
                            fmt_num(m.min),
                            m.n
                        ),
                        1.0,
                    ))
                } else if m.n >= 20 && n.sketch.top_share() >= max_top {
                    let share = n.sketch.top_share();
                    Some((
                        format!(
                            "column '{}' is near-constant: one value covers {:.1}% of the rows",
                            c.name,
                            share * 100.0
                        ),
                        share,
                    ))
                } else {
                    None
                }
            } else if let Some(s) = &c.strings {
                (s.n_unique == 1 && c.count > 1).then(|| {
                    (
                        format!("column '{}' has one value in {} rows", c.name, c.count),
                        1.0,
                    )
                })
            } else {
                None
            };
            if let Some((m, share)) = msg {
                out.push(
                    Finding::new(self.meta(), m)
                        .evidence("column", c.name.clone())
                        .evidence("top_share", round4(share)),
                );
            }
        }
        out
    }
}
