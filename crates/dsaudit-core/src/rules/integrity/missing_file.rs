use super::error_finding;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct MissingFile;

pub const META: RuleMeta = RuleMeta {
    code: "I006",
    name: "missing-file",
    severity: Severity::Error,
    summary: "A labels file lists an image that does not exist.",
    doc: "**What it finds.** Rows of a labels file whose path points to no file.\n\n\
             **Why it matters.** The loader fails when it reaches the row, or the class loses samples you believe it has.\n\n\
             **Example.** `images/0831.png (labels.csv row 830): file not found`.",
    thresholds: &[],
    fix: "Fix the paths in the labels file (relative to the labels file's folder) or restore the images.",
};

impl Rule for MissingFile {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        error_finding(
            self,
            ctx,
            &["missing"],
            "listed in the labels file do not exist",
        )
    }
}
