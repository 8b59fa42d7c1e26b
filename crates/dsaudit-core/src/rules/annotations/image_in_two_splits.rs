use super::{detection, place, MAX_PLACES};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct ImageInTwoSplits;

pub const META: RuleMeta = RuleMeta {
    code: "A012",
    name: "image-in-two-splits",
    severity: Severity::Error,
    summary: "The annotation files of two splits list the same image file.",
    doc: "**What it finds.** Image files that the annotation files of more than one split name (e.g. in both `instances_train.json` and `instances_val.json`).\n\n\
             **Why it matters.** The model is evaluated on images it was trained on, so validation AP is inflated by exactly the memorised images; unlike a copied file (D003) this needs no pixel comparison, the split files themselves say it.\n\n\
             **Example.** `images listed by two splits: 31 (first: val2017/000000000139.jpg in train and val)`.",
    thresholds: &[],
    fix: "Remove each image from all but one split's annotation file (keep its boxes with it), then re-check for near copies with D002/D003.",
};

impl Rule for ImageInTwoSplits {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let Some(d) = detection(ctx) else {
            return Vec::new();
        };
        let Some(first) = d.shared.first() else {
            return Vec::new();
        };
        let samples = d
            .shared
            .iter()
            .flat_map(|s| {
                let note = format!("listed in {}", s.splits.join(" and "));
                s.samples.iter().map(move |&i| (i, note.clone()))
            })
            .take(MAX_PLACES)
            .map(|(i, note)| place(ctx, i, note))
            .collect();
        let n = d.shared.len();
        vec![Finding::new(
            self.meta(),
            format!(
                "images listed by two splits: {n} (first: {} in {})",
                first.source,
                first.splits.join(" and ")
            ),
        )
        .with_examples(samples, n as u64)
        .evidence("images", n as u64)]
    }
}
