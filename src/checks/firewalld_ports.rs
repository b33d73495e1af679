//! `firewalld.ports`: firewalld allows the ports this node serves.
//!
//! ## What it does
//! When firewalld runs or starts at boot, finds the zones that apply to
//! incoming traffic and checks that each allows every TCP port of this node's
//! roles, in the permanent configuration and, when firewalld runs, at runtime.
//!
//! ## Why is this bad?
//! The default zone `public` allows ssh and dhcpv6-client only: the Mesos and
//! Marathon web UIs, agent registration and the ZooKeeper quorum are refused
//! from other hosts, while everything looks fine from the node itself.
//!
//! ## Fix safety
//! `--permanent --add-port` changes nothing until the reload (safe); the
//! reload drops runtime-only changes (disruptive); stopping firewalld removes
//! all filtering (disruptive).

use std::collections::BTreeSet;

use super::{Check, CheckMeta, Explain, Judgement, Stop, Verdict, required};
use crate::config::Role;
use crate::facts::firewalld::{
    DaemonState, Filtering, FirewalldFacts, Opening, Proto, UnitFile, Zone, ZoneSetup, ZoneTarget,
};
use crate::facts::knowledge::{Knowledge, PortSpec};
use crate::facts::roles::{NodeRoles, ServedPort};
use crate::facts::{Fact, Facts, Need};
use crate::remedy::{Cmd, Remedy};
use crate::report::{Finding, Status};

pub struct FirewalldPorts;

static META: CheckMeta = CheckMeta {
    id: "firewalld.ports",
    title: "firewalld allows the ports this node serves",
    severity: Status::Fail,
    tags: &["node", "network", "firewalld"],
    source: "built-in",
    explain: Explain {
        what: "Whether firewalld runs on this node (firewall-cmd --state) or starts at boot (a *.wants/ symlink to \
               firewalld.service), which zones apply to incoming traffic (interfaces and sources bound to a zone in \
               the zone files or by ZONE= in ifcfg files, and the default zone of /etc/firewalld/firewalld.conf for \
               every other interface) and whether each of those zones allows every TCP port this node's roles serve: \
               the ports in checks/data/role-ports.toml, overridden by the node's own configuration (Mesos port files, \
               zoo.cfg clientPort and server.N lines, Marathon http_port, flink-conf.yaml). Zones are read from \
               /etc/firewalld/zones, which overrides /usr/lib/firewalld/zones file by file. A zone allows a port by \
               its target ACCEPT, a port or port range, a service whose definition lists the port, the whole tcp \
               protocol, or a rich rule of the simple kind `rule family=ipv4 port port=5050 protocol=tcp accept`; rich \
               rules with conditions (sources, limits) are listed but not counted. When firewalld runs on a live \
               node, the runtime configuration (firewall-cmd --list-all) is compared with the permanent files and \
               the report says which of the two lacks a port.",
        why: "firewalld's default zone public allows only ssh and dhcpv6-client. Everything else that other hosts send \
              is rejected (icmp-host-prohibited with the iptables backend, icmpx admin-prohibited with nftables: \
              clients see \"No route to host\" at once) or, in a zone with target DROP, silently dropped (clients time \
              out). On CentOS 7 this is how the Mesos master (5050) and Marathon (8080) web UIs become unreachable, \
              agents (5051) fail to register and ZooKeeper servers (2181, 2888, 3888) cannot form a quorum. A test run \
              on the node itself cannot see the block: firewalld always accepts traffic on the loopback interface, so \
              curl http://localhost:5050 works while every other host is refused. Only a probe from another host \
              shows it: run clusterdoc's net.reachability check on a different machine, pointed at this node.",
        fix: "Open the ports in the zone that applies, in the permanent configuration, then load it: \
              `firewall-cmd --permanent --zone=public --add-port=5050/tcp --add-port=8080/tcp` and \
              `firewall-cmd --reload`. A --permanent change alone does nothing until the reload; a change without \
              --permanent is lost at the next reload or reboot. When firewalld is enabled but not running, \
              `firewall-offline-cmd --zone=public --add-port=5050/tcp` edits the configuration it will load at start. \
              The field fix, `systemctl stop firewalld`, makes the ports reachable by removing all filtering.",
        risk: "Adding a port with --permanent or with firewall-offline-cmd changes nothing running and is undone with \
               --remove-port (safe). `firewall-cmd --reload` replaces the runtime configuration with the permanent \
               one: rules added without --permanent are lost; established connections are kept (disruptive). \
               `systemctl stop firewalld` removes every firewall rule of the node: every port is open to every host \
               until firewalld starts again, at the next boot while it is enabled (disruptive).",
        references: &[
            "firewalld.zone(5): https://firewalld.org/documentation/man-pages/firewalld.zone.html",
            "firewalld.richlanguage(5): https://firewalld.org/documentation/man-pages/firewalld.richlanguage.html",
            "firewall-cmd(1): https://firewalld.org/documentation/man-pages/firewall-cmd.html",
            "Zones, targets and the default zone: https://firewalld.org/documentation/zone/",
        ],
    },
};

