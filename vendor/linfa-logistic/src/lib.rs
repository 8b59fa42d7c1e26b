//! # Logistic Regression
//!
//! ## The Big Picture
//!
//! `linfa-logistic` is a crate in the [`linfa`](https://crates.io/crates/linfa) ecosystem, an effort to create a toolkit for classical Machine Learning implemented in pure Rust, akin to Python's `scikit-learn`.
//!
//! ## Current state
//! `linfa-logistic` provides a pure Rust implementation of a [binomial logistic regression model](LogisticRegression) and a [multinomial logistic regression model](MultiLogisticRegression).
//!
//! ## Examples
//!
//! There is an usage example in the `examples/` directory. To run, use:
//!
//! ```bash
//! $ cargo run --example winequality
//! ```
//!

pub mod error;

use crate::error::{Error, Result};
use argmin::core::{CostFunction, Executor, Gradient, IterState, OptimizationResult, Solver};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use linfa::dataset::AsSingleTargets;
use linfa::prelude::DatasetBase;
use linfa::traits::{Fit, PredictInplace};
use ndarray::{
    s, Array, Array1, Array2, ArrayBase, ArrayView, ArrayView2, Axis, CowArray, Data, DataMut,
    Dimension, IntoDimension, Ix1, Ix2, RemoveAxis, Slice, Zip,
};
use ndarray_stats::QuantileExt;
use std::cell::RefCell;
use std::default::Default;

#[cfg(feature = "serde")]
use serde_crate::de::DeserializeOwned;
#[cfg(feature = "serde")]
use serde_crate::{Deserialize, Serialize};

mod argmin_param;
mod float;
mod hyperparams;

use argmin_param::*;
use float::Float;
use hyperparams::{LogisticRegressionParams, LogisticRegressionValidParams};

/// A two-class logistic regression model.
///
/// Logistic regression combines linear models with
/// the sigmoid function `sigm(x) = 1/(1+exp(-x))`
/// to learn a family of functions that map the feature space to `[0,1]`.
///
/// Logistic regression is used in binary classification
/// by interpreting the predicted value as the probability that the sample
/// has label `1`. A threshold can be set in the [fitted model](FittedLogisticRegression) to decide the minimum
/// probability needed to classify a sample as `1`, which defaults to `0.5`.
///
/// In this implementation any binary set of labels can be used, not necessarily `0` and `1`.
///
/// l2 regularization is used by this algorithm and is weighted by parameter `alpha`. Setting `alpha`
/// close to zero removes regularization and the problem solved minimizes only the
/// empirical risk. On the other hand, setting `alpha` to a high value increases
/// the weight of the l2 norm of the linear model coefficients in the cost function.
///
/// ## Examples
///
/// Here's an example on how to train a logistic regression model on the `winequality` dataset
/// ```rust
/// use linfa::traits::{Fit, Predict};
/// use linfa_logistic::LogisticRegression;
///
/// // Example on using binary labels different from 0 and 1
/// let dataset = linfa_datasets::winequality().map_targets(|x| if *x > 6 { "good" } else { "bad" });
/// let model = LogisticRegression::default().fit(&dataset).unwrap();
/// let prediction = model.predict(&dataset);
/// ```
pub type LogisticRegression<F> = LogisticRegressionParams<F, Ix1>;

/// Validated version of `LogisticRegression`
pub type ValidLogisticRegression<F> = LogisticRegressionValidParams<F, Ix1>;

/// A multinomial class logistic regression model.
///
/// The output labels can map to any discrete feature space, since the algorithm calculates the
/// likelihood of a feature vector corresponding to any given outcome using the softmax function
/// `softmax(x) = exp(x) / sum(exp(xi))`
///
/// l2 regularization is used by this algorithm and is weighted by parameter `alpha`. Setting `alpha`
/// close to zero removes regularization and the problem solved minimizes only the
/// empirical risk. On the other hand, setting `alpha` to a high value increases
/// the weight of the l2 norm of the linear model coefficients in the cost function.
pub type MultiLogisticRegression<F> = LogisticRegressionParams<F, Ix2>;

/// Validated version of `MultiLogisticRegression`
pub type ValidMultiLogisticRegression<F> = LogisticRegressionValidParams<F, Ix2>;

impl<F: Float, D: Dimension> Default for LogisticRegressionParams<F, D> {
    fn default() -> Self {
        LogisticRegressionParams::new()
    }
}

type LBFGSType<F, D> = LBFGS<
    MoreThuenteLineSearch<ArgminParam<F, D>, ArgminParam<F, D>, F>,
    ArgminParam<F, D>,
    ArgminParam<F, D>,
    F,
>;
type LBFGSType1<F> = LBFGSType<F, Ix1>;
type LBFGSType2<F> = LBFGSType<F, Ix2>;

type IterStateType<F, D> = IterState<ArgminParam<F, D>, ArgminParam<F, D>, (), (), (), F>;

impl<F: Float, D: Dimension> LogisticRegressionValidParams<F, D> {
    /// Create the initial parameters, either from a user supplied array
    /// or an array of 0s
    fn setup_init_params(&self, dims: D::Pattern) -> ArgminParam<F, D> {
        if let Some(params) = self.initial_params.as_ref() {
            ArgminParam(params.clone())
        } else {
            let mut dims = dims.into_dimension();
            dims.as_array_view_mut()[0] += self.fit_intercept as usize;
            ArgminParam(Array::zeros(dims))
        }
    }

    /// Ensure that `x` and `y` have the right shape and that all data and
    /// configuration parameters are finite.
    fn validate_data<A: Data<Elem = F>, B: Data<Elem = F>>(
        &self,
        x: &ArrayBase<A, Ix2>,
        y: &ArrayBase<B, D>,
    ) -> Result<()> {
        if x.shape()[0] != y.shape()[0] {
            return Err(Error::MismatchedShapes(x.shape()[0], y.shape()[0]));
        }
        if x.iter().any(|x| !x.is_finite()) || y.iter().any(|y| !y.is_finite()) {
            return Err(Error::InvalidValues);
        }
        self.validate_init_dims(x.shape()[1], y.shape().get(1).copied())?;
        Ok(())
    }

