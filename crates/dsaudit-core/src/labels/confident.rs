//! Confident learning (Northcutt, Jiang and Chuang, 2021), as cleanlab 2.x computes
//! it: per-class thresholds, the confident joint, its calibration to the class
//! counts, and the label issues it implies. Pure functions over out-of-sample
//! predicted probabilities (`probs`, row-major n × k) and given labels (0..k).

use rayon::prelude::*;
use serde::Serialize;

/// How the flagged set is chosen from the confident joint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// For each off-diagonal cell (given i, true j) of the calibrated joint, flag
    /// that many samples labelled i with the largest margin p(j) − p(i). cleanlab's default.
    #[default]
    PruneByNoiseRate,
    /// For each class, flag as many samples as the joint says are mislabelled,
    /// those with the lowest self-confidence.
    PruneByClass,
    /// Samples flagged by both of the above.
    Both,
    /// The off-diagonal samples of the (uncalibrated) confident joint.
    ConfidentLearning,
    /// The model's most likely class is not the given one.
    PredictedNeqGiven,
}

impl crate::choice::Choice for Method {
    const ALL: &'static [(Method, &'static str, &'static str)] = &[
        (Method::PruneByNoiseRate, "prune-by-noise-rate", "For each off-diagonal cell (given i, true j) of the calibrated joint, flag that many samples labelled i with the largest margin p(j) − p(i). cleanlab's default"),
        (Method::PruneByClass, "prune-by-class", "For each class, flag as many samples as the joint says are mislabelled, those with the lowest self-confidence"),
        (Method::Both, "both", "Samples flagged by both of the above"),
        (Method::ConfidentLearning, "confident-learning", "The off-diagonal samples of the (uncalibrated) confident joint"),
        (Method::PredictedNeqGiven, "predicted-neq-given", "The model's most likely class is not the given one"),
    ];
}

/// cleanlab's slack on the thresholds, so that a probability equal to the mean
/// counts as confident despite rounding.
const SLACK: f64 = 1e-6;

/// Per class j, the mean predicted probability of j over the samples labelled j.
pub fn thresholds(probs: &[f64], k: usize, labels: &[usize]) -> Vec<f64> {
    let mut sum = vec![0f64; k];
    let mut n = vec![0u64; k];
    for (i, &l) in labels.iter().enumerate() {
        sum[l] += probs[i * k + l];
        n[l] += 1;
    }
    sum.iter()
        .zip(&n)
        .map(|(s, &c)| if c > 0 { s / c as f64 } else { 0.0 })
        .collect()
}

/// The confident joint `c[given][true]` (row-major k × k) and, per sample, its
/// confident true label (None when no class reaches its threshold). A sample counts
/// toward the class whose probability reaches that class's threshold; among several,
/// the most probable class. Every diagonal cell is at least 1, as in cleanlab.
pub fn confident_joint(
    probs: &[f64],
    k: usize,
    labels: &[usize],
    thresholds: &[f64],
) -> (Vec<u64>, Vec<Option<usize>>) {
    // Each sample's guess is its own; the joint counts them after (whole numbers: the
    // same in any order).
    let guesses: Vec<Option<usize>> = probs
        .par_chunks_exact(k)
        .take(labels.len())
        .map(|p| {
            let mut confident = (0..k).filter(|&j| p[j] >= thresholds[j] - SLACK);
            match (confident.next(), confident.next()) {
                (None, _) => None,
                (Some(only), None) => Some(only),
                _ => Some(argmax(p)),
            }
        })
        .collect();
    let mut joint = vec![0u64; k * k];
    for (&given, guess) in labels.iter().zip(&guesses) {
        if let Some(guess) = guess {
            joint[given * k + guess] += 1;
        }
    }
    for j in 0..k {
        joint[j * k + j] = joint[j * k + j].max(1);
    }
    (joint, guesses)
}

/// Index of the largest value; the lowest index among ties.
pub fn argmax(p: &[f64]) -> usize {
    let mut best = 0;
    for (j, &v) in p.iter().enumerate() {
        if v > p[best] {
            best = j;
        }
    }
    best
}

