//! What a run of the checks is, whoever asks for it: `check` runs it once,
//! `serve` once an interval. The settings, the selected checks, the files
//! passed over and where the facts come from, resolved once; then judged
//! into a report and rendered in the format asked.

use std::sync::Arc;

use crate::catalog::{self, Selection};
use crate::cli::{Format, RunArgs};
use crate::config::Config;
use crate::facts::fleet::Tally;
use crate::report::{self, Report, human::Detail};
use crate::runner::{self, Source};
use crate::trust::Ignored;

/// A run, ready to be made.
pub struct Plan {
    pub config: Arc<Config>,
    pub selection: Selection,
    /// Config files and check packs found but not used, and why.
    pub ignored: Vec<Ignored>,
    pub source: Source,
}

impl Plan {
    /// The run `args` ask for: settings resolved, packs loaded, checks
    /// selected. What was passed over is said on stderr (the report lists it
    /// too). The error is a one-line reason for the user.
    pub fn new(args: &RunArgs) -> Result<Plan, String> {
        let config = Arc::new(Config::resolve(args.config.as_deref(), &args.settings()).map_err(|e| e.to_string())?);
        let catalog = catalog::catalog_with_packs(&config.checks_dirs, config.root.dir());
        let ignored: Vec<Ignored> = config.ignored.iter().chain(&catalog.ignored).cloned().collect();
        announce(&ignored);
        let selection = Selection::new(catalog, &args.only, &args.skip)?;
        let source = args.from.clone().map_or(Source::Live, Source::Snapshot);
        Ok(Plan { config, selection, ignored, source })
    }

    /// Gathers the facts (or reads the snapshot) and judges them.
    /// `tally` counts a fleet's nodes as they are done.
    pub async fn judge(&self, tally: &Tally) -> anyhow::Result<Report> {
        let mut report = runner::run(&self.config, &self.selection, self.source.clone(), tally).await?;
        report.config = self.config.config_file.as_ref().map(|p| p.display().to_string());
        report.ignored = self.ignored.clone();
        Ok(report)
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
    }
}

/// Says on stderr which config files and packs were passed over, and why.
pub fn announce(ignored: &[Ignored]) {
    for entry in ignored {
        eprintln!("clusterdoc: {}", crate::text::sanitize(&entry.to_string()));
    }
}
