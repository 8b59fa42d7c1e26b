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
        })
    }

    pub fn merge(&mut self, o: &StringStats) {
        // Distinct counts do not add across shards; the larger is a lower bound.
        self.n_unique = self.n_unique.max(o.n_unique);
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
