//! `--format junit`: one testsuite per run, one testcase per check. Every
//! piece of text passes through `text::sanitize` on its way in, so nothing
//! XML 1.0 forbids (C0 controls, U+FFFE, U+FFFF) reaches the document;
//! quick-junit escapes the markup characters.

use std::time::Duration;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::accepted::{accepted_line, all_accepted};
use super::{CheckReport, Report, Status, plain_findings};
use crate::text::sanitize;

/// One testsuite for the run; in a fleet run, also one per node holding
/// that node's view of each node check.
pub fn render(report: &Report) -> String {
    let mut suite = TestSuite::new("clusterdoc");
    suite.set_time(Duration::from_millis(report.duration_ms));
    suite.add_test_cases(report.checks.iter().map(test_case));
    let accepted = accepted_line(report);
    if !accepted.is_empty() {
        suite.add_property(("clusterdoc.accepted", accepted.as_str()));
    }
    for stale in &report.stale_waivers {
        suite.add_property(("clusterdoc.stale_waiver", stale.describe().as_str()));
    }
    let mut junit = quick_junit::Report::new("clusterdoc");
    junit.set_time(Duration::from_millis(report.duration_ms));
    junit.add_test_suite(suite);
    for node in &report.nodes {
        let mut suite = TestSuite::new(sanitize(&format!("clusterdoc@{}", node.host)));
        suite.set_time(Duration::from_millis(node.duration_ms));
        let on_node = report.checks.iter().filter_map(|check| on_node(check, &node.host));
        suite.add_test_cases(on_node.map(|check| test_case(&check)));
        junit.add_test_suite(suite);
    }
    junit.to_string().expect("quick-junit serializes in-memory reports")
}

/// A node check as one node saw it: its status there and its findings there.
fn on_node(check: &CheckReport, host: &str) -> Option<CheckReport> {
    let status = *check.by_node.get(host)?;
    let findings = check.findings.iter().filter(|f| f.node.as_deref() == Some(host)).cloned().collect();
    Some(CheckReport { status, findings, by_node: Default::default(), ..check.clone() })
}

fn test_case(check: &CheckReport) -> TestCase {
    // plain_findings sanitizes each line and joins them with newlines.
    let body = plain_findings(check);
    let mut status = match check.status {
        Status::Pass | Status::Warn => TestCaseStatus::success(),
        Status::Skip => TestCaseStatus::skipped(),
        Status::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
        Status::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
    };
    if matches!(check.status, Status::Skip | Status::Fail | Status::Error) {
        status.set_message(sanitize(&summary(check)));
        if !body.is_empty() {
            status.set_description(body.clone());
        }
    }
    let mut case = TestCase::new(sanitize(&check.id), status);
    case.set_classname(sanitize(&format!("clusterdoc.{}", check.id.split('.').next().unwrap_or("check"))));
    case.set_time(Duration::from_millis(check.duration_ms));
    if check.status == Status::Warn {
        // JUnit has no warning: keep it green but visible.
        case.set_system_out(format!("WARN\n{body}"));
    } else if all_accepted(check) {
        case.set_system_out(format!("ACCEPTED (waived or known to the baseline)\n{body}"));
    }
    case
}

/// The first finding, else why the check stopped, else its title.
fn summary(check: &CheckReport) -> String {
    match check.findings.first() {
        Some(f) => format!("{}: {}", f.subject, f.message),
        None => check.reason.clone().unwrap_or_else(|| check.title.clone()),
    }
}
