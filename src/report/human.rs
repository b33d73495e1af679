//! `--format human`: problems first with evidence and fixes, passes folded.
//! Everything that may hold remote text passes through `text::sanitize`.

use std::fmt::Write;

use colored::{ColoredString, Colorize};

use super::{CheckReport, Finding, Report, Status, fix_text, subjects_line};
use crate::remedy::Risk;
use crate::text::sanitize;

/// How much to show: `-q` hides all but problems, `-v` expands passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    Quiet,
    Normal,
    Verbose,
}

pub fn render(report: &Report, detail: Detail) -> String {
    let mut out = String::new();
    if detail != Detail::Quiet {
        header(&mut out, report);
    }
    let width = report.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for status in [Status::Fail, Status::Error, Status::Warn] {
        for check in report.checks.iter().filter(|c| c.status == status) {
            problem(&mut out, check, width, detail);
        }
    }
    if detail != Detail::Quiet {
        passes(&mut out, report, width, detail);
        for check in report.checks.iter().filter(|c| c.status == Status::Skip) {
            let reason = check.reason.as_deref().unwrap_or("not applicable");
            let _ = writeln!(out, "{}  {}: {}", mark(Status::Skip), check.id, sanitize(reason).dimmed());
        }
    }
    footer(&mut out, report);
    out
}

fn header(out: &mut String, report: &Report) {
    let mut node = String::new();
    if let Some(host) = &report.node.hostname {
        let _ = write!(node, " · node {}", sanitize(host));
    }
    if !report.node.roles.is_empty() {
        let _ = write!(node, " (roles: {})", report.node.roles.join(", "));
    }
    let _ = writeln!(
        out,
        "{} {}{} · {} · {} checks in {:.2} s",
        "clusterdoc".bold(),
        report.version,
        node,
        sanitize(&report.node.source),
        report.checks.len(),
        report.duration_ms as f64 / 1000.0
    );
    let config = format!("config: {}", report.config.as_deref().map_or("none".into(), sanitize));
    let ignored: String = report.ignored.iter().map(|i| format!(" · {}", sanitize(&i.to_string()))).collect();
    let _ = writeln!(out, "{}{}\n", config.dimmed(), ignored.yellow());
}

fn problem(out: &mut String, check: &CheckReport, width: usize, detail: Detail) {
    let _ = write!(out, "{}  {:width$}  ", mark(check.status), check.id.bold());
    if check.findings.is_empty() {
        let reason = check.reason.as_deref().unwrap_or(&check.title);
        let _ = writeln!(out, "{}", sanitize(reason));
        return;
    }
    let _ = writeln!(out, "{}", sanitize(&check.title));
    for finding in &check.findings {
        finding_block(out, finding, detail);
    }
    if detail == Detail::Verbose {
        let _ = writeln!(out, "{PAD}{}", format!("took {} ms", check.duration_ms).dimmed());
    }
}

/// Findings sit under the check's id, labels in one column.
const PAD: &str = "         ";

fn finding_block(out: &mut String, finding: &Finding, detail: Detail) {
    let line = format!("{}: {}", sanitize(&finding.subject), sanitize(&finding.message));
    let _ = writeln!(out, "{PAD}{} {}", small_mark(finding.status), paint(finding.status, &line).bold());
    if let Some(names) = subjects_line(finding, detail == Detail::Verbose) {
        let _ = writeln!(out, "{PAD}  {:9} {}", "subjects".dimmed(), names);
    }
    for (i, evidence) in finding.evidence.iter().enumerate() {
        let label = if i == 0 { "evidence" } else { "" };
        let _ = writeln!(out, "{PAD}  {:9} {}", label.dimmed(), sanitize(evidence));
    }
    let mut last_note = None;
    for (i, remedy) in finding.remediation.iter().enumerate() {
        let label = if i == 0 { "fix" } else { "" };
        let risk = format!("[{}]", remedy.risk);
        let _ = writeln!(
            out,
            "{PAD}  {:9} {}   {}",
            label.dimmed(),
            fix_text(remedy).cyan(),
            risk_paint(remedy.risk, &risk)
        );
        // The same note under each of an aggregate's fixes says nothing new.
        if let Some(note) = &remedy.note
            && last_note != Some(note)
        {
            let _ = writeln!(out, "{PAD}            {}", sanitize(note).dimmed());
        }
        last_note = remedy.note.as_ref();
    }
}

fn risk_paint(risk: Risk, text: &str) -> ColoredString {
    match risk {
        Risk::Safe => text.dimmed(),
        Risk::Disruptive => text.yellow(),
        Risk::Destructive => text.red().bold(),
    }
}

fn passes(out: &mut String, report: &Report, width: usize, detail: Detail) {
    let passed: Vec<&CheckReport> = report.checks.iter().filter(|c| c.status == Status::Pass).collect();
    if passed.is_empty() {
        return;
    }
    if detail == Detail::Verbose {
        for check in passed {
            let note = check.reason.as_deref().map(sanitize).unwrap_or_default();
            let _ = writeln!(
                out,
                "{}  {:width$}  {} {}",
                mark(Status::Pass),
                check.id,
                note,
                format!("({} ms)", check.duration_ms).dimmed()
            );
        }
    } else {
        let ids: Vec<&str> = passed.iter().map(|c| c.id.as_str()).collect();
        let _ = writeln!(out, "{}  {}", mark(Status::Pass), ids.join(", "));
    }
}

fn footer(out: &mut String, report: &Report) {
    let s = &report.summary;
    let parts: Vec<String> = [Status::Fail, Status::Error, Status::Warn, Status::Pass, Status::Skip]
        .into_iter()
        .filter(|st| s.count(*st) > 0 || st.is_problem() && *st != Status::Error)
        .map(|st| format!("{} {}", s.count(st), st))
        .collect();
    let line = format!("{} · exit {}", parts.join(" · "), report.exit_code());
    let _ = writeln!(out, "\n{}", paint(report.status, &line).bold());
}

fn mark(status: Status) -> ColoredString {
    let text = match status {
        Status::Fail => "✗ FAIL ",
        Status::Error => "? ERROR",
        Status::Warn => "! WARN ",
        Status::Pass => "✓ pass ",
        Status::Skip => "- skip ",
    };
    paint(status, text).bold()
}

fn small_mark(status: Status) -> ColoredString {
    let text = match status {
        Status::Fail => "✗",
        Status::Error => "?",
        Status::Warn => "!",
        Status::Pass => "✓",
        Status::Skip => "-",
    };
    paint(status, text)
}

fn paint(status: Status, text: &str) -> ColoredString {
    match status {
        Status::Fail => text.red(),
        Status::Error => text.magenta(),
        Status::Warn => text.yellow(),
        Status::Pass => text.green(),
        Status::Skip => text.dimmed(),
    }
}
