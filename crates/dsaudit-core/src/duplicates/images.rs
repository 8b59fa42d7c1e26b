//! Images: identical pictures by the BLAKE3 hash of their decoded pixels (which
//! also catches the same file saved twice); near copies in two steps. Candidates:
//! pairs whose centred pHashes (`perceptual::Hashes::aligned`) differ in at most
//! `phash` bits, found with a multi-index hash (`hamming`) so that no pair is
//! compared unless one quarter of their bits already nearly agree. Confirmation:
//! the centred thumbnails first, then the pixels (`similarity::distance` on the
//! 32×32 grey images), within a threshold that is
//! the smaller of a fixed ceiling and a fraction of the dataset's own median
//! nearest-neighbour distance, so that two look-alike images of a class whose
//! samples all look alike (digits, icons) are not called copies.

use super::{hamming, similarity, Near, NearSearch, Params};
use crate::load::perceptual::{Small, SMALL_PIXELS};
use crate::manifest::Manifest;
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

/// What `dsaudit check` keeps of a search: the distinct pictures compared and the
/// candidate pairs among them within the ceiling, by pixel key, with their pixel
/// distance. Whether two pictures are near copies depends on their pixels and on
/// the calibration, which is measured again on every run; so the next search need
/// only compare the new pictures.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct NearState {
    /// (hash radius, distance ceiling as f64 bits) of the search.
    params: (u32, u64),
    /// Keys of the pictures compared, sorted.
    #[serde(with = "crate::packed")]
    compared: Vec<u128>,
    #[serde(with = "crate::packed")]
    pairs: Vec<(u128, u128)>,
    #[serde(with = "crate::packed")]
    distances: Vec<f32>,
}

/// Above this share of new pictures, a full search is as quick as comparing them.
const INCREMENTAL_SHARE: f64 = 0.02;
/// Distinct pictures whose nearest-neighbour distance calibrates the threshold.
pub const CALIBRATION_SAMPLE: usize = 500;
/// Below this many, the median says little: the ceiling alone applies.
const MIN_CALIBRATION: usize = 20;
/// Nearest neighbours by hash whose pixels are compared to find a picture's nearest.
const NN_CANDIDATES: usize = 8;

/// Exact keys: the first 128 bits of the pixel hash, for readable images.
pub fn keys(m: &Manifest) -> Vec<Option<u128>> {
    m.strs("pixel_blake3")
        .iter()
        .zip(m.strs("error_kind").iter())
        .map(|(h, err)| match (h, err) {
            (Some(h), None) => u128::from_str_radix(&h[..32], 16).ok(),
            _ => None,
        })
        .collect()
}

