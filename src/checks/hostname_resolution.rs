//! `hostname.resolution`: Host name resolves to a routable address.

use super::{Check, CheckMeta, Explain, Verdict, not_implemented};
use crate::facts::{Facts, Need};
use crate::report::Status;

pub struct HostnameResolution;

static META: CheckMeta = CheckMeta {
    id: "hostname.resolution",
    title: "Host name resolves to a routable address",
    severity: Status::Fail,
    tags: &["node", "dns"],
    source: "built-in",
    explain: Explain {
        what: "A host name that does not resolve, resolves to loopback (127.0.1.1), or whose reverse lookup disagrees.",
        why: "Not implemented yet.",
        fix: "Not implemented yet.",
        risk: "Not implemented yet.",
        references: &[],
    },
};

impl Check for HostnameResolution {
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
