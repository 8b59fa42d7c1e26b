//! Train/test distribution shift, computed once per scan (after the duplicate
//! search) and read by the shift rules and every report's `shift` section.
//!
//! For each split compared with the reference one (train unless `--reference`
//! says otherwise): every feature on its own (KS and normalized Wasserstein for
//! numbers, chi-square and Jensen–Shannon for categories, Benjamini–Hochberg
//! across features), the features together (a cross-validated logistic
//! regression telling the splits apart, and an MMD kernel test on a bounded
//! subsample), and the class mix; then a verdict.

pub mod classifier;
pub mod features;
pub mod mmd;
pub mod univariate;

use crate::finding::SampleRef;
use crate::load::Loaded;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// Fewest samples per split for any test to run.
pub const MIN_SAMPLES: usize = 20;
/// Samples per split the classifier is cross-validated on (a seeded random subset
/// beyond that): its cost stays bounded on a million rows.
pub const CLASSIFIER_SAMPLE: usize = 5_000;
/// Samples per split for the MMD test, whose kernel matrix is quadratic.
pub const MMD_SAMPLE: usize = 500;
/// Samples listed as least like the reference split.
pub const MOST_UNLIKE: usize = 10;

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub reference: Option<String>,
    pub current: Option<String>,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub alpha: f64,
    pub min_wasserstein: f64,
    pub min_js: f64,
    pub min_auc: f64,
    pub strong_auc: f64,
    pub strong_share: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    None,
    Mild,
    Strong,
}

