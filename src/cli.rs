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
    /// List the rules, or print docs/rules.md with --markdown.
    Rules {
        #[arg(long)]
        markdown: bool,
    },
}

#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// Dataset folders or table files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Column holding the label (tables and labels files).
    #[arg(long)]
    pub label: Option<String>,
    /// Column holding the split (tables and labels files).
    #[arg(long)]
    pub split: Option<String>,
    /// Layout, instead of guessing it.
    #[arg(long, value_enum)]
    pub layout: Option<LayoutKind>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report here (atomically) instead of to stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Write the manifest (one row per sample) to a .parquet or .csv file.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// Rule codes, prefixes or names to run (comma-separated; default all).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Rule codes, prefixes or names to skip (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Exit 1 when a finding has at least this severity: error, warning, info or never.
    #[arg(long, default_value = "error")]
    pub fail_on: String,
    /// Samples listed per finding in the text report.
    #[arg(long, default_value_t = 10)]
    pub max_samples: usize,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
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

fn run_scan(args: ScanArgs) -> Result<i32> {
    let fail_on = parse_fail_on(&args.fail_on)?;
    let selected = rules::select::select(&args.select, &args.ignore)?;
    if args.manifest.is_some() && args.paths.len() > 1 {
        bail!(
            "--manifest takes one dataset path, got {}",
            args.paths.len()
        );
    }
    for p in &args.paths {
        for out in args.output.iter().chain(&args.manifest) {
            crate::output::ensure_outside(out, p)?;
        }
    }
    let opts = ScanOptions {
        hints: Hints {
            layout: args.layout,
            label: args.label.clone(),
            split: args.split.clone(),
        },
        rules: selected,
        quiet: args.quiet,
    };
    let mut scans: Vec<Scan> = Vec::new();
    for p in &args.paths {
        scans.push(scan::scan(p, &opts)?);
    }
    if let Some(m) = &args.manifest {
        scans[0].loaded.manifest.write(m)?;
    }
    let text = match args.format {
        Format::Json => report::json::render(&scans),
        Format::Text => scans
            .iter()
            .map(|s| report::text::render(s, args.max_samples))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    match &args.output {
        Some(path) => crate::output::write_bytes_atomic(path, text.as_bytes())?,
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(if scans.iter().any(|s| s.fails(fail_on)) {
        1
    } else {
        0
    })
}
