//! NumPy `X_<split>.npy` / `y_<split>.npy` pairs: one sample per leading index.

use super::columns::{ColumnStats, MAX_EXAMPLES};
use super::format::npy::NpyPair;
use super::DatasetSpec;
use super::Loaded;
use crate::finding::SampleRef;
use crate::manifest::{Manifest, TablePart};
use crate::stats::moments::Moments;
use crate::stats::numeric::NumericStats;
use crate::stats::sketch::{QuantileSketch, CAP};
use anyhow::{anyhow, bail, Result};
use npyz::{DType, NpyFile, TypeChar};
use polars::prelude::*;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

pub(crate) fn open(path: &Path) -> Result<NpyFile<BufReader<File>>> {
    // An array is streamed, not read whole: only the file's type is checked here.
    let (mut f, _) = crate::safe_read::open_limited(path, u64::MAX)
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    check_header(&mut f)
        .map_err(|why| anyhow!("{}: not a valid .npy file: {why}", path.display()))?;
    NpyFile::new(BufReader::new(f)).map_err(|e| {
        anyhow!(
            "{}: not a valid .npy file: {}",
            path.display(),
            super::image::one_line(&e.to_string())
        )
    })
}

/// Nesting a real header never exceeds: the dict, a structured dtype's list of
/// fields, a field's tuple, a sub-array's shape.
const MAX_HEADER_DEPTH: usize = 8;