impl Check for FirewalldPorts {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn needs(&self) -> &[Need] {
        &[Need::Knowledge, Need::Roles, Need::Firewalld]
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let knowledge = required(&facts.knowledge, "check data")?;
        let node = required(&facts.roles, "node roles")?;
        if node.roles.is_empty() {
            return Err(Stop::Skip(
                "no roles known for this node (none found in processes, units or config files): name them with \
                 --role master|agent|zookeeper|marathon|flink"
                    .into(),
            ));
        }
        let firewalld = required(&facts.firewalld, "firewalld facts")?;
        judge(knowledge, node, firewalld, facts.inputs.live)
    }
}

fn judge(knowledge: &Knowledge, node: &NodeRoles, firewalld: &FirewalldFacts, live: bool) -> Verdict {
    let filtering = firewalld.filtering(live);
    if filtering == Filtering::Off {
        return Ok(Judgement::pass(format!(
            "firewalld filters nothing: {}; {}",
            daemon_text(&firewalld.state),
            unit_text(&firewalld.unit)
        )));
    }
    let setup = firewalld
        .zones
        .as_ref()
        .ok_or_else(|| Stop::Error("firewalld may filter, but its zones were not read".into()))?;
    let mut findings = Vec::new();
    let mut passed = Vec::new();
    for applying in &setup.applying {
        let permanent = setup.permanent.iter().find(|z| z.name == applying.zone);
        let Some(permanent) = permanent else {
            return Err(Stop::Error(format!("zone {} applies but its configuration was not read", applying.zone)));
        };
        let runtime = setup.runtime.value().and_then(|zones| zones.iter().find(|z| z.name == applying.zone));
        let gaps = gaps(node, permanent, runtime, setup);
        if gaps.is_empty() {
            passed.push(format!("{} ({})", applying.zone, pass_reason(permanent, setup)));
            continue;
        }
        let because: Vec<String> = applying.because.iter().map(|b| b.to_string()).collect();
        let context = ZoneContext { permanent, runtime, setup, filtering, firewalld, because: because.join("; ") };
        findings.push(finding(&context, &gaps, knowledge));
    }
    let roles: Vec<&str> = node.roles.iter().map(|r| r.as_str()).collect();
    let mut note = format!(
        "{}; {}; {} ports of {} checked",
        daemon_text(&firewalld.state),
        unit_text(&firewalld.unit),
        node.ports.len(),
        roles.join(", ")
    );
    if !passed.is_empty() {
        note.push_str(&format!("; allowed by zone {}", passed.join(", ")));
    }
    Ok(Judgement::findings(findings, note))
}

/// A served port (or the part of it) that a zone does not allow.
#[derive(Debug)]
struct Gap<'a> {
    served: &'a ServedPort,
    port: PortSpec,
    /// The permanent configuration lacks it.
    permanent: bool,
    /// The runtime configuration lacks it (`None`: runtime not known).
    runtime: Option<bool>,
}

fn gaps<'a>(node: &'a NodeRoles, permanent: &Zone, runtime: Option<&Zone>, setup: &ZoneSetup) -> Vec<Gap<'a>> {
    let permanent_allows = Allowed::of(permanent, setup);
    let runtime_allows = runtime.map(|z| Allowed::of(z, setup));
    let mut gaps = Vec::new();
    for served in &node.ports {
        let lacking_permanent = permanent_allows.missing(served.port);
        let lacking_runtime = runtime_allows.as_ref().map(|a| a.missing(served.port));
        let mut parts: Vec<PortSpec> = lacking_permanent.clone();
        parts.extend(lacking_runtime.iter().flatten());
        for port in split_at_boundaries(parts) {
            gaps.push(Gap {
                served,
                port,
                permanent: lacking_permanent.iter().any(|p| overlaps(*p, port)),
                runtime: lacking_runtime.as_ref().map(|l| l.iter().any(|p| overlaps(*p, port))),
            });
        }
    }
    gaps
}

