//! `ROOT/<split>/<class>/*` and `ROOT/<class>/*`: labels and splits from folder names.

use super::image::{self, ImageInfo};
use super::DatasetSpec;
use super::Loaded;
use crate::discover::{is_image_path, IMAGE_EXTS};
use crate::manifest::ImageSample;
use crate::util::split_value;
use anyhow::Result;
use rayon::prelude::*;

pub struct Job<'a> {
    pub path: &'a std::path::Path,
    pub source: String,
    pub split: Option<String>,
    pub label: Option<String>,
    pub row: Option<u64>,
    /// Named by a labels file outside the dataset's folder, and not to be read.
    pub outside: bool,
}

/// Describes every job in parallel, keeping the jobs' order.
pub fn describe_all(
    jobs: Vec<Job<'_>>,
    quiet: bool,
    files: Option<&dyn super::Recall>,
) -> Vec<ImageSample> {
    let jobs = match files.and_then(|f| f.choose(&jobs)) {
        Some(keep) => jobs
            .into_iter()
            .zip(keep)
            .filter_map(|(j, k)| k.then_some(j))
            .collect(),
        None => jobs,
    };
    let pb = crate::progress::bar(jobs.len() as u64, quiet, "images");
    let one = |j: Job<'_>, info: ImageInfo| {
        pb.inc(1);
        ImageSample {
            split: j.split,
            label: j.label,
            source: j.source,
            row: j.row,
            info,
        }
    };
    // The records come back with the samples, in order: no lock, and no sort after.
    let work = || match files {
        None => jobs
            .into_par_iter()
            .map(|j| {
                let info = match j.outside {
                    true => outside(),
                    false => describe_file(j.path, None),
                };
                one(j, info)
            })
            .collect(),
        Some(f) => {
            let (out, kept): (Vec<ImageSample>, Vec<super::Kept>) = jobs
                .into_par_iter()
                .map(|j| {
                    if j.outside {
                        return (one(j, outside()), super::Kept(None));
                    }
                    let (info, kept) = f.describe(&j.source, j.path, &|o| describe_file(j.path, o));
                    (one(j, info), kept)
                })
                .unzip();
            f.keep(kept);
            out
        }
    };
    let out = match readers() {
        Some(pool) => pool.install(work),
        None => work(),
    };
    pb.finish_and_clear();
    out
}

/// Threads that read and describe the files: several per core, so that while some
/// wait for the disk the others decode. With one per core, a first scan of 100,000
/// PNGs (files not in the page cache) left the cores idle or waiting on reads for
/// much of its load; with four per core it took 0.63x as long, warm scans unchanged
/// (`just bench-pair-cold`, docs/benchmarks.md).
/// The decodes' memory is bounded by `decode_budget`, not by the threads. None where
/// the threads cannot be started: the shared pool reads then.
fn readers() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(READERS_PER_CORE * rayon::current_num_threads())
            .thread_name(|i| format!("dsaudit-reader-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

const READERS_PER_CORE: usize = 4;

/// One sample file described, whatever it is: an image, a file named like one, or
/// something else among the samples. A decoder's panic on a damaged file is that
/// file's problem, reported as such.
pub fn describe_file(path: &std::path::Path, opened: Option<(std::fs::File, u64)>) -> ImageInfo {
    crate::util::guarded(|| {
        if is_image_path(path) || image::sniff(path) {
            image::describe_opened(path, opened)
        } else {
            unsupported(path)
        }
    })
    .unwrap_or_else(|panic| ImageInfo {
        error_kind: Some(image::ErrorKind::Corrupt),
        error: Some(format!("the decoder failed on this file ({panic})")),
        ..Default::default()
    })
}

fn outside() -> ImageInfo {
    ImageInfo {
        error_kind: Some(image::ErrorKind::Outside),
        error: Some(
            "path leaves the dataset folder: not read (--allow-outside-paths reads it)".into(),
        ),
        ..Default::default()
    }
}

fn unsupported(path: &std::path::Path) -> ImageInfo {
    // A FIFO or a device is not opened, whatever its name: its problem is reported.
    match crate::safe_read::open_regular(path) {
        Err(e) if !matches!(e, crate::safe_read::OpenError::TooLarge { .. }) => ImageInfo {
            error_kind: Some(image::ErrorKind::Unreadable),
            error: Some(e.to_string()),
            ..Default::default()
        },
        _ => ImageInfo {
            bytes: std::fs::metadata(path).ok().map(|m| m.len()),
            error_kind: Some(image::ErrorKind::Unsupported),
            error: Some("not an image file".into()),
            ..Default::default()
        },
    }
}

pub fn load(
    spec: &DatasetSpec,
    split_dirs: bool,
    quiet: bool,
    files: Option<&dyn super::Recall>,
) -> Result<Loaded> {
    let depth_of_class = if split_dirs { 1 } else { 0 };
    let mut jobs = Vec::new();
    let mut ignored = Vec::new();
    for f in &spec.walked.files {
        let parts: Vec<&str> = f.rel.split('/').collect();
        let dirs = &parts[..parts.len() - 1];
        let split = if split_dirs {
            dirs.first().map(|s| split_value(s))
        } else {
            None
        };
        let label = dirs.get(depth_of_class).map(|s| s.to_string());
        // Files beside the split or class folders (README, a stray CSV) are not
        // samples, unless they are images, which then count as unlabeled.
        if label.is_none() && !f.ext_in(IMAGE_EXTS) {
            ignored.push(f.rel.clone());
            continue;
        }
        jobs.push(Job {
            path: &f.path,
            source: f.rel.clone(),
            split,
            label,
            row: None,
            outside: false,
        });
    }
    let samples = describe_all(jobs, quiet, files);
    let mut loaded = Loaded::from_images(&samples)?;
    for d in &spec.walked.dirs {
        let parts: Vec<&str> = d.split('/').collect();
        if split_dirs {
            match parts.as_slice() {
                [s] => loaded.declared_splits.push(split_value(s)),
                [s, c] => loaded
                    .declared_classes
                    .push((Some(split_value(s)), c.to_string())),
                _ => {}
            }
        } else if let [c] = parts.as_slice() {
            loaded.declared_classes.push((None, c.to_string()));
        }
    }
    loaded.ignored_files = ignored;
    Ok(loaded)
}
