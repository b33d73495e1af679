//! `--format tap`: TAP version 14. A warning is `not ok # TODO` (a known
//! problem that does not fail the harness); a skip is `ok # SKIP`.

use std::fmt::Write;

use super::accepted::{accepted_line, all_accepted};
use super::{Report, Status, plain_findings};
use crate::text::sanitize;

pub fn render(report: &Report) -> String {
    let mut out = format!("TAP version 14\n1..{}\n", report.checks.len());
    for (i, check) in report.checks.iter().enumerate() {
        let n = i + 1;
        let reason = check.reason.as_deref().map(|r| one_line(&sanitize(r))).unwrap_or_default();
        let _ = match check.status {
            Status::Pass if all_accepted(check) => writeln!(out, "ok {n} - {} (problems accepted)", check.id),
            Status::Pass => writeln!(out, "ok {n} - {}", check.id),
            Status::Skip => writeln!(out, "ok {n} - {} # SKIP {reason}", check.id),
            Status::Warn => writeln!(out, "not ok {n} - {} # TODO warn", check.id),
            Status::Fail | Status::Error => writeln!(out, "not ok {n} - {}", check.id),
        };
        if check.status.is_problem() || all_accepted(check) {
            let _ = writeln!(out, "  ---\n  status: {}", check.status);
            if !reason.is_empty() {
                let _ = writeln!(out, "  reason: {}", yaml_string(&reason));
            }
            let body = plain_findings(check);
            if !body.is_empty() {
                let _ = writeln!(out, "  findings: |");
                for line in body.lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
            let _ = writeln!(out, "  ...");
        }
    }
    let accepted = accepted_line(report);
    if !accepted.is_empty() {
        let _ = writeln!(out, "# {accepted}");
    }
    for stale in &report.stale_waivers {
        let _ = writeln!(out, "# stale waiver: {} matched no finding", stale.describe());
    }
    out
}

/// A directive must stay on its line: a `#` or newline in remote text cannot
/// start a new one.
fn one_line(text: &str) -> String {
    text.replace('#', "\\#")
}

fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}
