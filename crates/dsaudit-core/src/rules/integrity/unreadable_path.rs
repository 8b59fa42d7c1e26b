use crate::finding::{Finding, SampleRef, Severity};
use crate::rules::{Context, Rule};

pub struct UnreadablePath;

impl Rule for UnreadablePath {
    fn code(&self) -> &'static str {
        "I013"
    }
    fn name(&self) -> &'static str {
        "unreadable-path"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "Part of the dataset tree cannot be walked: an unreadable folder, a symlink loop, a dangling link."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** Folders that cannot be listed (permissions), symbolic links that loop back to an ancestor, and links that point nowhere. The walk goes on past them; what is below them is not scanned.\n\n\
         **Why it matters.** Whatever sits behind them is missing from the scan and, most likely, from training as well.\n\n\
         **Example.** `train/cat/loop: symbolic link loop back to train`."
    }
    fn fix(&self) -> &'static str {
        "Fix the permissions or remove the broken or looping links."
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
            self,
            format!(
                "{} paths could not be walked; what lies below them was not scanned",
                issues.len()
            ),
        )
        .evidence("count", issues.len())
        .with_samples(samples)]
    }
}
