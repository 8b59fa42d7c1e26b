//! Object-detection labels (COCO, YOLO): the boxes of each image and the problems of
//! the annotation files that are not boxes. The images are samples as in any image
//! layout, with no label of their own (an image holds boxes of several classes); the
//! box rules (`rules/annotations`) read what is here.

use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct Detection {
    /// The classes the annotations declare (COCO's categories, YOLO's `names`), in id
    /// order; empty when nothing declares them (YOLO without a data.yaml).
    pub classes: Vec<String>,
    /// The id each of `classes` has in the annotations (COCO's `id`, YOLO's index).
    pub category_ids: Vec<String>,
    pub boxes: Vec<Annotation>,
    pub problems: Vec<Problem>,
    /// Images that the annotation files of two splits both list.
    pub shared: Vec<SharedImage>,
}

/// The stratum of images without boxes.
pub const BACKGROUND: &str = "(background)";
/// The stratum of boxes whose category is declared nowhere.
const UNKNOWN: &str = "(unknown category)";

/// One box.
#[derive(Debug, Clone)]
pub struct Annotation {
    /// The image's manifest row.
    pub sample: usize,
    /// The class name; None when the category id is declared nowhere.
    pub class: Option<String>,
    /// The category id as written.
    pub category: String,
    /// x, y, width, height in the image's pixels; None when the image's size is not
    /// known (a YOLO box of an unreadable image).
    pub rect: Option<[f64; 4]>,
    /// COCO's `iscrowd`: a region over a group of objects, not one object.
    pub crowd: bool,
    /// The image's width and height: its pixels', else the annotation's declared size.
    pub image_size: Option<(f64, f64)>,
    /// YOLO's normalised `cx cy w h`, as written.
    pub normalized: Option<[f64; 4]>,
    /// Where it is written: `annotations/instances_val.json: annotation 17`,
    /// `labels/val/0001.txt:3`.
    pub at: String,
}

impl Annotation {
    pub fn area(&self) -> Option<f64> {
        self.rect.map(|[_, _, w, h]| w * h)
    }

