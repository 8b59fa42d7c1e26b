use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};
use crate::util::round4;

pub struct FeatureDrift;

/// Drifting features named in a finding's message and evidence.
const LISTED: usize = 10;

pub const META: RuleMeta = RuleMeta {
    code: "S001",
    name: "feature-drift",
    severity: Severity::Warning,
    summary: "Features whose distribution differs between the reference split (train) and another split.",
    doc: "**What it finds.** Every feature of every split compared with the reference split (train unless `--reference` names another; `--current` picks one split to compare). Numeric features (table columns; for images brightness, contrast, channel means, entropy, sharpness, dynamic range, width, height, aspect ratio): the two-sample Kolmogorov–Smirnov test (exact p-value when n·m ≤ 1,000,000, else Kolmogorov's limiting distribution) and the first Wasserstein distance divided by the reference split's standard deviation (n − 1; the pooled one when the reference split is constant). Categorical features (text columns; image format and mode): the chi-square test of homogeneity and the Jensen–Shannon distance (base 2, 0 to 1). A numeric feature where one value's share moved by `min-spike` or more (a default filled in for missing values, a sensor stuck at a limit, values clipped: the rest of the distribution may barely move) also gets a spike test: among the values holding `min-spike` or more of either split (5 times at least there), the one whose share moved most, against every other value (chi-square of the 2×2 table, its p-value multiplied by the number of such values), with the change of share as the effect. The p-values of one comparison are adjusted together with Benjamini–Hochberg (the q-value: the expected share of false discoveries among the features flagged). A feature drifts when q < `alpha` **and** its effect reaches `min-wasserstein`, `min-spike` or `min-js`: with a million rows every difference is significant, and the effect size says whether it matters. Skipped, with the reason in the JSON `shift` section: fewer than 20 values in a split, a constant column, a column absent from one split, more than 256 categories. When `strong-share` or more of the features drift the verdict is strong shift.\n\n\
             **Why it matters.** Test error = bias + variance + distribution shift + validation overfitting. A feature that drifts between train and test is shift the model never saw; ranked by effect size, the list says where to look (a changed sensor, a new category, a units change).\n\n\
             **Example.** `2 of 19 features of 'test' drift from 'train': f0 (Wasserstein 1.49), f7 (Wasserstein 1.48)`.",
    thresholds: crate::shift::DRIFT_THRESHOLDS,
    fix: "Check how the drifting features were collected in each split; if test reflects deployment, collect or weight training data like it (the least typical test samples are listed by covariate-shift); otherwise re-split at random (`dsaudit split`).",
};

/// The fix when the reference is a saved profile of the training data (`--against`):
/// the drift is between what the model learnt from and what it now sees.
pub(super) const AGAINST_PROFILE_FIX: &str = "The data drifts from the training data's saved profile: check the pipeline that produces it for the drifting features first (units, encodings, defaults put in for missing values, a changed sensor or camera); if the world itself changed, retrain or fine-tune on data like this (the samples least like the profile are listed by covariate-shift).";

impl Rule for FeatureDrift {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        ctx.shift
            .comparisons
            .iter()
            .filter(|c| c.features_drifting > 0)
            .map(|c| {
                let drifting: Vec<_> = c.features.iter().filter(|f| f.drifting).collect();
                // A feature that drifts by both tests (KS and a spike) is named once.
                let mut seen = std::collections::BTreeSet::new();
                let names: Vec<String> = drifting
                    .iter()
                    .filter(|f| seen.insert(f.feature.as_str()))
                    .take(LISTED)
                    .map(|f| match f.effect_name {
                        "wasserstein" => {
                            format!("{} (Wasserstein {})", f.feature, round4(f.effect))
                        }
                        "share_moved" => format!("{} (a spike: {})", f.feature, f.detail),
                        _ => format!("{} (Jensen–Shannon {})", f.feature, round4(f.effect)),
                    })
                    .collect();
                let more = c.features_drifting.saturating_sub(LISTED);
                let mut f = Finding::new(
                    self.meta(),
                    format!(
                        "{} of {} features of '{}' drift from '{}': {}{}",
                        c.features_drifting,
                        c.features_tested,
                        c.current,
                        c.reference,
                        names.join(", "),
                        if more > 0 {
                            format!(" and {more} more")
                        } else {
                            String::new()
                        }
                    ),
                )
                .evidence("reference", c.reference.clone())
                .evidence("current", c.current.clone())
                .evidence("features_tested", c.features_tested)
                .evidence("features_drifting", c.features_drifting)
                .evidence("share_drifting", round4(c.share_drifting))
                .evidence(
                    "verdict",
                    serde_json::to_value(c.verdict).unwrap_or_default(),
                )
                .evidence(
                    "drifting",
                    serde_json::to_value(drifting.iter().take(LISTED).collect::<Vec<_>>())
                        .unwrap_or_default(),
                );
                f.sample_count = 0;
                if ctx.shift.against.is_some() {
                    f.fix = AGAINST_PROFILE_FIX.to_string();
                }
                f
            })
            .collect()
    }
}
