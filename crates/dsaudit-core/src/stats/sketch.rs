//! Quantiles of a column: exact up to `CAP` values, estimated past that with a bound
//! on the estimate's error that the sketch keeps as it goes. Mergeable in any
//! grouping (blocks of a file, Spark partitions), each value keeping its weight.
//!
//! The shape is KLL's (Karin, Lang, Liberty 2016): levels of sorted values, a value
//! at level h standing for 2^h of those seen; a level over its capacity is halved —
//! every other value moves up a level — and capacities shrink by 2/3 per level
//! down from the top. Unlike KLL, which picks the kept half by a coin, the half
//! kept alternates: the same input gives the same sketch (and report). Halving a
//! sorted level of weight w moves any value's rank by at most w, so the sum of the
//! weights halved bounds the rank error of every quantile: `rank_error`.

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Values kept exactly (a sketch that never halved a level holds all of them).
pub const CAP: usize = 100_000;
/// The top level's capacity once levels were halved: with the lower levels', about
/// CAP values in all.
const TOP: f64 = CAP as f64 / 3.0;
/// No level is halved below this many values.
const FLOOR: usize = 8;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QuantileSketch {
    /// `levels[h]`: sorted values, each standing for 2^h values seen.
    levels: Vec<Vec<f64>>,
    /// Values seen.
    n: u64,
    /// Sum of the weights of the levels halved: no value's rank is off by more.
    err: u64,
    /// Halvings so far: which half the next one keeps.
    halvings: u64,
    /// Whether some value seen was not a whole number (kept exactly: a halving may
    /// drop the one fraction among millions).
    fractional: bool,
    /// The values with their weights, in order (built once, on the first query).
    #[serde(skip)]
    view: OnceLock<Vec<(f64, u64)>>,
}

impl QuantileSketch {
    /// From finite values.
    pub fn from_values(values: impl Iterator<Item = f64>) -> QuantileSketch {
        let mut v: Vec<f64> = values.collect();
        radsort::sort(&mut v);
        let mut s = QuantileSketch {
            n: v.len() as u64,
            fractional: v.iter().any(|x| x.fract() != 0.0),
            levels: vec![v],
            ..Default::default()
        };
        s.compress();
        s
    }

    /// Whether it holds every value seen (quantiles are then numpy's, exactly).
    pub fn exact(&self) -> bool {
        self.err == 0
    }

