use super::error_finding;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule};

pub struct UnreadableFile;

impl Rule for UnreadableFile {
    fn code(&self) -> &'static str {
        "I001"
    }
    fn name(&self) -> &'static str {
        "unreadable-file"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "A file cannot be opened or does not decode as the image it claims to be."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** Files that cannot be opened (permissions, I/O errors) or whose content does not decode: a corrupt header, bad compressed data.\n\n\
         **Why it matters.** A data loader that meets one crashes mid-epoch, or, worse, a `try/except` skips it and the class counts you think you train on are not the ones you do.\n\n\
         **Example.** `train/cat/0042.png: not a valid png file: unrecognised header` (the file was overwritten by an HTML error page during download)."
    }
    fn fix(&self) -> &'static str {
        "Re-download or re-export these files, or remove them from the dataset."
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
