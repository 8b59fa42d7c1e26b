use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta, Threshold};

pub struct OverlappingClasses;

pub const META: RuleMeta = RuleMeta {
    code: "L003",
    name: "overlapping-classes",
    severity: Severity::Info,
    summary: "Pairs of classes the data confuses with each other (confident learning).",
    doc: "**What it finds.** Pairs of classes (a, b) for which the calibrated confident joint of L002 puts many samples labelled a in b or labelled b in a: that count over the samples of both classes reaches `min-share`. Reported per pair, most confused first, with the count and cleanlab's overlap measure (the count over all scored samples).\n\n\
             **Why it matters.** Two classes that trade many samples are either labelled inconsistently (a labelling guideline to fix) or genuinely overlap (classes to merge, or an ambiguity to accept and document); either way the model's errors between them are not its fault.\n\n\
             **Example.** `classes 'shirt' and 't-shirt' overlap: 41 samples (12.0% of both) likely belong to the other`.",
    thresholds: &[Threshold {
        key: "min-share",
        default: 0.05,
        doc: "Samples of the pair likely in the other class, over the samples of both classes.",
    }],
    fix: "Look at the samples L002 lists between the two classes; tighten the labelling guideline, relabel, or merge the classes if they cannot be told apart.",
};

impl Rule for OverlappingClasses {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let l = ctx.labels;
        if l.skipped.is_some() {
            return Vec::new();
        }
        let min = ctx.threshold(self, "min-share");
        l.confused_pairs
            .iter()
            .filter(|p| p.share >= min)
            .map(|p| {
                Finding::new(
                    self.meta(),
                    format!(
                        "classes '{}' and '{}' overlap: {} samples ({:.1}% of both) likely belong to the other",
                        p.a,
                        p.b,
                        p.samples,
                        100.0 * p.share
                    ),
                )
                .evidence("a", p.a.as_str())
                .evidence("b", p.b.as_str())
                .evidence("samples", p.samples)
                .evidence("share", p.share)
                .evidence("joint", p.joint)
            })
            .collect()
    }
}
