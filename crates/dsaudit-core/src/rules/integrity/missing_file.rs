use super::error_finding;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule};

pub struct MissingFile;

impl Rule for MissingFile {
    fn code(&self) -> &'static str {
        "I006"
    }
    fn name(&self) -> &'static str {
        "missing-file"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "A labels file lists an image that does not exist."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** Rows of a labels file whose path points to no file.\n\n\
         **Why it matters.** The loader fails when it reaches the row, or the class loses samples you believe it has.\n\n\
         **Example.** `images/0831.png (labels.csv row 830): file not found`."
    }
    fn fix(&self) -> &'static str {
        "Fix the paths in the labels file (relative to the labels file's folder) or restore the images."
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
