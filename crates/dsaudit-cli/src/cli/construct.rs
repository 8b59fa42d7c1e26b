//! `split`, `rebalance`, `subset`, `clean`: scan, plan, write.

use super::args::BuildArgs;
use anyhow::Result;

/// Builds through `dsaudit_construct::run::build` and prints what was built.
pub fn run_build(
    args: BuildArgs,
    find_labels: bool,
    plan: impl FnOnce(&dsaudit_construct::Samples, u64) -> Result<dsaudit_construct::Plan>,
) -> Result<i32> {
    let config = args.read.config(&args.path)?;
    // The program's own path would differ from machine to machine.
    let argv: Vec<String> = std::iter::once("dsaudit".to_string())
        .chain(
            super::given_args()
                .iter()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned()),
        )
        .collect();
    let options = dsaudit_construct::run::Options {
        overwrite: args.overwrite,
        materialize: args.materialize,
        seed: args.seed,
        hints: args.read.hints(&config, true),
        thresholds: config.thresholds.clone(),
        quiet: args.quiet,
        timings: args.timings,
        find_labels,
        networks: super::networks(),
        argv: &argv,
    };
    let summary = dsaudit_construct::run::build(&args.path, &args.out, options, plan)?;
    print!("{summary}");
    Ok(0)
}
