//! Facts: Marathon's REST API (`/v2/info`, `/v2/leader`, `/v2/apps`,
//! `/v2/queue`, `/v2/deployments`), each its own [`Fact`].
//!
//! The wire shapes differ between 1.1, 1.4 and 1.5+ (`ports` then
//! `portDefinitions`, `container.docker.network` then `networks`, tasks with
//! or without `state`, queue items with `processedOffersSummary` from 1.4);
//! private wire types take what each version sends, and the public model
//! below is the same for all of them.

use std::fmt;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::http::{self, BodyLimit, HttpError, Problem, Service};
use super::mesos::TaskState;
use super::{Fact, Gatherer, unprobed_default};
use crate::redact::redact;
use crate::version::{BadVersion, Version};

/// How a user names Marathon, for skip reasons.
const NAME_IT: &str = "--marathon URL or MARATHON_URL";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarathonFacts {
    /// The Marathon endpoint, redacted.
    pub url: String,
    /// `/v2/info`.
    pub info: Fact<MarathonInfo>,
    /// `/v2/leader`: the leader's `host:port`, or None when Marathon has none (404).
    pub leader: Fact<Option<String>>,
    /// `/v2/apps?embed=apps.tasks`.
    pub apps: Fact<Vec<App>>,
    /// `/v2/queue`: what waits for offers.
    pub queue: Fact<Vec<QueueItem>>,
    /// `/v2/deployments`.
    pub deployments: Fact<Vec<Deployment>>,
}

impl MarathonFacts {
    /// A Marathon at `url` with no apps, queue or deployments, whose info
    /// and leader were not asked, for tests to fill in what they judge.
    #[cfg(test)]
    pub fn empty(url: &str) -> Self {
        MarathonFacts {
            url: url.into(),
            info: Fact::unavailable("-"),
            leader: Fact::unavailable("-"),
            apps: Fact::observed(Vec::new()),
            queue: Fact::observed(Vec::new()),
            deployments: Fact::observed(Vec::new()),
        }
    }
}

/// The parts of `/v2/info` clusterdoc uses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MarathonInfo {
    pub version: Option<String>,
    pub framework_id: Option<String>,
    pub leader: Option<String>,
    pub elected: Option<bool>,
    /// `marathon_config.hostname`.
    pub hostname: Option<String>,
    /// `zookeeper_config.zk`, redacted.
    pub zk: Option<String>,
    /// `marathon_config.master`: the Mesos master Marathon uses, redacted.
    #[serde(default)]
    pub master: Option<String>,
    /// `marathon_config.framework_name`: the name it registers with Mesos.
    #[serde(default)]
    pub framework_name: Option<String>,
    /// `http_config.http_port`.
    #[serde(default)]
    pub http_port: Option<u16>,
    /// `marathon_config.failover_timeout`, seconds: how long Mesos keeps the
    /// framework's tasks while no Marathon is connected.
    #[serde(default)]
    pub failover_timeout_secs: Option<u64>,
    /// `zookeeper_config.zk_session_timeout`, milliseconds.
    #[serde(default)]
    pub zk_session_timeout_ms: Option<u64>,
}

impl MarathonInfo {
    /// The release Marathon reports (`None`: it reports none).
    pub fn release(&self) -> Option<Result<Version, BadVersion>> {
        self.version.as_deref().map(str::parse)
    }
}

/// A Marathon app, the same whichever Marathon version described it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct App {
    pub id: String,
    pub cmd: Option<String>,
    pub args: Vec<String>,
    pub instances: u32,
    pub cpus: f64,
    /// MB.
    pub mem: f64,
    /// MB.
    pub disk: f64,
    /// `portDefinitions`, or the older `ports` (as tcp). With `require_ports`
    /// false these are service ports and Mesos assigns the host ports; with
    /// it true the host ports must be exactly these. Port 0: any port.
    pub port_definitions: Vec<PortDefinition>,
    pub require_ports: bool,
    /// e.g. `["hostname", "UNIQUE"]`.
    pub constraints: Vec<Vec<String>>,
    /// `acceptedResourceRoles`: the roles whose resources it takes (`*`:
    /// unreserved ones). Empty: Marathon's default, which takes both.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_resource_roles: Vec<String>,
    pub network: NetworkMode,
    /// Container port mappings (bridge networking); a non-zero host port is fixed.
    pub port_mappings: Vec<PortMapping>,
    /// With `?embed=apps.tasks`.
    pub tasks: Vec<AppTask>,
    /// Not deployed: proposed with `--app FILE` (this file), to judge the
    /// cluster as if it were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed: Option<String>,
}

