//! The scan pipeline: discover → load → check, for one dataset path.

use crate::duplicates;
use crate::load::{self, Loaded};
use crate::load::{DatasetSpec, Hints};
use crate::rules::{self, Context, Rule};
use anyhow::Result;
use polars::prelude::Column;
use std::path::Path;
use std::time::Instant;

pub struct ScanOptions {
    pub hints: Hints,
    pub rules: Vec<&'static dyn Rule>,
    pub thresholds: rules::thresholds::Thresholds,
    pub quiet: bool,
    /// Print each phase's wall time to stderr (for benchmarks).
    pub timings: bool,
    /// Search for duplicates (`dsaudit stats` does not print them; the build
    /// commands need them to keep clusters together).
    pub duplicates: bool,
    /// Run the shift tests (only `dsaudit scan` reports them).
    pub shift_tests: bool,
    /// Which splits the shift tests compare, and their seed.
    pub shift: crate::shift::Options,
    /// Label-error and outlier search (only `dsaudit scan` runs it).
    pub labels: crate::labels::Options,
    /// `dsaudit check --refit`: fit every model anew, whatever the cache holds.
    pub refit: bool,
    /// `--against`: the shift tests compare every split with this saved profile
    /// instead of with one of the dataset's own splits.
    pub against: Option<std::sync::Arc<crate::partial::reference::Reference>>,
}

impl ScanOptions {
    /// What the commands that build on a dataset (split, rebalance, subset, clean,
    /// baseline) need from the scan: the samples, their tables kept, the duplicate
    /// clusters; no rules, no shift tests; the label search only when asked.
    /// `thresholds`: the configuration's, so that a build finds the duplicates (and
    /// label issues) the scan reports.
    pub fn for_building(
        hints: Hints,
        thresholds: rules::thresholds::Thresholds,
        quiet: bool,
        timings: bool,
        find_labels: bool,
        seed: u64,
    ) -> ScanOptions {
        ScanOptions {
            hints: Hints {
                skip_column_stats: true,
                ..hints
            },
            rules: Vec::new(),
            thresholds,
            quiet,
            timings,
            duplicates: true,
            shift_tests: false,
            shift: Default::default(),
            labels: crate::labels::Options {
                enabled: find_labels,
                seed,
                ..Default::default()
            },
            refit: false,
            against: None,
        }
    }
}

pub use crate::scanned::Scan;
pub use crate::tally::{tally, ClassCounts, Tally};

pub fn scan(path: &Path, opts: &ScanOptions) -> Result<Scan> {
    let start = Instant::now();
    let spec = load::open(path, opts.hints.clone())?;
    if opts.timings {
        eprintln!(
            "timing {:<10} {:8.3} s",
            "discover",
            start.elapsed().as_secs_f64()
        );
    }
    scan_discovered(path, spec, opts, None, start)
}

/// The scan after discovery; `files` is `dsaudit check`'s per-file cache.
pub fn scan_discovered(
    path: &Path,
    spec: DatasetSpec,
    opts: &ScanOptions,
    files: Option<&crate::cache::Files>,
    start: Instant,
) -> Result<Scan> {
    let mut timings = Timings::new(opts.timings);
    let loaded = load::load(
        &spec,
        opts.quiet,
        files.map(|f| f as &dyn crate::load::Recall),
    )?;
    timings.lap("load");
    analyse(path, spec, loaded, opts, files, timings, start)
}

/// The scan of samples already described: a merge of partial scans (`crate::partial`)
/// hands them over whole.
pub fn scan_loaded(
    path: &Path,
    spec: DatasetSpec,
    loaded: Loaded,
    opts: &ScanOptions,
    start: Instant,
) -> Result<Scan> {
    let timings = Timings::new(opts.timings);
    analyse(path, spec, loaded, opts, None, timings, start)
}

/// Everything after the load: the dataset-wide stages, then the rules.
fn analyse(
    path: &Path,
    spec: DatasetSpec,
    mut loaded: Loaded,
    opts: &ScanOptions,
    files: Option<&crate::cache::Files>,
    mut timings: Timings,
    start: Instant,
) -> Result<Scan> {
    // The per-file records are final: write them while the dataset-wide stages run.
    let (dups, shift, labels, usable) = std::thread::scope(|scope| {
        if let Some(f) = files {
            let spec = &spec;
            scope.spawn(move || f.save_records(spec));
        }
        stages(path, &mut loaded, opts, files, &mut timings)
    })?;
    let findings = rules::run(
        &opts.rules,
        &Context {
            spec: &spec,
            loaded: &loaded,
            thresholds: &opts.thresholds,
            usable,
            dups: &dups,
            shift: &shift,
            labels: &labels,
        },
    );
    timings.lap("rules");
    let m = &loaded.manifest;
    let tally = match &loaded.tally {
        Some(every_row) => every_row.clone(),
        None => tally(m.strs("split").iter().zip(m.strs("label").iter())),
    };
    Ok(Scan {
        tally,
        spec,
        loaded,
        findings,
        dups,
        shift,
        labels,
        elapsed: start.elapsed(),
    })
}