    fn validate_init_dims(&self, mut n_features: usize, n_classes: Option<usize>) -> Result<()> {
        if let Some(params) = self.initial_params.as_ref() {
            let shape = params.shape();
            n_features += self.fit_intercept as usize;
            if n_features != shape[0] {
                return Err(Error::InitialParameterFeaturesMismatch {
                    n_features,
                    rows: shape[0],
                });
            }
            if let Some(n_classes) = n_classes {
                if n_classes != shape[1] {
                    return Err(Error::InitialParameterClassesMismatch {
                        n_classes,
                        cols: shape[1],
                    });
                }
            }
        }
        Ok(())
    }

    /// Create a `LogisticRegressionProblem`.
    fn setup_problem<'a, A: Data<Elem = F>>(
        &self,
        x: &'a ArrayBase<A, Ix2>,
        target: Array<F, D>,
    ) -> LogisticRegressionProblem<'a, F, A, D> {
        LogisticRegressionProblem {
            x,
            target,
            alpha: self.alpha,
            memo: RefCell::new(Memo::default()),
        }
    }

    /// Create the LBFGS solver using MoreThuenteLineSearch and set gradient
    /// tolerance.
    fn setup_solver(&self) -> LBFGSType<F, D> {
        let linesearch = MoreThuenteLineSearch::new();
        LBFGS::new(linesearch, 10)
            .with_tolerance_grad(self.gradient_tolerance)
            .unwrap()
    }
}

impl<
        F: Float,
        #[cfg(feature = "serde")] D: Dimension + Serialize + DeserializeOwned,
        #[cfg(not(feature = "serde"))] D: Dimension,
    > LogisticRegressionValidParams<F, D>
{
    /// Run the LBFGS solver until it converges or runs out of iterations.
    fn run_solver<P: SolvableProblem<F, D>>(
        &self,
        problem: P,
        solver: P::Solver,
        init_params: ArgminParam<F, D>,
    ) -> Result<OptimizationResult<P, P::Solver, IterStateType<F, D>>> {
        Executor::new(problem, solver)
            .configure(|state| state.param(init_params).max_iters(self.max_iterations))
            .run()
            .map_err(move |err| err.into())
    }
}

impl<C: Ord + Clone, F: Float, D: Data<Elem = F>, T: AsSingleTargets<Elem = C>>
    Fit<ArrayBase<D, Ix2>, T, Error> for ValidLogisticRegression<F>
{
    type Object = FittedLogisticRegression<F, C>;

    /// Given a 2-dimensional feature matrix array `x` with shape
    /// (n_samples, n_features) and an array of target classes to predict,
    /// create a `FittedLinearRegression` object which allows making
    /// predictions.
    ///
    /// The array of target classes `y` must have exactly two discrete values, (e.g. 0 and 1, "cat"
    /// and "dog", ...), which represent the two different classes the model is supposed to
    /// predict.
    ///
    /// The array `y` must also have exactly `n_samples` items, i.e.
    /// exactly as many items as there are rows in the feature matrix `x`.
    ///
    /// This method returns an error if any of the preconditions are violated,
    /// i.e. any values are `Inf` or `NaN`, `y` doesn't have as many items as
    /// `x` has rows, or if other parameters (gradient_tolerance, alpha) have
    /// been set to inalid values.
    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<Self::Object> {
        let (x, y) = (dataset.records(), dataset.targets());
        let (labels, target) = label_classes(y)?;
        self.validate_data(x, &target)?;
        let problem = self.setup_problem(x, target);
        let solver = self.setup_solver();
        let init_params = self.setup_init_params(x.ncols());
        let result = self.run_solver(problem, solver, init_params)?;

        let params = result
            .state
            .best_param
            .unwrap_or(self.setup_init_params(x.ncols()));
        let (w, intercept) = convert_params(x.ncols(), params.as_array());
        Ok(FittedLogisticRegression::new(
            *intercept.view().into_scalar(),
            w.to_owned(),
            labels,
        ))
    }
}

impl<C: Ord + Clone, F: Float, D: Data<Elem = F>, T: AsSingleTargets<Elem = C>>
    Fit<ArrayBase<D, Ix2>, T, Error> for ValidMultiLogisticRegression<F>
{
    type Object = MultiFittedLogisticRegression<F, C>;

    /// Given a 2-dimensional feature matrix array `x` with shape
    /// (n_samples, n_features) and an array of target classes to predict,
    /// create a `MultiFittedLogisticRegression` object which allows making
    /// predictions. The target classes can have any number of discrete values.
    ///
    /// This method returns an error if any of the preconditions are violated,
    /// i.e. any values are `Inf` or `NaN`, `y` doesn't have as many items as
    /// `x` has rows, or if other parameters (gradient_tolerance, alpha) have
    /// been set to inalid values. The input features are also strongly recommended to be
    /// normalized to ensure numerical stability.
    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<Self::Object> {
        let (x, y) = (dataset.records(), dataset.targets());
        let (classes, target) = label_classes_multi(y)?;
        self.validate_data(x, &target)?;
        let problem = self.setup_problem(x, target);
        let solver = self.setup_solver();
        let init_params = self.setup_init_params((x.ncols(), classes.len()));
        let result = self.run_solver(problem, solver, init_params)?;

        let params = result
            .state
            .best_param
            .unwrap_or(self.setup_init_params((x.ncols(), classes.len())));
        let (w, intercept) = convert_params(x.ncols(), params.as_array());
        Ok(MultiFittedLogisticRegression::new(
            intercept.to_owned(),
            w.to_owned(),
            classes,
        ))
    }
}

