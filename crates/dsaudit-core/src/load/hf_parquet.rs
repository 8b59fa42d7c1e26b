//! Loading Hugging Face Parquet shards: each row's image bytes go through the same
//! description as an image file (hashes, statistics, the checks that follow), and
//! each manifest row names its shard and row (`data/train-00000-of-00001.parquet:row 7`).

use super::format::hf_parquet::{Columns, Shard, Shards};
use super::image::{self, ErrorKind, ImageInfo};
use super::{DatasetSpec, Loaded};
use crate::manifest::ImageSample;
use anyhow::{anyhow, Result};
use polars::prelude::*;
use rayon::prelude::*;

pub fn load(spec: &DatasetSpec, layout: &Shards, quiet: bool) -> Result<Loaded> {
    let media = layout
        .columns
        .media
        .as_ref()
        .ok_or_else(|| anyhow!("{}: no image column", spec.input.display()))?;
    let label = label_column(spec, &layout.columns);
    let mut samples = Vec::new();
    for shard in &layout.shards {
        // A shard that cannot be read (damaged, no image bytes field) is one sample
        // with its problem: the other shards are still scanned.
        let rows = crate::table_io::read(&shard.path, None).and_then(|df| {
            crate::util::guarded(|| {
                shard_samples(&df, shard, &media.name, media.audio, label.as_ref(), quiet)
            })
            .unwrap_or_else(|panic| Err(anyhow!("the reader failed on this shard ({panic})")))
        });
        match rows {
            Ok(rows) => samples.extend(rows),
            Err(e) => samples.push(ImageSample {
                split: shard.split.clone(),
                label: None,
                source: shard.rel.clone(),
                row: None,
                info: ImageInfo::error(ErrorKind::Unreadable, shard_problem(&e, shard)),
            }),
        }
    }
    let mut loaded = Loaded::from_images(&samples)?;
    for shard in &layout.shards {
        if let Ok(footer) = crate::table_io::parquet_footer(&shard.path) {
            let groups = footer.row_groups.iter().enumerate();
            loaded
                .row_groups
                .extend(groups.map(|(index, g)| super::RowGroup {
                    source: shard.rel.clone(),
                    index,
                    bytes: g.total_byte_size.max(0) as u64,
                }));
        }
    }
    // The ClassLabel's names are the label space: one with no sample is reported.
    if let Some((_, names)) = &label {
        loaded.declared_classes = names.iter().map(|n| (None, n.clone())).collect();
    }
    loaded.guesses.push(match &label {
        Some((l, names)) if !names.is_empty() && layout.columns.names_from_card => {
            format!("label column: {l} (class names from the dataset card, README.md)")
        }
        Some((l, names)) if !names.is_empty() => {
            format!("label column: {l} (class names from the dataset's ClassLabel)")
        }
        Some((l, _)) => format!("label column: {l}"),
        None => "label column: none found (samples are unlabeled)".into(),
    });
    Ok(loaded)
}

/// The label column and its class names: `--label`, else the card's `ClassLabel`,
/// else the first of the usual names the shards hold.
pub fn label_column(spec: &DatasetSpec, columns: &Columns) -> Option<(String, Vec<String>)> {
    let names_of = |name: &str| {
        columns
            .class_labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, names)| names.clone())
            .unwrap_or_default()
    };
    if let Some(l) = &spec.hints.label {
        return Some((l.clone(), names_of(l)));
    }
    let plain = |n: &str| !columns.nested.iter().any(|c| c == n);
    if let Some((n, names)) = columns.class_labels.iter().find(|(n, _)| plain(n)) {
        return Some((n.clone(), names.clone()));
    }
    super::LABEL_NAMES
        .iter()
        .find(|n| columns.names.iter().any(|c| c == *n) && plain(n))
        .map(|n| (n.to_string(), Vec::new()))
}

