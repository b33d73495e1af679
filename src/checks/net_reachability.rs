//! `net.reachability`: Cluster endpoints are reachable.
//!
//! What it looks for, why it matters, how to fix it and the risk of the fix
//! are its `META.explain`, the one text `clusterdoc explain` shows.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

use super::{Check, CheckMeta, Explain, Conclusion, NotJudged, Verdict, required};
use crate::facts::reach::{Component, Origin, Outcome, Probe, ReachFacts};
use crate::facts::{Facts, Need};
use crate::remedy::{Cmd, HostGroup, Remedy, RunsOn};
use crate::report::{Finding, Scope, Status, aggregate};

pub struct NetReachability;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("net.reachability"),
    title: Cow::Borrowed("Cluster endpoints are reachable"),
    severity: Status::Fail,
    needs: &[Need::Reach],
    tags: texts!["network"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("TCP reachability of every cluster endpoint: the named Mesos masters, every agent at the address it \
registered with (slave(1)@IP:PORT), Marathon, each ZooKeeper server and the Flink endpoints. One connect each, \
all at once, classified by what a Linux client sees: open; refused (ECONNREFUSED: nothing listens); rejected \
(EHOSTUNREACH or EACCES at once: an ICMP host-prohibited or admin-prohibited reply from a firewall); dropped (no \
answer within --timeout: a firewall dropping, the host down); unreachable (ENETUNREACH: no route to the network). \
A timeout is tried once more a second later before it is called dropped, because hosts rate-limit their ICMP \
rejects (net.ipv4.icmp_ratelimit): after a burst of about six, further rejects look exactly like drops. Implicit \
default endpoints (127.0.0.1) that refuse or drop are not counted: name the cluster's endpoints instead. When the \
named Mesos masters' state cannot be read, the agents cannot be listed: that is an error (they are not judged), \
shown as caused by mesos.leader; the agents are probed while the state still arrives, and what was seen is kept \
only for the agents the leading master's whole state lists."),
        why: Cow::Borrowed("On CentOS 7 firewalld's default zone public allows only ssh and dhcpv6-client and rejects everything \
else with icmp-host-prohibited (admin-prohibited with the nftables backend): the Mesos UI on 5050 and Marathon on \
8080 become unreachable from other machines, agents cannot register, ZooKeeper servers cannot form a quorum. A check \
run on the node itself sees nothing wrong, since loopback is always accepted; only a probe from another host shows \
the block."),
        fix: Cow::Borrowed("For a rejected or dropped port, run `clusterdoc check --only firewalld.ports` on that host: it names the \
zone that blocks the port and prints `firewall-cmd --permanent --zone=ZONE --add-port=PORT/tcp` followed by \
`firewall-cmd --reload`. For a refused port, start the daemon that should listen there (`systemctl start \
mesos-master`, or the cluster scripts where they drive it). For an unreachable network, fix the route. The \
fixes for a probed host say so (`on HOST:`; `host` in JSON) and stay commented out in a --script plan."),
        risk: Cow::Borrowed("The firewalld diagnosis is read-only (safe). Opening a port and reloading firewalld is disruptive only \
in that it changes what the host accepts. Starting a stopped daemon is disruptive: a master or ZooKeeper server \
joins elections, an agent starts taking tasks."),
        references: texts![
            "REFERENCE.md section 4 (firewalld blocks the web UIs and RPC ports)",
            "https://firewalld.org/documentation/zone/predefined-zones.html",
            "https://docs.kernel.org/networking/ip-sysctl.html (icmp_ratelimit, icmp_msgs_per_sec)",
        ],
    },
};

