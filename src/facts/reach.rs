//! Facts: TCP reachability of every cluster endpoint the run knows (named
//! Mesos masters and the agents registered with them, Marathon, each
//! ZooKeeper server, Flink), probed concurrently with one connect each and
//! classified by what the kernel reports (REFERENCE.md section 4).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::Instant;

use super::mesos::Agent;
use super::{Fact, Gatherer};
use crate::config::{Config, HostPort, Target, parse_host_port};

/// The kernel's default `net.ipv4.icmp_ratelimit`: a host sends about one
/// ICMP error per this interval to a peer after a burst of six, so a retry
/// spaced by it can get the reject a burst of probes did not.
const RETRY_SPACING: Duration = Duration::from_secs(1);
/// Probes end this long before the gathering deadline so that their results
/// are kept rather than the whole fact giving up.
const DEADLINE_MARGIN: Duration = Duration::from_millis(100);
const AGENT_PORT: u16 = 5051;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReachFacts {
    pub probes: Vec<Probe>,
    /// Endpoints that could not be listed, and why (Mesos agents when the
    /// Mesos state is not known).
    pub gaps: Vec<String>,
    /// The `--timeout` each connect had.
    pub timeout_ms: u64,
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
    /// The wait for one operation starting now, and whether the deadline
    /// rather than the timeout bounds it.
    fn wait(&self) -> (Duration, bool) {
        let left = self.deadline.saturating_duration_since(Instant::now());
        (self.timeout.min(left), left < self.timeout)
    }
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<ReachFacts> {
    let budget =
        Budget { timeout: g.cfg.timeout, deadline: g.deadline.checked_sub(DEADLINE_MARGIN).unwrap_or(g.deadline) };
    let limit = Arc::new(Semaphore::new(concurrency()));
    let known = known_endpoints(&g.cfg);
    let known_probes = probe_all(known.clone(), &limit, budget);
    let agent_probes = async {
        match registered_agents(g).await {
            Ok(agents) => {
                let fresh = agents.into_iter().filter(|a| !known.iter().any(|k| same_place(k, a))).collect();
                (probe_all(fresh, &limit, budget).await, None)
            }
            Err(gap) => (Vec::new(), Some(gap)),
        }
    };
    let (mut probes, (agents, gap)) = futures::join!(known_probes, agent_probes);
    probes.extend(agents);
    Fact::observed(ReachFacts { probes, gaps: gap.into_iter().collect(), timeout_ms: g.cfg.timeout.as_millis() as u64 })
}

/// How many connects may be in flight: a share of the open-file limit, the
/// rest left to the other fact sources of the run. The soft limit is raised
/// to the hard one first (a default soft 1024 would otherwise cap a sweep of
/// thousands of agents at 256 at a time). Up to 4,096: on loopback 1,024 is
/// 5% faster, but behind a firewall that drops, each wave of connects waits
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

/// Every agent the leading master knows, at the address it registered with.
async fn registered_agents(g: &Gatherer) -> Result<Vec<Endpoint>, String> {
    let gap = |why: &str| format!("Mesos agents not probed: {why}");
    let mesos = g.mesos().await;
    let state = match mesos {
        Fact::Observed { value } => &value.state,
        other => return Err(gap(other.problem().unwrap_or_default())),
    };
    match state {
        Fact::Observed { value } => Ok(value.agents.iter().filter_map(agent_endpoint).collect()),
        other => Err(gap(other.problem().unwrap_or_default())),
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

/// Probes every endpoint, each in its own task so that the runtime's worker
/// threads share the sweep (one task driving 10,000 connects was half as
/// fast: see BENCHMARKS.md), at most `limit` at a time.
async fn probe_all(endpoints: Vec<Endpoint>, limit: &Arc<Semaphore>, budget: Budget) -> Vec<Probe> {
    let running: Vec<(Endpoint, JoinHandle<Probe>)> = endpoints
        .into_iter()
        .map(|endpoint| {
            let limit = limit.clone();
            (endpoint.clone(), tokio::spawn(async move { probe(endpoint, &limit, budget).await }))
        })
        .collect();
    // Probes still running when this future is dropped (the run's deadline) are stopped.
    let _stop_on_drop = AbortOnDrop(running.iter().map(|(_, task)| task.abort_handle()).collect());
    let finished = running.into_iter().map(|(endpoint, task)| async move {
        task.await.unwrap_or_else(|e| Probe {
            endpoint,
            address: None,
            outcome: Outcome::Failed,
            detail: Some(format!("the probe did not finish: {e}")),
            elapsed_ms: 0,
            attempts: 0,
        })
    });
    futures::future::join_all(finished).await
}

struct AbortOnDrop(Vec<AbortHandle>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.iter().for_each(AbortHandle::abort);
    }
}

/// One attempt's result.
struct Attempt {
    outcome: Outcome,
    detail: Option<String>,
    elapsed: Duration,
}

async fn probe(endpoint: Endpoint, limit: &Semaphore, budget: Budget) -> Probe {
    // The semaphore is never closed, so acquiring cannot fail.
    let _permit = limit.acquire().await.ok();
    let started = Instant::now();
    let (address, mut attempt, mut attempts) = match resolve(&endpoint, budget).await {
        Ok(address) => (Some(address), connect(address, budget).await, 1),
        Err(failed) => (None, failed, 0),
    };
    if let (Some(address), Outcome::Dropped) = (address, attempt.outcome) {
        tokio::time::sleep_until(started + RETRY_SPACING).await;
        if budget.wait().0 == budget.timeout {
            attempts += 1;
            let retry = connect(address, budget).await;
            if retry.outcome != Outcome::Dropped {
                attempt = retry;
            }
        }
    }
    Probe {
        endpoint,
        address,
        outcome: attempt.outcome,
        detail: attempt.detail,
        elapsed_ms: attempt.elapsed.as_millis() as u64,
        attempts,
    }
}

async fn resolve(endpoint: &Endpoint, budget: Budget) -> Result<SocketAddr, Attempt> {
    if let Ok(ip) = endpoint.host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, endpoint.port));
    }
    let start = Instant::now();
    let (wait, cut_by_deadline) = budget.wait();
    let failed = |outcome, detail: String| Attempt { outcome, detail: Some(detail), elapsed: start.elapsed() };
    match tokio::time::timeout(wait, tokio::net::lookup_host((endpoint.host.as_str(), endpoint.port))).await {
        Ok(Ok(mut addresses)) => {
            addresses.next().ok_or_else(|| failed(Outcome::Unresolved, "the name has no addresses".into()))
        }
        Ok(Err(e)) => Err(failed(Outcome::Unresolved, e.to_string())),
        Err(_) if cut_by_deadline => Err(failed(Outcome::Unfinished, "the run's deadline came first".into())),
        Err(_) => Err(failed(Outcome::Unresolved, format!("no answer from the resolver within {}", ms(wait)))),
    }
}

