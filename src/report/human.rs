//! `--format human`: problems first with evidence and fixes, passes folded.
//! Everything that may hold remote text passes through `text::sanitize`.

use std::fmt::Write;

use colored::{ColoredString, Colorize};

use super::accepted::{accepted_line, all_accepted, marks};
use super::{
    Cause, CheckReport, Finding, FleetNode, NodeState, Report, RootCause, Status, fix_text, node_ranges, subjects_line,
};
use crate::remedy::{Remedy, Risk, RunsOn};
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
    roots(&mut out, report, detail);
    for status in [Status::Fail, Status::Error, Status::Warn] {
        for check in report.checks.iter().filter(|c| c.status == status) {
            problem(&mut out, check, width, detail);
        }
    }
    // Problems accepted (waived, or known to the baseline) stay in sight.
    for check in report.checks.iter().filter(|c| c.status == Status::Pass && all_accepted(c)) {
        problem(&mut out, check, width, detail);
    }
    for stale in &report.stale_waivers {
        let line = format!("stale waiver: {} matched no finding: fixed, or written wrong?", stale.describe());
        let _ = writeln!(out, "{}  {}", mark(Status::Warn), line.yellow());
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
    if !report.nodes.is_empty() {
        let _ = writeln!(out, "{}", fleet_line(&report.nodes));
    }
    let config = format!("config: {}", report.config.as_deref().map_or("none".into(), sanitize));
    let ignored: String = report.ignored.iter().map(|i| format!(" · {}", sanitize(&i.to_string()))).collect();
    let phase = report.phase.map(|p| format!(" · phase: {}", p.as_str())).unwrap_or_default();
    let _ = writeln!(out, "{}{}{}", config.dimmed(), phase.bold(), ignored.yellow());
    let accepted = accepted_line(report);
    if !accepted.is_empty() {
        let _ = writeln!(out, "{}", accepted.dimmed());
    }
    out.push('\n');
}

/// The root causes first, when any explains others: each with its fix and
/// what it explains (DESIGN.md C2).
fn roots(out: &mut String, report: &Report, detail: Detail) {
    if !report.root_causes.iter().any(|r| r.explains > 0) {
        return;
    }
    let (explaining, alone): (Vec<&RootCause>, Vec<&RootCause>) =
        report.root_causes.iter().partition(|r| r.explains > 0);
    for root in explaining {
        let line = format!("{}: {}", sanitize(&root.describe()), sanitize(&root.message));
        let _ = writeln!(out, "{}  {}", "ROOT   ".bold().reversed(), paint(root.status, &line).bold());
        let fixes = if detail == Detail::Verbose { root.remediation.len() } else { ROOT_FIXES };
        for (i, remedy) in root.remediation.iter().take(fixes).enumerate() {
            fix_row(out, i == 0, &fix_text(remedy), remedy.risk);
        }
        let more = if root.explains == 1 { "problem" } else { "problems" };
        let line = format!("explains {} more {more}: {}", root.explains, root.explained_checks.join(", "));
        let _ = writeln!(out, "{PAD}  {}", line.bold());
    }
    if !alone.is_empty() {
        let mut checks: Vec<(&str, usize)> = Vec::new();
        for root in alone {
            match checks.iter_mut().find(|(id, _)| *id == root.check) {
                Some((_, n)) => *n += 1,
                None => checks.push((&root.check, 1)),
            }
        }
        let named: Vec<String> =
            checks.iter().map(|(id, n)| if *n == 1 { id.to_string() } else { format!("{id} ({n})") }).collect();
        let line = format!("and independent of these: {} (below)", named.join(", "));
        let _ = writeln!(out, "{}  {}", "ROOT   ".bold().reversed(), line);
    }
    out.push('\n');
}

/// The fixes a root block shows (`-v`: all).
const ROOT_FIXES: usize = 2;

fn problem(out: &mut String, check: &CheckReport, width: usize, detail: Detail) {
    let _ = write!(out, "{}  {:width$}  ", mark(check.status), check.id.bold());
    if check.findings.is_empty() {
        let reason = check.reason.as_deref().unwrap_or(&check.title);
        let _ = writeln!(out, "{}", sanitize(reason));
        if let Some(line) = caused_by_line(&check.caused_by) {
            let _ = writeln!(out, "{PAD}  {:9} {}", "", line.dimmed());
        }
        return;
    }
    let _ = writeln!(out, "{}", sanitize(&check.title));
    for (nodes, finding) in across_nodes(&check.findings) {
        match caused_by_line(&finding.caused_by) {
            Some(cause) if detail != Detail::Verbose => folded(out, finding, &nodes, &cause),
            cause => {
                finding_block(out, finding, &nodes, detail);
                if let Some(cause) = cause {
                    let _ = writeln!(out, "{PAD}  {:9} {}", "cause".dimmed(), cause);
                }
            }
        }
    }
    if detail == Detail::Verbose {
        let _ = writeln!(out, "{PAD}{}", format!("took {} ms", check.duration_ms).dimmed());
    }
}

/// Findings sit under the check's id, labels in one column.
const PAD: &str = "         ";

/// The fleet line: how many nodes were reached, and why the others were not.
fn fleet_line(nodes: &[FleetNode]) -> String {
    /// Unreached nodes named with their reason; the rest are counted.
    const NAMED: usize = 5;
    let reached: Vec<&str> = nodes.iter().filter(|n| n.state == NodeState::Reached).map(|n| n.host.as_str()).collect();
    let mut line = format!("fleet: {} nodes · {} reached", nodes.len(), reached.len());
    if !reached.is_empty() {
        let _ = write!(line, " ({})", sanitize(&node_ranges(&reached)));
    }
    let unreached: Vec<&FleetNode> = nodes.iter().filter(|n| n.state != NodeState::Reached).collect();
    for node in unreached.iter().take(NAMED) {
        let why = node.error.as_deref().unwrap_or("no reason given");
        let _ = write!(line, " · {} {}: {}", sanitize(&node.host), node.state, sanitize(why));
    }
    if unreached.len() > NAMED {
        let _ = write!(line, " · {} more not reached (the JSON report's nodes lists them)", unreached.len() - NAMED);
    }
    let line = if unreached.is_empty() { line.normal() } else { line.yellow() };
    line.to_string()
}

