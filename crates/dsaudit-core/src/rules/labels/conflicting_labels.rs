use crate::finding::{Finding, Severity};
use crate::rules::duplicates::{counts, counts_text, sample, things, MAX_LISTED};
use crate::rules::{Context, Rule, RuleMeta};
use crate::util::count;

pub struct ConflictingLabels;

pub const META: RuleMeta = RuleMeta {
    code: "L001",
    name: "conflicting-labels",
    severity: Severity::Error,
    summary: "Identical or near-identical samples that carry different labels.",
    doc: "**What it finds.** Duplicate clusters (D001, D002) whose members carry two or more different labels, with the label counts of each cluster. A conflict between identical copies is certain label noise; between near copies it is very likely (or the classes overlap).\n\n\
             **Why it matters.** Label noise in its plainest form: the same input is taught two answers, which caps accuracy on those samples and, when the copies straddle train and test, penalises the model for being right.\n\n\
             **Example.** `4 duplicate clusters carry conflicting labels (9 images; 3 of identical copies)`, each sample noted `cluster 7 · labels: cat×2, dog×1 · identical`.",
    thresholds: &[],
    fix: "Decide the right label for each cluster and relabel or drop the others (`dsaudit clean --relabel`); if the classes genuinely overlap, merge them or document the ambiguity.",
};

impl Rule for ConflictingLabels {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let mut conflicts = Vec::new();
        for c in &ctx.dups.clusters {
            let labels = counts(ctx, "label", &c.members);
            if labels.len() > 1 {
                let identical = c.exact.iter().any(|g| counts(ctx, "label", g).len() > 1);
                conflicts.push((c, labels, identical));
            }
        }
        if conflicts.is_empty() {
            return Vec::new();
        }
        let total: usize = conflicts.iter().map(|(c, _, _)| c.members.len()).sum();
        let identical = conflicts.iter().filter(|(_, _, e)| *e).count();
        let samples = conflicts
            .iter()
            .flat_map(|(c, labels, e)| {
                let note = format!(
                    "cluster {} · labels: {} · {}",
                    c.id,
                    counts_text(labels),
                    if *e { "identical" } else { "similar" }
                );
                c.members.iter().map(move |&m| (m, note.clone()))
            })
            .take(MAX_LISTED)
            .map(|(m, note)| sample(ctx, m, note))
            .collect();
        let detail: Vec<serde_json::Value> = conflicts
            .iter()
            .take(MAX_LISTED)
            .map(|(c, labels, e)| serde_json::json!({ "cluster": c.id, "labels": labels, "identical": e }))
            .collect();
        vec![Finding::new(
            self.meta(),
            format!(
                "{} {} conflicting labels ({}; {identical} of identical copies)",
                count(conflicts.len(), "duplicate cluster", "duplicate clusters"),
                if conflicts.len() == 1 {
                    "carries"
                } else {
                    "carry"
                },
                things(ctx, total)
            ),
        )
        .with_examples(samples, total as u64)
        .evidence("clusters", conflicts.len())
        .evidence("identical_clusters", identical)
        .evidence("label_counts", detail)]
    }
}
