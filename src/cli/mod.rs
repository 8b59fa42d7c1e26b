//! Command line: parses arguments, runs the pipeline, maps outcomes to exit codes
//! (0 clean, 1 findings at or above --fail-on, 2 usage or I/O error).

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};
use dsaudit_core::choice::Choice;
use dsaudit_core::config::{Config, FailOn};
use dsaudit_core::discover::{Hints, LayoutKind};
use dsaudit_core::finding::Severity;
use dsaudit_core::report::{self, Format};
use dsaudit_core::rules;
use dsaudit_core::scan::{self, ScanOptions};

#[cfg(feature = "baseline")]
mod baseline;

/// A flag's value parser from a core choice table: its names, with their help.
pub fn choice<T: Choice>() -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(
        T::ALL
            .iter()
            .map(|(_, name, help)| PossibleValue::new(*name).help(*help)),
    )
    .map(|s| T::parse(&s).expect("clap checked the name"))
}

/// The build's label networks: the baseline's CNN and MLP, when it has them.
pub fn networks() -> Option<&'static dyn dsaudit_core::labels::network::Networks> {
    #[cfg(feature = "baseline")]
    return Some(&dsaudit_baseline::label_network::LABEL_NETWORKS);
    #[cfg(not(feature = "baseline"))]
    None
}

/// `dsaudit baseline`'s arguments in a build without it: taken as they come, so
/// that the command says what is missing rather than which flag it does not know.
#[cfg(not(feature = "baseline"))]
#[derive(clap::Args, Debug)]
pub struct MissingBaseline {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}
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
    /// The pre-commit entry point: scan with the incremental cache, exit 1 on findings
    /// at or above fail-on.
    Check(CheckArgs),
    /// Print the effective configuration for a dataset (file found, every rule and
    /// threshold in force).
    Config {
        /// Dataset the configuration is looked up from (walking up its folders).
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Read this configuration file instead of looking for one.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Ignore every configuration file.
        #[arg(long)]
        isolated: bool,
    },
    /// Print just the statistics: per-channel mean/std to paste, image histograms, column summaries.
    Stats(StatsArgs),
    /// Hold out train-val from train and test-val from test: stratified by label, every
    /// duplicate cluster kept within one split.
    Split {
        #[command(flatten)]
        build: BuildArgs,
        #[command(flatten)]
        options: dsaudit_construct::split::Options,
    },
    /// Change one split's class counts: undersample, oversample (copies or SMOTE), match
    /// a class distribution, or write per-class loss weights.
    Rebalance {
        #[command(flatten)]
        build: BuildArgs,
        #[command(flatten)]
        options: dsaudit_construct::rebalance::Options,
    },
    /// A small stratified subset of one split, to overfit while debugging.
    Subset {
        #[command(flatten)]
        build: BuildArgs,
        #[command(flatten)]
        options: dsaudit_construct::subset::Options,
    },
    /// The dataset without unreadable, unlabeled, leaking and duplicated samples (and,
    /// optionally, flagged label issues), with a log of every change.
    Clean {
        #[command(flatten)]
        build: BuildArgs,
        #[command(flatten)]
        options: dsaudit_construct::clean::Options,
    },
    /// Train a small standard network (CNN for images, MLP for tables): overfit one
    /// batch and read its loss curve, then train with early stopping and take the error
    /// apart into bias, variance, distribution shift and validation overfitting.
    #[cfg(feature = "baseline")]
    Baseline(baseline::Args),
    /// Train a small standard network: not in this build (built without the
    /// `baseline` feature).
    #[cfg(not(feature = "baseline"))]
    #[command(disable_help_flag = true)]
    Baseline(MissingBaseline),
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
    #[arg(long, value_parser = choice::<LayoutKind>())]
    pub layout: Option<LayoutKind>,
    /// Read this configuration file instead of the nearest dsaudit.toml or
    /// pyproject.toml [tool.dsaudit] above the dataset.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore every configuration file.
    #[arg(long)]
    pub isolated: bool,
}

impl ReadArgs {
    /// The configuration for one dataset path.
    pub(crate) fn config(&self, path: &std::path::Path) -> Result<Config> {
        dsaudit_core::config::load(path, self.config.as_deref(), self.isolated)
    }

