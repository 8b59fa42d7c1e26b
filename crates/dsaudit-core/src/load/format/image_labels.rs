//! Images listed in a labels table (path, label[, split]).

use super::{Found, Layout, Writer};
use crate::discover::{path_column_of_file, stem_lower, Survey};
use crate::load::{DatasetSpec, Loaded, Recall};
use anyhow::{bail, Result};
use std::path::PathBuf;

pub struct ImageLabels;

impl super::Format for ImageLabels {
    fn find(
        &self,
        survey: &Survey,
        named: bool,
        guesses: &mut Vec<String>,
    ) -> Result<Option<Found>> {
        let labels_file = if survey.is_file {
            // A table handed over directly is a labels file when it names image files.
            if !named && path_column_of_file(&survey.input).ok().flatten().is_none() {
                return Ok(None);
            }
            guesses.push(format!(
                "layout: images listed in {} (it has a column of image paths)",
                Survey::name(&survey.input)
            ));
            survey.input.clone()
        } else {
            // Reading table heads to find a labels file is only worth it when there
            // are images.
            if !named && survey.images == 0 {
                return Ok(None);
            }
            let Some(labels) = labels_file_candidate(&survey.tables) else {
                if named {
                    bail!("{}: --layout image-labels needs one labels table (CSV/Parquet) at the top of the directory", survey.input.display());
                }
                return Ok(None);
            };
            guesses.push(format!("labels file: {}", Survey::name(&labels)));
            labels
        };
        Ok(Some(Found::Layout(Box::new(Listed { labels_file }))))
    }
}

/// Images named by a labels file.
#[derive(Debug)]
pub struct Listed {
    pub labels_file: PathBuf,
}

impl Layout for Listed {
    fn shardable(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "image-labels (images + labels file)"
    }

    fn is_image(&self) -> bool {
        true
    }

    fn load(&self, spec: &DatasetSpec, quiet: bool, files: Option<&dyn Recall>) -> Result<Loaded> {
        crate::load::labels::load(spec, &self.labels_file, quiet, files)
    }

    fn empty(&self) -> &'static str {
        "the labels file lists no images and the folder holds none"
    }

    fn inputs(&self) -> Vec<PathBuf> {
        vec![self.labels_file.clone()]
    }

    fn writer(&self) -> Writer<'_> {
        Writer::Images {
            listed_in: Some(&self.labels_file),
        }
    }
}

/// A top-level table that lists image paths: preferred by name (labels, annotations,
/// metadata), else the only table there is.
fn labels_file_candidate(tables: &[PathBuf]) -> Option<PathBuf> {
    let named = |p: &&PathBuf| {
        matches!(
            stem_lower(p).as_str(),
            "labels" | "label" | "annotations" | "metadata" | "manifest" | "index"
        )
    };
    let candidates: Vec<&PathBuf> = if let Some(p) = tables.iter().find(named) {
        vec![p]
    } else {
        tables.iter().collect()
    };
    candidates
        .into_iter()
        .find(|p| path_column_of_file(p).ok().flatten().is_some())
        .cloned()
}