impl App {
    /// How findings name it: `app /flink/flink2`, `(proposed)` when it is
    /// not deployed but proposed with `--app`.
    pub fn label(&self) -> String {
        format!("app {}", self.named())
    }

    /// Its id, `(proposed)` after it when it is only proposed.
    pub fn named(&self) -> String {
        match self.proposed {
            Some(_) => format!("{} (proposed)", self.id),
            None => self.id.clone(),
        }
    }

    /// Whether a constraint keeps its instances on distinct hosts.
    pub fn unique_per_host(&self) -> bool {
        self.constraints.iter().any(
            |c| matches!(c.as_slice(), [field, op, ..] if field.eq_ignore_ascii_case("hostname") && op == "UNIQUE"),
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortDefinition {
    pub port: u16,
    pub protocol: Protocol,
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMapping {
    pub container_port: u16,
    /// 0: Mesos picks one.
    pub host_port: u16,
    pub protocol: Protocol,
}

/// The transport protocols of a port: Marathon's `tcp`, `udp` or `udp,tcp`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    UdpTcp,
}

impl TryFrom<String> for Protocol {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let (mut tcp, mut udp) = (false, false);
        for part in text.split(',') {
            match part.trim().to_ascii_lowercase().as_str() {
                "tcp" => tcp = true,
                "udp" => udp = true,
                _ => return Err(format!("unknown port protocol {text:?} (expected tcp, udp or udp,tcp)")),
            }
        }
        Ok(match (tcp, udp) {
            (true, true) => Protocol::UdpTcp,
            (false, true) => Protocol::Udp,
            _ => Protocol::Tcp,
        })
    }
}

impl From<Protocol> for String {
    fn from(p: Protocol) -> String {
        p.to_string()
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::UdpTcp => "udp,tcp",
        })
    }
}

/// How an app's tasks are networked, which decides whether its ports are the
/// host's ports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkMode {
    /// The host's network stack: every port the task binds is a host port
    /// (Docker `HOST`, `networks: [{mode: host}]`, or no container at all).
    #[default]
    Host,
    /// Docker `BRIDGE` / `container/bridge`: host ports through port mappings.
    Bridge,
    /// A virtual network, an IP per task (Docker `USER`, `container`, `ipAddress`).
    Container,
    /// Docker `NONE`.
    None,
    Unrecognized,
}

/// A task of an app (`?embed=apps.tasks`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AppTask {
    pub id: String,
    /// The agent's host name.
    pub host: Option<String>,
    /// The host ports it was given.
    pub ports: Vec<u16>,
    /// Null in 1.1 examples.
    pub slave_id: Option<String>,
    /// Absent before Marathon 1.5.
    pub state: Option<TaskState>,
    pub started_at: Option<String>,
}

/// An app (or pod) waiting in `/v2/queue`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueItem {
    /// None for a pod.
    pub app: Option<App>,
    pub pod_id: Option<String>,
    /// Instances still to launch.
    pub count: u32,
    pub delay: Option<QueueDelay>,
    /// Since when it waits (1.4+).
    pub since: Option<String>,
    /// Why offers were declined (1.4+).
    pub offers: Option<OffersSummary>,
}

/// The back-off of a queued app after failed launches.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueDelay {
    pub time_left_seconds: f64,
    pub overdue: bool,
}

/// `processedOffersSummary`: the offers Marathon looked at for a queued app.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OffersSummary {
    pub processed: u64,
    pub unused: u64,
    /// Per reason, over the last offers.
    pub last_offers: Vec<RejectCount>,
    /// Per reason, over the last launch attempt.
    pub launch_attempt: Vec<RejectCount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RejectCount {
    pub reason: RejectReason,
    pub declined: u64,
    pub processed: u64,
}

