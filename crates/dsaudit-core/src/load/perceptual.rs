//! Perceptual hashes of a decoded image: a 64-bit DCT hash (pHash) and a 64-bit
//! difference hash (dHash), as imagededup defines them, so that its published
//! Hamming threshold (pHash distance ≤ 10) means the same thing here.
//!
//! Written here rather than taken from a crate because the crates at hand
//! (image_hasher, img_hash) compute a different DCT hash (a 16×16 transform
//! compared with the mean), for which that threshold was never calibrated.

use image::{DynamicImage, GrayImage};
use std::sync::OnceLock;

/// Images narrower or lower than this have too few pixels for a perceptual hash to
/// mean anything; they are compared by exact hashes only.
pub const MIN_SIDE: u32 = 8;

const DCT_SIDE: usize = 32;
const LOW: usize = 8;
/// Side of the grey image the hashes start from.
pub const SMALL_SIDE: usize = DCT_SIDE;
pub const SMALL_PIXELS: usize = DCT_SIDE * DCT_SIDE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hashes {
    pub phash: u64,
    pub dhash: u64,
    /// The pHash of the 32×32 grey image moved so that its intensity centroid sits
    /// at the centre (bilinear, edges repeated): a copy shifted by a pixel along an
    /// axis keeps this hash within 4 bits where its plain pHash moves by 8 (median)
    /// to 22 on small centred images (scikit-learn's digits, measured with a numpy
    /// replica). The near-duplicate search's candidate key.
    pub aligned: u64,
    /// The image as an 8×8 grey thumbnail (4×4 means of the 32×32 the pHash
    /// starts from): a compact feature vector for the shift tests, free here.
    pub thumb: [u8; 64],
    /// The 32×32 grey image itself: what a near-duplicate candidate pair is
    /// confirmed on (`duplicates::similarity`).
    pub small: [u8; SMALL_PIXELS],
    /// The centred image as 8×8 block means: a cheap first test that rules out most
    /// candidate pairs before their pixels are compared.
    pub centred_thumb: [u8; 64],
    /// Gradient orientation histograms of the 32×32 grey image (a small HOG):
    /// what a shape looks like, wherever it sits; the compact image feature the
    /// label-error check learns from.
    pub shape: [u8; SHAPE_DIMS],
}

/// What the near-duplicate search reads of an image: its candidate key and the
/// pixels a candidate pair is confirmed on.
#[derive(Debug, Clone, Copy)]
pub struct Small {
    pub aligned: u64,
    pub pixels: [u8; SMALL_PIXELS],
    pub centred_thumb: [u8; 64],
}

pub use super::shape::SHAPE_DIMS;

pub fn hashes(img: &DynamicImage) -> Option<Hashes> {
    if img.width() < MIN_SIDE || img.height() < MIN_SIDE {
        return None;
    }
    let gray = grey(img);
    // The image crate's Triangle resize, bit for bit (`triangle`), at a fraction of
    // its cost.
    let small = super::triangle::resize(&gray, DCT_SIDE as u32, DCT_SIDE as u32);
    let px: [f32; SMALL_PIXELS] = std::array::from_fn(|i| small.as_raw()[i] as f32);
    let centred = centred(&px);
    Some(Hashes {
        phash: phash(&px),
        // From the 32×32 grey image, not the full one: the same picture at 9×8 (a
        // Triangle filter over a Triangle-filtered image) without a second resize of
        // the full picture (0.5 ms of a 640×480 photo's 4 ms, docs/benchmarks.md).
        dhash: dhash(&small),
        aligned: phash(&centred),
        thumb: thumb(&small),
        shape: super::shape::shape(&small),
        small: small.as_raw()[..].try_into().expect("32×32 grey bytes"),
        centred_thumb: block_means(&centred),
    })
}

/// Grey as PIL's `convert("L")` makes it (ITU-R 601: 299 R + 587 G + 114 B over
/// 1000, rounded), which imagededup hashes; the image crate's `to_luma8` weighs by
/// Rec. 709 instead. 8-bit colour is converted here; grey images and other depths go
/// through `to_luma8`.
fn grey(img: &DynamicImage) -> GrayImage {
    let from_rgb = |w: u32, h: u32, data: Vec<u8>| {
        GrayImage::from_raw(w, h, data).expect("one grey byte per pixel")
    };
    match img {
        DynamicImage::ImageRgb8(rgb) => from_rgb(rgb.width(), rgb.height(), pil_grey::<3>(rgb)),
        DynamicImage::ImageRgba8(rgba) => {
            from_rgb(rgba.width(), rgba.height(), pil_grey::<4>(rgba))
        }
        _ => img.to_luma8(),
    }
}

