//! Per-image pixel statistics, computed once from the decoded image: what the
//! normalization constants and the image-quality rules need, and nothing more.

/// RMS contrast under which an image is blank: nearly one brightness. The other
/// image-quality rules and the near-duplicate search leave such images alone.
pub const BLANK_CONTRAST: f64 = 0.01;

use image::DynamicImage;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PixelStats {
    /// Per RGB channel in 0–1 units; grey images count as R = G = B (what
    /// `convert('RGB')` gives a training script), alpha is left out.
    pub mean: [f64; 3],
    pub std: [f64; 3],
    /// Luminance (Rec. 601) mean, 5th and 99th percentiles, std (RMS contrast), 0–1.
    pub brightness: f64,
    pub brightness_p5: f64,
    pub brightness_p99: f64,
    pub contrast: f64,
    /// Largest minus smallest luminance, 0–1.
    pub dynamic_range: f64,
    /// Largest sample value of any colour channel over the format's full scale, 0–1.
    pub max_value: f64,
    /// Shannon entropy of the 256-bin luminance histogram, bits.
    pub entropy: f64,
    /// Variance of the 4-neighbour Laplacian of the 8-bit luminance; None below 3×3.
    pub sharpness: Option<f64>,
}

pub fn compute(img: &DynamicImage) -> PixelStats {
    let c = img.color().channel_count() as usize;
    let (w, h) = (img.width() as usize, img.height() as usize);
    if let Some(fs) = img.as_flat_samples_u8() {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2.
            return unsafe { eight_bit_avx2(fs.samples, c, w, h) };
        }
        eight_bit(fs.samples, c, w, h)
    } else if let Some(fs) = img.as_flat_samples_u16() {
        stats(fs.samples, c, w, h, 65535.0)
    } else if let Some(fs) = img.as_flat_samples_f32() {
        stats(fs.samples, c, w, h, 1.0)
    } else {
        stats(img.to_rgb8().as_raw(), 3, w, h, 255.0)
    }
}

fn stats<T: Copy + Into<f64>>(
    samples: &[T],
    c: usize,
    w: usize,
    h: usize,
    full: f64,
) -> PixelStats {
    let n = w * h;
    let mut out = PixelStats::default();
    if n == 0 || samples.len() < n * c {
        return out;
    }
    let mut lum_sum = 0f64;
    let mut lum_sumsq = 0f64;
    let mut hist = [0u64; 256];
    let mut lum8 = Vec::with_capacity(n);
    let mut max_value = 0f64;
    let mut lum_min = f64::INFINITY;
    let mut lum_max = f64::NEG_INFINITY;
    // Channel sums are taken on the raw sample values: exact for 8- and 16-bit data,
    // so a constant image has a standard deviation of exactly 0.
    let mut raw_sum = [0f64; 3];
    let mut raw_sumsq = [0f64; 3];
    for px in samples.chunks_exact(c).take(n) {
        let raw = if c >= 3 {
            [px[0].into(), px[1].into(), px[2].into()]
        } else {
            [px[0].into(); 3]
        };
        let rgb = raw.map(|v| v / full);
        for k in 0..3 {
            raw_sum[k] += raw[k];
            raw_sumsq[k] += raw[k] * raw[k];
            max_value = max_value.max(rgb[k]);
        }
        let lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
        lum_sum += lum;
        lum_sumsq += lum * lum;
        lum_min = lum_min.min(lum);
        lum_max = lum_max.max(lum);
        let bin = (lum * 255.0).round().clamp(0.0, 255.0) as u8;
        hist[bin as usize] += 1;
        lum8.push(bin);
    }
    let nf = n as f64;
    for k in 0..3 {
        let mean = raw_sum[k] / nf;
        out.mean[k] = mean / full;
        out.std[k] = (raw_sumsq[k] / nf - mean * mean).max(0.0).sqrt() / full;
    }
    out.brightness = lum_sum / nf;
    // Luminance mixes channels with inexact weights; variance below float noise is 0.
    let lum_var = lum_sumsq / nf - out.brightness * out.brightness;
    out.contrast = if lum_var < 1e-12 { 0.0 } else { lum_var.sqrt() };
    out.dynamic_range = (lum_max - lum_min).max(0.0);
    out.max_value = max_value;
    out.brightness_p5 = percentile(&hist, n, 0.05);
    out.brightness_p99 = percentile(&hist, n, 0.99);
    out.entropy = entropy(&hist, nf);
    out.sharpness = laplacian_variance(&lum8, w, h);
    out
}

