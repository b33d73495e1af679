//! Facts: the only code that touches the world.
//!
//! Each observation is gathered at most once per run (memoized in a
//! `OnceCell`), concurrently with the others, under the run's deadline, and
//! ends as a [`Fact`]: observed, unavailable (with the reason) or failed
//! (with the error). The gathered set is a plain serializable [`Facts`], so
//! `collect` can write it and `check --from` can judge it later.

pub mod dns;
pub mod firewalld;
pub mod fleet;
pub mod flink;
pub mod flink_props;
pub mod http;
pub mod interned;
pub mod knowledge;
pub mod marathon;
pub mod mesos;
pub mod mesos_flags;
pub mod net_error;
pub mod node;

pub mod packs;
pub mod processes;
pub mod proposed;
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

use crate::node_fs::{Limit, NodeRoot};
use crate::target::{NodeAsks, Phase, Role, Target, ZkTarget};
use crate::version::Version;

/// The text of a file the user names for the run itself (waivers, a
/// baseline, an app to propose): not a node file, so not under `--root`.
/// Refuses what is not a regular file (a FIFO would block, /dev/zero never
/// ends) or is larger than `cap` bytes.
pub fn read_run_file(file: &std::path::Path, cap: u64) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(file).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut text = String::new();
    let opened = std::fs::File::open(file).map_err(|e| format!("cannot read it: {e}"))?;
    opened.take(cap + 1).read_to_string(&mut text).map_err(|e| format!("cannot read it: {e}"))?;
    if text.len() as u64 > cap {
        return Err(format!("larger than {} KiB", cap >> 10));
    }
    Ok(text)
}

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
    /// `--phase`: before or after a deploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
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
            phase: cfg.phase,
        }
    }
}

