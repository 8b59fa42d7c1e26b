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
        if dtype.is_primitive_numeric() || dtype.is_bool() || dtype.is_temporal() {
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

/// Fingerprints every row of `df` over `features`; a column missing from this
/// file (e.g. in `test.csv` but not `train.csv`) counts as missing values.
pub fn fingerprint(df: &DataFrame, features: &Features) -> Result<TableRows> {
    let h = df.height();
    let get = |name: &String, dtype: DataType| -> Result<Series> {
        Ok(match df.column(name) {
            Ok(c) => c.cast(&dtype)?.as_materialized_series().rechunk(),
            Err(_) => Series::full_null(name.into(), h, &dtype),
        })
    };
    let nums: Vec<Series> = features
        .numeric
        .iter()
        .map(|n| get(n, DataType::Float64))
        .collect::<Result<_>>()?;
    let texts: Vec<Series> = features
        .text
        .iter()
        .map(|n| get(n, DataType::String))
        .collect::<Result<_>>()?;
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
    // Each column is one rechunked array: values are read in place, not collected.
    let nums: Vec<_> = nums
        .iter()
        .map(|c| c.downcast_iter().next().unwrap())
        .collect();
    let texts: Vec<_> = texts
        .iter()
        .map(|c| c.downcast_iter().next().unwrap())
        .collect();
    let chunks = h.div_ceil(CHUNK);
    // Chunks of `width` values per row; empty ones when there are no such columns, so
    // that every chunk of rows still gets one.
    fn per_row<T>(v: &mut [T], width: usize, chunks: usize) -> Vec<&mut [T]> {
        if width == 0 {
            (0..chunks).map(|_| Default::default()).collect()
        } else {
            v.chunks_mut(CHUNK * width).collect()
        }
    }
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
            for r in 0..hash.len() {
                let i = off + r;
                buf.clear();
                for (c, col) in nums.iter().enumerate() {
                    let out = &mut numeric[r * d + c];
                    if col.validity().is_none_or(|b| b.get_bit(i)) {
                        let v = col.value(i);
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
                        *out = if v.is_finite() { v as f32 } else { f32::NAN };
                    } else {
                        buf.push(0);
                        *out = f32::NAN;
                    }
                }
                let text_start = buf.len();
                for (c, col) in texts.iter().enumerate() {
                    let out = &mut text_codes[r * t + c];
                    if let Some(s) = col.get(i) {
                        buf.push(2);
                        buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
                        buf.extend_from_slice(s.as_bytes());
                        let code = xxh3_64(s.as_bytes()).max(1);
                        *out = code;
                        let names = &mut names[c];
                        if names.len() < NAMED_CATEGORIES && !names.contains_key(&code) {
                            names.insert(code, s.to_string());
                        }
                    } else {
                        buf.push(0);
                        *out = 0;
                    }
                }
                hash[r] = xxh3_128(&buf);
                text_hash[r] = xxh3_64(&buf[text_start..]);
            }
            names
        })
        .collect();
    // Names in row order: the first NAMED_CATEGORIES distinct values of the file.
    for part in names {
        for (mine, theirs) in rows.text_names.iter_mut().zip(part) {
            for (k, v) in theirs {
                if mine.len() >= NAMED_CATEGORIES {
                    break;
                }
                mine.entry(k).or_insert(v);
            }
        }
    }
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
    fn chunks_give_the_same_answer_as_one_pass() {
        let n = CHUNK * 2 + 17;
        let df = df! { "a" => (0..n).map(|i| (i % 1000) as f64).collect::<Vec<_>>() }.unwrap();
        let r = rows(&df);
        assert_eq!(r.len(), n);
        assert_eq!(r.hash[5], r.hash[1005]);
        assert_eq!(r.hash[CHUNK + 3], r.hash[(CHUNK + 3) % 1000]);
    }
}
