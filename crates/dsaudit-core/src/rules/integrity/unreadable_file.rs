use super::error_finding;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct UnreadableFile;

pub const META: RuleMeta = RuleMeta {
    code: "I001",
    name: "unreadable-file",
    severity: Severity::Error,
    summary: "A file cannot be opened or does not decode as the image it claims to be.",
    doc: "**What it finds.** Files that cannot be opened (permissions, I/O errors) or whose content does not decode: a corrupt header, bad compressed data.\n\n\
             **Why it matters.** A data loader that meets one crashes mid-epoch, or, worse, a `try/except` skips it and the class counts you think you train on are not the ones you do.\n\n\
             **Example.** `train/cat/0042.png: not a valid png file: unrecognised header` (the file was overwritten by an HTML error page during download).",
    thresholds: &[],
    fix: "Re-download or re-export these files, or remove them from the dataset.",
};

impl Rule for UnreadableFile {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        error_finding(
            self,
            ctx,
            &["unreadable", "corrupt"],
            "cannot be read or decoded",
        )
    }
}
