//! `dsaudit rebalance`: change one split's class counts (imbalanced-learn's
//! vocabulary): undersample, oversample (copies, or SMOTE rows for tables), match a
//! target distribution (label-shift correction), or only write loss weights.

use super::select::{apportion, pick};
use super::subset::pool_split;
use super::{rng, Action, Plan, Row, Samples};
use anyhow::{bail, Result};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Every class down to the smallest class (or --count).
    Undersample,
    /// Every class up to the largest class (or --count), drawing with replacement.
    Oversample,
    /// Match the class distribution --target gives.
    Target,
    /// Write per-class loss weights only (weights.json); no samples change.
    Weights,
}

impl dsaudit_core::choice::Choice for Strategy {
    const ALL: &'static [(Strategy, &'static str, &'static str)] = &[
        (
            Strategy::Undersample,
            "undersample",
            "Every class down to the smallest class (or --count)",
        ),
        (
            Strategy::Oversample,
            "oversample",
            "Every class up to the largest class (or --count), drawing with replacement",
        ),
        (
            Strategy::Target,
            "target",
            "Match the class distribution --target gives",
        ),
        (
            Strategy::Weights,
            "weights",
            "Write per-class loss weights only (weights.json); no samples change",
        ),
    ];
}

/// Deserialized too: the Python package passes a build's options as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    pub strategy: Option<Strategy>,
    /// Samples per class (undersample, oversample) or in all (target).
    pub count: Option<u64>,
    /// Class distribution for `target` (and `weights`): a split's name (`test`) or
    /// shares (`cat=0.7,dog=0.3`; classes not named get none).
    pub target: Option<String>,
    /// Then undersample every class above this count to it.
    pub max_per_class: Option<u64>,
    /// Then oversample every class below this count up to it.
    pub min_per_class: Option<u64>,
    /// Oversample tables with SMOTE rows (interpolated between same-class
    /// neighbours) instead of copies.
    pub smote: bool,
    /// The split to rebalance (default: train; the whole dataset when it is not split).
    pub from: Option<String>,
}

/// The target distribution: shares per class index, summing to 1.
fn distribution(s: &Samples, spec: &str) -> Result<Vec<f64>> {
    let mut w = vec![0.0; s.classes.len()];
    if spec.contains('=') {
        for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
            let Some((name, share)) = part.split_once('=') else {
                bail!("--target '{part}': expected CLASS=SHARE");
            };
            let name = name.trim();
            let Some(c) = s.classes.iter().position(|x| x == name) else {
                bail!(
                    "--target: class '{name}' is not in the dataset (classes: {})",
                    s.classes.join(", ")
                );
            };
            match share.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => w[c] = v,
                _ => bail!("--target '{part}': the share must be a non-negative number"),
            }
        }
    } else {
        let split = pool_split(s, Some(spec), "--target")?;
        for (c, n) in s.counts(&s.pool(split)).into_iter().enumerate() {
            w[c] = n as f64;
        }
    }
    let sum: f64 = w.iter().sum();
    if sum <= 0.0 {
        bail!("--target '{spec}': the distribution is empty");
    }
    Ok(w.into_iter().map(|x| x / sum).collect())
}

/// The largest total whose apportionment fits within the available counts.
fn largest_fitting(share: &[f64], have: &[u64]) -> u64 {
    let mut total = share
        .iter()
        .zip(have)
        .filter(|(p, _)| **p > 0.0)
        .map(|(p, &n)| (n as f64 / p).floor() as u64)
        .min()
        .unwrap_or(0);
    while total > 0 && apportion(total, share).iter().zip(have).any(|(t, n)| t > n) {
        total -= 1;
    }
    total
}

