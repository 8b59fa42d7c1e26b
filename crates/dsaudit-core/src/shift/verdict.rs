//! The verdict of one comparison (no evidence, mild or strong shift) and the
//! sentences that carry its numbers.

use super::{Comparison, Params, Verdict};

pub struct Judgement {
    pub verdict: Verdict,
    pub evidence: Vec<String>,
    /// The classifier's AUC is significant (p < alpha / 3) and reaches `min-auc`.
    pub by_classifier: bool,
    /// The MMD p-value is below alpha / 3.
    pub by_kernel: bool,
}

/// No evidence, mild or strong, and why. Three families of tests ask the same
/// question (per feature, classifier, kernel); the classifier and kernel tests are
/// each held to alpha / 3 (Bonferroni) and the per-feature family is already
/// corrected (Benjamini–Hochberg) with an effect-size floor.
pub fn judge(c: &Comparison, p: &Params) -> Judgement {
    let mut evidence = Vec::new();
    let mut level = Verdict::None;
    let r4 = crate::util::round4;
    if c.features_drifting > 0 {
        let top = &c.features[0];
        evidence.push(format!(
            "{} of {} features drift (largest: {}, {} {}, q = {:.2e})",
            c.features_drifting,
            c.features_tested,
            top.feature,
            top.effect_name.replace('_', "-"),
            r4(top.effect),
            top.q_value
        ));
        level = Verdict::Mild;
        if c.share_drifting >= p.strong_share {
            level = Verdict::Strong;
        }
    }
    let by_classifier = c
        .classifier
        .as_ref()
        .is_some_and(|cl| cl.fitted.p_value < p.alpha / 3.0 && cl.fitted.auc >= p.min_auc);
    let by_kernel = c
        .mmd
        .as_ref()
        .is_some_and(|k| k.test.p_value < p.alpha / 3.0);
    if let Some(cl) = c.classifier.as_ref().filter(|_| by_classifier) {
        let f = &cl.fitted;
        evidence.push(format!(
            "a classifier tells '{}' from '{}' with ROC AUC {} (95% CI {}–{}, p = {:.2e})",
            c.current,
            c.reference,
            r4(f.auc),
            r4(f.auc_low),
            r4(f.auc_high),
            f.p_value
        ));
        level = level.max(if f.auc >= p.strong_auc {
            Verdict::Strong
        } else {
            Verdict::Mild
        });
    }
    if let Some(k) = c.mmd.as_ref().filter(|_| by_kernel) {
        evidence.push(format!(
            "kernel two-sample test: MMD² {} (p = {} from {} permutations)",
            r4(k.test.mmd2),
            r4(k.test.p_value),
            k.test.permutations
        ));
        level = level.max(Verdict::Mild);
    }
    if evidence.is_empty() {
        let auc = c
            .classifier
            .as_ref()
            .map(|cl| format!(", classifier ROC AUC {}", r4(cl.fitted.auc)))
            .unwrap_or_default();
        evidence.push(format!(
            "no feature drifts after correction ({} tested){auc}",
            c.features_tested
        ));
    }
    Judgement {
        verdict: level,
        evidence,
        by_classifier,
        by_kernel,
    }
}
