//! Deterministic generator for the committed `sample_data/` and for benchmark inputs.
//!
//!   cargo run --example gen_data -- sample sample_data
//!   cargo run --release --example gen_data -- bench DIR [IMAGES] [ROWS] [alike]
//!
//! Every random choice comes from a ChaCha8 stream with a fixed seed, so the same
//! crate versions produce byte-identical files.

use image::{ImageFormat, Rgb, RgbImage};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write as _;
use std::fs;
use std::io::Cursor;
use std::path::Path;

type R = ChaCha8Rng;

/// A picture of one shape over a textured background with a few faint distractor
/// blobs: varied enough that distinct pictures have distinct perceptual hashes, as
/// photographs do, while the class (the shape in front) stays learnable.
fn shape_image(rng: &mut R, class: &str, size: u32) -> RgbImage {
    let s = size as f32;
    let bg = [
        rng.random_range(10..70u8) as f32,
        rng.random_range(10..70u8) as f32,
        rng.random_range(10..70u8) as f32,
    ];
    // (cycles across the image, direction, phase, amplitude, channel)
    let waves: Vec<(f32, f32, f32, f32, usize)> = (0..3)
        .map(|_| {
            (
                rng.random_range(0.5..3.0f32),
                rng.random_range(0.0..std::f32::consts::TAU),
                rng.random_range(0.0..std::f32::consts::TAU),
                rng.random_range(8.0..28.0f32),
                rng.random_range(0..3usize),
            )
        })
        .collect();
    let blobs: Vec<(f32, f32, f32, [f32; 3])> = (0..rng.random_range(1..4))
        .map(|_| {
            (
                rng.random_range(0.0..s),
                rng.random_range(0.0..s),
                s * rng.random_range(0.08..0.2f32),
                [
                    rng.random_range(40.0..120.0f32),
                    rng.random_range(40.0..120.0f32),
                    rng.random_range(40.0..120.0f32),
                ],
            )
        })
        .collect();
    let fg = [
        rng.random_range(150..=255u8) as f32,
        rng.random_range(120..=255u8) as f32,
        rng.random_range(100..=255u8) as f32,
    ];
    let cx = s / 2.0 + rng.random_range(-0.15..0.15f32) * s;
    let cy = s / 2.0 + rng.random_range(-0.15..0.15f32) * s;
    let r = s * rng.random_range(0.2..0.34f32);
    let mut img = RgbImage::new(size, size);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
        let (dx, dy) = (px - cx, py - cy);
        let inside = match class {
            "circle" => dx * dx + dy * dy <= r * r,
            "square" => dx.abs() <= r * 0.85 && dy.abs() <= r * 0.85,
            _ => dy <= r * 0.8 && dy >= -r && dx.abs() <= (dy + r) * 0.6,
        };
        let mut c = bg;
        if inside {
            c = fg;
        } else {
            for &(f, dir, phase, amp, ch) in &waves {
                let t = (px * dir.cos() + py * dir.sin()) / s;
                c[ch] += amp * (std::f32::consts::TAU * f * t + phase).sin();
            }
            for &(bx, by, br, col) in &blobs {
                if (px - bx).powi(2) + (py - by).powi(2) <= br * br {
                    c = col;
                }
            }
        }
        let noise = rng.random_range(-8.0..=8.0f32);
        *p = Rgb(c.map(|v| (v + noise).round().clamp(0.0, 255.0) as u8));
    }
    img
}

