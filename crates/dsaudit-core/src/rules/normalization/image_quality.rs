//! The image-quality rules (cleanvision's issue types and ours): each flags the
//! readable images whose per-image statistic lies beyond a threshold, worst first. They
//! differ only in data, so they are rows of one table rather than six files.

use super::flag_images;
use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta, Threshold};

/// Which side of the threshold is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Below,
    Above,
}

/// One image-quality rule: a manifest column, the threshold it is compared with, and
/// how a flagged image and the finding read.
pub struct ImageQuality {
    pub meta: RuleMeta,
    /// The manifest column of the per-image statistic.
    pub column: &'static str,
    /// The threshold's key (the rule's only threshold).
    pub key: &'static str,
    pub side: Side,
    /// Values below this are another rule's (low contrast stops where blank begins).
    pub floor: Option<f64>,
    /// The note on a flagged image, from its value.
    pub note: fn(f64) -> String,
    /// The finding's message, from the count flagged, the readable images and the threshold.
    pub message: fn(usize, usize, f64) -> String,
}

impl Rule for ImageQuality {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let t = ctx.threshold(self, self.key);
        let floor = self.floor.unwrap_or(f64::NEG_INFINITY);
        let side = self.side;
        flag_images(
            self,
            ctx,
            self.column,
            |v| v >= floor && if side == Side::Below { v < t } else { v > t },
            side == Side::Below,
            self.note,
            |n, total| (self.message)(n, total, t),
        )
    }
}

pub static DARK: ImageQuality = ImageQuality {
    meta: RuleMeta {
        code: "N105",
        name: "dark-image",
        severity: Severity::Warning,
        summary: "An image is dark: its 99th-percentile brightness is below the threshold.",
        doc: "**What it finds.** Readable images whose 99th percentile of luminance (Rec. 601, 0-1) is below `max-p99` (0.32, cleanvision's dark default): even the brightest pixels are dim. Darkest first.\n\n         **Why it matters.** Under-exposed images carry little signal; when one class was shot in worse light, brightness becomes a shortcut the model learns instead of the object.\n\n         **Example.** `train/owl/0007.png  (99th-percentile brightness 0.18)`.",
        thresholds: &[Threshold {
            key: "max-p99",
            default: 0.32,
            doc: "99th-percentile brightness below which an image is dark",
        }],
        fix: "Check the capture conditions; drop unusable images, or apply brightness augmentation so exposure is not a class cue.",
    },
    column: "brightness_p99",
    key: "max-p99",
    side: Side::Below,
    floor: None,
    note: |v| format!("99th-percentile brightness {v:.3}"),
    message: |n, total, t| format!("{n} of {total} images are dark (99th-percentile brightness below {t})"),
};

pub static OVEREXPOSED: ImageQuality = ImageQuality {
    meta: RuleMeta {
        code: "N106",
        name: "overexposed-image",
        severity: Severity::Warning,
        summary: "An image is overexposed: its 5th-percentile brightness is above the threshold.",
        doc: "**What it finds.** Readable images whose 5th percentile of luminance (0-1) is above `min-p5` (0.95, after cleanvision's light-image check): even the darkest pixels are near white. Brightest first.\n\n         **Why it matters.** Blown-out images have lost their detail for good; white scans and flash glare also become class shortcuts.\n\n         **Example.** `test/snow/0031.jpg  (5th-percentile brightness 0.97)`.",
        thresholds: &[Threshold {
            key: "min-p5",
            default: 0.95,
            doc: "5th-percentile brightness above which an image is overexposed",
        }],
        fix: "Inspect and drop unusable images; fix the exposure at capture if it is systematic.",
    },
    column: "brightness_p5",
    key: "min-p5",
    side: Side::Above,
    floor: None,
    note: |v| format!("5th-percentile brightness {v:.3}"),
    message: |n, total, t| format!("{n} of {total} images are overexposed (5th-percentile brightness above {t})"),
};

pub static LOW_CONTRAST: ImageQuality = ImageQuality {
    meta: RuleMeta {
        code: "N107",
        name: "low-contrast-image",
        severity: Severity::Info,
        summary: "An image has very low contrast (RMS contrast below the threshold) without being blank.",
        doc: "**What it finds.** Readable images whose RMS contrast (standard deviation of luminance, 0-1) is below `max-contrast` (0.05) but which are not blank (see `blank-image`). Flattest first.\n\n         **Why it matters.** Washed-out or hazy images compress the useful signal into a few grey levels; after normalization their noise is amplified.\n\n         **Example.** `train/fog/0012.png  (RMS contrast 0.021)`.",
        thresholds: &[Threshold {
            key: "max-contrast",
            default: 0.05,
            doc: "RMS contrast below which an image is low-contrast",
        }],
        fix: "Inspect; apply contrast normalization (histogram equalization, CLAHE) consistently across splits, or drop unusable images.",
    },
    column: "contrast",
    key: "max-contrast",
    side: Side::Below,
    floor: Some(crate::load::pixel_stats::BLANK_CONTRAST),
    note: |v| format!("RMS contrast {v:.4}"),
    message: |n, total, t| format!("{n} of {total} images have low contrast (RMS contrast below {t})"),
};

