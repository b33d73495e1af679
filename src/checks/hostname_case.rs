//! `hostname.case`: Host names are lower case.

use super::{Check, CheckMeta, Explain, Verdict, not_implemented};
use crate::facts::{Facts, Need};
use crate::report::Status;

pub struct HostnameCase;

static META: CheckMeta = CheckMeta {
    id: "hostname.case",
    title: "Host names are lower case",
    severity: Status::Fail,
    tags: &["node", "flink", "mesos"],
    source: "built-in",
    explain: Explain {
        what: "Upper-case letters in this node's host name, Mesos --hostname settings, Mesos agent host names and Flink jobmanager.rpc.address.",
        why: "Not implemented yet.",
        fix: "Not implemented yet.",
        risk: "Not implemented yet.",
        references: &[],
    },
};

impl Check for HostnameCase {
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
