use super::{detection, places};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct ImagesWithoutBoxes;

pub const META: RuleMeta = RuleMeta {
    code: "A006",
    name: "image-without-boxes",
    severity: Severity::Info,
    summary: "Readable images that no box annotates.",
    doc: "**What it finds.** Readable images with no box: a COCO image no annotation names, a YOLO image whose label file is missing or empty. Counted per split.\n\n\
             **Why it matters.** Images without objects are legitimate background examples (COCO 2017 has about a thousand) and reduce false positives, but a large or growing share usually means label files that did not follow their images (renamed, in another folder, lost in an export), and every object on those images is then trained as background.\n\n\
             **Example.** `split 'train': 212 of 5000 images have no box (4.2%)`.",
    thresholds: &[],
    fix: "If they are meant as background, nothing to do; otherwise find their label files (a different stem, extension or folder) or label them.",
};

impl Rule for ImagesWithoutBoxes {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let Some(d) = detection(ctx) else {
            return Vec::new();
        };
        let m = &ctx.loaded.manifest;
        let boxes = d.boxes_per_sample(m.len());
        let kinds = m.strs("error_kind");
        let splits = m.strs("split");
        // Per split (in split order): readable images, and those with no box.
        type Tally = (u64, Vec<(usize, String)>);
        let mut by_split: std::collections::BTreeMap<(u8, String), Tally> = Default::default();
        for (i, &n_boxes) in boxes.iter().enumerate().take(m.len()) {
            if kinds.get(i).is_some() {
                continue;
            }
            let split = splits.get(i).unwrap_or("").to_string();
            let e = by_split
                .entry((crate::util::split_order(&split).0, split))
                .or_default();
            e.0 += 1;
            if n_boxes == 0 {
                e.1.push((i, "no box".to_string()));
            }
        }
        by_split
            .into_iter()
            .filter(|(_, (_, empty))| !empty.is_empty())
            .map(|((_, split), (total, empty))| {
                let n = empty.len();
                let name = if split.is_empty() { "(none)" } else { &split };
                Finding::new(
                    self.meta(),
                    format!(
                        "split '{name}': {n} of {total} images have no box ({:.1}%)",
                        100.0 * n as f64 / total as f64
                    ),
                )
                .with_examples(places(ctx, &empty), n as u64)
                .evidence("split", name)
                .evidence("images", total)
                .evidence("without_boxes", n as u64)
            })
            .collect()
    }
}
