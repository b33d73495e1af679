//! `ports.local-conflict`: Ports this node serves are not taken by other processes.

use super::{Check, CheckMeta, Explain, Verdict, not_implemented};
use crate::facts::{Facts, Need};
use crate::report::Status;

pub struct PortsLocalConflict;

static META: CheckMeta = CheckMeta {
    id: "ports.local-conflict",
    title: "Ports this node serves are not taken by other processes",
    severity: Status::Fail,
    tags: &["node", "network"],
    source: "built-in",
    explain: Explain {
        what: "A port this node must serve already bound by another process.",
        why: "Not implemented yet.",
        fix: "Not implemented yet.",
        risk: "Not implemented yet.",
        references: &[],
    },
};

impl Check for PortsLocalConflict {
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
