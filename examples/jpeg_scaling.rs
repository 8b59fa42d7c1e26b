//! What decoding JPEGs at reduced scale in the DCT domain would cost and change
//! (issue 30): on a folder of JPEGs, the full decode the scan does today (`image`'s
//! decoder) beside `jpeg-decoder`'s full and 1/2, 1/4, 1/8-scaled decodes, single
//! thread; what the scan does to a decoded picture after it (statistics, hashes),
//! timed; and for each scale, how far the pixel statistics the quality rules read
//! move from the full decode's (mean and contrast in 0–1 units, sharpness as a ratio)
//! and how many images each rule's verdict flips for at its default threshold.
//!
//!     cargo run --release --no-default-features --example jpeg_scaling -- FOLDER [N]

use dsaudit_core::load::pixel_stats::{compute, PixelStats};
use image::{DynamicImage, GrayImage, RgbImage};
use std::path::PathBuf;
use std::time::Instant;

/// The quality rules' verdicts at their default thresholds (docs/rules.md, N105-N109).
fn verdicts(s: &PixelStats) -> [bool; 5] {
    [
        s.brightness_p99 <= 0.32,
        s.brightness_p5 >= 0.95,
        s.contrast < 0.05,
        s.contrast < 0.01,
        s.sharpness.is_some_and(|v| v < 100.0),
    ]
}

const RULES: [&str; 5] = ["dark", "overexposed", "low-contrast", "blank", "blurry"];

fn scaled(bytes: &[u8], divisor: u16) -> DynamicImage {
    let mut d = jpeg_decoder::Decoder::new(bytes);
    d.read_info().expect("a JPEG header");
    let info = d.info().expect("info");
    let (w, h) = if divisor > 1 {
        d.scale(info.width.div_ceil(divisor), info.height.div_ceil(divisor))
            .expect("a scale")
    } else {
        (info.width, info.height)
    };
    let px = d.decode().expect("decodes");
    let (w, h) = (w as u32, h as u32);
    match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => {
            DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, px).expect("grey"))
        }
        jpeg_decoder::PixelFormat::RGB24 => {
            DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, px).expect("rgb"))
        }
        other => panic!("{other:?} JPEGs are not measured here"),
    }
}

#[derive(Default)]
struct Tally {
    secs: f64,
    mean_err: Vec<f64>,
    contrast_err: Vec<f64>,
    sharp_ratio: Vec<f64>,
    flips: [usize; 5],
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn p95(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() * 95 / 100).copied().unwrap_or(f64::NAN)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(args.first().expect("usage: jpeg_scaling FOLDER [N]"));
    let n: usize = args.get(1).map_or(1000, |v| v.parse().expect("N"));
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(&root)
        .standard_filters(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x == "jpg" || x == "jpeg")
        })
        .map(|e| e.into_path())
        .collect();
    files.sort();
    // Evenly spread over the sorted list, so every class folder is in.
    let step = (files.len() / n.max(1)).max(1);
    let files: Vec<PathBuf> = files.into_iter().step_by(step).take(n).collect();
    let mut full_secs = 0.0;
    // What the scan does after a full decode: statistics, perceptual hashes, pixel hash.
    let mut after = [0.0f64; 3];
    let mut tallies: Vec<(u16, Tally)> = [1u16, 2, 4, 8].map(|d| (d, Tally::default())).into();
    let mut pixels = 0u64;
    for path in &files {
        let bytes = std::fs::read(path).expect("read");
        let t = Instant::now();
        let full = image::load_from_memory(&bytes).expect("decodes");
        full_secs += t.elapsed().as_secs_f64();
        pixels += full.width() as u64 * full.height() as u64;
        let t = Instant::now();
        let reference = compute(&full);
        after[0] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        std::hint::black_box(dsaudit_core::load::perceptual::hashes(&full));
        after[1] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        std::hint::black_box(blake3::hash(full.as_bytes()));
        after[2] += t.elapsed().as_secs_f64();
        for (divisor, tally) in &mut tallies {
            let t = Instant::now();
            let img = scaled(&bytes, *divisor);
            tally.secs += t.elapsed().as_secs_f64();
            let s = compute(&img);
            let mean_err = (0..3)
                .map(|k| (s.mean[k] - reference.mean[k]).abs())
                .fold(0.0, f64::max);
            tally.mean_err.push(mean_err);
            tally
                .contrast_err
                .push((s.contrast - reference.contrast).abs());
            if let (Some(a), Some(b)) = (s.sharpness, reference.sharpness) {
                tally.sharp_ratio.push(a / b.max(1e-9));
            }
            for (k, (x, y)) in verdicts(&s).iter().zip(verdicts(&reference)).enumerate() {
                tally.flips[k] += (*x != y) as usize;
            }
        }
    }
    let count = files.len();
    println!(
        "{count} JPEGs, {:.0} pixels each on average; one thread",
        pixels as f64 / count as f64
    );
    println!(
        "image crate full decode (today's scan): {:.2} ms per image",
        full_secs / count as f64 * 1e3
    );
    println!(
        "after the decode, today: pixel statistics {:.2} ms, perceptual hashes {:.2} ms, BLAKE3 of the pixels {:.2} ms",
        after[0] / count as f64 * 1e3,
        after[1] / count as f64 * 1e3,
        after[2] / count as f64 * 1e3
    );
    println!("| jpeg-decoder | ms per image | speed vs today's decode | mean error median / p95 | contrast error median / p95 | sharpness ratio median | verdicts flipped ({}) |", RULES.join(", "));
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (divisor, t) in &mut tallies {
        let ms = t.secs / count as f64 * 1e3;
        println!(
            "| 1/{divisor} | {ms:.2} | {:.2}× | {:.4} / {:.4} | {:.4} / {:.4} | {:.3} | {} |",
            full_secs / t.secs,
            median(&mut t.mean_err),
            p95(&mut t.mean_err),
            median(&mut t.contrast_err),
            p95(&mut t.contrast_err),
            median(&mut t.sharp_ratio),
            t.flips
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}
