//! Writing a table dataset: one file per output split in the input's format
//! (`train.csv`, `train-val.csv`, …), rows in manifest order, with copies, SMOTE rows
//! and new labels applied. The split column is left out: the file name carries it,
//! and `dsaudit scan OUT` reads the files as one table per split.

use super::{Action, Plan, Samples};
use anyhow::{bail, Context, Result};
use dsaudit_core::discover::ext_of;
use dsaudit_core::load::Writer;
use polars::prelude::*;
use std::path::Path;

/// Where each plan row went: a file (an index into `names`, `NOWHERE` for none) and,
/// for rows of tables and arrays, the row within it. Names are stored once and rows
/// point at them: a million rows in four files would be a million small strings.
pub struct Placed {
    pub names: Vec<String>,
    pub file: Vec<IdxSize>,
    pub row: Vec<Option<u64>>,
}

pub const NOWHERE: IdxSize = IdxSize::MAX;

impl Placed {
    /// Every one of `rows` plan rows placed nowhere.
    pub fn new(rows: usize) -> Placed {
        Placed {
            names: Vec::new(),
            file: vec![NOWHERE; rows],
            row: vec![None; rows],
        }
    }

    /// Adds a file; returns its index.
    pub fn add(&mut self, name: String) -> IdxSize {
        self.names.push(name);
        (self.names.len() - 1) as IdxSize
    }
}

fn read_all(s: &Samples) -> Result<DataFrame> {
    let Writer::Tables(files) = s.spec.layout.writer() else {
        bail!("not a table dataset");
    };
    let mut all: Option<DataFrame> = None;
    for (k, (_, path)) in files.iter().enumerate() {
        // The scan kept the tables it read; reading again is only a fallback.
        let df = match s.loaded.tables.get(k) {
            Some(df) => df.clone(),
            None => dsaudit_core::load::table::read(path, None)?,
        };
        match &mut all {
            None => all = Some(df),
            Some(acc) => {
                let df = df.select(acc.get_column_names_owned()).map_err(|_| {
                    anyhow::anyhow!(
                        "{}: its columns differ from {}'s",
                        path.display(),
                        files[0].1.display()
                    )
                })?;
                let schema = acc.schema().clone();
                let df = df
                    .columns()
                    .iter()
                    .zip(schema.iter_values())
                    .map(|(c, t)| c.cast(t))
                    .collect::<PolarsResult<Vec<Column>>>()
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "{}: its column types differ from {}'s",
                            path.display(),
                            files[0].1.display()
                        )
                    })?;
                acc.vstack_mut(&DataFrame::new(df[0].len(), df)?)?;
            }
        }
    }
    all.context("no table file")
}

/// One output file: its name and the plan rows it holds, in order.
pub struct File {
    pub name: String,
    pub rows: Vec<usize>,
}

/// The files the output rows (`order` indexes `plan.rows`, grouped by split) go to:
/// `<split>.<ext>`, or the input's own name when neither input nor output is split.
pub fn files(s: &Samples, plan: &Plan, order: &[usize]) -> Vec<File> {
    let inputs: &[(Option<String>, std::path::PathBuf)] = match s.spec.layout.writer() {
        Writer::Tables(files) => files,
        _ => &[],
    };
    let first = inputs
        .first()
        .map(|f| f.1.as_path())
        .unwrap_or(Path::new("data.csv"));
    let ext = ext_of(first);
    let unsplit_name = (inputs.len() == 1).then(|| {
        first
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    });
    let outputs: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&k| plan.rows[k].action.is_output())
        .collect();
    outputs
        .chunk_by(|&a, &b| plan.rows[a].split == plan.rows[b].split)
        .map(|group| {
            let name = match (plan.rows[group[0]].split, &unsplit_name) {
                (Some(sp), _) => format!("{}.{ext}", plan.splits[sp as usize]),
                (None, Some(n)) => n.clone(),
                (None, None) => format!("data.{ext}"),
            };
            File {
                name,
                rows: group.to_vec(),
            }
        })
        .collect()
}

/// Where each plan row went.
pub fn placement(plan: &Plan, files: &[File]) -> Placed {
    let mut placed = Placed::new(plan.rows.len());
    for f in files {
        let code = placed.add(f.name.clone());
        for (row, &k) in f.rows.iter().enumerate() {
            placed.file[k] = code;
            placed.row[k] = Some(row as u64);
        }
    }
    placed
}

