//! Two-sample tests on one feature: Kolmogorov–Smirnov and the normalized
//! Wasserstein distance for numbers, chi-square and Jensen–Shannon distance for
//! categories, and the Benjamini–Hochberg correction across features.

use statrs::distribution::{ChiSquared, ContinuousCDF};

/// Above this product of sample sizes the KS p-value comes from Kolmogorov's
/// limiting distribution; at or below it, from the exact count of lattice paths
/// (as scipy's `ks_2samp(method="exact")`), which costs n·m steps.
pub const KS_EXACT_MAX: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ks {
    pub statistic: f64,
    pub p_value: f64,
    pub exact: bool,
}

/// Two-sided two-sample KS test on sorted finite samples (neither empty).
pub fn ks(a: &[f64], b: &[f64]) -> Ks {
    let (n, m) = (a.len(), b.len());
    let d = ks_statistic(a, b);
    if (n as u64) * (m as u64) <= KS_EXACT_MAX {
        Ks {
            statistic: d,
            p_value: ks_exact_p(n, m, d),
            exact: true,
        }
    } else {
        let en = (n as f64 * m as f64) / (n + m) as f64;
        Ks {
            statistic: d,
            p_value: kolmogorov_sf(en.sqrt() * d),
            exact: false,
        }
    }
}

/// sup |F_a − F_b| over the right-continuous empirical CDFs; ties are stepped over
/// together, so a value present in both samples moves both CDFs at once.
pub fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0usize, 0usize, 0f64);
    while i < a.len() && j < b.len() {
        let v = a[i].min(b[j]);
        while i < a.len() && a[i] <= v {
            i += 1;
        }
        while j < b.len() && b[j] <= v {
            j += 1;
        }
        d = d.max((i as f64 / n - j as f64 / m).abs());
    }
    d
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// P(D ≥ d) under the null hypothesis, counting the monotone lattice paths from
/// (0, 0) to (n, m) that stay strictly between the two diagonals |i/n − j/m| < d.
/// The statistic is first rounded to the lattice (a multiple of 1/lcm(n, m)), as
/// scipy does. Probabilities rather than counts, so nothing overflows.
pub fn ks_exact_p(n: usize, m: usize, d: f64) -> f64 {
    let g = gcd(n as u64, m as u64);
    let lcm = (n as u64 / g) * m as u64;
    let h = (d * lcm as f64).round() as u64;
    if h == 0 {
        return 1.0;
    }
    // Inside when |i·m − j·n| < h·g (both sides multiplied by n·m).
    let bound = (h * g) as i128;
    let inside =
        |i: usize, j: usize| ((i as i128) * (m as i128) - (j as i128) * (n as i128)).abs() < bound;
    // prob[j]: probability of a uniformly random path reaching (i, j) while inside.
    let mut prob = vec![0f64; m + 1];
    prob[0] = 1.0;
    for j in 1..=m {
        prob[j] = if inside(0, j) {
            prob[j - 1] * (m - (j - 1)) as f64 / (n + m - (j - 1)) as f64
        } else {
            0.0
        };
    }
    for i in 1..=n {
        for j in 0..=m {
            if !inside(i, j) {
                prob[j] = 0.0;
                continue;
            }
            let left = n + m - (i - 1) - j;
            let from_below = prob[j] * (n - (i - 1)) as f64 / left as f64;
            let from_left = if j > 0 {
                prob[j - 1] * (m - (j - 1)) as f64 / (n + m - i - (j - 1)) as f64
            } else {
                0.0
            };
            prob[j] = from_below + from_left;
        }
    }
    (1.0 - prob[m]).clamp(0.0, 1.0)
}

/// Kolmogorov's limiting survival function Q(λ) = 2 Σ (−1)^(k−1) exp(−2k²λ²),
/// with Jacobi's dual series for small λ where the first converges slowly (the
/// method of scipy.special.kolmogorov).
pub fn kolmogorov_sf(lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    if lambda < 1.0 {
        let c = std::f64::consts::PI * std::f64::consts::PI / (8.0 * lambda * lambda);
        let s: f64 = (1..=20)
            .map(|k| {
                let o = (2 * k - 1) as f64;
                (-o * o * c).exp()
            })
            .sum();
        return (1.0 - (2.0 * std::f64::consts::PI).sqrt() / lambda * s).clamp(0.0, 1.0);
    }
    let s: f64 = (1..=100)
        .map(|k| {
            let k = k as f64;
            let sign = if k as u64 % 2 == 1 { 1.0 } else { -1.0 };
            sign * (-2.0 * k * k * lambda * lambda).exp()
        })
        .sum();
    (2.0 * s).clamp(0.0, 1.0)
}

