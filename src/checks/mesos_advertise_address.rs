//! `mesos.advertise-address`: Mesos daemons register at addresses their
//! peers can use.
//!
//! Reads the address in each pid of the leader's `/master/state` (the
//! leader's own, each agent's), the flags that set it when they were read,
//! and how this node's host name resolves.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::{Check, CheckMeta, Explain, NotJudged, Verdict, conclude, required};
use crate::facts::dns::{DnsFacts, Lookup};
use crate::facts::mesos::{MesosState, pid_address};
use crate::facts::mesos_flags::{Flags, MesosFlagsFacts};
use crate::facts::node::{MesosDaemon, NodeFacts};
use crate::facts::{Fact, Facts, Need};
use crate::remedy::{Cmd, HostGroup, Remedy, RunsOn};
use crate::report::{Finding, Status};

pub struct MesosAdvertiseAddress;

/// Docker's default bridge network (`docker0`).
const DOCKER_BRIDGE: (Ipv4Addr, u8) = (Ipv4Addr::new(172, 17, 0, 0), 16);

/// The flags that decide the address a Mesos daemon registers with.
const ADDRESS_FLAGS: [&str; 3] = ["ip", "advertise_ip", "hostname"];

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("mesos.advertise-address"),
    title: Cow::Borrowed("Mesos daemons register at addresses their peers can use"),
    severity: Status::Fail,
    needs: &[Need::Mesos, Need::MesosFlags, Need::Node, Need::Dns],
    tags: texts!["mesos", "network"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("The address in the pid of the leading Mesos master (master@IP:PORT) and of every agent \
               (slave(1)@IP:PORT) in the leader's /master/state, with the --ip, --advertise_ip and --hostname \
               flags of /master/flags and the agents' /slave(N)/flags as evidence. Fails when the cluster spans \
               more than one host (an address outside loopback and the Docker bridge, or agents with different \
               host names) and a daemon registered at a loopback address (127.0.0.0/8, ::1; Debian's /etc/hosts \
               maps the host name to 127.0.1.1) or at Docker's default bridge (172.17.0.0/16). Warns when this \
               node's host name resolves to addresses that do not include the one a daemon on this node \
               registered with. This node's /etc/mesos-*/ip and advertise_ip files are shown as evidence for \
               its own daemons. Cannot decide (error) when a pid is not NAME@IP:PORT or this node's host name \
               could not be looked up."),
        why: Cow::Borrowed("libprocess registers each daemon at one address, the one it binds (--ip, LIBPROCESS_IP) or \
              advertises (--advertise_ip, LIBPROCESS_ADVERTISE_IP); without them it takes the address the \
              host name resolves to. Peers call back at that address: the master sends offers to a scheduler's \
              pid, agents and schedulers send to the master's pid. A master at master@127.0.1.1:5050 is \
              reachable from its own host only, so agents and frameworks elsewhere register and never hear \
              back; a daemon in a bridged Docker container advertises its 172.17.x.x address, which only its \
              host reaches (marathon#3451). Marathon and Flink, which resolve the node's host name to register, \
              meet the same trap (marathon#1198, #2153)."),
        fix: Cow::Borrowed("On the host named, write the address peers reach into the daemon's flag file (the printed printf \
              into /etc/mesos-master/ip or /etc/mesos-slave/ip, which mesos-init-wrapper turns into --ip) and \
              restart it; behind NAT or in a container set --advertise_ip (/etc/mesos-*/advertise_ip) or \
              LIBPROCESS_ADVERTISE_IP instead, or run the container with --net=host. Where the host name \
              resolves wrongly, fix /etc/hosts (drop the 127.0.1.1 line for the host name) or DNS, or set \
              /etc/mesos-*/hostname."),
        risk: Cow::Borrowed("Disruptive: the daemon restarts. A master re-elects; an agent re-registers at its new address \
               and, with framework checkpointing, keeps its tasks."),
        references: texts![
            "https://mesos.apache.org/documentation/latest/configuration/libprocess/ (LIBPROCESS_IP, \
             LIBPROCESS_ADVERTISE_IP)",
            "https://mesos.apache.org/documentation/latest/configuration/master-and-agent/ (--ip, \
             --advertise_ip, --hostname)",
            "https://github.com/d2iq-archive/marathon/issues/1198 (the scheduler published an address the \
             master could not answer; \"Setting LIBPROCESS_IP=127.0.0.1 fixes this issue\")",
            "https://github.com/d2iq-archive/marathon/issues/2153 (\"Failed to obtain the IP address for \
             'core-01'; the DNS service may not be able to resolve it\")",
            "https://github.com/d2iq-archive/marathon/issues/3451 (net=bridge: \"publishing non-routable \
             address to mesos\", the container's 172 address)",
        ],
    },
};