/// A fleet's findings with those alike on several nodes (same status,
/// subject, message and commands) shown once, with their nodes and the
/// evidence of the first (each node's is in the JSON report).
fn across_nodes(findings: &[Finding]) -> Vec<(Vec<&str>, &Finding)> {
    let mut groups: Vec<(Vec<&str>, &Finding)> = Vec::new();
    for finding in findings {
        let commands = |f: &Finding| f.remediation.iter().map(|r| (r.command.clone(), r.risk)).collect::<Vec<_>>();
        let alike = |other: &Finding| {
            other.status == finding.status
                && other.subject == finding.subject
                && other.message == finding.message
                && commands(other) == commands(finding)
                && other.waived == finding.waived
                && other.baseline == finding.baseline
                && other.caused_by == finding.caused_by
        };
        match (finding.node.as_deref(), groups.iter_mut().find(|(_, f)| f.node.is_some() && alike(f))) {
            (Some(node), Some((nodes, _))) => nodes.push(node),
            (node, _) => groups.push((node.into_iter().collect(), finding)),
        }
    }
    groups
}

fn finding_block(out: &mut String, finding: &Finding, nodes: &[&str], detail: Detail) {
    let on = node_ranges(nodes);
    let place = if nodes.is_empty() { String::new() } else { format!("on {}: ", sanitize(&on)) };
    let line = format!("{place}{}: {}", sanitize(&finding.subject), sanitize(&finding.message));
    let _ = writeln!(out, "{PAD}{} {}", small_mark(finding.status), paint(finding.status, &line).bold());
    for (i, accepted) in marks(finding).iter().enumerate() {
        let label = if i == 0 { "accepted" } else { "" };
        let line = if finding.counts() { accepted.yellow() } else { accepted.dimmed() };
        let _ = writeln!(out, "{PAD}  {:9} {}", label.dimmed(), line);
    }
    if let Some(names) = subjects_line(finding, detail == Detail::Verbose) {
        let _ = writeln!(out, "{PAD}  {:9} {}", "subjects".dimmed(), names);
    }
    for (i, evidence) in finding.evidence.iter().enumerate() {
        let label = if i == 0 { "evidence" } else { "" };
        let _ = writeln!(out, "{PAD}  {:9} {}", label.dimmed(), sanitize(evidence));
    }
    if let (Some(first), true) = (&finding.node, nodes.len() > 1) {
        let whose = format!("(the evidence of {}; each node's is in the JSON report)", sanitize(first));
        let _ = writeln!(out, "{PAD}  {:9} {}", "", whose.dimmed());
    }
    let mut last_note = None;
    for (i, remedy) in finding.remediation.iter().enumerate() {
        fix_row(out, i == 0, &fleet_fix_text(remedy, finding, &on), remedy.risk);
        // The same note under each of an aggregate's fixes says nothing new.
        if let Some(note) = &remedy.note
            && last_note != Some(note)
        {
            let _ = writeln!(out, "{PAD}            {}", sanitize(note).dimmed());
        }
        last_note = remedy.note.as_ref();
    }
}

/// `caused by zk.quorum (ZooKeeper ensemble ...)`, if anything explains it.
fn caused_by_line(causes: &[Cause]) -> Option<String> {
    let named: Vec<String> = causes.iter().map(|c| sanitize(&c.describe())).collect();
    (!named.is_empty()).then(|| format!("caused by {}", named.join(" or ")))
}

/// A problem another explains, in one line: its evidence and fixes are
/// under its root (`-v` shows them here).
fn folded(out: &mut String, finding: &Finding, nodes: &[&str], cause: &str) {
    let on = node_ranges(nodes);
    let place = if nodes.is_empty() { String::new() } else { format!("on {}: ", sanitize(&on)) };
    let line = format!("{place}{}: {}", sanitize(&finding.subject), sanitize(&finding.message));
    let _ = writeln!(out, "{PAD}{} {}", small_mark(finding.status), paint(finding.status, &line));
    let _ = writeln!(out, "{PAD}  {:9} {}", "", format!("{cause} (-v shows its evidence and fixes)").dimmed());
}

/// One fix and its risk, under the label `fix` when it is the first.
fn fix_row(out: &mut String, first: bool, command: &str, risk: Risk) {
    let label = if first { "fix" } else { "" };
    let shown = format!("[{risk}]");
    let _ = writeln!(out, "{PAD}  {:9} {}   {}", label.dimmed(), command.cyan(), risk_paint(risk, &shown));
}

/// A fix of findings alike on several nodes runs on each of them.
fn fleet_fix_text(remedy: &Remedy, finding: &Finding, nodes: &str) -> String {
    match (&remedy.runs_on, &finding.node) {
        (RunsOn::Host(host), Some(node)) if host.as_str() == node => {
            format!("on {}: {}", sanitize(nodes), sanitize(&remedy.command))
        }
        _ => fix_text(remedy),
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
    let passed: Vec<&CheckReport> =
        report.checks.iter().filter(|c| c.status == Status::Pass && !all_accepted(c)).collect();
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
        .chain((s.waived > 0).then(|| format!("{} waived", s.waived)))
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
