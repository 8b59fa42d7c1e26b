//! Whether two images are the same picture: the normalised cross-correlation of
//! their 32×32 grey images, at the best of the small translations. A perceptual hash
//! only proposes candidates; this is what a near copy is judged on.
//!
//! Mean and contrast are normalised away (a brightness or contrast change keeps the
//! correlation at 1 up to clipping), re-encoding and resizing barely move a 32×32
//! image, and a shift of up to `SHIFT` pixels is searched. Two different pictures of
//! the same class (two handwritten 3s, two icons) stay measurably apart: on
//! scikit-learn's digits the closest distinct pair correlates at 0.9957, the copies
//! made by re-encoding, resizing, ±10% brightness and a 1 px shift at ≥ 0.998.
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

/// 1 − the best correlation over the translations: 0 for the same picture, about 2
/// for its negative. A flat window correlates with nothing (distance 1).
pub fn distance(a: &[u8; SMALL_PIXELS], b: &[u8; SMALL_PIXELS]) -> f32 {
    let (sa, saa) = sums(a, SHIFT, SHIFT);
    let va = N * saa - sa * sa;
    if va <= 0.0 {
        return 1.0;
    }
    let mut best = f64::NEG_INFINITY;
    for dy in 0..=2 * SHIFT {
        for dx in 0..=2 * SHIFT {
            let (sb, sbb) = sums(b, dx, dy);
            let vb = N * sbb - sb * sb;
            if vb <= 0.0 {
                continue;
            }
            let sab = cross(a, b, dx, dy) as f64;
            best = best.max((N * sab - sa * sb) / (va * vb).sqrt());
        }
    }
    if best == f64::NEG_INFINITY {
        return 1.0;
    }
    (1.0 - best).max(0.0) as f32
}

/// Sum and sum of squares of the window whose top-left corner is (x0, y0).
fn sums(p: &[u8; SMALL_PIXELS], x0: usize, y0: usize) -> (f64, f64) {
    let (mut s, mut ss) = (0u32, 0u32);
    for y in y0..y0 + WIN {
        let row = &p[y * SMALL_SIDE + x0..y * SMALL_SIDE + x0 + WIN];
        s += row.iter().map(|&v| v as u32).sum::<u32>();
        ss += row.iter().map(|&v| v as u32 * v as u32).sum::<u32>();
    }
    (s as f64, ss as f64)
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
    fn symmetric_enough_for_either_order() {
        let (a, b) = (figure(0, 0, 0.0), figure(1, 1, 0.1));
        assert!((distance(&a, &b) - distance(&b, &a)).abs() < 0.02);
    }
}
