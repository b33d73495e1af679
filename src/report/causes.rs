//! What root-cause tracing (DESIGN.md C2) reads and writes on a report:
//! the scope a finding is about, the causes a dependent names, and the
//! roots a report lists first.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Status;
use crate::remedy::Remedy;
use crate::target::{HostPort, Target, ZkTarget};

/// The kind of problem a check is, or a finding says, when the check could
/// not be judged: a check that ended `error` with only a reason, or a node
/// check on a node that was not reached.
pub const UNJUDGED: &str = "unjudged";

/// The kinds of thing a dependency compares (`same = "ensemble"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeKind {
    /// A ZooKeeper ensemble, by its set of servers (not its chroot path).
    Ensemble,
    /// The Mesos cluster, by the masters a run asked.
    Mesos,
    /// A Marathon, by its URL.
    Marathon,
    /// A host a finding is about, by every name it goes by.
    Host,
    /// A TCP port of a host, `HOST:PORT`, by every name of the host.
    Endpoint,
    /// A Marathon app, by its id.
    App,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Ensemble => "ensemble",
            ScopeKind::Mesos => "mesos",
            ScopeKind::Marathon => "marathon",
            ScopeKind::Host => "host",
            ScopeKind::Endpoint => "endpoint",
            ScopeKind::App => "app",
        }
    }
}

impl fmt::Display for ScopeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a finding is about, by every name it goes by (a host by its
/// name and its address): two scopes of a kind are the same thing when
/// they share a name. Names are lower case, without a trailing dot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scope {
    pub kind: ScopeKind,
    pub names: Vec<String>,
}

impl Scope {
    /// A scope of `kind` with these names; None when no name is left.
    pub fn new(kind: ScopeKind, names: impl IntoIterator<Item = impl AsRef<str>>) -> Option<Scope> {
        let mut kept: Vec<String> = Vec::new();
        for name in names {
            let name = name.as_ref().trim().trim_end_matches('.').to_ascii_lowercase();
            if !name.is_empty() && !kept.contains(&name) {
                kept.push(name);
            }
        }
        (!kept.is_empty()).then_some(Scope { kind, names: kept })
    }

    /// An ensemble: its servers as a set, whatever order a URL lists them in.
    pub fn ensemble<'a>(servers: impl IntoIterator<Item = &'a HostPort>) -> Option<Scope> {
        let mut set: Vec<String> = servers.into_iter().map(|s| s.to_string().to_ascii_lowercase()).collect();
        set.sort();
        set.dedup();
        Scope::new(ScopeKind::Ensemble, (!set.is_empty()).then(|| set.join(",")))
    }

    /// The ensemble of a `zk://` URL.
    pub fn ensemble_of(zk: &ZkTarget) -> Option<Scope> {
        Scope::ensemble(&zk.servers)
    }

    /// The ensemble of a `zk://` URL as a daemon's flag or /v2/info gives it.
    pub fn ensemble_of_url(url: &str) -> Option<Scope> {
        Scope::ensemble_of(&ZkTarget::parse(url, true).ok()?)
    }

    /// The Mesos cluster a run reads, by the masters it names.
    pub fn mesos(masters: &[Target]) -> Option<Scope> {
        let mut urls: Vec<String> = masters.iter().map(|t| t.url.as_str().trim_end_matches('/').to_string()).collect();
        urls.sort();
        Scope::new(ScopeKind::Mesos, (!urls.is_empty()).then(|| urls.join(",")))
    }

    pub fn marathon(target: &Target) -> Option<Scope> {
        Scope::new(ScopeKind::Marathon, [target.url.as_str().trim_end_matches('/')])
    }

    /// A host, by its names and addresses.
    pub fn host(names: impl IntoIterator<Item = impl AsRef<str>>) -> Option<Scope> {
        Scope::new(ScopeKind::Host, names)
    }

    /// A port of a host known by several names.
    pub fn endpoint(hosts: impl IntoIterator<Item = impl AsRef<str>>, port: u16) -> Option<Scope> {
        let names: Vec<String> = hosts.into_iter().map(|h| bracketed(h.as_ref(), port)).collect();
        Scope::new(ScopeKind::Endpoint, names)
    }

    pub fn app(id: &str) -> Option<Scope> {
        Scope::new(ScopeKind::App, [id])
    }

    /// Whether this and `other` are the same thing (of one kind, a name shared).
    pub fn same_as(&self, other: &Scope) -> bool {
        self.kind == other.kind && self.names.iter().any(|n| other.names.contains(n))
    }

    /// How a root names the thing it is about.
    pub fn describe(&self) -> String {
        let name = &self.names[0];
        match self.kind {
            ScopeKind::Ensemble => format!("ZooKeeper ensemble {name}"),
            ScopeKind::Mesos => format!("Mesos at {name}"),
            ScopeKind::Marathon => format!("Marathon {name}"),
            ScopeKind::Host => format!("host {name}"),
            ScopeKind::Endpoint => name.clone(),
            ScopeKind::App => format!("app {name}"),
        }
    }
}

