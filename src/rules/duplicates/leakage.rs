use super::{sample, things, MAX_LISTED};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule};
use crate::util::{count, round4, split_order};
use std::collections::BTreeMap;

pub struct Leakage;

impl Rule for Leakage {
    fn code(&self) -> &'static str {
        "D003"
    }
    fn name(&self) -> &'static str {
        "split-leakage"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "Samples of an evaluation split with an identical or near copy in an earlier split."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** Duplicate clusters (D001 and D002) with members in two splits: train and test, train and val, or val and test (splits are ordered train, train-val, val, test-val, test, then others by name). One finding per pair of splits, counting the later split's samples that have a copy in the earlier one and what share of that split they are. An error when the later split is test, a warning otherwise.\n\n\
         **Why it matters.** A test sample whose copy was trained on measures memory, not generalisation: the test score is inflated by up to the leaked share, and a val copy does the same to model selection. It is the most common way a published number turns out to be wrong.\n\n\
         **Example.** `31 images of test (5.2%) have a copy in train, in 27 clusters (20 identical, 7 near)`."
    }
    fn fix(&self) -> &'static str {
        "Remove the leaked samples from the later split or move each cluster whole into one split (`dsaudit clean` drops them; `dsaudit split` keeps clusters together)."
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let splits = ctx.loaded.manifest.strs("split");
        // (earlier, later) → (clusters, leaked samples of `later` with one copy of each in `earlier`).
        type Leak = (Vec<(u32, bool)>, Vec<(u32, u32)>);
        type Split = (u8, String);
        let mut leaks: BTreeMap<(Split, Split), Leak> = BTreeMap::new();
        for c in &ctx.dups.clusters {
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
                    // Identical when some exact group spans both splits.
                    let in_split =
                        |m: &u32, s: &(u8, String)| splits.get(*m as usize) == Some(s.1.as_str());
                    let identical = c.exact.iter().any(|g| {
                        g.iter().any(|m| in_split(m, a)) && g.iter().any(|m| in_split(m, b))
                    });
                    entry.0.push((c.id, identical));
                    let witness = by_split[a][0];
                    entry.1.extend(by_split[b].iter().map(|&m| (m, witness)));
                }
            }
        }
        let manifest = &ctx.loaded.manifest;
        leaks
            .into_iter()
            .map(|(((_, a), (_, b)), (clusters, leaked))| {
                let size: u64 = ctx.usable.get(&Some(b.clone())).map(|c| c.values().sum()).unwrap_or(0);
                let identical = clusters.iter().filter(|(_, e)| *e).count();
                let share = leaked.len() as f64 / size.max(1) as f64;
                let samples = leaked
                    .iter()
                    .take(MAX_LISTED)
                    .map(|&(m, w)| {
                        let c = ctx.dups.cluster_of[m as usize].unwrap_or(0);
                        sample(ctx, m, format!("cluster {c} · copy of {}", manifest.sample_ref(w as usize).display()))
                    })
                    .collect();
                let mut f = Finding::new(
                    self,
                    format!(
                        "{} of {b} ({:.1}%) {} a copy in {a}, in {} ({identical} identical, {} near)",
                        things(ctx, leaked.len()),
                        share * 100.0,
                        if leaked.len() == 1 { "has" } else { "have" },
                        count(clusters.len(), "cluster", "clusters"),
                        clusters.len() - identical
                    ),
                )
                .with_examples(samples, leaked.len() as u64)
                .evidence("from_split", a.clone())
                .evidence("into_split", b.clone())
                .evidence("leaked", leaked.len())
                .evidence("leaked_share", round4(share))
                .evidence("into_split_size", size)
                .evidence("clusters", clusters.len())
                .evidence("identical_clusters", identical);
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