fn overlaps(a: PortSpec, b: PortSpec) -> bool {
    a.low() <= b.high() && b.low() <= a.high()
}

/// Disjoint pieces covering the union of `parts`, cut wherever one of them
/// starts or ends, so each piece is missing from the same configurations.
fn split_at_boundaries(parts: Vec<PortSpec>) -> Vec<PortSpec> {
    let mut cuts: BTreeSet<u32> = BTreeSet::new();
    for p in &parts {
        cuts.insert(u32::from(p.low()));
        cuts.insert(u32::from(p.high()) + 1);
    }
    let cuts: Vec<u32> = cuts.into_iter().collect();
    cuts.windows(2)
        .map(|w| (w[0], w[1] - 1))
        .filter(|(lo, hi)| parts.iter().any(|p| u32::from(p.low()) <= *lo && *hi <= u32::from(p.high())))
        .map(|(lo, hi)| PortSpec::between(lo as u16, hi as u16))
        .collect()
}

/// The TCP ports one zone configuration lets in.
struct Allowed {
    /// Why every TCP port is allowed (target ACCEPT, protocol tcp), if it is.
    everything: Option<&'static str>,
    ports: Vec<PortSpec>,
}

impl Allowed {
    fn of(zone: &Zone, setup: &ZoneSetup) -> Self {
        if zone.target == ZoneTarget::Accept {
            return Allowed { everything: Some("target ACCEPT"), ports: Vec::new() };
        }
        let services = zone.services.iter().chain(zone.rich_rules.iter().filter_map(|r| match &r.opens {
            Some(Opening::Service { name }) => Some(name),
            _ => None,
        }));
        let service_ports = services.filter_map(|name| setup.service(name)).flat_map(|s| {
            if s.protocols.iter().any(|p| p == "tcp") { vec![PortSpec::Range(1, u16::MAX)] } else { tcp(&s.ports) }
        });
        let rule_ports = zone.rich_rules.iter().filter_map(|r| match &r.opens {
            Some(Opening::Port { port }) if port.protocol == Proto::Tcp => Some(port.port),
            _ => None,
        });
        let everything = zone.protocols.iter().any(|p| p == "tcp").then_some("protocol tcp");
        Allowed { everything, ports: tcp(&zone.ports).into_iter().chain(service_ports).chain(rule_ports).collect() }
    }

    fn missing(&self, port: PortSpec) -> Vec<PortSpec> {
        if self.everything.is_some() { Vec::new() } else { port.uncovered_by(&self.ports) }
    }
}

fn tcp(ports: &[crate::facts::firewalld::FwPort]) -> Vec<PortSpec> {
    ports.iter().filter(|p| p.protocol == Proto::Tcp).map(|p| p.port).collect()
}

fn pass_reason(zone: &Zone, setup: &ZoneSetup) -> String {
    match Allowed::of(zone, setup).everything {
        Some(why) => why.to_string(),
        None => "every port listed".to_string(),
    }
}

/// What a finding about one zone needs to say.
struct ZoneContext<'a> {
    permanent: &'a Zone,
    runtime: Option<&'a Zone>,
    setup: &'a ZoneSetup,
    filtering: Filtering,
    firewalld: &'a FirewalldFacts,
    because: String,
}

