//! Command line: parses arguments, runs the pipeline, maps outcomes to exit codes
//! (0 clean, 1 findings at or above --fail-on, 2 usage or I/O error).

//!
//! `args` holds every flag; `scan` the scan, check and stats commands; `partial` the
//! partial scans and their merge; `construct` the builds; `baseline` the baseline
//! (with the `baseline` feature).

use anyhow::{bail, Result};
use args::{Cli, Command};
use clap::Parser;
use construct::run_build;
use dsaudit_core::config::FailOn;
use dsaudit_core::finding::Severity;
use dsaudit_core::rules;
use scan::{run_scan, run_stats};
use std::io::Write;
use std::path::PathBuf;

mod args;
#[cfg(feature = "baseline")]
mod baseline;
mod construct;
mod partial;
mod scan;

/// The build's label networks: the baseline's CNN and MLP, when it has them.
pub fn networks() -> Option<&'static dyn dsaudit_core::labels::network::Networks> {
    #[cfg(feature = "baseline")]
    return Some(&dsaudit_baseline::label_network::LABEL_NETWORKS);
    #[cfg(not(feature = "baseline"))]
    None
}

/// Runs the CLI on the process's arguments and returns the exit code.
pub fn main() -> i32 {
    main_with(std::env::args_os().collect())
}

std::thread_local! {
    /// The arguments of the run on this thread, program name first: one process (the
    /// Python package's) may run the CLI several times, from several threads.
    static ARGS: std::cell::RefCell<Vec<std::ffi::OsString>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The arguments given, program name first (recorded by builds and `check`).
pub(crate) fn given_args() -> Vec<std::ffi::OsString> {
    ARGS.with(|a| a.borrow().clone())
}

/// Runs the CLI on `args` (program name first) and returns the exit code: the
/// binary's `main`, and the Python package's console script.
pub fn main_with(args: Vec<std::ffi::OsString>) -> i32 {
    ARGS.with(|a| *a.borrow_mut() = args.clone());
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    quiet_panics();
    dsaudit_core::safe_read::set_max_file_size(cli.max_file_size);
    dsaudit_core::load::table_stream::set_memory_limit(cli.memory_limit);
    match dsaudit_core::util::guarded(|| run(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("error: {}", dsaudit_core::util::error_line(&e));
            2
        }
        Err(panic) => {
            let at = PANIC_AT
                .lock()
                .ok()
                .and_then(|l| l.clone())
                .unwrap_or_default();
            eprintln!(
                "error: internal error, a bug in dsaudit (please report it with the command that hit it): {}{at}",
                printable(&panic)
            );
            2
        }
    }
}

/// Where the last panic happened, for the one-line internal error.
static PANIC_AT: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Panics print nothing: a panic inside a file's reader becomes that file's problem
/// (`util::guarded`), and any other is one line at the end of `main`. With
/// DSAUDIT_PANIC_REPORT set, the standard report is kept for whoever debugs (not with
/// RUST_BACKTRACE, which many set in their shell for their own programs).
fn quiet_panics() {
    if std::env::var_os("DSAUDIT_PANIC_REPORT").is_some() {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        if let (Some(l), Ok(mut at)) = (info.location(), PANIC_AT.lock()) {
            *at = Some(format!(" (at {}:{})", l.file(), l.line()));
        }
    }));
}

fn printable(s: &str) -> String {
    dsaudit_core::util::printable(s).into_owned()
}

pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Scan(args) => run_scan(args, None, false),
        Command::Check(args) => {
            let cache = (!args.no_cache).then_some(args.cache_dir.clone());
            run_scan(args.scan, cache, args.refit)
        }
        Command::Partial(args) => partial::run_partial(args),
        Command::Merge(args) => partial::run_merge(args),
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
            dsaudit_construct::split::plan(s, &options.into(), seed)
        }),
        Command::Rebalance { build, options } => run_build(build, false, |s, seed| {
            dsaudit_construct::rebalance::plan(s, &options.into(), seed)
        }),
        Command::Subset { build, options } => run_build(build, false, |s, seed| {
            dsaudit_construct::subset::plan(s, &options.into(), seed)
        }),
        Command::Clean { build, options } => {
            let options: dsaudit_construct::clean::Options = options.into();
            run_build(build, options.needs_label_search(), |s, seed| {
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
