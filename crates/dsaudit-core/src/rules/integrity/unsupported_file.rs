use super::error_finding;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct UnsupportedFile;

pub const META: RuleMeta = RuleMeta {
    code: "I004",
    name: "unsupported-file",
    severity: Severity::Warning,
    summary: "A file among the samples is not an image in a supported format.",
    doc: "**What it finds.** Files inside class folders (or listed in a labels file) that are not PNG, JPEG, BMP, GIF, TIFF or WebP images: notes, archives, or image formats dsaudit does not decode (AVIF, ICO, ...).\n\n\
             **Why it matters.** A generic folder loader either crashes on them or counts them as samples of the class they sit in.\n\n\
             **Example.** `train/cat/notes.txt: not an image file`.",
    thresholds: &[],
    fix: "Move non-image files out of the class folders, or convert the images to a supported format.",
};

impl Rule for UnsupportedFile {
    fn meta(&self) -> &'static RuleMeta {
        &META
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
