//! The result of a scan: what the pipeline found in one dataset, which the reports
//! and the builds read.

use crate::finding::{Finding, Severity};
use crate::load::DatasetSpec;
use crate::load::Loaded;
use crate::tally::{ClassCounts, Tally};
use std::time::Duration;

pub struct Scan {
    pub spec: DatasetSpec,
    pub loaded: Loaded,
    pub findings: Vec<Finding>,
    pub dups: crate::duplicates::Duplicates,
    pub shift: crate::shift::Shift,
    pub labels: crate::labels::Labels,
    pub elapsed: Duration,
    /// Samples per split and label, readable or not.
    pub(crate) tally: Tally,
}

impl Scan {
    pub fn guesses(&self) -> impl Iterator<Item = &String> {
        self.spec.guesses.iter().chain(&self.loaded.guesses)
    }

    pub fn tally(&self) -> Tally {
        self.tally.clone()
    }

    /// Boxes per split and class of a detection dataset (None: a category declared
    /// nowhere), in the splits' order; None for other datasets.
    pub fn box_tally(&self) -> Option<Vec<(Option<String>, ClassCounts)>> {
        let d = self.loaded.detection.as_ref()?;
        let splits = self.loaded.manifest.strs("split");
        let mut tally = Tally::new();
        for b in &d.boxes {
            let split = splits.get(b.sample).map(str::to_string);
            *tally
                .entry(split)
                .or_default()
                .entry(b.class.clone())
                .or_default() += 1;
        }
        Some(in_split_order(tally))
    }

    /// Splits in train, val, test order, then the rest by name.
    pub fn splits_ordered(&self) -> Vec<(Option<String>, ClassCounts)> {
        in_split_order(self.tally())
    }

    /// Every label of any split, sorted, unlabeled (None) last: the rows of a class table.
    pub fn classes(&self) -> Vec<Option<String>> {
        let mut classes: Vec<Option<String>> = self
            .tally
            .values()
            .flat_map(|c| c.keys().cloned())
            .collect();
        classes.sort_by(|a, b| (a.is_none(), a).cmp(&(b.is_none(), b)));
        classes.dedup();
        classes
    }

    /// Samples in the dataset: the manifest's, or every row of a table read in blocks
    /// whose manifest holds a sample.
    pub fn samples(&self) -> u64 {
        match &self.loaded.tally {
            Some(t) => t.values().flat_map(|c| c.values()).sum(),
            None => self.loaded.manifest.len() as u64,
        }
    }

    pub fn unreadable(&self) -> usize {
        self.loaded.manifest.strs("error_kind").len()
            - self.loaded.manifest.strs("error_kind").null_count()
    }

    pub fn count(&self, sev: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == sev).count()
    }

    pub fn fails(&self, fail_on: Option<Severity>) -> bool {
        fail_on.is_some_and(|level| self.findings.iter().any(|f| f.severity >= level))
    }
}

/// A tally's splits in train, val, test order, then the rest by name, "no split" last.
fn in_split_order(tally: Tally) -> Vec<(Option<String>, ClassCounts)> {
    let mut v: Vec<_> = tally.into_iter().collect();
    v.sort_by_key(|(s, _)| {
        (
            s.is_none(),
            crate::util::split_order(s.as_deref().unwrap_or("")),
        )
    });
    v
}
