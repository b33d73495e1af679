//! The report model. Statuses are final here; renderers only render.

pub mod human;
pub mod json;
pub mod junit;
pub mod nagios;
pub mod prometheus;
pub mod script;
pub mod tap;

#[cfg(test)]
mod format_tests;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::remedy::Remedy;

/// How a check (or a finding) ended. The order is "how bad": the run's status
/// is the maximum of its checks'.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skip,
    Warn,
    Error,
    Fail,
}

impl Status {
    pub const ALL: [Status; 5] = [Status::Pass, Status::Warn, Status::Fail, Status::Skip, Status::Error];

    /// The Nagios plugin convention: 0 ok, 1 warning, 2 critical, 3 unknown.
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Pass | Status::Skip => 0,
            Status::Warn => 1,
            Status::Fail => 2,
            Status::Error => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Error => "error",
            Status::Fail => "fail",
        }
    }

    pub fn is_problem(self) -> bool {
        matches!(self, Status::Warn | Status::Error | Status::Fail)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem a check found, with its evidence and the commands that fix it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub status: Status,
    pub subject: String,
    pub message: String,
    pub evidence: Vec<String>,
    pub remediation: Vec<Remedy>,
}

impl Finding {
    pub fn new(status: Status, subject: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            status,
            subject: subject.into(),
            message: message.into(),
            evidence: Vec::new(),
            remediation: Vec::new(),
        }
    }

    pub fn evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }

    pub fn fix(mut self, remedy: Remedy) -> Self {
        self.remediation.push(remedy);
        self
    }
}

/// The outcome of one check in a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub duration_ms: u64,
    /// Why the check skipped or errored; for a pass, what it looked at.
    pub reason: Option<String>,
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    pub error: usize,
}

impl Summary {
    pub fn of(checks: &[CheckReport]) -> Self {
        let mut s = Summary::default();
        for c in checks {
            *s.count_mut(c.status) += 1;
        }
        s
    }

    pub fn count(&self, status: Status) -> usize {
        match status {
            Status::Pass => self.pass,
            Status::Warn => self.warn,
            Status::Fail => self.fail,
            Status::Skip => self.skip,
            Status::Error => self.error,
        }
    }

    fn count_mut(&mut self, status: Status) -> &mut usize {
        match status {
            Status::Pass => &mut self.pass,
            Status::Warn => &mut self.warn,
            Status::Fail => &mut self.fail,
            Status::Skip => &mut self.skip,
            Status::Error => &mut self.error,
        }
    }
}

/// Where the run looked: shown in the human header, kept in JSON for context.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub hostname: Option<String>,
    pub roles: Vec<String>,
    /// `live`, `root DIR` or `snapshot FILE`.
    pub source: String,
}

/// A whole run (`schema_version` 1 of the JSON contract).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: String,
    pub version: String,
    pub started_at: String,
    pub duration_ms: u64,
    pub status: Status,
    pub summary: Summary,
    pub node: NodeInfo,
    /// The config file the run used (`--config`, `./clusterdoc.toml`, ...).
    #[serde(default)]
    pub config: Option<String>,
    /// Config files and check packs found but not used, and why.
    #[serde(default)]
    pub ignored: Vec<crate::trust::Ignored>,
    pub checks: Vec<CheckReport>,
}

impl Report {
    pub fn new(started_at: String, duration_ms: u64, node: NodeInfo, checks: Vec<CheckReport>) -> Self {
        Report {
            schema_version: 1,
            tool: "clusterdoc".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            started_at,
            duration_ms,
            status: worst(checks.iter().map(|c| c.status)),
            summary: Summary::of(&checks),
            node,
            config: None,
            ignored: Vec::new(),
            checks,
        }
    }

    pub fn exit_code(&self) -> i32 {
        self.status.exit_code()
    }
}

/// A check's findings as plain, sanitized text (one block per finding), for
/// formats that carry a free-text body.
pub fn plain_findings(check: &CheckReport) -> String {
    use crate::text::sanitize;
    let mut out = String::new();
    for f in &check.findings {
        out.push_str(&format!("[{}] {}: {}\n", f.status, sanitize(&f.subject), sanitize(&f.message)));
        for e in &f.evidence {
            out.push_str(&format!("  evidence: {}\n", sanitize(e)));
        }
        for r in &f.remediation {
            out.push_str(&format!("  fix [{}]: {}\n", r.risk, sanitize(&r.command)));
        }
    }
    out
}

/// The worst of some statuses; `pass` when there are none.
pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Status {
    statuses.into_iter().max().unwrap_or(Status::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_plugin_convention() {
        assert_eq!(worst([Status::Pass, Status::Skip]).exit_code(), 0);
        assert_eq!(worst([Status::Pass, Status::Warn]).exit_code(), 1);
        assert_eq!(worst([Status::Error, Status::Fail, Status::Warn]).exit_code(), 2);
        assert_eq!(worst([Status::Error, Status::Warn]).exit_code(), 3);
        assert_eq!(worst([]), Status::Pass);
    }
}
