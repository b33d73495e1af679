//! Facts: how this node's host name resolves, forward and back.
//!
//! Live, the name is looked up as glibc's usual `hosts: files dns` does:
//! `/etc/hosts` first, then the DNS servers of `/etc/resolv.conf` (with its
//! search domains). Under `--root DIR` only `DIR/etc/hosts` is consulted.
//! "The name does not exist" and "no DNS server answered" are kept apart:
//! the first is a finding, the second leaves the check undecided.

use std::net::IpAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{LookupIpStrategy, ResolveHosts};
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::{Name, RData};
use serde::{Deserialize, Serialize};

use super::node::HostsFile;
use super::{Fact, Gatherer};
use crate::target::NameCheck;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DnsFacts {
    /// The name looked up: this node's host name.
    pub name: String,
    /// False under `--root`: only the hosts file was consulted.
    pub dns_consulted: bool,
    pub forward: Lookup<Vec<IpAddr>>,
    /// One reverse lookup per non-loopback forward address.
    pub reverse: Vec<ReverseLookup>,
    /// In a fleet run, the peers' names this node was asked to resolve.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<PeerLookup>,
}

/// How this node resolves a peer's name, against the address the peer
/// registered with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerLookup {
    pub name: String,
    pub registered: IpAddr,
    pub forward: Lookup<Vec<IpAddr>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReverseLookup {
    pub address: IpAddr,
    pub names: Lookup<Vec<String>>,
}

/// The outcome of one lookup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Lookup<T> {
    Found {
        value: T,
        source: AnswerSource,
    },
    /// The name (or address) has no record: a real answer.
    NotFound {
        detail: String,
    },
    /// No answer could be had (no DNS server reachable, timeout, SERVFAIL).
    Unanswered {
        error: String,
    },
}

/// Where an answer came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnswerSource {
    HostsFile { path: String, line: usize },
    Dns,
}

impl std::fmt::Display for AnswerSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnswerSource::HostsFile { path, line } => write!(f, "{path} line {line}"),
            AnswerSource::Dns => f.write_str("DNS"),
        }
    }
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<DnsFacts> {
    let node = match g.node().await {
        Fact::Observed { value } => value,
        other => return Fact::failed(format!("no host name to resolve: {}", other.problem().unwrap_or_default())),
    };
    let Some(name) = node.hostname() else {
        let why = node.hostname.problem().unwrap_or("unknown host name");
        return Fact::failed(format!("no host name to resolve: {why}"));
    };
    let hosts = match &node.hosts {
        Fact::Observed { value } => Some(value),
        Fact::Unavailable { .. } => None,
        Fact::Failed { error } => return Fact::failed(format!("cannot read the hosts file: {error}")),
    };
    let dns = g.cfg.live().then(|| Dns::from_system(g.cfg.timeout));
    let names = g.node_asks.as_ref().map_or(&[][..], |asks| &asks.names[..]);
    let (mut facts, peers) =
        futures::join!(resolve(name, hosts, dns.as_ref()), resolve_peers(names, hosts, dns.as_ref()));
    facts.peers = peers;
    Fact::observed(facts)
}

/// The peers' names, each looked up as this node's own name is.
async fn resolve_peers(names: &[NameCheck], hosts: Option<&HostsFile>, dns: Option<&Dns>) -> Vec<PeerLookup> {
    let lookups = names.iter().map(|check| async move {
        let forward = forward(&check.name, hosts, dns).await;
        PeerLookup { name: check.name.clone(), registered: check.address, forward }
    });
    futures::future::join_all(lookups).await
}

/// What a fleet run asks its nodes to resolve: the host names the leading
/// master and its agents registered with, and the addresses they did (the
/// pid's), where both are valid. Nothing when the master cannot be read.
pub async fn fleet_names(g: &Gatherer) -> Vec<NameCheck> {
    let Fact::Observed { value: mesos } = g.mesos().await else { return Vec::new() };
    let Fact::Observed { value: state } = &mesos.state else { return Vec::new() };
    let master = state.hostname.as_deref().zip(state.pid.as_deref());
    let agents = state.agents.iter().filter_map(|a| Some((a.hostname.as_str(), a.pid.as_deref()?)));
    let mut names: Vec<NameCheck> = Vec::new();
    for (name, pid) in master.into_iter().chain(agents) {
        let address = pid.rsplit_once('@').and_then(|(_, at)| at.rsplit_once(':')).map(|(ip, _)| ip);
        let Some(check) = address.and_then(|ip| format!("{name}={ip}").parse::<NameCheck>().ok()) else { continue };
        // A name that is its address needs no resolving.
        if check.name.parse::<IpAddr>().is_err() && !names.contains(&check) {
            names.push(check);
        }
    }
    names
}