/// Why Marathon declined an offer for a queued app.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum RejectReason {
    InsufficientCpus,
    InsufficientMemory,
    InsufficientDisk,
    InsufficientGpus,
    InsufficientPorts,
    UnfulfilledRole,
    UnfulfilledConstraint,
    NoCorrespondingReservationFound,
    AgentMaintenance,
    DeclinedScarceResources,
    Other(String),
}

const REJECT_REASONS: [(RejectReason, &str); 10] = [
    (RejectReason::InsufficientCpus, "InsufficientCpus"),
    (RejectReason::InsufficientMemory, "InsufficientMemory"),
    (RejectReason::InsufficientDisk, "InsufficientDisk"),
    (RejectReason::InsufficientGpus, "InsufficientGpus"),
    (RejectReason::InsufficientPorts, "InsufficientPorts"),
    (RejectReason::UnfulfilledRole, "UnfulfilledRole"),
    (RejectReason::UnfulfilledConstraint, "UnfulfilledConstraint"),
    (RejectReason::NoCorrespondingReservationFound, "NoCorrespondingReservationFound"),
    (RejectReason::AgentMaintenance, "AgentMaintenance"),
    (RejectReason::DeclinedScarceResources, "DeclinedScarceResources"),
];

impl From<String> for RejectReason {
    fn from(text: String) -> Self {
        REJECT_REASONS.iter().find(|(_, name)| *name == text).map_or(RejectReason::Other(text), |(r, _)| r.clone())
    }
}

impl From<RejectReason> for String {
    fn from(reason: RejectReason) -> String {
        match reason {
            RejectReason::Other(text) => text,
            known => REJECT_REASONS.iter().find(|(r, _)| *r == known).map(|(_, n)| n.to_string()).unwrap_or_default(),
        }
    }
}

