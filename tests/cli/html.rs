//! The HTML report: self-contained, with charts and thumbnails, and rendered by a
//! real headless browser when one is installed (CI installs Debian's chromium and
//! sets DSAUDIT_REQUIRE_BROWSER=1, so there the browser test cannot be skipped).

use crate::util::{dsaudit, error_of, snapshot, Dir};
use std::path::{Path, PathBuf};

fn write_report(out: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let before = snapshot(&root.join("sample_data/images"));
    let o = dsaudit()
        .args(["scan", "sample_data/images", "--quiet", "--html"])
        .arg(out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(before == snapshot(&root.join("sample_data/images")));
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn report_is_self_contained_with_charts_thumbnails_and_every_finding() {
    let dir = Dir::new();
    let html = write_report(&dir.join("report.html"));
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Class bars per split (train, test), and thumbnails of involved images.
    assert!(html.matches("<svg").count() >= 2, "no charts");
    assert!(html.contains("train (130 samples)"));
    assert!(html.contains("<img src=\"data:image/png;base64,"));
    // The label issue's given and suggested labels sit under its thumbnail.
    assert!(html.contains("given"));
    for code in ["I002", "D003", "L001", "L002"] {
        assert!(html.contains(&format!("<b>{code}</b>")), "{code} missing");
    }
    // Nothing fetched from anywhere: no remote URL, no script.
    assert!(!html.contains("<script"));
    assert!(!html.contains("src=\"http"));
    assert!(!html.contains("href=\"http"));
    assert!(!html.contains("url(http"));
    // The same input gives the same bytes.
    let again = write_report(&dir.join("again.html"));
    assert!(html == again, "report not deterministic");
    // `--format html` is the same page on stdout.
    let o = dsaudit()
        .args(["scan", "sample_data/images", "--quiet", "--format", "html"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stdout) == html,
        "--format html differs from --html"
    );
}

#[test]
fn report_is_never_written_inside_the_dataset() {
    let o = dsaudit()
        .args([
            "scan",
            "sample_data/images",
            "--quiet",
            "--html",
            "sample_data/images/r.html",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(error_of(&o).contains("refusing to write inside the dataset"));
    assert!(!Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_data/images/r.html")
        .exists());
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| {
            std::env::var_os("PATH")
                .map(|p| {
                    std::env::split_paths(&p)
                        .map(|d| d.join(name))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .find(|p| p.is_file())
}

#[test]
fn report_renders_in_a_headless_browser_without_console_errors() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("DSAUDIT_REQUIRE_BROWSER").is_none(),
            "DSAUDIT_REQUIRE_BROWSER is set but no chromium is on PATH"
        );
        eprintln!("skipped: no chromium on PATH (CI installs it)");
        return;
    };
    let dir = Dir::new();
    let report = dir.join("report.html");
    write_report(&report);
    let url = format!("file://{}", report.display());
    let headless = |extra: &[&str]| {
        std::process::Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .args(extra)
            .arg(&url)
            .output()
            .expect("chromium runs")
    };
    // The DOM after rendering: charts and thumbnails are there.
    let dom = headless(&["--dump-dom"]);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let text = String::from_utf8_lossy(&dom.stdout);
    assert!(text.contains("<svg"), "no chart in the rendered DOM");
    assert!(
        text.contains("data:image/png;base64,"),
        "no thumbnail in the rendered DOM"
    );
    let log = String::from_utf8_lossy(&dom.stderr);
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    // A screenshot, kept as an artifact.
    let shot = dir.join("report.png");
    let out = headless(&[
        "--window-size=1280,2400",
        "--hide-scrollbars",
        &format!("--screenshot={}", shot.display()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = image::open(&shot).expect("screenshot is a PNG");
    assert_eq!((png.width(), png.height()), (1280, 2400));
    let keep = std::env::var_os("DSAUDIT_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    std::fs::create_dir_all(&keep).unwrap();
    std::fs::copy(&shot, keep.join("report-sample_data.png")).unwrap();
    eprintln!(
        "screenshot: {}",
        keep.join("report-sample_data.png").display()
    );
}
