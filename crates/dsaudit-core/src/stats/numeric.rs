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
    /// The distinct values' hashes, sorted (a missing value counts as one, as in
    /// `n_unique`): what makes distinct counts add up exactly across blocks and parts.
    /// None past `DISTINCT_HELD`: `n_unique` is then a lower bound.
    pub distinct: Option<Vec<u64>>,
}

/// Distinct values a column's summary holds to count them across blocks: 512 KiB a
/// column at most.
pub const DISTINCT_HELD: usize = 1 << 16;

fn distinct_hashes(ca: &StringChunked) -> Option<Vec<u64>> {
    let mut out: Vec<u64> = Vec::new();
    for v in ca.iter() {
        out.push(match v {
            Some(v) => xxhash_rust::xxh3::xxh3_64_with_seed(v.as_bytes(), 1),
            None => 0,
        });
        if out.len() > 4 * DISTINCT_HELD {
            out.sort_unstable();
            out.dedup();
            if out.len() > DISTINCT_HELD {
                return None;
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    (out.len() <= DISTINCT_HELD).then_some(out)
}

impl StringStats {
    pub fn of_column(c: &Column) -> Option<StringStats> {
        let ca = c.str().ok()?;
        let n_unique = c.n_unique().ok()? as u64;
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
            distinct: distinct_hashes(ca),
        })
    }

    pub fn merge(&mut self, o: &StringStats) {
        // Distinct values add up as sets; once a set is past what is held, the larger
        // count is a lower bound.
        self.distinct = match (self.distinct.take(), &o.distinct) {
            (Some(a), Some(b)) => {
                Some(crate::util::sorted_union(&a, b)).filter(|u| u.len() <= DISTINCT_HELD)
            }
            _ => None,
        };
        self.n_unique = match &self.distinct {
            Some(d) => d.len() as u64,
            None => self.n_unique.max(o.n_unique),
        };
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
        assert_eq!(a.n_unique, 2);
        // Past what is held, the count is a lower bound, as before.
        let many: Vec<String> = (0..DISTINCT_HELD + 1).map(|i| i.to_string()).collect();
        let many: Vec<Option<&str>> = many.iter().map(|s| Some(s.as_str())).collect();
        let mut big = of(&many);
        assert_eq!(big.distinct, None);
        assert_eq!(big.n_unique, many.len() as u64);
        big.merge(&a);
        assert_eq!((big.distinct, big.n_unique), (None, many.len() as u64));
    }
}
