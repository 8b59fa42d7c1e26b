//! Command line: parses arguments, runs the pipeline, maps outcomes to exit codes
//! (0 clean, 1 findings at or above --fail-on, 2 usage or I/O error).

use crate::discover::{Hints, LayoutKind};
use crate::finding::Severity;
use crate::report::{self, Format};
use crate::rules;
use crate::scan::{self, Scan, ScanOptions};
use anyhow::{bail, Result};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "dsaudit",
    version,
    about = "Audit machine-learning datasets before you train on them."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan datasets (image folders, tables, .npy pairs) and report their problems.
    Scan(ScanArgs),
    /// Print just the statistics: per-channel mean/std to paste, image histograms, column summaries.
    Stats(StatsArgs),
    /// Hold out train-val from train and test-val from test: stratified by label, every
    /// duplicate cluster kept within one split.
    Split {
        #[command(flatten)]
        build: BuildArgs,
        #[command(flatten)]
        options: crate::build::split::Options,
    },
    /// Change one split's class counts: undersample, oversample (copies or SMOTE), match
    /// a class distribution, or write per-class loss weights.
    Rebalance {
        #[command(flatten)]
        build: BuildArgs,
        #[command(flatten)]
        options: crate::build::rebalance::Options,
    },
    /// A small stratified subset of one split, to overfit while debugging.
    Subset {
        #[command(flatten)]
        build: BuildArgs,
        #[command(flatten)]
        options: crate::build::subset::Options,
    },
    /// The dataset without unreadable, unlabeled, leaking and duplicated samples (and,
    /// optionally, flagged label issues), with a log of every change.
    Clean {
        #[command(flatten)]
        build: BuildArgs,
        #[command(flatten)]
        options: crate::build::clean::Options,
    },
    /// List the rules, or print docs/rules.md with --markdown.
    Rules {
        #[arg(long)]
        markdown: bool,
    },
}

/// How to read a dataset, where guessing is not wanted: shared by every command.
#[derive(clap::Args, Debug)]
pub struct ReadArgs {
    /// Column holding the label (tables and labels files).
    #[arg(long)]
    pub label: Option<String>,
    /// Column holding the split (tables and labels files).
    #[arg(long)]
    pub split: Option<String>,
    /// Layout, instead of guessing it.
    #[arg(long, value_enum)]
    pub layout: Option<LayoutKind>,
}

impl ReadArgs {
    fn hints(&self, keep_tables: bool) -> Hints {
        Hints {
            layout: self.layout,
            label: self.label.clone(),
            split: self.split.clone(),
            keep_tables,
        }
    }
}

/// What names the datasets and how to read them: shared by `scan` and `stats`.
#[derive(clap::Args, Debug)]
pub struct DatasetArgs {
    /// Dataset folders or table files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the output here (atomically) instead of to stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the wall time of each phase (load, duplicates, shift, rules) to stderr.
    #[arg(long)]
    pub timings: bool,
    /// Split the shift tests compare others with (default: train).
    #[arg(long, value_name = "SPLIT")]
    pub reference: Option<String>,
    /// The one split to compare with the reference (default: every other split).
    #[arg(long, value_name = "SPLIT")]
    pub current: Option<String>,
    /// Seed of every random choice (subsamples, folds, permutations).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// What every build command (split, rebalance, subset, clean) reads and writes.
#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// Dataset folder or table file.
    pub path: PathBuf,
    /// Output directory: new, empty, or a previous build with --overwrite. Never inside the dataset.
    #[arg(long = "out", short = 'o', value_name = "OUT")]
    pub out: PathBuf,
    /// Replace a previous dsaudit build in OUT.
    #[arg(long)]
    pub overwrite: bool,
    /// Also write the images under OUT/<split>/<class>/ as links or copies.
    #[arg(long, value_enum, value_name = "HOW")]
    pub materialize: Option<crate::build::images::Mode>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub read: ReadArgs,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the wall time of each phase to stderr.
    #[arg(long)]
    pub timings: bool,
}

