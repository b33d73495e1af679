//! Facts: TCP reachability of every cluster endpoint the run knows (named
//! Mesos masters and the agents registered with them, Marathon, each
//! ZooKeeper server, Flink), probed concurrently with one connect each and
//! classified by what the kernel reports (REFERENCE.md section 4).

mod sweep;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::mesos::Agent;
use super::node::NodeFacts;
use super::{Fact, Gatherer, net_error};
use crate::config::Config;
use crate::remote::HostName;
use crate::target::{HostPort, NodeProbe, Role, Target, ZkTarget, parse_host_port};

/// The kernel's default `net.ipv4.icmp_ratelimit`: a host sends about one
/// ICMP error per this interval to a peer after a burst of six, so a retry
/// spaced by it can get the reject a burst of probes did not.
const RETRY_SPACING: Duration = Duration::from_secs(1);
/// Probes end this long before the gathering deadline so that their results
/// are kept rather than the whole fact giving up.
const DEADLINE_MARGIN: Duration = Duration::from_millis(100);
const AGENT_PORT: u16 = 5051;
const DEADLINE_FIRST: &str = "the run's deadline came first";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReachFacts {
    pub probes: Vec<Probe>,
    /// Endpoints not looked for, and why (Mesos agents when no Mesos master
    /// is named and the default one does not answer).
    pub gaps: Vec<String>,
    /// Why endpoints could not be listed although their source was asked
    /// (the Mesos agents, when the named masters' state could not be read):
    /// they are not judged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unlisted: Vec<String>,
}

/// What runs behind an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    MesosMaster,
    MesosAgent,
    Marathon,
    Zookeeper,
    Flink,
}

impl Component {
    pub fn label(self) -> &'static str {
        match self {
            Component::MesosMaster => "Mesos master",
            Component::MesosAgent => "Mesos agent",
            Component::Marathon => "Marathon",
            Component::Zookeeper => "ZooKeeper",
            Component::Flink => "Flink JobManager",
        }
    }

    pub fn of(role: Role) -> Component {
        match role {
            Role::Master => Component::MesosMaster,
            Role::Agent => Component::MesosAgent,
            Role::Marathon => Component::Marathon,
            Role::Zookeeper => Component::Zookeeper,
            Role::Flink => Component::Flink,
        }
    }

    /// The role of the nodes that serve it.
    pub fn role(self) -> Role {
        match self {
            Component::MesosMaster => Role::Master,
            Component::MesosAgent => Role::Agent,
            Component::Marathon => Role::Marathon,
            Component::Zookeeper => Role::Zookeeper,
            Component::Flink => Role::Flink,
        }
    }

    /// The flag that names this component's endpoints (agents are found
    /// through the masters).
    pub fn flag(self) -> &'static str {
        match self {
            Component::MesosMaster | Component::MesosAgent => "--mesos",
            Component::Marathon => "--marathon",
            Component::Zookeeper => "--zk",
            Component::Flink => "--flink",
        }
    }
}

/// How the run came to know an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// Named by flag, environment or config file.
    Named,
    /// The implicit default target (`127.0.0.1:5050`, ...).
    Default,
    /// An agent registered with the leading Mesos master.
    Registered { hostname: String, pid: Option<String> },
    /// Passed by a fleet run (`collect --node --probe`): one the run was
    /// named or the leading master listed.
    Fleet,
    /// Named by this node's own configuration (a fleet node's run).
    NodeConfig { path: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub component: Component,
    pub origin: Origin,
}

impl Endpoint {
    pub fn host_port(&self) -> HostPort {
        HostPort { host: self.host.clone(), port: self.port }
    }

    /// Its address, when the host is an IP address (nothing to resolve).
    fn literal_address(&self) -> Option<SocketAddr> {
        Some(SocketAddr::new(self.host.parse().ok()?, self.port))
    }
}

/// What a connect saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The connection was accepted.
    Open,
    /// ECONNREFUSED: the host answered, nothing listens on the port.
    Refused,
    /// EHOSTUNREACH / EACCES: an ICMP prohibited reply (a firewall
    /// rejecting; EACCES for IPv6), a router's host-unreachable, or no ARP
    /// answer on the local network.
    Rejected,
    /// No answer within the timeout: a firewall dropping, the host down, or
    /// a rate-limited reject.
    Dropped,
    /// ENETUNREACH: no route to the host's network.
    Unreachable,
    /// The host name does not resolve.
    Unresolved,
    /// Any other error.
    Failed,
    /// The run's deadline came before an answer or a full timeout.
    Unfinished,
}

