//! The label-error and outlier search of one scan, step by step: the feature vectors,
//! the outlier scores, the classes, out-of-sample probabilities (given, reused from
//! an earlier check, or fitted fold by fold), then confident learning on them.

use super::learn::{learn, Scored};
use super::{
    classifier, fit_rows, halved, input, network, outliers, pick_network, reusable_fit, reuse,
    small_pixels, user_probs, vectors, Labels, Options, Vectors, GREY_FEATURES, MAX_CLASSES,
};
use crate::identity::{Changes, Prior};
use crate::load::Loaded;
use std::collections::HashMap;

/// An earlier check's fit that may stand in for a new one, with the rows' identities.
type Reuse<'a> = Option<(&'a reuse::LabelFit, &'a [u128], Changes)>;

/// `prior`: what an earlier `dsaudit check` fitted (see `crate::identity::Prior`).
pub fn find(
    loaded: &Loaded,
    opts: &Options,
    outlier_params: outliers::Params,
    prior: Prior<reuse::LabelFit>,
) -> Labels {
    let m = &loaded.manifest;
    let n = m.len();
    if !opts.enabled {
        return Labels::skipped("not measured by this command", n);
    }
    let kinds = m.strs("error_kind");
    let usable: Vec<usize> = (0..n).filter(|&i| kinds.get(i).is_none()).collect();
    let mut out = Labels::new(n);
    out.method = opts.method;
    let embeddings = match opts.embeddings.as_deref().map(input::read).transpose() {
        Ok(e) => e,
        Err(e) => {
            let why = format!("{e:#}");
            out.skipped = Some(why.clone());
            out.outliers_skipped = Some(why);
            return out;
        }
    };
    let mut clock = std::time::Instant::now();
    let mut lap = |out: &mut Labels, what: &'static str| {
        out.timings.push((what, clock.elapsed()));
        clock = std::time::Instant::now();
    };
    let reuse = reusable_fit(loaded, &usable, opts, prior);
    let vecs = vectors(
        loaded,
        &usable,
        embeddings.as_ref(),
        opts.embeddings.as_deref(),
        reuse.map(|(fit, _, _)| &fit.scaler),
    );
    lap(&mut out, "features");
    find_outliers(&mut out, &vecs, reuse, outlier_params, opts.seed);
    lap(&mut out, "outliers");
    let Some(scored) = probabilities(&mut out, loaded, opts, &usable, &vecs, reuse, prior.ids)
    else {
        return out;
    };
    let label_col = m.strs("label");
    let index: HashMap<&str, usize> = scored
        .classes
        .iter()
        .enumerate()
        .map(|(j, c)| (c.as_str(), j))
        .collect();
    let labels: Vec<usize> = scored
        .rows
        .iter()
        .map(|&i| index[label_col.get(i).expect("scored rows are labeled")])
        .collect();
    lap(&mut out, "probabilities");
    learn(&mut out, &scored, &labels, opts.method);
    out.classes = scored.classes;
    lap(&mut out, "confident learning");
    out
}

/// The outlier scores of the samples with features, from the earlier check's
/// reference points when it kept them for the same k.
fn find_outliers(
    out: &mut Labels,
    vecs: &Result<Vectors, String>,
    reuse: Reuse,
    params: outliers::Params,
    seed: u64,
) {
    let (rows, x, d, what, _) = match vecs {
        Ok(v) => v,
        Err(why) => {
            out.outliers_skipped = Some(why.clone());
            return;
        }
    };
    out.features = what.clone();
    let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let earlier = reuse
        .and_then(|(fit, ids, _)| Some((fit.outliers.as_ref()?, ids)))
        .filter(|(o, _)| o.k == params.k);
    let found = match earlier {
        Some((o, ids)) => {
            let known: Vec<Option<f64>> = rows.iter().map(|&i| o.mean_of(ids[i])).collect();
            outliers::score_known(&xf, *d, o.points.clone(), &known, params)
        }
        None => outliers::score(&xf, *d, params, seed),
    };
    match found {
        Some(o) => {
            for (pos, &i) in rows.iter().enumerate() {
                out.outlier_score[i] = Some(o.score[pos]);
                out.is_outlier[i] = o.is_outlier[pos];
            }
            out.outliers = Some(o);
        }
        None => {
            out.outliers_skipped =
                Some(format!("fewer than {} samples with features", params.k + 2))
        }
    }
}

/// Every label among the usable samples, sorted; None (and why, in `out`) when there
/// is nothing to classify.
fn classes_of(out: &mut Labels, loaded: &Loaded, usable: &[usize]) -> Option<Vec<String>> {
    if let Some(target) = &loaded.regression_target {
        out.skipped = Some(format!(
            "'{target}' is a continuous target (regression): label errors are a classification check"
        ));
        return None;
    }
    let label_col = loaded.manifest.strs("label");
    let mut classes: Vec<String> = usable
        .iter()
        .filter_map(|&i| label_col.get(i).map(str::to_string))
        .collect();
    classes.sort();
    classes.dedup();
    if classes.len() > MAX_CLASSES {
        out.skipped = Some(format!(
            "{} distinct labels: not a classification target",
            classes.len()
        ));
        return None;
    }
    if classes.len() < 2 {
        out.skipped = Some(match classes.len() {
            0 => "no labeled sample".to_string(),
            _ => format!(
                "a single class ('{}'): nothing to confuse it with",
                classes[0]
            ),
        });
        return None;
    }
    Some(classes)
}

/// The out-of-sample probabilities confident learning reads: the user's, or the
/// model's; None (and why, in `out`) when there are none.
fn probabilities(
    out: &mut Labels,
    loaded: &Loaded,
    opts: &Options,
    usable: &[usize],
    vecs: &Result<Vectors, String>,
    reuse: Reuse,
    ids: Option<&[u128]>,
) -> Option<Scored> {
    let classes = classes_of(out, loaded, usable)?;
    let label_col = loaded.manifest.strs("label");
    // Indexed from a copy: `classes` itself goes into the result.
    let names = classes.clone();
    let index: HashMap<&str, u32> = names
        .iter()
        .enumerate()
        .map(|(j, c)| (c.as_str(), j as u32))
        .collect();
    let class_of = |i: usize| label_col.get(i).map(|l| index[l]);
    match (&opts.pred_probs, vecs) {
        (Some(path), _) => {
            match user_probs(path, loaded.manifest.len(), &classes, usable, &class_of) {
                Ok((rows, probs)) => {
                    out.probabilities = format!("{} (given)", path.display());
                    Some(Scored {
                        rows,
                        probs,
                        classes,
                    })
                }
                Err(why) => {
                    out.skipped = Some(why);
                    out.classes = classes;
                    None
                }
            }
        }
        (None, Err(why)) => {
            out.skipped = Some(why.clone());
            None
        }
        (None, Ok(v)) => {
            let set = Training::new(out, loaded, opts, usable, v, classes, &class_of)?;
            set.probabilities(out, reuse, ids)
        }
    }
}

/// What the model learns from: the scored rows of the classes with a sample per
/// fold, their feature vectors and labels (re-indexed 0..k).
struct Training<'a> {
    loaded: &'a Loaded,
    opts: &'a Options,
    /// Each scored row's features, row-major, `d` per row.
    xs: Vec<f64>,
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
    fn new(
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
            xs: picked
                .iter()
                .flat_map(|&(pos, _)| x[pos * d..(pos + 1) * d].iter().copied())
                .collect(),
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
    fn probabilities(self, out: &mut Labels, reuse: Reuse, ids: Option<&[u128]>) -> Option<Scored> {
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
