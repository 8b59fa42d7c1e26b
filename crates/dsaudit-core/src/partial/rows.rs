//! Parts made of samples handed over in memory, not read from a folder: a Spark
//! partition's rows (`binaryFile`'s path and content, with a label and a split). Each
//! image gets the description its file on disk would get; parts of rows know no
//! listing, so the merge puts their samples in path order, which is a folder's order.

use super::dsp::{DatasetLevel, Dsp, Header, Row, StoredHints};
use crate::cache::record::Record;
use crate::load::image::{self, ErrorKind, ImageInfo};
use rayon::prelude::*;
use std::path::Path;

/// How reports name the layout of rows handed over in memory.
pub const LAYOUT: &str = "image rows (path, content, label, split)";

/// One sample: its path (relative, as reports name it), its bytes (None: the row had
/// no content), its label and split.
pub struct Given<'a> {
    pub source: &'a str,
    pub bytes: Option<&'a [u8]>,
    pub label: Option<&'a str>,
    pub split: Option<&'a str>,
}

/// Describes `given` (in parallel) into one part of the dataset named `name`;
/// `shard` names the part in messages (e.g. `partition 3`).
pub fn describe(name: &str, shard: &str, given: &[Given<'_>]) -> Dsp {
    let rows = given
        .par_iter()
        .enumerate()
        .map(|(i, g)| Row {
            index: i as u64,
            source: g.source.to_string(),
            split: g.split.map(str::to_string),
            label: g.label.map(str::to_string),
            row: None,
            info: Record::of(&describe_one(g)),
        })
        .collect();
    Dsp {
        header: Header {
            described_by: crate::cache::VERSION,
            input: name.to_string(),
            root: String::new(),
            layout: LAYOUT.to_string(),
            declares_classes_as: "label".to_string(),
            config: None,
            hints: StoredHints::default(),
            listing: [0; 32],
            total: 0,
            listed: false,
            dataset: DatasetLevel::default(),
        },
        shard: shard.to_string(),
        rows,
    }
}

/// A decoder's panic on a damaged image is that image's problem, as for a file.
fn describe_one(g: &Given<'_>) -> ImageInfo {
    let Some(bytes) = g.bytes else {
        return ImageInfo::error(ErrorKind::Unreadable, "the row has no content (null)");
    };
    crate::util::guarded(|| image::describe_named_bytes(Path::new(g.source), bytes)).unwrap_or_else(
        |panic| {
            ImageInfo::error(
                ErrorKind::Corrupt,
                format!("the decoder failed on this file ({panic})"),
            )
        },
    )
}
