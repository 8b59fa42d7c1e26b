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
    nearest_then(points, d, queries, skip, k, |found| found)
}

/// A coordinate of a query: f32 as the points are, or f64 as the label stage's
/// feature matrix is, narrowed a block at a time (a whole f32 copy of a million-row
/// matrix was 76 MB of a table scan's peak). Narrowing is `as f32` either way.
pub trait Coordinate: Copy + Sync {
    fn narrow(self) -> f32;
}

impl Coordinate for f32 {
    fn narrow(self) -> f32 {
        self
    }
}

impl Coordinate for f64 {
    fn narrow(self) -> f32 {
        self as f32
    }
}

/// As `nearest_to`, each query's neighbours handed to `then` as soon as they are
/// found and only its answer kept (the outlier scores keep one mean per query, not a
/// list per query: a million lists were a tenth of a table scan's memory).
pub fn nearest_then<C: Coordinate, T: Send>(
    points: &[f32],
    d: usize,
    queries: &[C],
    skip: &[Option<u32>],
    k: usize,
    then: impl Fn(Vec<(u32, f32)>) -> T + Sync,
) -> Vec<T> {
    let n = points.len().checked_div(d).unwrap_or(0);
    if n < 2 || k == 0 {
        return skip.iter().map(|_| then(Vec::new())).collect();
    }
    let k = k.min(n - 1);
    // The tree's dimension is a type parameter: zero padding changes no distance.
    match d {
        0..=4 => tree::<4, C, T>(points, d, queries, skip, k, &then),
        5..=8 => tree::<8, C, T>(points, d, queries, skip, k, &then),
        9..=16 => tree::<16, C, T>(points, d, queries, skip, k, &then),
        _ => brute(points, d, queries, skip, k, &then),
    }
}

fn sorted(mut found: Vec<(u32, f32)>, k: usize) -> Vec<(u32, f32)> {
    found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    found.truncate(k);
    found.iter_mut().for_each(|(_, dist)| *dist = dist.sqrt());
    found
}

fn pad<const K: usize, C: Coordinate>(p: &[C]) -> [f32; K] {
    std::array::from_fn(|j| p.get(j).map_or(0.0, |&v| v.narrow()))
}

fn tree<const K: usize, C: Coordinate, T: Send>(
    points: &[f32],
    d: usize,
    queries: &[C],
    skip: &[Option<u32>],
    k: usize,
    then: &(impl Fn(Vec<(u32, f32)>) -> T + Sync),
) -> Vec<T> {
    let padded: Vec<[f32; K]> = points.chunks_exact(d).map(pad::<K, f32>).collect();
    let tree: Tree<K> = Tree::new_from_slice(&padded);
    // One extra for the query itself, and a few more so that ties at the k-th
    // distance are all seen before the lower index wins.
    let want = std::num::NonZero::new(k + 1 + 4).expect("k + 5 is not 0");
    queries
        .par_chunks_exact(d.max(1))
        .zip(skip.par_iter())
        .map(|(q, &own)| {
            let found: Vec<(u32, f32)> = tree
                .nearest_n::<SquaredEuclidean>(&pad::<K, C>(q), want)
                .into_iter()
                .filter(|n| Some(n.item) != own)
                .map(|n| (n.item, n.distance))
                .collect();
            then(sorted(found, k))
        })
        .collect()
}

