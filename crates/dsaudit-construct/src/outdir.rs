//! The output directory of a build: checked before any work, written as a hidden
//! sibling, renamed into place at the end. An interrupted run leaves OUT as it was
//! (absent, or the previous build); only a previous dsaudit output is ever replaced.

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
            if !empty && !out.join(MARKER).is_file() && !out.join(BASELINE_MARKER).is_file() {
                bail!("{shown}: not a dsaudit output (no {MARKER} or {BASELINE_MARKER}); refusing to replace it");
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
