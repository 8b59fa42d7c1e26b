//! libjpeg-turbo's scaled decode (the system libturbojpeg, TurboJPEG 2.x API, through
//! four C functions) beside the `image` crate's full decode the scan uses today, one
//! thread, with what the scan does to the decoded picture after it (statistics,
//! hashes) timed at each scale, and the statistics' errors and verdict flips as in
//! examples/jpeg_scaling.rs.
//! Needs Debian's libturbojpeg0-dev; built only with `--features turbojpeg-bench`.
//!
//!     cargo run --release --no-default-features --features turbojpeg-bench \
//!         --example jpeg_turbo -- FOLDER [N]

use dsaudit_core::load::pixel_stats::compute;
use image::{DynamicImage, RgbImage};
use std::ffi::{c_int, c_uchar, c_ulong, c_void};
use std::path::PathBuf;
use std::time::Instant;

#[link(name = "turbojpeg")]
unsafe extern "C" {
    fn tjInitDecompress() -> *mut c_void;
    fn tjDecompressHeader3(
        handle: *mut c_void,
        jpeg: *const c_uchar,
        size: c_ulong,
        width: *mut c_int,
        height: *mut c_int,
        subsamp: *mut c_int,
        colorspace: *mut c_int,
    ) -> c_int;
    fn tjDecompress2(
        handle: *mut c_void,
        jpeg: *const c_uchar,
        size: c_ulong,
        dst: *mut c_uchar,
        width: c_int,
        pitch: c_int,
        height: c_int,
        pixel_format: c_int,
        flags: c_int,
    ) -> c_int;
    fn tjDestroy(handle: *mut c_void) -> c_int;
}

const TJPF_RGB: c_int = 0;

/// Decodes at 1/`divisor` of the full size (rounded up, as libjpeg-turbo scales).
fn decode(handle: *mut c_void, bytes: &[u8], divisor: i32) -> DynamicImage {
    let (mut w, mut h, mut sub, mut cs) = (0, 0, 0, 0);
    // SAFETY: the buffer and the out-pointers are valid for the call.
    let rc = unsafe {
        tjDecompressHeader3(
            handle,
            bytes.as_ptr(),
            bytes.len() as c_ulong,
            &mut w,
            &mut h,
            &mut sub,
            &mut cs,
        )
    };
    assert_eq!(rc, 0, "a JPEG header");
    let (sw, sh) = ((w + divisor - 1) / divisor, (h + divisor - 1) / divisor);
    let mut px = vec![0u8; (sw * sh * 3) as usize];
    // SAFETY: `px` holds sw × sh RGB pixels, the size asked for.
    let rc = unsafe {
        tjDecompress2(
            handle,
            bytes.as_ptr(),
            bytes.len() as c_ulong,
            px.as_mut_ptr(),
            sw,
            sw * 3,
            sh,
            TJPF_RGB,
            0,
        )
    };
    assert_eq!(rc, 0, "decodes");
    DynamicImage::ImageRgb8(RgbImage::from_raw(sw as u32, sh as u32, px).expect("rgb"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(args.first().expect("usage: jpeg_turbo FOLDER [N]"));
    let n: usize = args.get(1).map_or(1000, |v| v.parse().expect("N"));
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(&root)
        .standard_filters(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "jpg"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    let step = (files.len() / n.max(1)).max(1);
    let files: Vec<PathBuf> = files.into_iter().step_by(step).take(n).collect();
    // SAFETY: a fresh handle, destroyed at the end.
    let handle = unsafe { tjInitDecompress() };
    assert!(!handle.is_null());
    let mut today = 0.0;
    let mut secs = [0.0f64; 4];
    // Statistics, perceptual hashes and pixel hash of the decoded picture.
    let mut after = [0.0f64; 4];
    let mut flips = [[0usize; 2]; 4];
    let mut contrast_err = [0.0f64; 4];
    for path in &files {
        let bytes = std::fs::read(path).expect("read");
        let t = Instant::now();
        let full = image::load_from_memory(&bytes).expect("decodes");
        today += t.elapsed().as_secs_f64();
        let r = compute(&full);
        for (k, d) in [1, 2, 4, 8].into_iter().enumerate() {
            let t = Instant::now();
            let img = decode(handle, &bytes, d);
            secs[k] += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let s = compute(&img);
            std::hint::black_box(dsaudit_core::load::perceptual::hashes(&img));
            std::hint::black_box(blake3::hash(img.as_bytes()));
            after[k] += t.elapsed().as_secs_f64();
            contrast_err[k] = contrast_err[k].max((s.contrast - r.contrast).abs());
            let blurry = |p: &dsaudit_core::load::pixel_stats::PixelStats| {
                p.sharpness.is_some_and(|v| v < 100.0)
            };
            flips[k][0] += ((s.contrast < 0.05) != (r.contrast < 0.05)) as usize;
            flips[k][1] += (blurry(&s) != blurry(&r)) as usize;
        }
    }
    // SAFETY: the handle from tjInitDecompress, not used after.
    unsafe { tjDestroy(handle) };
    let count = files.len() as f64;
    println!(
        "{} JPEGs; image crate full decode (today's scan): {:.2} ms per image; one thread",
        files.len(),
        today / count * 1e3
    );
    println!("| libjpeg-turbo | ms per image | speed vs today's decode | statistics + hashes ms | largest contrast error | low-contrast / blurry verdicts flipped |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (k, d) in [1, 2, 4, 8].into_iter().enumerate() {
        println!(
            "| 1/{d} | {:.2} | {:.2}× | {:.2} | {:.4} | {} / {} |",
            secs[k] / count * 1e3,
            today / secs[k],
            after[k] / count * 1e3,
            contrast_err[k],
            flips[k][0],
            flips[k][1]
        );
    }
}
