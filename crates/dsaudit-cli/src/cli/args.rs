//! Every flag of every command: the clap definitions, and their conversion into the
//! libraries' options. Nothing else in the workspace depends on clap: the
//! libraries' named choices are `Choice` tables, turned into possible values here.

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};
use dsaudit_core::choice::Choice;
use dsaudit_core::config::Config;
use dsaudit_core::load::{Hints, LayoutKind};
use dsaudit_core::report::Format;
use std::path::PathBuf;

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

/// `dsaudit baseline`'s arguments in a build without it: taken as they come, so
/// that the command says what is missing rather than which flag it does not know.
#[cfg(not(feature = "baseline"))]
#[derive(clap::Args, Debug)]
pub struct MissingBaseline {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

#[derive(Parser, Debug)]
#[command(
    name = "dsaudit",
    version,
    about = "Audit machine-learning datasets before you train on them."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// The largest sample file read (an image, a labels file's entry); larger ones are
    /// reported unreadable without being read. Sizes as 512MiB, 2G, 100000.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size, default_value = "512MiB")]
    pub max_file_size: u64,
    /// The memory a table scan plans for: a table whose whole scan would need more is
    /// read in blocks, every row counted and described, the duplicate, shift and label
    /// checks run on a seeded sample of rows that fits. Sizes as 2GiB, 512M.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size, default_value = "2GiB")]
    pub memory_limit: u64,
}

fn parse_size(s: &str) -> Result<u64, String> {
    dsaudit_core::safe_read::parse_size(s)
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan datasets (image folders, tables, .npy pairs) and report their problems.
    Scan(ScanArgs),
    /// The pre-commit entry point: scan with the incremental cache, exit 1 on findings
    /// at or above fail-on.
    Check(CheckArgs),
    /// Describe one shard of a dataset's images or a table's rows into a partial scan
    /// (.dsp), to merge with the others: the decode, hashes and statistics spread over
    /// machines. Its parts double as a saved profile for `scan --against`.
    Partial(PartialArgs),
    /// Merge partial scans (.dsp) into the report `dsaudit scan` gives of the whole
    /// dataset; takes scan's report and rule flags.
    Merge(ScanArgs),
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
        options: SplitArgs,
    },
    /// Change one split's class counts: undersample, oversample (copies or SMOTE), match
    /// a class distribution, or write per-class loss weights.
    Rebalance {
        #[command(flatten)]
        build: BuildArgs,
        #[command(flatten)]
        options: RebalanceArgs,
    },
    /// A small stratified subset of one split, to overfit while debugging.
    Subset {
        #[command(flatten)]
        build: BuildArgs,
        #[command(flatten)]
        options: SubsetArgs,
    },
    /// The dataset without unreadable, unlabeled, leaking and duplicated samples (and,
    /// optionally, flagged label issues), with a log of every change.
    Clean {
        #[command(flatten)]
        build: BuildArgs,
        #[command(flatten)]
        options: CleanArgs,
    },
    /// Train a small standard network (CNN for images, MLP for tables): overfit one
    /// batch and read its loss curve, then train with early stopping and take the error
    /// apart into bias, variance, distribution shift and validation overfitting.
    #[cfg(feature = "baseline")]
    Baseline(BaselineArgs),
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
    /// Read (and materialise) files a labels file names outside the dataset's folder
    /// (`../x.png`, absolute paths). Without it they are reported and left alone.
    #[arg(long)]
    pub allow_outside_paths: bool,
}

impl ReadArgs {
    /// The configuration for one dataset path.
    pub(crate) fn config(&self, path: &std::path::Path) -> Result<Config> {
        dsaudit_core::config::load(path, self.config.as_deref(), self.isolated)
    }

    /// Flags first, then the configuration's layout hints.
    pub(crate) fn hints(&self, config: &Config, keep_tables: bool) -> Hints {
        dsaudit_core::request::merged_hints(self.flag_hints(keep_tables), config)
    }

