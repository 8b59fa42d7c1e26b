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
    let stat = |is_ref: &[bool]| statistic(&kernel, n_ref, is_ref);
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

/// The unbiased MMD² of the split `is_ref` marks (`true`: reference), from the
/// n × n kernel matrix.
///
/// Every pair adds to each sum, 0 to all but its own: adding +0.0 to a sum of kernel
/// values (never -0.0) leaves its bits as they were, so the sums are those of adding
/// each pair to its own sum alone, in the same order, without a branch on the
/// shuffled labels (half of them mispredicted).
fn statistic(kernel: &[f64], n_ref: usize, is_ref: &[bool]) -> f64 {
    let n = is_ref.len();
    let (mut xx, mut yy, mut xy) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..n {
        let ri = is_ref[i];
        let row = &kernel[i * n + i + 1..(i + 1) * n];
        for (&k, &rj) in row.iter().zip(&is_ref[i + 1..]) {
            xx += if ri & rj { k } else { 0.0 };
            yy += if !(ri | rj) { k } else { 0.0 };
            xy += if ri != rj { k } else { 0.0 };
        }
    }
    let (a, b) = (n_ref as f64, (n - n_ref) as f64);
    2.0 * xx / (a * (a - 1.0)) + 2.0 * yy / (b * (b - 1.0)) - 2.0 * xy / (a * b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The statistic as first written: each pair added to its own sum.
    fn branching(kernel: &[f64], n_ref: usize, is_ref: &[bool]) -> f64 {
        let n = is_ref.len();
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
    }

    proptest! {
        #[test]
        fn the_statistic_is_the_branching_sums_bit_for_bit(
            values in prop::collection::vec(prop_oneof![Just(0.0f64), Just(1.0), 0.0f64..1.0, 0.0f64..1e-300], 4..40usize * 40),
            labels in prop::collection::vec(any::<bool>(), 40),
        ) {
            let n = (values.len() as f64).sqrt() as usize;
            let kernel = &values[..n * n];
            let is_ref = &labels[..n];
            let n_ref = is_ref.iter().filter(|&&r| r).count();
            prop_assert_eq!(
                statistic(kernel, n_ref, is_ref).to_bits(),
                branching(kernel, n_ref, is_ref).to_bits()
            );
        }
    }

    #[test]
    fn a_shifted_sample_is_found_and_a_like_one_is_not() {
        let point = |i: usize, shift: f64| {
            let u = ((i * 7919) % 1000) as f64 / 1000.0;
            let v = ((i * 104729) % 997) as f64 / 997.0;
            [u + shift, v]
        };
        let mut same = Vec::new();
        let mut moved = Vec::new();
        for i in 0..120 {
            same.extend(point(i, 0.0));
            moved.extend(point(i, 0.0));
        }
        for i in 120..240 {
            same.extend(point(i, 0.0));
            moved.extend(point(i, 0.8));
        }
        assert!(test(&same, 2, 120, 7).p_value > 0.05);
        let found = test(&moved, 2, 120, 7);
        assert!(found.p_value < 0.01 && found.mmd2 > 0.0, "{found:?}");
    }
}