impl Check for NetReachability {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let reach = required(&facts.reach, "reachability probes")?;
        // Each connect had the run's `--timeout`.
        let sweep = Sweep::of(reach, facts.inputs.timeout_ms);
        let mut open: Vec<&Probe> = Vec::new();
        let mut ignored = Vec::new();
        // Streamed into the aggregate: 10,000 agents that refuse never
        // become 10,000 findings held at once.
        let mut findings = aggregate(reach.probes.iter().filter_map(|probe| match judge(probe, &sweep) {
            Judged::Open => {
                open.push(probe);
                None
            }
            Judged::Ignored(why) => {
                ignored.push(why);
                None
            }
            Judged::Problem(finding) => Some(*finding),
        }));
        findings.extend(reach.unlisted.iter().map(|why| unlisted(why, facts)));
        if findings.is_empty() && open.is_empty() {
            return Err(NotJudged::Skip(nothing_to_judge(&ignored)));
        }
        let mut note = format!("{} of {} endpoints open", open.len(), reach.probes.len());
        if !open.is_empty() {
            note.push_str(&format!(" ({})", count_by_component(&open)));
        }
        for aside in ignored.iter().chain(&reach.gaps) {
            note.push_str("; ");
            note.push_str(aside);
        }
        Ok(Conclusion::findings(findings, note))
    }
}

enum Judged {
    Open,
    /// An implicit default that does not answer: not the cluster's problem.
    Ignored(String),
    Problem(Box<Finding>),
}

/// What judging one probe needs from the whole sweep, worked out once (a
/// sweep of 10,000 silent agents must not compare every pair).
struct Sweep {
    timeout_ms: u64,
    /// Per host address, how many of its ports rejected.
    rejected: HashMap<IpAddr, usize>,
}

impl Sweep {
    fn of(reach: &ReachFacts, timeout_ms: u64) -> Self {
        let mut rejected = HashMap::new();
        for probe in reach.probes.iter().filter(|p| p.outcome == Outcome::Rejected) {
            if let Some(address) = probe.address {
                *rejected.entry(address.ip()).or_insert(0) += 1;
            }
        }
        Sweep { timeout_ms, rejected }
    }
}

fn judge(probe: &Probe, sweep: &Sweep) -> Judged {
    let endpoint = &probe.endpoint;
    match probe.outcome {
        Outcome::Open => Judged::Open,
        Outcome::Refused | Outcome::Dropped if endpoint.origin == Origin::Default => Judged::Ignored(format!(
            "not counted: {} ({}, implicit default) {}; name it with {}",
            endpoint.host_port(),
            endpoint.component.label(),
            probe.outcome.word(),
            endpoint.component.flag()
        )),
        _ => Judged::Problem(Box::new(finding(probe, sweep))),
    }
}

fn finding(probe: &Probe, sweep: &Sweep) -> Finding {
    let status = match probe.outcome {
        Outcome::Failed | Outcome::Unfinished => Status::Error,
        _ => Status::Fail,
    };
    let subject = probe.endpoint.host_port().to_string();
    let names = host_names(probe);
    let finding = Finding::new(status, &subject, message(probe, sweep))
        .problem(probe.outcome.word())
        .about(Scope::host(&names))
        .about(Scope::endpoint(&names, probe.endpoint.port))
        .evidence(connect_line(probe))
        .evidence(origin_line(probe))
        .fixes(remedies(probe));
    match probe.endpoint.component {
        Component::MesosAgent => finding.item("Mesos agents", subject),
        _ => finding,
    }
}

/// Endpoints whose source failed are not judged: an `error`, about the
/// Mesos masters asked, so that their own failure is shown as its cause.
fn unlisted(why: &str, facts: &Facts) -> Finding {
    let masters = &facts.inputs.mesos;
    let rerun = masters.iter().fold(Cmd::new("clusterdoc").word("check --only mesos.leader"), |cmd, master| {
        cmd.word("--mesos").value(master.url.as_str().trim_end_matches('/'))
    });
    Finding::new(Status::Error, "Mesos agents", format!("not probed: {why}"))
        .problem("unprobed")
        .about(Scope::mesos(masters))
        .fix(rerun.safe().with_note("shows why the masters' state could not be read; the agents are probed once it can"))
}

/// Every name the probed host goes by: as probed, its address, and the
/// host name an agent registered with.
fn host_names(probe: &Probe) -> Vec<String> {
    let mut names = vec![probe.endpoint.host.clone()];
    names.extend(probe.address.map(|a| a.ip().to_string()));
    if let Origin::Registered { hostname, .. } = &probe.endpoint.origin {
        names.push(hostname.clone());
    }
    names
}

