//! Puts partial scans together again: checks they are parts of one scan (same
//! version, dataset listing and configuration), that together they hold every sample
//! once, and rebuilds the dataset as the load would have returned it.

use super::dsp::{Dsp, Header, Row};
use crate::load::format::{Layout, Writer};
use crate::load::{DatasetSpec, Hints, Loaded, Recall};
use crate::manifest::ImageSample;
use crate::walk::{WalkIssue, Walked, WalkedFile};
use anyhow::{bail, Result};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// The dataset rebuilt from its parts, ready for `scan::scan_loaded`.
pub struct Merged {
    pub spec: DatasetSpec,
    pub loaded: Loaded,
    /// The configuration file every part read (its path and text), if any.
    pub config: Option<(String, String)>,
}

impl Merged {
    /// The configuration every part read, parsed again from its text (none: the
    /// defaults).
    pub fn configuration(&self) -> Result<crate::config::Config> {
        match &self.config {
            Some((path, text)) => crate::config::parse(Path::new(path), text),
            None => Ok(Default::default()),
        }
    }
}

/// Merges `parts` (each with the file it was read from, for messages). The order of
/// the parts does not matter: samples take their place in the listing. The parts
/// are dropped once their samples are rebuilt, before the samples' columns are: the
/// parts' rows, the samples and the columns were all held at once (a four-part
/// merge of 100,000 images peaked at 628–639 MiB then, 512–543 MiB now).
pub fn merge(parts: Vec<(PathBuf, Dsp)>) -> Result<Merged> {
    let Some((first_path, first)) = parts.first() else {
        bail!("dsaudit merge: no partial scans given");
    };
    for (path, part) in &parts[1..] {
        same_scan(first_path, &first.header, path, &part.header)?;
    }
    // Kept past the parts, which go before the samples' columns are built.
    let header = first.header.clone();
    let (rows, overlaps) = in_listing_order(&parts)?;
    let covered = rows.len() as u64;
    if header.listed && covered != header.total {
        let shards: Vec<&str> = parts.iter().map(|(_, d)| d.shard.as_str()).collect();
        bail!(
            "dsaudit merge: {} of the {} samples of {} are in no partial scan (the parts given hold {}): is a part missing?",
            header.total - covered,
            header.total,
            header.input,
            shards.join(", ")
        );
    }
    // In parallel: a kilobyte and a half per sample, copied (0.06 s of 100,000 on one
    // core).
    let samples: Vec<ImageSample> = rows
        .par_iter()
        .map(|r| ImageSample {
            split: r.split.clone(),
            label: r.label.clone(),
            source: r.source.clone(),
            row: r.row,
            info: r.info.to_info(),
        })
        .collect();
    drop(rows);
    drop(parts);
    let mut loaded = Loaded::from_images(&samples)?;
    let d = &header.dataset;
    loaded.guesses = d.load_guesses.clone();
    if let Some(note) = overlaps {
        loaded.guesses.push(note);
    }
    loaded.label_column = d.label_column.clone();
    loaded.split_column = d.split_column.clone();
    loaded.declared_splits = d.declared_splits.clone();
    loaded.declared_classes = d.declared_classes.clone();
    loaded.ignored_files = d.ignored_files.clone();
    let spec = spec_of(&header);
    loaded.walk_issues = spec.walked.issues.clone();
    Ok(Merged {
        spec,
        loaded,
        config: header.config.clone(),
    })
}

/// Refuses two parts that are not of one scan, naming both files and what differs.
fn same_scan(a_path: &Path, a: &Header, b_path: &Path, b: &Header) -> Result<()> {
    let (a_shown, b_shown) = (a_path.display(), b_path.display());
    if a.input != b.input || a.root != b.root || a.layout != b.layout {
        bail!(
            "{a_shown} and {b_shown} are parts of scans of different datasets ({} and {})",
            a.input,
            b.input
        );
    }
    if a.config != b.config || a.hints != b.hints {
        let name = |h: &Header| {
            h.config
                .as_ref()
                .map(|(p, _)| p.clone())
                .unwrap_or_else(|| "no configuration file".into())
        };
        bail!(
            "{a_shown} and {b_shown} were made with different configurations ({} and {}, or other --layout/--label/--split flags)",
            name(a),
            name(b)
        );
    }
    if a != b {
        bail!(
            "{a_shown} and {b_shown} saw different listings of {} ({} and {} samples): the dataset changed between the partial scans; make them again",
            a.input,
            a.total,
            b.total
        );
    }
    Ok(())
}

