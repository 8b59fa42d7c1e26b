//! The numeric summary of one column: moments plus a quantile sketch, built in one
//! pass over the values polars holds.

use super::moments::Moments;
use super::sketch::QuantileSketch;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize)]
pub struct NumericStats {
    pub moments: Moments,
    #[serde(skip)]
    pub sketch: QuantileSketch,
}

/// Quantiles reported for every numeric column.
pub const QUANTILES: [f64; 7] = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

impl NumericStats {
    pub fn merge(&mut self, other: &NumericStats) {
        self.moments.merge(&other.moments);
        self.sketch.merge(&other.sketch);
    }

    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.sketch.quantile(q)
    }

    /// From the values of a column (non-finite ones counted by the moments and left
    /// out of the sketch), given twice: once for moments, once for the sketch.
    pub fn from_slices<'a>(chunks: impl Iterator<Item = &'a [f64]> + Clone) -> NumericStats {
        NumericStats {
            moments: Moments::from_chunks(chunks.clone()),
            sketch: QuantileSketch::from_values(
                chunks
                    .flat_map(|c| c.iter().copied())
                    .filter(|x| x.is_finite()),
            ),
        }
    }

    /// For a numeric polars column (nulls skipped); None for other types.
    pub fn of_column(c: &Column) -> Option<NumericStats> {
        let dt = c.dtype();
        if !(dt.is_primitive_numeric() || dt.is_decimal()) {
            return None;
        }
        let f = c.cast(&DataType::Float64).ok()?;
        let ca = f.f64().ok()?;
        // Nulls hold arbitrary values underneath; only null-free chunks are read raw.
        if ca.null_count() == 0 {
            let slices: Vec<&[f64]> = ca.downcast_iter().map(|a| a.values().as_slice()).collect();
            Some(NumericStats::from_slices(slices.iter().copied()))
        } else {
            let v: Vec<f64> = ca.iter().flatten().collect();
            Some(NumericStats::from_slices(std::iter::once(v.as_slice())))
        }
    }
}

/// What a string column looks like: how many distinct values, and how many of them parse as numbers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StringStats {
    pub n_unique: u64,
    /// Share of the sampled non-null values that parse as numbers.
    pub numeric_share: f64,
    pub sampled: u64,
    /// Up to three distinct sampled values that are not numbers.
    pub non_numeric_examples: Vec<String>,
    /// The lowest hashes of the distinct values, sorted, at most `DISTINCT_HELD` (a
    /// missing value counts as one, as in `n_unique`): a k-minimum-values sketch, which
    /// counts distinct values exactly across blocks and parts while they fit and
    /// estimates the count past that.
    pub distinct: Vec<u64>,
    /// More distinct values were seen than `distinct` holds: a merged `n_unique` is
    /// then an estimate (relative standard error about 1/√`DISTINCT_HELD`, 0.4%).
    pub estimated: bool,
}

/// Distinct values a column's summary holds: 512 KiB a column at most.
pub const DISTINCT_HELD: usize = 1 << 16;

/// The lowest `DISTINCT_HELD` hashes of `ca`'s distinct values (fewer than its
/// `n_unique` when it has more).
fn distinct_hashes(ca: &StringChunked) -> Vec<u64> {
    let keep_lowest = |out: &mut Vec<u64>| {
        out.sort_unstable();
        out.dedup();
        out.truncate(DISTINCT_HELD);
    };
    let mut out: Vec<u64> = Vec::new();
    for v in ca.iter() {
        out.push(match v {
            Some(v) => xxhash_rust::xxh3::xxh3_64_with_seed(v.as_bytes(), 1),
            None => 0,
        });
        if out.len() > 4 * DISTINCT_HELD {
            keep_lowest(&mut out);
        }
    }
    keep_lowest(&mut out);
    out
}

/// Distinct values from the lowest hashes of a sketch that saw more than it holds:
/// k values spread over the hash space up to the k-th lowest, `(k - 1) / (h_k / 2^64)`.
fn estimate(lowest: &[u64]) -> u64 {
    let k = lowest.len() as f64;
    let last = lowest
        .last()
        .map_or(1.0, |&h| (h as f64 + 1.0) / 18_446_744_073_709_551_616.0);
    ((k - 1.0) / last).round() as u64
}

