use crate::finding::{Finding, Severity};
use crate::load::columns::MAX_EXAMPLES;
use crate::rules::{Context, Rule, RuleMeta};

pub struct UnlabeledSample;

pub const META: RuleMeta = RuleMeta {
    code: "I007",
    name: "unlabeled-sample",
    severity: Severity::Warning,
    summary: "A sample has no label.",
    doc: "**What it finds.** Samples without a label: images outside any class folder, images on disk that the labels file does not list, rows whose label is empty or NaN, and every row when no label column exists.\n\n\
             **Why it matters.** Supervised training either drops them silently or crashes on a missing target; a NaN label can also become a class of its own.\n\n\
             **Example.** `train/IMG_0001.png` sits in the split folder, not in a class folder.",
    thresholds: &[],
    fix: "Label these samples, move them into a class folder, or remove them; name the label column with --label if it was not found.",
};

impl Rule for UnlabeledSample {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        if ctx.loaded.regression_target.is_some() || ctx.loaded.detection.is_some() {
            // A regression task: every sample has its target, and none has a class.
            // A detection set: the classes are its boxes' (A006 reports images
            // without any).
            return Vec::new();
        }
        let m = &ctx.loaded.manifest;
        let labels = m.strs("label");
        // Over every row of a table read in blocks, whose manifest holds a sample.
        let (total, samples) = match &ctx.loaded.tally {
            Some(t) => (
                t.values().filter_map(|c| c.get(&None)).sum::<u64>() as usize,
                t.values().flat_map(|c| c.values()).sum::<u64>() as usize,
            ),
            None => (labels.null_count(), m.len()),
        };
        if total == 0 {
            return Vec::new();
        }
        let examples = labels
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_none())
            .take(if total > 1000 { MAX_EXAMPLES } else { total })
            .map(|(i, _)| m.sample_ref(i))
            .collect();
        let why = if ctx.loaded.label_column.is_none() && !ctx.spec.layout.is_image() {
            " (no label column was found)"
        } else {
            ""
        };
        vec![Finding::new(
            self.meta(),
            format!("{total} of {samples} samples have no label{why}"),
        )
        .evidence("count", total)
        .evidence(
            "share",
            crate::util::round4(total as f64 / samples.max(1) as f64),
        )
        .with_examples(examples, total as u64)]
    }
}
