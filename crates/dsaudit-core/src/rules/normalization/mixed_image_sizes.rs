use super::{hist_json, minority};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct MixedImageSizes;

pub const META: RuleMeta = RuleMeta {
    code: "N101",
    name: "mixed-image-sizes",
    severity: Severity::Info,
    summary: "Readable images come in more than one size.",
    doc: "**What it finds.** More than one width×height among readable images; lists the images not of the most common size (up to 1,000) with the size histogram as evidence.\n\n\
             **Why it matters.** Batching needs one size, so the pipeline must resize or crop; if nobody decided how, a default (often a stretch) distorts aspect ratios, and a size that differs by split is a shortcut the model can learn.\n\n\
             **Example.** `images come in 3 sizes; 412 of 5,000 differ from the most common 224x224`.",
    thresholds: &[],
    fix: "Choose a target size and resize (keeping aspect ratio, then pad or crop) in the data pipeline, the same way for every split.",
};

impl Rule for MixedImageSizes {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let m = &ctx.loaded.manifest;
        let (w, h) = (m.u32s("width"), m.u32s("height"));
        if super::all_null(w) {
            return Vec::new();
        }
        let Some((common, hist, samples, total)) =
            minority(ctx, |i| Some(format!("{}x{}", w.get(i)?, h.get(i)?)))
        else {
            return Vec::new();
        };
        vec![Finding::new(
            self.meta(),
            format!(
                "images come in {} sizes; {total} differ from the most common {common}",
                hist.len()
            ),
        )
        .evidence("most_common", common)
        .evidence("sizes", hist_json(&hist))
        .with_examples(samples, total)]
    }
}
