//! Hugging Face datasets as the Hub serves them: Parquet shards whose images are
//! stored inline, as a struct column `{bytes: binary, path: string}`, with integer
//! class ids whose names are in the file's `huggingface` metadata (a `ClassLabel`).
//! Shards are found anywhere below the root (`data/train-00000-of-00004.parquet`,
//! `<config>/<split>/0000.parquet`, `train.parquet`); the split is the shard's name
//! or its folder's.

use super::{Found, Layout, Writer};
use crate::discover::Survey;
use crate::load::{DatasetSpec, Loaded, Recall};
use anyhow::{bail, Result};
use std::path::PathBuf;

pub struct HfParquet;

impl super::Format for HfParquet {
    fn find(
        &self,
        survey: &Survey,
        named: bool,
        guesses: &mut Vec<String>,
    ) -> Result<Option<Found>> {
        let shards: Vec<(PathBuf, String)> = if survey.is_file {
            vec![(survey.input.clone(), Survey::name(&survey.input))]
        } else {
            survey
                .walked
                .files
                .iter()
                .filter(|f| f.ext_in(&["parquet"]))
                .map(|f| (f.path.clone(), f.rel.clone()))
                .collect()
        };
        // The first shard decides: a Hub dataset's shards share one schema.
        let mut columns = match shards.first() {
            Some((path, _)) if crate::util::ext_of(path) == "parquet" => {
                match crate::table_io::parquet_footer(path) {
                    Ok(footer) => Columns::of(&footer),
                    Err(e) if named => return Err(e),
                    Err(_) => return Ok(None),
                }
            }
            _ if named => bail!(
                "{}: --layout hf-parquet needs Parquet shards",
                survey.input.display()
            ),
            _ => return Ok(None),
        };
        let Some(media) = columns.media.clone() else {
            if named {
                bail!(
                    "{}: --layout hf-parquet: no image column (a struct of bytes and path) in {}",
                    survey.input.display(),
                    shards[0].1
                );
            }
            return Ok(None);
        };
        if columns.class_labels.is_empty() && !survey.is_file {
            columns.class_labels = crate::load::hf_card::class_labels(&survey.root);
            columns.names_from_card = !columns.class_labels.is_empty();
        }
        let shards: Vec<Shard> = shards
            .into_iter()
            .map(|(path, rel)| Shard {
                split: split_of(&rel),
                path,
                rel,
            })
            .collect();
        guesses.push(format!(
            "layout: Hugging Face Parquet, {} in {} column '{}' ({})",
            if media.audio { "audio" } else { "images" },
            if media.audio { "audio" } else { "image" },
            media.name,
            crate::util::count(shards.len(), "shard", "shards")
        ));
        Ok(Some(Found::Layout(Box::new(Shards { shards, columns }))))
    }
}

/// One Parquet file of the dataset, with the split its name gives.
#[derive(Debug, Clone)]
pub struct Shard {
    pub path: PathBuf,
    /// Relative to the root, for manifest sources.
    pub rel: String,
    pub split: Option<String>,
}

/// The column holding the samples.
#[derive(Debug, Clone)]
pub struct Media {
    pub name: String,
    /// An `Audio` feature: its samples are reported, not read.
    pub audio: bool,
}

/// What the first shard's footer says about its columns.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    pub media: Option<Media>,
    /// Columns the dataset card types as `ClassLabel`, with their names in id order.
    pub class_labels: Vec<(String, Vec<String>)>,
    /// Every top-level column, in file order.
    pub names: Vec<String>,
    /// Top-level columns of nested values (lists, structs): no column of class labels
    /// (a list of labels a row is a multi-label set).
    pub nested: Vec<String>,
    /// The class names come from the dataset card (README.md), not the shards.
    pub names_from_card: bool,
}

impl Columns {
    fn of(footer: &polars_parquet_format::FileMetaData) -> Columns {
        let top = top_level(&footer.schema);
        let mut c = Columns {
            names: top.iter().map(|(e, _)| e.name.clone()).collect(),
            nested: top
                .iter()
                .filter(|(_, children)| !children.is_empty())
                .map(|(e, _)| e.name.clone())
                .collect(),
            ..Columns::default()
        };
        let features = hf_features(footer);
        for (name, feature) in features.iter().flat_map(|f| f.iter()) {
            match feature.get("_type").and_then(|t| t.as_str()) {
                Some("Image") | Some("Audio") if c.media.is_none() => {
                    c.media = Some(Media {
                        name: name.clone(),
                        audio: feature["_type"] == "Audio",
                    })
                }
                Some("ClassLabel") => {
                    let names = feature
                        .get("names")
                        .and_then(|n| n.as_array())
                        .map(|a| {
                            a.iter()
                                .map(|v| v.as_str().map(str::to_string).unwrap_or(v.to_string()))
                                .collect()
                        })
                        .unwrap_or_default();
                    c.class_labels.push((name.clone(), names));
                }
                _ => {}
            }
        }
        // Without the card's metadata, the stored shape says it: a struct of
        // `bytes` and `path`.
        if c.media.is_none() {
            c.media = top_level(&footer.schema)
                .into_iter()
                .find(|(_, children)| {
                    let mut names: Vec<&str> = children.iter().map(|e| e.name.as_str()).collect();
                    names.sort_unstable();
                    names == ["bytes", "path"]
                })
                .map(|(e, _)| Media {
                    name: e.name.clone(),
                    audio: false,
                });
        }
        c
    }
}