/// Every part's rows by their place in the listing (parts of a folder) or by path
/// (parts of rows handed over in memory, which have no listing); a sample two parts
/// both hold is kept once (and said so), unless they describe it differently.
fn in_listing_order(parts: &[(PathBuf, Dsp)]) -> Result<(Vec<&Row>, Option<String>)> {
    let header = &parts[0].1.header;
    fn key(listed: bool, r: &Row) -> (u64, &str) {
        match listed {
            true => (r.index, ""),
            false => (0, r.source.as_str()),
        }
    }
    let listed = header.listed;
    let mut all: Vec<((u64, &str), usize, &Row)> = parts
        .iter()
        .enumerate()
        .flat_map(|(p, (_, d))| d.rows.iter().map(move |r| (key(listed, r), p, r)))
        .collect();
    all.sort_by_key(|&(k, part, _)| (k, part));
    let total = header.total;
    let mut rows: Vec<&Row> = Vec::with_capacity(all.len());
    let mut twice = 0usize;
    let mut example = None;
    let mut last: Option<((u64, &str), usize)> = None;
    for (index, part, row) in all {
        if header.listed && index.0 >= total {
            bail!(
                "{}: sample {} is past the listing's {total}: damaged partial scan",
                parts[part].0.display(),
                index.0
            );
        }
        // A path held twice is one file, whatever part holds it (a DataFrame that is
        // the union of two overlapping reads): the result must not depend on where
        // the rows fell.
        if let Some((_, prev_part)) = last.filter(|(i, _)| *i == index) {
            let kept = rows[rows.len() - 1];
            if kept.source != row.source || !same_record(kept, row) {
                bail!(
                    "{} and {} describe {} differently (its content, label or split): it changed between the partial scans; make them again",
                    parts[prev_part].0.display(),
                    parts[part].0.display(),
                    row.source
                );
            }
            twice += 1;
            example.get_or_insert((row.source.clone(), prev_part, part));
        } else {
            rows.push(row);
        }
        last = Some((index, part));
    }
    let note = example.map(|(source, a, b)| {
        let msg = format!(
            "merged parts overlap: {twice} samples are in more than one part (e.g. {source}, in {} and {}), each counted once",
            parts[a].0.display(),
            parts[b].0.display()
        );
        eprintln!("warning: {msg}");
        msg
    });
    Ok((rows, note))
}

fn same_record(a: &Row, b: &Row) -> bool {
    let bytes = |r: &Row| postcard::to_stdvec(&r.info).unwrap_or_default();
    a.split == b.split && a.label == b.label && a.row == b.row && bytes(a) == bytes(b)
}

/// The dataset as the discovery found it, less the files: the walk's problems and
/// its non-UTF-8 names are all the rules read of it.
fn spec_of(h: &Header) -> DatasetSpec {
    let root = PathBuf::from(&h.root);
    let walked = Walked {
        files: h
            .dataset
            .non_utf8
            .iter()
            .map(|rel| WalkedFile::new(root.join(rel), rel.clone(), false))
            .collect(),
        dirs: Vec::new(),
        issues: h
            .dataset
            .walk_issues
            .iter()
            .map(|(path, problem)| WalkIssue {
                path: path.clone(),
                problem: problem.clone(),
            })
            .collect(),
    };
    DatasetSpec {
        input: PathBuf::from(&h.input),
        root,
        layout: Box::new(Described {
            // Reports take layout names as `&'static str`; one merge per process leaks
            // two short strings.
            name: Box::leak(h.layout.clone().into_boxed_str()),
            declares: Box::leak(h.declares_classes_as.clone().into_boxed_str()),
        }),
        hints: Hints {
            layout: h
                .hints
                .layout
                .as_deref()
                .and_then(crate::choice::Choice::parse),
            label: h.hints.label.clone(),
            split: h.hints.split.clone(),
            allow_outside_paths: h.hints.allow_outside_paths,
            ..Default::default()
        },
        guesses: h.dataset.guesses.clone(),
        walked,
    }
}

/// The layout a merge reports: the one the parts found, already loaded.
#[derive(Debug)]
struct Described {
    name: &'static str,
    declares: &'static str,
}

impl Layout for Described {
    fn name(&self) -> &'static str {
        self.name
    }
    fn is_image(&self) -> bool {
        true
    }
    fn load(&self, spec: &DatasetSpec, _: bool, _: Option<&dyn Recall>) -> Result<Loaded> {
        bail!(
            "{}: merged from partial scans; its samples are not read again",
            spec.input.display()
        )
    }
    fn empty(&self) -> &'static str {
        "the partial scans hold no samples"
    }
    fn inputs(&self) -> Vec<PathBuf> {
        Vec::new()
    }
    fn writer(&self) -> Writer<'_> {
        Writer::Images { listed_in: None }
    }
    fn declares_classes_as(&self) -> &'static str {
        self.declares
    }
}
