use super::{class_counts, counts_json, split_name};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta, Threshold};
use crate::util::round4;

pub struct ClassImbalance;

/// Normalized Shannon entropy of the class distribution: 1 balanced, towards 0 dominated by one class.
pub fn normalized_entropy(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    if counts.len() < 2 || total == 0 {
        return 1.0;
    }
    let h: f64 = counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = n as f64 / total as f64;
            -p * p.ln()
        })
        .sum();
    h / (counts.len() as f64).ln()
}

pub const META: RuleMeta = RuleMeta {
    code: "B001",
    name: "class-imbalance",
    severity: Severity::Warning,
    summary: "In a split, the largest class outnumbers the smallest by more than the allowed ratio.",
    doc: "**What it finds.** Per split, the ratio of the largest to the smallest class count (classes with at least one readable, labelled sample), with the normalized entropy of the class distribution (1 = balanced, towards 0 = one class dominates).\n\n\
             **Why it matters.** A model trained on a skewed mix learns the prior: accuracy looks high while the small classes are never predicted. The default ratio of 10 sits between imbalanced-learn's usual notion of strong imbalance (1:10) and cleanlab's class-imbalance issue (a class share below 0.1 × 1/K, which for two classes is a 1:19 ratio), so the warning comes before the damage is severe.\n\n\
             **Example.** `split 'train': largest class 'cat' (2000) is 20.0× the smallest 'lynx' (100); normalized entropy 0.28`.",
    thresholds: &[Threshold {
        key: "max-ratio",
        default: 10.0,
        doc: "largest / smallest class count above which a split is flagged",
    }],
    fix: "Collect more of the small classes, or rebalance the training split (under/over-sampling, class weights in the loss); evaluate with per-class metrics.",
};

impl Rule for ClassImbalance {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let max_ratio = ctx.threshold(self, "max-ratio");
        let mut out = Vec::new();
        for (split, counts) in class_counts(ctx) {
            if counts.len() < 2 {
                continue;
            }
            let (big, nbig) = counts
                .iter()
                .max_by_key(|(l, n)| (**n, std::cmp::Reverse(*l)))
                .unwrap();
            let (small, nsmall) = counts.iter().min_by_key(|(l, n)| (**n, *l)).unwrap();
            let ratio = *nbig as f64 / *nsmall as f64;
            if ratio <= max_ratio {
                continue;
            }
            let entropy = normalized_entropy(&counts.values().copied().collect::<Vec<_>>());
            out.push(
                Finding::new(
                    self.meta(),
                    format!(
                        "split '{}': largest class '{big}' ({nbig}) is {ratio:.1}× the smallest '{small}' ({nsmall}); normalized entropy {entropy:.2}",
                        split_name(&split)
                    ),
                )
                .evidence("split", split.clone())
                .evidence("ratio", round4(ratio))
                .evidence("normalized_entropy", round4(entropy))
                .evidence("largest", big.clone())
                .evidence("smallest", small.clone())
                .evidence("counts", counts_json(&counts)),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::normalized_entropy;

    #[test]
    fn entropy_bounds() {
        assert!((normalized_entropy(&[5, 5, 5]) - 1.0).abs() < 1e-12);
        assert!(normalized_entropy(&[1000, 1]) < 0.02);
        assert_eq!(normalized_entropy(&[7]), 1.0);
    }
}
