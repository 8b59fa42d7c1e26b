//! What a front end (the CLI, the Python package) asks of a scan, merged over the
//! dataset's configuration the one way every front end shares: `select` replaces the
//! file's, `ignore` adds to it, thresholds and `fail-on` win over it, layout hints
//! fill in what was not asked.

use crate::config::{Config, FailOn};
use crate::finding::Severity;
use crate::load::Hints;
use crate::rules::{self, thresholds::Thresholds, Rule};
use crate::scan::{self, Scan, ScanOptions};
use anyhow::Result;
use std::path::Path;

/// A scan as asked for; every field left at its default takes the configuration's
/// value, then the CLI's default.
#[derive(Default)]
pub struct Request {
    /// Rule codes, prefixes or names to run; empty: the configuration's, else all.
    pub select: Vec<String>,
    /// Rules to leave out, besides the configuration's.
    pub ignore: Vec<String>,
    /// Thresholds set over the configuration's.
    pub thresholds: Thresholds,
    pub fail_on: Option<FailOn>,
    /// `--layout`, `--label`, `--split`, `--allow-outside-paths`.
    pub hints: Hints,
    pub reference: Option<String>,
    pub current: Option<String>,
    pub seed: u64,
    pub labels: crate::labels::Options,
    pub quiet: bool,
    pub timings: bool,
    /// `dsaudit stats`: no rules, no duplicate search, no shift tests.
    pub stats_only: bool,
    /// A saved profile the shift tests compare the data with (`--against`).
    pub against: Option<std::sync::Arc<crate::partial::reference::Reference>>,
}

/// One dataset's configuration and the scan options merged from it.
pub struct Settings {
    pub config: Config,
    pub options: ScanOptions,
    pub fail_on: FailOn,
}

/// Merges `req` over `config`.
pub fn settings(config: Config, req: Request) -> Result<Settings> {
    let (rules, thresholds, fail_on, labels) = if req.stats_only {
        (
            Vec::new(),
            Thresholds::default(),
            FailOn(None),
            Default::default(),
        )
    } else {
        let select = if req.select.is_empty() {
            config.select.clone().unwrap_or_default()
        } else {
            req.select
        };
        let ignore: Vec<String> = config.ignore.iter().chain(&req.ignore).cloned().collect();
        let mut thresholds = config.thresholds.clone();
        for (code, key, v) in req.thresholds.overrides() {
            thresholds.set(code, key, v).map_err(anyhow::Error::msg)?;
        }
        let fail_on = req
            .fail_on
            .or(config.fail_on)
            .unwrap_or(FailOn(Some(Severity::Error)));
        (
            rules::select::select(&select, &ignore)?,
            thresholds,
            fail_on,
            req.labels,
        )
    };
    let hints = merged_hints(req.hints, &config);
    let options = ScanOptions {
        hints,
        rules,
        thresholds,
        quiet: req.quiet,
        timings: req.timings,
        duplicates: !req.stats_only,
        shift_tests: !req.stats_only,
        shift: crate::shift::Options {
            reference: req.reference.or(config.layout.reference.clone()),
            current: req.current.or(config.layout.current.clone()),
            seed: req.seed,
        },
        labels,
        refit: false,
        against: req.against,
    };
    Ok(Settings {
        config,
        options,
        fail_on,
    })
}

/// The layout hints asked for, the configuration's filling in the others.
pub fn merged_hints(asked: Hints, config: &Config) -> Hints {
    Hints {
        layout: asked.layout.or(config.layout.kind),
        label: asked.label.or(config.layout.label.clone()),
        split: asked.split.or(config.layout.split.clone()),
        ..asked
    }
}

/// A scan of one dataset and what decides its exit code.
pub struct Audit {
    pub scan: Scan,
    /// The rules that ran, in code order.
    pub rules: Vec<&'static dyn Rule>,
    pub fail_on: FailOn,
}

impl Audit {
    /// A scan with the rules that ran, in code order, and its `fail-on`.
    fn of(scan: Scan, s: &Settings) -> Audit {
        let mut rules = s.options.rules.clone();
        rules.sort_by_key(|r| rules::registry().iter().position(|x| x.code() == r.code()));
        Audit {
            scan,
            rules,
            fail_on: s.fail_on,
        }
    }

    /// 1 when a finding is at or above `fail-on`, else 0 (as `dsaudit scan` exits).
    pub fn exit_code(&self) -> i32 {
        i32::from(self.scan.fails(self.fail_on.0))
    }
}

/// Scans a table already in memory, named `name`, as `dsaudit scan --isolated` scans
/// a table file (no configuration file: the table has no folder to find one from).
pub fn audit_frame(name: &str, df: polars::prelude::DataFrame, req: Request) -> Result<Audit> {
    let s = settings(crate::config::Config::default(), req)?;
    let start = std::time::Instant::now();
    let spec = crate::load::open_frame(name, df, s.options.hints.clone());
    let scan = scan::scan_discovered(Path::new(name), spec, &s.options, None, start)?;
    Ok(Audit::of(scan, &s))
}

/// Scans `path` as `dsaudit scan PATH` does: its `dsaudit.toml` (or `pyproject.toml`)
/// found and merged under `req`, unless `isolated`; per-path ignores applied.
pub fn audit(path: &Path, req: Request, isolated: bool) -> Result<Audit> {
    let config = crate::config::load(path, None, isolated)?;
    let s = settings(config, req)?;
    let mut scan = scan::scan(path, &s.options)?;
    s.config
        .apply_path_ignores(&mut scan.findings, &scan.spec.root);
    Ok(Audit::of(scan, &s))
}

/// Merges partial scans (`crate::partial`) and scans the whole as `dsaudit merge`
/// does: under the configuration the parts read, if any, merged under `req`.
pub fn audit_parts(
    parts: Vec<(std::path::PathBuf, crate::partial::Dsp)>,
    req: Request,
) -> Result<Audit> {
    let merged = crate::partial::merge(parts)?;
    let config = merged.configuration()?;
    let s = settings(config, req)?;
    let start = std::time::Instant::now();
    let input = merged.spec.input.clone();
    let mut scan = scan::scan_loaded(&input, merged.spec, merged.loaded, &s.options, start)?;
    s.config
        .apply_path_ignores(&mut scan.findings, &scan.spec.root);
    Ok(Audit::of(scan, &s))
}

/// Merges the parts of a table (`dsaudit.spark.scan`'s, one per partition: the bytes
/// `partial::table::to_bytes` wrote, named by `shown` in errors, in any order) and
/// scans the whole as `audit_frame` scans a table in memory.
pub fn audit_table_parts<B: AsRef<[u8]> + Sync>(
    parts: Vec<(String, B)>,
    req: Request,
) -> Result<Audit> {
    let (name, decoded) = crate::partial::table::decode_all(parts)?;
    let s = settings(crate::config::Config::default(), req)?;
    let start = std::time::Instant::now();
    let (spec, loaded) = crate::load::table_parts::finish(&name, &s.options.hints, decoded)?;
    let scan = scan::scan_loaded(Path::new(&name), spec, loaded, &s.options, start)?;
    Ok(Audit::of(scan, &s))
}
