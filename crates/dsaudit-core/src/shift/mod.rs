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
pub mod per_feature;
pub mod reuse;
pub mod univariate;
pub mod verdict;

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
    /// Whether the classifier, and the kernel test, count as evidence of shift.
    pub classifier_evidence: bool,
    pub kernel_evidence: bool,
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
    /// Set when the classifier and kernel tests are an earlier check's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reused: Option<String>,
    /// What `dsaudit check` keeps for its next run.
    #[serde(skip)]
    pub fit: Option<reuse::ShiftFit>,
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
    pub fn skipped(why: impl Into<String>, seed: u64) -> Shift {
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
    usable: &crate::tally::Tally,
    params: &Params,
    opts: &Options,
    prior: crate::identity::Prior<[reuse::ShiftFit]>,
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
    if opts.current.as_ref() == Some(&reference) {
        anyhow::bail!("--current {reference}: that is the reference split; name another (--reference to change it)");
    }
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
                prior,
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

#[allow(clippy::too_many_arguments)]
fn compare(
    loaded: &Loaded,
    f: &features::Features,
    (ref_name, ref_rows): (&str, &[usize]),
    (cur_name, cur_rows): (&str, &[usize]),
    usable: &crate::tally::Tally,
    params: &Params,
    seed: u64,
    prior: crate::identity::Prior<[reuse::ShiftFit]>,
) -> Comparison {
    let mut lap = Lap::new();
    let (features, skipped_features) =
        feature_tests(f, (ref_name, ref_rows), (cur_name, cur_rows), params);
    let drifting = features.iter().filter(|x| x.drifting).count();
    lap.lap("per-feature tests");
    let pair = Pair {
        loaded,
        f,
        reference: (ref_name, ref_rows),
        current: (cur_name, cur_rows),
        seed,
    };
    let m = if ref_rows.len() < MIN_SAMPLES || cur_rows.len() < MIN_SAMPLES {
        let why = format!(
            "fewer than {MIN_SAMPLES} readable samples in '{}'",
            if ref_rows.len() < MIN_SAMPLES {
                ref_name
            } else {
                cur_name
            }
        );
        Multivariate::skipped(why)
    } else {
        pair.multivariate(prior, &mut lap)
    };
    let label_shift = label_shift(usable, ref_name, cur_name);
    let mut c = Comparison {
        reference: ref_name.to_string(),
        current: cur_name.to_string(),
        n_reference: ref_rows.len(),
        n_current: cur_rows.len(),
        verdict: Verdict::None,
        evidence: Vec::new(),
        classifier_evidence: false,
        kernel_evidence: false,
        features_tested: features.len(),
        features_drifting: drifting,
        share_drifting: if features.is_empty() {
            0.0
        } else {
            drifting as f64 / features.len() as f64
        },
        features,
        skipped_features,
        classifier: m.classifier,
        classifier_skipped: m.classifier_skipped,
        mmd: m.mmd,
        mmd_skipped: m.mmd_skipped,
        label_shift,
        reused: m.reused,
        fit: m.fit,
        timings: lap.timings,
    };
    let j = verdict::judge(&c, params);
    (c.verdict, c.evidence) = (j.verdict, j.evidence);
    (c.classifier_evidence, c.kernel_evidence) = (j.by_classifier, j.by_kernel);
    c
}

/// Wall time of each part of a comparison, for `--timings`.
struct Lap {
    clock: std::time::Instant,
    timings: Vec<(&'static str, std::time::Duration)>,
}

impl Lap {
    fn new() -> Lap {
        Lap {
            clock: std::time::Instant::now(),
            timings: Vec::new(),
        }
    }

    fn lap(&mut self, what: &'static str) {
        self.timings.push((what, self.clock.elapsed()));
        self.clock = std::time::Instant::now();
    }
}

/// Each feature's two-sample test, corrected for multiple testing (Benjamini–
/// Hochberg), drifting when significant and large enough; drifting first, largest
/// effect first. Also the features that could not be tested.
fn feature_tests(
    f: &features::Features,
    (ref_name, ref_rows): (&str, &[usize]),
    (cur_name, cur_rows): (&str, &[usize]),
    params: &Params,
) -> (Vec<FeatureDrift>, Vec<Skipped>) {
    let (mut features, skipped) = per_feature::test(f, ref_rows, cur_rows, ref_name, cur_name);
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
    (features, skipped)
}

/// The two splits a comparison reads.
struct Pair<'a> {
    loaded: &'a Loaded,
    f: &'a features::Features<'a>,
    reference: (&'a str, &'a [usize]),
    current: (&'a str, &'a [usize]),
    seed: u64,
}

/// The multivariate tests of a pair of splits: the classifier two-sample test and
/// the kernel (MMD) test, fitted now or reused from an earlier check.
#[derive(Default)]
struct Multivariate {
    classifier: Option<Classifier>,
    classifier_skipped: Option<String>,
    mmd: Option<Kernel>,
    mmd_skipped: Option<String>,
    reused: Option<String>,
    fit: Option<reuse::ShiftFit>,
}

impl Multivariate {
    fn skipped(why: String) -> Multivariate {
        Multivariate {
            classifier_skipped: Some(why.clone()),
            mmd_skipped: Some(why),
            ..Default::default()
        }
    }
}

impl Pair<'_> {
    /// The rows' identities, reference then current (check only).
    fn identities<'i>(&'i self, ids: &'i [u128]) -> impl Iterator<Item = u128> + 'i {
        self.reference
            .1
            .iter()
            .chain(self.current.1)
            .map(move |&i| ids[i])
    }

    fn multivariate(
        &self,
        prior: crate::identity::Prior<[reuse::ShiftFit]>,
        lap: &mut Lap,
    ) -> Multivariate {
        let (ref_name, cur_name) = (self.reference.0, self.current.0);
        let key = reuse::key(self.f, ref_name, cur_name, self.seed);
        let earlier = prior
            .state
            .filter(|_| !prior.refit)
            .zip(prior.ids)
            .and_then(|(s, ids)| {
                let x = s.iter().find(|x| x.key == key)?;
                Some((x, crate::identity::changed(&x.fitted, self.identities(ids))))
            })
            .filter(|(_, changes)| changes.reusable());
        match earlier {
            Some((earlier, changes)) => {
                let m = self.reused(earlier, changes);
                lap.lap("classifier");
                m
            }
            None => self.fit(key, prior.ids, lap),
        }
    }

    /// The earlier check's tests, with today's least typical current samples.
    fn reused(&self, earlier: &reuse::ShiftFit, changes: crate::identity::Changes) -> Multivariate {
        let (w, b) = &earlier.model;
        let (cur_name, cur_rows) = self.current;
        let most_unlike = most_unlike(
            self.loaded,
            self.f,
            &earlier.vectors,
            cur_rows,
            cur_name,
            w,
            *b,
        );
        Multivariate {
            classifier: Some(Classifier {
                model: MODEL,
                folds: classifier::FOLDS,
                sample_reference: earlier.sample_reference,
                sample_current: earlier.sample_current,
                fitted: earlier.classifier.clone(),
                most_unlike,
            }),
            mmd: earlier.mmd.clone().map(|(nr, nc, test)| Kernel {
                sample_reference: nr,
                sample_current: nc,
                test,
            }),
            reused: (changes.count() > 0).then(|| changes.note()),
            fit: Some(earlier.clone()),
            ..Default::default()
        }
    }

    /// Both tests on seeded samples of the two splits (one seed per pair of splits, so
    /// that adding a split changes no other comparison); kept for a later check when
    /// samples have identities.
    fn fit(&self, key: u64, ids: Option<&[u128]>, lap: &mut Lap) -> Multivariate {
        let (ref_name, ref_rows) = self.reference;
        let (cur_name, cur_rows) = self.current;
        let pair_seed =
            self.seed ^ xxhash_rust::xxh3::xxh3_64(format!("{ref_name}\0{cur_name}").as_bytes());
        let mut rng = ChaCha8Rng::seed_from_u64(pair_seed);
        let ref_sample = sample(ref_rows, CLASSIFIER_SAMPLE, &mut rng);
        let cur_sample = sample(cur_rows, CLASSIFIER_SAMPLE, &mut rng);
        let mut m = Multivariate::default();
        let all: Vec<usize> = ref_sample.iter().chain(&cur_sample).copied().collect();
        let vectors = features::Vectors::fit(self.f, &all);
        let d = vectors.dim();
        if d == 0 {
            return Multivariate::skipped("no feature to learn from".into());
        }
        let x = vectors.matrix(self.f, &all);
        let is_current: Vec<bool> = (0..all.len()).map(|k| k >= ref_sample.len()).collect();
        // Stratified folds: the samples are already in random order.
        let fold: Vec<usize> = (0..all.len())
            .map(|k| if k < ref_sample.len() { k } else { k - ref_sample.len() } % classifier::FOLDS)
            .collect();
        match classifier::cross_validate(&x, d, &is_current, &fold, &vectors.names) {
            Ok(fitted) => {
                let (w, b) = fitted.model.clone().unwrap_or_default();
                let most_unlike =
                    most_unlike(self.loaded, self.f, &vectors, cur_rows, cur_name, &w, b);
                m.classifier = Some(Classifier {
                    model: MODEL,
                    folds: classifier::FOLDS,
                    sample_reference: ref_sample.len(),
                    sample_current: cur_sample.len(),
                    fitted,
                    most_unlike,
                });
            }
            Err(e) => m.classifier_skipped = Some(e),
        }
        lap.lap("classifier");
        let (nr, nc) = (
            ref_sample.len().min(MMD_SAMPLE),
            cur_sample.len().min(MMD_SAMPLE),
        );
        let mut xm = Vec::with_capacity((nr + nc) * d);
        xm.extend_from_slice(&x[..nr * d]);
        let cur_start = ref_sample.len() * d;
        xm.extend_from_slice(&x[cur_start..cur_start + nc * d]);
        m.mmd = Some(Kernel {
            sample_reference: nr,
            sample_current: nc,
            test: mmd::test(&xm, d, nr, pair_seed),
        });
        lap.lap("mmd");
        if let (Some(ids), Some(c)) = (ids, &m.classifier) {
            let mut fitted: Vec<u128> = self.identities(ids).collect();
            fitted.sort_unstable();
            m.fit = Some(reuse::ShiftFit {
                key,
                fitted,
                vectors,
                classifier: c.fitted.clone(),
                model: c.fitted.model.clone().unwrap_or_default(),
                sample_reference: c.sample_reference,
                sample_current: c.sample_current,
                mmd: m.mmd.as_ref().map(|k| (nr, nc, k.test.clone())),
            });
        }
        m
    }
}

const MODEL: &str = "logistic regression (linfa, L2), standardized features";

/// The current split's samples the model (`w`, `b`) finds least like the reference.
fn most_unlike(
    loaded: &Loaded,
    f: &features::Features,
    vectors: &features::Vectors,
    cur_rows: &[usize],
    cur_name: &str,
    w: &[f64],
    b: f64,
) -> Vec<SampleRef> {
    let d = vectors.dim();
    let mut scored: Vec<(f64, usize)> = cur_rows
        .par_chunks(8192)
        .flat_map_iter(|chunk| {
            let xc = vectors.matrix(f, chunk);
            chunk
                .iter()
                .enumerate()
                .map(|(k, &i)| (classifier::score(&xc[k * d..(k + 1) * d], w, b), i))
                .collect::<Vec<_>>()
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored
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
        .collect()
}

/// A seeded random subset of at most `k` rows, in random order.
fn sample(rows: &[usize], k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut v = rows.to_vec();
    v.shuffle(rng);
    v.truncate(k);
    v
}

fn label_shift(usable: &crate::tally::Tally, a: &str, b: &str) -> Option<LabelShift> {
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
