use super::flag_images;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, Threshold};

pub struct BlurryImage;

impl Rule for BlurryImage {
    fn code(&self) -> &'static str {
        "N109"
    }
    fn name(&self) -> &'static str {
        "blurry-image"
    }
    fn default_severity(&self) -> Severity {
        Severity::Info
    }
    fn summary(&self) -> &'static str {
        "An image is blurry: the variance of its Laplacian is below the threshold."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** Readable images of at least 3×3 pixels whose variance of the 4-neighbour Laplacian of the 8-bit luminance is below `min-sharpness` (100, the usual cut-off for this measure on 8-bit images), blurriest first. The measure falls with resolution and rises with noise, so compare within a dataset and tune the threshold to it.\n\n         **Why it matters.** Motion blur and out-of-focus shots remove the fine detail that separates similar classes; when blur correlates with a class it becomes a shortcut.\n\n         **Example.** `train/bird/0042.jpg  (Laplacian variance 12.4)`."
    }
    fn thresholds(&self) -> &'static [Threshold] {
        &[Threshold {
            key: "min-sharpness",
            default: 100.0,
            doc: "variance of the Laplacian below which an image is blurry",
        }]
    }
    fn fix(&self) -> &'static str {
        "Inspect the blurriest images; drop unusable ones, or add blur augmentation so sharpness is not a class cue."
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let t = ctx.threshold(self, "min-sharpness");
        flag_images(
            self,
            ctx,
            "sharpness",
            |v| v < t,
            true,
            |v| format!("Laplacian variance {v:.1}"),
            |n, total| format!("{n} of {total} images are blurry (Laplacian variance below {t})"),
        )
    }
}
