//! `flink.taskmanager-orphans`: No Flink TaskManagers outlive their JobManager.

use super::{Check, CheckMeta, Explain, Verdict, not_implemented};
use crate::facts::{Facts, Need};
use crate::report::Status;

pub struct FlinkTaskmanagerOrphans;

static META: CheckMeta = CheckMeta {
    id: "flink.taskmanager-orphans",
    title: "No Flink TaskManagers outlive their JobManager",
    severity: Status::Warn,
    tags: &["flink", "mesos"],
    source: "built-in",
    explain: Explain {
        what: "Flink TaskManagers (processes or Mesos tasks) whose JobManager or framework is gone.",
        why: "Not implemented yet.",
        fix: "Not implemented yet.",
        risk: "Not implemented yet.",
        references: &[],
    },
};

impl Check for FlinkTaskmanagerOrphans {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn needs(&self) -> &[Need] {
        &[]
    }

    fn run(&self, _facts: &Facts) -> Verdict {
        not_implemented()
    }
}
