//! Count, mean, central moments (to the third), extremes and zeros in one pass, with
//! an exact merge (Pébay 2008), so per-shard results combine into the global ones.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    pub n: u64,
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
    /// Sum of cubed deviations from the mean.
    pub m3: f64,
    pub min: f64,
    pub max: f64,
    pub zeros: u64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            m3: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            zeros: 0,
        }
    }
}

/// Values summed together by `Moments::from_slice` before the blocks are merged.
const BLOCK: usize = 4096;

impl Moments {
    /// Adds one finite value (callers count NaN and infinities separately).
    #[inline]
    pub fn push(&mut self, x: f64) {
        let n1 = self.n as f64;
        self.n += 1;
        let n = self.n as f64;
        let delta = x - self.mean;
        let delta_n = delta / n;
        let term1 = delta * delta_n * n1;
        self.mean += delta_n;
        self.m3 += term1 * delta_n * (n - 2.0) - 3.0 * delta_n * self.m2;
        self.m2 += term1;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        self.zeros += (x == 0.0) as u64;
    }

    /// Moments of the finite values of a slice: blocks of `BLOCK` values are summed in
    /// two tight passes (mean, then deviations) and merged in order, which is several
    /// times faster than `push`.
    pub fn from_slice(xs: &[f64]) -> Moments {
        Moments::from_chunks(std::iter::once(xs))
    }

    /// `from_slice` of the chunks' values one after another, bit for bit, wherever
    /// the chunks are cut: the blocks run across their boundaries. (A column's chunks
    /// are where its reader cut it, which is not the data's: polars cuts a CSV file
    /// into chunks of other sizes in a debug build than in a release build, and
    /// summing chunk by chunk gave the two builds' reports different last digits.)
    pub fn from_chunks<'a>(chunks: impl IntoIterator<Item = &'a [f64]>) -> Moments {
        let mut out = Moments::default();
        let mut carry: Vec<f64> = Vec::new();
        for mut c in chunks {
            if !carry.is_empty() {
                let take = (BLOCK - carry.len()).min(c.len());
                carry.extend_from_slice(&c[..take]);
                c = &c[take..];
                if carry.len() < BLOCK {
                    continue;
                }
                out.merge(&Moments::block(&carry));
                carry.clear();
            }
            let whole = c.len() - c.len() % BLOCK;
            for b in c[..whole].chunks_exact(BLOCK) {
                out.merge(&Moments::block(b));
            }
            carry.extend_from_slice(&c[whole..]);
        }
        if !carry.is_empty() {
            out.merge(&Moments::block(&carry));
        }
        out
    }

    /// One block's moments, from its mean and a correction (`from_chunks`).
    fn block(block: &[f64]) -> Moments {
        let (mut n, mut sum) = (0u64, 0f64);
        for &x in block {
            if x.is_finite() {
                n += 1;
                sum += x;
            }
        }
        if n == 0 {
            return Moments::default();
        }
        let mean = sum / n as f64;
        let mut b = Moments {
            n,
            mean,
            ..Default::default()
        };
        // The block mean is rounded; a correction term keeps m2 exact to rounding.
        let (mut m2, mut m3, mut corr) = (0f64, 0f64, 0f64);
        for &x in block {
            if x.is_finite() {
                let d = x - mean;
                corr += d;
                m2 += d * d;
                m3 += d * d * d;
                b.min = b.min.min(x);
                b.max = b.max.max(x);
                b.zeros += (x == 0.0) as u64;
            }
        }
        let nf = n as f64;
        b.mean = mean + corr / nf;
        b.m2 = m2 - corr * corr / nf;
        b.m3 = m3 - 3.0 * corr * m2 / nf + 2.0 * corr.powi(3) / (nf * nf);
        b
    }

    pub fn merge(&mut self, o: &Moments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let (na, nb) = (self.n as f64, o.n as f64);
        let n = na + nb;
        let delta = o.mean - self.mean;
        let m2 = self.m2 + o.m2 + delta * delta * na * nb / n;
        let m3 = self.m3
            + o.m3
            + delta.powi(3) * na * nb * (na - nb) / (n * n)
            + 3.0 * delta * (na * o.m2 - nb * self.m2) / n;
        self.mean += delta * nb / n;
        self.m2 = m2;
        self.m3 = m3;
        self.n += o.n;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.zeros += o.zeros;
    }

    /// Sample standard deviation (n − 1), as numpy's `std(ddof=1)` and pandas' `std()`.
    pub fn std(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / (self.n as f64 - 1.0)).max(0.0).sqrt()
        }
    }

    /// Population skewness g1 (scipy.stats.skew default); 0 for a constant column.
    pub fn skewness(&self) -> f64 {
        if self.n < 3 || self.m2 <= 0.0 {
            return 0.0;
        }
        let n = self.n as f64;
        let var = self.m2 / n;
        if var <= f64::EPSILON * self.mean.abs().max(1.0).powi(2) {
            return 0.0;
        }
        (self.m3 / n) / var.powf(1.5)
    }
}

