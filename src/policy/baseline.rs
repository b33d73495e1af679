//! `--baseline REPORT.json`: a CI ratchet. Findings an earlier JSON report
//! already had (the same check, subject and node) are `known` and do not
//! fail the run; the others are `new` and do (DESIGN.md C4).

use std::collections::HashSet;
use std::path::Path;

use crate::report::{BaselineMark, BaselineUse, Report};

/// A baseline is a report: it may be a whole fleet's.
const FILE_CAP: u64 = 512 << 20;

type Key = (String, String, Option<String>);

/// The findings of an earlier report, by what makes two findings the same.
#[derive(Clone, Debug)]
pub struct Baseline {
    file: String,
    findings: HashSet<Key>,
}

impl Baseline {
    /// The findings of the clusterdoc JSON report in `file`; anything else
    /// is an error saying what it is not.
    pub fn load(file: &Path) -> Result<Baseline, String> {
        let shown = file.display();
        let text = crate::facts::read_run_file(file, FILE_CAP).map_err(|e| format!("baseline {shown}: {e}"))?;
        let not_a_report = |why: String| format!("baseline {shown}: not a clusterdoc JSON report ({why})");
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| not_a_report(e.to_string()))?;
        if value.get("tool").and_then(|t| t.as_str()) != Some("clusterdoc") {
            return Err(not_a_report("no \"tool\": \"clusterdoc\"".into()));
        }
        match value.get("schema_version").and_then(|v| v.as_u64()) {
            Some(1) => {}
            Some(other) => return Err(not_a_report(format!("schema_version {other}; this clusterdoc reads 1"))),
            None => return Err(not_a_report("no schema_version: a snapshot, perhaps (collect writes those)".into())),
        }
        let report: Report = serde_json::from_value(value).map_err(|e| not_a_report(e.to_string()))?;
        let findings = report
            .checks
            .into_iter()
            .flat_map(|check| check.findings.into_iter().map(move |f| (check.id.clone(), f.subject, f.node)))
            .collect();
        Ok(Baseline { file: shown.to_string(), findings })
    }

    /// Marks each finding of `report` known or new, and says how many of
    /// the baseline's are gone.
    pub fn apply(&self, report: &mut Report) {
        let (mut known, mut new) = (0, 0);
        let mut seen: HashSet<Key> = HashSet::new();
        for check in &mut report.checks {
            for finding in &mut check.findings {
                let key = (check.id.clone(), finding.subject.clone(), finding.node.clone());
                let mark = match self.findings.contains(&key) {
                    true => BaselineMark::Known,
                    false => BaselineMark::New,
                };
                *(if mark == BaselineMark::Known { &mut known } else { &mut new }) += 1;
                finding.baseline = Some(mark);
                seen.insert(key);
            }
        }
        let gone = self.findings.difference(&seen).count();
        report.baseline = Some(BaselineUse { file: self.file.clone(), known, new, gone });
    }
}