/// Every query against every point, a block of queries at a time: squared distances
/// as |q|² + |p|² − 2 q·p, the products by one matrix multiplication per block.
fn brute<C: Coordinate, T: Send>(
    points: &[f32],
    d: usize,
    queries: &[C],
    skip: &[Option<u32>],
    k: usize,
    then: &(impl Fn(Vec<(u32, f32)>) -> T + Sync),
) -> Vec<T> {
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
            let block: Vec<f32> = block.iter().map(|&v| v.narrow()).collect();
            let q = ArrayView2::from_shape((m, d), &block[..]).expect("m × d queries");
            let mut dots = q.dot(&p.t());
            // ndarray may answer in column-major order (a single coordinate, say).
            if !dots.is_standard_layout() {
                dots = dots.as_standard_layout().into_owned();
            }
            let pn = &pn;
            // One row's squared distances at a time, in a plain loop the compiler
            // vectorizes; then one pass keeps the k best (indexing the product
            // element by element was most of the outlier search's time).
            let mut d2 = vec![0f32; n];
            let mut scratch = Scratch::default();
            (0..m).map(move |r| {
                let own = skip[b * BLOCK + r];
                let qn = norm(&block[r * d..(r + 1) * d]);
                let row = dots.row(r);
                let row = row
                    .as_slice()
                    .expect("rows of a standard layout are contiguous");
                for ((out, &pj), &dot) in d2.iter_mut().zip(pn).zip(row) {
                    *out = (qn + pj - 2.0 * dot).max(0.0);
                }
                then(sorted(k_best(&d2, k, own, &mut scratch), k))
            })
        })
        .collect()
}

/// Reusable buffers of `k_best`, one per worker.
#[derive(Default)]
struct Scratch {
    minima: Vec<f32>,
    order: Vec<f32>,
}

/// Distances looked at together: a block's minimum decides whether it is read.
const LANES: usize = 16;

/// The `k` smallest of `d2` as (index, value), nearest first; equal values keep the
/// lower index (seen first). `own` is never taken.
fn k_best(d2: &[f32], k: usize, own: Option<u32>, scratch: &mut Scratch) -> Vec<(u32, f32)> {
    // An upper bound on the k-th best first: the k-th smallest of the blocks' minima
    // (own left out), since k distinct values are at most that. Only the values at
    // or below it can be among the k best, a few dozen of 500, and only the blocks
    // that hold one are read, lane by lane and in order, as a plain scan would. A scan
    // offering every value that beat the k-th best so far was 16-20% of a table
    // scan's CPU (unpredictable branches, about k·ln(n/k) inserts a query).
    let Scratch { minima, order } = scratch;
    minima.clear();
    minima.extend(d2.chunks(LANES).enumerate().map(|(b, block)| {
        let start = (b * LANES) as u32;
        match own.filter(|&o| o >= start && o < start + block.len() as u32) {
            Some(o) => block
                .iter()
                .enumerate()
                .filter(|&(l, _)| l as u32 != o - start)
                .fold(f32::INFINITY, |m, (_, &v)| if v < m { v } else { m }),
            None => least(block),
        }
    }));
    let bound = if k <= minima.len() {
        order.clear();
        order.extend_from_slice(minima);
        *order.select_nth_unstable_by(k - 1, f32::total_cmp).1
    } else {
        f32::INFINITY
    };
    let mut best: Vec<(u32, f32)> = Vec::with_capacity(k + 1);
    for (b, (block, &least)) in d2.chunks(LANES).zip(minima.iter()).enumerate() {
        if least > bound {
            continue;
        }
        // The lanes at or below the bound as bits, compared all at once, then visited
        // in order: a branch per lane on the bound was most of this function's time.
        let mut within = at_most(block, bound);
        while within != 0 {
            let l = within.trailing_zeros() as usize;
            within &= within - 1;
            let (j, v) = ((b * LANES + l) as u32, block[l]);
            if Some(j) == own || best.len() == k && v >= best[k - 1].1 {
                continue;
            }
            place(&mut best, k, j, v);
        }
    }
    best
}

/// Bit l set where `block[l]` is not above `bound` (squared distances are never NaN:
/// `brute` clamps them with `max(0.0)`).
fn at_most(block: &[f32], bound: f32) -> u32 {
    let bit = |l: usize, v: f32| ((v <= bound) as u32) << l;
    match <&[f32; LANES]>::try_from(block) {
        // A whole block: a fixed count the compiler turns into vector comparisons.
        Ok(full) => (0..LANES).fold(0, |mask, l| mask | bit(l, full[l])),
        Err(_) => block
            .iter()
            .enumerate()
            .fold(0, |mask, (l, &v)| mask | bit(l, v)),
    }
}

