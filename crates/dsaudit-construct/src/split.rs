//! `dsaudit split`: hold out train-val from train and test-val from test, stratified
//! by label and keeping duplicate clusters whole, so that train-val error − train
//! error measures variance and test-val error − train-val error distribution shift.

use super::select::{apportion, holdout};
use super::{parse_size, rng, Plan, Samples};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Deserialized too: the Python package passes a build's options as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// How much of train to hold out as train-val: a fraction (0.1) or a count (500).
    pub train_val: String,
    /// How much of test to hold out as test-val: a fraction or a count.
    pub test_val: String,
    /// Fold an existing val split into train before holding out (default: keep it as val).
    pub fold_val: bool,
    /// When there is no test split, carve one out of train first (a fraction or a count).
    pub carve_test: Option<String>,
    /// Go on when test holds classes that train lacks (default: refuse).
    pub allow_unseen_classes: bool,
}

pub const TRAIN_VAL: &str = "train-val";
pub const TEST_VAL: &str = "test-val";

pub fn plan(s: &Samples, o: &Options, seed: u64) -> Result<Plan> {
    let mut plan = Plan::new("split");
    plan.options = serde_json::to_value(o)?;
    for taken in [TRAIN_VAL, TEST_VAL] {
        if s.split_index(taken).is_some() {
            bail!("the dataset already has a '{taken}' split: split the original dataset, not a split one");
        }
    }
    let unsplit = s.splits.iter().all(Option::is_none);
    let (train, test, val) = (
        s.split_index("train"),
        s.split_index("test"),
        s.split_index("val"),
    );
    let names: Vec<&str> = s.splits.iter().flatten().map(String::as_str).collect();
    if !unsplit && train.is_none() {
        bail!(
            "no train split to hold train-val out of (splits: {})",
            names.join(", ")
        );
    }
    plan.drop_unusable(s);
    let mut train_pool = if unsplit { s.pool(None) } else { s.pool(train) };
    if !unsplit {
        // Samples with no split value in a split dataset belong to no pool.
        for i in s.pool(None) {
            if s.split_name(s.split[i as usize]).is_none() {
                plan.drop(i, "no-split", "no split value in a split dataset".into());
            }
        }
    }
    if o.fold_val {
        if let Some(v) = val {
            train_pool.extend(s.pool(Some(v)));
            train_pool.sort_unstable();
        }
    }
    let test_pool = match (test, &o.carve_test) {
        (Some(_), Some(_)) => bail!("--carve-test: the dataset already has a test split"),
        (Some(t), None) => s.pool(Some(t)),
        (None, Some(size)) => {
            let from = s.shown(train);
            let n = parse_size("--carve-test", size, train_pool.len() as u64)?;
            let chosen = hold(
                s,
                &mut plan,
                &train_pool,
                n,
                "--carve-test",
                &from,
                "test",
                seed,
            )?;
            train_pool.retain(|i| chosen.binary_search(i).is_err());
            chosen
        }
        (None, None) => bail!(
            "no test split ({}): pass --carve-test 0.2 to carve one out of train first",
            if unsplit {
                "the dataset is not split".to_string()
            } else {
                format!("splits: {}", names.join(", "))
            }
        ),
    };
    let (train_counts, test_counts) = (s.counts(&train_pool), s.counts(&test_pool));
    let unseen: Vec<&str> = (0..s.classes.len())
        .filter(|&c| test_counts[c] > 0 && train_counts[c] == 0)
        .map(|c| s.classes[c].as_str())
        .collect();
    if !unseen.is_empty() {
        let list = unseen.join(", ");
        if !o.allow_unseen_classes {
            bail!("test has classes that train lacks ({list}): a model cannot learn them; fix the data or pass --allow-unseen-classes");
        }
        plan.notes
            .push(format!("test has classes that train lacks: {list}"));
    }
    let n_train = parse_size("--train-val", &o.train_val, train_pool.len() as u64)?;
    let train_val = hold(
        s,
        &mut plan,
        &train_pool,
        n_train,
        "--train-val",
        "train",
        TRAIN_VAL,
        seed,
    )?;
    let n_test = parse_size("--test-val", &o.test_val, test_pool.len() as u64)?;
    let test_val = hold(
        s,
        &mut plan,
        &test_pool,
        n_test,
        "--test-val",
        "test",
        TEST_VAL,
        seed,
    )?;
    let from_carve = o.carve_test.is_some();
    for (pool, held, rest, held_name) in [
        (&train_pool, &train_val, "train", TRAIN_VAL),
        (&test_pool, &test_val, "test", TEST_VAL),
    ] {
        let (held_split, rest_split) = (plan.split(held_name), plan.split(rest));
        // Per input split, what a sample moved from it says: a few splits, a million rows.
        let moved: Vec<String> = s
            .splits
            .iter()
            .map(|name| match name.as_deref().unwrap_or("no split") {
                was if was != rest => format!("from {was}"),
                _ => String::new(),
            })
            .collect();
        let reason = if rest == "test" && from_carve {
            "carved-test"
        } else {
            "kept"
        };
        let mut is_held = vec![false; s.len()];
        for &i in held {
            is_held[i as usize] = true;
        }
        for &i in pool.iter() {
            if is_held[i as usize] {
                plan.keep(i, Some(held_split), "held-out");
            } else {
                plan.keep(i, Some(rest_split), reason);
            }
            let from = &moved[s.split[i as usize] as usize];
            if !from.is_empty() {
                plan.rows.last_mut().expect("just pushed").detail = from.clone();
            }
        }
    }
    // Every other split (val unless folded, custom ones) is passed through as it is.
    for (k, name) in s.splits.iter().enumerate() {
        let k = k as u32;
        let taken =
            Some(k) == train || Some(k) == test || (o.fold_val && Some(k) == val) || name.is_none();
        if !taken {
            for i in s.pool(Some(k)) {
                let out = plan.same_split(s, i);
                plan.keep(i, out, "kept");
            }
        }
    }
    note_leaks(s, &mut plan);
    Ok(plan)
}

