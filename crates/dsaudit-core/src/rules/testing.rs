//! A rule-level test harness: a context built from a few images in memory, described
//! by the same code as files on disk, so that a rule's test states its injected case
//! and the findings it expects without a directory or the binary.

use super::{thresholds::Thresholds, Context, Rule};
use crate::finding::Finding;
use crate::load::format::image_folder::Folders;
use crate::load::Loaded;
use crate::load::{DatasetSpec, Hints};
use crate::manifest::ImageSample;

pub struct Fixture {
    pub spec: DatasetSpec,
    pub loaded: Loaded,
    pub thresholds: Thresholds,
    pub dups: crate::duplicates::Duplicates,
    pub shift: crate::shift::Shift,
    pub labels: crate::labels::Labels,
}

impl Fixture {
    /// One sample per `(source, label, image)`, no split; the image is PNG-encoded and
    /// described as a file of those bytes would be. No duplicate, shift or label
    /// search runs: a test that needs one sets its result.
    pub fn images(items: Vec<(&str, &str, image::DynamicImage)>) -> Fixture {
        let samples: Vec<ImageSample> = items
            .into_iter()
            .map(|(source, label, img)| {
                let mut png = std::io::Cursor::new(Vec::new());
                img.write_to(&mut png, image::ImageFormat::Png)
                    .expect("encode a test image");
                ImageSample {
                    split: None,
                    label: Some(label.to_string()),
                    source: source.to_string(),
                    row: None,
                    info: crate::load::image::describe_bytes(png.get_ref(), Default::default()),
                }
            })
            .collect();
        let n = samples.len();
        let loaded = Loaded::from_images(&samples).expect("a manifest of the test images");
        // No search runs, so its parameters are never read.
        let params = crate::duplicates::Params {
            phash: 0,
            max_distance: 0.0,
            nn_fraction: 0.0,
            table_radius: 0.0,
        };
        Fixture {
            spec: DatasetSpec {
                input: "fixture".into(),
                root: "fixture".into(),
                layout: Box::new(Folders { split_dirs: false }),
                hints: Hints::default(),
                guesses: Vec::new(),
                walked: Default::default(),
            },
            loaded,
            thresholds: Thresholds::default(),
            dups: crate::duplicates::Duplicates::not_searched(n, params),
            shift: crate::shift::Shift::skipped("not measured in a rule test", 0),
            labels: crate::labels::Labels::skipped("not measured in a rule test", n),
        }
    }

    pub fn check(&self, rule: &dyn Rule) -> Vec<Finding> {
        let ctx = Context {
            spec: &self.spec,
            loaded: &self.loaded,
            thresholds: &self.thresholds,
            usable: super::usable_counts(&self.loaded),
            dups: &self.dups,
            shift: &self.shift,
            labels: &self.labels,
        };
        rule.check(&ctx)
    }
}

/// The sources a rule's findings list, in order.
pub fn flagged(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .flat_map(|f| f.samples.iter().map(|s| s.source.clone()))
        .collect()
}

/// A grey image from a function of the pixel position.
pub fn grey(side: u32, f: impl Fn(u32, u32) -> u8) -> image::DynamicImage {
    image::DynamicImage::ImageLuma8(image::GrayImage::from_fn(side, side, |x, y| {
        image::Luma([f(x, y)])
    }))
}

#[cfg(test)]
mod tests {
    use super::{flagged, grey, Fixture};
    use crate::labels::Confusion;
    use crate::rules::codes::CODES;
    use crate::rules::Rule;

    fn rule(code: &str) -> &'static dyn Rule {
        CODES
            .iter()
            .map(|(_, r)| *r)
            .find(|r| r.code() == code)
            .expect("a registered code")
    }

    /// A sharp, full-contrast picture: none of the image-quality rules may flag it.
    fn checker(x: u32, y: u32) -> u8 {
        if (x / 2 + y / 2).is_multiple_of(2) {
            20
        } else {
            235
        }
    }

    fn quality_fixture() -> Fixture {
        Fixture::images(vec![
            ("a/sharp.png", "a", grey(32, checker)),
            // RMS contrast ~0.03: low (below 0.05), not blank (above 0.01).
            (
                "a/faint.png",
                "a",
                grey(32, |x, y| 120 + 16 * (checker(x, y) > 128) as u8),
            ),
            // One brightness: blank.
            ("a/flat.png", "a", grey(32, |_, _| 128)),
            // A slow ramp: full contrast, nearly no edges (Laplacian variance ~0).
            ("a/ramp.png", "a", grey(32, |x, _| (x * 8) as u8)),
        ])
    }

    #[test]
    fn n107_flags_low_contrast_and_leaves_blank_images_to_n108() {
        let f = quality_fixture();
        let found = f.check(rule("N107"));
        assert_eq!(flagged(&found), ["a/faint.png"]);
        assert!(
            found[0]
                .message
                .starts_with("1 of 4 images have low contrast"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn n108_flags_a_blank_image_only() {
        let f = quality_fixture();
        assert_eq!(flagged(&f.check(rule("N108"))), ["a/flat.png"]);
    }

    #[test]
    fn n109_flags_an_image_without_edges_but_not_a_blank_one() {
        let f = quality_fixture();
        let found = f.check(rule("N109"));
        // Lowest sharpness first; the blank image is N108's alone.
        assert!(
            flagged(&found).contains(&"a/ramp.png".to_string()),
            "{found:?}"
        );
        assert!(!flagged(&found).contains(&"a/flat.png".to_string()));
        assert!(!flagged(&found).contains(&"a/sharp.png".to_string()));
    }

    #[test]
    fn n109_threshold_is_the_users() {
        let mut f = quality_fixture();
        f.thresholds.set("N109", "min-sharpness", 0.0).unwrap();
        assert!(f.check(rule("N109")).is_empty());
    }

    #[test]
    fn l003_reports_pairs_whose_overlap_reaches_the_share() {
        let mut f = quality_fixture();
        f.labels.skipped = None;
        let pair = |a: &str, b: &str, samples: u64, share: f64| Confusion {
            a: a.into(),
            b: b.into(),
            samples,
            share,
            joint: share / 2.0,
        };
        f.labels.confused_pairs = vec![pair("cat", "lynx", 12, 0.08), pair("cat", "dog", 2, 0.01)];
        let found = f.check(rule("L003"));
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .starts_with("classes 'cat' and 'lynx' overlap: 12 samples (8.0% of both)"),
            "{}",
            found[0].message
        );
        // Nothing when the label search did not run.
        f.labels.skipped = Some("no labels".into());
        assert!(f.check(rule("L003")).is_empty());
    }
}
