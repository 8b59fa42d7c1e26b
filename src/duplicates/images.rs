//! Images: identical pictures by the BLAKE3 hash of their decoded pixels (which
//! also catches the same file saved twice), similar ones by perceptual hash,
//! searched with a multi-index hash over the 64-bit pHash so that no pair of
//! images is compared unless a quarter of their bits already agree exactly.

use super::{NearSearch, Params};
use crate::manifest::Manifest;
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

/// What `dsaudit check` keeps of a search: the distinct pictures compared and the
/// similar pairs among them, by pixel key. Whether two pictures are similar depends
/// on their pixels alone, so the next search need only compare the new ones.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct NearState {
    /// (pHash radius, dHash radius) of the search.
    params: (u32, u32),
    /// Keys of the pictures compared, sorted.
    #[serde(with = "crate::packed")]
    compared: Vec<u128>,
    #[serde(with = "crate::packed")]
    pairs: Vec<(u128, u128)>,
}

/// Above this share of new pictures, a full search is as quick as comparing them.
const INCREMENTAL_SHARE: f64 = 0.02;

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

/// Pairs of samples whose pHash differs in at most `params.phash` bits and whose
/// dHash, the second opinion, in at most `params.dhash`.
/// With `prior` (the last check's search, same thresholds) only the pictures new
/// since then are compared with the others; the pairs are the same as a full search's.
/// `same`: each sample's first identical one (`clusters::first_same` over `keys`).
pub fn near_pairs(
    m: &Manifest,
    keys: &[Option<u128>],
    same: &[u32],
    params: &Params,
    prior: Option<&NearState>,
) -> (Vec<(u32, u32)>, NearSearch, NearState) {
    let (phash, dhash, contrast) = (m.u64s("phash"), m.u64s("dhash"), m.f64s("contrast"));
    let mut search = NearSearch {
        method: "perceptual hash: 64-bit DCT pHash searched with multi-index hashing, confirmed by a 64-bit dHash".into(),
        ..Default::default()
    };
    // One representative per distinct picture: copies are already joined by their key.
    // Identical pixels pass the checks below alike, so the first copy represents them.
    let mut reps: Vec<u32> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        if key.is_none() {
            continue;
        }
        if phash.get(i).is_none() {
            search.unhashed.push(i as u32);
            continue;
        }
        // A flat picture's hash is all noise: blank images are their own rule.
        if contrast
            .get(i)
            .is_some_and(|c| c < crate::rules::normalization::BLANK_CONTRAST)
        {
            search.blank += 1;
            continue;
        }
        if same[i] == i as u32 {
            reps.push(i as u32);
        }
    }
    search.compared = reps.len() as u64;
    let key = |i: u32| keys[i as usize].expect("representatives have keys");
    let state = |pairs: &[(u32, u32)]| {
        let mut compared: Vec<u128> = reps.iter().map(|&i| key(i)).collect();
        compared.sort_unstable();
        let mut pairs: Vec<(u128, u128)> = pairs.iter().map(|&(a, b)| (key(a), key(b))).collect();
        pairs.sort_unstable();
        NearState {
            params: (params.phash, params.dhash),
            compared,
            pairs,
        }
    };
    if reps.len() < 2 {
        return (Vec::new(), search, state(&[]));
    }
    if let Some(p) = prior.filter(|p| p.params == (params.phash, params.dhash)) {
        let new: Vec<bool> = reps
            .iter()
            .map(|&i| p.compared.binary_search(&key(i)).is_err())
            .collect();
        let added = new.iter().filter(|&&n| n).count();
        if (added as f64) <= INCREMENTAL_SHARE * reps.len() as f64 {
            let pairs = update(p, &reps, &new, &key, phash, dhash, params);
            let s = state(&pairs);
            return (pairs, search, s);
        }
    }
    let codes: Vec<u64> = reps
        .iter()
        .map(|&i| spread(phash.get(i as usize).unwrap_or(0)))
        .collect();
    let index = mih_rs::Index::new(codes).expect("non-empty index of fewer than 2^32 codes");
    let radius = params.phash as usize;
    let pairs: Vec<(u32, u32)> = (0..reps.len())
        .into_par_iter()
        .map_init(
            || index.range_searcher(),
            |searcher, a| {
                let da = dhash.get(reps[a] as usize).unwrap_or(0);
                searcher
                    .run(index.codes()[a], radius)
                    .iter()
                    .filter(|&&b| (b as usize) > a)
                    .filter(|&&b| {
                        (da ^ dhash.get(reps[b as usize] as usize).unwrap_or(0)).count_ones()
                            <= params.dhash
                    })
                    .map(|&b| (reps[a], reps[b as usize]))
                    .collect::<Vec<_>>()
            },
        )
        .flatten()
        .collect();
    let s = state(&pairs);
    (pairs, search, s)
}

/// The prior pairs whose pictures are both still here, and the pairs of each new
/// picture, found by comparing it with every other (a few hundred new pictures
/// against a hundred thousand is a few milliseconds, no index needed).
fn update(
    prior: &NearState,
    reps: &[u32],
    new: &[bool],
    key: &(dyn Fn(u32) -> u128 + Sync),
    phash: &polars::prelude::UInt64Chunked,
    dhash: &polars::prelude::UInt64Chunked,
    params: &Params,
) -> Vec<(u32, u32)> {
    let at: HashMap<u128, u32> = reps.iter().map(|&i| (key(i), i)).collect();
    let mut pairs: Vec<(u32, u32)> = prior
        .pairs
        .iter()
        .filter_map(|(a, b)| Some((*at.get(a)?, *at.get(b)?)))
        .collect();
    let codes: Vec<(u64, u64)> = reps
        .iter()
        .map(|&i| {
            (
                phash.get(i as usize).unwrap_or(0),
                dhash.get(i as usize).unwrap_or(0),
            )
        })
        .collect();
    let found: Vec<(u32, u32)> = (0..reps.len())
        .into_par_iter()
        .filter(|&a| new[a])
        .flat_map_iter(|a| {
            let (pa, da) = codes[a];
            codes
                .iter()
                .enumerate()
                // A pair of two new pictures is found once, from its first.
                .filter(move |&(b, _)| b != a && (!new[b] || b > a))
                .filter(move |(_, (pb, db))| {
                    (pa ^ pb).count_ones() <= params.phash && (da ^ db).count_ones() <= params.dhash
                })
                .map(move |(b, _)| (reps[a], reps[b]))
        })
        .collect();
    pairs.extend(found);
    pairs
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