pub fn plan(s: &Samples, o: &Options, seed: u64) -> Result<Plan> {
    let mut plan = Plan::new("rebalance");
    plan.options = serde_json::to_value(o)?;
    if o.smote && s.loaded.rows.is_none() {
        bail!("--smote interpolates table features; this dataset is not a table (drop --smote to oversample by copies)");
    }
    let from = pool_split(s, o.from.as_deref(), "--from")?;
    let shown = s.shown(from);
    let pool = s.pool(from);
    let have = s.counts(&pool);
    let present: Vec<usize> = (0..have.len()).filter(|&c| have[c] > 0).collect();
    if present.is_empty() {
        bail!("{shown} has no usable sample to rebalance");
    }
    let name = |c: usize| s.classes[c].as_str();
    if o.target.is_some() && !matches!(o.strategy, Some(Strategy::Target | Strategy::Weights)) {
        bail!("--target goes with --strategy target or weights");
    }
    if let (Some(lo), Some(hi)) = (o.min_per_class, o.max_per_class) {
        if lo > hi {
            bail!("--min-per-class {lo} is above --max-per-class {hi}");
        }
    }
    let mut want: Vec<u64> = match o.strategy {
        None if o.max_per_class.is_none() && o.min_per_class.is_none() => {
            bail!("choose --strategy (undersample, oversample, target, weights) or give --max-per-class / --min-per-class")
        }
        None => have.clone(),
        Some(Strategy::Weights) => {
            plan.weights = Some(weights(s, o, from, &shown, &have)?);
            return Ok(plan);
        }
        Some(Strategy::Undersample) => {
            let smallest = present.iter().map(|&c| have[c]).min().unwrap_or(0);
            let n = o.count.unwrap_or(smallest);
            if let Some(&c) = present.iter().find(|&&c| have[c] < n) {
                bail!(
                    "--count {n}: class '{}' has {} in {shown}; undersampling cannot add samples (use --strategy oversample)",
                    name(c),
                    have[c]
                );
            }
            have.iter().map(|&h| if h > 0 { n } else { 0 }).collect()
        }
        Some(Strategy::Oversample) => {
            let largest = present.iter().map(|&c| have[c]).max().unwrap_or(0);
            let n = o.count.unwrap_or(largest);
            if let Some(&c) = present.iter().find(|&&c| have[c] > n) {
                bail!(
                    "--count {n}: class '{}' has {} in {shown}; oversampling cannot remove samples (use --strategy undersample)",
                    name(c),
                    have[c]
                );
            }
            have.iter().map(|&h| if h > 0 { n } else { 0 }).collect()
        }
        Some(Strategy::Target) => {
            let Some(spec) = &o.target else {
                bail!("--strategy target needs --target (a split's name, or shares such as a=0.7,b=0.3)");
            };
            let share = distribution(s, spec)?;
            if let Some(c) = (0..share.len()).find(|&c| share[c] > 0.0 && have[c] == 0) {
                bail!(
                    "--target: class '{}' has a share but no sample in {shown}",
                    name(c)
                );
            }
            let total = match o.count {
                Some(n) => n,
                None => largest_fitting(&share, &have),
            };
            apportion(total, &share)
        }
    };
    for &c in &present {
        if let Some(hi) = o.max_per_class {
            want[c] = want[c].min(hi);
        }
        if let Some(lo) = o.min_per_class {
            want[c] = want[c].max(lo);
        }
    }
    plan.drop_unusable(s);
    let mut by_class: Vec<Vec<u32>> = vec![Vec::new(); have.len()];
    for &i in &pool {
        by_class[s.class[i as usize] as usize].push(i);
    }
    let mut extra: Vec<Row> = Vec::new();
    for (c, ids) in by_class.iter().enumerate() {
        if ids.is_empty() {
            continue;
        }
        let mut r = rng(seed, &format!("rebalance\0{}", name(c)));
        let n = want[c] as usize;
        if n <= ids.len() {
            let kept = pick(s, ids, n, &mut r);
            for &i in ids {
                if kept.binary_search(&i).is_ok() {
                    let out = plan.same_split(s, i);
                    plan.keep(i, out, "kept");
                } else {
                    let why = if n == 0 {
                        "class not in the target distribution".to_string()
                    } else {
                        format!("class '{}' down to {n}", name(c))
                    };
                    plan.drop(i, "undersampled", why);
                }
            }
            continue;
        }
        for &i in ids {
            let out = plan.same_split(s, i);
            plan.keep(i, out, "kept");
        }
        let more = n - ids.len();
        let split = plan.same_split(s, ids[0]);
        let mut copies: BTreeMap<u32, u32> = BTreeMap::new();
        if o.smote {
            for (base, partner, t) in super::smote::draw(s, ids, more, &mut r)? {
                let k = copies.entry(base).or_default();
                *k += 1;
                extra.push(Row {
                    src: base,
                    split,
                    copy: *k,
                    action: Action::Synthetic { partner, t },
                    reason: "smote",
                    detail: format!("between ids {base} and {partner} at t = {t:.4}"),
                });
            }
        } else {
            for _ in 0..more {
                let base = ids[r.random_range(0..ids.len())];
                let k = copies.entry(base).or_default();
                *k += 1;
                extra.push(Row {
                    src: base,
                    split,
                    copy: *k,
                    action: Action::Copy,
                    reason: "oversampled",
                    detail: format!("class '{}' up to {n}", name(c)),
                });
            }
        }
    }
    plan.rows.extend(extra);
    // The other splits are passed through untouched.
    for i in s.pool(None) {
        if from.is_some_and(|f| s.split[i as usize] != f) {
            let out = plan.same_split(s, i);
            plan.keep(i, out, "not-rebalanced");
        }
    }
    Ok(plan)
}

/// Per-class loss weights: n / (k · n_c) ("balanced", as scikit-learn), or with
/// --target the importance weights target share / observed share.
fn weights(
    s: &Samples,
    o: &Options,
    from: Option<u32>,
    shown: &str,
    have: &[u64],
) -> Result<serde_json::Value> {
    let total: u64 = have.iter().sum();
    let k = have.iter().filter(|&&n| n > 0).count() as f64;
    let share = o
        .target
        .as_deref()
        .map(|t| distribution(s, t))
        .transpose()?;
    let mut classes = Vec::new();
    let mut vector = Vec::new();
    for (c, &n) in have.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let w = match &share {
            Some(p) => p[c] / (n as f64 / total as f64),
            None => total as f64 / (k * n as f64),
        };
        let w = (w * 1e6).round() / 1e6;
        vector.push(w);
        classes.push(serde_json::json!({ "label": s.classes[c], "count": n, "weight": w }));
    }
    let (method, formula) = match &o.target {
        Some(t) => (
            "target",
            format!("target share / share in {shown} (target: {t})"),
        ),
        None => (
            "balanced",
            "samples / (classes × samples of the class), as scikit-learn's class_weight='balanced'"
                .to_string(),
        ),
    };
    Ok(serde_json::json!({
        "split": from.and_then(|f| s.split_name(f)).unwrap_or("(whole dataset)"),
        "method": method,
        "formula": formula,
        "classes": classes,
        "weight_vector": vector,
    }))
}
