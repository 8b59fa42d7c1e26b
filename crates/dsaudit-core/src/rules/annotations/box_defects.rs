//! Rules that judge one box at a time: each finding lists the boxes that fail its
//! test, with the annotation id or file:line of each.

use super::{detection, places, px};
use crate::finding::{Finding, Severity};
use crate::load::detection::Annotation;
use crate::rules::{Context, Rule, RuleMeta, Threshold};

/// A per-box test: what is wrong with the box (None: nothing).
type Test = fn(&BoxDefect, &Context, &Annotation) -> Option<String>;

pub struct BoxDefect {
    meta: RuleMeta,
    test: Test,
    /// What the finding counts: "boxes reaching past …".
    what: &'static str,
}

impl Rule for BoxDefect {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let Some(d) = detection(ctx) else {
            return Vec::new();
        };
        let found: Vec<(usize, String)> = d
            .boxes
            .iter()
            .filter_map(|b| {
                let why = (self.test)(self, ctx, b)?;
                Some((b.sample, format!("{}: {why}", b.at)))
            })
            .collect();
        let Some((_, first)) = found.first() else {
            return Vec::new();
        };
        let n = found.len();
        vec![
            Finding::new(self.meta(), format!("{}: {n} (first: {first})", self.what))
                .with_examples(places(ctx, &found), n as u64)
                .evidence("boxes", n as u64)
                .evidence(
                    "share",
                    crate::util::round4(n as f64 / d.boxes.len().max(1) as f64),
                ),
        ]
    }
}

fn outside(rule: &BoxDefect, ctx: &Context, b: &Annotation) -> Option<String> {
    // A YOLO box whose numbers leave [0, 1] is A003's.
    if b.out_of_range().is_some() {
        return None;
    }
    let [x, y, w, h] = b.rect?;
    let (iw, ih) = b.image_size?;
    if w <= 0.0 || h <= 0.0 {
        return None;
    }
    let tol = ctx.threshold(rule, "tolerance-px");
    let past = [
        ("left", -x),
        ("top", -y),
        ("right", x + w - iw),
        ("bottom", y + h - ih),
    ];
    let (edge, by) = past
        .into_iter()
        .filter(|(_, by)| *by > tol)
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    Some(format!(
        "box [{}, {}, {}, {}] ends {} past the {edge} edge of the {iw}×{ih} image",
        r(x),
        r(y),
        r(w),
        r(h),
        px(by)
    ))
}

fn r(x: f64) -> f64 {
    crate::util::round4(x)
}

fn degenerate(_: &BoxDefect, _: &Context, b: &Annotation) -> Option<String> {
    let [_, _, w, h] = b.rect.or(b.normalized)?;
    (w <= 0.0 || h <= 0.0).then(|| format!("width {}, height {}", r(w), r(h)))
}

fn out_of_range(_: &BoxDefect, _: &Context, b: &Annotation) -> Option<String> {
    let v = b.out_of_range()?;
    let names = ["cx", "cy", "w", "h"];
    let bad: Vec<String> = names
        .iter()
        .zip(v)
        .filter(|(_, x)| !(0.0..=1.0).contains(x))
        .map(|(n, x)| format!("{n} = {}", r(x)))
        .collect();
    Some(format!("{} outside [0, 1]", bad.join(", ")))
}

fn unknown(_: &BoxDefect, ctx: &Context, b: &Annotation) -> Option<String> {
    let declared = detection(ctx)?.classes.len();
    b.class.is_none().then(|| {
        format!(
            "category {} is not one of the {declared} declared",
            b.category
        )
    })
}

fn tiny(rule: &BoxDefect, ctx: &Context, b: &Annotation) -> Option<String> {
    let [_, _, w, h] = b.rect?;
    let min = ctx.threshold(rule, "min-side-px");
    (w > 0.0 && h > 0.0 && w.min(h) < min).then(|| format!("{} × {}", px(w), px(h)))
}

pub static OUTSIDE: BoxDefect = BoxDefect {
    meta: RuleMeta {
        code: "A001",
        name: "box-outside-image",
        severity: Severity::Error,
        summary: "A box reaches past the edge of its image.",
        doc: "**What it finds.** Boxes whose left, top, right or bottom edge lies more than `tolerance-px` outside the image, judged against the image's decoded size (a COCO image that cannot be read is judged against the size its annotation declares).\n\n\
             **Why it matters.** Training code clips or drops such boxes without a word, or crashes on them; a box off the image is usually a box drawn on another image size (annotated on the original, stored with a resized copy) or with swapped width and height, so its neighbours are often wrong too.\n\n\
             **Example.** `boxes reaching past the image's edge: 12 (first: annotations/instances_val.json: annotation 17: box [600, 20, 80, 40] ends 40 px past the right edge of the 640×480 image)`.",
        thresholds: &[Threshold {
            key: "tolerance-px",
            default: 1.0,
            doc: "how far (in pixels) an edge may pass the image's before the box is reported; COCO's rounding of float boxes reaches a fraction of a pixel",
        }],
        fix: "Check the annotation against the image: if the image was resized after labelling, scale the boxes with it; clip boxes that only just pass the edge; redraw the others.",
    },
    test: outside,
    what: "boxes reaching past the image's edge",
};

