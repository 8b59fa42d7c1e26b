use super::error_finding;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule};

pub struct TruncatedFile;

impl Rule for TruncatedFile {
    fn code(&self) -> &'static str {
        "I002"
    }
    fn name(&self) -> &'static str {
        "truncated-file"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "An image file is cut short: decoding runs out of data or the end marker is missing."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** Images whose data stops early: the decoder hits end of file, or a PNG has no `IEND` chunk, a JPEG no `FFD9` end-of-image marker, a GIF no trailer. Some decoders silently fill the missing part with grey, so the end marker is checked even when decoding succeeds.\n\n\
         **Why it matters.** Interrupted downloads and copies produce these. PIL raises `image file is truncated` at training time, or with `LOAD_TRUNCATED_IMAGES` trains on half-grey pictures.\n\n\
         **Example.** `train/dog/0193.jpg: jpeg end marker missing: file is cut short`."
    }
    fn fix(&self) -> &'static str {
        "Copy or download these files again; compare sizes with the source."
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        error_finding(self, ctx, &["truncated"], "are truncated")
    }
}