/// Holds `n` samples of `pool` out (stratified, clusters whole), noting what could
/// not be stratified. Refuses sizes that would empty the pool.
#[allow(clippy::too_many_arguments)]
fn hold(
    s: &Samples,
    plan: &mut Plan,
    pool: &[u32],
    n: u64,
    flag: &str,
    from: &str,
    into: &str,
    seed: u64,
) -> Result<Vec<u32>> {
    let size = pool.len() as u64;
    if n == 0 {
        return Ok(Vec::new());
    }
    if n >= size {
        bail!("{flag}: {n} samples requested, but {from} has {size}: nothing would be left in it");
    }
    let counts = s.counts(pool);
    let weights: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    let mut quota = apportion(n, &weights);
    for (c, q) in quota.iter_mut().enumerate() {
        let (have, name) = (counts[c], &s.classes[c]);
        if have == 1 {
            // One sample cannot be on both sides: it stays where it was.
            *q = 0;
            plan.notes.push(format!(
                "class '{name}' has 1 sample in {from}: it cannot be stratified and stays in {from}, so {into} lacks it"
            ));
        } else if have > 1 && *q >= have {
            *q = have - 1;
            plan.notes.push(format!(
                "class '{name}' has {have} samples in {from}: {} go to {into} and 1 stays in {from}",
                have - 1
            ));
        }
    }
    let mut r = rng(seed, &format!("split\0{into}"));
    let (chosen, short) = holdout(s, pool, &quota, &mut r);
    for (c, &k) in short.iter().enumerate() {
        if k > 0 {
            plan.notes.push(format!(
                "{into}: {k} fewer '{}' than stratified: the rest of the class in {from} sits in duplicate clusters too large to move whole",
                s.classes[c]
            ));
        }
    }
    Ok(chosen)
}

/// Clusters the input already splits (leaks) stay as they are; say so.
fn note_leaks(s: &Samples, plan: &mut Plan) {
    let mut splits_of: std::collections::HashMap<u32, std::collections::BTreeSet<u16>> =
        Default::default();
    for r in plan.rows.iter().filter(|r| r.action.is_output()) {
        let g = s.group[r.src as usize];
        if g != super::NONE {
            if let Some(sp) = r.split {
                splits_of.entry(g).or_default().insert(sp);
            }
        }
    }
    let spanning = splits_of.values().filter(|v| v.len() > 1).count();
    if spanning > 0 {
        plan.notes.push(if spanning == 1 {
            "the input has 1 duplicate cluster spanning two splits (leakage), left as it is: run `dsaudit clean` first to drop the leaking copies".to_string()
        } else {
            format!("the input has {spanning} duplicate clusters spanning two splits (leakage), left as they are: run `dsaudit clean` first to drop the leaking copies")
        });
    }
}
