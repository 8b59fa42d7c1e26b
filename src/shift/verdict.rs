//! The verdict of one comparison (no evidence, mild or strong shift) and the
//! sentences that carry its numbers.

use super::{Comparison, Params, Verdict};

/// No evidence, mild or strong, and why. Three families of tests ask the same
/// question (per feature, classifier, kernel); the classifier and kernel tests are
/// each held to alpha / 3 (Bonferroni) and the per-feature family is already
/// corrected (Benjamini–Hochberg) with an effect-size floor.
pub fn judge(c: &Comparison, p: &Params) -> (Verdict, Vec<String>) {
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
    if let Some(cl) = &c.classifier {
        let f = &cl.fitted;
        if f.p_value < p.alpha / 3.0 && f.auc >= p.min_auc {
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
    }
    if let Some(k) = c.mmd.as_ref().filter(|k| k.test.p_value < p.alpha / 3.0) {
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
    (level, evidence)
}
