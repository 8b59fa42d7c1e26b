use super::{sample, things, MAX_LISTED};
use crate::duplicates::Cluster;
use crate::finding::{Finding, SampleRef, Severity};
use crate::rules::{Context, Rule, RuleMeta};
use crate::util::count;
use crate::util::round4;

pub struct NearDuplicates;

/// Clusters larger than this are named in the finding.
const LARGE_CLUSTER: usize = 20;

pub const META: RuleMeta = RuleMeta {
    code: "D002",
    name: "near-duplicates",
    severity: Severity::Warning,
    summary: "Samples that are near copies of each other: re-encoded, resized, shifted or re-exposed.",
    doc: "**What it finds.** Clusters of samples that are the same picture or row, not merely alike.\n\
             - Images, in two steps. *Candidates*: the 64-bit DCT pHash (imagededup's: grey 32×32, the 8×8 lowest frequencies against their median) of the image moved so that its intensity centroid is at the centre, within `phash` bits, found with a multi-index hash (Norouzi et al., 2014), never all pairs; centring keeps the hash of a copy shifted by a pixel within a few bits, where it moves a plain pHash of a small centred image by 8 bits (median) and up to 22 (scikit-learn's digits). *Confirmation*: the normalised cross-correlation of the two 32×32 grey images at the best translation of up to 2 px within a pixel of the one that lines up their intensity centroids (pairs whose centred 8×8 thumbnails correlate below 0.9 are ruled out first); a pair is a near copy when 1 − correlation (the pixel distance) is at most `max-distance` and at most `nn-fraction` × the dataset's median nearest-neighbour distance (measured on up to 500 distinct pictures, each against its 8 nearest by hash; with fewer than 20 pictures the ceiling alone applies). Mean and contrast cancel in the correlation, so re-encoding, resizing, brightness and contrast changes and small shifts pass; two different handwritten 3s, icons or X-rays, whose distance is typical of the dataset, do not. Each near copy's similarity (the correlation) is reported; the threshold and calibration are in the JSON report's `duplicates.thresholds`. Images smaller than 8×8 px are compared exactly only (an info finding lists them); blank images (blank-image, N108) are left out because a flat picture correlates with nothing.\n\
             - Table rows: Euclidean distance on z-scored numeric features (missing values at the mean) within `table-radius` × the median distance from a row to its nearest other row (cleanlab's near-duplicate rule uses 0.13), found by a k-d tree self-join that visits each pair once; text features must be equal; skipped above 64 numeric features, where a k-d tree is no faster than all pairs, and the report says so (an info finding). The median is estimated from 100 evenly spaced rows.\n\n\
             Clusters have a bounded diameter: every near member is within the threshold of the cluster's representative (greedy stars: the sample with most confirmed neighbours represents them), never joined through a chain of look-alikes; identical copies (D001) join their picture's cluster. A cluster of more than 20 samples is named in the finding. The cluster id is in the manifest's `dup_cluster` column.\n\n\
             **Why it matters.** Near copies leak between splits as surely as exact ones (a resized test image whose original is in train), and carry the same label noise when their labels disagree (L001). They also make a dataset look larger and more varied than it is.\n\n\
             **Example.** `12 images in 5 clusters are near copies of another image (pixel similarity ≥ 0.9950, lowest 0.9981)`.",
    thresholds: crate::duplicates::THRESHOLDS,
    fix: "Look at each cluster: keep one sample of a true copy; keep a cluster within one split (`dsaudit split` does); raise or lower the thresholds if the clusters are not copies.",
};

impl Rule for NearDuplicates {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let search = &ctx.dups.search;
        let near: Vec<_> = ctx.dups.clusters.iter().filter(|c| c.near).collect();
        let mut out = Vec::new();
        if !near.is_empty() {
            out.push(self.clusters(ctx, &near));
        }
        if !search.unhashed.is_empty() {
            let samples = search
                .unhashed
                .iter()
                .take(MAX_LISTED)
                .map(|&m| sample(ctx, m, "smaller than 8×8 px".into()))
                .collect();
            let mut f = Finding::new(
                self.meta(),
                format!(
                    "{} smaller than 8×8 px: too small for a perceptual hash, so only exact copies were searched",
                    things(ctx, search.unhashed.len())
                ),
            )
            .with_examples(samples, search.unhashed.len() as u64);
            f.severity = Severity::Info;
            out.push(f);
        }
        if let Some(why) = &search.skipped {
            if ctx.loaded.manifest.len() > 1 {
                let mut f =
                    Finding::new(self.meta(), format!("near duplicates not searched: {why}"));
                f.severity = Severity::Info;
                // The rule's own advice is about clusters, of which there are none.
                f.fix = format!(
                    "Only identical samples were compared; near copies may remain. A table of more than {} numeric features can be searched once reduced to fewer (for example by PCA).",
                    crate::duplicates::table::MAX_DIMS
                );
                out.push(f);
            }
        }
        out
    }
}

