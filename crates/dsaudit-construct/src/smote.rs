//! SMOTE (Chawla et al. 2002, as imbalanced-learn draws it): a synthetic row lies on
//! the segment between a random sample of the class and one of its k nearest
//! same-class neighbours. Neighbours are found on z-scored numeric features, so that
//! no feature's unit decides them; the values themselves are interpolated in
//! `tables`.

use super::Samples;
use anyhow::{bail, Result};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// Neighbours a synthetic row may be drawn towards (imbalanced-learn's default).
pub const K: usize = 5;

/// `more` synthetic rows for the class whose samples are `ids`: (base, partner, t).
pub fn draw(
    s: &Samples,
    ids: &[u32],
    more: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<(u32, u32, f64)>> {
    let Some(rows) = s.loaded.rows.as_ref().filter(|r| r.len() == s.len()) else {
        bail!("--smote interpolates table features; this dataset is not a table (drop --smote to oversample by copies)");
    };
    let d = rows.features.numeric.len();
    if d == 0 {
        bail!("--smote needs numeric feature columns; this table has none (drop --smote to oversample by copies)");
    }
    let class = &s.classes[s.class[ids[0] as usize] as usize];
    if ids.len() < 2 {
        bail!("--smote: class '{class}' has one sample, and SMOTE needs two to draw between (drop --smote to copy it)");
    }
    // z-scores over the class; missing and non-finite values sit at the mean.
    let mut moments = vec![dsaudit_core::stats::moments::Moments::default(); d];
    for &i in ids {
        for (m, &v) in moments
            .iter_mut()
            .zip(&rows.numeric[i as usize * d..(i as usize + 1) * d])
        {
            if v.is_finite() {
                m.push(v as f64);
            }
        }
    }
    let mut points = vec![0f32; ids.len() * d];
    for (k, &i) in ids.iter().enumerate() {
        let row = &rows.numeric[i as usize * d..(i as usize + 1) * d];
        for j in 0..d {
            let (mean, std) = (moments[j].mean, moments[j].std());
            if row[j].is_finite() && std > 0.0 {
                points[k * d + j] = ((row[j] as f64 - mean) / std) as f32;
            }
        }
    }
    let bases: Vec<usize> = (0..more).map(|_| rng.random_range(0..ids.len())).collect();
    let mut distinct: Vec<u32> = bases.iter().map(|&b| b as u32).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let found = dsaudit_core::knn::nearest(&points, d, &distinct, K);
    let neighbours: HashMap<u32, Vec<(u32, f32)>> = distinct.into_iter().zip(found).collect();
    Ok(bases
        .into_iter()
        .map(|b| {
            let near = &neighbours[&(b as u32)];
            let partner = near[rng.random_range(0..near.len())].0 as usize;
            let t: f64 = rng.random();
            (ids[b], ids[partner], t)
        })
        .collect())
}