/// A deployment in progress.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: String,
    pub version: Option<String>,
    pub affected_apps: Vec<String>,
    pub current_step: u32,
    pub total_steps: u32,
    /// `StartApplication`, `ScaleApplication`, ... and the app each acts on.
    pub current_actions: Vec<DeploymentAction>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeploymentAction {
    pub action: String,
    pub app: Option<String>,
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<MarathonFacts> {
    let target = &g.cfg.marathon;
    let name_it = format!("name one with {NAME_IT}");
    if let Some(reason) = unprobed_default(&g.cfg, target.explicit, &target.display(), &name_it) {
        return Fact::unavailable(reason);
    }
    let endpoint = Service::new("Marathon", &g.cfg.marathon);
    let info = http::get_json::<wire::Info>(g, &endpoint, "/v2/info", BodyLimit::SMALL).await;
    if let Err(e) = &info
        && matches!(e.problem, Problem::NoAnswer(_))
    {
        return endpoint.absent_or_failed(e, NAME_IT);
    }
    let (leader, apps, queue, deployments) = futures::join!(
        leader(g, &endpoint),
        http::get_json::<wire::Apps>(g, &endpoint, "/v2/apps?embed=apps.tasks", BodyLimit::LIST),
        http::get_json::<wire::Queue>(g, &endpoint, "/v2/queue", BodyLimit::LIST),
        http::get_json::<Vec<wire::Deployment>>(g, &endpoint, "/v2/deployments", BodyLimit::LIST),
    );
    Fact::observed(MarathonFacts {
        url: endpoint.url(),
        info: info.map(MarathonInfo::from).into(),
        leader: leader.into(),
        apps: apps.map(|a| a.apps.into_iter().map(App::from).collect()).into(),
        queue: queue.map(|q| q.queue.into_iter().map(QueueItem::from).collect()).into(),
        deployments: deployments.map(|d| d.into_iter().map(Deployment::from).collect()).into(),
    })
}

/// `/v2/leader`; 404 is Marathon's "there is no leader".
async fn leader(g: &Gatherer, endpoint: &Service) -> Result<Option<String>, HttpError> {
    match http::get_json::<wire::Leader>(g, endpoint, "/v2/leader", BodyLimit::SMALL).await {
        Ok(answer) => Ok(answer.leader.filter(|l| !l.is_empty())),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

impl From<wire::Info> for MarathonInfo {
    fn from(w: wire::Info) -> Self {
        let config = w.marathon_config.unwrap_or_default();
        let zk_session_timeout = w.zookeeper_config.as_ref().and_then(|z| z.zk_session_timeout.clone());
        MarathonInfo {
            version: w.version,
            framework_id: w.framework_id.filter(|id| !id.is_empty()),
            leader: w.leader,
            elected: w.elected,
            hostname: config.hostname,
            zk: w.zookeeper_config.and_then(|z| z.zk).map(|zk| redact(&zk)),
            master: config.master.map(|m| redact(&m)),
            framework_name: config.framework_name,
            http_port: w.http_config.and_then(|h| h.http_port),
            failover_timeout_secs: config.failover_timeout.as_ref().and_then(serde_json::Value::as_u64),
            zk_session_timeout_ms: zk_session_timeout.as_ref().and_then(serde_json::Value::as_u64),
        }
    }
}

impl From<wire::App> for App {
    fn from(w: wire::App) -> Self {
        let network = w.network_mode();
        let port_mappings = w.port_mappings();
        let port_definitions = match w.port_definitions {
            Some(defs) => defs
                .into_iter()
                .map(|d| PortDefinition { port: d.port, protocol: d.protocol.unwrap_or_default(), name: d.name })
                .collect(),
            None => w
                .ports
                .unwrap_or_default()
                .into_iter()
                .map(|port| PortDefinition { port, protocol: Protocol::Tcp, name: None })
                .collect(),
        };
        App {
            id: w.id,
            cmd: w.cmd,
            args: w.args.unwrap_or_default(),
            instances: w.instances.unwrap_or(1),
            cpus: w.cpus.unwrap_or_default(),
            mem: w.mem.unwrap_or_default(),
            disk: w.disk.unwrap_or_default(),
            port_definitions,
            require_ports: w.require_ports.unwrap_or(false),
            constraints: w.constraints.unwrap_or_default(),
            accepted_resource_roles: w.accepted_resource_roles.unwrap_or_default(),
            network,
            port_mappings,
            tasks: w.tasks.unwrap_or_default().into_iter().map(AppTask::from).collect(),
            proposed: None,
        }
    }
}

impl From<wire::Task> for AppTask {
    fn from(w: wire::Task) -> Self {
        AppTask {
            id: w.id,
            host: w.host,
            ports: w.ports.unwrap_or_default(),
            slave_id: w.slave_id.or(w.agent_id),
            state: w.state,
            started_at: w.started_at,
        }
    }
}

impl From<wire::QueueItem> for QueueItem {
    fn from(w: wire::QueueItem) -> Self {
        QueueItem {
            app: w.app.map(App::from),
            pod_id: w.pod.map(|p| p.id),
            count: w.count.unwrap_or_default(),
            delay: w.delay.map(|d| QueueDelay {
                time_left_seconds: d.time_left_seconds.unwrap_or_default(),
                overdue: d.overdue.unwrap_or(false),
            }),
            since: w.since,
            offers: w.processed_offers_summary.map(|s| OffersSummary {
                processed: s.processed_offers_count.unwrap_or_default(),
                unused: s.unused_offers_count.unwrap_or_default(),
                last_offers: s.reject_summary_last_offers.unwrap_or_default(),
                launch_attempt: s.reject_summary_launch_attempt.unwrap_or_default(),
            }),
        }
    }
}

impl From<wire::Deployment> for Deployment {
    fn from(w: wire::Deployment) -> Self {
        Deployment {
            id: w.id,
            version: w.version,
            affected_apps: w.affected_apps.unwrap_or_default(),
            current_step: w.current_step.unwrap_or_default(),
            total_steps: w.total_steps.unwrap_or_default(),
            current_actions: w
                .current_actions
                .unwrap_or_default()
                .into_iter()
                .map(|a| DeploymentAction { action: a.action, app: a.app })
                .collect(),
        }
    }
}

/// What Marathon sends, as loosely as the versions differ. Only the fields
/// the model uses are read; `null` and absent are the same.
pub mod wire {
    use super::*;

    #[derive(Deserialize)]
    pub struct Info {
        pub version: Option<String>,
        pub elected: Option<bool>,
        pub leader: Option<String>,
        #[serde(rename = "frameworkId")]
        pub framework_id: Option<String>,
        pub marathon_config: Option<MarathonConfig>,
        pub zookeeper_config: Option<ZookeeperConfig>,
        pub http_config: Option<HttpConfig>,
    }

    #[derive(Default, Deserialize)]
    pub struct MarathonConfig {
        pub hostname: Option<String>,
        pub master: Option<String>,
        pub framework_name: Option<String>,
        /// A number in every version; kept loose so that anything else
        /// reads as "not reported" instead of failing the whole answer.
        pub failover_timeout: Option<serde_json::Value>,
    }

    #[derive(Deserialize)]
    pub struct ZookeeperConfig {
        pub zk: Option<String>,
        pub zk_session_timeout: Option<serde_json::Value>,
    }

    #[derive(Deserialize)]
    pub struct HttpConfig {
        pub http_port: Option<u16>,
    }

    #[derive(Deserialize)]
    pub struct Leader {
        pub leader: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Apps {
        pub apps: Vec<App>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct App {
        pub id: String,
        pub cmd: Option<String>,
        pub args: Option<Vec<String>>,
        pub instances: Option<u32>,
        pub cpus: Option<f64>,
        pub mem: Option<f64>,
        pub disk: Option<f64>,
        /// Up to 1.4, next to `portDefinitions`.
        pub ports: Option<Vec<u16>>,
        pub port_definitions: Option<Vec<PortDefinition>>,
        pub require_ports: Option<bool>,
        pub constraints: Option<Vec<Vec<String>>>,
        pub accepted_resource_roles: Option<Vec<String>>,
        pub container: Option<Container>,
        /// 1.5+.
        pub networks: Option<Vec<Network>>,
        /// 0.14 .. 1.4: IP per task.
        pub ip_address: Option<IgnoredAny>,
        pub tasks: Option<Vec<Task>>,
    }

    impl App {
        pub fn network_mode(&self) -> NetworkMode {
            if let Some(network) = self.networks.as_ref().and_then(|n| n.first()) {
                return match network.mode.as_deref() {
                    Some("host") => NetworkMode::Host,
                    Some("container/bridge") => NetworkMode::Bridge,
                    Some("container") => NetworkMode::Container,
                    _ => NetworkMode::Unrecognized,
                };
            }
            let docker = self.container.as_ref().and_then(|c| c.docker.as_ref());
            match docker.and_then(|d| d.network.as_deref()) {
                Some("HOST") => NetworkMode::Host,
                Some("BRIDGE") => NetworkMode::Bridge,
                Some("USER") => NetworkMode::Container,
                Some("NONE") => NetworkMode::None,
                Some(_) => NetworkMode::Unrecognized,
                None if self.ip_address.is_some() => NetworkMode::Container,
                None => NetworkMode::Host,
            }
        }

        /// `container.portMappings` (1.5+) or `container.docker.portMappings`.
        pub fn port_mappings(&self) -> Vec<super::PortMapping> {
            let Some(container) = &self.container else { return Vec::new() };
            let docker = container.docker.as_ref().and_then(|d| d.port_mappings.as_ref());
            container
                .port_mappings
                .as_ref()
                .or(docker)
                .into_iter()
                .flatten()
                .map(|m| super::PortMapping {
                    container_port: m.container_port.unwrap_or_default(),
                    host_port: m.host_port.unwrap_or_default(),
                    protocol: m.protocol.unwrap_or_default(),
                })
                .collect()
        }
    }

    #[derive(Deserialize)]
    pub struct PortDefinition {
        pub port: u16,
        pub protocol: Option<Protocol>,
        pub name: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Container {
        pub docker: Option<Docker>,
        pub port_mappings: Option<Vec<PortMapping>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Docker {
        pub network: Option<String>,
        pub port_mappings: Option<Vec<PortMapping>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PortMapping {
        pub container_port: Option<u16>,
        pub host_port: Option<u16>,
        pub protocol: Option<Protocol>,
    }

    #[derive(Deserialize)]
    pub struct Network {
        pub mode: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Task {
        pub id: String,
        pub host: Option<String>,
        pub ports: Option<Vec<u16>>,
        pub slave_id: Option<String>,
        pub agent_id: Option<String>,
        pub state: Option<TaskState>,
        pub started_at: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Queue {
        pub queue: Vec<QueueItem>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct QueueItem {
        pub app: Option<App>,
        pub pod: Option<Pod>,
        pub count: Option<u32>,
        pub delay: Option<Delay>,
        pub since: Option<String>,
        pub processed_offers_summary: Option<OffersSummary>,
    }

    #[derive(Deserialize)]
    pub struct Pod {
        pub id: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Delay {
        pub time_left_seconds: Option<f64>,
        pub overdue: Option<bool>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct OffersSummary {
        pub processed_offers_count: Option<u64>,
        pub unused_offers_count: Option<u64>,
        pub reject_summary_last_offers: Option<Vec<RejectCount>>,
        pub reject_summary_launch_attempt: Option<Vec<RejectCount>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Deployment {
        pub id: String,
        pub version: Option<String>,
        pub affected_apps: Option<Vec<String>>,
        pub current_step: Option<u32>,
        pub total_steps: Option<u32>,
        pub current_actions: Option<Vec<Action>>,
    }

    #[derive(Deserialize)]
    pub struct Action {
        pub action: String,
        pub app: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apps(text: &str) -> Vec<App> {
        serde_json::from_str::<wire::Apps>(text).unwrap().apps.into_iter().map(App::from).collect()
    }

    fn queue(text: &str) -> Vec<QueueItem> {
        serde_json::from_str::<wire::Queue>(text).unwrap().queue.into_iter().map(QueueItem::from).collect()
    }

    #[test]
    fn apps_of_every_version_read_the_same() {
        for text in [
            include_str!("../../tests/fixtures/marathon/v1.1.7/app_list.json"),
            include_str!("../../tests/fixtures/marathon/v1.4.13/app_list.json"),
            include_str!("../../tests/fixtures/marathon/master/app_list.json"),
        ] {
            let app = &apps(text)[0];
            assert_eq!((app.id.as_str(), app.instances, app.mem), ("/myapp", 3, 5.0));
            assert_eq!(app.cmd.as_deref(), Some("env && sleep 60"));
            assert!(app.args.is_empty(), "null args read as none");
            let ports: Vec<u16> = app.port_definitions.iter().map(|p| p.port).collect();
            assert_eq!(ports, [10013, 10015]);
            assert!(!app.require_ports && app.unique_per_host());
            assert_eq!(app.network, NetworkMode::Host);
        }
    }

    #[test]
    fn port_definitions_win_over_ports_and_docker_details_are_kept() {
        let text = format!(r#"{{"apps": [{}]}}"#, include_str!("../../tests/fixtures/marathon/master/app.json"));
        let app = &apps(&text)[0];
        assert_eq!(
            app.port_definitions,
            [PortDefinition { port: 0, protocol: Protocol::Tcp, name: Some("http".into()) }]
        );
        assert_eq!(app.network, NetworkMode::Bridge);
        assert_eq!(app.port_mappings, [PortMapping { container_port: 80, host_port: 0, protocol: Protocol::Tcp }]);
        assert_eq!(app.args, ["sleep", "100"]);
        assert_eq!(app.constraints, [["hostname", "LIKE", "srv2.*"]]);
    }

    #[test]
    fn networks_of_marathon_1_5_decide_the_mode() {
        let text = r#"{"apps": [{"id": "/a", "networks": [{"mode": "container/bridge"}],
            "container": {"type": "MESOS", "portMappings": [{"containerPort": 6123, "hostPort": 6123, "protocol": "udp,tcp"}]}},
            {"id": "/b", "networks": [{"mode": "host"}], "portDefinitions": [{"port": 8081, "protocol": "udp"}], "requirePorts": true}]}"#;
        let list = apps(text);
        assert_eq!(list[0].network, NetworkMode::Bridge);
        assert_eq!(list[0].port_mappings[0].protocol, Protocol::UdpTcp);
        assert_eq!((list[1].network, list[1].require_ports), (NetworkMode::Host, true));
        assert_eq!(list[1].port_definitions[0].protocol, Protocol::Udp);
        assert_eq!(list[1].instances, 1, "Marathon's default");
    }

    #[test]
    fn queue_items_of_1_1_have_no_offer_summary_later_ones_do() {
        let old = queue(include_str!("../../tests/fixtures/marathon/v1.1.7/queue.json"));
        assert_eq!(old.len(), 2);
        let datadog = &old[0];
        let app = datadog.app.as_ref().unwrap();
        assert_eq!((app.id.as_str(), app.network, datadog.count), ("/tools/datadog-agent", NetworkMode::Host, 1));
        assert!(datadog.delay.as_ref().unwrap().overdue && datadog.offers.is_none());
        for text in [
            include_str!("../../tests/fixtures/marathon/v1.4.13/queue.json"),
            include_str!("../../tests/fixtures/marathon/master/queue.json"),
        ] {
            let foo = &queue(text)[1];
            let offers = foo.offers.as_ref().unwrap();
            assert_eq!((offers.processed, offers.unused), (123, 123));
            let cpus = offers.last_offers.iter().find(|r| r.reason == RejectReason::InsufficientCpus).unwrap();
            assert_eq!((cpus.declined, cpus.processed), (75, 123));
        }
    }

    #[test]
    fn reject_reasons_and_protocols_round_trip() {
        for name in ["InsufficientMemory", "SomethingNew"] {
            assert_eq!(String::from(RejectReason::from(name.to_string())), name);
        }
        assert_eq!(Protocol::try_from("tcp,udp".to_string()), Ok(Protocol::UdpTcp));
        assert!(Protocol::try_from("sctp".to_string()).is_err());
        let item = &queue(include_str!("../../tests/fixtures/marathon/master/queue.json"))[1];
        let again: QueueItem = serde_json::from_str(&serde_json::to_string(item).unwrap()).unwrap();
        assert_eq!(&again, item);
    }

    #[test]
    fn info_of_every_version_names_the_framework() {
        for (text, version, id) in [
            (include_str!("../../tests/fixtures/marathon/v1.1.7/info.json"), "0.13.0", "80ba2050-"),
            (include_str!("../../tests/fixtures/marathon/v1.4.13/info.json"), "1.4.8", "da21ff97-"),
            (include_str!("../../tests/fixtures/marathon/master/info.json"), "1.5.0", "96d7da70-"),
        ] {
            let info = MarathonInfo::from(serde_json::from_str::<wire::Info>(text).unwrap());
            assert_eq!(info.release().unwrap().unwrap().to_string(), version);
            assert!(info.framework_id.unwrap().starts_with(id));
            assert_eq!(info.zk.as_deref(), Some("zk://localhost:2181/marathon"));
            assert_eq!(info.http_port, Some(8080));
        }
    }

    #[test]
    fn info_carries_the_failover_and_session_timeouts() {
        for (text, session_ms) in [
            (include_str!("../../tests/fixtures/marathon/v1.1.7/info.json"), 1_800_000),
            (include_str!("../../tests/fixtures/marathon/v1.4.13/info.json"), 10_000),
            (include_str!("../../tests/fixtures/marathon/master/info.json"), 10_000),
        ] {
            let info = MarathonInfo::from(serde_json::from_str::<wire::Info>(text).unwrap());
            assert_eq!(info.failover_timeout_secs, Some(604_800));
            assert_eq!(info.zk_session_timeout_ms, Some(session_ms));
        }
        let odd =
            r#"{"marathon_config": {"failover_timeout": "a week"}, "zookeeper_config": {"zk_session_timeout": -1}}"#;
        let info = MarathonInfo::from(serde_json::from_str::<wire::Info>(odd).unwrap());
        assert_eq!((info.failover_timeout_secs, info.zk_session_timeout_ms), (None, None), "not numbers: not reported");
    }

    #[test]
    fn deployments_of_1_1_and_later_read_the_same() {
        for text in [
            include_str!("../../tests/fixtures/marathon/v1.1.7/deployments.json"),
            include_str!("../../tests/fixtures/marathon/master/deployments.json"),
        ] {
            let d = Deployment::from(serde_json::from_str::<Vec<wire::Deployment>>(text).unwrap().remove(0));
            assert_eq!(d.affected_apps, ["/foo"]);
            assert_eq!(d.current_actions[0].action, "ScaleApplication");
        }
    }
}
