//! `--format html`: one self-contained page for an incident ticket. No
//! request leaves it (a CSP meta allows nothing but its own inline style
//! and script), it reads with JavaScript off (filters and copy buttons
//! only add to it), and the same report gives the same bytes. Every text
//! from outside goes through `text::sanitize` and then maud's escaping, so
//! it can only ever show as text.

use std::collections::BTreeSet;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::accepted::{accepted_line, marks};
use super::{CheckReport, Finding, Report, Status, fix_text, subjects_line};
use crate::remedy::Remedy;
use crate::text::sanitize;

const STYLE: &str = include_str!("html/style.css");
const SCRIPT: &str = include_str!("html/filter.js");
/// Nothing from elsewhere: no fetch, image, font or frame; only the page's
/// own style and script.
const POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";
/// Worst first, as the report is read.
const ORDER: [Status; 5] = [Status::Fail, Status::Error, Status::Warn, Status::Pass, Status::Skip];

pub fn render(report: &Report) -> String {
    let nodes: Vec<&str> = report.nodes.iter().map(|n| n.host.as_str()).collect();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(POLICY);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "clusterdoc: " (report.status) " · " (sanitize(&report.node.source)) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (header(report))
                (root_causes(report))
                (filters(report, &nodes))
                h2 { "Checks" }
                (matrix(report, &nodes))
                h2 { "Findings" }
                @for status in ORDER {
                    @for check in report.checks.iter().filter(|c| c.status == status) {
                        (check_section(check))
                    }
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
    .into_string()
}

fn header(report: &Report) -> Markup {
    let s = &report.summary;
    let accepted = accepted_line(report);
    html! {
        header {
            h1 { "clusterdoc " (report.version) ": " span class={"s-" (report.status)} { (report.status) } " (exit " (report.exit_code()) ")" }
            p.meta {
                "Checked " (report.checks.len()) " checks · " (sanitize(&report.node.source))
                @if let Some(host) = &report.node.hostname { " · node " (sanitize(host)) }
                " · " span.when { "started " (sanitize(&report.started_at)) ", took " (report.duration_ms) " ms" }
            }
            p.meta {
                "config: " (report.config.as_deref().map_or("none".into(), sanitize))
                @if let Some(phase) = report.phase { " · phase: " (phase.as_str()) }
            }
            @if !report.nodes.is_empty() {
                p.meta {
                    "fleet: " (report.nodes.len()) " nodes · "
                    (report.nodes.iter().filter(|n| n.state == super::NodeState::Reached).count()) " reached"
                    @for node in report.nodes.iter().filter(|n| n.state != super::NodeState::Reached) {
                        " · " (sanitize(&node.host)) " " (node.state) ": " (sanitize(node.error.as_deref().unwrap_or("no reason given")))
                    }
                }
            }
            @if !accepted.is_empty() { p.meta { (accepted) } }
            p.summary {
                @for status in ORDER {
                    span class={"s-" (status)} { (s.count(status)) " " (status) } " "
                }
                @if s.waived > 0 { span { (s.waived) " waived" } }
            }
        }
    }
}

/// Shown by the script only: without it, everything is on the page.
fn filters(report: &Report, nodes: &[&str]) -> Markup {
    let families: BTreeSet<&str> = report.checks.iter().map(|c| family(&c.id)).collect();
    html! {
        form #filters hidden {
            @for status in ORDER {
                label class={"s-" (status)} {
                    input type="checkbox" name="status" value=(status) checked;
                    " " (status) " (" (report.summary.count(status)) ")"
                }
            }
            label { "family "
                select #family {
                    option value="" { "all" }
                    @for name in &families { option value=(name) { (name) } }
                }
            }
            @if !nodes.is_empty() {
                label { "node "
                    select #node {
                        option value="" { "all" }
                        @for node in nodes { option value=(sanitize(node)) { (sanitize(node)) } }
                    }
                }
            }
            span #shown {}
        }
    }
}

