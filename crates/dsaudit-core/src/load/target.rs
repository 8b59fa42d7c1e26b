//! Whether a numeric label column holds classes or a continuous target (a regression
//! task), from a summary of its values that merges across blocks and parts: a table
//! scanned in parts is judged on all of its rows, as a whole scan judges it, not on
//! whichever rows a part saw (scikit-learn's diabetes target in blocks of 20 rows looked
//! like 20 classes of one row each).

use crate::util::sorted_union;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

/// Distinct values above which a numeric label with fractions is a quantity, not
/// a set of classes.
const CONTINUOUS_DISTINCT: usize = 10;

/// Distinct whole numbers above which, with fewer than `MIN_ROWS_PER_CLASS` rows
/// each on average, a label is a quantity too: scikit-learn's diabetes target holds
/// 214 whole numbers over 442 rows (2.1 a value), a 100-class table of 5 samples a
/// class holds 5 a value.
const WHOLE_DISTINCT: usize = 50;
const MIN_ROWS_PER_CLASS: f64 = 3.0;

/// Whole numbers held exactly as integers (an `f64` is exact up to 2^53); a value
/// past it counts as not whole.
const WHOLE_LIMIT: f64 = 9_007_199_254_740_992.0;

/// What the decision reads of a label column's finite values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetShape {
    pub rows: u64,
    /// Values that are not whole numbers.
    pub fractional: u64,
    /// The distinct whole numbers, sorted (stored as their differences).
    #[serde(with = "sorted_deltas")]
    pub whole: Vec<i64>,
    /// Distinct values not whole, sorted by their bits: only whether there are more
    /// than `CONTINUOUS_DISTINCT` of all distinct values matters for them.
    pub other: Vec<u64>,
}

impl TargetShape {
    /// The shape of `col`'s finite values; None when it holds no numbers.
    pub fn of(col: &Column) -> Option<TargetShape> {
        if !col.dtype().is_primitive_numeric() {
            return None;
        }
        let f = col.cast(&DataType::Float64).ok()?;
        let mut shape = TargetShape::default();
        for v in f.f64().ok()?.iter().flatten().filter(|v| v.is_finite()) {
            shape.rows += 1;
            if v.fract() == 0.0 && v.abs() < WHOLE_LIMIT {
                shape.whole.push(v as i64);
            } else {
                shape.fractional += 1;
                shape.other.push(v.to_bits());
            }
        }
        shape.whole.sort_unstable();
        shape.whole.dedup();
        shape.other.sort_unstable();
        shape.other.dedup();
        shape.other.truncate(CONTINUOUS_DISTINCT + 1);
        Some(shape)
    }

    /// Both blocks' values as one: the same whatever the order.
    pub fn merge(&mut self, o: &TargetShape) {
        self.rows += o.rows;
        self.fractional += o.fractional;
        self.whole = sorted_union(&self.whole, &o.whole);
        self.other = sorted_union(&self.other, &o.other);
        self.other.truncate(CONTINUOUS_DISTINCT + 1);
    }

    /// Why the values are a continuous target, or None when they may be classes:
    /// numbers with fractional values and more than a handful of distinct values, or
    /// whole numbers so many and so spread that few rows share one. Whole numbers of
    /// few distinct values (1.0, 2.0) stay classes, as a class id read as float is.
    pub fn continuous(&self) -> Option<String> {
        let distinct = self.whole.len() + self.other.len();
        if self.fractional > 0 && distinct > CONTINUOUS_DISTINCT {
            return Some(format!(
                "{} of its {} values not whole, over {CONTINUOUS_DISTINCT} distinct",
                self.fractional, self.rows
            ));
        }
        let n = self.whole.len();
        if self.fractional == 0
            && n > WHOLE_DISTINCT
            && (self.rows as f64) < MIN_ROWS_PER_CLASS * n as f64
        {
            return Some(format!(
                "{n} distinct numbers over {} rows, {:.1} rows a value",
                self.rows,
                self.rows as f64 / n as f64
            ));
        }
        None
    }
}

/// Why `col` holds a continuous target, or None (see `TargetShape::continuous`).
pub fn continuous(col: &Column) -> Option<String> {
    TargetShape::of(col)?.continuous()
}

/// Sorted distinct integers as the first and the differences after it: a target of
/// nearby whole numbers takes a byte or two a value instead of eight.
mod sorted_deltas {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[i64], s: S) -> Result<S::Ok, S::Error> {
        let mut out = Vec::with_capacity(v.len());
        let mut last = 0i64;
        for (k, &x) in v.iter().enumerate() {
            out.push(match k {
                0 => x as u64,
                _ => x.wrapping_sub(last) as u64,
            });
            last = x;
        }
        out.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
        let deltas = Vec::<u64>::deserialize(d)?;
        let mut out = Vec::with_capacity(deltas.len());
        let mut last = 0i64;
        for (k, &x) in deltas.iter().enumerate() {
            last = match k {
                0 => x as i64,
                _ if x == 0 => return Err(serde::de::Error::custom("whole numbers not distinct")),
                _ => last
                    .checked_add_unsigned(x)
                    .ok_or_else(|| serde::de::Error::custom("whole numbers out of range"))?,
            };
            out.push(last);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn col(v: &[f64]) -> Column {
        Column::new("y".into(), v)
    }

    proptest! {
        /// The blocks' shapes merged in any order are the whole column's: the same
        /// decision and message whatever the cuts.
        #[test]
        fn blocks_merged_are_the_whole(
            values in proptest::collection::vec(prop_oneof![
                (0i64..300).prop_map(|i| i as f64),
                (0i64..3000).prop_map(|i| i as f64 / 10.0),
                Just(f64::NAN),
            ], 0..400),
            cuts in proptest::collection::vec(0usize..400, 0..6),
            reverse in any::<bool>(),
        ) {
            let whole = TargetShape::of(&col(&values)).unwrap();
            let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (values.len() + 1)).collect();
            bounds.extend([0, values.len()]);
            bounds.sort_unstable();
            bounds.dedup();
            let mut blocks: Vec<TargetShape> = bounds
                .windows(2)
                .map(|w| TargetShape::of(&col(&values[w[0]..w[1]])).unwrap())
                .collect();
            if reverse {
                blocks.reverse();
            }
            let mut merged = TargetShape::default();
            for b in &blocks {
                merged.merge(b);
            }
            prop_assert_eq!(merged.continuous(), whole.continuous());
            prop_assert_eq!(&merged.whole, &whole.whole);
            let bytes = postcard::to_allocvec(&merged).unwrap();
            prop_assert_eq!(postcard::from_bytes::<TargetShape>(&bytes).unwrap(), merged);
        }
    }

    #[test]
    fn classes_stay_classes_and_quantities_are_targets() {
        let classes: Vec<f64> = (0..500).map(|i| (i % 100) as f64).collect();
        assert_eq!(continuous(&col(&classes)), None);
        let spread: Vec<f64> = (0..442).map(|i| (i % 214) as f64).collect();
        assert_eq!(
            continuous(&col(&spread)).unwrap(),
            "214 distinct numbers over 442 rows, 2.1 rows a value"
        );
        let prices: Vec<f64> = (0..100).map(|i| i as f64 * 0.5).collect();
        assert_eq!(
            continuous(&col(&prices)).unwrap(),
            "50 of its 100 values not whole, over 10 distinct"
        );
        assert_eq!(continuous(&col(&[1.0, 2.0, 1.5])), None);
        assert_eq!(continuous(&Column::new("y".into(), ["a", "b"])), None);
    }
}
