//! Out-of-sample predicted probabilities: stratified k-fold cross-validation of a
//! multinomial logistic regression (linfa) on standardized feature vectors.

use linfa::traits::Fit;
use linfa::Dataset;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// L2 weight on the summed log-loss (scikit-learn's C = 1 / ALPHA = 0.1). Chosen on
/// the test data with injected flips: at C = 1 the model learns the flipped labels
/// of small datasets and precision drops (0.6 on sample_data/ images against 0.9);
/// on large datasets the penalty is negligible against the loss.
pub const ALPHA: f64 = 10.0;
const MAX_ITERATIONS: u64 = 100;

/// The penalty for `classes` classes. With two, the multinomial model's two weight
/// vectors w₁, w₂ act only through w = w₁ − w₂, and the penalty is smallest at
/// w₁ = −w₂ = w/2, where α/2 (‖w₁‖² + ‖w₂‖²) = (α/2)/2 ‖w‖²: half the binary model's.
/// Doubling α gives the binary logistic regression of scikit-learn's C = 1 / ALPHA.
pub fn alpha(classes: usize) -> f64 {
    if classes == 2 {
        2.0 * ALPHA
    } else {
        ALPHA
    }
}
/// Stop when the gradient is this small per training sample and per parameter:
/// scikit-learn's `tol` bounds the largest component of the mean loss's gradient;
/// linfa bounds the Euclidean norm of the summed loss's, hence the scaling by the
/// number of rows and by the square root of the number of parameters.
const TOLERANCE: f64 = 1e-4;

/// What the report says about the model.
pub fn description(folds: usize) -> String {
    format!(
        "multinomial logistic regression (linfa, L2 alpha = {ALPHA}, doubled for two classes to equal a binary model's, at most {MAX_ITERATIONS} L-BFGS iterations), {folds}-fold stratified cross-validation"
    )
}

/// Each row's fold: within every class, the members in a seeded random order dealt
/// round-robin, so that every fold holds each class in proportion.
pub fn stratified_folds(labels: &[usize], k: usize, folds: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6c61_6265_6c73);
    let mut fold = vec![0; labels.len()];
    for class in 0..k {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        members.shuffle(&mut rng);
        for (pos, &i) in members.iter().enumerate() {
            fold[i] = pos % folds;
        }
    }
    fold
}

/// Row-major n × k out-of-fold probabilities, and each fold's model. `x`: row-major
/// n × d. Each fold's model
/// learns from at most `max_fit` of the other folds' rows (a seeded choice), so that
/// time stays bounded on large tables; a class absent from a fold's training rows
/// gets probability 0 there.
#[allow(clippy::too_many_arguments)]
pub fn cross_validate(
    x: &[f64],
    d: usize,
    labels: &[usize],
    k: usize,
    fold: &[usize],
    folds: usize,
    max_fit: usize,
    seed: u64,
) -> Result<(Vec<f64>, Vec<FoldModel>), String> {
    let n = labels.len();
    // Each fold writes its held-out rows' probabilities here block by block, so no
    // fold holds its share whole beside the result (16 MB a fold, 80 MB in all, on a
    // million rows of ten classes).
    let out = std::sync::Mutex::new(vec![0f64; n * k]);
    let emit = |rows: &[usize], probs: &[f64]| {
        let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
        for (&i, p) in rows.iter().zip(probs.chunks_exact(k)) {
            out[i * k..(i + 1) * k].copy_from_slice(p);
        }
    };
    let parts: Vec<Result<Option<FoldModel>, String>> = (0..folds)
        .into_par_iter()
        .map(|f| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (f as u64 + 1));
            let train = fold_training_rows(fold, f, labels, k, max_fit, &mut rng);
            let held: Vec<usize> = (0..n).filter(|&i| fold[i] == f).collect();
            if held.is_empty() {
                return Ok(None);
            }
            fit_predict(x, d, labels, k, &train, &held, &mut rng, &emit).map(Some)
        })
        .collect();
    let mut models = Vec::new();
    for part in parts {
        models.extend(part?);
    }
    Ok((out.into_inner().unwrap_or_else(|e| e.into_inner()), models))
}

