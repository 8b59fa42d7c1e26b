//! `scan`, `check` and `stats`: the configuration merged under the flags, the check's
//! cache protocol, the reports.

use super::args::{DatasetArgs, ScanArgs, StatsArgs};
use super::{emit, parse_fail_on};
use anyhow::{bail, Result};
use dsaudit_core::cache::{Check, Lookup};
use dsaudit_core::choice::Choice;
use dsaudit_core::report::{self, Format};
use dsaudit_core::request::{self, Request, Settings};
use dsaudit_core::rules;
use dsaudit_core::scan;
use std::path::PathBuf;

/// Merges the flags over the dataset's configuration (`request::settings`).
fn settings(
    data: &DatasetArgs,
    scan: Option<&ScanArgs>,
    path: &std::path::Path,
    stats_only: bool,
) -> Result<Settings> {
    settings_from(data.read.config(path)?, data, scan, stats_only)
}

/// Merges the flags over `config`.
pub(super) fn settings_from(
    config: dsaudit_core::config::Config,
    data: &DatasetArgs,
    scan: Option<&ScanArgs>,
    stats_only: bool,
) -> Result<Settings> {
    let mut req = Request {
        hints: data.read.flag_hints(false),
        reference: data.reference.clone(),
        current: data.current.clone(),
        seed: data.seed,
        quiet: data.quiet,
        timings: data.timings,
        stats_only,
        ..Default::default()
    };
    if let Some(args) = scan {
        req.select = args.select.clone();
        req.ignore = args.ignore.clone();
        req.thresholds = rules::thresholds::Thresholds::parse(&args.thresholds)?;
        req.fail_on = args.fail_on.as_deref().map(parse_fail_on).transpose()?;
        req.labels = args.labels.options(data.seed)?;
    }
    request::settings(config, req)
}

/// Refuses any output path inside any dataset read.
fn check_outputs(data: &DatasetArgs, extra_outputs: &[&PathBuf]) -> Result<()> {
    for p in &data.paths {
        for out in data.output.iter().chain(extra_outputs.iter().copied()) {
            dsaudit_core::output::ensure_outside(out, p)?;
        }
    }
    Ok(())
}