    /// Values seen.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// The most any quantile's rank can be off, as a share of the values seen
    /// (0 when exact).
    pub fn rank_error(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.err as f64 / self.n as f64
        }
    }

    /// Checks a sketch read from a part (input): sorted finite levels whose weights
    /// add up to the count.
    pub fn checked(self) -> Result<QuantileSketch, String> {
        if self.levels.len() > 64 {
            return Err(format!("{} levels", self.levels.len()));
        }
        let mut n: u64 = 0;
        for (h, level) in self.levels.iter().enumerate() {
            if level.iter().any(|v| !v.is_finite()) || !level.is_sorted() {
                return Err(format!("level {h} is not sorted finite values"));
            }
            let w = (level.len() as u64)
                .checked_shl(h as u32)
                .filter(|w| w >> h == level.len() as u64);
            n = w
                .and_then(|w| n.checked_add(w))
                .ok_or("its weights overflow")?;
        }
        let kept_fraction = self.levels.iter().flatten().any(|x| x.fract() != 0.0);
        if n != self.n
            || self.err > self.n.saturating_mul(64)
            || (self.err == 0 && self.levels.len() > 1)
            || (kept_fraction && !self.fractional)
        {
            return Err(format!("{} values for a count of {}", n, self.n));
        }
        Ok(self)
    }

    pub fn merge(&mut self, other: &QuantileSketch) {
        if other.n == 0 {
            return;
        }
        if self.levels.len() < other.levels.len() {
            self.levels.resize_with(other.levels.len(), Vec::new);
        }
        for (mine, theirs) in self.levels.iter_mut().zip(&other.levels) {
            if !theirs.is_empty() {
                *mine = merged(mine, theirs);
            }
        }
        self.n += other.n;
        self.err += other.err;
        self.halvings += other.halvings;
        self.fractional |= other.fractional;
        self.view = OnceLock::new();
        self.compress();
    }

    /// Halves levels until each is within its capacity.
    fn compress(&mut self) {
        while let Some(h) =
            (0..self.levels.len()).find(|&h| self.levels[h].len() > self.capacity(h))
        {
            self.halve(h);
        }
    }

    /// How many values level `h` may hold: CAP while nothing was halved, then
    /// shrinking by 2/3 per level below the top.
    fn capacity(&self, h: usize) -> usize {
        let top = self.levels.len() - 1;
        if top == 0 {
            return CAP;
        }
        let below = (top - h) as i32;
        ((TOP * (2.0f64 / 3.0).powi(below)) as usize).max(FLOOR)
    }

    /// Every other value of level `h` moves up, with twice the weight (an odd one
    /// out, the smallest, stays).
    fn halve(&mut self, h: usize) {
        if h + 1 == self.levels.len() {
            self.levels.push(Vec::new());
        }
        let level = std::mem::take(&mut self.levels[h]);
        let odd = level.len() % 2;
        let offset = odd + (self.halvings % 2) as usize;
        let up: Vec<f64> = level[offset..].iter().step_by(2).copied().collect();
        self.levels[h] = level[..odd].to_vec();
        self.levels[h + 1] = merged(&self.levels[h + 1], &up);
        self.err += 1u64 << h;
        self.halvings += 1;
    }

    fn view(&self) -> &[(f64, u64)] {
        self.view.get_or_init(|| {
            let mut v: Vec<(f64, u64)> = self
                .levels
                .iter()
                .enumerate()
                .flat_map(|(h, l)| l.iter().map(move |&x| (x, 1u64 << h)))
                .collect();
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            v
        })
    }

    /// Linear-interpolated quantile (numpy's default method) between the values at
    /// the ranks around `q`, each value covering as many ranks as it stands for;
    /// None when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let pos = q.clamp(0.0, 1.0) * (self.n - 1) as f64;
        let (lo, hi) = (pos.floor() as u64, pos.ceil() as u64);
        let (a, b) = (self.at_rank(lo), self.at_rank(hi));
        Some(a + (b - a) * (pos - lo as f64))
    }

    /// The value whose ranks include `rank` (0-based).
    fn at_rank(&self, rank: u64) -> f64 {
        if self.exact() {
            return self.levels[0][rank as usize];
        }
        let mut seen = 0u64;
        let view = self.view();
        for &(x, w) in view {
            seen += w;
            if rank < seen {
                return x;
            }
        }
        view.last().map_or(f64::NAN, |v| v.0)
    }

    /// Records that a value left out of the sketch (a sample's source) was not whole.
    pub fn seen_fraction(&mut self) {
        self.fractional = true;
    }

    /// Whether every value seen is a whole number.
    pub fn all_integral(&self) -> bool {
        self.n > 0 && !self.fractional
    }

    /// Share of the values taken by the most frequent one (weighted).
    pub fn top_share(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let (mut best, mut run, mut last) = (0u64, 0u64, None);
        let single;
        let items: &[(f64, u64)] = if self.exact() {
            single = self.levels[0].iter().map(|&x| (x, 1)).collect::<Vec<_>>();
            &single
        } else {
            self.view()
        };
        for &(x, w) in items {
            run = if last == Some(x) { run + w } else { w };
            last = Some(x);
            best = best.max(run);
        }
        best as f64 / self.n as f64
    }
}