/// Starts with the class word, names the likely cause and the component;
/// never the host, port or timing of one probe (the subject and evidence
/// have those), so that alike findings read alike and a report aggregates
/// them: 9,000 agents that refuse are one finding, not 9,000.
fn message(probe: &Probe, sweep: &Sweep) -> String {
    let what = probe.endpoint.component.label();
    let detail = probe.detail.as_deref().unwrap_or("no detail");
    match probe.outcome {
        Outcome::Open => format!("open: the {what} port accepts connections"),
        Outcome::Refused => format!(
            "refused: nothing listens on the {what} port: the {what} is not running there, or listens on another \
address or port"
        ),
        Outcome::Rejected if probe.elapsed_ms < 1000 => format!(
            "rejected: the {what} port is blocked by a firewall that rejects it (an ICMP prohibited reply, as \
firewalld sends for every port its zone does not open), or a router reports the host unreachable"
        ),
        Outcome::Rejected => format!(
            "rejected: no route to the host after a second or more ({what}): the host is down on the local network \
(no ARP answer), or a firewall rejects the port"
        ),
        Outcome::Dropped => format!(
            "dropped: the {what} port did not answer within {} ms{}: a firewall drops it, or the host is down{}",
            sweep.timeout_ms,
            if probe.attempts > 1 { ", tried twice" } else { "" },
            rate_limit_caveat(probe, sweep)
        ),
        Outcome::Unreachable => format!(
            "unreachable: no route to the host's network ({what}): a missing route, or a firewall answering \
net-unreachable"
        ),
        Outcome::Unresolved => format!("unresolved: the {what}'s host name does not resolve: {detail}"),
        Outcome::Failed => format!("could not probe the {what} port: {detail}"),
        Outcome::Unfinished => {
            format!("not probed: the run's deadline came before the {what} port answered; raise --deadline")
        }
    }
}

/// Hosts rate-limit their ICMP errors (about six at once, then one a
/// second): when the same host rejected other ports in this run, or there
/// was no time for the spaced retry, a timeout may be a reject that was
/// never sent.
fn rate_limit_caveat(probe: &Probe, sweep: &Sweep) -> String {
    let rejected_nearby = probe.address.and_then(|a| sweep.rejected.get(&a.ip())).copied().unwrap_or(0);
    if rejected_nearby > 0 {
        format!(
            ", or, as this host rejected {} in this run, a reject it rate-limited (net.ipv4.icmp_ratelimit)",
            if rejected_nearby == 1 { "another port".to_string() } else { format!("{rejected_nearby} other ports") }
        )
    } else if probe.attempts < 2 {
        " (not retried before the deadline: possibly a rate-limited reject)".into()
    } else {
        String::new()
    }
}

fn connect_line(probe: &Probe) -> String {
    let detail = probe.detail.as_deref().unwrap_or("connected");
    // A timeout's detail already says how long it waited.
    let took = match probe.outcome {
        Outcome::Dropped | Outcome::Unfinished => String::new(),
        _ => format!(" after {} ms", probe.elapsed_ms),
    };
    match probe.address {
        Some(address) => format!(
            "connect to {address}: {detail}{took} ({} attempt{})",
            probe.attempts,
            if probe.attempts == 1 { "" } else { "s" }
        ),
        None => format!("resolving {}: {detail}{took}", probe.endpoint.host),
    }
}

fn origin_line(probe: &Probe) -> String {
    let component = probe.endpoint.component;
    match &probe.endpoint.origin {
        Origin::Named => {
            format!(
                "{} named with {} (or its environment variable or config file key)",
                component.label(),
                component.flag()
            )
        }
        Origin::Default => format!("the implicit default {} endpoint", component.label()),
        Origin::Registered { hostname, pid } => format!(
            "agent {hostname} registered with the Mesos master as {}",
            pid.as_deref().unwrap_or("(no pid: probed on the default agent port)")
        ),
        Origin::Fleet => format!("{} the fleet run named or found registered", component.label()),
        Origin::NodeConfig { path } => format!("{} named in this node's {path}", component.label()),
    }
}