    /// YOLO's normalised coordinates when one lies outside [0, 1].
    pub fn out_of_range(&self) -> Option<[f64; 4]> {
        self.normalized
            .filter(|v| v.iter().any(|x| !(0.0..=1.0).contains(x)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A line or entry that cannot be read as a box (A005).
    Malformed,
    /// A COCO annotation naming an image id its file does not list (A005).
    UnknownImage,
    /// A YOLO label file with no image beside it (A007).
    LabelsWithoutImage,
}

#[derive(Debug, Clone)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The file, and the line or annotation.
    pub at: String,
    pub what: String,
    /// The image the problem belongs to, when there is one.
    pub sample: Option<usize>,
}

/// An image that more than one split's annotations list.
#[derive(Debug, Clone)]
pub struct SharedImage {
    pub source: String,
    pub splits: Vec<String>,
    /// Its manifest rows, one per listing.
    pub samples: Vec<usize>,
}

impl Detection {
    pub fn problem(&mut self, kind: ProblemKind, at: String, what: String, sample: Option<usize>) {
        self.problems.push(Problem {
            kind,
            at,
            what,
            sample,
        });
    }

    /// The number of boxes of each manifest row (`rows` rows).
    pub fn boxes_per_sample(&self, rows: usize) -> Vec<u32> {
        let mut n = vec![0u32; rows];
        for b in &self.boxes {
            if let Some(c) = n.get_mut(b.sample) {
                *c += 1;
            }
        }
        n
    }

    /// Each manifest row's class for stratifying a build: the rarest (fewest boxes in
    /// the whole dataset) of the classes its boxes have, `(background)` for an image
    /// without boxes, so that every class reaches every split it can.
    pub fn strata(&self, rows: usize) -> Vec<String> {
        let mut total: HashMap<&str, u64> = HashMap::new();
        for b in &self.boxes {
            *total
                .entry(b.class.as_deref().unwrap_or(UNKNOWN))
                .or_default() += 1;
        }
        let mut out = vec![BACKGROUND.to_string(); rows];
        let mut best: Vec<Option<(u64, &str)>> = vec![None; rows];
        for b in &self.boxes {
            let class = b.class.as_deref().unwrap_or(UNKNOWN);
            let key = (total[class], class);
            if let Some(slot) = best.get_mut(b.sample) {
                if slot.is_none_or(|k| key < k) {
                    *slot = Some(key);
                }
            }
        }
        for (o, b) in out.iter_mut().zip(best) {
            if let Some((_, class)) = b {
                *o = class.to_string();
            }
        }
        out
    }

    /// The images two splits list (one file, one sample per listing): from each
    /// sample's source and split.
    pub fn find_shared(&mut self, listings: &[(String, Option<String>)]) {
        let mut by_source: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, (source, _)) in listings.iter().enumerate() {
            by_source.entry(source).or_default().push(i);
        }
        let mut shared: Vec<SharedImage> = by_source
            .into_iter()
            .filter_map(|(source, rows)| {
                let mut splits: Vec<String> =
                    rows.iter().filter_map(|&r| listings[r].1.clone()).collect();
                splits.sort_by_key(|s| crate::util::split_order(s));
                splits.dedup();
                (splits.len() > 1).then(|| SharedImage {
                    source: source.to_string(),
                    splits,
                    samples: rows,
                })
            })
            .collect();
        shared.sort_by_key(|s| s.samples[0]);
        self.shared = shared;
    }
}

/// The files of a walk by relative name and by file name, to find the image an
/// annotation names.
pub struct FileIndex<'a> {
    by_rel: HashMap<&'a str, &'a Path>,
    by_name: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> FileIndex<'a> {
    pub fn new(files: &'a [crate::walk::WalkedFile]) -> FileIndex<'a> {
        let mut by_rel = HashMap::new();
        let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
        for f in files {
            by_rel.insert(f.rel.as_str(), f.path.as_path());
            let name = f.rel.rsplit('/').next().unwrap_or(&f.rel);
            by_name.entry(name).or_default().push(f.rel.as_str());
        }
        FileIndex { by_rel, by_name }
    }

    pub fn get(&self, rel: &str) -> Option<&'a Path> {
        self.by_rel.get(rel).copied()
    }

    /// The image a COCO `file_name` names: tried as written, then in the folders
    /// images usually sit in (`<set>/`, `images/`, `images/<set>/`, the annotation
    /// file's own folder), then as the only file of that name. None when absent.
    pub fn find(&self, name: &str, folders: &[String]) -> Option<(String, &'a Path)> {
        let name = name.trim_start_matches("./");
        let mut tries = vec![name.to_string()];
        tries.extend(
            folders
                .iter()
                .filter(|f| !f.is_empty())
                .map(|f| format!("{f}/{name}")),
        );
        if let Some(rel) = tries.iter().find(|t| self.by_rel.contains_key(t.as_str())) {
            return Some((rel.clone(), self.by_rel[rel.as_str()]));
        }
        let base = name.rsplit('/').next().unwrap_or(name);
        match self.by_name.get(base).map(Vec::as_slice) {
            Some([only]) => Some((only.to_string(), self.by_rel[only])),
            _ => None,
        }
    }
}

/// Class names from a YAML `names` entry: a list (`[cat, dog]`, or one per line) or
/// a map from id to name (`{0: cat, 1: dog}`), in id order.
pub fn yaml_names(names: &yaml_rust2::Yaml) -> Option<Vec<String>> {
    use yaml_rust2::Yaml;
    let scalar = |y: &Yaml| match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    };
    if let Some(list) = names.as_vec() {
        return list.iter().map(scalar).collect();
    }
    let map = names.as_hash()?;
    let mut pairs: Vec<(i64, String)> = map
        .iter()
        .map(|(k, v)| {
            // The Hub's cards quote the ids: `'0': cat`.
            let id = k.as_i64().or_else(|| k.as_str()?.trim().parse().ok())?;
            Some((id, scalar(v)?))
        })
        .collect::<Option<_>>()?;
    pairs.sort_by_key(|(k, _)| *k);
    // Ids are 0..n; a gap leaves a numbered placeholder, so ids keep their names.
    let n = pairs.last().map_or(0, |(k, _)| *k + 1);
    if pairs.first().is_some_and(|(k, _)| *k < 0) || n > 1_000_000 {
        return None;
    }
    let mut out: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    for (k, v) in pairs {
        out[k as usize] = v;
    }
    Some(out)
}

