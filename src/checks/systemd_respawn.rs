//! `systemd.respawn`: Cluster daemons have one manager (systemd or the scripts).

use super::{Check, CheckMeta, Explain, Verdict, not_implemented};
use crate::facts::{Facts, Need};
use crate::report::Status;

pub struct SystemdRespawn;

static META: CheckMeta = CheckMeta {
    id: "systemd.respawn",
    title: "Cluster daemons have one manager (systemd or the scripts)",
    severity: Status::Fail,
    tags: &["node", "systemd", "mesos"],
    source: "built-in",
    explain: Explain {
        what: "Mesos/Marathon/ZooKeeper units enabled or active with Restart= on a node also driven by the Mesos cluster scripts.",
        why: "Not implemented yet.",
        fix: "Not implemented yet.",
        risk: "Not implemented yet.",
        references: &[],
    },
};

impl Check for SystemdRespawn {
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