impl Outcome {
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Open => "open",
            Outcome::Refused => "refused",
            Outcome::Rejected => "rejected",
            Outcome::Dropped => "dropped",
            Outcome::Unreachable => "unreachable",
            Outcome::Unresolved => "unresolved",
            Outcome::Failed => "failed",
            Outcome::Unfinished => "unfinished",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub endpoint: Endpoint,
    /// The address connected to (the first the name resolved to).
    pub address: Option<SocketAddr>,
    pub outcome: Outcome,
    /// What the deciding attempt saw: the OS error, the resolver's error.
    pub detail: Option<String>,
    /// How long the deciding attempt took.
    pub elapsed_ms: u64,
    /// Connect attempts made (a timeout is tried once more, spaced).
    pub attempts: u8,
}

/// How long each probe may take.
#[derive(Clone, Copy, Debug)]
struct Budget {
    timeout: Duration,
    deadline: Instant,
}

impl Budget {
    /// The wait for one operation starting at `start`, and whether the
    /// deadline rather than the timeout bounds it.
    fn wait_from(&self, start: Instant) -> (Duration, bool) {
        let left = self.deadline.saturating_duration_since(start);
        (self.timeout.min(left), left < self.timeout)
    }
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<ReachFacts> {
    let deadline = g.deadline.into_std();
    let budget = Budget { timeout: g.cfg.timeout, deadline: deadline.checked_sub(DEADLINE_MARGIN).unwrap_or(deadline) };
    let limit = concurrency();
    if let Some(asked) = &g.node_asks {
        let endpoints = asked_of_this_node(g, &asked.probes).await;
        let probes = probe_all(endpoints, limit, budget, Swept::new()).await;
        return Fact::observed(ReachFacts { probes, ..ReachFacts::default() });
    }
    let known = known_endpoints(&g.cfg);
    // The named endpoints are few: their sweep's sockets come on top of `limit`.
    let known_probes = probe_all(known.clone(), limit, budget, Swept::new());
    let agent_probes = async {
        let early = EarlySweep::start(g, limit, budget);
        let listed = registered_agents(g).await;
        g.agent_feed.close();
        let swept = match early {
            Some(early) => early.finish().await,
            None => Swept::new(),
        };
        match listed {
            Ok(agents) => {
                let fresh = agents.into_iter().filter(|a| !known.iter().any(|k| same_place(k, a))).collect();
                (probe_all(fresh, limit, budget, swept).await, None)
            }
            Err(unlisted) => (Vec::new(), Some(unlisted)),
        }
    };
    let (mut probes, (agents, unlisted)) = futures::join!(known_probes, agent_probes);
    probes.extend(agents);
    let mut facts = ReachFacts { probes, ..ReachFacts::default() };
    match unlisted {
        Some(Unlisted::NotLooked(why)) => facts.gaps.push(why),
        Some(Unlisted::Failed(why)) => facts.unlisted.push(why),
        None => {}
    }
    Fact::observed(facts)
}

/// Of the endpoints a fleet run asked this node to probe, those its roles
/// need (all of them when it has no known role): agents reach the masters,
/// ZooKeeper and the Flink JobManagers; masters the agents, the other masters
/// and ZooKeeper; Marathon the masters and ZooKeeper.
async fn asked_of_this_node(g: &Gatherer, asked: &[NodeProbe]) -> Vec<Endpoint> {
    let roles = g.roles().await.value().map(|r| r.roles.clone()).unwrap_or_default();
    let needed = |target: Role| {
        roles.is_empty()
            || roles.iter().any(|role| match role {
                Role::Agent => matches!(target, Role::Master | Role::Zookeeper | Role::Flink),
                Role::Master => matches!(target, Role::Master | Role::Agent | Role::Zookeeper),
                Role::Marathon => matches!(target, Role::Master | Role::Zookeeper),
                Role::Flink => matches!(target, Role::Master | Role::Zookeeper | Role::Flink),
                Role::Zookeeper => target == Role::Zookeeper,
            })
    };
    let mut endpoints: Vec<Endpoint> = asked
        .iter()
        .filter(|probe| needed(probe.role))
        .map(|probe| Endpoint {
            host: probe.place.host.clone(),
            port: probe.place.port,
            component: Component::of(probe.role),
            origin: Origin::Fleet,
        })
        .collect();
    if let Fact::Observed { value: node } = g.node().await {
        for endpoint in configured(node).into_iter().filter(|e| needed(e.component.role())) {
            if !endpoints.iter().any(|known| same_place(known, &endpoint)) {
                endpoints.push(endpoint);
            }
        }
    }
    endpoints
}

/// The endpoints this node's own configuration names: the ZooKeeper servers
/// of /etc/mesos/zk, the master an agent's `master` flag file names, the
/// servers of zoo.cfg (client port 2181, or the one after `;`), and the
/// JobManager a flink-conf.yaml names (6123, Flink's default RPC port).
/// So a fleet run that names no target still finds an agent that cannot
/// reach its master.
fn configured(node: &NodeFacts) -> Vec<Endpoint> {
    let endpoint = |place: HostPort, component, path: &str| Endpoint {
        host: place.host,
        port: place.port,
        component,
        origin: Origin::NodeConfig { path: path.to_string() },
    };
    let mut found = Vec::new();
    if let Some(zk) = &node.mesos_zk {
        for server in ZkTarget::parse(&zk.value, true).map(|t| t.servers).unwrap_or_default() {
            found.push(endpoint(server, Component::Zookeeper, &zk.source));
        }
    }
    for flag in &node.mesos_master_flags {
        match ZkTarget::parse(&flag.value, true) {
            Ok(zk) => found.extend(zk.servers.into_iter().map(|s| endpoint(s, Component::Zookeeper, &flag.path))),
            Err(_) => found.extend(
                parse_host_port(flag.value.trim(), 5050).map(|p| endpoint(p, Component::MesosMaster, &flag.path)),
            ),
        }
    }
    if let Some(ensemble) = &node.zookeeper_ensemble {
        for server in &ensemble.servers {
            let port = server.value.rsplit_once(';').and_then(|(_, c)| c.rsplit(':').next()?.trim().parse().ok());
            let place = HostPort { host: server.host.clone(), port: port.unwrap_or(2181) };
            found.push(endpoint(place, Component::Zookeeper, &ensemble.path));
        }
    }
    for install in &node.flink {
        if let Some(address) = &install.rpc_address {
            let place = HostPort { host: address.value.trim().to_string(), port: 6123 };
            found.push(endpoint(place, Component::Flink, &install.conf));
        }
    }
    found.retain(|e| HostName::parse(&e.host).is_ok() && !e.literal_address().is_some_and(|a| a.ip().is_loopback()));
    found
}

/// What a fleet run asks its nodes to probe: the endpoints named (not the
/// implicit defaults, which are this machine's) and the agents the leading
/// master knows, each a valid host name or address.
pub async fn fleet_endpoints(g: &Gatherer) -> Vec<NodeProbe> {
    let mut endpoints: Vec<Endpoint> =
        known_endpoints(&g.cfg).into_iter().filter(|e| e.origin == Origin::Named).collect();
    for agent in registered_agents(g).await.unwrap_or_default() {
        if !endpoints.iter().any(|e| same_place(e, &agent)) {
            endpoints.push(agent);
        }
    }
    endpoints
        .into_iter()
        .filter(|e| HostName::parse(&e.host).is_ok())
        .map(|e| NodeProbe { role: e.component.role(), place: e.host_port() })
        .collect()
}

/// How many connects may be in flight: a share of the open-file limit, the
/// rest left to the other fact sources of the run. The soft limit is raised
/// to the hard one first (a default soft 1024 would otherwise cap a sweep of
/// thousands of agents at 256 at a time). Up to 4,096: on loopback fewer are
/// a few % faster, but behind a firewall that drops, each wave of connects waits
/// a whole `--timeout` (and a retry), so wide waves keep a big sweep inside
/// the deadline.
fn concurrency() -> usize {
    (raise_open_file_limit() / 4).clamp(4, 4096) as usize
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the soft limit
/// in force (256 if it cannot be read).
fn raise_open_file_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 256;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // SAFETY: setrlimit only reads the struct it is given; raising the
        // soft limit up to the hard one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return raised.rlim_cur;
        }
    }
    limit.rlim_cur
}

