//! COCO: annotation JSON files (`annotations/instances_<split>.json`, or any JSON at
//! the top, in `annotations/` or in a split's folder that lists `images` with a
//! `file_name`) and the images they name. The split is the file's name or folder.

use super::{Found, Layout, Writer};
use crate::discover::Survey;
use crate::load::coco::AnnotationFile;
use crate::load::{DatasetSpec, Loaded, Recall};
use anyhow::{bail, Result};
use std::io::Read;
use std::path::PathBuf;

pub struct Coco;

impl super::Format for Coco {
    fn find(
        &self,
        survey: &Survey,
        named: bool,
        guesses: &mut Vec<String>,
    ) -> Result<Option<Found>> {
        if !super::directory_layout(survey, named, "coco")? {
            return Ok(None);
        }
        let mut files: Vec<AnnotationFile> = survey
            .walked
            .files
            .iter()
            .filter(|f| f.ext_in(&["json"]) && f.rel.matches('/').count() <= 1)
            .filter(|f| looks_like_coco(&f.path))
            .map(|f| AnnotationFile {
                path: f.path.clone(),
                rel: f.rel.clone(),
                split: crate::load::detection::split_in(&f.rel),
            })
            .collect();
        // COCO's keypoint files repeat the person boxes of its instance files, and its
        // caption files hold none: the instance files are the boxes when present.
        let instances = |f: &AnnotationFile| {
            let name = f.rel.rsplit('/').next().unwrap_or(&f.rel);
            name.starts_with("instances_")
        };
        if files.iter().any(instances) {
            files.retain(instances);
        }
        if files.is_empty() {
            if named {
                bail!(
                    "{}: --layout coco needs a COCO annotation file (JSON with `images` and `file_name`) at the top, in annotations/ or in a split's folder",
                    survey.input.display()
                );
            }
            return Ok(None);
        }
        let list: Vec<&str> = files.iter().map(|f| f.rel.as_str()).collect();
        guesses.push(format!("layout: COCO, boxes from {}", list.join(", ")));
        Ok(Some(Found::Layout(Box::new(CocoFiles { files }))))
    }
}

/// Whether a JSON file's first 64 KiB hold a COCO image list (the `images` key and
/// an entry's `file_name`); the file is not parsed here.
fn looks_like_coco(path: &std::path::Path) -> bool {
    let Ok((file, _)) = crate::safe_read::open_limited(path, u64::MAX) else {
        return false;
    };
    let mut head = Vec::new();
    if file.take(64 << 10).read_to_end(&mut head).is_err() {
        return false;
    }
    let has = |k: &[u8]| memchr::memmem::find(&head, k).is_some();
    has(b"\"images\"") && has(b"\"file_name\"")
}

#[derive(Debug)]
pub struct CocoFiles {
    pub files: Vec<AnnotationFile>,
}

impl Layout for CocoFiles {
    fn name(&self) -> &'static str {
        "coco (images + COCO annotation JSON)"
    }

    fn is_image(&self) -> bool {
        true
    }

    fn load(&self, spec: &DatasetSpec, quiet: bool, files: Option<&dyn Recall>) -> Result<Loaded> {
        crate::load::coco::load(spec, &self.files, quiet, files)
    }

    fn empty(&self) -> &'static str {
        "the annotation files list no images"
    }

    fn inputs(&self) -> Vec<PathBuf> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }

    fn writer(&self) -> Writer<'_> {
        Writer::Detection(super::DetectionFormat::Coco)
    }

    fn declares_classes_as(&self) -> &'static str {
        "COCO category"
    }
}
