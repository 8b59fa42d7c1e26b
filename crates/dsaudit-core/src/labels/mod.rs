//! Noisy labels and outliers, once per scan: out-of-sample predicted probabilities
//! (cross-validated logistic regression on the feature vectors, or the user's own),
//! confident learning on them, and k-NN outlier scores. Rules L002, L003 and O001
//! read the result; the manifest gains `label_quality`, `suggested_label`,
//! `is_label_issue` and `outlier_score`.

pub mod classifier;
pub mod confident;
pub mod input;
pub mod network;
pub mod outliers;
pub mod projection;
pub mod reuse;

use crate::load::Loaded;
use confident::Method;
use rayon::prelude::*;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Options {
    pub enabled: bool,
    pub folds: usize,
    pub method: Method,
    pub seed: u64,
    /// The user's out-of-sample probabilities, instead of the built-in classifier.
    pub pred_probs: Option<PathBuf>,
    /// The user's feature vectors, instead of the compact ones.
    pub embeddings: Option<PathBuf>,
    /// Training rows per fold, at most (a seeded choice beyond); None: `fit_rows`.
    pub max_fit: Option<usize>,
    /// What gives the out-of-sample probabilities.
    pub model: Model,
    /// The build's label networks (`--label-model cnn`, `mlp`), if it has them.
    pub networks: Option<&'static dyn network::Networks>,
}

/// The model whose out-of-fold probabilities confident learning reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// The CNN for 1,000 to 20,000 images on a machine with a GPU adapter, else the
    /// linear model; the report says which and why.
    #[default]
    Auto,
    /// Multinomial logistic regression on the compact features (seconds).
    Linear,
    /// The baseline's LeNet-like CNN on the 32×32 grey images, one per fold (images
    /// only; minutes on a CPU, a GPU adapter when there is one).
    Cnn,
    /// The baseline's MLP on the feature vectors (a table's standardized columns,
    /// given embeddings, or the images' compact features), one per fold.
    Mlp,
}

impl crate::choice::Choice for Model {
    const ALL: &'static [(Model, &'static str, &'static str)] = &[
        (Model::Auto, "auto", "The CNN for 1,000 to 20,000 images on a machine with a GPU adapter, else the linear model; the report says which and why"),
        (Model::Linear, "linear", "Multinomial logistic regression on the compact features (seconds)"),
        (Model::Cnn, "cnn", "The baseline's LeNet-like CNN on the 32×32 grey images, one per fold (images only; minutes on a CPU, a GPU adapter when there is one)"),
        (Model::Mlp, "mlp", "The baseline's MLP on the feature vectors (a table's standardized columns, given embeddings, or the images' compact features), one per fold"),
    ];
}

impl Default for Options {
    fn default() -> Options {
        Options {
            enabled: false,
            folds: 5,
            method: Method::default(),
            seed: 0,
            pred_probs: None,
            embeddings: None,
            max_fit: None,
            model: Model::default(),
            networks: None,
        }
    }
}

/// Training rows per fold by default: at least this many, or `ROWS_PER_PARAMETER`
/// per parameter of the model if that is more. A linear model's probabilities settle
/// long before: on the 100,000 × 64, 10-class benchmark, 20,000 rows per fold flag
/// the same errors (precision 0.997, recall 0.982) as all 80,000 (0.997, 0.980) in
/// a third of the time; and a scan of a million rows stays in seconds.
pub const MIN_FIT: usize = 20_000;
pub const ROWS_PER_PARAMETER: usize = 30;

pub fn fit_rows(dims: usize, classes: usize) -> usize {
    MIN_FIT.max(ROWS_PER_PARAMETER * (dims + 1) * classes)
}
/// More distinct labels than this is a regression target or an id, not classes.
pub const MAX_CLASSES: usize = 200;
/// Tolerance on the sum of a row of user-given probabilities.
const SUM_TOLERANCE: f64 = 1e-3;

