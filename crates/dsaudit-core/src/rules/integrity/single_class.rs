use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct SingleClass;

pub const META: RuleMeta = RuleMeta {
    code: "I012",
    name: "single-class",
    severity: Severity::Error,
    summary: "Every labelled sample has the same label.",
    doc: "**What it finds.** A dataset whose labels take a single value across all splits.\n\n\
             **Why it matters.** There is nothing to classify: the wrong column was taken as the label, or a filter upstream kept one class. A model reaches 100% accuracy and learns nothing.\n\n\
             **Example.** `label column 'y': all 5,000 labelled samples are '1'`.",
    thresholds: &[],
    fix: "Check that the label column is the right one (--label), and that no filter dropped the other classes.",
};

impl Rule for SingleClass {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let labels = ctx.loaded.manifest.strs("label");
        let mut distinct = labels.iter().flatten();
        let Some(first) = distinct.next() else {
            return Vec::new();
        };
        if distinct.any(|l| l != first) {
            return Vec::new();
        }
        let n = labels.len() - labels.null_count();
        vec![Finding::new(
            self.meta(),
            format!("all {n} labelled samples have the label '{first}'"),
        )
        .evidence("label", first.to_string())
        .evidence("count", n)]
    }
}
