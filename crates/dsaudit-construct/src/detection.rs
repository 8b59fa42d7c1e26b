//! Writing a detection dataset again, in the format it was read in: each output image
//! linked or copied with every one of its boxes, so a split never separates an image
//! from its boxes. COCO: `OUT/<split>/<file>` plus `OUT/annotations/instances_<split>.json`;
//! YOLO: `OUT/images/<split>/<file>`, `OUT/labels/<split>/<stem>.txt` and `OUT/data.yaml`.
//! Lines and entries that were not boxes (finding A005) are not carried over.

use super::images::{free_name, link, source_base, Mode};
use super::{Plan, Samples};
use anyhow::{Context, Result};
use dsaudit_core::load::detection::{Annotation, Detection};
use dsaudit_core::load::format::DetectionFormat;
use rayon::prelude::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// One output image: its split folder, its name there, and its input row.
struct Placed {
    split: String,
    name: String,
    src: usize,
}

/// Writes the output rows (`order` indexes `plan.rows`) under `dir`; returns each
/// row's image path relative to `dir` (None for dropped rows) and the files written.
pub fn write(
    s: &Samples,
    plan: &Plan,
    order: &[usize],
    mode: Mode,
    dir: &Path,
    format: DetectionFormat,
) -> Result<(Vec<Option<String>>, Vec<String>)> {
    let d = s
        .loaded
        .detection
        .as_ref()
        .context("a detection layout without boxes")?;
    let sources = s.loaded.manifest.strs("source");
    let base = source_base(s)?;
    let images_root = match format {
        DetectionFormat::Coco => PathBuf::new(),
        DetectionFormat::Yolo => PathBuf::from("images"),
    };
    let mut taken: HashSet<PathBuf> = HashSet::new();
    let mut rel = vec![None; plan.rows.len()];
    let mut placed: Vec<Placed> = Vec::new();
    let mut jobs: Vec<(PathBuf, PathBuf)> = Vec::new();
    for &k in order {
        let r = &plan.rows[k];
        if !r.action.is_output() {
            continue;
        }
        let split = r
            .split
            .map_or("all".to_string(), |sp| plan.splits[sp as usize].clone());
        let source = sources.get(r.src as usize).unwrap_or("");
        let folder = images_root.join(&split);
        let name = free_name(source, r.src, r.copy, |n| taken.contains(&folder.join(n)))
            .with_context(|| format!("{source}: no free file name in {}", folder.display()))?;
        let path = folder.join(&name);
        taken.insert(path.clone());
        rel[k] = Some(path.to_string_lossy().into_owned());
        jobs.push((base.join(source), dir.join(&path)));
        placed.push(Placed {
            split,
            name,
            src: r.src as usize,
        });
    }
    let mut folders: Vec<PathBuf> = jobs
        .iter()
        .filter_map(|(_, to)| to.parent().map(Path::to_path_buf))
        .collect();
    folders.sort();
    folders.dedup();
    for f in &folders {
        std::fs::create_dir_all(f).with_context(|| format!("{}: cannot create", f.display()))?;
    }
    jobs.par_iter()
        .try_for_each(|(from, to)| link(from, to, mode))?;
    let boxes = boxes_by_sample(d, s.loaded.manifest.len());
    let files = match format {
        DetectionFormat::Coco => write_coco(d, &boxes, &placed, s, dir)?,
        DetectionFormat::Yolo => write_yolo(d, &boxes, &placed, dir)?,
    };
    Ok((rel, files))
}

fn boxes_by_sample(d: &Detection, rows: usize) -> Vec<Vec<&Annotation>> {
    let mut out: Vec<Vec<&Annotation>> = vec![Vec::new(); rows];
    for b in &d.boxes {
        if let Some(v) = out.get_mut(b.sample) {
            v.push(b);
        }
    }
    out
}

/// COCO's ids are integers; an id written as text stays text.
fn id_value(id: &str) -> Value {
    id.parse::<i64>().map_or_else(|_| json!(id), |n| json!(n))
}