    /// Flags first, then the configuration's layout hints.
    pub(crate) fn hints(&self, config: &Config, keep_tables: bool) -> Hints {
        Hints {
            layout: self.layout.or(config.layout.kind),
            label: self.label.clone().or(config.layout.label.clone()),
            split: self.split.clone().or(config.layout.split.clone()),
            keep_tables,
            skip_column_stats: false,
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
    #[arg(long, value_parser = choice::<Format>(), default_value = "text")]
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
    pub materialize: Option<dsaudit_construct::images::Mode>,
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
    /// Exit 1 when a finding has at least this severity: error, warning, info or never
    /// (default: the configuration's fail-on, else error).
    #[arg(long)]
    pub fail_on: Option<String>,
    /// Also write a self-contained HTML report (charts, thumbnails) to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
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
    #[arg(long, value_parser = choice::<dsaudit_core::labels::confident::Method>(), default_value = "prune-by-noise-rate")]
    pub label_method: dsaudit_core::labels::confident::Method,
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
    /// What gives the out-of-sample probabilities: `linear` (logistic regression on
    /// compact features, seconds), `cnn` (the baseline's CNN per fold on the 32×32
    /// grey images; images only), or `auto` (the CNN for 1,000–20,000 images when a
    /// GPU adapter is present, else linear).
    #[arg(long, value_parser = choice::<dsaudit_core::labels::Model>(), default_value = "auto")]
    pub label_model: dsaudit_core::labels::Model,
    /// Skip the label-error and outlier search.
    #[arg(long)]
    pub no_label_check: bool,
}

impl LabelArgs {
    fn options(&self, seed: u64) -> Result<dsaudit_core::labels::Options> {
        use dsaudit_core::labels::{network, Model};
        let networks = networks();
        if networks.is_none() && matches!(self.label_model, Model::Cnn | Model::Mlp) {
            bail!(
                "--label-model {}: {}",
                self.label_model.name(),
                network::MISSING
            );
        }
        Ok(dsaudit_core::labels::Options {
            enabled: !self.no_label_check,
            folds: self.folds as usize,
            method: self.label_method,
            seed,
            pred_probs: self.pred_probs.clone(),
            embeddings: self.embeddings.clone(),
            max_fit: self.max_fit_rows.map(|n| n.max(1)),
            model: self.label_model,
            networks,
        })
    }
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    /// Neither read nor write the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Cache directory (default: .dsaudit_cache in the git repository above the
    /// dataset, else dsaudit/ in the user's cache directory; never inside a dataset).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Fit the label-error and shift models anew. Without it, models an earlier check
    /// fitted are reused while at most 1% of the samples changed since (image
    /// datasets; the report says so).
    #[arg(long)]
    pub refit: bool,
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
        .map(|c| dsaudit_core::load::image::one_line(&c.to_string()))
        .collect();
    parts.join(": ")
}

pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Scan(args) => run_scan(args, None, false),
        Command::Check(args) => {
            let cache = (!args.no_cache).then_some(args.cache_dir.clone());
            run_scan(args.scan, cache, args.refit)
        }
        Command::Config {
            path,
            config,
            isolated,
        } => {
            if !path.exists() {
                bail!("{}: no such file or directory", path.display());
            }
            let c = dsaudit_core::config::load(&path, config.as_deref(), isolated)?;
            let rules = rules::select::select(c.select.as_deref().unwrap_or(&[]), &c.ignore)?;
            let fail_on = c.fail_on.unwrap_or(FailOn(Some(Severity::Error)));
            print!("{}", c.render(&rules, fail_on));
            Ok(0)
        }
        Command::Stats(args) => run_stats(args),
        Command::Split { build, options } => run_build(build, false, |s, seed| {
            dsaudit_construct::split::plan(s, &options, seed)
        }),
        Command::Rebalance { build, options } => run_build(build, false, |s, seed| {
            dsaudit_construct::rebalance::plan(s, &options, seed)
        }),
        Command::Subset { build, options } => run_build(build, false, |s, seed| {
            dsaudit_construct::subset::plan(s, &options, seed)
        }),
        Command::Clean { build, options } => {
            // Without a table of flagged samples, confident learning finds them.
            let find_labels =
                (options.drop_label_issues || options.relabel) && options.label_issues.is_none();
            run_build(build, find_labels, |s, seed| {
                dsaudit_construct::clean::plan(s, &options, seed)
            })
        }
        #[cfg(feature = "baseline")]
        Command::Baseline(args) => baseline::run(args),
        #[cfg(not(feature = "baseline"))]
        Command::Baseline(_) => bail!(
            "dsaudit baseline: this dsaudit was built without the `baseline` feature (--no-default-features); install the default build (cargo install dsaudit) to train the baseline"
        ),
        Command::Rules { markdown } => {
            let text = if markdown {
                dsaudit_core::docs::rules_markdown()
            } else {
                dsaudit_core::docs::rules_list()
            };
            print!("{text}");
            Ok(0)
        }
    }
}

fn parse_fail_on(s: &str) -> Result<FailOn> {
    match FailOn::parse(s) {
        Some(f) => Ok(f),
        None => bail!("--fail-on '{s}': expected error, warning, info or never"),
    }
}

fn emit(output: Option<&PathBuf>, text: &str) -> Result<()> {
    match output {
        Some(path) => dsaudit_core::output::write_bytes_atomic(path, text.as_bytes()),
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

fn run_stats(StatsArgs { data: args }: StatsArgs) -> Result<i32> {
    check_outputs(&args, &[])?;
    let mut scans = Vec::new();
    for p in &args.paths {
        let s = settings(&args, None, p, true)?;
        scans.push(scan::scan(p, &s.options)?);
    }
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
        other => bail!("dsaudit stats prints text or json, not {}", other.name()),
    };
    emit(args.output.as_ref(), &text)?;
    Ok(0)
}

/// `scan`, and `check` when `cache` is Some (holding the --cache-dir, if any).
fn run_scan(args: ScanArgs, cache: Option<Option<PathBuf>>, refit: bool) -> Result<i32> {
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
            let text = if args.data.format == Format::Text {
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
    if let Some(h) = &args.html {
        dsaudit_core::output::write_bytes_atomic(h, report::html::render(&scans).as_bytes())?;
    }
    rules_run.sort_by_key(|r| rules::registry().iter().position(|x| x.code() == r.code()));
    let text = match args.data.format {
        Format::Json => report::json::render(&scans),
        Format::Text => scans
            .iter()
            .map(|s| report::text::render(s, args.max_samples))
            .collect::<Vec<_>>()
            .join("\n"),
        Format::Markdown => report::markdown::render(&scans, args.max_samples),
        Format::Github => report::github::render(&scans),
        Format::Sarif => report::sarif::render(&scans, &rules_run),
    };
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

/// Checks OUT, scans the dataset (duplicates included: clusters stay together),
/// plans, writes, and prints what was built.
fn run_build(
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
    opts.labels.networks = networks();
    let scan = scan::scan(&args.path, &opts)?;
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
