//! `ROOT/<split>/<class>/*` and `ROOT/<class>/*`: labels and splits from folder names.

use super::{Found, Layout, Writer};
use crate::discover::{Survey, IMAGE_EXTS};
use crate::load::{DatasetSpec, Loaded, Recall};
use crate::util::canonical_split;
use crate::walk::Walked;
use anyhow::Result;
use std::path::PathBuf;

pub struct ImageFolder;

impl super::Format for ImageFolder {
    fn find(
        &self,
        survey: &Survey,
        named: bool,
        guesses: &mut Vec<String>,
    ) -> Result<Option<Found>> {
        if !super::directory_layout(survey, named, "image-folder")? {
            return Ok(None);
        }
        if !named {
            if let Some(dir) = single_image_folder(&survey.walked) {
                return Ok(Some(Found::Below(dir)));
            }
            if survey.images == 0 {
                return Ok(None);
            }
        }
        let split_dirs = has_split_dirs(&survey.walked);
        guesses.push(if split_dirs {
            let names: Vec<&str> = survey
                .walked
                .dirs
                .iter()
                .filter(|d| !d.contains('/'))
                .map(|s| s.as_str())
                .collect();
            format!(
                "layout: image folder with split folders ({}) then class folders",
                names.join(", ")
            )
        } else {
            "layout: image folder with one folder per class (no split folders)".into()
        });
        Ok(Some(Found::Layout(Box::new(Folders { split_dirs }))))
    }
}

/// Class folders, under split folders or not.
#[derive(Debug)]
pub struct Folders {
    pub split_dirs: bool,
}

impl Layout for Folders {
    fn shardable(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        if self.split_dirs {
            "image-folder (ROOT/<split>/<class>/*)"
        } else {
            "image-folder (ROOT/<class>/*)"
        }
    }

    fn is_image(&self) -> bool {
        true
    }

    fn load(&self, spec: &DatasetSpec, quiet: bool, files: Option<&dyn Recall>) -> Result<Loaded> {
        crate::load::image_folder::load(spec, self.split_dirs, quiet, files)
    }

    fn empty(&self) -> &'static str {
        "the class folders hold no files"
    }

    fn inputs(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    fn writer(&self) -> Writer<'_> {
        Writer::Images { listed_in: None }
    }
}

/// The one top-level folder that holds every image at least two levels down, when
/// it is not itself a split folder.
fn single_image_folder(walked: &Walked) -> Option<String> {
    let mut dir: Option<&str> = None;
    for f in walked.files.iter().filter(|f| f.ext_in(IMAGE_EXTS)) {
        let mut parts = f.rel.split('/');
        let top = parts.next()?;
        if parts.count() < 2 || dir.is_some_and(|d| d != top) {
            return None;
        }
        dir = Some(top);
    }
    dir.filter(|d| canonical_split(d).is_none())
        .map(str::to_string)
}

fn has_split_dirs(walked: &Walked) -> bool {
    let mut top_with_files: Vec<&str> = walked
        .files
        .iter()
        .filter(|f| f.ext_in(IMAGE_EXTS) || f.rel.contains('/'))
        .filter_map(|f| f.rel.split_once('/').map(|(d, _)| d))
        .collect();
    top_with_files.dedup();
    if top_with_files.is_empty() {
        // Nothing but empty folders: split folders if the folder names say so.
        return walked
            .dirs
            .iter()
            .filter(|d| !d.contains('/'))
            .any(|d| canonical_split(d).is_some());
    }
    top_with_files.iter().all(|d| canonical_split(d).is_some())
}