/// Declares the fact sources, each once: its [`Need`], its field in [`Facts`]
/// (and so in snapshots), its memoized cell and accessor in [`Gatherer`], and
/// what a deadline message calls it. Adding a source is a module and a line.
macro_rules! fact_sources {
    (
        sources { $($(#[$doc:meta])* $need:ident => $name:ident: $ty:ty = $gather:path, $what:literal;)+ }
        parts { $($(#[$part_doc:meta])* $part:ident of $whole:ident;)* }
    ) => {
        /// A source of facts a check reads, or a costly part of one (read
        /// only when a selected check needs it). The runner gathers the
        /// union of the selected checks' needs, and nothing else.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Need {
            $($(#[$doc])* $need,)+
            $($(#[$part_doc])* $part,)*
        }

        /// Everything gathered in one run. `None` means "not gathered" (no selected
        /// check needed it, or a snapshot was collected without it).
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct Facts {
            pub inputs: Inputs,
            $(pub $name: Option<Fact<$ty>>,)+
        }

        impl Facts {
            /// These facts as a run that gathered only `needs` would have them.
            pub fn only(&self, needs: &[Need]) -> Facts {
                Facts {
                    inputs: self.inputs.clone(),
                    $($name: if needs.contains(&Need::$need) { self.$name.clone() } else { None },)+
                }
            }

            /// Exchanges the sources in `needs` with `other`'s, copying
            /// nothing: a node's own facts go in place of (and back out of)
            /// the cluster's.
            pub fn swap_sources(&mut self, other: &mut Facts, needs: &[Need]) {
                $(if needs.contains(&Need::$need) { std::mem::swap(&mut self.$name, &mut other.$name); })+
            }
        }

        /// Gathers facts for one run. Each source is a memoized cell, so a source
        /// that others depend on (Mesos state for reachability, say) is fetched once
        /// however many ask for it.
        pub struct Gatherer {
            pub cfg: Arc<Config>,
            pub deadline: Instant,
            http: OnceCell<Result<reqwest::Client, String>>,
            $($name: OnceCell<Fact<$ty>>,)+
            /// The probes of the selected pack checks (see [`Gatherer::with_pack_probes`]).
            pack_probes: Vec<packs::PackProbe>,
            /// In `collect --node`, what the fleet run asked of this node
            /// (see [`Gatherer::with_node_asks`]).
            node_asks: Option<NodeAsks>,
            /// What the run's checks need (see [`Gatherer::for_needs`]);
            /// `None`: everything, parts included.
            needs: Option<BTreeSet<Need>>,
            /// The agents of the Mesos masters' states as they are parsed.
            agent_feed: Arc<mesos::AgentFeed>,
        }

        impl Gatherer {
            pub fn new(cfg: Arc<Config>, deadline: Instant) -> Self {
                Gatherer {
                    cfg,
                    deadline,
                    http: OnceCell::new(),
                    $($name: OnceCell::new(),)+
                    pack_probes: Vec::new(),
                    node_asks: None,
                    needs: None,
                    agent_feed: Arc::default(),
                }
            }

            $(pub async fn $name(&self) -> &Fact<$ty> {
                self.$name.get_or_init(|| self.bounded($what, $gather(self))).await
            })+

            async fn ensure(&self, need: Need) {
                match need {
                    $(Need::$need => drop(self.$name().await),)+
                    $(Need::$part => Box::pin(self.ensure(Need::$whole)).await,)*
                }
            }

            /// Gathers every needed source concurrently, then freezes the result.
            pub async fn gather(self, needs: &BTreeSet<Need>) -> Facts {
                futures::future::join_all(needs.iter().map(|n| self.ensure(*n))).await;
                Facts { inputs: Inputs::from_config(&self.cfg), $($name: self.$name.into_inner(),)+ }
            }
        }
    };
}

fact_sources! {
    sources {
        Knowledge => knowledge: knowledge::Knowledge = knowledge::gather, "check data";
        Roles => roles: roles::NodeRoles = roles::gather, "node roles";
        Node => node: node::NodeFacts = node::gather, "node files";
        Dns => dns: dns::DnsFacts = dns::gather, "host name resolution";
        Systemd => systemd: systemd::SystemdFacts = systemd::gather, "systemd units";
        Processes => processes: processes::ProcessFacts = processes::gather, "processes";
        Zookeeper => zookeeper: zookeeper::EnsembleFacts = zookeeper::gather_ensemble, "ZooKeeper servers";
        MarathonZk => marathon_zk: zookeeper::MarathonTree = zookeeper::gather_marathon_tree, "Marathon's ZooKeeper tree";
        FlinkZk => flink_zk: zookeeper::FlinkWorkerStores = zookeeper::gather_flink_stores, "Flink's ZooKeeper worker stores";
        Marathon => marathon: marathon::MarathonFacts = marathon::gather, "Marathon";
        Mesos => mesos: mesos::MesosFacts = mesos::gather, "Mesos masters";
        MesosFlags => mesos_flags: mesos_flags::MesosFlagsFacts = mesos_flags::gather, "Mesos flags";
        Flink => flink: flink::FlinkFacts = flink::gather, "Flink";
        Firewalld => firewalld: firewalld::FirewalldFacts = firewalld::gather, "firewalld";
        Sockets => sockets: sockets::SocketFacts = sockets::gather, "listening sockets";
        Reach => reach: reach::ReachFacts = reach::gather, "reachability probes";
        /// What the nodes of a fleet run have that must agree.
        Fleet => fleet: fleet::view::FleetView = fleet::view::gather, "the fleet's nodes";
        /// What the selected pack checks look at.
        Packs => packs: packs::PackFacts = packs::gather, "check packs";
    }
    parts {
        /// The tasks in the Mesos state: most of its bytes (200,000 tasks
        /// are about 110 MB), skipped unparsed unless a check reads them.
        MesosTasks of Mesos;
    }
}

impl Gatherer {
    /// The probes the `packs` source runs: those of the selected pack checks.
    pub fn with_pack_probes(mut self, probes: Vec<packs::PackProbe>) -> Self {
        self.pack_probes = probes;
        self
    }

    /// A gatherer for checks that need `needs`: the costly parts of a
    /// source (see [`Need`]) are read only when needed. Without it, all is.
    pub fn for_needs(mut self, needs: &BTreeSet<Need>) -> Self {
        self.needs = Some(needs.clone());
        self
    }

    /// Whether the run's checks need `need`.
    pub fn needs(&self, need: Need) -> bool {
        self.needs.as_ref().is_none_or(|needs| needs.contains(&need))
    }

    /// A node's run for a fleet (`collect --node`): the reachability source
    /// probes only the endpoints it was asked to (`--probe`) that its roles
    /// need, none of this node's own defaults; the DNS source also resolves
    /// the peers' names it was given (`--resolve`).
    pub fn with_node_asks(mut self, asks: NodeAsks) -> Self {
        self.node_asks = Some(asks);
        self
    }

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
pub fn read_node_file(root: &NodeRoot, absolute: &str) -> Result<Option<String>, String> {
    match root.read(absolute, Limit::CONFIG) {
        Ok(bytes) => Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned())),
        Err(e) => Err(e.to_string()),
    }
}
