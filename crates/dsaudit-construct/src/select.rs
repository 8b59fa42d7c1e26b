//! Stratified, group-aware choices: how many of each class (largest remainder), and
//! which samples, keeping every duplicate cluster on one side.

use super::{Samples, NONE};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Splits `total` over `weights` in proportion (Hamilton's largest remainder): every
/// share is the exact proportional share rounded down or up, and the shares sum to
/// `total`. Ties go to the lower index, so the answer is deterministic.
pub fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 || total == 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut shares: Vec<u64> = exact.iter().map(|e| e.floor() as u64).collect();
    let given: u64 = shares.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).filter(|&i| weights[i] > 0.0).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in order
        .iter()
        .cycle()
        .take(total.saturating_sub(given) as usize)
    {
        shares[i] += 1;
    }
    shares
}

/// The units a selection moves: a duplicate cluster's members within the pool, or a
/// sample on its own; in a seeded random order.
struct Units {
    singles: Vec<u32>,
    clusters: Vec<Vec<u32>>,
    /// Unit k is `singles[k]` below `singles.len()`, else a cluster.
    order: Vec<u32>,
}

impl Units {
    fn new(s: &Samples, pool: &[u32], rng: &mut ChaCha8Rng) -> Units {
        let mut by_group: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        let mut singles = Vec::with_capacity(pool.len());
        for &i in pool {
            match s.group[i as usize] {
                NONE => singles.push(i),
                g => by_group.entry(g).or_default().push(i),
            }
        }
        let clusters: Vec<Vec<u32>> = by_group.into_values().collect();
        let mut order: Vec<u32> = (0..(singles.len() + clusters.len()) as u32).collect();
        order.shuffle(rng);
        Units {
            singles,
            clusters,
            order,
        }
    }

    fn members(&self, k: u32) -> &[u32] {
        let k = k as usize;
        match self.singles.get(k) {
            Some(one) => std::slice::from_ref(one),
            None => &self.clusters[k - self.singles.len()],
        }
    }
}

/// Chooses from `pool` up to `quota[c]` samples of each class c, taking whole
/// clusters only: a cluster goes in when every class it holds still has room. The
/// pass is in random order, so clusters are no more and no less likely to be chosen
/// than single samples. Returns the chosen ids (ascending) and the shortfall per
/// class (non-zero only when the remaining samples of a class sit in clusters
/// larger than the room left).
pub fn holdout(
    s: &Samples,
    pool: &[u32],
    quota: &[u64],
    rng: &mut ChaCha8Rng,
) -> (Vec<u32>, Vec<u64>) {
    let mut need = quota.to_vec();
    let mut chosen = Vec::new();
    let mut tally = vec![0u64; need.len()];
    let units = Units::new(s, pool, rng);
    for &k in &units.order {
        let unit = units.members(k);
        if let [one] = unit {
            // Most units are single samples: no tally to reset.
            let c = s.class[*one as usize] as usize;
            if need[c] > 0 {
                need[c] -= 1;
                chosen.push(*one);
            }
            continue;
        }
        tally.iter_mut().for_each(|t| *t = 0);
        for &i in unit {
            tally[s.class[i as usize] as usize] += 1;
        }
        if tally.iter().zip(&need).all(|(t, n)| t <= n) {
            need.iter_mut().zip(&tally).for_each(|(n, t)| *n -= t);
            chosen.extend_from_slice(unit);
        }
    }
    chosen.sort_unstable();
    (chosen, need)
}

/// Chooses `n` of `ids` at random, distinct samples first: one member of each
/// cluster before any second copy, so undersampling sheds duplicates first.
pub fn pick(s: &Samples, ids: &[u32], n: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let mut order = ids.to_vec();
    order.shuffle(rng);
    let mut seen = std::collections::HashSet::new();
    let (mut first, mut repeats): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
    for i in order {
        let g = s.group[i as usize];
        if g == NONE || seen.insert(g) {
            first.push(i);
        } else {
            repeats.push(i);
        }
    }
    first.extend(repeats);
    first.truncate(n);
    first.sort_unstable();
    first
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn apportion_sums_and_stays_within_one(
            total in 0u64..10_000,
            weights in prop::collection::vec(0u32..1000, 1..12),
        ) {
            let w: Vec<f64> = weights.iter().map(|&x| x as f64).collect();
            let shares = apportion(total, &w);
            let sum: f64 = w.iter().sum();
            if sum > 0.0 {
                prop_assert_eq!(shares.iter().sum::<u64>(), total);
                for (s, w) in shares.iter().zip(&w) {
                    let exact = total as f64 * w / sum;
                    prop_assert!((*s as f64 - exact).abs() < 1.0 + 1e-9, "{} vs {}", s, exact);
                }
            }
        }
    }

    #[test]
    fn apportion_breaks_ties_by_index() {
        assert_eq!(apportion(1, &[1.0, 1.0]), vec![1, 0]);
        assert_eq!(apportion(5, &[1.0, 1.0, 1.0]), vec![2, 2, 1]);
        assert_eq!(apportion(3, &[0.0, 1.0]), vec![0, 3]);
    }
}