/// Near copies among distinct pictures: candidate pairs within `params.phash` bits
/// of centred pHash, confirmed on the pixels within the calibrated threshold.
/// With `prior` (the last check's search, same parameters) only the pictures new
/// since then are compared with the others; the pairs are the same as a full search's.
/// `same`: each sample's first identical one (`clusters::first_same` over `keys`).
pub fn near_pairs(
    m: &Manifest,
    smalls: &[Option<Small>],
    keys: &[Option<u128>],
    same: &[u32],
    params: &Params,
    prior: Option<&NearState>,
) -> (Vec<Near>, NearSearch, NearState) {
    let mut search = NearSearch {
        method: "candidates: 64-bit pHash of the centred 32×32 grey image, multi-index hashing; \
                 confirmed: correlation of the 32×32 grey images at the best shift of up to 2 px \
                 near the centroids' offset"
            .into(),
        ..Default::default()
    };
    let mut clock = std::time::Instant::now();
    let mut lap = |search: &mut NearSearch, what: &'static str| {
        search.timings.push((what, clock.elapsed()));
        clock = std::time::Instant::now();
    };
    let reps = representatives(m, smalls, keys, same, &mut search);
    search.compared = reps.len() as u64;
    let key = |i: u32| keys[i as usize].expect("representatives have keys");
    let small = |i: u32| {
        smalls[i as usize]
            .as_ref()
            .expect("representatives have pixels")
    };
    let ceiling = params.max_distance;
    let state_params = (params.phash, ceiling.to_bits());
    let state = |pairs: &[Near]| near_state(&reps, pairs, &key, state_params);
    if reps.len() < 2 {
        return (Vec::new(), search, state(&[]));
    }
    let prepared = Pictures::new(reps.iter().map(|&i| &small(i).pixels).collect());
    // In parallel: the stage runs alone, before the shift and label stages.
    let thumbs: Vec<similarity::Thumb> = reps
        .par_iter()
        .map(|&i| similarity::Thumb::new(&small(i).centred_thumb))
        .collect();
    lap(&mut search, "thumbnails prepared");
    // By position in `reps`, which is in sample order.
    let confirm = |a: usize, b: usize| -> Option<Near> {
        let (a, b) = (a.min(b), a.max(b));
        // Most pairs that get this far are compared pixel by pixel: ask for the
        // picture's sums while the thumbnails are compared.
        if let Some(p) = prepared.ready(b) {
            p.prefetch();
        }
        if thumbs[a].surely_apart(&thumbs[b]) {
            return None;
        }
        let distance = prepared
            .get(a)
            .distance_within(prepared.get(b), ceiling as f32)?;
        Some(Near {
            a: reps[a],
            b: reps[b],
            distance,
        })
    };
    let codes: Vec<u64> = reps.iter().map(|&i| small(i).aligned).collect();
    let radius = params.phash;
    let prior = prior.filter(|p| p.params == state_params);
    let (candidates, mut pairs) = confirmed(prior, &reps, &codes, &key, radius, &confirm);
    lap(&mut search, "candidates confirmed");
    let s = state(&pairs);
    let rep_keys: Vec<u128> = reps.iter().map(|&i| key(i)).collect();
    let threshold = calibrate(&mut search, params, &rep_keys, &codes, &prepared);
    pairs.retain(|p| p.distance as f64 <= threshold);
    pairs.sort_unstable_by_key(|p| (p.a, p.b));
    search.candidates = candidates;
    search.confirmed = pairs.len() as u64;
    lap(&mut search, "calibration");
    (pairs, search, s)
}

/// Each picture's sums for the pixel comparison, made the first time a comparison
/// needs them: most pictures are in no candidate pair and not among the calibration's
/// sample, and preparing every one was 2% of the CPU of a scan of 100,000 PNGs. The
/// sums depend on the picture alone, so when they are made changes nothing.
struct Pictures<'a> {
    pixels: Vec<&'a [u8; SMALL_PIXELS]>,
    made: Vec<std::sync::OnceLock<similarity::Prepared<'a>>>,
}

impl<'a> Pictures<'a> {
    fn new(pixels: Vec<&'a [u8; SMALL_PIXELS]>) -> Pictures<'a> {
        let made = (0..pixels.len())
            .map(|_| std::sync::OnceLock::new())
            .collect();
        Pictures { pixels, made }
    }

    fn get(&self, i: usize) -> &similarity::Prepared<'a> {
        self.made[i].get_or_init(|| similarity::Prepared::new(self.pixels[i]))
    }

    /// The sums if already made.
    fn ready(&self, i: usize) -> Option<&similarity::Prepared<'a>> {
        self.made[i].get()
    }
}

/// The candidate pairs confirmed on the pixels, and how many candidates there were:
/// with `prior` (the last check's search) and few pictures new since, only the new
/// ones are compared with the others; else every candidate, found by the index.
fn confirmed(
    prior: Option<&NearState>,
    reps: &[u32],
    codes: &[u64],
    key: &(dyn Fn(u32) -> u128 + Sync),
    radius: u32,
    confirm: &(dyn Fn(usize, usize) -> Option<Near> + Sync),
) -> (u64, Vec<Near>) {
    let incremental = prior.and_then(|p| {
        let new: Vec<bool> = reps
            .iter()
            .map(|&i| p.compared.binary_search(&key(i)).is_err())
            .collect();
        let added = new.iter().filter(|&&n| n).count();
        ((added as f64) <= INCREMENTAL_SHARE * reps.len() as f64).then_some((p, new))
    });
    match incremental {
        Some((p, new)) => update(p, reps, &new, codes, key, radius, confirm),
        None => {
            let index = hamming::Index::new(&codes.iter().map(|&c| spread(c)).collect::<Vec<_>>());
            let (candidates, mut pairs) = index.pairs(radius, confirm);
            // The search meets pairs in no fixed order.
            pairs.sort_unstable_by_key(|p| (p.a, p.b));
            (candidates, pairs)
        }
    }
}

