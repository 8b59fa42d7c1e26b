//! Loading COCO: each annotation file (`annotations/instances_<split>.json`) lists its
//! split's images, boxes and categories. The images it lists are the samples, found
//! under the dataset root (`file_name` as written, or in the usual image folders);
//! each box is kept with the annotation id that names it.

use super::detection::{Annotation, Detection, FileIndex, ProblemKind};
use super::image_folder::{describe_all, Job};
use super::{DatasetSpec, Loaded, Recall};
use anyhow::Result;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One annotation file, with the split its name or folder gives.
#[derive(Debug, Clone)]
pub struct AnnotationFile {
    pub path: PathBuf,
    pub rel: String,
    pub split: Option<String>,
}

/// The fields dsaudit reads; the rest (segmentations, captions, licences) is skipped
/// as it is parsed, so memory holds only these.
#[derive(Deserialize)]
struct CocoFile {
    #[serde(default)]
    images: Vec<CocoImage>,
    #[serde(default)]
    annotations: Vec<CocoAnnotation>,
    #[serde(default)]
    categories: Vec<CocoCategory>,
}

#[derive(Deserialize)]
struct CocoImage {
    id: Option<Value>,
    file_name: Option<Value>,
    width: Option<Value>,
    height: Option<Value>,
}

#[derive(Deserialize)]
struct CocoAnnotation {
    id: Option<Value>,
    image_id: Option<Value>,
    category_id: Option<Value>,
    bbox: Option<Value>,
    iscrowd: Option<Value>,
}

#[derive(Deserialize)]
struct CocoCategory {
    id: Option<Value>,
    name: Option<Value>,
}

/// An id as written: COCO's are integers, some exports use strings.
fn key(v: &Option<Value>) -> Option<String> {
    match v.as_ref()? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn number(v: &Option<Value>) -> Option<f64> {
    v.as_ref()?.as_f64().filter(|x| x.is_finite())
}

/// What one file's images became: for each image id, its sample and declared size.
struct Listed {
    sample: usize,
    size: Option<(f64, f64)>,
}

/// An image a file lists, before it is described.
struct Listing {
    source: String,
    path: PathBuf,
    split: Option<String>,
    outside: bool,
}

pub fn load(
    spec: &DatasetSpec,
    files: &[AnnotationFile],
    quiet: bool,
    recall: Option<&dyn Recall>,
) -> Result<Loaded> {
    let index = FileIndex::new(&spec.walked.files);
    let mut detection = Detection::default();
    let mut listings: Vec<Listing> = Vec::new();
    // (file, its parsed content, its image ids → listing).
    let mut parsed: Vec<(&AnnotationFile, CocoFile, HashMap<String, Listed>)> = Vec::new();
    for file in files {
        let coco = match read(&file.path) {
            Ok(c) => c,
            Err(why) => {
                detection.problem(ProblemKind::Malformed, file.rel.clone(), why, None);
                continue;
            }
        };
        let listed = list_images(spec, &index, file, &coco, &mut listings, &mut detection);
        parsed.push((file, coco, listed));
    }
    // With no image to scan, a file that could not be read is the dataset's error
    // (a finding in an empty report would never be printed).
    if listings.is_empty() {
        if let Some(p) = files
            .iter()
            .find_map(|f| detection.problems.iter().find(|p| p.at == f.rel))
        {
            anyhow::bail!(
                "{}: cannot read: {}",
                spec.root.join(&p.at).display(),
                p.what
            );
        }
    }
    let jobs = listings
        .iter()
        .map(|l| Job {
            path: &l.path,
            source: l.source.clone(),
            split: l.split.clone(),
            label: None,
            row: None,
            outside: l.outside,
        })
        .collect();
    let samples = describe_all(jobs, quiet, recall);
    let mut classes: Vec<(String, String)> = Vec::new();
    for (file, coco, listed) in &parsed {
        let names = category_names(coco, &mut classes);
        let mut ids: HashMap<String, usize> = HashMap::new();
        for (i, a) in coco.annotations.iter().enumerate() {
            let at = match key(&a.id) {
                Some(id) => format!("{}: annotation {id}", file.rel),
                None => format!("{}: annotation #{i}", file.rel),
            };
            if let Some(id) = key(&a.id) {
                if let Some(first) = ids.insert(id.clone(), i) {
                    // pycocotools indexes annotations by id: the earlier one is lost.
                    let what = format!("id {id} is also annotation #{first}'s: loaders that index by id keep only one of them");
                    detection.problem(ProblemKind::Malformed, at.clone(), what, None);
                }
            }
            add_box(a, at, listed, &names, &samples, &mut detection);
        }
    }
    (detection.category_ids, detection.classes) = classes.into_iter().unzip();
    let pairs: Vec<(String, Option<String>)> =
        listings.into_iter().map(|l| (l.source, l.split)).collect();
    detection.find_shared(&pairs);
    let mut loaded = Loaded::from_images(&samples)?;
    loaded.declared_splits = files.iter().filter_map(|f| f.split.clone()).collect();
    loaded.declared_splits.dedup();
    loaded.detection = Some(detection);
    Ok(loaded)
}

fn read(path: &Path) -> Result<CocoFile, String> {
    let (file, _) = crate::safe_read::open_limited(path, u64::MAX).map_err(|e| e.to_string())?;
    serde_json::from_reader(std::io::BufReader::new(file))
        .map_err(|e| format!("not COCO JSON: {e}"))
}

/// Adds a job per image the file lists; returns the file's image ids.
fn list_images(
    spec: &DatasetSpec,
    index: &FileIndex<'_>,
    file: &AnnotationFile,
    coco: &CocoFile,
    listings: &mut Vec<Listing>,
    detection: &mut Detection,
) -> HashMap<String, Listed> {
    // Where this file's images usually are: `train2017/` for instances_train2017.json,
    // `images/`, the annotation file's own folder.
    let stem = file.rel.rsplit('/').next().unwrap_or(&file.rel);
    let stem = stem.split_once('.').map_or(stem, |(s, _)| s);
    let set = stem.rsplit_once('_').map_or(stem, |(_, s)| s).to_string();
    let own = file.rel.rsplit_once('/').map(|(d, _)| d.to_string());
    let mut folders = vec![set.clone(), "images".into(), format!("images/{set}")];
    folders.extend(
        file.split
            .iter()
            .flat_map(|s| [s.clone(), format!("images/{s}")]),
    );
    folders.extend(own);
    let mut listed = HashMap::new();
    for (i, img) in coco.images.iter().enumerate() {
        let name = match &img.file_name {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                let what = "image entry without a file_name".to_string();
                let at = format!("{}: image #{i}", file.rel);
                detection.problem(ProblemKind::Malformed, at, what, None);
                continue;
            }
        };
        // A name not found under the root is described as missing, unless it points
        // outside the root, which is not read.
        let (source, path, outside) = match index.find(&name, &folders) {
            Some((rel, path)) => (rel, path.to_path_buf(), false),
            None => {
                let outside = name.starts_with('/') || name.split('/').any(|p| p == "..");
                (name.clone(), spec.root.join(&name), outside)
            }
        };
        let size = number(&img.width).zip(number(&img.height));
        let at = format!("{}: image #{i} ({name})", file.rel);
        match key(&img.id) {
            Some(id) => match listed.entry(id) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(Listed {
                        sample: listings.len(),
                        size,
                    });
                }
                // Boxes name images by id: a repeated id gives one image the boxes of
                // both (the first keeps them here; pycocotools gives them the last).
                std::collections::hash_map::Entry::Occupied(o) => {
                    let what = format!(
                        "image id {} is also {}'s: its boxes cannot be told apart",
                        o.key(),
                        listings[o.get().sample].source
                    );
                    detection.problem(ProblemKind::Malformed, at, what, None);
                }
            },
            None => {
                let what = "image entry without an id: no box can name it".to_string();
                detection.problem(ProblemKind::Malformed, at, what, None);
            }
        }
        listings.push(Listing {
            path,
            source,
            split: file.split.clone(),
            outside,
        });
    }
    listed
}