/// Two sorted runs as one.
fn merged(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].total_cmp(&b[j]).is_le() {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
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
        assert!(s.exact());
        assert_eq!(QuantileSketch::default().quantile(0.5), None);
    }

    /// The true rank share of `x` among `sorted` (values below it, plus half of those
    /// equal), against the quantile level asked for.
    fn rank_of(sorted: &[f64], x: f64) -> (f64, f64) {
        let below = sorted.partition_point(|&v| v < x) as f64;
        let upto = sorted.partition_point(|&v| v <= x) as f64;
        let n = (sorted.len() - 1) as f64;
        (below / n, (upto - 1.0).max(0.0) / n)
    }

    #[test]
    fn large_inputs_stay_within_their_stated_error() {
        let n = 1_000_003u64;
        // A value order with structure (a saw), as a file sorted by time has.
        let values: Vec<f64> = (0..n).map(|i| ((i * 7919) % n) as f64).collect();
        let s = QuantileSketch::from_values(values.iter().copied());
        assert!(!s.exact());
        assert!(
            s.rank_error() > 0.0 && s.rank_error() < 1e-4,
            "{}",
            s.rank_error()
        );
        let retained: usize = s.levels.iter().map(Vec::len).sum();
        assert!(retained <= CAP + 64, "{retained}");
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        for q in [0.01, 0.25, 0.5, 0.99] {
            let (lo, hi) = rank_of(&sorted, s.quantile(q).unwrap());
            let e = s.rank_error() + 1.0 / n as f64;
            assert!(lo - e <= q && q <= hi + e, "q {q}: rank {lo}..{hi}");
        }
    }

    /// Blocks of very different sizes and values, folded one after another as a file
    /// read in blocks is: each value keeps its weight (a pooled sample that weighs
    /// every block alike put the median in the small last blocks).
    #[test]
    fn uneven_blocks_fold_without_bias() {
        let big: Vec<f64> = (0..900_000).map(|i| (i % 1000) as f64).collect();
        let small: Vec<f64> = (0..20_000).map(|i| 10_000.0 + i as f64).collect();
        let mut s = QuantileSketch::from_values(big.iter().copied());
        for chunk in small.chunks(5_000) {
            s.merge(&QuantileSketch::from_values(chunk.iter().copied()));
        }
        let mut all: Vec<f64> = big.iter().chain(&small).copied().collect();
        all.sort_by(f64::total_cmp);
        for q in [0.05, 0.5, 0.95, 0.99] {
            let (lo, hi) = rank_of(&all, s.quantile(q).unwrap());
            let e = s.rank_error() + 1e-6;
            assert!(
                lo - e <= q && q <= hi + e,
                "q {q}: rank {lo}..{hi}, error {e}"
            );
        }
        assert!(
            (s.top_share() - 900.0 / 920_000.0).abs() < 0.001,
            "{}",
            s.top_share()
        );
        assert_eq!(s.count(), 920_000);
        assert!(s.all_integral());
        // One fraction among 920,001 values: halvings may drop it, the flag keeps it.
        s.merge(&QuantileSketch::from_values([0.5].into_iter()));
        assert!(!s.all_integral());
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
            prop_assert!(a.exact());
            for q in [0.0, 0.1, 0.5, 0.99, 1.0] {
                prop_assert_eq!(a.quantile(q), whole.quantile(q));
            }
        }
    }

    proptest! {
        // Each case sketches a quarter of a million values.
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Any cut of a large column into parts, merged in any grouping: every
        /// quantile within the error the merged sketch states.
        #[test]
        fn merges_keep_their_stated_error(seed in 0u64..1000, cuts in prop::collection::vec(1usize..60_000, 1..12)) {
            let n = 250_000usize;
            let values: Vec<f64> = (0..n as u64)
                .map(|i| (xxhash_rust::xxh3::xxh3_64_with_seed(&i.to_le_bytes(), seed) % 50_000) as f64)
                .collect();
            let mut parts = Vec::new();
            let mut at = 0;
            for c in cuts.iter().chain(std::iter::once(&n)) {
                let end = (at + c).min(n);
                parts.push(QuantileSketch::from_values(values[at..end].iter().copied()));
                at = end;
                if at == n {
                    break;
                }
            }
            // Pairwise, as a tree reduce would, then the rest folded in order.
            let mut merged_parts: Vec<QuantileSketch> = parts
                .chunks(2)
                .map(|p| {
                    let mut a = p[0].clone();
                    if let Some(b) = p.get(1) {
                        a.merge(b);
                    }
                    a
                })
                .collect();
            let mut s = merged_parts.remove(0);
            for p in &merged_parts {
                s.merge(p);
            }
            prop_assert_eq!(s.count(), n as u64);
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            for q in [0.01, 0.1, 0.5, 0.9, 0.99] {
                let (lo, hi) = rank_of(&sorted, s.quantile(q).unwrap());
                let e = s.rank_error() + 1e-5;
                prop_assert!(lo - e <= q && q <= hi + e, "q {}: rank {}..{}, error {}", q, lo, hi, e);
            }
        }
    }
}
