use super::{class_counts, split_name};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};
use std::collections::BTreeSet;

pub struct ClassMissingFromSplit;

pub const META: RuleMeta = RuleMeta {
    code: "B003",
    name: "class-missing-from-split",
    severity: Severity::Warning,
    summary: "A class present in one split is absent from another.",
    doc: "**What it finds.** Classes that have readable, labelled samples in some split and none in another. Absent from the training split it is an error (the model cannot learn it); absent from an evaluation split, a warning (it is never evaluated).\n\n\
             **Why it matters.** Class indices built per split disagree, metrics averaged over classes change meaning, and a test class never seen in training is guaranteed error.\n\n\
             **Example.** `class 'lynx' is in test (14) but not in train`.",
    thresholds: &[],
    fix: "Re-split so that every class is in every split (stratified; see `dsaudit split`), or drop the class everywhere.",
};

impl Rule for ClassMissingFromSplit {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let counts = class_counts(ctx);
        if counts.len() < 2 {
            return Vec::new();
        }
        let all: BTreeSet<&String> = counts.iter().flat_map(|(_, c)| c.keys()).collect();
        let mut out = Vec::new();
        for class in all {
            let present: Vec<String> = counts
                .iter()
                .filter(|(_, c)| c.contains_key(class))
                .map(|(s, c)| format!("{} ({})", split_name(s), c[class]))
                .collect();
            for (split, c) in &counts {
                if c.contains_key(class) {
                    continue;
                }
                let mut f = Finding::new(
                    self.meta(),
                    format!(
                        "class '{class}' is in {} but not in {}",
                        present.join(", "),
                        split_name(split)
                    ),
                )
                .evidence("class", class.clone())
                .evidence("missing_from", split.clone());
                if split.as_deref() == Some("train") {
                    f.severity = Severity::Error;
                }
                out.push(f);
            }
        }
        out
    }
}
