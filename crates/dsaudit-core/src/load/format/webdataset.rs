//! WebDataset: `.tar` shards in which the members sharing a key (the member's path up
//! to the first dot of its name) form one sample: `000123.jpg` with `000123.cls` (or
//! a `.json` holding `label`). The split is the shard's name (`train-000000.tar`) or
//! its folder's.

use super::{Found, Layout, Writer};
use crate::discover::Survey;
use crate::load::{DatasetSpec, Loaded, Recall};
use anyhow::{bail, Result};
use std::path::PathBuf;

pub struct WebDataset;

impl super::Format for WebDataset {
    fn find(
        &self,
        survey: &Survey,
        named: bool,
        guesses: &mut Vec<String>,
    ) -> Result<Option<Found>> {
        if !super::directory_layout(survey, named, "webdataset")? {
            return Ok(None);
        }
        let shards: Vec<Shard> = survey
            .walked
            .files
            .iter()
            .filter(|f| f.ext_in(&["tar"]))
            .map(|f| Shard {
                split: super::hf_parquet::split_of(&f.rel),
                path: f.path.clone(),
                rel: f.rel.clone(),
            })
            .collect();
        if shards.is_empty() {
            if named {
                bail!(
                    "{}: --layout webdataset needs .tar shards",
                    survey.input.display()
                );
            }
            return Ok(None);
        }
        // A stray archive beside image files, or one that holds no images, is not
        // a WebDataset.
        if !named && (survey.images > 0 || !holds_images(&shards[0].path)) {
            return Ok(None);
        }
        guesses.push(format!(
            "layout: WebDataset, {} (members grouped by key)",
            crate::util::count(shards.len(), "tar shard", "tar shards")
        ));
        Ok(Some(Found::Layout(Box::new(Shards { shards }))))
    }
}

/// Whether the first members of a tar include an image (headers only: the members'
/// bytes are skipped by seeking).
fn holds_images(path: &std::path::Path) -> bool {
    let Ok((file, _)) = crate::safe_read::open_limited(path, u64::MAX) else {
        return false;
    };
    let mut archive = tar::Archive::new(file);
    let Ok(entries) = archive.entries_with_seek() else {
        return false;
    };
    entries.take(32).flatten().any(|e| {
        crate::discover::is_image_path(std::path::Path::new(&*String::from_utf8_lossy(
            &e.path_bytes(),
        )))
    })
}

#[derive(Debug, Clone)]
pub struct Shard {
    pub path: PathBuf,
    pub rel: String,
    pub split: Option<String>,
}

#[derive(Debug)]
pub struct Shards {
    pub shards: Vec<Shard>,
}

impl Layout for Shards {
    fn name(&self) -> &'static str {
        "webdataset (.tar shards)"
    }

    fn is_image(&self) -> bool {
        true
    }

    fn load(&self, spec: &DatasetSpec, quiet: bool, _: Option<&dyn Recall>) -> Result<Loaded> {
        crate::load::webdataset::load(spec, &self.shards, quiet)
    }

    fn empty(&self) -> &'static str {
        "the tar shards hold no samples"
    }

    fn inputs(&self) -> Vec<PathBuf> {
        self.shards.iter().map(|s| s.path.clone()).collect()
    }

    fn writer(&self) -> Writer<'_> {
        Writer::TarShards(&self.shards)
    }
}