/// The endpoints named in the configuration (or defaulted), without
/// duplicates. Under `--root` the implicit defaults are left out: they would
/// probe the machine clusterdoc runs on, not the inspected node.
fn known_endpoints(cfg: &Config) -> Vec<Endpoint> {
    let origin = |explicit: bool| if explicit { Origin::Named } else { Origin::Default };
    let of_target = |t: &Target, component| {
        let (host, port) = t.host_port();
        Endpoint { host, port, component, origin: origin(t.explicit) }
    };
    let mut all: Vec<Endpoint> = cfg.mesos.iter().map(|t| of_target(t, Component::MesosMaster)).collect();
    all.push(of_target(&cfg.marathon, Component::Marathon));
    all.extend(cfg.zk.servers.iter().map(|s| Endpoint {
        host: s.host.clone(),
        port: s.port,
        component: Component::Zookeeper,
        origin: origin(cfg.zk.explicit),
    }));
    all.extend(cfg.flink.iter().map(|t| of_target(t, Component::Flink)));
    let mut unique: Vec<Endpoint> = Vec::new();
    for endpoint in all {
        let wanted = cfg.live() || endpoint.origin != Origin::Default;
        if wanted && !unique.iter().any(|u| same_place(u, &endpoint)) {
            unique.push(endpoint);
        }
    }
    unique
}

