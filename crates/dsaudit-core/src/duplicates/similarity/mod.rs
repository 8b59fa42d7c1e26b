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
/// pictures are not compared pixel by pixel. Copies stay below it. Measured on the
/// candidate pairs with the pixel test alongside: re-encoding, resizing and 1 px
/// shifts of real photos keep it under 0.006; brightness ×1.1 with clipping and
/// shifts of scikit-learn's digits under 0.029, the look-alike benchmark's copies
/// under 0.033; but a textured scene moved by one pixel of the 32×32 image, its
/// edge repeated, reached 0.065 (its centroid, spread over the whole frame, hardly
/// follows the shift), and a limit of 0.05 lost one such copy in the tests. At 0.1 it
/// rules out a fifth of a look-alike set's candidates; the first rows of the pixel
/// test (`Prepared::distance_within`) rule out most of the rest.
pub const COARSE_LIMIT: f32 = 0.1;

/// Window rows after which a translation whose correlation can no longer reach
/// what is asked of it is given up (`Prepared::distance_within`).
const CHECKPOINTS: [usize; 3] = [7, 14, 21];
const WINDOWS: usize = (2 * SHIFT + 1) * (2 * SHIFT + 1);

/// A picture's centred 8×8 thumbnail, normalised to zero mean and unit length, in
/// fixed point (all zero when flat): the first test of a candidate pair. Kept apart
/// from `Prepared`, two cache lines each, so that the thumbnails of a hundred
/// thousand pictures stay in cache while millions of pairs are tested.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub struct Thumb([i16; 64]);

/// Fixed-point scale of `Thumb`: each value's rounding moves a correlation by
/// at most 64 × 2⁻¹⁴, far below `COARSE_LIMIT`.
const THUMB_ONE: f32 = (1 << 14) as f32;

impl Thumb {
    pub fn new(centred_thumb: &[u8; 64]) -> Thumb {
        let mean = centred_thumb.iter().map(|&v| v as f32).sum::<f32>() / 64.0;
        let centred: [f32; 64] = std::array::from_fn(|i| centred_thumb[i] as f32 - mean);
        let norm = centred.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm == 0.0 {
            return Thumb([0; 64]);
        }
        Thumb(centred.map(|v| (v / norm * THUMB_ONE).round() as i16))
    }

    fn flat(&self) -> bool {
        self.0.iter().all(|&v| v == 0)
    }

    /// Whether the thumbnails already tell the two pictures apart (never when either
    /// is flat: a flat thumbnail rules nothing out).
    pub fn surely_apart(&self, other: &Thumb) -> bool {
        // Unit vectors: every partial sum is at most 2²⁸ in size (Cauchy–Schwarz),
        // so i32 holds it, and the sum is a SIMD multiply-add.
        let dot: i32 = self
            .0
            .iter()
            .zip(&other.0)
            .map(|(&x, &y)| x as i32 * y as i32)
            .sum();
        1.0 - dot as f32 / (THUMB_ONE * THUMB_ONE) > COARSE_LIMIT && !self.flat() && !other.flat()
    }
}

/// What a pair's comparison needs of one picture, computed once per picture: its
/// pixels, and the sum and sum of squares of each shifted window and of its first rows.
pub struct Prepared<'a> {
    pixels: &'a [u8; SMALL_PIXELS],
    /// Each window's Σv and centred energy root √(N·Σv² − (Σv)²) (0 when flat):
    /// `windows[dy * 5 + dx]`.
    windows: [(u32, f64); WINDOWS],
    /// Σv over the window's first `CHECKPOINTS[k]` rows, and the root of the centred
    /// energy (about the whole window's mean, N-scaled) of its other rows: `[k][window]`.
    tops: [[(u32, f32); WINDOWS]; CHECKPOINTS.len()],
    /// Centroid of the intensity above the darkest pixel, as `perceptual` centres by.
    centroid: (f32, f32),
}