/// The 8-bit case compiled for AVX2 (integer sums: the same figures either way; the
/// loops vectorize twice as wide).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn eight_bit_avx2(samples: &[u8], c: usize, w: usize, h: usize) -> PixelStats {
    eight_bit(samples, c, w, h)
}

#[inline(always)]
fn eight_bit(samples: &[u8], c: usize, w: usize, h: usize) -> PixelStats {
    // A fixed channel count lets the compiler unroll and vectorise the pixel loop.
    match c {
        1 => stats_u8::<1>(samples, w, h),
        2 => stats_u8::<2>(samples, w, h),
        3 => stats_u8::<3>(samples, w, h),
        _ => stats_u8::<4>(samples, w, h),
    }
}

/// The 8-bit case, which is nearly every image: integer sums and a fixed-point
/// luminance, so the per-pixel work is a handful of integer operations.
#[inline(always)]
fn stats_u8<const C: usize>(samples: &[u8], w: usize, h: usize) -> PixelStats {
    let n = w * h;
    let mut out = PixelStats::default();
    if n == 0 || samples.len() < n * C {
        return out;
    }
    let mut sum = [0u64; 3];
    let mut sumsq = [0u64; 3];
    let mut max = 0u8;
    let mut lum8 = vec![0u8; n];
    // Two loops: the arithmetic one has no data-dependent stores, so the compiler can
    // vectorise it; the histogram is built afterwards from the luminance bytes. Block
    // sums fit in u32: 65,536 pixels × 255² < 2³².
    for (block, lblock) in samples[..n * C]
        .chunks(C * 65536)
        .zip(lum8.chunks_mut(65536))
    {
        let (mut s, mut ss) = ([0u32; 3], [0u32; 3]);
        let mut m = 0u32;
        for (px, l) in block.chunks_exact(C).zip(lblock.iter_mut()) {
            let (r, g, b) = if C >= 3 {
                (px[0] as u32, px[1] as u32, px[2] as u32)
            } else {
                (px[0] as u32, px[0] as u32, px[0] as u32)
            };
            s[0] += r;
            s[1] += g;
            s[2] += b;
            ss[0] += r * r;
            ss[1] += g * g;
            ss[2] += b * b;
            m = m.max(r.max(g).max(b));
            // Rec. 601 weights in 1/1024, rounded: the 8-bit luminance.
            *l = ((306 * r + 601 * g + 117 * b + 512) >> 10) as u8;
        }
        max = max.max(m as u8);
        for k in 0..3 {
            sum[k] += s[k] as u64;
            sumsq[k] += ss[k] as u64;
        }
    }
    let hist = histogram(&lum8);
    let nf = n as f64;
    for k in 0..3 {
        let mean = sum[k] as f64 / nf;
        out.mean[k] = mean / 255.0;
        out.std[k] = (sumsq[k] as f64 / nf - mean * mean).max(0.0).sqrt() / 255.0;
    }
    out.max_value = max as f64 / 255.0;
    let (mut lsum, mut lsumsq) = (0u64, 0u64);
    for (v, &k) in hist.iter().enumerate() {
        lsum += v as u64 * k;
        lsumsq += (v * v) as u64 * k;
    }
    let lmean = lsum as f64 / nf;
    out.brightness = lmean / 255.0;
    out.contrast = (lsumsq as f64 / nf - lmean * lmean).max(0.0).sqrt() / 255.0;
    let lo = hist.iter().position(|&k| k > 0).unwrap_or(0);
    let hi = hist.iter().rposition(|&k| k > 0).unwrap_or(0);
    out.dynamic_range = (hi - lo) as f64 / 255.0;
    out.brightness_p5 = percentile(&hist, n, 0.05);
    out.brightness_p99 = percentile(&hist, n, 0.99);
    out.entropy = entropy(&hist, nf);
    out.sharpness = laplacian_variance(&lum8, w, h);
    out
}

