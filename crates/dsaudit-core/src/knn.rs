//! k nearest neighbours among a set of points (row-major f32, `d` coordinates each),
//! through a k-d tree (kiddo) up to 16 dimensions and by blocked matrix products above,
//! where a tree prunes little. Used by SMOTE and the outlier scores.

use kiddo::SquaredEuclidean;
use ndarray::ArrayView2;
use rayon::prelude::*;

type Tree<const K: usize> = kiddo::immutable::float::kdtree::ImmutableKdTree<f32, u32, K, 16>;

/// Above this many coordinates a tree prunes little and the queries compare against
/// every point, by matrix multiplication (measured: 100,000 queries × 3,125 points in
/// 64 dimensions took 13 s through the tree).
pub const MAX_TREE_DIMS: usize = 16;

/// For each query (an index into `points`), its `k` nearest other points as
/// (index, Euclidean distance), nearest first; among the candidates the tree returns,
/// ties keep the lower index first.
pub fn nearest(points: &[f32], d: usize, queries: &[u32], k: usize) -> Vec<Vec<(u32, f32)>> {
    let q: Vec<f32> = queries
        .iter()
        .flat_map(|&i| points[i as usize * d..(i as usize + 1) * d].iter().copied())
        .collect();
    let skip: Vec<Option<u32>> = queries.iter().map(|&i| Some(i)).collect();
    nearest_to(points, d, &q, &skip, k)
}

/// For each query point (row-major, `d` coordinates), its `k` nearest points among
/// `points`, never `skip[q]` (the query's own index when it is one of them).
pub fn nearest_to(
    points: &[f32],
    d: usize,
    queries: &[f32],
    skip: &[Option<u32>],
    k: usize,
) -> Vec<Vec<(u32, f32)>> {
    let n = points.len().checked_div(d).unwrap_or(0);
    if n < 2 || k == 0 {
        return vec![Vec::new(); skip.len()];
    }
    let k = k.min(n - 1);
    // The tree's dimension is a type parameter: zero padding changes no distance.
    match d {
        0..=4 => tree::<4>(points, d, queries, skip, k),
        5..=8 => tree::<8>(points, d, queries, skip, k),
        9..=16 => tree::<16>(points, d, queries, skip, k),
        _ => brute(points, d, queries, skip, k),
    }
}

fn sorted(mut found: Vec<(u32, f32)>, k: usize) -> Vec<(u32, f32)> {
    found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    found.truncate(k);
    found.iter_mut().for_each(|(_, dist)| *dist = dist.sqrt());
    found
}

fn pad<const K: usize>(p: &[f32]) -> [f32; K] {
    std::array::from_fn(|j| p.get(j).copied().unwrap_or(0.0))
}

fn tree<const K: usize>(
    points: &[f32],
    d: usize,
    queries: &[f32],
    skip: &[Option<u32>],
    k: usize,
) -> Vec<Vec<(u32, f32)>> {
    let padded: Vec<[f32; K]> = points.chunks_exact(d).map(pad::<K>).collect();
    let tree: Tree<K> = Tree::new_from_slice(&padded);
    // One extra for the query itself, and a few more so that ties at the k-th
    // distance are all seen before the lower index wins.
    let want = std::num::NonZero::new(k + 1 + 4).expect("k + 5 is not 0");
    queries
        .par_chunks_exact(d.max(1))
        .zip(skip.par_iter())
        .map(|(q, &own)| {
            let found: Vec<(u32, f32)> = tree
                .nearest_n::<SquaredEuclidean>(&pad::<K>(q), want)
                .into_iter()
                .filter(|n| Some(n.item) != own)
                .map(|n| (n.item, n.distance))
                .collect();
            sorted(found, k)
        })
        .collect()
}

/// Every query against every point, a block of queries at a time: squared distances
/// as |q|² + |p|² − 2 q·p, the products by one matrix multiplication per block.
fn brute(
    points: &[f32],
    d: usize,
    queries: &[f32],
    skip: &[Option<u32>],
    k: usize,
) -> Vec<Vec<(u32, f32)>> {
    const BLOCK: usize = 256;
    let n = points.len() / d;
    let p = ArrayView2::from_shape((n, d), points).expect("n × d points");
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>();
    let pn: Vec<f32> = points.chunks_exact(d).map(norm).collect();
    queries
        .par_chunks(BLOCK * d)
        .enumerate()
        .flat_map_iter(|(b, block)| {
            let m = block.len() / d;
            let q = ArrayView2::from_shape((m, d), block).expect("m × d queries");
            let dots = q.dot(&p.t());
            let pn = &pn;
            (0..m).map(move |r| {
                let own = skip[b * BLOCK + r];
                let qn = norm(&block[r * d..(r + 1) * d]);
                let row = dots.row(r);
                // The k best so far, nearest first; a candidate must beat the worst
                // (equal distances keep the lower index, seen first).
                let mut best: Vec<(u32, f32)> = Vec::with_capacity(k + 1);
                for j in 0..n {
                    if Some(j as u32) == own {
                        continue;
                    }
                    let d2 = (qn + pn[j] - 2.0 * row[j]).max(0.0);
                    if best.len() == k && d2 >= best[k - 1].1 {
                        continue;
                    }
                    let at = best.partition_point(|&(_, x)| x <= d2);
                    best.insert(at, (j as u32, d2));
                    best.truncate(k);
                }
                sorted(best, k)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The tree answers what comparing every pair answers (distances; indices
        /// agree wherever the distance is not tied).
        #[test]
        fn tree_matches_brute_force(
            d in 1usize..6,
            raw in prop::collection::vec(-3i8..3, 6..300),
            k in 1usize..6,
        ) {
            let n = raw.len() / d;
            prop_assume!(n >= 2);
            let points: Vec<f32> = raw[..n * d].iter().map(|&v| v as f32 * 0.5).collect();
            let queries: Vec<u32> = (0..n as u32).collect();
            let fast = nearest(&points, d, &queries, k);
            let skip: Vec<Option<u32>> = queries.iter().map(|&q| Some(q)).collect();
            let slow = brute(&points, d, &points, &skip, k.min(n - 1));
            for (f, s) in fast.iter().zip(&slow) {
                let fd: Vec<f32> = f.iter().map(|x| x.1).collect();
                let sd: Vec<f32> = s.iter().map(|x| x.1).collect();
                prop_assert_eq!(fd, sd);
            }
        }
    }
}