/// PIL's grey of 8-bit pixels of `C` channels (RGB first), compiled for AVX2 where the
/// CPU has it (integer arithmetic: the same bytes either way).
fn pil_grey<const C: usize>(px: &[u8]) -> Vec<u8> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { pil_grey_avx2::<C>(px) };
    }
    pil_grey_with::<C>(px)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn pil_grey_avx2<const C: usize>(px: &[u8]) -> Vec<u8> {
    pil_grey_with::<C>(px)
}

#[inline(always)]
fn pil_grey_with<const C: usize>(px: &[u8]) -> Vec<u8> {
    // A plain loop rather than `collect`, whose body is std's own function, compiled
    // without AVX2 whatever calls it.
    let mut out = vec![0u8; px.len() / C];
    for (o, p) in out.iter_mut().zip(px.chunks_exact(C)) {
        *o =
            ((p[0] as u32 * 19595 + p[1] as u32 * 38470 + p[2] as u32 * 7471 + 0x8000) >> 16) as u8;
    }
    out
}

fn thumb(small: &GrayImage) -> [u8; 64] {
    let px = small.as_raw();
    std::array::from_fn(|k| {
        let (ty, tx) = (k / 8, k % 8);
        let mut sum = 0u32;
        for y in ty * 4..ty * 4 + 4 {
            for x in tx * 4..tx * 4 + 4 {
                sum += px[y * DCT_SIDE + x] as u32;
            }
        }
        (sum / 16) as u8
    })
}

/// 8×8 means of 4×4 blocks, rounded.
fn block_means(px: &[f32; SMALL_PIXELS]) -> [u8; 64] {
    std::array::from_fn(|k| {
        let (ty, tx) = (k / 8, k % 8);
        let mut sum = 0f32;
        for y in ty * 4..ty * 4 + 4 {
            for x in tx * 4..tx * 4 + 4 {
                sum += px[y * DCT_SIDE + x];
            }
        }
        (sum / 16.0).round().clamp(0.0, 255.0) as u8
    })
}

/// `LOW × DCT_SIDE` cosine table: row u holds cos((2x+1)uπ / 2N). The DCT-II
/// without normalisation, as scipy.fftpack.dct computes it (up to a common factor
/// that does not change a comparison with the median).
fn cosines() -> &'static [[f32; DCT_SIDE]; LOW] {
    static TABLE: OnceLock<[[f32; DCT_SIDE]; LOW]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [[0f32; DCT_SIDE]; LOW];
        for (u, row) in t.iter_mut().enumerate() {
            for (x, v) in row.iter_mut().enumerate() {
                *v = (std::f64::consts::PI * (2 * x + 1) as f64 * u as f64 / (2 * DCT_SIDE) as f64)
                    .cos() as f32;
            }
        }
        t
    })
}

/// The 32×32 image translated (bilinear, edges repeated) so that the centroid of its
/// intensity above the darkest pixel lands on the centre. A translated copy has the
/// same centroid relative to its content, so both come out (nearly) the same; a
/// brightness scale does not move the centroid either.
fn centred(px: &[f32; SMALL_PIXELS]) -> [f32; SMALL_PIXELS] {
    let n = DCT_SIDE;
    let Some((dx, dy)) = centring_shift(px) else {
        return *px;
    };
    // The shift is the same for every pixel, so where a column (row) samples from
    // depends on the column (row) alone: 32 + 32 lookups instead of one per pixel
    // (a `floor` call each on the baseline x86-64 target). Same arithmetic, same bits.
    let xs: [(usize, usize, f32); DCT_SIDE] = std::array::from_fn(|x| source(x, dx));
    let ys: [(usize, usize, f32); DCT_SIDE] = std::array::from_fn(|y| source(y, dy));
    let at = |x: usize, y: usize| px[y * n + x];
    let mut out = [0f32; SMALL_PIXELS];
    for (row, &(y0, y1, fy)) in out.chunks_exact_mut(n).zip(&ys) {
        for (o, &(x0, x1, fx)) in row.iter_mut().zip(&xs) {
            let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
            let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
            *o = top * (1.0 - fy) + bottom * fy;
        }
    }
    out
}