/// A busier picture for the benchmark: waves and several shapes of any colour
/// anywhere, so that, as in a photo collection, perceptual hashes spread out
/// instead of crowding around "one bright shape in the middle".
fn busy_image(rng: &mut R, size: u32) -> RgbImage {
    let s = size as f32;
    let base: [f32; 3] = std::array::from_fn(|_| rng.random_range(40.0..200.0f32));
    let waves: Vec<(f32, f32, f32, f32, usize)> = (0..4)
        .map(|_| {
            (
                rng.random_range(0.5..3.0f32),
                rng.random_range(0.0..std::f32::consts::TAU),
                rng.random_range(0.0..std::f32::consts::TAU),
                rng.random_range(20.0..60.0f32),
                rng.random_range(0..3usize),
            )
        })
        .collect();
    let shapes: Vec<(usize, f32, f32, f32, [f32; 3])> = (0..rng.random_range(3..7))
        .map(|_| {
            (
                rng.random_range(0..3usize),
                rng.random_range(0.1..0.9f32) * s,
                rng.random_range(0.1..0.9f32) * s,
                rng.random_range(0.08..0.3f32) * s,
                std::array::from_fn(|_| rng.random_range(0.0..255.0f32)),
            )
        })
        .collect();
    let mut img = RgbImage::new(size, size);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
        let mut c = base;
        for &(f, dir, phase, amp, ch) in &waves {
            let v = amp
                * (std::f32::consts::TAU * f * (px * dir.cos() + py * dir.sin()) / s + phase).sin();
            c[ch] += v;
            c[(ch + 1) % 3] += v * 0.5;
        }
        for &(kind, cx, cy, r, col) in &shapes {
            let (dx, dy) = (px - cx, py - cy);
            let inside = match kind {
                0 => dx * dx + dy * dy <= r * r,
                1 => dx.abs() <= r && dy.abs() <= r * 0.6,
                _ => dy <= r * 0.8 && dy >= -r && dx.abs() <= (dy + r) * 0.6,
            };
            if inside {
                c = col;
            }
        }
        let noise = rng.random_range(-6.0..6.0f32);
        *p = Rgb(c.map(|v| (v + noise).round().clamp(0.0, 255.0) as u8));
    }
    img
}

