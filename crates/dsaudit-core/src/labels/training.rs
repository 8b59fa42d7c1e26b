//! The rows a label model learns from, and their out-of-sample probabilities: fitted
//! fold by fold (logistic regression or a network), or reused from an earlier check.

use super::learn::Scored;
use super::search::Reuse;
use super::{
    classifier, fit_rows, halved, network, pick_network, reuse, small_pixels, Labels, Options,
    Vectors, GREY_FEATURES,
};
use crate::load::Loaded;
/// What the model learns from: the scored rows of the classes with a sample per
/// fold, their feature vectors and labels (re-indexed 0..k).
pub(super) struct Training<'a> {
    loaded: &'a Loaded,
    opts: &'a Options,
    /// Each scored row's features, row-major, `d` per row.
    /// The feature rows of the scored samples: borrowed when every row is scored
    /// (a million-row table's matrix is 150 MB), copied when some are left out.
    xs: std::borrow::Cow<'a, [f64]>,
    d: usize,
    ys: Vec<usize>,
    /// Manifest rows of `ys`.
    scored_rows: Vec<usize>,
    /// Rows with features, scored or not (their identities key the kept outliers).
    rows: &'a [usize],
    classes: Vec<String>,
    scaler: &'a Option<reuse::Scaler>,
}

impl<'a> Training<'a> {
    /// None (and why, in `out`) with fewer than two classes to tell apart.
    pub(super) fn new(
        out: &mut Labels,
        loaded: &'a Loaded,
        opts: &'a Options,
        usable: &[usize],
        (rows, x, d, _, scaler): &'a Vectors,
        classes: Vec<String>,
        class_of: &dyn Fn(usize) -> Option<u32>,
    ) -> Option<Training<'a>> {
        let d = *d;
        let kept = scorable(out, opts, usable.len(), rows, &classes, class_of);
        if kept.len() < 2 {
            out.skipped = Some(format!(
                "fewer than 2 classes with at least {} samples (one per fold)",
                opts.folds
            ));
            out.classes = classes;
            return None;
        }
        // Re-index the kept classes 0..k for the model.
        let mut remap = vec![None; classes.len()];
        for (new, &old) in kept.iter().enumerate() {
            remap[old] = Some(new);
        }
        let picked: Vec<(usize, usize)> = rows
            .iter()
            .enumerate()
            .filter_map(|(pos, &i)| {
                class_of(i)
                    .and_then(|c| remap[c as usize])
                    .map(|c| (pos, c))
            })
            .collect();
        Some(Training {
            loaded,
            opts,
            xs: if picked.len() == rows.len() {
                // Picked in order from `rows`, so all of them means each in its place.
                std::borrow::Cow::Borrowed(&x[..])
            } else {
                picked
                    .iter()
                    .flat_map(|&(pos, _)| x[pos * d..(pos + 1) * d].iter().copied())
                    .collect()
            },
            d,
            ys: picked.iter().map(|&(_, c)| c).collect(),
            scored_rows: picked.iter().map(|&(pos, _)| rows[pos]).collect(),
            rows,
            classes: kept.iter().map(|&c| classes[c].clone()).collect(),
            scaler,
        })
    }

    /// What a network reads of the scored sample at `pos`.
    fn input(&self, net: network::Network, pos: usize) -> Vec<f32> {
        match net {
            network::Network::Cnn { .. } => {
                let mut grey = [0f64; GREY_FEATURES];
                let pixels = small_pixels(self.loaded, self.scored_rows[pos]);
                halved(pixels.expect("scored images have pixels"), &mut grey);
                grey.iter().map(|&v| (v / 255.0) as f32).collect()
            }
            network::Network::Mlp => self.xs[pos * self.d..(pos + 1) * self.d]
                .iter()
                .map(|&v| v as f32)
                .collect(),
        }
    }

    /// The earlier check's models' probabilities when they stand, else a new fit's.
    pub(super) fn probabilities(
        self,
        out: &mut Labels,
        reuse: Reuse,
        ids: Option<&[u128]>,
    ) -> Option<Scored> {
        let opts = self.opts;
        let network = pick_network(
            opts.model,
            !self.loaded.shapes.is_empty(),
            self.scored_rows.len(),
            opts.embeddings.is_some(),
            opts.networks,
            &mut out.notes,
        );
        let earlier = reuse.filter(|(fit, _, _)| fit.models.network() == network);
        let probs = match earlier {
            Some((fit, ids, changes)) => {
                // Nothing changed: the numbers are those a fit gives, nothing to say.
                out.reused = (changes.count() > 0).then(|| changes.note());
                out.probabilities = fit.description.clone();
                out.fit = Some(fit.clone());
                let scored: Vec<u128> = self.scored_rows.iter().map(|&i| ids[i]).collect();
                // A linear fit reads `xs`; a network's reads the network's input.
                let read = |pos| network.map_or_else(Vec::new, |net| self.input(net, pos));
                fit.probabilities(&scored, &self.xs, self.d, read, opts.networks)
            }
            None => self.fit(out, network, ids),
        };
        match probs {
            Ok(probs) => Some(Scored {
                rows: self.scored_rows,
                probs,
                classes: self.classes,
            }),
            Err(why) => {
                out.skipped = Some(why);
                None
            }
        }
    }

    /// Out-of-fold probabilities of a new fit: the linear model's, alone or averaged
    /// with a network's on the same folds (on real digits and tables the pair flags
    /// label errors better than the network alone, docs/benchmarks.md). The fit is
    /// kept for a later check where samples have identities.
    fn fit(
        &self,
        out: &mut Labels,
        network: Option<network::Network>,
        ids: Option<&[u128]>,
    ) -> Result<Vec<f64>, String> {
        let opts = self.opts;
        let k = self.classes.len();
        let fold = classifier::stratified_folds(&self.ys, k, opts.folds, opts.seed);
        let (linear, linear_models) = classifier::cross_validate(
            &self.xs,
            self.d,
            &self.ys,
            k,
            &fold,
            opts.folds,
            opts.max_fit.unwrap_or(fit_rows(self.d, k)),
            opts.seed,
        )?;
        let (probs, models, what) = match network {
            None => (
                linear,
                Some(reuse::FoldModels::Linear(linear_models)),
                classifier::description(opts.folds),
            ),
            Some(net) => self.with_network(net, &fold, linear, linear_models)?,
        };
        out.probabilities = what.clone();
        if let (Some(ids), Some(scaler), Some(models), false) = (
            ids,
            self.scaler,
            models,
            opts.embeddings.is_some() || self.loaded.shapes.is_empty(),
        ) {
            out.fit = Some(self.kept(out, ids, scaler, models, what, &probs));
        }
        Ok(probs)
    }

    /// The network's out-of-fold probabilities averaged with the linear model's, the
    /// models to keep (none when the network's parameters could not be written), and
    /// the description.
    fn with_network(
        &self,
        net: network::Network,
        fold: &[usize],
        linear: Vec<f64>,
        linear_models: Vec<super::classifier::FoldModel>,
    ) -> Result<(Vec<f64>, Option<reuse::FoldModels>, String), String> {
        let opts = self.opts;
        let dim = self.input(net, 0).len();
        let t = opts.networks.ok_or(network::MISSING)?.probabilities(
            net,
            (0..self.ys.len())
                .flat_map(|pos| self.input(net, pos))
                .collect(),
            dim,
            &self.ys,
            self.classes.len(),
            fold,
            opts.folds,
            opts.seed,
        )?;
        let probs = t
            .probabilities
            .iter()
            .zip(&linear)
            .map(|(a, b)| (a + b) / 2.0)
            .collect();
        let models = (!t.folds.iter().any(Vec::is_empty)).then(|| reuse::FoldModels::Network {
            network: net,
            folds: t
                .folds
                .into_iter()
                .map(serde_bytes::ByteBuf::from)
                .collect(),
            linear: linear_models,
        });
        let what = format!(
            "{}; averaged with the linear model's ({})",
            t.what,
            classifier::description(opts.folds)
        );
        Ok((probs, models, what))
    }

    /// What a later check keeps of this fit.
    fn kept(
        &self,
        out: &Labels,
        ids: &[u128],
        scaler: &reuse::Scaler,
        models: reuse::FoldModels,
        what: String,
        probs: &[f64],
    ) -> reuse::LabelFit {
        let label_col = self.loaded.manifest.strs("label");
        let fitted: Vec<u128> = self
            .rows
            .iter()
            .filter(|&&i| label_col.get(i).is_some())
            .map(|&i| ids[i])
            .collect();
        let scored: Vec<u128> = self.scored_rows.iter().map(|&i| ids[i]).collect();
        let with_features: Vec<u128> = self.rows.iter().map(|&i| ids[i]).collect();
        let outliers = out
            .outliers
            .as_ref()
            .map(|o| reuse::OutlierFit::new(o, &with_features));
        reuse::LabelFit::new(
            outliers,
            reuse::settings(self.opts, self.d),
            self.classes.clone(),
            scaler.clone(),
            models,
            what,
            fitted,
            &scored,
            probs,
        )
    }
}

