//! The baseline's inputs: every usable sample as a row of floats with its class and
//! its part (train, train-val, test-val, test). Images are decoded, resized to a
//! square and scaled to [0, 1]; tables are standardized with train statistics after
//! imputing non-finite values with the train median, categories one-hot.

use anyhow::{bail, Context, Result};
use dsaudit_construct::split::{self, TEST_VAL, TRAIN_VAL};
use dsaudit_construct::{Samples, NONE};
use dsaudit_core::load::Writer;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// The four parts, in the order the decomposition reads them.
pub const PARTS: [&str; 4] = ["train", TRAIN_VAL, TEST_VAL, "test"];
pub const TRAIN: u8 = 0;
pub const TRAIN_VAL_PART: u8 = 1;
pub const TEST_VAL_PART: u8 = 2;
pub const TEST: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Image { channels: usize, side: usize },
    Table,
}

#[derive(Clone)]
pub struct Data {
    pub input: Input,
    pub classes: Vec<String>,
    pub dim: usize,
    /// Row-major rows × dim.
    pub x: Vec<f32>,
    pub y: Vec<u32>,
    /// Manifest row of each data row.
    pub rows: Vec<usize>,
    pub part: Vec<u8>,
    /// Rows that held a non-finite value (imputed).
    pub imputed: Vec<bool>,
    /// Duplicate cluster of each row (NONE when it has no copy).
    pub group: Vec<u32>,
    /// What the preparation did that the user should know.
    pub notes: Vec<String>,
    /// Whether the train-val and test-val splits were made for this run.
    pub splits_made: bool,
}

impl Data {
    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Data rows of one part, ascending.
    pub fn ids(&self, part: u8) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.part[i] == part).collect()
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.dim..(i + 1) * self.dim]
    }
}

pub struct Options {
    pub side: usize,
    pub seed: u64,
}

/// Each usable manifest row's part, from the train-val and test-val splits when the
/// dataset has them, else from `dsaudit split`'s plan made here.
fn parts(s: &Samples, seed: u64, notes: &mut Vec<String>) -> Result<(Vec<Option<u8>>, bool)> {
    let mut part = vec![None; s.len()];
    let (tv, sv) = (s.split_index(TRAIN_VAL), s.split_index(TEST_VAL));
    let of_name = |name: &str| PARTS.iter().position(|p| *p == name).map(|p| p as u8);
    if tv.is_some() && sv.is_some() {
        let mut unused: BTreeMap<&str, usize> = BTreeMap::new();
        for i in s.pool(None) {
            let name = s.split_name(s.split[i as usize]).unwrap_or("(none)");
            match of_name(name) {
                Some(p) => part[i as usize] = Some(p),
                None => *unused.entry(name).or_default() += 1,
            }
        }
        for (name, n) in unused {
            notes.push(format!(
                "split '{name}' ({}) is not one of train, train-val, test-val, test: not used",
                dsaudit_core::util::count(n, "sample", "samples")
            ));
        }
        return Ok((part, false));
    }
    if tv.is_some() != sv.is_some() {
        let (has, lacks) = if tv.is_some() {
            (TRAIN_VAL, TEST_VAL)
        } else {
            (TEST_VAL, TRAIN_VAL)
        };
        bail!("the dataset has a '{has}' split but no '{lacks}' split: make both with `dsaudit split` on the original dataset");
    }
    let carve = s.split_index("test").is_none();
    let o = split::Options {
        train_val: "0.1".into(),
        test_val: "0.5".into(),
        fold_val: false,
        carve_test: carve.then(|| "0.2".into()),
        allow_unseen_classes: true,
    };
    let plan = split::plan(s, &o, seed).map_err(|e| {
        anyhow::anyhow!("too few samples to hold out train-val and test-val for this run ({e}); make the splits with `dsaudit split` and its size flags")
    })?;
    for r in &plan.rows {
        if r.action == dsaudit_construct::Action::Kept {
            if let Some(k) = r.split {
                part[r.src as usize] = of_name(&plan.splits[k as usize]);
            }
        }
    }
    notes.push(format!(
        "no train-val and test-val splits: made for this run as `dsaudit split{} --seed {seed}` would (train-val: 10% of train, test-val: 50% of test); write them once with `dsaudit split` to keep them fixed",
        if carve { " --carve-test 0.2" } else { "" }
    ));
    notes.extend(plan.notes.iter().cloned());
    Ok((part, true))
}