/// The same picture, every channel scaled (a re-exposed copy).
fn brighter(img: &RgbImage, factor: f32) -> RgbImage {
    let mut out = img.clone();
    out.pixels_mut().for_each(|p| {
        p.0 =
            p.0.map(|c| (c as f32 * factor).round().clamp(0.0, 255.0) as u8)
    });
    out
}

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    img.write_to(&mut buf, format).expect("encode");
    buf.into_inner()
}

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn sample(out: &Path) {
    let mut rng = R::seed_from_u64(20261123);
    let images = out.join("images");
    let classes = ["circle", "square", "triangle"];
    for (split, n) in [("train", 40), ("test", 12)] {
        for class in classes {
            for i in 0..n {
                let img = shape_image(&mut rng, class, 32);
                write(
                    &images.join(format!("{split}/{class}/{i:03}.png")),
                    &encode(&img, ImageFormat::Png),
                );
            }
        }
    }
    // Deliberate problems, one of each integrity kind.
    let png = encode(&shape_image(&mut rng, "circle", 32), ImageFormat::Png);
    write(
        &images.join("train/circle/040_truncated.png"),
        &png[..png.len() / 2],
    );
    write(&images.join("train/square/040_empty.png"), b"");
    write(
        &images.join("train/triangle/040_really_jpeg.png"),
        &encode(&shape_image(&mut rng, "triangle", 32), ImageFormat::Jpeg),
    );
    write(
        &images.join("train/triangle/notes.txt"),
        b"collected 2026-11-01, camera B\n",
    );
    write(
        &images.join("train/stray.png"),
        &encode(&shape_image(&mut rng, "square", 32), ImageFormat::Png),
    );
    write(&images.join("test/hexagon/.gitkeep"), b"");
    // Normalization problems: a greyscale image among RGB ones, an underexposed one,
    // and a blank frame.
    let grey = image::DynamicImage::ImageRgb8(shape_image(&mut rng, "circle", 32)).to_luma8();
    let mut buf = Cursor::new(Vec::new());
    grey.write_to(&mut buf, ImageFormat::Png).expect("encode");
    write(&images.join("train/circle/041_grey.png"), &buf.into_inner());
    let mut dark = shape_image(&mut rng, "square", 32);
    dark.pixels_mut().for_each(|p| p.0 = p.0.map(|c| c / 5));
    write(
        &images.join("train/square/041_dark.png"),
        &encode(&dark, ImageFormat::Png),
    );
    write(
        &images.join("train/triangle/041_blank.png"),
        &encode(
            &RgbImage::from_pixel(32, 32, Rgb([128, 128, 128])),
            ImageFormat::Png,
        ),
    );
    // Duplicates: a train picture copied into test (leakage), a train triangle copied
    // into the square folder (conflicting labels), and a re-exposed copy (near duplicate).
    let train_circle = fs::read(images.join("train/circle/007.png")).unwrap();
    write(&images.join("test/circle/012_copy.png"), &train_circle);
    let triangle = fs::read(images.join("train/triangle/003.png")).unwrap();
    write(&images.join("train/square/042_copy.png"), &triangle);
    let original = image::open(images.join("train/circle/011.png"))
        .unwrap()
        .to_rgb8();
    write(
        &images.join("train/circle/042_brighter.png"),
        &encode(&brighter(&original, 1.08), ImageFormat::Png),
    );
    write(
        &images.join("README.md"),
        b"Synthetic shapes (circle, square, triangle), 32x32 RGB, made by examples/gen_data.rs.\n\
          Deliberate problems: a truncated PNG, a zero-byte file, a JPEG named .png, a text file\n\
          in a class folder, an image outside any class folder, an empty class folder (test/hexagon),\n\
          a greyscale image among RGB ones, an underexposed image and a blank one; a train image\n\
          copied into test, a triangle copied into the square folder, and a brightened copy.\n",
    );

    // A table: three classes separated by the first features, with missing and
    // non-finite values and unlabeled rows injected at fixed positions.
    // petal_area is in mm² while the other lengths are in cm: a deliberate scale mismatch.
    let mut csv = String::from(
        "sepal_length,sepal_width,petal_length,petal_width,ratio,petal_area,color,label,split\n",
    );
    let colors = ["red", "green", "blue"];
    let mut rows: Vec<(Vec<String>, &str, String, &str)> = Vec::new();
    for i in 0..300 {
        let k = i % 3;
        let label = ["setosa", "versicolor", "virginica"][k];
        let base = [
            5.0 + k as f64 * 0.9,
            3.4 - k as f64 * 0.3,
            1.5 + k as f64 * 2.0,
            0.25 + k as f64 * 0.8,
        ];
        let v: Vec<f64> = base
            .iter()
            .map(|b| b + rng.random_range(-0.4..0.4f64))
            .collect();
        let mut f: Vec<String> = v.iter().map(|x| format!("{x:.2}")).collect();
        let ratio = v[2] / v[3];
        f.push(format!("{ratio:.3}"));
        f.push(format!("{:.1}", v[2] * v[3].abs() * 100.0));
        if [17, 101, 222].contains(&i) {
            f[1] = String::new();
        }
        if i == 45 || i == 190 {
            f[4] = "NaN".into();
        }
        if i == 260 {
            f[4] = "inf".into();
        }
        let label = if [12, 150].contains(&i) { "" } else { label };
        let split = if i % 5 == 0 { "test" } else { "train" };
        rows.push((
            f,
            colors[rng.random_range(0..3usize)],
            label.to_string(),
            split,
        ));
    }
    // Duplicates: a train row repeated in test (leakage), a train row repeated with
    // another label (conflicting labels), and a row nudged by 0.01 (near duplicate).
    let mut leaked = rows[3].clone();
    leaked.3 = "test";
    let mut relabelled = rows[7].clone();
    relabelled.2 = "virginica".into();
    let mut nudged = rows[21].clone();
    nudged.0[0] = format!("{:.2}", nudged.0[0].parse::<f64>().unwrap() + 0.01);
    rows.extend([leaked, relabelled, nudged]);
    for (f, color, label, split) in rows {
        let _ = writeln!(csv, "{},{color},{label},{split}", f.join(","));
    }
    write(&out.join("table.csv"), csv.as_bytes());
}

