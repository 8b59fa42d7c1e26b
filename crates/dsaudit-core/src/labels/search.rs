//! The label-error and outlier search of one scan, step by step: the feature vectors,
//! the outlier scores, the classes, out-of-sample probabilities (given, reused from
//! an earlier check, or fitted fold by fold), then confident learning on them.

use super::learn::{learn, Scored};
use super::training::Training;
use super::{
    input, outliers, reusable_fit, reuse, user_probs, vectors, Labels, Options, Vectors,
    MAX_CLASSES,
};
use crate::identity::{Changes, Prior};
use crate::load::Loaded;
use std::collections::HashMap;

/// An earlier check's fit that may stand in for a new one, with the rows' identities.
pub(super) type Reuse<'a> = Option<(&'a reuse::LabelFit, &'a [u128], Changes)>;

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
    // The per-sample columns (58 MB on a million rows) are sized once the feature
    // matrix is dropped: both were live at a table scan's peak.
    let mut out = Labels::without_rows();
    out.method = opts.method;
    let embeddings = match opts.embeddings.as_deref().map(input::read).transpose() {
        Ok(e) => e,
        Err(e) => {
            let why = format!("{e:#}");
            out.skipped = Some(why.clone());
            out.outliers_skipped = Some(why);
            out.size_rows(n);
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
    let outlier_rows = find_outliers(&mut out, &vecs, reuse, outlier_params, opts.seed);
    lap(&mut out, "outliers");
    let scored = probabilities(&mut out, loaded, opts, &usable, &vecs, reuse, prior.ids);
    drop(vecs);
    out.size_rows(n);
    place_outliers(&mut out, &outlier_rows);
    let Some(scored) = scored else {
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
/// The outlier search over the feature vectors; the manifest rows its scores are
/// in the order of (`place_outliers` puts them in the per-sample columns).
fn find_outliers(
    out: &mut Labels,
    vecs: &Result<Vectors, String>,
    reuse: Reuse,
    params: outliers::Params,
    seed: u64,
) -> Vec<usize> {
    let (rows, x, d, what, _) = match vecs {
        Ok(v) => v,
        Err(why) => {
            out.outliers_skipped = Some(why.clone());
            return Vec::new();
        }
    };
    out.features = what.clone();
    let earlier = reuse
        .and_then(|(fit, ids, _)| Some((fit.outliers.as_ref()?, ids)))
        .filter(|(o, _)| o.k == params.k);
    let found = match earlier {
        Some((o, ids)) => {
            let known: Vec<Option<f64>> = rows.iter().map(|&i| o.mean_of(ids[i])).collect();
            outliers::score_known(x, *d, o.points.clone(), &known, params)
        }
        None => outliers::score(x, *d, params, seed),
    };
    match found {
        Some(o) => {
            out.outliers = Some(o);
            rows.clone()
        }
        None => {
            out.outliers_skipped =
                Some(format!("fewer than {} samples with features", params.k + 2));
            Vec::new()
        }
    }
}

fn place_outliers(out: &mut Labels, rows: &[usize]) {
    let Some(o) = &out.outliers else { return };
    for (pos, &i) in rows.iter().enumerate() {
        out.outlier_score[i] = Some(o.score[pos]);
        out.is_outlier[i] = o.is_outlier[pos];
    }
}

fn classes_of(out: &mut Labels, loaded: &Loaded, usable: &[usize]) -> Option<Vec<String>> {
    if let Some(target) = &loaded.regression_target {
        out.skipped = Some(format!(
            "'{target}' is a continuous target (regression): label errors are a classification check"
        ));
        return None;
    }
    let label_col = loaded.manifest.strs("label");
    // The distinct labels first, then their sort: a sort of every row's own copy was a
    // tenth of a second of a million-row scan, on one core.
    let distinct: rustc_hash::FxHashSet<&str> =
        usable.iter().filter_map(|&i| label_col.get(i)).collect();
    let mut classes: Vec<String> = distinct.into_iter().map(str::to_string).collect();
    classes.sort();
    if classes.len() > MAX_CLASSES {
        out.skipped = Some(format!(
            "{} distinct labels: not a classification target",
            classes.len()
        ));
        return None;
    }
    if classes.len() < 2 {
        out.skipped = Some(match classes.len() {
            0 if loaded.detection.is_some() => {
                "a detection set: its images hold boxes, not one label each (the annotations rules check the boxes)".to_string()
            }
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