/// The first Wasserstein distance between two sorted samples: the area between
/// their empirical CDFs (scipy.stats.wasserstein_distance).
pub fn wasserstein(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut prev: Option<f64> = None;
    let mut area = 0.0;
    while i < a.len() || j < b.len() {
        let v = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        if let Some(p) = prev {
            area += (i as f64 / n - j as f64 / m).abs() * (v - p);
        }
        while i < a.len() && a[i] <= v {
            i += 1;
        }
        while j < b.len() && b[j] <= v {
            j += 1;
        }
        prev = Some(v);
    }
    area
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Categorical {
    pub chi2: f64,
    pub dof: f64,
    pub p_value: f64,
    /// Jensen–Shannon distance with base-2 logarithms: 0 (same mix) to 1 (disjoint).
    pub js: f64,
}

/// Chi-square test of homogeneity on the 2×K table of counts, and the
/// Jensen–Shannon distance between the two category distributions.
pub fn categorical(a: &[u64], b: &[u64]) -> Categorical {
    let (na, nb) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
    let n = na + nb;
    let mut chi2 = 0.0;
    let mut used = 0usize;
    let mut js = 0.0;
    for (&oa, &ob) in a.iter().zip(b) {
        let (oa, ob) = (oa as f64, ob as f64);
        let col = oa + ob;
        if col == 0.0 {
            continue;
        }
        used += 1;
        for (o, row) in [(oa, na), (ob, nb)] {
            let e = row * col / n;
            chi2 += (o - e) * (o - e) / e;
        }
        let (p, q) = (oa / na, ob / nb);
        let mid = (p + q) / 2.0;
        for x in [p, q] {
            if x > 0.0 {
                js += 0.5 * x * (x / mid).log2();
            }
        }
    }
    let dof = (used as f64 - 1.0).max(1.0);
    let p_value = ChiSquared::new(dof).map(|d| d.sf(chi2)).unwrap_or(1.0);
    Categorical {
        chi2,
        dof,
        p_value,
        js: js.max(0.0).sqrt(),
    }
}

/// Benjamini–Hochberg adjusted p-values (q-values), in the input order: the
/// smallest level at which each test is a discovery while the expected share of
/// false discoveries among the features flagged stays at that level.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut q = vec![1.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p[i] * m as f64 / (rank + 1) as f64);
        // p·m/m can round below p by an ulp.
        q[i] = running.min(1.0).max(p[i]);
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sorted(mut v: Vec<f64>) -> Vec<f64> {
        v.sort_by(f64::total_cmp);
        v
    }

    /// Fixed samples (see tests/reference/shift_reference.py) against scipy's exact
    /// two-sample KS p-value; the limiting p-value against scipy.special.kolmogorov
    /// (scipy's own asymptotic branch uses the finite-n distribution instead).
    #[test]
    fn ks_agrees_with_scipy() {
        for (a, b, d, p_exact, p_limit, w) in super::reference::CASES {
            let (a, b) = (sorted(a.to_vec()), sorted(b.to_vec()));
            let ks = ks(&a, &b);
            assert!(
                (ks.statistic - d).abs() < 1e-12,
                "D {} vs {d}",
                ks.statistic
            );
            assert!(ks.exact);
            assert!(
                (ks.p_value - p_exact).abs() < 1e-6,
                "p {} vs {p_exact}",
                ks.p_value
            );
            let en = (a.len() * b.len()) as f64 / (a.len() + b.len()) as f64;
            let limit = kolmogorov_sf(en.sqrt() * d);
            assert!((limit - p_limit).abs() < 1e-6, "limit {limit} vs {p_limit}");
            assert!((wasserstein(&a, &b) - w).abs() < 1e-9);
        }
    }

    #[test]
    fn kolmogorov_limit_matches_scipy_across_the_range() {
        for (lambda, q) in super::reference::KOLMOGOROV {
            assert!((kolmogorov_sf(lambda) - q).abs() < 1e-9, "λ {lambda}");
        }
    }

    #[test]
    fn categorical_matches_scipy() {
        let c = categorical(&[30, 50, 20], &[25, 30, 45]);
        let (chi2, p, js) = super::reference::CATEGORICAL;
        assert!((c.chi2 - chi2).abs() < 1e-9);
        assert!((c.p_value - p).abs() < 1e-9);
        assert!((c.js - js).abs() < 1e-9);
        assert_eq!(c.dof, 2.0);
    }

    #[test]
    fn bh_matches_statsmodels_definition() {
        let q = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.5]);
        let want = [0.04, 0.16 / 3.0, 0.16 / 3.0, 0.5];
        for (a, b) in q.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{q:?}");
        }
    }

    proptest! {
        #[test]
        fn ks_statistic_bounds_and_symmetry(a in prop::collection::vec(-5i32..5, 1..40), b in prop::collection::vec(-5i32..5, 1..40)) {
            let a = sorted(a.into_iter().map(f64::from).collect());
            let b = sorted(b.into_iter().map(f64::from).collect());
            let d = ks_statistic(&a, &b);
            prop_assert!((0.0..=1.0).contains(&d));
            prop_assert_eq!(d, ks_statistic(&b, &a));
            prop_assert_eq!(ks_statistic(&a, &a), 0.0);
            let p = ks(&a, &b).p_value;
            prop_assert!((0.0..=1.0).contains(&p));
            let w = wasserstein(&a, &b);
            prop_assert!((w - wasserstein(&b, &a)).abs() < 1e-9 && w >= 0.0);
        }

        #[test]
        fn bh_never_lowers_a_p_value(p in prop::collection::vec(0.0f64..1.0, 1..30)) {
            let q = benjamini_hochberg(&p);
            for (a, b) in p.iter().zip(&q) {
                prop_assert!(b >= a && *b <= 1.0);
            }
        }
    }
}

#[cfg(test)]
#[path = "reference.rs"]
mod reference;
