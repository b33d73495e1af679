//! Facts of a fleet (DESIGN.md C1): each node's own facts, gathered by
//! `clusterdoc collect --node` run on the node through the system's OpenSSH
//! (never an SSH of our own), or with `--pull` read from the `/snapshot` of
//! the `clusterdoc serve` the node runs (C3), at most `--fanout` nodes at a
//! time, all under the run's deadline. A node that is not reached is a state with ssh's own
//! words, never facts.

mod destination;
mod pull;
mod remote_run;
mod session;
mod ssh;

use std::net::IpAddr;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

pub use destination::{Destination, NodeEntry, User, node_list};
pub use pull::Pull;
pub use remote_run::RemoteBin;
pub use ssh::SshCommand;

use super::{Facts, Need};
use crate::config::Config;

/// What `collect --node` gathers: the sources that describe the node itself.
pub const NODE_SOURCES: [Need; 8] = [
    Need::Knowledge,
    Need::Roles,
    Need::Node,
    Need::Dns,
    Need::Systemd,
    Need::Processes,
    Need::Firewalld,
    Need::Sockets,
];

/// What the orchestrator of a fleet gathers itself, once: the cluster's
/// services, named by their targets.
pub const CLUSTER_SOURCES: [Need; 6] =
    [Need::Zookeeper, Need::MarathonZk, Need::Marathon, Need::Mesos, Need::MesosFlags, Need::Flink];

/// How a node's session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeState {
    /// The node answered with its snapshot.
    Reached,
    /// ssh could not connect or authenticate (its own message says why).
    Unreachable,
    /// The node answered, but not with a usable snapshot.
    Error,
    /// Still running at the deadline, or not started before it.
    CutOff,
    /// Not a valid destination: never handed to ssh.
    Refused,
}

/// One node of a fleet snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// The node as the user named it, without `user@` and `:port`.
    pub host: String,
    /// The address the session reached (as the node's sshd saw it), else
    /// the host when it is an IP address.
    pub address: Option<IpAddr>,
    pub state: NodeState,
    pub duration_ms: u64,
    pub error: Option<String>,
    /// The node's facts, when it was reached.
    pub facts: Option<Facts>,
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
    /// `--remote-bin`), `None` without nodes. Deploy files are read here.
    pub fn from_config(cfg: &Config) -> Result<Option<Fleet>, String> {
        if cfg.nodes.is_empty() {
            return Ok(None);
        }
        Ok(Some(Fleet {
            nodes: node_list(&cfg.nodes)?,
            ssh: SshCommand::parse(&cfg.ssh)?,
            fanout: cfg.fanout,
            remote_bin: cfg.remote_bin.parse()?,
            timeout: cfg.timeout,
            pull: cfg.pull.as_deref().map(|template| Pull::new(template, cfg)).transpose()?,
        }))
    }

    /// Every node's record, in the list's order, by `deadline`. Sessions
    /// start as others end, whichever node that is: a slow node holds up
    /// only its own slot.
    pub async fn collect(&self, deadline: Instant) -> Vec<NodeRecord> {
        let visits =
            self.nodes.iter().enumerate().map(|(i, entry)| async move { (i, self.visit(entry, deadline).await) });
        let mut records: Vec<(usize, NodeRecord)> = stream::iter(visits).buffer_unordered(self.fanout).collect().await;
        records.sort_by_key(|(i, _)| *i);
        records.into_iter().map(|(_, record)| record).collect()
    }

    async fn visit(&self, entry: &NodeEntry, deadline: Instant) -> NodeRecord {
        let started = Instant::now();
        let destination = match entry {
            NodeEntry::Valid(destination) => destination,
            NodeEntry::Refused { given, reason } => {
                return NodeRecord {
                    host: given.clone(),
                    address: None,
                    state: NodeState::Refused,
                    duration_ms: 0,
                    error: Some(reason.clone()),
                    facts: None,
                };
            }
        };
        let outcome = match &self.pull {
            Some(pull) => pull.run(destination, deadline).await,
            None => session::run(self, destination, deadline).await,
        };
        let (reached_at, facts) = outcome.answer.map_or((None, None), |a| (a.address, Some(a.facts)));
        NodeRecord {
            host: destination.host.to_string(),
            address: reached_at.or_else(|| destination.host.as_str().parse().ok()),
            state: outcome.state,
            duration_ms: started.elapsed().as_millis() as u64,
            error: outcome.error,
            facts,
        }
    }
}

/// On a node, the address its sshd took this session on (the third field of
/// `SSH_CONNECTION`); `None` outside an ssh session.
pub fn session_address() -> Option<IpAddr> {
    std::env::var("SSH_CONNECTION").ok()?.split_whitespace().nth(2)?.parse().ok()
}
