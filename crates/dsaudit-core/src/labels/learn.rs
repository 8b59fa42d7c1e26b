//! Confident learning on a scan's out-of-sample probabilities, and what the report
//! says of it: the flagged samples, each sample's quality, margin and suggestion, the
//! accuracy, the expected precision, the noise per class and the confused pairs.

use super::{confident, ClassNoise, Confusion, Labels};
use rayon::prelude::*;

/// Out-of-sample probabilities: the manifest rows scored, their probabilities
/// (row-major, one per class), and the classes in column order.
pub(super) struct Scored {
    pub rows: Vec<usize>,
    pub probs: Vec<f64>,
    pub classes: Vec<String>,
}

/// Confident learning on the probabilities, and what the report says of it: the
/// flagged samples, each sample's quality, margin and suggestion, the accuracy, the
/// expected precision, the noise per class and the confused pairs.
pub(super) fn learn(out: &mut Labels, s: &Scored, labels: &[usize], method: confident::Method) {
    let k = s.classes.len();
    let (rows, probs) = (&s.rows, &s.probs);
    let mut found = confident::find(probs, k, labels, method);
    confident::cap_by_noise(&mut found.is_issue, probs, k, labels, &found.calibrated);
    let correct = probs
        .par_chunks_exact(k)
        .zip(labels)
        .filter(|&(p, &given)| confident::argmax(p) == given)
        .count();
    too_weak_to_judge(out, &mut found, labels, correct, &s.classes);
    // Each sample's figures are its own: worked out side by side, then placed.
    let per: Vec<(f64, f64, u32)> = probs
        .par_chunks_exact(k)
        .zip(labels)
        .map(|(p, &given)| {
            (
                confident::self_confidence(p, given),
                confident::normalized_margin(p, given),
                confident::argmax(p) as u32,
            )
        })
        .collect();
    for (pos, (&i, &(quality, margin, suggested))) in rows.iter().zip(&per).enumerate() {
        out.quality[i] = Some(quality);
        out.margin[i] = Some(margin);
        out.suggested[i] = Some(suggested);
        out.is_issue[i] = Some(found.is_issue[pos]);
    }
    out.scored = rows.len();
    out.accuracy = crate::util::round4(correct as f64 / rows.len().max(1) as f64);
    out.issues = found.is_issue.iter().filter(|&&f| f).count();
    if out.issues > 0 {
        let doubt: f64 = (0..rows.len())
            .filter(|&pos| found.is_issue[pos])
            .map(|pos| 1.0 - probs[pos * k + labels[pos]])
            .sum();
        out.expected_precision = Some(crate::util::round4(doubt / out.issues as f64));
    }
    noise(out, &found, labels, &s.classes);
    out.thresholds = found
        .thresholds
        .iter()
        .map(|&t| crate::util::round4(t))
        .collect();
    out.confident_joint = found.calibrated.chunks(k).map(|r| r.to_vec()).collect();
}

/// The least skill (Cohen's kappa against always answering the commonest class:
/// how far the model's out-of-sample accuracy goes from that answer's towards a
/// perfect model's) at which the model's disagreements with the labels are listed.
/// Below it they are mostly its own mistakes on samples its features cannot tell
/// apart: on 48×48 crops of twelve real photographs (class: the photograph), whose
/// labels are all right, the linear model reached a skill of 0.39 and flagged 42% of
/// them, stating an expected precision of 0.90; with a tenth of the training labels
/// flipped it found them at a precision of 0.15 (stating 0.91). The real sets it
/// judges well sit above (10% flipped, `just eval-labels`): scikit-learn's digits
/// 0.88, digits shifted 0.84, wine 0.83, LFW faces against non-faces 0.74, breast
/// cancer 0.72.
/// What it costs: a skill this low is also what heavy noise on two classes gives,
/// where the flags would have been right (breast cancer with 20% of its training
/// labels flipped: skill 0.53, F1 unchanged at 0.902; 25%: 0.47, F1 0.882 → 0.347;
/// 30%: 0.38, 0.895 → 0); the note says that a large share of wrong labels is one of
/// the two readings.
pub(super) const MIN_SKILL: f64 = 0.5;

