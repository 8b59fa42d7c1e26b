//! Kernel two-sample test: maximum mean discrepancy with an RBF kernel whose
//! bandwidth is the median pairwise distance, and a permutation p-value.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub const PERMUTATIONS: usize = 200;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mmd {
    /// Unbiased estimate of MMD².
    pub mmd2: f64,
    pub bandwidth: f64,
    pub p_value: f64,
    pub permutations: usize,
}

/// `x`: row-major (n_ref + n_cur) × d, reference rows first.
pub fn test(x: &[f64], d: usize, n_ref: usize, seed: u64) -> Mmd {
    let n = x.len() / d;
    let mut dist2 = vec![0f64; n * n];
    dist2.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        let a = &x[i * d..(i + 1) * d];
        for (j, out) in row.iter_mut().enumerate() {
            let b = &x[j * d..(j + 1) * d];
            *out = a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum();
        }
    });
    let mut upper: Vec<f64> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .map(|(i, j)| dist2[i * n + j].sqrt())
        .collect();
    let mid = upper.len() / 2;
    let median = if upper.is_empty() {
        0.0
    } else {
        *upper.select_nth_unstable_by(mid, f64::total_cmp).1
    };
    let bandwidth = if median > 0.0 { median } else { 1.0 };
    let gamma = 1.0 / (2.0 * bandwidth * bandwidth);
    let kernel: Vec<f64> = dist2.par_iter().map(|&v| (-gamma * v).exp()).collect();
    let stat = |is_ref: &[bool]| -> f64 {
        let (mut xx, mut yy, mut xy) = (0.0, 0.0, 0.0);
        for i in 0..n {
            for j in i + 1..n {
                let k = kernel[i * n + j];
                match (is_ref[i], is_ref[j]) {
                    (true, true) => xx += k,
                    (false, false) => yy += k,
                    _ => xy += k,
                }
            }
        }
        let (a, b) = (n_ref as f64, (n - n_ref) as f64);
        2.0 * xx / (a * (a - 1.0)) + 2.0 * yy / (b * (b - 1.0)) - 2.0 * xy / (a * b)
    };
    let labels: Vec<bool> = (0..n).map(|i| i < n_ref).collect();
    let observed = stat(&labels);
    let at_least = (0..PERMUTATIONS)
        .into_par_iter()
        .filter(|&p| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(p as u64));
            let mut l = labels.clone();
            l.shuffle(&mut rng);
            stat(&l) >= observed
        })
        .count();
    Mmd {
        mmd2: observed,
        bandwidth,
        p_value: (1 + at_least) as f64 / (1 + PERMUTATIONS) as f64,
        permutations: PERMUTATIONS,
    }
}
