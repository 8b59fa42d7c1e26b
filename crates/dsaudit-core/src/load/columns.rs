//! Per-column integrity tallies for tables and arrays, kept as mergeable partial
//! states so that shards (files, splits, later machines) combine with `merge`.

use crate::finding::SampleRef;
use crate::stats::numeric::{NumericStats, StringStats};
use serde::Serialize;

/// Examples kept per problem; counts are always exact.
pub const MAX_EXAMPLES: usize = 20;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ColumnStats {
    pub name: String,
    pub dtype: String,
    pub count: u64,
    pub nulls: u64,
    pub nan: u64,
    pub inf: u64,
    #[serde(skip)]
    pub null_examples: Vec<SampleRef>,
    #[serde(skip)]
    pub nonfinite_examples: Vec<SampleRef>,
    /// Moments and quantiles of the finite values, for numeric columns.
    pub numeric: Option<NumericStats>,
    /// Distinct values and numeric look, for string columns.
    pub strings: Option<StringStats>,
}

impl ColumnStats {
    pub fn new(name: &str, dtype: &str) -> ColumnStats {
        ColumnStats {
            name: name.to_string(),
            dtype: dtype.to_string(),
            ..Default::default()
        }
    }

    pub fn merge(&mut self, other: ColumnStats) {
        if self.dtype != other.dtype && !other.dtype.is_empty() {
            if self.dtype.is_empty() {
                self.dtype = other.dtype;
            } else if !self.dtype.contains(&other.dtype) {
                self.dtype = format!("{} | {}", self.dtype, other.dtype);
            }
        }
        self.count += other.count;
        self.nulls += other.nulls;
        self.nan += other.nan;
        self.inf += other.inf;
        extend_capped(&mut self.null_examples, other.null_examples);
        extend_capped(&mut self.nonfinite_examples, other.nonfinite_examples);
        match (&mut self.numeric, other.numeric) {
            (Some(a), Some(b)) => a.merge(&b),
            (a @ None, b) => *a = b,
            _ => {}
        }
        match (&mut self.strings, other.strings) {
            (Some(a), Some(b)) => a.merge(&b),
            (a @ None, b) => *a = b,
            _ => {}
        }
    }
}

fn extend_capped(into: &mut Vec<SampleRef>, from: Vec<SampleRef>) {
    let room = MAX_EXAMPLES.saturating_sub(into.len());
    into.extend(from.into_iter().take(room));
}

/// Merges per-shard stats by column name, keeping first-seen column order.
pub fn merge_all(parts: Vec<Vec<ColumnStats>>) -> Vec<ColumnStats> {
    let mut out: Vec<ColumnStats> = Vec::new();
    for part in parts {
        for c in part {
            match out.iter_mut().find(|o| o.name == c.name) {
                Some(o) => o.merge(c),
                None => out.push(c),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_counts_and_caps_examples() {
        let ex = |n: u64| {
            (0..n)
                .map(|i| SampleRef {
                    id: i,
                    source: "a".into(),
                    row: Some(i),
                    note: None,
                })
                .collect::<Vec<_>>()
        };
        let mut a = ColumnStats {
            name: "x".into(),
            dtype: "f64".into(),
            count: 10,
            nulls: 2,
            nan: 1,
            inf: 0,
            null_examples: ex(15),
            nonfinite_examples: vec![],
            ..Default::default()
        };
        let b = ColumnStats {
            name: "x".into(),
            dtype: "f64".into(),
            count: 5,
            nulls: 1,
            nan: 0,
            inf: 3,
            null_examples: ex(15),
            nonfinite_examples: ex(3),
            ..Default::default()
        };
        a.merge(b);
        assert_eq!((a.count, a.nulls, a.nan, a.inf), (15, 3, 1, 3));
        assert_eq!(a.null_examples.len(), MAX_EXAMPLES);
        assert_eq!(a.nonfinite_examples.len(), 3);
    }
}
