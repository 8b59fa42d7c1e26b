//! The training loops: one fixed batch until it is learned (or the step budget runs
//! out), the whole train split with early stopping on train-val, short runs for the
//! learning-rate search, and evaluation of a trained network on any part.

use super::data::Data;
use super::diagnose::{diagnose, Curve};
use super::model::Net;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::time::Instant;

/// Rows `ids` of `d` as an input tensor and a target tensor on `device`.
pub fn batch(d: &Data, ids: &[usize], device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let mut x = Vec::with_capacity(ids.len() * d.dim);
    for &i in ids {
        x.extend_from_slice(d.row(i));
    }
    let y: Vec<i64> = ids.iter().map(|&i| d.y[i] as i64).collect();
    (
        Tensor::<2>::from_data(TensorData::new(x, [ids.len(), d.dim]), device),
        Tensor::<1, Int>::from_data(TensorData::new(y, [ids.len()]), device),
    )
}

fn scalar(t: Tensor<1>) -> f64 {
    t.into_data_as::<f32>()
        .try_into_vec::<f32>()
        .ok()
        .and_then(|v| v.first().copied())
        .map_or(f64::NAN, f64::from)
}

fn correct(logits: Tensor<2>, targets: Tensor<1, Int>) -> usize {
    let pred: Tensor<1, Int> = logits.argmax(1).squeeze_dim(1);
    let hits = pred.equal(targets).int().sum();
    hits.into_data_as::<i64>()
        .try_into_vec::<i64>()
        .ok()
        .and_then(|v| v.first().copied())
        .unwrap_or(0) as usize
}

/// One optimizer step on a batch: (loss, correct predictions) before the update.
fn step<M: Net>(
    model: M,
    optim: &mut burn::optim::ModuleOptimizer,
    x: Tensor<2>,
    y: Tensor<1, Int>,
    lr: f64,
    device: &Device,
) -> (M, f64, usize) {
    let logits = model.forward(x);
    let loss = CrossEntropyLossConfig::new()
        .init(device)
        .forward(logits.clone(), y.clone());
    let hits = correct(logits.detach(), y);
    let value = scalar(loss.clone().detach());
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (optim.step(lr, model, grads), value, hits)
}

fn adam() -> burn::optim::ModuleOptimizer {
    // Adam's defaults (β = 0.9, 0.999; ε = 1e-8 would be PyTorch's, burn's is 1e-5),
    // no weight decay: the baseline has no regularization.
    AdamConfig::new().with_epsilon(1e-8).init()
}

#[derive(Debug, Clone, Serialize)]
pub struct Overfit {
    /// Data rows of the batch.
    #[serde(skip)]
    pub batch: Vec<usize>,
    pub batch_size: usize,
    pub steps: usize,
    pub max_steps: usize,
    pub target_loss: f64,
    pub losses: Vec<f64>,
    pub accuracy: Vec<f64>,
    pub passed: bool,
    pub curve: Curve,
    /// Data problems in the batch that explain a failure before the curve does.
    pub batch_problems: Vec<String>,
    /// Wall time: on stderr only, so that the report stays byte-identical.
    #[serde(skip)]
    pub seconds: f64,
}

