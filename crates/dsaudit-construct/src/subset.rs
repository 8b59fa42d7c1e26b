//! `dsaudit subset`: a few samples of every class from one split, to overfit while
//! debugging ("start simple") and to iterate fast.

use super::select::pick;
use super::{rng, Plan, Samples, NONE};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Deserialized too: the Python package passes a build's options as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// Samples of each class.
    pub per_class: u64,
    /// The split to draw from (default: train; the whole dataset when it is not split).
    pub from: Option<String>,
}

/// The split a command works on: the one named, else train, else the whole
/// (unsplit) dataset.
pub fn pool_split(s: &Samples, named: Option<&str>, flag: &str) -> Result<Option<u32>> {
    let names: Vec<&str> = s.splits.iter().flatten().map(String::as_str).collect();
    match named {
        Some(n) => {
            let n = dsaudit_core::util::split_value(n);
            match s.split_index(&n) {
                Some(i) => Ok(Some(i)),
                None if names.is_empty() => bail!("{flag} {n}: the dataset is not split"),
                None => bail!("{flag} {n}: no such split (splits: {})", names.join(", ")),
            }
        }
        None if names.is_empty() => Ok(None),
        None => match s.split_index("train") {
            Some(i) => Ok(Some(i)),
            None => bail!(
                "no train split (splits: {}): name one with {flag}",
                names.join(", ")
            ),
        },
    }
}

pub fn plan(s: &Samples, o: &Options, seed: u64) -> Result<Plan> {
    let mut plan = Plan::new("subset");
    plan.options = serde_json::to_value(o)?;
    if o.per_class == 0 {
        bail!("--per-class 0: nothing would be chosen");
    }
    let from = pool_split(s, o.from.as_deref(), "--from")?;
    let shown = s.shown(from);
    plan.drop_unusable(s);
    let pool = s.pool(from);
    // Copies that disagree on their label are the noise an overfitting check must
    // not start from: they are left out.
    let mut classes_of: HashMap<u32, BTreeSet<u32>> = HashMap::new();
    for &i in &pool {
        if s.group[i as usize] != NONE {
            classes_of
                .entry(s.group[i as usize])
                .or_default()
                .insert(s.class[i as usize]);
        }
    }
    let conflicted =
        |i: u32| s.group[i as usize] != NONE && classes_of[&s.group[i as usize]].len() > 1;
    let mut by_class: Vec<Vec<u32>> = vec![Vec::new(); s.classes.len()];
    let mut left_out = 0usize;
    for &i in &pool {
        if conflicted(i) {
            left_out += 1;
        } else {
            by_class[s.class[i as usize] as usize].push(i);
        }
    }
    let short: Vec<String> = by_class
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_empty() && (v.len() as u64) < o.per_class)
        .map(|(c, v)| format!("'{}' has {}", s.classes[c], v.len()))
        .collect();
    if !short.is_empty() {
        bail!(
            "--per-class {}: {shown} has fewer usable samples in some classes ({}); lower --per-class",
            o.per_class,
            short.join(", ")
        );
    }
    if left_out > 0 {
        plan.notes.push(format!(
            "{} in clusters of copies with conflicting labels left out",
            dsaudit_core::util::count(left_out, "sample", "samples")
        ));
    }
    let mut chosen = Vec::new();
    for (c, ids) in by_class.iter().enumerate() {
        if ids.is_empty() {
            continue;
        }
        let mut r = rng(seed, &format!("subset\0{}", s.classes[c]));
        chosen.extend(pick(s, ids, o.per_class as usize, &mut r));
    }
    chosen.sort_unstable();
    for &i in &pool {
        if chosen.binary_search(&i).is_ok() {
            let out = plan.same_split(s, i);
            plan.keep(i, out, "selected");
        } else if conflicted(i) {
            plan.drop(
                i,
                "conflicting-labels",
                "a copy of it has another label".into(),
            );
        } else {
            plan.drop(i, "not-selected", String::new());
        }
    }
    for i in s.pool(None) {
        if s.split[i as usize] != from.unwrap_or(s.split[i as usize]) {
            plan.drop(i, "other-split", String::new());
        }
    }
    Ok(plan)
}
