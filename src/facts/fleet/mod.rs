//! Facts of a fleet (DESIGN.md C1): each node's own facts, gathered by
//! `clusterdoc collect --node` run on the node through the system's OpenSSH
//! (never an SSH of our own), or with `--pull` read from the `/snapshot` of
//! the `clusterdoc serve` the node runs (C3), at most `--fanout` nodes at a
//! time, all under the run's deadline. A node that is not reached is a state with ssh's own
//! words, never facts.

mod destination;
mod discover;
mod pull;
mod remote_run;
mod session;
mod ssh;
pub mod view;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

pub use destination::{DISCOVER, Destination, NodeEntry, User, node_list};
pub use discover::discover;
pub use pull::Pull;
pub use remote_run::RemoteBin;
pub use session::epoch_ms;
pub use ssh::SshCommand;

use super::{Fact, Facts, Need};
use crate::config::Config;
pub use crate::report::NodeState;
use crate::target::NodeAsks;

/// The sources that describe a node itself: in a fleet run each node
/// gathers them, and the orchestrator everything else, once.
pub const ON_NODE: [Need; 8] = [
    Need::Roles,
    Need::Node,
    Need::Dns,
    Need::Systemd,
    Need::Processes,
    Need::Firewalld,
    Need::Sockets,
    // What the node reaches of the cluster: the reachability matrix.
    Need::Reach,
];

/// What `collect --node` gathers: the node's own sources and the check data
/// its node checks read.
pub fn node_sources() -> BTreeSet<Need> {
    ON_NODE.into_iter().chain([Need::Knowledge]).collect()
}

/// Whether a check of these needs judges each node on its own facts.
pub fn judges_nodes(needs: &[Need]) -> bool {
    needs.iter().any(|need| ON_NODE.contains(need))
}

/// One node of a fleet snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// The node as the user named it, without `user@` and `:port`.
    pub host: String,
    /// Its place in the node list (from 0): records are written and judged
    /// in the order their sessions end, reports list nodes in this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed: Option<usize>,
    /// The address the session reached (as the node's sshd saw it), else
    /// the host when it is an IP address.
    pub address: Option<IpAddr>,
    pub state: NodeState,
    pub duration_ms: u64,
    pub error: Option<String>,
    /// How far the node's clock was ahead of the orchestrator's (negative:
    /// behind), when it was reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_skew_ms: Option<i64>,
    /// The node's facts, when it was reached.
    pub facts: Option<Facts>,
}

/// Whether the node list asks for `discover`.
pub fn wants_discovery(cfg: &Config) -> bool {
    cfg.nodes.iter().any(|item| item.trim() == DISCOVER)
}

/// How far a fleet run is, for a progress display: nodes named, nodes
/// done, and of those the ones not reached.
#[derive(Debug, Default)]
pub struct Tally {
    pub total: AtomicUsize,
    pub done: AtomicUsize,
    pub not_reached: AtomicUsize,
}

impl Tally {
    /// `(done, total, not reached)` now.
    pub fn read(&self) -> (usize, usize, usize) {
        let load = |n: &AtomicUsize| n.load(Ordering::Relaxed);
        (load(&self.done), load(&self.total), load(&self.not_reached))
    }

