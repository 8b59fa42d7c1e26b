//! `dsaudit check` (the pre-commit entry point), its cache, and the configuration file.

use crate::util::{dsaudit, error_of, Dir};
use std::path::Path;
use std::process::Output;

/// A clean image dataset copied from sample_data: 12 training and 4 test images per
/// class, none of the planted problems.
fn clean_images(dir: &Dir, at: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/images");
    for class in ["circle", "square", "triangle"] {
        for (split, n) in [("train", 12), ("test", 4)] {
            for i in 0..n {
                let name = format!("{i:03}.png");
                let bytes = std::fs::read(src.join(split).join(class).join(&name)).unwrap();
                dir.write(&format!("{at}/{split}/{class}/{name}"), bytes);
            }
        }
    }
}

fn check_in(cwd: &Path, args: &[&str]) -> Output {
    let mut c = dsaudit();
    c.current_dir(cwd).arg("check").args(args);
    c.output().expect("run dsaudit")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A re-check that printed the stored output after comparing only the inputs' names,
/// sizes and times (no byte read).
fn assert_matched_by_names_sizes_and_times(o: &Output) {
    assert!(
        stderr(o).contains("nothing changed since the last check")
            && !stderr(o).contains("contents compared"),
        "{}",
        stderr(o)
    );
}

fn git(repo: &Path, args: &[&str]) -> Output {
    std::process::Command::new("git")
        .current_dir(repo)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs")
}

#[test]
fn pre_commit_hook_lets_a_clean_commit_through_and_blocks_a_leak() {
    let dir = Dir::new();
    let repo = dir.path();
    assert!(git(repo, &["init", "-q"]).status.success());
    clean_images(&dir, "data");
    dir.write(
        "dsaudit.toml",
        "fail-on = \"error\"\n[layout]\nkind = \"image-folder\"\n",
    );
    // What pre-commit does with our .pre-commit-hooks.yaml entry and `args: [data]`.
    let hook = dir.write(
        ".git/hooks/pre-commit",
        format!(
            "#!/bin/sh\nexec '{}' check data\n",
            env!("CARGO_BIN_EXE_dsaudit")
        ),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert!(git(repo, &["add", "."]).status.success());
    let first = git(repo, &["commit", "-q", "-m", "clean data"]);
    assert!(
        first.status.success(),
        "clean commit refused: {}{}",
        stdout(&first),
        stderr(&first)
    );
    // The cache sits beside dsaudit.toml and git ignores it by itself.
    assert!(repo.join(".dsaudit_cache/CACHEDIR.TAG").is_file());
    assert_eq!(stdout(&git(repo, &["status", "--porcelain"])), "");

    // A training image copied into test: a leak, which is an error.
    let leaked = std::fs::read(repo.join("data/train/square/003.png")).unwrap();
    dir.write("data/test/square/leak.png", leaked);
    assert!(git(repo, &["add", "."]).status.success());
    let second = git(repo, &["commit", "-q", "-m", "leak"]);
    assert!(!second.status.success(), "the leak was committed");
    let said = stdout(&second) + &stderr(&second);
    assert!(said.contains("D003"), "{said}");
    let log = stdout(&git(repo, &["log", "--oneline"]));
    assert_eq!(log.lines().count(), 1, "{log}");

    // The same check by hand gives exit code 1 and, run again, the same output from
    // the cache.
    let a = check_in(repo, &["data"]);
    let b = check_in(repo, &["data", "--timings"]);
    assert_eq!(a.status.code(), Some(1));
    assert_eq!(b.status.code(), Some(1));
    assert!(
        stderr(&b).contains("nothing changed since the last check"),
        "{}",
        stderr(&b)
    );
}

#[test]
fn unchanged_files_are_not_read_again_and_changed_ones_are() {
    let dir = Dir::new();
    clean_images(&dir, "data");
    let cache = dir.join("cache");
    let cache = cache.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "data",
            "--format",
            "json",
            "--timings",
            "--cache-dir",
            cache,
        ];
        args.extend_from_slice(extra);
        check_in(dir.path(), &args)
    };
    let cold = run(&[]);
    assert_eq!(cold.status.code(), Some(0), "{}", stderr(&cold));
    assert!(stderr(&cold).contains("0 files unchanged, 0 unchanged by content, 48 read"));
    // Another command line: no stored output, but every file from the cache.
    let warm = run(&["--max-samples", "5"]);
    assert!(
        stderr(&warm).contains("48 files unchanged, 0 unchanged by content, 0 read"),
        "{}",
        stderr(&warm)
    );
    assert_eq!(stdout(&warm), stdout(&cold), "the cache changed the report");
    // With nothing stored for it, that run took its fingerprint from the sizes and
    // times its load recorded: the same command line now matches without reading.
    let same = run(&["--max-samples", "5"]);
    assert_matched_by_names_sizes_and_times(&same);
    assert_eq!(stdout(&same), stdout(&cold));
    let uncached = check_in(dir.path(), &["data", "--format", "json", "--no-cache"]);
    assert_eq!(stdout(&uncached), stdout(&cold));

    // Same bytes, new time (a checkout does that): the contents are compared and the
    // stored output stands.
    let p = dir.join("data/train/circle/000.png");
    let bytes = std::fs::read(&p).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&p, &bytes).unwrap();
    let touched = run(&["--max-samples", "5"]);
    assert!(
        stderr(&touched).contains("nothing changed since the last check"),
        "{}",
        stderr(&touched)
    );
    assert_eq!(stdout(&touched), stdout(&cold));
    // Under a new command line the images are described again from the cache: that
    // one by its content hash.
    let touched = run(&["--max-samples", "6"]);
    assert!(
        stderr(&touched).contains("47 files unchanged, 1 unchanged by content, 0 read"),
        "{}",
        stderr(&touched)
    );
    // New content: read again, and the report sees it (an empty file is an error).
    std::fs::write(&p, b"").unwrap();
    let changed = run(&["--max-samples", "5"]);
    assert!(
        stderr(&changed).contains("47 files unchanged, 0 unchanged by content, 1 read"),
        "{}",
        stderr(&changed)
    );
    assert_eq!(changed.status.code(), Some(1));
    assert!(stdout(&changed).contains("\"I003\""));
    // Unchanged since: the stored output, the same exit code.
    let again = run(&["--max-samples", "5"]);
    assert!(stderr(&again).contains("nothing changed since the last check"));
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(stdout(&again), stdout(&changed));
}