/// Identify the distinct values of the classes `y` and associate
/// the target labels `-1.0` and `1.0` to it. -1.0 always labels the
/// smaller class (by PartialOrd) and 1.0 always labels the larger
/// class.
///
/// It is an error to have more than two classes.
fn label_classes<F, T, C>(y: T) -> Result<(BinaryClassLabels<F, C>, Array1<F>)>
where
    F: Float,
    T: AsSingleTargets<Elem = C>,
    C: Ord + Clone,
{
    let y = y.as_single_targets();

    // counts the instances of two distinct class labels
    let mut binary_classes = [None, None];
    // find binary classes of our target dataset
    for class in y {
        binary_classes = match binary_classes {
            // count the first class label
            [None, None] => [Some((class, 1)), None],
            // if the class has already been counted, increment the count
            [Some((c, count)), c2] if c == class => [Some((class, count + 1)), c2],
            [c1, Some((c, count))] if c == class => [c1, Some((class, count + 1))],
            // count the second class label
            [Some(c1), None] => [Some(c1), Some((class, 1))],

            // should not be possible
            [None, Some(_)] => unreachable!("impossible binary class array"),
            // found 3rd distinct class
            [Some(_), Some(_)] => return Err(Error::TooManyClasses),
        };
    }

    let (pos_class, neg_class) = match binary_classes {
        [Some(a), Some(b)] => (a, b),
        _ => return Err(Error::TooFewClasses),
    };

    let mut target_array = y
        .into_iter()
        .map(|x| {
            if x == pos_class.0 {
                F::POSITIVE_LABEL
            } else {
                F::NEGATIVE_LABEL
            }
        })
        .collect::<Array1<_>>();

    let (pos_cl, neg_cl) = if pos_class.1 < neg_class.1 {
        // If we found the larger class first, flip the sign in the target
        // vector, so that -1.0 is always the label for the smaller class
        // and 1.0 the label for the larger class
        target_array *= -F::one();
        (neg_class.0.clone(), pos_class.0.clone())
    } else {
        (pos_class.0.clone(), neg_class.0.clone())
    };

    Ok((
        BinaryClassLabels {
            pos: ClassLabel {
                class: pos_cl,
                label: F::POSITIVE_LABEL,
            },
            neg: ClassLabel {
                class: neg_cl,
                label: F::NEGATIVE_LABEL,
            },
        },
        target_array,
    ))
}

/// Identify the distinct values of the classes in `y` and map each value to an integer. Smaller
/// classes (by `PartialOrd`) map to smaller integers. Returns the mapping along with a one-hot
/// encoding of the numerical labels corresponding to `y`.
fn label_classes_multi<F, T, C>(y: T) -> Result<(Vec<C>, Array2<F>)>
where
    F: Float,
    T: AsSingleTargets<Elem = C>,
    C: Ord + Clone,
{
    let y_single_target = y.as_single_targets();
    let mut classes = y_single_target.to_vec();
    // Dedup the list of classes
    classes.sort();
    classes.dedup();

    let mut onehot = Array2::zeros((y_single_target.len(), classes.len()));
    Zip::from(onehot.rows_mut())
        .and(&y_single_target)
        .for_each(|mut oh_row, cls| {
            let idx = classes.binary_search(cls).unwrap();
            oh_row[idx] = F::one();
        });
    Ok((classes, onehot))
}

/// Conditionally split the feature vector `w` into parameter vector and
/// intercept parameter.
/// Dimensions of `w` are either (f) or (f, n_classes)
fn convert_params<F: Float, D: Dimension + RemoveAxis>(
    n_features: usize,
    w: &Array<F, D>,
) -> (ArrayView<'_, F, D>, CowArray<'_, F, D::Smaller>) {
    let nrows = w.shape()[0];
    if n_features == nrows {
        (
            w.view(),
            Array::zeros(w.raw_dim().remove_axis(Axis(0))).into(),
        )
    } else if n_features + 1 == nrows {
        (
            w.slice_axis(Axis(0), Slice::from(..n_features)),
            w.index_axis(Axis(0), n_features).into(),
        )
    } else {
        panic!(
            "Unexpected length of parameter vector `w`, exected {} or {}, found {}",
            n_features,
            n_features + 1,
            nrows
        );
    }
}

/// The logistic function
fn logistic<F: linfa::Float>(x: F) -> F {
    F::one() / (F::one() + (-x).exp())
}

/// A numerically stable version of the log of the logistic function.
///
/// Taken from scikit-learn
/// https://github.com/scikit-learn/scikit-learn/blob/0.23.1/sklearn/utils/_logistic_sigmoid.pyx
///
/// See the blog post describing this implementation:
/// http://fa.bianp.net/blog/2013/numerical-optimizers-for-logistic-regression/
fn log_logistic<F: linfa::Float>(x: F) -> F {
    if x > F::zero() {
        -(F::one() + (-x).exp()).ln()
    } else {
        x - (F::one() + x.exp()).ln()
    }
}

/// Finds the log of the sum of exponents across a specific axis in a numerically stable way. More
/// specifically, computes `ln(exp(x1) + exp(x2) + exp(e3) + ...)` across an axis.
///
/// Based off this implementation: https://docs.scipy.org/doc/scipy/reference/generated/scipy.special.logsumexp.html
fn log_sum_exp<F: linfa::Float, A: Data<Elem = F>>(
    m: &ArrayBase<A, Ix2>,
    axis: Axis,
) -> Array<F, Ix1> {
    // Find max value of the array
    let max = m.iter().copied().reduce(F::max).unwrap();
    // Computes `max + ln(exp(x1-max) + exp(x2-max) + exp(x3-max) + ...)`, which is equal to the
    // log_sum_exp formula
    let reduced = m.fold_axis(axis, F::zero(), |acc, elem| *acc + (*elem - max).exp());
    reduced.mapv_into(|e| e.max(F::cast(1e-15)).ln() + max)
}

/// Computes `exp(n - max) / sum(exp(n- max))`, which is a numerically stable version of softmax
fn softmax_inplace<F: linfa::Float, A: DataMut<Elem = F>>(v: &mut ArrayBase<A, Ix1>) {
    let max = v.iter().copied().reduce(F::max).unwrap();
    v.mapv_inplace(|n| (n - max).exp());
    let sum = v.sum();
    v.mapv_inplace(|n| n / sum);
}

