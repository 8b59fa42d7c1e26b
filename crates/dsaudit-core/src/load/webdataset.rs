//! Loading WebDataset shards: each tar is read once, front to back; members are
//! grouped by key as they come (a WebDataset writer keeps a sample's members
//! together), and the image of each sample goes through the same description as an
//! image file. Samples are named `shard.tar:member`.

use super::format::webdataset::Shard;
use super::image::{self, ErrorKind, ImageInfo};
use super::{DatasetSpec, Loaded};
use crate::manifest::ImageSample;
use anyhow::Result;
use rayon::prelude::*;
use std::io::Read;

/// Samples decoded together: enough to keep both cores busy, few enough in memory.
const BATCH: usize = 512;

/// Member extensions that hold a class, tried in this order (`--label` names another,
/// or a key of the `.json` member).
pub const LABEL_EXTS: &[&str] = &["cls", "label", "class", "target"];
const JSON_KEYS: &[&str] = &["label", "class", "cls", "target"];

/// A sample's split and key.
type Key = (Option<String>, String);

/// One sample's members, as read from the tar.
#[derive(Default)]
pub struct Raw {
    pub key: String,
    /// (extension, bytes) in member order; a member that could not be read whole
    /// carries why.
    pub members: Vec<(String, Result<Vec<u8>, String>)>,
}

pub fn load(spec: &DatasetSpec, shards: &[Shard], quiet: bool) -> Result<Loaded> {
    let mut samples = Vec::new();
    // Each sample's split and key, in sample order (None for a shard's own problem).
    let mut keys: Vec<Option<Key>> = Vec::new();
    let mut ignored = Vec::new();
    let pb = crate::progress::bar(0, quiet, "samples");
    for shard in shards {
        let mut batch = Vec::with_capacity(BATCH);
        let flush =
            |batch: &mut Vec<Raw>, samples: &mut Vec<ImageSample>, keys: &mut Vec<Option<Key>>| {
                keys.extend(
                    batch
                        .iter()
                        .map(|raw| Some((shard.split.clone(), raw.key.clone()))),
                );
                let described: Vec<ImageSample> = batch
                    .par_drain(..)
                    .map(|raw| describe(raw, shard, spec.hints.label.as_deref()))
                    .collect();
                pb.inc(described.len() as u64);
                samples.extend(described);
            };
        let end = read_shard(shard, &mut ignored, &mut |raw| {
            batch.push(raw);
            if batch.len() == BATCH {
                flush(&mut batch, &mut samples, &mut keys);
            }
        });
        flush(&mut batch, &mut samples, &mut keys);
        // A shard that ends in a damaged header loses the members after it: said as a
        // sample of that shard, so the report counts it.
        if let Err(why) = end {
            keys.push(None);
            samples.push(ImageSample {
                split: shard.split.clone(),
                label: None,
                source: shard.rel.clone(),
                row: None,
                info: ImageInfo::error(ErrorKind::Truncated, why),
            });
        }
    }
    pb.finish_and_clear();
    let mut loaded = Loaded::from_images(&samples)?;
    loaded.ignored_files = ignored;
    loaded.repeated_keys = repeated(&keys);
    Ok(loaded)
}

/// Samples whose key an earlier sample of the same split already had (a writer gives
/// each sample one key, and loaders take the key as the sample's identity), each with
/// the first. Across splits a key may repeat: writers often number each split from
/// zero, and a sample copied between splits is found by its content (D003).
fn repeated(keys: &[Option<(Option<String>, String)>]) -> Vec<super::RepeatedKey> {
    let mut first: std::collections::HashMap<&(Option<String>, String), usize> = Default::default();
    let mut out = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let Some(key) = key else { continue };
        match first.get(key) {
            Some(&f) => out.push(super::RepeatedKey {
                key: key.1.clone(),
                first: f,
                again: i,
            }),
            None => {
                first.insert(key, i);
            }
        }
    }
    out
}

