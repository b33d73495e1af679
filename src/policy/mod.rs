//! What a pipeline accepts (DESIGN.md C4): waivers and a baseline, read
//! before anything is probed (a bad file stops the run at once) and
//! applied to the judged report, whose statuses are then counted again.

mod baseline;
pub mod day;
mod waivers;

use std::path::Path;

pub use baseline::Baseline;
pub use day::Day;
pub use waivers::{Waiver, Waivers};

use crate::report::Report;

/// The waivers and baseline of a run, if any.
#[derive(Clone, Debug, Default)]
pub struct Acceptance {
    waivers: Option<Waivers>,
    baseline: Option<Baseline>,
}

impl Acceptance {
    /// Reads and checks both files; the error names the file and what is wrong.
    pub fn load(waivers: Option<&Path>, baseline: Option<&Path>) -> Result<Acceptance, String> {
        let today = Day::today()?;
        let safe = |e: String| crate::text::sanitize(&e);
        Ok(Acceptance {
            waivers: waivers.map(|file| Waivers::load(file, today)).transpose().map_err(safe)?,
            baseline: baseline.map(Baseline::load).transpose().map_err(safe)?,
        })
    }

    /// Marks what is accepted in `report` and counts its statuses again.
    pub fn apply(&self, report: &mut Report) {
        if let Some(waivers) = &self.waivers {
            // Checked when loaded; a server running past midnight asks again.
            let today = Day::today().unwrap_or_else(|_| Day::by_the_clock());
            waivers.apply(report, today);
        }
        if let Some(baseline) = &self.baseline {
            baseline.apply(report);
        }
        report.recount();
    }
}