pub static BLANK: ImageQuality = ImageQuality {
    meta: RuleMeta {
        code: "N108",
        name: "blank-image",
        severity: Severity::Warning,
        summary: "An image is blank: nearly every pixel has the same brightness.",
        doc: "**What it finds.** Readable images whose RMS contrast is below `max-contrast` (0.01 of full scale): a single colour, give or take noise. Typical sources: failed captures, placeholder images, black frames, masks saved as images.\n\n         **Why it matters.** They carry no information about their label, so they are pure label noise, and a class with many of them is learned as 'blank'.\n\n         **Example.** `train/dog/0300.png  (RMS contrast 0.000)`.",
        thresholds: &[Threshold {
            key: "max-contrast",
            default: 0.01,
            doc: "RMS contrast below which an image is blank",
        }],
        fix: "Remove blank images from the dataset (`dsaudit clean`), and find the step that produced them.",
    },
    column: "contrast",
    key: "max-contrast",
    side: Side::Below,
    floor: None,
    note: |v| format!("RMS contrast {v:.4}"),
    message: |n, total, t| format!("{n} of {total} images are blank (RMS contrast below {t})"),
};

pub static BLURRY: ImageQuality = ImageQuality {
    meta: RuleMeta {
        code: "N109",
        name: "blurry-image",
        severity: Severity::Info,
        summary: "An image is blurry: the variance of its Laplacian is below the threshold.",
        doc: "**What it finds.** Readable images of at least 3×3 pixels whose variance of the 4-neighbour Laplacian of the 8-bit luminance is below `min-sharpness` (100, the usual cut-off for this measure on 8-bit images), blurriest first. The measure falls with resolution and rises with noise, so compare within a dataset and tune the threshold to it.\n\n         **Why it matters.** Motion blur and out-of-focus shots remove the fine detail that separates similar classes; when blur correlates with a class it becomes a shortcut.\n\n         **Example.** `train/bird/0042.jpg  (Laplacian variance 12.4)`.",
        thresholds: &[Threshold {
            key: "min-sharpness",
            default: 100.0,
            doc: "variance of the Laplacian below which an image is blurry",
        }],
        fix: "Inspect the blurriest images; drop unusable ones, or add blur augmentation so sharpness is not a class cue.",
    },
    column: "sharpness",
    key: "min-sharpness",
    side: Side::Below,
    floor: None,
    note: |v| format!("Laplacian variance {v:.1}"),
    message: |n, total, t| format!("{n} of {total} images are blurry (Laplacian variance below {t})"),
};

pub static UNUSED_DYNAMIC_RANGE: ImageQuality = ImageQuality {
    meta: RuleMeta {
        code: "N110",
        name: "unused-dynamic-range",
        severity: Severity::Warning,
        summary: "An image never uses the upper part of its format's range (e.g. 12-bit data in a 16-bit file).",
        doc: "**What it finds.** Readable images whose brightest sample of any channel stays below `min-peak` (1/16) of the format's full scale: at least four bits of the format are never used. Typical sources: 12-bit sensor data saved as 16-bit PNG or TIFF, class-index masks saved as 8-bit images, images already divided by 255 and saved again.\n\n         **Why it matters.** Scaling by the format maximum (255 or 65,535) leaves these images nearly black, at a fraction of the scale the model sees for the others.\n\n         **Example.** `scans/0001.png  (peak 4095/65535 = 0.062 of full scale)`.",
        thresholds: &[Threshold {
            key: "min-peak",
            default: 0.0625,
            doc: "share of full scale the brightest sample must reach",
        }],
        fix: "Rescale by the true maximum of the data (e.g. 4095 for 12-bit) rather than the container's, or fix the export.",
    },
    column: "max_value",
    key: "min-peak",
    side: Side::Below,
    floor: None,
    note: |v| format!("peak {v:.4} of full scale"),
    message: |n, total, t| format!("{n} of {total} images use less than {t} of their format's range"),
};
