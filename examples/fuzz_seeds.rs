//! Writes the seed inputs of every fuzz target under CORPUS/<target>/, from the
//! repository's sample data: `cargo run --example fuzz_seeds -- REPO CORPUS` (`just fuzz`
//! runs it). Deterministic.

use polars::prelude::*;
use std::path::{Path, PathBuf};

fn put(corpus: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = corpus.join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let (repo, corpus) = (&args[0], &args[1]);
    // Images: the sample PNGs, and the same pictures in every other format read.
    let mut pngs: Vec<PathBuf> = Vec::new();
    let mut stack = vec![repo.join("sample_data/images")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "png") {
                pngs.push(p);
            }
        }
    }
    pngs.sort();
    for (i, p) in pngs.iter().step_by(8).enumerate() {
        let bytes = std::fs::read(p).unwrap();
        put(corpus, "image", &format!("{i}.png"), &bytes);
        if i < 3 {
            let img = image::load_from_memory(&bytes).unwrap();
            for (f, ext) in [
                (image::ImageFormat::Jpeg, "jpg"),
                (image::ImageFormat::Gif, "gif"),
                (image::ImageFormat::Bmp, "bmp"),
                (image::ImageFormat::Tiff, "tiff"),
                (image::ImageFormat::WebP, "webp"),
            ] {
                let mut out = std::io::Cursor::new(Vec::new());
                let img = if f == image::ImageFormat::Jpeg {
                    image::DynamicImage::ImageRgb8(img.to_rgb8())
                } else {
                    img.clone()
                };
                img.write_to(&mut out, f).unwrap();
                put(corpus, "image", &format!("{i}.{ext}"), &out.into_inner());
            }
        }
    }
    // Tables: the head of the sample table in every format, and dialects of it.
    let text = std::fs::read_to_string(repo.join("sample_data/table.csv")).unwrap();
    let head: String = text.lines().take(40).map(|l| format!("{l}\n")).collect();
    put(corpus, "csv", "table.csv", head.as_bytes());
    put(
        corpus,
        "csv",
        "semicolon.csv",
        head.replace(',', ";").as_bytes(),
    );
    put(
        corpus,
        "csv",
        "quoted.csv",
        b"a,\"b,c\",label\n1,\"x\"\"y\",p\n2,\"line\nbreak\",q\n",
    );
    put(corpus, "csv", "regression.csv", b"a,label\n1,0.5\n2,1.25\n3,2.75\n4,3.5\n5,4.125\n6,5.5\n7,6.25\n8,7.75\n9,8.5\n10,9.25\n11,10.5\n");
    let mut df = CsvReadOptions::default()
        .with_has_header(true)
        .into_reader_with_file_handle(std::io::Cursor::new(head.into_bytes()))
        .finish()
        .unwrap();
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf).finish(&mut df).unwrap();
    put(corpus, "parquet", "table.parquet", &buf);
    let mut buf = Vec::new();
    IpcWriter::new(&mut buf).finish(&mut df).unwrap();
    put(corpus, "ipc", "table.arrow", &buf);
    let mut buf = Vec::new();
    JsonWriter::new(&mut buf)
        .with_json_format(JsonFormat::JsonLines)
        .finish(&mut df)
        .unwrap();
    put(corpus, "ndjson", "table.ndjson", &buf);
    // Arrays: 2-D floats in C and Fortran order, 1-D integers, 3-D bytes.
    let mut buf = Vec::new();
    {
        use npyz::WriterBuilder;
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[4, 3])
            .writer(&mut buf)
            .begin_nd()
            .unwrap();
        w.extend([
            0.5f32,
            1.0,
            f32::NAN,
            2.0,
            3.0,
            4.0,
            5.0,
            6.0,
            f32::INFINITY,
            7.0,
            8.0,
            9.0,
        ])
        .unwrap();
        w.finish().unwrap();
    }
    put(corpus, "npy", "c.npy", &buf);
    let mut buf = Vec::new();
    {
        use npyz::WriterBuilder;
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[3, 2])
            .order(npyz::Order::Fortran)
            .writer(&mut buf)
            .begin_nd()
            .unwrap();
        w.extend([0.5f64, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        w.finish().unwrap();
    }
    put(corpus, "npy", "fortran.npy", &buf);
    let ints = corpus.join("ints.npy.tmp");
    npyz::to_file_1d(&ints, vec![1i64, 2, 3, 4]).unwrap();
    put(corpus, "npy", "ints.npy", &std::fs::read(&ints).unwrap());
    std::fs::remove_file(ints).unwrap();
    // Labels files.
    put(
        corpus,
        "labels",
        "labels.csv",
        b"path,label\na.png,cat\nb.png,dog\n",
    );
    put(
        corpus,
        "labels",
        "split.csv",
        b"file,class,split\na.png,0,train\nb.png,1,test\n../x.png,1,test\n",
    );
    // Dataset shards: a Hugging Face Parquet shard (and one without image bytes) and a
    // WebDataset tar, from the committed copies of the sample images.
    for (target, rel) in [
        (
            "hf_parquet",
            "tests/data/hf_parquet/sample/data/test-00000-of-00001.parquet",
        ),
        (
            "hf_parquet",
            "tests/data/hf_parquet/sample-without-bytes/data/train-00000-of-00001.parquet",
        ),
        ("webdataset", "tests/data/webdataset/sample/test-000000.tar"),
        (
            "coco",
            "tests/data/detection/coco/annotations/instances_val.json",
        ),
        (
            "yolo",
            "tests/data/detection/yolo/labels/train/train_0000.txt",
        ),
    ] {
        let name = rel.replace('/', "_");
        put(
            corpus,
            target,
            &name,
            &std::fs::read(repo.join(rel)).unwrap(),
        );
    }
    // Detection labels with the defects the rules look for.
    put(
        corpus,
        "coco",
        "defects.json",
        br#"{"images": [{"id": 1, "file_name": "a.png", "width": 1, "height": 1}, {"id": "2", "file_name": "train/b.png"}, {"file_name": 3}], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 0]}, {"id": 2, "image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1]}, {"id": 3, "image_id": 1, "category_id": 7, "bbox": [1, 2]}, {"id": 4, "image_id": "2", "category_id": 2, "bbox": [0, 0, 1e308, 1e308]}], "categories": [{"id": 1, "name": "x"}, {"id": 2}]}"#,
    );
    put(
        corpus,
        "yolo",
        "defects.txt",
        b"0 0.5 0.5 0.2\n1 1.5 0.5 0.2 0.2\n7 0.5 0.5 0 0.1\n0 0.1 0.1 0.9 0.1 0.5 0.5\n-1 0 0 0 0\n1 nan 1 1 1\n",
    );
    // Configuration: the README's example.
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    if let Some(start) = readme.find("```toml\n") {
        let rest = &readme[start + 8..];
        let end = rest.find("```").unwrap_or(rest.len());
        put(corpus, "config", "readme.toml", &rest.as_bytes()[..end]);
    }
    put(
        corpus,
        "config",
        "small.toml",
        b"select = [\"I\"]\n[thresholds.I001]\n",
    );
}