/// Trains on one fixed batch until it is learned: 100% accuracy and a loss below
/// `target_loss`, checked on the batch after each step's update is applied to the
/// next one's forward pass.
pub fn overfit<M: Net>(
    mut model: M,
    d: &Data,
    batch_ids: &[usize],
    device: &Device,
    lr: f64,
    max_steps: usize,
    target_loss: f64,
) -> Overfit {
    let start = Instant::now();
    let mut optim = adam();
    let (x, y) = batch(d, batch_ids, device);
    let (mut losses, mut accuracy) = (Vec::new(), Vec::new());
    let mut passed = false;
    for _ in 0..max_steps {
        let (m, loss, hits) = step(model, &mut optim, x.clone(), y.clone(), lr, device);
        model = m;
        let acc = hits as f64 / batch_ids.len() as f64;
        losses.push(loss);
        accuracy.push(acc);
        if !loss.is_finite() {
            break;
        }
        if acc == 1.0 && loss < target_loss {
            passed = true;
            break;
        }
    }
    let mut problems = Vec::new();
    let conflicts = super::data::conflicting_pairs(d, batch_ids);
    if conflicts > 0 {
        problems.push(format!(
            "the batch holds {} with the same input as another sample but a different label: no network can fit both",
            dsaudit_core::util::count(conflicts, "sample", "samples")
        ));
    }
    let imputed = batch_ids.iter().filter(|&&i| d.imputed[i]).count();
    if imputed > 0 {
        problems.push(format!(
            "{} of the batch held missing or non-finite values (imputed with the train median)",
            dsaudit_core::util::count(imputed, "row", "rows")
        ));
    }
    if batch_ids.len() > 1 && batch_ids.iter().all(|&i| d.row(i) == d.row(batch_ids[0])) {
        problems.push(
            "every input in the batch is identical: the inputs carry no information (constant images or columns)".into(),
        );
    }
    Overfit {
        batch: batch_ids.to_vec(),
        batch_size: batch_ids.len(),
        steps: losses.len(),
        max_steps,
        target_loss,
        curve: diagnose(&losses, passed),
        losses,
        accuracy,
        passed,
        batch_problems: problems,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// The overfit batch: `size` train rows in a seeded order.
pub fn overfit_batch(d: &Data, size: usize, seed: u64) -> Vec<usize> {
    let mut train = d.ids(super::data::TRAIN);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x006f_7665_7266_6974);
    train.shuffle(&mut rng);
    train.truncate(size);
    train.sort_unstable();
    train
}

/// Loss and error of a network on `ids`, with its predicted classes.
pub struct Eval {
    pub loss: f64,
    pub error: f64,
    pub n: usize,
}

pub fn evaluate<M: Net>(model: &M, d: &Data, ids: &[usize], device: &Device) -> Eval {
    if ids.is_empty() {
        return Eval {
            loss: f64::NAN,
            error: f64::NAN,
            n: 0,
        };
    }
    let device = device.clone().without_autodiff();
    let model = model.valid();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let (mut loss, mut hits) = (0.0, 0usize);
    for chunk in ids.chunks(512) {
        let (x, y) = batch(d, chunk, &device);
        let logits = model.forward(x);
        loss += scalar(loss_fn.forward(logits.clone(), y.clone())) * chunk.len() as f64;
        hits += correct(logits, y);
    }
    Eval {
        loss: loss / ids.len() as f64,
        error: 1.0 - hits as f64 / ids.len() as f64,
        n: ids.len(),
    }
}

/// Softmax probabilities of `ids`, row-major (one row of `classes` per id): what the
/// label-error search reads of a network trained on the other folds.
pub fn probabilities<M: Net>(model: &M, d: &Data, ids: &[usize], device: &Device) -> Vec<f32> {
    let device = device.clone().without_autodiff();
    let model = model.valid();
    let mut out = Vec::with_capacity(ids.len() * d.classes.len());
    for chunk in ids.chunks(512) {
        let (x, _) = batch(d, chunk, &device);
        let p = burn::tensor::activation::softmax(model.forward(x), 1);
        out.extend(
            p.into_data_as::<f32>()
                .try_into_vec::<f32>()
                .unwrap_or_default(),
        );
    }
    out
}

/// Penultimate-layer features of `ids`, row-major.
pub fn embed<M: Net>(model: &M, d: &Data, ids: &[usize], device: &Device) -> (Vec<f32>, usize) {
    let device = device.clone().without_autodiff();
    let model = model.valid();
    let (mut out, mut width) = (Vec::new(), 0);
    for chunk in ids.chunks(512) {
        let (x, _) = batch(d, chunk, &device);
        let f = model.features(x);
        width = f.dims()[1];
        out.extend(
            f.into_data_as::<f32>()
                .try_into_vec::<f32>()
                .unwrap_or_default(),
        );
    }
    (out, width)
}

pub struct Settings {
    pub lr: f64,
    pub batch: usize,
    pub max_epochs: usize,
    pub patience: usize,
    pub seed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Epoch {
    pub epoch: usize,
    pub steps: usize,
    /// Mean loss and error over the epoch's batches, before each update.
    pub train_loss: f64,
    pub train_error: f64,
    pub train_val_loss: f64,
    pub train_val_error: f64,
    #[serde(skip)]
    pub seconds: f64,
}

pub struct Fit<M> {
    pub model: M,
    pub epochs: Vec<Epoch>,
    pub best_epoch: usize,
    pub stopped_early: bool,
    pub steps_per_second: f64,
}

/// Trains on train in seeded shuffled batches, keeps the network of the epoch with
/// the lowest train-val loss, and stops after `patience` epochs without a better one.
pub fn fit<M: Net>(
    mut model: M,
    d: &Data,
    s: &Settings,
    device: &Device,
    mut on_epoch: impl FnMut(&Epoch),
) -> Fit<M> {
    let mut optim = adam();
    let train = d.ids(super::data::TRAIN);
    let train_val = d.ids(super::data::TRAIN_VAL_PART);
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed ^ 0x0074_7261_696e);
    let (mut best, mut best_loss, mut best_epoch) = (model.clone(), f64::INFINITY, 0);
    let mut epochs = Vec::new();
    let (mut steps_total, mut step_seconds) = (0usize, 0.0f64);
    let mut stopped_early = false;
    for epoch in 1..=s.max_epochs {
        let start = Instant::now();
        let mut order = train.clone();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut hits, mut seen, mut steps) = (0.0, 0usize, 0usize, 0usize);
        for chunk in order.chunks(s.batch) {
            let (x, y) = batch(d, chunk, device);
            let (m, loss, h) = step(model, &mut optim, x, y, s.lr, device);
            model = m;
            loss_sum += loss * chunk.len() as f64;
            hits += h;
            seen += chunk.len();
            steps += 1;
        }
        step_seconds += start.elapsed().as_secs_f64();
        steps_total += steps;
        // Without a train-val split, the train loss decides.
        let val = evaluate(&model, d, &train_val, device);
        let e = Epoch {
            epoch,
            steps,
            train_loss: loss_sum / seen.max(1) as f64,
            train_error: 1.0 - hits as f64 / seen.max(1) as f64,
            train_val_loss: val.loss,
            train_val_error: val.error,
            seconds: start.elapsed().as_secs_f64(),
        };
        on_epoch(&e);
        let watched = if val.n > 0 { val.loss } else { e.train_loss };
        epochs.push(e);
        if !watched.is_finite() {
            stopped_early = true;
            break;
        }
        if watched < best_loss {
            best_loss = watched;
            best = model.clone();
            best_epoch = epoch;
        } else if epoch - best_epoch >= s.patience {
            stopped_early = true;
            break;
        }
    }
    Fit {
        model: best,
        epochs,
        best_epoch,
        stopped_early,
        steps_per_second: steps_total as f64 / step_seconds.max(1e-9),
    }
}