async fn connect(address: SocketAddr, budget: Budget) -> Attempt {
    let start = Instant::now();
    let (wait, cut_by_deadline) = budget.wait();
    let result = tokio::time::timeout(wait, TcpStream::connect(address)).await;
    let (outcome, detail) = match result {
        // Dropping the stream closes the connection at once: nothing is sent.
        Ok(Ok(_stream)) => (Outcome::Open, None),
        Ok(Err(e)) => (classify(&e), Some(describe(&e))),
        Err(_) if cut_by_deadline => (Outcome::Unfinished, Some("the run's deadline came first".into())),
        Err(_) => (Outcome::Dropped, Some(format!("no answer within {}", ms(wait)))),
    };
    Attempt { outcome, detail, elapsed: start.elapsed() }
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
        _ => return error.to_string(),
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

    #[tokio::test]
    async fn loopback_open_and_refused() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let budget = Budget { timeout: Duration::from_secs(2), deadline: Instant::now() + Duration::from_secs(5) };
        let limit = Arc::new(Semaphore::new(2));
        let endpoint =
            |port| Endpoint { host: "127.0.0.1".into(), port, component: Component::Marathon, origin: Origin::Named };
        let probes = probe_all(vec![endpoint(open.port()), endpoint(closed.port())], &limit, budget).await;
        assert_eq!(probes[0].outcome, Outcome::Open);
        assert_eq!(probes[1].outcome, Outcome::Refused);
        assert_eq!(probes[1].detail.as_deref(), Some("ECONNREFUSED (connection refused)"));
        assert_eq!(probes[1].attempts, 1);
    }

    /// A loopback listener whose accept queue is full: the kernel drops
    /// further SYNs, as a firewall's DROP does.
    async fn full_listener() -> (tokio::net::TcpListener, Vec<TcpStream>, u16) {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(0).unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut held = Vec::new();
        while let Ok(Ok(stream)) =
            tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(("127.0.0.1", port))).await
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
        let budget = Budget { timeout: Duration::from_millis(300), deadline: Instant::now() + Duration::from_secs(10) };
        let started = Instant::now();
        let probe = probe(flink(port), &Semaphore::new(1), budget).await;
        assert_eq!((probe.outcome, probe.attempts), (Outcome::Dropped, 2), "{probe:?}");
        // The retry waits for the ICMP rate limit's interval.
        assert!(started.elapsed() >= RETRY_SPACING + budget.timeout);
    }

    #[tokio::test]
    async fn probes_stop_when_the_sweep_is_dropped() {
        let (_listener, _held, port) = full_listener().await;
        let budget = Budget { timeout: Duration::from_secs(5), deadline: Instant::now() + Duration::from_secs(10) };
        let limit = Arc::new(Semaphore::new(1));
        let sweep = probe_all(vec![flink(port)], &limit, budget);
        assert!(tokio::time::timeout(Duration::from_millis(200), sweep).await.is_err(), "the SYN is dropped");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(limit.available_permits(), 1, "the aborted probe gave its permit back");
    }

    #[tokio::test]
    async fn the_deadline_cuts_a_probe_short_as_unfinished() {
        let (_listener, _held, port) = full_listener().await;
        let budget = Budget { timeout: Duration::from_secs(5), deadline: Instant::now() + Duration::from_millis(300) };
        let probe = probe(flink(port), &Semaphore::new(1), budget).await;
        assert_eq!((probe.outcome, probe.attempts), (Outcome::Unfinished, 1), "{probe:?}");
    }
}