/// Each row rescaled to its class's count, then the whole to the number of samples,
/// rounded with every row keeping its total (cleanlab's `calibrate_confident_joint`).
pub fn calibrate(joint: &[u64], k: usize, class_counts: &[u64]) -> Vec<u64> {
    let total: f64 = class_counts.iter().sum::<u64>() as f64;
    let mut cal = vec![0f64; k * k];
    for i in 0..k {
        let row: f64 = joint[i * k..(i + 1) * k].iter().sum::<u64>() as f64;
        for j in 0..k {
            cal[i * k + j] =
                joint[i * k + j] as f64 / row.max(f64::MIN_POSITIVE) * class_counts[i] as f64;
        }
    }
    let sum: f64 = cal.iter().sum();
    for v in &mut cal {
        *v = *v / sum.max(f64::MIN_POSITIVE) * total;
    }
    round_rows(&cal, k)
}

/// Rounds every row so that it sums to its rounded total, exactly as cleanlab's
/// `round_preserving_sum`: halves to even (numpy's rounding), then the difference
/// given to the values rounding lost most from (ties: the later class) or taken from
/// those it gained most from (ties: the earlier class). Tie order decides a sample's
/// fate when, say, two classes both scale to 3.41 of a sample.
pub fn round_rows(m: &[f64], k: usize) -> Vec<u64> {
    let mut out = Vec::with_capacity(m.len());
    for row in m.chunks_exact(k) {
        let target = row.iter().sum::<f64>().round_ties_even() as i64;
        let mut ints: Vec<i64> = row.iter().map(|v| v.round_ties_even() as i64).collect();
        loop {
            let diff = target - ints.iter().sum::<i64>();
            if diff == 0 {
                break;
            }
            // Ascending by what rounding lost; a stable sort keeps ties in class order.
            let mut order: Vec<usize> = (0..k).collect();
            order.sort_by(|&a, &b| (row[a] - ints[a] as f64).total_cmp(&(row[b] - ints[b] as f64)));
            if diff > 0 {
                order.reverse();
            }
            let step = diff.signum();
            for &j in order.iter().take((diff.unsigned_abs() as usize).min(k)) {
                ints[j] += step;
            }
        }
        out.extend(ints.iter().map(|&v| v.max(0) as u64));
    }
    out
}

/// How many samples to flag per (given, true) cell, as cleanlab's
/// `_keep_at_least_n_per_class` (with `frac_noise` 1): every diagonal raised to at
/// least `keep`, what it gained taken evenly from that given label's non-zero cells
/// (counted with the diagonal, less one), and the noise counts truncated to whole
/// samples. Returned as `prune[given][true]`.
pub fn prune_counts(calibrated: &[u64], k: usize, keep: u64) -> Vec<u64> {
    let mut out = vec![0u64; k * k];
    for given in 0..k {
        let row = &calibrated[given * k..(given + 1) * k];
        let diag = row[given];
        let raised = diag.max(keep);
        let gained = (raised - diag) as f64;
        let nonzero = row.iter().filter(|&&v| v > 0).count() as f64;
        let per = (nonzero - 1.0).max(1.0);
        for t in 0..k {
            out[given * k + t] = if t == given {
                raised
            } else {
                (row[t] as f64 - gained / per).max(0.0).trunc() as u64
            };
        }
    }
    out
}

pub struct Found {
    pub thresholds: Vec<f64>,
    /// `joint[given][true]`, row-major, before calibration.
    pub joint: Vec<u64>,
    /// Calibrated: rows sum to the class counts, the whole to n.
    pub calibrated: Vec<u64>,
    pub is_issue: Vec<bool>,
}

