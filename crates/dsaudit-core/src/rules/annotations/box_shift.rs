use super::detection;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta, Threshold};
use crate::util::round4;
use std::collections::BTreeMap;

pub struct BoxShift;

pub const META: RuleMeta = RuleMeta {
    code: "A011",
    name: "box-shift",
    severity: Severity::Warning,
    summary: "A split's boxes per image or box sizes differ from the training split's.",
    doc: "**What it finds.** For each split against the training split (else the first split): the distribution of boxes per readable image, and of box size (the square root of the box's share of its image's area), each compared with a two-sample Kolmogorov–Smirnov test. A split is reported when the KS statistic is at least `min-statistic` and its p-value at most `max-p`: both an effect and evidence, so a large random split is not flagged for a trivial difference.\n\n\
             **Why it matters.** A detector tuned on crowded scenes with small objects and evaluated on single large objects (or the reverse) is measured on a task it was not trained for: anchor sizes, the NMS threshold and the input resolution all depend on these two distributions, and the validation score stops predicting the test score.\n\n\
             **Example.** `split 'val' vs 'train': box size median 0.08 vs 0.21 (KS 0.41, p < 1e-6); boxes per image median 7 vs 2 (KS 0.38, p < 1e-6)`.",
    thresholds: &[
        Threshold {
            key: "min-statistic",
            default: 0.15,
            doc: "smallest KS statistic (largest gap between the two cumulative distributions) reported",
        },
        Threshold {
            key: "max-p",
            default: 0.001,
            doc: "largest KS p-value reported",
        },
    ],
    fix: "Split again at random (stratified by the images' classes: `dsaudit split`), or if the shift is real (a new camera, a new site), collect training images like the shifted split and report the metrics per condition.",
};

/// Per split: boxes per readable image, and box sizes.
type Measures = (Vec<f64>, Vec<f64>);

fn measures(ctx: &Context) -> Option<BTreeMap<(u8, String), Measures>> {
    let d = detection(ctx)?;
    let m = &ctx.loaded.manifest;
    let splits = m.strs("split");
    let kinds = m.strs("error_kind");
    let key = |i: usize| {
        let s = splits.get(i).unwrap_or("").to_string();
        (crate::util::split_order(&s).0, s)
    };
    let mut out: BTreeMap<(u8, String), Measures> = BTreeMap::new();
    for (i, n) in d.boxes_per_sample(m.len()).into_iter().enumerate() {
        if kinds.get(i).is_none() {
            out.entry(key(i)).or_default().0.push(n as f64);
        }
    }
    for b in &d.boxes {
        if let (Some(area), Some((w, h))) = (b.area(), b.image_size) {
            if area > 0.0 && w > 0.0 && h > 0.0 {
                out.entry(key(b.sample))
                    .or_default()
                    .1
                    .push((area / (w * h)).sqrt());
            }
        }
    }
    for (a, b) in out.values_mut() {
        a.sort_by(f64::total_cmp);
        b.sort_by(f64::total_cmp);
    }
    Some(out)
}

fn median(v: &[f64]) -> f64 {
    v[v.len() / 2]
}

impl Rule for BoxShift {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let Some(by_split) = measures(ctx) else {
            return Vec::new();
        };
        let (min_d, max_p) = (
            ctx.threshold(self, "min-statistic"),
            ctx.threshold(self, "max-p"),
        );
        let reference = by_split
            .keys()
            .find(|(_, s)| s == "train")
            .or_else(|| by_split.keys().next())
            .cloned();
        let Some(reference) = reference else {
            return Vec::new();
        };
        let (ref_counts, ref_sizes) = &by_split[&reference];
        let mut out = Vec::new();
        for (key, (counts, sizes)) in &by_split {
            if *key == reference {
                continue;
            }
            let tests = [
                ("box size", "box_size", sizes, ref_sizes),
                ("boxes per image", "boxes_per_image", counts, ref_counts),
            ];
            let mut parts = Vec::new();
            let mut finding_evidence = Vec::new();
            for (label, field, a, b) in tests {
                if a.len() < 5 || b.len() < 5 {
                    continue;
                }
                let ks = crate::shift::univariate::ks(a, b);
                if ks.statistic >= min_d && ks.p_value <= max_p {
                    parts.push(format!(
                        "{label} median {} vs {} (KS {:.2}, p {:.1e})",
                        round4(median(a)),
                        round4(median(b)),
                        ks.statistic,
                        ks.p_value
                    ));
                    finding_evidence.push((field, round4(ks.statistic), ks.p_value));
                }
            }
            if parts.is_empty() {
                continue;
            }
            let mut f = Finding::new(
                self.meta(),
                format!(
                    "split '{}' vs '{}': {}",
                    key.1,
                    reference.1,
                    parts.join("; ")
                ),
            )
            .evidence("split", key.1.clone())
            .evidence("reference", reference.1.clone());
            for (field, d, p) in finding_evidence {
                f = f
                    .evidence(&format!("{field}_ks"), d)
                    .evidence(&format!("{field}_p"), p);
            }
            out.push(f);
        }
        out
    }
}