fn finding(ctx: &ZoneContext, gaps: &[Gap], knowledge: &Knowledge) -> Finding {
    let zone = &ctx.permanent.name;
    let listed = port_list(gaps);
    let (verb, seen) = match ctx.permanent.target {
        ZoneTarget::Drop => ("drops them", "clients time out"),
        _ => ("rejects them", "clients see \"No route to host\""),
    };
    let (status, message) = match ctx.filtering {
        Filtering::Active => (Status::Fail, format!("zone {zone} does not allow {listed}; firewalld {verb}: {seen}")),
        Filtering::AtBoot => {
            let when = match ctx.firewalld.state {
                DaemonState::NotRunning { .. } => format!("from its next start {verb}"),
                _ => format!("{verb} whenever it runs"),
            };
            (Status::Fail, format!("zone {zone} does not allow {listed}; firewalld is enabled and {when}: {seen}"))
        }
        Filtering::Unsure | Filtering::Off => (
            Status::Error,
            format!(
                "could not tell whether firewalld runs ({}); if it does, zone {zone} does not allow {listed}",
                daemon_text(&ctx.firewalld.state)
            ),
        ),
    };
    let mut f = Finding::new(status, format!("zone {zone}"), message)
        .evidence(format!("firewalld: {}; {}", daemon_text(&ctx.firewalld.state), unit_text(&ctx.firewalld.unit)))
        .evidence(format!("zone {zone} applies: {}", ctx.because))
        .evidence(zone_summary(ctx.permanent, ctx.setup));
    match (ctx.runtime, &ctx.setup.runtime) {
        (Some(runtime), _) => f = f.evidence(zone_summary(runtime, ctx.setup)),
        (None, Fact::Failed { error }) => f = f.evidence(format!("runtime configuration unknown: {error}")),
        _ => {}
    }
    for gap in gaps {
        f = f.evidence(gap_line(gap, ctx));
    }
    for line in doubts(ctx) {
        f = f.evidence(line);
    }
    f = f.evidence(format!("role ports from the check data ({})", knowledge.sources.join(", ")));
    remedies(ctx, gaps).into_iter().fold(f, Finding::fix)
}