/// One sample per distinct picture (copies are already joined by their key), in
/// sample order; counts in `search` the pictures left out and why.
fn representatives(
    m: &Manifest,
    smalls: &[Option<Small>],
    keys: &[Option<u128>],
    same: &[u32],
    search: &mut NearSearch,
) -> Vec<u32> {
    let contrast = m.f64s("contrast");
    let mut reps: Vec<u32> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        if key.is_none() {
            continue;
        }
        if smalls.get(i).copied().flatten().is_none() {
            search.unhashed.push(i as u32);
            continue;
        }
        // A flat picture correlates with nothing: blank images are their own rule.
        if contrast
            .get(i)
            .is_some_and(|c| c < crate::load::pixel_stats::BLANK_CONTRAST)
        {
            search.blank += 1;
            continue;
        }
        if same[i] == i as u32 {
            reps.push(i as u32);
        }
    }
    reps
}

/// What a check keeps of a search: the compared pictures and the pairs, by key.
fn near_state(
    reps: &[u32],
    pairs: &[Near],
    key: &dyn Fn(u32) -> u128,
    params: (u32, u64),
) -> NearState {
    let mut compared: Vec<u128> = reps.iter().map(|&i| key(i)).collect();
    compared.sort_unstable();
    let mut keyed: Vec<((u128, u128), f32)> = pairs
        .iter()
        .map(|p| ((key(p.a), key(p.b)), p.distance))
        .collect();
    keyed.sort_unstable_by_key(|x| x.0);
    NearState {
        params,
        compared,
        pairs: keyed.iter().map(|p| p.0).collect(),
        distances: keyed.iter().map(|p| p.1).collect(),
    }
}

/// The threshold: the ceiling, or less where the dataset's pictures are close to one
/// another anyway (a fraction of the median nearest-neighbour distance).
fn calibrate(
    search: &mut NearSearch,
    params: &Params,
    rep_keys: &[u128],
    codes: &[u64],
    prepared: &Pictures,
) -> f64 {
    let nn = nearest_distances(rep_keys, codes, prepared);
    search.calibration_sample = nn.len() as u64;
    let mut threshold = params.max_distance;
    if nn.len() >= MIN_CALIBRATION {
        let median = nn[nn.len() / 2] as f64;
        search.median_nn_distance = Some(median);
        threshold = threshold.min(params.nn_fraction * median);
    }
    search.radius = Some(threshold);
    threshold
}

/// The pixel distance from each of up to `CALIBRATION_SAMPLE` distinct pictures (those
/// with the smallest keys: a fixed sample, whatever the order or the run) to its
/// nearest other picture, among the `NN_CANDIDATES` nearest by centred pHash; sorted.
fn nearest_distances(keys: &[u128], codes: &[u64], pictures: &Pictures) -> Vec<f32> {
    let mut by_key: Vec<(u128, usize)> =
        keys.iter().enumerate().map(|(k, &key)| (key, k)).collect();
    let take = CALIBRATION_SAMPLE.min(by_key.len());
    if take < by_key.len() {
        by_key.select_nth_unstable(take);
        by_key.truncate(take);
    }
    let mut nn: Vec<f32> = by_key
        .par_iter()
        .map(|&(_, a)| {
            let best = nearest_by_hash(a, codes);
            best.iter()
                .map(|&(_, b)| pictures.get(a).distance(pictures.get(b)))
                .fold(f32::INFINITY, f32::min)
        })
        .collect();
    nn.sort_by(f32::total_cmp);
    nn
}

/// The `NN_CANDIDATES` codes nearest to `codes[a]` (itself left out) as (distance,
/// index), nearest first, ties to the smaller index: a fixed choice. The distances are
/// taken a block at a time, and a block none of whose codes beats the current few is
/// passed over (`a`'s own block never is: it is 0 apart from itself).
fn nearest_by_hash(a: usize, codes: &[u64]) -> Vec<(u32, usize)> {
    const BLOCK: usize = 256;
    let mut best: Vec<(u32, usize)> = Vec::with_capacity(NN_CANDIDATES + 1);
    let mut apart = [0u32; BLOCK];
    for (k, block) in codes.chunks(BLOCK).enumerate() {
        let apart = &mut apart[..block.len()];
        hamming::distances(codes[a], block, apart);
        let full = best.len() == NN_CANDIDATES;
        if full && apart.iter().all(|&d| d >= best[NN_CANDIDATES - 1].0) {
            continue;
        }
        for (b, &d) in (k * BLOCK..).zip(apart.iter()) {
            if b == a || (best.len() == NN_CANDIDATES && d >= best[NN_CANDIDATES - 1].0) {
                continue;
            }
            let at = best.partition_point(|&(x, _)| x <= d);
            best.insert(at, (d, b));
            best.truncate(NN_CANDIDATES);
        }
    }
    best
}