impl Check for MesosAdvertiseAddress {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let mesos = required(&facts.mesos, "Mesos facts")?;
        let state = match &mesos.state {
            Fact::Observed { value } => value,
            Fact::Unavailable { reason } => return Err(NotJudged::Skip(reason.clone())),
            Fact::Failed { error } => return Err(NotJudged::Error(error.clone())),
        };
        let flags = facts.mesos_flags.as_ref().and_then(Fact::value);
        let mut undecided = Vec::new();
        let daemons = Daemon::all(state, flags, &mut undecided);
        let spans_hosts = spans_hosts(&daemons);
        let node = facts.node.as_ref().and_then(Fact::value);
        let mut findings: Vec<Finding> = daemons.iter().filter_map(|d| d.unusable_address(spans_hosts, node)).collect();
        findings.extend(resolution_findings(facts, &daemons, &mut undecided));
        let note = format!(
            "{} registered address{} checked ({})",
            daemons.len(),
            if daemons.len() == 1 { "" } else { "es" },
            if spans_hosts { "the cluster spans hosts" } else { "all on one host" }
        );
        conclude(findings, undecided, note)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Master,
    Agent,
}

impl Kind {
    /// Whether the daemon of this kind reads that package's flag files.
    fn reads(self, daemon: MesosDaemon) -> bool {
        (self == Kind::Master) == (daemon == MesosDaemon::Master)
    }

    fn unit(self) -> &'static str {
        match self {
            Kind::Master => "mesos-master",
            Kind::Agent => "mesos-slave",
        }
    }
}

/// One registered daemon.
struct Daemon<'a> {
    kind: Kind,
    pid: &'a str,
    address: SocketAddr,
    hostname: Option<&'a str>,
    flags: Option<&'a Flags>,
}

impl<'a> Daemon<'a> {
    fn all(state: &'a MesosState, flags: Option<&'a MesosFlagsFacts>, undecided: &mut Vec<String>) -> Vec<Self> {
        let mut daemons = Vec::new();
        let mut add = |kind, pid: &'a str, hostname: Option<&'a str>, flags: Option<&'a Flags>| match pid_address(pid)
            .parse::<SocketAddr>(
        ) {
            Ok(address) => daemons.push(Daemon { kind, pid, address, hostname, flags }),
            Err(_) => undecided.push(format!("pid {pid:?} is not NAME@IP:PORT")),
        };
        if let Some(pid) = state.pid.as_deref() {
            add(Kind::Master, pid, state.hostname.as_deref(), flags.and_then(|f| f.master.value()));
        }
        for agent in &state.agents {
            let agent_flags =
                flags.and_then(|f| f.agents.iter().find(|a| a.id == agent.id)).and_then(|a| a.flags.value());
            // Mesos has written every agent's pid since 0.x; an absent one is
            // refused like a malformed one.
            add(Kind::Agent, agent.pid.as_deref().unwrap_or_default(), Some(agent.hostname.as_str()), agent_flags);
        }
        daemons
    }

    fn name(&self) -> String {
        let kind = match self.kind {
            Kind::Master => "Mesos master",
            Kind::Agent => "Mesos agent",
        };
        match self.hostname {
            Some(h) => format!("{kind} {h}"),
            None => format!("{kind} {}", self.pid),
        }
    }

    /// A finding when the daemon registered where only its own host reaches it.
    fn unusable_address(&self, spans_hosts: bool, node: Option<&NodeFacts>) -> Option<Finding> {
        let ip = self.address.ip();
        let what = host_local(ip)?;
        if !spans_hosts {
            return None;
        }
        let message = format!(
            "registered at {}, {what}: daemons and frameworks on other hosts cannot reach it, so they register \
             and never hear back",
            self.address
        );
        let mut finding =
            Finding::new(Status::Fail, self.name(), message).evidence(format!("/master/state: pid {}", self.pid));
        if let Some(line) = self.flags_evidence() {
            finding = finding.evidence(line);
        }
        for file in node.filter(|n| self.runs_on(n)).map_or(&[][..], |n| &n.mesos_address_files) {
            if self.kind.reads(file.daemon) {
                finding = finding.evidence(format!("{}: {}", file.path, file.value));
            }
        }
        Some(finding.fix(self.remedy(node)))
    }

    /// Registered under this node's host name.
    fn runs_on(&self, node: &NodeFacts) -> bool {
        matches!((self.hostname, node.hostname()), (Some(h), Some(n)) if h.eq_ignore_ascii_case(n))
    }

