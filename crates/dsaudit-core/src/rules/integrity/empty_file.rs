use super::error_finding;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule};

pub struct EmptyFile;

impl Rule for EmptyFile {
    fn code(&self) -> &'static str {
        "I003"
    }
    fn name(&self) -> &'static str {
        "empty-file"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "A sample file has zero bytes."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** Sample files of zero bytes.\n\n\
         **Why it matters.** They come from failed downloads or full disks; every image library refuses them, and they often hide a larger copy problem.\n\n\
         **Example.** `test/bird/0007.png: zero-byte file`."
    }
    fn fix(&self) -> &'static str {
        "Restore these files from the source or delete them."
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        error_finding(self, ctx, &["empty"], "are empty (zero bytes)")
    }
}
