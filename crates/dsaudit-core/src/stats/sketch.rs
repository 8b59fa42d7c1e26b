//! Quantiles from an evenly spaced subsample: exact up to `CAP` values, an estimate
//! past that, at a cost that does not grow with the table. Mergeable: two sketches
//! combine by pooling and thinning.

use serde::Serialize;

pub const CAP: usize = 100_000;

#[derive(Debug, Clone, Default, Serialize)]
pub struct QuantileSketch {
    /// Sorted values; at most CAP.
    values: Vec<f64>,
    /// True when `values` holds every value seen.
    pub exact: bool,
}

impl QuantileSketch {
    /// From finite values, taking every k-th when there are more than CAP.
    pub fn from_values(values: impl ExactSizeIterator<Item = f64>) -> QuantileSketch {
        let n = values.len();
        let step = n.div_ceil(CAP).max(1);
        let mut v: Vec<f64> = values.step_by(step).collect();
        v.sort_by(f64::total_cmp);
        QuantileSketch {
            values: v,
            exact: step == 1,
        }
    }

    /// Its values, sorted, and whether they are every value seen (a part stores them).
    pub fn parts(&self) -> (&[f64], bool) {
        (&self.values, self.exact)
    }

    /// A sketch as `parts` gave it; values are sorted again (a stored part is input).
    pub fn from_parts(mut values: Vec<f64>, exact: bool) -> QuantileSketch {
        values.sort_by(f64::total_cmp);
        values.truncate(CAP);
        QuantileSketch { values, exact }
    }

    pub fn merge(&mut self, other: &QuantileSketch) {
        let mut v = std::mem::take(&mut self.values);
        v.extend_from_slice(&other.values);
        v.sort_by(f64::total_cmp);
        self.exact = self.exact && other.exact && v.len() <= CAP;
        if v.len() > CAP {
            let step = v.len().div_ceil(CAP);
            v = v.into_iter().step_by(step).collect();
        }
        self.values = v;
    }

    /// Linear-interpolated quantile (numpy's default method); None when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let v = &self.values;
        if v.is_empty() {
            return None;
        }
        let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
    }

    /// Whether every sampled value is a whole number.
    pub fn all_integral(&self) -> bool {
        !self.values.is_empty() && self.values.iter().all(|v| v.fract() == 0.0)
    }

    /// Share of the sample taken by its most frequent value.
    pub fn top_share(&self) -> f64 {
        let v = &self.values;
        if v.is_empty() {
            return 0.0;
        }
        let (mut best, mut run) = (1usize, 1usize);
        for w in v.windows(2) {
            run = if w[0] == w[1] { run + 1 } else { 1 };
            best = best.max(run);
        }
        best as f64 / v.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numpy_reference() {
        // numpy.quantile([1, 2, 3, 4, 10], [0, .25, .5, .9, 1]) = [1, 2, 3, 7.6, 10]
        let s = QuantileSketch::from_values([10.0, 2.0, 3.0, 1.0, 4.0].into_iter());
        let q: Vec<f64> = [0.0, 0.25, 0.5, 0.9, 1.0]
            .iter()
            .map(|&q| s.quantile(q).unwrap())
            .collect();
        assert_eq!(q[..3], [1.0, 2.0, 3.0]);
        assert!((q[3] - 7.6).abs() < 1e-12);
        assert_eq!(q[4], 10.0);
        assert!(s.exact);
        assert_eq!(QuantileSketch::default().quantile(0.5), None);
    }

    #[test]
    fn large_inputs_are_estimated_closely() {
        let n = 1_000_003;
        let s = QuantileSketch::from_values((0..n).map(|i| i as f64));
        assert!(!s.exact);
        let med = s.quantile(0.5).unwrap();
        assert!((med - n as f64 / 2.0).abs() / (n as f64) < 1e-3, "{med}");
    }

    proptest! {
        #[test]
        fn quantiles_are_monotone_and_bounded(xs in prop::collection::vec(-1e6f64..1e6, 1..300), a in 0.0f64..1.0, b in 0.0f64..1.0) {
            let s = QuantileSketch::from_values(xs.iter().copied());
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let (qa, qb) = (s.quantile(lo).unwrap(), s.quantile(hi).unwrap());
            prop_assert!(qa <= qb);
            let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(qa >= min && qb <= max);
        }

        #[test]
        fn merge_of_small_parts_is_exact(xs in prop::collection::vec(-1e3f64..1e3, 2..300), cut in 0usize..300) {
            let cut = cut % xs.len();
            let mut a = QuantileSketch::from_values(xs[..cut].iter().copied());
            a.merge(&QuantileSketch::from_values(xs[cut..].iter().copied()));
            let whole = QuantileSketch::from_values(xs.iter().copied());
            prop_assert!(a.exact);
            for q in [0.0, 0.1, 0.5, 0.99, 1.0] {
                prop_assert_eq!(a.quantile(q), whole.quantile(q));
            }
        }
    }
}
