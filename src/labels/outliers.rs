//! Outlier scores: the mean distance from each sample to its k nearest neighbours
//! in feature space (cleanlab's measure), judged against the dataset's own
//! distribution of that distance (above Q3 + 1.7 × IQR is an outlier).

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub k: usize,
    /// Multiple of the interquartile range above the third quartile.
    pub iqr: f64,
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
}

/// `x`: row-major n × d standardized vectors.
pub fn score(x: &[f32], d: usize, params: Params, seed: u64) -> Option<Outliers> {
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
        points.extend_from_slice(&x[i * d..(i + 1) * d]);
    }
    let found = crate::knn::nearest_to(&points, d, x, &own, params.k);
    let mean: Vec<f64> = found
        .iter()
        .map(|nn| nn.iter().map(|&(_, dist)| dist as f64).sum::<f64>() / nn.len().max(1) as f64)
        .collect();
    let sketch = crate::stats::sketch::QuantileSketch::from_values(mean.iter().copied());
    let q = |p: f64| sketch.quantile(p).unwrap_or(f64::NAN);
    let (q1, median, q3) = (q(0.25), q(0.5), q(0.75));
    let cutoff = q3 + params.iqr * (q3 - q1);
    let is_outlier: Vec<bool> = mean.iter().map(|&m| m > cutoff).collect();
    let round = crate::util::round4;
    Some(Outliers {
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_far_point_is_the_outlier() {
        // A 10×10 grid and one point far away.
        let mut x: Vec<f32> = (0..100)
            .flat_map(|i| [(i % 10) as f32, (i / 10) as f32])
            .collect();
        x.extend([40.0, 40.0]);
        let o = score(&x, 2, Params { k: 10, iqr: 1.7 }, 0).unwrap();
        assert_eq!(o.outliers, 1);
        assert!(o.is_outlier[100]);
        assert!(o.score[100] > 10.0);
        assert_eq!(o.reference, 101);
    }
}
