//! Coarse-to-fine learning-rate search: learning rates drawn log-uniformly over a
//! wide range, each tried in a short run from the same initial weights; then a
//! narrower range around the best, a few rounds.

use rand::RngExt;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// First round's range, in log10 of the learning rate.
pub const RANGE: (f64, f64) = (-5.0, -1.0);
pub const ROUNDS: usize = 3;
pub const PER_ROUND: usize = 6;

#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    pub round: usize,
    pub lr: f64,
    pub train_val_loss: f64,
    pub train_val_error: f64,
}

/// Runs the search; `trial(lr)` returns (train-val loss, train-val error).
pub fn search(seed: u64, mut trial: impl FnMut(f64) -> (f64, f64)) -> (f64, Vec<Trial>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6c72);
    let (mut lo, mut hi) = RANGE;
    let mut trials: Vec<Trial> = Vec::new();
    for round in 1..=ROUNDS {
        for _ in 0..PER_ROUND {
            let lr = 10f64.powf(rng.random_range(lo..hi));
            let (loss, error) = trial(lr);
            trials.push(Trial {
                round,
                lr,
                train_val_loss: loss,
                train_val_error: error,
            });
        }
        let best = best(&trials);
        // Each round spans half the decades of the one before, centred on the best.
        let half = (hi - lo) / 4.0;
        let centre = best.lr.log10();
        (lo, hi) = (centre - half, centre + half);
    }
    (best(&trials).lr, trials)
}

fn best(trials: &[Trial]) -> &Trial {
    trials
        .iter()
        .min_by(|a, b| {
            let key = |t: &Trial| {
                if t.train_val_loss.is_finite() {
                    t.train_val_loss
                } else {
                    f64::INFINITY
                }
            };
            key(a).total_cmp(&key(b))
        })
        .expect("at least one trial")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrows_on_the_best_rate() {
        // A loss with its minimum at lr = 1e-3.
        let (lr, trials) = search(0, |lr| ((lr.log10() + 3.0).powi(2), 0.0));
        assert_eq!(trials.len(), ROUNDS * PER_ROUND);
        assert!((lr.log10() + 3.0).abs() < 0.3, "found {lr}");
        let spread = |r: usize| {
            let l: Vec<f64> = trials
                .iter()
                .filter(|t| t.round == r)
                .map(|t| t.lr.log10())
                .collect();
            l.iter().cloned().fold(f64::MIN, f64::max) - l.iter().cloned().fold(f64::MAX, f64::min)
        };
        assert!(spread(3) < spread(1));
        assert!(trials
            .iter()
            .filter(|t| t.round == 3)
            .all(|t| (t.lr.log10() + 3.0).abs() < 1.0));
    }
}