/// The 256-bin histogram of `lum`: four histograms taken in turn, then added.
/// Neighbouring pixels often share a value, and one histogram makes each increment
/// wait on the last (half of a photo's statistics time).
#[inline(always)]
fn histogram(lum: &[u8]) -> [u64; 256] {
    let mut parts = [[0u64; 256]; 4];
    let mut quads = lum.chunks_exact(4);
    for q in &mut quads {
        for (part, &l) in parts.iter_mut().zip(q) {
            part[l as usize] += 1;
        }
    }
    for &l in quads.remainder() {
        parts[0][l as usize] += 1;
    }
    std::array::from_fn(|v| parts.iter().map(|p| p[v]).sum())
}

fn entropy(hist: &[u64; 256], nf: f64) -> f64 {
    hist.iter()
        .filter(|&&k| k > 0)
        .map(|&k| {
            let p = k as f64 / nf;
            -p * p.log2()
        })
        .sum::<f64>()
        .max(0.0)
}

/// The histogram bin (in 0–1 units) below which `q` of the pixels lie.
fn percentile(hist: &[u64; 256], n: usize, q: f64) -> f64 {
    let target = (q * n as f64).ceil().max(1.0) as u64;
    let mut acc = 0u64;
    for (i, &k) in hist.iter().enumerate() {
        acc += k;
        if acc >= target {
            return i as f64 / 255.0;
        }
    }
    1.0
}