#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub data: DatasetArgs,
    /// Write the manifest (one row per sample) to a .parquet or .csv file.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// Rule codes, prefixes or names to run (comma-separated; default all).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Rule codes, prefixes or names to skip (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Set a rule's threshold, e.g. class-imbalance.max-ratio=20 (repeatable).
    #[arg(long = "threshold", value_name = "RULE.KEY=VALUE")]
    pub thresholds: Vec<String>,
    /// Exit 1 when a finding has at least this severity: error, warning, info or never.
    #[arg(long, default_value = "error")]
    pub fail_on: String,
    /// Samples listed per finding in the text report.
    #[arg(long, default_value_t = 10)]
    pub max_samples: usize,
    #[command(flatten)]
    pub labels: LabelArgs,
}

/// How label errors (L002, L003) and outliers (O001) are looked for.
#[derive(clap::Args, Debug)]
pub struct LabelArgs {
    /// Folds of the cross-validation that gives out-of-sample probabilities.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(2..=100))]
    pub folds: u64,
    /// How confident learning picks the label issues.
    #[arg(long, value_enum, default_value = "prune-by-noise-rate")]
    pub label_method: crate::labels::confident::Method,
    /// Your out-of-sample predicted probabilities (.npy, .csv, .parquet): one row per
    /// manifest row, one column per class (named after it, or in sorted class order).
    #[arg(long, value_name = "FILE")]
    pub pred_probs: Option<PathBuf>,
    /// Your feature vectors (.npy, .csv, .parquet), one row per manifest row: the
    /// classifier and the outlier search read them instead of the compact features.
    #[arg(long, value_name = "FILE")]
    pub embeddings: Option<PathBuf>,
    /// Training rows per fold, at most (a seeded choice beyond; default: 20,000 or
    /// 30 per model parameter, whichever is more).
    #[arg(long, value_name = "N")]
    pub max_fit_rows: Option<usize>,
    /// Skip the label-error and outlier search.
    #[arg(long)]
    pub no_label_check: bool,
}

impl LabelArgs {
    fn options(&self, seed: u64) -> crate::labels::Options {
        crate::labels::Options {
            enabled: !self.no_label_check,
            folds: self.folds as usize,
            method: self.label_method,
            seed,
            pred_probs: self.pred_probs.clone(),
            embeddings: self.embeddings.clone(),
            max_fit: self.max_fit_rows.map(|n| n.max(1)),
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    pub data: DatasetArgs,
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line_chain(&e));
            2
        }
    }
}

fn one_line_chain(e: &anyhow::Error) -> String {
    let parts: Vec<String> = e
        .chain()
        .map(|c| crate::load::image::one_line(&c.to_string()))
        .collect();
    parts.join(": ")
}

pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Stats(args) => run_stats(args),
        Command::Split { build, options } => run_build(build, false, |s, seed| {
            crate::build::split::plan(s, &options, seed)
        }),
        Command::Rebalance { build, options } => run_build(build, false, |s, seed| {
            crate::build::rebalance::plan(s, &options, seed)
        }),
        Command::Subset { build, options } => run_build(build, false, |s, seed| {
            crate::build::subset::plan(s, &options, seed)
        }),
        Command::Clean { build, options } => {
            // Without a table of flagged samples, confident learning finds them.
            let find_labels =
                (options.drop_label_issues || options.relabel) && options.label_issues.is_none();
            run_build(build, find_labels, |s, seed| {
                crate::build::clean::plan(s, &options, seed)
            })
        }
        Command::Rules { markdown } => {
            let text = if markdown {
                crate::docs::rules_markdown()
            } else {
                crate::docs::rules_list()
            };
            print!("{text}");
            Ok(0)
        }
    }
}

fn parse_fail_on(s: &str) -> Result<Option<Severity>> {
    if s.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    match Severity::parse(s) {
        Some(sev) => Ok(Some(sev)),
        None => bail!("--fail-on '{s}': expected error, warning, info or never"),
    }
}

fn emit(output: Option<&PathBuf>, text: &str) -> Result<()> {
    match output {
        Some(path) => crate::output::write_bytes_atomic(path, text.as_bytes()),
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(()),
            }
        }
    }
}

