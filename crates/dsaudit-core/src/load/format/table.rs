//! One table with a label column, or one table per split (`train.csv`, `test.csv`).

use super::{Found, Layout, Writer};
use crate::discover::{stem_lower, Survey};
use crate::load::{DatasetSpec, Loaded, Recall};
use crate::util::canonical_split;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

pub struct Table;

impl super::Format for Table {
    fn find(
        &self,
        survey: &Survey,
        named: bool,
        guesses: &mut Vec<String>,
    ) -> Result<Option<Found>> {
        if !named && survey.tables.is_empty() {
            return Ok(None);
        }
        let files = if survey.is_file {
            // A file given directly is the whole dataset, whatever its name says.
            vec![(None, survey.input.clone())]
        } else {
            table_files(&survey.input, &survey.tables)?
        };
        guesses.push(table_guess(&files));
        Ok(Some(Found::Layout(Box::new(Tables { files }))))
    }
}

/// Each file with the split its name gives (None for a single table).
#[derive(Debug)]
pub struct Tables {
    pub files: Vec<(Option<String>, PathBuf)>,
}

impl Layout for Tables {
    fn name(&self) -> &'static str {
        if self.files.len() == 1 {
            "table (one file)"
        } else {
            "table (one file per split)"
        }
    }

    fn is_image(&self) -> bool {
        false
    }

    fn load(&self, spec: &DatasetSpec, _: bool, _: Option<&dyn Recall>) -> Result<Loaded> {
        // The reader's panics on a damaged table end in an error naming it.
        crate::load::guarded_load(spec, || crate::load::table::load(spec, &self.files))
    }

    fn empty(&self) -> &'static str {
        if self.files.len() == 1 {
            "the table has a header but no rows"
        } else {
            "the tables have headers but no rows"
        }
    }

    fn inputs(&self) -> Vec<PathBuf> {
        self.files.iter().map(|(_, f)| f.clone()).collect()
    }

    fn writer(&self) -> Writer<'_> {
        Writer::Tables(&self.files)
    }
}

fn table_guess(files: &[(Option<String>, PathBuf)]) -> String {
    if files.len() == 1 {
        return format!("layout: one table ({})", Survey::name(&files[0].1));
    }
    let names: Vec<String> = files
        .iter()
        .map(|(s, p)| format!("{} = {}", s.as_deref().unwrap_or("?"), Survey::name(p)))
        .collect();
    format!("layout: one table per split ({})", names.join(", "))
}

fn table_files(input: &Path, tables: &[PathBuf]) -> Result<Vec<(Option<String>, PathBuf)>> {
    let split_named: Vec<(String, PathBuf)> = tables
        .iter()
        .filter_map(|p| canonical_split(&stem_lower(p)).map(|s| (s.to_string(), p.clone())))
        .collect();
    if !split_named.is_empty() {
        let mut seen = std::collections::BTreeSet::new();
        for (s, p) in &split_named {
            if !seen.insert(s.clone()) {
                bail!(
                    "{}: two tables for split '{s}' (one is {}); keep one per split",
                    input.display(),
                    p.file_name().unwrap_or_default().to_string_lossy()
                );
            }
        }
        let mut files: Vec<(Option<String>, PathBuf)> =
            split_named.into_iter().map(|(s, p)| (Some(s), p)).collect();
        files.sort_by_key(|(s, _)| crate::util::split_order(s.as_deref().unwrap_or("")));
        return Ok(files);
    }
    if tables.len() == 1 {
        return Ok(vec![(None, tables[0].clone())]);
    }
    let names: Vec<String> = tables
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    bail!(
        "{}: {} tables ({}) and none named train/val/test; pass one file, or name them by split",
        input.display(),
        tables.len(),
        names.join(", ")
    )
}
