//! Reading a loss curve: what the overfit-one-batch run's losses say when the batch
//! was not learned. The shapes and their usual causes follow the "troubleshooting
//! deep neural networks" checklist: up, explodes, oscillates, plateaus.

use serde::Serialize;

/// The shape of a loss curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Curve {
    /// Reached the target: the batch was learned.
    Converged,
    /// Still falling at the end of the step budget.
    StillFalling,
    GoesUp,
    Explodes,
    Oscillates,
    Plateaus,
}

/// A loss above this multiple of the first one, or a non-finite loss, is an explosion.
pub const EXPLODE_FACTOR: f64 = 10.0;
/// Plateau: the last half of the steps lowered the loss by less than this fraction.
pub const PLATEAU_DROP: f64 = 0.05;
/// Oscillation: the loss changes direction on at least this share of the last half's
/// steps, by swings of at least this fraction of its level.
pub const OSCILLATE_TURNS: f64 = 0.3;
pub const OSCILLATE_SWING: f64 = 0.1;

impl Curve {
    pub fn name(self) -> &'static str {
        match self {
            Curve::Converged => "converged",
            Curve::StillFalling => "still falling",
            Curve::GoesUp => "goes up",
            Curve::Explodes => "explodes",
            Curve::Oscillates => "oscillates",
            Curve::Plateaus => "plateaus",
        }
    }

    /// The likely causes, in words, for a curve that did not reach the target.
    pub fn causes(self) -> &'static str {
        match self {
            Curve::Converged => "the network can fit this data",
            Curve::StillFalling => {
                "the loss was still falling when the step budget ran out: give it more steps (--overfit-steps) or a larger learning rate"
            }
            Curve::GoesUp => {
                "the loss rises: a flipped sign in the loss or the gradient, or a learning rate too high"
            }
            Curve::Explodes => {
                "the loss explodes or becomes NaN: a numerical issue (log of 0, division by 0, non-finite inputs) or a learning rate too high"
            }
            Curve::Oscillates => {
                "the loss oscillates: a learning rate too high, or corrupted data or labels (shuffled labels, wrong preprocessing)"
            }
            Curve::Plateaus => {
                "the loss plateaus: a learning rate too low, too much regularization, or an input that carries no information to the loss (constant or wrongly scaled inputs, labels not matched to inputs)"
            }
        }
    }
}

/// The shape of `losses` (one per step) when the target was not reached.
pub fn diagnose(losses: &[f64], reached: bool) -> Curve {
    if reached {
        return Curve::Converged;
    }
    let Some(&first) = losses.first() else {
        return Curve::Plateaus;
    };
    if losses.iter().any(|l| !l.is_finite())
        || losses
            .iter()
            .any(|&l| l > EXPLODE_FACTOR * first.max(1e-12))
    {
        return Curve::Explodes;
    }
    let n = losses.len();
    if n < 4 {
        return Curve::StillFalling;
    }
    let tail = &losses[n / 2..];
    let level = mean(tail).max(1e-12);
    // Direction changes, counting only swings that matter at this level: the noise of
    // a converging run's last digits is not an oscillation.
    let steps: Vec<f64> = tail
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| d.abs() > 1e-3 * level)
        .collect();
    let turns = steps.windows(2).filter(|w| w[0] * w[1] < 0.0).count();
    let swing = steps.iter().map(|d| d.abs()).sum::<f64>() / steps.len().max(1) as f64;
    if turns as f64 >= OSCILLATE_TURNS * (tail.len() - 1) as f64 && swing >= OSCILLATE_SWING * level
    {
        return Curve::Oscillates;
    }
    let head = mean(&losses[..(n / 10).max(1)]);
    let end = mean(&losses[n - (n / 10).max(1)..]);
    if end > head * 1.05 {
        return Curve::GoesUp;
    }
    let mid = mean(&losses[n / 2 - (n / 20).max(1)..n / 2]);
    if mid - end < PLATEAU_DROP * mid {
        return Curve::Plateaus;
    }
    Curve::StillFalling
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let falling: Vec<f64> = (0..200).map(|i| 2.0 * (-(i as f64) / 40.0).exp()).collect();
        assert_eq!(diagnose(&falling, true), Curve::Converged);
        assert_eq!(diagnose(&falling, false), Curve::StillFalling);
        let flat: Vec<f64> = (0..200)
            .map(|i| 1.1 + 0.5 * (-(i as f64) / 5.0).exp())
            .collect();
        assert_eq!(diagnose(&flat, false), Curve::Plateaus);
        let up: Vec<f64> = (0..200).map(|i| 1.0 + i as f64 / 100.0).collect();
        assert_eq!(diagnose(&up, false), Curve::GoesUp);
        let boom: Vec<f64> = (0..50).map(|i| (i as f64).exp()).collect();
        assert_eq!(diagnose(&boom, false), Curve::Explodes);
        let nan = vec![1.0, 0.9, f64::NAN, f64::NAN];
        assert_eq!(diagnose(&nan, false), Curve::Explodes);
        let zigzag: Vec<f64> = (0..200)
            .map(|i| if i % 2 == 0 { 2.0 } else { 1.0 })
            .collect();
        assert_eq!(diagnose(&zigzag, false), Curve::Oscillates);
    }

    #[test]
    fn converging_noise_is_not_an_oscillation() {
        // A falling curve with tiny jitter on its last digits.
        let jitter: Vec<f64> = (0..300)
            .map(|i| 2.0 * (-(i as f64) / 60.0).exp() + if i % 2 == 0 { 1e-4 } else { 0.0 })
            .collect();
        assert_eq!(diagnose(&jitter, false), Curve::StillFalling);
    }
}
