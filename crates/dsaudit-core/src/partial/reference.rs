//! A saved reference profile: the parts of an earlier scan (`.dsp`), which a scan of
//! new data runs its shift tests against (`dsaudit scan NEW --against ref.dsp`):
//! training–serving skew, without the training data at hand.

use super::{merge, Dsp};
use crate::load::Loaded;
use crate::manifest::Manifest;
use anyhow::{bail, Result};
use polars::prelude::Column;
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
    /// Reads and merges the profile's parts (all of them, as `dsaudit merge` needs).
    pub fn read(files: &[PathBuf]) -> Result<Reference> {
        let parts = files
            .iter()
            .map(|p| Ok((p.clone(), Dsp::read(p)?)))
            .collect::<Result<Vec<_>>>()?;
        let merged = merge(&parts)?;
        Ok(Reference {
            files: files.to_vec(),
            input: merged.spec.input.to_string_lossy().into_owned(),
            loaded: merged.loaded,
        })
    }

    /// The line the report's guesses carry.
    pub fn note(&self) -> String {
        let files: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        format!(
            "shift tests against the reference profile {} ({} samples of {}, as split '{REFERENCE}'); samples with no split are '{CURRENT}'",
            files.join(", "),
            self.loaded.manifest.len(),
            self.input
        )
    }

    /// The new data's samples beside the profile's, as the shift stage reads them: one
    /// dataset whose split `reference` is the profile and whose other splits are the
    /// new data's (`current` for samples with none).
    pub fn beside(&self, new: &Loaded) -> Result<Loaded> {
        let m = &new.manifest;
        if new.thumbs.len() != m.len() || new.rows.is_some() {
            bail!("--against: a reference profile holds images; the data scanned is not an image dataset");
        }
        let splits = m.strs("split");
        if splits.iter().any(|s| s == Some(REFERENCE)) {
            bail!("--against: the data has a split named '{REFERENCE}', the name the reference profile's samples take; rename that split");
        }
        let mut both = self.loaded.manifest.df.clone();
        both.with_column(Column::new("split".into(), vec![REFERENCE; both.height()]))?;
        let names: Vec<String> = both
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        let mut current = m.df.select(names)?;
        let named: Vec<&str> = splits.iter().map(|s| s.unwrap_or(CURRENT)).collect();
        current.with_column(Column::new("split".into(), named))?;
        both.vstack_mut(&current)?;
        let mut out = Loaded::empty(Manifest { df: both });
        let r = &self.loaded;
        out.thumbs = r.thumbs.iter().chain(&new.thumbs).copied().collect();
        out.smalls = r.smalls.iter().chain(&new.smalls).cloned().collect();
        out.shapes = r.shapes.iter().chain(&new.shapes).copied().collect();
        Ok(out)
    }
}
