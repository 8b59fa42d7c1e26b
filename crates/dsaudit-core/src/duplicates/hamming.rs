//! Pairs of 64-bit codes within a Hamming radius, by multi-index hashing (Norouzi,
//! Punjani and Fleet, 2012): the code is cut into four 16-bit blocks, and two codes
//! within `r` bits differ in at most `r / 4` bits in at least one block (pigeonhole),
//! so each code only meets the codes filed under the few block values that close to
//! its own.
//!
//! Written here rather than taken from mih-rs, which this replaced: on 70,000
//! look-alike pictures, whose pHashes crowd together, mih-rs took 2.4 s to list the
//! 10.5 M pairs within 10 bits, longer than comparing every pair (docs/benchmarks.md);
//! this index visits the same 280 M filed codes in one pass over flat arrays, and uses
//! the CPU's population count where it has one.

const BLOCKS: usize = 4;
const BLOCK_BITS: u32 = 16;

/// One block's table: the codes in order of that block's value, with where each
/// value's run starts.
struct Table {
    /// One bit per block value that has codes: most probes of crowded codes find
    /// nothing, and this 8 KiB says so from the first-level cache.
    filled: Vec<u64>,
    starts: Vec<u32>,
    codes: Vec<u64>,
    ids: Vec<u32>,
}

pub struct Index {
    tables: Vec<Table>,
}

fn block(code: u64, j: usize) -> usize {
    ((code >> (j as u32 * BLOCK_BITS)) & 0xffff) as usize
}

impl Index {
    pub fn new(codes: &[u64]) -> Index {
        assert!(codes.len() < u32::MAX as usize, "fewer than 2^32 codes");
        let tables = (0..BLOCKS)
            .map(|j| {
                // A counting sort by the block's value: stable, so ids stay ascending
                // within a run.
                let mut starts = vec![0u32; (1 << BLOCK_BITS) + 1];
                for &c in codes {
                    starts[block(c, j) + 1] += 1;
                }
                for v in 1..starts.len() {
                    starts[v] += starts[v - 1];
                }
                let mut next = starts.clone();
                let (mut sorted, mut ids) = (vec![0u64; codes.len()], vec![0u32; codes.len()]);
                for (i, &c) in codes.iter().enumerate() {
                    let at = &mut next[block(c, j)];
                    sorted[*at as usize] = c;
                    ids[*at as usize] = i as u32;
                    *at += 1;
                }
                let mut filled = vec![0u64; 1 << (BLOCK_BITS - 6)];
                for v in 0..1usize << BLOCK_BITS {
                    if starts[v + 1] > starts[v] {
                        filled[v >> 6] |= 1 << (v & 63);
                    }
                }
                Table {
                    filled,
                    starts,
                    codes: sorted,
                    ids,
                }
            })
            .collect();
        Index { tables }
    }

    /// Every pair of codes within `radius` bits, each once as (a, b) with a < b,
    /// passed to `keep` in parallel; returns how many pairs there were and what
    /// `keep` kept, in no particular order.
    ///
    /// The codes filed under one block value are queried together: each run they
    /// probe is looked up once for all of them (querying code by code, the look-ups
    /// took half the time on crowded codes), and two runs are met once, from the lower
    /// of their two values, rather than once from each.
    pub fn pairs<T: Send>(
        &self,
        radius: u32,
        keep: impl Fn(usize, usize) -> Option<T> + Sync,
    ) -> (u64, Vec<T>) {
        use rayon::prelude::*;
        let runs: Vec<(usize, usize)> = (0..BLOCKS)
            .flat_map(|j| {
                let t = &self.tables[j];
                (0..1usize << BLOCK_BITS)
                    .filter(move |&v| t.starts[v + 1] > t.starts[v])
                    .map(move |v| (j, v))
            })
            .collect();
        let found: Vec<(u64, Vec<T>)> = runs
            .par_iter()
            .map(|&(j, v)| {
                let (mut n, mut kept) = (0u64, Vec::new());
                self.run_pairs(j, v, radius, |a, b| {
                    n += 1;
                    kept.extend(keep(a, b));
                });
                (n, kept)
            })
            .collect();
        let n = found.iter().map(|f| f.0).sum();
        (n, found.into_iter().flat_map(|f| f.1).collect())
    }

