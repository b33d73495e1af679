//! Facts: the only code that touches the world.
//!
//! Each observation is gathered at most once per run (memoized in a
//! `OnceCell`), concurrently with the others, under the run's deadline, and
//! ends as a [`Fact`]: observed, unavailable (with the reason) or failed
//! (with the error). The gathered set is a plain serializable [`Facts`], so
//! `collect` can write it and `check --from` can judge it later.

pub mod dns;
pub mod firewalld;
pub mod flink;
pub mod http;
pub mod knowledge;
pub mod marathon;
pub mod mesos;
pub mod mesos_flags;
pub mod node;

pub mod packs;
pub mod processes;
pub mod reach;
pub mod roles;
pub mod sockets;
pub mod systemd;
pub mod zookeeper;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::config::Config;

use crate::node_fs::Limit;
use crate::target::{Role, Target, ZkTarget};
use crate::version::Version;

/// One observation of the world.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Fact<T> {
    Observed {
        value: T,
    },
    /// Does not apply or cannot be looked at (e.g. an implicit default target
    /// that does not answer); checks that need it skip with this reason.
    Unavailable {
        reason: String,
    },
    /// Looking failed (e.g. a named target is unreachable); checks that need
    /// it cannot decide.
    Failed {
        error: String,
    },
}

impl<T> Fact<T> {
    pub fn observed(value: T) -> Self {
        Fact::Observed { value }
    }

    pub fn unavailable(reason: impl Into<String>) -> Self {
        Fact::Unavailable { reason: reason.into() }
    }

    pub fn failed(error: impl Into<String>) -> Self {
        Fact::Failed { error: error.into() }
    }

    pub fn value(&self) -> Option<&T> {
        match self {
            Fact::Observed { value } => Some(value),
            _ => None,
        }
    }

    /// Why there is no value, if there is none.
    pub fn problem(&self) -> Option<&str> {
        match self {
            Fact::Observed { .. } => None,
            Fact::Unavailable { reason } => Some(reason),
            Fact::Failed { error } => Some(error),
        }
    }
}

/// A source of facts a check reads. The runner gathers the union of the
/// selected checks' needs, and nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Need {
    Knowledge,
    Roles,
    Node,
    Dns,
    Systemd,
    Processes,
    Zookeeper,
    MarathonZk,
    Marathon,
    Mesos,
    MesosFlags,
    Flink,
    Firewalld,
    Sockets,
    Reach,
    /// What the selected pack checks look at.
    Packs,
}

/// What the run was asked to look at, as recorded in reports and snapshots.
/// Targets here carry no credentials.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    pub mesos: Vec<Target>,
    pub marathon: Option<Target>,
    pub zk: Option<ZkTarget>,
    pub flink: Vec<Target>,
    /// `/` for a live node, else the `--root` directory.
    pub root: String,
    pub live: bool,
    /// Roles named with `--role` (empty: detect).
    pub roles: Vec<Role>,
    pub expect_marathon_version: Option<Version>,
    pub expect_flink_version: Option<Version>,
    pub timeout_ms: u64,
}

impl Inputs {
    pub fn from_config(cfg: &Config) -> Self {
        Inputs {
            mesos: cfg.mesos.iter().map(Target::redacted).collect(),
            marathon: Some(cfg.marathon.redacted()),
            zk: Some(cfg.zk.clone()),
            flink: cfg.flink.iter().map(Target::redacted).collect(),
            root: cfg.root.display().to_string(),
            live: cfg.live(),
            roles: cfg.roles.clone(),
            expect_marathon_version: cfg.expect_marathon_version,
            expect_flink_version: cfg.expect_flink_version,
            timeout_ms: cfg.timeout.as_millis() as u64,
        }
    }
}

/// Everything gathered in one run. `None` means "not gathered" (no selected
/// check needed it, or a snapshot was collected without it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub inputs: Inputs,
    pub knowledge: Option<Fact<knowledge::Knowledge>>,
    pub roles: Option<Fact<roles::NodeRoles>>,
    pub node: Option<Fact<node::NodeFacts>>,
    pub dns: Option<Fact<dns::DnsFacts>>,
    pub systemd: Option<Fact<systemd::SystemdFacts>>,
    pub processes: Option<Fact<processes::ProcessFacts>>,
    pub zookeeper: Option<Fact<zookeeper::EnsembleFacts>>,
    pub marathon_zk: Option<Fact<zookeeper::MarathonTree>>,
    pub marathon: Option<Fact<marathon::MarathonFacts>>,
    pub mesos: Option<Fact<mesos::MesosFacts>>,
    pub mesos_flags: Option<Fact<mesos_flags::MesosFlagsFacts>>,
    pub flink: Option<Fact<flink::FlinkFacts>>,
    pub firewalld: Option<Fact<firewalld::FirewalldFacts>>,
    pub sockets: Option<Fact<sockets::SocketFacts>>,
    pub reach: Option<Fact<reach::ReachFacts>>,
    pub packs: Option<Fact<packs::PackFacts>>,
}