pub fn prepare(s: &Samples, o: &Options) -> Result<Data> {
    let mut notes = Vec::new();
    if let Writer::HfShards(_) | Writer::TarShards(_) = s.spec.layout.writer() {
        bail!(
            "the baseline does not read images inside shards ({}) yet; `dsaudit split` writes the shards, and the image-folder layout trains",
            s.spec.layout.name()
        );
    }
    if matches!(s.spec.layout.writer(), Writer::Detection(_)) {
        bail!("the baseline trains an image classifier, and a detection dataset's images have boxes, not one label; train a detector on the splits `dsaudit split` writes");
    }
    if matches!(s.spec.layout.writer(), Writer::Arrays(_)) {
        bail!("the baseline reads image folders, images with a labels file, and tables; for .npy pairs, save X as a table (one column per feature) with a label column");
    }
    let usable = s.pool(None);
    let classes: std::collections::BTreeSet<u32> =
        usable.iter().map(|&i| s.class[i as usize]).collect();
    if classes.len() == 1 {
        let only = &s.classes[*classes.iter().next().expect("one") as usize];
        bail!("every usable sample has the one class '{only}': a classifier has nothing to tell apart; the baseline needs at least two classes");
    }
    let (part, splits_made) = parts(s, o.seed, &mut notes)?;
    let rows: Vec<usize> = (0..s.len())
        .filter(|&i| part[i].is_some() && s.problem[i].is_none())
        .collect();
    let n_train = rows.iter().filter(|&&i| part[i] == Some(TRAIN)).count();
    let train_classes: std::collections::BTreeSet<u32> = rows
        .iter()
        .filter(|&&i| part[i] == Some(TRAIN))
        .map(|&i| s.class[i])
        .collect();
    if n_train < 2 {
        bail!("too few samples to train on: train has {n_train} usable (the baseline needs at least 2, and 32 for a full overfit batch)");
    }
    if train_classes.len() < 2 {
        let only = train_classes
            .iter()
            .next()
            .map(|&c| s.classes[c as usize].as_str())
            .unwrap_or("");
        bail!("train holds a single class ('{only}'): a classifier has nothing to tell apart; the baseline needs at least two classes");
    }
    let is_image = s.spec.layout.is_image();
    let (input, dim, x, imputed) = if is_image {
        images(s, &rows, o.side, &mut notes)?
    } else {
        table(s, &rows, &part, &mut notes)?
    };
    Ok(Data {
        input,
        classes: s.classes.clone(),
        dim,
        x,
        y: rows.iter().map(|&i| s.class[i]).collect(),
        part: rows.iter().map(|&i| part[i].expect("filtered")).collect(),
        group: rows.iter().map(|&i| s.group[i]).collect(),
        rows,
        imputed,
        notes,
        splits_made,
    })
}

type Prepared = (Input, usize, Vec<f32>, Vec<bool>);

