//! Tables (CSV, Parquet, Arrow IPC/Feather, NDJSON) through polars: one file with a
//! label column and optional split column, or one file per split.

use super::columns::{ColumnStats, MAX_EXAMPLES};
use super::DatasetSpec;
use super::{Loaded, LABEL_NAMES};
use crate::finding::SampleRef;
use crate::manifest::{Manifest, TablePart};
use crate::stats::numeric::{NumericStats, StringStats};
use crate::util::split_value;
use anyhow::{bail, Result};
use polars::prelude::*;
use std::path::{Path, PathBuf};

pub use crate::table_io::{name_of, read, read_head};

fn find_column(df: &DataFrame, wanted: &str) -> Option<String> {
    df.get_column_names()
        .into_iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(wanted))
        .map(|c| c.to_string())
}

fn columns_list(df: &DataFrame) -> String {
    df.get_column_names()
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The label column: the one the user named (which must exist), else the first of
/// `LABEL_NAMES` present.
pub fn resolve_label(df: &DataFrame, path: &Path, hint: Option<&str>) -> Result<Option<String>> {
    if let Some(h) = hint {
        return match df.get_column_names().iter().find(|c| c.as_str() == h) {
            Some(_) if !one_value_a_row(df, h) => bail!(
                "{}: --label column '{h}' holds {} values, not one class a row (several labels a row are not read as classes)",
                path.display(),
                df.column(h)?.dtype()
            ),
            Some(c) => Ok(Some(c.to_string())),
            None => bail!(
                "{}: --label column '{h}' not found; columns are: {}",
                path.display(),
                columns_list(df)
            ),
        };
    }
    // A list column named `label` (several labels a row) is not guessed to be classes.
    Ok(LABEL_NAMES
        .iter()
        .filter_map(|n| find_column(df, n))
        .find(|c| one_value_a_row(df, c)))
}

/// Whether a column holds one plain value a row (not lists, structs or bytes).
fn one_value_a_row(df: &DataFrame, name: &str) -> bool {
    df.column(name).is_ok_and(|c| {
        !c.dtype().is_nested() && !matches!(c.dtype(), DataType::Binary | DataType::BinaryOffset)
    })
}

pub fn resolve_split(df: &DataFrame, path: &Path, hint: Option<&str>) -> Result<Option<String>> {
    if let Some(h) = hint {
        return match df.get_column_names().iter().find(|c| c.as_str() == h) {
            Some(c) => Ok(Some(c.to_string())),
            None => bail!(
                "{}: --split column '{h}' not found; columns are: {}",
                path.display(),
                columns_list(df)
            ),
        };
    }
    Ok(find_column(df, "split"))
}

/// Label values as strings; a float NaN label counts as missing, not as a class "NaN".
pub fn label_strings(col: &Column) -> Result<Column> {
    let s = col.as_materialized_series();
    let s = if s.dtype().is_float() {
        let f = s.cast(&DataType::Float64)?;
        let ca = f.f64()?;
        let cleaned: Float64Chunked = ca.apply(|v| v.filter(|x| !x.is_nan()));
        // Whole-number float labels (1.0) read as the integers they stand for.
        if cleaned
            .iter()
            .flatten()
            .all(|v| v.fract() == 0.0 && v.abs() < 1e15)
        {
            cleaned
                .into_series()
                .cast(&DataType::Int64)?
                .cast(&DataType::String)?
        } else {
            cleaned.into_series().cast(&DataType::String)?
        }
    } else {
        s.cast(&DataType::String)?
    };
    Ok(s.into_column())
}

pub use super::target::continuous;

/// What the report says of a label column found to hold a continuous target.
pub fn regression_guess(label: &str, why: &str) -> String {
    format!("task: regression: label column {label} holds a continuous target ({why}); the classification checks (class balance, label errors, conflicting labels) do not apply")
}

pub fn split_strings(col: &Column) -> Result<Column> {
    let s = col.cast(&DataType::String)?;
    let ca = s.str()?;
    let out: StringChunked = ca.apply_values(|v| split_value(v).into());
    Ok(out.into_column())
}

/// Nulls and non-finite values per feature column, with example rows, and the
/// numeric or string summary; columns are independent, so they run in parallel.
/// `df`'s first row is row `row_offset` of `source` and sample `id_offset`.
pub fn column_stats(
    df: &DataFrame,
    skip: &[&str],
    source: &str,
    id_offset: u64,
    row_offset: u64,
) -> Result<Vec<ColumnStats>> {
    let at = (id_offset, row_offset);
    use rayon::prelude::*;
    df.columns()
        .par_iter()
        .filter(|c| !skip.contains(&c.name().as_str()))
        .map(|c| -> Result<ColumnStats> {
            let mut st = ColumnStats::new(c.name(), &c.dtype().to_string());
            st.count = c.len() as u64;
            st.nulls = c.null_count() as u64;
            if st.nulls > 0 {
                st.null_examples = mask_examples(&c.is_null(), source, at);
            }
            if c.dtype().is_float() {
                let nan = c.is_nan()?;
                let inf = c.is_infinite()?;
                st.nan = nan.sum().unwrap_or(0) as u64;
                st.inf = inf.sum().unwrap_or(0) as u64;
                if st.nan + st.inf > 0 {
                    st.nonfinite_examples = mask_examples(&(&nan | &inf), source, at);
                }
            }
            st.numeric = NumericStats::of_column(c);
            if c.dtype() == &DataType::String {
                st.strings = StringStats::of_column(c);
            }
            Ok(st)
        })
        .collect()
}

fn mask_examples(mask: &BooleanChunked, source: &str, at: (u64, u64)) -> Vec<SampleRef> {
    mask.iter()
        .enumerate()
        .filter(|(_, v)| v.unwrap_or(false))
        .take(MAX_EXAMPLES)
        .map(|(i, _)| SampleRef {
            id: at.0 + i as u64,
            source: source.to_string(),
            row: Some(at.1 + i as u64),
            note: None,
        })
        .collect()
}

pub fn load(spec: &DatasetSpec, files: &[(Option<String>, PathBuf)]) -> Result<Loaded> {
    if let Some(budget) = super::table_stream::needed(spec, files) {
        return super::table_stream::load(spec, files, budget);
    }
    let mut acc = Tables::default();
    for (file_split, path) in files {
        let df = read(path, None)?;
        acc.note_separator(path);
        acc.add(spec, file_split.as_ref(), df, source_of(spec, path), path)?;
    }
    acc.finish()
}

/// How the manifest names a file's rows: its path under the dataset's root, or its
/// name when it is the root.
pub fn source_of(spec: &DatasetSpec, path: &Path) -> String {
    let source = crate::walk::rel_string(&spec.root, path).0;
    if source.is_empty() {
        name_of(path)
    } else {
        source
    }
}

/// A table already in memory (the Python package's `scan_frame`), named `name` in
/// the report and the manifest.
pub fn load_frame(spec: &DatasetSpec, name: &str, df: DataFrame) -> Result<Loaded> {
    let mut acc = Tables::default();
    acc.add(spec, None, df, name.to_string(), Path::new(name))?;
    acc.finish()
}

impl Tables {
    pub(super) fn finish(self) -> Result<Loaded> {
        let acc = self;
        let mut loaded = Loaded::empty(Manifest::from_table_parts(acc.parts)?);
        loaded.columns = super::columns::merge_all(acc.stats);
        loaded.label_column = acc.label_column;
        loaded.regression_target = acc.regression;
        loaded.split_column = acc.split_column;
        loaded.declared_splits = acc.declared_splits;
        loaded.guesses = acc.guesses;
        loaded.rows = acc.rows;
        loaded.tables = acc.tables;
        Ok(loaded)
    }
}

/// What the files read so far add up to.
#[derive(Default)]
pub(super) struct Tables {
    parts: Vec<TablePart>,
    stats: Vec<Vec<ColumnStats>>,
    pub(super) guesses: Vec<String>,
    label_column: Option<String>,
    split_column: Option<String>,
    pub(super) regression: Option<String>,
    /// Leave whether the label is a continuous target to whoever sees every block (a
    /// table's part: the merge decides).
    pub(super) defer_task: bool,
    declared_splits: Vec<String>,
    /// Rows read so far: the next file's first sample id.
    pub(super) offset: u64,
    /// The first file's feature columns, which every file is fingerprinted over.
    features: Option<super::rows::Features>,
    rows: Option<super::rows::TableRows>,
    tables: Vec<DataFrame>,
}

/// The columns of one file that are not features.
#[derive(Clone, Default)]
pub(super) struct Roles {
    pub(super) label: Option<String>,
    pub(super) split: Option<String>,
}

/// The rows of one file an accumulator takes in.
pub(super) struct Rows {
    pub df: DataFrame,
    /// The file's row of each of `df`'s rows, when `df` holds some of them only.
    pub picked: Option<Vec<u64>>,
}

impl Tables {
    /// One table's rows: `source` names them in the manifest, `path` in messages.
    fn add(
        &mut self,
        spec: &DatasetSpec,
        file_split: Option<&String>,
        df: DataFrame,
        source: String,
        path: &Path,
    ) -> Result<()> {
        let roles = self.roles(spec, &df, file_split, path)?;
        let stats = !spec.hints.skip_column_stats;
        let rows = Rows { df, picked: None };
        self.add_rows(
            spec.hints.keep_tables,
            file_split,
            rows,
            source,
            &roles,
            stats,
        )
    }

    /// Rows of one file whose roles are known; `stats`: describe their columns too.
    pub(super) fn add_rows(
        &mut self,
        keep_tables: bool,
        file_split: Option<&String>,
        rows: Rows,
        source: String,
        roles: &Roles,
        stats: bool,
    ) -> Result<()> {
        let Rows { df, picked } = rows;
        let h = df.height();
        if let Some(s) = file_split {
            self.declared_splits.push(s.clone());
        }
        // A regression target is described with the features, not compared as one.
        let described: Vec<&str> = [roles.label.as_deref(), roles.split.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let skip: Vec<&str> = [
            roles.label.as_deref(),
            roles.split.as_deref(),
            self.regression.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        // Every file is fingerprinted over the first file's feature columns, so that
        // rows of train.csv and test.csv are comparable.
        let guesses = &mut self.guesses;
        let features = &*self.features.get_or_insert_with(|| {
            let f = super::rows::Features::of(&df, &skip);
            if !f.skipped.is_empty() {
                guesses.push(format!(
                    "not compared for duplicates (nested values): {}",
                    f.skipped.join(", ")
                ));
            }
            f
        });
        // The label and split values are converted on one core while the statistics
        // and fingerprints, which spread over all of them, run beside it.
        let (names, counted) = rayon::join(
            || label_and_split(&df, roles, file_split),
            || -> Result<_> {
                let file_stats = match stats {
                    false => None,
                    true => Some(column_stats(&df, &described, &source, self.offset, 0)?),
                };
                Ok((file_stats, super::rows::fingerprint(&df, features)?))
            },
        );
        let (label_col, split_col) = names?;
        let (file_stats, part) = counted?;
        self.stats.extend(file_stats);
        match &mut self.rows {
            None => self.rows = Some(part),
            Some(r) => r.append(part),
        }
        if keep_tables {
            self.tables.push(df);
        }
        let taken = picked
            .as_ref()
            .map_or(h as u64, |p| p.last().map_or(0, |l| l + 1));
        self.parts.push(TablePart {
            source,
            split: split_col,
            label: label_col,
            first_id: self.offset,
            picked,
        });
        self.take_roles(roles);
        self.offset += taken;
        Ok(())
    }

    /// The columns `roles` names become the dataset's unless a file before named them.
    pub(super) fn take_roles(&mut self, roles: &Roles) {
        self.label_column = self.label_column.take().or(roles.label.clone());
        self.split_column = self.split_column.take().or(roles.split.clone());
    }

    /// A separator other than the extension's is a guess the report shows.
    pub(super) fn note_separator(&mut self, path: &Path) {
        if let Some(sep) = crate::table_io::separator(path) {
            if sep != crate::csv_dialect::default_for(&crate::util::ext_of(path)) {
                self.guesses.push(format!(
                    "separator: {} in {}",
                    crate::csv_dialect::name(sep),
                    name_of(path)
                ));
            }
        }
    }

    /// The file's label and split columns (a continuous target is no label).
    pub(super) fn roles(
        &mut self,
        spec: &DatasetSpec,
        df: &DataFrame,
        file_split: Option<&String>,
        path: &Path,
    ) -> Result<Roles> {
        let mut label = resolve_label(df, path, spec.hints.label.as_deref())?;
        // A continuous target is not a set of classes: no class checks on it.
        if let (Some(l), false) = (&label, self.defer_task) {
            if let Some(why) = continuous(df.column(l)?) {
                if self.regression.is_none() {
                    self.guesses.push(regression_guess(l, &why));
                }
                self.regression = Some(l.clone());
                label = None;
            }
        }
        // With one file per split the file names the split; a split column is then data.
        let split = if file_split.is_none() {
            resolve_split(df, path, spec.hints.split.as_deref())?
        } else {
            None
        };
        if self.label_column.is_none() && self.regression.is_none() {
            match (&label, spec.hints.label.is_some()) {
                (Some(l), false) => self.guesses.push(format!("label column: {l}")),
                (None, _) => self.guesses.push(format!(
                    "label column: none found in {} (looked for {}); pass --label",
                    name_of(path),
                    LABEL_NAMES.join(", ")
                )),
                _ => {}
            }
            if let (Some(s), false) = (&split, spec.hints.split.is_some()) {
                self.guesses.push(format!("split column: {s}"));
            }
        }
        Ok(Roles { label, split })
    }
}

/// The manifest's label and split columns for one file's rows.
pub(super) fn label_and_split(
    df: &DataFrame,
    roles: &Roles,
    file_split: Option<&String>,
) -> Result<(Column, Column)> {
    let h = df.height();
    let label_col = match &roles.label {
        Some(l) => label_strings(df.column(l)?)?,
        None => Column::full_null("label".into(), h, &DataType::String),
    };
    let split_col = match (file_split, &roles.split) {
        (Some(s), _) => Column::new_scalar(
            "split".into(),
            Scalar::from(PlSmallStr::from(s.as_str())),
            h,
        ),
        (None, Some(c)) => split_strings(df.column(c)?)?,
        (None, None) => Column::full_null("split".into(), h, &DataType::String),
    };
    Ok((label_col, split_col))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_of_a_long_csv_reads_as_its_first_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        // About 2 MB: the head is cut at a line break inside the file.
        let mut text = String::from("image,label,score\n");
        for i in 0..60_000 {
            text.push_str(&format!("img/{i:06}.png,class_{},{}.25\n", i % 7, i));
        }
        std::fs::write(&path, &text).unwrap();
        let head = read_head(&path, 200).unwrap();
        let whole = read(&path, Some(200)).unwrap();
        assert_eq!(head.height(), 200);
        assert!(head.equals_missing(&whole));
        // A short file is read whole.
        let short = dir.path().join("s.tsv");
        std::fs::write(&short, "a\tb\n1\tx\n2\ty\n").unwrap();
        assert_eq!(read_head(&short, 200).unwrap().height(), 2);
    }
}
