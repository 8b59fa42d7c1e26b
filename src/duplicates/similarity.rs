//! Whether two images are the same picture: the normalised cross-correlation of
//! their 32×32 grey images, at the best of the small translations. A perceptual hash
//! only proposes candidates; this is what a near copy is judged on.
//!
//! Mean and contrast are normalised away (a brightness or contrast change keeps the
//! correlation at 1 up to clipping), re-encoding and resizing barely move a 32×32
//! image, and a shift of up to `SHIFT` pixels is searched. Two different pictures of
//! the same class (two handwritten 3s, two icons) stay measurably apart: on
//! scikit-learn's digits upscaled to 32×32 (a numpy replica, docs/benchmarks.md) the
//! closest distinct pair correlates at 0.9957, the copies made by re-encoding,
//! resizing, ±10% brightness and a 1 px shift at ≥ 0.998.
//!
//! Shifts are searched in whole pixels of the 32×32 image. A shift of half of one
//! (1 px of a 64×64 image) is not recovered on textured pictures: at 32×32 their
//! texture is close to noise, and half a pixel decorrelates it.

use crate::load::perceptual::{SMALL_PIXELS, SMALL_SIDE};

/// Largest translation searched, in pixels of the 32×32 image, each way.
pub const SHIFT: usize = 2;
/// The compared window: the 32×32 image less `SHIFT` pixels on every side.
const WIN: usize = SMALL_SIDE - 2 * SHIFT;
const N: f64 = (WIN * WIN) as f64;

/// Above this distance between their centred 8×8 thumbnails (1 − correlation), two
/// pictures are not compared pixel by pixel. Copies stay far below it: on
/// scikit-learn's digits and on real photos (numpy replica) re-encoding, resizing and
/// axis shifts of 1 px keep it under 0.005, brightness ×1.1 with clipping and diagonal
/// shifts that push content out of the frame under 0.045; it rules out most of a
/// look-alike dataset's candidate pairs, whose pixels would cost ~50 times as much.
pub const COARSE_LIMIT: f32 = 0.1;

/// What a pair's comparison needs of one picture, computed once per picture: its
/// pixels, the sum and variance term of each shifted window, and its centred
/// thumbnail normalised to zero mean and unit length (None when flat).
pub struct Prepared<'a> {
    pixels: &'a [u8; SMALL_PIXELS],
    windows: [(f64, f64); (2 * SHIFT + 1) * (2 * SHIFT + 1)],
    coarse: Option<[f32; 64]>,
    /// Centroid of the intensity above the darkest pixel, as `perceptual` centres by.
    centroid: (f32, f32),
}

