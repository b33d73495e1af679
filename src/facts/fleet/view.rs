//! What the cross-node checks (`fleet.*`) compare: each node's state and
//! the parts of its facts that must agree across the fleet. The runner
//! builds it from the nodes' records; a run without `--nodes` has none.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::NodeRecord;
use crate::facts::node::ZooEnsemble;
use crate::facts::{Fact, Gatherer};
use crate::report::NodeState;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FleetView {
    pub nodes: Vec<NodeView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeView {
    /// The name it was given (findings name nodes by it).
    pub host: String,
    pub state: NodeState,
    /// Where its sshd took the session.
    pub address: Option<IpAddr>,
    /// What the node calls itself.
    pub hostname: Option<String>,
    /// Its zoo.cfg ensemble and myid, if it has a zoo.cfg.
    pub zookeeper: Option<ZooEnsemble>,
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
}

impl FleetView {
    pub fn of(records: &[NodeRecord]) -> FleetView {
        let nodes = records
            .iter()
            .map(|record| {
                let node = record.facts.as_ref().and_then(|f| f.node.as_ref()).and_then(Fact::value);
                NodeView {
                    host: record.host.clone(),
                    state: record.state,
                    address: record.address,
                    hostname: node.and_then(|n| n.hostname()).map(String::from),
                    zookeeper: node.and_then(|n| n.zookeeper_ensemble.clone()),
                }
            })
            .collect();
        FleetView { nodes }
    }

    pub fn reached(&self) -> impl Iterator<Item = &NodeView> {
        self.nodes.iter().filter(|n| n.state == NodeState::Reached)
    }
}

/// Outside a fleet run there is nothing to compare.
pub fn not_a_fleet() -> Fact<FleetView> {
    Fact::unavailable("not a fleet run: the fleet. checks compare the nodes named with --nodes")
}

pub(crate) async fn gather(_: &Gatherer) -> Fact<FleetView> {
    not_a_fleet()
}
