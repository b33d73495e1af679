//! `marathon.leader`: Marathon has a leader registered with Mesos.

use super::{Check, CheckMeta, Explain, Verdict, not_implemented};
use crate::facts::{Facts, Need};
use crate::report::Status;

pub struct MarathonLeader;

static META: CheckMeta = CheckMeta {
    id: "marathon.leader",
    title: "Marathon has a leader registered with Mesos",
    severity: Status::Fail,
    tags: &["marathon", "mesos"],
    source: "built-in",
    explain: Explain {
        what: "Marathon has a leader and it is registered with Mesos as an active framework.",
        why: "Not implemented yet.",
        fix: "Not implemented yet.",
        risk: "Not implemented yet.",
        references: &[],
    },
};

impl Check for MarathonLeader {
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