/// Reads a small YAML file (at most 1 MiB): its first document, or why not.
pub fn read_yaml(path: &Path) -> Result<yaml_rust2::Yaml, String> {
    let bytes = crate::safe_read::read_limited(path, 1 << 20).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&bytes);
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).map_err(|e| e.to_string())?;
    docs.into_iter()
        .next()
        .ok_or_else(|| "no YAML document".to_string())
}

/// `a/b.jpg` → `a/b.txt`, the YOLO labels of an image once `images` became `labels`.
pub fn with_ext(rel: &str, ext: &str) -> String {
    let name_at = rel.rfind('/').map_or(0, |i| i + 1);
    match rel[name_at..].rfind('.') {
        Some(dot) => format!("{}.{ext}", &rel[..name_at + dot]),
        None => format!("{rel}.{ext}"),
    }
}

/// The canonical split a path's folders or name give (`images/train2017/x.jpg`,
/// `valid/labels/x.txt`, `instances_val2017.json`), years and counters ignored.
pub fn split_in(rel: &str) -> Option<String> {
    let stem = |s: &str| s.split_once('.').map_or(s, |(a, _)| a).to_string();
    // Each part whole, then what follows each `_` or `-` (longest first: the
    // `train-val` of `instances_train-val`), then each word.
    rel.split('/')
        .map(stem)
        .flat_map(|part| {
            let mut words = vec![part.clone()];
            words.extend(
                part.match_indices(['-', '_'])
                    .map(|(i, _)| part[i + 1..].to_string()),
            );
            words.extend(part.split(['-', '_']).map(str::to_string));
            words
        })
        .map(|w| w.trim_end_matches(|c: char| c.is_ascii_digit()).to_string())
        .find_map(|w| crate::util::canonical_split(&w))
        .map(str::to_string)
}

/// The split a path's folders give (`images/train/x.jpg`, `valid/images/x.jpg`); the
/// file's own name is not read (`test_photo.jpg` is no test image).
pub fn split_of_folders(rel: &str) -> Option<String> {
    split_in(rel.rsplit_once('/')?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_come_from_folders_and_names_without_years() {
        assert_eq!(split_in("images/train2017/a.jpg").as_deref(), Some("train"));
        assert_eq!(split_in("valid/labels/a.txt").as_deref(), Some("val"));
        assert_eq!(
            split_in("annotations/instances_val2017.json").as_deref(),
            Some("val")
        );
        assert_eq!(split_in("images/a.jpg"), None);
        assert_eq!(
            split_in("annotations/instances_train-val.json").as_deref(),
            Some("train-val")
        );
        assert_eq!(
            split_in("annotations/train_boxes.json").as_deref(),
            Some("train")
        );
        assert_eq!(split_of_folders("images/test_a.jpg"), None);
        assert_eq!(
            split_of_folders("valid/images/a.jpg").as_deref(),
            Some("val")
        );
    }

    #[test]
    fn yaml_names_as_list_or_map() {
        let doc = |s: &str| yaml_rust2::YamlLoader::load_from_str(s).unwrap().remove(0);
        let d = doc("names: [cat, dog]");
        assert_eq!(yaml_names(&d["names"]).unwrap(), ["cat", "dog"]);
        let d = doc("names:\n  0: cat\n  2: 7\n");
        assert_eq!(yaml_names(&d["names"]).unwrap(), ["cat", "1", "7"]);
        let d = doc("names:\n  - a\n  - b\n");
        assert_eq!(yaml_names(&d["names"]).unwrap(), ["a", "b"]);
        assert!(yaml_names(&doc("names: 3")["names"]).is_none());
    }

    #[test]
    fn label_files_take_the_image_stem() {
        assert_eq!(
            with_ext("labels/train/a.b.jpg", "txt"),
            "labels/train/a.b.txt"
        );
        assert_eq!(with_ext("x/noext", "txt"), "x/noext.txt");
    }
}
