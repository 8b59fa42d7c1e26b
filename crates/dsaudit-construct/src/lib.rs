//! Building datasets from a scan: the two validation splits, rebalanced subsets, a
//! tiny subset to overfit, a cleaned copy. Each command turns the scanned samples
//! into a `Plan` (every input sample once, kept or dropped with a reason, plus any
//! copies or synthetic rows); `write` then stages the outputs in a temporary
//! directory and renames it into place.

pub mod arrays;
pub mod clean;
pub mod csv_lines;
pub mod detection;
pub mod hf_shards;
pub mod images;
pub mod outdir;
pub mod rebalance;
pub mod run;
pub mod select;
pub mod smote;
pub mod split;
pub mod subset;
pub mod tables;
pub mod tar_shards;
pub mod write;

use dsaudit_core::duplicates::Duplicates;
use dsaudit_core::load::DatasetSpec;
use dsaudit_core::load::Loaded;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeMap;

/// Marks "no class", "no cluster".
pub const NONE: u32 = u32::MAX;

/// The scanned dataset, coded for the builders: classes and splits as indices.
pub struct Samples<'a> {
    pub spec: &'a DatasetSpec,
    pub loaded: &'a Loaded,
    pub dups: &'a Duplicates,
    /// Class names, sorted.
    pub classes: Vec<String>,
    /// Split names in train, train-val, val, test-val, test order; None = no split.
    pub splits: Vec<Option<String>>,
    pub class: Vec<u32>,
    pub split: Vec<u32>,
    /// Why a sample cannot be used at all (unreadable file, no label).
    pub problem: Vec<Option<&'static str>>,
    /// Duplicate cluster, NONE when the sample has no copy.
    pub group: Vec<u32>,
}

impl<'a> Samples<'a> {
    pub fn new(spec: &'a DatasetSpec, loaded: &'a Loaded, dups: &'a Duplicates) -> Samples<'a> {
        let m = &loaded.manifest;
        let (splits, errors) = (m.strs("split"), m.strs("error_kind"));
        // A detection image has no label: it is stratified by its rarest box class.
        let strata: Option<Vec<String>> = loaded.detection.as_ref().map(|d| d.strata(m.len()));
        let labels: Vec<Option<&str>> = match &strata {
            Some(strata) => strata.iter().map(|s| Some(s.as_str())).collect(),
            None => m.strs("label").iter().collect(),
        };
        let mut class_names: Vec<String> = labels
            .iter()
            .flatten()
            .copied()
            .collect::<HashSet<&str>>()
            .into_iter()
            .map(str::to_string)
            .collect();
        class_names.sort();
        let mut split_names: Vec<Option<String>> = splits
            .iter()
            .collect::<HashSet<Option<&str>>>()
            .into_iter()
            .map(|s| s.map(str::to_string))
            .collect();
        split_names.sort_by_key(|s| {
            (
                s.is_none(),
                dsaudit_core::util::split_order(s.as_deref().unwrap_or("")),
            )
        });
        let class_index: HashMap<&str, u32> = class_names
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i as u32))
            .collect();
        let split_index: HashMap<Option<&str>, u32> = split_names
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_deref(), i as u32))
            .collect();
        let class: Vec<u32> = labels
            .iter()
            .map(|l| l.map_or(NONE, |l| class_index[l]))
            .collect();
        let split: Vec<u32> = splits.iter().map(|s| split_index[&s]).collect();
        let problem = errors
            .iter()
            .zip(&class)
            .map(|(e, &c)| match (e, c) {
                (Some(_), _) => Some("unreadable"),
                (None, NONE) => Some("unlabeled"),
                _ => None,
            })
            .collect();
        let group = dups.cluster_of.iter().map(|c| c.unwrap_or(NONE)).collect();
        Samples {
            spec,
            loaded,
            dups,
            classes: class_names,
            splits: split_names,
            class,
            split,
            problem,
            group,
        }
    }

    pub fn len(&self) -> usize {
        self.class.len()
    }

    pub fn is_empty(&self) -> bool {
        self.class.is_empty()
    }

    pub fn split_index(&self, name: &str) -> Option<u32> {
        self.splits
            .iter()
            .position(|s| s.as_deref() == Some(name))
            .map(|i| i as u32)
    }

    pub fn split_name(&self, s: u32) -> Option<&str> {
        self.splits[s as usize].as_deref()
    }

    /// Usable samples of one split (or of every split when None), ascending ids.
    pub fn pool(&self, split: Option<u32>) -> Vec<u32> {
        (0..self.len() as u32)
            .filter(|&i| self.problem[i as usize].is_none())
            .filter(|&i| split.is_none_or(|s| self.split[i as usize] == s))
            .collect()
    }

    /// Samples per class among `ids`.
    pub fn counts(&self, ids: &[u32]) -> Vec<u64> {
        let mut n = vec![0u64; self.classes.len()];
        for &i in ids {
            n[self.class[i as usize] as usize] += 1;
        }
        n
    }

    /// What a split is called in messages: its name, or "the dataset" when unsplit.
    pub fn shown(&self, split: Option<u32>) -> String {
        match split.and_then(|s| self.split_name(s)) {
            Some(name) => format!("split '{name}'"),
            None => "the dataset".into(),
        }
    }
}

/// What happened to a sample, or where a row came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Kept,
    /// An extra copy drawn by oversampling.
    Copy,
    /// A SMOTE row between `src` and `partner`, at `t` of the way.
    Synthetic {
        partner: u32,
        t: f64,
    },
    Relabeled {
        to: String,
    },
    Dropped,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Kept => "kept",
            Action::Copy => "copy",
            Action::Synthetic { .. } => "synthetic",
            Action::Relabeled { .. } => "relabeled",
            Action::Dropped => "dropped",
        }
    }

    pub fn is_output(&self) -> bool {
        !matches!(self, Action::Dropped)
    }
}

