//! Per-row fingerprints of a table and its numeric feature matrix: what the
//! duplicate search needs, computed in one pass while the file is in memory, so
//! that no check has to read the table again.

use anyhow::Result;
use polars::prelude::*;
use rayon::prelude::*;
use std::collections::BTreeMap;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

/// How a feature column is compared: as a number (exactly, after canonicalising
/// -0.0 and NaN; also a coordinate for near-duplicate search) or as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Numeric,
    Text,
}

impl Kind {
    pub fn of(dtype: &DataType) -> Option<Kind> {
        if dtype.is_primitive_numeric()
            || dtype.is_decimal()
            || dtype.is_bool()
            || dtype.is_temporal()
        {
            Some(Kind::Numeric)
        } else if dtype.is_string() || dtype.is_categorical() || dtype.is_null() {
            Some(Kind::Text)
        } else {
            None
        }
    }
}

/// The feature columns of a table (label and split excluded), in file order.
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub numeric: Vec<String>,
    pub text: Vec<String>,
    /// Columns whose type cannot be compared (lists, structs); the loader names them in its guesses.
    pub skipped: Vec<String>,
}

impl Features {
    pub fn of(df: &DataFrame, exclude: &[&str]) -> Features {
        let mut f = Features::default();
        for c in df.columns() {
            let name = c.name().to_string();
            if exclude.contains(&name.as_str()) {
                continue;
            }
            match Kind::of(c.dtype()) {
                Some(Kind::Numeric) => f.numeric.push(name),
                Some(Kind::Text) => f.text.push(name),
                None => f.skipped.push(name),
            }
        }
        f
    }
}

#[derive(Debug, Clone, Default)]
pub struct TableRows {
    pub features: Features,
    /// 128-bit hash of each row's feature values: equal rows, equal hashes.
    pub hash: Vec<u128>,
    /// Hash of the text features only: near duplicates must agree on them.
    pub text_hash: Vec<u64>,
    /// Numeric features, row-major `len × features.numeric.len()`, raw values,
    /// NaN where missing or not finite.
    pub numeric: Vec<f32>,
    /// Text features, row-major `len × features.text.len()`: a 64-bit hash of each
    /// value (never 0), 0 where missing. The shift tests count categories by it.
    pub text_codes: Vec<u64>,
    /// Per text feature, the value behind each code, for the first
    /// `NAMED_CATEGORIES` distinct values met (enough to name the categories a
    /// report lists; a column with more is an identifier, not a category).
    pub text_names: Vec<BTreeMap<u64, String>>,
}

/// Distinct values per text column whose names are kept.
pub const NAMED_CATEGORIES: usize = 256;

impl TableRows {
    pub fn len(&self) -> usize {
        self.hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hash.is_empty()
    }

    pub fn append(&mut self, other: TableRows) {
        self.hash.extend(other.hash);
        self.text_hash.extend(other.text_hash);
        self.numeric.extend(other.numeric);
        self.text_codes.extend(other.text_codes);
        if self.text_names.len() < other.text_names.len() {
            self.text_names
                .resize_with(other.text_names.len(), BTreeMap::new);
        }
        for (mine, theirs) in self.text_names.iter_mut().zip(other.text_names) {
            for (k, v) in theirs {
                if mine.len() >= NAMED_CATEGORIES {
                    break;
                }
                mine.entry(k).or_insert(v);
            }
        }
    }
}

const CHUNK: usize = 1 << 15;

/// A column's arrays and the row each starts at, read row by row in increasing order.
struct Parts<'a, A> {
    arrays: Vec<&'a A>,
    /// `starts[k]`: the first row of array k; one more entry for the end.
    starts: Vec<usize>,
}

