//! What the cross-node checks (`fleet.*`) compare: each node's state and
//! the parts of its facts that must agree across the fleet. The runner
//! builds it from the nodes' records as they arrive; a run without
//! `--nodes` has none.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::NodeRecord;
use crate::facts::dns::PeerLookup;
use crate::facts::node::{MesosFlagFile, NodeFacts, SourcedValue, ZooEnsemble};
use crate::facts::{Fact, Gatherer};
use crate::remedy::{HostName, RunsOn};
use crate::report::{NodeState, node_ranges};
use crate::target::Role;
use crate::version::Version;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FleetView {
    pub nodes: Vec<NodeView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeView {
    /// The name it was given (findings name nodes by it).
    pub host: String,
    pub state: NodeState,
    /// Why it was not reached (ssh's message, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Where its sshd took the session.
    pub address: Option<IpAddr>,
    /// What the node calls itself.
    pub hostname: Option<String>,
    /// The roles found on it.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Its zoo.cfg ensemble and myid, if it has a zoo.cfg.
    pub zookeeper: Option<ZooEnsemble>,
    /// `/etc/mesos/zk`, if set.
    #[serde(default)]
    pub mesos_zk: Option<SourcedValue>,
    /// The master's `--quorum` flag file, if set.
    #[serde(default)]
    pub mesos_quorum: Option<MesosFlagFile>,
    /// Marathon's `--zk` and `--master` settings, if set.
    #[serde(default)]
    pub marathon_zk: Option<SourcedValue>,
    #[serde(default)]
    pub marathon_master: Option<SourcedValue>,
    /// The Flink installations found on it whose version is known.
    #[serde(default)]
    pub flink: Vec<FlinkVersion>,
    /// How far its clock was ahead of the orchestrator's (ms).
    #[serde(default)]
    pub clock_skew_ms: Option<i64>,
    /// How it resolves the names the cluster's daemons registered with.
    #[serde(default)]
    pub peers: Vec<PeerLookup>,
}

impl NodeView {
    /// Whether `host` (an address or a name) is this node: the address its
    /// session reached, the name it was given, or its own host name.
    pub fn is(&self, host: &str) -> bool {
        let named = |name: &str| name.trim_end_matches('.').eq_ignore_ascii_case(host.trim_end_matches('.'));
        self.address.is_some_and(|a| host.parse::<IpAddr>() == Ok(a))
            || named(&self.host)
            || self.hostname.as_deref().is_some_and(named)
    }

    /// Where a fix for this node runs: on it, by the name it was given.
    pub fn runs_on(&self) -> RunsOn {
        HostName::parse(&self.host).map_or(RunsOn::ThisNode, RunsOn::Host)
    }
}

/// A Flink installation's version and where it was read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlinkVersion {
    pub version: Version,
    pub source: String,
}

/// Nodes by the names they were given, numbered runs folded (`m[1-3]`).
pub fn hosts(nodes: &[&NodeView]) -> String {
    node_ranges(&nodes.iter().map(|n| n.host.as_str()).collect::<Vec<_>>())
}

impl NodeView {
    /// What the cross-node checks compare of a node's record.
    pub fn of(record: &NodeRecord) -> NodeView {
        let facts = record.facts.as_ref();
        let node = facts.and_then(|f| f.node.as_ref()).and_then(Fact::value);
        let roles = facts.and_then(|f| f.roles.as_ref()).and_then(Fact::value).map(|r| r.roles.clone());
        NodeView {
            host: record.host.clone(),
            state: record.state,
            error: record.error.clone(),
            address: record.address,
            hostname: node.and_then(|n| n.hostname()).map(String::from),
            roles: roles.unwrap_or_default(),
            zookeeper: node.and_then(|n| n.zookeeper_ensemble.clone()),
            mesos_zk: node.and_then(|n| n.mesos_zk.clone()),
            mesos_quorum: node.and_then(|n| n.mesos_quorum.first().cloned()),
            marathon_zk: node.and_then(|n| n.marathon_zk.clone()),
            marathon_master: node.and_then(|n| n.marathon_master.clone()),
            flink: node.map(flink_versions).unwrap_or_default(),
            clock_skew_ms: record.clock_skew_ms,
            peers: facts
                .and_then(|f| f.dns.as_ref())
                .and_then(Fact::value)
                .map(|d| d.peers.clone())
                .unwrap_or_default(),
        }
    }
}

impl FleetView {
    pub fn reached(&self) -> impl Iterator<Item = &NodeView> {
        self.nodes.iter().filter(|n| n.state == NodeState::Reached)
    }

    /// A reason a cross-node check cannot decide for each node not reached:
    /// `node HOST (STATE) ` and what it `may` be.
    pub fn not_reached_may(&self, may: &str) -> Vec<String> {
        let unreached = self.nodes.iter().filter(|n| n.state != NodeState::Reached);
        unreached.map(|n| format!("node {} ({}) {may}", n.host, n.state)).collect()
    }
}

fn flink_versions(node: &NodeFacts) -> Vec<FlinkVersion> {
    let known = node.flink.iter().filter_map(|install| {
        let version = install.version?;
        Some(FlinkVersion { version, source: install.version_source.clone().unwrap_or_else(|| install.conf.clone()) })
    });
    known.collect()
}

/// Outside a fleet run there is nothing to compare.
pub fn not_a_fleet() -> Fact<FleetView> {
    Fact::unavailable("not a fleet run: the fleet. checks compare the nodes named with --nodes")
}

pub(crate) async fn gather(_: &Gatherer) -> Fact<FleetView> {
    not_a_fleet()
}
