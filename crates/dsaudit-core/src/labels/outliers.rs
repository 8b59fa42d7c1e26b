//! Outlier scores: the mean distance from each sample to its k nearest neighbours
//! in feature space (cleanlab's measure), judged against the dataset's own
//! distribution of that distance (above Q3 + 1.7 × IQR is an outlier).

use crate::finding::Threshold;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// The outlier search's parameters, set through its rule (`--threshold
/// outliers.KEY=VALUE`).
pub const THRESHOLDS: &[Threshold] = &[
    Threshold {
        key: "k",
        default: 10.0,
        doc: "Neighbours averaged.",
    },
    Threshold {
        key: "iqr",
        default: 1.7,
        doc: "Multiple of the interquartile range above the third quartile.",
    },
];

#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub k: usize,
    /// Multiple of the interquartile range above the third quartile.
    pub iqr: f64,
}

impl Params {
    /// The parameters from `value` of each key of `THRESHOLDS`.
    pub fn read(value: &dyn Fn(&str) -> f64) -> Params {
        Params {
            k: value("k").max(1.0) as usize,
            iqr: value("iqr"),
        }
    }
}

/// Neighbours are searched among at most this many samples (seeded choice), and
/// fewer when vectors are long, so that a scan of a large dataset stays in
/// seconds; below it the search is exact.
pub const MAX_REFERENCE: usize = 10_000;
/// Distance computations (samples × reference × dimensions) allowed before the
/// reference shrinks, down to `MIN_REFERENCE`.
const WORK: f64 = 5e9;
const MIN_REFERENCE: usize = 500;

#[derive(Debug, Clone, Serialize)]
pub struct Outliers {
    pub k: usize,
    /// Samples the neighbours were searched among.
    pub reference: usize,
    pub median_distance: f64,
    pub q1: f64,
    pub q3: f64,
    /// Multiple of the interquartile range above Q3.
    pub iqr: f64,
    /// Mean k-NN distance above which a sample is an outlier.
    pub cutoff: f64,
    pub outliers: usize,
    /// Per scored sample: mean k-NN distance / median of that distance.
    #[serde(skip)]
    pub score: Vec<f64>,
    #[serde(skip)]
    pub is_outlier: Vec<bool>,
    /// Per scored sample: the mean k-NN distance itself.
    #[serde(skip)]
    pub mean: Vec<f64>,
    /// The points searched among (row-major), kept by `dsaudit check`.
    #[serde(skip)]
    pub points: Vec<f32>,
}

/// `x`: row-major n × d standardized vectors.
pub fn score(x: &[f64], d: usize, params: Params, seed: u64) -> Option<Outliers> {
    let n = x.len().checked_div(d).unwrap_or(0);
    if n < params.k + 2 || d == 0 {
        return None;
    }
    let budget = (WORK / (n as f64 * d as f64)) as usize;
    let r = n.min(MAX_REFERENCE.min(budget.max(MIN_REFERENCE)));
    let mut reference: Vec<usize> = (0..n).collect();
    if r < n {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6f75_746c_6965_7273);
        reference.shuffle(&mut rng);
        reference.truncate(r);
        reference.sort_unstable();
    }
    let mut own: Vec<Option<u32>> = vec![None; n];
    let mut points = Vec::with_capacity(r * d);
    for (pos, &i) in reference.iter().enumerate() {
        own[i] = Some(pos as u32);
        points.extend(x[i * d..(i + 1) * d].iter().map(|&v| v as f32));
    }
    let mean = crate::knn::nearest_then(&points, d, x, &own, params.k, mean_distance);
    Some(summarize(mean, points, d, params))
}

/// As `score`, with the points searched among given (an earlier check's) and
/// each sample's mean distance where already known: only the others are searched.
pub fn score_known(
    x: &[f64],
    d: usize,
    points: Vec<f32>,
    known: &[Option<f64>],
    params: Params,
) -> Option<Outliers> {
    if points.len() / d.max(1) < params.k + 1 || d == 0 {
        return None;
    }
    let todo: Vec<usize> = (0..known.len()).filter(|&i| known[i].is_none()).collect();
    let queries: Vec<f64> = todo
        .iter()
        .flat_map(|&i| x[i * d..(i + 1) * d].iter().copied())
        .collect();
    let found = crate::knn::nearest_then(
        &points,
        d,
        &queries,
        &vec![None; todo.len()],
        params.k,
        mean_distance,
    );
    let mut mean: Vec<f64> = known.iter().map(|m| m.unwrap_or(0.0)).collect();
    for (&i, m) in todo.iter().zip(found) {
        mean[i] = m;
    }
    Some(summarize(mean, points, d, params))
}

/// The mean distance to the neighbours found (0 for none).
fn mean_distance(nn: Vec<(u32, f32)>) -> f64 {
    nn.iter().map(|&(_, dist)| dist as f64).sum::<f64>() / nn.len().max(1) as f64
}

/// The quartiles of the mean distances, the cutoff, and each sample's verdict.
fn summarize(mean: Vec<f64>, points: Vec<f32>, d: usize, params: Params) -> Outliers {
    let r = points.len() / d;
    let sketch = crate::stats::sketch::QuantileSketch::from_values(mean.iter().copied());
    let q = |p: f64| sketch.quantile(p).unwrap_or(f64::NAN);
    let (q1, median, q3) = (q(0.25), q(0.5), q(0.75));
    let cutoff = q3 + params.iqr * (q3 - q1);
    let is_outlier: Vec<bool> = mean.iter().map(|&m| m > cutoff).collect();
    let round = crate::util::round4;
    Outliers {
        k: params.k,
        reference: r,
        median_distance: round(median),
        q1: round(q1),
        q3: round(q3),
        iqr: params.iqr,
        cutoff: round(cutoff),
        outliers: is_outlier.iter().filter(|&&o| o).count(),
        score: mean
            .iter()
            .map(|&m| if median > 0.0 { m / median } else { 0.0 })
            .collect(),
        is_outlier,
        mean,
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_far_point_is_the_outlier() {
        // A 10×10 grid and one point far away.
        let mut x: Vec<f64> = (0..100)
            .flat_map(|i| [(i % 10) as f64, (i / 10) as f64])
            .collect();
        x.extend([40.0, 40.0]);
        let o = score(&x, 2, Params { k: 10, iqr: 1.7 }, 0).unwrap();
        assert_eq!(o.outliers, 1);
        assert!(o.is_outlier[100]);
        assert!(o.score[100] > 10.0);
        assert_eq!(o.reference, 101);
        // Known distances are kept, the rest searched among the given points.
        let known: Vec<Option<f64>> = o.mean.iter().map(|&m| Some(m)).collect();
        let again =
            score_known(&x, 2, o.points.clone(), &known, Params { k: 10, iqr: 1.7 }).unwrap();
        assert_eq!(again.mean, o.mean);
        assert_eq!(again.cutoff, o.cutoff);
        let mut known = known;
        known[100] = None;
        let searched =
            score_known(&x, 2, o.points.clone(), &known, Params { k: 10, iqr: 1.7 }).unwrap();
        // Searched among all 101 points, the far one now finds itself: distance 0 counts.
        assert!(searched.mean[100] < o.mean[100]);
        assert!(searched.is_outlier[100]);
    }
}