    /// The flags' layout hints alone.
    pub(crate) fn flag_hints(&self, keep_tables: bool) -> Hints {
        Hints {
            layout: self.layout,
            label: self.label.clone(),
            split: self.split.clone(),
            keep_tables,
            skip_column_stats: false,
            allow_outside_paths: self.allow_outside_paths,
            memory_limit: None,
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

/// `dsaudit partial`: which dataset, which shard, where the state goes.
#[derive(clap::Args, Debug)]
pub struct PartialArgs {
    /// Dataset folder (image-folder or image-labels layout), a table file (CSV, TSV,
    /// NDJSON, Parquet, Arrow IPC), or a folder of one table file per split.
    pub path: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Describe part K of N (1-based); each image falls in one part by a hash of its
    /// path, so the N runs need not know of each other.
    #[arg(
        long,
        value_name = "K/N",
        required_unless_present_any = ["files", "plan_for"],
        conflicts_with = "files"
    )]
    pub shard: Option<String>,
    /// Describe the images this file lists instead, one path per line, relative to
    /// the dataset (as reports name them).
    #[arg(long, value_name = "LIST")]
    pub files: Option<PathBuf>,
    /// Walk and list the dataset once, reading no image, and write a plan of N parts
    /// to --output; each part then runs with --plan and reads no directory.
    #[arg(long, value_name = "N", conflicts_with_all = ["shard", "files", "plan", "block_size"])]
    pub plan_for: Option<u64>,
    /// Describe part K/N (--shard) of the images a plan (--plan-for) lists, instead
    /// of walking the dataset; the plan's --label, --split, --layout and
    /// configuration apply.
    #[arg(
        long,
        value_name = "PLAN",
        requires = "shard",
        conflicts_with_all = ["files", "block_size"]
    )]
    pub plan: Option<PathBuf>,
    /// The partial scan (or with --plan-for, the plan) to write, atomically. Never
    /// inside the dataset.
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    /// A table is split into blocks of about this many bytes of text (Parquet: its row
    /// groups; Arrow IPC: its record batches), block b going to part (b mod N) + 1.
    /// Every part of one table must use the same.
    #[arg(long, value_name = "SIZE", default_value = "8MiB", value_parser = parse_size)]
    pub block_size: u64,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
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
    #[arg(long, value_parser = choice::<dsaudit_construct::images::Mode>(), value_name = "HOW")]
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
    /// Run the shift tests against a saved reference profile (the .dsp parts of an
    /// earlier scan, from `dsaudit partial` or `dsaudit.spark.save_profile`; repeat
    /// for each part) instead of between this dataset's splits: every split is
    /// compared with it (a table's in the profile's feature columns, by name).
    #[arg(long, value_name = "REF.dsp")]
    pub against: Vec<PathBuf>,
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
    pub fn options(&self, seed: u64) -> Result<dsaudit_core::labels::Options> {
        use dsaudit_core::labels::{network, Model};
        let networks = super::networks();
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

#[cfg(feature = "baseline")]
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineFormat {
    Text,
    Json,
}

#[cfg(feature = "baseline")]
#[derive(clap::Args, Debug)]
pub struct BaselineArgs {
    /// Dataset folder or table file.
    pub path: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Only the overfit-one-batch phase; exit 1 when the batch is not learned.
    #[arg(long)]
    pub overfit: bool,
    /// auto: wgpu on a GPU adapter, else the CPU backend; cpu; gpu (fail without a
    /// GPU adapter); wgpu (any wgpu adapter, a CPU one included).
    #[arg(long, value_parser = choice::<dsaudit_baseline::device::Choice>(), default_value = "auto")]
    pub device: dsaudit_baseline::device::Choice,
    /// Write metrics.json, the curves (CSV and SVG) here: a new directory, or a previous
    /// one with --overwrite. Never inside the dataset.
    #[arg(long = "out", short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace a previous dsaudit output in --out.
    #[arg(long)]
    pub overwrite: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: BaselineFormat,
    /// Irreducible error (e.g. human error) the bias is measured from, as a fraction.
    #[arg(long, default_value_t = 0.0, value_name = "FRACTION")]
    pub human_error: f64,
    /// Search the learning rate (coarse to fine) before training.
    #[arg(long)]
    pub tune: bool,
    /// Steps of each learning-rate trial.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub tune_steps: usize,
    /// Write the penultimate-layer features of every sample (one row per manifest row,
    /// NaN for unused samples) to this .npy file: `dsaudit scan --embeddings` reads it.
    #[arg(long, value_name = "FILE")]
    pub embeddings: Option<PathBuf>,
    /// Adam's learning rate.
    #[arg(long, default_value_t = dsaudit_baseline::LEARNING_RATE)]
    pub lr: f64,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    /// Epochs without a better train-val loss before stopping.
    #[arg(long, default_value_t = 5)]
    pub patience: usize,
    /// Samples in the overfit batch.
    #[arg(long, default_value_t = 32)]
    pub overfit_batch: usize,
    /// Step budget of the overfit phase.
    #[arg(long, default_value_t = 500)]
    pub overfit_steps: usize,
    /// Batch loss below which the overfit phase passes (with 100% accuracy).
    #[arg(long, default_value_t = dsaudit_baseline::TARGET_LOSS)]
    pub overfit_loss: f64,
    /// Side of the square images are resized to (a multiple of 4).
    #[arg(long, default_value_t = 32)]
    pub image_size: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the wall time of each phase, and training steps per second, to stderr.
    #[arg(long)]
    pub timings: bool,
}

/// `dsaudit split`'s own flags.
#[derive(clap::Args, Debug)]
pub struct SplitArgs {
    /// How much of train to hold out as train-val: a fraction (0.1) or a count (500).
    #[arg(long, default_value = "0.1", value_name = "SIZE")]
    pub train_val: String,
    /// How much of test to hold out as test-val: a fraction or a count.
    #[arg(long, default_value = "0.5", value_name = "SIZE")]
    pub test_val: String,
    /// Fold an existing val split into train before holding out (default: keep it as val).
    #[arg(long)]
    pub fold_val: bool,
    /// When there is no test split, carve one out of train first (a fraction or a count).
    #[arg(long, value_name = "SIZE")]
    pub carve_test: Option<String>,
    /// Go on when test holds classes that train lacks (default: refuse).
    #[arg(long)]
    pub allow_unseen_classes: bool,
}

impl From<SplitArgs> for dsaudit_construct::split::Options {
    fn from(a: SplitArgs) -> Self {
        dsaudit_construct::split::Options {
            train_val: a.train_val,
            test_val: a.test_val,
            fold_val: a.fold_val,
            carve_test: a.carve_test,
            allow_unseen_classes: a.allow_unseen_classes,
        }
    }
}

/// `dsaudit subset`'s own flags.
#[derive(clap::Args, Debug)]
pub struct SubsetArgs {
    /// Samples of each class.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub per_class: u64,
    /// The split to draw from (default: train; the whole dataset when it is not split).
    #[arg(long = "from", value_name = "SPLIT")]
    pub from: Option<String>,
}

impl From<SubsetArgs> for dsaudit_construct::subset::Options {
    fn from(a: SubsetArgs) -> Self {
        dsaudit_construct::subset::Options {
            per_class: a.per_class,
            from: a.from,
        }
    }
}

/// `dsaudit rebalance`'s own flags.
#[derive(clap::Args, Debug)]
pub struct RebalanceArgs {
    #[arg(long, value_parser = choice::<dsaudit_construct::rebalance::Strategy>())]
    pub strategy: Option<dsaudit_construct::rebalance::Strategy>,
    /// Samples per class (undersample, oversample) or in all (target).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Class distribution for `target` (and `weights`): a split's name (`test`) or
    /// shares (`cat=0.7,dog=0.3`; classes not named get none).
    #[arg(long, value_name = "DIST")]
    pub target: Option<String>,
    /// Then undersample every class above this count to it.
    #[arg(long, value_name = "N")]
    pub max_per_class: Option<u64>,
    /// Then oversample every class below this count up to it.
    #[arg(long, value_name = "N")]
    pub min_per_class: Option<u64>,
    /// Oversample tables with SMOTE rows (interpolated between same-class
    /// neighbours) instead of copies.
    #[arg(long)]
    pub smote: bool,
    /// The split to rebalance (default: train; the whole dataset when it is not split).
    #[arg(long = "from", value_name = "SPLIT")]
    pub from: Option<String>,
}

impl From<RebalanceArgs> for dsaudit_construct::rebalance::Options {
    fn from(a: RebalanceArgs) -> Self {
        dsaudit_construct::rebalance::Options {
            strategy: a.strategy,
            count: a.count,
            target: a.target,
            max_per_class: a.max_per_class,
            min_per_class: a.min_per_class,
            smote: a.smote,
            from: a.from,
        }
    }
}

/// `dsaudit clean`'s own flags.
#[derive(clap::Args, Debug)]
pub struct CleanArgs {
    /// Also reduce each near-duplicate cluster within a split to one sample.
    #[arg(long)]
    pub drop_near: bool,
    /// Keep one of a group of copies whose labels disagree (default: drop them all,
    /// since no one knows which label is right).
    #[arg(long)]
    pub keep_conflicting: bool,
    /// A table of label issues to act on: `is_label_issue` and `suggested_label`
    /// columns, keyed by `source` (and `row`) or by manifest `id`.
    #[arg(long, value_name = "FILE")]
    pub label_issues: Option<PathBuf>,
    /// Drop the samples flagged as label issues: by the --label-issues table, or
    /// else by confident learning run now (as `dsaudit scan` does, L002).
    #[arg(long, conflicts_with = "relabel")]
    pub drop_label_issues: bool,
    /// Give flagged samples their suggested label instead.
    #[arg(long)]
    pub relabel: bool,
}

impl From<CleanArgs> for dsaudit_construct::clean::Options {
    fn from(a: CleanArgs) -> Self {
        dsaudit_construct::clean::Options {
            drop_near: a.drop_near,
            keep_conflicting: a.keep_conflicting,
            label_issues: a.label_issues,
            drop_label_issues: a.drop_label_issues,
            relabel: a.relabel,
        }
    }
}