/// Trains for `steps` steps on seeded random train batches and returns the train-val
/// loss and error: one trial of the learning-rate search.
pub fn short_run<M: Net>(
    mut model: M,
    d: &Data,
    lr: f64,
    steps: usize,
    batch_size: usize,
    seed: u64,
    device: &Device,
) -> Eval {
    let mut optim = adam();
    let train = d.ids(super::data::TRAIN);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7475_6e65);
    let mut order: Vec<usize> = Vec::new();
    for _ in 0..steps {
        if order.len() < batch_size {
            let mut more = train.clone();
            more.shuffle(&mut rng);
            order.extend(more);
        }
        let ids: Vec<usize> = order.drain(..batch_size.min(order.len())).collect();
        let (x, y) = batch(d, &ids, device);
        let (m, loss, _) = step(model, &mut optim, x, y, lr, device);
        model = m;
        if !loss.is_finite() {
            return Eval {
                loss: f64::INFINITY,
                error: 1.0,
                n: 0,
            };
        }
    }
    let tv = d.ids(super::data::TRAIN_VAL_PART);
    let ids = if tv.is_empty() { train } else { tv };
    evaluate(&model, d, &ids, device)
}

/// Training speed on one fixed batch, for the benchmark: `warmup` steps first (kernel
/// compilation and autotuning on wgpu), then steps until `seconds` have passed.
/// Returns (warm-up seconds, steps per second).
pub fn time_steps<M: Net>(
    mut model: M,
    x: Tensor<2>,
    y: Tensor<1, Int>,
    device: &Device,
    warmup: usize,
    seconds: f64,
) -> (f64, f64) {
    let mut optim = adam();
    let start = Instant::now();
    for _ in 0..warmup {
        model = step(model, &mut optim, x.clone(), y.clone(), 3e-4, device).0;
    }
    let warm = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut n = 0usize;
    while n < 5 || start.elapsed().as_secs_f64() < seconds {
        model = step(model, &mut optim, x.clone(), y.clone(), 3e-4, device).0;
        n += 1;
    }
    (warm, n as f64 / start.elapsed().as_secs_f64())
}