/// Reads one shard front to back, handing over each sample when its key ends; the
/// members that belong to no sample are added to `ignored`. An error says where the
/// shard ends early.
pub fn read_shard(
    shard: &Shard,
    ignored: &mut Vec<String>,
    emit: &mut dyn FnMut(Raw),
) -> Result<(), String> {
    let (file, _) =
        crate::safe_read::open_limited(&shard.path, u64::MAX).map_err(|e| e.to_string())?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let entries = archive
        .entries()
        .map_err(|e| format!("not a tar archive: {e}"))?;
    let mut current = Raw::default();
    let mut last = String::from("its start");
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("cut short or damaged after {last}: {e}"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        last = path.clone();
        let Some((key, ext)) = key_and_ext(&path) else {
            ignored.push(format!("{}:{path}", shard.rel));
            continue;
        };
        if key != current.key && !current.members.is_empty() {
            emit(std::mem::take(&mut current));
        }
        current.key = key.to_string();
        let size = entry.size();
        let limit = crate::safe_read::max_file_size();
        let bytes = if size > limit {
            Err(format!("{size} bytes, over --max-file-size ({limit})"))
        } else {
            // The header's size is a claim: the buffer grows as bytes arrive.
            let mut buf = Vec::with_capacity(size.min(1 << 26) as usize);
            match entry.read_to_end(&mut buf) {
                Ok(_) if buf.len() as u64 == size => Ok(buf),
                Ok(_) => Err(format!("member cut short: {} of {size} bytes", buf.len())),
                Err(e) => Err(format!("member cut short: {e}")),
            }
        };
        let cut = bytes.is_err();
        current.members.push((ext.to_ascii_lowercase(), bytes));
        if cut {
            break;
        }
    }
    if !current.members.is_empty() {
        emit(current);
    }
    Ok(())
}

/// `dir/000123.seg.png` → (`dir/000123`, `seg.png`); hidden and `__meta__` members
/// belong to no sample.
pub fn key_and_ext(path: &str) -> Option<(&str, &str)> {
    let name_at = path.rfind('/').map_or(0, |i| i + 1);
    let name = &path[name_at..];
    if name.starts_with('.') || name.starts_with("__") {
        return None;
    }
    let dot = name.find('.')?;
    Some((&path[..name_at + dot], &name[dot + 1..]))
}

fn is_image_ext(ext: &str) -> bool {
    let last = ext.rsplit('.').next().unwrap_or(ext);
    crate::discover::IMAGE_EXTS.contains(&last)
}

fn describe(raw: Raw, shard: &Shard, label_key: Option<&str>) -> ImageSample {
    let label = label_of(&raw, label_key);
    let image = raw.members.iter().find(|(ext, _)| is_image_ext(ext));
    let info = match image {
        Some((ext, Ok(bytes))) => {
            let info = ImageInfo {
                ext_format: ::image::ImageFormat::from_extension(
                    ext.rsplit('.').next().unwrap_or(ext),
                )
                .map(image::format_name),
                ..Default::default()
            };
            crate::util::guarded(|| image::describe_bytes(bytes, info)).unwrap_or_else(|panic| {
                ImageInfo::error(
                    ErrorKind::Corrupt,
                    format!("the decoder failed on this image ({panic})"),
                )
            })
        }
        Some((_, Err(why))) => ImageInfo::error(ErrorKind::Truncated, why.clone()),
        None => {
            let others: Vec<&str> = raw
                .members
                .iter()
                .map(|(e, _)| e.as_str())
                .filter(|e| !LABEL_EXTS.contains(e) && Some(*e) != label_key && *e != "json")
                .collect();
            match others.as_slice() {
                [] => ImageInfo::error(ErrorKind::Missing, "no image member for this key"),
                some => ImageInfo::error(
                    ErrorKind::Unsupported,
                    format!(
                        "no image member for this key (members: {})",
                        some.join(", ")
                    ),
                ),
            }
        }
    };
    let member = image.map_or_else(|| raw.key.clone(), |(ext, _)| format!("{}.{ext}", raw.key));
    ImageSample {
        split: shard.split.clone(),
        label,
        source: format!("{}:{member}", shard.rel),
        row: None,
        info,
    }
}

/// The sample's class: the `--label` member or JSON key, else the first label member,
/// else the `.json` member's label key.
fn label_of(raw: &Raw, key: Option<&str>) -> Option<String> {
    let text = |ext: &str| {
        raw.members
            .iter()
            .find(|(e, _)| e == ext)
            .and_then(|(_, b)| b.as_ref().ok())
            .map(|b| String::from_utf8_lossy(b).trim().to_string())
            .filter(|t| !t.is_empty())
    };
    let from_json = |keys: &[&str]| {
        let json = text("json")?;
        let v: serde_json::Value = serde_json::from_str(&json).ok()?;
        keys.iter().find_map(|k| match v.get(*k)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    match key {
        Some(k) => text(k).or_else(|| from_json(&[k])),
        None => LABEL_EXTS
            .iter()
            .find_map(|e| text(e))
            .or_else(|| from_json(JSON_KEYS)),
    }
}

#[cfg(test)]
mod tests {
    use super::key_and_ext;

    #[test]
    fn keys_end_at_the_first_dot_of_the_name() {
        assert_eq!(
            key_and_ext("a/b.c/000123.seg.png"),
            Some(("a/b.c/000123", "seg.png"))
        );
        assert_eq!(key_and_ext("000123.cls"), Some(("000123", "cls")));
        assert_eq!(key_and_ext("__meta__.json"), None);
        assert_eq!(key_and_ext("README"), None);
    }
}
