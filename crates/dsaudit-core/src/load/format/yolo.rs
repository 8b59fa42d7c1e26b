//! YOLO: images under an `images` folder with their boxes in `.txt` files under the
//! matching `labels` folder (`images/train/a.jpg` + `labels/train/a.txt`, or
//! `train/images` + `train/labels`), class names from `data.yaml` (or `classes.txt`).
//! The split is the folders' name.

use super::{Found, Layout, Writer};
use crate::discover::{Survey, IMAGE_EXTS};
use crate::load::{DatasetSpec, Loaded, Recall};
use anyhow::{bail, Result};
use std::path::PathBuf;

pub struct Yolo;

impl super::Format for Yolo {
    fn find(
        &self,
        survey: &Survey,
        named: bool,
        guesses: &mut Vec<String>,
    ) -> Result<Option<Found>> {
        if !super::directory_layout(survey, named, "yolo")? {
            return Ok(None);
        }
        let files = &survey.walked.files;
        // Label files first: a name's ending settles it, where an images/ folder is
        // looked for in every folder of every path (a fifteenth of a part's fixed
        // cost on 100,000 images, which have no labels/).
        let labels = files
            .iter()
            .any(|f| crate::load::yolo::is_label_file(&f.rel));
        let images_folder = labels
            && files
                .iter()
                .any(|f| f.ext_in(IMAGE_EXTS) && f.rel.split('/').any(|d| d == "images"));
        if !(images_folder && labels) {
            if named {
                bail!(
                    "{}: --layout yolo needs images under an images/ folder and their .txt boxes under labels/",
                    survey.input.display()
                );
            }
            return Ok(None);
        }
        let (names, from) = class_names(survey)?;
        guesses.push(match &from {
            Some(f) => format!("layout: YOLO (images/ + labels/), class names from {f}"),
            None => "layout: YOLO (images/ + labels/); no data.yaml or classes.txt, so classes are the ids".into(),
        });
        Ok(Some(Found::Layout(Box::new(YoloFiles { names, from }))))
    }
}

/// The class names: a top-level YAML with `names` (Ultralytics' data.yaml), else a
/// `classes.txt` at the top or in labels/ (one name per line), else none. A data.yaml
/// that does not parse is an error naming it.
fn class_names(survey: &Survey) -> Result<(Option<Vec<String>>, Option<String>)> {
    let top = |f: &&crate::walk::WalkedFile| !f.rel.contains('/');
    let mut yamls: Vec<&crate::walk::WalkedFile> = survey
        .walked
        .files
        .iter()
        .filter(top)
        .filter(|f| f.ext_in(&["yaml", "yml"]))
        .collect();
    yamls.sort_by_key(|f| f.rel != "data.yaml");
    for f in yamls {
        let doc = crate::load::detection::read_yaml(&f.path)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", f.path.display()))?;
        if doc["names"].is_badvalue() {
            continue;
        }
        let names = crate::load::detection::yaml_names(&doc["names"]).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: `names` is neither a list of class names nor a map from id to name",
                f.path.display()
            )
        })?;
        return Ok((Some(names), Some(f.rel.clone())));
    }
    let list = survey
        .walked
        .files
        .iter()
        .find(|f| f.rel == "classes.txt" || f.rel == "labels/classes.txt");
    if let Some(f) = list {
        let bytes = crate::safe_read::read_limited(&f.path, 1 << 20)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", f.path.display()))?;
        let names = String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        return Ok((Some(names), Some(f.rel.clone())));
    }
    Ok((None, None))
}

#[derive(Debug)]
pub struct YoloFiles {
    pub names: Option<Vec<String>>,
    /// The file the names come from.
    pub from: Option<String>,
}

impl Layout for YoloFiles {
    fn name(&self) -> &'static str {
        "yolo (images/ + labels/*.txt)"
    }

    fn is_image(&self) -> bool {
        true
    }

    fn load(&self, spec: &DatasetSpec, quiet: bool, files: Option<&dyn Recall>) -> Result<Loaded> {
        crate::load::yolo::load(spec, self.names.as_deref(), quiet, files)
    }

    fn empty(&self) -> &'static str {
        "no images under the images/ folders"
    }

    fn inputs(&self) -> Vec<PathBuf> {
        // The label files change with the images; `check` fingerprints every file of
        // an image layout's walk (see cache::Files), the data.yaml among them.
        Vec::new()
    }

    fn writer(&self) -> Writer<'_> {
        Writer::Detection(super::DetectionFormat::Yolo)
    }

    fn declares_classes_as(&self) -> &'static str {
        "data.yaml name"
    }
}
