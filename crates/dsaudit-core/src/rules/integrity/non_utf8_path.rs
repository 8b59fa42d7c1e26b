use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};
use std::collections::HashSet;

pub struct NonUtf8Path;

pub const META: RuleMeta = RuleMeta {
    code: "I014",
    name: "non-utf8-path",
    severity: Severity::Warning,
    summary: "A sample's path is not valid UTF-8.",
    doc: "**What it finds.** Sample files whose names are not valid UTF-8 (often Latin-1 names from old archives). dsaudit reads them; their names are shown with U+FFFD in place of the bad bytes.\n\n\
             **Why it matters.** Python's loaders, CSV exports and most cloud storage choke on such names or mangle them, so the sample silently disappears downstream.\n\n\
             **Example.** `train/caf\\xe9/01.png`.",
    thresholds: &[],
    fix: "Rename the files to UTF-8 names (e.g. with convmv).",
};

impl Rule for NonUtf8Path {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let bad: HashSet<&str> = ctx
            .spec
            .walked
            .files
            .iter()
            .filter(|f| !f.utf8)
            .map(|f| f.rel.as_str())
            .collect();
        if bad.is_empty() {
            return Vec::new();
        }
        let m = &ctx.loaded.manifest;
        let samples: Vec<_> = m
            .strs("source")
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some_and(|s| bad.contains(s)))
            .map(|(i, _)| m.sample_ref(i))
            .collect();
        if samples.is_empty() {
            return Vec::new();
        }
        vec![Finding::new(
            self.meta(),
            format!("{} sample paths are not valid UTF-8", samples.len()),
        )
        .evidence("count", samples.len())
        .with_samples(samples)]
    }
}