/// Per column of rows, the count, mean and sum of squared deviations of its finite
/// values: `Moments::push` and `Moments::merge` for those three alone, operation for
/// operation (so the same bits), stored column by column. The feature scalers (label
/// features, table z-scores) read only means and deviations; filling every column's
/// third moment, extremes and zero count as well was most of their pass over the rows.
#[derive(Debug, Clone)]
pub struct Spread {
    n: Vec<u64>,
    mean: Vec<f64>,
    m2: Vec<f64>,
    /// Every column has the same count: a row of finite values then updates every
    /// column with one count, in a loop the compiler vectorizes (the per-column
    /// counts and the skip kept it scalar: a division per value, one at a time).
    even: bool,
}

impl Spread {
    pub fn new(columns: usize) -> Spread {
        Spread {
            n: vec![0; columns],
            mean: vec![0.0; columns],
            m2: vec![0.0; columns],
            even: true,
        }
    }

    /// One row, a value per column (f32 values widened as `as f64` widens them);
    /// non-finite values are skipped.
    pub fn push_row<T: Copy + Into<f64>>(&mut self, row: &[T]) {
        if self.even && row.len() == self.n.len() && row.iter().all(|&x| x.into().is_finite()) {
            let Some(&count) = self.n.first() else {
                return;
            };
            // The same operations as below, value for value.
            let (n1, n) = (count as f64, (count + 1) as f64);
            for ((mean, m2), &x) in self.mean.iter_mut().zip(&mut self.m2).zip(row) {
                let x: f64 = x.into();
                let delta = x - *mean;
                let delta_n = delta / n;
                *mean += delta_n;
                *m2 += delta * delta_n * n1;
            }
            self.n.iter_mut().for_each(|c| *c += 1);
            return;
        }
        self.even = false;
        let columns = self.n.iter_mut().zip(&mut self.mean).zip(&mut self.m2);
        for (((count, mean), m2), &x) in columns.zip(row) {
            let x: f64 = x.into();
            if !x.is_finite() {
                continue;
            }
            let n1 = *count as f64;
            *count += 1;
            let n = *count as f64;
            let delta = x - *mean;
            let delta_n = delta / n;
            *mean += delta_n;
            *m2 += delta * delta_n * n1;
        }
    }

    pub fn merge(&mut self, o: &Spread) {
        for j in 0..self.n.len() {
            if o.n[j] == 0 {
                continue;
            }
            if self.n[j] == 0 {
                (self.n[j], self.mean[j], self.m2[j]) = (o.n[j], o.mean[j], o.m2[j]);
                continue;
            }
            let (na, nb) = (self.n[j] as f64, o.n[j] as f64);
            let n = na + nb;
            let delta = o.mean[j] - self.mean[j];
            self.m2[j] = self.m2[j] + o.m2[j] + delta * delta * na * nb / n;
            self.mean[j] += delta * nb / n;
            self.n[j] += o.n[j];
        }
        self.even = self.n.windows(2).all(|w| w[0] == w[1]);
    }