impl<'a, A> Parts<'a, A> {
    fn new(arrays: impl Iterator<Item = &'a A>, len: impl Fn(&A) -> usize) -> Parts<'a, A> {
        let arrays: Vec<&A> = arrays.collect();
        let mut starts = Vec::with_capacity(arrays.len() + 1);
        let mut at = 0;
        starts.push(0);
        for a in &arrays {
            at += len(a);
            starts.push(at);
        }
        Parts { arrays, starts }
    }

    /// The array holding row `i`.
    fn find(&self, i: usize) -> usize {
        self.starts.partition_point(|&s| s <= i).saturating_sub(1)
    }

    /// Row `i`'s array and its index there; `k` is the array of the previous row read
    /// (rows only move forward), and is moved on.
    #[inline]
    fn at(&self, k: &mut usize, i: usize) -> (&'a A, usize) {
        while i >= self.starts[*k + 1] {
            *k += 1;
        }
        (self.arrays[*k], i - self.starts[*k])
    }
}

/// Appends a numeric value's unambiguous encoding to a row's bytes (None: missing);
/// returns the value for the feature matrix (NaN when missing or not finite).
#[inline]
fn encode_number(buf: &mut Vec<u8>, v: Option<f64>) -> f32 {
    let Some(v) = v else {
        buf.push(0);
        return f32::NAN;
    };
    // -0.0 equals 0.0 and every NaN equals every other NaN.
    let v = if v == 0.0 {
        0.0
    } else if v.is_nan() {
        f64::NAN
    } else {
        v
    };
    buf.push(1);
    buf.extend_from_slice(&v.to_bits().to_le_bytes());
    if v.is_finite() {
        v as f32
    } else {
        f32::NAN
    }
}

/// Appends a text value's encoding (length-prefixed) to a row's bytes; returns its
/// 64-bit code (never 0), or 0 when missing.
#[inline]
fn encode_text(buf: &mut Vec<u8>, s: Option<&str>) -> u64 {
    let Some(s) = s else {
        buf.push(0);
        return 0;
    };
    buf.push(2);
    buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
    xxh3_64(s.as_bytes()).max(1)
}

/// The chunks' names in row order: the first NAMED_CATEGORIES distinct values of the
/// file.
fn merge_names(into: &mut [BTreeMap<u64, String>], parts: Vec<Vec<BTreeMap<u64, String>>>) {
    for part in parts {
        for (mine, theirs) in into.iter_mut().zip(part) {
            for (k, v) in theirs {
                if mine.len() >= NAMED_CATEGORIES {
                    break;
                }
                mine.entry(k).or_insert(v);
            }
        }
    }
}

/// The named columns of `df` cast to `dtype`; a missing one is all nulls.
fn columns_as(df: &DataFrame, names: &[String], dtype: DataType) -> Result<Vec<Series>> {
    let h = df.height();
    names
        .iter()
        .map(|name| {
            Ok(match df.column(name) {
                // Not rechunked: polars reads a CSV in dozens of chunks, and joining them
                // copied every numeric column (150 MB of fresh memory for a million rows
                // of 19 features); the rows are read through `Parts` instead.
                Ok(c) => c.cast(&dtype)?.as_materialized_series().clone(),
                Err(_) => Series::full_null(name.into(), h, &dtype),
            })
        })
        .collect()
}

// Chunks of `width` values per row; empty ones when there are no such columns, so
// that every chunk of rows still gets one.
fn per_row<T>(v: &mut [T], width: usize, chunks: usize) -> Vec<&mut [T]> {
    if width == 0 {
        (0..chunks).map(|_| Default::default()).collect()
    } else {
        v.chunks_mut(CHUNK * width).collect()
    }
}

/// Fingerprints every row of `df` over `features`; a column missing from this
/// file (e.g. in `test.csv` but not `train.csv`) counts as missing values.
pub fn fingerprint(df: &DataFrame, features: &Features) -> Result<TableRows> {
    let h = df.height();
    let nums = columns_as(df, &features.numeric, DataType::Float64)?;
    let texts = columns_as(df, &features.text, DataType::String)?;
    let nums: Vec<&Float64Chunked> = nums.iter().map(|s| s.f64()).collect::<PolarsResult<_>>()?;
    let texts: Vec<&StringChunked> = texts.iter().map(|s| s.str()).collect::<PolarsResult<_>>()?;
    let (d, t) = (nums.len(), texts.len());
    let mut rows = TableRows {
        features: features.clone(),
        hash: vec![0; h],
        text_hash: vec![0; h],
        numeric: vec![0.0; h * d],
        text_codes: vec![0; h * t],
        text_names: vec![BTreeMap::new(); t],
    };
    if h == 0 {
        return Ok(rows);
    }
    // Values are read in place, array by array, not collected.
    let nums: Vec<Parts<_>> = nums
        .iter()
        .map(|c| Parts::new(c.downcast_iter(), |a| a.len()))
        .collect();
    let texts: Vec<Parts<_>> = texts
        .iter()
        .map(|c| Parts::new(c.downcast_iter(), |a| a.len()))
        .collect();
    let chunks = h.div_ceil(CHUNK);
    let names: Vec<Vec<BTreeMap<u64, String>>> = rows
        .hash
        .par_chunks_mut(CHUNK)
        .zip(rows.text_hash.par_chunks_mut(CHUNK))
        .zip(per_row(&mut rows.numeric, d, chunks))
        .zip(per_row(&mut rows.text_codes, t, chunks))
        .enumerate()
        .map(|(k, (((hash, text_hash), numeric), text_codes))| {
            let off = k * CHUNK;
            let mut names = vec![BTreeMap::new(); t];
            let mut buf = Vec::with_capacity(16 * (d + t));
            let mut num_at: Vec<usize> = nums.iter().map(|p| p.find(off)).collect();
            let mut text_at: Vec<usize> = texts.iter().map(|p| p.find(off)).collect();
            for r in 0..hash.len() {
                let i = off + r;
                buf.clear();
                for (c, parts) in nums.iter().enumerate() {
                    let out = &mut numeric[r * d + c];
                    let (col, i) = parts.at(&mut num_at[c], i);
                    let valid = col.validity().is_none_or(|b| b.get_bit(i));
                    *out = encode_number(&mut buf, valid.then(|| col.value(i)));
                }
                let text_start = buf.len();
                for (c, parts) in texts.iter().enumerate() {
                    let out = &mut text_codes[r * t + c];
                    let (col, i) = parts.at(&mut text_at[c], i);
                    let value = col.get(i);
                    *out = encode_text(&mut buf, value);
                    let names = &mut names[c];
                    if let Some(v) = value {
                        if names.len() < NAMED_CATEGORIES && !names.contains_key(out) {
                            names.insert(*out, v.to_string());
                        }
                    }
                }
                hash[r] = xxh3_128(&buf);
                text_hash[r] = xxh3_64(&buf[text_start..]);
            }
            names
        })
        .collect();
    merge_names(&mut rows.text_names, names);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(df: &DataFrame) -> TableRows {
        fingerprint(df, &Features::of(df, &["label"])).unwrap()
    }

    #[test]
    fn canonical_values_hash_alike() {
        let df = df! {
            "a" => [Some(0.0), Some(-0.0), Some(f64::NAN), Some(-f64::NAN), None, Some(1.0)],
            "s" => [Some("x"), Some("x"), Some("y"), Some("y"), None, Some("x")],
            "label" => ["p", "q", "p", "q", "p", "q"],
        }
        .unwrap();
        let r = rows(&df);
        assert_eq!(r.hash[0], r.hash[1]);
        assert_eq!(r.hash[2], r.hash[3]);
        assert_ne!(r.hash[0], r.hash[5]);
        assert_ne!(r.hash[4], r.hash[0]);
        assert_eq!(r.text_hash[0], r.text_hash[5]);
        assert!(r.numeric[2].is_nan() && r.numeric[4].is_nan());
    }

    #[test]
    fn column_boundaries_matter() {
        // "ab","c" and "a","bc" must not collide: lengths are part of the encoding.
        let df = df! { "s" => ["ab", "a"], "t" => ["c", "bc"] }.unwrap();
        let r = rows(&df);
        assert_ne!(r.hash[0], r.hash[1]);
    }

    #[test]
    fn a_table_read_in_many_arrays_fingerprints_as_one() {
        // polars reads a CSV in several arrays per column, of uneven (even empty) lengths.
        let part = |from: usize, n: usize| {
            df! {
                "a" => (from..from + n).map(|i| if i % 7 == 0 { None } else { Some(i as f64) }).collect::<Vec<_>>(),
                "s" => (from..from + n).map(|i| format!("v{}", i % 5)).collect::<Vec<_>>(),
                "label" => (from..from + n).map(|i| (i % 3) as i64).collect::<Vec<_>>(),
            }
            .unwrap()
        };
        let mut many = part(0, 1000);
        for (from, n) in [
            (1000, 0),
            (1000, CHUNK + 5),
            (CHUNK + 1005, 3),
            (CHUNK + 1008, 40_000),
        ] {
            many.vstack_mut(&part(from, n)).unwrap();
        }
        assert!(many.first_col_n_chunks() > 2);
        let mut one = many.clone();
        one.rechunk_mut();
        let (a, b) = (rows(&many), rows(&one));
        assert_eq!(a.hash, b.hash);
        assert_eq!(a.text_hash, b.text_hash);
        assert_eq!(a.text_codes, b.text_codes);
        assert_eq!(
            a.numeric.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            b.numeric.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn chunks_give_the_same_answer_as_one_pass() {
        let n = CHUNK * 2 + 17;
        let df = df! { "a" => (0..n).map(|i| (i % 1000) as f64).collect::<Vec<_>>() }.unwrap();
        let r = rows(&df);
        assert_eq!(r.len(), n);
        assert_eq!(r.hash[5], r.hash[1005]);
        assert_eq!(r.hash[CHUNK + 3], r.hash[(CHUNK + 3) % 1000]);
    }
}