/// `alike`: every image one centred shape (the worst case for a perceptual-hash
/// search: hashes crowd together); otherwise busy scenes with hashes spread as a
/// photo collection's are.
fn bench(out: &Path, n_images: usize, n_rows: usize, alike: bool) {
    use rayon::prelude::*;
    let images = out.join("images");
    let classes = ["circle", "square", "triangle"];
    // Every picture drawn afresh from its own seed (in parallel, still deterministic),
    // so the duplicate search sees as many distinct hashes as there are images; one
    // in 100 is an exact copy of its predecessor and one in 100 a re-exposed copy.
    (0..n_images).into_par_iter().for_each(|i| {
        let split = if i % 5 == 0 { "test" } else { "train" };
        let k = i % 3;
        let source = if i % 100 == 1 || i % 100 == 51 {
            i - 1
        } else {
            i
        };
        let mut rng = R::seed_from_u64(7_000_000 + source as u64);
        let mut img = if alike {
            shape_image(&mut rng, classes[source % 3], 32)
        } else {
            busy_image(&mut rng, 32)
        };
        if i % 100 == 51 {
            img = brighter(&img, 1.08);
        }
        write(
            &images.join(format!("{split}/{}/{i:06}.png", classes[k])),
            &encode(&img, ImageFormat::Png),
        );
    });
    table(&out.join("table.csv"), n_rows);
}

/// The benchmark table: 19 float features, a label of 10 classes and an 80/20 split;
/// written as it is generated, so a table of 10^8 rows (about 20 GB) needs no memory.
fn table(path: &Path, n_rows: usize) {
    use std::io::Write as _;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut rng = R::seed_from_u64(7);
    let mut csv = String::with_capacity(1 << 16);
    let header: Vec<String> = (0..19)
        .map(|j| format!("f{j}"))
        .chain(["label".to_string(), "split".to_string()])
        .collect();
    csv.push_str(&header.join(","));
    csv.push('\n');
    let mut prev = [0f64; 19];
    for i in 0..n_rows {
        // One row in 1,000 repeats the previous one, one in 1,000 nearly does.
        let row: [f64; 19] = match i % 1000 {
            999 if i > 0 => prev,
            500 => std::array::from_fn(|j| prev[j] + 0.0001 * (j as f64 + 1.0)),
            _ => std::array::from_fn(|j| rng.random_range(-1.0..1.0f64) * (j as f64 + 1.0)),
        };
        for v in row {
            let _ = write!(csv, "{v:.5},");
        }
        // 80/20, as the image splits are.
        let split = if i % 5 == 0 { "test" } else { "train" };
        let _ = writeln!(csv, "{},{split}", rng.random_range(0..10u32));
        prev = row;
        if csv.len() > (1 << 16) - 512 {
            out.write_all(csv.as_bytes()).unwrap();
            csv.clear();
        }
    }
    out.write_all(csv.as_bytes()).unwrap();
    out.into_inner().unwrap().sync_all().unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("sample") => sample(Path::new(
            args.get(2).map(String::as_str).unwrap_or("sample_data"),
        )),
        Some("bench") => {
            let dir = Path::new(args.get(2).expect("bench DIR"));
            let n_images = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100_000);
            let n_rows = args
                .get(4)
                .and_then(|s| s.parse().ok())
                .unwrap_or(1_000_000);
            bench(
                dir,
                n_images,
                n_rows,
                args.get(5).map(String::as_str) == Some("alike"),
            );
        }
        Some("table") => {
            let path = Path::new(args.get(2).expect("table FILE"));
            let n_rows = args
                .get(3)
                .and_then(|s| s.parse().ok())
                .unwrap_or(1_000_000);
            table(path, n_rows);
        }
        _ => {
            eprintln!("usage: gen_data sample [DIR] | gen_data bench DIR [IMAGES] [ROWS] [alike] | gen_data table FILE [ROWS]");
            std::process::exit(2);
        }
    }
}
