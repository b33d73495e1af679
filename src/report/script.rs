//! `--script FILE`: the remediation plan as a reviewable shell script.
//! Ordered by check; every command is commented with its check, subject and
//! risk; destructive commands are commented out. A comment is always one
//! line (control characters escaped), so a value with a newline inside its
//! quotes cannot escape it, and a command holding control characters is
//! commented out too rather than pasted raw.

use std::fmt::Write;

use super::Report;
use crate::remedy::Risk;
use crate::text::sanitize;

pub fn render(report: &Report) -> String {
    let mut out = String::from("#!/bin/sh\n");
    let _ = writeln!(out, "# Remediation plan from clusterdoc {} run at {}.", report.version, report.started_at);
    out.push_str("# Review every command before running it. Destructive ones are commented out.\nset -eu\n");
    for check in &report.checks {
        for finding in check.findings.iter().filter(|f| !f.remediation.is_empty()) {
            let _ = writeln!(
                out,
                "\n# {} [{}] {}: {}",
                check.id,
                finding.status,
                comment(&finding.subject),
                comment(&finding.message)
            );
            for remedy in &finding.remediation {
                let _ = writeln!(out, "# risk: {}", remedy.risk);
                if let Some(note) = &remedy.note {
                    let _ = writeln!(out, "# note: {}", comment(note));
                }
                if remedy.risk == Risk::Destructive {
                    let _ = writeln!(out, "# {}", comment(&remedy.command));
                } else if remedy.command.chars().any(char::is_control) {
                    out.push_str("# left out: a value holds control characters; check it by hand\n");
                    let _ = writeln!(out, "# {}", comment(&remedy.command));
                } else {
                    let _ = writeln!(out, "{}", remedy.command);
                }
            }
        }
    }
    out
}

/// Text inside a `#` comment: one line, no terminal controls.
fn comment(text: &str) -> String {
    sanitize(text)
}
