use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct EmptySplit;

pub const META: RuleMeta = RuleMeta {
    code: "I011",
    name: "empty-split",
    severity: Severity::Error,
    summary: "A split folder, file or array holds no readable sample.",
    doc: "**What it finds.** A split that the layout declares (a `test/` folder, a `val.csv` file, an `X_test.npy` array) with no readable sample in it.\n\n\
             **Why it matters.** Evaluation on an empty split reports nothing or divides by zero, and a pipeline that expects the split fails late.\n\n\
             **Example.** `val.csv` has a header and no rows.",
    thresholds: &[],
    fix: "Fill the split (see `dsaudit split`) or remove it.",
};

impl Rule for EmptySplit {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let counts = ctx.counts();
        let mut out = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for split in &ctx.loaded.declared_splits {
            if !seen.insert(split) {
                continue;
            }
            let n: u64 = counts
                .get(&Some(split.clone()))
                .map(|c| c.values().sum())
                .unwrap_or(0);
            if n == 0 {
                out.push(
                    Finding::new(
                        self.meta(),
                        format!("split '{split}' holds no readable sample"),
                    )
                    .evidence("split", split.clone()),
                );
            }
        }
        out
    }
}
