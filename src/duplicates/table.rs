//! Tables: identical rows by their fingerprint over every feature column, similar
//! rows by Euclidean distance on standardized numeric features, searched with a k-d
//! tree (linfa-nn) within a radius relative to the typical nearest-neighbour
//! distance, as cleanlab's near-duplicate check does.

use super::{NearSearch, Params};
use crate::load::rows::TableRows;
use linfa_nn::{distance::L2Dist, CommonNearestNeighbour, NearestNeighbour};
use ndarray::{Array2, ArrayView1};
use rayon::prelude::*;
use std::collections::HashMap;

/// Rows sampled to estimate the median nearest-neighbour distance: enough for a
/// stable median, few enough that the estimate costs a fraction of the search.
pub const NN_SAMPLE: usize = 1000;

pub fn keys(rows: &TableRows) -> Vec<Option<u128>> {
    rows.hash.iter().map(|&h| Some(h)).collect()
}

pub fn near_pairs(rows: &TableRows, params: &Params) -> (Vec<(u32, u32)>, NearSearch) {
    let d = rows.features.numeric.len();
    let mut search = NearSearch {
        method:
            "k-d tree on standardized numeric features; rows must also agree on every text feature"
                .into(),
        ..Default::default()
    };
    if d == 0 {
        search.skipped = Some("no numeric feature columns".into());
        return (Vec::new(), search);
    }
    // One representative per distinct row: copies are already joined by their key.
    let mut seen: HashMap<u128, ()> = HashMap::with_capacity(rows.len());
    let reps: Vec<u32> = (0..rows.len() as u32)
        .filter(|&i| seen.insert(rows.hash[i as usize], ()).is_none())
        .collect();
    search.compared = reps.len() as u64;
    if reps.len() < 3 {
        search.skipped = Some(format!(
            "{} distinct rows: too few to tell a typical distance",
            reps.len()
        ));
        return (Vec::new(), search);
    }
    let points = standardized(rows, &reps, d);
    let index = match CommonNearestNeighbour::KdTree.from_batch(&points, L2Dist) {
        Ok(i) => i,
        Err(e) => {
            search.skipped = Some(format!("cannot build the k-d tree: {e}"));
            return (Vec::new(), search);
        }
    };
    let dist = |a: ArrayView1<f32>, b: ArrayView1<f32>| -> f64 {
        a.iter()
            .zip(b.iter())
            .map(|(x, y)| ((x - y) as f64).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    // Evenly spaced rows, not random ones: the same input always gives the same estimate.
    let step = (reps.len() / NN_SAMPLE).max(1);
    let mut nn: Vec<f64> = (0..reps.len())
        .step_by(step)
        .take(NN_SAMPLE)
        .collect::<Vec<_>>()
        .par_iter()
        .filter_map(|&i| {
            let q = points.row(i);
            let found = index.k_nearest(q, 2).ok()?;
            found
                .iter()
                .find(|(_, j)| *j != i)
                .map(|(p, _)| dist(q, p.view()))
        })
        .collect();
    nn.sort_by(f64::total_cmp);
    let median = nn.get(nn.len() / 2).copied().unwrap_or(0.0);
    let radius = params.table_radius * median;
    search.median_nn_distance = Some(median);
    search.radius = Some(radius);
    if radius <= 0.0 {
        search.skipped = Some(
            "the median nearest-neighbour distance is 0: only identical rows are duplicates".into(),
        );
        return (Vec::new(), search);
    }
    let pairs: Vec<(u32, u32)> = (0..reps.len())
        .into_par_iter()
        .map(|a| {
            let q = points.row(a);
            let ta = rows.text_hash[reps[a] as usize];
            index
                .within_range(q, radius as f32)
                .map(|found| {
                    found
                        .into_iter()
                        .filter(|&(_, b)| b > a && rows.text_hash[reps[b] as usize] == ta)
                        .map(|(_, b)| (reps[a], reps[b]))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .flatten()
        .collect();
    let mut pairs = pairs;
    pairs.sort_unstable();
    (pairs, search)
}

/// z-scores of the representatives; missing and non-finite values sit at the mean
/// (0) so they neither attract nor repel, and a constant column contributes nothing.
fn standardized(rows: &TableRows, reps: &[u32], d: usize) -> Array2<f32> {
    let mut moments = vec![crate::stats::moments::Moments::default(); d];
    for &r in reps {
        let row = &rows.numeric[r as usize * d..(r as usize + 1) * d];
        for (m, &v) in moments.iter_mut().zip(row) {
            if v.is_finite() {
                m.push(v as f64);
            }
        }
    }
    let stats: Vec<(f64, f64)> = moments.iter().map(|m| (m.mean, m.std())).collect();
    let mut out = Array2::<f32>::zeros((reps.len(), d));
    for (k, &r) in reps.iter().enumerate() {
        let row = &rows.numeric[r as usize * d..(r as usize + 1) * d];
        for (j, &v) in row.iter().enumerate() {
            let (mean, std) = stats[j];
            out[[k, j]] = if v.is_finite() && std > 0.0 {
                ((v as f64 - mean) / std) as f32
            } else {
                0.0
            };
        }
    }
    out
}