/// The whole sample image set (163 images): one changed image is 0.6% of it.
fn sample_images(dir: &Dir, at: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/images");
    for e in walk(&src) {
        let rel = e.strip_prefix(&src).unwrap().to_str().unwrap().to_string();
        dir.write(&format!("{at}/{rel}"), std::fs::read(&e).unwrap());
    }
}

fn walk(p: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn json(o: &Output) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(o)));
    v["datasets"][0].clone()
}

#[test]
fn a_re_check_updates_duplicates_exactly_and_says_when_it_reuses_models() {
    let dir = Dir::new();
    sample_images(&dir, "data");
    let check = |extra: &[&str]| {
        let mut args = vec!["data", "--format", "json", "--fail-on", "never"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--cache-dir", "cache"]);
        json(&check_in(dir.path(), &args))
    };
    let scan = || {
        let mut c = dsaudit();
        c.current_dir(dir.path())
            .args(["scan", "data", "--format", "json", "--fail-on", "never"]);
        json(&c.output().unwrap())
    };
    let cold = check(&[]);
    assert!(cold["labels"].get("reused").is_none());
    assert_eq!(cold["labels"], scan()["labels"]);

    // A training image copied into another class of the test split: a leak, found
    // by comparing the one new image with the rest, as a full search would.
    std::fs::copy(
        dir.join("data/train/circle/000.png"),
        dir.join("data/test/square/leaked.png"),
    )
    .unwrap();
    let warm = check(&[]);
    let full = scan();
    assert_eq!(warm["duplicates"], full["duplicates"]);
    let leak = crate::util::finding(&warm, "D003");
    assert!(
        crate::util::sources(leak).contains(&"test/square/leaked.png".to_string()),
        "{leak}"
    );
    // The label and shift models are the first check's, and the report says so; the
    // new image is scored all the same.
    let note = warm["labels"]["reused"].as_str().expect("labels reused");
    assert!(
        note.contains("since then 1 new or altered, 0 removed or altered"),
        "{note}"
    );
    let shift = &warm["shift"]["comparisons"][0];
    assert!(
        shift["reused"].as_str().unwrap().contains("reused"),
        "{shift}"
    );
    assert_eq!(warm["labels"]["scored"], full["labels"]["scored"]);
    let text = stdout(&check_in(
        dir.path(),
        &["data", "--fail-on", "never", "--cache-dir", "cache"],
    ));
    assert!(
        text.contains("probabilities: models fitted by an earlier check"),
        "{text}"
    );

    // --refit fits anew: the numbers of a scan.
    let refit = check(&["--refit"]);
    assert!(refit["labels"].get("reused").is_none());
    assert_eq!(refit["labels"], full["labels"]);
    assert_eq!(refit["shift"], full["shift"]);

    // Past 1% of the samples changed since the fit, the check refits by itself.
    for (i, class) in ["circle", "square", "triangle"].iter().enumerate() {
        std::fs::copy(
            dir.join(&format!("data/train/{class}/00{i}.png")),
            dir.join(&format!("data/train/{class}/copy.png")),
        )
        .unwrap();
    }
    let moved = check(&[]);
    let full = scan();
    assert!(
        moved["labels"].get("reused").is_none(),
        "{}",
        moved["labels"]
    );
    assert_eq!(moved["labels"], full["labels"]);
    assert_eq!(moved["shift"], full["shift"]);
    assert_eq!(moved["duplicates"], full["duplicates"]);

    // A new picture, not a byte copy: a training image 10% darker, in test. The
    // check confirms it against the kept pictures and calibrates as a scan does, so
    // it gives the scan's clusters, and names the leak as near, not identical.
    let original = image::open(dir.join("data/train/triangle/005.png"))
        .unwrap()
        .to_rgb8();
    let darker = image::RgbImage::from_fn(original.width(), original.height(), |x, y| {
        image::Rgb(
            original
                .get_pixel(x, y)
                .0
                .map(|c| (c as f32 * 0.9).round() as u8),
        )
    });
    darker
        .save(dir.join("data/test/triangle/darker.png"))
        .unwrap();
    let warm = check(&[]);
    let full = scan();
    assert_eq!(warm["duplicates"], full["duplicates"]);
    let leak = crate::util::finding(&warm, "D003");
    let note = leak["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "test/triangle/darker.png")
        .unwrap_or_else(|| panic!("the near copy is not named: {leak}"))["note"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        note.contains("near copy of train/triangle/005.png"),
        "{note}"
    );
    assert!(
        leak["evidence"]["leaked_near"].as_u64().unwrap() >= 1,
        "{leak}"
    );
}

#[test]
fn a_corrupt_cache_is_rebuilt() {
    let dir = Dir::new();
    clean_images(&dir, "data");
    let args = ["data", "--cache-dir", "cache", "--timings"];
    let first = check_in(dir.path(), &args);
    assert_eq!(first.status.code(), Some(0));
    let mut damaged = 0;
    for kind in ["files", "results", "state"] {
        for e in std::fs::read_dir(dir.join("cache/v1").join(kind)).unwrap() {
            // Cut short, as a full disk or a killed writer without the rename would.
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
            damaged += 1;
        }
    }
    assert_eq!(damaged, 3);
    let second = check_in(dir.path(), &args);
    assert_eq!(second.status.code(), Some(0));
    assert!(
        stderr(&second).contains("cache file is corrupt"),
        "{}",
        stderr(&second)
    );
    assert!(stderr(&second).contains("48 read"));
    let third = check_in(dir.path(), &args);
    assert!(
        stderr(&third).contains("nothing changed"),
        "{}",
        stderr(&third)
    );
    assert!(!stderr(&third).contains("corrupt"));
}

#[test]
fn an_unwritable_cache_directory_warns_and_checks_anyway() {
    let dir = Dir::new();
    clean_images(&dir, "data");
    dir.write("not-a-dir", "x");
    let out = check_in(dir.path(), &["data", "--cache-dir", "not-a-dir/cache"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("not-a-dir/cache: cache directory not writable"),
        "{err}"
    );
    assert!(err.contains("running without the cache"), "{err}");
    assert!(stdout(&out).contains("samples  48"));
}

#[test]
fn configuration_is_found_above_the_dataset_and_flags_win() {
    let dir = Dir::new();
    clean_images(&dir, "proj/data");
    let leaked = std::fs::read(dir.join("proj/data/train/square/003.png")).unwrap();
    dir.write("proj/data/test/square/leak.png", leaked);
    let scan = |args: &[&str]| {
        let mut c = dsaudit();
        c.current_dir(dir.path())
            .arg("scan")
            .arg("proj/data")
            .arg("--quiet");
        c.args(args).output().unwrap()
    };
    assert_eq!(scan(&[]).status.code(), Some(1));
    dir.write(
        "proj/dsaudit.toml",
        "ignore = [\"O\", \"L\"]\nfail-on = \"never\"\n\n[thresholds.near-duplicates]\nphash = 4\n",
    );
    let quiet = scan(&["--format", "json"]);
    assert_eq!(quiet.status.code(), Some(0), "fail-on from the file");
    let json: serde_json::Value = serde_json::from_slice(&quiet.stdout).unwrap();
    let codes: Vec<&str> = json["datasets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"D003"), "{codes:?}");
    assert!(
        !codes
            .iter()
            .any(|c| c.starts_with('O') || c.starts_with('L')),
        "{codes:?}"
    );
    assert_eq!(
        scan(&["--fail-on", "error"]).status.code(),
        Some(1),
        "the flag wins"
    );
    assert_eq!(
        scan(&["--isolated"]).status.code(),
        Some(1),
        "--isolated reads no file"
    );

    // Per-path ignores: globs relative to the file's folder.
    dir.write(
        "proj/dsaudit.toml",
        "[per-path-ignores]\n\"data/test/square/leak.png\" = [\"D003\", \"D001\"]\n",
    );
    let out = scan(&["--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = json["datasets"][0]["findings"].to_string();
    assert!(!text.contains("leak.png"), "{text}");

    // `dsaudit config` shows where it came from and what is in force.
    let mut c = dsaudit();
    let shown = c
        .current_dir(dir.path())
        .args(["config", "proj/data"])
        .output()
        .unwrap();
    let shown = stdout(&shown);
    assert!(shown.contains("proj/dsaudit.toml"), "{shown}");
    assert!(shown.contains("[per-path-ignores]"), "{shown}");
    assert!(
        shown.contains("[thresholds.class-imbalance]\nmax-ratio = 10.0"),
        "{shown}"
    );
}

#[test]
fn bad_configuration_files_name_line_column_and_nearest_key() {
    let dir = Dir::new();
    clean_images(&dir, "data");
    let cases = [
        (
            "select = [\"I\"\nfail-on = 3\n",
            "dsaudit.toml:2:1: missing comma",
        ),
        (
            "selct = [\"I\"]\n",
            "dsaudit.toml:1:1: unknown field `selct`",
        ),
        ("ignore = [\"D0033\"]\n", "did you mean 'D003'?"),
        (
            "[thresholds.class-imbalance]\nmax-ration = 3\n",
            "did you mean 'max-ratio'?",
        ),
        (
            "[thresholds.class-imbalanse]\nmax-ratio = 3\n",
            "did you mean 'class-imbalance'?",
        ),
        (
            "fail-on = \"sometimes\"\n",
            "dsaudit.toml:1:11: fail-on 'sometimes'",
        ),
    ];
    for (text, expected) in cases {
        dir.write("dsaudit.toml", text);
        let out = check_in(dir.path(), &["data", "--no-cache"]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let e = error_of(&out);
        assert!(e.contains(expected), "{text:?}: {e}");
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    }
    let out = check_in(dir.path(), &["data", "--no-cache", "--select", "Q9"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn github_and_sarif_outputs() {
    let out = crate::util::run(&[
        "check",
        "sample_data/images",
        "--no-cache",
        "--format",
        "github",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.lines().all(|l| l.starts_with("::error ")
            || l.starts_with("::warning ")
            || l.starts_with("::notice ")),
        "{text}"
    );
    assert!(text.contains(
        "::error file=sample_data/images/train/circle/040_truncated.png,title=I002 truncated-file::"
    ));
    let out = crate::util::run(&[
        "check",
        "sample_data/images",
        "--no-cache",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["datasets"][0]["findings"].as_array().unwrap().len();
    assert_eq!(text.lines().count(), findings);
    let out = crate::util::run(&[
        "check",
        "sample_data/table.csv",
        "--no-cache",
        "--format",
        "sarif",
    ]);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in run["results"].as_array().unwrap() {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("sample_data/table.csv"), "{uri}");
    }
}

/// The fingerprint a cold check takes from what it read matches the one a re-check
/// takes from the disk for every kind of input: images listed by a labels file, the
/// labels file itself (also a walked file), a file that is not a sample, and a table.
#[test]
fn labels_files_and_tables_are_fingerprinted_like_images() {
    let dir = Dir::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let mut labels = String::from("path,label,split\n");
    for (i, class) in ["circle", "square"].iter().enumerate() {
        for n in 0..6 {
            let split = if n < 4 { "train" } else { "test" };
            let name = format!("{n:03}.png");
            let bytes = std::fs::read(src.join("images").join(split).join(class).join(&name));
            dir.write(&format!("lab/imgs/{i}{name}"), bytes.unwrap());
            labels.push_str(&format!("imgs/{i}{name},{class},{split}\n"));
        }
    }
    dir.write("lab/labels.csv", &labels);
    dir.write("lab/README.md", "not a sample\n");
    dir.write(
        "tab/table.csv",
        std::fs::read(src.join("table.csv")).unwrap(),
    );
    let cache = dir.join("cache");
    let run = || {
        let args = [
            "lab",
            "tab",
            "--format",
            "json",
            "--timings",
            "--fail-on",
            "never",
        ];
        check_in(
            dir.path(),
            &[&args[..], &["--cache-dir", cache.to_str().unwrap()]].concat(),
        )
    };
    let cold = run();
    assert_eq!(cold.status.code(), Some(0), "{}", stderr(&cold));
    assert!(stderr(&cold).contains("12 read"), "{}", stderr(&cold));
    let same = run();
    assert_matched_by_names_sizes_and_times(&same);
    assert_eq!(stdout(&same), stdout(&cold));
    // The table rewritten with the same bytes: compared by content, still unchanged.
    std::thread::sleep(std::time::Duration::from_millis(20));
    dir.write(
        "tab/table.csv",
        std::fs::read(src.join("table.csv")).unwrap(),
    );
    let touched = run();
    assert!(
        stderr(&touched).contains("contents compared")
            && stderr(&touched).contains("nothing changed since the last check"),
        "{}",
        stderr(&touched)
    );
    // One label changed, same size: the labels file's content differs, so the check
    // runs again and counts the classes anew.
    dir.write("lab/labels.csv", labels.replacen("circle", "square", 1));
    let relabeled = run();
    assert!(
        !stderr(&relabeled).contains("nothing changed"),
        "{}",
        stderr(&relabeled)
    );
    assert_ne!(stdout(&relabeled), stdout(&cold));
    // The README is an input too: changing it is a change.
    dir.write("lab/README.md", "still not a sample\n");
    let readme = run();
    assert!(
        !stderr(&readme).contains("nothing changed"),
        "{}",
        stderr(&readme)
    );
}

#[test]
#[cfg(feature = "baseline")]
fn a_re_check_keeps_the_label_networks_and_scores_a_new_image_with_them() {
    let dir = Dir::new();
    sample_images(&dir, "data");
    let check = |model: &str| {
        let args = [
            "data",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--label-model",
            model,
            "--cache-dir",
            "cache",
        ];
        json(&check_in(dir.path(), &args))
    };
    let cold = check("cnn");
    assert!(cold["labels"].get("reused").is_none());
    let what = cold["labels"]["probabilities"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(what.starts_with("LeNet-like CNN"), "{what}");
    std::fs::copy(
        dir.join("data/train/circle/000.png"),
        dir.join("data/train/circle/again.png"),
    )
    .unwrap();
    let warm = check("cnn");
    let note = warm["labels"]["reused"].as_str().expect("networks reused");
    assert!(note.contains("1 new or altered"), "{note}");
    // The same networks, said the same way; one more image scored, by them.
    assert_eq!(warm["labels"]["probabilities"], what.as_str());
    assert_eq!(
        warm["labels"]["scored"].as_u64().unwrap(),
        cold["labels"]["scored"].as_u64().unwrap() + 1
    );
    // A linear fit is not taken for the networks' (nor the other way round).
    let linear = check("linear");
    assert!(
        linear["labels"].get("reused").is_none(),
        "{}",
        linear["labels"]
    );
}

/// Every file under `root`, relative, sorted.
fn files_under(root: &Path) -> Vec<String> {
    walk(root)
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect()
}

#[test]
fn the_cache_never_lands_inside_the_dataset() {
    // A dataset holding its own dsaudit.toml, checked from inside itself, with no
    // repository above: the cache goes to the user's cache directory.
    let dir = Dir::new();
    clean_images(&dir, "data");
    dir.write("data/dsaudit.toml", "fail-on = \"never\"\n");
    let before = files_under(&dir.join("data"));
    let user = dir.join("user-cache");
    let run = |cwd: &Path, args: &[&str]| {
        let mut c = dsaudit();
        c.current_dir(cwd)
            .env("XDG_CACHE_HOME", &user)
            .arg("check")
            .args(args);
        c.output().unwrap()
    };
    let out = run(&dir.join("data"), &["."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(files_under(&dir.join("data")), before);
    assert!(user.join("dsaudit/CACHEDIR.TAG").is_file());
    // The second run reads it.
    let again = run(&dir.join("data"), &[".", "--timings"]);
    assert!(
        stderr(&again).contains("nothing changed since the last check"),
        "{}",
        stderr(&again)
    );

    // Asked for inside the dataset, by flag or configuration: a one-line error, and
    // nothing written.
    let flag = run(dir.path(), &["data", "--cache-dir", "data/cache"]);
    assert_eq!(flag.status.code(), Some(2), "{}", stderr(&flag));
    let said = error_of(&flag);
    assert!(
        said.contains("data/cache: the cache directory is inside the dataset"),
        "{said}"
    );
    dir.write("data/dsaudit.toml", "[cache]\ndir = \"cache\"\n");
    let config = run(dir.path(), &["data"]);
    assert_eq!(config.status.code(), Some(2), "{}", stderr(&config));
    assert!(error_of(&config).contains("inside the dataset"));
    assert!(!dir.join("data/cache").exists());
}