impl<'a> Prepared<'a> {
    pub fn new(pixels: &'a [u8; SMALL_PIXELS], centred_thumb: &[u8; 64]) -> Prepared<'a> {
        // Summed-area tables of the pixels and their squares: each window's sums in
        // four look-ups instead of 784 additions.
        const S: usize = SMALL_SIDE + 1;
        let (mut sum, mut sq) = ([0u32; S * S], [0u32; S * S]);
        for y in 0..SMALL_SIDE {
            let (mut row, mut row_sq) = (0u32, 0u32);
            for x in 0..SMALL_SIDE {
                let v = pixels[y * SMALL_SIDE + x] as u32;
                row += v;
                row_sq += v * v;
                sum[(y + 1) * S + x + 1] = sum[y * S + x + 1] + row;
                sq[(y + 1) * S + x + 1] = sq[y * S + x + 1] + row_sq;
            }
        }
        let window = |t: &[u32; S * S], x0: usize, y0: usize| {
            let (x1, y1) = (x0 + WIN, y0 + WIN);
            (t[y1 * S + x1] + t[y0 * S + x0] - t[y0 * S + x1] - t[y1 * S + x0]) as f64
        };
        let windows = std::array::from_fn(|k| {
            let (dx, dy) = (k % (2 * SHIFT + 1), k / (2 * SHIFT + 1));
            let (s, ss) = (window(&sum, dx, dy), window(&sq, dx, dy));
            (s, N * ss - s * s)
        });
        let mean = centred_thumb.iter().map(|&v| v as f32).sum::<f32>() / 64.0;
        let centred: [f32; 64] = std::array::from_fn(|i| centred_thumb[i] as f32 - mean);
        let norm = centred.iter().map(|v| v * v).sum::<f32>().sqrt();
        let coarse = (norm > 0.0).then(|| centred.map(|v| v / norm));
        Prepared {
            pixels,
            windows,
            coarse,
            centroid: centroid(pixels),
        }
    }

    /// Whether the centred thumbnails already tell the two pictures apart (never
    /// when either is flat at that scale).
    pub fn surely_apart(&self, other: &Prepared) -> bool {
        match (&self.coarse, &other.coarse) {
            (Some(a), Some(b)) => {
                1.0 - a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>() > COARSE_LIMIT
            }
            _ => false,
        }
    }

    /// 1 − the best correlation over the translations: 0 for the same picture, about
    /// 2 for its negative. A flat window correlates with nothing (distance 1).
    ///
    /// Only the translations within a pixel of the one that lines up the two
    /// centroids are tried (at most 9 of the 25): a copy's content moves with its
    /// centroid, so its best translation is among them. (Trying that one alone first
    /// and its neighbours only when it correlated well lost shifted copies of
    /// textured pictures, whose correlation collapses one pixel off.)
    pub fn distance(&self, b: &Prepared) -> f32 {
        let (sa, va) = self.windows[SHIFT * (2 * SHIFT + 1) + SHIFT];
        if va <= 0.0 {
            return 1.0;
        }
        // Window corners (0..=2·SHIFT, SHIFT being no translation) within a pixel of
        // the one that lines up the centroids; none when that is out of reach.
        let near = |a: f32, b: f32| {
            let d = (b - a).round() as i64 + SHIFT as i64;
            ((d - 1).max(0)..=(d + 1).min(2 * SHIFT as i64)).map(|v| v as usize)
        };
        let mut best = f64::NEG_INFINITY;
        for dy in near(self.centroid.1, b.centroid.1) {
            for dx in near(self.centroid.0, b.centroid.0) {
                let (sb, vb) = b.windows[dy * (2 * SHIFT + 1) + dx];
                if vb > 0.0 {
                    let sab = cross(self.pixels, b.pixels, dx, dy) as f64;
                    best = best.max((N * sab - sa * sb) / (va * vb).sqrt());
                }
            }
        }
        if best == f64::NEG_INFINITY {
            return 1.0;
        }
        (1.0 - best).max(0.0) as f32
    }
}

fn centroid(p: &[u8; SMALL_PIXELS]) -> (f32, f32) {
    let min = p.iter().copied().min().unwrap_or(0);
    let (mut sum, mut sx, mut sy) = (0u64, 0u64, 0u64);
    for (i, &v) in p.iter().enumerate() {
        let w = (v - min) as u64;
        sum += w;
        sx += w * (i % SMALL_SIDE) as u64;
        sy += w * (i / SMALL_SIDE) as u64;
    }
    if sum == 0 {
        let mid = (SMALL_SIDE - 1) as f32 / 2.0;
        return (mid, mid);
    }
    (sx as f32 / sum as f32, sy as f32 / sum as f32)
}

/// `Prepared::distance` for two pictures compared once.
pub fn distance(a: &[u8; SMALL_PIXELS], b: &[u8; SMALL_PIXELS]) -> f32 {
    let flat = [0u8; 64];
    Prepared::new(a, &flat).distance(&Prepared::new(b, &flat))
}

/// Σ a·b between `a`'s centred window and `b`'s window at (dx, dy); at most
/// 784 × 255² < 2³², so u32 holds it.
fn cross(a: &[u8; SMALL_PIXELS], b: &[u8; SMALL_PIXELS], dx: usize, dy: usize) -> u32 {
    let mut s = 0u32;
    for y in 0..WIN {
        let ra = &a[(y + SHIFT) * SMALL_SIDE + SHIFT..][..WIN];
        let rb = &b[(y + dy) * SMALL_SIDE + dx..][..WIN];
        s += ra
            .iter()
            .zip(rb)
            .map(|(&x, &y)| x as u32 * y as u32)
            .sum::<u32>();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A centred stroke figure on black, like a digit.
    fn figure(ox: i32, oy: i32, bend: f32) -> [u8; SMALL_PIXELS] {
        std::array::from_fn(|i| {
            let (x, y) = ((i % 32) as i32 - ox, (i / 32) as i32 - oy);
            let (fx, fy) = (x as f32 - 15.5, y as f32 - 15.5);
            let ring = ((fx * fx + fy * fy).sqrt() - 9.0).abs() < 2.0;
            let bar = (fx - bend * fy).abs() < 1.5 && fy.abs() < 12.0;
            if ring || bar {
                230
            } else {
                10
            }
        })
    }

    #[test]
    fn same_picture_shifted_or_rescaled_in_brightness_is_close() {
        let a = figure(0, 0, 0.0);
        assert_eq!(distance(&a, &a), 0.0);
        for (dx, dy) in [(1, 0), (0, -1), (2, 1), (-2, -2)] {
            assert!(distance(&a, &figure(dx, dy, 0.0)) < 1e-3, "{dx},{dy}");
        }
        let darker = a.map(|v| (v as f32 * 0.9) as u8);
        assert!(distance(&a, &darker) < 1e-3);
    }

    #[test]
    fn a_different_figure_is_far_and_flat_is_unrelated() {
        let a = figure(0, 0, 0.0);
        assert!(distance(&a, &figure(0, 0, 0.4)) > 0.05);
        assert!(
            distance(&a, &figure(3, 3, 0.0)) > 0.05,
            "beyond the searched shift"
        );
        assert_eq!(distance(&a, &[7; SMALL_PIXELS]), 1.0);
        assert_eq!(distance(&[7; SMALL_PIXELS], &a), 1.0);
        let negative = a.map(|v| 255 - v);
        assert!(distance(&a, &negative) > 1.0);
    }

    #[test]
    fn the_coarse_test_keeps_copies_and_flat_thumbnails() {
        let block = |p: &[u8; SMALL_PIXELS]| -> [u8; 64] {
            std::array::from_fn(|k| {
                let (ty, tx) = (k / 8, k % 8);
                let s: u32 = (0..16)
                    .map(|j| p[(ty * 4 + j / 4) * 32 + tx * 4 + j % 4] as u32)
                    .sum();
                (s / 16) as u8
            })
        };
        // b: the same figure at half the contrast; c: another picture (a ring alone).
        let a = figure(0, 0, 0.0);
        let b = a.map(|v| v / 2 + 3);
        let c: [u8; SMALL_PIXELS] = std::array::from_fn(|i| {
            let (fx, fy) = ((i % 32) as f32 - 15.5, (i / 32) as f32 - 15.5);
            if (fx * fx + fy * fy).sqrt() > 12.0 {
                200
            } else {
                20
            }
        });
        let (pa, pb, pc) = (
            Prepared::new(&a, &block(&a)),
            Prepared::new(&b, &block(&b)),
            Prepared::new(&c, &block(&c)),
        );
        assert!(!pa.surely_apart(&pb));
        assert!(pa.distance(&pb) < 1e-3);
        assert!(pa.surely_apart(&pc));
        let flat = Prepared::new(&a, &[9; 64]);
        assert!(
            !flat.surely_apart(&pc),
            "a flat thumbnail rules nothing out"
        );
    }

    #[test]
    fn window_sums_match_a_direct_count() {
        let a = figure(1, -1, 0.2);
        let p = Prepared::new(&a, &[0; 64]);
        for (k, &(s, v)) in p.windows.iter().enumerate() {
            let (dx, dy) = (k % (2 * SHIFT + 1), k / (2 * SHIFT + 1));
            let px = (dy..dy + WIN).flat_map(|y| a[y * SMALL_SIDE + dx..][..WIN].iter());
            let (ds, dss) = px.fold((0f64, 0f64), |(s, ss), &v| {
                (s + v as f64, ss + (v as f64).powi(2))
            });
            assert_eq!((s, v), (ds, N * dss - ds * ds), "window {k}");
        }
    }

    #[test]
    fn symmetric_enough_for_either_order() {
        let (a, b) = (figure(0, 0, 0.0), figure(1, 1, 0.1));
        assert!((distance(&a, &b) - distance(&b, &a)).abs() < 0.02);
    }
}