/// Fixes for a probe; those for the probed host run on it (`RunsOn`), so
/// a plan never runs them here by mistake.
fn remedies(probe: &Probe) -> Vec<Remedy> {
    let host = &probe.endpoint.host;
    let port = probe.endpoint.port;
    let there = RunsOn::host_of(host, group_of(probe.endpoint.component));
    match probe.outcome {
        Outcome::Rejected | Outcome::Dropped => {
            let mut note = format!(
                "read-only: shows the firewalld zone there that blocks port {port}/tcp and the firewall-cmd \
commands that open it (needs clusterdoc there)"
            );
            if probe.outcome == Outcome::Dropped {
                note.push_str(&format!("; if ssh cannot connect to {host} either, the host is down"));
            }
            vec![Cmd::new("clusterdoc").word("check --only firewalld.ports").safe().on(there).with_note(note)]
        }
        Outcome::Refused => vec![start_remedy(probe.endpoint.component).on(there)],
        Outcome::Unreachable => vec![
            Cmd::new("ip")
                .word("route get")
                .operand(probe.address.map_or_else(|| host.clone(), |a| a.ip().to_string()))
                .safe()
                .with_note("shows the route this node has to the host: none, or a wrong gateway, is the cause"),
        ],
        Outcome::Unresolved => vec![
            Cmd::new("getent")
                .word("hosts")
                .operand(host)
                .safe()
                .with_note("shows what this node's resolver (/etc/hosts, DNS) answers for the name"),
        ],
        Outcome::Open | Outcome::Failed | Outcome::Unfinished => Vec::new(),
    }
}

/// The hosts a component runs on, for a host name that is not one.
fn group_of(component: Component) -> HostGroup {
    match component {
        Component::MesosMaster => HostGroup::MesosMasters,
        Component::MesosAgent => HostGroup::MesosAgents,
        Component::Marathon => HostGroup::MarathonHosts,
        Component::Zookeeper => HostGroup::ZookeeperServers,
        Component::Flink => HostGroup::FlinkJobManagers,
    }
}

/// Starting the daemon that should listen on a refused port, on its host.
fn start_remedy(component: Component) -> Remedy {
    let scripts = "on nodes driven by the Mesos cluster scripts start it with them instead (see systemd.respawn)";
    let start =
        |unit: &'static str, note: String| Cmd::new("systemctl").word("start").word(unit).disruptive().with_note(note);
    match component {
        Component::MesosMaster => start("mesos-master", format!("starts the Mesos master; {scripts}")),
        Component::MesosAgent => start(
            "mesos-slave",
            format!("starts the Mesos agent (the unit is mesos-agent on newer packages); {scripts}"),
        ),
        Component::Marathon => start("marathon", format!("starts Marathon; {scripts}")),
        Component::Zookeeper => {
            start("zookeeper", "starts the ZooKeeper server (the unit may be zookeeper-server)".into())
        }
        Component::Flink => Cmd::new("ss").word("-ltnp").safe().with_note(
            "read-only: lists what listens on the host; the Flink JobManager runs as a Marathon app, so restart that \
app, or name the port it serves (-Djobmanager.web.port, rest.port) with --flink",
        ),
    }
}

fn count_by_component(open: &[&Probe]) -> String {
    let mut counts: Vec<(Component, usize)> = Vec::new();
    for probe in open {
        match counts.iter_mut().find(|(c, _)| *c == probe.endpoint.component) {
            Some((_, n)) => *n += 1,
            None => counts.push((probe.endpoint.component, 1)),
        }
    }
    counts.iter().map(|(c, n)| format!("{n} {}", c.label())).collect::<Vec<_>>().join(", ")
}