    fn finished(&self, record: &NodeRecord) {
        self.done.fetch_add(1, Ordering::Relaxed);
        if record.state != NodeState::Reached {
            self.not_reached.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A fleet run: the nodes and how to reach them.
#[derive(Clone, Debug)]
pub struct Fleet {
    pub nodes: Vec<NodeEntry>,
    pub ssh: SshCommand,
    pub fanout: usize,
    pub remote_bin: RemoteBin,
    /// `--timeout`: ssh's ConnectTimeout, and the nodes' own.
    pub timeout: Duration,
    /// `--pull`: each node's snapshot from its `clusterdoc serve` instead
    /// of an ssh session.
    pub pull: Option<Pull>,
}

impl Fleet {
    /// The fleet the settings name (`--nodes`, `--ssh`, `--fanout`,
    /// `--remote-bin`), `None` without nodes. Deploy files are read here;
    /// `discover` stands for the `discovered` names.
    pub fn from_config(cfg: &Config, discovered: &[String]) -> Result<Option<Fleet>, String> {
        if cfg.nodes.is_empty() {
            return Ok(None);
        }
        Ok(Some(Fleet {
            nodes: node_list(&cfg.nodes, discovered)?,
            ssh: SshCommand::parse(&cfg.ssh)?,
            fanout: cfg.fanout,
            remote_bin: cfg.remote_bin.parse()?,
            timeout: cfg.timeout,
            pull: cfg.pull.as_deref().map(|template| Pull::new(template, cfg)).transpose()?,
        }))
    }

    /// Every node's record as its session ends, by `deadline`. Sessions start as others end, whichever node that is:
    /// a slow node holds up only its own slot. Nothing is kept here: what
    /// the caller does not keep of a record is gone.
    pub fn records<'a>(
        &'a self,
        deadline: Instant,
        asks: &'a NodeAsks,
        tally: &'a Tally,
    ) -> impl Stream<Item = NodeRecord> + 'a {
        tally.total.store(self.nodes.len(), Ordering::Relaxed);
        let visits = self.nodes.iter().enumerate().map(move |(i, entry)| async move {
            let record = NodeRecord { listed: Some(i), ..self.visit(entry, deadline, asks).await };
            tally.finished(&record);
            record
        });
        stream::iter(visits).buffer_unordered(self.fanout)
    }

    async fn visit(&self, entry: &NodeEntry, deadline: Instant, asks: &NodeAsks) -> NodeRecord {
        let started = Instant::now();
        let destination = match entry {
            NodeEntry::Valid(destination) => destination,
            NodeEntry::Refused { given, reason } => {
                return NodeRecord {
                    host: given.clone(),
                    listed: None,
                    address: None,
                    state: NodeState::Refused,
                    duration_ms: 0,
                    error: Some(reason.clone()),
                    clock_skew_ms: None,
                    facts: None,
                };
            }
        };
        let outcome = match &self.pull {
            Some(pull) => pull.run(destination, deadline).await,
            None => session::run(self, destination, deadline, asks).await,
        };
        let (reached_at, clock_skew_ms, facts) =
            outcome.answer.map_or((None, None, None), |a| (a.address, a.clock_skew_ms, Some(a.facts)));
        // The node's copy of the check data served its own gathering; every
        // node is judged with this run's, so a fleet does not keep N copies.
        let mut facts = facts.map(|facts| Facts { knowledge: None, ..facts });
        if let (Some(facts), Some(_)) = (&mut facts, &self.pull) {
            pulled_without(asks, facts);
        }
        NodeRecord {
            host: destination.host.to_string(),
            listed: None,
            address: reached_at.or_else(|| destination.host.as_str().parse().ok()),
            state: outcome.state,
            duration_ms: started.elapsed().as_millis() as u64,
            error: outcome.error,
            clock_skew_ms,
            facts,
        }
    }
}

/// A served snapshot is gathered without the fleet's asks (a server that
/// probed whatever a request named would scan for anyone who can reach it):
/// its reachability says which endpoints it was not asked to probe.
fn pulled_without(asks: &NodeAsks, facts: &mut Facts) {
    if asks.probes.is_empty() {
        return;
    }
    if let Some(Fact::Observed { value: reach }) = &mut facts.reach {
        reach.gaps.push(format!(
            "pulled from the node's clusterdoc serve, which probes only its own configured endpoints: the cluster's \
             {} endpoints are probed from nodes reached over ssh (without --pull)",
            asks.probes.len()
        ));
    }
}

/// On a node, the address its sshd took this session on (the third field of
/// `SSH_CONNECTION`); `None` outside an ssh session.
pub fn session_address() -> Option<IpAddr> {
    std::env::var("SSH_CONNECTION").ok()?.split_whitespace().nth(2)?.parse().ok()
}
