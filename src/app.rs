//! The application: parse the command line, run, render, exit.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches};

use crate::catalog::{self, Catalog};
use crate::checks::Check;
use crate::cli::{Cli, CollectArgs, ColorChoice, Command, ListFormat, PackArgs, RunArgs, WaiversAction};
use crate::config::{ConfigError, LoadedConfig};
use crate::facts::fleet::Tally;
use crate::output::Output;
use crate::plan::{self, Plan};
use crate::policy::{Day, Waivers};
use crate::report;
use crate::runner;
use crate::target::NodeAsks;

/// Exit code for "clusterdoc itself could not run" (bad usage, bad config).
pub const EXIT_USAGE: i32 = 3;

pub fn main() -> i32 {
    let cli = match Cli::command().try_get_matches().and_then(|m| Ok((Cli::from_arg_matches(&m)?, m))) {
        Ok((cli, matches)) => match crate::cli::serve_misuse(&matches) {
            Some(misuse) => return fatal(format!("{misuse} (see clusterdoc serve --help)")),
            None => cli,
        },
        Err(e) => return usage_error(e),
    };
    match cli.command {
        None => run_checks(&cli.run, Mode::Check),
        Some(Command::Check(args)) => run_checks(&args, Mode::Check),
        Some(Command::Collect(CollectArgs { run, node, probes, names, pack_checks })) => {
            let mode = if node { Mode::CollectNode(NodeAsks { probes, names, pack_checks }) } else { Mode::Collect };
            run_checks(&run, mode)
        }
        Some(Command::Serve(args)) => crate::serve::main(&args).map_or_else(fatal, |()| 0),
        Some(Command::List { format, packs }) => list(format, &packs),
        Some(Command::Explain { id, packs }) => explain(&id, &packs),
        Some(Command::Waivers { action: WaiversAction::Lint { file } }) => lint_waivers(&file),
        Some(Command::Completions { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "clusterdoc", &mut std::io::stdout());
            0
        }
        Some(Command::Man) => match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
            Ok(()) => 0,
            Err(e) => fatal(format!("cannot write the man page: {e}")),
        },
    }
}

/// Help and version go to stdout with 0; anything else is one line and exit 3.
fn usage_error(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return 0;
    }
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return EXIT_USAGE;
    }
    let rendered = e.render().to_string();
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut first = lines.next().unwrap_or("bad usage").trim_start_matches("error: ").to_string();
    // "the following required arguments were not provided:" names them on the next line.
    if first.ends_with(':')
        && let Some(next) = lines.next()
    {
        first = format!("{first} {next}");
    }
    eprintln!("clusterdoc: {first} (see clusterdoc --help)");
    EXIT_USAGE
}

/// `waivers lint FILE`: the file checked alone; expired waivers listed.
fn lint_waivers(file: &Path) -> i32 {
    let today = match Day::today() {
        Ok(today) => today,
        Err(e) => return fatal(e),
    };
    let waivers = match Waivers::load(file, today) {
        Ok(waivers) => waivers,
        Err(e) => return fatal(crate::text::sanitize(&e)),
    };
    let shown = crate::text::sanitize(&file.display().to_string());
    println!("{shown}: {} waivers, each with a reason, an owner and an expiry", waivers.waivers.len());
    for (i, waiver) in waivers.expired(today) {
        println!(
            "{shown}: waiver {} ({}, {}) expired on {}: its findings count again",
            i + 1,
            crate::text::sanitize(&waiver.check),
            crate::text::sanitize(&waiver.owner),
            waiver.expires
        );
    }
    0
}

fn fatal(message: impl std::fmt::Display) -> i32 {
    eprintln!("clusterdoc: {message}");
    EXIT_USAGE
}

/// What a run does with the facts it gathers.
#[derive(Clone, PartialEq, Eq)]
enum Mode {
    /// Judge them (`check`).
    Check,
    /// Write them as a snapshot (`collect`), a fleet's with `--nodes`.
    Collect,
    /// Write this node's own as a node snapshot (`collect --node`), with
    /// what a fleet run asked it to probe.
    CollectNode(NodeAsks),
}

