//! Tables over `--memory-limit`: read in blocks, every row counted, the row checks on
//! a sample chosen by content. On scikit-learn's breast cancer table (real data) with
//! known copies injected.

use crate::util::*;
use std::collections::BTreeSet;

const TABLE: &str = include_str!("../data/breast_cancer.csv");

/// Rows of the real table (569); then copies of its first `COPIES` rows, the label
/// flipped: each pair is an exact duplicate with conflicting labels.
const REAL_ROWS: u64 = 569;
const COPIES: u64 = 60;
const UNLABELED_FROM: usize = 100;
const UNLABELED_TO: usize = 107;

/// Under what a whole scan of the 137 KB table plans for (4 bytes a byte), so it is
/// read in blocks (64 KiB each), and the sample holds about a third of its rows.
const LIMIT: &str = "500KiB";

fn table_with_copies(d: &Dir) -> std::path::PathBuf {
    let mut lines = TABLE.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len() as u64, REAL_ROWS);
    let mut text = format!("{header}\n");
    for (i, r) in rows.iter().enumerate() {
        // Rows without a label, counted over every row.
        let row = match (UNLABELED_FROM..UNLABELED_TO).contains(&i) {
            true => format!("{},", r.rsplit_once(',').unwrap().0),
            false => r.to_string(),
        };
        text.push_str(&row);
        text.push('\n');
    }
    for r in rows.iter().take(COPIES as usize) {
        let (features, label) = r.rsplit_once(',').unwrap();
        let flipped = if label == "benign" {
            "malignant"
        } else {
            "benign"
        };
        text.push_str(&format!("{features},{flipped}\n"));
    }
    d.write("cancer.csv", text)
}

#[test]
fn a_table_over_the_memory_limit_is_counted_whole_and_checked_on_a_sample() {
    let d = Dir::new();
    let path = table_with_copies(&d);
    let whole = scan_json(&path, &[]);
    let streamed = scan_json(&path, &["--memory-limit", LIMIT]);
    let total = REAL_ROWS + COPIES;
    // Counts are over every row, equal to the whole scan's.
    assert_eq!(whole["samples"], total);
    assert_eq!(streamed["samples"], total);
    assert_eq!(counts(&streamed), counts(&whole));
    assert!(whole.get("sampled_rows").is_none());
    let kept = streamed["sampled_rows"].as_u64().unwrap();
    assert!(kept > 100 && kept < total, "kept {kept} of {total}");
    let guesses = streamed["guesses"].to_string();
    assert!(guesses.contains(&format!("{total} rows")), "{guesses}");
    assert!(
        guesses.contains(&format!("ran on {kept} rows")),
        "{guesses}"
    );
    let unlabeled = |ds: &serde_json::Value| finding(ds, "I007")["evidence"]["count"].clone();
    assert_eq!(unlabeled(&whole), 7);
    assert_eq!(unlabeled(&streamed), 7);
    // Column statistics cover every row: the same counts as the whole scan's.
    let n = |ds: &serde_json::Value| {
        ds["stats"]
            .to_string()
            .matches(&format!("\"count\":{total}"))
            .count()
    };
    assert!(
        n(&streamed) > 0 && n(&streamed) == n(&whole),
        "{}",
        streamed["stats"]
    );
    // Copies are sampled together: every conflicting pair found is whole, the two rows
    // of one pair (row r and row 569 + r), and every pair is one the table holds.
    // Findings of the checks that saw the sample say so; the whole scan's do not.
    let said = format!("(in a sample of {kept} rows)");
    assert!(finding(&streamed, "L001")["message"]
        .as_str()
        .unwrap()
        .ends_with(&said));
    assert_eq!(finding(&streamed, "D001")["evidence"]["sampled_rows"], kept);
    assert!(!finding(&whole, "L001")["message"]
        .as_str()
        .unwrap()
        .contains("in a sample"));
    assert!(!finding(&streamed, "I007")["message"]
        .as_str()
        .unwrap()
        .contains("in a sample"));
    let conflicts = rows(finding(&streamed, "L001"));
    assert!(!conflicts.is_empty());
    let set: BTreeSet<u64> = conflicts.iter().copied().collect();
    for &r in &set {
        let twin = if r < REAL_ROWS {
            r + REAL_ROWS
        } else {
            r - REAL_ROWS
        };
        assert!(
            r < COPIES || (REAL_ROWS..total).contains(&r),
            "row {r} is no copy"
        );
        assert!(set.contains(&twin), "row {r} without its copy {twin}");
    }
    // The whole scan finds all 60 pairs; the sample about its share of them.
    assert_eq!(rows(finding(&whole, "L001")).len() as u64, 2 * COPIES);
    let share = kept as f64 / total as f64;
    let pairs = set.len() as f64 / 2.0;
    assert!(
        (pairs - share * COPIES as f64).abs() < 12.0,
        "{pairs} pairs, share {share}"
    );
}

