//! Test helper after ripgrep's tests/util.rs: a temporary dataset directory and a
//! way to run the binary on it.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub fn mkdir(&self, rel: &str) {
        std::fs::create_dir_all(self.join(rel)).unwrap();
    }

    /// A small RGB PNG whose pixels depend on `seed`.
    pub fn png(&self, rel: &str, seed: u8) -> PathBuf {
        self.write(rel, encode(&rgb(8, 8, seed), image::ImageFormat::Png))
    }
}

pub fn rgb(w: u32, h: u32, seed: u8) -> image::DynamicImage {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x as u8).wrapping_mul(seed),
            (y as u8).wrapping_add(seed),
            seed,
        ])
    });
    image::DynamicImage::ImageRgb8(img)
}

pub fn encode(img: &image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, format).expect("encode");
    buf.into_inner()
}

pub fn dsaudit() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dsaudit"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    // A check with no repository above its dataset keeps its cache in the user's
    // cache directory: the tests' own, not the machine's.
    c.env(
        "XDG_CACHE_HOME",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("user-cache"),
    );
    c
}

pub fn run(args: &[&str]) -> Output {
    dsaudit().args(args).output().expect("run dsaudit")
}

pub fn run_path(path: &Path, extra: &[&str]) -> Output {
    let mut c = dsaudit();
    c.arg("scan").arg(path).args(extra);
    c.output().expect("run dsaudit")
}

/// Scans `path` as JSON and returns the one dataset object, asserting a clean exit (0 or 1).
pub fn scan_json(path: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["--format", "json", "--quiet"];
    args.extend_from_slice(extra);
    let out = run_path(path, &args);
    let code = out.status.code();
    assert!(
        matches!(code, Some(0) | Some(1)),
        "exit {code:?}; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json report");
    v["datasets"][0].clone()
}

/// The one-line error of a run that must fail with exit code 2.
pub fn error_of(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected exit 2; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
    assert_eq!(err.lines().count(), 1, "error must be one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

pub fn codes(ds: &Value) -> Vec<String> {
    ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// Integrity findings only: layout tests use tiny fixtures that balance rules rightly flag.
pub fn integrity_codes(ds: &Value) -> Vec<String> {
    codes(ds)
        .into_iter()
        .filter(|c| c.starts_with('I'))
        .collect()
}

pub fn finding<'a>(ds: &'a Value, code: &str) -> &'a Value {
    ds["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {ds:#}"))
}

pub fn sources(f: &Value) -> Vec<String> {
    f["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap().to_string())
        .collect()
}

/// The table rows a finding names, in its order.
pub fn rows(f: &Value) -> Vec<u64> {
    f["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["row"].as_u64().unwrap())
        .collect()
}

/// Split → class → count, from the report.
pub fn counts(ds: &Value) -> Vec<(String, String, u64)> {
    let mut out = Vec::new();
    for s in ds["splits"].as_array().unwrap() {
        let split = s["name"].as_str().unwrap_or("-").to_string();
        for (c, n) in s["classes"].as_object().unwrap() {
            out.push((split.clone(), c.clone(), n.as_u64().unwrap()));
        }
    }
    out
}

/// Every file under `root` with its bytes, to prove a scan left the input untouched.
pub fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if root.is_file() {
        return vec![(root.to_path_buf(), std::fs::read(root).unwrap())];
    }
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// dsaudit as a user that permissions apply to: itself when the tests do not run as
/// root; when they do (as CI does), a copy of the binary run through `setpriv` as
/// nobody (uid 65534), with the dataset `dir` opened to others. None when neither is
/// possible: the caller skips, unless DSAUDIT_REQUIRE_NONROOT is set (CI sets it),
/// then it fails.
#[cfg(unix)]
pub fn unprivileged(dir: &Path) -> Option<Command> {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::OnceLock;
    static COPY: OnceLock<Option<PathBuf>> = OnceLock::new();
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some(dsaudit());
    }
    let copy = COPY.get_or_init(|| {
        let has_setpriv = Command::new("setpriv").arg("--version").output().is_ok();
        if !has_setpriv {
            return None;
        }
        // One fixed place, replaced by each run: a copy (when a hard link cannot be
        // made) is the size of the binary, and runs must not pile them up.
        let dir = std::env::temp_dir().join("dsaudit-unprivileged");
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).ok()?;
        let bin = dir.join("dsaudit");
        let _ = std::fs::remove_file(&bin);
        if std::fs::hard_link(env!("CARGO_BIN_EXE_dsaudit"), &bin).is_err() {
            std::fs::copy(env!("CARGO_BIN_EXE_dsaudit"), &bin).ok()?;
        }
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).ok()?;
        Some(bin)
    });
    let Some(bin) = copy else {
        assert!(
            std::env::var_os("DSAUDIT_REQUIRE_NONROOT").is_none(),
            "DSAUDIT_REQUIRE_NONROOT is set, but running as root without setpriv"
        );
        return None;
    };
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(bin)
        .current_dir("/")
        .env("XDG_CACHE_HOME", dir.join(".user-cache"))
        .env_remove("HOME");
    Some(c)
}

/// Every file under `from`, copied to `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The real breast-cancer table (tests/data/breast_cancer.csv): its feature names and
/// each row's features, the label column left out.
pub fn breast_cancer_features() -> (Vec<String>, Vec<Vec<f64>>) {
    let text = include_str!("../data/breast_cancer.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.last(), Some(&"label"));
    let names = header[..header.len() - 1]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rows = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            cells[..cells.len() - 1]
                .iter()
                .map(|c| c.parse().unwrap())
                .collect()
        })
        .collect();
    (names, rows)
}
