//! `--format prometheus`: the text exposition format, for node_exporter's
//! textfile collector.

use std::fmt::Write;
use std::time::SystemTime;

use super::{NodeState, Report, Status};
use crate::text::sanitize;

/// The numeric value of a status in `clusterdoc_check_status`.
fn status_value(status: Status) -> u8 {
    match status {
        Status::Pass => 0,
        Status::Warn => 1,
        Status::Fail => 2,
        Status::Error => 3,
        Status::Skip => 4,
    }
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    metric_header(&mut out, "clusterdoc_check_status", "Check status: 0 pass, 1 warn, 2 fail, 3 error, 4 skip.");
    for c in &report.checks {
        let _ = writeln!(out, "clusterdoc_check_status{{id=\"{}\"}} {}", label(&c.id), status_value(c.status));
        for (node, status) in &c.by_node {
            let (id, node) = (label(&c.id), label(node));
            let _ = writeln!(out, "clusterdoc_check_status{{id=\"{id}\",node=\"{node}\"}} {}", status_value(*status));
        }
    }
    metric_header(&mut out, "clusterdoc_check_duration_seconds", "Time the check took.");
    for c in &report.checks {
        let _ =
            writeln!(out, "clusterdoc_check_duration_seconds{{id=\"{}\"}} {:.3}", label(&c.id), secs(c.duration_ms));
    }
    metric_header(&mut out, "clusterdoc_findings", "Problems the check found.");
    for c in &report.checks {
        let _ = writeln!(out, "clusterdoc_findings{{id=\"{}\"}} {}", label(&c.id), c.findings.len());
    }
    metric_header(
        &mut out,
        "clusterdoc_run_status",
        "Worst status of the run (same scale as clusterdoc_check_status).",
    );
    let _ = writeln!(out, "clusterdoc_run_status {}", status_value(report.status));
    if !report.nodes.is_empty() {
        metric_header(&mut out, "clusterdoc_node_reached", "1 when a fleet node answered with its facts, else 0.");
        for node in &report.nodes {
            let reached = u8::from(node.state == NodeState::Reached);
            let _ = writeln!(
                out,
                "clusterdoc_node_reached{{node=\"{}\",state=\"{}\"}} {reached}",
                label(&node.host),
                node.state
            );
        }
    }
    metric_header(&mut out, "clusterdoc_findings_waived", "Findings a waiver accepts (they do not count).");
    let _ = writeln!(out, "clusterdoc_findings_waived {}", report.summary.waived);
    metric_header(&mut out, "clusterdoc_waivers_stale", "Waivers that matched no finding.");
    let _ = writeln!(out, "clusterdoc_waivers_stale {}", report.stale_waivers.len());
    if let Some(baseline) = &report.baseline {
        metric_header(
            &mut out,
            "clusterdoc_baseline_findings",
            "Findings the baseline report had (known), had not (new), and had that are gone (fixed).",
        );
        for (state, n) in [("known", baseline.known), ("new", baseline.new), ("gone", baseline.gone)] {
            let _ = writeln!(out, "clusterdoc_baseline_findings{{state=\"{state}\"}} {n}");
        }
    }
    metric_header(&mut out, "clusterdoc_run_duration_seconds", "Time the whole run took.");
    let _ = writeln!(out, "clusterdoc_run_duration_seconds {:.3}", secs(report.duration_ms));
    out
}

/// What `clusterdoc serve` adds about its runs.
pub struct Runs {
    /// When the run whose results these are ended.
    pub last_run_ended: SystemTime,
    /// Runs that gave no report since the server started.
    pub errors_total: u64,
}

/// The report's series and the server's: when the report's run ended and
/// how many runs failed.
pub fn render_served(report: &Report, runs: &Runs) -> String {
    let mut out = render(report);
    metric_header(&mut out, "clusterdoc_last_run_timestamp_seconds", "When the run these results come from ended.");
    let ended = runs.last_run_ended.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let _ = writeln!(out, "clusterdoc_last_run_timestamp_seconds {:.3}", ended.as_secs_f64());
    let _ = writeln!(
        out,
        "# HELP clusterdoc_run_errors_total Runs that gave no report since the server started.\n\
         # TYPE clusterdoc_run_errors_total counter\nclusterdoc_run_errors_total {}",
        runs.errors_total
    );
    out
}

fn metric_header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// A label value: unsafe characters made visible (`text::sanitize`, which
/// also turns a newline into `\n`), then escaped as the exposition format
/// requires.
fn label(value: &str) -> String {
    sanitize(value).replace('\\', "\\\\").replace('"', "\\\"")
}