/// The smallest of `run`, through eight independent lanes: a float minimum folded
/// in one chain is not vectorized (the order of a float reduction is kept), eight
/// chains are.
fn least(run: &[f32]) -> f32 {
    let pick = |m: f32, v: f32| if v < m { v } else { m };
    let mut lanes = [f32::INFINITY; 8];
    let mut eights = run.chunks_exact(8);
    for c in &mut eights {
        for (lane, &v) in lanes.iter_mut().zip(c) {
            *lane = pick(*lane, v);
        }
    }
    let rest = eights
        .remainder()
        .iter()
        .fold(f32::INFINITY, |m, &v| pick(m, v));
    lanes.iter().fold(rest, |m, &v| pick(m, v))
}

/// Inserts (j, v) into `best` (sorted by value, at most k held): every held entry
/// farther than v shifts right (the last falls off when k are held), and v goes
/// after its equals.
fn place(best: &mut Vec<(u32, f32)>, k: usize, j: u32, v: f32) {
    if best.len() < k {
        best.push((j, v));
    }
    let mut at = best.len() - 1;
    while at > 0 && best[at - 1].1 > v {
        best[at] = best[at - 1];
        at -= 1;
    }
    best[at] = (j, v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The k best are the first k of a sort by (distance, index), whatever the
        /// ties (few values or many), the number of blocks against k, and wherever
        /// the query's own index falls.
        #[test]
        fn k_best_is_a_sorts_head(
            raw in prop::collection::vec(any::<u16>(), 1..700),
            spread in prop::sample::select(vec![6u16, 1000]),
            k in 1usize..40,
            own in prop::option::of(0u32..700),
        ) {
            let d2: Vec<f32> = raw.iter().map(|&v| (v % spread) as f32).collect();
            let mut all: Vec<(u32, f32)> = d2
                .iter()
                .enumerate()
                .map(|(j, &v)| (j as u32, v))
                .filter(|&(j, _)| Some(j) != own)
                .collect();
            all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            all.truncate(k);
            prop_assert_eq!(k_best(&d2, k, own, &mut Scratch::default()), all);
        }

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
            let slow = brute(&points, d, &points, &skip, k.min(n - 1), &|f| f);
            for (f, s) in fast.iter().zip(&slow) {
                let fd: Vec<f32> = f.iter().map(|x| x.1).collect();
                let sd: Vec<f32> = s.iter().map(|x| x.1).collect();
                prop_assert_eq!(fd, sd);
            }
        }

        /// f64 queries are answered as their f32 narrowing is, by the tree and by
        /// the blocked products (more than 16 coordinates, more than one block).
        #[test]
        fn f64_queries_answer_as_their_narrowing(
            d in prop::sample::select(vec![3usize, 19]),
            raw in prop::collection::vec(-1000i32..1000, 40..400),
            queries in 1usize..600,
            k in 1usize..6,
        ) {
            let n = raw.len() / d;
            prop_assume!(n >= 2);
            let points: Vec<f32> = raw[..n * d].iter().map(|&v| v as f32 / 7.0).collect();
            let wide: Vec<f64> = (0..queries * d)
                .map(|j| raw[j % raw.len()] as f64 / 3.0 + j as f64 * 1e-9)
                .collect();
            let narrow: Vec<f32> = wide.iter().map(|&v| v as f32).collect();
            let skip: Vec<Option<u32>> = (0..queries).map(|q| Some((q % n) as u32)).collect();
            prop_assert_eq!(
                nearest_then(&points, d, &wide, &skip, k, |f| f),
                nearest_then(&points, d, &narrow, &skip, k, |f| f)
            );
        }
    }
}