/// A model that has learned too little from the features (no better than always
/// answering the commonest class, or short of `MIN_SKILL`) says little about the
/// labels where it disagrees with them: nothing is listed, a note says why, and its
/// confusion goes back on each class's own label.
fn too_weak_to_judge(
    out: &mut Labels,
    found: &mut confident::Found,
    labels: &[usize],
    correct: usize,
    classes: &[String],
) {
    let k = classes.len();
    let mut per_class = vec![0usize; k];
    labels.iter().for_each(|&l| per_class[l] += 1);
    let commonest = per_class.iter().copied().max().unwrap_or(0);
    let n = labels.len();
    let common = (0..k).find(|&c| per_class[c] == commonest).unwrap_or(0);
    let (accuracy, base) = (
        correct as f64 / n.max(1) as f64,
        commonest as f64 / n.max(1) as f64,
    );
    let skill = (accuracy - base) / (1.0 - base).max(f64::MIN_POSITIVE);
    if n == 0 || (correct > commonest && skill >= MIN_SKILL) {
        return;
    }
    out.notes.push(if correct <= commonest {
        format!(
            "the label model did no better than always answering '{}' (out-of-sample accuracy {} against {}): its disagreements with the labels say nothing, so no sample is flagged; bring features that tell the classes apart with --embeddings",
            classes[common],
            crate::util::round4(accuracy),
            crate::util::round4(base),
        )
    } else {
        format!(
            "the label model learned too little from these features to judge the labels (out-of-sample accuracy {} against {} for always answering '{}': {:.0}% of the way to a perfect model, under the {:.0}% its flags need): either its features cannot tell the classes apart or a large share of the labels is wrong, and from here the two look alike, so no sample is flagged (each sample's label_quality is in the manifest); bring features that tell the classes apart with --embeddings",
            crate::util::round4(accuracy),
            crate::util::round4(base),
            classes[common],
            100.0 * skill,
            100.0 * MIN_SKILL,
        )
    });
    found.is_issue.iter_mut().for_each(|f| *f = false);
    for (c, row) in found.calibrated.chunks_mut(k).enumerate() {
        let sum: u64 = row.iter().sum();
        row.iter_mut().for_each(|v| *v = 0);
        row[c] = sum;
    }
}

/// The estimated noise per class and the pairs of classes the calibrated joint
/// confuses, most samples first.
fn noise(out: &mut Labels, found: &confident::Found, labels: &[usize], classes: &[String]) {
    let k = classes.len();
    let cal = &found.calibrated;
    let mut counts = vec![0u64; k];
    let mut flagged = vec![0u64; k];
    for (pos, &l) in labels.iter().enumerate() {
        counts[l] += 1;
        flagged[l] += found.is_issue[pos] as u64;
    }
    out.noise = (0..k)
        .map(|c| {
            let row: u64 = cal[c * k..(c + 1) * k].iter().sum();
            let off = row - cal[c * k + c];
            ClassNoise {
                class: classes[c].clone(),
                samples: counts[c],
                estimated_mislabeled: off,
                noise_rate: crate::util::round4(off as f64 / row.max(1) as f64),
                flagged: flagged[c],
            }
        })
        .collect();
    let total = labels.len().max(1) as f64;
    let mut pairs = Vec::new();
    for a in 0..k {
        for b in a + 1..k {
            let s = cal[a * k + b] + cal[b * k + a];
            if s > 0 {
                pairs.push(Confusion {
                    a: classes[a].clone(),
                    b: classes[b].clone(),
                    samples: s,
                    share: crate::util::round4(s as f64 / (counts[a] + counts[b]).max(1) as f64),
                    joint: crate::util::round4(s as f64 / total),
                });
            }
        }
    }
    pairs.sort_by(|x, y| {
        y.samples
            .cmp(&x.samples)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    out.confused_pairs = pairs;
}