fn write_coco(
    d: &Detection,
    boxes: &[Vec<&Annotation>],
    placed: &[Placed],
    s: &Samples,
    dir: &Path,
) -> Result<Vec<String>> {
    let (widths, heights) = (
        s.loaded.manifest.u32s("width"),
        s.loaded.manifest.u32s("height"),
    );
    let categories: Vec<Value> = d
        .category_ids
        .iter()
        .zip(&d.classes)
        .map(|(id, name)| json!({"id": id_value(id), "name": name}))
        .collect();
    let mut by_split: BTreeMap<&str, (Vec<Value>, Vec<Value>)> = BTreeMap::new();
    let mut next_box = 1u64;
    for p in placed {
        let (images, annotations) = by_split.entry(&p.split).or_default();
        let image_id = images.len() as u64 + 1;
        images.push(json!({
            "id": image_id,
            "file_name": p.name,
            "width": widths.get(p.src),
            "height": heights.get(p.src),
        }));
        for b in &boxes[p.src] {
            let Some([x, y, w, h]) = b.rect else { continue };
            annotations.push(json!({
                "id": next_box,
                "image_id": image_id,
                "category_id": id_value(&b.category),
                "bbox": [x, y, w, h],
                "area": w * h,
                "iscrowd": b.crowd as u8,
            }));
            next_box += 1;
        }
    }
    std::fs::create_dir_all(dir.join("annotations"))?;
    let mut files = Vec::new();
    for (split, (images, annotations)) in by_split {
        let name = format!("annotations/instances_{split}.json");
        let doc = json!({
            "info": {"description": "written by dsaudit; boxes as the input's annotations gave them"},
            "images": images,
            "annotations": annotations,
            "categories": categories,
        });
        std::fs::write(dir.join(&name), serde_json::to_vec(&doc)?)
            .with_context(|| format!("{name}: cannot write"))?;
        files.push(name);
    }
    Ok(files)
}

fn write_yolo(
    d: &Detection,
    boxes: &[Vec<&Annotation>],
    placed: &[Placed],
    dir: &Path,
) -> Result<Vec<String>> {
    let mut splits: Vec<&str> = Vec::new();
    let lines: Vec<(PathBuf, String)> = placed
        .iter()
        .map(|p| {
            let stem = Path::new(&p.name)
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy();
            let path = Path::new("labels")
                .join(&p.split)
                .join(format!("{stem}.txt"));
            let text: String = boxes[p.src]
                .iter()
                .filter_map(|b| {
                    let [cx, cy, w, h] = b.normalized?;
                    Some(format!("{} {cx} {cy} {w} {h}\n", b.category))
                })
                .collect();
            (path, text)
        })
        .collect();
    for p in placed {
        if !splits.contains(&p.split.as_str()) {
            splits.push(&p.split);
            std::fs::create_dir_all(dir.join("labels").join(&p.split))?;
        }
    }
    lines.par_iter().try_for_each(|(path, text)| {
        std::fs::write(dir.join(path), text)
            .with_context(|| format!("{}: cannot write", path.display()))
    })?;
    let mut yaml = String::from("# written by dsaudit\npath: .\n");
    for split in &splits {
        yaml.push_str(&format!("{split}: images/{split}\n"));
    }
    if !d.classes.is_empty() {
        yaml.push_str("names:\n");
        for (i, name) in d.classes.iter().enumerate() {
            yaml.push_str(&format!("  {i}: {}\n", yaml_string(name)));
        }
    }
    std::fs::write(dir.join("data.yaml"), yaml)?;
    let mut files: Vec<String> = splits.iter().map(|s| format!("labels/{s}/")).collect();
    files.push("data.yaml".into());
    Ok(files)
}

/// A class name as a YAML scalar: quoted, so `yes`, `1.0` or `a: b` stay text.
fn yaml_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