fn same_place(a: &Endpoint, b: &Endpoint) -> bool {
    a.port == b.port && a.host.eq_ignore_ascii_case(&b.host)
}

/// Why the agents were not listed.
enum Unlisted {
    /// There is no master to ask (the default one does not answer).
    NotLooked(String),
    /// The masters were asked and their state could not be read.
    Failed(String),
}

impl Unlisted {
    fn of<T>(fact: &Fact<T>) -> Unlisted {
        let why = fact.problem().unwrap_or_default();
        match fact {
            Fact::Unavailable { .. } => Unlisted::NotLooked(format!("Mesos agents not probed: {why}")),
            _ => Unlisted::Failed(why.to_string()),
        }
    }
}

/// Every agent the leading master knows, at the address it registered with.
async fn registered_agents(g: &Gatherer) -> Result<Vec<Endpoint>, Unlisted> {
    let state = match g.mesos().await {
        Fact::Observed { value } => &value.state,
        other => return Err(Unlisted::of(other)),
    };
    match state {
        Fact::Observed { value } => Ok(value.agents.iter().filter_map(agent_endpoint).collect()),
        other => Err(Unlisted::of(other)),
    }
}

/// `slave(1)@10.0.0.5:5051` -> `10.0.0.5:5051`; without a pid, the host
/// name on the agent's port (the default one if not reported either).
fn agent_endpoint(agent: &Agent) -> Option<Endpoint> {
    let registered = agent.pid.as_deref().and_then(|pid| pid.rsplit_once('@')).map(|(_, addr)| addr);
    let port = agent.port.unwrap_or(AGENT_PORT);
    let place = match registered {
        Some(addr) => parse_host_port(addr, port)?,
        None if !agent.hostname.is_empty() => HostPort { host: agent.hostname.clone(), port },
        None => return None,
    };
    Some(Endpoint {
        host: place.host,
        port: place.port,
        component: Component::MesosAgent,
        origin: Origin::Registered { hostname: agent.hostname.clone(), pid: agent.pid.clone() },
    })
}

/// What the early sweep saw, by address.
type Swept = HashMap<SocketAddr, sweep::Connected>;

/// The agents' sweep, started while the masters' states are still parsed:
/// each agent registered at an IP address (no name to resolve) is
/// connected to the moment its master's state lists it, one thread per
/// core taking turns. What it sees is kept only for the agents the leading
/// master's whole state lists (see [`probe_all`]); a master that does not
/// lead, or a state cut off later, costs only its connects.
struct EarlySweep {
    sweeps: Vec<tokio::task::JoinHandle<Vec<(SocketAddr, sweep::Connected)>>>,
    stops: StopOnDrop,
}

