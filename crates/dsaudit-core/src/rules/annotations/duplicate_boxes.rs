use super::{detection, places};
use crate::finding::{Finding, Severity};
use crate::load::detection::Annotation;
use crate::rules::{Context, Rule, RuleMeta, Threshold};

pub struct DuplicateBoxes;

pub const META: RuleMeta = RuleMeta {
    code: "A008",
    name: "duplicate-boxes",
    severity: Severity::Warning,
    summary: "Two boxes of the same class on one image overlap almost entirely.",
    doc: "**What it finds.** Pairs of boxes on the same image, of the same class, whose intersection over union is at least `min-iou`; COCO's crowd regions (`iscrowd`) are left out, as they cover the objects in them by design.\n\n\
             **Why it matters.** One object labelled twice (two annotators, a merge of two exports, a double click) trains the detector to predict two boxes where one belongs, fights non-maximum suppression, and counts one object twice in evaluation: the second box is a miss no model can find.\n\n\
             **Example.** `boxes repeating another box of their class: 6 (first: labels/train/0009.txt:4: IoU 0.98 with labels/train/0009.txt:1)`.",
    thresholds: &[Threshold {
        key: "min-iou",
        default: 0.95,
        doc: "intersection over union at or above which two same-class boxes on one image are one object labelled twice",
    }],
    fix: "Keep one box of each pair; if two exports were merged, de-duplicate the merge (same image, same class, IoU above the threshold).",
};

pub fn iou(a: [f64; 4], b: [f64; 4]) -> f64 {
    let ix = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let iy = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    if ix <= 0.0 || iy <= 0.0 {
        return 0.0;
    }
    let inter = ix * iy;
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

impl Rule for DuplicateBoxes {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let Some(d) = detection(ctx) else {
            return Vec::new();
        };
        let min = ctx.threshold(self, "min-iou");
        let mut by_image: Vec<Vec<&Annotation>> = vec![Vec::new(); ctx.loaded.manifest.len()];
        for b in &d.boxes {
            // A crowd region (COCO's iscrowd) overlaps the people in it by design.
            if !b.crowd && b.rect.is_some_and(|[_, _, w, h]| w > 0.0 && h > 0.0) {
                if let Some(v) = by_image.get_mut(b.sample) {
                    v.push(b);
                }
            }
        }
        let mut found: Vec<(usize, String)> = Vec::new();
        for boxes in &by_image {
            for (j, b) in boxes.iter().enumerate() {
                // The box is the repeat of the first earlier box it matches.
                let first = boxes[..j].iter().find_map(|a| {
                    let o = iou(a.rect?, b.rect?);
                    (a.category == b.category && o >= min).then_some((a, o))
                });
                if let Some((a, o)) = first {
                    let note = format!("{}: IoU {:.2} with {}", b.at, o, a.at);
                    found.push((b.sample, note));
                }
            }
        }
        let Some((_, first)) = found.first() else {
            return Vec::new();
        };
        let n = found.len();
        vec![Finding::new(
            self.meta(),
            format!("boxes repeating another box of their class: {n} (first: {first})"),
        )
        .with_examples(places(ctx, &found), n as u64)
        .evidence("boxes", n as u64)]
    }
}

#[cfg(test)]
mod tests {
    use super::iou;

    #[test]
    fn iou_of_known_boxes() {
        assert_eq!(iou([0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]), 1.0);
        assert_eq!(iou([0.0, 0.0, 10.0, 10.0], [10.0, 0.0, 10.0, 10.0]), 0.0);
        let half = iou([0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 10.0, 10.0]);
        assert!((half - 50.0 / 150.0).abs() < 1e-12);
    }
}
