//! `dsaudit clean`: the dataset without what the scan found: unreadable and unlabeled
//! samples, copies that leak across splits, identical copies (one is kept), copies
//! whose labels disagree, and optionally flagged label issues (dropped or relabeled).

use super::{Action, Plan, Row, Samples};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

/// Deserialized too: the Python package passes a build's options as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// Also reduce each near-duplicate cluster within a split to one sample.
    pub drop_near: bool,
    /// Keep one of a group of copies whose labels disagree (default: drop them all,
    /// since no one knows which label is right).
    pub keep_conflicting: bool,
    /// A table of label issues to act on: `is_label_issue` and `suggested_label`
    /// columns, keyed by `source` (and `row`) or by manifest `id`.
    pub label_issues: Option<PathBuf>,
    /// Drop the samples flagged as label issues: by the --label-issues table, or
    /// else by confident learning run now (as `dsaudit scan` does, L002).
    pub drop_label_issues: bool,
    /// Give flagged samples their suggested label instead.
    pub relabel: bool,
}

impl Options {
    /// Label issues to act on and no table of them given: the scan's confident
    /// learning must find them.
    pub fn needs_label_search(&self) -> bool {
        (self.drop_label_issues || self.relabel) && self.label_issues.is_none()
    }
}

pub fn plan(s: &Samples, o: &Options, _seed: u64) -> Result<Plan> {
    let mut plan = Plan::new("clean");
    plan.options = serde_json::to_value(o)?;
    let issues = match (&o.label_issues, o.drop_label_issues || o.relabel) {
        (Some(f), true) => read_issues(s, f, o.relabel)?,
        (None, true) => issues_from_scan(s)?,
        (Some(_), false) => {
            bail!("--label-issues: say what to do with them: --drop-label-issues or --relabel")
        }
        (None, false) => HashMap::new(),
    };
    let flagged_by = if o.label_issues.is_some() {
        "flagged in the label-issue table"
    } else {
        "flagged by confident learning (L002)"
    };
    plan.drop_unusable(s);
    let mut dropped: HashMap<u32, (&'static str, String)> = HashMap::new();
    let label = |i: u32| s.classes[s.class[i as usize] as usize].as_str();
    let split_of = |i: u32| s.split_name(s.split[i as usize]).unwrap_or("");
    for cluster in &s.dups.clusters {
        let usable: Vec<u32> = cluster
            .members
            .iter()
            .copied()
            .filter(|&i| s.problem[i as usize].is_none())
            .collect();
        if usable.len() < 2 {
            continue;
        }
        // A cluster across splits keeps the members of its most held-out split.
        let keep_split = usable
            .iter()
            .map(|&i| split_of(i))
            .max_by_key(|sp| dsaudit_core::util::split_order(sp))
            .unwrap_or("");
        for &i in &usable {
            if split_of(i) != keep_split {
                let detail = format!("copy in {keep_split} (cluster {})", cluster.id);
                dropped.insert(i, ("leak", detail));
            }
        }
        let alive = |i: &u32, dropped: &HashMap<u32, (&'static str, String)>| {
            usable.contains(i) && !dropped.contains_key(i)
        };
        // Identical copies first; with --drop-near, then what is left of the cluster.
        let near = o
            .drop_near
            .then_some(("near-duplicate", "near copies", &cluster.members));
        let exact = cluster
            .exact
            .iter()
            .map(|g| ("exact-duplicate", "identical copies", g));
        for (reason, what, group) in exact.chain(near) {
            let left: Vec<u32> = group
                .iter()
                .copied()
                .filter(|i| alive(i, &dropped))
                .collect();
            collapse(
                &left,
                reason,
                what,
                o.keep_conflicting,
                &label,
                &mut dropped,
            );
        }
    }
    for i in s.pool(None) {
        if let Some((reason, detail)) = dropped.remove(&i) {
            plan.drop(i, reason, detail);
            continue;
        }
        let out = plan.same_split(s, i);
        match issues.get(&i) {
            Some(_) if o.drop_label_issues => plan.drop(i, "label-issue", flagged_by.into()),
            Some(Some(to)) if o.relabel && to != label(i) => plan.rows.push(Row {
                src: i,
                split: out,
                copy: 0,
                action: Action::Relabeled { to: to.clone() },
                reason: "label-issue",
                detail: format!("was '{}'", label(i)),
            }),
            Some(None) => plan.drop(i, "label-issue", "flagged with no suggested label".into()),
            _ => plan.keep(i, out, "kept"),
        }
    }
    Ok(plan)
}

/// One of a group of copies stays (the lowest id); when their labels disagree none
/// does, unless the user keeps conflicts.
fn collapse<'a>(
    group: &[u32],
    reason: &'static str,
    what: &str,
    keep_conflicting: bool,
    label: &impl Fn(u32) -> &'a str,
    dropped: &mut HashMap<u32, (&'static str, String)>,
) {
    let Some(&first) = group.iter().min() else {
        return;
    };
    if group.len() < 2 {
        return;
    }
    let labels: BTreeSet<&str> = group.iter().map(|&i| label(i)).collect();
    if labels.len() > 1 && !keep_conflicting {
        let list: Vec<&str> = labels.into_iter().collect();
        for &i in group {
            dropped.insert(
                i,
                (
                    "conflicting-labels",
                    format!("{what} labelled {}", list.join(", ")),
                ),
            );
        }
        return;
    }
    for &i in group.iter().filter(|&&i| i != first) {
        dropped.insert(i, (reason, format!("copy of id {first}")));
    }
}

/// The samples confident learning flagged during the scan (the manifest's
/// `is_label_issue` and `suggested_label` columns), with their suggested label.
fn issues_from_scan(s: &Samples) -> Result<HashMap<u32, Option<String>>> {
    let df = &s.loaded.manifest.df;
    let flags = df.column("is_label_issue")?.bool()?.clone();
    let suggested = df.column("suggested_label")?.str()?.clone();
    Ok(flags
        .iter()
        .enumerate()
        .filter(|(_, f)| *f == Some(true))
        .map(|(i, _)| (i as u32, suggested.get(i).map(str::to_string)))
        .collect())
}

/// The flagged samples and their suggested label, matched to this dataset's samples
/// by `source` (and `row`) when the table has them, else by `id`.
fn read_issues(
    s: &Samples,
    path: &std::path::Path,
    need_suggestion: bool,
) -> Result<HashMap<u32, Option<String>>> {
    let shown = path.display();
    let df = dsaudit_core::load::table::read(path, None)?;
    let col = |name: &str| {
        df.get_column_names()
            .into_iter()
            .find(|c| c.as_str() == name)
            .is_some()
    };
    if !col("is_label_issue") {
        bail!("{shown}: no is_label_issue column (expected is_label_issue, suggested_label, and source or id)");
    }
    if need_suggestion && !col("suggested_label") {
        bail!("{shown}: --relabel needs a suggested_label column");
    }
    use polars::prelude::*;
    let flag = df
        .column("is_label_issue")?
        .cast(&DataType::Boolean)
        .map_err(|_| anyhow::anyhow!("{shown}: is_label_issue is not true/false"))?;
    let flag = flag.bool()?.clone();
    let suggested = if col("suggested_label") {
        Some(dsaudit_core::load::table::label_strings(
            df.column("suggested_label")?,
        )?)
    } else {
        None
    };
    let m = &s.loaded.manifest;
    let index: Vec<Option<u32>> = if col("source") {
        let key = |src: &str, row: Option<u64>| {
            format!("{src}\0{}", row.map_or(String::new(), |r| r.to_string()))
        };
        let rows = m.u64s("row");
        let by_key: HashMap<String, u32> = m
            .strs("source")
            .iter()
            .zip(rows.iter())
            .enumerate()
            .map(|(i, (src, row))| (key(src.unwrap_or(""), row), i as u32))
            .collect();
        let sources = df.column("source")?.cast(&DataType::String)?;
        let their_rows = if col("row") {
            Some(df.column("row")?.cast(&DataType::UInt64)?)
        } else {
            None
        };
        let their_rows = their_rows.as_ref().map(|c| c.u64()).transpose()?;
        sources
            .str()?
            .iter()
            .enumerate()
            .map(|(k, src)| {
                by_key
                    .get(&key(src.unwrap_or(""), their_rows.and_then(|r| r.get(k))))
                    .copied()
            })
            .collect()
    } else if col("id") {
        let ids = df.column("id")?.cast(&DataType::UInt64)?;
        ids.u64()?
            .iter()
            .map(|id| id.filter(|&v| v < s.len() as u64).map(|v| v as u32))
            .collect()
    } else {
        bail!("{shown}: no source or id column to match the dataset's samples by");
    };
    if let Some(k) = index.iter().position(Option::is_none) {
        bail!(
            "{shown}: row {} matches no sample of the dataset ({} of {} rows unmatched); was it made from another dataset?",
            k + 1,
            index.iter().filter(|x| x.is_none()).count(),
            index.len()
        );
    }
    let mut out = HashMap::new();
    for (k, i) in index.into_iter().enumerate() {
        if flag.get(k).unwrap_or(false) {
            let to = suggested
                .as_ref()
                .and_then(|c| c.str().ok()?.get(k).map(str::to_string));
            out.insert(i.expect("checked above"), to);
        }
    }
    Ok(out)
}