/// `5050/tcp (master), 8080/tcp (marathon)`, one entry per port.
fn port_list(gaps: &[Gap]) -> String {
    let mut entries: Vec<(PortSpec, Vec<Role>)> = Vec::new();
    for gap in gaps {
        match entries.iter_mut().find(|(p, _)| *p == gap.port) {
            Some((_, roles)) if !roles.contains(&gap.served.role) => roles.push(gap.served.role),
            Some(_) => {}
            None => entries.push((gap.port, vec![gap.served.role])),
        }
    }
    entries
        .iter()
        .map(|(port, roles)| {
            let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            format!("{port}/tcp ({})", roles.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn gap_line(gap: &Gap, ctx: &ZoneContext) -> String {
    let lacking = match (gap.permanent, gap.runtime) {
        (true, Some(true)) => "missing from the permanent and the runtime configuration".to_string(),
        (true, Some(false)) => {
            "allowed at runtime only: lost at the next reload or reboot (missing from the permanent configuration)"
                .to_string()
        }
        (false, Some(true)) => {
            "in the permanent configuration but not at runtime: blocked until `firewall-cmd --reload`".to_string()
        }
        (_, None) => format!("missing from {}", ctx.permanent.origin),
        (false, Some(false)) => "allowed".to_string(),
    };
    let source = &gap.served.source;
    format!("{}/tcp ({}, {}; port from {source}): {lacking}", gap.port, gap.served.role.as_str(), gap.served.what)
}

/// One line describing what a zone configuration allows.
fn zone_summary(zone: &Zone, setup: &ZoneSetup) -> String {
    let services: Vec<String> = zone
        .services
        .iter()
        .map(|name| match setup.service(name) {
            Some(s) if s.origin.is_some() => {
                let ports: Vec<String> = s.ports.iter().map(|p| p.to_string()).collect();
                format!("{name} ({})", if ports.is_empty() { "no ports".into() } else { ports.join(" ") })
            }
            _ => format!("{name} (no definition found)"),
        })
        .collect();
    let ports: Vec<String> = zone.ports.iter().map(|p| p.to_string()).collect();
    let none = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
    let mut line =
        format!("{}: target {}; services {}; ports {}", zone.origin, zone.target, none(&services), none(&ports));
    if !zone.protocols.is_empty() {
        line.push_str(&format!("; protocols {}", zone.protocols.join(", ")));
    }
    let counted = zone.rich_rules.iter().filter(|r| r.opens.is_some()).count();
    if counted > 0 {
        line.push_str(&format!("; {counted} rich rule(s) counted"));
    }
    line
}

/// Things in the zones that could change the verdict and were not counted.
fn doubts(ctx: &ZoneContext) -> Vec<String> {
    let zones = std::iter::once(ctx.permanent).chain(ctx.runtime);
    let mut lines: Vec<String> = zones
        .flat_map(|z| z.rich_rules.iter().filter(|r| r.opens.is_none()).map(move |r| (z, r)))
        .map(|(z, r)| {
            format!("rich rule not counted (it has conditions; check it by hand) in {}: {}", z.origin, r.text)
        })
        .collect();
    let unknown: BTreeSet<&str> = std::iter::once(ctx.permanent)
        .chain(ctx.runtime)
        .flat_map(|z| z.services.iter())
        .filter(|name| ctx.setup.service(name).is_none_or(|s| s.origin.is_none()))
        .map(String::as_str)
        .collect();
    for name in unknown {
        lines.push(format!(
            "service {name}: no definition in /etc/firewalld/services or /usr/lib/firewalld/services; counted as \
             opening nothing"
        ));
    }
    lines.dedup();
    lines
}

fn remedies(ctx: &ZoneContext, gaps: &[Gap]) -> Vec<Remedy> {
    let zone = &ctx.permanent.name;
    let mut to_add: Vec<PortSpec> = Vec::new();
    for gap in gaps.iter().filter(|g| g.permanent) {
        if !to_add.contains(&gap.port) {
            to_add.push(gap.port);
        }
    }
    let mut fixes = Vec::new();
    if matches!(ctx.firewalld.state, DaemonState::NotRunning { .. }) {
        if !to_add.is_empty() {
            let cmd = with_ports(Cmd::new("firewall-offline-cmd").option("--zone=", zone), &to_add);
            fixes.push(cmd.safe().with_note(
                "firewalld is not running: this edits the permanent configuration it loads at its next start",
            ));
        }
        fixes.push(Cmd::new("systemctl").word("disable").word("firewalld").disruptive().with_note(
            "the blunt alternative: firewalld no longer starts at boot, so this node has no firewall at all; \
             prefer opening the ports",
        ));
        return fixes;
    }
    if !to_add.is_empty() {
        let cmd = with_ports(Cmd::new("firewall-cmd").word("--permanent").option("--zone=", zone), &to_add);
        let note = match ctx.firewalld.state {
            DaemonState::Running => "changes nothing until the reload below",
            _ => {
                "changes nothing until the reload below; if firewalld is not running, run firewall-offline-cmd \
                 with the same --zone and --add-port options instead (no reload needed)"
            }
        };
        fixes.push(cmd.safe().with_note(note));
    }
    fixes.push(Cmd::new("firewall-cmd").word("--reload").disruptive().with_note(
        "loads the permanent configuration: rules added without --permanent are lost; established connections stay",
    ));
    fixes.push(Cmd::new("systemctl").word("stop").word("firewalld").disruptive().with_note(
        "the blunt field fix, last resort: removes every firewall rule, so every port of this node is open to every \
         host until firewalld starts again (at boot while it is enabled)",
    ));
    fixes
}

fn with_ports(cmd: Cmd, ports: &[PortSpec]) -> Cmd {
    ports.iter().fold(cmd, |cmd, p| cmd.option("--add-port=", format!("{p}/tcp")))
}

fn daemon_text(state: &DaemonState) -> String {
    match state {
        DaemonState::Running => "firewalld is running".into(),
        DaemonState::NotRunning { how } => format!("not running ({how})"),
        DaemonState::Unknown { reason } => format!("running state unknown ({reason})"),
    }
}

fn unit_text(unit: &UnitFile) -> String {
    match unit {
        UnitFile::Enabled { link } => format!("enabled at boot ({link})"),
        UnitFile::Disabled { file } => format!("not enabled ({file})"),
        UnitFile::Masked { file } => format!("masked ({file})"),
        UnitFile::Absent => "not installed (no firewalld.service)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::firewalld::{ApplyingZone, Binding, DefaultZone, FwPort, RichRule, Service};
    use crate::facts::roles::PortSource;

    fn node(roles: &[Role]) -> NodeRoles {
        let ports = Knowledge::embedded()
            .role_ports
            .port
            .into_iter()
            .filter(|p| roles.contains(&p.role) && !p.optional)
            .map(|p| ServedPort { role: p.role, port: p.port, what: p.what, source: PortSource::Default })
            .collect();
        NodeRoles { roles: roles.to_vec(), evidence: vec![], ports, notes: vec![] }
    }

    fn public(services: &[&str], ports: &[FwPort]) -> Zone {
        Zone {
            name: "public".into(),
            origin: "/usr/lib/firewalld/zones/public.xml".into(),
            services: services.iter().map(|s| s.to_string()).collect(),
            ports: ports.to_vec(),
            ..Zone::default()
        }
    }

    fn tcp(port: PortSpec) -> FwPort {
        FwPort { port, protocol: Proto::Tcp }
    }

    fn firewalld(state: DaemonState, zone: Zone, runtime: Fact<Vec<Zone>>) -> FirewalldFacts {
        let ssh = Service {
            name: "ssh".into(),
            origin: Some("/usr/lib/firewalld/services/ssh.xml".into()),
            ports: vec![tcp(PortSpec::One(22))],
            protocols: vec![],
            includes: vec![],
        };
        let origin = "DefaultZone in /etc/firewalld/firewalld.conf".to_string();
        FirewalldFacts {
            state,
            unit: UnitFile::Enabled { link: "/etc/systemd/system/multi-user.target.wants/firewalld.service".into() },
            zones: Some(ZoneSetup {
                default_zone: DefaultZone { name: "public".into(), origin: origin.clone() },
                applying: vec![ApplyingZone { zone: zone.name.clone(), because: vec![Binding::Default { origin }] }],
                permanent: vec![zone],
                runtime,
                services: vec![ssh],
            }),
        }
    }

    fn run(node: &NodeRoles, fw: &FirewalldFacts, live: bool) -> Verdict {
        judge(&Knowledge::embedded(), node, fw, live)
    }

    #[test]
    fn default_public_blocks_the_master_port() {
        let fw = firewalld(DaemonState::Running, public(&["ssh"], &[]), Fact::unavailable("x"));
        let j = run(&node(&[Role::Master]), &fw, true).unwrap();
        assert_eq!(j.status(), Status::Fail);
        let f = &j.findings[0];
        assert_eq!(f.subject, "zone public");
        assert!(f.message.starts_with("zone public does not allow 5050/tcp (master); firewalld rejects"), "{f:?}");
        let commands: Vec<&str> = f.remediation.iter().map(|r| r.command.as_str()).collect();
        assert_eq!(
            commands,
            [
                "firewall-cmd --permanent --zone=public --add-port=5050/tcp",
                "firewall-cmd --reload",
                "systemctl stop firewalld"
            ]
        );
        assert!(f.evidence.iter().any(|e| e.contains("services ssh (22/tcp)")), "{:?}", f.evidence);
    }

    #[test]
    fn ranges_services_and_rules_together_allow_the_agent() {
        let mut zone = public(&["ssh"], &[tcp(PortSpec::One(5051)), tcp(PortSpec::Range(31000, 31499))]);
        zone.rich_rules.push(RichRule::from_text("rule family=ipv4 port port=31500-32000 protocol=tcp accept"));
        let fw = firewalld(DaemonState::Running, zone, Fact::unavailable("x"));
        let j = run(&node(&[Role::Agent]), &fw, true).unwrap();
        assert_eq!(j.status(), Status::Pass, "{j:?}");
        assert!(j.note.unwrap().contains("allowed by zone public (every port listed)"));
    }

    #[test]
    fn a_partly_open_range_lists_the_rest() {
        let zone = public(&[], &[tcp(PortSpec::One(5051)), tcp(PortSpec::Range(31000, 31499))]);
        let fw = firewalld(DaemonState::Running, zone, Fact::unavailable("x"));
        let j = run(&node(&[Role::Agent]), &fw, true).unwrap();
        assert!(j.findings[0].message.contains("does not allow 31500-32000/tcp (agent)"), "{:?}", j.findings);
        assert_eq!(
            j.findings[0].remediation[0].command,
            "firewall-cmd --permanent --zone=public --add-port=31500-32000/tcp"
        );
    }

    #[test]
    fn runtime_and_permanent_disagree() {
        let permanent = public(&[], &[tcp(PortSpec::One(8080))]);
        let mut runtime = public(&[], &[tcp(PortSpec::One(5050))]);
        runtime.origin = "runtime (firewall-cmd --list-all --zone=public)".into();
        let fw = firewalld(DaemonState::Running, permanent, Fact::observed(vec![runtime]));
        let j = run(&node(&[Role::Master, Role::Marathon]), &fw, true).unwrap();
        let f = &j.findings[0];
        assert!(f.message.contains("5050/tcp (master), 8080/tcp (marathon)"), "{}", f.message);
        let line = |p: &str| f.evidence.iter().find(|e| e.starts_with(p)).unwrap().clone();
        assert!(line("5050/tcp").contains("allowed at runtime only"), "{:?}", f.evidence);
        assert!(line("8080/tcp").contains("blocked until `firewall-cmd --reload`"), "{:?}", f.evidence);
        assert_eq!(f.remediation[0].command, "firewall-cmd --permanent --zone=public --add-port=5050/tcp");
        assert_eq!(f.remediation[1].command, "firewall-cmd --reload");
    }

    #[test]
    fn accept_targets_and_the_tcp_protocol_allow_everything() {
        let mut zone = public(&[], &[]);
        zone.target = ZoneTarget::Accept;
        let fw = firewalld(DaemonState::Running, zone.clone(), Fact::unavailable("x"));
        assert_eq!(run(&node(&[Role::Zookeeper]), &fw, true).unwrap().status(), Status::Pass);
        zone.target = ZoneTarget::Drop;
        zone.protocols = vec!["tcp".into()];
        let fw = firewalld(DaemonState::Running, zone, Fact::unavailable("x"));
        assert_eq!(run(&node(&[Role::Zookeeper]), &fw, true).unwrap().status(), Status::Pass);
    }

    #[test]
    fn conditional_rich_rules_are_reported_not_counted() {
        let mut zone = public(&[], &[]);
        zone.target = ZoneTarget::Drop;
        zone.rich_rules
            .push(RichRule::from_text("rule family=ipv4 source address=10.0.0.0/8 port port=5050 protocol=tcp accept"));
        let fw = firewalld(DaemonState::Running, zone, Fact::unavailable("x"));
        let j = run(&node(&[Role::Master]), &fw, true).unwrap();
        let f = &j.findings[0];
        assert!(f.message.contains("drops them: clients time out"));
        assert!(f.evidence.iter().any(|e| e.starts_with("rich rule not counted") && e.contains("10.0.0.0/8")));
    }

    #[test]
    fn enabled_but_stopped_gets_offline_commands() {
        let state = DaemonState::NotRunning { how: "firewall-cmd --state: not running".into() };
        let fw = firewalld(state, public(&["ssh"], &[]), Fact::unavailable("x"));
        let j = run(&node(&[Role::Master]), &fw, true).unwrap();
        let f = &j.findings[0];
        assert_eq!(f.status, Status::Fail);
        assert!(f.message.contains("from its next start"));
        let commands: Vec<&str> = f.remediation.iter().map(|r| r.command.as_str()).collect();
        assert_eq!(commands, ["firewall-offline-cmd --zone=public --add-port=5050/tcp", "systemctl disable firewalld"]);
    }

    #[test]
    fn unsure_state_is_an_error_finding_not_a_pass() {
        let mut fw =
            firewalld(DaemonState::Unknown { reason: "DBUS_ERROR".into() }, public(&[], &[]), Fact::unavailable("x"));
        fw.unit = UnitFile::Disabled { file: "/usr/lib/systemd/system/firewalld.service".into() };
        let j = run(&node(&[Role::Master]), &fw, true).unwrap();
        assert_eq!(j.status(), Status::Error);
        assert!(j.findings[0].message.starts_with("could not tell whether firewalld runs"));
        // The same tree under --root: not enabled means it does not start.
        assert_eq!(run(&node(&[Role::Master]), &fw, false).unwrap().status(), Status::Pass);
    }

    #[test]
    fn hostile_zone_names_are_quoted() {
        let mut zone = public(&[], &[]);
        zone.name = "pub;rm -rf /".into();
        let mut fw = firewalld(DaemonState::Running, zone, Fact::unavailable("x"));
        fw.zones.as_mut().unwrap().applying[0].zone = "pub;rm -rf /".into();
        let j = run(&node(&[Role::Master]), &fw, true).unwrap();
        let cmd = &j.findings[0].remediation[0].command;
        assert_eq!(cmd, "firewall-cmd --permanent --zone='pub;rm -rf /' --add-port=5050/tcp");
    }

    #[test]
    fn boundaries_split_gaps_by_where_they_are_missing() {
        use PortSpec::{One, Range};
        assert_eq!(split_at_boundaries(vec![Range(1, 10), Range(5, 12)]), [Range(1, 4), Range(5, 10), Range(11, 12)]);
        assert_eq!(split_at_boundaries(vec![One(5050), One(5050)]), [One(5050)]);
        assert_eq!(split_at_boundaries(vec![One(65535)]), [One(65535)]);
    }
}
