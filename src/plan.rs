//! What a run of the checks is, whoever asks for it: `check` runs it once,
//! `serve` once an interval. The settings, the selected checks, the files
//! passed over and where the facts come from, resolved once; then judged
//! into a report and rendered in the format asked.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::catalog::{self, Selection};
use crate::causes::Dependencies;
use crate::cli::{Format, RunArgs};
use crate::config::Config;
use crate::facts::fleet::Tally;
use crate::facts::marathon::App;
use crate::facts::proposed;
use crate::policy::Acceptance;
use crate::report::{self, Report, Status, human::Detail};
use crate::runner::{self, Source};
use crate::trust::Ignored;

/// A run, ready to be made.
pub struct Plan {
    pub config: Arc<Config>,
    pub selection: Selection,
    /// Config files and check packs found but not used, and why.
    pub ignored: Vec<Ignored>,
    pub source: Source,
    /// The waivers and baseline, read before anything is probed.
    pub acceptance: Acceptance,
    /// The Marathon apps of `--app`, judged as if deployed.
    pub proposed: Vec<App>,
    /// Which problems explain which (`dependencies.toml`).
    pub dependencies: Dependencies,
}

impl Plan {
    /// The run `args` ask for: settings resolved, packs loaded, checks
    /// selected. What was passed over is said on stderr (the report lists it
    /// too). The error is a one-line reason for the user.
    pub fn new(args: &RunArgs) -> Result<Plan, String> {
        let config = Arc::new(Config::resolve(args.config.as_deref(), &args.settings()).map_err(|e| e.to_string())?);
        let proposed: Vec<Vec<App>> = config
            .apps
            .iter()
            .map(|file| proposed::read(file).map_err(|e| crate::text::sanitize(&e)))
            .collect::<Result<_, _>>()?;
        let catalog = catalog::catalog_with_packs(&config.checks_dirs, config.root.dir());
        let ignored: Vec<Ignored> = config.ignored.iter().chain(&catalog.ignored).cloned().collect();
        announce(&ignored);
        let selection = Selection::new(catalog, &args.only, &args.skip)?;
        let source = args.from.clone().map_or(Source::Live, Source::Snapshot);
        let acceptance = Acceptance::load(config.waivers.as_deref(), config.baseline.as_deref())?;
        let dependencies = Dependencies::load(&config.checks_dirs).map_err(|e| crate::text::sanitize(&e))?;
        Ok(Plan { config, selection, ignored, source, acceptance, proposed: proposed.concat(), dependencies })
    }

    /// Gathers the facts (or reads the snapshot) and judges them; with
    /// `--wait`, judges the checks that did not pass again until they do.
    /// `tally` counts a fleet's nodes as they are done.
    pub async fn judge(&self, tally: &Tally) -> anyhow::Result<Report> {
        let started = Instant::now();
        let mut report = runner::run(&self.config, &self.selection, self.source.clone(), &self.proposed, tally).await?;
        if matches!(self.source, Source::Live) && !self.config.wait.is_zero() {
            // Bounded by --deadline: the whole run ends by then.
            let until = started + self.config.wait.min(self.config.deadline);
            report = self.wait(report, until, tally).await?;
            report.duration_ms = started.elapsed().as_millis() as u64;
        }
        report.config = self.config.config_file.as_ref().map(|p| p.display().to_string());
        report.ignored = self.ignored.clone();
        report.phase = self.config.phase;
        self.acceptance.apply(&mut report);
        self.dependencies.trace(&mut report);
        Ok(report)
    }
}

/// How long `--wait` pauses between runs: a booting daemon is not rushed,
/// and a leader elected meanwhile is seen within this.
const WAIT_PAUSE: Duration = Duration::from_secs(2);

impl Plan {
    /// Reruns the checks of `report` that did not pass (or skip) until they
    /// do or `until` comes, each run gathering only what they need; says on
    /// stderr what it still waits for.
    async fn wait(&self, mut report: Report, until: Instant, tally: &Tally) -> anyhow::Result<Report> {
        loop {
            let waiting: Vec<String> = report
                .checks
                .iter()
                .filter(|c| !matches!(c.status, Status::Pass | Status::Skip))
                .map(|c| c.id.clone())
                .collect();
            let left = until.saturating_duration_since(Instant::now());
            if waiting.is_empty() || left <= WAIT_PAUSE {
                return Ok(report);
            }
            eprintln!(
                "clusterdoc: waiting for {} ({} left)",
                waiting.join(", "),
                humantime::format_duration(Duration::from_secs(left.as_secs()))
            );
            tokio::time::sleep(WAIT_PAUSE).await;
            let config = Config { deadline: until.saturating_duration_since(Instant::now()), ..(*self.config).clone() };
            let selection = self.selection.narrowed(&waiting);
            let rerun = runner::run(&Arc::new(config), &selection, Source::Live, &self.proposed, tally).await?;
            report = report.with_checks_of(rerun);
        }
    }
}

/// The report in `format`; `detail` is the human format's.
pub fn render(report: &Report, format: Format, detail: Detail) -> String {
    match format {
        Format::Human => report::human::render(report, detail),
        Format::Json => report::json::render(report),
        Format::Junit => report::junit::render(report),
        Format::Tap => report::tap::render(report),
        Format::Nagios => report::nagios::render(report),
        Format::Prometheus => report::prometheus::render(report),
        Format::Html => report::html::render(report),
    }
}

/// Says on stderr which config files and packs were passed over, and why.
pub fn announce(ignored: &[Ignored]) {
    for entry in ignored {
        eprintln!("clusterdoc: {}", crate::text::sanitize(&entry.to_string()));
    }
}
