//! Images: identical pictures by the BLAKE3 hash of their decoded pixels (which
//! also catches the same file saved twice), similar ones by perceptual hash,
//! searched with a multi-index hash over the 64-bit pHash so that no pair of
//! images is compared unless a quarter of their bits already agree exactly.

use super::{NearSearch, Params};
use crate::manifest::Manifest;
use rayon::prelude::*;
use rustc_hash::FxHashSet as HashSet;

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
pub fn near_pairs(
    m: &Manifest,
    keys: &[Option<u128>],
    params: &Params,
) -> (Vec<(u32, u32)>, NearSearch) {
    let (phash, dhash, contrast) = (m.u64s("phash"), m.u64s("dhash"), m.f64s("contrast"));
    let mut search = NearSearch {
        method: "perceptual hash: 64-bit DCT pHash searched with multi-index hashing, confirmed by a 64-bit dHash".into(),
        ..Default::default()
    };
    // One representative per distinct picture: copies are already joined by their key.
    let mut seen: HashSet<u128> = HashSet::default();
    let mut reps: Vec<u32> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let Some(key) = key else { continue };
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
        if seen.insert(*key) {
            reps.push(i as u32);
        }
    }
    search.compared = reps.len() as u64;
    if reps.len() < 2 {
        return (Vec::new(), search);
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
    (pairs, search)
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
