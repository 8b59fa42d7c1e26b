//! The label-error search's fitted state, as `dsaudit check` keeps it: the feature
//! scaler, each fold's model and every scored sample's out-of-fold probabilities.
//! While few samples changed since (see `identity::REFIT_SHARE`), a re-check
//! takes the stored probabilities of unchanged samples and scores the others with
//! the folds' models, then runs confident learning on them all as usual.

use super::classifier::FoldModel;
use serde::{Deserialize, Serialize};

/// Z-scores per feature: the mean and deviation of each, over the rows fitted on;
/// then, for images, the projection on their principal components.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Scaler {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub projection: Option<super::projection::Projection>,
}

/// Feature rows, `d` values each, read a block at a time: `fill(first, out)` writes
/// rows `first..` into `out` (a whole number of rows). Images compute theirs from
/// each sample's stored pixels, so that their raw matrix (240 MB for 100,000
/// images) is never held whole.
pub type Fill<'a> = &'a (dyn Fn(usize, &mut [f64]) + Sync);
/// A `Fill` owned.
pub type Reader<'a> = Box<dyn Fn(usize, &mut [f64]) + Sync + 'a>;

/// Rows per block: the unit of the moments' merge and of the projection's work.
const BLOCK: usize = 4096;

/// Rows `first..first + rows` of `x`, held whole.
pub fn held(x: &[f64], d: usize) -> impl Fn(usize, &mut [f64]) + Sync + '_ {
    move |first, out| out.copy_from_slice(&x[first * d..first * d + out.len()])
}

impl Scaler {
    /// Mean and deviation per feature over `n` rows (non-finite values skipped),
    /// merged block by block in order: the same bits whatever reads the rows.
    pub fn fit(n: usize, d: usize, fill: Fill) -> Scaler {
        use crate::stats::moments::Spread;
        use rayon::prelude::*;
        let blocks: Vec<Spread> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                let rows = BLOCK.min(n - b * BLOCK);
                let mut block = vec![0f64; rows * d];
                fill(b * BLOCK, &mut block);
                let mut s = Spread::new(d);
                block.chunks_exact(d.max(1)).for_each(|row| s.push_row(row));
                s
            })
            .collect();
        let spread = Spread::merged(d, &blocks);
        Scaler {
            mean: spread.means().to_vec(),
            std: spread.stds(),
            projection: None,
        }
    }

    /// `fit`, then the leading principal components of the z-scores (up to
    /// `components`; none when there is too little to project). The first `block`
    /// features are weighed so that together they carry as much variance as the
    /// others (their deviations are stretched), so that 256 pixels do not drown 45
    /// shape bins.
    pub fn fit_projected(
        n: usize,
        d: usize,
        fill: Fill,
        components: usize,
        block: usize,
    ) -> Scaler {
        let mut s = Scaler::fit(n, d, fill);
        if block > 0 && block < d {
            let stretch = (block as f64 / (d - block) as f64).sqrt();
            s.std[..block].iter_mut().for_each(|v| *v *= stretch);
        }
        // Only the rows the components are fitted on are read here (evenly spaced).
        let step = n.div_ceil(super::projection::FIT_ROWS).max(1);
        let picked: Vec<usize> = (0..n).step_by(step).collect();
        let mut sample = vec![0f64; picked.len() * d];
        for (&r, out) in picked.iter().zip(sample.chunks_exact_mut(d.max(1))) {
            fill(r, out);
        }
        s.projection = super::projection::Projection::fit(&s.standardize(sample), d, components);
        s
    }

    /// Dimensions of what `apply` returns.
    pub fn outputs(&self) -> usize {
        self.projection
            .as_ref()
            .map_or(self.mean.len(), |p| p.outputs())
    }

    /// Non-finite values sit at the mean (0); constant features are 0. Rows of
    /// `outputs()` values.
    /// The `n` rows standardized (and projected), row-major, `outputs()` each; in
    /// blocks of rows, so that neither the raw rows nor their z-scores need all
    /// exist at once.
    pub fn apply(&self, n: usize, fill: Fill) -> Vec<f64> {
        use rayon::prelude::*;
        let d = self.mean.len();
        let block = |b: usize| {
            let mut x = vec![0f64; BLOCK.min(n - b * BLOCK) * d];
            fill(b * BLOCK, &mut x);
            self.standardize(x)
        };
        // Each block written where it belongs in a vector sized once: collecting
        // the blocks' vectors and joining them copied the whole result again, into
        // fresh pages.
        let mut out = vec![0f64; n * self.outputs()];
        out.par_chunks_mut(BLOCK * self.outputs().max(1))
            .enumerate()
            .for_each(|(b, dst)| match &self.projection {
                Some(p) => dst.copy_from_slice(&p.apply(&block(b))),
                None => dst.copy_from_slice(&block(b)),
            });
        out
    }

    fn standardize(&self, mut x: Vec<f64>) -> Vec<f64> {
        let d = self.mean.len();
        for row in x.chunks_exact_mut(d.max(1)) {
            for ((v, &mean), &s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = if v.is_finite() && s > 0.0 {
                    (*v - mean) / s
                } else {
                    0.0
                };
            }
        }
        x
    }
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct LabelFit {
    /// Of the options that change the models (folds, seed, rows per fold, penalty).
    pub settings: u64,
    /// The classes modelled, in model order.
    pub classes: Vec<String>,
    pub scaler: Scaler,
    pub models: FoldModels,
    /// Where the probabilities came from, as the report says it.
    pub description: String,
    /// Identities of the labelled samples with features when fitted, sorted: what
    /// the changes are counted against.
    #[serde(with = "crate::packed")]
    pub fitted: Vec<u128>,
    /// Identities of the scored samples, sorted, and their probabilities (row-major,
    /// one row of `classes.len()` per identity).
    #[serde(with = "crate::packed")]
    pub scored: Vec<u128>,
    #[serde(with = "crate::packed")]
    pub probs: Vec<f64>,
    /// The outlier search, in the same feature space.
    pub outliers: Option<OutlierFit>,
}

