use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct RepeatedKey;

pub const META: RuleMeta = RuleMeta {
    code: "I017",
    name: "repeated-key",
    severity: Severity::Warning,
    summary: "A WebDataset key names more than one sample of a split.",
    doc: "**What it finds.** Keys (a member's path up to the first dot of its name) that more than one sample of the same split carries: in two of its shards, or twice in one shard. The same key in two splits is not reported: writers often number each split from zero, and a sample copied between splits is found by its content (D003).\n\n\
             **Why it matters.** WebDataset loaders take the key as the sample's identity: caches, resumption and de-duplication keyed by it merge or skip the second sample, and a shard written twice (a re-run of a sharding job) counts every sample twice.\n\n\
             **Example.** `37 sample keys are repeated (first: 'n01440764/000123' in train-000003.tar and train-000007.tar)`.",
    thresholds: &[],
    fix: "Give every sample a key unique across all shards (prefix the shard or the split, or re-shard from a de-duplicated list); if the samples are truly the same, keep one.",
};

impl Rule for RepeatedKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let repeated = &ctx.loaded.repeated_keys;
        let Some(example) = repeated.first() else {
            return Vec::new();
        };
        let shard = |i: usize| {
            let s = ctx.loaded.manifest.sample_ref(i).source;
            s.split_once(':')
                .map(|(shard, _)| shard.to_string())
                .unwrap_or(s)
        };
        let mut samples: Vec<_> = repeated
            .iter()
            .flat_map(|r| [r.first, r.again])
            .map(|i| ctx.loaded.manifest.sample_ref(i))
            .collect();
        samples.sort();
        samples.dedup();
        vec![Finding::new(
            self.meta(),
            format!(
                "{} sample keys are repeated (first: '{}' in {} and {})",
                repeated.len(),
                example.key,
                shard(example.first),
                shard(example.again)
            ),
        )
        .with_samples(samples)
        .evidence("repeated", repeated.len() as u64)]
    }
}
