use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule};

pub struct SingleClass;

impl Rule for SingleClass {
    fn code(&self) -> &'static str {
        "I012"
    }
    fn name(&self) -> &'static str {
        "single-class"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "Every labelled sample has the same label."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** A dataset whose labels take a single value across all splits.\n\n\
         **Why it matters.** There is nothing to classify: the wrong column was taken as the label, or a filter upstream kept one class. A model reaches 100% accuracy and learns nothing.\n\n\
         **Example.** `label column 'y': all 5,000 labelled samples are '1'`."
    }
    fn fix(&self) -> &'static str {
        "Check that the label column is the right one (--label), and that no filter dropped the other classes."
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
            self,
            format!("all {n} labelled samples have the label '{first}'"),
        )
        .evidence("label", first.to_string())
        .evidence("count", n)]
    }
}
