use super::{hist_json, minority};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct MixedModes;

pub const META: RuleMeta = RuleMeta {
    code: "N103",
    name: "mixed-modes",
    severity: Severity::Warning,
    summary: "Readable images mix colour modes: grey among RGB, or alpha channels among opaque images.",
    doc: "**What it finds.** More than one mode (`L`, `LA`, `RGB`, `RGBA`) among readable images; lists the images not in the most common mode.\n\n\
             **Why it matters.** A loader that does not convert gets tensors with 1, 2, 3 or 4 channels and fails at batching, or, converting silently, turns transparent areas black and greyscale images into a colour cue that correlates with the source.\n\n\
             **Example.** `3 of 900 images are not RGB: L (2), RGBA (1)`.",
    thresholds: &[],
    fix: "Convert every image to one mode in the pipeline (e.g. PIL `convert('RGB')`), and decide how to composite alpha.",
};

impl Rule for MixedModes {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let modes = ctx.loaded.manifest.strs("mode");
        if super::all_null(modes) {
            return Vec::new();
        }
        let Some((common, hist, samples, total)) =
            minority(ctx, |i| modes.get(i).map(str::to_string))
        else {
            return Vec::new();
        };
        let others: Vec<String> = hist
            .iter()
            .skip(1)
            .map(|(k, n)| format!("{k} ({n})"))
            .collect();
        let readable: u64 = hist.iter().map(|h| h.1).sum();
        vec![Finding::new(
            self.meta(),
            format!(
                "{total} of {readable} images are not {common}: {}",
                others.join(", ")
            ),
        )
        .evidence("most_common", common)
        .evidence("modes", hist_json(&hist))
        .with_examples(samples, total)]
    }
}
