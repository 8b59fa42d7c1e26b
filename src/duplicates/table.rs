//! Tables: identical rows by their fingerprint over every feature column, similar
//! rows by Euclidean distance on standardized numeric features, searched with a k-d
//! tree (kiddo) within a radius relative to the typical nearest-neighbour
//! distance, as cleanlab's near-duplicate check does.

use super::{NearSearch, Params};
use crate::load::rows::TableRows;
use kiddo::{ImmutableKdTree, SquaredEuclidean};
use rayon::prelude::*;
use std::collections::HashSet;

/// Rows sampled to estimate the median nearest-neighbour distance: enough for a
/// stable median, few enough that the estimate costs a fraction of the search.
pub const NN_SAMPLE: usize = 300;

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
    if d > MAX_DIMS {
        search.skipped = Some(format!(
            "{d} numeric features: above {MAX_DIMS}, a k-d tree is no faster than comparing all pairs"
        ));
        return (Vec::new(), search);
    }
    // One representative per distinct row: copies are already joined by their key.
    let mut seen: HashSet<u128> = HashSet::with_capacity(rows.len());
    let reps: Vec<u32> = (0..rows.len() as u32)
        .filter(|&i| seen.insert(rows.hash[i as usize]))
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
    // The tree's dimension is a type parameter: pad with zero coordinates, which
    // change no distance.
    let pairs = match d {
        0..=4 => search_tree::<4>(&points, d, rows, &reps, params, &mut search),
        5..=8 => search_tree::<8>(&points, d, rows, &reps, params, &mut search),
        9..=16 => search_tree::<16>(&points, d, rows, &reps, params, &mut search),
        17..=32 => search_tree::<32>(&points, d, rows, &reps, params, &mut search),
        _ => search_tree::<64>(&points, d, rows, &reps, params, &mut search),
    };
    (pairs, search)
}

/// Beyond this many numeric features the search is skipped, with the reason stated.
pub const MAX_DIMS: usize = 64;

fn search_tree<const K: usize>(
    points: &[f32],
    d: usize,
    rows: &TableRows,
    reps: &[u32],
    params: &Params,
    search: &mut NearSearch,
) -> Vec<(u32, u32)> {
    let padded: Vec<[f32; K]> = points
        .chunks_exact(d)
        .map(|p| std::array::from_fn(|j| if j < d { p[j] } else { 0.0 }))
        .collect();
    let tree: ImmutableKdTree<f32, K> = ImmutableKdTree::new_from_slice(&padded);
    // Evenly spaced rows, not random ones: the same input always gives the same estimate.
    let step = (reps.len() / NN_SAMPLE).max(1);
    let two = std::num::NonZero::new(2).expect("2 is not 0");
    let mut nn: Vec<f64> = (0..reps.len())
        .step_by(step)
        .take(NN_SAMPLE)
        .collect::<Vec<_>>()
        .par_iter()
        .filter_map(|&i| {
            tree.nearest_n::<SquaredEuclidean>(&padded[i], two)
                .into_iter()
                .find(|n| n.item as usize != i)
                .map(|n| (n.distance as f64).sqrt())
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
        return Vec::new();
    }
    let r2 = (radius * radius) as f32;
    let mut pairs: Vec<(u32, u32)> = (0..reps.len())
        .into_par_iter()
        .flat_map_iter(|a| {
            let ta = rows.text_hash[reps[a] as usize];
            tree.within_unsorted::<SquaredEuclidean>(&padded[a], r2)
                .into_iter()
                .map(|n| n.item as usize)
                .filter(move |&b| b > a && rows.text_hash[reps[b] as usize] == ta)
                .map(move |b| (reps[a], reps[b]))
        })
        .collect();
    pairs.sort_unstable();
    pairs
}

/// z-scores of the representatives; missing and non-finite values sit at the mean
/// (0) so they neither attract nor repel, and a constant column contributes nothing.
fn standardized(rows: &TableRows, reps: &[u32], d: usize) -> Vec<f32> {
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
    let mut out = vec![0f32; reps.len() * d];
    for (k, &r) in reps.iter().enumerate() {
        let row = &rows.numeric[r as usize * d..(r as usize + 1) * d];
        for (j, &v) in row.iter().enumerate() {
            let (mean, std) = stats[j];
            out[k * d + j] = if v.is_finite() && std > 0.0 {
                ((v as f64 - mean) / std) as f32
            } else {
                0.0
            };
        }
    }
    out
}
