//! Image layouts, formats, modes and bit depths.

use crate::util::*;
use image::{DynamicImage, ImageFormat};
use polars::prelude::*;

#[test]
fn class_folders_without_splits() {
    let d = Dir::new();
    for i in 0..3 {
        d.png(&format!("cat/{i}.png"), i);
        d.png(&format!("dog/{i}.png"), 10 + i);
    }
    d.png("dog/3.png", 20);
    let ds = scan_json(d.path(), &[]);
    assert_eq!(ds["layout"], "image-folder (ROOT/<class>/*)");
    assert_eq!(ds["samples"], 7);
    assert_eq!(
        counts(&ds),
        vec![("-".into(), "cat".into(), 3), ("-".into(), "dog".into(), 4)]
    );
    assert!(integrity_codes(&ds).is_empty(), "{ds:#}");
}

#[test]
fn split_folders_any_case_and_aliases() {
    let d = Dir::new();
    d.png("Train/a/0.png", 1);
    d.png("Train/b/0.png", 2);
    d.png("VALID/a/0.png", 3);
    d.png("VALID/b/0.png", 4);
    d.png("test/a/0.png", 5);
    d.png("test/b/0.png", 6);
    let ds = scan_json(d.path(), &[]);
    assert_eq!(ds["layout"], "image-folder (ROOT/<split>/<class>/*)");
    let splits: Vec<&str> = ds["splits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(splits, ["train", "val", "test"]);
    assert!(integrity_codes(&ds).is_empty(), "{ds:#}");
}

fn labels_dataset(d: &Dir) {
    d.png("imgs/a.png", 1);
    d.png("imgs/b.png", 2);
    d.png("imgs/c.png", 3);
    d.png("imgs/unlisted.png", 4);
}

#[test]
fn images_with_labels_csv() {
    let d = Dir::new();
    labels_dataset(&d);
    d.write("labels.csv", "path,label,split\nimgs/a.png,cat,train\nimgs/b.png,dog,train\nimgs/c.png,dog,test\nimgs/gone.png,cat,test\nimgs/c.png,,test\n");
    let ds = scan_json(d.path(), &[]);
    assert_eq!(ds["layout"], "image-labels (images + labels file)");
    assert_eq!(ds["label_column"], "label");
    assert_eq!(ds["split_column"], "split");
    // 5 rows listed + 1 image on disk not listed.
    assert_eq!(ds["samples"], 6);
    assert_eq!(sources(finding(&ds, "I006")), ["imgs/gone.png"]);
    let unlabeled = sources(finding(&ds, "I007"));
    assert_eq!(unlabeled, ["imgs/c.png", "imgs/unlisted.png"]);
    // The same run, handing over the labels file itself.
    let direct = scan_json(&d.join("labels.csv"), &[]);
    assert_eq!(direct["samples"], 6);
    assert_eq!(direct["layout"], ds["layout"]);
}

#[test]
fn images_with_labels_parquet_and_overridden_columns() {
    let d = Dir::new();
    labels_dataset(&d);
    let mut df = df!(
        "file" => ["imgs/a.png", "imgs/b.png", "imgs/c.png", "imgs/unlisted.png"],
        "category" => ["x", "y", "y", "x"],
        "fold" => ["train", "train", "test", "test"]
    )
    .unwrap();
    let f = std::fs::File::create(d.join("meta.parquet")).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
    let ds = scan_json(d.path(), &["--label", "category", "--split", "fold"]);
    assert_eq!(ds["layout"], "image-labels (images + labels file)");
    assert_eq!(ds["samples"], 4);
    assert_eq!(
        counts(&ds),
        vec![
            ("train".into(), "x".into(), 1),
            ("train".into(), "y".into(), 1),
            ("test".into(), "x".into(), 1),
            ("test".into(), "y".into(), 1)
        ]
    );
    assert!(integrity_codes(&ds).is_empty(), "{ds:#}");
}

fn read_manifest(path: &std::path::Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

#[test]
fn formats_modes_and_bit_depths_in_manifest() {
    let d = Dir::new();
    let base = rgb(6, 5, 7);
    let cases: Vec<(&str, DynamicImage, ImageFormat, u8, u8, &str)> = vec![
        ("c/png_rgb.png", base.clone(), ImageFormat::Png, 3, 8, "RGB"),
        (
            "c/png_l.png",
            DynamicImage::ImageLuma8(base.to_luma8()),
            ImageFormat::Png,
            1,
            8,
            "L",
        ),
        (
            "c/png_la.png",
            DynamicImage::ImageLumaA8(base.to_luma_alpha8()),
            ImageFormat::Png,
            2,
            8,
            "LA",
        ),
        (
            "c/png_rgba.png",
            DynamicImage::ImageRgba8(base.to_rgba8()),
            ImageFormat::Png,
            4,
            8,
            "RGBA",
        ),
        (
            "c/png_l16.png",
            DynamicImage::ImageLuma16(base.to_luma16()),
            ImageFormat::Png,
            1,
            16,
            "L",
        ),
        (
            "c/png_rgb16.png",
            DynamicImage::ImageRgb16(base.to_rgb16()),
            ImageFormat::Png,
            3,
            16,
            "RGB",
        ),
        ("c/jpeg.jpg", base.clone(), ImageFormat::Jpeg, 3, 8, "RGB"),
        ("c/bmp.bmp", base.clone(), ImageFormat::Bmp, 3, 8, "RGB"),
        (
            "c/gif.gif",
            DynamicImage::ImageRgba8(base.to_rgba8()),
            ImageFormat::Gif,
            4,
            8,
            "RGBA",
        ),
        ("c/tiff.tiff", base.clone(), ImageFormat::Tiff, 3, 8, "RGB"),
        (
            "c/tiff16.tif",
            DynamicImage::ImageRgb16(base.to_rgb16()),
            ImageFormat::Tiff,
            3,
            16,
            "RGB",
        ),
        ("c/webp.webp", base.clone(), ImageFormat::WebP, 3, 8, "RGB"),
    ];
    for (rel, img, fmt, ..) in &cases {
        d.write(rel, encode(img, *fmt));
    }
    d.png("d/other.png", 3);
    let out_dir = tempfile::tempdir().unwrap();
    let manifest = out_dir.path().join("m.parquet");
    let ds = scan_json(d.path(), &["--manifest", manifest.to_str().unwrap()]);
    assert!(integrity_codes(&ds).is_empty(), "{ds:#}");
    let m = read_manifest(&manifest);
    assert_eq!(m.height(), cases.len() + 1);
    let src = m.column("source").unwrap().str().unwrap().clone();
    for (rel, _, fmt, ch, depth, mode) in &cases {
        let i = src
            .iter()
            .position(|s| s == Some(rel))
            .unwrap_or_else(|| panic!("{rel} missing"));
        let get_u = |c: &str| {
            m.column(c)
                .unwrap()
                .cast(&DataType::UInt64)
                .unwrap()
                .u64()
                .unwrap()
                .get(i)
        };
        let get_s = |c: &str| {
            m.column(c)
                .unwrap()
                .str()
                .unwrap()
                .get(i)
                .map(str::to_string)
        };
        assert_eq!(get_u("width"), Some(6), "{rel}");
        assert_eq!(get_u("height"), Some(5), "{rel}");
        assert_eq!(get_u("channels"), Some(*ch as u64), "{rel}");
        assert_eq!(get_u("bit_depth"), Some(*depth as u64), "{rel}");
        assert_eq!(get_s("mode").as_deref(), Some(*mode), "{rel}");
        assert_eq!(
            get_s("format").as_deref(),
            Some(format!("{fmt:?}").to_lowercase().as_str()),
            "{rel}"
        );
        assert_eq!(get_s("label").as_deref(), Some("c"));
        assert_eq!(get_s("file_blake3").map(|h| h.len()), Some(64));
        assert!(get_s("error_kind").is_none(), "{rel}");
    }
    // Lossless encodings of the same pixels share the pixel hash, not the file hash.
    let px = |rel: &str| {
        let i = src.iter().position(|s| s == Some(rel)).unwrap();
        (
            m.column("pixel_blake3")
                .unwrap()
                .str()
                .unwrap()
                .get(i)
                .unwrap()
                .to_string(),
            m.column("file_blake3")
                .unwrap()
                .str()
                .unwrap()
                .get(i)
                .unwrap()
                .to_string(),
        )
    };
    let (png_px, png_file) = px("c/png_rgb.png");
    let (bmp_px, bmp_file) = px("c/bmp.bmp");
    assert_eq!(png_px, bmp_px);
    assert_ne!(png_file, bmp_file);
    assert_eq!(px("c/tiff.tiff").0, png_px);
    assert_ne!(px("c/jpeg.jpg").0, png_px, "lossy JPEG changes pixels");
}

#[test]
fn manifest_as_csv_has_one_row_per_sample() {
    let d = Dir::new();
    d.png("a/0.png", 1);
    d.write("a/1.png", b"");
    let out_dir = tempfile::tempdir().unwrap();
    let manifest = out_dir.path().join("m.csv");
    scan_json(d.path(), &["--manifest", manifest.to_str().unwrap()]);
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("id,split,label,source,row,bytes,file_blake3,pixel_blake3"));
    assert_eq!(lines.count(), 2);
    assert!(text.contains("a/1.png"), "{text}");
    assert!(text.contains(",empty,zero-byte file"), "{text}");
    // Written via a temporary file that is gone now.
    let leftovers: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn broken_images_are_findings_not_crashes() {
    let d = Dir::new();
    d.png("a/ok.png", 1);
    let png = encode(&rgb(16, 16, 3), ImageFormat::Png);
    d.write("a/cut.png", &png[..png.len() - 20]);
    let jpg = encode(&rgb(16, 16, 3), ImageFormat::Jpeg);
    d.write("a/cut.jpg", &jpg[..jpg.len() - 2]);
    d.write("a/garbage.png", b"<html>404 not found</html>");
    d.write("a/noext", &png);
    d.write("a/jpeg_named.bmp", &jpg);
    d.write("a/readme.txt", "hello");
    d.write("a/zero.jpg", b"");
    let ds = scan_json(d.path(), &[]);
    assert_eq!(ds["samples"], 8);
    assert_eq!(ds["unreadable"], 5);
    assert_eq!(sources(finding(&ds, "I002")), ["a/cut.jpg", "a/cut.png"]);
    assert_eq!(sources(finding(&ds, "I001")), ["a/garbage.png"]);
    assert_eq!(sources(finding(&ds, "I003")), ["a/zero.jpg"]);
    assert_eq!(sources(finding(&ds, "I004")), ["a/readme.txt"]);
    assert_eq!(
        sources(finding(&ds, "I005")),
        ["a/jpeg_named.bmp", "a/noext"]
    );
    let note = finding(&ds, "I005")["samples"][0]["note"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(note, "content is jpeg, extension says bmp");
}

#[test]
fn empty_class_and_split_folders() {
    let d = Dir::new();
    d.png("train/a/0.png", 1);
    d.png("train/b/0.png", 2);
    d.mkdir("train/c");
    d.write("test/a/broken.png", b"not an image");
    let ds = scan_json(d.path(), &[]);
    let empties: Vec<&str> = ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "I010")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        empties,
        [
            "class folder 'test/a' holds no readable sample",
            "class folder 'train/c' holds no readable sample"
        ]
    );
    assert_eq!(finding(&ds, "I011")["evidence"]["split"], "test");
}

#[test]
fn one_folder_holding_the_image_dataset_is_descended_into() {
    let d = Dir::new();
    d.png("images/train/a/0.png", 1);
    d.png("images/train/b/0.png", 2);
    d.png("images/test/a/0.png", 3);
    d.write("notes.csv", "x,y\n1,2\n");
    let ds = scan_json(d.path(), &[]);
    assert_eq!(ds["layout"], "image-folder (ROOT/<split>/<class>/*)");
    assert_eq!(ds["samples"], 3);
    let g = ds["guesses"][0].as_str().unwrap();
    assert_eq!(g, "every image is under images/, so that is the dataset root; left out: notes.csv (scan them separately)");
    assert_eq!(
        sources(&serde_json::json!({"samples": [{"source": "train/a/0.png"}]})),
        ["train/a/0.png"]
    );
}
