//! Adversarial validation, the classifier two-sample test: a logistic regression
//! (linfa) learns to tell the current split from the reference one; its
//! out-of-fold ROC AUC says how separable they are (0.5: not at all).

use linfa::traits::Fit;
use linfa::Dataset;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

pub const FOLDS: usize = 5;
/// L2 weight: light, so that rare one-hot columns do not get huge weights.
const ALPHA: f64 = 1.0;
const MAX_ITERATIONS: u64 = 100;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Weight {
    pub feature: String,
    /// Coefficient on the standardized feature: positive means higher in the current split.
    pub weight: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fitted {
    pub auc: f64,
    pub auc_low: f64,
    pub auc_high: f64,
    /// One-sided p-value of AUC > 0.5 (Mann–Whitney normal approximation).
    pub p_value: f64,
    pub top_features: Vec<Weight>,
    #[serde(skip)]
    pub model: Option<(Vec<f64>, f64)>,
}

/// A fold's held-out rows and their scores.
type HeldScores = Result<Vec<(usize, f64)>, String>;

/// `x`: row-major n × d standardized vectors; `is_current`: the class of each
/// row; `fold`: each row's fold (stratified by the caller).
pub fn cross_validate(
    x: &[f64],
    d: usize,
    is_current: &[bool],
    fold: &[usize],
    names: &[String],
) -> Result<Fitted, String> {
    let n = is_current.len();
    let mut scores = vec![0f64; n];
    // The model on every row does not wait for the folds: six fits shared by the
    // threads, where the fifth fold and then the whole fit each left a core idle.
    let all: Vec<usize> = (0..n).collect();
    let (folds, whole): (Vec<HeldScores>, _) = rayon::join(
        || {
            use rayon::prelude::*;
            (0..FOLDS)
                .into_par_iter()
                .map(|k| {
                    let train: Vec<usize> = (0..n).filter(|&i| fold[i] != k).collect();
                    let held: Vec<usize> = (0..n).filter(|&i| fold[i] == k).collect();
                    let (w, b) = fit(x, d, is_current, &train)?;
                    Ok(held
                        .iter()
                        .map(|&i| (i, score(&x[i * d..(i + 1) * d], &w, b)))
                        .collect())
                })
                .collect()
        },
        || fit(x, d, is_current, &all),
    );
    for f in folds {
        for (i, s) in f? {
            scores[i] = s;
        }
    }
    let auc = auc(&scores, is_current);
    let n1 = is_current.iter().filter(|&&c| c).count() as f64;
    let n0 = n as f64 - n1;
    // Hanley & McNeil's standard error for the interval; the null variance of the
    // Mann–Whitney statistic for the p-value.
    let (q1, q2) = (auc / (2.0 - auc), 2.0 * auc * auc / (1.0 + auc));
    let se = ((auc * (1.0 - auc) + (n1 - 1.0) * (q1 - auc * auc) + (n0 - 1.0) * (q2 - auc * auc))
        / (n1 * n0))
        .max(0.0)
        .sqrt();
    let se0 = ((n0 + n1 + 1.0) / (12.0 * n0 * n1)).sqrt();
    let normal = Normal::standard();
    let (w, b) = whole?;
    let mut top: Vec<Weight> = names
        .iter()
        .zip(&w)
        .map(|(f, &w)| Weight {
            feature: f.clone(),
            weight: w,
        })
        .collect();
    top.sort_by(|a, b| {
        b.weight
            .abs()
            .total_cmp(&a.weight.abs())
            .then(a.feature.cmp(&b.feature))
    });
    top.truncate(5);
    Ok(Fitted {
        auc,
        auc_low: (auc - 1.96 * se).max(0.0),
        auc_high: (auc + 1.96 * se).min(1.0),
        p_value: normal.sf((auc - 0.5) / se0),
        top_features: top,
        model: Some((w, b)),
    })
}

/// Weights and intercept of the model for "current".
fn fit(x: &[f64], d: usize, y: &[bool], rows: &[usize]) -> Result<(Vec<f64>, f64), String> {
    let mut xs = Array2::<f64>::zeros((rows.len(), d));
    for (r, &i) in rows.iter().enumerate() {
        for j in 0..d {
            xs[[r, j]] = x[i * d + j];
        }
    }
    let ys: Array1<bool> = rows.iter().map(|&i| y[i]).collect();
    let model = LogisticRegression::default()
        .alpha(ALPHA)
        .max_iterations(MAX_ITERATIONS)
        .fit(&Dataset::new(xs, ys))
        .map_err(|e| format!("logistic regression failed: {e}"))?;
    // The model predicts its "positive" class, which linfa picks by frequency.
    let sign = if model.labels().pos.class { 1.0 } else { -1.0 };
    let w = model.params().iter().map(|&v| sign * v).collect();
    Ok((w, sign * model.intercept()))
}

/// Log-odds of "current" (a monotone score; enough for the AUC and the ranking).
pub fn score(v: &[f64], w: &[f64], b: f64) -> f64 {
    v.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + b
}

pub fn probability(log_odds: f64) -> f64 {
    1.0 / (1.0 + (-log_odds).exp())
}

/// ROC AUC as the Mann–Whitney statistic, ties counted as one half.
pub fn auc(scores: &[f64], positive: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut k = 0;
    while k < order.len() {
        let mut end = k;
        while end + 1 < order.len() && scores[order[end + 1]] == scores[order[k]] {
            end += 1;
        }
        let avg = (k + end) as f64 / 2.0 + 1.0;
        for &i in &order[k..=end] {
            if positive[i] {
                rank_sum += avg;
            }
        }
        k = end + 1;
    }
    let n1 = positive.iter().filter(|&&p| p).count() as f64;
    let n0 = scores.len() as f64 - n1;
    (rank_sum - n1 * (n1 + 1.0) / 2.0) / (n1 * n0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_as_half() {
        assert_eq!(
            auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
            0.75
        );
        assert_eq!(auc(&[0.5, 0.5], &[false, true]), 0.5);
        assert_eq!(auc(&[0.1, 0.9], &[false, true]), 1.0);
    }
}