fn run_checks(args: &RunArgs, mode: Mode) -> i32 {
    let collect_only = mode != Mode::Check;
    if let (true, Some(file)) = (collect_only, &args.from) {
        return fatal(format!("collect reads live systems; --from {} is for `check`", file.display()));
    }
    let plan = match Plan::new(args) {
        Ok(plan) => plan,
        Err(e) => return fatal(e),
    };
    let rt = match Runtime::start() {
        Ok(rt) => rt,
        Err(e) => return fatal(format!("cannot start the async runtime: {e}")),
    };
    let config = &plan.config;
    let watchdog = Watchdog::arm(config.deadline.saturating_add(WATCHDOG_GRACE), stuck(config.deadline));
    let tally = Arc::new(Tally::default());
    if collect_only {
        let mut output = match Output::open(args.output.as_deref()) {
            Ok(output) => output,
            Err(e) => return fatal(e),
        };
        let collected = match mode {
            Mode::CollectNode(asks) => rt
                .block_on(runner::collect_node(config, &plan.selection, asks))
                .and_then(|snapshot| output.write(&snapshot).map_err(anyhow::Error::msg)),
            _ => {
                let progress = Progress::start(&rt, tally.clone());
                let collected = rt.block_on(runner::collect(config, &plan.selection, &tally, &mut output));
                progress.finish();
                collected
            }
        };
        drop(watchdog);
        return match collected {
            Ok(()) => output.finish().map_or_else(fatal, |_| 0),
            Err(e) => fatal(format!("{e:#}")),
        };
    }
    let progress = Progress::start(&rt, tally.clone());
    let outcome = rt.block_on(plan.judge(&tally));
    drop(watchdog);
    progress.finish();
    let report = match outcome {
        Ok(r) => r,
        Err(e) => return fatal(format!("{e:#}")),
    };
    setup_color(args.color, args.output.is_some());
    let rendered = plan::render(&report, args.format, args.detail());
    if let Some(script) = &args.script
        && let Err(e) = crate::output::write(Some(script), &report::script::render(&report))
    {
        return fatal(e);
    }
    match crate::output::write(args.output.as_deref(), &rendered) {
        Ok(()) => report.exit_code(),
        Err(e) => fatal(e),
    }
}

/// The async runtime of one run. Dropping it does not wait for its blocking
/// threads: one stuck in a call the kernel does not finish (a read on a hung
/// network file system under `--root`) must not keep the process alive once
/// the deadline has passed and the report is out.
struct Runtime(Option<tokio::runtime::Runtime>);

impl Runtime {
    fn start() -> std::io::Result<Self> {
        tokio::runtime::Builder::new_multi_thread().enable_all().build().map(|rt| Runtime(Some(rt)))
    }
}

impl std::ops::Deref for Runtime {
    type Target = tokio::runtime::Runtime;

    fn deref(&self) -> &Self::Target {
        self.0.as_ref().expect("the runtime lives until dropped")
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// How long past `--deadline` gathering and judging may take before the
/// watchdog ends the process: the runner itself stops at the deadline, so
/// only a thread stuck in the kernel gets this far.
const WATCHDOG_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Ends the process, unless dropped first, once `limit` has passed: the
/// last resort for a call that blocks an async worker (a file system that
/// no longer answers), which no timeout of the runner can interrupt.
struct Watchdog(Option<std::sync::mpsc::Sender<()>>);

impl Watchdog {
    fn arm(limit: std::time::Duration, on_expiry: impl FnOnce() + Send + 'static) -> Self {
        let (disarm, disarmed) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if disarmed.recv_timeout(limit) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                on_expiry();
            }
        });
        Watchdog(Some(disarm))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Dropping the sender wakes the watchdog thread, which returns.
        self.0.take();
    }
}

/// What the watchdog does for a run that outlived its deadline.
fn stuck(deadline: std::time::Duration) -> impl FnOnce() + Send + 'static {
    move || {
        eprintln!(
            "clusterdoc: the run did not end within --deadline {} (a read or probe is stuck in the kernel); giving up",
            humantime::format_duration(deadline)
        );
        std::process::exit(EXIT_USAGE);
    }
}

