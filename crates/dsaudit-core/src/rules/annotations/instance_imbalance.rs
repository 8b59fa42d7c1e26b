use super::detection;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta, Threshold};
use crate::util::round4;
use std::collections::BTreeMap;

pub struct InstanceImbalance;

pub const META: RuleMeta = RuleMeta {
    code: "A010",
    name: "instance-imbalance",
    severity: Severity::Warning,
    summary: "In a split, the most common box class outnumbers the rarest by more than the allowed ratio.",
    doc: "**What it finds.** Per split, the number of boxes of each class (instances, not images: one image of a crowd holds many), and the ratio of the largest count to the smallest among classes with at least one box. Declared classes without any box in the split are named too.\n\n\
             **Why it matters.** A detector's classification loss is summed over boxes, so the class with most instances dominates it: rare classes are found late in training or never, and mean average precision hides it until per-class AP is read. Counting images instead of boxes understates the skew.\n\n\
             **Example.** `split 'train': class 'person' has 262465 boxes, 1340.1× the rarest 'hair drier' (189)`.",
    thresholds: &[Threshold {
        key: "max-ratio",
        default: 10.0,
        doc: "largest / smallest per-class box count above which a split is flagged (as B001 does for images)",
    }],
    fix: "Collect or label more of the rare classes, over-sample images holding them (repeat-factor sampling), or weight the classification loss per class; report per-class AP.",
};

impl Rule for InstanceImbalance {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let Some(d) = detection(ctx) else {
            return Vec::new();
        };
        let max_ratio = ctx.threshold(self, "max-ratio");
        let splits = ctx.loaded.manifest.strs("split");
        let mut counts: BTreeMap<(u8, String), BTreeMap<&str, u64>> = BTreeMap::new();
        for b in &d.boxes {
            let Some(class) = b.class.as_deref() else {
                continue;
            };
            let split = splits.get(b.sample).unwrap_or("").to_string();
            *counts
                .entry((crate::util::split_order(&split).0, split))
                .or_default()
                .entry(class)
                .or_default() += 1;
        }
        let mut out = Vec::new();
        for ((_, split), by_class) in counts {
            let name = if split.is_empty() { "(none)" } else { &split };
            let missing: Vec<&str> = d
                .classes
                .iter()
                .map(String::as_str)
                .filter(|c| !by_class.contains_key(c))
                .collect();
            let (big, nbig) = by_class
                .iter()
                .max_by_key(|(c, n)| (**n, std::cmp::Reverse(**c)))
                .unwrap();
            let (small, nsmall) = by_class.iter().min_by_key(|(c, n)| (**n, **c)).unwrap();
            let ratio = *nbig as f64 / *nsmall as f64;
            if ratio <= max_ratio && missing.is_empty() {
                continue;
            }
            let shown: Vec<&str> = missing.iter().take(10).copied().collect();
            let absent = format!(
                "declared classes without a box here: {}{}",
                shown.join(", "),
                if missing.len() > 10 { ", …" } else { "" }
            );
            let message = match (ratio > max_ratio, missing.is_empty()) {
                (true, true) => format!("split '{name}': class '{big}' has {nbig} boxes, {ratio:.1}× the rarest '{small}' ({nsmall})"),
                (true, false) => format!("split '{name}': class '{big}' has {nbig} boxes, {ratio:.1}× the rarest '{small}' ({nsmall}); {absent}"),
                _ => format!("split '{name}': {absent} (the others have {nsmall} to {nbig} boxes each)"),
            };
            let table: serde_json::Map<String, serde_json::Value> = by_class
                .iter()
                .map(|(c, n)| (c.to_string(), serde_json::Value::from(*n)))
                .collect();
            out.push(
                Finding::new(self.meta(), message)
                    .evidence("split", name)
                    .evidence("ratio", round4(ratio))
                    .evidence("boxes_per_class", serde_json::Value::Object(table))
                    .evidence("classes_without_boxes", missing),
            );
        }
        out
    }
}
