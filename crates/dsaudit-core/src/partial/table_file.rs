//! `dsaudit partial` and `dsaudit merge` of one table file: each part reads the file's
//! blocks and describes those of its shard (`load::table_file`); the merge checks the
//! parts are of one scan and hold every block once, and builds the dataset and load
//! the stages run on (`load::table_parts::finish`).

use super::dsp::{Dsp, StoredHints};
use super::table::{to_bytes_from, Origin};
use super::Shard;
use crate::load::{self, DatasetSpec, Hints, Loaded};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// Whether `spec` is a table of files (split by `partial_file`, not by sample paths).
pub fn is_table(spec: &DatasetSpec) -> bool {
    spec.layout.name().starts_with("table (one file")
}

/// Part `shard` of the table `spec` opened: its bytes, for a `.dsp` file.
pub fn partial_file(
    spec: &DatasetSpec,
    config: Option<(String, String)>,
    shard: &Shard,
    block_bytes: u64,
) -> Result<Vec<u8>> {
    let Shard::Part { k, n } = shard else {
        bail!(
            "{}: a table is split by --shard K/N (blocks of its rows), not by --files",
            spec.input.display()
        );
    };
    let hints = &spec.hints;
    let files = load::table_file::files_of(spec)?;
    let (name, part, blocks) =
        load::table_file::describe_file(spec, &files, (*k, *n), block_bytes)?;
    let origin = Origin {
        input: spec.input.to_string_lossy().into_owned(),
        root: spec.root.to_string_lossy().into_owned(),
        files: files
            .iter()
            .map(|(s, p)| (s.clone(), p.to_string_lossy().into_owned()))
            .collect(),
        sources: files
            .iter()
            .map(|(_, p)| load::table::source_of(spec, p))
            .collect(),
        guesses: spec.guesses.clone(),
        config,
        hints: StoredHints {
            layout: hints
                .layout
                .map(|l| crate::choice::Choice::name(l).to_string()),
            label: hints.label.clone(),
            split: hints.split.clone(),
            allow_outside_paths: hints.allow_outside_paths,
        },
        memory_limit: hints.memory_limit,
        block_bytes,
        file_bytes: files
            .iter()
            .map(|(_, p)| std::fs::metadata(p).map_or(0, |m| m.len()))
            .collect(),
        blocks,
        shard: format!("{k}/{n}"),
    };
    to_bytes_from(&name, part, Some(origin))
}

/// The parts of one table file merged: the dataset and load a scan of it would give,
/// and the configuration the parts read.
pub struct MergedTable {
    pub spec: DatasetSpec,
    pub loaded: Loaded,
    pub config: Option<(String, String)>,
}

impl MergedTable {
    /// The configuration the parts read, parsed from its text (none: the default).
    pub fn configuration(&self) -> Result<crate::config::Config> {
        match &self.config {
            Some((path, text)) => crate::config::parse(Path::new(path), text),
            None => Ok(Default::default()),
        }
    }
}

/// The table's files, and the dataset the parts were made of, as their origin
/// records them.
fn dataset_of(origin: &Origin) -> Result<(Vec<load::table_parts::TableFile>, DatasetSpec)> {
    if origin.sources.len() != origin.files.len() {
        bail!(
            "{}: damaged partial scan: {} files and {} sources",
            origin.input,
            origin.files.len(),
            origin.sources.len()
        );
    }
    let files = origin
        .files
        .iter()
        .zip(&origin.sources)
        .map(|((split, _), source)| load::table_parts::TableFile {
            source: source.clone(),
            split: split.clone(),
        })
        .collect();
    let hints = Hints {
        layout: origin
            .hints
            .layout
            .as_deref()
            .and_then(crate::choice::Choice::parse),
        label: origin.hints.label.clone(),
        split: origin.hints.split.clone(),
        allow_outside_paths: origin.hints.allow_outside_paths,
        memory_limit: origin.memory_limit,
        ..Default::default()
    };
    let spec = DatasetSpec {
        input: PathBuf::from(&origin.input),
        root: PathBuf::from(&origin.root),
        layout: Box::new(load::format::table::Tables {
            files: origin
                .files
                .iter()
                .map(|(s, p)| (s.clone(), PathBuf::from(p)))
                .collect(),
        }),
        hints,
        guesses: origin.guesses.clone(),
        walked: Default::default(),
    };
    Ok((files, spec))
}

/// Merges the parts of a table file in the files at `paths`.
pub fn merge_files(paths: &[PathBuf]) -> Result<MergedTable> {
    use rayon::prelude::*;
    // Each part's bytes are dropped once it is decoded, not held until every part is.
    let decoded: Vec<Result<_>> = paths
        .par_iter()
        .map(|p| super::table::decode(&p.display().to_string(), &Dsp::read_bytes(p)?))
        .collect();
    merge_decoded(decoded.into_iter().collect::<Result<_>>()?, paths)
}

/// As `merge_files`, of parts already decoded (`shown`: the file each came from).
pub fn merge_decoded(
    decoded: Vec<(String, load::table_parts::Part, Option<Origin>)>,
    shown: &[PathBuf],
) -> Result<MergedTable> {
    let mut first: Option<(String, Origin, &PathBuf)> = None;
    let mut kept = Vec::with_capacity(decoded.len());
    for ((name, part, origin), path) in decoded.into_iter().zip(shown) {
        let Some(origin) = origin else {
            bail!(
                "{}: a part of a Spark DataFrame's table: merge it with dsaudit.spark",
                path.display()
            );
        };
        match &first {
            None => first = Some((name, origin.clone(), path)),
            Some((n, o, p)) if *n != name || !o.same_scan(&origin) => bail!(
                "{} and {}: parts of different scans (another table, configuration, flags, block size, or the file changed between them)",
                p.display(),
                path.display()
            ),
            Some(_) => {}
        }
        kept.push((origin.shard, part));
    }
    let Some((name, origin, _)) = first else {
        bail!("dsaudit merge: no partial scans given");
    };
    let blocks: std::collections::BTreeSet<u64> = kept
        .iter()
        .flat_map(|(_, p)| p.blocks.iter().map(|b| b.order))
        .collect();
    let missing = (0..origin.blocks).filter(|b| !blocks.contains(b)).count();
    if missing > 0 {
        let mut given: Vec<&str> = kept.iter().map(|(s, _)| s.as_str()).collect();
        given.sort_unstable();
        given.dedup();
        bail!(
            "{}: {missing} of the table's {} blocks are in no part given ({}): a part is missing",
            origin.input,
            origin.blocks,
            given.join(", ")
        );
    }
    let parts: Vec<load::table_parts::Part> = kept.into_iter().map(|(_, p)| p).collect();
    let (files, spec) = dataset_of(&origin)?;
    let (_, loaded) = load::table_parts::finish_files(&name, &files, &spec.hints, parts)?;
    Ok(MergedTable {
        spec,
        loaded,
        config: origin.config,
    })
}
