use super::{sample, things, MAX_LISTED};
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, Threshold};
use crate::util::count;
use crate::util::round4;

pub struct NearDuplicates;

impl Rule for NearDuplicates {
    fn code(&self) -> &'static str {
        "D002"
    }
    fn name(&self) -> &'static str {
        "near-duplicates"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "Samples that are near copies of each other: re-encoded, resized, shifted or re-exposed."
    }
    fn doc(&self) -> &'static str {
        "**What it finds.** Clusters of samples that are almost the same.\n\
         - Images: a 64-bit DCT perceptual hash (pHash, as imagededup computes it: grey 32×32, the 8×8 lowest frequencies against their median) within `phash` bits (imagededup's default is 10), confirmed by a 64-bit difference hash (dHash, grey 9×8, each pixel against its left neighbour) within `dhash` bits. Both survive re-encoding, small brightness changes, 1–2 px shifts and resizing. The search uses a multi-index hash over the pHash (Norouzi et al., 2014): never all pairs. Images smaller than 8×8 px get no perceptual hash and are compared exactly only (an info finding lists them); blank images (blank-image, N108) are left out because a flat picture's hash is noise.\n\
         - Table rows: Euclidean distance on z-scored numeric features (missing values at the mean) within `table-radius` × the median distance from a row to its nearest other row (cleanlab's near-duplicate rule uses 0.13), found by a k-d tree self-join that visits each pair once; text features must be equal; skipped above 64 numeric features, where a k-d tree is no faster than all pairs. The median is estimated from 100 evenly spaced rows.\n\n\
         Similar samples join transitively into clusters, with the identical copies of D001; the cluster id is in the manifest's `dup_cluster` column.\n\n\
         **Why it matters.** Near copies leak between splits as surely as exact ones (a resized test image whose original is in train), and carry the same label noise when their labels disagree (L001). They also make a dataset look larger and more varied than it is.\n\n\
         **Example.** `12 images in 5 clusters are near copies of another image (pHash ≤ 10 bits, dHash ≤ 10 bits)`."
    }
    fn thresholds(&self) -> &'static [Threshold] {
        &[
            Threshold {
                key: "phash",
                default: 10.0,
                doc: "largest pHash Hamming distance (of 64 bits) between near-duplicate images",
            },
            Threshold {
                key: "dhash",
                default: 10.0,
                doc: "largest dHash Hamming distance (of 64 bits), the second opinion",
            },
            Threshold {
                key: "table-radius",
                default: 0.13,
                doc: "rows closer than this fraction of the median nearest-neighbour distance are near duplicates",
            },
        ]
    }
    fn fix(&self) -> &'static str {
        "Look at each cluster: keep one sample of a true copy; keep a cluster within one split (`dsaudit split` does); raise or lower the thresholds if the clusters are not copies."
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let mut out = Vec::new();
        let search = &ctx.dups.search;
        let near: Vec<_> = ctx.dups.clusters.iter().filter(|c| c.near).collect();
        if !near.is_empty() {
            let total: usize = near.iter().map(|c| c.members.len()).sum();
            let samples = near
                .iter()
                .flat_map(|c| {
                    c.members.iter().map(move |&m| {
                        (
                            m,
                            format!("cluster {} · {} alike", c.id, things(ctx, c.members.len())),
                        )
                    })
                })
                .take(MAX_LISTED)
                .map(|(m, note)| sample(ctx, m, note))
                .collect();
            let how = match (search.radius, search.median_nn_distance) {
                (Some(r), Some(med)) => format!(
                    "distance ≤ {}: {} × the median nearest-neighbour distance {}",
                    round4(r),
                    ctx.threshold(self, "table-radius"),
                    round4(med)
                ),
                _ => format!(
                    "pHash ≤ {} bits, dHash ≤ {} bits",
                    ctx.threshold(self, "phash"),
                    ctx.threshold(self, "dhash")
                ),
            };
            let mut f = Finding::new(
                self,
                format!(
                    "{} in {} are near copies of one another ({how})",
                    things(ctx, total),
                    count(near.len(), "cluster", "clusters")
                ),
            )
            .with_examples(samples, total as u64)
            .evidence("clusters", near.len())
            .evidence("compared", search.compared);
            if let (Some(r), Some(med)) = (search.radius, search.median_nn_distance) {
                f = f
                    .evidence("radius", round4(r))
                    .evidence("median_nn_distance", round4(med));
            }
            out.push(f);
        }
        if !search.unhashed.is_empty() {
            let samples = search
                .unhashed
                .iter()
                .take(MAX_LISTED)
                .map(|&m| sample(ctx, m, "smaller than 8×8 px".into()))
                .collect();
            let mut f = Finding::new(
                self,
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
                let mut f = Finding::new(self, format!("near duplicates not searched: {why}"));
                f.severity = Severity::Info;
                out.push(f);
            }
        }
        out
    }
}
