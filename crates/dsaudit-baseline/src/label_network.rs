//! Out-of-fold probabilities from the baseline's networks: the LeNet-like CNN on the
//! 32×32 grey images (`--label-model cnn`) or the MLP on the feature vectors
//! (`--label-model mlp`: a table's standardized columns, given embeddings, or the
//! images' compact features). One network per fold, trained with the baseline's
//! loop on the other folds; its softmax read on the held-out fold. Confident
//! learning then runs on them as on the linear model's.
//!
//! Each fold holds out a seeded tenth of its training rows to stop on (the epoch
//! with the lowest loss there is kept, after `PATIENCE` epochs without a better one,
//! or after `epochs_for` epochs). Adam at 2e-3 rather than the baseline's 3e-4: the
//! search needs a good model within a few epochs, not a reference curve. Measured on
//! 2,000 and 10,000 28×28 digits: 2e-3 reached a better out-of-fold accuracy than 1e-3
//! in fewer epochs; batch 128 cost as much per epoch and needed more of them.

use crate::data::{Data, Input, TEST, TRAIN, TRAIN_VAL_PART};
use crate::model::{self, Net};
use crate::{device, train};
use burn::module::Module;
use dsaudit_core::labels::network::{Network, Networks, Trained};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub const LEARNING_RATE: f64 = 2e-3;
pub const BATCH: usize = 64;
pub const PATIENCE: usize = 3;
/// The epoch budget: enough epochs for `STEPS` optimizer steps, at least
/// `MIN_EPOCHS`, at most `MAX_EPOCHS`. What a network learns depends on its steps,
/// so a small dataset gets more epochs; a large one stops at `MIN_EPOCHS`, where on
/// 10,000 digits the out-of-fold accuracy had settled (0.997 at the best of 6 to
/// 20 epochs) and the CPU time is what bounds the search.
pub const STEPS: usize = 1_100;
pub const MIN_EPOCHS: usize = 10;
pub const MAX_EPOCHS: usize = 30;

/// The baseline's CNN and MLP as the labels stage's networks.
#[derive(Debug)]
pub struct LabelNetworks;

/// What the binary hands the labels stage.
pub static LABEL_NETWORKS: LabelNetworks = LabelNetworks;

impl Networks for LabelNetworks {
    fn gpu_adapter(&self) -> Option<String> {
        device::adapters()
            .into_iter()
            .find(|a| a.kind != "cpu")
            .map(|a| a.name)
    }

    fn settings(&self) -> String {
        settings()
    }

    fn probabilities(
        &self,
        network: Network,
        x: Vec<f32>,
        dim: usize,
        ys: &[usize],
        k: usize,
        fold: &[usize],
        folds: usize,
        seed: u64,
    ) -> Result<Trained, String> {
        let n = ys.len();
        let chosen = device::choose(device::Choice::Auto).map_err(|e| format!("{e:#}"))?;
        let dev = chosen.device.clone().autodiff();
        let d = data(network, x, dim, ys.iter().map(|&c| c as u32).collect(), k);
        let (out, epochs, folds_kept) = match network {
            Network::Cnn { side } => by_fold(d, k, fold, folds, seed, &dev, |dev| {
                model::Cnn::new(1, side, k, dev)
            }),
            Network::Mlp => by_fold(d, k, fold, folds, seed, &dev, |dev| {
                model::Mlp::new(dim, k, dev)
            }),
        };
        let net = match network {
            Network::Cnn { side } => format!(
                "{} on the {side}×{side} grey images",
                model::describe_cnn(1, side)
            ),
            Network::Mlp => format!("{} on the feature vectors", model::describe_mlp(dim)),
        };
        let what = format!(
            "{net} ({}), {folds}-fold stratified cross-validation; Adam {LEARNING_RATE}, batch {BATCH}, best epochs {epochs:?} of at most {} (a tenth of each fold's training rows to stop on)",
            chosen.adapter,
            epochs_for(n - n / folds.max(1) - (n - n / folds.max(1)) / 10),
        );
        Ok(Trained {
            probabilities: out,
            folds: folds_kept,
            what,
        })
    }

    fn score(
        &self,
        network: Network,
        folds: &[&[u8]],
        x: Vec<f32>,
        dim: usize,
        k: usize,
    ) -> Result<Vec<f64>, String> {
        let n = x.len() / dim.max(1);
        let mut mean = vec![0f64; n * k];
        if n == 0 || folds.is_empty() {
            return Ok(mean);
        }
        let chosen = device::choose(device::Choice::Auto).map_err(|e| format!("{e:#}"))?;
        let dev = chosen.device;
        let d = data(network, x, dim, vec![0; n], k);
        let ids: Vec<usize> = (0..n).collect();
        for bytes in folds {
            let record = burn::store::ModuleRecord::from_bytes(
                burn::tensor::Bytes::from_bytes_vec(bytes.to_vec()),
            )
            .map_err(|e| format!("a stored label network: {e:?}"))?;
            let p = match network {
                Network::Cnn { side } => {
                    let net = model::Cnn::new(1, side, k, &dev)
                        .try_load_record(record)
                        .map_err(|e| format!("a stored label network: {e:?}"))?;
                    train::probabilities(&net, &d, &ids, &dev)
                }
                Network::Mlp => {
                    let net = model::Mlp::new(dim, k, &dev)
                        .try_load_record(record)
                        .map_err(|e| format!("a stored label network: {e:?}"))?;
                    train::probabilities(&net, &d, &ids, &dev)
                }
            };
            mean.iter_mut().zip(p).for_each(|(m, p)| *m += p as f64);
        }
        let folds = folds.len() as f64;
        mean.iter_mut().for_each(|m| *m /= folds);
        Ok(mean)
    }
}

