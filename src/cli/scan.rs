//! `scan`, `check` and `stats`: the configuration merged under the flags, the check's
//! cache protocol, the reports.

use super::args::{DatasetArgs, ScanArgs, StatsArgs};
use super::{emit, parse_fail_on};
use anyhow::{bail, Result};
use dsaudit_core::choice::Choice;
use dsaudit_core::config::{Config, FailOn};
use dsaudit_core::finding::Severity;
use dsaudit_core::report::{self, Format};
use dsaudit_core::rules;
use dsaudit_core::scan::{self, ScanOptions};
use std::path::PathBuf;

/// What one dataset is scanned with: its configuration under the flags.
struct Settings {
    config: Config,
    options: ScanOptions,
    fail_on: FailOn,
}

/// Merges the flags over the dataset's configuration: --select replaces the file's
/// select, --ignore adds to its ignore, --threshold and --fail-on win over the file.
fn settings(
    data: &DatasetArgs,
    scan: Option<&ScanArgs>,
    path: &std::path::Path,
    stats_only: bool,
) -> Result<Settings> {
    let config = data.read.config(path)?;
    let (rules, thresholds, fail_on, labels) = match scan {
        None => (
            Vec::new(),
            Default::default(),
            FailOn(None),
            Default::default(),
        ),
        Some(args) => {
            let select = if args.select.is_empty() {
                config.select.clone().unwrap_or_default()
            } else {
                args.select.clone()
            };
            let ignore: Vec<String> = config.ignore.iter().chain(&args.ignore).cloned().collect();
            let mut thresholds = config.thresholds.clone();
            for (code, key, v) in
                rules::thresholds::Thresholds::parse(&args.thresholds)?.overrides()
            {
                thresholds.set(code, key, v).map_err(anyhow::Error::msg)?;
            }
            let fail_on = match &args.fail_on {
                Some(s) => parse_fail_on(s)?,
                None => config.fail_on.unwrap_or(FailOn(Some(Severity::Error))),
            };
            (
                rules::select::select(&select, &ignore)?,
                thresholds,
                fail_on,
                args.labels.options(data.seed)?,
            )
        }
    };
    let options = ScanOptions {
        hints: data.read.hints(&config, false),
        rules,
        thresholds,
        quiet: data.quiet,
        timings: data.timings,
        duplicates: !stats_only,
        shift_tests: !stats_only,
        shift: dsaudit_core::shift::Options {
            reference: data.reference.clone().or(config.layout.reference.clone()),
            current: data.current.clone().or(config.layout.current.clone()),
            seed: data.seed,
        },
        labels,
        refit: false,
    };
    Ok(Settings {
        config,
        options,
        fail_on,
    })
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
    let mut prepared = Vec::new();
    for p in &args.data.paths {
        let mut s = settings(&args.data, Some(&args), p, false)?;
        s.options.refit = refit;
        let start = std::time::Instant::now();
        let spec = dsaudit_core::discover::discover(p, s.options.hints.clone())?;
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
        Some(dir) => open_cache(dir, &prepared[0].1.config, &datasets)?,
        None => None,
    };
    // An unchanged re-check prints what the last one printed. The HTML report and the
    // manifest are files the user asked for anew, so they always run the scan.
    let reusable = cache
        .as_ref()
        .filter(|_| args.html.is_none() && args.manifest.is_none());
    let mut key = None;
    let mut files: Vec<Option<dsaudit_core::cache::Files>> =
        prepared.iter().map(|_| None).collect();
    // Each input's size and time, taken once for the fingerprint and used again after.
    let mut stamps: Vec<dsaudit_core::cache::Stamps> =
        prepared.iter().map(|_| Default::default()).collect();
    if let Some(c) = reusable {
        let start = std::time::Instant::now();
        let cwd = std::env::current_dir().unwrap_or_default();
        let mut command = blake3::Hasher::new();
        command.update(env!("CARGO_PKG_VERSION").as_bytes());
        command.update(&dsaudit_core::cache::build_id());
        command.update(cwd.to_string_lossy().as_bytes());
        // Flags that change nothing on stdout do not make another command.
        let silent = ["--timings", "--quiet", "-q"];
        for a in std::env::args_os()
            .skip(1)
            .filter(|a| !silent.iter().any(|s| a == s))
        {
            command.update(a.to_string_lossy().as_bytes());
            command.update(&[0]);
        }
        let command = command.finalize();
        let settings_of = |h: &mut blake3::Hasher| {
            h.update(command.as_bytes());
            for (_, s, _, _) in &prepared {
                h.update(s.config.render(&s.options.rules, s.fail_on).as_bytes());
            }
        };
        let mut inputs = blake3::Hasher::new();
        settings_of(&mut inputs);
        let stored = c.result(command.as_bytes());
        // With nothing stored for this command line there is nothing to compare: the
        // fingerprint is then taken after the scan, from the sizes and times its load
        // took anyway, so that a cold check costs what a scan costs.
        let mut fingerprint = None;
        if stored.is_some() {
            for (i, (_, _, spec, _)) in prepared.iter().enumerate() {
                stamps[i] = dsaudit_core::cache::fingerprint_inputs(&mut inputs, spec);
            }
            fingerprint = Some(*inputs.clone().finalize().as_bytes());
            lap(
                args.data.timings,
                "cache: fingerprint of names, sizes, times",
                start,
            );
        }
        let mut hit = stored
            .clone()
            .filter(|r| Some(r.fingerprint) == fingerprint);
        let mut settings = blake3::Hasher::new();
        settings_of(&mut settings);
        let settings = settings.finalize();
        // Times moved: compare contents (unchanged files' hashes come from the cache).
        // With nothing stored there is nothing to compare, and the contents are
        // fingerprinted after the scan, from what it read anyway.
        if let (None, Some(stored)) = (&hit, stored) {
            let mut contents = blake3::Hasher::new();
            contents.update(settings.as_bytes());
            for (i, (_, _, spec, _)) in prepared.iter().enumerate() {
                let f = c.files(&spec.root, std::mem::take(&mut stamps[i]));
                dsaudit_core::cache::content_fingerprint(&mut contents, spec, &f);
                files[i] = Some(f);
            }
            let content: [u8; 32] = *contents.finalize().as_bytes();
            hit = Some(stored).filter(|r| r.content == content);
            lap(
                args.data.timings,
                "cache: records read, contents compared",
                start,
            );
            if let Some(h) = &hit {
                c.store_result(
                    command.as_bytes(),
                    &dsaudit_core::cache::StoredResult {
                        fingerprint: fingerprint.expect("taken when a result is stored"),
                        ..h.clone()
                    },
                );
            }
        }
        if let Some(hit) = hit {
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
        let mut contents = blake3::Hasher::new();
        contents.update(settings.as_bytes());
        key = Some((command, fingerprint, inputs, contents));
    }
    let mut scans = Vec::new();
    let mut fails = false;
    let mut rules_run: Vec<&'static dyn rules::Rule> = Vec::new();
    // Each dataset's cache records; their state files are written while the report is
    // made.
    let mut writing = Vec::new();
    for (((p, s, spec, start), known), stamps) in prepared.into_iter().zip(files).zip(stamps) {
        let files = known.or_else(|| cache.as_ref().map(|c| c.files(&spec.root, stamps)));
        let mut scan = scan::scan_discovered(p, spec, &s.options, files.as_ref(), start)?;
        if let Some(f) = files {
            // The records were written, and the inputs' identities taken, while the
            // stages ran.
            match (&mut key, f.run_ids()) {
                (Some((_, fingerprint, inputs, contents)), Some(ids)) => {
                    let names = fingerprint.is_none().then_some(inputs);
                    dsaudit_core::cache::run_fingerprints(contents, names, &scan.spec, ids);
                }
                // Without them no fingerprint would be whole: store no result.
                (key, None) => *key = None,
                (None, Some(_)) => {}
            }
            if args.data.timings {
                let (same, rehashed, read) = f.counts();
                eprintln!(
                    "cache: {same} files unchanged, {rehashed} unchanged by content, {read} read"
                );
            }
            writing.push(f);
        }
        s.config
            .apply_path_ignores(&mut scan.findings, &scan.spec.root);
        fails |= scan.fails(s.fail_on.0);
        for r in &s.options.rules {
            if !rules_run.iter().any(|x| x.code() == r.code()) {
                rules_run.push(*r);
            }
        }
        scans.push(scan);
    }
    if let Some(m) = &args.manifest {
        scans[0].loaded.manifest.write(m)?;
    }
    rules_run.sort_by_key(|r| rules::registry().iter().position(|x| x.code() == r.code()));
    let reports = report::Reports {
        scans: &scans,
        max_samples: args.max_samples,
        rules: &rules_run,
    };
    if let Some(h) = &args.html {
        let page = Format::HTML.render(&reports);
        dsaudit_core::output::write_bytes_atomic(h, page.as_bytes())?;
    }
    let text = args.data.format.render(&reports);
    let exit = if fails { 1 } else { 0 };
    // The state is whole on disk before the result that builds on it is stored.
    writing
        .into_iter()
        .for_each(dsaudit_core::cache::Files::finish);
    if let (Some(c), Some((command, fingerprint, inputs, contents))) = (&cache, key) {
        let content = *contents.finalize().as_bytes();
        let fingerprint = fingerprint.unwrap_or_else(|| *inputs.finalize().as_bytes());
        c.store_result(
            command.as_bytes(),
            &dsaudit_core::cache::StoredResult {
                fingerprint,
                content,
                exit,
                output: text.clone(),
            },
        );
    }
    emit(args.data.output.as_ref(), &text)?;
    Ok(exit)
}

/// A `--timings` line: the time since `since`.
fn lap(on: bool, what: &str, since: std::time::Instant) {
    if on {
        eprintln!("timing {what} {:.3} s", since.elapsed().as_secs_f64());
    }
}

/// The check's cache directory: --cache-dir, else the configuration's (an error when
/// it lies inside a dataset: dsaudit writes nothing there); else `.dsaudit_cache` in
/// the repository above the datasets (the nearest folder above the first that holds
/// `.git`), else `dsaudit/` in the user's cache directory ($XDG_CACHE_HOME, else
/// ~/.cache). None, with a warning, when there is nowhere to put it.
fn open_cache(
    flag: Option<PathBuf>,
    config: &Config,
    datasets: &[&PathBuf],
) -> Result<Option<dsaudit_core::cache::Cache>> {
    if flag.is_none() && config.cache_enabled == Some(false) {
        return Ok(None);
    }
    let roots: Vec<PathBuf> = datasets
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .filter(|p| p.is_dir())
        .collect();
    let inside = |dir: &std::path::Path| roots.iter().find(|r| resolved(dir).starts_with(r));
    if let Some(dir) = flag.or(config.cache_dir.clone()) {
        if let Some(root) = inside(&dir) {
            bail!(
                "{}: the cache directory is inside the dataset {}; dsaudit writes nothing inside a dataset: choose another --cache-dir (or [cache] dir)",
                dir.display(),
                root.display()
            );
        }
        return Ok(dsaudit_core::cache::Cache::open(&dir));
    }
    let first = datasets.first().and_then(|p| std::fs::canonicalize(p).ok());
    let repo = first
        .iter()
        .flat_map(|p| p.ancestors().skip(1))
        .find(|a| a.join(".git").exists() && inside(a).is_none())
        .map(|a| a.join(dsaudit_core::cache::DEFAULT_DIR));
    let user = || {
        std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|c| c.join("dsaudit"))
            .filter(|d| inside(d).is_none())
    };
    match repo.or_else(user) {
        Some(dir) => Ok(dsaudit_core::cache::Cache::open(&dir)),
        None => {
            eprintln!("warning: no repository above the dataset and no user cache directory ($XDG_CACHE_HOME, $HOME): checking without a cache (--cache-dir DIR to keep one)");
            Ok(None)
        }
    }
}

/// `p` made absolute with its symbolic links resolved, as far as it exists (a cache
/// directory may not exist yet).
fn resolved(p: &std::path::Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut missing = Vec::new();
    let mut at = abs.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(at) {
            return missing
                .iter()
                .rev()
                .fold(real, |acc: PathBuf, part| acc.join(part));
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_os_string());
                at = parent;
            }
            _ => return abs,
        }
    }
}