/// How far the centroid of the intensity above the darkest pixel lies from the
/// centre (x, y); None for a flat image.
fn centring_shift(px: &[f32; SMALL_PIXELS]) -> Option<(f32, f32)> {
    let n = DCT_SIDE;
    let min = px.iter().copied().fold(f32::INFINITY, f32::min);
    let (mut sum, mut sx, mut sy) = (0f64, 0f64, 0f64);
    for (i, &v) in px.iter().enumerate() {
        let w = (v - min) as f64;
        sum += w;
        sx += w * (i % n) as f64;
        sy += w * (i / n) as f64;
    }
    if sum <= 0.0 {
        return None;
    }
    let mid = (n - 1) as f64 / 2.0;
    Some(((sx / sum - mid) as f32, (sy / sum - mid) as f32))
}

/// Where coordinate `i` moved by `d` reads from: the two neighbours (edges
/// repeated) and the weight of the second.
fn source(i: usize, d: f32) -> (usize, usize, f32) {
    let last = DCT_SIDE - 1;
    let v = (i as f32 + d).clamp(0.0, last as f32);
    let v0 = v.floor() as usize;
    (v0, (v0 + 1).min(last), v - v0 as f32)
}

/// Grey 32×32 (given), 2-D DCT, the top-left 8×8 low frequencies, each bit set when
/// the coefficient is at least the median of the 63 non-DC ones.
fn phash(px: &[f32; SMALL_PIXELS]) -> u64 {
    let c = cosines();
    let by_x = cosines_by_x();
    // Rows first (32 rows × 8 frequencies), then columns: only the 64 coefficients
    // kept. The eight frequencies of a row are summed side by side (one vector of
    // eight), each in the order x = 0, 1, …, as a sum per frequency would: the same
    // bits, without a chain of 32 dependent additions per coefficient.
    let mut rows = [[0f32; LOW]; DCT_SIDE];
    for (line, out) in px.chunks_exact(DCT_SIDE).zip(rows.iter_mut()) {
        let mut acc = [-0.0f32; LOW];
        for (&p, k) in line.iter().zip(by_x) {
            for (a, &k) in acc.iter_mut().zip(k) {
                *a += p * k;
            }
        }
        *out = acc;
    }
    let mut coef = [0f32; LOW * LOW];
    for (v, out) in coef.chunks_exact_mut(LOW).enumerate() {
        let mut acc = [-0.0f32; LOW];
        for (&k, row) in c[v].iter().zip(&rows) {
            for (a, &r) in acc.iter_mut().zip(row) {
                *a += k * r;
            }
        }
        out.copy_from_slice(&acc);
    }
    let mut ac: [f32; LOW * LOW - 1] = coef[1..].try_into().expect("63 coefficients");
    // The element a sort would put in the middle, without the sort.
    let (_, &mut median, _) = ac.select_nth_unstable_by((LOW * LOW - 1) / 2, f32::total_cmp);
    bits(coef.iter().map(|&v| v >= median))
}

/// `cosines()` transposed: entry x holds the eight frequencies' factors for column x.
fn cosines_by_x() -> &'static [[f32; LOW]; DCT_SIDE] {
    static TABLE: OnceLock<[[f32; LOW]; DCT_SIDE]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let c = cosines();
        std::array::from_fn(|x| std::array::from_fn(|u| c[u][x]))
    })
}

/// Grey 9×8; each bit says whether a pixel is brighter than its left neighbour.
fn dhash(gray: &GrayImage) -> u64 {
    let small = super::triangle::resize(gray, 9, 8);
    let px = small.as_raw();
    bits((0..8).flat_map(|y| (0..8).map(move |x| px[y * 9 + x + 1] > px[y * 9 + x])))
}

fn bits(it: impl Iterator<Item = bool>) -> u64 {
    it.fold(0u64, |acc, b| (acc << 1) | b as u64)
}

pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