/// Computes the logistic loss assuming the training labels $y \in {-1, 1}$
///
/// Because the logistic function fullfills $\sigma(-z) = 1 - \sigma(z)$
/// we can write $P(y=1|z) = \sigma(z) = \sigma(yz)$ and
/// $P(y=-1|z) = 1 - P(y=1|z) = 1 - \sigma(z) = \sigma(-z) = \sigma(yz)$, so
/// $P(y|z) = \sigma(yz)$ for both $y=1$ and $y=-1$.
///
/// Thus, the log loss can be written as
/// $$-\sum_{i=1}^{N} \log(\sigma(y_i z_i)) + \frac{\alpha}{2}\text{params}^T\text{params}$$
fn logistic_loss<F: Float>(yz: &Array1<F>, n_features: usize, alpha: F, w: &Array1<F>) -> F {
    // dsaudit patch: `yz` comes from `logistic_yz`, shared with the gradient.
    let (params, _) = convert_params(n_features, w);
    let yz = yz.mapv(log_logistic);
    -yz.sum() + F::cast(0.5) * alpha * params.dot(&params)
}

/// dsaudit patch: `y * (X . params + intercept)`, the forward product the loss and
/// the gradient both start from (formerly computed in each). `X . params` is
/// ndarray's matrix–vector product (each row's unrolled dot product) where upstream
/// multiplied by params as a one-column matrix: matrixmultiply then copied all of X
/// into its packing buffers at every step of the fit and padded the column to its
/// kernel's width (7% of the four-part merge's CPU on the 100,000-image
/// benchmark). The sums are grouped differently, so values differ from upstream's in
/// the last bits, and no longer with the CPU's kernel (FMA or not).
fn logistic_yz<F: Float, A: Data<Elem = F>>(
    x: &ArrayBase<A, Ix2>,
    y: &Array1<F>,
    w: &Array1<F>,
) -> Array1<F> {
    let n_features = x.shape()[1];
    let (params, intercept) = convert_params(n_features, w);
    let b = intercept[()];
    let mut yz = Array1::<F>::zeros(x.nrows());
    for ((out, row), &yi) in yz.iter_mut().zip(x.outer_iter()).zip(y) {
        *out = (row.dot(&params) + b) * yi;
    }
    yz
}

/// Computes the gradient of the logistic loss function
fn logistic_grad<F: Float, A: Data<Elem = F>>(
    x: &ArrayBase<A, Ix2>,
    y: &Array1<F>,
    alpha: F,
    w: &Array1<F>,
    mut yz: Array1<F>,
) -> Array1<F> {
    // dsaudit patch: `yz` comes from `logistic_yz`, shared with the loss.
    let n_features = x.shape()[1];
    let (params, _) = convert_params(n_features, w);
    yz.mapv_inplace(logistic);
    yz -= F::one();
    yz *= y;
    if w.len() == n_features + 1 {
        let mut grad = Array::zeros(w.len());
        grad.slice_mut(s![..n_features])
            .assign(&(xt_dot(x, &yz) + (&params * alpha)));
        grad[n_features] = yz.sum();
        grad
    } else {
        xt_dot(x, &yz) + (&params * alpha)
    }
}

/// dsaudit patch: `x.t().dot(v)` with ndarray's own arithmetic, read in memory order.
/// ndarray sums each column's products from zero in row order through a strided
/// view (its `dot_generic`), one column at a time: a pass over X per feature. The
/// same sums in the same order, built row by row, give the same bits in one pass.
/// Where ndarray would take its unrolled contiguous dot instead (one column, one
/// row) or X is not row-major, ndarray itself is called.
fn xt_dot<F: Float, A: Data<Elem = F>>(x: &ArrayBase<A, Ix2>, v: &Array1<F>) -> Array1<F> {
    let (n, d) = x.dim();
    if n < 2 || d < 2 || !x.is_standard_layout() {
        return x.t().dot(v);
    }
    let mut acc = Array1::<F>::zeros(d);
    let sums = acc.as_slice_mut().expect("a new array is contiguous");
    for (row, &vi) in x.outer_iter().zip(v.iter()) {
        let row = row
            .to_slice()
            .expect("rows of a standard layout are contiguous");
        for (sum, &xij) in sums.iter_mut().zip(row) {
            *sum += xij * vi;
        }
    }
    acc
}

/// Compute the log of probabilities, which is `log(softmax(H))`, where H is `X . W + b`. Also
/// returns `W` without the intercept.
/// `Y` is the output (n_samples * n_classes), `X` is the input (n_samples * n_features), `W` is the
/// params (n_features * n_classes), `b` is the intercept vector (n_classes).
fn multi_logistic_prob_params<'a, F: Float, A: Data<Elem = F>>(
    x: &ArrayBase<A, Ix2>,
    w: &'a Array2<F>, // This parameter includes `W` and `b`
) -> (Array2<F>, ArrayView2<'a, F>) {
    // dsaudit patch: the loss and the gradient call this through `Memo`, so that
    // it runs once per parameter.
    let n_features = x.shape()[1];
    let (params, intercept) = convert_params(n_features, w);
    // Compute H
    let h = x.dot(&params) + intercept;
    // This computes `H - log(sum(exp(H)))`, which is equal to
    // `log(softmax(H)) = log(exp(H) / sum(exp(H)))`
    let log_prob = &h
        - log_sum_exp(&h, Axis(1))
            .into_shape_with_order((h.nrows(), 1))
            .unwrap();
    (log_prob, params)
}

/// Computes loss function of `-sum(Y * log(softmax(H))) + alpha/2 * norm(W)`
fn multi_logistic_loss<F: Float>(
    log_prob: &Array2<F>,
    n_features: usize,
    y: &Array2<F>,
    alpha: F,
    w: &Array2<F>,
) -> F {
    // dsaudit patch: `log_prob` from `multi_logistic_prob_params`, shared.
    let (params, _) = convert_params(n_features, w);
    // Calculate loss
    -elem_dot(log_prob, y) + F::cast(0.5) * alpha * elem_dot(&params, &params)
}