#[derive(Debug, Clone, Serialize)]
pub struct ClassNoise {
    pub class: String,
    pub samples: u64,
    /// Samples of this class the calibrated confident joint puts in another class.
    pub estimated_mislabeled: u64,
    pub noise_rate: f64,
    pub flagged: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Confusion {
    pub a: String,
    pub b: String,
    /// Samples labelled a that are likely b, plus those labelled b that are likely a
    /// (calibrated confident joint).
    pub samples: u64,
    /// That count over the samples of both classes.
    pub share: f64,
    /// That count over all scored samples (cleanlab's overlap measure).
    pub joint: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Labels {
    /// Why label errors were not looked for.
    pub skipped: Option<String>,
    /// Where the probabilities came from.
    pub probabilities: String,
    /// What the classifier and the outlier search read.
    pub features: String,
    pub method: Method,
    pub classes: Vec<String>,
    pub scored: usize,
    /// Samples or classes left out, and why.
    pub notes: Vec<String>,
    /// Out-of-sample accuracy of the probabilities against the given labels.
    pub accuracy: f64,
    pub thresholds: Vec<f64>,
    /// Calibrated confident joint, `[given][likely true]`, in `classes` order.
    pub confident_joint: Vec<Vec<u64>>,
    pub noise: Vec<ClassNoise>,
    pub confused_pairs: Vec<Confusion>,
    pub issues: usize,
    /// The share of the flagged samples whose label the model's own probabilities
    /// say is wrong: the mean of 1 − p(given label) over them. As good as the
    /// model's calibration (measured against the truth in docs/benchmarks.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_precision: Option<f64>,
    pub outliers: Option<outliers::Outliers>,
    pub outliers_skipped: Option<String>,
    /// Per manifest row (None: not scored).
    #[serde(skip)]
    pub quality: Vec<Option<f64>>,
    #[serde(skip)]
    pub margin: Vec<Option<f64>>,
    #[serde(skip)]
    pub suggested: Vec<Option<u32>>,
    #[serde(skip)]
    pub is_issue: Vec<Option<bool>>,
    #[serde(skip)]
    pub outlier_score: Vec<Option<f64>>,
    #[serde(skip)]
    pub is_outlier: Vec<bool>,
    /// Set when the probabilities came from models fitted by an earlier check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reused: Option<String>,
    /// What `dsaudit check` keeps for its next run.
    #[serde(skip)]
    pub fit: Option<reuse::LabelFit>,
    /// Wall time per step, for `--timings` (never in a report).
    #[serde(skip)]
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

impl Labels {
    pub fn skipped(why: impl Into<String>, n: usize) -> Labels {
        Labels {
            skipped: Some(why.into()),
            outliers_skipped: Some("not measured".into()),
            ..Labels::new(n)
        }
    }

    /// Nothing found yet, every sample unscored.
    fn new(n: usize) -> Labels {
        Labels {
            skipped: None,
            probabilities: String::new(),
            features: String::new(),
            method: Method::default(),
            classes: Vec::new(),
            scored: 0,
            notes: Vec::new(),
            accuracy: f64::NAN,
            thresholds: Vec::new(),
            confident_joint: Vec::new(),
            noise: Vec::new(),
            confused_pairs: Vec::new(),
            issues: 0,
            expected_precision: None,
            outliers: None,
            outliers_skipped: None,
            quality: vec![None; n],
            margin: vec![None; n],
            suggested: vec![None; n],
            is_issue: vec![None; n],
            outlier_score: vec![None; n],
            is_outlier: vec![false; n],
            reused: None,
            fit: None,
            timings: Vec::new(),
        }
    }

    pub fn class_name(&self, c: Option<u32>) -> Option<&str> {
        c.and_then(|c| self.classes.get(c as usize))
            .map(String::as_str)
    }

    /// Manifest rows flagged as label issues, worst (lowest quality) first.
    pub fn ranked_issues(&self) -> Vec<usize> {
        let mut rows: Vec<usize> = (0..self.is_issue.len())
            .filter(|&i| self.is_issue[i] == Some(true))
            .collect();
        rows.sort_by(|&a, &b| {
            self.quality[a]
                .unwrap_or(0.0)
                .total_cmp(&self.quality[b].unwrap_or(0.0))
                .then(a.cmp(&b))
        });
        rows
    }
}

/// Feature vectors of the usable rows: the user's embeddings, the image shape
/// descriptors, or the table's columns (numeric, top categories one-hot);
/// standardized over those rows, or with `scaler` when given. Returns (rows kept,
/// row-major vectors, dim, what, the scaler used unless the table's own).
type Vectors = (Vec<usize>, Vec<f64>, usize, String, Option<reuse::Scaler>);
fn vectors(
    loaded: &Loaded,
    usable: &[usize],
    embeddings: Option<&input::Matrix>,
    embeddings_path: Option<&std::path::Path>,
    scaler: Option<&reuse::Scaler>,
) -> Result<Vectors, String> {
    let n = loaded.manifest.len();
    let (rows, raw, d, what): (Vec<usize>, Vec<f64>, usize, String) = if let Some(e) = embeddings {
        let shown = embeddings_path
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if e.rows != n {
            return Err(format!(
                "{shown}: {} rows, but the dataset has {n} samples (rows must follow the manifest's order)",
                e.rows
            ));
        }
        let d = e.cols;
        let raw = usable
            .iter()
            .flat_map(|&i| e.values[i * d..(i + 1) * d].iter().copied())
            .collect();
        (
            usable.to_vec(),
            raw,
            d,
            format!("embeddings from {shown} ({d} dimensions)"),
        )
    } else if !loaded.shapes.is_empty() {
        let rows: Vec<usize> = usable
            .iter()
            .copied()
            .filter(|&i| loaded.shapes[i].is_some() && small_pixels(loaded, i).is_some())
            .collect();
        let d = IMAGE_FEATURES;
        let mut raw = vec![0f64; rows.len() * d];
        raw.par_chunks_mut(d).zip(&rows).for_each(|(out, &i)| {
            image_features(
                out,
                small_pixels(loaded, i).expect("filtered"),
                &loaded.shapes[i].expect("filtered"),
            )
        });
        (
            rows,
            raw,
            d,
            format!(
                "image features: the 16×16 grey image (each normalised to zero mean and unit variance) and the {}-bin shape descriptor, standardized and projected on their leading principal components",
                crate::load::perceptual::SHAPE_DIMS
            ),
        )
    } else {
        let Some(f) = crate::shift::features::of(loaded) else {
            return Err("no feature vectors for this layout".into());
        };
        let v = crate::shift::features::Vectors::fit(&f, usable);
        let d = v.dim();
        if d == 0 {
            return Err("no feature to learn from".into());
        }
        // Standardized over the usable rows already.
        return Ok((
            usable.to_vec(),
            v.matrix(&f, usable),
            d,
            format!("{d} standardized table features (numeric columns, top categories one-hot)"),
            None,
        ));
    };
    if d == 0 {
        return Err("no feature to learn from".into());
    }
    let scaler = scaler.cloned().unwrap_or_else(|| {
        if embeddings.is_none() {
            let components = projection::COMPONENTS
                .min(rows.len() / projection::ROWS_PER_COMPONENT)
                .max(2);
            reuse::Scaler::fit_projected(&raw, d, components, GREY_FEATURES)
        } else {
            reuse::Scaler::fit(&raw, d)
        }
    });
    let what = match &scaler.projection {
        Some(p) => format!(
            "{what} ({} components, {:.0}% of the variance)",
            p.outputs(),
            100.0 * p.explained.iter().sum::<f64>()
        ),
        None => what,
    };
    let d = scaler.outputs();
    Ok((rows, scaler.apply(raw), d, what, Some(scaler)))
}

/// Images `--label-model auto` trains the CNN on: at least `AUTO_MIN` (below, five
/// folds hold too few images for it: on sample_data/'s 163 it did worse than the
/// linear model), at most `AUTO_MAX` (a bound on the time; on a CPU it costs ~0.05 s
/// per image and fold, so there `auto` never picks it).
pub const AUTO_MIN: usize = 1_000;
pub const AUTO_MAX: usize = 20_000;

/// Whether `auto` trains the CNN on `images` labelled images, and why, for the report.
fn auto_picks_cnn(
    images: usize,
    own_signal: bool,
    networks: Option<&dyn network::Networks>,
) -> (bool, String) {
    let linear = |why: String| (false, format!("label model: linear ({why})"));
    if own_signal {
        return linear("auto: the given embeddings".into());
    }
    if !(AUTO_MIN..=AUTO_MAX).contains(&images) {
        return linear(format!(
            "auto: {images} labelled images, outside the {AUTO_MIN}–{AUTO_MAX} the CNN is trained on"
        ));
    }
    let Some(networks) = networks else {
        return linear("auto: this build has no label networks".into());
    };
    match networks.gpu_adapter() {
        Some(name) => (
            true,
            format!("label model: CNN (auto: {images} labelled images and a GPU adapter, {name})"),
        ),
        None => linear(
            "auto: no GPU adapter; on a CPU the CNN takes minutes (--label-model cnn)".into(),
        ),
    }
}

/// The network `model` asks for on this dataset, if any; `auto`'s choice and why
/// go in `notes`.
fn pick_network(
    model: Model,
    images: bool,
    rows: usize,
    own_signal: bool,
    networks: Option<&dyn network::Networks>,
    notes: &mut Vec<String>,
) -> Option<network::Network> {
    let cnn = network::Network::Cnn { side: CNN_SIDE };
    if networks.is_none() && matches!(model, Model::Cnn | Model::Mlp) {
        notes.push(format!(
            "{}: the probabilities come from the linear model",
            network::MISSING
        ));
        return None;
    }
    match model {
        Model::Linear => None,
        Model::Mlp => Some(network::Network::Mlp),
        Model::Cnn if images => Some(cnn),
        Model::Cnn => {
            notes.push("--label-model cnn reads images: this dataset's probabilities come from the linear model".into());
            None
        }
        Model::Auto => {
            let (pick, why) = if images {
                auto_picks_cnn(rows, own_signal, networks)
            } else {
                (false, "label model: linear (auto: a table)".to_string())
            };
            notes.push(why);
            pick.then_some(cnn)
        }
    }
}

/// Numbers per image the label model starts from: the 16×16 grey image, then the
/// shape descriptor.
pub const GREY_FEATURES: usize = 256;
pub const IMAGE_FEATURES: usize = GREY_FEATURES + crate::load::perceptual::SHAPE_DIMS;

fn small_pixels(loaded: &Loaded, i: usize) -> Option<&[u8; crate::load::perceptual::SMALL_PIXELS]> {
    loaded.smalls.get(i)?.as_ref().map(|s| &s.pixels)
}

/// Side of the grey images the label CNN reads: the 2×2 means of the 32×32 ones.
/// Four times fewer multiply-adds than at 32 (on a CPU the folds' training is the
/// whole cost of `--label-model cnn`); digits lose nothing a label needs at 16.
pub const CNN_SIDE: usize = 16;

/// The 2×2 means of the 32×32 grey image, row-major 16×16, into `out`.
fn halved(pixels: &[u8; crate::load::perceptual::SMALL_PIXELS], out: &mut [f64]) {
    let side = crate::load::perceptual::SMALL_SIDE;
    for (k, g) in out.iter_mut().enumerate().take(GREY_FEATURES) {
        let (y, x) = (k / CNN_SIDE * 2, k % CNN_SIDE * 2);
        let at = |y: usize, x: usize| pixels[y * side + x] as u16;
        *g = (at(y, x) + at(y, x + 1) + at(y + 1, x) + at(y + 1, x + 1)) as f64 / 4.0;
    }
}

/// 2×2 means of the 32×32 grey image, normalised to zero mean and unit variance
/// (all zero when flat: brightness and contrast say nothing of the class), then
/// the shape descriptor.
fn image_features(
    out: &mut [f64],
    pixels: &[u8; crate::load::perceptual::SMALL_PIXELS],
    shape: &[u8; crate::load::perceptual::SHAPE_DIMS],
) {
    let (grey, rest) = out.split_at_mut(GREY_FEATURES);
    halved(pixels, grey);
    let mean = grey.iter().sum::<f64>() / GREY_FEATURES as f64;
    let sd = (grey.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / GREY_FEATURES as f64).sqrt();
    for g in grey.iter_mut() {
        *g = if sd > 0.0 { (*g - mean) / sd } else { 0.0 };
    }
    for (r, &v) in rest.iter_mut().zip(shape) {
        *r = v as f64;
    }
}

/// The earlier check's fit, when it may stand in for a new one: same settings and
/// classes, few changes since (image datasets, built-in classifier only).
fn reusable_fit<'a>(
    loaded: &Loaded,
    usable: &[usize],
    opts: &Options,
    prior: crate::incremental::Prior<'a>,
) -> Option<(&'a reuse::LabelFit, &'a [u128], crate::incremental::Changes)> {
    let ids = prior.ids?;
    if prior.refit || opts.embeddings.is_some() || opts.pred_probs.is_some() {
        return None;
    }
    if loaded.shapes.is_empty() {
        return None;
    }
    let fit = prior.state?.labels.as_ref()?;
    if fit.scaler.mean.len() != IMAGE_FEATURES
        || fit.settings != reuse::settings(opts, fit.scaler.outputs())
    {
        return None;
    }
    let label_col = loaded.manifest.strs("label");
    let rows: Vec<usize> = usable
        .iter()
        .copied()
        .filter(|&i| {
            loaded.shapes[i].is_some()
                && small_pixels(loaded, i).is_some()
                && label_col.get(i).is_some()
        })
        .collect();
    let mut count: std::collections::BTreeMap<&str, usize> = Default::default();
    for &i in &rows {
        *count
            .entry(label_col.get(i).expect("labelled"))
            .or_insert(0) += 1;
    }
    let kept: Vec<&str> = count
        .iter()
        .filter(|(_, &n)| n >= opts.folds)
        .map(|(c, _)| *c)
        .collect();
    if kept != fit.classes.iter().map(String::as_str).collect::<Vec<_>>() {
        return None;
    }
    let changes = crate::incremental::changed(&fit.fitted, rows.iter().map(|&i| ids[i]));
    changes.reusable().then_some((fit, ids, changes))
}

/// `prior`: what an earlier `dsaudit check` fitted (see `crate::incremental`).
pub fn find(
    loaded: &Loaded,
    opts: &Options,
    outlier_params: outliers::Params,
    prior: crate::incremental::Prior,
) -> Labels {
    let m = &loaded.manifest;
    let n = m.len();
    if !opts.enabled {
        return Labels::skipped("not measured by this command", n);
    }
    let kinds = m.strs("error_kind");
    let label_col = m.strs("label");
    let usable: Vec<usize> = (0..n).filter(|&i| kinds.get(i).is_none()).collect();
    let mut out = Labels::new(n);
    out.method = opts.method;

    let embeddings = match &opts.embeddings {
        Some(p) => match input::read(p) {
            Ok(e) => Some(e),
            Err(e) => {
                let why = format!("{e:#}");
                out.skipped = Some(why.clone());
                out.outliers_skipped = Some(why);
                return out;
            }
        },
        None => None,
    };
    let mut clock = std::time::Instant::now();
    let mut lap = |out: &mut Labels, what: &'static str| {
        out.timings.push((what, clock.elapsed()));
        clock = std::time::Instant::now();
    };
    let reuse = reusable_fit(loaded, &usable, opts, prior);
    let vecs = vectors(
        loaded,
        &usable,
        embeddings.as_ref(),
        opts.embeddings.as_deref(),
        reuse.map(|(fit, _, _)| &fit.scaler),
    );
    lap(&mut out, "features");
    match &vecs {
        Ok((rows, x, d, what, _)) => {
            out.features = what.clone();
            let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let earlier = reuse
                .and_then(|(fit, ids, _)| Some((fit.outliers.as_ref()?, ids)))
                .filter(|(o, _)| o.k == outlier_params.k);
            let found = match earlier {
                Some((o, ids)) => {
                    let known: Vec<Option<f64>> = rows.iter().map(|&i| o.mean_of(ids[i])).collect();
                    outliers::score_known(&xf, *d, o.points.clone(), &known, outlier_params)
                }
                None => outliers::score(&xf, *d, outlier_params, opts.seed),
            };
            match found {
                Some(o) => {
                    for (pos, &i) in rows.iter().enumerate() {
                        out.outlier_score[i] = Some(o.score[pos]);
                        out.is_outlier[i] = o.is_outlier[pos];
                    }
                    out.outliers = Some(o);
                }
                None => {
                    out.outliers_skipped = Some(format!(
                        "fewer than {} samples with features",
                        outlier_params.k + 2
                    ))
                }
            }
        }
        Err(why) => out.outliers_skipped = Some(why.clone()),
    }
    lap(&mut out, "outliers");

    // Classes: every label among the usable samples, sorted.
    let mut classes: Vec<String> = usable
        .iter()
        .filter_map(|&i| label_col.get(i).map(str::to_string))
        .collect();
    classes.sort();
    classes.dedup();
    if classes.len() > MAX_CLASSES {
        out.skipped = Some(format!(
            "{} distinct labels: not a classification target",
            classes.len()
        ));
        return out;
    }
    if classes.len() < 2 {
        out.skipped = Some(match classes.len() {
            0 => "no labeled sample".to_string(),
            _ => format!(
                "a single class ('{}'): nothing to confuse it with",
                classes[0]
            ),
        });
        return out;
    }
    let index: std::collections::HashMap<&str, u32> = classes
        .iter()
        .enumerate()
        .map(|(j, c)| (c.as_str(), j as u32))
        .collect();
    let class_of = |i: usize| label_col.get(i).map(|l| index[l]);

    let (rows, probs, k) = match &opts.pred_probs {
        Some(path) => match user_probs(path, n, &classes, &usable, &class_of) {
            Ok((rows, probs)) => {
                out.probabilities = format!("{} (given)", path.display());
                (rows, probs, classes.len())
            }
            Err(why) => {
                out.skipped = Some(why);
                out.classes = classes;
                return out;
            }
        },
        None => {
            let (rows, x, d, scaler) = match &vecs {
                Ok((rows, x, d, _, scaler)) => (rows, x, *d, scaler),
                Err(why) => {
                    out.skipped = Some(why.clone());
                    return out;
                }
            };
            // Classes with fewer samples than folds cannot be cross-validated.
            let mut count = vec![0usize; classes.len()];
            for &i in rows {
                if let Some(c) = class_of(i) {
                    count[c as usize] += 1;
                }
            }
            let kept: Vec<usize> = (0..classes.len())
                .filter(|&c| count[c] >= opts.folds)
                .collect();
            for c in (0..classes.len()).filter(|&c| count[c] > 0 && count[c] < opts.folds) {
                out.notes.push(format!(
                    "class '{}' has {} {}, fewer than the {} folds: not scored",
                    classes[c],
                    count[c],
                    if count[c] == 1 { "sample" } else { "samples" },
                    opts.folds
                ));
            }
            let unlabeled = rows.iter().filter(|&&i| class_of(i).is_none()).count();
            if unlabeled > 0 {
                out.notes.push(format!(
                    "{} unlabeled {} not scored",
                    unlabeled,
                    if unlabeled == 1 { "sample" } else { "samples" }
                ));
            }
            let without = usable.len() - rows.len();
            if without > 0 {
                out.notes.push(format!(
                    "{without} readable {} without features (too small to describe) not scored",
                    if without == 1 { "sample" } else { "samples" }
                ));
            }
            if kept.len() < 2 {
                out.skipped = Some(format!(
                    "fewer than 2 classes with at least {} samples (one per fold)",
                    opts.folds
                ));
                out.classes = classes;
                return out;
            }
            // Re-index the kept classes 0..k for the model.
            let mut remap = vec![None; classes.len()];
            for (new, &old) in kept.iter().enumerate() {
                remap[old] = Some(new);
            }
            let picked: Vec<(usize, usize)> = rows
                .iter()
                .enumerate()
                .filter_map(|(pos, &i)| {
                    class_of(i)
                        .and_then(|c| remap[c as usize])
                        .map(|c| (pos, c))
                })
                .collect();
            let xs: Vec<f64> = picked
                .iter()
                .flat_map(|&(pos, _)| x[pos * d..(pos + 1) * d].iter().copied())
                .collect();
            let ys: Vec<usize> = picked.iter().map(|&(_, c)| c).collect();
            let classes_kept: Vec<String> = kept.iter().map(|&c| classes[c].clone()).collect();
            let scored_rows: Vec<usize> = picked.iter().map(|&(pos, _)| rows[pos]).collect();
            let network = pick_network(
                opts.model,
                !loaded.shapes.is_empty(),
                scored_rows.len(),
                opts.embeddings.is_some(),
                opts.networks,
                &mut out.notes,
            );
            // What a network reads of a scored sample (`pos` in `picked`).
            let input = |net: network::Network, pos: usize| -> Vec<f32> {
                match net {
                    network::Network::Cnn { .. } => {
                        let mut grey = [0f64; GREY_FEATURES];
                        halved(
                            small_pixels(loaded, scored_rows[pos])
                                .expect("scored images have pixels"),
                            &mut grey,
                        );
                        grey.iter().map(|&v| (v / 255.0) as f32).collect()
                    }
                    network::Network::Mlp => xs[pos * d..(pos + 1) * d]
                        .iter()
                        .map(|&v| v as f32)
                        .collect(),
                }
            };
            let earlier = reuse.filter(|(fit, _, _)| fit.models.network() == network);
            let p = if let Some((fit, ids, changes)) = earlier {
                // Nothing changed: the numbers are those a fit gives, nothing to say.
                out.reused = (changes.count() > 0).then(|| changes.note());
                out.probabilities = fit.description.clone();
                out.fit = Some(fit.clone());
                let scored: Vec<u128> = scored_rows.iter().map(|&i| ids[i]).collect();
                // A linear fit reads `xs`; a network's reads the network's input.
                let read = |pos| network.map_or_else(Vec::new, |net| input(net, pos));
                match fit.probabilities(&scored, &xs, d, read, opts.networks) {
                    Ok(p) => p,
                    Err(why) => {
                        out.skipped = Some(why);
                        return out;
                    }
                }
            } else {
                let fold = classifier::stratified_folds(&ys, kept.len(), opts.folds, opts.seed);
                // The linear model's probabilities, alone or averaged with a network's
                // on the same folds: on real digits and tables the pair flags label
                // errors better than the network alone (docs/benchmarks.md).
                let linear = classifier::cross_validate(
                    &xs,
                    d,
                    &ys,
                    kept.len(),
                    &fold,
                    opts.folds,
                    opts.max_fit.unwrap_or(fit_rows(d, kept.len())),
                    opts.seed,
                );
                let trained = linear.and_then(|(linear, linear_models)| match network {
                    None => Ok((
                        linear,
                        Some(reuse::FoldModels::Linear(linear_models)),
                        classifier::description(opts.folds),
                    )),
                    Some(net) => {
                        let dim = input(net, 0).len();
                        let t = opts.networks.ok_or(network::MISSING)?.probabilities(
                            net,
                            (0..ys.len()).flat_map(|pos| input(net, pos)).collect(),
                            dim,
                            &ys,
                            kept.len(),
                            &fold,
                            opts.folds,
                            opts.seed,
                        )?;
                        let p = t
                            .probabilities
                            .iter()
                            .zip(&linear)
                            .map(|(a, b)| (a + b) / 2.0)
                            .collect();
                        // A network whose parameters could not be written is not kept.
                        let models = (!t.folds.iter().any(Vec::is_empty)).then(|| {
                            reuse::FoldModels::Network {
                                network: net,
                                folds: t
                                    .folds
                                    .into_iter()
                                    .map(serde_bytes::ByteBuf::from)
                                    .collect(),
                                linear: linear_models,
                            }
                        });
                        let what = format!(
                            "{}; averaged with the linear model's ({})",
                            t.what,
                            classifier::description(opts.folds)
                        );
                        Ok((p, models, what))
                    }
                });
                let (p, models, what) = match trained {
                    Ok(t) => t,
                    Err(why) => {
                        out.skipped = Some(why);
                        return out;
                    }
                };
                out.probabilities = what.clone();
                // Kept for a later check, where samples have identities.
                if let (Some(ids), Some(scaler), Some(models), false) = (
                    prior.ids,
                    scaler,
                    models,
                    opts.embeddings.is_some() || loaded.shapes.is_empty(),
                ) {
                    let fitted: Vec<u128> = rows
                        .iter()
                        .filter(|&&i| label_col.get(i).is_some())
                        .map(|&i| ids[i])
                        .collect();
                    let scored: Vec<u128> = scored_rows.iter().map(|&i| ids[i]).collect();
                    let with_features: Vec<u128> = rows.iter().map(|&i| ids[i]).collect();
                    let outliers = out
                        .outliers
                        .as_ref()
                        .map(|o| reuse::OutlierFit::new(o, &with_features));
                    out.fit = Some(reuse::LabelFit::new(
                        outliers,
                        reuse::settings(opts, d),
                        classes_kept.clone(),
                        scaler.clone(),
                        models,
                        what,
                        fitted,
                        &scored,
                        &p,
                    ));
                }
                p
            };
            classes = classes_kept;
            (scored_rows, p, classes.len())
        }
    };
    let index: std::collections::HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(j, c)| (c.as_str(), j))
        .collect();
    let labels: Vec<usize> = rows
        .iter()
        .map(|&i| index[label_col.get(i).expect("scored rows are labeled")])
        .collect();
    lap(&mut out, "probabilities");
    let mut found = confident::find(&probs, k, &labels, opts.method);
    confident::cap_by_noise(&mut found.is_issue, &probs, k, &labels, &found.calibrated);
    let correct = rows
        .iter()
        .enumerate()
        .filter(|&(pos, _)| confident::argmax(&probs[pos * k..(pos + 1) * k]) == labels[pos])
        .count();
    // A model no better than always answering the commonest class has learned
    // nothing from the features (identical pictures, columns without signal): where
    // it disagrees with a label says nothing about the label, so nothing is listed.
    let mut per_class = vec![0usize; k];
    labels.iter().for_each(|&l| per_class[l] += 1);
    let commonest = per_class.iter().copied().max().unwrap_or(0);
    if !rows.is_empty() && correct <= commonest {
        let common = (0..k).find(|&c| per_class[c] == commonest).unwrap_or(0);
        out.notes.push(format!(
            "the label model did no better than always answering '{}' (out-of-sample accuracy {} against {}): its disagreements with the labels say nothing, so no sample is flagged; bring features that tell the classes apart with --embeddings",
            classes[common],
            crate::util::round4(correct as f64 / rows.len() as f64),
            crate::util::round4(commonest as f64 / rows.len() as f64),
        ));
        found.is_issue.iter_mut().for_each(|f| *f = false);
        // Nor does its confusion: every class's count back on its own label.
        for (c, row) in found.calibrated.chunks_mut(k).enumerate() {
            let sum: u64 = row.iter().sum();
            row.iter_mut().for_each(|v| *v = 0);
            row[c] = sum;
        }
    }
    for (pos, &i) in rows.iter().enumerate() {
        let p = &probs[pos * k..(pos + 1) * k];
        let given = labels[pos];
        out.quality[i] = Some(confident::self_confidence(p, given));
        out.margin[i] = Some(confident::normalized_margin(p, given));
        out.suggested[i] = Some(confident::argmax(p) as u32);
        out.is_issue[i] = Some(found.is_issue[pos]);
    }
    out.scored = rows.len();
    out.accuracy = crate::util::round4(correct as f64 / rows.len().max(1) as f64);
    out.issues = found.is_issue.iter().filter(|&&f| f).count();
    if out.issues > 0 {
        let doubt: f64 = (0..rows.len())
            .filter(|&pos| found.is_issue[pos])
            .map(|pos| 1.0 - probs[pos * k + labels[pos]])
            .sum();
        out.expected_precision = Some(crate::util::round4(doubt / out.issues as f64));
    }
    let cal = &found.calibrated;
    let mut counts = vec![0u64; k];
    let mut flagged = vec![0u64; k];
    for (pos, &l) in labels.iter().enumerate() {
        counts[l] += 1;
        flagged[l] += found.is_issue[pos] as u64;
    }
    out.noise = (0..k)
        .map(|c| {
            let row: u64 = cal[c * k..(c + 1) * k].iter().sum();
            let off = row - cal[c * k + c];
            ClassNoise {
                class: classes[c].clone(),
                samples: counts[c],
                estimated_mislabeled: off,
                noise_rate: crate::util::round4(off as f64 / row.max(1) as f64),
                flagged: flagged[c],
            }
        })
        .collect();
    let total = rows.len().max(1) as f64;
    let mut pairs = Vec::new();
    for a in 0..k {
        for b in a + 1..k {
            let s = cal[a * k + b] + cal[b * k + a];
            if s > 0 {
                pairs.push(Confusion {
                    a: classes[a].clone(),
                    b: classes[b].clone(),
                    samples: s,
                    share: crate::util::round4(s as f64 / (counts[a] + counts[b]).max(1) as f64),
                    joint: crate::util::round4(s as f64 / total),
                });
            }
        }
    }
    pairs.sort_by(|x, y| {
        y.samples
            .cmp(&x.samples)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    out.confused_pairs = pairs;
    out.thresholds = found
        .thresholds
        .iter()
        .map(|&t| crate::util::round4(t))
        .collect();
    out.confident_joint = cal.chunks(k).map(|r| r.to_vec()).collect();
    out.classes = classes;
    lap(&mut out, "confident learning");
    out
}

/// The user's probabilities for the usable labeled rows, in `classes` order:
/// columns named after the classes are matched by name, otherwise taken in the
/// sorted class order. Every row checked: finite, non-negative, summing to 1.
fn user_probs(
    path: &std::path::Path,
    n: usize,
    classes: &[String],
    usable: &[usize],
    class_of: &dyn Fn(usize) -> Option<u32>,
) -> Result<(Vec<usize>, Vec<f64>), String> {
    let shown = path.display();
    let m = input::read(path).map_err(|e| format!("{e:#}"))?;
    if m.rows != n {
        return Err(format!(
            "{shown}: {} rows, but the dataset has {n} samples (rows must follow the manifest's order)",
            m.rows
        ));
    }
    let k = classes.len();
    let order: Vec<usize> = match &m.names {
        Some(names) if classes.iter().all(|c| names.contains(c)) => classes
            .iter()
            .map(|c| names.iter().position(|x| x == c).expect("checked"))
            .collect(),
        _ if m.cols == k => (0..k).collect(),
        _ => {
            return Err(format!(
                "{shown}: {} columns, but the dataset has {k} classes ({}); name the columns after the classes or give one per class in sorted order",
                m.cols,
                classes.join(", ")
            ))
        }
    };
    let rows: Vec<usize> = usable
        .iter()
        .copied()
        .filter(|&i| class_of(i).is_some())
        .collect();
    let mut probs = Vec::with_capacity(rows.len() * k);
    for &i in &rows {
        let row: Vec<f64> = order.iter().map(|&j| m.values[i * m.cols + j]).collect();
        if let Some(v) = row.iter().find(|v| !v.is_finite() || **v < 0.0) {
            return Err(format!("{shown}: row {i} holds {v}, not a probability"));
        }
        let sum: f64 = row.iter().sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(format!(
                "{shown}: row {i} sums to {}, not 1 (probabilities per class expected, e.g. a softmax)",
                crate::util::round4(sum)
            ));
        }
        probs.extend(row);
    }
    Ok((rows, probs))
}
