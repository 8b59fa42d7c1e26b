//! Dataset-level image statistics from the manifest: per-split, per-channel mean and
//! std over all pixels (the constants for `Normalize`), and the size, aspect-ratio,
//! mode and bit-depth histograms.

use crate::manifest::Manifest;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ChannelStats {
    /// None for "all splits together".
    pub split: Option<String>,
    pub images: u64,
    pub pixels: u64,
    /// R, G, B in 0–1 units, over every pixel of every readable image.
    pub mean: [f64; 3],
    pub std: [f64; 3],
}

/// A mergeable accumulator: pixel-weighted sums of per-image means and second moments.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    images: u64,
    pixels: f64,
    sum: [f64; 3],
    sumsq: [f64; 3],
}

impl Acc {
    fn finish(&self, split: Option<String>) -> ChannelStats {
        let mut out = ChannelStats {
            split,
            images: self.images,
            pixels: self.pixels as u64,
            ..Default::default()
        };
        if self.pixels > 0.0 {
            for k in 0..3 {
                out.mean[k] = self.sum[k] / self.pixels;
                out.std[k] = (self.sumsq[k] / self.pixels - out.mean[k] * out.mean[k])
                    .max(0.0)
                    .sqrt();
            }
        }
        out
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImageStats {
    /// Train, val, test first, then other splits, then all together (`split` null).
    pub channels: Vec<ChannelStats>,
    /// "WxH" → count, most common first.
    pub sizes: Vec<(String, u64)>,
    /// Width / height rounded to two decimals → count, most common first.
    pub aspect_ratios: Vec<(String, u64)>,
    pub modes: Vec<(String, u64)>,
    pub bit_depths: Vec<(u8, u64)>,
}

fn ranked<K: Ord + Clone>(m: BTreeMap<K, u64>) -> Vec<(K, u64)> {
    let mut v: Vec<(K, u64)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

pub fn image_stats(m: &Manifest) -> Option<ImageStats> {
    let widths = m.u32s("width");
    if widths.len() == widths.null_count() {
        return None;
    }
    let heights = m.u32s("height");
    let splits = m.strs("split");
    let modes = m.strs("mode");
    let depths = m.u8s("bit_depth");
    let errors = m.strs("error_kind");
    let cols: Vec<&polars::prelude::Float64Chunked> =
        ["mean_r", "mean_g", "mean_b", "std_r", "std_g", "std_b"]
            .iter()
            .map(|c| m.f64s(c))
            .collect();
    let mut per_split: BTreeMap<Option<&str>, Acc> = BTreeMap::new();
    let mut all = Acc::default();
    let (mut sizes, mut aspects, mut mode_h, mut depth_h) = (
        BTreeMap::new(),
        BTreeMap::new(),
        BTreeMap::new(),
        BTreeMap::new(),
    );
    // Only readable images: a truncated file can decode into grey filler.
    for i in (0..m.len()).filter(|&i| errors.get(i).is_none()) {
        let (Some(w), Some(h), Some(mean_r)) = (widths.get(i), heights.get(i), cols[0].get(i))
        else {
            continue;
        };
        let n = w as f64 * h as f64;
        let mean = [
            mean_r,
            cols[1].get(i).unwrap_or(0.0),
            cols[2].get(i).unwrap_or(0.0),
        ];
        let std = [
            cols[3].get(i).unwrap_or(0.0),
            cols[4].get(i).unwrap_or(0.0),
            cols[5].get(i).unwrap_or(0.0),
        ];
        for acc in [per_split.entry(splits.get(i)).or_default(), &mut all] {
            acc.images += 1;
            acc.pixels += n;
            for k in 0..3 {
                acc.sum[k] += n * mean[k];
                acc.sumsq[k] += n * (std[k] * std[k] + mean[k] * mean[k]);
            }
        }
        *sizes.entry(format!("{w}x{h}")).or_insert(0u64) += 1;
        *aspects
            .entry(format!("{:.2}", w as f64 / h.max(1) as f64))
            .or_insert(0u64) += 1;
        *mode_h
            .entry(modes.get(i).unwrap_or("?").to_string())
            .or_insert(0u64) += 1;
        *depth_h.entry(depths.get(i).unwrap_or(0)).or_insert(0u64) += 1;
    }
    let mut channels: Vec<ChannelStats> = per_split
        .into_iter()
        .map(|(s, a)| a.finish(s.map(str::to_string)))
        .collect();
    channels.sort_by_key(|c| {
        (
            c.split.is_none(),
            crate::util::split_order(c.split.as_deref().unwrap_or("")),
        )
    });
    if channels.len() > 1 || channels.first().is_some_and(|c| c.split.is_some()) {
        channels.push(all.finish(None));
    }
    Some(ImageStats {
        channels,
        sizes: ranked(sizes),
        aspect_ratios: ranked(aspects),
        modes: ranked(mode_h),
        bit_depths: ranked(depth_h),
    })
}
