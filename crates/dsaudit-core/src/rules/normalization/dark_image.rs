use super::flag_images;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, Threshold};

pub struct DarkImage;

impl Rule for DarkImage {
    fn code(&self) -> &'static str {
        "N105"
    }
    fn name(&self) -> &'static str {
        "dark-image"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "An image is dark: its 99th-percentile brightness is below the threshold."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** Readable images whose 99th percentile of luminance (Rec. 601, 0-1) is below `max-p99` (0.32, cleanvision's dark default): even the brightest pixels are dim. Darkest first.\n\n         **Why it matters.** Under-exposed images carry little signal; when one class was shot in worse light, brightness becomes a shortcut the model learns instead of the object.\n\n         **Example.** `train/owl/0007.png  (99th-percentile brightness 0.18)`."
    }
    fn thresholds(&self) -> &'static [Threshold] {
        &[Threshold {
            key: "max-p99",
            default: 0.32,
            doc: "99th-percentile brightness below which an image is dark",
        }]
    }
    fn fix(&self) -> &'static str {
        "Check the capture conditions; drop unusable images, or apply brightness augmentation so exposure is not a class cue."
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let t = ctx.threshold(self, "max-p99");
        flag_images(
            self,
            ctx,
            "brightness_p99",
            |v| v < t,
            true,
            |v| format!("99th-percentile brightness {v:.3}"),
            |n, total| {
                format!("{n} of {total} images are dark (99th-percentile brightness below {t})")
            },
        )
    }
}