#[cfg(test)]
mod tests {
    #[test]
    fn grey_is_pils() {
        // PIL: Image.new("RGB", (1, 1), c).convert("L").getpixel((0, 0))
        for (c, want) in [
            ([255u8, 0, 0], 76u8),
            ([0, 255, 0], 150),
            ([0, 0, 255], 29),
            ([10, 200, 30], 124),
            ([255, 255, 255], 255),
        ] {
            let img =
                image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(1, 1, image::Rgb(c)));
            assert_eq!(super::grey(&img).as_raw()[0], want, "{c:?}");
        }
    }

    use super::*;
    use image::{Rgb, RgbImage};

    fn scene(w: u32, h: u32, shift: i32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            let (fx, fy) = ((x as i32 - shift) as f32 / w as f32, y as f32 / h as f32);
            let v = 128.0 + 100.0 * (fx * 7.0).sin() * (fy * 5.0).cos();
            let d = ((fx - 0.3).powi(2) + (fy - 0.6).powi(2)).sqrt();
            let v = if d < 0.2 { 250.0 } else { v };
            Rgb([v as u8, (v * 0.8) as u8, 255 - v as u8])
        }))
    }

    #[test]
    fn robust_to_resize_and_shift_but_not_to_another_picture() {
        let a = hashes(&scene(64, 64, 0)).unwrap();
        let resized =
            hashes(&scene(64, 64, 0).resize_exact(58, 58, image::imageops::FilterType::Triangle))
                .unwrap();
        let shifted = hashes(&scene(64, 64, 1)).unwrap();
        let flipped = hashes(&scene(64, 64, 0).fliph()).unwrap();
        assert!(distance(a.phash, resized.phash) <= 4);
        assert!(distance(a.phash, shifted.phash) <= 6);
        assert!(distance(a.phash, flipped.phash) > 10);
    }

    #[test]
    fn too_small_images_have_no_hash() {
        assert!(hashes(&scene(7, 40, 0)).is_none());
        assert!(hashes(&scene(8, 8, 0)).is_some());
    }

    /// The straightforward forms the fast ones replaced, kept as their specification.
    mod reference {
        use super::super::*;

        pub fn centred(px: &[f32; SMALL_PIXELS]) -> [f32; SMALL_PIXELS] {
            let n = DCT_SIDE;
            let Some((dx, dy)) = centring_shift(px) else {
                return *px;
            };
            let last = (n - 1) as f32;
            let at = |x: usize, y: usize| px[y * n + x];
            std::array::from_fn(|i| {
                let x = ((i % n) as f32 + dx).clamp(0.0, last);
                let y = ((i / n) as f32 + dy).clamp(0.0, last);
                let (x0, y0) = (x.floor() as usize, y.floor() as usize);
                let (x1, y1) = ((x0 + 1).min(n - 1), (y0 + 1).min(n - 1));
                let (fx, fy) = (x - x0 as f32, y - y0 as f32);
                let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
                let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
                top * (1.0 - fy) + bottom * fy
            })
        }

        pub fn phash(px: &[f32; SMALL_PIXELS]) -> u64 {
            let c = cosines();
            let mut rows = [[0f32; LOW]; DCT_SIDE];
            for (y, out) in rows.iter_mut().enumerate() {
                let line = &px[y * DCT_SIDE..(y + 1) * DCT_SIDE];
                for (u, o) in out.iter_mut().enumerate() {
                    *o = line.iter().zip(&c[u]).map(|(&p, &k)| p * k).sum();
                }
            }
            let mut coef = [0f32; LOW * LOW];
            for v in 0..LOW {
                for u in 0..LOW {
                    coef[v * LOW + u] = (0..DCT_SIDE).map(|y| c[v][y] * rows[y][u]).sum();
                }
            }
            let mut ac: Vec<f32> = coef[1..].to_vec();
            ac.sort_by(f32::total_cmp);
            let median = ac[ac.len() / 2];
            bits(coef.iter().map(|&v| v >= median))
        }
    }

    /// Pixels as the hashes see them: noise, flat areas, a blob off centre.
    fn pictures() -> impl proptest::strategy::Strategy<Value = [f32; SMALL_PIXELS]> {
        use proptest::prelude::*;
        (
            proptest::collection::vec(any::<u8>(), SMALL_PIXELS),
            0u8..4,
            0usize..DCT_SIDE,
            0usize..DCT_SIDE,
        )
            .prop_map(|(noise, kind, cx, cy)| {
                std::array::from_fn(|i| {
                    let (x, y) = (i % DCT_SIDE, i / DCT_SIDE);
                    let blob = x.abs_diff(cx) + y.abs_diff(cy) < 6;
                    match kind {
                        0 => noise[i] as f32,
                        1 => (noise[0] / 2) as f32,
                        2 => [0.0, 255.0][blob as usize],
                        _ => [noise[0] as f32, noise[i] as f32][blob as usize],
                    }
                })
            })
    }

    proptest::proptest! {
        #[test]
        fn fast_forms_give_the_reference_bits(px in pictures()) {
            let fast = centred(&px);
            let slow = reference::centred(&px);
            proptest::prop_assert!(fast.iter().zip(&slow).all(|(a, b)| a.to_bits() == b.to_bits()));
            proptest::prop_assert_eq!(phash(&px), reference::phash(&px));
            proptest::prop_assert_eq!(phash(&fast), reference::phash(&slow));
        }
    }
}
