use super::flag_images;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, Threshold};

pub struct UnusedDynamicRange;

impl Rule for UnusedDynamicRange {
    fn code(&self) -> &'static str {
        "N110"
    }
    fn name(&self) -> &'static str {
        "unused-dynamic-range"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "An image never uses the upper part of its format's range (e.g. 12-bit data in a 16-bit file)."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** Readable images whose brightest sample of any channel stays below `min-peak` (1/16) of the format's full scale: at least four bits of the format are never used. Typical sources: 12-bit sensor data saved as 16-bit PNG or TIFF, class-index masks saved as 8-bit images, images already divided by 255 and saved again.\n\n         **Why it matters.** Scaling by the format maximum (255 or 65,535) leaves these images nearly black, at a fraction of the scale the model sees for the others.\n\n         **Example.** `scans/0001.png  (peak 4095/65535 = 0.062 of full scale)`."
    }
    fn thresholds(&self) -> &'static [Threshold] {
        &[Threshold {
            key: "min-peak",
            default: 0.0625,
            doc: "share of full scale the brightest sample must reach",
        }]
    }
    fn fix(&self) -> &'static str {
        "Rescale by the true maximum of the data (e.g. 4095 for 12-bit) rather than the container's, or fix the export."
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let t = ctx.threshold(self, "min-peak");
        flag_images(
            self,
            ctx,
            "max_value",
            |v| v < t,
            true,
            |v| format!("peak {v:.4} of full scale"),
            |n, total| format!("{n} of {total} images use less than {t} of their format's range"),
        )
    }
}
