//! `fleet.versions`: the fleet runs versions its components work together
//! with: Mesos agents against the leading master, Flink across nodes.
//!
//! The agents' and the leading master's versions come from the master's
//! `/master/state`; Flink's from each reached node's installations.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::{Check, CheckMeta, Explain, NotJudged, Verdict, conclude, observed, required};
use crate::facts::fleet::view::{NodeView, hosts};
use crate::facts::{Facts, Need};
use crate::report::{Finding, Status, node_ranges};
use crate::version::Version;

pub struct FleetVersions;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("fleet.versions"),
    title: Cow::Borrowed("Mesos and Flink versions work together"),
    severity: Status::Warn,
    needs: &[Need::Fleet, Need::Mesos],
    tags: texts!["mesos", "flink", "fleet"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("In a fleet run (--nodes): each Mesos agent's version (from the leading master's \
               /master/state) against the leading master's, and the Flink versions installed on the reached \
               nodes. Fails for an agent of another major version than the master (Mesos 1.2.1+ masters ignore 0.x \
               agents); warns for an agent newer than the master (masters are upgraded first) and for nodes with \
               different Flink versions. Agents older than the master within its major version are allowed (a \
               rolling upgrade). Skips when neither Mesos nor Flink versions are known."),
        why: Cow::Borrowed("Mesos masters and agents are compatible within one major version, and the upgrade guide \
              upgrades the masters first: an agent newer than its master may send what the master does not \
              understand (MESOS-7681: reservations forgotten after a fail-over to an older master). Flink's \
              JobManager and TaskManagers talk an RPC protocol that changes between releases: a TaskManager \
              started from another version's distribution does not register, or fails later."),
        fix: Cow::Borrowed("Upgrade the masters to the agents' version first (one at a time, the leader last), then \
              the remaining agents; install one Flink version on every node and point the sessions at it."),
        risk: Cow::Borrowed("Disruptive: upgrading a master makes the masters elect again; upgrading an agent \
               restarts it (its tasks survive with checkpointing)."),
        references: texts![
            "http://mesos.apache.org/documentation/latest/upgrades/ (upgrade the masters, then the agents; 1.2.1: \
             the master ignores 0.x agents)",
            "https://issues.apache.org/jira/browse/MESOS-7681 (new agent with an old master)",
            "https://nightlies.apache.org/flink/flink-docs-stable/docs/ops/upgrading/ (the cluster runs one \
             version)",
        ],
    },
};

impl Check for FleetVersions {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let view = required(&facts.fleet, "the fleet's nodes")?;
        let (mut findings, mut undecided, mut judged) = (Vec::new(), Vec::new(), Vec::new());
        let mesos = required(&facts.mesos, "Mesos facts").and_then(|m| observed(&m.state, "the leading master"));
        match mesos {
            Ok(state) => match state.version.as_deref().map(str::parse::<Version>) {
                Some(Ok(master)) => {
                    let agents = agent_versions(state.agents.iter().map(|a| (a.hostname.as_str(), a.version.as_deref())));
                    judged.push(format!("{} Mesos agents against master {master}", agents.values().map(Vec::len).sum::<usize>()));
                    findings.extend(mesos_findings(master, &agents));
                }
                Some(Err(_)) | None => undecided.push("the leading master does not report a version it can be compared by".into()),
            },
            Err(NotJudged::Skip(_)) => {}
            Err(NotJudged::Error(why)) => undecided.push(why),
        }
        let flink: Vec<(&NodeView, Version)> =
            view.reached().flat_map(|n| n.flink.iter().map(move |f| (n, f.version))).collect();
        if !flink.is_empty() {
            judged.push(format!("Flink on {} nodes", flink.len()));
            findings.extend(flink_finding(&flink));
        }
        if judged.is_empty() && undecided.is_empty() {
            return Err(NotJudged::Skip("no Mesos master answered and no reached node has a Flink version".into()));
        }
        conclude(findings, undecided, judged.join("; "))
    }
}

/// Agents by version (`None`: it did not say), each with its host names.
fn agent_versions<'a>(agents: impl Iterator<Item = (&'a str, Option<&'a str>)>) -> BTreeMap<Option<Version>, Vec<&'a str>> {
    let mut by_version: BTreeMap<Option<Version>, Vec<&str>> = BTreeMap::new();
    for (host, version) in agents {
        by_version.entry(version.and_then(|v| v.parse().ok())).or_default().push(host);
    }
    by_version
}

fn mesos_findings(master: Version, agents: &BTreeMap<Option<Version>, Vec<&str>>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (version, hosts) in agents {
        let Some(version) = version else { continue };
        let (status, message) = if version.major != master.major {
            (
                Status::Fail,
                format!(
                    "Mesos {version} agents with a Mesos {master} master: another major version, which the master does \
                     not work with (1.2.1+ masters ignore 0.x agents)"
                ),
            )
        } else if *version > master {
            (
                Status::Warn,
                format!("Mesos {version} agents are newer than the Mesos {master} master: the masters are upgraded first"),
            )
        } else {
            continue;
        };
        findings.push(
            Finding::new(status, format!("Mesos agents {}", node_ranges(hosts)), message)
                .evidence(format!("/master/state: master {master}; agents {}: {version}", node_ranges(hosts))),
        );
    }
    findings
}

fn flink_finding(flink: &[(&NodeView, Version)]) -> Option<Finding> {
    let mut by_version: BTreeMap<Version, Vec<&NodeView>> = BTreeMap::new();
    for (node, version) in flink {
        let nodes = by_version.entry(*version).or_default();
        if !nodes.iter().any(|n| std::ptr::eq(*n, *node)) {
            nodes.push(node);
        }
    }
    if by_version.len() < 2 {
        return None;
    }
    let mut finding = Finding::new(
        Status::Warn,
        "Flink installations",
        format!(
            "{} Flink versions on the nodes: a TaskManager of another version than its JobManager does not register",
            by_version.len()
        ),
    );
    for (version, nodes) in &by_version {
        finding = finding.evidence(format!("Flink {version}: {}", hosts(nodes)));
    }
    Some(finding)
}
