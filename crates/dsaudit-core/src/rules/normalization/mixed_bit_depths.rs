use super::{hist_json, minority};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule};

pub struct MixedBitDepths;

impl Rule for MixedBitDepths {
    fn code(&self) -> &'static str {
        "N104"
    }
    fn name(&self) -> &'static str {
        "mixed-bit-depths"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "Readable images mix bit depths (8 and 16 bits per channel)."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** More than one bit depth per channel among readable images; lists the images not at the most common depth.\n\n\
         **Why it matters.** Dividing by 255 is wrong for 16-bit images (values up to 65,535), and dividing by 65,535 makes 8-bit images nearly black: one constant cannot serve both, so part of the data arrives on the wrong scale.\n\n\
         **Example.** `12 of 400 images are 16-bit, the rest 8-bit`."
    }
    fn fix(&self) -> &'static str {
        "Convert to one depth, or scale each image by its own format maximum before normalizing."
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let depths = ctx.loaded.manifest.u8s("bit_depth");
        let Some((common, hist, samples, total)) =
            minority(ctx, |i| depths.get(i).map(|d| format!("{d}-bit")))
        else {
            return Vec::new();
        };
        let others: Vec<String> = hist
            .iter()
            .skip(1)
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        vec![Finding::new(
            self,
            format!("{} images, the rest {common}", others.join(", ")),
        )
        .evidence("most_common", common)
        .evidence("bit_depths", hist_json(&hist))
        .with_examples(samples, total)]
    }
}
