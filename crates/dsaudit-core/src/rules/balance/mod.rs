//! Balance: how many samples each class has, per split, and whether the splits agree.

pub mod class_imbalance;
pub mod class_missing_from_split;
pub mod label_shift;
pub mod too_few_samples;

use crate::rules::Context;
use std::collections::BTreeMap;

/// Labelled, readable samples per class for each split that has any, splits in
/// train, val, test order. The split key is None when the data has no splits.
pub(crate) fn class_counts(ctx: &Context) -> Vec<(Option<String>, BTreeMap<String, u64>)> {
    let mut out: Vec<(Option<String>, BTreeMap<String, u64>)> = ctx
        .counts()
        .clone()
        .into_iter()
        .map(|(split, labels)| {
            (
                split,
                labels
                    .into_iter()
                    .filter_map(|(l, n)| l.map(|l| (l, n)))
                    .collect::<BTreeMap<_, _>>(),
            )
        })
        .filter(|(_, c)| !c.is_empty())
        .collect();
    out.sort_by_key(|(s, _)| {
        (
            s.is_none(),
            crate::util::split_order(s.as_deref().unwrap_or("")),
        )
    });
    out
}

pub(crate) fn split_name(split: &Option<String>) -> String {
    split.clone().unwrap_or_else(|| "(all)".into())
}

pub(crate) fn counts_json(counts: &BTreeMap<String, u64>) -> serde_json::Value {
    serde_json::Value::Object(
        counts
            .iter()
            .map(|(k, v)| (k.clone(), (*v).into()))
            .collect(),
    )
}
