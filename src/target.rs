//! The vocabulary of what clusterdoc looks at: a node's roles, the HTTP and
//! ZooKeeper targets it probes, and how they are parsed and shown (never with
//! credentials). A leaf: config, facts and checks all speak it.

use std::str::FromStr;

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::redact::{redact, redact_url};

/// A target the user named that cannot be used; the text is already redacted.
#[derive(Debug, thiserror::Error)]
#[error("{text}: not a usable URL: {why}")]
pub struct BadTarget {
    text: String,
    why: String,
}

impl BadTarget {
    fn new(text: &str, why: impl Into<String>) -> Self {
        BadTarget { text: redact(text), why: why.into() }
    }
}

/// When in a deploy a run judges (`--phase`): before installing or
/// upgrading, or after. Without one, checks judge as they always have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Before: a role's port must be free (or held by its daemon already);
    /// no leader is elected yet.
    Preflight,
    /// After: each role's port is served by its daemon; leaders are elected.
    Postflight,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Preflight => "preflight",
            Phase::Postflight => "postflight",
        }
    }
}

/// A role a node plays in the cluster; decides which ports it must serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Master,
    Agent,
    Zookeeper,
    Marathon,
    Flink,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Master, Role::Agent, Role::Zookeeper, Role::Marathon, Role::Flink];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Agent => "agent",
            Role::Zookeeper => "zookeeper",
            Role::Marathon => "marathon",
            Role::Flink => "flink",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| format!("{text:?} is not a role (one of: {})", Role::ALL.map(Role::as_str).join(", ")))
    }
}

/// An endpoint a fleet run asks a node to probe (`collect --node --probe
/// ROLE=HOST:PORT`): what serves there, and where. The host came from the
/// cluster (a registered agent's address), so it must be a host name or an
/// address, never an option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeProbe {
    pub role: Role,
    pub place: HostPort,
}

impl FromStr for NodeProbe {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = |why: String| format!("--probe {text:?}: {why} (expected ROLE=HOST:PORT)");
        let (role, place) = text.split_once('=').ok_or_else(|| bad("no '='".into()))?;
        let role: Role = role.parse().map_err(bad)?;
        let place = parse_host_port(place, 0).filter(|p| p.port != 0).ok_or_else(|| bad("no HOST:PORT".into()))?;
        crate::remote::HostName::parse(&place.host).map_err(bad)?;
        Ok(NodeProbe { role, place })
    }
}

impl std::fmt::Display for NodeProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.role.as_str(), self.place)
    }
}

/// A name a fleet run asks a node to resolve (`collect --node --resolve
/// NAME=ADDRESS`), with the address the cluster knows it by (the one a Mesos
/// daemon registered with). Both came from the cluster, so both are checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameCheck {
    pub name: String,
    pub address: std::net::IpAddr,
}

impl FromStr for NameCheck {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = |why: String| format!("--resolve {text:?}: {why} (expected NAME=ADDRESS)");
        let (name, address) = text.split_once('=').ok_or_else(|| bad("no '='".into()))?;
        crate::remote::HostName::parse(name).map_err(bad)?;
        let address = address.parse().map_err(|e| bad(format!("{address:?}: {e}")))?;
        Ok(NameCheck { name: name.to_string(), address })
    }
}

impl std::fmt::Display for NameCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.name, self.address)
    }
}

/// What a fleet run asks of one node beyond its own facts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeAsks {
    /// Endpoints to probe, if the node's roles need them.
    pub probes: Vec<NodeProbe>,
    /// Peers' names to resolve.
    pub names: Vec<NameCheck>,
    /// Built-in pack checks that look at a machine, to gather on the node.
    pub pack_checks: Vec<String>,
}

/// A target as reports and snapshots record it: the URL without credentials.
#[derive(Clone, Serialize, Deserialize)]
struct Recorded {
    url: String,
    explicit: bool,
}

/// An HTTP endpoint (Mesos master, Marathon, Flink).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Recorded", try_from = "Recorded")]
pub struct Target {
    pub url: Url,
    /// Named by flag, environment or config file (rather than the default).
    pub explicit: bool,
}

impl Target {
    pub fn parse(text: &str, explicit: bool) -> Result<Self, BadTarget> {
        let text = text.trim();
        let with_scheme = if text.contains("://") { text.to_string() } else { format!("http://{text}") };
        let url = Url::parse(&with_scheme).map_err(|e| BadTarget::new(text, e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(BadTarget::new(text, "only http:// and https:// are supported"));
        }
        if url.host_str().is_none() {
            return Err(BadTarget::new(text, "no host"));
        }
        Ok(Target { url, explicit })
    }

    /// The URL without credentials: the only form that is ever printed.
    pub fn display(&self) -> String {
        redact_url(&self.url)
    }

    /// The same target without credentials, for what is recorded.
    pub fn redacted(&self) -> Self {
        let mut url = self.url.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        Target { url, explicit: self.explicit }
    }

    /// `host:port` of the endpoint (port defaulted by scheme).
    pub fn host_port(&self) -> (String, u16) {
        let host = self.url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_string();
        (host, self.url.port_or_known_default().unwrap_or(80))
    }
}

/// One ZooKeeper server of an ensemble.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Marathon's ZooKeeper URL `zk://[user:pass@]h1:2181,h2:2181/marathon`
/// (credentials are dropped when parsed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Recorded", try_from = "Recorded")]
pub struct ZkTarget {
    pub servers: Vec<HostPort>,
    /// The znode Marathon keeps its state under, e.g. `/marathon`.
    pub path: String,
    pub explicit: bool,
}

impl ZkTarget {
    pub fn parse(text: &str, explicit: bool) -> Result<Self, BadTarget> {
        let bad = |why: &str| BadTarget::new(text, why);
        let rest = text.trim().strip_prefix("zk://").ok_or_else(|| bad("expected zk://HOST:PORT[,HOST:PORT]/PATH"))?;
        let (hosts, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/marathon"),
        };
        let hosts = hosts.rsplit_once('@').map_or(hosts, |(_, h)| h);
        let servers = hosts
            .split(',')
            .map(|h| parse_host_port(h.trim(), 2181).ok_or_else(|| bad("bad HOST:PORT in the server list")))
            .collect::<Result<Vec<_>, _>>()?;
        let path = path.trim_end_matches('/');
        if path.is_empty() {
            return Err(bad("a path such as /marathon is required"));
        }
        Ok(ZkTarget { servers, path: path.to_string(), explicit })
    }