/// Writes the files under `dir`.
pub fn write(s: &Samples, plan: &Plan, files: &[File], dir: &Path) -> Result<()> {
    // Rows taken as they are can be copied as the input's lines; new values (SMOTE,
    // relabeling) go through polars, and then every file does, so that all files of one
    // output are formatted alike.
    let unchanged = files.iter().flat_map(|f| &f.rows).all(|&k| {
        !matches!(
            plan.rows[k].action,
            Action::Synthetic { .. } | Action::Relabeled { .. }
        )
    });
    if unchanged {
        if let Some(lines) = super::csv_lines::index(s)? {
            use rayon::prelude::*;
            return files.par_iter().try_for_each(|f| {
                lines
                    .write(
                        f.rows.iter().map(|&k| plan.rows[k].src as usize),
                        &dir.join(&f.name),
                    )
                    .with_context(|| format!("{}: cannot write", f.name))
            });
        }
    }
    let all = read_all(s)?;
    if all.height() != s.len() {
        bail!(
            "{}: the table changed while it was read ({} rows, then {})",
            s.spec.input.display(),
            s.len(),
            all.height()
        );
    }
    for f in files {
        let mut df = rows_of(s, plan, &f.rows, &all)?;
        if let Some(c) = &s.loaded.split_column {
            df = df.drop(c)?;
        }
        let ext = ext_of(Path::new(&f.name));
        write_table(&mut df, &dir.join(&f.name), &ext)
            .with_context(|| format!("{}: cannot write", f.name))?;
    }
    Ok(())
}

/// The table rows of one output split: sources taken, then SMOTE values and new
/// labels written over them.
fn rows_of(s: &Samples, plan: &Plan, group: &[usize], all: &DataFrame) -> Result<DataFrame> {
    let idx: Vec<IdxSize> = group.iter().map(|&k| plan.rows[k].src as IdxSize).collect();
    let mut df = all.take(&IdxCa::from_vec("idx".into(), idx))?;
    let synthetic: Vec<(usize, u32, u32, f64)> = group
        .iter()
        .enumerate()
        .filter_map(|(pos, &k)| match plan.rows[k].action {
            Action::Synthetic { partner, t } => Some((pos, plan.rows[k].src, partner, t)),
            _ => None,
        })
        .collect();
    if !synthetic.is_empty() {
        let features = &s
            .loaded
            .rows
            .as_ref()
            .context("SMOTE rows need the table's features")?
            .features;
        for name in &features.numeric {
            let original = all.column(name)?;
            let dtype = original.dtype().clone();
            if !dtype.is_primitive_numeric() {
                continue; // booleans and dates are taken from the base row
            }
            let source = original.cast(&DataType::Float64)?;
            let source = source.f64()?;
            let current = df.column(name)?.cast(&DataType::Float64)?;
            let mut values: Vec<Option<f64>> = current.f64()?.iter().collect();
            for &(pos, base, partner, t) in &synthetic {
                if let (Some(a), Some(b)) =
                    (source.get(base as usize), source.get(partner as usize))
                {
                    if a.is_finite() && b.is_finite() {
                        let v = a + t * (b - a);
                        values[pos] = Some(if dtype.is_integer() { v.round() } else { v });
                    }
                }
            }
            let column = Column::new(name.as_str().into(), values).cast(&dtype)?;
            df.with_column(column)?;
        }
    }
    let relabels: Vec<(usize, &str)> = group
        .iter()
        .enumerate()
        .filter_map(|(pos, &k)| match &plan.rows[k].action {
            Action::Relabeled { to } => Some((pos, to.as_str())),
            _ => None,
        })
        .collect();
    if !relabels.is_empty() {
        let name = s
            .loaded
            .label_column
            .as_deref()
            .context("relabeling needs a label column")?;
        let dtype = df.column(name)?.dtype().clone();
        let text = df.column(name)?.cast(&DataType::String)?;
        let mut values: Vec<Option<String>> =
            text.str()?.iter().map(|v| v.map(str::to_string)).collect();
        for &(pos, to) in &relabels {
            values[pos] = Some(to.to_string());
        }
        let column = Column::new(name.into(), values)
            .strict_cast(&dtype)
            .map_err(|_| {
                anyhow::anyhow!("a suggested label does not fit the label column's type ({dtype})")
            })?;
        df.with_column(column)?;
    }
    Ok(df)
}

fn write_table(df: &mut DataFrame, path: &Path, ext: &str) -> Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    match ext {
        "csv" | "tsv" => CsvWriter::new(&mut file)
            .include_header(true)
            .with_separator(if ext == "tsv" { b'\t' } else { b',' })
            .finish(df)?,
        "parquet" | "pq" => {
            ParquetWriter::new(&mut file).finish(df)?;
        }
        "arrow" | "feather" | "ipc" => IpcWriter::new(&mut file).finish(df)?,
        "ndjson" | "jsonl" => JsonWriter::new(&mut file)
            .with_json_format(JsonFormat::JsonLines)
            .finish(df)?,
        other => bail!("cannot write '.{other}' tables"),
    }
    std::io::Write::flush(&mut file)?;
    Ok(())
}