/// Computes multinomial gradients for `W` and `b` and combine them.
/// Gradient for `W` is `Xt . (softmax(H) - Y) + alpha * W`.
/// Gradient for `b` is `sum(softmax(H) - Y)`.
fn multi_logistic_grad<F: Float, A: Data<Elem = F>>(
    x: &ArrayBase<A, Ix2>,
    y: &Array2<F>,
    alpha: F,
    w: &Array2<F>,
    log_prob: Array2<F>,
) -> Array2<F> {
    // dsaudit patch: `log_prob` from `multi_logistic_prob_params`, shared.
    let (params, _) = convert_params(x.shape()[1], w);
    let (n_features, n_classes) = params.dim();
    let intercept = w.nrows() > n_features;
    let mut grad = Array::zeros((n_features + intercept as usize, n_classes));

    // This value is `softmax(H)`
    let prob = log_prob.mapv_into(num_traits::Float::exp);
    let diff = prob - y;
    // Compute gradient for `W` and place it at start of the grad matrix
    let dw = x.t().dot(&diff) + (&params * alpha);
    grad.slice_mut(s![..n_features, ..]).assign(&dw);
    // Compute gradient for `b` and place it at end of grad matrix
    if intercept {
        grad.row_mut(n_features).assign(&diff.sum_axis(Axis(0)));
    }
    grad
}

/// A fitted logistic regression which can make predictions
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(crate = "serde_crate")
)]
pub struct FittedLogisticRegression<F: Float, C: PartialOrd + Clone> {
    threshold: F,
    intercept: F,
    params: Array1<F>,
    labels: BinaryClassLabels<F, C>,
}

impl<F: Float, C: PartialOrd + Clone> FittedLogisticRegression<F, C> {
    fn new(
        intercept: F,
        params: Array1<F>,
        labels: BinaryClassLabels<F, C>,
    ) -> FittedLogisticRegression<F, C> {
        FittedLogisticRegression {
            threshold: F::cast(0.5),
            intercept,
            params,
            labels,
        }
    }

    /// Set the probability threshold for which the 'positive' class will be
    /// predicted. Defaults to 0.5.
    pub fn set_threshold(mut self, threshold: F) -> FittedLogisticRegression<F, C> {
        if threshold < F::zero() || threshold > F::one() {
            panic!("FittedLogisticRegression::set_threshold: threshold needs to be between 0.0 and 1.0");
        }
        self.threshold = threshold;
        self
    }

    pub fn intercept(&self) -> F {
        self.intercept
    }

    pub fn params(&self) -> &Array1<F> {
        &self.params
    }

    /// Get the model positive and negative classes mapped to their
    /// corresponding problem input labels.
    pub fn labels(&self) -> &BinaryClassLabels<F, C> {
        &self.labels
    }

    /// Given a feature matrix, predict the probabilities that a sample
    /// should be classified as the larger of the two classes learned when the
    /// model was fitted.
    pub fn predict_probabilities<A: Data<Elem = F>>(&self, x: &ArrayBase<A, Ix2>) -> Array1<F> {
        let mut probs = x.dot(&self.params) + self.intercept;
        probs.mapv_inplace(logistic);
        probs
    }
}

impl<C: PartialOrd + Clone + Default, F: Float, D: Data<Elem = F>>
    PredictInplace<ArrayBase<D, Ix2>, Array1<C>> for FittedLogisticRegression<F, C>
{
    /// Given a feature matrix, predict the classes learned when the model was
    /// fitted.
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<C>) {
        assert_eq!(
            x.nrows(),
            y.len(),
            "The number of data points must match the number of output targets."
        );
        assert_eq!(
            x.ncols(),
            self.params.len(),
            "Number of data features must match the number of features the model was trained with."
        );

        let pos_class = &self.labels.pos.class;
        let neg_class = &self.labels.neg.class;
        Zip::from(&self.predict_probabilities(x))
            .and(y)
            .for_each(|prob, out| {
                *out = if *prob >= self.threshold {
                    pos_class.clone()
                } else {
                    neg_class.clone()
                }
            });
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<C> {
        Array1::default(x.nrows())
    }
}

/// A fitted multinomial logistic regression which can make predictions
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(crate = "serde_crate")
)]
pub struct MultiFittedLogisticRegression<F, C: PartialOrd + Clone> {
    intercept: Array1<F>,
    params: Array2<F>,
    classes: Vec<C>,
}

impl<F: Float, C: PartialOrd + Clone> MultiFittedLogisticRegression<F, C> {
    fn new(intercept: Array1<F>, params: Array2<F>, classes: Vec<C>) -> Self {
        Self {
            intercept,
            params,
            classes,
        }
    }

    pub fn intercept(&self) -> &Array1<F> {
        &self.intercept
    }

    pub fn params(&self) -> &Array2<F> {
        &self.params
    }

    /// Return non-normalized probabilities (n_samples * n_classes)
    fn predict_nonorm_probabilities<A: Data<Elem = F>>(&self, x: &ArrayBase<A, Ix2>) -> Array2<F> {
        x.dot(&self.params) + &self.intercept
    }

    /// Return normalized probabilities for each output class. The output dimensions are (n_samples
    /// * n_classes).
    pub fn predict_probabilities<A: Data<Elem = F>>(&self, x: &ArrayBase<A, Ix2>) -> Array2<F> {
        let mut probs = self.predict_nonorm_probabilities(x);
        probs
            .rows_mut()
            .into_iter()
            .for_each(|mut row| softmax_inplace(&mut row));
        probs
    }

    /// Get the list of class labels, which maps the numerical class indices to the labels
    pub fn classes(&self) -> &[C] {
        &self.classes
    }
}

