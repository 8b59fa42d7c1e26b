//! Turns "these samples are identical" keys and "these two are the same picture"
//! pairs into clusters of bounded diameter: exact copies form groups, and near
//! copies gather around a representative (a star), each within the threshold of
//! it. Confirmed pairs are never joined transitively: a chain of look-alikes
//! (A like B, B like C, ...) would otherwise become one cluster of hundreds.

use super::{Cluster, Near, NearMember};
use rustc_hash::FxHashMap as HashMap;

/// Marks a sample with no content key (not compared for identity).
pub const NO_KEY: u32 = u32::MAX;

/// Each sample's first sample (smallest index) with the same content key, itself
/// when it has no copy before it, `NO_KEY` when `key` gives none. The keys are sorted
/// in parallel rather than hashed one by one: two hash passes over a million rows
/// (one for the distinct rows, one for the clusters) took 0.2 s on one core.
pub fn first_same(n: usize, key: impl Fn(usize) -> Option<u128> + Sync) -> Vec<u32> {
    use rayon::prelude::*;
    let mut keyed: Vec<(u128, u32)> = (0..n)
        .into_par_iter()
        .filter_map(|i| key(i).map(|k| (k, i as u32)))
        .collect();
    keyed.par_sort_unstable();
    let mut same = vec![NO_KEY; n];
    for run in keyed.chunk_by(|a, b| a.0 == b.0) {
        let first = run[0].1;
        for &(_, i) in run {
            same[i as usize] = first;
        }
    }
    same
}

/// `same[i]`: sample i's first identical sample, as `first_same` gives it. `near`:
/// pairs of distinct pictures (each the first of its copies) confirmed as near
/// copies. Returns clusters of two or more, numbered by their smallest member, and
/// each sample's cluster.
///
/// Stars, greedily: the picture with the most confirmed neighbours (then the one
/// whose neighbours are closest, then the first) becomes a representative and takes
/// every neighbour not yet taken; then the next. Every member is thus within the
/// threshold of its representative, and the result depends only on the pairs.
pub fn build(same: &[u32], near: &[Near]) -> (Vec<Cluster>, Vec<Option<u32>>) {
    let n = same.len();
    let star = stars(near);
    // Every sample goes with its star's representative, or with its exact group.
    let group = |i: usize| -> Option<u32> {
        let first = same[i];
        if first == NO_KEY {
            return None;
        }
        Some(star.get(&first).map_or(first, |&(rep, _)| rep))
    };
    let mut size: HashMap<u32, u32> = HashMap::default();
    for i in 0..n {
        if let Some(g) = group(i) {
            *size.entry(g).or_default() += 1;
        }
    }
    let mut id_of: HashMap<u32, u32> = HashMap::default();
    let mut clusters: Vec<Cluster> = Vec::new();
    let mut cluster_of = vec![None; n];
    // In sample order, so that ids follow each cluster's smallest member.
    for (i, of) in cluster_of.iter_mut().enumerate() {
        let Some(g) = group(i) else { continue };
        if size[&g] < 2 {
            continue;
        }
        let id = *id_of.entry(g).or_insert_with(|| {
            clusters.push(Cluster {
                id: clusters.len() as u32,
                representative: g,
                ..Default::default()
            });
            clusters.len() as u32 - 1
        });
        clusters[id as usize].members.push(i as u32);
        *of = Some(id);
    }
    for c in &mut clusters {
        describe(c, same, &star);
    }
    (clusters, cluster_of)
}

