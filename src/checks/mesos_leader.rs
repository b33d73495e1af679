//! `mesos.leader`: Mesos has a leading master and active agents.

use super::{Check, CheckMeta, Explain, Verdict, not_implemented};
use crate::facts::{Facts, Need};
use crate::report::Status;

pub struct MesosLeader;

static META: CheckMeta = CheckMeta {
    id: "mesos.leader",
    title: "Mesos has a leading master and active agents",
    severity: Status::Fail,
    tags: &["mesos"],
    source: "built-in",
    explain: Explain {
        what: "A leading Mesos master, agents registered and active.",
        why: "Not implemented yet.",
        fix: "Not implemented yet.",
        risk: "Not implemented yet.",
        references: &[],
    },
};

impl Check for MesosLeader {
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
