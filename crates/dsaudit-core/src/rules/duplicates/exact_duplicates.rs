use super::{identity, sample, things, MAX_LISTED};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};
use crate::util::count;
use crate::util::round4;

pub struct ExactDuplicates;

pub const META: RuleMeta = RuleMeta {
    code: "D001",
    name: "exact-duplicates",
    severity: Severity::Warning,
    summary: "Samples that are identical copies of each other.",
    doc: "**What it finds.** Groups of identical samples. Images: the same file bytes (BLAKE3), or the same decoded pixels under another name or encoding (a PNG and its lossless WebP copy). Table rows: the same value in every feature column (label and split excluded), with -0.0 equal to 0.0 and every NaN equal to every other; rows of `train.csv` and `test.csv` are compared with each other. Each group is part of a duplicate cluster whose id is in the manifest's `dup_cluster` column and the JSON `duplicates` section.\n\n\
             **Why it matters.** Copies weigh some samples more than others in training and in the test score, inflate the dataset's apparent size, and are the usual source of train/test leakage (D003) and of conflicting labels (L001).\n\n\
             **Example.** `40 redundant copies: 75 images in 35 groups of identical copies`, each sample noted `cluster 3 · copy 2 of 3 · same bytes`.",
    thresholds: &[],
    fix: "Keep one sample per group (`dsaudit clean` does, logging each drop); if the copies are deliberate oversampling, do it in the data loader instead.",
};

impl Rule for ExactDuplicates {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let groups: Vec<(u32, &Vec<u32>)> = ctx
            .dups
            .clusters
            .iter()
            .flat_map(|c| c.exact.iter().map(move |g| (c.id, g)))
            .collect();
        if groups.is_empty() {
            return Vec::new();
        }
        let in_groups: usize = groups.iter().map(|(_, g)| g.len()).sum();
        let redundant = in_groups - groups.len();
        let mut samples = Vec::new();
        for (id, g) in &groups {
            let how = identity(ctx, g);
            for (k, &m) in g.iter().enumerate() {
                if samples.len() < MAX_LISTED {
                    samples.push(sample(
                        ctx,
                        m,
                        format!("cluster {id} · copy {} of {} · {how}", k + 1, g.len()),
                    ));
                }
            }
        }
        let usable: u64 = ctx.usable.values().flat_map(|c| c.values()).sum();
        vec![Finding::new(
            self.meta(),
            format!(
                "{}: {} in {} of identical copies",
                count(redundant, "redundant copy", "redundant copies"),
                things(ctx, in_groups),
                count(groups.len(), "group", "groups")
            ),
        )
        .with_examples(samples, in_groups as u64)
        .evidence("groups", groups.len())
        .evidence("redundant", redundant)
        .evidence(
            "redundant_share",
            round4(redundant as f64 / usable.max(1) as f64),
        )
        .evidence(
            "largest_group",
            groups.iter().map(|(_, g)| g.len()).max().unwrap_or(0),
        )]
    }
}