impl<C: PartialOrd + Clone + Default, F: Float, D: Data<Elem = F>>
    PredictInplace<ArrayBase<D, Ix2>, Array1<C>> for MultiFittedLogisticRegression<F, C>
{
    /// Given a feature matrix, predict the classes learned when the model was
    /// fitted.
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<C>) {
        assert_eq!(
            x.nrows(),
            y.len(),
            "The number of data points must match the number of output targets."
        );
        assert_eq!(
            x.ncols(),
            self.params.nrows(),
            "Number of data features must match the number of features the model was trained with."
        );

        let probs = self.predict_nonorm_probabilities(x);
        Zip::from(probs.rows()).and(y).for_each(|prob_row, out| {
            let idx = prob_row.argmax().unwrap();
            *out = self.classes[idx].clone();
        });
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<C> {
        Array1::default(x.nrows())
    }
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(crate = "serde_crate")
)]
pub struct ClassLabel<F, C: PartialOrd> {
    pub class: C,
    pub label: F,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(crate = "serde_crate")
)]
pub struct BinaryClassLabels<F, C: PartialOrd> {
    pub pos: ClassLabel<F, C>,
    pub neg: ClassLabel<F, C>,
}

/// Internal representation of a logistic regression problem.
/// This data structure exists to be handed to Argmin.
struct LogisticRegressionProblem<'a, F: Float, A: Data<Elem = F>, D: Dimension> {
    x: &'a ArrayBase<A, Ix2>,
    target: Array<F, D>,
    alpha: F,
    memo: RefCell<Memo<F, D>>,
}

/// dsaudit patch. argmin's L-BFGS asks for the cost and then the gradient at every
/// point its line search tries, then for the gradient again at the point it
/// accepts: the forward product (n x features) was computed three times and the
/// gradient twice per step. The last point's forward product and gradient are kept
/// and given back when asked for the same parameters again, bit for bit, so the
/// fit is unchanged to the last bit.
struct Memo<F, D: Dimension> {
    forward: Option<(Array<F, D>, Array<F, D>)>,
    gradient: Option<(Array<F, D>, Array<F, D>)>,
}

impl<F, D: Dimension> Default for Memo<F, D> {
    fn default() -> Self {
        Memo {
            forward: None,
            gradient: None,
        }
    }
}

/// Same parameters, bit for bit (-0.0 is not 0.0; NaN is never the same).
fn same_params<F: Float, D: Dimension>(a: &Array<F, D>, b: &Array<F, D>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x == y && x.is_sign_negative() == y.is_sign_negative())
}

impl<F: Float, A: Data<Elem = F>, D: Dimension> LogisticRegressionProblem<'_, F, A, D> {
    /// The forward product at `w`: the kept one when `w` is the last point's.
    fn forward(&self, w: &Array<F, D>, compute: impl FnOnce() -> Array<F, D>) -> Array<F, D> {
        if let Some((at, f)) = &self.memo.borrow().forward {
            if same_params(at, w) {
                return f.clone();
            }
        }
        let f = compute();
        self.memo.borrow_mut().forward = Some((w.clone(), f.clone()));
        f
    }

    /// The gradient at `w`: the kept one when `w` is the last point's.
    fn gradient_memo(
        &self,
        w: &Array<F, D>,
        compute: impl FnOnce(Array<F, D>) -> Array<F, D>,
        forward: impl FnOnce() -> Array<F, D>,
    ) -> Array<F, D> {
        if let Some((at, g)) = &self.memo.borrow().gradient {
            if same_params(at, w) {
                return g.clone();
            }
        }
        let g = compute(self.forward(w, forward));
        self.memo.borrow_mut().gradient = Some((w.clone(), g.clone()));
        g
    }
}

type LogisticRegressionProblem1<'a, F, A> = LogisticRegressionProblem<'a, F, A, Ix1>;
type LogisticRegressionProblem2<'a, F, A> = LogisticRegressionProblem<'a, F, A, Ix2>;

impl<F: Float, A: Data<Elem = F>> CostFunction for LogisticRegressionProblem1<'_, F, A> {
    type Param = ArgminParam<F, Ix1>;
    type Output = F;

    /// Apply the cost function to a parameter `p`
    fn cost(&self, p: &Self::Param) -> std::result::Result<Self::Output, argmin::core::Error> {
        let w = p.as_array();
        let yz = self.forward(w, || logistic_yz(self.x, &self.target, w));
        let cost = logistic_loss(&yz, self.x.shape()[1], self.alpha, w);
        Ok(cost)
    }
}

impl<F: Float, A: Data<Elem = F>> Gradient for LogisticRegressionProblem1<'_, F, A> {
    type Param = ArgminParam<F, Ix1>;
    type Gradient = ArgminParam<F, Ix1>;

    /// Compute the gradient at parameter `p`.
    fn gradient(&self, p: &Self::Param) -> std::result::Result<Self::Param, argmin::core::Error> {
        let w = p.as_array();
        let grad = self.gradient_memo(
            w,
            |yz| logistic_grad(self.x, &self.target, self.alpha, w, yz),
            || logistic_yz(self.x, &self.target, w),
        );
        Ok(ArgminParam(grad))
    }
}

impl<F: Float, A: Data<Elem = F>> CostFunction for LogisticRegressionProblem2<'_, F, A> {
    type Param = ArgminParam<F, Ix2>;
    type Output = F;

    /// Apply the cost function to a parameter `p`
    fn cost(&self, p: &Self::Param) -> std::result::Result<Self::Output, argmin::core::Error> {
        let w = p.as_array();
        let log_prob = self.forward(w, || multi_logistic_prob_params(self.x, w).0);
        let cost = multi_logistic_loss(&log_prob, self.x.shape()[1], &self.target, self.alpha, w);
        Ok(cost)
    }
}

impl<F: Float, A: Data<Elem = F>> Gradient for LogisticRegressionProblem2<'_, F, A> {
    type Param = ArgminParam<F, Ix2>;
    type Gradient = ArgminParam<F, Ix2>;

    /// Compute the gradient at parameter `p`.
    fn gradient(&self, p: &Self::Param) -> std::result::Result<Self::Param, argmin::core::Error> {
        let w = p.as_array();
        let grad = self.gradient_memo(
            w,
            |log_prob| multi_logistic_grad(self.x, &self.target, self.alpha, w, log_prob),
            || multi_logistic_prob_params(self.x, w).0,
        );
        Ok(ArgminParam(grad))
    }
}

