//! The rule registry. A rule is one file with a code, a kebab-case name, a default
//! severity, its documentation, and a `check` over the loaded dataset.

pub mod annotations;
pub mod balance;
pub mod codes;
pub mod duplicates;
pub mod integrity;
pub mod labels;
pub mod normalization;
pub mod outliers;
pub mod select;
pub mod shift;
#[cfg(test)]
pub mod testing;
pub mod thresholds;

use crate::finding::{Finding, SampleRef, Severity};
pub use crate::finding::{RuleMeta, Threshold};
use crate::load::DatasetSpec;
use crate::load::Loaded;

pub struct Context<'a> {
    pub spec: &'a DatasetSpec,
    pub loaded: &'a Loaded,
    pub thresholds: &'a thresholds::Thresholds,
    /// Readable samples per split and label, counted once for every rule.
    pub usable: crate::tally::Tally,
    /// Duplicate clusters, found once for every rule.
    pub dups: &'a crate::duplicates::Duplicates,
    /// Distribution shift between splits, measured once for every rule.
    pub shift: &'a crate::shift::Shift,
    /// Label issues and outlier scores, found once for every rule.
    pub labels: &'a crate::labels::Labels,
}

impl Context<'_> {
    /// The user's value for a rule's threshold, else its documented default.
    pub fn threshold(&self, rule: &dyn Rule, key: &str) -> f64 {
        self.thresholds.get(rule, key)
    }

    /// Samples per split and label over the whole dataset: `usable`, or for a table
    /// read in blocks the counts over every row (the stages saw a sample, whose counts
    /// `usable` holds and their shares are taken of).
    pub fn counts(&self) -> &crate::tally::Tally {
        self.loaded.tally.as_ref().unwrap_or(&self.usable)
    }
}

pub trait Rule: Sync {
    fn meta(&self) -> &RuleMeta;
    fn check(&self, ctx: &Context) -> Vec<Finding>;

    fn code(&self) -> &'static str {
        self.meta().code
    }
    fn name(&self) -> &'static str {
        self.meta().name
    }
    fn default_severity(&self) -> Severity {
        self.meta().severity
    }
    fn summary(&self) -> &'static str {
        self.meta().summary
    }
    fn doc(&self) -> &'static str {
        self.meta().doc
    }
    fn thresholds(&self) -> &'static [Threshold] {
        self.meta().thresholds
    }
    fn fix(&self) -> &'static str {
        self.meta().fix
    }
    /// The rule's type, with its module path: the registry's test checks the folder
    /// against the family.
    fn type_name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }
}

/// Every rule, in code order (the codes table's order).
pub fn registry() -> Vec<&'static dyn Rule> {
    codes::CODES.iter().map(|(_, rule)| *rule).collect()
}

pub fn run(rules: &[&'static dyn Rule], ctx: &Context) -> Vec<Finding> {
    let mut findings: Vec<Finding> = rules.iter().flat_map(|r| r.check(ctx)).collect();
    if ctx.loaded.tally.is_some() {
        on_the_sample(&mut findings, ctx.loaded.manifest.len());
    }
    // Worst first, then by code, then by the first sample: a stable order.
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(b.code))
            .then_with(|| {
                a.samples
                    .first()
                    .map(|s| s.id)
                    .cmp(&b.samples.first().map(|s| s.id))
            })
            .then_with(|| a.message.cmp(&b.message))
    });
    findings
}

/// A table read in blocks: the families whose stages saw its sample give the sample's
/// counts, and say so in the finding itself, where a reader of one finding looks.
fn on_the_sample(findings: &mut [Finding], kept: usize) {
    use codes::Family;
    for f in findings {
        let sampled = matches!(
            Family::of(f.code),
            Some(Family::Labels | Family::Duplicates | Family::Shift | Family::Outliers)
        );
        if sampled {
            f.message
                .push_str(&format!(" (in a sample of {kept} rows)"));
            f.evidence.insert("sampled_rows".into(), kept.into());
        }
    }
}

/// Samples whose `error_kind` is one of `kinds`, each with its error as the note.
pub fn samples_with_error(ctx: &Context, kinds: &[&str]) -> Vec<SampleRef> {
    let m = &ctx.loaded.manifest;
    let errs = m.strs("error");
    m.strs("error_kind")
        .iter()
        .enumerate()
        .filter(|(_, k)| k.is_some_and(|k| kinds.contains(&k)))
        .map(|(i, _)| {
            let mut r = m.sample_ref(i);
            r.note = errs.get(i).map(str::to_string);
            r
        })
        .collect()
}

/// Per-split tallies of usable samples (no error), keyed by split then label.
pub fn usable_counts(loaded: &Loaded) -> crate::tally::Tally {
    let m = &loaded.manifest;
    let kinds = m.strs("error_kind");
    crate::tally::tally(
        m.strs("split")
            .iter()
            .zip(m.strs("label").iter())
            .zip(kinds.iter())
            .filter(|(_, k)| k.is_none())
            .map(|(pair, _)| pair),
    )
}