pub fn run_stats(StatsArgs { data: args }: StatsArgs) -> Result<i32> {
    check_outputs(&args, &[])?;
    let mut scans = Vec::new();
    for p in &args.paths {
        let s = settings(&args, None, p, true)?;
        scans.push(scan::scan(p, &s.options)?);
    }
    let text = match args.format {
        f if f == Format::JSON => {
            let doc = serde_json::json!({
                "schema_version": report::json::SCHEMA_VERSION,
                "tool": { "name": "dsaudit", "version": env!("CARGO_PKG_VERSION") },
                "datasets": scans.iter().map(|s| serde_json::json!({ "path": s.spec.input.to_string_lossy(), "stats": report::stats::json(s) })).collect::<Vec<_>>(),
            });
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        f if f == Format::TEXT => scans
            .iter()
            .map(|s| {
                format!(
                    "dsaudit stats · {}\n{}",
                    s.spec.input.display(),
                    report::stats::text(s)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        other => bail!("dsaudit stats prints text or json, not {}", other.name()),
    };
    emit(args.output.as_ref(), &text)?;
    Ok(0)
}

/// `scan`, and `check` when `cache` is Some (holding the --cache-dir, if any).
pub fn run_scan(args: ScanArgs, cache: Option<Option<PathBuf>>, refit: bool) -> Result<i32> {
    if args.manifest.is_some() && args.data.paths.len() > 1 {
        bail!(
            "--manifest takes one dataset path, got {}",
            args.data.paths.len()
        );
    }
    let extra: Vec<&PathBuf> = args.manifest.iter().chain(args.html.iter()).collect();
    check_outputs(&args.data, &extra)?;
    one_reference(&args)?;
    // The profile is read once here; merged only when the scan runs (an unchanged
    // re-check prints what it printed, knowing the profile by its bytes' hash).
    let profile = args
        .against
        .iter()
        .map(|p| Ok((p.clone(), dsaudit_core::partial::Dsp::read_bytes(p)?)))
        .collect::<Result<Vec<_>>>()?;
    let mut prepared = Vec::new();
    for p in &args.data.paths {
        let mut s = settings(&args.data, Some(&args), p, false)?;
        s.options.refit = refit;
        let start = std::time::Instant::now();
        let spec = dsaudit_core::load::open(p, s.options.hints.clone())?;
        if args.data.timings {
            eprintln!(
                "timing {:<10} {:8.3} s",
                "discover",
                start.elapsed().as_secs_f64()
            );
        }
        prepared.push((p, s, spec, start));
    }
    let datasets: Vec<&PathBuf> = prepared.iter().map(|(p, ..)| *p).collect();
    let cache = match cache {
        Some(flag) => {
            let config = &prepared[0].1.config;
            if flag.is_none() && config.cache_enabled == Some(false) {
                None
            } else {
                dsaudit_core::cache::locate(flag.or(config.cache_dir.clone()), &datasets)?
            }
        }
        None => None,
    };
    // An unchanged re-check prints what the last one printed. The HTML report and the
    // manifest are files the user asked for anew, so they always run the scan.
    let mut check = None;
    if let Some(c) = cache
        .as_ref()
        .filter(|_| args.html.is_none() && args.manifest.is_none())
    {
        let start = std::time::Instant::now();
        let mut settings: Vec<String> = prepared
            .iter()
            .map(|(_, s, ..)| s.config.render(&s.options.rules, s.fail_on))
            .collect();
        // A profile saved again under the same name changes the shift tests: its
        // contents are part of what makes a re-check unchanged.
        settings.extend(
            profile
                .iter()
                .map(|(p, b)| format!("against {} {}", p.display(), blake3::hash(b).to_hex())),
        );
        let specs: Vec<&dsaudit_core::load::DatasetSpec> =
            prepared.iter().map(|(_, _, spec, _)| spec).collect();
        let mut lap_at = |what: &str| lap(args.data.timings, what, start);
        match Check::open(c, command_line(), &settings, &specs, &mut lap_at) {
            Lookup::Unchanged(hit) => {
                if args.data.timings {
                    eprintln!(
                        "cache: nothing changed since the last check ({:.3} s)",
                        start.elapsed().as_secs_f64()
                    );
                }
                let text = if args.data.format == Format::TEXT {
                    report::text::from_cache(&hit.output, start.elapsed())
                } else {
                    hit.output
                };
                emit(args.data.output.as_ref(), &text)?;
                return Ok(hit.exit);
            }
            Lookup::Run(c) => check = Some(c),
        }
    }
    if !profile.is_empty() {
        let r = std::sync::Arc::new(dsaudit_core::partial::reference::Reference::from_bytes(
            profile,
        )?);
        for (_, s, ..) in &mut prepared {
            s.options.against = Some(r.clone());
        }
    }
    let mut scans = Vec::new();
    let mut fails = false;
    let mut rules_run: Vec<&'static dyn rules::Rule> = Vec::new();
    // Each dataset's cache records; their state files are written while the report is
    // made.
    let mut writing = Vec::new();
    for (i, (p, s, spec, start)) in prepared.into_iter().enumerate() {
        let files = match (&mut check, &cache) {
            (Some(check), _) => Some(check.files(i, &spec)),
            (None, Some(c)) => Some(c.files(&spec.root, Default::default())),
            (None, None) => None,
        };
        let mut scan = scan::scan_discovered(p, spec, &s.options, files.as_ref(), start)?;
        if let Some(f) = files {
            // The records were written, and the inputs' identities taken, while the
            // stages ran.
            if let Some(check) = &mut check {
                check.scanned(&scan.spec, &f);
            }
            if args.data.timings {
                let (same, rehashed, read) = f.counts();
                eprintln!(
                    "cache: {same} files unchanged, {rehashed} unchanged by content, {read} read"
                );
            }
            writing.push(f);
        }
        fails |= settled(&mut scan, &s, &mut rules_run);
        scans.push(scan);
    }
    let (exit, text) = render(&args, &scans, rules_run, fails)?;
    // The state is whole on disk before the result that builds on it is stored.
    writing
        .into_iter()
        .for_each(dsaudit_core::cache::Files::finish);
    if let Some(check) = check {
        check.finish(exit, &text);
    }
    emit(args.data.output.as_ref(), &text)?;
    Ok(exit)
}

/// The profile `--against` names, merged from its parts; refused beside
/// `--reference`, which names one of the dataset's own splits.
pub(super) fn reference(
    args: &ScanArgs,
) -> Result<Option<std::sync::Arc<dsaudit_core::partial::reference::Reference>>> {
    if args.against.is_empty() {
        return Ok(None);
    }
    one_reference(args)?;
    let r = dsaudit_core::partial::reference::Reference::read(&args.against)?;
    Ok(Some(std::sync::Arc::new(r)))
}

/// `--reference` names one of the dataset's own splits: not beside a profile.
fn one_reference(args: &ScanArgs) -> Result<()> {
    if !args.against.is_empty() && args.data.reference.is_some() {
        bail!("--reference names a split of this dataset; with --against the reference is the saved profile (--current still picks one split)");
    }
    Ok(())
}

/// Applies the configuration's path ignores to a finished scan and adds its rules to
/// those the report lists; whether it fails at the configured level.
pub(super) fn settled(
    scan: &mut scan::Scan,
    s: &Settings,
    rules_run: &mut Vec<&'static dyn rules::Rule>,
) -> bool {
    s.config
        .apply_path_ignores(&mut scan.findings, &scan.spec.root);
    for r in &s.options.rules {
        if !rules_run.iter().any(|x| x.code() == r.code()) {
            rules_run.push(*r);
        }
    }
    scan.fails(s.fail_on.0)
}

/// Writes the manifest and the HTML page asked for, and renders the report: the exit
/// code and the text to print.
pub(super) fn render(
    args: &ScanArgs,
    scans: &[scan::Scan],
    mut rules_run: Vec<&'static dyn rules::Rule>,
    fails: bool,
) -> Result<(i32, String)> {
    if let Some(m) = &args.manifest {
        scans[0].loaded.manifest.write(m)?;
    }
    rules_run.sort_by_key(|r| rules::registry().iter().position(|x| x.code() == r.code()));
    let reports = report::Reports {
        scans,
        max_samples: args.max_samples,
        rules: &rules_run,
    };
    if let Some(h) = &args.html {
        let page = Format::HTML.render(&reports);
        dsaudit_core::output::write_bytes_atomic(h, page.as_bytes())?;
    }
    let text = args.data.format.render(&reports);
    Ok((if fails { 1 } else { 0 }, text))
}

/// What makes another command line for the check's stored results: the version and
/// build, the working directory, and the arguments (less those that change nothing
/// on stdout).
fn command_line() -> blake3::Hash {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut command = blake3::Hasher::new();
    command.update(env!("CARGO_PKG_VERSION").as_bytes());
    command.update(&dsaudit_core::cache::build_id());
    command.update(cwd.to_string_lossy().as_bytes());
    let silent = ["--timings", "--quiet", "-q"];
    for a in super::given_args()
        .iter()
        .skip(1)
        .filter(|a| !silent.iter().any(|s| a.as_os_str() == *s))
    {
        command.update(a.to_string_lossy().as_bytes());
        command.update(&[0]);
    }
    command.finalize()
}

/// A `--timings` line: the time since `since`.
fn lap(on: bool, what: &str, since: std::time::Instant) {
    if on {
        eprintln!("timing {what} {:.3} s", since.elapsed().as_secs_f64());
    }
}