/// The prior pairs whose pictures are both still here, and the pairs of each new
/// picture, found by comparing its hash with every other's (a few hundred new
/// pictures against a hundred thousand is a few milliseconds, no index needed) and
/// confirmed on the pixels. Returns (candidates, pairs within the ceiling).
fn update(
    prior: &NearState,
    reps: &[u32],
    new: &[bool],
    codes: &[u64],
    key: &(dyn Fn(u32) -> u128 + Sync),
    radius: u32,
    confirm: &(dyn Fn(usize, usize) -> Option<Near> + Sync),
) -> (u64, Vec<Near>) {
    let at: HashMap<u128, u32> = reps.iter().map(|&i| (key(i), i)).collect();
    let mut pairs: Vec<Near> = prior
        .pairs
        .iter()
        .zip(&prior.distances)
        .filter_map(|((a, b), &distance)| {
            let (a, b) = (*at.get(a)?, *at.get(b)?);
            Some(Near {
                a: a.min(b),
                b: a.max(b),
                distance,
            })
        })
        .collect();
    let found: Vec<(u64, Vec<Near>)> = (0..reps.len())
        .into_par_iter()
        .filter(|&a| new[a])
        .map(|a| {
            let hits: Vec<usize> = codes
                .iter()
                .enumerate()
                // A pair of two new pictures is found once, from its first.
                .filter(|&(b, &c)| {
                    b != a && (!new[b] || b > a) && (codes[a] ^ c).count_ones() <= radius
                })
                .map(|(b, _)| b)
                .collect();
            let confirmed = hits.iter().filter_map(|&b| confirm(a, b)).collect();
            (hits.len() as u64, confirmed)
        })
        .collect();
    let candidates = pairs.len() as u64 + found.iter().map(|f| f.0).sum::<u64>();
    pairs.extend(found.into_iter().flat_map(|f| f.1));
    (candidates, pairs)
}

/// The pHash's bits in another fixed order. Hamming distances do not change, but
/// the multi-index splits the code into 16-bit blocks, and in DCT order the first
/// block holds the lowest frequencies, whose bits most images share: its buckets
/// overflow. Interleaving spreads those bits over every block.
fn spread(h: u64) -> u64 {
    let mut out = 0u64;
    for i in 0..64 {
        out |= ((h >> i) & 1) << ((i * 23) % 64);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The choice as first written: every code in turn, one population count each.
    fn nearest_by_hash_plainly(a: usize, codes: &[u64]) -> Vec<(u32, usize)> {
        let mut best: Vec<(u32, usize)> = Vec::new();
        for (b, &c) in codes.iter().enumerate() {
            if b == a {
                continue;
            }
            let d = (c ^ codes[a]).count_ones();
            if best.len() == NN_CANDIDATES && d >= best[NN_CANDIDATES - 1].0 {
                continue;
            }
            let at = best.partition_point(|&(x, _)| x <= d);
            best.insert(at, (d, b));
            best.truncate(NN_CANDIDATES);
        }
        best
    }

    proptest! {
        /// Blocks passed over change nothing: the same few, in the same order, ties
        /// included, for codes drawn near a handful of centres (many equal distances,
        /// copies of the query's own code) over several blocks.
        #[test]
        fn nearest_by_hash_is_the_plain_scan(
            centres in proptest::collection::vec(any::<u64>(), 1..4),
            picks in proptest::collection::vec((0usize..4, 0u32..64, 0u32..64, any::<bool>()), 2..1200),
            at in any::<proptest::sample::Index>(),
        ) {
            let codes: Vec<u64> = picks
                .iter()
                .map(|&(c, x, y, two)| {
                    let base = centres[c % centres.len()] ^ (1 << x);
                    if two { base ^ (1 << y) } else { base }
                })
                .collect();
            let a = at.index(codes.len());
            prop_assert_eq!(nearest_by_hash(a, &codes), nearest_by_hash_plainly(a, &codes));
        }
    }
}
