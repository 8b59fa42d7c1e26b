use super::{class_counts, counts_json, split_name};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta, Threshold};
use crate::util::round4;

pub struct LabelShift;

pub use crate::stats::contingency::compare;

pub const META: RuleMeta = RuleMeta {
    code: "B004",
    name: "label-shift",
    severity: Severity::Warning,
    summary: "The class mix of a split differs from the training split's.",
    doc: "**What it finds.** For every split other than train, a chi-square test of homogeneity of its class counts against train's (p-value) and the total variation distance (TVD, half the sum of absolute differences of class shares). Flagged when p < `alpha` **and** TVD ≥ `min-tvd`: the test says the difference is real, the TVD that it is large enough to matter (with millions of samples every difference is significant). Against a saved profile of the training data (`--against`), each split's class mix is compared with the profile's.\n\n\
             **Why it matters.** Label shift: a model calibrated to train's class prior is miscalibrated on test, and test accuracy moves with the mix, not with the model. It is one term of distribution shift in the error decomposition.\n\n\
             **Example.** `split 'test' vs train: TVD 0.21, chi-square 84.2 (2 dof), p = 5.2e-19`.",
    thresholds: &[
        // 0.01, as feature-drift's: on random halves of real tables (`just eval-shift`)
        // 0.05 called 8 of 300 class mixes shifted, 0.01 called 2.
        Threshold {
            key: "alpha",
            default: 0.01,
            doc: "p-value below which the class mixes differ",
        },
        Threshold {
            key: "min-tvd",
            default: 0.1,
            doc: "smallest total variation distance worth reporting",
        },
    ],
    fix: "If test reflects deployment, re-weight or resample training to test's prior (`dsaudit rebalance --strategy target`); otherwise re-split with stratification.",
};

impl Rule for LabelShift {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let (alpha, min_tvd) = (ctx.threshold(self, "alpha"), ctx.threshold(self, "min-tvd"));
        if ctx.shift.against.is_some() {
            return against_profile(self, ctx, alpha, min_tvd);
        }
        let counts = class_counts(ctx);
        let Some((_, train)) = counts.iter().find(|(s, _)| s.as_deref() == Some("train")) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (split, c) in &counts {
            if split.as_deref() == Some("train") || split.is_none() {
                continue;
            }
            let (chi2, dof, p, tvd) = compare(train, c);
            if p < alpha && tvd >= min_tvd {
                out.push(
                    shifted(
                        self,
                        (&split_name(split), split.clone().into()),
                        "train",
                        (chi2, dof, p, tvd),
                    )
                    .evidence("train_counts", counts_json(train))
                    .evidence("counts", counts_json(c)),
                );
            }
        }
        out
    }
}

/// The fix when the class mix moved from a saved profile of the training data.
const AGAINST_PROFILE_FIX: &str = "The class mix moved from the training data's saved profile: if this is what the model now sees, re-weight or recalibrate the model to this prior (`dsaudit rebalance --strategy target` on the training data); otherwise check how this data was sampled or labelled.";

/// Against a saved profile (`--against`) the training split is the profile's, which
/// the shift comparisons read: each split's class mix against the profile's.
fn against_profile(rule: &LabelShift, ctx: &Context, alpha: f64, min_tvd: f64) -> Vec<Finding> {
    ctx.shift
        .comparisons
        .iter()
        .filter_map(|c| {
            let l = c
                .label_shift
                .as_ref()
                .filter(|l| l.p_value < alpha && l.tvd >= min_tvd)?;
            let mut f = shifted(
                rule,
                (&c.current, c.current.clone().into()),
                "the saved profile",
                (l.chi2, l.dof, l.p_value, l.tvd),
            )
            .evidence("reference", c.reference.clone());
            f.fix = AGAINST_PROFILE_FIX.to_string();
            Some(f)
        })
        .collect()
}

/// The finding for `split` (as shown, and its evidence value) against `versus`, from
/// the class mixes' comparison (chi-square, dof, p-value, TVD).
fn shifted(
    rule: &LabelShift,
    (shown, split): (&str, serde_json::Value),
    versus: &str,
    (chi2, dof, p, tvd): (f64, f64, f64, f64),
) -> Finding {
    Finding::new(
        rule.meta(),
        format!("split '{shown}' vs {versus}: TVD {tvd:.2}, chi-square {chi2:.1} ({dof} dof), p = {p:.2e}"),
    )
    .evidence("split", split)
    .evidence("tvd", round4(tvd))
    .evidence("chi2", round4(chi2))
    .evidence("dof", dof)
    .evidence("p_value", p)
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::collections::BTreeMap;

    fn m(v: &[(&str, u64)]) -> BTreeMap<String, u64> {
        v.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    }

    #[test]
    fn against_scipy_reference() {
        // scipy.stats.chi2_contingency([[50, 30, 20], [20, 30, 50]], correction=False)
        // -> statistic 25.714285714285715, dof 2, p 2.6074368808e-06 (= exp(-x/2) for 2 dof)
        let (chi2, dof, p, tvd) = compare(
            &m(&[("a", 50), ("b", 30), ("c", 20)]),
            &m(&[("a", 20), ("b", 30), ("c", 50)]),
        );
        assert!((chi2 - 25.714285714285715).abs() < 1e-9);
        assert_eq!(dof, 2.0);
        assert!(
            (p - 2.6074368808e-06).abs() / 2.6074368808e-06 < 1e-8,
            "{p}"
        );
        assert!((tvd - 0.3).abs() < 1e-12);
    }

    #[test]
    fn identical_mixes() {
        let (chi2, _, p, tvd) = compare(&m(&[("a", 10), ("b", 20)]), &m(&[("a", 5), ("b", 10)]));
        assert!(chi2.abs() < 1e-12 && (p - 1.0).abs() < 1e-9 && tvd.abs() < 1e-12);
    }
}
