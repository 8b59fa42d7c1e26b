//! Rules over what the annotation files hold besides boxes: entries and lines that are
//! not boxes, and label files with no image.

use super::{detection, place, MAX_PLACES};
use crate::finding::{Finding, Severity};
use crate::load::detection::ProblemKind;
use crate::rules::{Context, Rule, RuleMeta};

pub struct FileProblem {
    meta: RuleMeta,
    kinds: &'static [ProblemKind],
    /// What the finding counts.
    what: &'static str,
}

impl Rule for FileProblem {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let Some(d) = detection(ctx) else {
            return Vec::new();
        };
        let found: Vec<_> = d
            .problems
            .iter()
            .filter(|p| self.kinds.contains(&p.kind))
            .collect();
        let Some(first) = found.first() else {
            return Vec::new();
        };
        let notes: Vec<String> = found
            .iter()
            .map(|p| format!("{}: {}", p.at, p.what))
            .collect();
        let samples = found
            .iter()
            .zip(&notes)
            .filter_map(|(p, note)| Some(place(ctx, p.sample?, note.clone())))
            .take(MAX_PLACES)
            .collect();
        let n = found.len();
        vec![Finding::new(
            self.meta(),
            format!("{}: {n} (first: {}: {})", self.what, first.at, first.what),
        )
        .with_examples(samples, n as u64)
        .evidence("count", n as u64)
        .evidence(
            "places",
            notes
                .into_iter()
                .take(MAX_PLACES)
                .map(serde_json::Value::from)
                .collect::<Vec<_>>(),
        )]
    }
}

pub static MALFORMED: FileProblem = FileProblem {
    meta: RuleMeta {
        code: "A005",
        name: "malformed-annotation",
        severity: Severity::Error,
        summary: "An annotation entry or label line cannot be read as a box.",
        doc: "**What it finds.** YOLO label lines that are not `class cx cy w h` (or a class and a polygon of three or more points); COCO annotations without four numbers in `bbox`, without `image_id` or `category_id`, or naming an image id their file does not list; COCO image entries without a `file_name` or an `id`, image ids and annotation ids used twice in one file (loaders index by id and keep one); annotation files that are not JSON at all. Each is named by its file and line or annotation id; the rest of the dataset is still scanned.\n\n\
             **Why it matters.** Loaders differ on such lines: one skips the line, one the whole image, one stops the run. Either way the object is not trained on, and the count of labelled objects is not what the files seem to hold.\n\n\
             **Example.** `annotations that cannot be read: 2 (first: labels/train/0001.txt:3: 4 numbers: a box is 5 (class cx cy w h), a polygon is a class and 3 or more x y pairs)`.",
        thresholds: &[],
        fix: "Fix or delete each named line or entry; a line of four numbers usually lost its class id, an annotation naming an unknown image id was copied from another split's file.",
    },
    kinds: &[ProblemKind::Malformed, ProblemKind::UnknownImage],
    what: "annotations that cannot be read",
};

pub static ORPHAN_LABELS: FileProblem = FileProblem {
    meta: RuleMeta {
        code: "A007",
        name: "labels-without-image",
        severity: Severity::Warning,
        summary: "A YOLO label file has no image.",
        doc: "**What it finds.** `.txt` files under a `labels/` folder for which no image exists at the matching path under `images/` (any image extension).\n\n\
             **Why it matters.** The boxes in them are never trained on; usually the image was deleted or renamed after labelling, or images and labels were copied into different split folders, so the split's labels and images no longer match one to one.\n\n\
             **Example.** `label files without an image: 14 (first: labels/val/000123.txt: a label file with no image)`.",
        thresholds: &[],
        fix: "Restore the image, move the label file to the split its image is in, or delete the label file.",
    },
    kinds: &[ProblemKind::LabelsWithoutImage],
    what: "label files without an image",
};