/// The label issues by `method`. Samples whose most probable class is their given
/// label are never flagged (cleanlab does the same).
pub fn find(probs: &[f64], k: usize, labels: &[usize], method: Method) -> Found {
    let n = labels.len();
    let mut counts = vec![0u64; k];
    for &l in labels {
        counts[l] += 1;
    }
    let thresholds = thresholds(probs, k, labels);
    let (joint, guesses) = confident_joint(probs, k, labels, &thresholds);
    let calibrated = calibrate(&joint, k, &counts);
    let prune = prune_counts(&calibrated, k, 1);
    let by_noise = || by_noise_rate(probs, k, labels, &prune);
    let by_class = || by_class(probs, k, labels, &prune, &counts);
    let mut is_issue = match method {
        Method::PruneByNoiseRate => by_noise(),
        Method::PruneByClass => by_class(),
        Method::Both => by_noise()
            .iter()
            .zip(by_class())
            .map(|(a, b)| *a && b)
            .collect(),
        Method::ConfidentLearning => labels
            .iter()
            .zip(&guesses)
            .map(|(&l, g)| g.is_some_and(|g| g != l))
            .collect(),
        Method::PredictedNeqGiven => vec![true; n],
    };
    is_issue
        .par_iter_mut()
        .zip(probs.par_chunks_exact(k))
        .zip(labels)
        .for_each(|((flag, p), &given)| {
            if argmax(p) == given {
                *flag = false;
            }
        });
    Found {
        thresholds,
        joint,
        calibrated,
        is_issue,
    }
}

/// What a scan lists: no more samples of a class than the calibrated joint estimates
/// to be mislabelled in it (its off-diagonal row), whatever the method; beyond that,
/// flags are the model's doubts rather than the labels' noise. The least
/// self-confident are kept. (`find` itself stays cleanlab's, method for method.)
pub fn cap_by_noise(
    is_issue: &mut [bool],
    probs: &[f64],
    k: usize,
    labels: &[usize],
    calibrated: &[u64],
) {
    let members = members(labels, k);
    let flags: &[bool] = is_issue;
    // Each class's samples are its own, so the classes are capped side by side.
    let unflag: Vec<Vec<usize>> = members
        .par_iter()
        .enumerate()
        .map(|(c, rows)| {
            let row = &calibrated[c * k..(c + 1) * k];
            let estimate = (row.iter().sum::<u64>() - row[c]) as usize;
            let mut flagged: Vec<usize> = rows.iter().copied().filter(|&i| flags[i]).collect();
            if flagged.len() <= estimate {
                return Vec::new();
            }
            flagged.sort_by(|&a, &b| {
                self_confidence(&probs[a * k..(a + 1) * k], c)
                    .total_cmp(&self_confidence(&probs[b * k..(b + 1) * k], c))
                    .then(a.cmp(&b))
            });
            flagged.split_off(estimate)
        })
        .collect();
    for i in unflag.into_iter().flatten() {
        is_issue[i] = false;
    }
}

/// The samples of each class 0..k, in order.
fn members(labels: &[usize], k: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); k];
    for (i, &l) in labels.iter().enumerate() {
        out[l].push(i);
    }
    out
}

/// Sets the flag of every sample in `picked` (each cell's choice, made side by side).
fn flag_all(n: usize, picked: Vec<Vec<usize>>) -> Vec<bool> {
    let mut flag = vec![false; n];
    for i in picked.into_iter().flatten() {
        flag[i] = true;
    }
    flag
}

fn by_noise_rate(probs: &[f64], k: usize, labels: &[usize], prune: &[u64]) -> Vec<bool> {
    let members = members(labels, k);
    let cells: Vec<(usize, usize)> = (0..k)
        .flat_map(|given| (0..k).filter(move |&t| t != given).map(move |t| (given, t)))
        .collect();
    let picked = cells
        .par_iter()
        .map(|&(given, t)| {
            let rows = &members[given];
            let take = (prune[given * k + t] as usize).min(rows.len());
            if take == 0 {
                return Vec::new();
            }
            let by_margin = rows
                .iter()
                .map(|&i| (probs[i * k + t] - probs[i * k + given], i))
                .collect();
            smallest(by_margin, take, |a, b| {
                b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
            })
        })
        .collect();
    flag_all(labels.len(), picked)
}