/// The dataset-wide stages: duplicates, shift, labels (and the manifest columns
/// they add), each building on what an earlier check kept when `files` is given.
fn stages(
    path: &Path,
    loaded: &mut Loaded,
    opts: &ScanOptions,
    files: Option<&crate::cache::Files>,
    timings: &mut Timings,
) -> Result<(
    duplicates::Duplicates,
    crate::shift::Shift,
    crate::labels::Labels,
    Tally,
)> {
    // What an earlier check kept of the dataset-wide stages (check only).
    let ids = files.and_then(|_| crate::incremental::identities(&loaded.manifest));
    let state = files.and_then(|f| f.state());
    // Each stage gets its own part of the state.
    use crate::identity::Prior;
    let ids = ids.as_deref();
    let mut dups = find_duplicates(loaded, opts, state.and_then(|s| s.near.as_ref()))?;
    timings.lap("duplicates");
    let usable = rules::usable_counts(loaded);
    if let (true, Some(reference)) = (opts.shift_tests, &opts.against) {
        let note = reference.note(loaded);
        loaded.guesses.push(note);
    }
    let view: &Loaded = loaded;
    let shift_stage = || -> Result<crate::shift::Shift> {
        if !opts.shift_tests {
            Ok(crate::shift::Shift::skipped(
                "not measured by this command",
                opts.shift.seed,
            ))
        } else if let Some(reference) = &opts.against {
            against(path, view, reference, opts)
        } else {
            crate::shift::find(
                view,
                &usable,
                &shift_params(&opts.thresholds),
                &opts.shift,
                Prior {
                    state: state.map(|s| s.shift.as_slice()),
                    ids,
                    refit: opts.refit,
                },
            )
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
    };
    let labels_stage = || {
        crate::labels::find(
            view,
            &opts.labels,
            outlier_params(&opts.thresholds),
            Prior {
                state: state.and_then(|s| s.labels.as_ref()),
                ids,
                refit: opts.refit,
            },
        )
    };
    // The shift tests and the label search read the samples and nothing of each
    // other: side by side, each fills the cores the other leaves idle (a fold fitted
    // alone, a step on one thread). The duplicate search goes first: on a large
    // table its tree beside the label stage's matrices would raise the peak memory.
    let ((shift, shift_took), (mut labels, labels_took)) =
        rayon::join(|| timed(shift_stage), || timed(labels_stage));
    let mut shift = shift?;
    timings.took("shift", shift_took);
    if let Some(f) = files {
        keep_state(f, opts, &mut dups, &mut shift, &mut labels);
    }
    add_label_columns(loaded, &labels)?;
    timings.took("labels", labels_took);
    if opts.timings {
        print_timings(&shift, &labels);
    }
    Ok((dups, shift, labels, usable))
}

/// The shift tests of every split of `loaded` against a saved reference profile.
fn against(
    path: &Path,
    loaded: &Loaded,
    reference: &crate::partial::reference::Reference,
    opts: &ScanOptions,
) -> Result<crate::shift::Shift> {
    use crate::partial::reference::REFERENCE;
    let both = reference.beside(loaded)?;
    let mut shift = crate::shift::find(
        &both,
        &rules::usable_counts(&both),
        &shift_params(&opts.thresholds),
        &crate::shift::Options {
            reference: Some(REFERENCE.to_string()),
            current: opts.shift.current.clone(),
            seed: opts.shift.seed,
        },
        crate::identity::Prior {
            state: None,
            ids: None,
            refit: true,
        },
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    shift.against = Some(
        reference
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect(),
    );
    Ok(shift)
}

/// The duplicate clusters (none searched when the command does not need them),
/// written to the manifest's `dup_cluster` column.
fn find_duplicates(
    loaded: &mut Loaded,
    opts: &ScanOptions,
    prior: Option<&duplicates::images::NearState>,
) -> Result<duplicates::Duplicates> {
    let params = duplicate_params(&opts.thresholds);
    let dups = if !opts.duplicates {
        duplicates::Duplicates::not_searched(loaded.manifest.len(), params)
    } else {
        duplicates::find(loaded, params, prior)
    };
    loaded
        .manifest
        .df
        .with_column(Column::new("dup_cluster".into(), dups.cluster_of.clone()))?;
    if opts.timings {
        for (what, t) in &dups.search.timings {
            eprintln!("timing duplicates: {what} {:.3} s", t.as_secs_f64());
        }
        if dups.search.candidates > 0 {
            eprintln!(
                "timing duplicates: {} candidate pairs, {} confirmed",
                dups.search.candidates, dups.search.confirmed
            );
        }
    }
    Ok(dups)
}

/// What the stages keep goes to the cache alone: moved there, not copied. Stages
/// that did not run keep what they had, for a later full check.
fn keep_state(
    f: &crate::cache::Files,
    opts: &ScanOptions,
    dups: &mut duplicates::Duplicates,
    shift: &mut crate::shift::Shift,
    labels: &mut crate::labels::Labels,
) {
    let old = f.state();
    let kept = |keep: bool| old.filter(|_| keep);
    f.set_state(crate::incremental::DatasetState {
        near: dups
            .state
            .take()
            .or_else(|| kept(!opts.duplicates).and_then(|o| o.near.clone())),
        labels: labels
            .fit
            .take()
            .or_else(|| kept(!opts.labels.enabled).and_then(|o| o.labels.clone())),
        // Comparisons with a saved profile are not the dataset's own: a later check
        // without it must not reuse them.
        shift: if opts.shift_tests && opts.against.is_none() {
            shift
                .comparisons
                .iter_mut()
                .filter_map(|c| c.fit.take())
                .collect()
        } else {
            kept(true).map(|o| o.shift.clone()).unwrap_or_default()
        },
    });
}

/// The label and shift stages' own steps, for `--timings`.
fn print_timings(shift: &crate::shift::Shift, labels: &crate::labels::Labels) {
    for (what, t) in &labels.timings {
        eprintln!("timing labels: {what} {:.3} s", t.as_secs_f64());
    }
    for c in &shift.comparisons {
        for (what, t) in &c.timings {
            eprintln!(
                "timing shift {} vs {}: {what} {:.3} s",
                c.current,
                c.reference,
                t.as_secs_f64()
            );
        }
    }
}

/// The near-copy search's parameters, set through near-duplicates (D002).
pub fn duplicate_params(t: &rules::thresholds::Thresholds) -> duplicates::Params {
    let rule = &rules::duplicates::near_duplicates::NearDuplicates;
    duplicates::Params::read(&|key| t.get(rule, key))
}

/// The outlier search's parameters, set through outliers (O001).
pub fn outlier_params(t: &rules::thresholds::Thresholds) -> crate::labels::outliers::Params {
    let rule = &rules::outliers::outliers::Outliers;
    crate::labels::outliers::Params::read(&|key| t.get(rule, key))
}

/// `label_quality`, `suggested_label`, `is_label_issue` and `outlier_score`: null
/// where the sample was not scored.
fn add_label_columns(loaded: &mut Loaded, labels: &crate::labels::Labels) -> Result<()> {
    let suggested: Vec<Option<&str>> = labels
        .suggested
        .iter()
        .map(|&c| labels.class_name(c))
        .collect();
    let df = &mut loaded.manifest.df;
    df.with_column(Column::new("label_quality".into(), labels.quality.clone()))?;
    df.with_column(Column::new("suggested_label".into(), suggested))?;
    df.with_column(Column::new(
        "is_label_issue".into(),
        labels.is_issue.clone(),
    ))?;
    df.with_column(Column::new(
        "outlier_score".into(),
        labels.outlier_score.clone(),
    ))?;
    Ok(())
}

/// The shift tests' levels, set through feature-drift (S001) and covariate-shift (S002).
pub fn shift_params(t: &rules::thresholds::Thresholds) -> crate::shift::Params {
    let (drift, cov) = (
        &rules::shift::feature_drift::FeatureDrift,
        &rules::shift::covariate_shift::CovariateShift,
    );
    crate::shift::Params::read(&|key| t.get(drift, key), &|key| t.get(cov, key))
}

/// Wall time per phase on stderr, for `--timings`; never part of a report, which
/// must stay byte-identical from run to run.
struct Timings {
    on: bool,
    last: Instant,
}

impl Timings {
    fn new(on: bool) -> Timings {
        Timings {
            on,
            last: Instant::now(),
        }
    }

    fn lap(&mut self, phase: &str) {
        self.took(phase, self.last.elapsed());
    }

    /// A phase timed on its own (the shift and label stages run side by side, so
    /// each gives its own time, not the time since the last line).
    fn took(&mut self, phase: &str, took: std::time::Duration) {
        if self.on {
            eprintln!(
                "timing {phase:<10} {:8.3} s{}",
                took.as_secs_f64(),
                peak_memory().map_or(String::new(), |m| format!("  peak {m} MiB so far"))
            );
        }
        self.last = Instant::now();
    }
}

/// `f`'s value and how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, std::time::Duration) {
    let start = Instant::now();
    (f(), start.elapsed())
}

/// The process's peak resident memory so far (Linux's VmHWM), so that `--timings`
/// shows which stage raised it; None where /proc does not say.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
