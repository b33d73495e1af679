//! `--format nagios`: one status line plus perfdata, exit code per the plugin
//! convention.

use super::accepted::accepted_line;
use super::{Report, Status};
use crate::text::sanitize;

pub fn render(report: &Report) -> String {
    let state = match report.exit_code() {
        0 => "OK",
        1 => "WARNING",
        2 => "CRITICAL",
        _ => "UNKNOWN",
    };
    let s = &report.summary;
    let problems: Vec<String> = [Status::Fail, Status::Error, Status::Warn]
        .into_iter()
        .flat_map(|st| report.checks.iter().filter(move |c| c.status == st))
        .map(|c| match c.findings.first() {
            Some(f) => match &f.node {
                Some(node) => format!("{} ({} on {node})", c.id, f.subject),
                None => format!("{} ({})", c.id, f.subject),
            },
            None => c.id.clone(),
        })
        .collect();
    let mut counts = vec![format!("{} fail", s.fail), format!("{} warn", s.warn)];
    if s.error > 0 {
        counts.push(format!("{} error", s.error));
    }
    let accepted = accepted_line(report);
    if !accepted.is_empty() {
        counts.push(accepted);
    }
    let mut detail = if problems.is_empty() { format!("{} checks passed", s.pass) } else { problems.join(", ") };
    // The first thing to fix leads, when it explains others.
    if let Some(root) = report.root_causes.first().filter(|r| r.explains > 0) {
        detail = format!("root cause {}, explains {} more; {detail}", root.describe(), root.explains);
    }
    let line = format!("CLUSTERDOC {state} - {}: {}", counts.join(", "), detail);
    // Perfdata follows `|`; remote text must not forge it or add lines.
    let line = sanitize(&line).replace('|', "/");
    format!(
        "{line} | pass={} warn={} fail={} skip={} error={} waived={} duration={:.3}s\n",
        s.pass,
        s.warn,
        s.fail,
        s.skip,
        s.error,
        s.waived,
        report.duration_ms as f64 / 1000.0
    )
}
