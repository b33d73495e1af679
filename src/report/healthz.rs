//! The body of `/healthz` (`clusterdoc serve`), as Kubernetes' health
//! endpoints write theirs: `ok`, or the run's status; verbose, one line a
//! check, `[+]id ok` when it is healthy and `[-]id fail: reason` when not,
//! then the verdict.

use std::fmt::Write;

use super::{CheckReport, Report, Status};
use crate::text::sanitize;

pub fn render(report: &Report, verbose: bool) -> String {
    let healthy = report.status.is_healthy();
    if !verbose {
        return if healthy { "ok\n".into() } else { format!("{}\n", report.status) };
    }
    let mut out = String::new();
    for check in &report.checks {
        let sign = if check.status.is_healthy() { '+' } else { '-' };
        let _ = match (check.status, why(check)) {
            (Status::Pass, _) => writeln!(out, "[{sign}]{} ok", sanitize(&check.id)),
            (status, Some(why)) => writeln!(out, "[{sign}]{} {status}: {}", sanitize(&check.id), sanitize(&why)),
            (status, None) => writeln!(out, "[{sign}]{} {status}", sanitize(&check.id)),
        };
    }
    out.push_str(if healthy { "healthz check passed\n" } else { "healthz check failed\n" });
    out
}

/// What a check says first: its first problem, or why it skipped or
/// errored.
fn why(check: &CheckReport) -> Option<String> {
    let problems: Vec<_> = check.findings.iter().filter(|f| f.status.is_problem()).collect();
    match (problems.first(), &check.reason) {
        (Some(first), _) => {
            let more = match problems.len() - 1 {
                0 => String::new(),
                n => format!(" (and {n} more)"),
            };
            Some(format!("{}: {}{more}", first.subject, first.message).replace('\n', " "))
        }
        (None, reason) => reason.as_ref().map(|r| r.replace('\n', " ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Finding, NodeInfo};

    fn check(id: &str, status: Status, reason: Option<&str>, findings: Vec<Finding>) -> CheckReport {
        CheckReport {
            id: id.into(),
            title: "t".into(),
            status,
            duration_ms: 1,
            reason: reason.map(String::from),
            findings,
            by_node: Default::default(),
            scope: Vec::new(),
            caused_by: Vec::new(),
        }
    }

    fn report(checks: Vec<CheckReport>) -> Report {
        Report::new("t".into(), 1, NodeInfo::default(), checks)
    }

    #[test]
    fn lines_say_each_check_and_the_verdict() {
        let failing = (0..3).map(|n| Finding::new(Status::Fail, format!("host H{n}"), "upper case")).collect();
        let report = report(vec![
            check("mesos.leader", Status::Pass, Some("3 masters"), vec![]),
            check("zk.quorum", Status::Warn, None, vec![Finding::new(Status::Warn, "zk1:2181", "standalone")]),
            check("flink.x", Status::Skip, Some("no Flink endpoint"), vec![]),
            check("hostname.case", Status::Fail, None, failing),
            check("zk.marathon-reuse", Status::Error, Some("ZooKeeper\nunreachable"), vec![]),
        ]);
        assert_eq!(
            render(&report, true),
            "[+]mesos.leader ok\n[+]zk.quorum warn: zk1:2181: standalone\n[+]flink.x skip: no Flink endpoint\n\
             [-]hostname.case fail: host H0: upper case (and 2 more)\n\
             [-]zk.marathon-reuse error: ZooKeeper unreachable\nhealthz check failed\n"
        );
        assert_eq!(render(&report, false), "fail\n");
    }

    #[test]
    fn a_run_that_only_warns_or_skips_is_healthy() {
        let report = report(vec![check("a", Status::Warn, Some("w"), vec![]), check("b", Status::Skip, None, vec![])]);
        assert_eq!(render(&report, false), "ok\n");
        assert!(render(&report, true).ends_with("[+]b skip\nhealthz check passed\n"));
        let erred = self::report(vec![check("a", Status::Error, Some("undecided"), vec![])]);
        assert_eq!(render(&erred, false), "error\n");
    }
}