impl EarlySweep {
    /// None when the feed has closed already or the sweep cannot be set up
    /// (the agents are then all swept once listed, which says why).
    fn start(g: &Gatherer, limit: usize, budget: Budget) -> Option<EarlySweep> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(limit.max(1));
        let cap = (limit / threads).max(1);
        let (mut senders, mut early) = (Vec::new(), EarlySweep { sweeps: Vec::new(), stops: StopOnDrop(Vec::new()) });
        for _ in 0..threads {
            let (sweep, stop) = sweep::Sweep::new().ok()?;
            let (sender, incoming) = std::sync::mpsc::channel();
            early.stops.0.push(stop);
            early.sweeps.push(tokio::task::spawn_blocking(move || sweep.run_fed(incoming, cap, budget)));
            senders.push(sender);
        }
        let mut told = std::collections::HashSet::new();
        let listening = g.agent_feed.listen(move |agent| {
            let Some(address) = agent_endpoint(agent).as_ref().and_then(Endpoint::literal_address) else { return };
            if told.insert(address) {
                // A sweep that is gone (stopped at the deadline) needs no more.
                let _ = senders[told.len() % senders.len()].send(address);
            }
        });
        listening.then_some(early)
    }

    /// Once the feed is closed: what every address told saw.
    async fn finish(self) -> Swept {
        let mut swept = Swept::new();
        for sweep in self.sweeps {
            // A sweep that failed leaves its addresses to the sweep after the listing.
            swept.extend(sweep.await.unwrap_or_default());
        }
        drop(self.stops);
        swept
    }
}

/// Probes every endpoint: names resolved first (at most `limit` at a
/// time), then one sweep connects to every address, `limit` at a time,
/// except those already `swept`.
async fn probe_all(endpoints: Vec<Endpoint>, limit: usize, budget: Budget, swept: Swept) -> Vec<Probe> {
    let resolved: Vec<Result<SocketAddr, Attempt>> =
        futures::stream::iter(&endpoints).map(|e| resolve(e, budget)).buffered(limit.max(1)).collect().await;
    let unswept = |r: &Result<SocketAddr, Attempt>| r.as_ref().ok().filter(|a| !swept.contains_key(a)).copied();
    let addresses: Vec<SocketAddr> = resolved.iter().filter_map(unswept).collect();
    let mut connected = connect_all(addresses, limit, budget).await.into_iter();
    endpoints
        .into_iter()
        .zip(resolved)
        .map(|(endpoint, resolved)| {
            let (address, connected) = match resolved {
                Ok(address) => match swept.get(&address) {
                    Some(early) => (Some(address), early.clone()),
                    None => (Some(address), connected.next().unwrap_or_else(sweep::Connected::unstarted)),
                },
                Err(failed) => (None, sweep::Connected { attempt: failed, attempts: 0 }),
            };
            Probe {
                endpoint,
                address,
                outcome: connected.attempt.outcome,
                detail: connected.attempt.detail,
                elapsed_ms: connected.attempt.elapsed.as_millis() as u64,
                attempts: connected.attempts,
            }
        })
        .collect()
}

/// Addresses below this many are swept by one thread: a second thread pays
/// off only when the connects' own kernel work is the cost.
const ADDRESSES_PER_THREAD: usize = 512;

/// Runs the connect sweep on blocking threads, one per core for big sweeps
/// (each takes every n-th address and its share of `limit`); dropping the
/// future (the run's deadline) stops them, closing their sockets.
async fn connect_all(addresses: Vec<SocketAddr>, limit: usize, budget: Budget) -> Vec<sweep::Connected> {
    let count = addresses.len();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = count.div_ceil(ADDRESSES_PER_THREAD).clamp(1, cores).min(limit.max(1));
    let cap = (limit / threads).max(1);
    let mut stops = StopOnDrop(Vec::new());
    let sweeps: Vec<_> = (0..threads)
        .map(|part| {
            let share: Vec<SocketAddr> = addresses.iter().skip(part).step_by(threads).copied().collect();
            let (sweep, stop) =
                sweep::Sweep::new().map_err(|e| format!("could not set up the connects (epoll): {e}"))?;
            stops.0.push(stop);
            Ok(tokio::task::spawn_blocking(move || sweep.run(share, cap, budget)))
        })
        .collect();
    let mut parts: Vec<Box<dyn Iterator<Item = sweep::Connected> + Send>> = Vec::new();
    for sweep in sweeps {
        let connected = match sweep {
            Ok(task) => task.await.map_err(|e| format!("the connects did not finish: {e}")),
            Err(why) => Err(why),
        };
        parts.push(match connected {
            Ok(connected) => Box::new(connected.into_iter()),
            Err(why) => Box::new(std::iter::repeat_with(move || sweep::Connected::failed(why.clone()))),
        });
    }
    (0..count).map(|i| parts[i % threads].next().unwrap_or_else(sweep::Connected::unstarted)).collect()
}