/// `HOST:PORT`, an IPv6 address in brackets.
fn bracketed(host: &str, port: u16) -> String {
    let host = host.trim().trim_end_matches('.');
    if host.contains(':') && !host.starts_with('[') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

/// A cause a dependent names: the root or other problem that explains it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cause {
    pub check: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

/// A problem no other problem explains: what to fix first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RootCause {
    pub check: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    pub status: Status,
    /// What is wrong, in the words of its (first) finding or the check's reason.
    pub message: String,
    /// How many problems it explains, directly or through others.
    pub explains: usize,
    /// The checks of the problems it explains, in report order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explained_checks: Vec<String>,
    /// The fixes of its findings, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remediation: Vec<Remedy>,
    /// Where its problems stand in the report: a check's place, and its
    /// finding's (None: the check itself).
    #[serde(skip)]
    pub members: Vec<(usize, Option<usize>)>,
}

impl RootCause {
    /// Whether the finding at `at` is one of its problems.
    pub fn has(&self, at: (usize, Option<usize>)) -> bool {
        self.members.contains(&at)
    }

    pub fn describe(&self) -> String {
        described(&self.check, &self.subject, self.node.as_deref())
    }
}

impl Cause {
    pub fn describe(&self) -> String {
        described(&self.check, &self.subject, self.node.as_deref())
    }
}

/// `zk.quorum (ZooKeeper ensemble ...)`, with `on NODE` when it has one.
fn described(check: &str, subject: &str, node: Option<&str>) -> String {
    match node {
        Some(node) => format!("{check} ({subject} on {node})"),
        None => format!("{check} ({subject})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ensemble_is_its_server_set() {
        let a = Scope::ensemble_of_url("zk://zk2:2181,ZK1:2181/mesos").unwrap();
        let b = Scope::ensemble_of_url("zk://zk1:2181,zk2:2181/marathon").unwrap();
        let c = Scope::ensemble_of_url("zk://zk1:2181,zk3:2181/marathon").unwrap();
        assert!(a.same_as(&b), "the chroot path does not matter");
        assert!(!a.same_as(&c));
        assert_eq!(a.describe(), "ZooKeeper ensemble zk1:2181,zk2:2181");
    }

    #[test]
    fn hosts_are_the_same_when_they_share_a_name() {
        let node = Scope::host(["B", "10.0.0.2."]).unwrap();
        assert!(node.same_as(&Scope::host(["10.0.0.2"]).unwrap()));
        assert!(!node.same_as(&Scope::host(["a", "10.0.0.1"]).unwrap()));
        assert!(!node.same_as(&Scope::endpoint(["b"], 5050).unwrap()), "another kind");
        assert_eq!(Scope::endpoint(["fe80::1", "b"], 5050).unwrap().names, ["[fe80::1]:5050", "b:5050"]);
        assert!(Scope::host([" ", ""]).is_none());
    }
}