/// Forward lookup of `name`, then a reverse lookup of each non-loopback
/// address (concurrently). `dns: None` consults the hosts file only.
async fn resolve(name: &str, hosts: Option<&HostsFile>, dns: Option<&Dns>) -> DnsFacts {
    let forward = forward(name, hosts, dns).await;
    let addresses: Vec<IpAddr> = match &forward {
        Lookup::Found { value, .. } => value.iter().copied().filter(|a| !a.is_loopback()).collect(),
        _ => Vec::new(),
    };
    let reverse = futures::future::join_all(addresses.into_iter().map(|address| async move {
        let names = match hosts_reverse(address, hosts) {
            Some(found) => found,
            None => match dns {
                Some(dns) => dns.reverse(address).await,
                None => Lookup::NotFound { detail: not_in_hosts_file(hosts) },
            },
        };
        ReverseLookup { address, names }
    }))
    .await;
    DnsFacts { name: name.to_string(), dns_consulted: dns.is_some(), forward, reverse, peers: Vec::new() }
}

/// `name`'s addresses: the hosts file first, then DNS (`None`: not asked).
async fn forward(name: &str, hosts: Option<&HostsFile>, dns: Option<&Dns>) -> Lookup<Vec<IpAddr>> {
    match hosts_forward(name, hosts) {
        Some(found) => found,
        None => match dns {
            Some(dns) => dns.forward(name).await,
            None => Lookup::NotFound { detail: not_in_hosts_file(hosts) },
        },
    }
}

fn not_in_hosts_file(hosts: Option<&HostsFile>) -> String {
    match hosts {
        Some(h) => format!("not in {} (DNS was not consulted)", h.path),
        None => "there is no /etc/hosts (DNS was not consulted)".into(),
    }
}

/// Every address the hosts file gives the name (glibc merges all lines).
fn hosts_forward(name: &str, hosts: Option<&HostsFile>) -> Option<Lookup<Vec<IpAddr>>> {
    let hosts = hosts?;
    let entries: Vec<_> = hosts.entries_naming(name).collect();
    let first = entries.first()?;
    let mut addresses: Vec<IpAddr> = Vec::new();
    for entry in &entries {
        if !addresses.contains(&entry.address) {
            addresses.push(entry.address);
        }
    }
    Some(Lookup::Found {
        value: addresses,
        source: AnswerSource::HostsFile { path: hosts.path.clone(), line: first.line },
    })
}

fn hosts_reverse(address: IpAddr, hosts: Option<&HostsFile>) -> Option<Lookup<Vec<String>>> {
    let hosts = hosts?;
    let entry = hosts.first_entry_for(address)?;
    Some(Lookup::Found {
        value: entry.names.clone(),
        source: AnswerSource::HostsFile { path: hosts.path.clone(), line: entry.line },
    })
}

/// The system's DNS resolver, or why there is none.
struct Dns {
    resolver: Result<TokioResolver, String>,
    /// Bounds one lookup, retries and search domains included.
    limit: Duration,
}

impl Dns {
    fn from_system(timeout: Duration) -> Self {
        let resolver = TokioResolver::builder_tokio()
            .and_then(|mut builder| {
                let options = builder.options_mut();
                options.timeout = timeout;
                options.attempts = 1;
                options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
                // The hosts file was consulted first, by us, as glibc does.
                options.use_hosts_file = ResolveHosts::Never;
                builder.build()
            })
            .map_err(|e| format!("no usable DNS configuration in /etc/resolv.conf: {e}"));
        Dns { resolver, limit: timeout * 3 }
    }

