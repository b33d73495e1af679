//! `fleet.name-resolution`: every node resolves the names the cluster's
//! daemons registered with to the addresses they registered at.
//!
//! The names and addresses come from the leading master's `/master/state`
//! (its own `hostname` and `pid`, each agent's); each reached node looks
//! them up as glibc does (its /etc/hosts, then DNS).

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::{Check, CheckMeta, Explain, NotJudged, Verdict, conclude, required};
use crate::facts::dns::{Lookup, PeerLookup};
use crate::facts::fleet::view::{NodeView, hosts};
use crate::facts::{Facts, Need};
use crate::remedy::Cmd;
use crate::report::{Finding, Status};

pub struct FleetNameResolution;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("fleet.name-resolution"),
    title: Cow::Borrowed("Every node resolves its peers' names to where they registered"),
    severity: Status::Fail,
    needs: &[Need::Fleet],
    tags: texts!["dns", "fleet"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("In a fleet run (--nodes), clusterdoc hands every node the host names the leading Mesos \
               master and its agents registered with, and the addresses they registered at (their pids), and each \
               node looks them up as glibc does (/etc/hosts first, then DNS). Fails for a name a node resolves to \
               other addresses (a loopback line for its own name, a stale entry) or not at all, listing the nodes \
               that disagree. Cannot decide (error) when a node's DNS gave no answer."),
        why: Cow::Borrowed("Frameworks and their tasks reach each other by the names Mesos hands out: a Flink \
              TaskManager connects to the JobManager's host name, Marathon's health checks and proxies use the \
              agents' names. A node that resolves a peer's name to 127.0.1.1 (Debian's host-name line) or to an old \
              address connects to itself or to nothing: the write-up's TaskManagers that could not reach their \
              JobManager, seen from the side of the node that fails."),
        fix: Cow::Borrowed("On each node that disagrees, make the name resolve to the registered address: fix the \
              DNS record, or put `ADDRESS NAME` in /etc/hosts and remove lines that map the name elsewhere."),
        risk: Cow::Borrowed("Safe: adding a hosts line changes only how that node resolves the name; processes that \
               cached the old address need a restart to use the new one."),
        references: texts![
            "https://man7.org/linux/man-pages/man5/hosts.5.html",
            "http://mesos.apache.org/documentation/latest/configuration/master-and-agent/ (--hostname: the name \
             advertised to frameworks)",
            "https://nightlies.apache.org/flink/flink-docs-release-1.13/docs/deployment/resource-providers/mesos/ \
             (TaskManagers connect to the JobManager's address)",
        ],
    },
};

impl Check for FleetNameResolution {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let view = required(&facts.fleet, "the fleet's nodes")?;
        let asked: Vec<(&NodeView, &PeerLookup)> =
            view.reached().flat_map(|n| n.peers.iter().map(move |p| (n, p))).collect();
        if asked.is_empty() {
            return Err(NotJudged::Skip(
                "no node was given names to resolve: the leading Mesos master's state is needed (--mesos), and nodes \
                 pulled with --pull resolve none"
                    .into(),
            ));
        }
        // Per name, per way it went wrong, the nodes it went wrong on.
        let mut wrong: BTreeMap<(&str, String), Vec<&NodeView>> = BTreeMap::new();
        let mut undecided = Vec::new();
        for (node, peer) in &asked {
            match &peer.forward {
                Lookup::Found { value, .. } if value.contains(&peer.registered) => {}
                Lookup::Found { value, source } => {
                    let got: Vec<String> = value.iter().map(|a| a.to_string()).collect();
                    let how = format!("resolves to {} ({source})", got.join(", "));
                    wrong.entry((peer.name.as_str(), how)).or_default().push(node);
                }
                Lookup::NotFound { detail } => {
                    wrong.entry((peer.name.as_str(), format!("does not resolve ({detail})"))).or_default().push(node);
                }
                Lookup::Unanswered { error } => undecided.push(format!("{} on {}: {error}", peer.name, node.host)),
            }
        }
        let registered: BTreeMap<&str, String> =
            asked.iter().map(|(_, p)| (p.name.as_str(), p.registered.to_string())).collect();
        let findings = wrong
            .into_iter()
            .map(|((name, how), nodes)| {
                let address = &registered[name];
                let mut finding = Finding::new(
                    Status::Fail,
                    format!("name {name}"),
                    format!("{name} {how} on {}, not {address}, where it registered with Mesos", hosts(&nodes)),
                );
                for node in &nodes {
                    finding = finding.fix(
                        Cmd::new("printf")
                            .word(r"'%s %s\n'")
                            .value(address)
                            .value(name)
                            .word(">> /etc/hosts")
                            .safe()
                            .on(node.runs_on())
                            .with_note(format!("or fix the DNS record; remove other /etc/hosts lines naming {name}")),
                    );
                }
                finding
            })
            .collect();
        let names = registered.len();
        let nodes = view.reached().filter(|n| !n.peers.is_empty()).count();
        conclude(findings, undecided, format!("{names} registered names resolved on {nodes} nodes"))
    }
}