pub static DEGENERATE: BoxDefect = BoxDefect {
    meta: RuleMeta {
        code: "A002",
        name: "degenerate-box",
        severity: Severity::Error,
        summary: "A box has zero or negative width or height.",
        doc: "**What it finds.** Boxes with a width or height of zero or less.\n\n\
             **Why it matters.** A box without area has no IoU with anything: losses divide by its area or take logarithms of its sides, so one such box can turn a batch's loss into NaN, and evaluation counts it as a missed object no model can find.\n\n\
             **Example.** `boxes without area: 3 (first: labels/train/0042.txt:2: width 0.0, height 0.12)`.",
        thresholds: &[],
        fix: "Redraw or delete the box; a negative size usually means corners stored where width and height were expected ([x1, y1, x2, y2] instead of [x, y, w, h]).",
    },
    test: degenerate,
    what: "boxes without area",
};

pub static OUT_OF_RANGE: BoxDefect = BoxDefect {
    meta: RuleMeta {
        code: "A003",
        name: "coordinates-out-of-range",
        severity: Severity::Error,
        summary: "A YOLO box has a normalised coordinate outside [0, 1].",
        doc: "**What it finds.** YOLO label lines whose `cx`, `cy`, `w` or `h` is below 0 or above 1 (they are fractions of the image's width and height).\n\n\
             **Why it matters.** Ultralytics drops the whole label file of such an image with a warning (`non-normalized or out of bounds coordinates`), so every box of that image silently leaves training; values above 1 usually mean pixel coordinates were written where fractions belong.\n\n\
             **Example.** `boxes with coordinates outside [0, 1]: 40 (first: labels/train/0007.txt:1: cx = 312.5, cy = 140.0, w = 64.0, h = 32.0 outside [0, 1])`.",
        thresholds: &[],
        fix: "Divide pixel coordinates by the image's width and height; clip coordinates that only just pass 0 or 1.",
    },
    test: out_of_range,
    what: "boxes with coordinates outside [0, 1]",
};

pub static UNKNOWN: BoxDefect = BoxDefect {
    meta: RuleMeta {
        code: "A004",
        name: "unknown-category",
        severity: Severity::Error,
        summary: "A box's class id is not among the declared categories.",
        doc: "**What it finds.** Boxes whose category id the annotations do not declare: a COCO `category_id` missing from the file's `categories`, a YOLO class id at or past the number of `names` in data.yaml (checked only when class names are declared).\n\n\
             **Why it matters.** Training either crashes on the id (an index past the classifier's outputs) or, with a larger head than declared, learns a class no one can name; evaluation drops the boxes. It is the usual mark of annotation files merged from two label maps.\n\n\
             **Example.** `boxes of an unknown category: 5 (first: labels/val/0003.txt:4: category 12 is not one of the 10 declared)`.",
        thresholds: &[],
        fix: "Add the category to the declared list (COCO `categories`, data.yaml `names`) or remap the ids to the label map the rest of the data uses.",
    },
    test: unknown,
    what: "boxes of an unknown category",
};

pub static TINY: BoxDefect = BoxDefect {
    meta: RuleMeta {
        code: "A009",
        name: "tiny-box",
        severity: Severity::Warning,
        summary: "A box is smaller than a few pixels on a side.",
        doc: "**What it finds.** Boxes (with area) whose shorter side is under `min-side-px` pixels of the image.\n\n\
             **Why it matters.** A box of a pixel or two is almost always a click that was meant to start a drag; a detector's lowest-resolution feature map is 8 pixels a cell, so nothing that small can be learned, and such boxes count as misses in evaluation.\n\n\
             **Example.** `tiny boxes: 4 (first: annotations/instances_train.json: annotation 93: 1 px × 14 px)`.",
        thresholds: &[Threshold {
            key: "min-side-px",
            default: 2.0,
            doc: "a box whose shorter side (in the image's pixels) is below this is reported",
        }],
        fix: "Look at each box: delete accidental clicks, redraw the ones meant to cover an object; if tiny objects are the task, train at a higher input resolution.",
    },
    test: tiny,
    what: "tiny boxes",
};
