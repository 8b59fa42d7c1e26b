//! One build from start to end: OUT checked, the dataset scanned (duplicates
//! included, so that clusters stay together), planned, written. Every front end (the
//! CLI, the Python package) builds through here.

use crate::{Plan, Samples};
use anyhow::{bail, Result};
use dsaudit_core::load::Hints;
use dsaudit_core::scan::{self, ScanOptions};
use std::path::Path;

/// How to build, besides the plan.
pub struct Options<'a> {
    pub overwrite: bool,
    pub materialize: Option<crate::images::Mode>,
    pub seed: u64,
    /// Layout hints, the configuration's already merged in.
    pub hints: Hints,
    pub thresholds: dsaudit_core::rules::thresholds::Thresholds,
    pub quiet: bool,
    pub timings: bool,
    /// The plan needs the label search (`clean`).
    pub find_labels: bool,
    pub networks: Option<&'static dyn dsaudit_core::labels::network::Networks>,
    /// The command line recorded in the build's records.
    pub argv: &'a [String],
}

/// Builds `out` from `path` with `plan`; returns the summary `dsaudit` prints.
pub fn build(
    path: &Path,
    out: &Path,
    o: Options,
    plan: impl FnOnce(&Samples, u64) -> Result<Plan>,
) -> Result<String> {
    // OUT is checked before the scan, so a wrong path fails at once.
    let staging = crate::outdir::Staging::prepare(out, path, o.overwrite)?;
    // The build writes the rows again: the scan keeps the tables it reads.
    let mut opts = ScanOptions::for_building(
        Hints {
            keep_tables: true,
            ..o.hints
        },
        o.thresholds,
        o.quiet,
        o.timings,
        o.find_labels,
        o.seed,
    );
    opts.labels.networks = o.networks;
    let scan = scan::scan(path, &opts)?;
    if let Some(target) = &scan.loaded.regression_target {
        // Every row would count as unlabeled and be dropped: refuse, do not empty it.
        bail!(
            "{}: '{target}' is a continuous target (a regression task); the builds stratify and balance by class, which it has none of",
            path.display()
        );
    }
    if let Some(why) = scan.labels.skipped.as_ref().filter(|_| o.find_labels) {
        bail!("{}: cannot look for label issues: {why}", path.display());
    }
    let start = std::time::Instant::now();
    let samples = Samples::new(&scan.spec, &scan.loaded, &scan.dups);
    let plan = plan(&samples, o.seed).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if o.timings {
        eprintln!(
            "timing {:<10} {:8.3} s",
            "plan",
            start.elapsed().as_secs_f64()
        );
    }
    let settings = crate::write::Settings {
        materialize: o.materialize,
        seed: o.seed,
        argv: o.argv,
        timings: o.timings,
    };
    let written = crate::write::write(&samples, &plan, staging, &settings)
        .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    Ok(crate::write::summary(
        &plan, &samples, &written, out, o.seed,
    ))
}
