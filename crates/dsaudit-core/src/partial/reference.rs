//! A saved reference profile: the parts of an earlier scan (`.dsp`), which a scan of
//! new data runs its shift tests against (`dsaudit scan NEW --against ref.dsp`):
//! training–serving skew, without the training data at hand.

use super::{merge, table, table_file, Dsp};
use crate::load::rows::{TableRows, NAMED_CATEGORIES};
use crate::load::Loaded;
use crate::manifest::Manifest;
use anyhow::{bail, Result};
use polars::prelude::{Column, DataFrame};
use std::path::PathBuf;

/// The split the profile's samples form beside the new data's.
pub const REFERENCE: &str = "reference";
/// The split new samples without one form.
pub const CURRENT: &str = "current";

/// The profile, merged from its parts.
pub struct Reference {
    /// The parts, as given.
    pub files: Vec<PathBuf>,
    /// The dataset the profile was made of, as its parts name it.
    pub input: String,
    pub loaded: Loaded,
}

impl Reference {
    /// Reads and merges the profile's parts (all of them, as `dsaudit merge` needs):
    /// an image dataset's or a table's.
    pub fn read(files: &[PathBuf]) -> Result<Reference> {
        let bytes = files
            .iter()
            .map(|p| Ok((p.clone(), Dsp::read_bytes(p)?)))
            .collect::<Result<Vec<_>>>()?;
        Reference::from_bytes(bytes)
    }

    /// As `read`, from the parts' bytes (each with the file it was read from).
    pub fn from_bytes(bytes: Vec<(PathBuf, Vec<u8>)>) -> Result<Reference> {
        let files: Vec<PathBuf> = bytes.iter().map(|(p, _)| p.clone()).collect();
        let (input, loaded) = if bytes.first().is_some_and(|(_, b)| table::is_table(b)) {
            let named: Vec<(String, Vec<u8>)> = bytes
                .into_iter()
                .map(|(p, b)| (p.display().to_string(), b))
                .collect();
            let decoded = table::decode_each(&named)?;
            let shown: Vec<&str> = named.iter().map(|(s, _)| s.as_str()).collect();
            if decoded[0].2.is_none() {
                // A Spark DataFrame's table (`dsaudit.spark.save_profile`).
                let (name, parts) = table::one_table(decoded, &shown)?;
                let hints = crate::load::Hints::default();
                let (_, loaded) = crate::load::table_parts::finish(&name, &hints, parts)?;
                (PathBuf::from(name), loaded)
            } else {
                let shown: Vec<PathBuf> = shown.iter().map(PathBuf::from).collect();
                let merged = table_file::merge_decoded(decoded, &shown)?;
                (merged.spec.input, merged.loaded)
            }
        } else {
            let merged = merge(Dsp::from_all(bytes)?)?;
            (merged.spec.input, merged.loaded)
        };
        Ok(Reference {
            files,
            input: input.to_string_lossy().into_owned(),
            loaded,
        })
    }

    /// The line the report's guesses carry about the comparison with `new`.
    pub fn note(&self, new: &Loaded) -> String {
        let files: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        let mut line = format!(
            "shift tests against the reference profile {} ({} samples of {}, as split '{REFERENCE}'); samples with no split are '{CURRENT}'",
            files.join(", "),
            self.loaded.manifest.len(),
            self.input
        );
        if let (Some(profile), Some(rows)) = (&self.loaded.rows, &new.rows) {
            let extra = unprofiled(profile, rows);
            match extra.len() {
                0 => {}
                1 => {
                    line += &format!(
                        "; the data's column {} is not in the profile and is not compared",
                        quoted(&extra)
                    )
                }
                _ => {
                    line += &format!(
                        "; the data's columns {} are not in the profile and are not compared",
                        quoted(&extra)
                    )
                }
            }
        }
        line
    }

    /// The new data's samples beside the profile's, as the shift stage reads them: one
    /// dataset whose split `reference` is the profile and whose other splits are the
    /// new data's (`current` for samples with none). A table's rows are compared in
    /// the profile's feature columns, found by name in the new data.
    pub fn beside(&self, new: &Loaded) -> Result<Loaded> {
        let m = &new.manifest;
        let r = &self.loaded;
        if m.strs("split").iter().any(|s| s == Some(REFERENCE)) {
            bail!("--against: the data has a split named '{REFERENCE}', the name the reference profile's samples take; rename that split");
        }
        match (&r.rows, &new.rows) {
            (Some(profile), Some(rows)) => {
                let mut out = Loaded::empty(Manifest {
                    df: stacked(&r.manifest.df, m)?,
                });
                out.rows = Some(rows_beside(profile, rows)?);
                Ok(out)
            }
            (Some(_), None) => bail!(
                "--against: the reference profile is a table's; the data scanned is not a table"
            ),
            (None, _) if new.thumbs.len() != m.len() || new.rows.is_some() => {
                bail!("--against: a reference profile holds images; the data scanned is not an image dataset")
            }
            (None, _) => {
                let mut out = Loaded::empty(Manifest {
                    df: stacked(&r.manifest.df, m)?,
                });
                out.thumbs = r.thumbs.iter().chain(&new.thumbs).copied().collect();
                out.smalls = r.smalls.iter().chain(&new.smalls).cloned().collect();
                out.shapes = r.shapes.iter().chain(&new.shapes).copied().collect();
                Ok(out)
            }
        }
    }
}