/// Gathers facts for one run. Each source is a memoized cell, so a source
/// that others depend on (Mesos state for reachability, say) is fetched once
/// however many ask for it.
pub struct Gatherer {
    pub cfg: Arc<Config>,
    pub deadline: Instant,
    http: OnceCell<Result<reqwest::Client, String>>,
    knowledge: OnceCell<Fact<knowledge::Knowledge>>,
    roles: OnceCell<Fact<roles::NodeRoles>>,
    node: OnceCell<Fact<node::NodeFacts>>,
    dns: OnceCell<Fact<dns::DnsFacts>>,
    systemd: OnceCell<Fact<systemd::SystemdFacts>>,
    processes: OnceCell<Fact<processes::ProcessFacts>>,
    zookeeper: OnceCell<Fact<zookeeper::EnsembleFacts>>,
    marathon_zk: OnceCell<Fact<zookeeper::MarathonTree>>,
    marathon: OnceCell<Fact<marathon::MarathonFacts>>,
    mesos: OnceCell<Fact<mesos::MesosFacts>>,
    mesos_flags: OnceCell<Fact<mesos_flags::MesosFlagsFacts>>,
    flink: OnceCell<Fact<flink::FlinkFacts>>,
    firewalld: OnceCell<Fact<firewalld::FirewalldFacts>>,
    sockets: OnceCell<Fact<sockets::SocketFacts>>,
    reach: OnceCell<Fact<reach::ReachFacts>>,
    packs: OnceCell<Fact<packs::PackFacts>>,
    /// The probes of the selected pack checks (see [`Gatherer::with_pack_probes`]).
    pack_probes: Vec<packs::PackProbe>,
}

/// Generates the memoized accessor of one fact source.
macro_rules! accessor {
    ($name:ident, $ty:ty, $gather:path, $what:literal) => {
        pub async fn $name(&self) -> &Fact<$ty> {
            self.$name.get_or_init(|| self.bounded($what, $gather(self))).await
        }
    };
}

impl Gatherer {
    pub fn new(cfg: Arc<Config>, deadline: Instant) -> Self {
        Gatherer {
            cfg,
            deadline,
            http: OnceCell::new(),
            knowledge: OnceCell::new(),
            roles: OnceCell::new(),
            node: OnceCell::new(),
            dns: OnceCell::new(),
            systemd: OnceCell::new(),
            processes: OnceCell::new(),
            zookeeper: OnceCell::new(),
            marathon_zk: OnceCell::new(),
            marathon: OnceCell::new(),
            mesos: OnceCell::new(),
            mesos_flags: OnceCell::new(),
            flink: OnceCell::new(),
            firewalld: OnceCell::new(),
            sockets: OnceCell::new(),
            reach: OnceCell::new(),
            packs: OnceCell::new(),
            pack_probes: Vec::new(),
        }
    }

    /// The probes the `packs` source runs: those of the selected pack checks.
    pub fn with_pack_probes(mut self, probes: Vec<packs::PackProbe>) -> Self {
        self.pack_probes = probes;
        self
    }

