//! `--waivers FILE`: known problems accepted for a while, each with a
//! reason, an owner and an expiry (DESIGN.md C4).
//!
//! ```toml
//! [[waiver]]
//! check = "hostname.case"               # a check id, or a family: "zk."
//! subject = "host SZV*"                 # optional, `*` globs
//! node = "szv1000265118"                # optional, `*` globs
//! reason = "rename planned in CHG-1234"
//! owner = "ops-team@example.com"
//! expires = 2027-01-31                  # at most a year ahead
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::day::Day;
use crate::report::{Finding, Report, StaleWaiver, Waived};

/// How far ahead a waiver may end: a year, leap day included.
const LONGEST_DAYS: u64 = 366;
/// A waivers file is a short hand-written list.
const FILE_CAP: u64 = 1 << 20;

/// The waivers of a file, checked.
#[derive(Clone, Debug)]
pub struct Waivers {
    pub file: PathBuf,
    pub waivers: Vec<Waiver>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Waiver {
    /// A check id, a family (`zk.`) or a prefix (`zk*`), as `--only` reads it.
    pub check: String,
    pub subject: Option<String>,
    pub node: Option<String>,
    pub reason: String,
    pub owner: String,
    pub expires: Day,
}

/// The file as written; every field optional so a missing one is named.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverFile {
    #[serde(default)]
    waiver: Vec<WrittenWaiver>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WrittenWaiver {
    check: Option<String>,
    subject: Option<String>,
    node: Option<String>,
    reason: Option<String>,
    owner: Option<String>,
    expires: Option<toml::value::Datetime>,
}

impl Waivers {
    /// Reads and checks `file` against `today`: every waiver has a check, a
    /// reason, an owner and an expiry at most a year ahead. The error names
    /// the file, the waiver and the field.
    pub fn load(file: &Path, today: Day) -> Result<Waivers, String> {
        let shown = file.display();
        let text = crate::facts::read_run_file(file, FILE_CAP).map_err(|e| format!("waivers {shown}: {e}"))?;
        let written: WaiverFile = toml::from_str(&text).map_err(|e| {
            let e = e.to_string();
            format!("waivers {shown}: {}", e.trim_end().replace('\n', " "))
        })?;
        let waivers = written
            .waiver
            .into_iter()
            .enumerate()
            .map(|(i, w)| w.checked(today).map_err(|e| format!("waivers {shown}: waiver {} {e}", i + 1)))
            .collect::<Result<_, _>>()?;
        Ok(Waivers { file: file.to_path_buf(), waivers })
    }

    /// Marks each finding of `report` the first matching waiver accepts,
    /// expired ones too (the finding then counts, and says so); lists the
    /// waivers that matched nothing as stale.
    pub fn apply(&self, report: &mut Report, today: Day) {
        let mut used = vec![false; self.waivers.len()];
        for check in &mut report.checks {
            for finding in &mut check.findings {
                let Some(i) = self.waivers.iter().position(|w| w.matches(&check.id, finding)) else { continue };
                used[i] = true;
                finding.waived = Some(Box::new(self.waivers[i].mark(today)));
            }
        }
        report.stale_waivers =
            self.waivers.iter().zip(used).filter(|(_, used)| !used).map(|(w, _)| w.stale()).collect();
    }

    /// The waivers that have expired by `today`.
    pub fn expired(&self, today: Day) -> impl Iterator<Item = (usize, &Waiver)> {
        self.waivers.iter().enumerate().filter(move |(_, w)| w.expires <= today)
    }
}

impl WrittenWaiver {
    fn checked(self, today: Day) -> Result<Waiver, String> {
        let named = self.check.as_deref().unwrap_or("?");
        let fail = |why: String| format!("({named}): {why}");
        let required = |value: Option<String>, field: &str| {
            value.filter(|v| !v.trim().is_empty()).ok_or_else(|| fail(format!("`{field}` is required")))
        };
        let check = required(self.check.clone(), "check")?;
        if check.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail("`check` is a check id (hostname.case) or a family (zk.)".into()));
        }
        let reason = required(self.reason, "reason")?;
        let owner = required(self.owner, "owner")?;
        let expires = self.expires.ok_or_else(|| fail("`expires` is required (a date: 2027-01-31)".into()))?;
        let expires = match (expires.date, expires.time) {
            (Some(date), None) => Day::parse(&date.to_string()).map_err(|e| fail(format!("`expires`: {e}")))?,
            _ => return Err(fail(format!("`expires` = {expires} is not a date (2027-01-31)"))),
        };
        let latest = today.plus_days(LONGEST_DAYS);
        if expires > latest {
            return Err(fail(format!(
                "`expires` = {expires} is more than a year ahead (at most {latest}): a waiver is for a while, not for good"
            )));
        }
        Ok(Waiver { check, subject: self.subject, node: self.node, reason, owner, expires })
    }
}

impl Waiver {
    fn matches(&self, check_id: &str, finding: &Finding) -> bool {
        let check = crate::glob::check_matches(&self.check, check_id);
        let glob = |pattern: &Option<String>, value: Option<&str>| match (pattern, value) {
            (None, _) => true,
            (Some(pattern), Some(value)) => crate::glob::matches(pattern, value),
            (Some(_), None) => false,
        };
        check && glob(&self.subject, Some(&finding.subject)) && glob(&self.node, finding.node.as_deref())
    }

    fn mark(&self, today: Day) -> Waived {
        Waived {
            reason: self.reason.clone(),
            owner: self.owner.clone(),
            expires: self.expires.to_string(),
            expired: self.expires <= today,
        }
    }

    fn stale(&self) -> StaleWaiver {
        StaleWaiver {
            check: self.check.clone(),
            subject: self.subject.clone(),
            node: self.node.clone(),
            owner: self.owner.clone(),
            expires: self.expires.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CheckReport, NodeInfo, Status};

    fn fleet_report() -> Report {
        let on = |node: &str| Finding { node: Some(node.into()), ..Finding::new(Status::Fail, "host N", "upper case") };
        let check = CheckReport {
            id: "hostname.case".into(),
            title: "t".into(),
            status: Status::Fail,
            duration_ms: 1,
            reason: None,
            findings: vec![on("n1"), on("n2")],
            by_node: [("n1".to_string(), Status::Fail), ("n2".to_string(), Status::Fail)].into(),
            scope: Vec::new(),
            caused_by: Vec::new(),
        };
        Report::new("t".into(), 1, NodeInfo::default(), vec![check])
    }

    fn waiver(node: &str) -> Waivers {
        let text = format!(
            "[[waiver]]\ncheck = \"hostname.case\"\nnode = \"{node}\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-31\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.toml");
        std::fs::write(&file, text).unwrap();
        Waivers::load(&file, Day::parse("2026-12-05").unwrap()).unwrap()
    }

    #[test]
    fn a_waiver_for_one_node_makes_that_node_pass_and_leaves_the_others() {
        let mut report = fleet_report();
        waiver("n1").apply(&mut report, Day::parse("2026-12-05").unwrap());
        report.recount();
        let check = &report.checks[0];
        assert_eq!(
            (check.by_node["n1"], check.by_node["n2"], check.status),
            (Status::Pass, Status::Fail, Status::Fail)
        );
        let mut report = fleet_report();
        waiver("n*").apply(&mut report, Day::parse("2026-12-05").unwrap());
        report.recount();
        assert_eq!((report.checks[0].status, report.status, report.summary.waived), (Status::Pass, Status::Pass, 2));
    }
}