/// The profile's manifest (split `reference`) over the new data's, in the profile's
/// columns (split `current` where the new data has none).
fn stacked(profile: &DataFrame, new: &Manifest) -> Result<DataFrame> {
    let mut both = profile.clone();
    both.with_column(Column::new("split".into(), vec![REFERENCE; both.height()]))?;
    let names: Vec<String> = both
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut current = new.df.select(names)?;
    let named: Vec<&str> = new
        .strs("split")
        .iter()
        .map(|s| s.unwrap_or(CURRENT))
        .collect();
    current.with_column(Column::new("split".into(), named))?;
    both.vstack_mut(&current)?;
    Ok(both)
}

/// Where a profile's column takes its values from in the new data.
#[derive(Clone, Copy)]
enum Source {
    /// The new data's column of that kind, by position.
    Column(usize),
    /// A column the new data read as text with no value at all (an empty column of
    /// numbers): every value missing.
    Empty,
}

/// The new data's feature columns that the profile lacks (not compared).
fn unprofiled(profile: &TableRows, new: &TableRows) -> Vec<String> {
    let p = &profile.features;
    new.features
        .numeric
        .iter()
        .chain(&new.features.text)
        .filter(|c| !p.numeric.contains(c) && !p.text.contains(c))
        .cloned()
        .collect()
}

fn quoted(names: &[String]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    q.join(", ")
}

/// The profile's rows, then the new data's in the profile's feature columns.
fn rows_beside(profile: &TableRows, new: &TableRows) -> Result<TableRows> {
    let (numeric, text) = sources(profile, new)?;
    let (dn, tn) = (new.features.numeric.len(), new.features.text.len());
    let mut out = profile.clone();
    out.hash.extend(&new.hash);
    out.text_hash.extend(&new.text_hash);
    out.numeric.reserve(new.len() * numeric.len());
    out.text_codes.reserve(new.len() * text.len());
    for i in 0..new.len() {
        out.numeric.extend(numeric.iter().map(|s| match s {
            Source::Column(j) => new.numeric[i * dn + j],
            Source::Empty => f32::NAN,
        }));
        out.text_codes.extend(text.iter().map(|s| match s {
            Source::Column(j) => new.text_codes[i * tn + j],
            Source::Empty => 0,
        }));
    }
    out.text_names.resize_with(text.len(), Default::default);
    for (names, s) in out.text_names.iter_mut().zip(&text) {
        let Source::Column(j) = s else { continue };
        for (code, name) in new.text_names.get(*j).into_iter().flatten() {
            if names.len() >= NAMED_CATEGORIES {
                break;
            }
            names.entry(*code).or_insert_with(|| name.clone());
        }
    }
    Ok(out)
}

/// For each of the profile's numeric and text columns, where the new data holds it;
/// a column missing, or read as the other kind, is refused in one line.
fn sources(profile: &TableRows, new: &TableRows) -> Result<(Vec<Source>, Vec<Source>)> {
    let nf = &new.features;
    let at = |names: &[String], c: &String| names.iter().position(|n| n == c);
    let tn = nf.text.len();
    let valueless = |j: usize| (0..new.len()).all(|i| new.text_codes[i * tn + j] == 0);
    let mut lacking = Vec::new();
    let mut numeric = Vec::new();
    for c in &profile.features.numeric {
        match (at(&nf.numeric, c), at(&nf.text, c)) {
            (Some(j), _) => numeric.push(Source::Column(j)),
            (None, Some(j)) if valueless(j) => numeric.push(Source::Empty),
            (None, Some(_)) => bail!(
                "--against: column '{c}' holds numbers in the reference profile and text in the data"
            ),
            (None, None) => lacking.push(c.clone()),
        }
    }
    let mut text = Vec::new();
    for c in &profile.features.text {
        match (at(&nf.text, c), at(&nf.numeric, c)) {
            (Some(j), _) => text.push(Source::Column(j)),
            (None, Some(_)) => bail!(
                "--against: column '{c}' holds text in the reference profile and numbers in the data"
            ),
            (None, None) => lacking.push(c.clone()),
        }
    }
    if !lacking.is_empty() {
        bail!(
            "--against: the data has no column {}, which the reference profile compares",
            quoted(&lacking)
        );
    }
    Ok((numeric, text))
}
