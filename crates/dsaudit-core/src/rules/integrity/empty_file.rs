use super::error_finding;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct EmptyFile;

pub const META: RuleMeta = RuleMeta {
    code: "I003",
    name: "empty-file",
    severity: Severity::Error,
    summary: "A sample file has zero bytes.",
    doc: "**What it finds.** Sample files of zero bytes.\n\n\
             **Why it matters.** They come from failed downloads or full disks; every image library refuses them, and they often hide a larger copy problem.\n\n\
             **Example.** `test/bird/0007.png: zero-byte file`.",
    thresholds: &[],
    fix: "Restore these files from the source or delete them.",
};

impl Rule for EmptyFile {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        error_finding(self, ctx, &["empty"], "are empty (zero bytes)")
    }
}