impl NearDuplicates {
    /// One finding for every cluster of near copies.
    fn clusters(&self, ctx: &Context, near: &[&Cluster]) -> Finding {
        let search = &ctx.dups.search;
        let total: usize = near.iter().map(|c| c.members.len()).sum();
        let samples = listed(ctx, near);
        let lowest = near
            .iter()
            .flat_map(|c| c.near_members.iter().filter_map(|n| n.similarity))
            .fold(f64::INFINITY, f64::min);
        let how = match (search.radius, search.median_nn_distance) {
            (Some(r), Some(med)) if ctx.loaded.rows.is_some() => format!(
                "distance ≤ {}: {} × the median nearest-neighbour distance {}",
                round4(r),
                ctx.threshold(self, "table-radius"),
                round4(med)
            ),
            (Some(r), _) if lowest.is_finite() => {
                format!("pixel similarity ≥ {:.4}, lowest {lowest:.4}", 1.0 - r)
            }
            _ => "same picture".into(),
        };
        let large: Vec<String> = near
            .iter()
            .filter(|c| c.members.len() > LARGE_CLUSTER)
            .map(|c| format!("cluster {} ({})", c.id, c.members.len()))
            .collect();
        let mut message = format!(
            "{} in {} are near copies of one another ({how})",
            things(ctx, total),
            count(near.len(), "cluster", "clusters")
        );
        if !large.is_empty() {
            message.push_str(&format!(
                "; {} of more than {LARGE_CLUSTER} samples: {} (look at these first: a large cluster of near copies is rare in real data)",
                count(large.len(), "cluster", "clusters"),
                large.join(", ")
            ));
        }
        let mut f = Finding::new(self.meta(), message)
            .with_examples(samples, total as u64)
            .evidence("clusters", near.len())
            .evidence("compared", search.compared)
            .evidence(
                "largest_cluster",
                near.iter().map(|c| c.members.len()).max().unwrap_or(0),
            );
        if let Some(r) = search.radius {
            f = f.evidence(
                if ctx.loaded.rows.is_some() {
                    "radius"
                } else {
                    "max_pixel_distance"
                },
                (r * 1e6).round() / 1e6,
            );
        }
        if let Some(med) = search.median_nn_distance {
            f = f.evidence("median_nn_distance", round4(med));
        }
        if lowest.is_finite() {
            f = f.evidence("lowest_similarity", lowest);
        }
        f
    }
}

/// The clusters' members, each with what it is to its cluster's representative.
fn listed(ctx: &Context, near: &[&Cluster]) -> Vec<SampleRef> {
    let dups = ctx.dups;
    let same = |m: u32| dups.same.get(m as usize).copied().unwrap_or(m);
    let manifest = &ctx.loaded.manifest;
    near.iter()
        .flat_map(|c| {
            c.members.iter().map(move |&m| {
                let note = if m == c.representative {
                    format!(
                        "cluster {} · representative of {}",
                        c.id,
                        things(ctx, c.members.len())
                    )
                } else {
                    let of = manifest.sample_ref(c.representative as usize).display();
                    if same(m) == same(c.representative) {
                        format!("cluster {} · identical to {of}", c.id)
                    } else if let Some(s) = c.similarity(m, same) {
                        format!("cluster {} · similarity {s:.4} to {of}", c.id)
                    } else {
                        format!("cluster {} · near copy of {of}", c.id)
                    }
                };
                (m, note)
            })
        })
        .take(MAX_LISTED)
        .map(|(m, note)| sample(ctx, m, note))
        .collect()
}
