use super::{sample, things, MAX_LISTED};
use crate::finding::{Finding, SampleRef, Severity};
use crate::rules::{Context, Rule, RuleMeta};
use crate::util::{count, round4, split_order};
use std::collections::BTreeMap;

pub struct Leakage;

pub const META: RuleMeta = RuleMeta {
    code: "D003",
    name: "split-leakage",
    severity: Severity::Error,
    summary: "Samples of an evaluation split with an identical or near copy in an earlier split.",
    doc: "**What it finds.** Duplicate clusters (D001 and D002) with members in two splits: train and test, train and val, or val and test (splits are ordered train, train-val, val, test-val, test, then others by name). One finding per pair of splits, counting the later split's samples that have a copy in the earlier one and what share of that split they are. An error when the later split is test, a warning otherwise.\n\n\
             **Why it matters.** A test sample whose copy was trained on measures memory, not generalisation: the test score is inflated by up to the leaked share, and a val copy does the same to model selection. It is the most common way a published number turns out to be wrong.\n\n\
             Each leaked sample is counted as identical (the same pixels or row as a sample of the earlier split) or near (a confirmed near copy, D002, with its pixel similarity), so that a user can tell a re-saved file from a re-encoded or shifted one.\n\n\
             **Example.** `31 images of test (5.2%) have a copy in train: 20 identical, 11 near, in 27 clusters`.",
    thresholds: &[],
    fix: "Remove the leaked samples from the later split or move each cluster whole into one split (`dsaudit clean` drops them; `dsaudit split` keeps clusters together).",
};

impl Rule for Leakage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        leaks(ctx)
            .into_iter()
            .map(|(((_, a), (_, b)), (clusters, leaked))| {
                let size: u64 = ctx.usable.get(&Some(b.clone())).map(|c| c.values().sum()).unwrap_or(0);
                let identical = leaked.iter().filter(|l| l.2).count();
                let share = leaked.len() as f64 / size.max(1) as f64;
                let samples = listed(ctx, &leaked);
                let mut f = Finding::new(
                    self.meta(),
                    format!(
                        "{} of {b} ({:.1}%) {} a copy in {a}: {identical} identical, {} near, in {}",
                        things(ctx, leaked.len()),
                        share * 100.0,
                        if leaked.len() == 1 { "has" } else { "have" },
                        leaked.len() - identical,
                        count(clusters.len(), "cluster", "clusters"),
                    ),
                )
                .with_examples(samples, leaked.len() as u64)
                .evidence("from_split", a.clone())
                .evidence("into_split", b.clone())
                .evidence("leaked", leaked.len())
                .evidence("leaked_identical", identical)
                .evidence("leaked_near", leaked.len() - identical)
                .evidence("leaked_share", round4(share))
                .evidence("into_split_size", size)
                .evidence("clusters", clusters.len());
                // A copy in test inflates the reported number; elsewhere (val, custom splits)
                // it skews model selection, which is serious but not the headline figure.
                if b != "test" {
                    f.severity = Severity::Warning;
                }
                f
            })
            .collect()
    }
}

/// A split, by its place in the usual order and its name.
type Split = (u8, String);
/// The clusters two splits share, and the leaked samples of the later one: (sample,
/// its witness in the earlier split, identical to it).
type Leak = (Vec<u32>, Vec<(u32, u32, bool)>);

/// Every pair of splits (earlier, later) that share a cluster, with what leaked.
fn leaks(ctx: &Context) -> BTreeMap<(Split, Split), Leak> {
    let splits = ctx.loaded.manifest.strs("split");
    let dups = ctx.dups;
    let same = |m: u32| dups.same.get(m as usize).copied().unwrap_or(m);
    let mut leaks: BTreeMap<(Split, Split), Leak> = BTreeMap::new();
    for c in &dups.clusters {
        let mut by_split: BTreeMap<(u8, String), Vec<u32>> = BTreeMap::new();
        for &m in &c.members {
            if let Some(s) = splits.get(m as usize) {
                by_split.entry(split_order(s)).or_default().push(m);
            }
        }
        let names: Vec<_> = by_split.keys().cloned().collect();
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                let entry = leaks.entry((a.clone(), b.clone())).or_default();
                entry.0.push(c.id);
                let earlier = &by_split[a];
                for &m in &by_split[b] {
                    // An identical copy in the earlier split if there is one, else
                    // the representative (every near member is within the
                    // threshold of it), else the earlier split's first member.
                    let (witness, identical) = match earlier.iter().find(|&&w| same(w) == same(m)) {
                        Some(&w) => (w, true),
                        None if earlier.contains(&c.representative) => (c.representative, false),
                        None => (earlier[0], false),
                    };
                    entry.1.push((m, witness, identical));
                }
            }
        }
    }
    leaks
}

/// The leaked samples listed, each with its witness.
fn listed(ctx: &Context, leaked: &[(u32, u32, bool)]) -> Vec<SampleRef> {
    let dups = ctx.dups;
    let same = |m: u32| dups.same.get(m as usize).copied().unwrap_or(m);
    let manifest = &ctx.loaded.manifest;
    leaked
        .iter()
        .take(MAX_LISTED)
        .map(|&(m, w, ident)| {
            let id = dups.cluster_of[m as usize].unwrap_or(0);
            let of = manifest.sample_ref(w as usize).display();
            let c = &dups.clusters[id as usize];
            let note = if ident {
                format!("cluster {id} · identical to {of}")
            } else {
                let s = if w == c.representative {
                    c.similarity(m, same)
                } else {
                    None
                };
                match s {
                    Some(s) => format!("cluster {id} · near copy of {of} (similarity {s:.4})"),
                    None => format!("cluster {id} · near copy of {of}"),
                }
            };
            sample(ctx, m, note)
        })
        .collect()
}