    /// `--ip`, `--advertise_ip` and `--hostname` as its flags show them.
    fn flags_evidence(&self) -> Option<String> {
        let flags = self.flags?;
        let shown: Vec<String> = ADDRESS_FLAGS
            .iter()
            .map(|f| match flags.get(f) {
                Some(v) => format!("--{f}={v}"),
                None => format!("--{f} unset"),
            })
            .collect();
        Some(format!("its flags: {}", shown.join(", ")))
    }

    /// Writes the address peers reach into the daemon's `ip` flag file.
    fn remedy(&self, node: Option<&NodeFacts>) -> Remedy {
        let file = format!("/etc/{}/ip", self.kind.unit());
        let cmd = Cmd::new("printf").word(r"'%s\n'");
        let cmd = match node.filter(|n| self.runs_on(n)).and_then(|n| n.primary_address) {
            Some(address) => cmd.value(address.to_string()),
            // The source address of the default route: the one other hosts reach.
            None => cmd.word(r#""$(ip -o route get 192.0.2.1 | sed -n 's/.* src \([^ ]*\).*/\1/p')""#),
        };
        let group = match self.kind {
            Kind::Master => HostGroup::MesosMasters,
            Kind::Agent => HostGroup::MesosAgents,
        };
        // The daemon's own host, never this node's plan unless it is this node.
        let runs_on = match self.hostname {
            Some(host) => RunsOn::host_of(host, group),
            None => RunsOn::Every(group),
        };
        let remedy = cmd.word(">").value(&file).disruptive().with_note(format!(
            "then restart {}; behind NAT or in a container set advertise_ip (or LIBPROCESS_ADVERTISE_IP) instead; a \
             LIBPROCESS_IP in /etc/default/{} overrides the file",
            self.kind.unit(),
            self.kind.unit()
        ));
        remedy.on(runs_on)
    }
}

/// Why an address is reachable from its own host only, if it is.
fn host_local(ip: IpAddr) -> Option<&'static str> {
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    let (bridge, bits) = DOCKER_BRIDGE;
    match ip {
        IpAddr::V4(v4) if u32::from(v4) >> (32 - bits) == u32::from(bridge) >> (32 - bits) => {
            Some("an address of Docker's default bridge (172.17.0.0/16)")
        }
        _ => None,
    }
}

/// The daemons run on more than one host: one registered at an address
/// other hosts use, or agents name different hosts.
fn spans_hosts(daemons: &[Daemon]) -> bool {
    let routable = daemons.iter().any(|d| host_local(d.address.ip()).is_none());
    let hosts: BTreeSet<String> = daemons
        .iter()
        .filter(|d| d.kind == Kind::Agent)
        .filter_map(|d| d.hostname.map(str::to_ascii_lowercase))
        .collect();
    routable || hosts.len() > 1
}

/// Daemons on this node (by host name) whose address the name does not resolve to.
fn resolution_findings(facts: &Facts, daemons: &[Daemon], undecided: &mut Vec<String>) -> Vec<Finding> {
    let Some(node) = facts.node.as_ref().and_then(Fact::value) else { return Vec::new() };
    let Some(name) = node.hostname() else { return Vec::new() };
    let here: Vec<&Daemon> =
        daemons.iter().filter(|d| d.runs_on(node)).filter(|d| host_local(d.address.ip()).is_none()).collect();
    if here.is_empty() {
        return Vec::new();
    }
    let dns: &DnsFacts = match facts.dns.as_ref() {
        Some(Fact::Observed { value }) => value,
        other => {
            let why = other.as_ref().and_then(|f| f.problem()).unwrap_or("not gathered");
            undecided.push(format!("how {name} resolves: {why}"));
            return Vec::new();
        }
    };
    let (resolved, source) = match &dns.forward {
        Lookup::Found { value, source } => (value, source),
        // hostname.resolution judges a name that does not resolve.
        Lookup::NotFound { .. } => return Vec::new(),
        Lookup::Unanswered { error } => {
            undecided.push(format!("how {name} resolves: {error}"));
            return Vec::new();
        }
    };
    here.into_iter()
        .filter(|d| !resolved.contains(&d.address.ip()))
        .map(|d| resolution_finding(d, node, resolved, &source.to_string()))
        .collect()
}

