//! The `dsaudit baseline` command: reads the dataset, picks the device, runs the
//! baseline, prints the report and writes the artifacts.

use super::args::{BaselineArgs, BaselineFormat as Format};
use anyhow::{bail, Result};
use dsaudit_baseline::{artifacts, device, Options};
use dsaudit_core::scan::{self, ScanOptions};

pub fn run(a: BaselineArgs) -> Result<i32> {
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
