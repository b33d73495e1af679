//! `--script FILE`: the remediation plan as a reviewable shell script.
//!
//! Grouped by where each command must run: this node first, then each other
//! host (or group of hosts) by name. Only commands for this node are active;
//! a command meant for another machine is commented out under a header that
//! names the machine, never wrapped in `ssh` for it: run here, `systemctl
//! stop marathon` meant for szv1000265119 would stop this node's daemon, and
//! an operator, not the plan, decides how to reach the other host.
//!
//! "This node" is the node the report is about, named at the top: the plan
//! exits at once on any other host (a report from a snapshot or a `--root`
//! image is about a node that is not the machine reading it).
//!
//! Within a group, the root causes' fixes come first (in the order to fix
//! them), then the others by check; every command is commented with its
//! check, subject and risk; destructive commands are commented out. A
//! comment is always one line (unsafe characters escaped), so a value with
//! a newline inside its quotes cannot escape it. A command holding a control
//! or format character (a bidi override, say) is commented out too, escaped,
//! rather than written raw: `/bin/sh` has no quoting that shows such a
//! character and still passes its bytes, and no host name or path needs one.

use std::fmt::Write;

use super::{CheckReport, Finding, Report};
use crate::remedy::{HostName, Remedy, Risk, RunsOn, quote};
use crate::text::{has_unsafe, sanitize};

pub fn render(report: &Report) -> String {
    let mut out = String::from("#!/bin/sh\n");
    let _ = writeln!(out, "# Remediation plan from clusterdoc {} run at {}.", report.version, report.started_at);
    out.push_str(
        "# Review every command before running it. Destructive ones are commented out, and so is every\n\
         # command that must run on another host (grouped under that host's name at the end).\nset -eu\n",
    );
    guard(&mut out, report);
    // A waived problem is accepted for now: its fixes wait for its waiver to end.
    for (check, finding) in report.checks.iter().flat_map(|c| c.findings.iter().map(move |f| (c, f))) {
        if let Some(waived) = finding.waived.as_ref().filter(|_| finding.is_waived()) {
            let what = format!("{} {}: waived until {} by {}", check.id, finding.subject, waived.expires, waived.owner);
            let _ = writeln!(out, "# not planned: {}", comment(&what));
        }
    }
    let mut steps: Vec<Step> = report
        .checks
        .iter()
        .enumerate()
        .flat_map(|(c, check)| check.findings.iter().enumerate().map(move |(f, finding)| (c, check, f, finding)))
        .filter(|(_, _, _, finding)| !finding.is_waived())
        .flat_map(|(c, check, f, finding)| {
            let root = report.root_causes.iter().position(|r| r.has((c, Some(f))));
            finding.remediation.iter().map(move |remedy| Step { check, finding, remedy, root })
        })
        .collect();
    // Root causes' fixes first, in the order to fix them (DESIGN.md C2).
    steps.sort_by_key(|step| step.root.unwrap_or(usize::MAX));
    let mut places: Vec<&RunsOn> = vec![&RunsOn::ThisNode];
    for step in &steps {
        if !places.contains(&&step.remedy.runs_on) {
            places.push(&step.remedy.runs_on);
        }
    }
    for place in places {
        let here: Vec<&Step> = steps.iter().filter(|s| &s.remedy.runs_on == place).collect();
        if here.is_empty() {
            continue;
        }
        match place.elsewhere() {
            None => out.push_str("\n# ===== On this node =====\n"),
            Some(there) => {
                let _ = writeln!(out, "\n# ===== On {}, not here: run these there =====", comment(&there));
            }
        }
        let mut last: Option<&Finding> = None;
        for step in here {
            if !last.is_some_and(|f| std::ptr::eq(f, step.finding)) {
                last = Some(step.finding);
                let _ = writeln!(
                    out,
                    "\n# {} [{}] {}: {}",
                    step.check.id,
                    step.finding.status,
                    comment(&step.finding.subject),
                    comment(&step.finding.message)
                );
            }
            command(&mut out, step.remedy);
        }
    }
    out
}

/// "This node" is the node the report is about, which a report from a
/// snapshot or a `--root` image is not: the plan stops at once on any host
/// but that one (by `uname -n`, compared without regard to case as DNS does).
fn guard(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "# For node {} ({}).",
        comment(report.node.hostname.as_deref().unwrap_or("?")),
        comment(&report.node.source)
    );
    match report.node.hostname.as_deref().and_then(|h| HostName::parse(h).ok()) {
        Some(node) => {
            let node = node.as_str().to_ascii_lowercase();
            let _ = writeln!(
                out,
                "[ \"$(uname -n | tr '[:upper:]' '[:lower:]')\" = {q} ] || {{ echo \"this plan is for {node}, not $(uname -n)\" >&2; exit 1; }}",
                q = quote(&node),
            );
        }
        None => out.push_str("# The node's name is unknown: make sure this is the node the report is about.\n"),
    }
}

/// One command of the plan and what it fixes.
struct Step<'a> {
    check: &'a CheckReport,
    finding: &'a Finding,
    remedy: &'a Remedy,
    /// Its place among the report's root causes, if it is one.
    root: Option<usize>,
}

fn command(out: &mut String, remedy: &Remedy) {
    let _ = writeln!(out, "# risk: {}", remedy.risk);
    if let Some(note) = &remedy.note {
        let _ = writeln!(out, "# note: {}", comment(note));
    }
    if has_unsafe(&remedy.command) {
        out.push_str("# left out: a value holds control or format characters; check it by hand\n");
        let _ = writeln!(out, "# {}", comment(&remedy.command));
    } else if remedy.risk == Risk::Destructive || remedy.runs_on != RunsOn::ThisNode {
        let _ = writeln!(out, "# {}", remedy.command);
    } else {
        let _ = writeln!(out, "{}", remedy.command);
    }
}

/// Text inside a `#` comment: one line, no unsafe characters.
fn comment(text: &str) -> String {
    sanitize(text)
}