trait SolvableProblem<F: Float, D: Dimension>: Gradient + Sized {
    type Solver: Solver<Self, IterStateType<F, D>>;
}

impl<F: Float, A: Data<Elem = F>> SolvableProblem<F, Ix1> for LogisticRegressionProblem1<'_, F, A> {
    type Solver = LBFGSType1<F>;
}

impl<F: Float, A: Data<Elem = F>> SolvableProblem<F, Ix2> for LogisticRegressionProblem2<'_, F, A> {
    type Solver = LBFGSType2<F>;
}

/// dsaudit patch: upstream's tests need `linfa-datasets` and `approx` and are not
/// carried; these check that the patch changes no result, bit for bit, against
/// upstream's functions as published (copied below) but for the two-class forward
/// product, which is checked against the published one up to rounding.
#[cfg(test)]
mod patch {
    use super::*;
    use ndarray::array;

    mod upstream {
        use super::super::*;

        /// The one difference from upstream as published: `X . params` as a
        /// matrix–vector product (see `logistic_yz`), here as a column to keep the
        /// published code around it; `published_forward` is upstream's.
        fn forward<F: Float, A: Data<Elem = F>>(
            x: &ArrayBase<A, Ix2>,
            params: &ArrayView<F, Ix1>,
        ) -> Array2<F> {
            x.dot(params).insert_axis(Axis(1))
        }

        pub fn published_forward<F: Float, A: Data<Elem = F>>(
            x: &ArrayBase<A, Ix2>,
            params: &ArrayView<F, Ix1>,
        ) -> Array2<F> {
            x.dot(&params.into_shape_with_order((params.len(), 1)).unwrap())
        }

        pub fn logistic_loss<F: Float, A: Data<Elem = F>>(
            x: &ArrayBase<A, Ix2>,
            y: &Array1<F>,
            alpha: F,
            w: &Array1<F>,
        ) -> F {
            let n_features = x.shape()[1];
            let (params, intercept) = convert_params(n_features, w);
            let yz = forward(x, &params) + intercept;
            let len = yz.len();
            let mut yz = yz.into_shape_with_order(len).unwrap() * y;
            yz.mapv_inplace(log_logistic);
            -yz.sum() + F::cast(0.5) * alpha * params.dot(&params)
        }

        pub fn logistic_grad<F: Float, A: Data<Elem = F>>(
            x: &ArrayBase<A, Ix2>,
            y: &Array1<F>,
            alpha: F,
            w: &Array1<F>,
        ) -> Array1<F> {
            let n_features = x.shape()[1];
            let (params, intercept) = convert_params(n_features, w);
            let yz = forward(x, &params) + intercept;
            let len = yz.len();
            let mut yz = yz.into_shape_with_order(len).unwrap() * y;
            yz.mapv_inplace(logistic);
            yz -= F::one();
            yz *= y;
            if w.len() == n_features + 1 {
                let mut grad = Array::zeros(w.len());
                grad.slice_mut(s![..n_features])
                    .assign(&(x.t().dot(&yz) + (&params * alpha)));
                grad[n_features] = yz.sum();
                grad
            } else {
                x.t().dot(&yz) + (&params * alpha)
            }
        }

        pub fn multi_logistic_loss<F: Float, A: Data<Elem = F>>(
            x: &ArrayBase<A, Ix2>,
            y: &Array2<F>,
            alpha: F,
            w: &Array2<F>,
        ) -> F {
            let (log_prob, params) = multi_logistic_prob_params(x, w);
            -elem_dot(&log_prob, y) + F::cast(0.5) * alpha * elem_dot(&params, &params)
        }

        pub fn multi_logistic_grad<F: Float, A: Data<Elem = F>>(
            x: &ArrayBase<A, Ix2>,
            y: &Array2<F>,
            alpha: F,
            w: &Array2<F>,
        ) -> Array2<F> {
            let (log_prob, params) = multi_logistic_prob_params(x, w);
            let (n_features, n_classes) = params.dim();
            let intercept = w.nrows() > n_features;
            let mut grad = Array::zeros((n_features + intercept as usize, n_classes));
            let prob = log_prob.mapv_into(num_traits::Float::exp);
            let diff = prob - y;
            let dw = x.t().dot(&diff) + (&params * alpha);
            grad.slice_mut(s![..n_features, ..]).assign(&dw);
            if intercept {
                grad.row_mut(n_features).assign(&diff.sum_axis(Axis(0)));
            }
            grad
        }
    }

