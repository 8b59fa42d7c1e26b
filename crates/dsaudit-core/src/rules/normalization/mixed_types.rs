use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};
use crate::util::round4;

pub struct MixedTypes;

pub const META: RuleMeta = RuleMeta {
    code: "N006",
    name: "mixed-types",
    severity: Severity::Warning,
    summary: "A text column holds numbers: all of them, or mixed with text.",
    doc: "**What it finds.** Text columns in which some or all sampled values (up to 10,000, evenly spaced) parse as numbers. From 95% up: numbers stored as strings, usually because of a few missing-value markers (`?`, `N/A`, `-`); from 5% to 95%: genuinely mixed types.\n\n\
             **Why it matters.** The column is treated as categorical: every distinct number becomes its own category and the order and distance between values are lost. Mixed columns often mean two sources were concatenated with different conventions.\n\n\
             **Example.** `column 'bmi': 98.7% of values are numbers stored as text (e.g. '?')`.",
    thresholds: &[],
    fix: "Declare the missing-value markers when reading (pandas na_values) and cast the column to a number; split genuinely mixed columns.",
};

impl Rule for MixedTypes {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        ctx.loaded
            .columns
            .iter()
            .filter_map(|c| {
                let s = c.strings.as_ref()?;
                let share = s.numeric_share;
                let example = s.non_numeric_examples.iter().map(|e| format!("'{e}'")).collect::<Vec<_>>().join(", ");
                let msg = if share >= 0.95 {
                    if example.is_empty() {
                        format!("column '{}': numbers stored as text", c.name)
                    } else {
                        format!("column '{}': {:.1}% of values are numbers stored as text (others: {example})", c.name, share * 100.0)
                    }
                } else if share >= 0.05 {
                    format!("column '{}' mixes numbers ({:.1}%) and text (e.g. {example})", c.name, share * 100.0)
                } else {
                    return None;
                };
                Some(Finding::new(self.meta(), msg).evidence("column", c.name.clone()).evidence("numeric_share", round4(share)))
            })
            .collect()
    }
}
