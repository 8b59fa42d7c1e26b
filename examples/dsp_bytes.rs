//! What partial scans' bytes are spent on: each field of the `.dsp` files given,
//! summed over their samples, in bytes per sample and as a share of the whole. `just
//! bench-partial` prints it for the benchmark's parts (issue 29's state per image).
//!
//!     cargo run --release --example dsp_bytes -- PART.dsp...

use dsaudit_core::partial::dsp_file;
use std::path::PathBuf;

fn main() {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: dsp_bytes PART.dsp...");
        std::process::exit(2);
    }
    let mut sums: Vec<(&'static str, u64)> = Vec::new();
    let mut samples = 0u64;
    for p in &paths {
        let part = match dsp_file::read(p) {
            Ok(part) => part,
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::exit(2);
            }
        };
        samples += part.rows.len() as u64;
        for (what, n) in part.bytes_by_field() {
            match sums.iter_mut().find(|s| s.0 == what) {
                Some(s) => s.1 += n,
                None => sums.push((what, n)),
            }
        }
    }
    let total: u64 = sums.iter().map(|s| s.1).sum();
    let per = |n: u64| n as f64 / samples.max(1) as f64;
    println!(
        "{samples} samples in {} parts: {:.1} bytes per sample (the stamps left out)",
        paths.len(),
        per(total)
    );
    for (what, n) in &sums {
        println!(
            "{:>9.1} B  {:>5.1}%  {what}",
            per(*n),
            100.0 * *n as f64 / total.max(1) as f64
        );
    }
}