    /// Calls `found(a, b)` for every pair within `radius` bits, a < b, of which one
    /// is filed under value `v` of block `j` and the other under `v` or a higher
    /// value, and which is first met in block `j`.
    fn run_pairs(&self, j: usize, v: usize, radius: u32, found: impl FnMut(usize, usize)) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU has the instruction the function is compiled to use.
            return unsafe { self.run_pairs_popcnt(j, v, radius, found) };
        }
        self.run_pairs_body(j, v, radius, found)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    unsafe fn run_pairs_popcnt(
        &self,
        j: usize,
        v: usize,
        radius: u32,
        found: impl FnMut(usize, usize),
    ) {
        self.run_pairs_body(j, v, radius, found)
    }

    #[inline(always)]
    fn run_pairs_body(&self, j: usize, v: usize, radius: u32, mut found: impl FnMut(usize, usize)) {
        let sub = radius / BLOCKS as u32;
        let t = &self.tables[j];
        let run = |v: usize| t.starts[v] as usize..t.starts[v + 1] as usize;
        let queries = run(v);
        let (q_codes, q_ids) = (&t.codes[queries.clone()], &t.ids[queries]);
        let mut close = |q: u64, a: u32, c: u64, b: u32| {
            let x = c ^ q;
            // Met in every block within `sub` bits: counted in the first.
            if x.count_ones() <= radius && (0..j).all(|k| (block(x, k) as u64).count_ones() > sub) {
                found(a.min(b) as usize, a.max(b) as usize);
            }
        };
        // The run with itself: its ids ascend, so the later ones are the pairs.
        for (i, (&q, &a)) in q_codes.iter().zip(q_ids).enumerate() {
            for (&c, &b) in q_codes[i + 1..].iter().zip(&q_ids[i + 1..]) {
                close(q, a, c, b);
            }
        }
        // Two runs whose values differ by a mask meet once, from the lower value:
        // `v ^ m` is above `v` exactly when the mask's highest bit is one that `v`
        // lacks, so only those masks are tried (testing `u < v` on each was an
        // unpredictable branch on every probe, half of them taken).
        let by_top = masks_by_top(sub);
        let mut lacking = !v & 0xffff;
        while lacking != 0 {
            let top = lacking.trailing_zeros() as usize;
            lacking &= lacking - 1;
            for &m in &by_top[top] {
                let u = v ^ m as usize;
                if t.filled[u >> 6] & (1 << (u & 63)) == 0 {
                    continue;
                }
                let probed = run(u);
                let (codes, ids) = (&t.codes[probed.clone()], &t.ids[probed]);
                for (&q, &a) in q_codes.iter().zip(q_ids) {
                    for (&c, &b) in codes.iter().zip(ids) {
                        close(q, a, c, b);
                    }
                }
            }
        }
    }
}

/// The Hamming distance from `q` to each of `codes`, into `out` (as many as both
/// hold), compiled for AVX2 where the CPU has it: the population counts then run four
/// codes at a time, where the baseline x86-64 target has no population count at all.
pub fn distances(q: u64, codes: &[u64], out: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { distances_avx2(q, codes, out) };
    }
    distances_with(q, codes, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn distances_avx2(q: u64, codes: &[u64], out: &mut [u32]) {
    distances_with(q, codes, out)
}

#[inline(always)]
fn distances_with(q: u64, codes: &[u64], out: &mut [u32]) {
    for (o, &c) in out.iter_mut().zip(codes) {
        *o = (c ^ q).count_ones();
    }
}

/// `masks(sub)` but the empty one, grouped by their highest set bit; cached per `sub`.
fn masks_by_top(sub: u32) -> &'static [Vec<u16>; BLOCK_BITS as usize] {
    use std::sync::OnceLock;
    static TABLES: [OnceLock<[Vec<u16>; BLOCK_BITS as usize]>; 17] =
        [const { OnceLock::new() }; 17];
    let sub = sub.min(BLOCK_BITS);
    TABLES[sub as usize].get_or_init(|| {
        let mut groups: [Vec<u16>; BLOCK_BITS as usize] = Default::default();
        for &m in masks(sub).iter().filter(|&&m| m != 0) {
            groups[(15 - m.leading_zeros()) as usize].push(m);
        }
        groups
    })
}

/// The 16-bit masks of at most `sub` set bits, fewest first; cached per `sub`.
fn masks(sub: u32) -> &'static [u16] {
    use std::sync::OnceLock;
    static TABLES: [OnceLock<Vec<u16>>; 17] = [const { OnceLock::new() }; 17];
    let sub = sub.min(BLOCK_BITS) as usize;
    TABLES[sub].get_or_init(|| {
        let mut m: Vec<u16> = (0..=u16::MAX)
            .filter(|v| v.count_ones() as usize <= sub)
            .collect();
        m.sort_by_key(|v| (v.count_ones(), *v));
        m
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(codes: &[u64], radius: u32) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for a in 0..codes.len() {
            for b in a + 1..codes.len() {
                if (codes[a] ^ codes[b]).count_ones() <= radius {
                    out.push((a, b));
                }
            }
        }
        out
    }

    #[test]
    fn finds_every_pair_within_the_radius_once() {
        // Crowded codes: a few centres and their neighbours a few bits away, with
        // repeats, so that pairs meet in several blocks at once.
        let mut x = 0x9e3779b97f4a7c15u64;
        let mut rand = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let centres: Vec<u64> = (0..5).map(|_| rand()).collect();
        let codes: Vec<u64> = (0..600)
            .map(|i| {
                let mut c = centres[i % 5];
                for _ in 0..(rand() % 9) {
                    c ^= 1 << (rand() % 64);
                }
                c
            })
            .collect();
        let index = Index::new(&codes);
        for radius in [0, 3, 4, 7, 10, 13] {
            let (n, mut got) = index.pairs(radius, |a, b| Some((a, b)));
            got.sort_unstable();
            assert_eq!(n as usize, got.len());
            assert_eq!(got, brute(&codes, radius), "radius {radius}");
        }
        let (n, odd) = index.pairs(7, |a, b| ((a + b) % 2 == 1).then_some(a));
        assert_eq!(n as usize, brute(&codes, 7).len());
        assert!(odd.len() < n as usize);
    }
}
