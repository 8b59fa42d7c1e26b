//! Duplicate clusters: samples that are identical or nearly so, found once per scan
//! (after loading, before the rules) and shared by the duplicate, leakage and
//! conflicting-label rules, the manifest's `dup_cluster` column, the JSON report,
//! and later the group-aware splits.

pub mod clusters;
pub mod images;
pub mod radius_join;
pub mod table;

use crate::load::Loaded;
use serde::Serialize;

/// Thresholds of the similarity search (documented with rule D002).
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Largest pHash Hamming distance between near-duplicate images.
    pub phash: u32,
    /// Largest dHash Hamming distance, the second opinion.
    pub dhash: u32,
    /// Table rows: radius as a fraction of the median nearest-neighbour distance.
    pub table_radius: f64,
}

/// Samples joined by identity or similarity; every member is reachable from every
/// other through identical copies and near-duplicate pairs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cluster {
    pub id: u32,
    /// Sample ids, ascending.
    pub members: Vec<u32>,
    /// Groups of identical members (two or more each).
    pub exact: Vec<Vec<u32>>,
    /// Whether some members are similar rather than identical.
    pub near: bool,
}

/// How the similarity search went, for the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NearSearch {
    pub method: String,
    /// Distinct samples compared (copies count once).
    pub compared: u64,
    /// Why no search ran, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Images too small for a perceptual hash (compared exactly only).
    #[serde(skip)]
    pub unhashed: Vec<u32>,
    /// Blank images left out of the similarity search.
    #[serde(skip_serializing_if = "is_zero")]
    pub blank: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_nn_distance: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub radius: Option<f64>,
    /// Wall time of each step, for `--timings`.
    #[serde(skip)]
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone)]
pub struct Duplicates {
    pub clusters: Vec<Cluster>,
    /// Each sample's cluster, None when it has no copy.
    pub cluster_of: Vec<Option<u32>>,
    pub search: NearSearch,
    pub params: Params,
    /// What `dsaudit check` keeps for its next run (images only).
    pub state: Option<images::NearState>,
}

/// `prior`: the last check's image search, which the new one updates.
pub fn find(loaded: &Loaded, params: Params, prior: Option<&images::NearState>) -> Duplicates {
    let m = &loaded.manifest;
    let mut state = None;
    let (same, (near, search)) = match &loaded.rows {
        Some(rows) if rows.len() == m.len() => {
            let started = std::time::Instant::now();
            let same = clusters::first_same(rows.len(), |i| Some(rows.hash[i]));
            let identical = started.elapsed();
            let (pairs, mut search) = table::near_pairs(rows, &same, &params);
            search.timings.insert(0, ("identical rows", identical));
            (same, (pairs, search))
        }
        _ if m.strs("pixel_blake3").null_count() < m.len() => {
            let keys = images::keys(m);
            let same = clusters::first_same(keys.len(), |i| keys[i]);
            let (pairs, search, s) = images::near_pairs(m, &keys, &same, &params, prior);
            state = Some(s);
            (same, (pairs, search))
        }
        _ => {
            let why = if loaded.array_values.is_some() {
                "arrays are not searched for duplicates yet"
            } else {
                "no readable image or table row to compare"
            };
            let search = NearSearch {
                skipped: Some(why.into()),
                ..Default::default()
            };
            (vec![clusters::NO_KEY; m.len()], (Vec::new(), search))
        }
    };
    let started = std::time::Instant::now();
    let (clusters, cluster_of) = clusters::build(&same, &near);
    let mut search = search;
    search.timings.push(("clusters", started.elapsed()));
    Duplicates {
        clusters,
        cluster_of,
        search,
        params,
        state,
    }
}

impl Duplicates {
    /// No search ran (a command that reports no duplicates): no sample has a cluster.
    pub fn not_searched(n: usize, params: Params) -> Duplicates {
        Duplicates {
            clusters: Vec::new(),
            cluster_of: vec![None; n],
            search: NearSearch {
                skipped: Some("not searched by this command".into()),
                ..Default::default()
            },
            params,
            state: None,
        }
    }

    pub fn json(&self) -> serde_json::Value {
        let p = self.params;
        let params = serde_json::json!({ "phash": p.phash, "dhash": p.dhash, "table_radius": p.table_radius });
        serde_json::json!({
            "clusters": self.clusters,
            "near_search": self.search,
            "thresholds": params,
        })
    }
}
