//! The plain decode limit of an image folder: every file read, hashed (BLAKE3) and
//! fully decoded with the `image` crate, on every core, and nothing else. What a scan
//! cannot beat without decoding less; `just bench-limit` and `just bench-peers` print
//! it beside the scan so that the scan's figure is a ratio measured in one run.
//!
//!     cargo run --release --example decode_limit -- FOLDER [RUNS]

use rayon::prelude::*;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(args.first().expect("usage: decode_limit FOLDER [RUNS]"));
    let runs: usize = args
        .get(1)
        .map_or(3, |r| r.parse().expect("RUNS is a number"));
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(&root)
        .standard_filters(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let decoded: usize = files
            .par_iter()
            .map(|p| {
                let bytes = std::fs::read(p).expect("read");
                std::hint::black_box(blake3::hash(&bytes));
                image::load_from_memory(&bytes).map_or(0, |img| {
                    std::hint::black_box(img.width());
                    1
                })
            })
            .sum();
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(decoded, files.len(), "every file decodes");
        times.push(secs);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "decode limit: {} images, median {median:.2} s ({}), {:.0} images/s on {} threads",
        files.len(),
        times
            .iter()
            .map(|t| format!("{t:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        files.len() as f64 / median,
        rayon::current_num_threads()
    );
}
