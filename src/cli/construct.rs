//! `split`, `rebalance`, `subset`, `clean`: scan, plan, write.

use super::args::BuildArgs;
use anyhow::{bail, Result};
use dsaudit_core::scan::{self, ScanOptions};

/// Checks OUT, scans the dataset (duplicates included: clusters stay together),
/// plans, writes, and prints what was built.
pub fn run_build(
    args: BuildArgs,
    find_labels: bool,
    plan: impl FnOnce(&dsaudit_construct::Samples, u64) -> Result<dsaudit_construct::Plan>,
) -> Result<i32> {
    // OUT is checked before the scan, so a wrong path fails at once.
    let staging =
        dsaudit_construct::outdir::Staging::prepare(&args.out, &args.path, args.overwrite)?;
    let config = args.read.config(&args.path)?;
    // The build writes the rows again: the scan keeps the tables it reads.
    let mut opts = ScanOptions::for_building(
        args.read.hints(&config, true),
        config.thresholds.clone(),
        args.quiet,
        args.timings,
        find_labels,
        args.seed,
    );
    opts.labels.networks = super::networks();
    let scan = scan::scan(&args.path, &opts)?;
    if let Some(target) = &scan.loaded.regression_target {
        // Every row would count as unlabeled and be dropped: refuse, do not empty it.
        bail!(
            "{}: '{target}' is a continuous target (a regression task); the builds stratify and balance by class, which it has none of",
            args.path.display()
        );
    }
    if let Some(why) = scan.labels.skipped.as_ref().filter(|_| find_labels) {
        bail!(
            "{}: cannot look for label issues: {why}",
            args.path.display()
        );
    }
    let start = std::time::Instant::now();
    let samples = dsaudit_construct::Samples::new(&scan.spec, &scan.loaded, &scan.dups);
    let plan =
        plan(&samples, args.seed).map_err(|e| anyhow::anyhow!("{}: {e}", args.path.display()))?;
    if args.timings {
        eprintln!(
            "timing {:<10} {:8.3} s",
            "plan",
            start.elapsed().as_secs_f64()
        );
    }
    // The program's own path would differ from machine to machine.
    let argv: Vec<String> = std::iter::once("dsaudit".to_string())
        .chain(std::env::args().skip(1))
        .collect();
    let settings = dsaudit_construct::write::Settings {
        materialize: args.materialize,
        seed: args.seed,
        argv: &argv,
        timings: args.timings,
    };
    let written = dsaudit_construct::write::write(&samples, &plan, staging, &settings)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.out.display()))?;
    print!(
        "{}",
        dsaudit_construct::write::summary(&plan, &samples, &written, &args.out, args.seed)
    );
    Ok(0)
}
