use super::flag_images;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, Threshold};

pub struct BlankImage;

impl Rule for BlankImage {
    fn code(&self) -> &'static str {
        "N108"
    }
    fn name(&self) -> &'static str {
        "blank-image"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "An image is blank: nearly every pixel has the same brightness."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** Readable images whose RMS contrast is below `max-contrast` (0.01 of full scale): a single colour, give or take noise. Typical sources: failed captures, placeholder images, black frames, masks saved as images.\n\n         **Why it matters.** They carry no information about their label, so they are pure label noise, and a class with many of them is learned as 'blank'.\n\n         **Example.** `train/dog/0300.png  (RMS contrast 0.000)`."
    }
    fn thresholds(&self) -> &'static [Threshold] {
        &[Threshold {
            key: "max-contrast",
            default: 0.01,
            doc: "RMS contrast below which an image is blank",
        }]
    }
    fn fix(&self) -> &'static str {
        "Remove blank images from the dataset (`dsaudit clean`), and find the step that produced them."
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let t = ctx.threshold(self, "max-contrast");
        flag_images(
            self,
            ctx,
            "contrast",
            |v| v < t,
            true,
            |v| format!("RMS contrast {v:.4}"),
            |n, total| format!("{n} of {total} images are blank (RMS contrast below {t})"),
        )
    }
}