    /// Deterministic values with signs, zeros and a wide range of magnitudes.
    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|i| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                match i % 17 {
                    0 => 0.0,
                    1 => -0.0,
                    _ => (u - 0.5) * 10f64.powi((s % 7) as i32 - 3),
                }
            })
            .collect()
    }

    fn bits1(a: &Array1<f64>) -> Vec<u64> {
        a.iter().map(|v| v.to_bits()).collect()
    }

    fn bits2(a: &Array2<f64>) -> Vec<u64> {
        a.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn xt_dot_is_ndarrays_dot_bit_for_bit() {
        for (n, d) in [
            (1, 1),
            (1, 5),
            (7, 1),
            (2, 2),
            (33, 3),
            (250, 17),
            (1000, 80),
        ] {
            let x =
                Array2::from_shape_vec((n, d), values(n * d, n as u64 * 31 + d as u64)).unwrap();
            let v = Array1::from(values(n, 7 + n as u64));
            assert_eq!(bits1(&xt_dot(&x, &v)), bits1(&x.t().dot(&v)), "{n} x {d}");
            // Column-major and sliced inputs take ndarray's own path.
            let f = x.t().to_owned();
            let ft = f.t();
            assert_eq!(
                bits1(&xt_dot(&ft, &v)),
                bits1(&x.t().dot(&v)),
                "{n} x {d}, F order"
            );
        }
    }

    fn binary_case(n: usize, d: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
        let x = Array2::from_shape_vec((n, d), values(n * d, seed)).unwrap();
        let y = values(n, seed + 1)
            .iter()
            .map(|v| if *v >= 0.0 { 1.0 } else { -1.0 })
            .collect();
        (x, y)
    }

    /// The matrix–vector forward product is upstream's one-column product up to
    /// rounding: within a few units in the last place of the sum of |terms|.
    #[test]
    fn the_forward_product_is_the_published_one_but_for_rounding() {
        for (n, d, seed) in [
            (1, 1, 40),
            (9, 3, 41),
            (300, 12, 42),
            (500, 83, 43),
            (64, 301, 44),
        ] {
            let (x, y) = binary_case(n, d, seed);
            let w = Array1::from(values(d + 1, seed + 2));
            let (params, intercept) = convert_params(d, &w);
            let published = upstream::published_forward(&x, &params);
            let ours = logistic_yz(&x, &y, &w);
            for i in 0..n {
                let want = (published[[i, 0]] + intercept[()]) * y[i];
                let scale: f64 = x
                    .row(i)
                    .iter()
                    .zip(&params)
                    .map(|(a, b)| (a * b).abs())
                    .sum::<f64>()
                    + intercept[()].abs();
                assert!(
                    (ours[i] - want).abs() <= 4.0 * d as f64 * f64::EPSILON * scale,
                    "{n} x {d}, row {i}: {} vs {want}",
                    ours[i]
                );
            }
        }
    }

    #[test]
    fn binary_loss_and_gradient_are_upstreams() {
        let (x, y) = binary_case(300, 12, 3);
        for (k, w) in vec![values(12, 10), values(13, 11), vec![0.0; 13]]
            .into_iter()
            .enumerate()
        {
            let w = Array1::from(w);
            let yz = logistic_yz(&x, &y, &w);
            let loss = logistic_loss(&yz, 12, 0.7, &w);
            assert_eq!(
                loss.to_bits(),
                upstream::logistic_loss(&x, &y, 0.7, &w).to_bits(),
                "{k}"
            );
            let grad = logistic_grad(&x, &y, 0.7, &w, yz);
            assert_eq!(
                bits1(&grad),
                bits1(&upstream::logistic_grad(&x, &y, 0.7, &w)),
                "{k}"
            );
        }
    }

    #[test]
    fn multinomial_loss_and_gradient_are_upstreams() {
        let x = Array2::from_shape_vec((200, 9), values(1800, 5)).unwrap();
        let mut y = Array2::zeros((200, 3));
        for (i, v) in values(200, 6).iter().enumerate() {
            y[[i, ((v.abs() * 1e3) as usize) % 3]] = 1.0;
        }
        for w in [values(27, 12), values(30, 13), vec![0.0; 30]] {
            let w = Array2::from_shape_vec((w.len() / 3, 3), w).unwrap();
            let log_prob = multi_logistic_prob_params(&x, &w).0;
            let loss = multi_logistic_loss(&log_prob, 9, &y, 0.3, &w);
            assert_eq!(
                loss.to_bits(),
                upstream::multi_logistic_loss(&x, &y, 0.3, &w).to_bits()
            );
            let grad = multi_logistic_grad(&x, &y, 0.3, &w, log_prob);
            assert_eq!(
                bits2(&grad),
                bits2(&upstream::multi_logistic_grad(&x, &y, 0.3, &w))
            );
        }
    }

    /// The kept values are given back only for the same parameters: any sequence of
    /// calls answers what a fresh computation would.
    #[test]
    fn the_memo_answers_as_a_fresh_computation() {
        let (x, y) = binary_case(120, 6, 9);
        let problem = LogisticRegressionProblem {
            x: &x,
            target: y.clone(),
            alpha: 1.0,
            memo: RefCell::new(Memo::default()),
        };
        let a = ArgminParam(Array1::from(values(7, 20)));
        let b = ArgminParam(Array1::from(values(7, 21)));
        let mut neg_zero = Array1::zeros(7);
        neg_zero[3] = -0.0;
        let (z, nz) = (ArgminParam(Array1::zeros(7)), ArgminParam(neg_zero));
        let calls = [&a, &a, &b, &a, &b, &b, &z, &nz, &z, &a];
        for (k, p) in calls.iter().enumerate() {
            let w = p.as_array();
            let cost = problem.cost(p).unwrap();
            assert_eq!(
                cost.to_bits(),
                upstream::logistic_loss(&x, &y, 1.0, w).to_bits(),
                "{k}"
            );
            let grad = problem.gradient(p).unwrap();
            assert_eq!(
                bits1(grad.as_array()),
                bits1(&upstream::logistic_grad(&x, &y, 1.0, w)),
                "{k}"
            );
            let again = problem.gradient(p).unwrap();
            assert_eq!(bits1(again.as_array()), bits1(grad.as_array()), "{k}");
        }
        let xm = Array2::from_shape_vec((90, 4), values(360, 30)).unwrap();
        let mut ym = Array2::zeros((90, 3));
        for i in 0..90 {
            ym[[i, i % 3]] = 1.0;
        }
        let multi = LogisticRegressionProblem {
            x: &xm,
            target: ym.clone(),
            alpha: 1.0,
            memo: RefCell::new(Memo::default()),
        };
        let c = ArgminParam(Array2::from_shape_vec((5, 3), values(15, 31)).unwrap());
        let e = ArgminParam(Array2::from_shape_vec((5, 3), values(15, 32)).unwrap());
        for (k, p) in [&c, &c, &e, &c, &e, &e].iter().enumerate() {
            let w = p.as_array();
            let cost = multi.cost(p).unwrap();
            let want = upstream::multi_logistic_loss(&xm, &ym, 1.0, w);
            assert_eq!(cost.to_bits(), want.to_bits(), "{k}");
            let grad = multi.gradient(p).unwrap();
            let want = upstream::multi_logistic_grad(&xm, &ym, 1.0, w);
            assert_eq!(bits2(grad.as_array()), bits2(&want), "{k}");
        }
        assert!(same_params(&array![0.0, 1.0], &array![0.0, 1.0]));
        assert!(!same_params(&array![0.0, 1.0], &array![-0.0, 1.0]));
        assert!(!same_params(&array![f64::NAN], &array![f64::NAN]));
    }
}