fn by_class(probs: &[f64], k: usize, labels: &[usize], prune: &[u64], counts: &[u64]) -> Vec<bool> {
    let picked = members(labels, k)
        .into_par_iter()
        .enumerate()
        .map(|(given, rows)| {
            let take = counts[given].saturating_sub(prune[given * k + given]) as usize;
            let confidence = rows
                .into_iter()
                .map(|i| (probs[i * k + given], i))
                .collect();
            smallest(confidence, take, |a, b| {
                a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
            })
        })
        .collect();
    flag_all(labels.len(), picked)
}

/// A total order on (score, sample).
type Order = fn(&(f64, usize), &(f64, usize)) -> std::cmp::Ordering;

/// The samples of the `take` first of `scored` (score, sample) by `order` (a total
/// order, so the same set as a full sort's first `take`), in no particular order: a
/// selection instead of a sort, since only which samples are taken matters (a
/// million rows, 90 class pairs).
fn smallest(mut scored: Vec<(f64, usize)>, take: usize, order: Order) -> Vec<usize> {
    let take = take.min(scored.len());
    if take == 0 {
        return Vec::new();
    }
    if take < scored.len() {
        scored.select_nth_unstable_by(take - 1, order);
    }
    scored[..take].iter().map(|&(_, i)| i).collect()
}

/// p(given label): cleanlab's default label quality score.
pub fn self_confidence(p: &[f64], given: usize) -> f64 {
    p[given]
}