impl StringStats {
    pub fn of_column(c: &Column) -> Option<StringStats> {
        let ca = c.str().ok()?;
        // One block's count is exact however many values it holds; the sketch is for
        // merging it with others.
        let n_unique = c.n_unique().ok()? as u64;
        let distinct = distinct_hashes(ca);
        let non_null = ca.len() - ca.null_count();
        let step = non_null.div_ceil(10_000).max(1);
        let mut sampled = 0u64;
        let mut numeric = 0u64;
        let mut examples: Vec<String> = Vec::new();
        for v in ca.iter().flatten().step_by(step) {
            sampled += 1;
            let t = v.trim();
            if !t.is_empty() && t.parse::<f64>().is_ok() {
                numeric += 1;
            } else if examples.len() < 3 && !examples.iter().any(|e| e == v) {
                examples.push(v.chars().take(40).collect());
            }
        }
        Some(StringStats {
            n_unique,
            numeric_share: if sampled == 0 {
                0.0
            } else {
                numeric as f64 / sampled as f64
            },
            sampled,
            non_numeric_examples: examples,
            distinct,
            estimated: false,
        })
    }

    pub fn merge(&mut self, o: &StringStats) {
        // Distinct values add up as sets of hashes, exactly while every block's fits;
        // past that, the lowest hashes of the union estimate the count.
        let saw_more = |s: &StringStats| s.estimated || s.n_unique > s.distinct.len() as u64;
        let more = saw_more(self) || saw_more(o);
        let mut union = crate::util::sorted_union(&self.distinct, &o.distinct);
        let more = more || union.len() > DISTINCT_HELD;
        union.truncate(DISTINCT_HELD);
        self.n_unique = match more {
            false => union.len() as u64,
            true => estimate(&union),
        };
        self.estimated = more;
        self.distinct = union;
        let total = self.sampled + o.sampled;
        if total > 0 {
            self.numeric_share = (self.numeric_share * self.sampled as f64
                + o.numeric_share * o.sampled as f64)
                / total as f64;
        }
        self.sampled = total;
        for e in &o.non_numeric_examples {
            if self.non_numeric_examples.len() < 3 && !self.non_numeric_examples.contains(e) {
                self.non_numeric_examples.push(e.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn of(values: &[Option<&str>]) -> StringStats {
        StringStats::of_column(&Column::new("c".into(), values)).unwrap()
    }

    proptest! {
        /// A text column cut into blocks anywhere, the blocks' summaries merged in
        /// either order, counts the whole column's distinct values (a missing value
        /// one of them, as polars counts it).
        #[test]
        fn distinct_values_add_up_across_blocks(
            values in proptest::collection::vec(proptest::option::of("[a-e]{0,2}"), 1..200),
            cut in 0usize..200,
            reverse in any::<bool>(),
        ) {
            let v: Vec<Option<&str>> = values.iter().map(|x| x.as_deref()).collect();
            let whole = of(&v);
            let cut = cut % (v.len() + 1);
            let (mut a, mut b) = (of(&v[..cut]), of(&v[cut..]));
            if reverse {
                std::mem::swap(&mut a, &mut b);
            }
            a.merge(&b);
            prop_assert_eq!(a.n_unique, whole.n_unique);
            prop_assert_eq!(a.distinct, whole.distinct);
        }
    }

    #[test]
    fn two_constant_blocks_are_not_a_constant_column() {
        let mut a = of(&[Some("train"); 3]);
        a.merge(&of(&[Some("test"); 3]));
        assert_eq!((a.n_unique, a.estimated), (2, false));
    }

    /// Past what the sketch holds, one block's count stays exact and merged blocks'
    /// is an estimate within 1% (about 2.5 standard errors), the same whatever the
    /// order; blocks that share values are not counted twice.
    #[test]
    fn many_distinct_values_are_estimated_across_blocks() {
        let ids: Vec<String> = (0..300_000).map(|i| format!("patient-{i}")).collect();
        let block = |r: std::ops::Range<usize>| {
            let v: Vec<Option<&str>> = ids[r].iter().map(|s| Some(s.as_str())).collect();
            of(&v)
        };
        let one = block(0..100_000);
        assert_eq!((one.n_unique, one.estimated), (100_000, false));
        assert_eq!(one.distinct.len(), DISTINCT_HELD);
        let (b, c) = (block(100_000..200_000), block(150_000..300_000));
        let mut ab = one.clone();
        ab.merge(&b);
        ab.merge(&c);
        let mut cb = c.clone();
        cb.merge(&b);
        cb.merge(&one);
        assert_eq!((ab.n_unique, ab.estimated), (cb.n_unique, true));
        let err = (ab.n_unique as f64 - 300_000.0).abs() / 300_000.0;
        assert!(err < 0.01, "{} for 300,000", ab.n_unique);
        // A small block merged into an estimated count keeps it estimated.
        ab.merge(&of(&[Some("x")]));
        assert!(ab.estimated);
    }
}