/// Checks the header's shape before the header parser sees it: npyz parses it with a
/// grammar that backtracks exponentially on nested brackets (a 193-byte file of `{`s,
/// found by the fuzzer, took minutes). A header is one dict of at most a few levels.
fn check_header(f: &mut File) -> std::result::Result<(), String> {
    use std::io::{Read, Seek};
    let mut fixed = [0u8; 12];
    let n = f.read(&mut fixed).map_err(|e| e.to_string())?;
    f.rewind().map_err(|e| e.to_string())?;
    if n < 10 || &fixed[..6] != b"\x93NUMPY" {
        return Err("no .npy signature".into());
    }
    let (len, start) = match fixed[6] {
        1 => (u16::from_le_bytes([fixed[8], fixed[9]]) as u64, 10),
        2 | 3 if n >= 12 => (
            u32::from_le_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]) as u64,
            12,
        ),
        v => return Err(format!("unsupported version {v}")),
    };
    let mut header = Vec::new();
    (&mut *f)
        .take(start + len.min(1 << 20))
        .read_to_end(&mut header)
        .map_err(|e| e.to_string())?;
    f.rewind().map_err(|e| e.to_string())?;
    let header = header.get(start as usize..).unwrap_or_default();
    let (mut depth, mut deepest, mut dicts) = (0usize, 0usize, 0usize);
    for &b in header {
        match b {
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
                dicts += usize::from(b == b'{');
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if dicts != 1 || deepest > MAX_HEADER_DEPTH {
        return Err("the header is not one plain dict".into());
    }
    Ok(())
}

pub(crate) fn type_of(path: &Path, dtype: &DType) -> Result<(TypeChar, u64)> {
    match dtype {
        DType::Plain(ts) => Ok((ts.type_char(), ts.size_field())),
        _ => bail!("{}: structured arrays are not supported", path.display()),
    }
}

/// Per-feature columns are kept for 2-D arrays up to this width; wider arrays (and
/// images stored as arrays) get one summary over all values.
const MAX_FEATURE_COLUMNS: u64 = 1024;

/// Values a column gathers before they go into its quantile sketch: every value goes
/// in (the sketch, not a thinned sample, decides what is kept and states its error),
/// sorted once when the column holds no more than the sketch keeps exactly.
const COLUMN_BATCH: usize = CAP;

/// Adds finite `v` to `pending`, moving the batch into `sketch` once it holds
/// `batch` values; `batch` 0 moves what is pending (and adds nothing).
fn pend(pending: &mut Vec<f64>, sketch: &mut QuantileSketch, v: f64, batch: usize) {
    if batch > 0 {
        pending.push(v);
        if pending.len() < batch {
            return;
        }
    }
    if !pending.is_empty() {
        sketch.merge(&QuantileSketch::from_values(pending.drain(..)));
    }
}

struct FeatureScan {
    per_column: bool,
    columns: Vec<ColumnStats>,
    /// Per column, values waiting to go into its quantile sketch, and the sketch.
    pending: Vec<Vec<f64>>,
    sketches: Vec<QuantileSketch>,
    all: Moments,
    /// Evenly spaced values of the whole array (no report shows their quantiles), and
    /// whether any value of it is not whole (N007 reads that, exactly).
    all_sample: Vec<f64>,
    all_step: u64,
    all_fractional: bool,
    seen: u64,
    source: String,
    id_offset: u64,
    last_bad_row: u64,
}

impl FeatureScan {
    /// Visits the value at (row `r`, feature `j`); `j` is ignored when the values are
    /// summarised as one column.
    #[inline]
    fn visit(&mut self, r: u64, j: u64, v: f64) {
        let j = if self.per_column { j as usize } else { 0 };
        if !v.is_finite() {
            let st = &mut self.columns[j];
            if v.is_nan() {
                st.nan += 1;
            } else {
                st.inf += 1;
            }
            // One example per row: in Fortran order a row's values are not adjacent.
            if r != self.last_bad_row
                && st.nonfinite_examples.len() < MAX_EXAMPLES
                && !st.nonfinite_examples.iter().any(|e| e.row == Some(r))
            {
                self.last_bad_row = r;
                st.nonfinite_examples.push(SampleRef {
                    id: self.id_offset + r,
                    source: self.source.clone(),
                    row: Some(r),
                    note: None,
                });
            }
            return;
        }
        self.all.push(v);
        if self.seen.is_multiple_of(self.all_step) {
            self.all_sample.push(v);
        }
        self.all_fractional |= v.fract() != 0.0;
        self.seen += 1;
        if self.per_column {
            if let Some(n) = self.columns[j].numeric.as_mut() {
                n.moments.push(v);
            }
            pend(&mut self.pending[j], &mut self.sketches[j], v, COLUMN_BATCH);
        }
    }
}

impl FeatureScan {
    /// A scan of an array of `shape`: one column per feature of a 2-D array of at most
    /// MAX_FEATURE_COLUMNS, else one column for every value.
    fn new(shape: &[u64], descr: &str, source: &str, id_offset: u64) -> FeatureScan {
        let rows = shape[0];
        let per_row: u64 = shape[1..].iter().product::<u64>().max(1);
        let per_column = shape.len() <= 2 && per_row <= MAX_FEATURE_COLUMNS;
        let names: Vec<String> = if per_column {
            if shape.len() == 1 {
                vec!["X".to_string()]
            } else {
                (0..per_row).map(|j| format!("x{j}")).collect()
            }
        } else {
            vec!["X".to_string()]
        };
        let columns = names
            .iter()
            .map(|n| {
                let mut st = ColumnStats::new(n, descr);
                st.count = if per_column { rows } else { rows * per_row };
                if per_column {
                    st.numeric = Some(NumericStats::default());
                }
                st
            })
            .collect::<Vec<_>>();
        FeatureScan {
            per_column,
            pending: vec![Vec::new(); columns.len()],
            sketches: vec![QuantileSketch::default(); columns.len()],
            columns,
            all: Moments::default(),
            all_sample: Vec::new(),
            all_step: (rows * per_row).div_ceil(CAP as u64).max(1),
            all_fractional: false,
            seen: 0,
            source: source.to_string(),
            id_offset,
            last_bad_row: u64::MAX,
        }
    }

    /// The per-feature statistics and the summary over every value.
    fn finish(self) -> (Vec<ColumnStats>, NumericStats) {
        let FeatureScan {
            mut columns,
            pending,
            sketches,
            all,
            all_sample,
            all_fractional,
            ..
        } = self;
        for ((c, mut p), mut sketch) in columns.iter_mut().zip(pending).zip(sketches) {
            if let Some(n) = c.numeric.as_mut() {
                pend(&mut p, &mut sketch, f64::NAN, 0);
                n.sketch = sketch;
            }
        }
        let mut sketch = QuantileSketch::from_values(all_sample.into_iter());
        if all_fractional {
            sketch.seen_fraction();
        }
        (
            columns,
            NumericStats {
                moments: all,
                sketch,
            },
        )
    }
}

/// Streams X once: non-finite values and the rows holding them, moments and
/// quantiles per feature (2-D) and over all values.
fn scan_features(
    path: &Path,
    source: &str,
    id_offset: u64,
) -> Result<(u64, Vec<ColumnStats>, NumericStats)> {
    let npy = open(path)?;
    let shape = npy.shape().to_vec();
    if shape.is_empty() {
        bail!("{}: a 0-dimensional array holds no samples", path.display());
    }
    let rows = shape[0];
    let per_row: u64 = shape[1..].iter().product::<u64>().max(1);
    let (tc, size) = type_of(path, &npy.dtype())?;
    let descr = npy.dtype().descr();
    let mut scan = FeatureScan::new(&shape, &descr, source, id_offset);
    let bad = |e: npyz::DTypeError| anyhow!("{}: {e}", path.display());
    let err = |e: std::io::Error| anyhow!("{}: cannot read array data: {}", path.display(), e);
    // The file's i-th value, as (row, feature): C order runs along a row, Fortran
    // order (numpy's `order='F'`, what `np.asfortranarray` and many exports write)
    // down a column.
    let fortran = matches!(npy.order(), npyz::Order::Fortran);
    let at = |i: u64| -> (u64, u64) {
        if fortran {
            (i % rows.max(1), i / rows.max(1))
        } else {
            (i / per_row, i % per_row)
        }
    };
    macro_rules! read_as {
        ($t:ty) => {
            for (i, v) in npy.data::<$t>().map_err(bad)?.enumerate() {
                let (r, j) = at(i as u64);
                scan.visit(r, j, v.map_err(err)? as f64);
            }
        };
    }
    match (tc, size) {
        (TypeChar::Float, 4) => read_as!(f32),
        (TypeChar::Float, 8) => read_as!(f64),
        (TypeChar::Int, 1) => read_as!(i8),
        (TypeChar::Int, 2) => read_as!(i16),
        (TypeChar::Int, 4) => read_as!(i32),
        (TypeChar::Int, 8) => read_as!(i64),
        (TypeChar::Uint, 1) => read_as!(u8),
        (TypeChar::Uint, 2) => read_as!(u16),
        (TypeChar::Uint, 4) => read_as!(u32),
        (TypeChar::Uint, 8) => read_as!(u64),
        (TypeChar::Bool, _) => {
            for (i, v) in npy.data::<bool>().map_err(bad)?.enumerate() {
                let (r, j) = at(i as u64);
                scan.visit(r, j, v.map_err(err)? as u8 as f64);
            }
        }
        _ => bail!("{}: dtype {} is not numeric", path.display(), descr),
    }
    let (columns, all) = scan.finish();
    Ok((rows, columns, all))
}

fn read_labels(path: &Path) -> Result<Vec<Option<String>>> {
    let npy = open(path)?;
    let shape = npy.shape().to_vec();
    if shape.len() != 1 && !(shape.len() == 2 && shape[1] == 1) {
        bail!(
            "{}: labels must be one value per sample, got shape {:?}",
            path.display(),
            shape
        );
    }
    let (tc, size) = type_of(path, &npy.dtype())?;
    let bad = |e: npyz::DTypeError| anyhow!("{}: {e}", path.display());
    let io = |e: std::io::Error| anyhow!("{}: cannot read labels: {e}", path.display());
    macro_rules! ints {
        ($t:ty) => {
            npy.data::<$t>()
                .map_err(bad)?
                .map(|v| v.map(|v| Some(v.to_string())).map_err(io))
                .collect()
        };
    }
    match (tc, size) {
        (TypeChar::Int, 1) => ints!(i8),
        (TypeChar::Int, 2) => ints!(i16),
        (TypeChar::Int, 4) => ints!(i32),
        (TypeChar::Int, 8) => ints!(i64),
        (TypeChar::Uint, 1) => ints!(u8),
        (TypeChar::Uint, 2) => ints!(u16),
        (TypeChar::Uint, 4) => ints!(u32),
        (TypeChar::Uint, 8) => ints!(u64),
        (TypeChar::Bool, _) => ints!(bool),
        (TypeChar::Float, 4 | 8) => {
            let vals: Vec<f64> = if size == 4 {
                npy.data::<f32>()
                    .map_err(bad)?
                    .map(|v| v.map(f64::from))
                    .collect::<std::io::Result<_>>()
                    .map_err(io)?
            } else {
                npy.data::<f64>()
                    .map_err(bad)?
                    .collect::<std::io::Result<_>>()
                    .map_err(io)?
            };
            Ok(vals
                .into_iter()
                .map(|v| {
                    if v.is_nan() {
                        None
                    } else if v.fract() == 0.0 {
                        Some(format!("{}", v as i64))
                    } else {
                        Some(v.to_string())
                    }
                })
                .collect())
        }
        (TypeChar::UnicodeStr, _) | (TypeChar::ByteStr, _) => npy
            .data::<String>()
            .map_err(bad)?
            .map(|v| v.map(Some).map_err(io))
            .collect(),
        _ => bail!(
            "{}: label dtype {} is not supported",
            path.display(),
            npy.dtype().descr()
        ),
    }
}

pub fn load(spec: &DatasetSpec, pairs: &[NpyPair]) -> Result<Loaded> {
    let mut parts = Vec::new();
    let mut stats = Vec::new();
    let mut offset = 0u64;
    let mut declared = Vec::new();
    let mut array: Option<NumericStats> = None;
    for p in pairs {
        let _reading = crate::alloc_guard::reading(&p.x);
        let source = crate::walk::rel_string(&spec.root, &p.x).0;
        let (rows, cols, all) = scan_features(&p.x, &source, offset)?;
        match array.as_mut() {
            Some(a) => NumericStats::merge(a, &all),
            None => array = Some(all),
        }
        let labels = match &p.y {
            Some(y) => {
                let l = read_labels(y)?;
                if l.len() as u64 != rows {
                    bail!(
                        "{}: {} labels for {} samples in {}",
                        y.display(),
                        l.len(),
                        rows,
                        p.x.file_name().unwrap_or_default().to_string_lossy()
                    );
                }
                l
            }
            None => vec![None; rows as usize],
        };
        let n = rows as usize;
        let split = match &p.split {
            Some(s) => {
                declared.push(s.clone());
                Column::new_scalar(
                    "split".into(),
                    Scalar::from(PlSmallStr::from(s.as_str())),
                    n,
                )
            }
            None => Column::full_null("split".into(), n, &DataType::String),
        };
        parts.push(TablePart {
            source,
            split,
            label: Column::new("label".into(), labels),
            first_id: offset,
            picked: None,
        });
        stats.push(cols);
        offset += rows;
    }
    let mut loaded = Loaded::empty(Manifest::from_table_parts(parts)?);
    loaded.columns = super::columns::merge_all(stats);
    loaded.declared_splits = declared;
    loaded.array_values = array;
    Ok(loaded)
}