/// Checks every output path against every input, then scans each input in turn.
fn scan_all(
    data: &DatasetArgs,
    extra_outputs: &[&PathBuf],
    rules: Vec<&'static dyn rules::Rule>,
    thresholds: rules::thresholds::Thresholds,
    stats_only: bool,
    labels: crate::labels::Options,
) -> Result<Vec<Scan>> {
    for p in &data.paths {
        for out in data.output.iter().chain(extra_outputs.iter().copied()) {
            crate::output::ensure_outside(out, p)?;
        }
    }
    let opts = ScanOptions {
        hints: data.read.hints(false),
        rules,
        thresholds,
        quiet: data.quiet,
        timings: data.timings,
        duplicates: !stats_only,
        shift_tests: !stats_only,
        shift: crate::shift::Options {
            reference: data.reference.clone(),
            current: data.current.clone(),
            seed: data.seed,
        },
        labels,
    };
    data.paths.iter().map(|p| scan::scan(p, &opts)).collect()
}

fn run_stats(StatsArgs { data: args }: StatsArgs) -> Result<i32> {
    let scans = scan_all(
        &args,
        &[],
        Vec::new(),
        Default::default(),
        true,
        Default::default(),
    )?;
    let text = match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "schema_version": report::json::SCHEMA_VERSION,
                "tool": { "name": "dsaudit", "version": env!("CARGO_PKG_VERSION") },
                "datasets": scans.iter().map(|s| serde_json::json!({ "path": s.spec.input.to_string_lossy(), "stats": report::stats::json(s) })).collect::<Vec<_>>(),
            });
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        Format::Text => scans
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
    };
    emit(args.output.as_ref(), &text)?;
    Ok(0)
}

fn run_scan(args: ScanArgs) -> Result<i32> {
    let fail_on = parse_fail_on(&args.fail_on)?;
    let selected = rules::select::select(&args.select, &args.ignore)?;
    let thresholds = rules::thresholds::Thresholds::parse(&args.thresholds)?;
    if args.manifest.is_some() && args.data.paths.len() > 1 {
        bail!(
            "--manifest takes one dataset path, got {}",
            args.data.paths.len()
        );
    }
    let manifest: Vec<&PathBuf> = args.manifest.iter().collect();
    let labels = args.labels.options(args.data.seed);
    let scans = scan_all(&args.data, &manifest, selected, thresholds, false, labels)?;
    if let Some(m) = &args.manifest {
        scans[0].loaded.manifest.write(m)?;
    }
    let text = match args.data.format {
        Format::Json => report::json::render(&scans),
        Format::Text => scans
            .iter()
            .map(|s| report::text::render(s, args.max_samples))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    emit(args.data.output.as_ref(), &text)?;
    Ok(if scans.iter().any(|s| s.fails(fail_on)) {
        1
    } else {
        0
    })
}

/// Checks OUT, scans the dataset (duplicates included: clusters stay together),
/// plans, writes, and prints what was built.
fn run_build(
    args: BuildArgs,
    find_labels: bool,
    plan: impl FnOnce(&crate::build::Samples, u64) -> Result<crate::build::Plan>,
) -> Result<i32> {
    // OUT is checked before the scan, so a wrong path fails at once.
    let staging = crate::build::outdir::Staging::prepare(&args.out, &args.path, args.overwrite)?;
    let opts = ScanOptions {
        // The build writes the rows again: the scan keeps the tables it reads.
        hints: args.read.hints(true),
        rules: Vec::new(),
        thresholds: Default::default(),
        quiet: args.quiet,
        timings: args.timings,
        duplicates: true,
        shift_tests: false,
        shift: Default::default(),
        labels: crate::labels::Options {
            enabled: find_labels,
            seed: args.seed,
            ..Default::default()
        },
    };
    let scan = scan::scan(&args.path, &opts)?;
    if let Some(why) = scan.labels.skipped.as_ref().filter(|_| find_labels) {
        bail!(
            "{}: cannot look for label issues: {why}",
            args.path.display()
        );
    }
    let start = std::time::Instant::now();
    let samples = crate::build::Samples::new(&scan.spec, &scan.loaded, &scan.dups);
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
    let settings = crate::build::write::Settings {
        materialize: args.materialize,
        seed: args.seed,
        argv: &argv,
        timings: args.timings,
    };
    let written = crate::build::write::write(&samples, &plan, staging, &settings)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.out.display()))?;
    print!(
        "{}",
        crate::build::write::summary(&plan, &samples, &written, &args.out, args.seed)
    );
    Ok(0)
}
