//! A plan of a scan in parts: the dataset walked and listed once (`dsaudit partial
//! DATA --plan-for N -o plan.dsp`), each part's samples in a section of their own,
//! so that each part (`--plan plan.dsp --shard K/N`) reads its own section and no
//! directory. Without a plan every part walks the whole dataset: on the 100,000
//! PNGs of the benchmark that walk and the layout's detection were most of a part's
//! fixed cost, and on a cluster's network file system listing millions of files is
//! what each of a thousand parts would wait for. A part made from a plan is, byte
//! for byte, the part `--shard K/N` makes by walking (tested).
//!
//! The file: the `.dsp` stamp, `PLAN 1\n`, the head's length (`u64` LE), the head
//! (postcard: the parts' header, the number of parts, each section's length), then
//! the sections (postcard: the part's samples to describe, in listing order).

use super::dsp::{self, Dsp, Header};
use super::{bucket, Choosing, Shard, ShardRecall};
use crate::load::image_folder::Job;
use crate::load::{self, Hints};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const KIND: &[u8] = b"PLAN 1\n";

#[derive(Serialize, Deserialize)]
struct Head {
    header: Header,
    parts: u64,
    /// Each section's length in bytes, part 1 first.
    sections: Vec<u64>,
}

/// One sample a part is to describe, as the layout listed it.
#[derive(Serialize, Deserialize)]
pub(super) struct Planned {
    index: u64,
    source: String,
    /// The file's path as the walk or the labels file gave it (its bytes).
    path: Vec<u8>,
    split: Option<String>,
    label: Option<String>,
    row: Option<u64>,
    outside: bool,
}

/// Whether the file's first bytes (at least the stamp and the kind) are a plan's.
pub fn is_plan(head: &[u8]) -> bool {
    dsp::body(head).is_some_and(|b| b.starts_with(KIND))
}

/// Walks and lists the dataset at `path` as `--shard K/N` would (reading no image),
/// and writes the plan of `parts` parts to `out`, atomically.
pub fn write(
    path: &Path,
    hints: Hints,
    config: Option<(String, String)>,
    parts: u64,
    out: &Path,
) -> Result<()> {
    if parts == 0 {
        bail!("--plan-for 0: a plan needs at least one part");
    }
    let spec = load::open(path, hints.clone())?;
    if super::table_file::is_table(&spec) {
        bail!(
            "{}: a table is split by blocks of its rows (dsaudit partial --shard K/N); a plan lists image files",
            path.display()
        );
    }
    super::refuse_unshardable(&spec)?;
    let recall = ShardRecall::new(Choosing::Plan);
    let loaded = spec.layout.load(&spec, true, Some(&recall))?;
    let listing = recall
        .listing
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    let jobs = recall
        .planned
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    if listing.total == 0 {
        bail!(
            "{}: empty dataset: {}",
            spec.input.display(),
            spec.layout.empty()
        );
    }
    if parts > listing.total {
        bail!(
            "--plan-for {parts}: {} lists {} samples; a plan has at most one part per sample",
            spec.input.display(),
            listing.total
        );
    }
    let header = super::header_of(&spec, hints, config, &listing, &loaded);
    let mut sections: Vec<Vec<Planned>> = (0..parts).map(|_| Vec::new()).collect();
    for j in jobs {
        sections[bucket(&j.source, parts) as usize].push(j);
    }
    let sections: Vec<Vec<u8>> = sections
        .iter()
        .map(postcard::to_stdvec)
        .collect::<std::result::Result<_, _>>()?;
    let head = postcard::to_stdvec(&Head {
        header,
        parts,
        sections: sections.iter().map(|s| s.len() as u64).collect(),
    })?;
    crate::output::write_atomic(out, |w| {
        w.write_all(&dsp::stamped(KIND))?;
        w.write_all(&(head.len() as u64).to_le_bytes())?;
        w.write_all(&head)?;
        for s in &sections {
            w.write_all(s)?;
        }
        Ok(())
    })
}

/// Describes part `shard` of the dataset `data` as its plan lists it: the part
/// `super::partial` makes by walking the dataset, read from the plan instead.
pub fn partial(plan: &Path, data: &Path, shard: &Shard, quiet: bool) -> Result<Dsp> {
    let section = Section::read(plan, data, shard)?;
    let (places, jobs) = section.jobs();
    let recall = ShardRecall::new(Choosing::All);
    let samples = load::image_folder::describe_all(jobs, quiet, Some(&recall));
    let loaded = load::Loaded::from_images(&samples)?;
    drop(samples);
    let records = recall
        .records
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    let rows = super::rows_of(&loaded, &places, records)?;
    Ok(Dsp {
        header: section.header,
        shard: shard.describe(),
        rows,
    })
}

/// The samples `--plan` lists for part `k` of `n`: the parts' header, and the jobs
/// (with the paths they borrow). `data`: the dataset as given to this run, which must
/// be the plan's.
struct Section {
    header: Header,
    paths: Vec<PathBuf>,
    planned: Vec<Planned>,
}

