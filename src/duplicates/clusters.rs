//! Turns "these samples are identical" keys and "these two are similar" pairs into
//! clusters: the connected components, numbered in order of their first sample.

use super::Cluster;
use rustc_hash::FxHashMap as HashMap;

/// Disjoint sets with path halving and union by size. Hand-written: twenty lines,
/// where a graph crate would bring far more than this one structure.
struct Sets {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl Sets {
    fn new(n: usize) -> Sets {
        Sets {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a as usize] < self.size[b as usize] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b as usize] = a;
        self.size[a as usize] += self.size[b as usize];
    }
}

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
/// pairs of samples judged similar. Returns clusters of two or more, and each
/// sample's cluster.
pub fn build(same: &[u32], near: &[(u32, u32)]) -> (Vec<Cluster>, Vec<Option<u32>>) {
    let n = same.len();
    let mut sets = Sets::new(n);
    // Identical samples start out joined: each points at its first copy, a root.
    for (i, &first) in same.iter().enumerate() {
        if first != NO_KEY && first != i as u32 {
            sets.parent[i] = first;
            sets.size[first as usize] += 1;
        }
    }
    for &(a, b) in near {
        sets.union(a, b);
    }
    // Components in order of their smallest member: ids do not depend on hashing order.
    let mut id_of_root = vec![u32::MAX; n];
    let mut clusters: Vec<Cluster> = Vec::new();
    let mut cluster_of = vec![None; n];
    for i in 0..n as u32 {
        let root = sets.find(i);
        if sets.size[root as usize] < 2 {
            continue;
        }
        if id_of_root[root as usize] == u32::MAX {
            id_of_root[root as usize] = clusters.len() as u32;
            clusters.push(Cluster {
                id: clusters.len() as u32,
                ..Default::default()
            });
        }
        let id = id_of_root[root as usize];
        clusters[id as usize].members.push(i);
        cluster_of[i as usize] = Some(id);
    }
    for c in &mut clusters {
        let mut groups: Vec<Vec<u32>> = Vec::new();
        let mut group_of_first: HashMap<u32, usize> = HashMap::default();
        let mut distinct = 0;
        for &m in &c.members {
            match same[m as usize] {
                NO_KEY => distinct += 1,
                first => {
                    let g = *group_of_first.entry(first).or_insert_with(|| {
                        groups.push(Vec::new());
                        groups.len() - 1
                    });
                    groups[g].push(m);
                }
            }
        }
        c.near = groups.len() + distinct > 1;
        c.exact = groups.into_iter().filter(|g| g.len() > 1).collect();
    }
    (clusters, cluster_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_near_join_transitively() {
        let keys = [Some(1), Some(2), Some(1), Some(3), None, Some(4)];
        let same = first_same(keys.len(), |i| keys[i]);
        assert_eq!(same, vec![0, 1, 0, 3, NO_KEY, 5]);
        let (clusters, of) = build(&same, &[(1, 2), (4, 5)]);
        assert_eq!(clusters.len(), 2);
        assert_eq!(clusters[0].members, vec![0, 1, 2]);
        assert_eq!(clusters[0].exact, vec![vec![0, 2]]);
        assert!(clusters[0].near);
        assert_eq!(clusters[1].members, vec![4, 5]);
        assert!(clusters[1].exact.is_empty());
        assert_eq!(of, vec![Some(0), Some(0), Some(0), None, Some(1), Some(1)]);
    }

    #[test]
    fn identical_only_is_not_near() {
        let (clusters, _) = build(&first_same(3, |_| Some(7)), &[]);
        assert_eq!(clusters.len(), 1);
        assert!(!clusters[0].near);
        assert_eq!(clusters[0].exact, vec![vec![0, 1, 2]]);
    }
}