/// Each fold's model, none of which learnt from the samples of its fold.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub enum FoldModels {
    Linear(Vec<FoldModel>),
    /// A network's parameters per fold (burnpack bytes), and the linear models its
    /// probabilities are averaged with.
    Network {
        network: super::network::Network,
        folds: Vec<serde_bytes::ByteBuf>,
        linear: Vec<FoldModel>,
    },
}

impl FoldModels {
    /// The network, for a fit that is one.
    pub fn network(&self) -> Option<super::network::Network> {
        match self {
            FoldModels::Linear(_) => None,
            FoldModels::Network { network, .. } => Some(*network),
        }
    }
}

/// The outlier search's state: the points searched among, and each sample's mean
/// distance to its neighbours there.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct OutlierFit {
    pub k: usize,
    #[serde(with = "crate::packed")]
    pub points: Vec<f32>,
    /// Sorted identities and their mean distances.
    #[serde(with = "crate::packed")]
    ids: Vec<u128>,
    #[serde(with = "crate::packed")]
    mean: Vec<f64>,
}

impl OutlierFit {
    /// `ids[pos]`: the identity of the sample scored at `pos`.
    pub fn new(o: &super::outliers::Outliers, ids: &[u128]) -> OutlierFit {
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_unstable_by_key(|&p| ids[p]);
        OutlierFit {
            k: o.k,
            points: o.points.clone(),
            ids: order.iter().map(|&p| ids[p]).collect(),
            mean: order.iter().map(|&p| o.mean[p]).collect(),
        }
    }

    pub fn mean_of(&self, id: u128) -> Option<f64> {
        self.ids.binary_search(&id).ok().map(|p| self.mean[p])
    }
}

pub fn settings(opts: &super::Options, dims: usize) -> u64 {
    let key = format!(
        "{}\0{}\0{:?}\0{}\0{}\0{}",
        opts.folds,
        opts.seed,
        opts.max_fit,
        dims,
        super::classifier::description(opts.folds),
        opts.networks
            .map_or_else(|| "none".into(), |n| n.settings())
    );
    xxhash_rust::xxh3::xxh3_64(key.as_bytes())
}

