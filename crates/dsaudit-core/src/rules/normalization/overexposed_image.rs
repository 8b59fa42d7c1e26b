use super::flag_images;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, Threshold};

pub struct OverexposedImage;

impl Rule for OverexposedImage {
    fn code(&self) -> &'static str {
        "N106"
    }
    fn name(&self) -> &'static str {
        "overexposed-image"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "An image is overexposed: its 5th-percentile brightness is above the threshold."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** Readable images whose 5th percentile of luminance (0-1) is above `min-p5` (0.95, after cleanvision's light-image check): even the darkest pixels are near white. Brightest first.\n\n         **Why it matters.** Blown-out images have lost their detail for good; white scans and flash glare also become class shortcuts.\n\n         **Example.** `test/snow/0031.jpg  (5th-percentile brightness 0.97)`."
    }
    fn thresholds(&self) -> &'static [Threshold] {
        &[Threshold {
            key: "min-p5",
            default: 0.95,
            doc: "5th-percentile brightness above which an image is overexposed",
        }]
    }
    fn fix(&self) -> &'static str {
        "Inspect and drop unusable images; fix the exposure at capture if it is systematic."
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let t = ctx.threshold(self, "min-p5");
        flag_images(
            self,
            ctx,
            "brightness_p5",
            |v| v > t,
            false,
            |v| format!("5th-percentile brightness {v:.3}"),
            |n, total| {
                format!(
                    "{n} of {total} images are overexposed (5th-percentile brightness above {t})"
                )
            },
        )
    }
}
