//! One value whose share of a numeric feature moved between two splits: a default put
//! in for missing values (0, -1, 999), a sensor stuck at a limit, values clipped. The
//! rest of the distribution may barely move, so the KS test and the classifier can
//! miss it (a quarter of a centred column set to 0 moves its values by little).

use super::univariate;

/// Fewest occurrences of the value, in the split where its share is larger, for the
/// chi-square approximation to hold.
const MIN_COUNT: usize = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    pub value: f64,
    /// The value's share of the reference and of the current split.
    pub shares: (f64, f64),
    /// |current share − reference share|.
    pub moved: f64,
    pub chi2: f64,
    /// The 2×2 chi-square p-value times the number of candidate values.
    pub p_value: f64,
    pub candidates: usize,
}

/// `a` (reference) and `b` (current): finite values sorted in `total_cmp`'s order.
/// Candidates are the values holding `min_spike` or more of either split (at least
/// MIN_COUNT times there): at most 2 / `min_spike` of them. The one whose share moved
/// most is tested (value against every other value, chi-square of the 2×2 table), its
/// p-value multiplied by the number of candidates (Bonferroni: the value was picked
/// after looking). None when no candidate's share moved by `min_spike`.
pub fn test(a: &[f64], b: &[f64], min_spike: f64) -> Option<Spike> {
    if a.is_empty() || b.is_empty() || min_spike.is_nan() || min_spike <= 0.0 {
        return None;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let moved = |(ca, cb): (usize, usize)| (cb as f64 / nb - ca as f64 / na).abs();
    let (mut best, mut candidates): (Option<(f64, usize, usize)>, usize) = (None, 0);
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let v = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.total_cmp(y).is_le() => *x,
            (_, Some(y)) => *y,
            (Some(x), None) => *x,
            (None, None) => break,
        };
        let (ca, cb) = (run(a, &mut i, v), run(b, &mut j, v));
        // Most values of a continuous column occur once: no float work for them.
        if ca.max(cb) < MIN_COUNT {
            continue;
        }
        let (sa, sb) = (ca as f64 / na, cb as f64 / nb);
        // Equal shares from splits of different sizes: the larger count decides, in
        // either order of the splits.
        let larger = match sa.total_cmp(&sb) {
            std::cmp::Ordering::Greater => ca,
            std::cmp::Ordering::Less => cb,
            std::cmp::Ordering::Equal => ca.max(cb),
        };
        if sa.max(sb) < min_spike || larger < MIN_COUNT {
            continue;
        }
        candidates += 1;
        if best.is_none_or(|(_, ba, bb)| moved((ca, cb)) > moved((ba, bb))) {
            best = Some((v, ca, cb));
        }
    }
    let (value, ca, cb) = best?;
    if moved((ca, cb)) < min_spike {
        return None;
    }
    let t = univariate::categorical(
        &[ca as u64, (a.len() - ca) as u64],
        &[cb as u64, (b.len() - cb) as u64],
    );
    Some(Spike {
        value,
        shares: (ca as f64 / na, cb as f64 / nb),
        moved: moved((ca, cb)),
        chi2: t.chi2,
        p_value: (t.p_value * candidates as f64).min(1.0),
        candidates,
    })
}

/// How many values from `*i` on equal `x` (advancing `*i` past them).
fn run(v: &[f64], i: &mut usize, x: f64) -> usize {
    let start = *i;
    while *i < v.len() && v[*i].total_cmp(&x).is_eq() {
        *i += 1;
    }
    *i - start
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn sorted(mut v: Vec<f64>) -> Vec<f64> {
        v.sort_by(f64::total_cmp);
        v
    }

    fn normal(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Sums of uniforms: near-normal, centred on 0, no value repeated.
        (0..n)
            .map(|_| (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0)
            .collect()
    }

    #[test]
    fn a_default_filled_into_a_quarter_of_a_centred_column() {
        let a = sorted(normal(300, 1));
        let mut b = normal(300, 2);
        for x in b.iter_mut().step_by(4) {
            *x = 0.0;
        }
        let s = test(&a, &sorted(b), 0.1).expect("the spike at 0");
        assert_eq!(s.value, 0.0);
        assert_eq!(s.shares, (0.0, 0.25));
        assert_eq!(s.candidates, 1);
        assert!(s.p_value < 1e-12, "{s:?}");
    }

    #[test]
    fn a_value_gone_from_the_current_split_is_a_spike_too() {
        let mut a = normal(400, 3);
        for x in a.iter_mut().step_by(3) {
            *x = -1.0;
        }
        let s = test(&sorted(a), &sorted(normal(400, 4)), 0.1).unwrap();
        assert_eq!((s.value, s.shares.1), (-1.0, 0.0));
    }

    #[test]
    fn no_spike_in_continuous_values_or_below_the_floor() {
        assert_eq!(
            test(&sorted(normal(500, 5)), &sorted(normal(500, 6)), 0.1),
            None
        );
        // 8% of the current split at 0: candidates, but moved less than 0.1.
        let mut b = normal(500, 7);
        for x in b.iter_mut().take(40) {
            *x = 0.0;
        }
        assert_eq!(test(&sorted(normal(500, 8)), &sorted(b), 0.1), None);
    }

    #[test]
    fn too_few_occurrences_are_no_candidate() {
        // 4 of 20 (20%) against none: moved enough, but under MIN_COUNT.
        let mut b = normal(20, 9);
        b[..4].fill(0.0);
        assert_eq!(test(&sorted(normal(20, 10)), &sorted(b), 0.1), None);
    }

    #[test]
    fn equal_shares_of_unequal_splits_are_a_candidate_in_either_order() {
        // 2 holds 4 of 36 and 6 of 54 (both 1/9): a candidate through the 6, whichever
        // split is the reference (proptest found the order mattering).
        let a: Vec<f64> = [vec![0.0; 20], vec![1.0; 12], vec![2.0; 4]].concat();
        let b: Vec<f64> = [vec![0.0; 36], vec![2.0; 6], vec![3.0; 12]].concat();
        let (ab, ba) = (test(&a, &b, 0.02).unwrap(), test(&b, &a, 0.02).unwrap());
        assert_eq!(ab.candidates, ba.candidates);
        assert_eq!(ab.candidates, 4);
    }

    proptest! {
        /// The test is symmetric in the two splits, its p-value a probability, and a
        /// spike it reports moved at least the floor, between two real candidates.
        #[test]
        fn symmetric_and_bounded(a in prop::collection::vec(0u8..8, 20..300),
                                 b in prop::collection::vec(0u8..8, 20..300),
                                 floor in 0.02f64..0.5) {
            let (a, b) = (
                sorted(a.iter().map(|&x| x as f64).collect()),
                sorted(b.iter().map(|&x| x as f64).collect()),
            );
            let ab = test(&a, &b, floor);
            let ba = test(&b, &a, floor);
            prop_assert_eq!(ab.is_some(), ba.is_some());
            if let (Some(x), Some(y)) = (ab, ba) {
                prop_assert_eq!(x.value, y.value);
                prop_assert_eq!(x.shares, (y.shares.1, y.shares.0));
                prop_assert!((x.p_value - y.p_value).abs() < 1e-12);
                prop_assert!((0.0..=1.0).contains(&x.p_value));
                prop_assert!(x.moved >= floor);
                prop_assert!(x.candidates >= 1 && x.candidates as f64 <= 2.0 / floor + 1e-9);
                let share = |v: &[f64]| v.iter().filter(|&&t| t == x.value).count() as f64 / v.len() as f64;
                prop_assert_eq!(x.shares, (share(&a), share(&b)));
            }
        }
    }
}
