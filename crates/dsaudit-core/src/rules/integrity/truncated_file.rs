use super::error_finding;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct TruncatedFile;

pub const META: RuleMeta = RuleMeta {
    code: "I002",
    name: "truncated-file",
    severity: Severity::Error,
    summary: "An image file is cut short: decoding runs out of data or the end marker is missing.",
    doc: "**What it finds.** Images whose data stops early: the decoder hits end of file, or a PNG has no `IEND` chunk, a JPEG no `FFD9` end-of-image marker, a GIF no trailer. Some decoders silently fill the missing part with grey, so the end marker is checked even when decoding succeeds.\n\n\
             **Why it matters.** Interrupted downloads and copies produce these. PIL raises `image file is truncated` at training time, or with `LOAD_TRUNCATED_IMAGES` trains on half-grey pictures.\n\n\
             **Example.** `train/dog/0193.jpg: jpeg end marker missing: file is cut short`.",
    thresholds: &[],
    fix: "Copy or download these files again; compare sizes with the source.",
};

impl Rule for TruncatedFile {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        error_finding(self, ctx, &["truncated"], "are truncated")
    }
}