impl<'a> Prepared<'a> {
    pub fn new(pixels: &'a [u8; SMALL_PIXELS]) -> Prepared<'a> {
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
        let rect = |k: usize, rows: usize| {
            let (x0, y0) = (k % (2 * SHIFT + 1), k / (2 * SHIFT + 1));
            let (x1, y1) = (x0 + WIN, y0 + rows);
            let at = |t: &[u32; S * S]| {
                t[y1 * S + x1] + t[y0 * S + x0] - t[y0 * S + x1] - t[y1 * S + x0]
            };
            (at(&sum), at(&sq))
        };
        let windows = std::array::from_fn(|k| {
            let (s, ss) = rect(k, WIN);
            let (s, ss) = (s as f64, ss as f64);
            (s as u32, (N * ss - s * s).max(0.0).sqrt())
        });
        let tops = CHECKPOINTS.map(|rows| {
            std::array::from_fn(|k| {
                let (s, ss) = rect(k, WIN);
                let (s_d, ss_d) = rect(k, rows);
                let (s, ss, s_d, ss_d) = (s as f64, ss as f64, s_d as f64, ss_d as f64);
                // N·Σ(v − mean)² over the rows after the first `rows`.
                let n_rest = ((WIN - rows) * WIN) as f64;
                let rest = N * (ss - ss_d) - 2.0 * s * (s - s_d) + n_rest * s * s / N;
                (s_d as u32, rest.max(0.0).sqrt() as f32)
            })
        });
        Prepared {
            pixels,
            windows,
            tops,
            centroid: centroid(pixels),
        }
    }

    /// Asks for `b`'s sums and the rows the first checkpoint reads at once, so that
    /// their cache misses overlap: a candidate's picture is anywhere among a hundred
    /// thousand, and reading it in order of need waited on one miss after another.
    pub fn prefetch(&self) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let lines = |p: *const u8, len: usize| {
                for off in (0..len).step_by(64) {
                    // SAFETY: a prefetch is only a hint; the addresses lie within `self`.
                    unsafe { _mm_prefetch(p.add(off) as *const i8, _MM_HINT_T0) };
                }
            };
            lines(
                self as *const Self as *const u8,
                std::mem::size_of::<Self>(),
            );
            lines(
                self.pixels.as_ptr(),
                (CHECKPOINTS[0] + 2 * SHIFT) * SMALL_SIDE,
            );
        }
    }

    /// 1 − the best correlation over the translations: 0 for the same picture, about
    /// 2 for its negative. A flat window correlates with nothing (distance 1).
    pub fn distance(&self, b: &Prepared) -> f32 {
        self.distance_within(b, f32::INFINITY)
            .expect("no distance is beyond an infinite limit")
    }

    /// `distance` when it is at most `limit`, None otherwise: found sooner, because
    /// a translation is given up as soon as the rows compared so far show that its
    /// correlation cannot reach 1 − `limit`, nor the best one found.
    ///
    /// Only the translations within a pixel of the one that lines up the two
    /// centroids are tried (at most 9 of the 25), that one first: a copy's content
    /// moves with its centroid, so its best translation is among them. (Trying that
    /// one alone first and its neighbours only when it correlated well lost shifted
    /// copies of textured pictures, whose correlation collapses one pixel off.)
    ///
    /// The bound, after the first rows of a translation (Cauchy–Schwarz on the rows
    /// still to come): N times the centred cross term is at most c + ra·rb, where c
    /// is its value over the rows so far and ra, rb the roots of what is left of each
    /// window's centred energy, all from sums prepared for each picture. It never
    /// rejects a translation that would have been kept (the slack covers the
    /// rounding of the stored roots), so the answer is the same as comparing every
    /// row; on the look-alike benchmark 89% of the translations tried were given up
    /// after 7 of the 28 rows.
    pub fn distance_within(&self, b: &Prepared, limit: f32) -> Option<f32> {
        const SLACK: f64 = 1e-5;
        let centre = SHIFT * (2 * SHIFT + 1) + SHIFT;
        let (sa, root_a) = self.windows[centre];
        let sa = sa as f64;
        let floor = 1.0 - limit as f64;
        let mut best = f64::NEG_INFINITY;
        if root_a > 0.0 {
            // Window corners (0..=2·SHIFT, SHIFT being no translation) within a pixel
            // of the one that lines up the centroids, that one first; none when it is
            // out of reach.
            let near = |a: f32, b: f32| {
                let d = (b - a).round() as i64 + SHIFT as i64;
                [d, d - 1, d + 1]
                    .into_iter()
                    .filter(|v| (0..=2 * SHIFT as i64).contains(v))
                    .map(|v| v as usize)
            };
            for dy in near(self.centroid.1, b.centroid.1) {
                'shifts: for dx in near(self.centroid.0, b.centroid.0) {
                    let w = dy * (2 * SHIFT + 1) + dx;
                    let (sb, root_b) = b.windows[w];
                    if root_b <= 0.0 {
                        continue;
                    }
                    let sb = sb as f64;
                    let norm = root_a * root_b;
                    // What N·Σ(a − ā)(b − b̄) must reach, with the slack.
                    let need = (floor.max(best) - SLACK) * norm;
                    let mut sab = 0u32;
                    let mut done = 0;
                    for (k, &rows) in CHECKPOINTS.iter().enumerate() {
                        sab += cross(self.pixels, b.pixels, dx, dy, done, rows);
                        done = rows;
                        let (sa_d, rest_a) = self.tops[k][centre];
                        let (sb_d, rest_b) = b.tops[k][w];
                        // n_d · sa · sb / N, by a product: a division here cost as
                        // much as the rest of the bound.
                        let n_d = (rows * WIN) as f64 * (1.0 / N);
                        let c =
                            N * sab as f64 - sb * sa_d as f64 - sa * sb_d as f64 + n_d * sa * sb;
                        if c + rest_a as f64 * rest_b as f64 * (1.0 + SLACK) < need {
                            continue 'shifts;
                        }
                    }
                    sab += cross(self.pixels, b.pixels, dx, dy, done, WIN);
                    best = best.max((N * sab as f64 - sa * sb) / norm);
                }
            }
        }
        let distance = if best == f64::NEG_INFINITY {
            1.0
        } else {
            (1.0 - best).max(0.0) as f32
        };
        (distance <= limit).then_some(distance)
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
    Prepared::new(a).distance(&Prepared::new(b))
}

