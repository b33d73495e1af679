//! `marathon.queue`: No Marathon app is stuck waiting for offers.

use super::{Check, CheckMeta, Explain, Verdict, not_implemented};
use crate::facts::{Facts, Need};
use crate::report::Status;

pub struct MarathonQueue;

static META: CheckMeta = CheckMeta {
    id: "marathon.queue",
    title: "No Marathon app is stuck waiting for offers",
    severity: Status::Warn,
    tags: &["marathon", "mesos"],
    source: "built-in",
    explain: Explain {
        what: "Apps waiting in Marathon's queue for offers, with the resource that is short.",
        why: "Not implemented yet.",
        fix: "Not implemented yet.",
        risk: "Not implemented yet.",
        references: &[],
    },
};

impl Check for MarathonQueue {
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
