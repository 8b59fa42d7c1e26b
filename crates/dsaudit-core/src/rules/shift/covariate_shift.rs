use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};
use crate::shift::Verdict;
use crate::util::round4;

pub struct CovariateShift;

pub const META: RuleMeta = RuleMeta {
    code: "S002",
    name: "covariate-shift",
    severity: Severity::Warning,
    summary: "A classifier or a kernel test can tell a split from the reference split by its features together.",
    doc: "**What it finds.** Adversarial validation: a logistic regression (linfa, L2, on standardized features: every numeric column and the 10 most frequent categories of each text column one-hot; for images the per-image statistics and an 8×8 grey thumbnail) learns to tell the compared split from the reference one, with 5-fold stratified cross-validation on a seeded random subsample of at most 5,000 samples per split. Reported: the out-of-fold ROC AUC with a 95% interval (Hanley–McNeil), its p-value against 0.5, the features with the largest weights, and the samples of the compared split the model finds least like the reference split (all of them scored, the 10 highest listed). Alongside, a kernel two-sample test: MMD² with an RBF kernel whose bandwidth is the median pairwise distance, on at most 500 samples per split, p-value from 200 seeded permutations. Flagged when the classifier's p-value is below `alpha` / 3 and its AUC reaches `min-auc`, or the MMD p-value is below `alpha` / 3 (the three families of shift tests share alpha, Bonferroni). An error-free AUC at or above `strong-auc` makes the verdict strong shift; otherwise mild. The finding is a warning for strong shift and info for mild.\n\n\
             **Why it matters.** Features can each look the same while their combination differs; if a simple model can tell test from train, a trained model meets inputs in test that it did not see in training. The listed samples are the ones to collect more of.\n\n\
             **Example.** `a classifier tells 'test' from 'train' with ROC AUC 0.93 (95% CI 0.92–0.94); it relies most on f0, f7`.",
    thresholds: crate::shift::CLASSIFIER_THRESHOLDS,
    fix: "Look at the listed samples and the top features: if test is what deployment looks like, collect training data like them; if the split was not random, re-split (`dsaudit split`), keeping groups together.",
};

impl Rule for CovariateShift {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let mut out = Vec::new();
        for c in &ctx.shift.comparisons {
            // The shift module judged which tests count, at the verdict's levels.
            let by_classifier = c.classifier.as_ref().filter(|_| c.classifier_evidence);
            let by_kernel = c.mmd.as_ref().filter(|_| c.kernel_evidence);
            if by_classifier.is_none() && by_kernel.is_none() {
                continue;
            }
            let mut parts = Vec::new();
            if let Some(cl) = by_classifier {
                let f = &cl.fitted;
                let top: Vec<&str> = f
                    .top_features
                    .iter()
                    .take(3)
                    .map(|w| w.feature.as_str())
                    .collect();
                parts.push(format!(
                    "a classifier tells '{}' from '{}' with ROC AUC {} (95% CI {}–{}); it relies most on {}",
                    c.current,
                    c.reference,
                    round4(f.auc),
                    round4(f.auc_low),
                    round4(f.auc_high),
                    top.join(", ")
                ));
            }
            if let Some(k) = by_kernel {
                parts.push(format!(
                    "the kernel test (MMD) finds them different (p = {})",
                    round4(k.test.p_value)
                ));
            }
            let mut f = Finding::new(self.meta(), parts.join("; "))
                .evidence("reference", c.reference.clone())
                .evidence("current", c.current.clone())
                .evidence(
                    "verdict",
                    serde_json::to_value(c.verdict).unwrap_or_default(),
                );
            if let Some(cl) = &c.classifier {
                f = f
                    .evidence("auc", round4(cl.fitted.auc))
                    .evidence("auc_p_value", cl.fitted.p_value)
                    .with_examples(cl.most_unlike.clone(), cl.most_unlike.len() as u64);
            }
            if let Some(k) = &c.mmd {
                f = f.evidence("mmd_p_value", k.test.p_value);
            }
            if c.verdict < Verdict::Strong {
                f.severity = Severity::Info;
            }
            if ctx.shift.against.is_some() {
                f.fix = super::feature_drift::AGAINST_PROFILE_FIX.to_string();
            }
            out.push(f);
        }
        out
    }
}
