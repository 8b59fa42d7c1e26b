//! Tables: identical rows by their fingerprint over every feature column, similar
//! rows by Euclidean distance on standardized numeric features, searched with a k-d
//! tree (kiddo) within a radius relative to the typical nearest-neighbour
//! distance, as cleanlab's near-duplicate check does.

use super::{NearSearch, Params};
use crate::load::rows::TableRows;
use kiddo::SquaredEuclidean;

type Tree<const K: usize> = kiddo::immutable::float::kdtree::ImmutableKdTree<f32, u32, K, BUCKET>;
use rayon::prelude::*;
use rustc_hash::FxHashSet as HashSet;

/// Rows sampled to estimate the median nearest-neighbour distance: the median of
/// 100 is within a few per cent of the whole set's, and on many features each
/// nearest-neighbour query visits much of the tree (300 took a second on a million
/// rows of 19 features).
pub const NN_SAMPLE: usize = 100;
/// Points per leaf of the tree: 8, 16 and 32 measured within noise of each other
/// on a million rows; 16 was the best of them.
const BUCKET: usize = 16;

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
    let mut seen: HashSet<u128> = HashSet::with_capacity_and_hasher(rows.len(), Default::default());
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
    // Queries in spatial order walk the same tree paths one after another, so the
    // nodes they touch are still in cache: on a million rows this halves the search.
    let order = spatial_order(&points, d);
    let reps: Vec<u32> = order.iter().map(|&k| reps[k as usize]).collect();
    let points: Vec<f32> = order
        .iter()
        .flat_map(|&k| &points[k as usize * d..(k as usize + 1) * d])
        .copied()
        .collect();
    // The tree's dimension is a type parameter: pad with zero coordinates, which
    // change no distance, to the next of a few sizes (every coordinate costs time in
    // every distance, so the steps are small).
    let run = |s: &mut NearSearch| match d {
        0..=4 => search_tree::<4>(&points, d, rows, &reps, params, s),
        5..=8 => search_tree::<8>(&points, d, rows, &reps, params, s),
        9..=12 => search_tree::<12>(&points, d, rows, &reps, params, s),
        13..=16 => search_tree::<16>(&points, d, rows, &reps, params, s),
        17..=20 => search_tree::<20>(&points, d, rows, &reps, params, s),
        21..=24 => search_tree::<24>(&points, d, rows, &reps, params, s),
        25..=32 => search_tree::<32>(&points, d, rows, &reps, params, s),
        33..=48 => search_tree::<48>(&points, d, rows, &reps, params, s),
        _ => search_tree::<64>(&points, d, rows, &reps, params, s),
    };
    let pairs = run(&mut search);
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
    let tree: Tree<K> = Tree::new_from_slice(&padded);
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

/// A permutation that puts nearby points next to each other: recursive median
/// splits on each coordinate in turn, as a k-d tree is built, down to small groups.
fn spatial_order(points: &[f32], d: usize) -> Vec<u32> {
    fn split(idx: &mut [u32], points: &[f32], d: usize, j: usize) {
        if idx.len() <= 64 {
            return;
        }
        let mid = idx.len() / 2;
        idx.select_nth_unstable_by(mid, |&a, &b| {
            points[a as usize * d + j].total_cmp(&points[b as usize * d + j])
        });
        let (left, right) = idx.split_at_mut(mid);
        let next = (j + 1) % d;
        rayon::join(
            || split(left, points, d, next),
            || split(right, points, d, next),
        );
    }
    let mut idx: Vec<u32> = (0..(points.len() / d.max(1)) as u32).collect();
    split(&mut idx, points, d, 0);
    idx
}

/// z-scores of the representatives; missing and non-finite values sit at the mean
/// (0) so they neither attract nor repel, and a constant column contributes nothing.
fn standardized(rows: &TableRows, reps: &[u32], d: usize) -> Vec<f32> {
    let moments = reps
        .par_chunks(32_768)
        .map(|chunk| {
            let mut m = vec![crate::stats::moments::Moments::default(); d];
            for &r in chunk {
                let row = &rows.numeric[r as usize * d..(r as usize + 1) * d];
                for (m, &v) in m.iter_mut().zip(row) {
                    if v.is_finite() {
                        m.push(v as f64);
                    }
                }
            }
            m
        })
        .collect::<Vec<_>>()
        .into_iter()
        .reduce(|mut a, b| {
            a.iter_mut().zip(&b).for_each(|(a, b)| a.merge(b));
            a
        })
        .unwrap_or_default();
    let stats: Vec<(f64, f64)> = moments.iter().map(|m| (m.mean, m.std())).collect();
    let mut out = vec![0f32; reps.len() * d];
    out.par_chunks_mut(d).zip(reps).for_each(|(z, &r)| {
        let row = &rows.numeric[r as usize * d..(r as usize + 1) * d];
        for ((z, &v), &(mean, std)) in z.iter_mut().zip(row).zip(&stats) {
            *z = if v.is_finite() && std > 0.0 {
                ((v as f64 - mean) / std) as f32
            } else {
                0.0
            };
        }
    });
    out
}
