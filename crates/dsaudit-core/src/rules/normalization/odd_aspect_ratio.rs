use super::MAX_LISTED;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta, Threshold};

pub struct OddAspectRatio;

pub const META: RuleMeta = RuleMeta {
    code: "N102",
    name: "odd-aspect-ratio",
    severity: Severity::Warning,
    summary: "An image is far from square: min(w/h, h/w) below the threshold.",
    doc: "**What it finds.** Readable images with min(w/h, h/w) < `min-ratio` (0.35, cleanvision's odd-aspect-ratio default), most extreme first.\n\n\
             **Why it matters.** Resizing them to a square input stretches the content beyond recognition; cropping them loses most of it. They are often panoramas, strips, or screenshots that do not belong.\n\n\
             **Example.** `train/cat/0091.jpg  (1200x180, ratio 0.15)`.",
    thresholds: &[Threshold {
        key: "min-ratio",
        default: 0.35,
        doc: "smallest min(w/h, h/w) that is not flagged",
    }],
    fix: "Inspect them; pad to square (letterbox) instead of stretching, or remove those that are not real samples.",
};

impl Rule for OddAspectRatio {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let min_ratio = ctx.threshold(self, "min-ratio");
        let m = &ctx.loaded.manifest;
        let (w, h, errors) = (m.u32s("width"), m.u32s("height"), m.strs("error_kind"));
        if super::all_null(w) {
            return Vec::new();
        }
        let mut hits: Vec<(usize, f64, u32, u32)> = (0..m.len())
            .filter(|&i| errors.get(i).is_none())
            .filter_map(|i| {
                let (w, h) = (w.get(i)?, h.get(i)?);
                let r = (w.min(h) as f64) / (w.max(h).max(1) as f64);
                (r < min_ratio).then_some((i, r, w, h))
            })
            .collect();
        if hits.is_empty() {
            return Vec::new();
        }
        hits.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        let total = hits.len() as u64;
        let samples = hits
            .iter()
            .take(MAX_LISTED)
            .map(|&(i, r, w, h)| {
                let mut s = m.sample_ref(i);
                s.note = Some(format!("{w}x{h}, ratio {r:.2}"));
                s
            })
            .collect();
        vec![Finding::new(
            self.meta(),
            format!("{total} images have an aspect ratio below {min_ratio}"),
        )
        .evidence("count", total)
        .with_examples(samples, total)]
    }
}
