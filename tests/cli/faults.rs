//! Hostile and broken input (issue 32): special files, oversized files, ambiguous
//! tables, names built to forge output, paths that leave the dataset, and outputs
//! that must never land inside a dataset or delete what dsaudit did not write.

use crate::util::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// Runs dsaudit with a deadline: a hang fails the test instead of stalling the suite.
fn run_within(args: &[&std::ffi::OsStr], limit: Duration) -> std::process::Output {
    let mut child = dsaudit()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("dsaudit {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

#[cfg(unix)]
pub fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn special_files_are_rows_with_a_finding_and_never_block() {
    let d = Dir::new();
    for i in 0..3 {
        d.png(&format!("a/{i}.png"), i);
        d.png(&format!("b/{i}.png"), 10 + i);
    }
    mkfifo(&d.join("a/pipe"));
    std::os::unix::fs::symlink("/dev/zero", d.join("b/zero.png")).unwrap();
    let out = run_within(
        &[
            os("scan"),
            d.path().as_os_str(),
            os("--format"),
            os("json"),
            os("-q"),
        ],
        Duration::from_secs(60),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ds = &v["datasets"][0];
    // Every file under a class folder is a manifest row.
    assert_eq!(ds["samples"], 8);
    let f = finding(ds, "I001");
    assert_eq!(sources(f), ["a/pipe", "b/zero.png"]);
    assert_eq!(
        f["samples"][0]["note"],
        "not a regular file: a FIFO (named pipe)"
    );
    assert_eq!(
        f["samples"][1]["note"],
        "not a regular file: a character device"
    );
    // The HTML report's thumbnails do not open them either.
    let out = Dir::new();
    let html = out.join("r.html");
    let r = run_within(
        &[
            os("scan"),
            d.path().as_os_str(),
            os("-q"),
            os("--html"),
            html.as_os_str(),
        ],
        Duration::from_secs(60),
    );
    assert_eq!(r.status.code(), Some(1));
    assert!(html.is_file());
}

#[cfg(unix)]
#[test]
fn a_labels_file_naming_a_fifo_or_a_device_never_blocks() {
    let d = Dir::new();
    for i in 0..4 {
        d.png(&format!("img{i}.png"), i);
    }
    mkfifo(&d.join("pipe.png"));
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.png")).unwrap();
    d.write(
        "labels.csv",
        "path,label\nimg0.png,a\nimg1.png,b\nimg2.png,a\nimg3.png,b\npipe.png,a\nzero.png,b\n",
    );
    for command in ["scan", "check"] {
        let mut args = vec![
            os(command),
            d.path().as_os_str(),
            os("--format"),
            os("json"),
            os("-q"),
        ];
        if command == "check" {
            args.push(os("--no-cache"));
        }
        let out = run_within(&args, Duration::from_secs(60));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        let f = finding(&v["datasets"][0], "I001");
        assert_eq!(sources(f), ["pipe.png", "zero.png"], "{command}");
    }
    // A labels table that is itself a FIFO is an error naming it, not a hang.
    let t = Dir::new();
    mkfifo(&t.join("labels.csv"));
    let out = run_within(
        &[os("scan"), t.join("labels.csv").as_os_str()],
        Duration::from_secs(60),
    );
    let err = error_of(&out);
    assert!(
        err.ends_with("labels.csv: not a regular file: a FIFO (named pipe)"),
        "{err}"
    );
}

#[test]
fn files_over_the_size_limit_are_not_read() {
    let d = Dir::new();
    d.png("a/1.png", 1);
    d.png("b/2.png", 2);
    d.png("b/3.png", 3);
    // 3 GiB of nothing named .png: sparse, so the test costs no disk.
    let huge = std::fs::File::create(d.join("a/huge.png")).unwrap();
    huge.set_len(3 << 30).unwrap();
    let ds = scan_json(d.path(), &[]);
    let f = finding(&ds, "I001");
    assert_eq!(sources(f), ["a/huge.png"]);
    assert_eq!(
        f["samples"][0]["note"],
        "3 GiB is over the 512 MiB limit on one file (--max-file-size)"
    );
    // The limit is the user's to set.
    let ds = scan_json(d.path(), &["--max-file-size", "100"]);
    assert_eq!(finding(&ds, "I001")["sample_count"], 4);
    let out = run_path(d.path(), &["--max-file-size", "lots"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'lots' is not a size"), "{err}");
}

#[test]
fn a_non_image_named_png_is_judged_by_its_first_bytes() {
    let d = Dir::new();
    d.png("a/1.png", 1);
    d.png("b/2.png", 2);
    d.write("a/page.png", vec![b'<'; 4 << 20]);
    let ds = scan_json(d.path(), &[]);
    let f = finding(&ds, "I001");
    assert_eq!(
        f["samples"][0]["note"],
        "not a valid png file: unrecognised header"
    );
}

/// A 2-D f64 array as numpy writes it, in C or Fortran order, from its rows.
fn npy_f64(path: &Path, rows: &[[f64; 3]], fortran: bool) {
    let (r, c) = (rows.len(), 3);
    let dict = format!(
        "{{'descr': '<f8', 'fortran_order': {}, 'shape': ({r}, {c}), }}",
        if fortran { "True" } else { "False" }
    );
    let mut header = dict.into_bytes();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(&header);
    let order: Vec<f64> = if fortran {
        (0..c)
            .flat_map(|j| rows.iter().map(move |row| row[j]))
            .collect()
    } else {
        rows.iter().flatten().copied().collect()
    };
    for v in order {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn fortran_order_arrays_are_read_by_row() {
    let rows: Vec<[f64; 3]> = (0..40)
        .map(|i| {
            [
                i as f64,
                1000.0 + (i * i) as f64,
                if i == 7 { f64::NAN } else { -(i as f64) },
            ]
        })
        .collect();
    let labels: Vec<i64> = (0..40).map(|i| i % 2).collect();
    let (c, f) = (Dir::new(), Dir::new());
    npy_f64(&c.join("X_train.npy"), &rows, false);
    npy_f64(&f.join("X_train.npy"), &rows, true);
    npyz::to_file_1d(c.join("y_train.npy"), labels.clone()).unwrap();
    npyz::to_file_1d(f.join("y_train.npy"), labels).unwrap();
    let stats = |d: &Dir| {
        let out = dsaudit()
            .args(["stats", "--format", "json", "-q"])
            .arg(d.path())
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["datasets"][0]["stats"].clone()
    };
    // Per feature, the same numbers; over all values, the same but for the last
    // digits of sums taken in another order.
    let (sc, sf) = (stats(&c), stats(&f));
    assert_eq!(sc["columns"], sf["columns"]);
    for key in ["count", "min", "max"] {
        assert_eq!(sc["array"][key], sf["array"][key], "{key}");
    }
    let mean = |s: &serde_json::Value| s["array"]["mean"].as_f64().unwrap();
    assert!((mean(&sc) - mean(&sf)).abs() < 1e-9);
    // A split writes its rows by row too: every output row is an input row.
    let out = Dir::new();
    let r = run(&[
        "split",
        f.path().to_str().unwrap(),
        "-o",
        out.join("o").to_str().unwrap(),
        "--carve-test",
        "0.25",
        "-q",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let mut written = 0;
    for split in ["train", "train-val", "test-val", "test"] {
        let p = out.join(&format!("o/X_{split}.npy"));
        let npy = npyz::NpyFile::new(std::fs::File::open(&p).unwrap()).unwrap();
        assert_eq!(npy.order(), npyz::Order::C);
        let values: Vec<f64> = npy.into_vec().unwrap();
        for row in values.chunks(3) {
            let i = row[0] as usize;
            assert_eq!(row[1], rows[i][1], "{split} row {i}");
            written += 1;
        }
    }
    assert_eq!(written, 40);
    let ds = scan_json(f.path(), &[]);
    let nf = finding(&ds, "I009");
    assert_eq!(nf["evidence"]["column"], "x2");
    assert_eq!(nf["samples"][0]["row"], 7);
}

#[test]
fn empty_and_ambiguous_tables_are_errors() {
    for (text, message) in [
        (
            "a,b,label\n",
            "t.csv: empty dataset: the table has a header but no rows",
        ),
        (
            "a,label,label\n1,x,y\n2,y,x\n",
            "t.csv: two columns are named 'label' (columns 2 and 3); rename one: which is meant is ambiguous",
        ),
    ] {
        let d = Dir::new();
        let t = d.write("t.csv", text);
        let err = error_of(&run_path(&t, &[]));
        assert!(err.ends_with(message), "{err}");
    }
}

#[test]
fn semicolon_and_pipe_separated_tables_are_read_as_such() {
    for (sep, word) in [(";", "';' (semicolon)"), ("|", "'|' (pipe)"), ("\t", "tab")] {
        let d = Dir::new();
        let mut text = ["a", "b", "label"].join(sep) + "\n";
        for i in 0..40 {
            text += &[
                format!("{i}"),
                format!("{}", i * 3 % 7),
                ["x", "y"][i % 2].into(),
            ]
            .join(sep);
            text += "\n";
        }
        let t = d.write("t.csv", text);
        let ds = scan_json(&t, &[]);
        assert_eq!(counts(&ds).len(), 2, "{sep:?}: two classes");
        let guesses: Vec<String> = serde_json::from_value(ds["guesses"].clone()).unwrap();
        assert!(
            guesses.contains(&format!("separator: {word} in t.csv")),
            "{guesses:?}"
        );
    }
}

#[test]
fn a_continuous_target_is_a_regression_task() {
    let d = Dir::new();
    let mut text = String::from("a,b,label\n");
    for i in 0..200 {
        text += &format!("{i},{},{:.3}\n", i * 2 % 13, i as f64 * 0.37 + 0.1);
    }
    let t = d.write("t.csv", text);
    let ds = scan_json(&t, &[]);
    let codes = codes(&ds);
    for c in ["B001", "B002", "I007", "L001", "L002", "L003"] {
        assert!(
            !codes.contains(&c.to_string()),
            "{c} on a regression target: {codes:?}"
        );
    }
    let guesses = ds["guesses"].to_string();
    assert!(guesses.contains("task: regression"), "{guesses}");
    // A build would drop every row as unlabeled: it refuses instead.
    let out = Dir::new();
    let err = error_of(&run(&[
        "clean",
        t.to_str().unwrap(),
        "-o",
        out.join("o").to_str().unwrap(),
    ]));
    assert!(err.contains("'label' is a continuous target"), "{err}");
    // Whole numbers, many and spread thin (as scikit-learn's diabetes target: 214
    // values over 442 rows), are a quantity too.
    let mut text = String::from("a,label\n");
    for i in 0..300 {
        text += &format!("{i},{}.0\n", 25 + (i * 37) % 200);
    }
    let t = d.write("whole.csv", text);
    let ds = scan_json(&t, &[]);
    assert!(!crate::util::codes(&ds).contains(&"B002".to_string()));
    assert!(ds["guesses"].to_string().contains("task: regression"));
    // Whole-number floats of few values remain class ids.
    let mut text = String::from("a,label\n");
    for i in 0..60 {
        text += &format!("{i},{}.0\n", i % 3);
    }
    let t = d.write("ids.csv", text);
    assert_eq!(counts(&scan_json(&t, &[])).len(), 3);
}

fn outside_dataset() -> (Dir, Dir) {
    let secret = Dir::new();
    secret.png("s.png", 99);
    let d = Dir::new();
    for i in 0..6 {
        d.png(&format!("data/img{i}.png"), i);
    }
    let mut text = String::from("path,label\n");
    for i in 0..6 {
        text += &format!("img{i}.png,{}\n", ["a", "b"][i % 2]);
    }
    text += &format!("{},a\n", secret.join("s.png").display());
    text += "../../../../../../../../../../etc/hostname,b\n";
    d.write("data/labels.csv", text);
    (d, secret)
}

#[test]
fn paths_outside_the_dataset_are_reported_and_never_read() {
    let (d, secret) = outside_dataset();
    let ds = scan_json(&d.join("data"), &[]);
    let f = finding(&ds, "I015");
    assert_eq!(f["sample_count"], 2);
    assert_eq!(integrity_codes(&ds), ["I015"]);
    // Not materialised by a build.
    let out = d.join("out");
    let r = run(&[
        "clean",
        d.join("data").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--materialize",
        "copy",
        "-q",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let copied: Vec<_> = walk_files(&out)
        .into_iter()
        .filter(|p| p.ends_with(".png"))
        .collect();
    assert_eq!(copied.len(), 6, "{copied:?}");
    // Nor shown: the HTML report has no thumbnail of them.
    let html = d.join("r.html");
    scan_json(&d.join("data"), &["--html", html.to_str().unwrap()]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("/s.png"), "the finding lists them");
    assert!(
        !page.contains("/s.png<br>") && !page.contains("/s.png</figcaption>"),
        "a thumbnail of a file outside"
    );
    // Read when the user asks for it.
    let ds = scan_json(&d.join("data"), &["--allow-outside-paths"]);
    assert!(!codes(&ds).contains(&"I015".to_string()));
    drop(secret);
}

fn walk_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[cfg(unix)]
#[test]
fn control_characters_in_names_cannot_forge_output() {
    let d = Dir::new();
    d.png("a/1.png", 1);
    d.png("a/2.png", 2);
    d.png("b/3.png", 3);
    d.write("b/x\n::error file=a.py::forged\r\u{1b}[2J.png", "not a png");
    for (format, needle) in [
        ("text", "b/x\\n::error file=a.py::forged\\r\\u{1b}[2J.png"),
        (
            "markdown",
            "b/x\\n::error file=a.py::forged\\r\\u{1b}[2J.png",
        ),
        (
            "github",
            "x\\n%3A%3Aerror file=a.py%3A%3Aforged\\r\\u{1b}[2J.png",
        ),
    ] {
        let out = run_path(d.path(), &["--format", format, "-q"]);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(needle), "{format}: {text}");
        for line in text.lines() {
            assert!(
                !line.starts_with("::error file=a.py"),
                "{format}: forged line"
            );
            assert!(
                !line.contains('\r') && !line.contains('\u{1b}'),
                "{format}: {line:?}"
            );
        }
    }
}

#[test]
fn overwrite_replaces_only_what_a_build_wrote() {
    let d = Dir::new();
    for i in 0..4 {
        d.png(&format!("data/{}/{i}.png", ["a", "b"][i % 2]), i as u8);
    }
    let data = d.join("data");
    let out = d.join("out");
    let build = |extra: &[&str]| {
        let mut args = vec![
            "clean",
            data.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-q",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    assert!(build(&[]).status.success());
    assert!(
        build(&["--overwrite"]).status.success(),
        "its own build is replaced"
    );
    // A training run's checkpoints inside OUT: never deleted.
    d.write("out/checkpoints/epoch1.pt", "weights");
    let err = error_of(&build(&["--overwrite"]));
    assert!(
        err.contains("holds other files than the dsaudit build"),
        "{err}"
    );
    assert!(d.join("out/checkpoints/epoch1.pt").is_file());
    // A folder with a build.json or metrics.json of anyone's is not a dsaudit build.
    for marker in ["build.json", "metrics.json"] {
        let other = d.join(&format!("other-{marker}"));
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join(marker), "{}").unwrap();
        std::fs::write(other.join("model.pt"), "weights").unwrap();
        let err = error_of(&run(&[
            "clean",
            data.to_str().unwrap(),
            "-o",
            other.to_str().unwrap(),
            "--overwrite",
        ]));
        assert!(err.contains("refusing to replace it"), "{err}");
        assert!(other.join("model.pt").is_file());
    }
}

#[test]
fn nothing_is_written_beside_a_table_or_labels_file_given_as_the_dataset() {
    let (d, _secret) = outside_dataset();
    let labels = d.join("data/labels.csv");
    let labels = labels.to_str().unwrap();
    let inside = d.join("data/out");
    for args in [
        vec![
            "scan",
            labels,
            "--manifest",
            d.join("data/m.csv").to_str().unwrap(),
        ],
        vec![
            "scan",
            labels,
            "--html",
            d.join("data/r.html").to_str().unwrap(),
        ],
        vec!["clean", labels, "-o", inside.to_str().unwrap()],
        vec![
            "check",
            labels,
            "--cache-dir",
            d.join("data/.cache").to_str().unwrap(),
        ],
    ] {
        let err = error_of(&run(&args));
        assert!(err.contains("inside the dataset"), "{args:?}: {err}");
    }
    let t = Dir::new();
    let table = t.write("t.csv", "a,label\n1,x\n2,y\n");
    let err = error_of(&run(&[
        "scan",
        table.to_str().unwrap(),
        "-o",
        t.join("report.txt").to_str().unwrap(),
    ]));
    assert!(err.contains("inside the dataset"), "{err}");
    assert_eq!(walk_files(&d.join("data")).len(), 7);
    assert_eq!(walk_files(t.path()), ["t.csv"]);
}

#[cfg(unix)]
#[test]
fn non_utf8_names_materialise_in_every_mode() {
    use std::os::unix::ffi::OsStrExt;
    let d = Dir::new();
    d.png("data/a/1.png", 1);
    d.png("data/b/2.png", 2);
    let odd = d
        .join("data/a")
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9.png"));
    std::fs::write(&odd, encode(&rgb(8, 8, 3), image::ImageFormat::Png)).unwrap();
    for mode in ["copy", "hardlink", "symlink"] {
        let out = d.join(&format!("out-{mode}"));
        let r = run(&[
            "clean",
            d.join("data").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--materialize",
            mode,
            "-q",
        ]);
        assert!(
            r.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        let written = out.join("a/caf\u{fffd}.png");
        let bytes = std::fs::read(&written).unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert_eq!(bytes, std::fs::read(&odd).unwrap(), "{mode}");
    }
}

#[test]
fn damaged_tables_that_make_the_reader_panic_or_ask_for_exabytes_are_one_line_errors() {
    // Every Parquet and IPC input the fuzzers crashed polars' readers with: panics
    // (a missing thrift field unwrapped, a length assertion), caught at the file
    // boundary, and impossible allocations (`*-alloc`: a negative page value count
    // cast to a 2^61-byte bitmap, buffer lengths of terabytes), refused by the size
    // checks before the reader sees them (table_io::vet; the allocator guard stays
    // as the last line). Each must be a one-line error naming the file.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut seen = 0;
    for (dir, name) in [("parquet", "t.parquet"), ("ipc", "t.arrow")] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let found = e.unwrap().path();
            let d = Dir::new();
            let t = d.write(name, std::fs::read(&found).unwrap());
            for command in ["scan", "stats"] {
                let err = error_of(&run(&[command, t.to_str().unwrap()]));
                assert!(
                    err.starts_with("error: ") && err.contains(name),
                    "{}: {err}",
                    found.display()
                );
            }
            seen += 1;
        }
    }
    assert!(seen >= 4, "{seen} inputs");
}

#[test]
fn an_npy_header_built_to_make_its_parser_backtrack_is_refused_at_once() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/npy");
    let d = Dir::new();
    d.write(
        "X_train.npy",
        std::fs::read(root.join("nested-braces-header-backtracking")).unwrap(),
    );
    let out = run_within(&[os("scan"), d.path().as_os_str()], Duration::from_secs(60));
    let err = error_of(&out);
    assert!(
        err.ends_with("X_train.npy: not a valid .npy file: the header is not one plain dict"),
        "{err}"
    );
}

/// An output named by a FIFO (or a device: `-o /dev/null`, `-o /dev/stdout`) is
/// written into, not replaced: a rename of a temporary file over it put a regular file
/// where the FIFO was, and, run as root, replaced the system's /dev/null.
#[cfg(unix)]
#[test]
fn an_output_that_is_a_fifo_is_written_into_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let d = Dir::new();
    let fifo = d.join("report.fifo");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(&fifo).unwrap())
    };
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/images");
    let out = run(&[
        "scan",
        "-q",
        "--fail-on",
        "never",
        "--format",
        "json",
        "-o",
        fifo.to_str().unwrap(),
        data.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced: {kind:?}");
    let report: serde_json::Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
    assert!(report["datasets"][0]["findings"].is_array());
    // Nothing was left beside it.
    let names: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["report.fifo"]);
}