/// (p(given) − max other + 1) / 2, in [0, 1].
pub fn normalized_margin(p: &[f64], given: usize) -> f64 {
    let other = p
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != given)
        .map(|(_, &v)| v)
        .fold(0.0, f64::max);
    (p[given] - other + 1.0) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::choice::Choice;
    use proptest::prelude::*;

    /// A fixture whose answer cleanlab 2.7 gives (`find_label_issues` with
    /// `filter_by="prune_by_noise_rate"`, `confident_joint`): see
    /// tests/reference/cleanlab_fixture.py.
    #[test]
    fn matches_cleanlab_on_a_fixture() {
        let probs = [
            0.9, 0.05, 0.05, //
            0.8, 0.1, 0.1, //
            0.7, 0.2, 0.1, //
            0.1, 0.8, 0.1, //
            0.2, 0.7, 0.1, //
            0.05, 0.9, 0.05, //
            0.1, 0.1, 0.8, //
            0.1, 0.2, 0.7, //
            0.05, 0.05, 0.9, //
            0.85, 0.1, 0.05, // labelled 1: looks like 0
            0.1, 0.1, 0.8, // labelled 0: looks like 2
            0.3, 0.4, 0.3, // labelled 2: unsure
        ];
        let labels = [0, 0, 0, 1, 1, 1, 2, 2, 2, 1, 0, 2];
        for (method, want) in [
            (Method::PruneByNoiseRate, vec![9, 10]),
            (Method::PruneByClass, vec![9, 10]),
            (Method::Both, vec![9, 10]),
            (Method::ConfidentLearning, vec![9, 10]),
            (Method::PredictedNeqGiven, vec![9, 10, 11]),
        ] {
            let found = find(&probs, 3, &labels, method);
            let flagged: Vec<usize> = (0..12).filter(|&i| found.is_issue[i]).collect();
            assert_eq!(flagged, want, "{}", method.name());
        }
        let found = find(&probs, 3, &labels, Method::PruneByNoiseRate);
        assert_eq!(found.joint, vec![3, 0, 1, 1, 3, 0, 0, 0, 3]);
        assert_eq!(found.calibrated, vec![3, 0, 1, 1, 3, 0, 0, 0, 4]);
        let t = found.thresholds;
        assert!((t[0] - 0.625).abs() < 1e-12 && (t[1] - 0.625).abs() < 1e-12);
        assert!((t[2] - 0.675).abs() < 1e-12);
    }

    #[test]
    fn rows_keep_their_totals() {
        // cleanlab 2.9's round_preserving_sum on the same rows.
        assert_eq!(round_rows(&[0.5, 0.5, 1.0], 3), vec![0, 1, 1]);
        assert_eq!(round_rows(&[1.4, 1.4, 1.2], 3), vec![1, 2, 1]);
        assert_eq!(round_rows(&[2.6, 2.6, 0.8], 3), vec![2, 3, 1]);
        let third = 3.0 + 7.0 / 17.0;
        assert_eq!(
            round_rows(&[third, third, 51.0 + 3.0 / 17.0], 3),
            vec![3, 4, 51]
        );
        assert_eq!(round_rows(&[2.5; 4], 4), vec![2, 2, 3, 3]);
        assert_eq!(round_rows(&[0.4; 5], 5), vec![0, 0, 0, 1, 1]);
    }

    #[test]
    fn prune_counts_as_cleanlab_keeps_one_per_class() {
        // cleanlab 2.9's _keep_at_least_n_per_class(calibrated.T, 1).T.
        assert_eq!(
            prune_counts(&[0, 3, 2, 1, 5, 0, 4, 0, 0], 3, 1),
            vec![1, 2, 1, 1, 5, 0, 3, 0, 1]
        );
        assert_eq!(
            prune_counts(&[1, 6, 1, 0, 9, 0, 2, 2, 3], 3, 1),
            vec![1, 6, 1, 0, 9, 0, 2, 2, 3]
        );
    }

    #[test]
    fn margins() {
        assert_eq!(normalized_margin(&[0.6, 0.3, 0.1], 0), 0.65);
        assert_eq!(normalized_margin(&[0.6, 0.3, 0.1], 2), 0.25);
        assert_eq!(self_confidence(&[0.6, 0.3, 0.1], 1), 0.3);
    }

    proptest! {
        /// Calibration keeps every class's count and the total; nothing flagged
        /// is predicted as its given label; perfect predictions flag nothing.
        #[test]
        fn calibration_and_flags_are_consistent(
            raw in prop::collection::vec((0.01f64..1.0, 0.01f64..1.0, 0.01f64..1.0, 0usize..3), 6..80),
        ) {
            let k = 3;
            let mut probs = Vec::new();
            let mut labels = Vec::new();
            for (a, b, c, l) in &raw {
                let s = a + b + c;
                probs.extend([a / s, b / s, c / s]);
                labels.push(*l);
            }
            let mut counts = vec![0u64; k];
            for &l in &labels { counts[l] += 1; }
            prop_assume!(counts.iter().all(|&c| c > 0));
            for method in [Method::PruneByNoiseRate, Method::PruneByClass, Method::Both, Method::ConfidentLearning, Method::PredictedNeqGiven] {
                let found = find(&probs, k, &labels, method);
                for given in 0..k {
                    let row: u64 = found.calibrated[given * k..(given + 1) * k].iter().sum();
                    prop_assert!(row.abs_diff(counts[given]) <= 1, "row {} {:?} {:?}", given, found.calibrated, counts);
                }
                for i in 0..labels.len() {
                    if found.is_issue[i] {
                        prop_assert!(argmax(&probs[i * k..(i + 1) * k]) != labels[i]);
                    }
                }
                // Capped, never more flags in a class than its estimated mislabelled
                // count; the default method needs no cap.
                let mut capped = found.is_issue.clone();
                cap_by_noise(&mut capped, &probs, k, &labels, &found.calibrated);
                if method == Method::PruneByNoiseRate {
                    prop_assert_eq!(&capped, &found.is_issue);
                }
                for given in 0..k {
                    let row = &found.calibrated[given * k..(given + 1) * k];
                    let estimate = row.iter().sum::<u64>() - row[given];
                    let flagged = (0..labels.len()).filter(|&i| labels[i] == given && capped[i]).count() as u64;
                    prop_assert!(flagged <= estimate, "{:?} {} {} {:?}", method, given, flagged, row);
                }
            }
            let perfect: Vec<f64> = labels.iter().flat_map(|&l| (0..k).map(move |j| if j == l { 1.0 } else { 0.0 })).collect();
            let found = find(&perfect, k, &labels, Method::PruneByNoiseRate);
            prop_assert!(found.is_issue.iter().all(|&f| !f));
        }
    }
}
