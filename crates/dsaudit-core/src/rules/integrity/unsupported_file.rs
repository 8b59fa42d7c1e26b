use super::error_finding;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule};

pub struct UnsupportedFile;

impl Rule for UnsupportedFile {
    fn code(&self) -> &'static str {
        "I004"
    }
    fn name(&self) -> &'static str {
        "unsupported-file"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "A file among the samples is not an image in a supported format."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** Files inside class folders (or listed in a labels file) that are not PNG, JPEG, BMP, GIF, TIFF or WebP images: notes, archives, or image formats dsaudit does not decode (AVIF, ICO, ...).\n\n\
         **Why it matters.** A generic folder loader either crashes on them or counts them as samples of the class they sit in.\n\n\
         **Example.** `train/cat/notes.txt: not an image file`."
    }
    fn fix(&self) -> &'static str {
        "Move non-image files out of the class folders, or convert the images to a supported format."
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        error_finding(
            self,
            ctx,
            &["unsupported"],
            "are not images in a supported format",
        )
    }
}
