//! `zk.quorum`: ZooKeeper ensemble has a healthy quorum.

use super::{Check, CheckMeta, Explain, Verdict, not_implemented};
use crate::facts::{Facts, Need};
use crate::report::Status;

pub struct ZkQuorum;

static META: CheckMeta = CheckMeta {
    id: "zk.quorum",
    title: "ZooKeeper ensemble has a healthy quorum",
    severity: Status::Fail,
    tags: &["zookeeper"],
    source: "built-in",
    explain: Explain {
        what: "Each ZooKeeper server answers srvr/mntr, one leader, an odd ensemble size, four-letter-word whitelist refusals.",
        why: "Not implemented yet.",
        fix: "Not implemented yet.",
        risk: "Not implemented yet.",
        references: &[],
    },
};

impl Check for ZkQuorum {
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