/// The rows fold `f`'s model learns from: the other folds' rows, or when they are
/// more than `max_fit`, a seeded choice of them per class in proportion, at least
/// one of every class, so that a rare class is never absent from a fold's fit (and
/// so never given probability 0 there).
fn fold_training_rows(
    fold: &[usize],
    f: usize,
    labels: &[usize],
    k: usize,
    max_fit: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let train: Vec<usize> = (0..labels.len()).filter(|&i| fold[i] != f).collect();
    if train.len() <= max_fit {
        return train;
    }
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); k];
    for &i in &train {
        by_class[labels[i]].push(i);
    }
    let share = max_fit as f64 / train.len() as f64;
    let mut picked: Vec<usize> = Vec::with_capacity(max_fit + k);
    for mut members in by_class {
        if members.is_empty() {
            continue;
        }
        let take = ((members.len() as f64 * share).round() as usize).clamp(1, members.len());
        members.shuffle(rng);
        picked.extend_from_slice(&members[..take]);
    }
    picked.sort_unstable();
    picked
}

/// A fold's fitted model as plain numbers, kept by `dsaudit check` to score samples
/// that change later: `w` is d × (classes it saw), row-major, `b` one intercept per
/// class it saw, `classes` their indices among all k.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FoldModel {
    pub w: Vec<f64>,
    pub b: Vec<f64>,
    pub classes: Vec<usize>,
}

impl FoldModel {
    /// The softmax of the model's scores, spread over all `k` classes (0 for a class
    /// the fold never saw), as linfa's `predict_probabilities` gives them.
    pub fn probabilities(&self, x: &[f64], k: usize) -> Vec<f64> {
        let c = self.classes.len();
        let scores: Vec<f64> = (0..c)
            .map(|j| {
                self.b[j]
                    + x.iter()
                        .enumerate()
                        .map(|(r, v)| v * self.w[r * c + j])
                        .sum::<f64>()
            })
            .collect();
        let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
        let total: f64 = e.iter().sum();
        let mut out = vec![0f64; k];
        for (j, &class) in self.classes.iter().enumerate() {
            out[class] = e[j] / total;
        }
        out
    }
}

fn matrix(x: &[F], d: usize, rows: &[usize]) -> Array2<F> {
    let mut m = Array2::<F>::zeros((rows.len(), d));
    for (r, &i) in rows.iter().enumerate() {
        m.row_mut(r)
            .as_slice_mut()
            .expect("a fresh array is contiguous")
            .copy_from_slice(&x[i * d..(i + 1) * d]);
    }
    m
}

/// Rows of the first fit, which gives the full fit its starting point: L-BFGS
/// then needs a few passes over all rows instead of a hundred. The optimum is the
/// same (the loss is strictly convex), only reached sooner.
const WARM_ROWS: usize = 5_000;

/// The solver's float: f64, because in f32 the summed loss of many rows is too coarse
/// for the line search, which then runs out its iterations.
type F = f64;
type Model = linfa_logistic::MultiFittedLogisticRegression<F, usize>;

fn fit(
    x: &[F],
    d: usize,
    labels: &[usize],
    rows: &[usize],
    start: Option<Array2<F>>,
) -> Result<Model, String> {
    let ys: Array1<usize> = rows.iter().map(|&i| labels[i]).collect();
    let classes = ys.iter().collect::<std::collections::BTreeSet<_>>().len();
    let parameters = ((d + 1) * classes) as f64;
    let mut params = MultiLogisticRegression::default()
        .alpha(alpha(classes) as F)
        .max_iterations(MAX_ITERATIONS)
        .gradient_tolerance((TOLERANCE * rows.len() as f64 * parameters.sqrt()) as F);
    if let Some(p) = start {
        params = params.initial_params(p);
    }
    params
        .fit(&Dataset::new(matrix(x, d, rows), ys))
        .map_err(|e| format!("logistic regression failed: {e}"))
}

/// The fitted weights with the intercepts as the last row, as linfa takes them.
fn as_start(m: &Model) -> Array2<F> {
    let w = m.params();
    let mut p = Array2::<F>::zeros((w.nrows() + 1, w.ncols()));
    p.slice_mut(ndarray::s![..w.nrows(), ..]).assign(w);
    p.row_mut(w.nrows()).assign(m.intercept());
    p
}

