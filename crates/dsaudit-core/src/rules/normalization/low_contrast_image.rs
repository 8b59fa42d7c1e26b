use super::flag_images;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, Threshold};

pub struct LowContrastImage;

impl Rule for LowContrastImage {
    fn code(&self) -> &'static str {
        "N107"
    }
    fn name(&self) -> &'static str {
        "low-contrast-image"
    }
    fn default_severity(&self) -> Severity {
        Severity::Info
    }
    fn summary(&self) -> &'static str {
        "An image has very low contrast (RMS contrast below the threshold) without being blank."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** Readable images whose RMS contrast (standard deviation of luminance, 0-1) is below `max-contrast` (0.05) but which are not blank (see `blank-image`). Flattest first.\n\n         **Why it matters.** Washed-out or hazy images compress the useful signal into a few grey levels; after normalization their noise is amplified.\n\n         **Example.** `train/fog/0012.png  (RMS contrast 0.021)`."
    }
    fn thresholds(&self) -> &'static [Threshold] {
        &[Threshold {
            key: "max-contrast",
            default: 0.05,
            doc: "RMS contrast below which an image is low-contrast",
        }]
    }
    fn fix(&self) -> &'static str {
        "Inspect; apply contrast normalization (histogram equalization, CLAHE) consistently across splits, or drop unusable images."
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let t = ctx.threshold(self, "max-contrast");
        flag_images(
            self,
            ctx,
            "contrast",
            |v| v < t && v >= 0.01,
            true,
            |v| format!("RMS contrast {v:.4}"),
            |n, total| format!("{n} of {total} images have low contrast (RMS contrast below {t})"),
        )
    }
}
