//! `zk.marathon-reuse`: Marathon's ZooKeeper path is not reused across versions.

use super::{Check, CheckMeta, Explain, Verdict, not_implemented};
use crate::facts::{Facts, Need};
use crate::report::Status;

pub struct ZkMarathonReuse;

static META: CheckMeta = CheckMeta {
    id: "zk.marathon-reuse",
    title: "Marathon's ZooKeeper path is not reused across versions",
    severity: Status::Fail,
    tags: &["zookeeper", "marathon"],
    source: "built-in",
    explain: Explain {
        what: "/marathon used by another Marathon version: storage version, both election backends live, flat vs nested layout, interrupted migration.",
        why: "Not implemented yet.",
        fix: "Not implemented yet.",
        risk: "Not implemented yet.",
        references: &[],
    },
};

impl Check for ZkMarathonReuse {
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