type Element = polars_parquet_format::SchemaElement;

/// The root's children, each with its own children (one level down).
fn top_level(schema: &[Element]) -> Vec<(&Element, Vec<&Element>)> {
    // The elements are a depth-first list; a child's subtree is skipped by counting.
    fn subtree_end(schema: &[Element], i: usize, depth: usize) -> usize {
        let n = schema
            .get(i)
            .and_then(|e| e.num_children)
            .unwrap_or(0)
            .max(0);
        let mut next = i + 1;
        for _ in 0..n {
            if next >= schema.len() || depth > 64 {
                return schema.len();
            }
            next = subtree_end(schema, next, depth + 1);
        }
        next
    }
    let mut out = Vec::new();
    let n = schema
        .first()
        .and_then(|e| e.num_children)
        .unwrap_or(0)
        .max(0);
    let mut i = 1;
    for _ in 0..n {
        let Some(e) = schema.get(i) else { break };
        let mut children = Vec::new();
        let mut j = i + 1;
        for _ in 0..e.num_children.unwrap_or(0).max(0) {
            match schema.get(j) {
                Some(c) => children.push(c),
                None => break,
            }
            j = subtree_end(schema, j, 1);
        }
        out.push((e, children));
        i = subtree_end(schema, i, 0);
    }
    out
}

/// The `features` of the `huggingface` metadata key (`{"info": {"features": …}}`).
fn hf_features(
    footer: &polars_parquet_format::FileMetaData,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    let kv = footer.key_value_metadata.as_ref()?;
    let json = kv.iter().find(|k| k.key == "huggingface")?.value.as_ref()?;
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v.get("info")?.get("features")?.as_object().cloned()
}

/// The split a shard's name gives: the Hub's `<split>-00000-of-00004` (whatever the
/// split is called), a split name among the name's words (`imagenet-train-000000`),
/// else the nearest folder named like a split (`plain_text/validation/0000.parquet`).
pub fn split_of(rel: &str) -> Option<String> {
    let parts: Vec<&str> = rel.split('/').collect();
    let name = parts[parts.len() - 1];
    let stem = name.split_once('.').map_or(name, |(s, _)| s);
    if let Some((prefix, counter)) = stem.split_once("-of-").and_then(|(head, total)| {
        let (prefix, n) = head.rsplit_once('-')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (digits(n) && digits(total) && !prefix.is_empty()).then_some((prefix, n))
    }) {
        let _ = counter;
        return Some(crate::util::split_value(prefix));
    }
    if let Some(s) = crate::util::canonical_split(stem) {
        return Some(s.to_string());
    }
    let words: Vec<&str> = stem.split(['-', '_', '.']).collect();
    // Two words first: `train-val-000000.tar` is train-val, not train.
    words
        .windows(2)
        .find_map(|w| crate::util::canonical_split(&format!("{}-{}", w[0], w[1])))
        .or_else(|| words.iter().find_map(|w| crate::util::canonical_split(w)))
        .or_else(|| {
            parts[..parts.len() - 1]
                .iter()
                .rev()
                .find_map(|d| crate::util::canonical_split(d))
        })
        .map(str::to_string)
}

/// The shards of one dataset.
#[derive(Debug)]
pub struct Shards {
    pub shards: Vec<Shard>,
    pub columns: Columns,
}

impl Layout for Shards {
    fn name(&self) -> &'static str {
        "hf-parquet (Parquet shards with inline images)"
    }

    fn is_image(&self) -> bool {
        true
    }

    fn load(&self, spec: &DatasetSpec, quiet: bool, _: Option<&dyn Recall>) -> Result<Loaded> {
        crate::load::hf_parquet::load(spec, self, quiet)
    }

    fn empty(&self) -> &'static str {
        "the Parquet shards hold no rows"
    }

    fn inputs(&self) -> Vec<PathBuf> {
        self.shards.iter().map(|s| s.path.clone()).collect()
    }

    fn writer(&self) -> Writer<'_> {
        Writer::HfShards(self)
    }

    fn declares_classes_as(&self) -> &'static str {
        "ClassLabel name"
    }
}

#[cfg(test)]
mod tests {
    use super::split_of;

    #[test]
    fn splits_come_from_shard_names_then_folders() {
        let s = |r: &str| split_of(r);
        assert_eq!(
            s("data/train-00000-of-00004.parquet").as_deref(),
            Some("train")
        );
        assert_eq!(
            s("data/validation-00001-of-00002.parquet").as_deref(),
            Some("val")
        );
        assert_eq!(s("plain_text/test/0000.parquet").as_deref(), Some("test"));
        assert_eq!(s("test.parquet").as_deref(), Some("test"));
        assert_eq!(s("train-val-000000.tar").as_deref(), Some("train-val"));
        assert_eq!(
            s("imagenet-test_val-000001.tar").as_deref(),
            Some("test-val")
        );
        assert_eq!(s("data/0000.parquet"), None);
        assert_eq!(
            s("train_sft-00000-of-00001.parquet").as_deref(),
            Some("train_sft")
        );
        assert_eq!(s("imagenet-train-000012.tar").as_deref(), Some("train"));
        assert_eq!(s("shards/shard-000001.tar"), None);
        assert_eq!(s("valid/shard-000001.tar").as_deref(), Some("val"));
    }
}
