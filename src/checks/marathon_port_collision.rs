//! `marathon.port-collision`: Marathon apps' fixed ports fit on the agents.

use super::{Check, CheckMeta, Explain, Verdict, not_implemented};
use crate::facts::{Facts, Need};
use crate::report::Status;

pub struct MarathonPortCollision;

static META: CheckMeta = CheckMeta {
    id: "marathon.port-collision",
    title: "Marathon apps' fixed ports fit on the agents",
    severity: Status::Fail,
    tags: &["marathon", "flink"],
    source: "built-in",
    explain: Explain {
        what: "Marathon apps whose fixed ports cannot all be placed on the available agents.",
        why: "Not implemented yet.",
        fix: "Not implemented yet.",
        risk: "Not implemented yet.",
        references: &[],
    },
};

impl Check for MarathonPortCollision {
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