/// Checks as rows; on a fleet, a column per node (a node check's status
/// there) beside the run's.
fn matrix(report: &Report, nodes: &[&str]) -> Markup {
    html! {
        table.matrix {
            thead { tr {
                th { "check" } th { "status" }
                @for node in nodes { th data-column=(sanitize(node)) { (sanitize(node)) } }
            } }
            tbody {
                @for check in &report.checks {
                    tr data-check=(check.id) data-status=(check.status) data-family=(family(&check.id))
                        data-nodes=(node_list(check)) data-cluster=(cluster_flag(check)) {
                        th { a href={"#check-" (check.id)} { (check.id) } }
                        td { a class={"s-" (check.status)} href={"#check-" (check.id)} { (check.status) } }
                        @for node in nodes {
                            td data-column=(sanitize(node)) {
                                @if let Some(status) = check.by_node.get(*node) {
                                    a class={"s-" (status)} href={"#check-" (check.id)} { (status) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn check_section(check: &CheckReport) -> Markup {
    html! {
        section.check class={"s-" (check.status)} id={"check-" (check.id)} data-status=(check.status)
            data-family=(family(&check.id)) data-nodes=(node_list(check)) data-cluster=(cluster_flag(check)) {
            h3 { span class={"badge s-" (check.status)} { (check.status) } " " span.id { (check.id) } " " (sanitize(&check.title)) }
            @if let Some(reason) = &check.reason { p.reason { (sanitize(reason)) } }
            @for finding in &check.findings { (finding_block(finding)) }
        }
    }
}

/// What to fix first (DESIGN.md C2), each root with its fixes and what it
/// explains; none on a page without problems.
fn root_causes(report: &Report) -> Markup {
    html! {
        @if !report.root_causes.is_empty() {
            section #roots {
                h2 { "Root causes" }
                ol {
                    @for root in &report.root_causes {
                        li.root class={"s-" (root.status)} {
                            div.what {
                                a href={"#check-" (root.check)} { (root.check) } " "
                                (sanitize(&root.subject))
                                @if let Some(node) = &root.node { " on " (sanitize(node)) }
                                ": " (sanitize(&root.message))
                            }
                            @if root.explains > 0 {
                                div.explains {
                                    "explains " (root.explains) " more: "
                                    @for (i, id) in root.explained_checks.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        a href={"#check-" (id)} { (id) }
                                    }
                                }
                            }
                            @for remedy in &root.remediation { (fix_line(remedy)) }
                        }
                    }
                }
            }
        }
    }
}

fn finding_block(finding: &Finding) -> Markup {
    let node = finding.node.as_deref().map(sanitize);
    html! {
        div.finding data-node=[node.as_deref()] {
            div.what class={"s-" (finding.status)} {
                @if let Some(node) = &node { "on " (node) ": " }
                (sanitize(&finding.subject)) ": " (sanitize(&finding.message))
            }
            @if finding.caused_by.is_empty() {
                (finding_body(finding))
            } @else {
                div.cause {
                    span.label { "caused by" }
                    @for (i, cause) in finding.caused_by.iter().enumerate() {
                        @if i > 0 { " or " }
                        a href={"#check-" (cause.check)} { (sanitize(&cause.describe())) }
                    }
                }
                details { summary { "evidence and fixes" } (finding_body(finding)) }
            }
        }
    }
}

/// A finding's marks, evidence and fixes.
fn finding_body(finding: &Finding) -> Markup {
    html! {
            @for mark in marks(finding) { div { span.label { "accepted" } (mark) } }
            @if let Some(names) = subjects_line(finding, true) { div { span.label { "subjects" } (names) } }
            @if !finding.evidence.is_empty() {
                span.label { "evidence" }
                ul { @for line in &finding.evidence { li { (sanitize(line)) } } }
            }
            @for remedy in &finding.remediation { (fix_line(remedy)) }
    }
}

/// A fix with its risk, a copy button and its note.
fn fix_line(remedy: &Remedy) -> Markup {
    html! {
        div.fix {
            span.label { "fix" }
            code { (fix_text(remedy)) }
            span class={"risk-" (remedy.risk)} { "[" (remedy.risk) "]" }
            button.copy type="button" hidden data-command=(sanitize(&remedy.command)) { "copy" }
        }
        @if let Some(note) = &remedy.note { div.note { (sanitize(note)) } }
    }
}

/// `zk` of `zk.quorum`: what the family filter offers.
fn family(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}

/// The nodes a check has findings or a status on, for the node filter.
fn node_list(check: &CheckReport) -> String {
    let mut nodes: BTreeSet<String> = check.by_node.keys().map(|n| sanitize(n)).collect();
    nodes.extend(check.findings.iter().filter_map(|f| f.node.as_deref()).map(sanitize));
    nodes.into_iter().collect::<Vec<_>>().join(" ")
}

/// A check that judged the cluster once, not each node: it stays in view
/// whichever node is chosen.
fn cluster_flag(check: &CheckReport) -> &'static str {
    if check.by_node.is_empty() { "yes" } else { "no" }
}
