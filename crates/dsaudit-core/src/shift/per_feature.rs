//! Every feature on its own: KS and normalized Wasserstein for numbers, with a test
//! for one value whose share moved (a spike); chi-square and Jensen–Shannon for
//! categories; untestable features skipped with the reason.

use super::{features, spike, univariate, FeatureDrift, Skipped, MIN_SAMPLES};
use crate::stats::moments::Moments;
use rayon::prelude::*;
use std::collections::BTreeMap;

pub fn test(
    f: &features::Features,
    ref_rows: &[usize],
    cur_rows: &[usize],
    ref_name: &str,
    cur_name: &str,
    min_spike: f64,
) -> (Vec<FeatureDrift>, Vec<Skipped>) {
    let (reference, current) = ((ref_name, ref_rows), (cur_name, cur_rows));
    let numeric: Vec<Result<Vec<FeatureDrift>, Skipped>> = f
        .numeric
        .par_iter()
        .map(|n| numeric(n, reference, current, min_spike))
        .collect();
    let categorical = f
        .categorical
        .iter()
        .map(|c| categorical(c, reference, current).map(|x| vec![x]));
    let (mut ok, mut skipped) = (Vec::new(), Vec::new());
    for r in numeric.into_iter().chain(categorical) {
        match r {
            Ok(x) => ok.extend(x),
            Err(s) => skipped.push(s),
        }
    }
    (ok, skipped)
}

/// Each feature's two-sample test, corrected for multiple testing (Benjamini–
/// Hochberg), drifting when significant and large enough; drifting first, largest
/// effect first. Also the features that could not be tested.
pub(super) fn corrected(
    f: &features::Features,
    (ref_name, ref_rows): (&str, &[usize]),
    (cur_name, cur_rows): (&str, &[usize]),
    params: &super::Params,
) -> (Vec<FeatureDrift>, Vec<Skipped>) {
    let (mut features, skipped) = test(f, ref_rows, cur_rows, ref_name, cur_name, params.min_spike);
    let q = univariate::benjamini_hochberg(&features.iter().map(|x| x.p_value).collect::<Vec<_>>());
    for (x, q) in features.iter_mut().zip(q) {
        x.q_value = q;
        let floor = match x.test {
            "ks" => params.min_wasserstein,
            "spike" => params.min_spike,
            _ => params.min_js,
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

/// A numeric feature: two-sample Kolmogorov–Smirnov, with the Wasserstein distance in
/// reference standard deviations as the effect; and the spike test when one value's
/// share moved by `min_spike` or more.
fn numeric(
    n: &features::Numeric,
    (ref_name, ref_rows): (&str, &[usize]),
    (cur_name, cur_rows): (&str, &[usize]),
    min_spike: f64,
) -> Result<Vec<FeatureDrift>, Skipped> {
    let values = |rows: &[usize]| -> Vec<f64> {
        let mut v: Vec<f64> = rows
            .iter()
            .map(|&i| (n.get)(i))
            .filter(|x| x.is_finite())
            .collect();
        // A radix sort puts floats in `total_cmp`'s order (tested below), several
        // times faster than a comparison sort on a million values.
        radsort::sort(&mut v);
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
    let (ma, mb) = (Moments::from_slice(&a), Moments::from_slice(&b));
    // A constant reference column has no scale of its own: the pooled one then.
    let scale = if ma.std() > 0.0 {
        ma.std()
    } else {
        let mut pooled = ma;
        pooled.merge(&mb);
        pooled.std()
    };
    if scale == 0.0 {
        return Err(skip(format!("constant ({}) in both splits", a[0])));
    }
    let ks = univariate::ks(&a, &b);
    let ks = FeatureDrift {
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
            crate::util::round4(ma.mean),
            crate::util::round4(mb.mean)
        ),
    };
    let spike = spike_row(&n.name, (&a, ref_name), (&b, cur_name), min_spike);
    Ok(std::iter::once(ks).chain(spike).collect())
}

/// The spike test's row of a numeric feature (`a`, `b` sorted), when one value's
/// share moved by `min_spike` or more.
fn spike_row(
    name: &str,
    (a, ref_name): (&[f64], &str),
    (b, cur_name): (&[f64], &str),
    min_spike: f64,
) -> Option<FeatureDrift> {
    let t = spike::test(a, b, min_spike)?;
    Some(FeatureDrift {
        feature: name.to_string(),
        test: "spike",
        statistic: t.chi2,
        p_value: t.p_value,
        q_value: 1.0,
        effect_name: "share_moved",
        effect: t.moved,
        drifting: false,
        n_reference: a.len(),
        n_current: b.len(),
        detail: format!(
            "{} is {}% of {ref_name}, {}% of {cur_name}",
            crate::util::round4(t.value),
            crate::util::round4(100.0 * t.shares.0),
            crate::util::round4(100.0 * t.shares.1)
        ),
    })
}

/// A categorical feature: chi-square of the two splits' counts, with the
/// Jensen–Shannon distance as the effect and the category that moved most.
fn categorical(
    c: &features::Categorical,
    (ref_name, ref_rows): (&str, &[usize]),
    (cur_name, cur_rows): (&str, &[usize]),
) -> Result<FeatureDrift, Skipped> {
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
    let moved = most_moved(c, &cats, (&ca, &cb), (ref_name, cur_name));
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
}

/// The category whose share moved most between the splits, in words.
fn most_moved(
    c: &features::Categorical,
    cats: &std::collections::BTreeSet<u64>,
    (ca, cb): (&[u64], &[u64]),
    (ref_name, cur_name): (&str, &str),
) -> String {
    let (na, nb) = (ca.iter().sum::<u64>() as f64, cb.iter().sum::<u64>() as f64);
    cats.iter()
        .zip(ca.iter().zip(cb))
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
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// The radix sort gives `total_cmp`'s order, bit for bit: signed zeros,
        /// subnormals, infinities and NaNs included.
        #[test]
        fn radix_order_is_total_cmp(bits in prop::collection::vec(any::<u64>(), 0..3000),
                                    small in prop::collection::vec(-4i8..4, 0..3000)) {
            let mut v: Vec<f64> = bits.iter().map(|&b| f64::from_bits(b)).collect();
            v.extend(small.iter().map(|&s| s as f64 * 0.5));
            v.extend([0.0, -0.0, f64::MIN_POSITIVE / 4.0, f64::INFINITY, f64::NEG_INFINITY]);
            let mut want = v.clone();
            want.sort_by(f64::total_cmp);
            radsort::sort(&mut v);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&v), bits(&want));
        }
    }
}