struct StopOnDrop(Vec<std::sync::Arc<sweep::Stop>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.iter().for_each(|stop| stop.stop());
    }
}

/// One attempt's result.
#[derive(Clone, Debug)]
struct Attempt {
    outcome: Outcome,
    detail: Option<String>,
    elapsed: Duration,
}

async fn resolve(endpoint: &Endpoint, budget: Budget) -> Result<SocketAddr, Attempt> {
    if let Some(address) = endpoint.literal_address() {
        return Ok(address);
    }
    let start = Instant::now();
    let (wait, cut_by_deadline) = budget.wait_from(start);
    let failed = |outcome, detail: String| Attempt { outcome, detail: Some(detail), elapsed: start.elapsed() };
    match tokio::time::timeout(wait, tokio::net::lookup_host((endpoint.host.as_str(), endpoint.port))).await {
        Ok(Ok(mut addresses)) => {
            addresses.next().ok_or_else(|| failed(Outcome::Unresolved, "the name has no addresses".into()))
        }
        Ok(Err(e)) => Err(failed(Outcome::Unresolved, net_error::lookup_reason(&e))),
        Err(_) if cut_by_deadline => Err(failed(Outcome::Unfinished, DEADLINE_FIRST.into())),
        Err(_) => Err(failed(Outcome::Unresolved, format!("no answer from the resolver within {}", ms(wait)))),
    }
}

fn classify(error: &std::io::Error) -> Outcome {
    match error.raw_os_error() {
        Some(libc::ECONNREFUSED) => Outcome::Refused,
        Some(libc::EHOSTUNREACH | libc::EACCES) => Outcome::Rejected,
        Some(libc::ENETUNREACH) => Outcome::Unreachable,
        Some(libc::ETIMEDOUT) => Outcome::Dropped,
        _ => Outcome::Failed,
    }
}

