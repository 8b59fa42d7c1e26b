use crate::finding::{Finding, Severity};
use crate::rules::duplicates::{things, MAX_LISTED};
use crate::rules::{Context, Rule, RuleMeta};
use crate::util::round4;

pub struct Outliers;

pub const META: RuleMeta = RuleMeta {
    code: "O001",
    name: "outliers",
    severity: Severity::Info,
    summary: "Samples far from their nearest neighbours in feature space.",
    doc: "**What it finds.** Per readable sample, the mean Euclidean distance to its `k` nearest neighbours among the standardized feature vectors L002 uses (table columns, an image's grey picture and shape descriptor on their principal components, or `--embeddings`); a sample whose distance is above Q3 + `iqr` × IQR of that distance over the dataset is an outlier (cleanlab's rule). The manifest's `outlier_score` is the distance over its median (1: typical). Neighbours are searched exactly among up to 10,000 samples; beyond that (or for long vectors), among a seeded random subset of them, which keeps a large scan in seconds and ranks samples the same way.\n\n\
             **Why it matters.** Outliers are often broken samples (a corrupt capture, a unit error, a row from another table); when they are genuine, they are the rare cases a model will get wrong and a test set should hold on purpose.\n\n\
             **Example.** `23 rows are outliers (mean distance to 10 nearest neighbours above 2.41, Q3 + 1.7 × IQR)`, each noted `score 4.2 × median`.",
    thresholds: crate::labels::outliers::THRESHOLDS,
    fix: "Look at the listed samples first: fix or drop the broken ones; keep genuine rare cases and make sure the test split holds some.",
};

impl Rule for Outliers {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let l = ctx.labels;
        let Some(o) = &l.outliers else {
            return Vec::new();
        };
        if o.outliers == 0 {
            return Vec::new();
        }
        let mut rows: Vec<usize> = (0..l.is_outlier.len())
            .filter(|&i| l.is_outlier[i])
            .collect();
        rows.sort_by(|&a, &b| {
            l.outlier_score[b]
                .unwrap_or(0.0)
                .total_cmp(&l.outlier_score[a].unwrap_or(0.0))
                .then(a.cmp(&b))
        });
        let samples = rows
            .iter()
            .take(MAX_LISTED)
            .map(|&i| {
                let mut r = ctx.loaded.manifest.sample_ref(i);
                r.note = Some(format!(
                    "score {} × median",
                    round4(l.outlier_score[i].unwrap_or(0.0))
                ));
                r
            })
            .collect();
        vec![Finding::new(
            self.meta(),
            format!(
                "{} {} outliers (mean distance to {} nearest neighbours above {}, Q3 + {} × IQR)",
                things(ctx, o.outliers),
                if o.outliers == 1 {
                    "is one of the"
                } else {
                    "are"
                },
                o.k,
                round4(o.cutoff),
                ctx.threshold(self, "iqr")
            ),
        )
        .with_examples(samples, o.outliers as u64)
        .evidence("outliers", o.outliers)
        .evidence("cutoff", round4(o.cutoff))
        .evidence("median_distance", round4(o.median_distance))
        .evidence("reference", o.reference)]
    }
}
