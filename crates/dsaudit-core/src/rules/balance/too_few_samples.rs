use super::{class_counts, split_name};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta, Threshold};

pub struct TooFewSamples;

pub const META: RuleMeta = RuleMeta {
    code: "B002",
    name: "too-few-samples",
    severity: Severity::Warning,
    summary: "A class has fewer training samples than the minimum.",
    doc: "**What it finds.** Classes whose count of readable, labelled samples in the training split (or in the whole dataset when it has no splits) is below `min-count`.\n\n\
             **Why it matters.** Not enough data: a class seen a handful of times is memorised, not learned, and its validation score is noise. 30 is the smallest sample on which a per-class mean or error rate is commonly treated as stable; deep networks usually want hundreds or thousands per class.\n\n\
             **Example.** `class 'lynx' has 12 training samples (minimum 30)`.",
    thresholds: &[Threshold {
        key: "min-count",
        default: 30.0,
        doc: "fewest training samples a class may have",
    }],
    fix: "Collect or label more samples of these classes, merge them with a related class, or drop them from the task.",
};

impl Rule for TooFewSamples {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let min = ctx.threshold(self, "min-count");
        let counts = class_counts(ctx);
        let train = counts
            .iter()
            .find(|(s, _)| s.as_deref() == Some("train"))
            .or_else(|| counts.iter().find(|(s, _)| s.is_none()))
            .or_else(|| {
                if counts.len() == 1 {
                    counts.first()
                } else {
                    None
                }
            });
        let Some((split, classes)) = train else {
            return Vec::new();
        };
        classes
            .iter()
            .filter(|(_, &n)| (n as f64) < min)
            .map(|(class, &n)| {
                Finding::new(
                    self.meta(),
                    format!(
                        "class '{class}' has {n} samples in split '{}' (minimum {min})",
                        split_name(split)
                    ),
                )
                .evidence("class", class.clone())
                .evidence("split", split.clone())
                .evidence("count", n)
            })
            .collect()
    }
}