/// The classes with at least one sample per fold (a class with fewer cannot be
/// cross-validated), and notes on the samples left unscored.
fn scorable(
    out: &mut Labels,
    opts: &Options,
    usable: usize,
    rows: &[usize],
    classes: &[String],
    class_of: &dyn Fn(usize) -> Option<u32>,
) -> Vec<usize> {
    let mut count = vec![0usize; classes.len()];
    for &i in rows {
        if let Some(c) = class_of(i) {
            count[c as usize] += 1;
        }
    }
    let kept: Vec<usize> = (0..classes.len())
        .filter(|&c| count[c] >= opts.folds)
        .collect();
    let plural = |n: usize| if n == 1 { "sample" } else { "samples" };
    for c in (0..classes.len()).filter(|&c| count[c] > 0 && count[c] < opts.folds) {
        out.notes.push(format!(
            "class '{}' has {} {}, fewer than the {} folds: not scored",
            classes[c],
            count[c],
            plural(count[c]),
            opts.folds
        ));
    }
    let unlabeled = rows.iter().filter(|&&i| class_of(i).is_none()).count();
    if unlabeled > 0 {
        out.notes.push(format!(
            "{unlabeled} unlabeled {} not scored",
            plural(unlabeled)
        ));
    }
    let without = usable - rows.len();
    if without > 0 {
        out.notes.push(format!(
            "{without} readable {} without features (too small to describe) not scored",
            plural(without)
        ));
    }
    kept
}
