//! What a pipeline accepts in a report (DESIGN.md C4): findings waived for
//! a while by a named owner (`--waivers`), and findings an earlier report
//! already had (`--baseline`). Neither hides a finding: both are marks on
//! it, and such findings do not count towards the status or exit code.

use serde::{Deserialize, Serialize};

use super::{CheckReport, Finding, Report, Status, Summary, worst};

/// The waiver a finding matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waived {
    pub reason: String,
    pub owner: String,
    /// The UTC day it ends (YYYY-MM-DD): from then on the finding counts.
    pub expires: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expired: bool,
}

/// Whether an earlier report (`--baseline`) had the finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineMark {
    /// It had: the finding does not fail the run.
    Known,
    /// It had not: the finding counts.
    New,
}

/// A waiver that matched no finding of the run: perhaps the problem is
/// fixed and the waiver can go, perhaps it was written wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleWaiver {
    pub check: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    pub owner: String,
    pub expires: String,
}

impl StaleWaiver {
    /// `hostname.case host SZV* on n1 (ops@example.com, until 2027-01-31)`, safe text.
    pub fn describe(&self) -> String {
        use crate::text::sanitize;
        let mut line = sanitize(&self.check);
        if let Some(subject) = &self.subject {
            line = format!("{line} {}", sanitize(subject));
        }
        if let Some(node) = &self.node {
            line = format!("{line} on {}", sanitize(node));
        }
        format!("{line} ({}, until {})", sanitize(&self.owner), self.expires)
    }
}

/// How the run compares with its baseline report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineUse {
    pub file: String,
    /// Findings the baseline had.
    pub known: usize,
    /// Findings it had not.
    pub new: usize,
    /// Its findings this run did not make: fixed since.
    pub gone: usize,
}

impl Finding {
    /// Whether the finding counts towards its check's status: not while a
    /// waiver accepts it, not when the baseline had it.
    pub fn counts(&self) -> bool {
        let waived = self.waived.as_ref().is_some_and(|w| !w.expired);
        !waived && self.baseline != Some(BaselineMark::Known)
    }

    /// Whether a waiver that has not expired accepts it.
    pub fn is_waived(&self) -> bool {
        self.waived.as_ref().is_some_and(|w| !w.expired)
    }
}

impl CheckReport {
    /// The status of a check after some of its findings were accepted:
    /// from the findings that still count (a check all of whose problems
    /// are accepted passes). On a fleet, each node's status is counted again
    /// where findings made it (its own, or those about the cluster); a node
    /// that was not reached or could not judge keeps its status, and the
    /// check is as bad as its worst node, as when it was combined.
    fn recount(&mut self) {
        if self.findings.iter().all(Finding::counts) {
            return;
        }
        let counting = |node: Option<&str>| {
            let on = self.findings.iter().filter(|f| node.is_none() || f.node.is_none() || f.node.as_deref() == node);
            worst(on.filter(|f| f.counts()).map(|f| f.status))
        };
        if self.by_node.is_empty() {
            self.status = counting(None);
            return;
        }
        let recounted: Vec<(String, Status)> = self
            .by_node
            .iter()
            .filter(|(node, status)| {
                let own = self.findings.iter().any(|f| f.node.as_deref() == Some(node.as_str()));
                own || matches!(status, Status::Warn | Status::Fail)
            })
            .map(|(node, _)| (node.clone(), counting(Some(node))))
            .collect();
        self.by_node.extend(recounted);
        let judged = self.by_node.values().copied().filter(|s| *s != Status::Skip);
        self.status = if self.by_node.values().all(|s| *s == Status::Skip) { Status::Skip } else { worst(judged) };
    }
}

impl Report {
    /// The statuses, summary and run status after findings were marked
    /// accepted.
    pub fn recount(&mut self) {
        for check in &mut self.checks {
            check.recount();
        }
        self.status = worst(self.checks.iter().map(|c| c.status));
        self.summary = Summary::of(&self.checks);
    }
}

/// One line on what was accepted: `2 waived · 1 stale waiver · baseline
/// b.json: 3 known, 1 new, 2 fixed since`; empty when nothing was.
pub fn accepted_line(report: &Report) -> String {
    let mut parts = Vec::new();
    if report.summary.waived > 0 {
        parts.push(format!("{} waived", report.summary.waived));
    }
    match report.stale_waivers.len() {
        0 => {}
        1 => parts.push("1 stale waiver".to_string()),
        n => parts.push(format!("{n} stale waivers")),
    }
    if let Some(b) = &report.baseline {
        parts.push(format!(
            "baseline {}: {} known, {} new, {} fixed since the baseline",
            crate::text::sanitize(&b.file),
            b.known,
            b.new,
            b.gone
        ));
    }
    parts.join(" · ")
}

/// How a finding's marks read in text formats, one line each.
pub fn marks(finding: &Finding) -> Vec<String> {
    use crate::text::sanitize;
    let mut lines = Vec::new();
    if let Some(w) = &finding.waived {
        let (owner, reason) = (sanitize(&w.owner), sanitize(&w.reason));
        lines.push(match w.expired {
            false => format!("waived until {} by {owner}: {reason}", w.expires),
            true => format!("its waiver expired on {} (by {owner}: {reason}): it counts again", w.expires),
        });
    }
    match finding.baseline {
        Some(BaselineMark::Known) => lines.push("known: the baseline report has it".to_string()),
        Some(BaselineMark::New) => lines.push("new since the baseline".to_string()),
        None => {}
    }
    lines
}

/// Whether the check's status is only what is left after acceptance: it
/// has findings but none counts.
pub fn all_accepted(check: &CheckReport) -> bool {
    !check.findings.is_empty() && check.findings.iter().all(|f| !f.counts())
}
