use crate::choice::Choice;
use crate::finding::{Finding, Severity};
use crate::rules::duplicates::{things, MAX_LISTED};
use crate::rules::{Context, Rule, RuleMeta};
use crate::util::round4;

pub struct LabelIssues;

/// Below this out-of-sample accuracy the model's doubts say more about the model
/// than about the labels; the finding says so.
const WEAK_ACCURACY: f64 = 0.7;

pub const META: RuleMeta = RuleMeta {
    code: "L002",
    name: "label-issues",
    severity: Severity::Warning,
    summary: "Samples whose given label is likely wrong (confident learning).",
    doc: "**What it finds.** Samples confident learning (Northcutt, Jiang and Chuang, 2021; cleanlab's method) flags as mislabelled. Out-of-sample predicted probabilities come from 5-fold stratified cross-validation (`--folds`) of a multinomial logistic regression (linfa; L2 alpha = 10, i.e. scikit-learn's C = 0.1, doubled for two classes, where the multinomial model's penalty is otherwise half the binary model's; each fold learns from at most max(20,000, 30 × parameters) rows, `--max-fit-rows`) on standardized feature vectors: a table's columns (numbers, the 10 most frequent categories one-hot), an image's 16×16 grey picture (each normalised to zero mean and unit variance) with its shape descriptor (gradient-orientation histograms of the 32×32 grey image, 45 numbers), the pixels weighed to carry as much variance as the shape bins together, projected on their leading principal components (up to 64, at least 5 images each), or your embeddings (`--embeddings FILE`); or they come from the baseline's networks, one per fold, trained with its loop (Adam 2e-3, batch 64, a tenth of each fold's training rows to stop on, at most max(10, enough epochs for 1,100 steps) and 30 epochs): `--label-model cnn`, its LeNet-like CNN on the 16×16 grey images (2×2 means of the 32×32 ones; images only; about a minute for 10,000 images on two CPU cores, and on a few hundred images worse than the linear model), or `--label-model mlp`, its MLP on the same feature vectors the linear model reads; either network's out-of-fold probabilities are averaged with the linear model's on the same folds (on real digits and tables the pair flags errors better than the network alone); the default `auto` takes the CNN for 1,000 to 20,000 labelled images when a GPU adapter is present, else the linear model, and a note says which model it took and why; or they are yours (`--pred-probs FILE`, one row per manifest row, columns named after the classes or in sorted class order, rows summing to 1). Per class j the threshold is the mean probability of j over the samples labelled j; a sample counts in the confident joint under the class it reaches the threshold of (the most probable if several); the joint is calibrated to the class counts; then, by default (`--label-method prune-by-noise-rate`), for each off-diagonal cell (given i, likely j) that many samples labelled i with the largest margin p(j) − p(i) are flagged. Other methods: `prune-by-class`, `both`, `confident-learning`, `predicted-neq-given`. Whatever the method, no class has more samples flagged than the calibrated joint estimates to be mislabelled in it (the least self-confident are kept). The finding states an expected precision: the mean of 1 − p(given label) over the flagged samples, i.e. the share the model's own probabilities say is wrong; it is as good as the model's calibration (docs/benchmarks.md compares it with the measured precision). A sample the model predicts as its given label is never flagged. Samples are listed worst first by label quality (self-confidence, p(given label)) with the suggested label (the most probable class) and the normalized margin ((p(given) − largest other + 1) / 2). Classes with fewer samples than folds are not scored, and said. When the model does no better out of sample than always answering the commonest class (identical pictures in two classes, columns without signal), its disagreements with the labels say nothing: no sample is listed, and a note says why. Nor when it learned too little to judge them: its skill (Cohen's kappa against always answering the commonest class: how far its out-of-sample accuracy goes from that answer's towards a perfect model's) below 0.5. Then either its features cannot tell the classes apart or a large share of the labels is wrong, and from its side the two look alike: on 48×48 crops of twelve real photographs, whose labels were all right, a model of skill 0.39 flagged 42% of them with an expected precision stated as 0.90, and found a tenth of flipped labels at a precision of 0.15; the real sets it judges well, a tenth of their labels flipped, sit at 0.72 (breast cancer) and above. The cost: two classes with a quarter or more of their labels wrong fall below it too (breast cancer with 25% of its training labels flipped: F1 0.882 → 0.347; docs/benchmarks.md), and the note names that reading too. A wrong finding costs more than a missing one: bring features that tell the classes apart (`--embeddings`).\n\n\
             **Why it matters.** Wrong labels teach the model wrong answers and make test scores lie; a few percent of noise in a test set can reorder which model looks best.\n\n\
             **Example.** `14 samples are likely mislabelled (3.1% of 452 scored; out-of-sample accuracy 0.95, expected precision 0.81)`, each sample noted `given cat · suggested dog · quality 0.031 · margin 0.02`.",
    thresholds: &[],
    fix: "Review the listed samples, worst first; fix the labels you confirm, or drop them with `dsaudit clean --drop-label-issues` (or relabel with --relabel after review).",
};

impl Rule for LabelIssues {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let l = ctx.labels;
        if l.skipped.is_some() || l.issues == 0 {
            return Vec::new();
        }
        let ranked = l.ranked_issues();
        let given = ctx.loaded.manifest.strs("label");
        let samples = ranked
            .iter()
            .take(MAX_LISTED)
            .map(|&i| {
                let mut r = ctx.loaded.manifest.sample_ref(i);
                r.note = Some(format!(
                    "given {} · suggested {} · quality {} · margin {}",
                    given.get(i).unwrap_or("?"),
                    l.class_name(l.suggested[i]).unwrap_or("?"),
                    round4(l.quality[i].unwrap_or(0.0)),
                    round4(l.margin[i].unwrap_or(0.0))
                ));
                r
            })
            .collect();
        let weak = if l.accuracy < WEAK_ACCURACY {
            "; the model is weak on these features, so many flags may be its own mistakes: bring better features with --embeddings"
        } else {
            ""
        };
        let expected = l
            .expected_precision
            .map(|p| format!(", expected precision {p:.2}"))
            .unwrap_or_default();
        let mut f = Finding::new(
            self.meta(),
            format!(
                "{} likely mislabelled ({:.1}% of {} scored; out-of-sample accuracy {:.2}{expected}){weak}",
                things(ctx, l.issues),
                100.0 * l.issues as f64 / l.scored.max(1) as f64,
                l.scored,
                l.accuracy
            ),
        )
        .with_examples(samples, l.issues as u64)
        .evidence("issues", l.issues)
        .evidence("scored", l.scored)
        .evidence("accuracy", l.accuracy)
        .evidence("expected_precision", l.expected_precision)
        .evidence("method", l.method.name())
        .evidence("noise", serde_json::to_value(&l.noise).unwrap_or_default());
        if l.issues > MAX_LISTED {
            f = f.evidence("listed", MAX_LISTED);
        }
        vec![f]
    }
}
