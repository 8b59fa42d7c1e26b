//! Where `dsaudit check` keeps its cache: never inside a dataset it reads.

use super::Cache;
use anyhow::{bail, Result};
use std::path::PathBuf;

/// The check's cache: in `given` (--cache-dir, else the configuration's; an error when
/// it lies inside a dataset: dsaudit writes nothing there); else `.dsaudit_cache` in
/// the repository above the datasets (the nearest folder above the first that holds
/// `.git`), else `dsaudit/` in the user's cache directory ($XDG_CACHE_HOME, else
/// ~/.cache). None, with a warning, when there is nowhere to put it.
pub fn locate(given: Option<PathBuf>, datasets: &[&PathBuf]) -> Result<Option<Cache>> {
    let inside = |dir: &std::path::Path| {
        datasets
            .iter()
            .find(|d| crate::output::inside_dataset(dir, d))
            .map(|d| crate::output::dataset_root(d))
    };
    if let Some(dir) = given {
        if let Some(root) = inside(&dir) {
            bail!(
                "{}: the cache directory is inside the dataset {}; dsaudit writes nothing inside a dataset: choose another --cache-dir (or [cache] dir)",
                dir.display(),
                root.display()
            );
        }
        return Ok(Cache::open(&dir));
    }
    let first = datasets.first().map(|p| crate::output::dataset_root(p));
    let repo = first
        .iter()
        .flat_map(|p| p.ancestors().skip(1))
        .find(|a| a.join(".git").exists() && inside(&a.join(super::DEFAULT_DIR)).is_none())
        .map(|a| a.join(super::DEFAULT_DIR));
    let user = || {
        std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|c| c.join("dsaudit"))
            .filter(|d| inside(d).is_none())
    };
    match repo.or_else(user) {
        Some(dir) => Ok(Cache::open(&dir)),
        None => {
            eprintln!("warning: no repository above the dataset and no user cache directory ($XDG_CACHE_HOME, $HOME): checking without a cache (--cache-dir DIR to keep one)");
            Ok(None)
        }
    }
}