#[inline(always)]
fn laplacian_variance(lum: &[u8], w: usize, h: usize) -> Option<f64> {
    if w < 3 || h < 3 {
        return None;
    }
    let (mut s, mut ss) = (0i64, 0i64);
    for y in 1..h - 1 {
        let (up, row, down) = (
            &lum[(y - 1) * w..y * w],
            &lum[y * w..(y + 1) * w],
            &lum[(y + 1) * w..(y + 2) * w],
        );
        // In runs of at most 2,048 pixels summed in i32 (|v| ≤ 1,020, so v² ≤
        // 1,040,400 and 2,048 of them < 2³¹), which vectorizes; i64 per pixel does not.
        for x0 in (1..w - 1).step_by(2048) {
            let (mut rs, mut rss) = (0i32, 0i32);
            for x in x0..(x0 + 2048).min(w - 1) {
                let v = up[x] as i32 + down[x] as i32 + row[x - 1] as i32 + row[x + 1] as i32
                    - 4 * row[x] as i32;
                rs += v;
                rss += v * v;
            }
            s += rs as i64;
            ss += rss as i64;
        }
    }
    let k = ((w - 2) * (h - 2)) as f64;
    let mean = s as f64 / k;
    Some((ss as f64 / k - mean * mean).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, Rgb, RgbImage};

    #[test]
    fn constant_grey_image() {
        let img = DynamicImage::ImageLuma8(GrayImage::from_pixel(4, 4, Luma([51])));
        let s = compute(&img);
        for k in 0..3 {
            assert!((s.mean[k] - 0.2).abs() < 1e-12);
            assert_eq!(s.std[k], 0.0);
        }
        assert_eq!(s.contrast, 0.0);
        assert_eq!(s.dynamic_range, 0.0);
        assert_eq!(s.entropy, 0.0);
        assert_eq!(s.sharpness, Some(0.0));
        assert!((s.brightness_p5 - 0.2).abs() < 1e-12);
    }

    #[test]
    fn half_black_half_white() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_fn(8, 8, |x, _| {
            if x < 4 {
                Rgb([0, 0, 0])
            } else {
                Rgb([255, 255, 255])
            }
        }));
        let s = compute(&img);
        assert!((s.mean[0] - 0.5).abs() < 1e-12);
        assert!((s.std[1] - 0.5).abs() < 1e-12);
        assert!((s.entropy - 1.0).abs() < 1e-12);
        assert_eq!(s.brightness_p5, 0.0);
        assert_eq!(s.brightness_p99, 1.0);
        assert!(s.sharpness.unwrap() > 0.0);
    }

    #[test]
    fn sixteen_bit_uses_full_scale_and_tiny_images_have_no_sharpness() {
        let img = DynamicImage::ImageLuma16(image::ImageBuffer::from_pixel(2, 1, Luma([4095u16])));
        let s = compute(&img);
        assert!((s.max_value - 4095.0 / 65535.0).abs() < 1e-12);
        assert_eq!(s.sharpness, None);
        let one = compute(&DynamicImage::ImageRgb8(RgbImage::new(1, 1)));
        assert_eq!(one.mean, [0.0; 3]);
    }

    /// The plain per-pixel form the runs of i32 sums replaced.
    fn laplacian_reference(lum: &[u8], w: usize, h: usize) -> Option<f64> {
        if w < 3 || h < 3 {
            return None;
        }
        let (mut s, mut ss) = (0i64, 0i64);
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let at = |x: usize, y: usize| lum[y * w + x] as i64;
                let v = at(x, y - 1) + at(x, y + 1) + at(x - 1, y) + at(x + 1, y) - 4 * at(x, y);
                s += v;
                ss += v * v;
            }
        }
        let k = ((w - 2) * (h - 2)) as f64;
        let mean = s as f64 / k;
        Some((ss as f64 / k - mean * mean).max(0.0))
    }

    proptest::proptest! {
        /// The AVX2 build of the 8-bit statistics gives the baseline build's figures,
        /// and the sharpness the plain per-pixel sums give, on rows longer than a run
        /// (2,048) too, with the extreme Laplacian of a checkerboard.
        #[test]
        fn eight_bit_paths_agree(
            w in proptest::sample::select(vec![1usize, 3, 17, 64, 2050, 4200]),
            h in 1usize..6,
            c in 1usize..5,
            seed in proptest::prelude::any::<u64>(),
            checker in proptest::prelude::any::<bool>(),
        ) {
            use proptest::prelude::*;
            let mut state = seed | 1;
            let samples: Vec<u8> = (0..w * h * c)
                .map(|i| {
                    if checker {
                        [0u8, 255][((i / c) % w + (i / c) / w) % 2]
                    } else {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state as u8
                    }
                })
                .collect();
            let plain = eight_bit(&samples, c, w, h);
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2.
                prop_assert_eq!(unsafe { eight_bit_avx2(&samples, c, w, h) }, plain);
            }
            let lum: Vec<u8> = samples
                .chunks_exact(c)
                .map(|p| {
                    let (r, g, b) = if c >= 3 { (p[0], p[1], p[2]) } else { (p[0], p[0], p[0]) };
                    ((306 * r as u32 + 601 * g as u32 + 117 * b as u32 + 512) >> 10) as u8
                })
                .collect();
            prop_assert_eq!(plain.sharpness, laplacian_reference(&lum, w, h));
            let mut hist = [0u64; 256];
            lum.iter().for_each(|&l| hist[l as usize] += 1);
            let n = w * h;
            prop_assert_eq!(plain.entropy, entropy(&hist, n as f64));
            prop_assert_eq!(plain.brightness_p5, percentile(&hist, n, 0.05));
            prop_assert_eq!(plain.brightness_p99, percentile(&hist, n, 0.99));
        }
    }
}
