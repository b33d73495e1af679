//! `firewalld.ports`: firewalld allows the ports this node serves.

use super::{Check, CheckMeta, Explain, Verdict, not_implemented};
use crate::facts::{Facts, Need};
use crate::report::Status;

pub struct FirewalldPorts;

static META: CheckMeta = CheckMeta {
    id: "firewalld.ports",
    title: "firewalld allows the ports this node serves",
    severity: Status::Fail,
    tags: &["node", "network", "firewalld"],
    source: "built-in",
    explain: Explain {
        what: "firewalld running or enabled and the ports of this node's roles not allowed in the zone that applies.",
        why: "Not implemented yet.",
        fix: "Not implemented yet.",
        risk: "Not implemented yet.",
        references: &[],
    },
};

impl Check for FirewalldPorts {
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