/// A spinner on stderr, shown only when stderr is a terminal and the run has
/// taken more than half a second; never part of redirected output. A fleet
/// run's says how many nodes are done and how many were not reached.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn start(rt: &tokio::runtime::Runtime, tally: Arc<Tally>) -> Self {
        if !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        bar.set_message("gathering facts");
        let shown = bar.clone();
        rt.spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            shown.enable_steady_tick(std::time::Duration::from_millis(100));
            loop {
                let (done, total, not_reached) = tally.read();
                if total > 0 {
                    shown.set_message(format!("gathering facts: {done}/{total} nodes done, {not_reached} not reached"));
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        });
        Progress(Some(bar))
    }

    fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}

fn setup_color(choice: ColorChoice, to_file: bool) {
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && !to_file && std::io::stdout().is_terminal()
        }
    };
    colored::control::set_override(on);
}

/// The catalog with the packs of the config file's checks_dir and `--checks-dir`.
fn catalog_of(packs: &PackArgs) -> Result<Catalog, ConfigError> {
    let loaded = LoadedConfig::load(packs.config.as_deref(), None)?;
    let mut dirs = loaded.settings.checks_dir.unwrap_or_default();
    dirs.extend(packs.checks_dir.iter().cloned());
    let catalog = catalog::catalog_with_packs(&dirs, Path::new("/"));
    plan::announce(&loaded.ignored.iter().chain(&catalog.ignored).cloned().collect::<Vec<_>>());
    Ok(catalog)
}

fn list(format: ListFormat, packs: &PackArgs) -> i32 {
    let catalog = match catalog_of(packs) {
        Ok(catalog) => catalog,
        Err(e) => return fatal(e),
    };
    match format {
        ListFormat::Json => {
            let entry = |c: &Arc<dyn Check>| {
                let mut entry = c.meta().to_json();
                entry["acts"] = serde_json::json!(catalog.acts(&c.meta().id));
                entry
            };
            let entries: Vec<serde_json::Value> = catalog.checks.iter().map(entry).collect();
            let doc = serde_json::json!({ "checks": entries });
            println!("{}", serde_json::to_string_pretty(&doc).expect("static metadata serializes"));
        }
        ListFormat::Human => {
            let width = catalog.checks.iter().map(|c| c.meta().id.len()).max().unwrap_or(0);
            for check in &catalog.checks {
                let m = check.meta();
                let from = if m.source == "built-in" { String::new() } else { format!("  from {}", m.source) };
                let acts = catalog.acts(&m.id).map(|a| format!("  ({a})")).unwrap_or_default();
                println!(
                    "{:width$}  {:5}  {}  [{}]{from}{acts}",
                    m.id,
                    m.severity.as_str(),
                    m.title,
                    m.tags.join(", ")
                );
            }
        }
    }
    0
}

fn explain(id: &str, packs: &PackArgs) -> i32 {
    let catalog = match catalog_of(packs) {
        Ok(catalog) => catalog,
        Err(e) => return fatal(e),
    };
    match catalog.checks.iter().find(|c| c.meta().id == id) {
        Some(check) => {
            print!("{}", check.meta().explain_text());
            0
        }
        None => {
            let ids: Vec<&str> = catalog.checks.iter().map(|c| c.meta().id.as_ref()).collect();
            fatal(format!("no check {id:?}; known checks: {}", ids.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_runtime_does_not_wait_for_a_blocked_thread() {
        let rt = Runtime::start().unwrap();
        let (_keep, never) = std::sync::mpsc::channel::<()>();
        rt.spawn_blocking(move || never.recv());
        let started = std::time::Instant::now();
        drop(rt);
        // tokio's own drop would wait here for ever.
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn the_watchdog_fires_past_its_limit_unless_dropped() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::time::Duration;
        let fired = std::sync::Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        let _armed = Watchdog::arm(Duration::from_millis(50), move || flag.store(true, Ordering::SeqCst));
        let disarmed_flag = std::sync::Arc::new(AtomicBool::new(false));
        let flag = disarmed_flag.clone();
        drop(Watchdog::arm(Duration::from_millis(50), move || flag.store(true, Ordering::SeqCst)));
        let waited = std::time::Instant::now();
        while !fired.load(Ordering::SeqCst) && waited.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(fired.load(Ordering::SeqCst), "the armed watchdog never fired");
        std::thread::sleep(Duration::from_millis(200));
        assert!(!disarmed_flag.load(Ordering::SeqCst), "a dropped watchdog fired");
    }
}
