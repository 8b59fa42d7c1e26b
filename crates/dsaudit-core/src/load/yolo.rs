//! Loading YOLO: every image is a sample; its boxes are in the `.txt` file at the same
//! path with the last `images` folder read as `labels` (`images/train/a.jpg` →
//! `labels/train/a.txt`), or beside it when no folder is named `images`. A line is
//! `class cx cy w h`, normalised to the image's size, or a polygon
//! `class x1 y1 x2 y2 …` (segmentation labels), read as the box around it.

use super::detection::{Annotation, Detection, Problem, ProblemKind};
use super::image_folder::{describe_all, Job};
use super::{DatasetSpec, Loaded, Recall};
use crate::discover::IMAGE_EXTS;
use anyhow::Result;
use rayon::prelude::*;
use std::collections::HashSet;

/// A label file's size limit: a million lines of boxes is far past any real image.
const MAX_LABEL_FILE: u64 = 64 << 20;

/// The labels file of an image (relative names).
pub fn labels_of(image_rel: &str) -> String {
    let parts: Vec<&str> = image_rel.split('/').collect();
    let dirs = &parts[..parts.len() - 1];
    let renamed: Vec<&str> = match dirs.iter().rposition(|d| *d == "images") {
        Some(i) => dirs
            .iter()
            .enumerate()
            .map(|(j, d)| if j == i { "labels" } else { *d })
            .collect(),
        None => dirs.to_vec(),
    };
    let name = parts[parts.len() - 1];
    let mut rel = renamed.join("/");
    if !rel.is_empty() {
        rel.push('/');
    }
    super::detection::with_ext(&format!("{rel}{name}"), "txt")
}

/// A `.txt` file that holds boxes: under a `labels` folder, not a class list.
pub fn is_label_file(rel: &str) -> bool {
    // The name ends as the path does; asked first, it spares the search for the
    // last `/` in the paths of every image of the walk.
    if !rel.ends_with(".txt") {
        return false;
    }
    let mut parts = rel.split('/').rev();
    let name = parts.next().unwrap_or("");
    name != "classes.txt" && parts.any(|d| d == "labels")
}

pub fn load(
    spec: &DatasetSpec,
    names: Option<&[String]>,
    quiet: bool,
    files: Option<&dyn Recall>,
) -> Result<Loaded> {
    let mut jobs = Vec::new();
    let mut ignored = Vec::new();
    let mut label_files: HashSet<&str> = HashSet::new();
    for f in &spec.walked.files {
        if f.ext_in(IMAGE_EXTS) {
            jobs.push(Job {
                path: &f.path,
                source: f.rel.clone(),
                split: super::detection::split_of_folders(&f.rel),
                label: None,
                row: None,
                outside: false,
            });
        } else if f.rel.ends_with(".txt") {
            label_files.insert(f.rel.as_str());
        } else {
            ignored.push(f.rel.clone());
        }
    }
    let samples = describe_all(jobs, quiet, files);
    let classes = names.map(<[String]>::to_vec).unwrap_or_default();
    let mut detection = Detection {
        category_ids: (0..classes.len()).map(|i| i.to_string()).collect(),
        classes,
        ..Default::default()
    };
    let index = super::detection::FileIndex::new(&spec.walked.files);
    let label_rels: Vec<String> = samples.iter().map(|s| labels_of(&s.source)).collect();
    let per_image: Vec<(Vec<Annotation>, Vec<Problem>)> = samples
        .par_iter()
        .zip(&label_rels)
        .enumerate()
        .map(|(i, (s, rel))| match index.get(rel) {
            Some(path) => read_labels(path, rel, i, s, names),
            None => Default::default(),
        })
        .collect();
    for (boxes, problems) in per_image {
        detection.boxes.extend(boxes);
        detection.problems.extend(problems);
    }
    let used: HashSet<&str> = label_rels.iter().map(String::as_str).collect();
    let mut orphans: Vec<&str> = label_files
        .into_iter()
        .filter(|rel| !used.contains(*rel))
        .collect();
    orphans.sort_unstable();
    for rel in orphans {
        if is_label_file(rel) {
            let what = "a label file with no image".to_string();
            detection.problem(ProblemKind::LabelsWithoutImage, rel.to_string(), what, None);
        } else {
            ignored.push(rel.to_string());
        }
    }
    let mut loaded = Loaded::from_images(&samples)?;
    loaded.ignored_files = ignored;
    loaded.detection = Some(detection);
    Ok(loaded)
}

