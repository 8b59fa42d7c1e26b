//! Annotations: the boxes of detection datasets (COCO, YOLO) and the files that hold
//! them. None of these needs a model: each is read off the boxes and the images'
//! sizes.

pub mod box_defects;
pub mod box_shift;
pub mod duplicate_boxes;
pub mod file_problems;
pub mod image_in_two_splits;
pub mod images_without_boxes;
pub mod instance_imbalance;

use crate::finding::SampleRef;
use crate::load::detection::Detection;
use crate::rules::Context;

/// Findings name at most this many places; their count says how many there are.
pub(crate) const MAX_PLACES: usize = 100;

pub(crate) fn detection<'a>(ctx: &'a Context) -> Option<&'a Detection> {
    ctx.loaded.detection.as_ref()
}

/// The image a box or line belongs to, noted with where the annotation is and what
/// is wrong with it.
pub(crate) fn place(ctx: &Context, sample: usize, note: String) -> SampleRef {
    let mut r = ctx.loaded.manifest.sample_ref(sample);
    r.note = Some(note);
    r
}

/// Sample refs of (sample, note) pairs: the first `MAX_PLACES`, in annotation order.
pub(crate) fn places(ctx: &Context, found: &[(usize, String)]) -> Vec<SampleRef> {
    found
        .iter()
        .take(MAX_PLACES)
        .map(|(s, note)| place(ctx, *s, note.clone()))
        .collect()
}

/// "3 px", "0.5 px": a length as reports print it.
pub(crate) fn px(x: f64) -> String {
    format!("{} px", crate::util::round4(x))
}