/// Rows predicted at a time (a fold's held-out rows go to `emit` in blocks).
const PREDICT_ROWS: usize = 16_384;

/// Fits fold `train`'s model and hands the held-out rows' probabilities (k per row,
/// in class order) to `emit`, block by block.
#[allow(clippy::too_many_arguments)]
fn fit_predict(
    x: &[F],
    d: usize,
    labels: &[usize],
    k: usize,
    train: &[usize],
    held: &[usize],
    rng: &mut ChaCha8Rng,
    emit: &(dyn Fn(&[usize], &[f64]) + Sync),
) -> Result<FoldModel, String> {
    let present: std::collections::BTreeSet<usize> = train.iter().map(|&i| labels[i]).collect();
    if present.len() < 2 {
        // One class to learn from: it is all the model could ever say.
        let only = present.first().copied().unwrap_or(0);
        for rows in held.chunks(PREDICT_ROWS) {
            let mut probs = vec![0f64; rows.len() * k];
            probs
                .iter_mut()
                .skip(only)
                .step_by(k)
                .for_each(|p| *p = 1.0);
            emit(rows, &probs);
        }
        return Ok(FoldModel {
            w: vec![0.0; d],
            b: vec![0.0],
            classes: vec![only],
        });
    }
    let mut start = None;
    if train.len() > 2 * WARM_ROWS {
        let mut few = train.to_vec();
        few.shuffle(rng);
        few.truncate(WARM_ROWS);
        // Only when every class is there: the start must have a column per class.
        if few
            .iter()
            .map(|&i| labels[i])
            .collect::<std::collections::BTreeSet<_>>()
            == present
        {
            few.sort_unstable();
            start = Some(as_start(&fit(x, d, labels, &few, None)?));
        }
    }
    let model = fit(x, d, labels, train, start)?;
    let classes = model.classes().to_vec();
    // A row's probabilities do not depend on the other rows of its block.
    for rows in held.chunks(PREDICT_ROWS) {
        let p = model.predict_probabilities(&matrix(x, d, rows));
        let mut probs = vec![0f64; rows.len() * k];
        for (full, row) in probs.chunks_exact_mut(k).zip(p.rows()) {
            for (&c, &v) in classes.iter().zip(row.iter()) {
                full[c] = v;
            }
        }
        emit(rows, &probs);
    }
    Ok(FoldModel {
        w: model.params().iter().copied().collect(),
        b: model.intercept().to_vec(),
        classes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capped_fold_keeps_every_class_in_proportion() {
        // 2,000 rows: class 0 most of them, class 2 only 5; folds of 5, a cap of 100.
        let labels: Vec<usize> = (0..2000)
            .map(|i| {
                if i < 5 {
                    2
                } else if i % 10 == 0 {
                    1
                } else {
                    0
                }
            })
            .collect();
        let fold = stratified_folds(&labels, 3, 5, 7);
        for f in 0..5 {
            let mut rng = ChaCha8Rng::seed_from_u64(f as u64);
            let rows = fold_training_rows(&fold, f, &labels, 3, 100, &mut rng);
            let count = |c| rows.iter().filter(|&&i| labels[i] == c).count();
            assert!(
                rows.iter().all(|&i| fold[i] != f),
                "held-out rows are not fitted on"
            );
            assert!(count(2) >= 1, "fold {f}: the rare class is fitted on");
            assert!(
                (8..=12).contains(&count(1)),
                "fold {f}: {} of class 1",
                count(1)
            );
            assert!(
                (85..=92).contains(&count(0)),
                "fold {f}: {} of class 0",
                count(0)
            );
            assert!(
                rows.windows(2).all(|w| w[0] < w[1]),
                "ascending, no repeats"
            );
        }
        // Under the cap, every other fold's row.
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let others = fold.iter().filter(|&&g| g != 0).count();
        let all = fold_training_rows(&fold, 0, &labels, 3, 5000, &mut rng);
        assert_eq!(all.len(), others);
    }

    /// With two classes the multinomial model at `alpha(2)` is the binary logistic
    /// regression at ALPHA (scikit-learn's C = 1 / ALPHA): same probabilities.
    #[test]
    fn two_class_penalty_equals_the_binary_model() {
        use rand::RngExt;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (n, d) = (200, 3);
        let x = Array2::from_shape_fn((n, d), |_| rng.random::<f64>() * 2.0 - 1.0);
        // Noisy labels, so that the penalty matters.
        let y: Array1<usize> = (0..n)
            .map(|i| usize::from(x[[i, 0]] + 0.5 * x[[i, 1]] + rng.random::<f64>() - 0.5 > 0.0))
            .collect();
        let multi = MultiLogisticRegression::default()
            .alpha(alpha(2))
            .max_iterations(1000)
            .gradient_tolerance(1e-10)
            .fit(&Dataset::new(x.clone(), y.clone()))
            .unwrap();
        let binary = linfa_logistic::LogisticRegression::default()
            .alpha(ALPHA)
            .max_iterations(1000)
            .gradient_tolerance(1e-10)
            .fit(&Dataset::new(x.clone(), y.mapv(|v| v == 1)))
            .unwrap();
        let pm = multi.predict_probabilities(&x);
        let pb = binary.predict_probabilities(&x);
        // linfa's binary model predicts the class it picks as positive (by frequency).
        let pb = if (pm[[0, 1]] - pb[0]).abs() > (pm[[0, 1]] - (1.0 - pb[0])).abs() {
            pb.mapv(|p| 1.0 - p)
        } else {
            pb
        };
        for i in 0..n {
            assert!(
                (pm[[i, 1]] - pb[i]).abs() < 1e-4,
                "row {i}: {} vs {}",
                pm[[i, 1]],
                pb[i]
            );
        }
        // And the penalty is not negligible here: at ALPHA the two differ.
        let halved = MultiLogisticRegression::default()
            .alpha(ALPHA)
            .max_iterations(1000)
            .gradient_tolerance(1e-10)
            .fit(&Dataset::new(x.clone(), y))
            .unwrap()
            .predict_probabilities(&x);
        assert!((0..n).any(|i| (halved[[i, 1]] - pb[i]).abs() > 1e-3));
    }

    #[test]
    fn folds_are_stratified() {
        let labels: Vec<usize> = (0..103).map(|i| if i < 80 { 0 } else { 1 }).collect();
        let fold = stratified_folds(&labels, 2, 5, 7);
        for f in 0..5 {
            let zeros = (0..103).filter(|&i| fold[i] == f && labels[i] == 0).count();
            let ones = (0..103).filter(|&i| fold[i] == f && labels[i] == 1).count();
            assert_eq!(zeros, 16);
            assert!((4..=5).contains(&ones));
        }
        assert_eq!(fold, stratified_folds(&labels, 2, 5, 7));
    }

    #[test]
    fn separable_classes_are_predicted_out_of_fold() {
        // Two clusters in 2-D; every row's probability comes from a model that did
        // not see it.
        let n = 60;
        let labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
        let x: Vec<f64> = (0..n)
            .flat_map(|i| {
                let c = if i % 2 == 0 { -1.0 } else { 1.0 };
                [
                    c + (i as f64 * 0.37).sin() * 0.3,
                    c + (i as f64 * 0.71).cos() * 0.3,
                ]
            })
            .collect();
        let fold = stratified_folds(&labels, 2, 5, 0);
        let (p, models) = cross_validate(&x, 2, &labels, 2, &fold, 5, usize::MAX, 0).unwrap();
        // A kept model scores its held-out rows as the fit did.
        for i in (0..n).filter(|&i| fold[i] == 2) {
            let again = models[2].probabilities(&x[i * 2..i * 2 + 2], 2);
            for j in 0..2 {
                assert!((again[j] - p[i * 2 + j]).abs() < 1e-9, "row {i}");
            }
        }
        for i in 0..n {
            assert!(
                p[i * 2 + labels[i]] > 0.5,
                "row {i}: {:?}",
                &p[i * 2..i * 2 + 2]
            );
            assert!((p[i * 2] + p[i * 2 + 1] - 1.0).abs() < 1e-9);
        }
    }
}
