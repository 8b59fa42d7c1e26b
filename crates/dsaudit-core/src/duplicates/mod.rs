//! Duplicate clusters: samples that are identical or nearly so, found once per scan
//! (after loading, before the rules) and shared by the duplicate, leakage and
//! conflicting-label rules, the manifest's `dup_cluster` column, the JSON report,
//! and later the group-aware splits.

pub mod clusters;
mod hamming;
pub mod images;
pub mod radius_join;
pub mod similarity;
pub mod table;

use crate::finding::Threshold;
use crate::load::Loaded;
use serde::Serialize;

/// The near-copy search's parameters: declared here, with the stage, and set by the
/// user through its rule (`--threshold near-duplicates.KEY=VALUE`).
pub const THRESHOLDS: &[Threshold] = &[
    Threshold {
        key: "phash",
        default: 10.0,
        doc: "largest Hamming distance (of 64 bits) between the centred pHashes of a candidate pair of images",
    },
    Threshold {
        key: "max-distance",
        default: 0.005,
        doc: "largest pixel distance (1 − correlation of the 32×32 grey images) of a near copy",
    },
    Threshold {
        key: "nn-fraction",
        default: 0.08,
        doc: "a near copy is also closer than this fraction of the dataset's median nearest-neighbour pixel distance",
    },
    Threshold {
        key: "table-radius",
        default: 0.13,
        doc: "rows closer than this fraction of the median nearest-neighbour distance are near duplicates",
    },
];

/// Thresholds of the similarity search (documented with rule D002).
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Largest Hamming distance between the centred pHashes of a candidate pair.
    pub phash: u32,
    /// Largest pixel distance (1 − correlation, `similarity::distance`) of a near
    /// copy, whatever the dataset.
    pub max_distance: f64,
    /// A near copy is also closer than this fraction of the dataset's median
    /// nearest-neighbour pixel distance.
    pub nn_fraction: f64,
    /// Table rows: radius as a fraction of the median nearest-neighbour distance.
    pub table_radius: f64,
}

impl Params {
    /// The parameters from `value` of each key of `THRESHOLDS`.
    pub fn read(value: &dyn Fn(&str) -> f64) -> Params {
        Params {
            phash: value("phash").max(0.0) as u32,
            max_distance: value("max-distance").max(0.0),
            nn_fraction: value("nn-fraction").max(0.0),
            table_radius: value("table-radius"),
        }
    }
}

/// Two distinct samples (each the first of its identical copies) confirmed as near
/// copies, and how far apart they are (NaN where the search measures no distance).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    pub a: u32,
    pub b: u32,
    pub distance: f32,
}

/// A member of a cluster that is a near copy of its representative.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NearMember {
    pub sample: u32,
    /// 1 − pixel distance to the representative (images); absent for table rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
}

/// Samples that are copies of one picture or row: identical copies of it, and near
/// copies each within the threshold of the representative (never a chain).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cluster {
    pub id: u32,
    /// Sample ids, ascending.
    pub members: Vec<u32>,
    /// The sample every near member was compared with.
    pub representative: u32,
    /// Groups of identical members (two or more each).
    pub exact: Vec<Vec<u32>>,
    /// Whether some members are similar rather than identical.
    pub near: bool,
    /// The distinct near copies of the representative (their identical copies are in
    /// `exact`), with their similarity to it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub near_members: Vec<NearMember>,
}

impl Cluster {
    /// The similarity of `m` to the representative: 1 for the representative and its
    /// identical copies, else the near member's (None for table rows).
    pub fn similarity(&self, m: u32, same: impl Fn(u32) -> u32) -> Option<f64> {
        let first = same(m);
        if first == same(self.representative) {
            return Some(1.0);
        }
        self.near_members
            .iter()
            .find(|n| n.sample == first)
            .and_then(|n| n.similarity)
    }
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
    /// Candidate pairs the hash search proposed (for `--timings`: an incremental
    /// search counts the kept pairs instead of finding them again), and how many the
    /// pixels confirmed within the threshold.
    #[serde(skip)]
    pub candidates: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub confirmed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_nn_distance: Option<f64>,
    /// Images: how many distinct pictures the median nearest-neighbour distance was
    /// measured on.
    #[serde(skip_serializing_if = "is_zero")]
    pub calibration_sample: u64,
    /// Tables: the radius; images: the largest pixel distance of a near copy.
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
    /// Each sample's first identical sample (`clusters::first_same`).
    pub same: Vec<u32>,
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
            let (pairs, search, s) =
                images::near_pairs(m, &loaded.smalls, &keys, &same, &params, prior);
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
        same,
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
            same: vec![clusters::NO_KEY; n],
            state: None,
        }
    }

    pub fn json(&self) -> serde_json::Value {
        let (p, s) = (self.params, &self.search);
        let params = serde_json::json!({
            "phash": p.phash,
            "max_distance": p.max_distance,
            "nn_fraction": p.nn_fraction,
            "table_radius": p.table_radius,
            "median_nn_distance": s.median_nn_distance.map(crate::util::round4),
            "calibration_sample": s.calibration_sample,
            "distance": s.radius.map(|r| (r * 1e6).round() / 1e6),
        });
        serde_json::json!({
            "clusters": self.clusters,
            "near_search": self.search,
            "thresholds": params,
        })
    }
}