#[test]
fn a_streamed_scan_is_repeatable_byte_for_byte() {
    let d = Dir::new();
    let path = table_with_copies(&d);
    let run = || {
        let out = run_path(
            &path,
            &["--format", "json", "--quiet", "--memory-limit", LIMIT],
        );
        assert!(matches!(out.status.code(), Some(0) | Some(1)));
        out.stdout
    };
    assert_eq!(run(), run());
}

#[test]
fn a_ragged_row_deep_in_a_streamed_table_is_named_by_its_line() {
    let d = Dir::new();
    let mut text = String::from("a,b,label\n");
    for i in 0..20_000 {
        match i {
            15_000 => text.push_str("1,2,x,extra\n"),
            _ => text.push_str(&format!("{i},{},c{}\n", i * 7 % 13, i % 3)),
        }
    }
    let path = d.write("t.csv", text);
    let err = error_of(&run_path(&path, &["--memory-limit", "300KiB"]));
    assert!(err.contains("t.csv"), "{err}");
    assert!(
        err.contains("line 15002 has 4 fields, the header has 3"),
        "{err}"
    );
}

/// A table ordered by one column (a log sorted by time drifts the same way), of more
/// rows than a quantile sketch keeps exactly: read in blocks, every column's reported
/// quantiles are within the rank error the report states of the true quantiles, as
/// the whole read's are. (Blocks pooled with equal say put the median in the last
/// blocks read.)
#[test]
fn quantiles_of_a_table_read_in_blocks_are_within_their_stated_error() {
    let d = Dir::new();
    let (names, mut rows) = breast_cancer_features();
    rows.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let copies = 180;
    let mut text = format!("{}\n", names.join(","));
    for r in &rows {
        let line: Vec<String> = r.iter().map(|v| v.to_string()).collect();
        let line = line.join(",") + "\n";
        for _ in 0..copies {
            text.push_str(&line);
        }
    }
    let path = d.write("sorted.csv", text);
    let whole = scan_json(&path, &[]);
    let streamed = scan_json(&path, &["--memory-limit", "8MiB"]);
    assert!(
        streamed["sampled_rows"].as_u64().is_some(),
        "not read in blocks"
    );
    let n = rows.len() * copies;
    for (ds, how) in [(&whole, "whole"), (&streamed, "in blocks")] {
        let stats = ds["stats"]["columns"].as_array().unwrap();
        for (j, name) in names.iter().enumerate() {
            let c = stats.iter().find(|c| c["name"] == *name).unwrap();
            assert_eq!(c["quantiles_exact"], false, "{how} {name}");
            let err = c["quantiles_rank_error"].as_f64().unwrap();
            assert!(err > 0.0 && err < 1e-3, "{how} {name}: {err}");
            let mut column: Vec<f64> = rows.iter().map(|r| r[j]).collect();
            column.sort_by(f64::total_cmp);
            for (key, q) in [("p1", 0.01), ("p25", 0.25), ("p50", 0.5), ("p99", 0.99)] {
                let x = c["quantiles"][key].as_f64().unwrap();
                // Rank shares of the values below x and up to x (each row 180 times).
                let below = column.partition_point(|&v| v < x - 1e-9) as f64 / rows.len() as f64;
                let upto = column.partition_point(|&v| v <= x + 1e-9) as f64 / rows.len() as f64;
                let slack = err + 2.0 / n as f64;
                assert!(
                    below - slack <= q && q <= upto + slack,
                    "{how} {name} {key} = {x}: rank {below}..{upto}, stated error {err}"
                );
            }
        }
    }
}
