//! Writing a WebDataset again: one tar per output split, `OUT/<split>-000000.tar`,
//! holding each output sample's members (every member of its key, bytes unchanged)
//! in manifest order. An oversampled copy gets the key `<key>_copy<N>`; a relabeled
//! sample's label member holds its new class. Each input tar is read once, front to
//! back; the headers written are fixed (time 0, owner 0, mode 644), so the same plan
//! gives the same bytes.

use super::tables::Placed;
use super::{Action, Plan, Samples};
use anyhow::{bail, Context, Result};
use dsaudit_core::load::format::webdataset::Shard;
use dsaudit_core::load::webdataset::{key_and_ext, read_shard, LABEL_EXTS};
use std::collections::{BTreeMap, HashMap};
use std::io::BufWriter;
use std::path::Path;

/// Where one input sample goes: its plan row, output split and copy number.
struct Target {
    k: usize,
    split: usize,
    copy: u32,
    relabel: Option<String>,
}

/// The shard and key a manifest source names (`train-000000.tar:circle/000.png`).
fn shard_and_key<'a>(source: &'a str, shards: &[Shard]) -> Option<(usize, &'a str)> {
    shards.iter().enumerate().find_map(|(i, sh)| {
        let member = source.strip_prefix(sh.rel.as_str())?.strip_prefix(':')?;
        Some((i, key_and_ext(member).map_or(member, |(key, _)| key)))
    })
}

pub fn write(
    s: &Samples,
    plan: &Plan,
    order: &[usize],
    shards: &[Shard],
    dir: &Path,
    placed: &mut Placed,
) -> Result<Vec<String>> {
    let sources = s.loaded.manifest.strs("source");
    // Each sample's key occurrence: a key a shard repeats (I017) names two samples.
    let mut seen: HashMap<(usize, &str), u32> = HashMap::new();
    let mut occurrence: Vec<Option<(usize, &str, u32)>> = Vec::with_capacity(sources.len());
    for source in sources.iter() {
        occurrence.push(
            source
                .and_then(|src| shard_and_key(src, shards))
                .map(|(i, key)| {
                    let n = seen.entry((i, key)).or_default();
                    *n += 1;
                    (i, key, *n - 1)
                }),
        );
    }
    let mut split_names: Vec<String> = Vec::new();
    let mut targets: HashMap<(usize, &str, u32), Vec<Target>> = HashMap::new();
    for &k in order {
        let r = &plan.rows[k];
        if !r.action.is_output() {
            continue;
        }
        let Some(at) = occurrence[r.src as usize] else {
            let source = sources.get(r.src as usize).unwrap_or("");
            bail!("{source}: a sample that is not a member of a shard cannot be written");
        };
        let split = r
            .split
            .map_or("all".to_string(), |sp| plan.splits[sp as usize].clone());
        let split = match split_names.iter().position(|n| *n == split) {
            Some(i) => i,
            None => {
                split_names.push(split);
                split_names.len() - 1
            }
        };
        let relabel = match &r.action {
            Action::Relabeled { to } => Some(to.clone()),
            _ => None,
        };
        targets.entry(at).or_default().push(Target {
            k,
            split,
            copy: r.copy,
            relabel,
        });
    }
    let mut ordered: Vec<usize> = (0..split_names.len()).collect();
    ordered.sort_by_key(|&i| dsaudit_core::util::split_order(&split_names[i]));
    let mut files = Vec::new();
    let mut builders = BTreeMap::new();
    for &i in &ordered {
        let name = format!("{}-000000.tar", split_names[i]);
        let file = std::fs::File::create(dir.join(&name))
            .with_context(|| format!("{name}: cannot create"))?;
        let index = placed.add(name.clone());
        builders.insert(i, (tar::Builder::new(BufWriter::new(file)), index, 0u64));
        files.push(name);
    }
    for (i, shard) in shards.iter().enumerate() {
        let mut counts: HashMap<String, u32> = HashMap::new();
        let mut failed: Option<anyhow::Error> = None;
        let mut ignored = Vec::new();
        // A shard that ends in damage is written up to it: the samples after it were
        // never in the scan's manifest, so nothing planned is lost.
        let _ = read_shard(shard, &mut ignored, &mut |raw| {
            if failed.is_some() {
                return;
            }
            let n = counts.entry(raw.key.clone()).or_default();
            *n += 1;
            let Some(list) = targets.get(&(i, raw.key.as_str(), *n - 1)) else {
                return;
            };
            for t in list {
                let (builder, index, written) = builders.get_mut(&t.split).expect("a split's tar");
                if let Err(e) = append(builder, &raw, t) {
                    failed = Some(e);
                    return;
                }
                placed.file[t.k] = *index;
                placed.row[t.k] = Some(*written);
                *written += 1;
            }
        });
        if let Some(e) = failed {
            return Err(e.context(format!("{}: cannot copy its samples", shard.rel)));
        }
    }
    for (_, (builder, ..)) in builders {
        let mut w = builder.into_inner()?;
        std::io::Write::flush(&mut w)?;
    }
    Ok(files)
}

