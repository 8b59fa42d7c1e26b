//! The `dsaudit baseline` command: reads the dataset, picks the device, runs the
//! baseline, prints the report and writes the artifacts.

use super::{choice, ReadArgs};
use anyhow::{bail, Result};
use dsaudit_baseline::{artifacts, device, Options};
use dsaudit_core::scan::{self, ScanOptions};
use std::path::PathBuf;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Dataset folder or table file.
    pub path: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Only the overfit-one-batch phase; exit 1 when the batch is not learned.
    #[arg(long)]
    pub overfit: bool,
    /// auto: wgpu on a GPU adapter, else the CPU backend; cpu; gpu (fail without a
    /// GPU adapter); wgpu (any wgpu adapter, a CPU one included).
    #[arg(long, value_parser = choice::<device::Choice>(), default_value = "auto")]
    pub device: device::Choice,
    /// Write metrics.json, the curves (CSV and SVG) here: a new directory, or a previous
    /// one with --overwrite. Never inside the dataset.
    #[arg(long = "out", short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace a previous dsaudit output in --out.
    #[arg(long)]
    pub overwrite: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
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

pub fn run(a: Args) -> Result<i32> {
    let shown = a.path.display().to_string();
    if !a.path.exists() {
        bail!("{shown}: no such file or directory");
    }
    if a.image_size < 8 || !a.image_size.is_multiple_of(4) {
        bail!(
            "--image-size {}: must be a multiple of 4, at least 8",
            a.image_size
        );
    }
    if !(0.0..1.0).contains(&a.human_error) {
        bail!(
            "--human-error {}: must be a fraction in [0, 1)",
            a.human_error
        );
    }
    if !(a.lr > 0.0 && a.lr.is_finite()) {
        bail!("--lr {}: must be a positive number", a.lr);
    }
    for (flag, v) in [
        ("--batch-size", a.batch_size),
        ("--epochs", a.epochs),
        ("--patience", a.patience),
        ("--overfit-batch", a.overfit_batch),
        ("--overfit-steps", a.overfit_steps),
        ("--tune-steps", a.tune_steps),
    ] {
        if v == 0 {
            bail!("{flag}: must be at least 1");
        }
    }
    // Outputs are checked before any work, so a wrong path fails at once.
    let staging = match &a.out {
        Some(out) => Some(dsaudit_construct::outdir::Staging::prepare(
            out,
            &a.path,
            a.overwrite,
        )?),
        None => None,
    };
    if let Some(e) = &a.embeddings {
        dsaudit_core::output::ensure_outside(e, &a.path)?;
    }
    let start = std::time::Instant::now();
    let chosen = device::choose(a.device)?;
    let config = a.read.config(&a.path)?;
    let opts = ScanOptions::for_building(
        a.read.hints(&config, true),
        config.thresholds.clone(),
        a.quiet,
        a.timings,
        false,
        a.seed,
    );
    let scan = scan::scan(&a.path, &opts)?;
    let samples = dsaudit_construct::Samples::new(&scan.spec, &scan.loaded, &scan.dups);
    let data = dsaudit_baseline::data::prepare(
        &samples,
        &dsaudit_baseline::data::Options {
            side: a.image_size,
            seed: a.seed,
        },
    )
    .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    if !a.overfit {
        let empty: Vec<&str> = dsaudit_baseline::data::PARTS
            .iter()
            .enumerate()
            .filter(|(k, _)| data.ids(*k as u8).is_empty())
            .map(|(_, name)| *name)
            .collect();
        if !empty.is_empty() {
            bail!(
                "{shown}: too few samples to measure the error decomposition: {} empty (--overfit needs only train)",
                empty.join(", ") + if empty.len() == 1 { " is" } else { " are" }
            );
        }
    }
    let read_seconds = start.elapsed().as_secs_f64();
    let o = Options {
        device: a.device,
        overfit_only: a.overfit,
        lr: a.lr,
        tune: a.tune,
        tune_steps: a.tune_steps,
        batch: a.batch_size,
        max_epochs: a.epochs,
        patience: a.patience,
        overfit_batch: a.overfit_batch,
        overfit_steps: a.overfit_steps,
        target_loss: a.overfit_loss,
        image_size: a.image_size,
        human_error: a.human_error,
        seed: a.seed,
    };
    let report = dsaudit_baseline::run(
        &data,
        &chosen,
        &o,
        &shown,
        a.embeddings.is_some() && !a.overfit,
        a.quiet,
    )?;
    if a.timings {
        eprintln!("timing {:<10} {:8.3} s", "read", read_seconds);
        for (phase, s) in &report.timings {
            eprintln!("timing {phase:<10} {s:8.3} s");
        }
        let o = &report.overfit;
        eprintln!(
            "timing overfit steps/s {:.1}",
            o.steps as f64 / o.seconds.max(1e-9)
        );
        if let Some(sps) = report.steps_per_second {
            eprintln!("timing train steps/s {sps:.1}");
        }
    }
    let mut written = Vec::new();
    if let (Some(path), Some((values, width))) = (&a.embeddings, &report.embeddings) {
        artifacts::write_embeddings(path, samples.len(), &data.rows, values, *width)?;
        written.push(path.display().to_string());
    }
    if let (Some(staging), Some(out)) = (staging, &a.out) {
        let names = artifacts::write(&report, staging.path())?;
        staging.commit()?;
        written.extend(names.iter().map(|n| out.join(n).display().to_string()));
    }
    let text = match a.format {
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Text => {
            let mut t = dsaudit_baseline::render(&report);
            for w in &written {
                t += &format!("wrote     {w}\n");
            }
            t
        }
    };
    print!("{text}");
    Ok(if report.overfit.passed { 0 } else { 1 })
}
