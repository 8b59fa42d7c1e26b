use super::{hist_json, minority};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct MixedBitDepths;

pub const META: RuleMeta = RuleMeta {
    code: "N104",
    name: "mixed-bit-depths",
    severity: Severity::Warning,
    summary: "Readable images mix bit depths (8 and 16 bits per channel).",
    doc: "**What it finds.** More than one bit depth per channel among readable images; lists the images not at the most common depth.\n\n\
             **Why it matters.** Dividing by 255 is wrong for 16-bit images (values up to 65,535), and dividing by 65,535 makes 8-bit images nearly black: one constant cannot serve both, so part of the data arrives on the wrong scale.\n\n\
             **Example.** `12 of 400 images are 16-bit, the rest 8-bit`.",
    thresholds: &[],
    fix: "Convert to one depth, or scale each image by its own format maximum before normalizing.",
};

impl Rule for MixedBitDepths {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let depths = ctx.loaded.manifest.u8s("bit_depth");
        if super::all_null(depths) {
            return Vec::new();
        }
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
            self.meta(),
            format!("{} images, the rest {common}", others.join(", ")),
        )
        .evidence("most_common", common)
        .evidence("bit_depths", hist_json(&hist))
        .with_examples(samples, total)]
    }
}