/// The file's category names by id; adds its categories to `classes` (id, name) in
/// the order first seen.
fn category_names(coco: &CocoFile, classes: &mut Vec<(String, String)>) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for c in &coco.categories {
        let Some(id) = key(&c.id) else { continue };
        let name = match &c.name {
            Some(Value::String(s)) => s.clone(),
            _ => id.clone(),
        };
        if !classes.iter().any(|(_, n)| *n == name) {
            classes.push((id.clone(), name.clone()));
        }
        names.insert(id, name);
    }
    names
}

fn add_box(
    a: &CocoAnnotation,
    at: String,
    listed: &HashMap<String, Listed>,
    names: &HashMap<String, String>,
    samples: &[crate::manifest::ImageSample],
    detection: &mut Detection,
) {
    let Some(image) = key(&a.image_id) else {
        detection.problem(ProblemKind::Malformed, at, "no image_id".into(), None);
        return;
    };
    let Some(l) = listed.get(&image) else {
        let what = format!("names image id {image}, which the file does not list");
        detection.problem(ProblemKind::UnknownImage, at, what, None);
        return;
    };
    let bbox = match &a.bbox {
        Some(Value::Array(v)) if v.len() == 4 => v
            .iter()
            .map(|x| x.as_f64().filter(|x| x.is_finite()))
            .collect::<Option<Vec<f64>>>(),
        _ => None,
    };
    let Some(b) = bbox else {
        let what = "bbox is not four numbers [x, y, width, height]".to_string();
        detection.problem(ProblemKind::Malformed, at, what, Some(l.sample));
        return;
    };
    let Some(category) = key(&a.category_id) else {
        let what = "no category_id".to_string();
        detection.problem(ProblemKind::Malformed, at, what, Some(l.sample));
        return;
    };
    // Boxes are judged against the pixels the image has, else the size declared.
    let info = &samples[l.sample].info;
    let size = info
        .width
        .zip(info.height)
        .map(|(w, h)| (w as f64, h as f64))
        .or(l.size);
    detection.boxes.push(Annotation {
        sample: l.sample,
        class: names.get(&category).cloned(),
        category,
        rect: Some([b[0], b[1], b[2], b[3]]),
        crowd: matches!(&a.iscrowd, Some(Value::Number(n)) if n.as_f64() == Some(1.0))
            || matches!(&a.iscrowd, Some(Value::Bool(true))),
        image_size: size,
        normalized: None,
        at,
    });
}
