//! `dsaudit baseline`: the fastest proof that a dataset can be learned. A standard
//! small network (CNN for images, MLP for tables) first overfits one batch, and the
//! loss curve is read when it cannot; then it trains on train with early stopping
//! on train-val, and its errors on train, train-val, test-val and test are taken
//! apart into bias, variance, distribution shift and validation overfitting.

pub mod artifacts;
pub mod data;
pub mod decompose;
pub mod device;
pub mod diagnose;
pub mod label_network;
pub mod model;
pub mod train;
pub mod tune;

// The examples and benchmarks reach burn through this crate, so that a scan-only
// build of the workspace compiles none of it.
pub use burn;

use anyhow::Result;
use data::{Data, Input};
use model::Net;
use serde::Serialize;

/// Adam's learning rate when not tuned.
pub const LEARNING_RATE: f64 = 3e-4;
/// The overfit phase passes when the batch loss falls below this (and every sample
/// of the batch is predicted right).
pub const TARGET_LOSS: f64 = 0.01;

#[derive(Debug, Clone, Serialize)]
pub struct Options {
    pub device: device::Choice,
    pub overfit_only: bool,
    pub lr: f64,
    pub tune: bool,
    pub tune_steps: usize,
    pub batch: usize,
    pub max_epochs: usize,
    pub patience: usize,
    pub overfit_batch: usize,
    pub overfit_steps: usize,
    pub target_loss: f64,
    pub image_size: usize,
    pub human_error: f64,
    pub seed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sizes {
    pub train: usize,
    #[serde(rename = "train-val")]
    pub train_val: usize,
    #[serde(rename = "test-val")]
    pub test_val: usize,
    pub test: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Training {
    pub lr: f64,
    pub batch_size: usize,
    pub max_epochs: usize,
    pub patience: usize,
    pub epochs: Vec<train::Epoch>,
    pub best_epoch: usize,
    pub stopped_early: bool,
}

/// Everything a baseline run found; metrics.json is this, serialized.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub dataset: String,
    pub backend: &'static str,
    pub adapter: String,
    pub adapters: Vec<device::Adapter>,
    pub device_note: Option<String>,
    pub model: String,
    pub input: String,
    pub classes: Vec<String>,
    pub sizes: Sizes,
    pub splits_made: bool,
    pub notes: Vec<String>,
    pub seed: u64,
    pub overfit: train::Overfit,
    pub tuning: Option<Vec<tune::Trial>>,
    pub training: Option<Training>,
    pub errors: Option<decompose::Errors>,
    pub decomposition: Option<decompose::Decomposition>,
    pub advice: Vec<String>,
    /// Penultimate-layer rows per sample, when written.
    #[serde(skip)]
    pub embeddings: Option<(Vec<f32>, usize)>,
    /// Wall times, for stderr only: the report itself is byte-identical run to run.
    #[serde(skip)]
    pub timings: Vec<(&'static str, f64)>,
    #[serde(skip)]
    pub steps_per_second: Option<f64>,
}

/// Runs the baseline on prepared data with the chosen device.
pub fn run(
    d: &Data,
    chosen: &device::Chosen,
    o: &Options,
    dataset: &str,
    want_embeddings: bool,
    quiet: bool,
) -> Result<Report> {
    let classes = d.classes.len();
    match d.input {
        Input::Image { channels, side } => run_with(
            d,
            chosen,
            o,
            dataset,
            want_embeddings,
            quiet,
            model::describe_cnn(channels, side),
            format!("images resized to {channels}×{side}×{side}, scaled to [0, 1]"),
            |dev| model::Cnn::new(channels, side, classes, dev),
        ),
        Input::Table => run_with(
            d,
            chosen,
            o,
            dataset,
            want_embeddings,
            quiet,
            model::describe_mlp(d.dim),
            format!(
                "{} table features, standardized with train statistics",
                d.dim
            ),
            |dev| model::Mlp::new(d.dim, classes, dev),
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn run_with<M: Net>(
    d: &Data,
    chosen: &device::Chosen,
    o: &Options,
    dataset: &str,
    want_embeddings: bool,
    quiet: bool,
    model_name: String,
    input: String,
    make: impl Fn(&burn::prelude::Device) -> M,
) -> Result<Report> {
    let device = chosen.device.clone().autodiff();
    let fresh = || {
        device.seed(o.seed);
        make(&device)
    };
    let mut timings = Vec::new();
    let mut notes = d.notes.clone();
    let batch_ids = train::overfit_batch(d, o.overfit_batch, o.seed);
    if batch_ids.len() < o.overfit_batch {
        notes.push(format!(
            "train has {} usable samples: the overfit batch holds {} instead of {}",
            d.ids(data::TRAIN).len(),
            batch_ids.len(),
            o.overfit_batch
        ));
    }
    let start = std::time::Instant::now();
    let overfit = train::overfit(
        fresh(),
        d,
        &batch_ids,
        &device,
        o.lr,
        o.overfit_steps,
        o.target_loss,
    );
    timings.push(("overfit", start.elapsed().as_secs_f64()));
    let sizes = Sizes {
        train: d.ids(data::TRAIN).len(),
        train_val: d.ids(data::TRAIN_VAL_PART).len(),
        test_val: d.ids(data::TEST_VAL_PART).len(),
        test: d.ids(data::TEST).len(),
    };
    let mut report = Report {
        dataset: dataset.to_string(),
        backend: chosen.backend,
        adapter: chosen.adapter.clone(),
        adapters: chosen.adapters.clone(),
        device_note: chosen.note.clone(),
        model: model_name,
        input,
        classes: d.classes.clone(),
        sizes,
        splits_made: d.splits_made,
        notes,
        seed: o.seed,
        overfit,
        tuning: None,
        training: None,
        errors: None,
        decomposition: None,
        advice: Vec::new(),
        embeddings: None,
        timings,
        steps_per_second: None,
    };
    if o.overfit_only {
        return Ok(report);
    }
    let mut lr = o.lr;
    if o.tune {
        let start = std::time::Instant::now();
        let (best, trials) = tune::search(o.seed, |lr| {
            let e = train::short_run(fresh(), d, lr, o.tune_steps, o.batch, o.seed, &device);
            (e.loss, e.error)
        });
        lr = best;
        report.tuning = Some(trials);
        report.timings.push(("tune", start.elapsed().as_secs_f64()));
    }
    let settings = train::Settings {
        lr,
        batch: o.batch,
        max_epochs: o.max_epochs,
        patience: o.patience,
        seed: o.seed,
    };
    let start = std::time::Instant::now();
    let bar = epoch_bar(o.max_epochs as u64, quiet);
    let fit = train::fit(fresh(), d, &settings, &device, |e| {
        bar.set_message(format!(
            "loss {:.4} · train-val {:.4}",
            e.train_loss, e.train_val_loss
        ));
        bar.inc(1);
    });
    bar.finish_and_clear();
    report
        .timings
        .push(("train", start.elapsed().as_secs_f64()));
    report.steps_per_second = Some(fit.steps_per_second);
    let eval = |part| train::evaluate(&fit.model, d, &d.ids(part), &device);
    let parts = [
        eval(data::TRAIN),
        eval(data::TRAIN_VAL_PART),
        eval(data::TEST_VAL_PART),
        eval(data::TEST),
    ];
    let errors = decompose::Errors {
        train: parts[0].error,
        train_val: parts[1].error,
        test_val: parts[2].error,
        test: parts[3].error,
        sizes: [parts[0].n, parts[1].n, parts[2].n, parts[3].n],
    };
    let dec = decompose::decompose(&errors, o.human_error);
    report.advice = decompose::advice(&dec);
    report.errors = Some(errors);
    report.decomposition = Some(dec);
    report.training = Some(Training {
        lr,
        batch_size: o.batch,
        max_epochs: o.max_epochs,
        patience: o.patience,
        epochs: fit.epochs.clone(),
        best_epoch: fit.best_epoch,
        stopped_early: fit.stopped_early,
    });
    if want_embeddings {
        let all: Vec<usize> = (0..d.len()).collect();
        report.embeddings = Some(train::embed(&fit.model, d, &all, &device));
    }
    Ok(report)
}

fn epoch_bar(epochs: u64, quiet: bool) -> indicatif::ProgressBar {
    let bar = dsaudit_core::progress::bar(epochs, quiet, "epoch");
    bar.set_style(
        indicatif::ProgressStyle::with_template("epoch {pos}/{len} [{bar:30}] {msg} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", 100.0 * x)
    } else {
        "–".into()
    }
}

/// The report as text, for a person.
pub fn render(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "dsaudit baseline {}", r.dataset);
    let _ = writeln!(s, "device    {} · {}", r.backend, r.adapter);
    if let Some(n) = &r.device_note {
        let _ = writeln!(s, "          {n}");
    }
    let _ = writeln!(s, "model     {}", r.model);
    let _ = writeln!(s, "input     {}", r.input);
    let _ = writeln!(
        s,
        "data      {} classes · train {} · train-val {} · test-val {} · test {}",
        r.classes.len(),
        r.sizes.train,
        r.sizes.train_val,
        r.sizes.test_val,
        r.sizes.test
    );
    for n in &r.notes {
        let _ = writeln!(s, "note      {n}");
    }
    let o = &r.overfit;
    let last = |v: &[f64]| v.last().copied().unwrap_or(f64::NAN);
    let first = o.losses.first().copied().unwrap_or(f64::NAN);
    let _ = writeln!(s);
    if o.passed {
        let _ = writeln!(
            s,
            "overfit one batch: passed in {} steps ({} samples): loss {:.4} → {:.4}, accuracy {}",
            o.steps,
            o.batch_size,
            first,
            last(&o.losses),
            pct(last(&o.accuracy))
        );
    } else {
        let _ = writeln!(
            s,
            "overfit one batch: FAILED after {} of {} steps ({} samples): loss {:.4} → {:.4}, accuracy {}; target: 100% and loss < {}",
            o.steps,
            o.max_steps,
            o.batch_size,
            first,
            last(&o.losses),
            pct(last(&o.accuracy)),
            o.target_loss
        );
        for p in &o.batch_problems {
            let _ = writeln!(s, "  first: {p}");
        }
        let _ = writeln!(s, "  the curve {}: {}", o.curve.name(), o.curve.causes());
    }
    if let Some(trials) = &r.tuning {
        let _ = writeln!(s, "\nlearning-rate search ({} short runs)", trials.len());
        let _ = writeln!(s, "  round  learning rate  train-val loss  train-val error");
        for t in trials {
            let _ = writeln!(
                s,
                "  {:>5}  {:>13.3e}  {:>14.4}  {:>15}",
                t.round,
                t.lr,
                t.train_val_loss,
                pct(t.train_val_error)
            );
        }
    }
    if let (Some(t), Some(e), Some(dec)) = (&r.training, &r.errors, &r.decomposition) {
        let _ = writeln!(
            s,
            "\ntrained   {} epochs, best {} ({}), learning rate {:.3e}, batch {}",
            t.epochs.len(),
            t.best_epoch,
            if t.stopped_early {
                "stopped early on train-val"
            } else {
                "epoch limit reached"
            },
            t.lr,
            t.batch_size
        );
        let _ = writeln!(
            s,
            "errors    train {} · train-val {} · test-val {} · test {}",
            pct(e.train),
            pct(e.train_val),
            pct(e.test_val),
            pct(e.test)
        );
        let _ = writeln!(s, "decomposition");
        let row = |name: &str, g: &decompose::Gap| {
            format!(
                "  {name:<42} {:>6} points  ({})\n",
                if g.value.is_finite() {
                    format!("{:.1}", 100.0 * g.value)
                } else {
                    "–".into()
                },
                if !g.value.is_finite() {
                    "not measured".to_string()
                } else if g.material {
                    format!("beyond noise ±{:.1}", 100.0 * g.noise)
                } else {
                    format!("within noise ±{:.1}", 100.0 * g.noise)
                }
            )
        };
        s += &row(
            &format!("bias (train − irreducible {})", pct(dec.irreducible)),
            &dec.bias,
        );
        s += &row("variance (train-val − train)", &dec.variance);
        s += &row("distribution shift (test-val − train-val)", &dec.shift);
        s += &row(
            "validation overfitting (test − test-val)",
            &dec.val_overfitting,
        );
        let _ = writeln!(s, "advice");
        for (k, a) in r.advice.iter().enumerate() {
            let _ = writeln!(s, "  {}. {a}", k + 1);
        }
    }
    s
}
