//! The multivariate tests of one pair of splits: the classifier two-sample test
//! (with the samples least like the reference) and the kernel (MMD) test, fitted now
//! or reused from an earlier check.

use super::*;
use rand::seq::SliceRandom;

/// The two splits a comparison reads.
pub(super) struct Pair<'a> {
    pub(super) loaded: &'a Loaded,
    pub(super) f: &'a features::Features<'a>,
    pub(super) reference: (&'a str, &'a [usize]),
    pub(super) current: (&'a str, &'a [usize]),
    pub(super) seed: u64,
}

/// The multivariate tests of a pair of splits: the classifier two-sample test and
/// the kernel (MMD) test, fitted now or reused from an earlier check.
#[derive(Default)]
pub(super) struct Multivariate {
    pub(super) classifier: Option<Classifier>,
    pub(super) classifier_skipped: Option<String>,
    pub(super) mmd: Option<Kernel>,
    pub(super) mmd_skipped: Option<String>,
    pub(super) reused: Option<String>,
    pub(super) fit: Option<reuse::ShiftFit>,
}

impl Multivariate {
    pub(super) fn skipped(why: String) -> Multivariate {
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

    pub(super) fn multivariate(
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
