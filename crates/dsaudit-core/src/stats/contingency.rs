//! Comparing two count distributions over the same categories (class mixes).

use statrs::distribution::{ChiSquared, ContinuousCDF};
use std::collections::{BTreeMap, BTreeSet};

/// Chi-square test of homogeneity on a 2×K table, and the total variation distance
/// between the two class distributions. Returns (statistic, dof, p-value, tvd).
pub fn compare(a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>) -> (f64, f64, f64, f64) {
    let classes: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let (na, nb) = (
        a.values().sum::<u64>() as f64,
        b.values().sum::<u64>() as f64,
    );
    let n = na + nb;
    let mut chi2 = 0.0;
    let mut tvd = 0.0;
    for c in &classes {
        let (oa, ob) = (
            *a.get(*c).unwrap_or(&0) as f64,
            *b.get(*c).unwrap_or(&0) as f64,
        );
        let col = oa + ob;
        for (o, rowsum) in [(oa, na), (ob, nb)] {
            let e = rowsum * col / n;
            if e > 0.0 {
                chi2 += (o - e) * (o - e) / e;
            }
        }
        tvd += (oa / na - ob / nb).abs();
    }
    let dof = (classes.len() as f64 - 1.0).max(1.0);
    let p = ChiSquared::new(dof).map(|d| d.sf(chi2)).unwrap_or(1.0);
    (chi2, dof, p, tvd / 2.0)
}
