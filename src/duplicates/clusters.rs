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

/// `keys[i]`: sample i's exact content key (None: not compared). `near`: pairs of
/// samples judged similar. Returns clusters of two or more, and each sample's cluster.
pub fn build(keys: &[Option<u128>], near: &[(u32, u32)]) -> (Vec<Cluster>, Vec<Option<u32>>) {
    let n = keys.len();
    let mut sets = Sets::new(n);
    let mut first_with_key: HashMap<u128, u32> = HashMap::default();
    for (i, k) in keys.iter().enumerate() {
        if let Some(k) = k {
            let first = *first_with_key.entry(*k).or_insert(i as u32);
            sets.union(first, i as u32);
        }
    }
    for &(a, b) in near {
        sets.union(a, b);
    }
    // Components in order of their smallest member: ids do not depend on hashing order.
    let mut id_of_root: HashMap<u32, u32> = HashMap::default();
    let mut clusters: Vec<Cluster> = Vec::new();
    let mut cluster_of = vec![None; n];
    for i in 0..n as u32 {
        let root = sets.find(i);
        if sets.size[root as usize] < 2 {
            continue;
        }
        let id = *id_of_root.entry(root).or_insert_with(|| {
            clusters.push(Cluster {
                id: clusters.len() as u32,
                ..Default::default()
            });
            clusters.len() as u32 - 1
        });
        clusters[id as usize].members.push(i);
        cluster_of[i as usize] = Some(id);
    }
    for c in &mut clusters {
        let mut groups: Vec<Vec<u32>> = Vec::new();
        let mut group_of_key: HashMap<u128, usize> = HashMap::default();
        let mut distinct = 0;
        for &m in &c.members {
            match keys[m as usize] {
                Some(k) => {
                    let g = *group_of_key.entry(k).or_insert_with(|| {
                        groups.push(Vec::new());
                        groups.len() - 1
                    });
                    groups[g].push(m);
                }
                None => distinct += 1,
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
        let (clusters, of) = build(&keys, &[(1, 2), (4, 5)]);
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
        let (clusters, _) = build(&[Some(7), Some(7), Some(7)], &[]);
        assert_eq!(clusters.len(), 1);
        assert!(!clusters[0].near);
        assert_eq!(clusters[0].exact, vec![vec![0, 1, 2]]);
    }
}