/// `EHOSTUNREACH (No route to host)`: the errno name a user can search for.
fn describe(error: &std::io::Error) -> String {
    let name = match error.raw_os_error() {
        Some(libc::ECONNREFUSED) => "ECONNREFUSED",
        Some(libc::EHOSTUNREACH) => "EHOSTUNREACH",
        Some(libc::EACCES) => "EACCES",
        Some(libc::ENETUNREACH) => "ENETUNREACH",
        Some(libc::ETIMEDOUT) => "ETIMEDOUT",
        _ => return net_error::io_reason(error),
    };
    format!("{name} ({})", std::io::Error::from_raw_os_error(error.raw_os_error().unwrap_or_default()).kind())
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(pid: Option<&str>, hostname: &str) -> Agent {
        Agent { id: "S1".into(), hostname: hostname.into(), pid: pid.map(String::from), ..Agent::default() }
    }

    #[test]
    fn agents_are_probed_where_they_registered() {
        let e = agent_endpoint(&agent(Some("slave(1)@10.0.0.5:5052"), "a1")).unwrap();
        assert_eq!((e.host.as_str(), e.port, e.component), ("10.0.0.5", 5052, Component::MesosAgent));
        let e = agent_endpoint(&agent(None, "a2")).unwrap();
        assert_eq!((e.host.as_str(), e.port), ("a2", 5051));
        assert!(agent_endpoint(&agent(Some("garbage@"), "a3")).is_none());
        assert!(agent_endpoint(&agent(None, "")).is_none());
    }

    #[test]
    fn the_open_file_limit_is_raised_to_the_hard_one_and_shared() {
        let soft = raise_open_file_limit();
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit only writes the struct it is given.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
        assert_eq!(soft, limit.rlim_cur);
        if limit.rlim_max != libc::RLIM_INFINITY {
            assert_eq!(soft, limit.rlim_max, "the soft limit is raised to the hard one");
        }
        let share = concurrency() as u64;
        assert!((4..=4096).contains(&share) && share <= soft.max(16) / 4, "{share} connects for {soft} files");
    }

    #[test]
    fn errors_are_classified_by_errno() {
        let of = |errno| classify(&std::io::Error::from_raw_os_error(errno));
        assert_eq!(of(libc::ECONNREFUSED), Outcome::Refused);
        assert_eq!(of(libc::EHOSTUNREACH), Outcome::Rejected);
        assert_eq!(of(libc::EACCES), Outcome::Rejected);
        assert_eq!(of(libc::ENETUNREACH), Outcome::Unreachable);
        assert_eq!(of(libc::EIO), Outcome::Failed);
        assert!(describe(&std::io::Error::from_raw_os_error(libc::EHOSTUNREACH)).starts_with("EHOSTUNREACH ("));
    }

    async fn one(endpoint: Endpoint, budget: Budget) -> Probe {
        probe_all(vec![endpoint], 1, budget, Swept::new()).await.remove(0)
    }

    fn budget(timeout: Duration, deadline: Duration) -> Budget {
        Budget { timeout, deadline: Instant::now() + deadline }
    }

    #[tokio::test]
    async fn loopback_open_and_refused() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let budget = budget(Duration::from_secs(2), Duration::from_secs(5));
        let endpoint =
            |port| Endpoint { host: "127.0.0.1".into(), port, component: Component::Marathon, origin: Origin::Named };
        let probes = probe_all(vec![endpoint(open.port()), endpoint(closed.port())], 2, budget, Swept::new()).await;
        assert_eq!(probes[0].outcome, Outcome::Open);
        assert_eq!(probes[1].outcome, Outcome::Refused);
        assert_eq!(probes[1].detail.as_deref(), Some("ECONNREFUSED (connection refused)"));
        assert_eq!(probes[1].attempts, 1);
    }

    #[tokio::test]
    async fn more_endpoints_than_sockets_allowed_are_all_decided_in_order() {
        let listeners: Vec<std::net::TcpListener> =
            (0..5).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        let mut endpoints: Vec<Endpoint> = listeners.iter().map(|l| flink(l.local_addr().unwrap().port())).collect();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        endpoints.insert(2, flink(closed));
        endpoints.push(Endpoint { host: "name.invalid".into(), ..flink(1) });
        let budget = budget(Duration::from_secs(2), Duration::from_secs(5));
        let probes = probe_all(endpoints.clone(), 2, budget, Swept::new()).await;
        let seen: Vec<(u16, Outcome)> = probes.iter().map(|p| (p.endpoint.port, p.outcome)).collect();
        let mut expected: Vec<(u16, Outcome)> = endpoints.iter().map(|e| (e.port, Outcome::Open)).collect();
        (expected[2].1, expected[6].1) = (Outcome::Refused, Outcome::Unresolved);
        assert_eq!(seen, expected);
        assert_eq!((probes[6].address, probes[6].attempts), (None, 0));
    }

    /// An address the early sweep decided is not connected to again, also
    /// when two endpoints share it; the others are, in their order.
    #[tokio::test]
    async fn what_the_early_sweep_saw_is_taken_as_it_is() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        drop(listener); // refused now: only the early sweep's word says open
        let swept = Swept::from([(
            open,
            sweep::Connected {
                attempt: Attempt { outcome: Outcome::Open, detail: None, elapsed: Duration::ZERO },
                attempts: 1,
            },
        )]);
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let endpoints = vec![flink(open.port()), flink(closed), flink(open.port())];
        let probes = probe_all(endpoints, 2, budget(Duration::from_secs(2), Duration::from_secs(5)), swept).await;
        let seen: Vec<(u16, Outcome)> = probes.iter().map(|p| (p.endpoint.port, p.outcome)).collect();
        assert_eq!(seen, [(open.port(), Outcome::Open), (closed, Outcome::Refused), (open.port(), Outcome::Open)]);
    }

    #[tokio::test]
    async fn a_sweep_split_over_threads_keeps_each_result_with_its_endpoint() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap().port();
        let accepting = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                drop(stream);
            }
        });
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let count = 3 * ADDRESSES_PER_THREAD;
        let ports: Vec<u16> = (0..count).map(|i| if i % 3 == 1 { open } else { closed }).collect();
        let probes = probe_all(
            ports.iter().map(|&p| flink(p)).collect(),
            64,
            budget(Duration::from_secs(5), Duration::from_secs(10)),
            Swept::new(),
        )
        .await;
        accepting.abort();
        let seen: Vec<(u16, Outcome)> = probes.iter().map(|p| (p.endpoint.port, p.outcome)).collect();
        let expected: Vec<(u16, Outcome)> =
            ports.iter().map(|&p| (p, if p == open { Outcome::Open } else { Outcome::Refused })).collect();
        assert_eq!(seen, expected);
    }

    /// A loopback listener whose accept queue is full: the kernel drops
    /// further SYNs, as a firewall's DROP does.
    async fn full_listener() -> (tokio::net::TcpListener, Vec<tokio::net::TcpStream>, u16) {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(0).unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut held = Vec::new();
        while let Ok(Ok(stream)) =
            tokio::time::timeout(Duration::from_millis(200), tokio::net::TcpStream::connect(("127.0.0.1", port))).await
        {
            held.push(stream);
        }
        (listener, held, port)
    }

    fn flink(port: u16) -> Endpoint {
        Endpoint { host: "127.0.0.1".into(), port, component: Component::Flink, origin: Origin::Named }
    }

    #[tokio::test]
    async fn a_timeout_is_retried_once_then_called_dropped() {
        let (_listener, _held, port) = full_listener().await;
        let budget = budget(Duration::from_millis(300), Duration::from_secs(10));
        let started = Instant::now();
        let probe = one(flink(port), budget).await;
        assert_eq!((probe.outcome, probe.attempts), (Outcome::Dropped, 2), "{probe:?}");
        assert_eq!(probe.detail.as_deref(), Some("no answer within 300 ms"));
        // The retry waits for the ICMP rate limit's interval.
        assert!(started.elapsed() >= RETRY_SPACING + budget.timeout);
    }

    #[tokio::test]
    async fn a_retry_that_would_not_get_a_whole_timeout_is_not_made() {
        let (_listener, _held, port) = full_listener().await;
        let probe = one(flink(port), budget(Duration::from_millis(300), Duration::from_millis(1200))).await;
        assert_eq!((probe.outcome, probe.attempts), (Outcome::Dropped, 1), "{probe:?}");
    }

    #[tokio::test]
    async fn a_dropped_port_does_not_hold_up_the_others() {
        let (_listener, _held, port) = full_listener().await;
        let open = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoints = vec![flink(port), flink(open.local_addr().unwrap().port())];
        let started = Instant::now();
        let budget = budget(Duration::from_millis(300), Duration::from_secs(10));
        let probes = probe_all(endpoints, 1, budget, Swept::new()).await;
        let outcomes: Vec<(Outcome, u8)> = probes.iter().map(|p| (p.outcome, p.attempts)).collect();
        assert_eq!(outcomes, [(Outcome::Dropped, 2), (Outcome::Open, 1)]);
        assert!(started.elapsed() >= RETRY_SPACING + Duration::from_millis(300));
    }

    /// Sockets connecting to `port` from this process (SYN-SENT in /proc/net/tcp).
    fn connecting_to(port: u16) -> usize {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let wanted = format!(":{port:04X}");
        table
            .lines()
            .filter(|l| {
                l.split_whitespace().nth(2).is_some_and(|remote| remote.ends_with(&wanted))
                    && l.split_whitespace().nth(3) == Some("02")
            })
            .count()
    }

    #[tokio::test]
    async fn dropping_the_probes_stops_the_sweep_and_closes_its_sockets() {
        let (_listener, _held, port) = full_listener().await;
        let before = connecting_to(port);
        let budget = budget(Duration::from_secs(5), Duration::from_secs(10));
        let sweep = probe_all(vec![flink(port)], 1, budget, Swept::new());
        let mut sweep = Box::pin(sweep);
        assert!(tokio::time::timeout(Duration::from_millis(300), &mut sweep).await.is_err(), "the SYN is dropped");
        assert_eq!(connecting_to(port), before + 1, "the sweep's connect is in SYN-SENT");
        drop(sweep);
        let closed = async {
            while connecting_to(port) > before {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        assert!(tokio::time::timeout(Duration::from_secs(2), closed).await.is_ok(), "the socket is closed");
    }

    #[tokio::test]
    async fn the_deadline_cuts_a_probe_short_as_unfinished() {
        let (_listener, _held, port) = full_listener().await;
        let probe = one(flink(port), budget(Duration::from_secs(5), Duration::from_millis(300))).await;
        assert_eq!((probe.outcome, probe.attempts), (Outcome::Unfinished, 1), "{probe:?}");
        let late = one(flink(port), budget(Duration::from_secs(5), Duration::ZERO)).await;
        assert_eq!((late.outcome, late.attempts), (Outcome::Unfinished, 0), "never started: {late:?}");
    }
}