impl Verdict {
    pub fn words(self) -> &'static str {
        match self {
            Verdict::None => "no evidence of shift",
            Verdict::Mild => "mild shift",
            Verdict::Strong => "strong shift",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FeatureDrift {
    pub feature: String,
    /// "ks" (numeric) or "chi2" (categorical).
    pub test: &'static str,
    pub statistic: f64,
    pub p_value: f64,
    /// Benjamini–Hochberg adjusted p-value across the features of this comparison.
    pub q_value: f64,
    /// "wasserstein" (normalized by the reference deviation) or "jensen_shannon".
    pub effect_name: &'static str,
    pub effect: f64,
    pub drifting: bool,
    pub n_reference: usize,
    pub n_current: usize,
    /// Means for numbers; the category whose share moved most for categories.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub feature: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Classifier {
    pub model: &'static str,
    pub folds: usize,
    pub sample_reference: usize,
    pub sample_current: usize,
    #[serde(flatten)]
    pub fitted: classifier::Fitted,
    /// Current-split samples the model finds least like the reference split.
    pub most_unlike: Vec<SampleRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Kernel {
    pub sample_reference: usize,
    pub sample_current: usize,
    #[serde(flatten)]
    pub test: mmd::Mmd,
}

#[derive(Debug, Clone, Serialize)]
pub struct LabelShift {
    pub chi2: f64,
    pub dof: f64,
    pub p_value: f64,
    pub tvd: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub reference: String,
    pub current: String,
    pub n_reference: usize,
    pub n_current: usize,
    pub verdict: Verdict,
    /// The numbers behind the verdict, in words.
    pub evidence: Vec<String>,
    pub features_tested: usize,
    pub features_drifting: usize,
    pub share_drifting: f64,
    /// Every tested feature, most drifting first.
    pub features: Vec<FeatureDrift>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_features: Vec<Skipped>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classifier: Option<Classifier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classifier_skipped: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mmd: Option<Kernel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mmd_skipped: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_shift: Option<LabelShift>,
    /// Wall time of each part, for `--timings` (never in a report: not reproducible).
    #[serde(skip)]
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Shift {
    pub verdict: Verdict,
    pub comparisons: Vec<Comparison>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    pub seed: u64,
}

impl Shift {
    fn skipped(why: impl Into<String>, seed: u64) -> Shift {
        Shift {
            verdict: Verdict::None,
            comparisons: Vec::new(),
            skipped: Some(why.into()),
            seed,
        }
    }
}

/// `usable`: per split, the class counts of readable samples (shared with the
/// balance rules, so the label-shift numbers are theirs).
pub fn find(
    loaded: &Loaded,
    usable: &crate::scan::Tally,
    params: &Params,
    opts: &Options,
) -> anyhow::Result<Shift> {
    let m = &loaded.manifest;
    let split = m.strs("split");
    let errors = m.strs("error_kind");
    let mut rows_of: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for i in 0..m.len() {
        if let (Some(s), None) = (split.get(i), errors.get(i)) {
            rows_of.entry(s.to_string()).or_default().push(i);
        }
    }
    let mut names: Vec<String> = rows_of.keys().cloned().collect();
    names.sort_by_key(|s| crate::util::split_order(s));
    for (flag, chosen) in [
        ("--reference", &opts.reference),
        ("--current", &opts.current),
    ] {
        if let Some(c) = chosen.as_ref().filter(|c| !rows_of.contains_key(*c)) {
            anyhow::bail!(
                "{flag} {c}: no such split with readable samples (splits: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            );
        }
    }
    if names.len() < 2 {
        return Ok(Shift::skipped(
            match names.len() {
                0 => "no split with readable samples: nothing to compare".to_string(),
                _ => format!("one split only ('{}'): nothing to compare", names[0]),
            },
            opts.seed,
        ));
    }
    let Some(features) = features::of(loaded) else {
        return Ok(Shift::skipped(
            "arrays are not tested for shift yet",
            opts.seed,
        ));
    };
    let reference = opts.reference.clone().unwrap_or_else(|| {
        names
            .iter()
            .find(|s| *s == "train")
            .unwrap_or(&names[0])
            .clone()
    });
    let currents: Vec<String> = match &opts.current {
        Some(c) => vec![c.clone()],
        None => names.iter().filter(|s| **s != reference).cloned().collect(),
    };
    let comparisons: Vec<Comparison> = currents
        .iter()
        .map(|cur| {
            compare(
                loaded,
                &features,
                (&reference, &rows_of[&reference]),
                (cur, &rows_of[cur]),
                usable,
                params,
                opts.seed,
            )
        })
        .collect();
    Ok(Shift {
        verdict: comparisons
            .iter()
            .map(|c| c.verdict)
            .max()
            .unwrap_or(Verdict::None),
        comparisons,
        skipped: None,
        seed: opts.seed,
    })
}

fn compare(
    loaded: &Loaded,
    f: &features::Features,
    (ref_name, ref_rows): (&str, &[usize]),
    (cur_name, cur_rows): (&str, &[usize]),
    usable: &crate::scan::Tally,
    params: &Params,
    seed: u64,
) -> Comparison {
    let mut clock = std::time::Instant::now();
    let mut timings = Vec::new();
    let mut lap = |what: &'static str| {
        timings.push((what, clock.elapsed()));
        clock = std::time::Instant::now();
    };
    let (mut features, skipped_features) = per_feature(f, ref_rows, cur_rows, ref_name, cur_name);
    let q = univariate::benjamini_hochberg(&features.iter().map(|x| x.p_value).collect::<Vec<_>>());
    for (x, q) in features.iter_mut().zip(q) {
        x.q_value = q;
        let floor = if x.test == "ks" {
            params.min_wasserstein
        } else {
            params.min_js
        };
        x.drifting = q < params.alpha && x.effect >= floor;
    }
    features.sort_by(|a, b| {
        b.drifting
            .cmp(&a.drifting)
            .then(b.effect.total_cmp(&a.effect))
            .then(a.feature.cmp(&b.feature))
    });
    let drifting = features.iter().filter(|x| x.drifting).count();
    lap("per-feature tests");
    // One seed per pair of splits, so that adding a split changes no other comparison.
    let pair_seed = seed ^ xxhash_rust::xxh3::xxh3_64(format!("{ref_name}\0{cur_name}").as_bytes());
    let mut rng = ChaCha8Rng::seed_from_u64(pair_seed);
    let ref_sample = sample(ref_rows, CLASSIFIER_SAMPLE, &mut rng);
    let cur_sample = sample(cur_rows, CLASSIFIER_SAMPLE, &mut rng);
    let (mut classifier, mut classifier_skipped, mut mmd, mut mmd_skipped) =
        (None, None, None, None);
    if ref_rows.len() < MIN_SAMPLES || cur_rows.len() < MIN_SAMPLES {
        let why = format!(
            "fewer than {MIN_SAMPLES} readable samples in '{}'",
            if ref_rows.len() < MIN_SAMPLES {
                ref_name
            } else {
                cur_name
            }
        );
        classifier_skipped = Some(why.clone());
        mmd_skipped = Some(why);
    } else {
        let all: Vec<usize> = ref_sample.iter().chain(&cur_sample).copied().collect();
        let vectors = features::Vectors::fit(f, &all);
        let d = vectors.dim();
        if d == 0 {
            classifier_skipped = Some("no feature to learn from".into());
            mmd_skipped = classifier_skipped.clone();
        } else {
            let x = vectors.matrix(f, &all);
            let is_current: Vec<bool> = (0..all.len()).map(|k| k >= ref_sample.len()).collect();
            // Stratified folds: the samples are already in random order.
            let fold: Vec<usize> = (0..all.len())
                .map(|k| if k < ref_sample.len() { k } else { k - ref_sample.len() } % classifier::FOLDS)
                .collect();
            match classifier::cross_validate(&x, d, &is_current, &fold, &vectors.names) {
                Ok(fitted) => {
                    let (w, b) = fitted.model.clone().unwrap_or_default();
                    let mut scored: Vec<(f64, usize)> = cur_rows
                        .par_chunks(8192)
                        .flat_map_iter(|chunk| {
                            let xc = vectors.matrix(f, chunk);
                            chunk
                                .iter()
                                .enumerate()
                                .map(|(k, &i)| {
                                    (classifier::score(&xc[k * d..(k + 1) * d], &w, b), i)
                                })
                                .collect::<Vec<_>>()
                        })
                        .collect();
                    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                    let most_unlike = scored
                        .iter()
                        .take(MOST_UNLIKE)
                        .map(|&(s, i)| {
                            let mut r = loaded.manifest.sample_ref(i);
                            r.note = Some(format!(
                                "P({cur_name}) = {}",
                                crate::util::round4(classifier::probability(s))
                            ));
                            r
                        })
                        .collect();
                    classifier = Some(Classifier {
                        model: "logistic regression (linfa, L2), standardized features",
                        folds: classifier::FOLDS,
                        sample_reference: ref_sample.len(),
                        sample_current: cur_sample.len(),
                        fitted,
                        most_unlike,
                    });
                }
                Err(e) => classifier_skipped = Some(e),
            }
            lap("classifier");
            let (nr, nc) = (
                ref_sample.len().min(MMD_SAMPLE),
                cur_sample.len().min(MMD_SAMPLE),
            );
            let mut xm = Vec::with_capacity((nr + nc) * d);
            xm.extend_from_slice(&x[..nr * d]);
            let cur_start = ref_sample.len() * d;
            xm.extend_from_slice(&x[cur_start..cur_start + nc * d]);
            mmd = Some(Kernel {
                sample_reference: nr,
                sample_current: nc,
                test: mmd::test(&xm, d, nr, pair_seed),
            });
            lap("mmd");
        }
    }
    let label_shift = label_shift(usable, ref_name, cur_name);
    let mut c = Comparison {
        reference: ref_name.to_string(),
        current: cur_name.to_string(),
        n_reference: ref_rows.len(),
        n_current: cur_rows.len(),
        verdict: Verdict::None,
        evidence: Vec::new(),
        features_tested: features.len(),
        features_drifting: drifting,
        share_drifting: if features.is_empty() {
            0.0
        } else {
            drifting as f64 / features.len() as f64
        },
        features,
        skipped_features,
        classifier,
        classifier_skipped,
        mmd,
        mmd_skipped,
        label_shift,
        timings,
    };
    (c.verdict, c.evidence) = verdict(&c, params);
    c
}

/// A seeded random subset of at most `k` rows, in random order.
fn sample(rows: &[usize], k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut v = rows.to_vec();
    v.shuffle(rng);
    v.truncate(k);
    v
}

fn per_feature(
    f: &features::Features,
    ref_rows: &[usize],
    cur_rows: &[usize],
    ref_name: &str,
    cur_name: &str,
) -> (Vec<FeatureDrift>, Vec<Skipped>) {
    let numeric: Vec<Result<FeatureDrift, Skipped>> = f
        .numeric
        .par_iter()
        .map(|n| {
            let values = |rows: &[usize]| -> Vec<f64> {
                let mut v: Vec<f64> = rows
                    .iter()
                    .map(|&i| (n.get)(i))
                    .filter(|x| x.is_finite())
                    .collect();
                v.sort_unstable_by(f64::total_cmp);
                v
            };
            let (a, b) = (values(ref_rows), values(cur_rows));
            let skip = |reason: String| Skipped {
                feature: n.name.clone(),
                reason,
            };
            for (v, split) in [(&a, ref_name), (&b, cur_name)] {
                if v.is_empty() {
                    return Err(skip(format!(
                        "no values in '{split}' (column absent or all missing there)"
                    )));
                }
                if v.len() < MIN_SAMPLES {
                    return Err(skip(format!(
                        "{} values in '{split}', fewer than {MIN_SAMPLES}",
                        v.len()
                    )));
                }
            }
            let (sa, sb) = (univariate::std(&a), univariate::std(&b));
            let scale = if sa > 0.0 {
                sa
            } else {
                let pooled: Vec<f64> = a.iter().chain(&b).copied().collect();
                univariate::std(&pooled)
            };
            if scale == 0.0 {
                return Err(skip(format!("constant ({}) in both splits", a[0])));
            }
            let _ = sb;
            let ks = univariate::ks(&a, &b);
            let (ma, mb) = (univariate::mean(&a), univariate::mean(&b));
            Ok(FeatureDrift {
                feature: n.name.clone(),
                test: "ks",
                statistic: ks.statistic,
                p_value: ks.p_value,
                q_value: 1.0,
                effect_name: "wasserstein",
                effect: univariate::wasserstein(&a, &b) / scale,
                drifting: false,
                n_reference: a.len(),
                n_current: b.len(),
                detail: format!(
                    "mean {} in {ref_name}, {} in {cur_name}",
                    crate::util::round4(ma),
                    crate::util::round4(mb)
                ),
            })
        })
        .collect();
    let categorical: Vec<Result<FeatureDrift, Skipped>> = f
        .categorical
        .iter()
        .map(|c| {
            let skip = |reason: String| Skipped {
                feature: c.name.clone(),
                reason,
            };
            let counts = |rows: &[usize]| -> BTreeMap<u64, u64> {
                let mut m = BTreeMap::new();
                for &i in rows {
                    let v = (c.get)(i);
                    if v != 0 {
                        *m.entry(v).or_insert(0) += 1;
                    }
                }
                m
            };
            let (a, b) = (counts(ref_rows), counts(cur_rows));
            for (m, split) in [(&a, ref_name), (&b, cur_name)] {
                let n: u64 = m.values().sum();
                if n == 0 {
                    return Err(skip(format!(
                        "no values in '{split}' (column absent or all missing there)"
                    )));
                }
                if (n as usize) < MIN_SAMPLES {
                    return Err(skip(format!(
                        "{n} values in '{split}', fewer than {MIN_SAMPLES}"
                    )));
                }
            }
            let cats: std::collections::BTreeSet<u64> = a.keys().chain(b.keys()).copied().collect();
            if cats.len() < 2 {
                return Err(skip("one category in both splits".into()));
            }
            if cats.len() > crate::load::rows::NAMED_CATEGORIES {
                return Err(skip(format!(
                    "{} distinct values: an identifier or free text, not a category",
                    cats.len()
                )));
            }
            let ca: Vec<u64> = cats.iter().map(|k| *a.get(k).unwrap_or(&0)).collect();
            let cb: Vec<u64> = cats.iter().map(|k| *b.get(k).unwrap_or(&0)).collect();
            let t = univariate::categorical(&ca, &cb);
            let (na, nb) = (ca.iter().sum::<u64>() as f64, cb.iter().sum::<u64>() as f64);
            let moved = cats
                .iter()
                .zip(ca.iter().zip(&cb))
                .max_by(|x, y| {
                    let dx = (*x.1 .0 as f64 / na - *x.1 .1 as f64 / nb).abs();
                    let dy = (*y.1 .0 as f64 / na - *y.1 .1 as f64 / nb).abs();
                    dx.total_cmp(&dy).then(y.0.cmp(x.0))
                })
                .map(|(k, (x, y))| {
                    format!(
                        "'{}' is {}% of {ref_name}, {}% of {cur_name}",
                        c.names
                            .get(k)
                            .cloned()
                            .unwrap_or_else(|| format!("#{k:016x}")),
                        crate::util::round4(100.0 * *x as f64 / na),
                        crate::util::round4(100.0 * *y as f64 / nb)
                    )
                })
                .unwrap_or_default();
            Ok(FeatureDrift {
                feature: c.name.clone(),
                test: "chi2",
                statistic: t.chi2,
                p_value: t.p_value,
                q_value: 1.0,
                effect_name: "jensen_shannon",
                effect: t.js,
                drifting: false,
                n_reference: na as usize,
                n_current: nb as usize,
                detail: moved,
            })
        })
        .collect();
    let (mut ok, mut skipped) = (Vec::new(), Vec::new());
    for r in numeric.into_iter().chain(categorical) {
        match r {
            Ok(x) => ok.push(x),
            Err(s) => skipped.push(s),
        }
    }
    (ok, skipped)
}

fn label_shift(usable: &crate::scan::Tally, a: &str, b: &str) -> Option<LabelShift> {
    let classes = |s: &str| -> Option<BTreeMap<String, u64>> {
        let m = usable.get(&Some(s.to_string()))?;
        let out: BTreeMap<String, u64> = m
            .iter()
            .filter_map(|(l, n)| l.as_ref().map(|l| (l.clone(), *n)))
            .collect();
        (!out.is_empty()).then_some(out)
    };
    let (ca, cb) = (classes(a)?, classes(b)?);
    let (chi2, dof, p_value, tvd) = crate::stats::contingency::compare(&ca, &cb);
    Some(LabelShift {
        chi2,
        dof,
        p_value,
        tvd,
    })
}

/// No evidence, mild or strong, and why. Three families of tests ask the same
/// question (per feature, classifier, kernel); the classifier and kernel tests are
/// each held to alpha / 3 (Bonferroni) and the per-feature family is already
/// corrected (Benjamini–Hochberg) with an effect-size floor.
fn verdict(c: &Comparison, p: &Params) -> (Verdict, Vec<String>) {
    let mut evidence = Vec::new();
    let mut level = Verdict::None;
    let r4 = crate::util::round4;
    if c.features_drifting > 0 {
        let top = &c.features[0];
        evidence.push(format!(
            "{} of {} features drift (largest: {}, {} {}, q = {:.2e})",
            c.features_drifting,
            c.features_tested,
            top.feature,
            top.effect_name.replace('_', "-"),
            r4(top.effect),
            top.q_value
        ));
        level = Verdict::Mild;
        if c.share_drifting >= p.strong_share {
            level = Verdict::Strong;
        }
    }
    if let Some(cl) = &c.classifier {
        let f = &cl.fitted;
        if f.p_value < p.alpha / 3.0 && f.auc >= p.min_auc {
            evidence.push(format!(
                "a classifier tells '{}' from '{}' with ROC AUC {} (95% CI {}–{}, p = {:.2e})",
                c.current,
                c.reference,
                r4(f.auc),
                r4(f.auc_low),
                r4(f.auc_high),
                f.p_value
            ));
            level = level.max(if f.auc >= p.strong_auc {
                Verdict::Strong
            } else {
                Verdict::Mild
            });
        }
    }
    if let Some(k) = c.mmd.as_ref().filter(|k| k.test.p_value < p.alpha / 3.0) {
        evidence.push(format!(
            "kernel two-sample test: MMD² {} (p = {} from {} permutations)",
            r4(k.test.mmd2),
            r4(k.test.p_value),
            k.test.permutations
        ));
        level = level.max(Verdict::Mild);
    }
    if evidence.is_empty() {
        let auc = c
            .classifier
            .as_ref()
            .map(|cl| format!(", classifier ROC AUC {}", r4(cl.fitted.auc)))
            .unwrap_or_default();
        evidence.push(format!(
            "no feature drifts after correction ({} tested){auc}",
            c.features_tested
        ));
    }
    (level, evidence)
}