/// Appends one sample's members under its (new) key.
fn append(
    builder: &mut tar::Builder<BufWriter<std::fs::File>>,
    raw: &dsaudit_core::load::webdataset::Raw,
    t: &Target,
) -> Result<()> {
    let key = match t.copy {
        0 => raw.key.clone(),
        n => format!("{}_copy{n}", raw.key),
    };
    let label_ext = raw
        .members
        .iter()
        .map(|(e, _)| e.as_str())
        .find(|e| LABEL_EXTS.contains(e));
    let mut members: Vec<(&str, &[u8])> = Vec::new();
    for (ext, bytes) in &raw.members {
        let Ok(bytes) = bytes else {
            bail!("{}.{ext}: member cut short", raw.key);
        };
        match (&t.relabel, Some(ext.as_str()) == label_ext) {
            (Some(to), true) => members.push((ext, to.as_bytes())),
            _ => members.push((ext, bytes)),
        }
    }
    if let (Some(to), None) = (&t.relabel, label_ext) {
        members.push(("cls", to.as_bytes()));
    }
    for (ext, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, format!("{key}.{ext}"), bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn members(raw: &dsaudit_core::load::webdataset::Raw, t: &Target) -> Vec<(String, String)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.tar");
        let mut b = tar::Builder::new(BufWriter::new(std::fs::File::create(&path).unwrap()));
        append(&mut b, raw, t).unwrap();
        b.into_inner().unwrap();
        let mut archive = tar::Archive::new(std::fs::File::open(&path).unwrap());
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let name = e.path().unwrap().to_string_lossy().into_owned();
                let mut text = String::new();
                e.read_to_string(&mut text).unwrap();
                (name, text)
            })
            .collect()
    }

    #[test]
    fn copies_get_a_new_key_and_relabels_a_new_label_member() {
        let raw = dsaudit_core::load::webdataset::Raw {
            key: "a/001".into(),
            members: vec![
                ("png".into(), Ok(b"PIXELS".to_vec())),
                ("cls".into(), Ok(b"cat".to_vec())),
            ],
        };
        let plain = Target {
            k: 0,
            split: 0,
            copy: 0,
            relabel: None,
        };
        assert_eq!(
            members(&raw, &plain),
            [
                ("a/001.png".into(), "PIXELS".into()),
                ("a/001.cls".into(), "cat".into())
            ]
        );
        let moved = Target {
            k: 0,
            split: 0,
            copy: 2,
            relabel: Some("dog".into()),
        };
        assert_eq!(
            members(&raw, &moved),
            [
                ("a/001_copy2.png".into(), "PIXELS".into()),
                ("a/001_copy2.cls".into(), "dog".into())
            ]
        );
        // A sample labelled by its .json gets a .cls, which readers take first.
        let json = dsaudit_core::load::webdataset::Raw {
            key: "b".into(),
            members: vec![
                ("jpg".into(), Ok(b"J".to_vec())),
                ("json".into(), Ok(br#"{"label": "cat"}"#.to_vec())),
            ],
        };
        let got = members(
            &json,
            &Target {
                k: 0,
                split: 0,
                copy: 0,
                relabel: Some("dog".into()),
            },
        );
        assert_eq!(
            got.last().unwrap(),
            &("b.cls".to_string(), "dog".to_string())
        );
    }
}
