//! `dsaudit partial --plan-for N` and `--plan PLAN --shard K/N`: a dataset walked and
//! listed once; each part read from the plan is the part `--shard K/N` makes by
//! walking, byte for byte, and what a plan cannot do is refused in one line.

use crate::partial::{labelled, partial, partial_run};
use crate::util::*;
use std::path::{Path, PathBuf};

fn partial_error(data: &Path, args: &[&str], out: &Path) -> String {
    error_of(&partial_run(data, args, out))
}

#[test]
fn parts_from_a_plan_are_the_walks_parts_byte_for_byte() {
    let dir = Dir::new();
    let labelled = labelled(&dir);
    for (name, data) in [
        ("images", PathBuf::from("sample_data/images")),
        ("labelled", labelled),
    ] {
        let before = snapshot(&data);
        let plan = dir.join(&format!("{name}-plan.dsp"));
        partial(&data, &["--plan-for", "3"], &plan);
        let mut planned = Vec::new();
        for k in 1..=3 {
            let shard = format!("{k}/3");
            let (walked, read) = (
                dir.join(&format!("{name}-walked{k}.dsp")),
                dir.join(&format!("{name}-planned{k}.dsp")),
            );
            partial(&data, &["--shard", &shard], &walked);
            let plan_arg = plan.to_str().unwrap();
            partial(&data, &["--plan", plan_arg, "--shard", &shard], &read);
            let (a, b) = (
                std::fs::read(&walked).unwrap(),
                std::fs::read(&read).unwrap(),
            );
            assert!(
                a == b,
                "{name} part {k}: the plan's part differs from the walk's"
            );
            planned.push(read);
        }
        let scan = run_path(&data, &["-q", "--format", "json"]);
        let merged = dsaudit()
            .arg("merge")
            .args(&planned)
            .args(["-q", "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(merged.status.code(), scan.status.code(), "{name}");
        assert_eq!(merged.stdout, scan.stdout, "{name}");
        assert_eq!(snapshot(&data), before, "{name}: the dataset was changed");
    }
}

#[test]
fn what_a_plan_cannot_do_is_refused_in_one_line() {
    let dir = Dir::new();
    let data = Path::new("sample_data/images");
    let plan = dir.join("plan.dsp");
    partial(data, &["--plan-for", "3"], &plan);
    let p = plan.to_str().unwrap();
    let out = dir.join("part.dsp");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--plan", p, "--shard", "1/4"],
            "plan.dsp: a plan of 3 parts; --shard 1/4 asks for one of 4",
        ),
        (
            vec!["--plan", p, "--shard", "1/3", "--label", "x"],
            "the plan's --label, --split, --layout, --config, --isolated and --allow-outside-paths apply",
        ),
        (vec!["--plan-for", "0"], "--plan-for 0: a plan needs at least one part"),
        (vec!["--plan-for", "1000"], "a plan has at most one part per sample"),
    ];
    for (args, want) in cases {
        let e = partial_error(data, &args, &out);
        assert!(e.contains(want), "{args:?}: {e}");
    }
    // A table's flag beside a plan's (clap's usage error, exit 2).
    for args in [
        vec!["--plan-for", "2", "--block-size", "1MiB"],
        vec!["--plan", p, "--shard", "1/3", "--block-size", "1MiB"],
    ] {
        let run = partial_run(data, &args, &out);
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(err.contains("--block-size"), "{args:?}: {err}");
    }
    // Another dataset's plan.
    let other = dir.join("other");
    std::fs::create_dir(&other).unwrap();
    for i in 0..4u8 {
        dir.png(&format!("other/c{}/{i}.png", i % 2), i);
    }
    let e = partial_error(&other, &["--plan", p, "--shard", "1/3"], &out);
    assert!(
        e.contains("plan.dsp: a plan of sample_data/images, not of"),
        "{e}"
    );
    // A plan cut short, and a part that is no plan.
    let bytes = std::fs::read(&plan).unwrap();
    let cut = dir.write("cut.dsp", &bytes[..bytes.len() / 2]);
    let e = partial_error(
        data,
        &["--plan", cut.to_str().unwrap(), "--shard", "1/3"],
        &out,
    );
    assert!(e.contains("cut.dsp: cut short or damaged plan"), "{e}");
    let part = dir.join("walked.dsp");
    partial(data, &["--shard", "1/3"], &part);
    let e = partial_error(
        data,
        &["--plan", part.to_str().unwrap(), "--shard", "1/3"],
        &out,
    );
    assert!(e.contains("walked.dsp: not a plan"), "{e}");
    // The merge is given the plan instead of the parts.
    let merged = dsaudit()
        .arg("merge")
        .arg(&plan)
        .arg("-q")
        .output()
        .unwrap();
    let e = error_of(&merged);
    assert!(e.contains("plan.dsp: a plan of a scan in parts"), "{e}");
    // A table is split by its blocks, not by a plan.
    let e = partial_error(
        Path::new("sample_data/table.csv"),
        &["--plan-for", "2"],
        &out,
    );
    assert!(e.contains("a table is split by blocks of its rows"), "{e}");
    assert!(!out.exists(), "nothing written on refusal");
}