impl LabelFit {
    /// `ids[pos]` and `probs` row `pos`: the scored samples, in any order.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        outliers: Option<OutlierFit>,
        settings: u64,
        classes: Vec<String>,
        scaler: Scaler,
        models: FoldModels,
        description: String,
        mut fitted: Vec<u128>,
        ids: &[u128],
        probs: &[f64],
    ) -> LabelFit {
        let k = classes.len();
        fitted.sort_unstable();
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_unstable_by_key(|&p| ids[p]);
        LabelFit {
            settings,
            scaler,
            models,
            description,
            fitted,
            scored: order.iter().map(|&p| ids[p]).collect(),
            probs: order
                .iter()
                .flat_map(|&p| probs[p * k..(p + 1) * k].iter().copied())
                .collect(),
            classes,
            outliers,
        }
    }

    /// The probabilities of the samples `ids` (row-major, `classes.len()` per row):
    /// the stored out-of-fold ones of a sample scored at the fit; for any other, the
    /// mean of the folds' models (none of which learnt from it), which read the
    /// sample's row of `x` (`d` per row) or, for a network, its row of `input(pos)`.
    pub fn probabilities(
        &self,
        ids: &[u128],
        x: &[f64],
        d: usize,
        input: impl Fn(usize) -> Vec<f32>,
        networks: Option<&dyn super::network::Networks>,
    ) -> Result<Vec<f64>, String> {
        use rayon::prelude::*;
        let k = self.classes.len();
        let mut out = vec![0f64; ids.len() * k];
        let stored: Vec<Option<usize>> = ids
            .iter()
            .map(|id| self.scored.binary_search(id).ok())
            .collect();
        for (pos, at) in stored.iter().enumerate() {
            if let Some(p) = at {
                out[pos * k..(pos + 1) * k].copy_from_slice(&self.probs[p * k..(p + 1) * k]);
            }
        }
        let new: Vec<usize> = (0..ids.len()).filter(|&p| stored[p].is_none()).collect();
        if new.is_empty() {
            return Ok(out);
        }
        let linear = |models: &[FoldModel]| -> Vec<f64> {
            let rows: Vec<Vec<f64>> = new
                .par_iter()
                .map(|&pos| {
                    let mut mean = vec![0f64; k];
                    for m in models {
                        let p = m.probabilities(&x[pos * d..(pos + 1) * d], k);
                        mean.iter_mut().zip(p).for_each(|(acc, p)| *acc += p);
                    }
                    let n = models.len().max(1) as f64;
                    mean.iter_mut().for_each(|p| *p /= n);
                    mean
                })
                .collect();
            rows.concat()
        };
        let fresh: Vec<f64> = match &self.models {
            FoldModels::Linear(models) => linear(models),
            FoldModels::Network {
                network,
                folds,
                linear: models,
            } => {
                let rows: Vec<Vec<f32>> = new.iter().map(|&pos| input(pos)).collect();
                let dim = rows[0].len();
                let folds: Vec<&[u8]> = folds.iter().map(|b| b.as_slice()).collect();
                let p = networks.ok_or(super::network::MISSING)?.score(
                    *network,
                    &folds,
                    rows.concat(),
                    dim,
                    k,
                )?;
                p.iter()
                    .zip(linear(models))
                    .map(|(a, b)| (a + b) / 2.0)
                    .collect()
            }
        };
        for (row, &pos) in new.iter().enumerate() {
            out[pos * k..(pos + 1) * k].copy_from_slice(&fresh[row * k..(row + 1) * k]);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_rows_come_back_and_new_ones_are_scored_by_the_folds() {
        let model = |bias: f64| FoldModel {
            w: vec![1.0, -1.0],
            b: vec![bias, 0.0],
            classes: vec![0, 1],
        };
        let fit = LabelFit::new(
            None,
            1,
            vec!["a".into(), "b".into()],
            Scaler::fit(2, 1, &held(&[0.0, 2.0], 1)),
            FoldModels::Linear(vec![model(0.0), model(1.0)]),
            "linear".into(),
            vec![9, 7],
            &[9, 7],
            &[0.9, 0.1, 0.2, 0.8],
        );
        assert_eq!(fit.fitted, vec![7, 9]);
        let no_pixels = |_: usize| Vec::new();
        let p = fit
            .probabilities(&[7, 9, 5], &[0.0, 0.0, 0.0], 1, no_pixels, None)
            .unwrap();
        assert_eq!(p[..4], [0.2, 0.8, 0.9, 0.1]);
        // At x = 0 the folds say sigmoid(0) and sigmoid(1) for class a.
        let s = |z: f64| 1.0 / (1.0 + (-z).exp());
        assert!((p[4] - (s(0.0) + s(1.0)) / 2.0).abs() < 1e-12);
        assert!((p[4] + p[5] - 1.0).abs() < 1e-12);
        assert_eq!(
            fit.scaler.apply(2, &held(&[1.0, f64::NAN], 1)),
            vec![0.0, 0.0]
        );
    }
}
