//! Tables: identical rows by their fingerprint over every feature column, similar
//! rows by Euclidean distance on standardized numeric features, all pairs within a
//! radius relative to the typical nearest-neighbour distance (as cleanlab's
//! near-duplicate check does), found by a k-d tree self-join.

use super::radius_join::Tree;
use super::{Near, NearSearch, Params};
use crate::load::rows::TableRows;
use rayon::prelude::*;

/// Rows sampled to estimate the median nearest-neighbour distance: the median of
/// 100 is within a few per cent of the whole set's, and on many features each
/// nearest-neighbour query visits much of the tree (300 took a second on a million
/// rows of 19 features).
pub const NN_SAMPLE: usize = 100;

/// `same`: each row's first identical row (`clusters::first_same`).
pub fn near_pairs(rows: &TableRows, same: &[u32], params: &Params) -> (Vec<Near>, NearSearch) {
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
    let mut clock = std::time::Instant::now();
    let mut lap = |search: &mut NearSearch, what: &'static str| {
        search.timings.push((what, clock.elapsed()));
        clock = std::time::Instant::now();
    };
    // One representative per distinct row: copies are already joined by their key.
    let reps: Vec<u32> = (0..rows.len() as u32)
        .filter(|&i| same[i as usize] == i)
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
    lap(&mut search, "z-scores");
    let tree = Tree::build(&points, d);
    drop(points);
    lap(&mut search, "tree");
    // Evenly spaced rows, not random ones: the same input always gives the same estimate.
    let step = (reps.len() / NN_SAMPLE).max(1);
    let sample: Vec<u32> = (0..reps.len() as u32)
        .step_by(step)
        .take(NN_SAMPLE)
        .collect();
    let mut nn: Vec<f64> = tree
        .nearest_others(&sample)
        .into_iter()
        .filter(|d2| d2.is_finite())
        .map(|d2| (d2 as f64).sqrt())
        .collect();
    nn.sort_by(f64::total_cmp);
    let median = nn.get(nn.len() / 2).copied().unwrap_or(0.0);
    let radius = params.table_radius * median;
    lap(&mut search, "median nearest-neighbour distance");
    search.median_nn_distance = Some(median);
    search.radius = Some(radius);
    if radius <= 0.0 {
        search.skipped = Some(
            "the median nearest-neighbour distance is 0: only identical rows are duplicates".into(),
        );
        return (Vec::new(), search);
    }
    let pairs = tree
        .pairs_within((radius * radius) as f32)
        .into_iter()
        .filter(|&(a, b)| {
            rows.text_hash[reps[a as usize] as usize] == rows.text_hash[reps[b as usize] as usize]
        })
        .map(|(a, b)| Near {
            a: reps[a as usize],
            b: reps[b as usize],
            distance: f32::NAN,
        })
        .collect();
    lap(&mut search, "pairs within the radius");
    (pairs, search)
}

/// Beyond this many numeric features the search is skipped, with the reason stated.
pub const MAX_DIMS: usize = 64;

/// z-scores of the representatives; missing and non-finite values sit at the mean
/// (0) so they neither attract nor repel, and a constant column contributes nothing.
fn standardized(rows: &TableRows, reps: &[u32], d: usize) -> Vec<f32> {
    use crate::stats::moments::Spread;
    let parts: Vec<Spread> = reps
        .par_chunks(32_768)
        .map(|chunk| {
            let mut s = Spread::new(d);
            for &r in chunk {
                s.push_row(&rows.numeric[r as usize * d..(r as usize + 1) * d]);
            }
            s
        })
        .collect();
    let spread = Spread::merged(d, &parts);
    let stats: Vec<(f64, f64)> = spread.means().iter().copied().zip(spread.stds()).collect();
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