/// One row of the output manifest.
#[derive(Debug, Clone)]
pub struct Row {
    pub src: u32,
    /// Output split (index into `Plan::splits`); None for dropped rows and unsplit data.
    pub split: Option<u16>,
    /// Copies and synthetic rows of one source are numbered from 1.
    pub copy: u32,
    pub action: Action,
    /// A short stable code (e.g. `held-out`, `leak`, `undersampled`).
    pub reason: &'static str,
    pub detail: String,
}

/// A command's decisions: every input sample once, plus the rows it adds.
#[derive(Debug, Default)]
pub struct Plan {
    pub command: &'static str,
    pub splits: Vec<String>,
    pub rows: Vec<Row>,
    /// Things the user should know (classes that could not be stratified, leaks kept).
    pub notes: Vec<String>,
    /// The command's settings, for build.json.
    pub options: serde_json::Value,
    /// `rebalance --strategy weights` writes these instead of any sample.
    pub weights: Option<serde_json::Value>,
    /// `same_split`'s answers by input split: a million samples, a few splits.
    same_split_of: Vec<Option<Option<u16>>>,
}

impl Plan {
    pub fn new(command: &'static str) -> Plan {
        Plan {
            command,
            ..Default::default()
        }
    }

    /// The index of an output split, added on first use.
    pub fn split(&mut self, name: &str) -> u16 {
        match self.splits.iter().position(|s| s == name) {
            Some(i) => i as u16,
            None => {
                self.splits.push(name.to_string());
                (self.splits.len() - 1) as u16
            }
        }
    }

    pub fn keep(&mut self, src: u32, split: Option<u16>, reason: &'static str) {
        self.rows.push(Row {
            src,
            split,
            copy: 0,
            action: Action::Kept,
            reason,
            detail: String::new(),
        });
    }

    pub fn drop(&mut self, src: u32, reason: &'static str, detail: String) {
        self.rows.push(Row {
            src,
            split: None,
            copy: 0,
            action: Action::Dropped,
            reason,
            detail,
        });
    }

    /// Drops every unusable sample with its reason; the commands then plan the rest.
    pub fn drop_unusable(&mut self, s: &Samples) {
        // Every command plans each sample once: growing a million rows by doubling
        // copied them about twice over.
        self.rows.reserve(s.len());
        let errors = s.loaded.manifest.strs("error");
        for (i, p) in s.problem.iter().enumerate() {
            if let Some(p) = p {
                let detail = match *p {
                    "unreadable" => errors.get(i).unwrap_or("").to_string(),
                    _ => "no label".into(),
                };
                self.drop(i as u32, p, detail);
            }
        }
    }

    /// The output split a sample keeps when a command does not move it: its own
    /// split's name, or None for unsplit data.
    pub fn same_split(&mut self, s: &Samples, i: u32) -> Option<u16> {
        let k = s.split[i as usize] as usize;
        if self.same_split_of.len() <= k {
            self.same_split_of.resize(k + 1, None);
        }
        if let Some(out) = self.same_split_of[k] {
            return out;
        }
        let out = s.split_name(k as u32).map(|name| self.split(name));
        self.same_split_of[k] = Some(out);
        out
    }

    /// Output rows per (split, class name) and dropped rows per reason.
    pub fn counts(
        &self,
        s: &Samples,
    ) -> (
        BTreeMap<String, BTreeMap<String, u64>>,
        BTreeMap<String, u64>,
    ) {
        // Tallied by index, named at the end: a million rows, a handful of names.
        let mut by_code: HashMap<(Option<u16>, u32), u64> = Default::default();
        let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        let mut dropped: BTreeMap<String, u64> = BTreeMap::new();
        let split_name = |sp: Option<u16>| {
            sp.map_or("(no split)".to_string(), |i| {
                self.splits[i as usize].clone()
            })
        };
        for r in &self.rows {
            match &r.action {
                Action::Dropped => *dropped.entry(r.reason.to_string()).or_default() += 1,
                Action::Relabeled { to } => {
                    *out.entry(split_name(r.split))
                        .or_default()
                        .entry(to.clone())
                        .or_default() += 1
                }
                _ => {
                    *by_code
                        .entry((r.split, s.class[r.src as usize]))
                        .or_default() += 1
                }
            }
        }
        for ((sp, c), n) in by_code {
            *out.entry(split_name(sp))
                .or_default()
                .entry(s.classes[c as usize].clone())
                .or_default() += n;
        }
        (out, dropped)
    }
}

/// A random stream for one purpose (`what`) under the user's seed: adding a class or
/// a split changes no other stream.
pub fn rng(seed: u64, what: &str) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ xxhash_rust::xxh3::xxh3_64(what.as_bytes()))
}

/// Reads `0.1` as a fraction of `of` and `500` as a count; the result is a count.
pub fn parse_size(flag: &str, text: &str, of: u64) -> anyhow::Result<u64> {
    if let Ok(n) = text.trim().parse::<u64>() {
        return Ok(n);
    }
    match text.trim().parse::<f64>() {
        Ok(f) if f > 0.0 && f < 1.0 => Ok((f * of as f64).round() as u64),
        _ => anyhow::bail!(
            "{flag} {text}: expected a fraction between 0 and 1 (0.1) or a count (500)"
        ),
    }
}