fn shard_samples(
    df: &DataFrame,
    shard: &Shard,
    media: &str,
    audio: bool,
    label: Option<&(String, Vec<String>)>,
    quiet: bool,
) -> Result<Vec<ImageSample>> {
    let column = df
        .column(media)
        .map_err(|_| anyhow!("no column '{media}' (the first shard's image column)"))?;
    let (bytes, paths) = image_fields(column).map_err(|e| anyhow!("column '{media}': {e}"))?;
    let labels = match label {
        Some((name, names)) => {
            labels_of(df, name, names).map_err(|e| anyhow!("label column '{name}': {e}"))?
        }
        None => vec![None; df.height()],
    };
    let pb = crate::progress::bar(df.height() as u64, quiet, "images");
    let samples = (0..df.height())
        .into_par_iter()
        .map(|row| {
            let path = paths.as_ref().and_then(|p| p.get(row));
            let info = match bytes.get(row) {
                _ if audio => ImageInfo::error(
                    ErrorKind::Unsupported,
                    "an audio sample: dsaudit reads images and tables",
                ),
                Some(b) => {
                    let ext_format = path
                        .and_then(|p| ::image::ImageFormat::from_path(p).ok())
                        .map(image::format_name);
                    let info = ImageInfo {
                        ext_format,
                        ..Default::default()
                    };
                    crate::util::guarded(|| image::describe_bytes(b, info)).unwrap_or_else(
                        |panic| {
                            ImageInfo::error(
                                ErrorKind::Corrupt,
                                format!("the decoder failed on this image ({panic})"),
                            )
                        },
                    )
                }
                None => ImageInfo::error(
                    ErrorKind::Missing,
                    &match path {
                        Some(p) => format!(
                            "no image bytes in the row (its path '{}' is not read)",
                            crate::util::printable(p)
                        ),
                        None => "no image in the row".to_string(),
                    },
                ),
            };
            pb.inc(1);
            ImageSample {
                split: shard.split.clone(),
                label: labels[row].clone(),
                source: shard.rel.clone(),
                row: Some(row as u64),
                info,
            }
        })
        .collect();
    pb.finish_and_clear();
    Ok(samples)
}

/// The error without the shard's path, which the sample already names.
fn shard_problem(e: &anyhow::Error, shard: &Shard) -> String {
    let line = crate::util::error_line(e);
    let shown = format!("{}: ", shard.path.display());
    line.strip_prefix(&shown)
        .map(str::to_string)
        .unwrap_or(line)
}

/// The image struct's `bytes` and `path` fields (a plain binary column is bytes).
fn image_fields(c: &Column) -> PolarsResult<(BinaryChunked, Option<StringChunked>)> {
    match c.dtype() {
        DataType::Struct(_) => {
            let s = c.struct_()?;
            let bytes = s.field_by_name("bytes")?.binary()?.clone();
            let paths = s
                .field_by_name("path")
                .ok()
                .and_then(|p| p.str().ok().cloned());
            Ok((bytes, paths))
        }
        DataType::Binary => Ok((c.binary()?.clone(), None)),
        other => polars_bail!(ComputeError: "a {other} column, not image bytes"),
    }
}

/// Each row's class: the `ClassLabel` name of an integer id (the id itself when it
/// has no name; -1, the Hub's "no label", is unlabeled), or the value as text.
fn labels_of(df: &DataFrame, name: &str, names: &[String]) -> PolarsResult<Vec<Option<String>>> {
    let c = df.column(name)?;
    if c.dtype().is_integer() && !names.is_empty() {
        let ids = c.cast(&DataType::Int64)?;
        return Ok(ids
            .i64()?
            .iter()
            .map(|v| {
                v.filter(|&id| id != -1).map(|id| {
                    usize::try_from(id)
                        .ok()
                        .and_then(|i| names.get(i).cloned())
                        .unwrap_or_else(|| id.to_string())
                })
            })
            .collect());
    }
    let s = c.cast(&DataType::String)?;
    Ok(s.str()?.iter().map(|v| v.map(str::to_string)).collect())
}