    /// `parts` merged in order into one of `columns` columns.
    pub fn merged<'a>(columns: usize, parts: impl IntoIterator<Item = &'a Spread>) -> Spread {
        parts.into_iter().fold(Spread::new(columns), |mut a, b| {
            a.merge(b);
            a
        })
    }

    pub fn means(&self) -> &[f64] {
        &self.mean
    }

    /// Each column's `Moments::std`.
    pub fn stds(&self) -> Vec<f64> {
        (0..self.n.len())
            .map(|j| {
                Moments {
                    n: self.n[j],
                    mean: self.mean[j],
                    m2: self.m2[j],
                    ..Moments::default()
                }
                .std()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(xs: &[f64]) -> (f64, f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let m2: f64 = xs.iter().map(|x| (x - mean).powi(2)).sum();
        let m3: f64 = xs.iter().map(|x| (x - mean).powi(3)).sum();
        (mean, m2, m3)
    }

    fn of(xs: &[f64]) -> Moments {
        let mut m = Moments::default();
        xs.iter().for_each(|&x| m.push(x));
        m
    }

    fn close(a: f64, b: f64, scale: f64) -> bool {
        (a - b).abs() <= 1e-7 * scale.max(1.0)
    }

    proptest! {
        #[test]
        fn from_slice_matches_two_pass(xs in prop::collection::vec(-1e3f64..1e3, 1..10_000)) {
            let m = Moments::from_slice(&xs);
            let (mean, m2, m3) = naive(&xs);
            prop_assert!(close(m.mean, mean, 1e3));
            prop_assert!(close(m.m2, m2, m2.abs()));
            prop_assert!(close(m.m3, m3, m3.abs().max(m2.abs() * 1e3)));
            prop_assert_eq!(m.n, xs.len() as u64);
        }

        #[test]
        fn push_matches_two_pass(xs in prop::collection::vec(-1e3f64..1e3, 1..200)) {
            let m = of(&xs);
            let (mean, m2, m3) = naive(&xs);
            prop_assert!(close(m.mean, mean, 1e3));
            prop_assert!(close(m.m2, m2, m2.abs()));
            prop_assert!(close(m.m3, m3, m3.abs().max(m2.abs() * 1e3)));
        }

        #[test]
        fn merge_equals_one_pass(xs in prop::collection::vec(-1e3f64..1e3, 2..200), cut in 0usize..200) {
            let cut = cut % xs.len();
            let mut a = of(&xs[..cut]);
            a.merge(&of(&xs[cut..]));
            let whole = of(&xs);
            prop_assert_eq!(a.n, whole.n);
            prop_assert!(close(a.mean, whole.mean, 1e3));
            prop_assert!(close(a.m2, whole.m2, whole.m2.abs()));
            prop_assert!(close(a.m3, whole.m3, whole.m3.abs().max(whole.m2.abs() * 1e3)));
            prop_assert_eq!(a.min, whole.min);
            prop_assert_eq!(a.max, whole.max);
        }
    }

    proptest! {
        /// The moments of values cut into chunks anywhere are those of the values
        /// whole, bit for bit.
        #[test]
        fn chunks_anywhere_give_the_whole_slices_bits(
            raw in prop::collection::vec(prop::option::weighted(0.95, -1e3f64..1e3), 0..20_000),
            cuts in prop::collection::vec(0usize..20_000, 0..12),
        ) {
            let xs: Vec<f64> = raw.iter().map(|v| v.unwrap_or(f64::INFINITY)).collect();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(xs.len())).collect();
            cuts.sort_unstable();
            let mut pieces = Vec::new();
            let mut from = 0;
            for c in cuts.into_iter().chain([xs.len()]) {
                pieces.push(&xs[from..c]);
                from = c;
            }
            let (whole, cut) = (Moments::from_slice(&xs), Moments::from_chunks(pieces));
            let bits = |m: &Moments| {
                (m.n, m.mean.to_bits(), m.m2.to_bits(), m.m3.to_bits(), m.min.to_bits(), m.max.to_bits(), m.zeros)
            };
            prop_assert_eq!(bits(&whole), bits(&cut));
        }

        /// `Spread` keeps `Moments`' count, mean and deviation bit for bit, through
        /// rows with non-finite values and merges of blocks in order.
        #[test]
        fn spread_is_moments_bit_for_bit(
            raw in prop::collection::vec(prop::option::weighted(0.9, -1e3f64..1e3), 3..600),
            columns in 1usize..7,
            block in 1usize..50,
        ) {
            let values: Vec<f64> = raw.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
            let rows: Vec<&[f64]> = values.chunks_exact(columns).collect();
            let mut spread = Spread::new(columns);
            let mut moments = vec![Moments::default(); columns];
            for part in rows.chunks(block) {
                let mut s = Spread::new(columns);
                let mut m = vec![Moments::default(); columns];
                for row in part {
                    s.push_row(row);
                    for (m, &v) in m.iter_mut().zip(row.iter()) {
                        if v.is_finite() {
                            m.push(v);
                        }
                    }
                }
                spread.merge(&s);
                moments.iter_mut().zip(&m).for_each(|(a, b)| a.merge(b));
            }
            // Rows pushed after merges too (even counts again, or not).
            for row in rows.iter().take(block % 7) {
                spread.push_row(row);
                for (m, &v) in moments.iter_mut().zip(row.iter()) {
                    if v.is_finite() {
                        m.push(v);
                    }
                }
            }
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let means: Vec<f64> = moments.iter().map(|m| m.mean).collect();
            let stds: Vec<f64> = moments.iter().map(|m| m.std()).collect();
            prop_assert_eq!(bits(spread.means()), bits(&means));
            prop_assert_eq!(bits(&spread.stds()), bits(&stds));
        }
    }

    #[test]
    fn reference_values() {
        // numpy: std([2,4,4,4,5,5,7,9], ddof=1) = 2.138089935299395; scipy.stats.skew = 0.65625
        let m = of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert!((m.std() - 2.138089935299395).abs() < 1e-12);
        assert!((m.skewness() - 0.65625).abs() < 1e-12);
        assert_eq!(of(&[3.0, 3.0, 3.0]).skewness(), 0.0);
        assert_eq!(of(&[1.0]).std(), 0.0);
    }
}