fn nothing_to_judge(ignored: &[String]) -> String {
    let name_them = "name the cluster's endpoints with --mesos, --marathon, --zk or --flink";
    if ignored.is_empty() {
        format!("no endpoint to probe (under --root the implicit defaults are not probed): {name_them}")
    } else {
        format!("no endpoint answered and none was named ({}): {name_them}", ignored.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::reach::Endpoint;
    use crate::facts::{Fact, Inputs};

    fn probe(host: &str, port: u16, component: Component, origin: Origin, outcome: Outcome) -> Probe {
        Probe {
            endpoint: Endpoint { host: host.into(), port, component, origin },
            address: host.parse().ok().map(|ip| std::net::SocketAddr::new(ip, port)),
            outcome,
            detail: None,
            elapsed_ms: 2,
            attempts: 1,
        }
    }

    fn run(probes: Vec<Probe>) -> Verdict {
        let facts = Facts {
            inputs: Inputs { timeout_ms: 3000, ..Inputs::default() },
            reach: Some(Fact::observed(ReachFacts { probes, ..ReachFacts::default() })),
            ..Facts::default()
        };
        NetReachability.run(&facts)
    }

    #[test]
    fn all_open_passes_with_a_count() {
        let verdict = run(vec![
            probe("10.0.0.1", 5050, Component::MesosMaster, Origin::Named, Outcome::Open),
            probe(
                "10.0.0.2",
                5051,
                Component::MesosAgent,
                Origin::Registered { hostname: "a".into(), pid: None },
                Outcome::Open,
            ),
        ])
        .unwrap();
        assert!(verdict.findings.is_empty());
        assert_eq!(verdict.note.as_deref(), Some("2 of 2 endpoints open (1 Mesos master, 1 Mesos agent)"));
    }

    /// Agents a failed master state could not list are never passed over:
    /// an error about the masters; a default master that is not there only
    /// leaves a note.
    #[test]
    fn agents_that_could_not_be_listed_are_an_error_not_a_pass() {
        let master = probe("10.0.0.1", 5050, Component::MesosMaster, Origin::Named, Outcome::Open);
        let reach = ReachFacts {
            probes: vec![master],
            gaps: vec!["Mesos agents not probed: no default master".into()],
            unlisted: vec!["the body broke off".into()],
        };
        let target = crate::target::Target::parse("http://m1:5050", true).unwrap();
        let facts = Facts {
            inputs: Inputs { timeout_ms: 3000, mesos: vec![target], ..Inputs::default() },
            reach: Some(Fact::observed(reach)),
            ..Facts::default()
        };
        let verdict = NetReachability.run(&facts).unwrap();
        let [unlisted] = verdict.findings.as_slice() else { panic!("{verdict:#?}") };
        assert_eq!((unlisted.status, unlisted.subject.as_str()), (Status::Error, "Mesos agents"));
        assert_eq!(unlisted.message, "not probed: the body broke off");
        assert_eq!(unlisted.remediation[0].command, "clusterdoc check --only mesos.leader --mesos http://m1:5050");
        assert_eq!(unlisted.scope, Scope::mesos(&facts.inputs.mesos).into_iter().collect::<Vec<_>>());
        assert!(verdict.note.unwrap().ends_with("; Mesos agents not probed: no default master"));
    }

    #[test]
    fn silent_defaults_are_not_counted_and_alone_skip() {
        let defaults = || {
            vec![
                probe("127.0.0.1", 5050, Component::MesosMaster, Origin::Default, Outcome::Refused),
                probe("127.0.0.1", 8080, Component::Marathon, Origin::Default, Outcome::Dropped),
            ]
        };
        let Err(NotJudged::Skip(reason)) = run(defaults()) else { panic!("expected a skip") };
        assert!(
            reason.contains("127.0.0.1:8080 (Marathon, implicit default) dropped; name it with --marathon"),
            "{reason}"
        );
        let mut probes = defaults();
        probes.push(probe("10.0.0.9", 8081, Component::Flink, Origin::Named, Outcome::Open));
        let judgement = run(probes).unwrap();
        assert!(judgement.findings.is_empty());
        assert!(
            judgement
                .note
                .unwrap()
                .contains("127.0.0.1:5050 (Mesos master, implicit default) refused; name it with --mesos")
        );
    }

    #[test]
    fn a_refused_named_master_fails_with_the_start_command() {
        let judgement = run(vec![probe("m 1", 5050, Component::MesosMaster, Origin::Named, Outcome::Refused)]).unwrap();
        let f = &judgement.findings[0];
        assert_eq!((f.status, f.subject.as_str()), (Status::Fail, "m 1:5050"));
        assert!(f.message.starts_with("refused: nothing listens on the Mesos master port"), "{}", f.message);
        assert_eq!(f.remediation[0].command, "systemctl start mesos-master");
        // "m 1" is no host name: the fix is for the masters, never for this node.
        assert_eq!(f.remediation[0].runs_on, RunsOn::Every(HostGroup::MesosMasters));
        assert_eq!(f.remediation[0].risk, crate::remedy::Risk::Disruptive);
    }

    #[test]
    fn a_slow_no_route_is_not_blamed_on_a_firewall_alone() {
        let mut p = probe("10.0.0.3", 2181, Component::Zookeeper, Origin::Named, Outcome::Rejected);
        p.elapsed_ms = 3010;
        let f = &run(vec![p]).unwrap().findings[0];
        assert!(f.message.starts_with("rejected: no route to the host after a second or more"), "{}", f.message);
        assert!(f.evidence[0].contains("after 3010 ms"), "{:?}", f.evidence);
        assert!(f.message.contains("host is down"));
        assert_eq!(f.remediation[0].command, "clusterdoc check --only firewalld.ports");
        assert_eq!(f.remediation[0].runs_on.elsewhere().as_deref(), Some("10.0.0.3"));
    }

    #[test]
    fn a_drop_on_a_host_that_rejected_other_ports_may_be_a_rate_limited_reject() {
        let zk = |host, port, outcome| probe(host, port, Component::Zookeeper, Origin::Named, outcome);
        let mut dropped = zk("10.0.0.5", 2181, Outcome::Dropped);
        dropped.attempts = 2;
        let mut elsewhere = zk("10.0.0.6", 2181, Outcome::Dropped);
        elsewhere.attempts = 2;
        let probes = vec![
            dropped,
            zk("10.0.0.5", 2888, Outcome::Rejected),
            zk("10.0.0.5", 3888, Outcome::Rejected),
            zk("10.0.0.6", 2888, Outcome::Refused),
            elsewhere,
        ];
        let judgement = run(probes).unwrap();
        let message = |subject: &str| &judgement.findings.iter().find(|f| f.subject == subject).unwrap().message;
        assert!(
            message("10.0.0.5:2181").ends_with(
                "or, as this host rejected 2 other ports in this run, a reject it rate-limited (net.ipv4.icmp_ratelimit)"
            ),
            "{}",
            message("10.0.0.5:2181")
        );
        assert!(!message("10.0.0.6:2181").contains("rate-limited"), "a refusal is not a reject");
    }

    #[test]
    fn agents_that_refuse_alike_aggregate_into_one_finding() {
        let agent = |i: u16| {
            let origin = Origin::Registered { hostname: format!("a{i}"), pid: None };
            probe("10.0.0.7", 20_000 + i, Component::MesosAgent, origin, Outcome::Refused)
        };
        let report = run((0..100).map(agent).collect()).unwrap().findings;
        assert_eq!(report.len(), 1, "{report:#?}");
        assert_eq!((report[0].subject.as_str(), report[0].count), ("100 Mesos agents", Some(100)));
        assert_eq!(report[0].subjects[..2], ["10.0.0.7:20000", "10.0.0.7:20001"]);
    }

    #[test]
    fn unfinished_probes_are_errors_not_passes() {
        let judgement =
            run(vec![probe("10.0.0.4", 8080, Component::Marathon, Origin::Named, Outcome::Unfinished)]).unwrap();
        assert_eq!(judgement.status(), Status::Error);
        assert!(judgement.findings[0].message.contains("raise --deadline"));
    }

    #[test]
    fn a_failed_fact_is_an_error() {
        let facts = Facts { reach: Some(Fact::failed("reachability probes: gave up")), ..Facts::default() };
        assert!(matches!(NetReachability.run(&facts), Err(NotJudged::Error(_))));
    }
}