/// What changes the networks, for `dsaudit check`'s test of whether a stored fit
/// still stands.
pub fn settings() -> String {
    format!(
        "{LEARNING_RATE} {BATCH} {PATIENCE} {STEPS} {MIN_EPOCHS} {MAX_EPOCHS} {:?} {:?}",
        model::CNN_CHANNELS,
        model::MLP_HIDDEN
    )
}

/// Epochs a fold trains at most on `rows` training rows.
pub fn epochs_for(rows: usize) -> usize {
    STEPS
        .div_ceil(rows.div_ceil(BATCH).max(1))
        .clamp(MIN_EPOCHS, MAX_EPOCHS)
}

fn data(network: Network, x: Vec<f32>, dim: usize, y: Vec<u32>, k: usize) -> Data {
    let n = y.len();
    Data {
        input: match network {
            Network::Cnn { side } => Input::Image { channels: 1, side },
            Network::Mlp => Input::Table,
        },
        classes: (0..k).map(|c| c.to_string()).collect(),
        dim,
        x,
        y,
        rows: (0..n).collect(),
        part: vec![TEST; n],
        imputed: vec![false; n],
        group: vec![dsaudit_construct::NONE; n],
        notes: Vec::new(),
        splits_made: false,
    }
}

/// The folds two or more at a time (burn's CPU kernels keep one core of two busy):
/// every fold's network is initialised first, one after another, because the
/// backend's seeded generator is shared; nothing random happens after that but the
/// batch order, which each fold draws from its own seeded generator. So the result
/// is the same from run to run and whatever the threads.
fn by_fold<M: Net + Send>(
    d: Data,
    k: usize,
    fold: &[usize],
    folds: usize,
    seed: u64,
    dev: &burn::prelude::Device,
    make: impl Fn(&burn::prelude::Device) -> M,
) -> (Vec<f64>, Vec<usize>, Vec<Vec<u8>>) {
    use rayon::prelude::*;
    let n = d.len();
    let nets: Vec<(usize, M)> = (0..folds)
        .filter(|&f| fold.contains(&f))
        .map(|f| {
            dev.seed(seed ^ f as u64);
            let net = make(dev);
            // burn draws a parameter's initial values when it is first read: one
            // forward pass here, so that no fold draws them on a thread.
            let _ = net.forward(burn::prelude::Tensor::zeros([1, d.dim], dev));
            (f, net)
        })
        .collect();
    // Per fold: the held-out rows, their probabilities, the best epoch, the
    // trained parameters.
    type FoldFit = (Vec<usize>, Vec<f32>, usize, Vec<u8>);
    let fits: Vec<FoldFit> = nets
        .into_par_iter()
        .map(|(f, net)| {
            let held: Vec<usize> = (0..n).filter(|&i| fold[i] == f).collect();
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x636e_6e00 ^ f as u64);
            let mut train_rows: Vec<usize> = (0..n).filter(|&i| fold[i] != f).collect();
            train_rows.shuffle(&mut rng);
            let stop_on = train_rows.len() / 10;
            let mut part = vec![TEST; n];
            for (pos, &i) in train_rows.iter().enumerate() {
                part[i] = if pos < stop_on { TRAIN_VAL_PART } else { TRAIN };
            }
            let d = Data { part, ..d.clone() };
            let settings = train::Settings {
                lr: LEARNING_RATE,
                batch: BATCH,
                max_epochs: epochs_for(train_rows.len() - stop_on),
                patience: PATIENCE,
                seed: seed ^ f as u64,
            };
            let fit = train::fit(net, &d, &settings, dev, |_| {});
            let p = train::probabilities(&fit.model, &d, &held, dev);
            let kept = fit
                .model
                .into_record()
                .into_bytes()
                .map(|b| b.to_vec())
                .unwrap_or_default();
            (held, p, fit.best_epoch, kept)
        })
        .collect();
    let mut out = vec![0f64; n * k];
    let mut epochs = Vec::new();
    let mut kept = Vec::new();
    for (held, p, best, bytes) in fits {
        for (row, &i) in held.iter().enumerate() {
            for c in 0..k {
                out[i * k + c] = p[row * k + c] as f64;
            }
        }
        epochs.push(best);
        kept.push(bytes);
    }
    (out, epochs, kept)
}
