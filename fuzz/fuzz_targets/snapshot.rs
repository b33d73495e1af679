//! A snapshot for `check --from FILE`: every check judges its facts and every
//! format renders the report, including the `--script` plan.
#![no_main]

use clusterdoc::checks::catalog;
use clusterdoc::parsers::Snapshot;
use clusterdoc::report::{self, NodeInfo, Report};
use clusterdoc::runner::check_report;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(snapshot) = serde_json::from_slice::<Snapshot>(data) else { return };
    let checks = catalog()
        .iter()
        .map(|check| {
            let (id, title) = (check.meta().id.to_string(), check.meta().title.to_string());
            check_report(id, title, check.run(&snapshot.facts), 0)
        })
        .collect();
    let report = Report::new(String::new(), 0, NodeInfo::default(), checks);
    let _ = report::human::render(&report, report::human::Detail::Verbose);
    let _ = report::json::render(&report);
    let _ = report::junit::render(&report);
    let _ = report::tap::render(&report);
    let _ = report::nagios::render(&report);
    let _ = report::prometheus::render(&report);
    let _ = report::script::render(&report);
});