/// The boxes of one image's label file, and its lines that are not boxes.
fn read_labels(
    path: &std::path::Path,
    rel: &str,
    sample: usize,
    image: &crate::manifest::ImageSample,
    names: Option<&[String]>,
) -> (Vec<Annotation>, Vec<Problem>) {
    let problem = |at: String, what: String| Problem {
        kind: ProblemKind::Malformed,
        at,
        what,
        sample: Some(sample),
    };
    let bytes = match crate::safe_read::read_limited(path, MAX_LABEL_FILE) {
        Ok(b) => b,
        Err(e) => return (Vec::new(), vec![problem(rel.to_string(), e.to_string())]),
    };
    let size = image
        .info
        .width
        .zip(image.info.height)
        .map(|(w, h)| (w as f64, h as f64));
    let mut boxes = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
        let at = format!("{rel}:{}", n + 1);
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok((class, b)) => boxes.push(Annotation {
                sample,
                class: match names {
                    Some(names) => class
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| names.get(i).cloned()),
                    None => Some(class.clone()),
                },
                category: class,
                rect: size.map(|(w, h)| {
                    [
                        (b[0] - b[2] / 2.0) * w,
                        (b[1] - b[3] / 2.0) * h,
                        b[2] * w,
                        b[3] * h,
                    ]
                }),
                image_size: size,
                crowd: false,
                normalized: Some(b),
                at,
            }),
            Err(why) => problems.push(problem(at, why)),
        }
    }
    (boxes, problems)
}

/// One line: its class id and the box `cx cy w h`.
fn parse_line(line: &str) -> Result<(String, [f64; 4]), String> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let numbers: Vec<f64> = tokens
        .iter()
        .map(|t| t.parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("not all numbers: '{}'", line.trim()))?;
    let coords = &numbers[1..];
    let polygon = coords.len() >= 6 && coords.len().is_multiple_of(2);
    if coords.len() != 4 && !polygon {
        return Err(format!(
            "{} numbers: a box is 5 (class cx cy w h), a polygon is a class and 3 or more x y pairs",
            numbers.len()
        ));
    }
    let class = numbers[0];
    if class < 0.0 || class.fract() != 0.0 {
        return Err(format!(
            "class id '{}' is not a whole number ≥ 0",
            tokens[0]
        ));
    }
    let class = (class as u64).to_string();
    match coords.len() {
        4 => Ok((class, [coords[0], coords[1], coords[2], coords[3]])),
        _ => {
            let (xs, ys): (Vec<f64>, Vec<f64>) = coords.chunks(2).map(|p| (p[0], p[1])).unzip();
            let span = |v: &[f64]| {
                let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (lo, hi)
            };
            let ((x0, x1), (y0, y1)) = (span(&xs), span(&ys));
            Ok((class, [(x0 + x1) / 2.0, (y0 + y1) / 2.0, x1 - x0, y1 - y0]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_paths_replace_the_last_images_folder() {
        assert_eq!(labels_of("images/train/a.jpg"), "labels/train/a.txt");
        assert_eq!(labels_of("train/images/a.b.png"), "train/labels/a.b.txt");
        assert_eq!(labels_of("images/x/images/a.jpg"), "images/x/labels/a.txt");
        assert_eq!(labels_of("obj/a.jpg"), "obj/a.txt");
        assert_eq!(labels_of("a.jpg"), "a.txt");
    }

    #[test]
    fn lines_are_boxes_or_polygons() {
        assert_eq!(
            parse_line("3 0.5 0.5 0.2 0.4").unwrap(),
            ("3".into(), [0.5, 0.5, 0.2, 0.4])
        );
        let (c, b) = parse_line("1 0.1 0.2 0.3 0.2 0.2 0.6").unwrap();
        assert_eq!(c, "1");
        assert!((b[0] - 0.2).abs() < 1e-12 && (b[2] - 0.2).abs() < 1e-12);
        assert!((b[1] - 0.4).abs() < 1e-12 && (b[3] - 0.4).abs() < 1e-12);
        assert!(parse_line("3 0.5 0.5 0.2")
            .unwrap_err()
            .starts_with("4 numbers"));
        assert!(parse_line("-1 0.5 0.5 0.2 0.2").is_err());
        assert!(parse_line("1.5 0.5 0.5 0.2 0.2").is_err());
        assert!(parse_line("a 0.5 0.5 0.2 0.2").is_err());
        assert!(parse_line("1 nan 0.5 0.2 0.2").is_err());
    }
}
