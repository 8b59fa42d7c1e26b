//! The image crate's Triangle-filter resize (`imageops::resize(.., FilterType::Triangle)`)
//! of an 8-bit grey image, computed the same way to the bit: the same weights, each
//! sum taken in the same order from the same starting value, the same clamp and
//! rounding. The perceptual hashes start from this picture and their thresholds were
//! measured on the image crate's, so it must not change; what changes is the cost.
//! The crate's version is generic over pixel types (four channels summed per grey
//! pixel, a bounds-checked `get_pixel` per tap, a `roundf` call per output on the
//! baseline x86-64 target): on 70,000 28×28 digits it was 14% of the scan's CPU.

use image::GrayImage;

/// Source rows or columns one output row or column reads: the first, then a
/// normalised weight per tap.
struct Taps {
    first: usize,
    weights: Vec<f32>,
}

fn triangle(x: f32) -> f32 {
    if x.abs() < 1.0 {
        1.0 - x.abs()
    } else {
        0.0
    }
}

/// The taps of each of `to` outputs over `from` inputs, as the image crate's
/// `vertical_sample` and `horizontal_sample` compute them (support 1 for Triangle).
fn taps(from: u32, to: u32) -> Vec<Taps> {
    let ratio = from as f32 / to as f32;
    let sratio = if ratio < 1.0 { 1.0 } else { ratio };
    let src_support = sratio;
    (0..to)
        .map(|out| {
            let input = (out as f32 + 0.5) * ratio;
            let left = ((input - src_support).floor() as i64).clamp(0, from as i64 - 1);
            let right = ((input + src_support).ceil() as i64).clamp(left + 1, from as i64);
            let input = input - 0.5;
            let mut weights: Vec<f32> = (left..right)
                .map(|i| triangle((i as f32 - input) / sratio))
                .collect();
            let mut sum = 0.0;
            for &w in &weights {
                sum += w;
            }
            for w in weights.iter_mut() {
                *w /= sum;
            }
            Taps {
                first: left as usize,
                weights,
            }
        })
        .collect()
}

/// `f32::round` (half away from zero) of a value already clamped to 0..=255,
/// without the library call: the fraction of a float is exact.
fn round_u8(v: f32) -> u8 {
    let whole = v as u32;
    let up = v - whole as f32 >= 0.5;
    (whole + up as u32) as u8
}

/// `imageops::resize(img, width, height, FilterType::Triangle)`, bit for bit.
pub fn resize(img: &GrayImage, width: u32, height: u32) -> GrayImage {
    let (w, h) = img.dimensions();
    if (w, h) == (width, height) {
        return img.clone();
    }
    if w == 0 || h == 0 || width == 0 || height == 0 {
        return GrayImage::new(width, height);
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { resize_avx2(img, width, height) };
    }
    resize_with(img, width, height)
}

/// The same code compiled for AVX2: eight columns summed at once, each sum still
/// taken in its own order (no reassociation, no fused multiply-add).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn resize_avx2(img: &GrayImage, width: u32, height: u32) -> GrayImage {
    resize_with(img, width, height)
}

#[inline(always)]
fn resize_with(img: &GrayImage, width: u32, height: u32) -> GrayImage {
    let px = img.as_raw();
    let (w, h) = (img.width() as usize, img.height() as usize);
    // Columns first (rows of the output, every input column), in f32 as the crate
    // keeps them, then rows. Each output row adds its taps' input rows one after
    // the other, so every column's sum runs in tap order, as the crate's per-pixel
    // loop does, while the loop over a row's columns vectorizes.
    let mut tall = vec![0f32; height as usize * w];
    for (out, taps) in tall.chunks_exact_mut(w).zip(taps(h as u32, height)) {
        for (i, &wt) in taps.weights.iter().enumerate() {
            let line = &px[(taps.first + i) * w..(taps.first + i + 1) * w];
            for (o, &v) in out.iter_mut().zip(line) {
                *o += v as f32 * wt;
            }
        }
    }
    let across = taps(w as u32, width);
    let mut out = vec![0u8; width as usize * height as usize];
    for (row, line) in out
        .chunks_exact_mut(width as usize)
        .zip(tall.chunks_exact(w))
    {
        for (o, taps) in row.iter_mut().zip(&across) {
            let mut t = 0.0f32;
            for (&v, &wt) in line[taps.first..].iter().zip(&taps.weights) {
                t += v * wt;
            }
            // As the crate's clamp (t is never NaN: finite taps, a positive sum).
            *o = round_u8(t.clamp(0.0, 255.0));
        }
    }
    GrayImage::from_raw(width, height, out).expect("width × height bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops::{self, FilterType};
    use proptest::prelude::*;

    proptest! {
        /// Bit for bit the image crate's resize, up and down, to the hashes' sizes
        /// and any other, on noise and on flat pictures with an edge.
        #[test]
        fn same_bytes_as_the_image_crate(
            w in 1u32..90,
            h in 1u32..90,
            to in prop::sample::select(vec![(32u32, 32u32), (9, 8), (1, 1), (0, 5)]),
            other in (1u32..70, 1u32..70),
            noise in prop::collection::vec(any::<u8>(), 90 * 90),
            flat in any::<bool>(),
            use_other in any::<bool>(),
        ) {
            let img = GrayImage::from_fn(w, h, |x, y| {
                let i = (y * w + x) as usize;
                image::Luma([if flat { [40, 215][(x * 3 > w) as usize] } else { noise[i] }])
            });
            let (tw, th) = if use_other { other } else { to };
            let want = imageops::resize(&img, tw, th, FilterType::Triangle);
            let got = resize(&img, tw, th);
            prop_assert_eq!(got.as_raw(), want.as_raw());
            if w > 0 && h > 0 && tw > 0 && th > 0 && (w, h) != (tw, th) {
                // The baseline build too, whichever one `resize` chose here.
                let plain = resize_with(&img, tw, th);
                prop_assert_eq!(plain.as_raw(), want.as_raw());
            }
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        for v in [0.0f32, 0.49999997, 0.5, 1.5, 2.5, 254.49998, 254.5, 255.0] {
            assert_eq!(round_u8(v), v.round() as u8, "{v}");
        }
    }
}
