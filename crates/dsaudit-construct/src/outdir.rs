//! The output directory of a build: checked before any work, written as a hidden
//! sibling, renamed into place at the end. An interrupted run leaves OUT as it was
//! (absent, or the previous build); only a previous dsaudit output is ever replaced,
//! and only while it holds exactly what that build wrote (its inventory): a folder
//! where a training run left checkpoints is never deleted.

use anyhow::{bail, Context, Result};
use dsaudit_core::output::absolute;
use std::path::{Path, PathBuf};

// The build's own files are named in the core, which discovery reads them from
// (a previous build read as a dataset skips its records).
pub use dsaudit_core::output::{BUILD_MARKER as MARKER, BUILD_RECORDS as RECORDS};
/// Its counterpart in the artifacts directory of `dsaudit baseline`.
pub const BASELINE_MARKER: &str = "metrics.json";

pub struct Staging {
    out: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl Staging {
    /// Checks OUT against the input and creates the staging directory.
    pub fn prepare(out: &Path, input: &Path, overwrite: bool) -> Result<Staging> {
        let shown = out.display();
        dsaudit_core::output::ensure_outside(out, input)?;
        // The reverse: replacing OUT must never delete the data being read.
        let (abs_out, abs_in) = (absolute(out), absolute(input));
        if abs_in.starts_with(&abs_out) {
            bail!(
                "{shown}: the dataset {} lies inside this output directory; choose another output path",
                input.display()
            );
        }
        if out.exists() {
            if !out.is_dir() {
                bail!("{shown}: exists and is not a directory");
            }
            let empty = std::fs::read_dir(out)
                .with_context(|| format!("{shown}: cannot list"))?
                .next()
                .is_none();
            if !empty && !overwrite {
                bail!("{shown}: not empty; pass --overwrite to replace a previous build there");
            }
            if !empty {
                replaceable(out)?;
            }
        }
        let name = out
            .file_name()
            .with_context(|| format!("{shown}: the output path needs a directory name"))?
            .to_string_lossy()
            .into_owned();
        let parent = match absolute(out).parent() {
            Some(p) => p.to_path_buf(),
            None => bail!("{shown}: the output path needs a parent directory"),
        };
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("{}: cannot create", parent.display()))?;
        remove_stale(&parent, &name);
        let tmp = parent.join(format!(".{name}.dsaudit-tmp-{}", std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).ok();
        }
        std::fs::create_dir(&tmp).with_context(|| format!("{}: cannot create", tmp.display()))?;
        Ok(Staging {
            out: out.to_path_buf(),
            tmp,
            committed: false,
        })
    }

    /// Where the outputs are written until `commit`.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Moves the staged outputs to OUT, replacing a previous build there.
    pub fn commit(mut self) -> Result<()> {
        let shown = self.out.display();
        let inventory = Inventory::of(&self.tmp)?;
        dsaudit_core::output::write_bytes_atomic(
            &self.tmp.join(INVENTORY),
            (serde_json::to_string_pretty(&inventory)? + "\n").as_bytes(),
        )?;
        let mut old = None;
        if self.out.exists() {
            let empty = std::fs::read_dir(&self.out)?.next().is_none();
            if empty {
                std::fs::remove_dir(&self.out)
                    .with_context(|| format!("{shown}: cannot replace"))?;
            } else {
                let aside = self.tmp.with_file_name(
                    self.tmp
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .replace("dsaudit-tmp", "dsaudit-old"),
                );
                std::fs::rename(&self.out, &aside)
                    .with_context(|| format!("{shown}: cannot move the previous build aside"))?;
                old = Some(aside);
            }
        }
        std::fs::rename(&self.tmp, &self.out)
            .with_context(|| format!("{shown}: cannot rename the finished build into place"))?;
        self.committed = true;
        if let Some(old) = old {
            // Links in the old build are removed, never followed.
            std::fs::remove_dir_all(&old)
                .with_context(|| format!("{}: cannot remove the previous build", old.display()))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Staging directories left by killed runs (their process is gone) are removed.
fn remove_stale(parent: &Path, name: &str) {
    let prefix = format!(".{name}.dsaudit-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let pid = rest.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        // Without /proc no liveness can be told, and a running build's files stay.
        if pid.is_some() && Path::new("/proc/self").exists() && !alive {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// The file a build leaves in OUT naming what it wrote (hidden: folder readers such as
/// torchvision's ImageFolder count folders only, and dsaudit skips hidden files).
pub const INVENTORY: &str = ".dsaudit-build.json";

/// What a build wrote: how many entries (files, links, folders), their bytes, and a
/// BLAKE3 over their sorted names, kinds and sizes.
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Inventory {
    pub tool: String,
    pub entries: u64,
    pub bytes: u64,
    pub blake3: String,
}

impl Inventory {
    /// The inventory of `dir` as it is now, its inventory file left out.
    pub fn of(dir: &Path) -> Result<Inventory> {
        let mut lines = Vec::new();
        list(dir, dir, &mut lines)?;
        lines.sort();
        let mut h = blake3::Hasher::new();
        let mut bytes = 0;
        for (name, kind, size) in &lines {
            h.update(name);
            h.update(&[0, *kind]);
            h.update(&size.to_le_bytes());
            bytes += size;
        }
        Ok(Inventory {
            tool: "dsaudit".into(),
            entries: lines.len() as u64,
            bytes,
            blake3: h.finalize().to_hex().to_string(),
        })
    }
}

/// Every entry under `dir` as (relative name as bytes, kind, size); links are not
/// followed.
fn list(root: &Path, dir: &Path, out: &mut Vec<(Vec<u8>, u8, u64)>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))?;
    for e in entries {
        let e = e.with_context(|| format!("{}: cannot list", dir.display()))?;
        let path = e.path();
        let rel = path.strip_prefix(root).unwrap_or(&path);
        if rel == Path::new(INVENTORY) {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let name = rel.as_os_str().as_encoded_bytes().to_vec();
        if meta.is_dir() {
            out.push((name, b'd', 0));
            list(root, &path, out)?;
        } else if meta.file_type().is_symlink() {
            out.push((name, b'l', meta.len()));
        } else {
            out.push((name, b'f', meta.len()));
        }
    }
    Ok(())
}

/// Whether OUT, not empty, may be replaced: it must hold a dsaudit inventory that
/// matches what is there now, entry for entry.
fn replaceable(out: &Path) -> Result<()> {
    let shown = out.display();
    let recorded = dsaudit_core::safe_read::read_limited(&out.join(INVENTORY), 1 << 20)
        .ok()
        .and_then(|b| serde_json::from_slice::<Inventory>(&b).ok())
        .filter(|i| i.tool == "dsaudit");
    let Some(recorded) = recorded else {
        let older = out.join(MARKER).is_file() || out.join(BASELINE_MARKER).is_file();
        if older {
            bail!("{shown}: has {MARKER} or {BASELINE_MARKER} but no {INVENTORY} (written by an older dsaudit, or not by dsaudit): refusing to replace it; remove it yourself or choose another --out");
        }
        bail!("{shown}: not a dsaudit output (no {INVENTORY}); refusing to replace it");
    };
    let now = Inventory::of(out)?;
    if now != recorded {
        bail!(
            "{shown}: holds other files than the dsaudit build written there ({} entries, {} bytes recorded; {} entries, {} bytes now): refusing to replace it; move what was added, or choose another --out",
            recorded.entries,
            recorded.bytes,
            now.entries,
            now.bytes
        );
    }
    Ok(())
}