fn resolution_finding(daemon: &Daemon, node: &NodeFacts, resolved: &[IpAddr], source: &str) -> Finding {
    let name = node.hostname().unwrap_or_default();
    let shown: Vec<String> = resolved.iter().map(IpAddr::to_string).collect();
    let message = format!(
        "registered at {} but its host name {name} resolves to {}: peers that dial the host name (schedulers, \
         the web UI's sandbox links) reach another address",
        daemon.address.ip(),
        shown.join(", ")
    );
    Finding::new(Status::Warn, daemon.name(), message)
        .evidence(format!("/master/state: pid {}", daemon.pid))
        .evidence(format!("{name} resolves to {} ({source})", shown.join(", ")))
        .fix(
            Cmd::new("printf")
                .word(r"'%s %s\n'")
                .value(daemon.address.ip().to_string())
                .value(name)
                .word(">>")
                .value("/etc/hosts")
                .disruptive()
                .with_note(format!(
                    "on {name}; first delete the /etc/hosts lines that map {name} to another address (Debian's \
                     127.0.1.1): the first match wins; or fix its DNS record"
                )),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::dns::AnswerSource;
    use crate::facts::mesos::{Agent, Leadership, MesosFacts};
    use crate::facts::mesos_flags::AgentFlags;
    use crate::remedy::Risk;

    /// A leader at `master` and agents `(host name, pid address)`.
    fn state(master: &str, agents: &[(&str, &str)]) -> MesosState {
        MesosState {
            pid: Some(format!("master@{master}")),
            leader: Some(format!("master@{master}")),
            hostname: Some("m1".into()),
            agents: agents
                .iter()
                .enumerate()
                .map(|(i, (host, address))| Agent {
                    id: format!("S{i}"),
                    hostname: host.to_string(),
                    pid: Some(format!("slave(1)@{address}")),
                    ..Agent::default()
                })
                .collect(),
            ..MesosState::default()
        }
    }

    fn node(hostname: &str) -> NodeFacts {
        NodeFacts { primary_address: Some("10.0.0.1".parse().unwrap()), ..NodeFacts::named(hostname) }
    }

    fn dns(name: &str, forward: Lookup<Vec<IpAddr>>) -> Fact<DnsFacts> {
        Fact::observed(DnsFacts { name: name.into(), dns_consulted: false, forward, reverse: Vec::new(), peers: Vec::new() })
    }

    fn found(addresses: &[&str]) -> Lookup<Vec<IpAddr>> {
        let value = addresses.iter().map(|a| a.parse().unwrap()).collect();
        Lookup::Found { value, source: AnswerSource::HostsFile { path: "/etc/hosts".into(), line: 3 } }
    }

    fn facts(state: MesosState, hostname: &str, forward: Lookup<Vec<IpAddr>>) -> Facts {
        let mesos = MesosFacts { state: Fact::observed(state), masters: Vec::new(), leadership: Leadership::Unknown };
        Facts {
            mesos: Some(Fact::observed(mesos)),
            node: Some(Fact::observed(node(hostname))),
            dns: Some(dns(hostname, forward)),
            ..Default::default()
        }
    }

    fn with_flags(mut facts: Facts, master: &[(&str, &str)]) -> Facts {
        let flags = Flags { flags: master.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() };
        let agents: Vec<AgentFlags> = Vec::new();
        facts.mesos_flags =
            Some(Fact::observed(MesosFlagsFacts { master: Fact::observed(flags), agents, unasked_agents: 0 }));
        facts
    }

    #[test]
    fn a_master_on_debians_127_0_1_1_fails_when_agents_are_elsewhere() {
        let s = state("127.0.1.1:5050", &[("a1", "10.0.0.2:5051"), ("a2", "10.0.0.3:5051")]);
        let mut f = with_flags(facts(s, "m1", found(&["127.0.1.1"])), &[("hostname", "m1")]);
        if let Some(Fact::Observed { value }) = &mut f.node {
            value.mesos_address_files.push(crate::facts::node::MesosFlagFile {
                daemon: MesosDaemon::Master,
                path: "/etc/mesos-master/ip".into(),
                value: "127.0.1.1".into(),
            });
        }
        let j = MesosAdvertiseAddress.run(&f).unwrap();
        assert_eq!(j.status(), Status::Fail);
        let finding = &j.findings[0];
        assert_eq!(finding.subject, "Mesos master m1");
        assert!(finding.message.starts_with("registered at 127.0.1.1:5050, a loopback address"), "{finding:?}");
        assert_eq!(
            finding.evidence,
            [
                "/master/state: pid master@127.0.1.1:5050",
                "its flags: --ip unset, --advertise_ip unset, --hostname=m1",
                "/etc/mesos-master/ip: 127.0.1.1"
            ]
        );
        let fix = &finding.remediation[0];
        assert_eq!(fix.command, r"printf '%s\n' 10.0.0.1 > /etc/mesos-master/ip", "this node's default-route address");
        assert_eq!(fix.risk, Risk::Disruptive);
        assert_eq!(j.findings.len(), 1, "a loopback address is not also a resolution mismatch: {j:?}");
    }

    #[test]
    fn an_agent_on_the_docker_bridge_of_another_host_fails_with_a_computed_address() {
        let s = state("10.0.0.1:5050", &[("a1", "172.17.0.5:5051"), ("a2", "10.0.0.3:5051")]);
        let j = MesosAdvertiseAddress.run(&facts(s, "m1", found(&["10.0.0.1"]))).unwrap();
        assert_eq!(j.findings.len(), 1);
        let finding = &j.findings[0];
        assert_eq!(finding.subject, "Mesos agent a1");
        assert!(finding.message.contains("Docker's default bridge (172.17.0.0/16)"), "{finding:?}");
        assert!(
            finding.remediation[0].command.contains("$(ip -o route get 192.0.2.1"),
            "not this node: computed there"
        );
        assert!(finding.remediation[0].command.ends_with("> /etc/mesos-slave/ip"));
        let a1 = crate::remote::HostName::parse("a1").unwrap();
        assert_eq!(finding.remediation[0].runs_on, crate::remedy::RunsOn::Host(a1), "runs on the agent, not here");
    }

    #[test]
    fn a_single_host_cluster_on_loopback_passes() {
        let s = state("127.0.0.1:5050", &[("127.0.0.1", "127.0.0.1:5051"), ("127.0.0.1", "127.0.0.1:5052")]);
        let j = MesosAdvertiseAddress.run(&facts(s, "box", found(&["127.0.1.1"]))).unwrap();
        assert!(j.findings.is_empty(), "{j:?}");
        assert_eq!(j.note.as_deref(), Some("3 registered addresses checked (all on one host)"));
    }

    #[test]
    fn loopback_agents_with_different_host_names_span_hosts() {
        let s = state("127.0.0.1:5050", &[("a1", "127.0.0.1:5051"), ("a2", "127.0.0.1:5051")]);
        let j = MesosAdvertiseAddress.run(&facts(s, "box", found(&["10.0.0.9"]))).unwrap();
        assert_eq!(j.findings.len(), 3, "{j:?}");
    }

    #[test]
    fn a_host_name_that_resolves_elsewhere_warns_with_an_etc_hosts_fix() {
        let s = state("10.0.0.1:5050", &[("M1", "10.0.0.1:5051"), ("a2", "10.0.0.3:5051")]);
        let j = MesosAdvertiseAddress.run(&facts(s, "m1", found(&["10.9.9.9"]))).unwrap();
        assert_eq!(j.status(), Status::Warn);
        let subjects: Vec<&str> = j.findings.iter().map(|f| f.subject.as_str()).collect();
        assert_eq!(subjects, ["Mesos master m1", "Mesos agent M1"]);
        let finding = &j.findings[0];
        assert_eq!(finding.evidence[1], "m1 resolves to 10.9.9.9 (/etc/hosts line 3)");
        assert_eq!(finding.remediation[0].command, r"printf '%s %s\n' 10.0.0.1 m1 >> /etc/hosts");
    }

    #[test]
    fn what_cannot_be_judged_is_an_error_not_a_pass() {
        let s = state("10.0.0.1:5050", &[("a2", "10.0.0.3:5051")]);
        let unanswered = Lookup::Unanswered { error: "no DNS server answered".into() };
        let err = MesosAdvertiseAddress.run(&facts(s, "m1", unanswered)).unwrap_err();
        assert_eq!(err, NotJudged::Error("how m1 resolves: no DNS server answered".into()));

        let mut bad = state("10.0.0.1:5050", &[("a2", "10.0.0.3:5051")]);
        bad.agents[0].pid = Some("slave(1)@a2:5051".into());
        let err = MesosAdvertiseAddress.run(&facts(bad, "x", found(&[]))).unwrap_err();
        assert_eq!(err, NotJudged::Error(r#"pid "slave(1)@a2:5051" is not NAME@IP:PORT"#.into()));

        let mut f = facts(MesosState::default(), "x", found(&[]));
        f.mesos = Some(Fact::observed(MesosFacts {
            state: Fact::failed("no Mesos master knows a leader"),
            masters: Vec::new(),
            leadership: Leadership::Unknown,
        }));
        assert_eq!(MesosAdvertiseAddress.run(&f).unwrap_err(), NotJudged::Error("no Mesos master knows a leader".into()));
    }
}