/// Greedy stars over the confirmed pairs: each picture's (representative, distance).
fn stars(near: &[Near]) -> HashMap<u32, (u32, f32)> {
    let mut adjacent: HashMap<u32, Vec<(u32, f32)>> = HashMap::default();
    for p in near {
        adjacent.entry(p.a).or_default().push((p.b, p.distance));
        adjacent.entry(p.b).or_default().push((p.a, p.distance));
    }
    let mut order: Vec<(u32, usize, f64)> = adjacent
        .iter()
        .map(|(&v, nb)| (v, nb.len(), nb.iter().map(|&(_, d)| d as f64).sum()))
        .collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.total_cmp(&b.2)).then(a.0.cmp(&b.0)));
    // Each picture's star: (representative, distance to it).
    let mut star: HashMap<u32, (u32, f32)> = HashMap::default();
    for &(v, _, _) in &order {
        if star.contains_key(&v) {
            continue;
        }
        let free: Vec<(u32, f32)> = adjacent[&v]
            .iter()
            .filter(|(u, _)| !star.contains_key(u))
            .copied()
            .collect();
        if free.is_empty() {
            continue;
        }
        star.insert(v, (v, 0.0));
        for (u, d) in free {
            star.insert(u, (v, d));
        }
    }
    star
}

/// A cluster's exact groups, whether it holds near copies, and each near member's
/// similarity to the representative.
fn describe(c: &mut Cluster, same: &[u32], star: &HashMap<u32, (u32, f32)>) {
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut group_of_first: HashMap<u32, usize> = HashMap::default();
    for &m in &c.members {
        let first = same[m as usize];
        let g = *group_of_first.entry(first).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(m);
        if first == m && first != c.representative {
            let (_, d) = star[&first];
            c.near_members.push(NearMember {
                sample: m,
                similarity: (!d.is_nan()).then(|| crate::util::round4(1.0 - d as f64)),
            });
        }
    }
    c.near = groups.len() > 1;
    c.exact = groups.into_iter().filter(|g| g.len() > 1).collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: u32, b: u32, distance: f32) -> Near {
        Near { a, b, distance }
    }

    #[test]
    fn exact_groups_and_a_star() {
        let keys = [Some(1), Some(2), Some(1), Some(3), None, Some(4)];
        let same = first_same(keys.len(), |i| keys[i]);
        assert_eq!(same, vec![0, 1, 0, 3, NO_KEY, 5]);
        let (clusters, of) = build(&same, &[pair(1, 0, 0.001), pair(3, 5, 0.002)]);
        assert_eq!(clusters.len(), 2);
        assert_eq!(clusters[0].members, vec![0, 1, 2]);
        assert_eq!(clusters[0].exact, vec![vec![0, 2]]);
        assert!(clusters[0].near);
        assert_eq!(clusters[1].members, vec![3, 5]);
        assert!(clusters[1].exact.is_empty());
        assert_eq!(of, vec![Some(0), Some(0), Some(0), Some(1), None, Some(1)]);
    }

    #[test]
    fn a_chain_is_cut_into_stars() {
        // 0-1-2-3-4-5, each like the next only: no cluster may hold two pictures that
        // are not both within the threshold of its representative.
        let same: Vec<u32> = (0..6).collect();
        let near: Vec<Near> = (0..5).map(|i| pair(i, i + 1, 0.001)).collect();
        let (clusters, _) = build(&same, &near);
        for c in &clusters {
            assert!(c.members.len() <= 3, "{:?}", c.members);
            for &m in &c.members {
                assert!(
                    m.abs_diff(c.representative) <= 1,
                    "{m} not next to {}",
                    c.representative
                );
            }
            assert_eq!(c.near_members.len(), c.members.len() - 1);
        }
        assert!(clusters.iter().map(|c| c.members.len()).sum::<usize>() >= 4);
    }

    #[test]
    fn the_hub_represents_and_order_does_not_matter() {
        let same: Vec<u32> = (0..5).collect();
        let mut near = vec![
            pair(0, 1, 0.001),
            pair(2, 1, 0.002),
            pair(1, 3, 0.001),
            pair(3, 4, 0.001),
        ];
        let (a, _) = build(&same, &near);
        near.reverse();
        let (b, _) = build(&same, &near);
        assert_eq!(a[0].representative, 1);
        assert_eq!(a[0].members, vec![0, 1, 2, 3]);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
    }

    #[test]
    fn identical_only_is_not_near() {
        let (clusters, _) = build(&first_same(3, |_| Some(7)), &[]);
        assert_eq!(clusters.len(), 1);
        assert!(!clusters[0].near);
        assert_eq!(clusters[0].exact, vec![vec![0, 1, 2]]);
    }
}