impl Section {
    fn read(plan: &Path, data: &Path, shard: &Shard) -> Result<Section> {
        let shown = plan.display().to_string();
        let Shard::Part { k, n } = shard else {
            bail!("{shown}: a plan's part is chosen by --shard K/N, not by --files");
        };
        let (mut file, len) = match crate::safe_read::open_limited(plan, u64::MAX) {
            Ok(opened) => opened,
            Err(e) => bail!("{shown}: {e}"),
        };
        let mut first = Vec::new();
        (&mut file).take(4096).read_to_end(&mut first)?;
        let body = dsp::checked_body(&shown, &first)?;
        let Some(rest) = body.strip_prefix(KIND) else {
            bail!("{shown}: not a plan (dsaudit partial DATA --plan-for N writes one)");
        };
        let at = (first.len() - rest.len()) as u64;
        let cut = || anyhow::anyhow!("{shown}: cut short or damaged plan");
        let head_len = u64::from_le_bytes(rest.get(..8).ok_or_else(cut)?.try_into()?);
        let start = at + 8;
        let head: Head = dsp::decoded(&shown, &read_at(&mut file, len, start, head_len, &cut)?)?;
        if head.parts != *n {
            bail!(
                "{shown}: a plan of {} parts; --shard {k}/{n} asks for one of {n}",
                head.parts
            );
        }
        if head.header.input != data.to_string_lossy() {
            bail!(
                "{shown}: a plan of {}, not of {}",
                head.header.input,
                data.display()
            );
        }
        let total: u64 = head.sections.iter().sum();
        if head.sections.len() as u64 != head.parts || start + head_len + total != len {
            return Err(cut());
        }
        let offset = start + head_len + head.sections[..(*k - 1) as usize].iter().sum::<u64>();
        let bytes = read_at(
            &mut file,
            len,
            offset,
            head.sections[(*k - 1) as usize],
            &cut,
        )?;
        let planned: Vec<Planned> = dsp::decoded(&shown, &bytes)?;
        let paths = planned.iter().map(|p| path_of(&p.path)).collect();
        Ok(Section {
            header: head.header,
            paths,
            planned,
        })
    }

    /// The part's places in the listing, and its jobs.
    fn jobs(&self) -> (Vec<u64>, Vec<Job<'_>>) {
        let places = self.planned.iter().map(|p| p.index).collect();
        let jobs = self
            .planned
            .iter()
            .zip(&self.paths)
            .map(|(p, path)| Job {
                path,
                source: p.source.clone(),
                split: p.split.clone(),
                label: p.label.clone(),
                row: p.row,
                outside: p.outside,
            })
            .collect();
        (places, jobs)
    }
}

/// `len` bytes of `file` (of `size` bytes) from `at`; `cut` when they are not there.
fn read_at(
    file: &mut std::fs::File,
    size: u64,
    at: u64,
    len: u64,
    cut: &dyn Fn() -> anyhow::Error,
) -> Result<Vec<u8>> {
    if at.checked_add(len).is_none_or(|end| end > size) {
        return Err(cut());
    }
    file.seek(SeekFrom::Start(at))?;
    let mut out = vec![0u8; len as usize];
    file.read_exact(&mut out).map_err(|_| cut())?;
    Ok(out)
}

/// The `index`-th job of the listing as the plan stores it (its path as bytes).
pub(super) fn planned((index, j): (usize, &Job<'_>)) -> Planned {
    Planned {
        index: index as u64,
        source: j.source.clone(),
        path: j.path.as_os_str().as_encoded_bytes().to_vec(),
        split: j.split.clone(),
        label: j.label.clone(),
        row: j.row,
        outside: j.outside,
    }
}

#[cfg(unix)]
fn path_of(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan whose head lists fewer sections than parts, its bytes otherwise whole
    /// (the sections' lengths still add up to the file), is refused as damaged for
    /// every part, the missing sections' parts included: no part indexes past them.
    #[test]
    fn a_head_with_too_few_sections_is_damaged() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample_data/images");
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("plan.dsp");
        write(&data, Hints::default(), None, 3, &plan).unwrap();
        let bytes = std::fs::read(&plan).unwrap();
        let rest = dsp::body(&bytes).unwrap().strip_prefix(KIND).unwrap();
        let head_len = u64::from_le_bytes(rest[..8].try_into().unwrap()) as usize;
        let mut head: Head = postcard::from_bytes(&rest[8..8 + head_len]).unwrap();
        let sections = &rest[8 + head_len..];
        head.sections = vec![sections.len() as u64];
        let forged_head = postcard::to_stdvec(&head).unwrap();
        let mut forged = dsp::stamped(KIND);
        forged.extend_from_slice(&(forged_head.len() as u64).to_le_bytes());
        forged.extend_from_slice(&forged_head);
        forged.extend_from_slice(sections);
        let forged_path = dir.path().join("forged.dsp");
        std::fs::write(&forged_path, forged).unwrap();
        for k in 1..=3 {
            let shard = Shard::Part { k, n: 3 };
            let e = partial(&forged_path, &data, &shard, true).err().unwrap();
            assert!(
                e.to_string().contains("cut short or damaged plan"),
                "{k}: {e}"
            );
        }
        // The plan as written still gives its parts.
        partial(&plan, &data, &Shard::Part { k: 2, n: 3 }, true).unwrap();
    }
}
