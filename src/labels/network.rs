//! Out-of-fold probabilities from the baseline's LeNet-like CNN (`--label-model cnn`):
//! the network `dsaudit baseline` trains, trained once per fold on the 32×32 grey
//! images of the other folds, its softmax read on the held-out fold. Confident
//! learning then runs on them as on the linear model's.
//!
//! Each fold holds out a seeded tenth of its training images to stop on (the epoch
//! with the lowest loss there is kept, after `PATIENCE` epochs without a better one).
//! Adam at 1e-3 rather than the baseline's 3e-4: the search needs a good model
//! within a few epochs, not a reference curve.

use crate::baseline::data::{Data, Input, TEST, TRAIN, TRAIN_VAL_PART};
use crate::baseline::{device, model, train};
use crate::load::perceptual::{SMALL_PIXELS, SMALL_SIDE};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub const LEARNING_RATE: f64 = 1e-3;
pub const BATCH: usize = 64;
pub const MAX_EPOCHS: usize = 30;
pub const PATIENCE: usize = 3;

/// Row-major n × k out-of-fold probabilities of the images `pixels` labelled `ys`,
/// and a description of the model and device for the report.
pub fn cnn_probabilities(
    pixels: &[&[u8; SMALL_PIXELS]],
    ys: &[usize],
    k: usize,
    fold: &[usize],
    folds: usize,
    seed: u64,
) -> Result<(Vec<f64>, String), String> {
    let n = ys.len();
    let chosen = device::choose(device::Choice::Auto).map_err(|e| format!("{e:#}"))?;
    let dev = chosen.device.clone().autodiff();
    let mut d = Data {
        input: Input::Image {
            channels: 1,
            side: SMALL_SIDE,
        },
        classes: (0..k).map(|c| c.to_string()).collect(),
        dim: SMALL_PIXELS,
        x: pixels
            .iter()
            .flat_map(|p| p.iter().map(|&v| v as f32 / 255.0))
            .collect(),
        y: ys.iter().map(|&c| c as u32).collect(),
        rows: (0..n).collect(),
        part: vec![TEST; n],
        imputed: vec![false; n],
        group: vec![crate::build::NONE; n],
        notes: Vec::new(),
        splits_made: false,
    };
    // One fold after another: trained side by side on threads, the same input gave
    // different networks from run to run.
    let mut out = vec![0f64; n * k];
    let mut epochs = Vec::new();
    for f in 0..folds {
        let held: Vec<usize> = (0..n).filter(|&i| fold[i] == f).collect();
        if held.is_empty() {
            continue;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x636e_6e00 ^ f as u64);
        let mut train_rows: Vec<usize> = (0..n).filter(|&i| fold[i] != f).collect();
        train_rows.shuffle(&mut rng);
        let stop_on = train_rows.len() / 10;
        d.part.iter_mut().for_each(|p| *p = TEST);
        for (pos, &i) in train_rows.iter().enumerate() {
            d.part[i] = if pos < stop_on { TRAIN_VAL_PART } else { TRAIN };
        }
        dev.seed(seed ^ f as u64);
        let net = model::Cnn::new(1, SMALL_SIDE, k, &dev);
        let settings = train::Settings {
            lr: LEARNING_RATE,
            batch: BATCH,
            max_epochs: MAX_EPOCHS,
            patience: PATIENCE,
            seed: seed ^ f as u64,
        };
        let fit = train::fit(net, &d, &settings, &dev, |_| {});
        let p = train::probabilities(&fit.model, &d, &held, &dev);
        for (row, &i) in held.iter().enumerate() {
            for c in 0..k {
                out[i * k + c] = p[row * k + c] as f64;
            }
        }
        epochs.push(fit.best_epoch);
    }
    let what = format!(
        "{} on the 32×32 grey images ({}), {folds}-fold stratified cross-validation; Adam {LEARNING_RATE}, batch {BATCH}, best epochs {:?} (a tenth of each fold's training images to stop on)",
        model::describe_cnn(1, SMALL_SIDE),
        chosen.adapter,
        epochs
    );
    Ok((out, what))
}