/// Σ a·b over rows `from..to` of `a`'s centred window and `b`'s window at
/// (dx, dy); at most 784 × 255² < 2³², so u32 holds it. The hot loop of the
/// duplicate search: with SIMD where the CPU has it.
fn cross(
    a: &[u8; SMALL_PIXELS],
    b: &[u8; SMALL_PIXELS],
    dx: usize,
    dy: usize,
    from: usize,
    to: usize,
) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2.
            return unsafe { simd::cross_avx2(a, b, dx, dy, from, to) };
        }
        simd::cross_sse2(a, b, dx, dy, from, to)
    }
    #[cfg(not(target_arch = "x86_64"))]
    cross_scalar(a, b, dx, dy, from, to)
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn cross_scalar(
    a: &[u8; SMALL_PIXELS],
    b: &[u8; SMALL_PIXELS],
    dx: usize,
    dy: usize,
    from: usize,
    to: usize,
) -> u32 {
    let mut s = 0u32;
    for y in from..to {
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

/// A window row's 28 bytes are read as two 16-byte loads, at 0 and at 12 (never
/// past the row's end, nor the picture's); the 4 bytes both cover are zeroed in
/// `a`'s second load. Products of bytes fit i16 lanes' pairwise sums (madd).
#[cfg(target_arch = "x86_64")]
mod simd {
    use super::{SHIFT, SMALL_PIXELS, SMALL_SIDE, WIN};
    use std::arch::x86_64::*;

    pub fn cross_sse2(
        a: &[u8; SMALL_PIXELS],
        b: &[u8; SMALL_PIXELS],
        dx: usize,
        dy: usize,
        from: usize,
        to: usize,
    ) -> u32 {
        assert!(to <= WIN && dx <= 2 * SHIFT && dy <= 2 * SHIFT);
        // SAFETY: SSE2 is part of x86_64; every load lies within a window row (asserted
        // bounds), hence within the 1,024 bytes.
        unsafe {
            let z = _mm_setzero_si128();
            let keep_hi = _mm_set_epi16(-1, -1, -1, -1, 0, 0, 0, 0);
            let mut acc = _mm_setzero_si128();
            for y in from..to {
                let pa = a.as_ptr().add((y + SHIFT) * SMALL_SIDE + SHIFT);
                let pb = b.as_ptr().add((y + dy) * SMALL_SIDE + dx);
                let a0 = _mm_loadu_si128(pa as *const __m128i);
                let a1 = _mm_loadu_si128(pa.add(WIN - 16) as *const __m128i);
                let b0 = _mm_loadu_si128(pb as *const __m128i);
                let b1 = _mm_loadu_si128(pb.add(WIN - 16) as *const __m128i);
                let lo = |v| _mm_unpacklo_epi8(v, z);
                let hi = |v| _mm_unpackhi_epi8(v, z);
                acc = _mm_add_epi32(acc, _mm_madd_epi16(lo(a0), lo(b0)));
                acc = _mm_add_epi32(acc, _mm_madd_epi16(hi(a0), hi(b0)));
                acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_and_si128(lo(a1), keep_hi), lo(b1)));
                acc = _mm_add_epi32(acc, _mm_madd_epi16(hi(a1), hi(b1)));
            }
            horizontal(acc)
        }
    }

    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn cross_avx2(
        a: &[u8; SMALL_PIXELS],
        b: &[u8; SMALL_PIXELS],
        dx: usize,
        dy: usize,
        from: usize,
        to: usize,
    ) -> u32 {
        assert!(to <= WIN && dx <= 2 * SHIFT && dy <= 2 * SHIFT);
        let keep_hi = _mm256_set_epi16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0);
        let mut acc = _mm256_setzero_si256();
        for y in from..to {
            let pa = a.as_ptr().add((y + SHIFT) * SMALL_SIDE + SHIFT);
            let pb = b.as_ptr().add((y + dy) * SMALL_SIDE + dx);
            let wide = |p: *const u8| _mm256_cvtepu8_epi16(_mm_loadu_si128(p as *const __m128i));
            let (a0, a1) = (wide(pa), _mm256_and_si256(wide(pa.add(WIN - 16)), keep_hi));
            let (b0, b1) = (wide(pb), wide(pb.add(WIN - 16)));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(a0, b0));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(a1, b1));
        }
        horizontal(_mm_add_epi32(
            _mm256_castsi256_si128(acc),
            _mm256_extracti128_si256(acc, 1),
        ))
    }

    fn horizontal(v: __m128i) -> u32 {
        // SAFETY: SSE2 is part of x86_64.
        unsafe {
            let s = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0b01_00_11_10));
            let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
            _mm_cvtsi128_si32(s) as u32
        }
    }
}

#[cfg(test)]
mod tests;