    /// `zk://h1:2181,h2:2181/marathon`, never with credentials.
    pub fn display(&self) -> String {
        format!("zk://{}{}", self.server_list(), self.path)
    }

    /// `h1:2181,h2:2181`, as `zkCli.sh -server` takes it.
    pub fn server_list(&self) -> String {
        self.servers.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(",")
    }
}

impl From<Target> for Recorded {
    fn from(target: Target) -> Self {
        Recorded { url: target.display(), explicit: target.explicit }
    }
}

impl TryFrom<Recorded> for Target {
    type Error = BadTarget;

    fn try_from(recorded: Recorded) -> Result<Self, BadTarget> {
        Target::parse(&recorded.url, recorded.explicit)
    }
}

impl From<ZkTarget> for Recorded {
    fn from(target: ZkTarget) -> Self {
        Recorded { url: target.display(), explicit: target.explicit }
    }
}

impl TryFrom<Recorded> for ZkTarget {
    type Error = BadTarget;

    fn try_from(recorded: Recorded) -> Result<Self, BadTarget> {
        ZkTarget::parse(&recorded.url, recorded.explicit)
    }
}

/// `host`, `host:port`, `[v6]:port` -> HostPort.
pub fn parse_host_port(text: &str, default_port: u16) -> Option<HostPort> {
    if text.is_empty() {
        return None;
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        return Some(HostPort { host: host.to_string(), port });
    }
    match text.split_once(':') {
        Some((host, port)) if !host.is_empty() && !port.contains(':') => {
            Some(HostPort { host: host.to_string(), port: port.parse().ok()? })
        }
        Some(_) => None,
        None => Some(HostPort { host: text.to_string(), port: default_port }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_to_resolve_are_host_names_with_an_address() {
        let check: NameCheck = "szv1000265118=10.0.0.5".parse().unwrap();
        assert_eq!(check.to_string(), "szv1000265118=10.0.0.5");
        for bad in ["-oX=10.0.0.5", "a1=host", "a1", "a b=10.0.0.5"] {
            assert!(bad.parse::<NameCheck>().is_err(), "{bad}");
        }
    }

    #[test]
    fn node_probes_are_a_role_and_a_host_that_is_no_option() {
        let probe: NodeProbe = "master=10.0.0.1:5050".parse().unwrap();
        assert_eq!((probe.role, probe.place.to_string()), (Role::Master, "10.0.0.1:5050".into()));
        assert_eq!(probe.to_string(), "master=10.0.0.1:5050");
        assert_eq!("agent=[fd00::5]:5051".parse::<NodeProbe>().unwrap().to_string(), "agent=[fd00::5]:5051");
        for bad in ["master=-oProxyCommand=x:22", "master=h", "boss=h:1", "h:1", "master=h:99999", "master=a b:1"] {
            assert!(bad.parse::<NodeProbe>().is_err(), "{bad}");
        }
    }

    #[test]
    fn targets_normalise_and_hide_credentials() {
        let t = Target::parse("admin:s3cret@m1:5050", true).unwrap();
        assert_eq!(t.display(), "http://m1:5050");
        assert_eq!(t.host_port(), ("m1".to_string(), 5050));
        assert!(Target::parse("ftp://x", true).is_err());
    }

    #[test]
    fn targets_are_recorded_without_credentials_and_read_back() {
        let t = Target::parse("https://admin:s3cret@m1:5050/", true).unwrap();
        let recorded = serde_json::to_string(&t).unwrap();
        assert_eq!(recorded, r#"{"url":"https://m1:5050","explicit":true}"#);
        assert_eq!(serde_json::from_str::<Target>(&recorded).unwrap(), t.redacted());
        let z = ZkTarget::parse("zk://u:p@z1:2181,z2/marathon", false).unwrap();
        let recorded = serde_json::to_string(&z).unwrap();
        assert_eq!(recorded, r#"{"url":"zk://z1:2181,z2:2181/marathon","explicit":false}"#);
        assert_eq!(serde_json::from_str::<ZkTarget>(&recorded).unwrap(), z);
        let bad = serde_json::from_str::<ZkTarget>(r#"{"url":"http://z1","explicit":true}"#).unwrap_err();
        assert!(bad.to_string().starts_with("http://z1: not a usable URL: expected zk://"), "{bad}");
    }

    #[test]
    fn zk_urls_list_every_server() {
        let z = ZkTarget::parse("zk://u:p@h1:2181,h2,[::1]:2182/marathon-1.4/", true).unwrap();
        assert_eq!(z.path, "/marathon-1.4");
        assert_eq!(z.display(), "zk://h1:2181,h2:2181,[::1]:2182/marathon-1.4");
        assert!(ZkTarget::parse("http://h/x", true).is_err());
        assert!(ZkTarget::parse("zk://h:99999/x", true).is_err());
    }
}
