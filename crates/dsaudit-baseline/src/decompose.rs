//! Where the remaining error comes from: the four errors of the baseline taken apart
//! into bias, variance, distribution shift and validation overfitting, and the advice
//! the numbers support, under-fitting first.

use serde::Serialize;

/// Error rates (fractions) and the size of the set each was measured on.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Errors {
    pub train: f64,
    pub train_val: f64,
    pub test_val: f64,
    pub test: f64,
    #[serde(skip)]
    pub sizes: [usize; 4],
}

/// A gap between two errors, and whether it exceeds what chance alone would give.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Gap {
    pub value: f64,
    /// Two standard errors of the difference of the two error rates (binomial), at
    /// least `MATERIAL`: a gap below it is within noise.
    pub noise: f64,
    pub material: bool,
}

/// No gap below two percentage points is worth acting on, however large the sets.
pub const MATERIAL: f64 = 0.02;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Decomposition {
    pub irreducible: f64,
    /// train − irreducible.
    pub bias: Gap,
    /// train-val − train.
    pub variance: Gap,
    /// test-val − train-val.
    pub shift: Gap,
    /// test − test-val.
    pub val_overfitting: Gap,
}

fn gap(a: f64, na: usize, b: f64, nb: usize) -> Gap {
    let value = b - a;
    let var = |p: f64, n: usize| {
        if n == 0 {
            0.0
        } else {
            p.clamp(0.0, 1.0) * (1.0 - p.clamp(0.0, 1.0)) / n as f64
        }
    };
    let noise = (2.0 * (var(a, na) + var(b, nb)).sqrt()).max(MATERIAL);
    let known = na > 0 && nb > 0;
    Gap {
        value,
        noise,
        material: known && value > noise,
    }
}

pub fn decompose(e: &Errors, irreducible: f64) -> Decomposition {
    let [n_train, n_tv, n_sv, n_test] = e.sizes;
    // The irreducible error is given, not measured: its "set" is as large as train's.
    Decomposition {
        irreducible,
        bias: gap(irreducible, n_train, e.train, n_train),
        variance: gap(e.train, n_train, e.train_val, n_tv),
        shift: gap(e.train_val, n_tv, e.test_val, n_sv),
        val_overfitting: gap(e.test_val, n_sv, e.test, n_test),
    }
}

/// Advice in the order to act on it, naming only the gaps that exceed their noise.
pub fn advice(d: &Decomposition) -> Vec<String> {
    let pct = |x: f64| format!("{:.1} points", 100.0 * x);
    let mut out = Vec::new();
    if d.bias.material {
        out.push(format!(
            "under-fitting first (bias {}): make the model bigger, train longer, remove regularization, tune the learning rate (--tune)",
            pct(d.bias.value)
        ));
    }
    if d.variance.material {
        out.push(format!(
            "then over-fitting (variance {}): add training data, normalize inputs, augment, add regularization (weight decay, dropout)",
            pct(d.variance.value)
        ));
    }
    if d.shift.material {
        out.push(format!(
            "then distribution shift (test-val − train-val {}): inspect the test-val errors, collect or synthesize training data like the test set",
            pct(d.shift.value)
        ));
    }
    if d.val_overfitting.material {
        out.push(format!(
            "then validation overfitting (test − test-val {}): the test-val set has been tuned on; collect a fresh, larger test-val set",
            pct(d.val_overfitting.value)
        ));
    }
    if out.is_empty() {
        out.push(
            "no gap exceeds its noise: the baseline's error is near the irreducible error you gave; improve the data or set --human-error"
                .to_string(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_on_fixed_numbers() {
        let e = Errors {
            train: 0.10,
            train_val: 0.18,
            test_val: 0.30,
            test: 0.31,
            sizes: [10_000, 2_000, 2_000, 2_000],
        };
        let d = decompose(&e, 0.04);
        assert!((d.bias.value - 0.06).abs() < 1e-12);
        assert!((d.variance.value - 0.08).abs() < 1e-12);
        assert!((d.shift.value - 0.12).abs() < 1e-12);
        assert!((d.val_overfitting.value - 0.01).abs() < 1e-12);
        assert!(d.bias.material && d.variance.material && d.shift.material);
        assert!(!d.val_overfitting.material, "1 point is within MATERIAL");
        let a = advice(&d);
        assert_eq!(a.len(), 3);
        assert!(a[0].starts_with("under-fitting first (bias 6.0 points)"));
        assert!(a[1].starts_with("then over-fitting (variance 8.0 points)"));
        assert!(a[2].starts_with("then distribution shift"));
    }

    #[test]
    fn small_sets_widen_the_noise() {
        // 2 errors out of 20 against 0 out of 100: 10 points, but within two standard
        // errors (2·sqrt(0.09/20) ≈ 13 points).
        let e = Errors {
            train: 0.0,
            train_val: 0.10,
            test_val: 0.10,
            test: 0.10,
            sizes: [100, 20, 20, 20],
        };
        let d = decompose(&e, 0.0);
        assert!((d.variance.noise - 2.0 * (0.09f64 / 20.0).sqrt()).abs() < 1e-12);
        assert!(!d.variance.material);
        assert_eq!(advice(&d).len(), 1);
    }
}
