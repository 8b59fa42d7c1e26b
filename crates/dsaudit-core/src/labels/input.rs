//! Matrices users bring: predicted probabilities (`--pred-probs`) or embeddings
//! (`--embeddings`), one row per manifest row, from a 2-D .npy array or a table
//! (CSV, Parquet, Arrow IPC, NDJSON) of numeric columns.

use anyhow::{anyhow, bail, Result};
use npyz::TypeChar;
use polars::prelude::*;
use std::path::Path;

/// Tolerance on the sum of a row of user-given probabilities.
const SUM_TOLERANCE: f64 = 1e-3;

pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    /// Row-major.
    pub values: Vec<f64>,
    /// Column names (tables only).
    pub names: Option<Vec<String>>,
}

pub fn read(path: &Path) -> Result<Matrix> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ext == "npy" {
        npy(path)
    } else {
        table(path)
    }
}

fn npy(path: &Path) -> Result<Matrix> {
    let shown = path.display();
    let npy = crate::load::npy::open(path)?;
    let shape = npy.shape().to_vec();
    let (rows, cols) = match shape[..] {
        [r, c] => (r as usize, c as usize),
        [r] => (r as usize, 1),
        _ => bail!("{shown}: expected a 2-D array, got shape {shape:?}"),
    };
    if npy.order() == npyz::Order::Fortran {
        bail!("{shown}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray");
    }
    let (tc, size) = crate::load::npy::type_of(path, &npy.dtype())?;
    let bad = |e: npyz::DTypeError| anyhow!("{shown}: {e}");
    let io = |e: std::io::Error| anyhow!("{shown}: cannot read array data: {e}");
    let values: Vec<f64> = match (tc, size) {
        (TypeChar::Float, 4) => npy
            .data::<f32>()
            .map_err(bad)?
            .map(|v| v.map(f64::from))
            .collect::<std::io::Result<_>>()
            .map_err(io)?,
        (TypeChar::Float, 8) => npy
            .data::<f64>()
            .map_err(bad)?
            .collect::<std::io::Result<_>>()
            .map_err(io)?,
        _ => bail!("{shown}: expected float32 or float64 values"),
    };
    Ok(Matrix {
        rows,
        cols,
        values,
        names: None,
    })
}

fn table(path: &Path) -> Result<Matrix> {
    let shown = path.display();
    let df = crate::load::table::read(path, None)?;
    let mut cols = Vec::new();
    let mut names = Vec::new();
    for c in df.columns() {
        if !c.dtype().is_primitive_numeric() {
            bail!(
                "{shown}: column '{}' is {}, expected numbers only",
                c.name(),
                c.dtype()
            );
        }
        let f = c
            .cast(&DataType::Float64)
            .map_err(|e| anyhow!("{shown}: column '{}': {e}", c.name()))?;
        let f = f.f64().map_err(|e| anyhow!("{shown}: {e}"))?.clone();
        cols.push(f);
        names.push(c.name().to_string());
    }
    let rows = df.height();
    let mut values = Vec::with_capacity(rows * cols.len());
    for i in 0..rows {
        for c in &cols {
            values.push(c.get(i).unwrap_or(f64::NAN));
        }
    }
    Ok(Matrix {
        rows,
        cols: cols.len(),
        values,
        names: Some(names),
    })
}

/// The user's probabilities for the usable labeled rows, in `classes` order:
/// columns named after the classes are matched by name, otherwise taken in the
/// sorted class order. Every row checked: finite, non-negative, summing to 1.
pub(super) fn user_probs(
    path: &std::path::Path,
    n: usize,
    classes: &[String],
    usable: &[usize],
    class_of: &dyn Fn(usize) -> Option<u32>,
) -> Result<(Vec<usize>, Vec<f64>), String> {
    let shown = path.display();
    let m = read(path).map_err(|e| format!("{e:#}"))?;
    if m.rows != n {
        return Err(format!(
            "{shown}: {} rows, but the dataset has {n} samples (rows must follow the manifest's order)",
            m.rows
        ));
    }
    let k = classes.len();
    let order: Vec<usize> = match &m.names {
        Some(names) if classes.iter().all(|c| names.contains(c)) => classes
            .iter()
            .map(|c| names.iter().position(|x| x == c).expect("checked"))
            .collect(),
        _ if m.cols == k => (0..k).collect(),
        _ => {
            return Err(format!(
                "{shown}: {} columns, but the dataset has {k} classes ({}); name the columns after the classes or give one per class in sorted order",
                m.cols,
                classes.join(", ")
            ))
        }
    };
    let rows: Vec<usize> = usable
        .iter()
        .copied()
        .filter(|&i| class_of(i).is_some())
        .collect();
    let mut probs = Vec::with_capacity(rows.len() * k);
    for &i in &rows {
        let row: Vec<f64> = order.iter().map(|&j| m.values[i * m.cols + j]).collect();
        if let Some(v) = row.iter().find(|v| !v.is_finite() || **v < 0.0) {
            return Err(format!("{shown}: row {i} holds {v}, not a probability"));
        }
        let sum: f64 = row.iter().sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(format!(
                "{shown}: row {i} sums to {}, not 1 (probabilities per class expected, e.g. a softmax)",
                crate::util::round4(sum)
            ));
        }
        probs.extend(row);
    }
    Ok((rows, probs))
}
