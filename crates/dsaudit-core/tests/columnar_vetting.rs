//! The size checks run on Parquet and Arrow IPC files before polars reads them
//! (`table_io::vet`): every legitimate variant other writers produce passes
//! (`tests/data/columnar`, written by pyarrow from scikit-learn's wine table with
//! `tests/reference/columnar_fixtures.py`), every file the fuzzers found making the
//! readers ask for impossible memory is refused with one line, and mutated files
//! never end this process (a test binary has no allocator guard: an impossible
//! allocation here would abort it).

use dsaudit_core::table_io;
use std::path::{Path, PathBuf};

fn dir(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn files(rel: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn legitimate_files_of_every_variant_pass_and_read() {
    let fixtures = files("tests/data/columnar");
    assert!(fixtures.len() >= 20, "fixtures missing: {fixtures:?}");
    for f in &fixtures {
        table_io::vet(f).unwrap_or_else(|e| panic!("{}: refused: {e}", f.display()));
        let df = table_io::read(f, None).unwrap_or_else(|e| panic!("{}: {e:#}", f.display()));
        let name = f.file_name().unwrap().to_string_lossy();
        let rows = match name.as_ref() {
            n if n.starts_with("empty") => 0,
            "one-row.parquet" => 1,
            _ => 178,
        };
        assert_eq!(df.height(), rows, "{name}");
    }
}

/// The written copy of `data` under a name with `ext`, in a fresh temp folder.
fn as_file(data: &[u8], ext: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join(format!("t.{ext}"));
    std::fs::write(&p, data).unwrap();
    (tmp, p)
}

#[test]
fn every_impossible_allocation_the_fuzzers_found_is_refused_in_one_line() {
    let mut seen = 0;
    for (target, ext) in [("parquet", "parquet"), ("ipc", "arrow")] {
        for f in files(&format!("../../fuzz/regressions/{target}")) {
            if !f.to_string_lossy().ends_with("-alloc") {
                continue;
            }
            let (_tmp, p) = as_file(&std::fs::read(&f).unwrap(), ext);
            let why = table_io::vet(&p).expect_err(&f.display().to_string());
            assert!(!why.contains('\n'), "{why}");
            let err = format!("{:#}", table_io::read(&p, None).unwrap_err());
            assert!(err.starts_with(&p.display().to_string()), "{err}");
            assert!(!err.contains('\n'), "{err}");
            seen += 1;
        }
    }
    assert!(seen >= 8, "only {seen} regression inputs found");
}

/// A small deterministic generator (xorshift), so the mutations are the same on
/// every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn mutated_files_come_back_with_an_answer() {
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng(0x5eed_d5a0_d17e_0001);
    let mut refused = 0;
    let mut runs = 0;
    for name in [
        "small-pages.parquet",
        "v2-pages-zstd.parquet",
        "batches.arrow",
        "zstd.arrow",
    ] {
        let good = std::fs::read(dir("tests/data/columnar").join(name)).unwrap();
        let ext = name.rsplit('.').next().unwrap();
        for _ in 0..300 {
            let mut bad = good.clone();
            // Overwrite 1 to 4 bytes with values that make counts large or negative.
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() % bad.len() as u64) as usize;
                bad[at] =
                    [0xff, 0x7f, 0x80, 0x00, (rng.next() & 0xff) as u8][rng.next() as usize % 5];
            }
            let (_tmp, p) = as_file(&bad, ext);
            if table_io::vet(&p).is_err() {
                refused += 1;
            }
            // Reaching the next line at all is the test: no abort, no panic past the guard.
            if let Err(e) = table_io::read(&p, None) {
                assert!(!format!("{e:#}").contains('\n'), "{e:#}");
            }
            runs += 1;
        }
    }
    assert!(refused > 0 && refused < runs, "{refused} of {runs} refused");
}
