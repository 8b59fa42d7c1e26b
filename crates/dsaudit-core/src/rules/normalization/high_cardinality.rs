use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta, Threshold};
use crate::util::round4;

pub struct HighCardinality;

pub const META: RuleMeta = RuleMeta {
    code: "N005",
    name: "high-cardinality",
    severity: Severity::Warning,
    summary: "A categorical (text) column has almost as many distinct values as rows.",
    doc: "**What it finds.** Text columns, other than those that are mostly numbers, with more than `min-unique` distinct values that make up more than `max-unique-share` of the rows: identifiers, free text, timestamps stored as text.\n\n\
             **Why it matters.** One-hot encoding explodes the input width, every category is seen once or twice, and an identifier lets the model memorise rows instead of learning (and leaks if the same ids appear in test).\n\n\
             **Example.** `column 'user_id' has 9,842 distinct values in 10,000 rows`.",
    thresholds: &[
        Threshold {
            key: "max-unique-share",
            default: 0.5,
            doc: "distinct values / rows above which a text column is high-cardinality",
        },
        Threshold {
            key: "min-unique",
            default: 50.0,
            doc: "fewest distinct values for the rule to apply",
        },
    ],
    fix: "Drop identifier columns; hash, bucket or embed true high-cardinality categories; parse timestamps into numeric features.",
};

impl Rule for HighCardinality {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let (max_share, min_unique) = (
            ctx.threshold(self, "max-unique-share"),
            ctx.threshold(self, "min-unique"),
        );
        ctx.loaded
            .columns
            .iter()
            .filter_map(|c| {
                let s = c.strings.as_ref()?;
                let non_null = c.count.saturating_sub(c.nulls).max(1);
                let share = s.n_unique as f64 / non_null as f64;
                (s.numeric_share < 0.5 && s.n_unique as f64 > min_unique && share > max_share).then(
                    || {
                        Finding::new(
                            self.meta(),
                            format!(
                                "column '{}' has {}{} distinct values in {} rows",
                                c.name,
                                if s.estimated { "about " } else { "" },
                                s.n_unique,
                                non_null
                            ),
                        )
                        .evidence("column", c.name.clone())
                        .evidence("n_unique", s.n_unique)
                        .evidence("unique_share", round4(share))
                    },
                )
            })
            .collect()
    }
}