    async fn forward(&self, name: &str) -> Lookup<Vec<IpAddr>> {
        if let Err(e) = Name::from_utf8(name) {
            return Lookup::NotFound { detail: format!("{name:?} is not a valid DNS name: {e}") };
        }
        self.ask(name, |r| async move { r.lookup_ip(name).await.map(|found| found.iter().collect::<Vec<IpAddr>>()) })
            .await
    }

    async fn reverse(&self, address: IpAddr) -> Lookup<Vec<String>> {
        self.ask(&address.to_string(), |r| async move {
            r.reverse_lookup(address).await.map(|found| {
                found
                    .answers()
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::PTR(ptr) => Some(ptr.0.to_utf8().trim_end_matches('.').to_string()),
                        _ => None,
                    })
                    .collect::<Vec<String>>()
            })
        })
        .await
    }

    /// Runs one query under the limit and sorts its outcome into found /
    /// not found / unanswered.
    async fn ask<'a, T, F>(&'a self, what: &str, query: impl FnOnce(&'a TokioResolver) -> F) -> Lookup<Vec<T>>
    where
        F: Future<Output = Result<Vec<T>, NetError>>,
    {
        let resolver = match &self.resolver {
            Ok(r) => r,
            Err(e) => return Lookup::Unanswered { error: e.clone() },
        };
        match tokio::time::timeout(self.limit, query(resolver)).await {
            Ok(Ok(values)) if !values.is_empty() => Lookup::Found { value: values, source: AnswerSource::Dns },
            Ok(Ok(_)) => Lookup::NotFound { detail: format!("DNS has no record for {what}") },
            Ok(Err(e)) if e.is_nx_domain() => {
                Lookup::NotFound { detail: format!("DNS: {what} does not exist (NXDOMAIN)") }
            }
            Ok(Err(e)) if e.is_no_records_found() => {
                Lookup::NotFound { detail: format!("DNS has no record for {what}") }
            }
            Ok(Err(e)) => {
                Lookup::Unanswered { error: format!("DNS lookup of {what} failed: {}", super::net_error::reason(&e)) }
            }
            Err(_) => Lookup::Unanswered {
                error: format!("DNS lookup of {what}: no answer within {}", humantime::format_duration(self.limit)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str) -> HostsFile {
        HostsFile::parse("/etc/hosts", text)
    }

    #[tokio::test]
    async fn hosts_file_only_answers_forward_and_reverse() {
        let h = hosts("127.0.0.1 localhost\n10.0.0.5 node1.example.com node1\n10.0.0.5 other\n");
        let facts = resolve("NODE1", Some(&h), None).await;
        assert!(!facts.dns_consulted);
        let at = |line| AnswerSource::HostsFile { path: "/etc/hosts".into(), line };
        assert_eq!(facts.forward, Lookup::Found { value: vec!["10.0.0.5".parse().unwrap()], source: at(2) });
        assert_eq!(
            facts.reverse,
            vec![ReverseLookup {
                address: "10.0.0.5".parse().unwrap(),
                names: Lookup::Found { value: vec!["node1.example.com".into(), "node1".into()], source: at(2) },
            }]
        );
    }

    #[tokio::test]
    async fn loopback_addresses_get_no_reverse_lookup_and_missing_names_are_not_found() {
        let h = hosts("127.0.1.1 node1\n");
        let facts = resolve("node1", Some(&h), None).await;
        assert!(facts.reverse.is_empty());
        let missing = resolve("node2", Some(&h), None).await;
        assert!(matches!(missing.forward, Lookup::NotFound { ref detail } if detail.contains("DNS was not consulted")));
        let no_file = resolve("node2", None, None).await;
        assert!(matches!(no_file.forward, Lookup::NotFound { ref detail } if detail.contains("no /etc/hosts")));
    }

    #[tokio::test]
    async fn a_missing_resolver_configuration_is_unanswered_not_absent() {
        let dns = Dns { resolver: Err("no usable DNS configuration".into()), limit: Duration::from_secs(1) };
        let facts = resolve("node1", None, Some(&dns)).await;
        assert_eq!(facts.forward, Lookup::Unanswered { error: "no usable DNS configuration".into() });
        let invalid = dns.forward("a b$(x)").await;
        assert!(matches!(invalid, Lookup::NotFound { .. }), "{invalid:?}");
    }
}
