//! The classifier two-sample test's fitted state, as `dsaudit check` keeps it per
//! pair of splits: the feature scaler, the fitted model, its cross-validated AUC
//! and the kernel test on the same sample. While few samples of the two splits
//! changed since (see `identity::REFIT_SHARE`), a re-check keeps these numbers
//! and only ranks the current split's samples, new ones included, with the model.

use super::classifier::Fitted;
use super::features::{Features, Vectors};
use super::mmd::Mmd;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ShiftFit {
    /// Of the pair of splits, the seed, the sample size and the features' names.
    pub key: u64,
    /// Identities of both splits' readable samples when fitted, sorted.
    #[serde(with = "crate::packed")]
    pub fitted: Vec<u128>,
    pub vectors: Vectors,
    pub classifier: Fitted,
    /// Weights and intercept of the model fitted on the whole sample.
    pub model: (Vec<f64>, f64),
    pub sample_reference: usize,
    pub sample_current: usize,
    /// The kernel test: (reference, current) sample sizes and its result.
    pub mmd: Option<(usize, usize, Mmd)>,
}

pub fn key(f: &Features, reference: &str, current: &str, seed: u64) -> u64 {
    let mut s = format!(
        "{reference}\0{current}\0{seed}\0{}",
        super::CLASSIFIER_SAMPLE
    );
    for n in &f.numeric {
        s.push('\0');
        s.push_str(&n.name);
    }
    for c in &f.categorical {
        s.push('\u{1}');
        s.push_str(&c.name);
    }
    s.push_str(if f.thumbs.is_some() { "\0thumbs" } else { "" });
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}
