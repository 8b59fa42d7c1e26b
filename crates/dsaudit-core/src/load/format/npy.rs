//! NumPy feature and label arrays in pairs: `X_<split>.npy` with `y_<split>.npy`.

use super::{Found, Layout, Writer};
use crate::discover::{stem_lower, Survey};
use crate::load::{DatasetSpec, Loaded, Recall};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

pub struct Npy;

impl super::Format for Npy {
    fn find(
        &self,
        survey: &Survey,
        named: bool,
        guesses: &mut Vec<String>,
    ) -> Result<Option<Found>> {
        if !super::directory_layout(survey, named, "npy")? {
            return Ok(None);
        }
        if !named && !survey.npy.iter().any(|p| stem_lower(p).starts_with("x")) {
            return Ok(None);
        }
        let pairs = npy_pairs(&survey.input, &survey.npy)?;
        if !named {
            guesses.push(format!("layout: npy, {} X/y pair(s) found", pairs.len()));
        }
        Ok(Some(Found::Layout(Box::new(Pairs { pairs }))))
    }
}

#[derive(Debug, Clone)]
pub struct NpyPair {
    pub split: Option<String>,
    pub x: PathBuf,
    pub y: Option<PathBuf>,
}

#[derive(Debug)]
pub struct Pairs {
    pub pairs: Vec<NpyPair>,
}

impl Layout for Pairs {
    fn name(&self) -> &'static str {
        "npy (X_*.npy / y_*.npy pairs)"
    }

    fn is_image(&self) -> bool {
        false
    }

    fn load(&self, spec: &DatasetSpec, _: bool, _: Option<&dyn Recall>) -> Result<Loaded> {
        // The reader's panics on a damaged array end in an error naming it.
        crate::load::guarded_load(spec, || crate::load::npy::load(spec, &self.pairs))
    }

    fn empty(&self) -> &'static str {
        "the arrays have no rows"
    }

    fn inputs(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for p in &self.pairs {
            out.push(p.x.clone());
            out.extend(p.y.clone());
        }
        out
    }

    fn writer(&self) -> Writer<'_> {
        Writer::Arrays(&self.pairs)
    }
}

fn npy_pairs(input: &Path, files: &[PathBuf]) -> Result<Vec<NpyPair>> {
    let mut pairs = Vec::new();
    let suffix = |p: &Path, prefix: char| -> Option<String> {
        let stem = p.file_stem()?.to_string_lossy().into_owned();
        let mut chars = stem.chars();
        let first = chars.next()?;
        if first.to_ascii_lowercase() != prefix {
            return None;
        }
        let rest: String = chars.collect();
        if rest.is_empty() {
            Some(String::new())
        } else {
            rest.strip_prefix('_').map(str::to_string)
        }
    };
    for x in files {
        let Some(sfx) = suffix(x, 'x') else { continue };
        let y = files
            .iter()
            .find(|p| suffix(p, 'y').as_deref() == Some(sfx.as_str()))
            .cloned();
        let split = if sfx.is_empty() {
            None
        } else {
            Some(crate::util::split_value(&sfx))
        };
        pairs.push(NpyPair {
            split,
            x: x.clone(),
            y,
        });
    }
    for y in files {
        if let Some(sfx) = suffix(y, 'y') {
            if !files
                .iter()
                .any(|p| suffix(p, 'x').as_deref() == Some(sfx.as_str()))
            {
                bail!(
                    "{}: labels without features: no X file matches {}",
                    input.display(),
                    y.file_name().unwrap_or_default().to_string_lossy()
                );
            }
        }
    }
    if pairs.is_empty() {
        bail!("{}: no X_*.npy feature arrays found", input.display());
    }
    pairs.sort_by_key(|p| crate::util::split_order(p.split.as_deref().unwrap_or("")));
    Ok(pairs)
}
