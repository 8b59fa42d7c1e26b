use crate::finding::{Finding, SampleRef, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct UnreadablePath;

pub const META: RuleMeta = RuleMeta {
    code: "I013",
    name: "unreadable-path",
    severity: Severity::Warning,
    summary: "Part of the dataset tree cannot be walked: an unreadable folder, a symlink loop, a dangling link.",
    doc: "**What it finds.** Folders that cannot be listed (permissions), symbolic links that loop back to an ancestor, and links that point nowhere. The walk goes on past them; what is below them is not scanned.\n\n\
             **Why it matters.** Whatever sits behind them is missing from the scan and, most likely, from training as well.\n\n\
             **Example.** `train/cat/loop: symbolic link loop back to train`.",
    thresholds: &[],
    fix: "Fix the permissions or remove the broken or looping links.",
};

impl Rule for UnreadablePath {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let issues = &ctx.loaded.walk_issues;
        if issues.is_empty() {
            return Vec::new();
        }
        let samples = issues
            .iter()
            .map(|w| SampleRef {
                id: u64::MAX,
                source: w.path.clone(),
                row: None,
                note: Some(w.problem.clone()),
            })
            .collect::<Vec<_>>();
        vec![Finding::new(
            self.meta(),
            format!(
                "{} paths could not be walked; what lies below them was not scanned",
                issues.len()
            ),
        )
        .evidence("count", issues.len())
        .with_samples(samples)]
    }
}