fn images(s: &Samples, rows: &[usize], side: usize, notes: &mut Vec<String>) -> Result<Prepared> {
    let m = &s.loaded.manifest;
    let (w, h, modes) = (m.u32s("width"), m.u32s("height"), m.strs("mode"));
    let grey = rows
        .iter()
        .all(|&i| matches!(modes.get(i), Some("L" | "L16" | "LA" | "LA16")));
    let channels = if grey { 1 } else { 3 };
    let mut sizes: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    let mut converted: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in rows {
        *sizes
            .entry((w.get(i).unwrap_or(0), h.get(i).unwrap_or(0)))
            .or_default() += 1;
        let mode = modes.get(i).unwrap_or("?");
        let native = if grey { mode == "L" } else { mode == "RGB" };
        if !native {
            *converted.entry(mode).or_default() += 1;
        }
    }
    let sizes_shown: Vec<String> = sizes
        .iter()
        .take(4)
        .map(|((w, h), n)| format!("{w}×{h} ({n})"))
        .collect();
    match sizes.len() {
        1 if sizes.contains_key(&(side as u32, side as u32)) => {}
        1 => notes.push(format!(
            "images are {}: resized to {side}×{side}",
            sizes_shown[0].split(' ').next().unwrap_or("")
        )),
        k => notes.push(format!(
            "images come in {k} sizes ({}{}): all resized to {side}×{side}",
            sizes_shown.join(", "),
            if k > 4 { ", …" } else { "" }
        )),
    }
    if !converted.is_empty() {
        let list: Vec<String> = converted
            .iter()
            .map(|(m, n)| format!("{m} ({n})"))
            .collect();
        notes.push(format!(
            "images converted to {}: {}",
            if grey { "grey" } else { "RGB" },
            list.join(", ")
        ));
    }
    let base = dsaudit_construct::images::source_base(s)?;
    let sources = m.strs("source");
    let dim = channels * side * side;
    let decoded: Vec<Result<Vec<f32>>> = rows
        .par_iter()
        .map(|&i| {
            let path = base.join(sources.get(i).unwrap_or(""));
            let bytes = dsaudit_core::safe_read::read(&path)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            let (img, _held) = image::guess_format(&bytes)
                .and_then(|f| dsaudit_core::load::decode_budget::decode(&bytes, f))
                .with_context(|| format!("{}: cannot decode", path.display()))?;
            let img = img.resize_exact(
                side as u32,
                side as u32,
                image::imageops::FilterType::Triangle,
            );
            // Channel-major (C, H, W), as the convolutions read it.
            let mut out = vec![0f32; dim];
            if grey {
                for (k, p) in img.to_luma8().pixels().enumerate() {
                    out[k] = p.0[0] as f32 / 255.0;
                }
            } else {
                let plane = side * side;
                for (k, p) in img.to_rgb8().pixels().enumerate() {
                    for c in 0..3 {
                        out[c * plane + k] = p.0[c] as f32 / 255.0;
                    }
                }
            }
            Ok(out)
        })
        .collect();
    let mut x = Vec::with_capacity(rows.len() * dim);
    for d in decoded {
        x.extend(d?);
    }
    Ok((
        Input::Image { channels, side },
        dim,
        x,
        vec![false; rows.len()],
    ))
}

fn table(
    s: &Samples,
    rows: &[usize],
    part: &[Option<u8>],
    notes: &mut Vec<String>,
) -> Result<Prepared> {
    let Some(f) = dsaudit_core::shift::features::of(s.loaded) else {
        bail!("no feature columns to learn from");
    };
    let train: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&i| part[i] == Some(TRAIN))
        .collect();
    let v = dsaudit_core::shift::features::Vectors::fit(&f, &train);
    let dim = v.dim();
    if dim == 0 {
        bail!("no feature columns to learn from (every column is the label, the split, or constant text)");
    }
    let medians = v.medians(&f, &train);
    let (x, imputed) = v.matrix_filled(&f, rows, &medians);
    let n_imputed = imputed.iter().filter(|&&b| b).count();
    if n_imputed > 0 {
        notes.push(format!(
            "{} held missing or non-finite values: imputed with the train median of their column",
            dsaudit_core::util::count(n_imputed, "row", "rows")
        ));
    }
    let one_hot = v.names.iter().filter(|n| n.contains('=')).count();
    notes.push(format!(
        "{}: {} standardized with train statistics{}",
        dsaudit_core::util::count(dim, "input", "inputs"),
        dsaudit_core::util::count(dim - one_hot, "numeric column", "numeric columns"),
        if one_hot > 0 {
            format!(", {one_hot} one-hot category columns")
        } else {
            String::new()
        }
    ));
    Ok((
        Input::Table,
        dim,
        x.into_iter().map(|v| v as f32).collect(),
        imputed,
    ))
}

/// Whether two rows of a batch are duplicates (same cluster, or the same input
/// values) with different labels.
pub fn conflicting_pairs(d: &Data, batch: &[usize]) -> usize {
    let mut seen: BTreeMap<Vec<u32>, u32> = BTreeMap::new();
    let mut by_group: BTreeMap<u32, u32> = BTreeMap::new();
    let mut conflicts = 0;
    for &i in batch {
        let key: Vec<u32> = d.row(i).iter().map(|v| v.to_bits()).collect();
        let y = d.y[i];
        let mut clash = seen.insert(key, y).is_some_and(|prev| prev != y);
        if d.group[i] != NONE {
            clash |= by_group.insert(d.group[i], y).is_some_and(|prev| prev != y);
        }
        conflicts += clash as usize;
    }
    conflicts
}
