//! Noisy labels and outliers, once per scan: out-of-sample predicted probabilities
//! (cross-validated logistic regression on the feature vectors, or the user's own),
//! confident learning on them, and k-NN outlier scores. Rules L002, L003 and O001
//! read the result; the manifest gains `label_quality`, `suggested_label`,
//! `is_label_issue` and `outlier_score`.

pub mod classifier;
pub mod confident;
mod features;
pub mod input;
mod learn;
pub mod network;
pub mod outliers;
pub mod projection;
pub mod reuse;
mod search;
mod training;

use features::{halved, small_pixels, vectors, Vectors};
pub use features::{CNN_SIDE, GREY_FEATURES, IMAGE_FEATURES};
use input::user_probs;
pub use search::find;

use crate::load::Loaded;
use confident::Method;
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
        let mut out = Labels::without_rows();
        out.size_rows(n);
        out
    }

    /// Nothing found yet, and no per-sample column yet (`size_rows` gives them).
    fn without_rows() -> Labels {
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
            quality: Vec::new(),
            margin: Vec::new(),
            suggested: Vec::new(),
            is_issue: Vec::new(),
            outlier_score: Vec::new(),
            is_outlier: Vec::new(),
            reused: None,
            fit: None,
            timings: Vec::new(),
        }
    }

    /// The per-sample columns for `n` samples, every sample unscored.
    fn size_rows(&mut self, n: usize) {
        self.quality = vec![None; n];
        self.margin = vec![None; n];
        self.suggested = vec![None; n];
        self.is_issue = vec![None; n];
        self.outlier_score = vec![None; n];
        self.is_outlier = vec![false; n];
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

/// The earlier check's fit, when it may stand in for a new one: same settings and
/// classes, few changes since (image datasets, built-in classifier only).
fn reusable_fit<'a>(
    loaded: &Loaded,
    usable: &[usize],
    opts: &Options,
    prior: crate::identity::Prior<'a, reuse::LabelFit>,
) -> Option<(&'a reuse::LabelFit, &'a [u128], crate::identity::Changes)> {
    let ids = prior.ids?;
    if prior.refit || opts.embeddings.is_some() || opts.pred_probs.is_some() {
        return None;
    }
    if loaded.shapes.is_empty() {
        return None;
    }
    let fit = prior.state?;
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
    let changes = crate::identity::changed(&fit.fitted, rows.iter().map(|&i| ids[i]));
    changes.reusable().then_some((fit, ids, changes))
}