    accessor!(knowledge, knowledge::Knowledge, knowledge::gather, "check data");
    accessor!(roles, roles::NodeRoles, roles::gather, "node roles");
    accessor!(node, node::NodeFacts, node::gather, "node files");
    accessor!(dns, dns::DnsFacts, dns::gather, "host name resolution");
    accessor!(systemd, systemd::SystemdFacts, systemd::gather, "systemd units");
    accessor!(processes, processes::ProcessFacts, processes::gather, "processes");
    accessor!(zookeeper, zookeeper::EnsembleFacts, zookeeper::gather_ensemble, "ZooKeeper servers");
    accessor!(marathon_zk, zookeeper::MarathonTree, zookeeper::gather_marathon_tree, "Marathon's ZooKeeper tree");
    accessor!(marathon, marathon::MarathonFacts, marathon::gather, "Marathon");
    accessor!(mesos, mesos::MesosFacts, mesos::gather, "Mesos masters");
    accessor!(mesos_flags, mesos_flags::MesosFlagsFacts, mesos_flags::gather, "Mesos flags");
    accessor!(flink, flink::FlinkFacts, flink::gather, "Flink");
    accessor!(firewalld, firewalld::FirewalldFacts, firewalld::gather, "firewalld");
    accessor!(sockets, sockets::SocketFacts, sockets::gather, "listening sockets");
    accessor!(reach, reach::ReachFacts, reach::gather, "reachability probes");
    accessor!(packs, packs::PackFacts, packs::gather, "check packs");

    /// The shared HTTP client, built on first use (TLS set-up costs time that
    /// `list` or a node-only run should not pay).
    pub async fn http(&self) -> Result<&reqwest::Client, String> {
        self.http.get_or_init(|| async { http::client(&self.cfg) }).await.as_ref().map_err(Clone::clone)
    }

    /// Runs one gatherer under the run's deadline: past it, the fact fails
    /// with a reason instead of holding the run up.
    async fn bounded<T>(&self, what: &str, work: impl Future<Output = Fact<T>>) -> Fact<T> {
        match tokio::time::timeout_at(self.deadline, work).await {
            Ok(fact) => fact,
            Err(_) => Fact::failed(format!("{what}: gave up at the run's deadline")),
        }
    }

    async fn ensure(&self, need: Need) {
        match need {
            Need::Knowledge => drop(self.knowledge().await),
            Need::Roles => drop(self.roles().await),
            Need::Node => drop(self.node().await),
            Need::Dns => drop(self.dns().await),
            Need::Systemd => drop(self.systemd().await),
            Need::Processes => drop(self.processes().await),
            Need::Zookeeper => drop(self.zookeeper().await),
            Need::MarathonZk => drop(self.marathon_zk().await),
            Need::Marathon => drop(self.marathon().await),
            Need::Mesos => drop(self.mesos().await),
            Need::MesosFlags => drop(self.mesos_flags().await),
            Need::Flink => drop(self.flink().await),
            Need::Firewalld => drop(self.firewalld().await),
            Need::Sockets => drop(self.sockets().await),
            Need::Reach => drop(self.reach().await),
            Need::Packs => drop(self.packs().await),
        }
    }

    /// Gathers every needed source concurrently, then freezes the result.
    pub async fn gather(self, needs: &BTreeSet<Need>) -> Facts {
        futures::future::join_all(needs.iter().map(|n| self.ensure(*n))).await;
        Facts {
            inputs: Inputs::from_config(&self.cfg),
            knowledge: self.knowledge.into_inner(),
            roles: self.roles.into_inner(),
            node: self.node.into_inner(),
            dns: self.dns.into_inner(),
            systemd: self.systemd.into_inner(),
            processes: self.processes.into_inner(),
            zookeeper: self.zookeeper.into_inner(),
            marathon_zk: self.marathon_zk.into_inner(),
            marathon: self.marathon.into_inner(),
            mesos: self.mesos.into_inner(),
            mesos_flags: self.mesos_flags.into_inner(),
            flink: self.flink.into_inner(),
            firewalld: self.firewalld.into_inner(),
            sockets: self.sockets.into_inner(),
            reach: self.reach.into_inner(),
            packs: self.packs.into_inner(),
        }
    }
}

/// Under `--root` only targets the user named are probed: an implicit
/// default (`127.0.0.1:5050`, ...) is the machine clusterdoc runs on, not the
/// inspected node. For such a default, the reason its checks skip with.
pub(crate) fn unprobed_default(cfg: &Config, explicit: bool, shown: &str, name_it: &str) -> Option<String> {
    (!explicit && !cfg.live())
        .then(|| format!("--root inspects a file tree, so the default {shown} is not probed; {name_it}"))
}

/// Reads a configuration file of the inspected node (at most
/// [`Limit::CONFIG`]) as text; `Ok(None)` when absent.
pub fn read_node_file(cfg: &Config, absolute: &str) -> Result<Option<String>, String> {
    match cfg.root.read(absolute, Limit::CONFIG) {
        Ok(bytes) => Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned())),
        Err(e) => Err(e.to_string()),
    }
}
