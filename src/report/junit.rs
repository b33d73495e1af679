//! `--format junit`: one testsuite per run, one testcase per check.

use std::time::Duration;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::{CheckReport, Report, Status, plain_findings};

pub fn render(report: &Report) -> String {
    let mut suite = TestSuite::new("clusterdoc");
    suite.set_time(Duration::from_millis(report.duration_ms));
    suite.add_test_cases(report.checks.iter().map(test_case));
    let mut junit = quick_junit::Report::new("clusterdoc");
    junit.set_time(Duration::from_millis(report.duration_ms));
    junit.add_test_suite(suite);
    junit.to_string().expect("quick-junit serializes in-memory reports")
}

fn test_case(check: &CheckReport) -> TestCase {
    let body = plain_findings(check);
    let summary = check.reason.clone().unwrap_or_else(|| check.title.clone());
    let mut status = match check.status {
        Status::Pass | Status::Warn => TestCaseStatus::success(),
        Status::Skip => TestCaseStatus::skipped(),
        Status::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
        Status::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
    };
    if matches!(check.status, Status::Skip | Status::Fail | Status::Error) {
        status.set_message(crate::text::sanitize(&first_line(check).unwrap_or(summary)));
        if !body.is_empty() {
            status.set_description(body.clone());
        }
    }
    let mut case = TestCase::new(check.id.clone(), status);
    case.set_classname(format!("clusterdoc.{}", check.id.split('.').next().unwrap_or("check")));
    case.set_time(Duration::from_millis(check.duration_ms));
    if check.status == Status::Warn {
        // JUnit has no warning: keep it green but visible.
        case.set_system_out(format!("WARN\n{body}"));
    }
    case
}

fn first_line(check: &CheckReport) -> Option<String> {
    check.findings.first().map(|f| format!("{}: {}", f.subject, f.message))
}
