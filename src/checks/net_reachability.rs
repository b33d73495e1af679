//! `net.reachability`: Cluster endpoints are reachable.

use super::{Check, CheckMeta, Explain, Verdict, not_implemented};
use crate::facts::{Facts, Need};
use crate::report::Status;

pub struct NetReachability;

static META: CheckMeta = CheckMeta {
    id: "net.reachability",
    title: "Cluster endpoints are reachable",
    severity: Status::Fail,
    tags: &["network"],
    source: "built-in",
    explain: Explain {
        what: "TCP reachability of every cluster endpoint, classified as open, refused, rejected, dropped or unreachable.",
        why: "Not implemented yet.",
        fix: "Not implemented yet.",
        risk: "Not implemented yet.",
        references: &[],
    },
};

impl Check for NetReachability {
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
