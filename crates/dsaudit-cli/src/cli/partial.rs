//! `partial` and `merge`: a scan in parts (`dsaudit_core::partial`), and the report of
//! the parts put together, printed as `scan` prints it.

use super::args::{PartialArgs, ScanArgs};
use super::emit;
use super::scan::{render, settings_from, settled};
use anyhow::{bail, Result};
use dsaudit_core::partial::{self, Shard};

pub fn run_partial(args: PartialArgs) -> Result<i32> {
    dsaudit_core::output::ensure_outside(&args.output, &args.path)?;
    if let (Some(plan), Some(shard)) = (&args.plan, &args.shard) {
        let r = &args.read;
        if r.label.is_some()
            || r.split.is_some()
            || r.layout.is_some()
            || r.config.is_some()
            || r.isolated
            || r.allow_outside_paths
        {
            bail!("dsaudit partial --plan: the plan's --label, --split, --layout, --config, --isolated and --allow-outside-paths apply; give them to --plan-for");
        }
        let shard = Shard::parse(shard)?;
        partial::plan::partial(plan, &args.path, &shard, args.quiet)?.write(&args.output)?;
        return Ok(0);
    }
    let config = args.read.config(&args.path)?;
    // The merge applies the same configuration again, from its text.
    let config_text = match &config.file {
        Some(file) => Some((
            dsaudit_core::output::absolute(file)
                .to_string_lossy()
                .into_owned(),
            dsaudit_core::config::read(file)?,
        )),
        None => None,
    };
    let hints = args.read.hints(&config, false);
    if let Some(parts) = args.plan_for {
        partial::plan::write(&args.path, hints, config_text, parts, &args.output)?;
        return Ok(0);
    }
    let shard = match (&args.shard, &args.files) {
        (Some(s), _) => Shard::parse(s)?,
        (None, Some(list)) => Shard::files(list)?,
        (None, None) => bail!("dsaudit partial: give --shard K/N, --files LIST or --plan-for N"),
    };
    let part = partial::partial_part(
        &args.path,
        hints,
        config_text,
        &shard,
        (args.quiet, args.block_size),
    )?;
    part.write(&args.output)?;
    Ok(0)
}

pub fn run_merge(args: ScanArgs) -> Result<i32> {
    let read = &args.data.read;
    if read.label.is_some()
        || read.split.is_some()
        || read.layout.is_some()
        || read.allow_outside_paths
    {
        bail!("dsaudit merge: --label, --split, --layout and --allow-outside-paths are given to dsaudit partial; the merge reads the layout the parts found");
    }
    let start = std::time::Instant::now();
    let paths = &args.data.paths;
    if let Some(first) = paths.first() {
        if partial::dsp_file::is_table(first)? {
            let merged = partial::table_file::merge_files(paths)?;
            let config = merged.configuration()?;
            return finish_merge(&args, (merged.spec, merged.loaded), config, start);
        }
    }
    // Image parts are decoded as they are read, never held whole.
    let merged = partial::merge(partial::dsp_file::read_all(paths)?)?;
    let config = merged.configuration()?;
    finish_merge(&args, (merged.spec, merged.loaded), config, start)
}

/// The merged dataset scanned and reported as `scan` reports, under the parts'
/// configuration unless --config or --isolated says otherwise.
fn finish_merge(
    args: &ScanArgs,
    (spec, loaded): (dsaudit_core::load::DatasetSpec, dsaudit_core::load::Loaded),
    parts_config: dsaudit_core::config::Config,
    start: std::time::Instant,
) -> Result<i32> {
    let read = &args.data.read;
    for out in args
        .data
        .output
        .iter()
        .chain(args.manifest.iter())
        .chain(args.html.iter())
    {
        dsaudit_core::output::ensure_outside(out, &spec.input)?;
    }
    let config = match (&read.config, read.isolated) {
        (_, true) => Default::default(),
        (Some(file), _) => dsaudit_core::config::load(&spec.input, Some(file), false)?,
        (None, false) => parts_config,
    };
    let mut s = settings_from(config, &args.data, Some(args), false)?;
    s.options.against = super::scan::reference(args)?;
    if args.data.timings {
        eprintln!(
            "timing {:<10} {:8.3} s",
            "merge",
            start.elapsed().as_secs_f64()
        );
    }
    let input = spec.input.clone();
    let mut scan = dsaudit_core::scan::scan_loaded(&input, spec, loaded, &s.options, start)?;
    let mut rules_run = Vec::new();
    let fails = settled(&mut scan, &s, &mut rules_run);
    let (exit, text) = render(args, std::slice::from_ref(&scan), rules_run, fails)?;
    emit(args.data.output.as_ref(), &text)?;
    Ok(exit)
}
