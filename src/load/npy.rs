//! NumPy `X_<split>.npy` / `y_<split>.npy` pairs: one sample per leading index.

use super::columns::{ColumnStats, MAX_EXAMPLES};
use super::Loaded;
use crate::discover::{DatasetSpec, NpyPair};
use crate::finding::SampleRef;
use crate::manifest::{Manifest, TablePart};
use anyhow::{anyhow, bail, Result};
use npyz::{DType, NpyFile, TypeChar};
use polars::prelude::*;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

fn open(path: &Path) -> Result<NpyFile<BufReader<File>>> {
    let f = File::open(path)
        .map_err(|e| anyhow!("{}: {}", path.display(), crate::util::io_problem(&e)))?;
    NpyFile::new(BufReader::new(f)).map_err(|e| {
        anyhow!(
            "{}: not a valid .npy file: {}",
            path.display(),
            super::image::one_line(&e.to_string())
        )
    })
}

fn type_of(path: &Path, dtype: &DType) -> Result<(TypeChar, u64)> {
    match dtype {
        DType::Plain(ts) => Ok((ts.type_char(), ts.size_field())),
        _ => bail!("{}: structured arrays are not supported", path.display()),
    }
}

/// Streams X once, counting non-finite values and the rows that hold them.
fn scan_features(path: &Path, source: &str, id_offset: u64) -> Result<(u64, ColumnStats)> {
    let npy = open(path)?;
    let shape = npy.shape().to_vec();
    if shape.is_empty() {
        bail!("{}: a 0-dimensional array holds no samples", path.display());
    }
    let rows = shape[0];
    let per_row: u64 = shape[1..].iter().product::<u64>().max(1);
    let (tc, size) = type_of(path, &npy.dtype())?;
    let mut st = ColumnStats::new("X", &npy.dtype().descr());
    st.count = rows * per_row;
    let err = |e: std::io::Error| anyhow!("{}: cannot read array data: {}", path.display(), e);
    if tc == TypeChar::Float {
        let mut bad_row = u64::MAX;
        let mut visit = |i: u64, v: f64| {
            if v.is_nan() {
                st.nan += 1;
            } else if v.is_infinite() {
                st.inf += 1;
            } else {
                return;
            }
            let r = i / per_row;
            if r != bad_row && st.nonfinite_examples.len() < MAX_EXAMPLES {
                bad_row = r;
                st.nonfinite_examples.push(SampleRef {
                    id: id_offset + r,
                    source: source.to_string(),
                    row: Some(r),
                    note: None,
                });
            }
        };
        match size {
            4 => {
                for (i, v) in npy
                    .data::<f32>()
                    .map_err(|e| anyhow!("{}: {e}", path.display()))?
                    .enumerate()
                {
                    visit(i as u64, v.map_err(err)? as f64);
                }
            }
            8 => {
                for (i, v) in npy
                    .data::<f64>()
                    .map_err(|e| anyhow!("{}: {e}", path.display()))?
                    .enumerate()
                {
                    visit(i as u64, v.map_err(err)?);
                }
            }
            _ => bail!(
                "{}: float{} arrays are not supported",
                path.display(),
                size * 8
            ),
        }
    } else if !matches!(tc, TypeChar::Int | TypeChar::Uint | TypeChar::Bool) {
        bail!(
            "{}: dtype {} is not numeric",
            path.display(),
            npy.dtype().descr()
        );
    }
    Ok((rows, st))
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
    for p in pairs {
        let source = crate::walk::rel_string(&spec.root, &p.x).0;
        let (rows, st) = scan_features(&p.x, &source, offset)?;
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
        });
        stats.push(vec![st]);
        offset += rows;
    }
    let mut loaded = Loaded::empty(Manifest::from_table_parts(parts)?);
    loaded.columns = super::columns::merge_all(stats);
    loaded.declared_splits = declared;
    Ok(loaded)
}
