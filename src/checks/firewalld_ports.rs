//! `firewalld.ports`: firewalld allows the ports this node serves.
//!
//! What it looks for, why it matters, how to fix it and the risk of the fix
//! are its `META.explain`, the one text `clusterdoc explain` shows.

use std::borrow::Cow;
use std::collections::BTreeSet;

use super::{Check, CheckMeta, Explain, Conclusion, NotJudged, Verdict, required};
use crate::facts::firewalld::{
    DaemonState, Family, Filtering, FirewalldFacts, FwPort, ParsedRule, Proto, RichRule, RuleAction, RuleElement,
    RuleMeaning, Service, UnitFile, Zone, ZoneForwardPort, ZoneSetup, ZoneTarget,
};
use crate::facts::knowledge::{Knowledge, PortSpec};
use crate::facts::roles::{NodeRoles, ServedPort};
use crate::facts::node::NodeFacts;
use crate::facts::{Fact, Facts, Need};
use crate::remedy::{Cmd, Remedy};
use crate::report::{Finding, Scope, Status};
use crate::target::Role;

pub struct FirewalldPorts;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("firewalld.ports"),
    title: Cow::Borrowed("firewalld allows the ports this node serves"),
    severity: Status::Fail,
    needs: &[Need::Knowledge, Need::Roles, Need::Firewalld, Need::Node],
    tags: texts!["node", "network", "firewalld"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("Whether firewalld runs on this node (firewall-cmd --state) or starts at boot (a *.wants/ symlink to \
               firewalld.service), which zones apply to incoming traffic (interfaces and sources bound to a zone in \
               the zone files or by ZONE= in ifcfg files, and the default zone for every other interface) and whether \
               each of those zones lets IPv4 peers reach every TCP port this node's roles serve: the ports in \
               checks/data/role-ports.toml, overridden by the node's own configuration (Mesos port files, zoo.cfg \
               clientPort and server.N lines, Marathon http_port, flink-conf.yaml). The default zone is read from \
               /etc/firewalld/firewalld.conf as firewalld's own reader does (firewall/core/io/firewalld_conf.py): \
               the first `DefaultZone=` line that has a value counts and later ones are ignored \
               (\"Duplicate option definition\"); the value is taken verbatim after stripping whitespace, so quotes \
               and a trailing `# note` are part of the zone name; `export DefaultZone=` is an invalid option; a file \
               that is not UTF-8 is ignored whole; and a zone name that does not exist falls back to public, else \
               external, else block (\"Default zone '%s' is not valid. Using '%s'.\", firewall/core/fw.py). Zones \
               are read from /etc/firewalld/zones, which overrides /usr/lib/firewalld/zones file by file. A \
               connection's fate is worked out the way firewalld builds a zone's chains (firewall/core/nftables.py, \
               the iptables backend alike): rich rules with a priority below 0 first, lowest first; then the deny \
               chain, where every `reject` and `drop` rich rule of priority 0 refuses before any opening counts; \
               then the allow chain: ports and port ranges, services (with their includes), the whole tcp \
               protocol and `accept` rich rules; then rich rules with a priority above 0; then the target (ACCEPT \
               lets everything in). Log, nflog, audit and mark rules decide nothing; rules with family=\"ipv6\" do \
               not apply to IPv4 peers. An accept rule with a condition (a source, a destination, a limit, a source \
               port) and a service with a <destination> are listed but not counted; a deny rule with a condition, \
               a forward-port of the port (in a rule or the zone), or a rule clusterdoc does not understand before \
               an opening makes the verdict an error naming its file and line, since it may refuse this node's \
               peers. When firewalld runs on a live node, the runtime configuration (firewall-cmd --list-all) is \
               compared with the permanent files and the report says which of the two \
               lacks a port."),
        why: Cow::Borrowed("firewalld's default zone public allows only ssh and dhcpv6-client. Everything else that other hosts send \
              is rejected (icmp-host-prohibited with the iptables backend, icmpx admin-prohibited with nftables: \
              clients see \"No route to host\" at once) or, in a zone with target DROP, silently dropped (clients time \
              out). On CentOS 7 this is how the Mesos master (5050) and Marathon (8080) web UIs become unreachable, \
              agents (5051) fail to register and ZooKeeper servers (2181, 2888, 3888) cannot form a quorum. A test run \
              on the node itself cannot see the block: firewalld always accepts traffic on the loopback interface, so \
              curl http://localhost:5050 works while every other host is refused. Only a probe from another host \
              shows it: run clusterdoc's net.reachability check on a different machine, pointed at this node."),
        fix: Cow::Borrowed("Open the ports in the zone that applies, in the permanent configuration, then load it: \
              `firewall-cmd --permanent --zone=public --add-port=5050/tcp --add-port=8080/tcp` and \
              `firewall-cmd --reload`. Where a reject or drop rich rule refuses a port, adding the port does not \
              help: remove the rule (`--remove-rich-rule='rule ...'`). A --permanent change alone does nothing \
              until the reload; a change without --permanent is lost at the next reload or reboot. When firewalld is enabled but not running, \
              `firewall-offline-cmd --zone=public --add-port=5050/tcp` edits the configuration it will load at start. \
              The field fix, `systemctl stop firewalld`, makes the ports reachable by removing all filtering."),
        risk: Cow::Borrowed("Adding a port or removing a rich rule with --permanent or with firewall-offline-cmd changes nothing \
               running and is undone with --remove-port or --add-rich-rule (safe). `firewall-cmd --reload` \
               replaces the runtime configuration with the permanent one: rules added without --permanent are lost; established connections are kept (disruptive). \
               `systemctl stop firewalld` removes every firewall rule of the node: every port is open to every host \
               until firewalld starts again, at the next boot while it is enabled (disruptive)."),
        references: texts![
            "firewalld.zone(5): https://firewalld.org/documentation/man-pages/firewalld.zone.html",
            "firewalld.richlanguage(5): https://firewalld.org/documentation/man-pages/firewalld.richlanguage.html",
            "firewall-cmd(1): https://firewalld.org/documentation/man-pages/firewall-cmd.html",
            "Zones, targets and the default zone: https://firewalld.org/documentation/zone/",
            "firewalld's reader of firewalld.conf: \
             https://github.com/firewalld/firewalld/blob/v1.3.3/src/firewall/core/io/firewalld_conf.py",
            "The order of a zone's chains (pre, log, deny, allow, post): \
             https://github.com/firewalld/firewalld/blob/v1.3.3/src/firewall/core/nftables.py",
        ],
    },
};

impl Check for FirewalldPorts {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let knowledge = required(&facts.knowledge, "check data")?;
        let node = required(&facts.roles, "node roles")?;
        if node.roles.is_empty() {
            return Err(NotJudged::Skip(
                "no roles known for this node (none found in processes, units or config files): name them with \
                 --role master|agent|zookeeper|marathon|flink"
                    .into(),
            ));
        }
        let firewalld = required(&facts.firewalld, "firewalld facts")?;
        let names = facts.node.as_ref().and_then(Fact::value).map(own_names).unwrap_or_default();
        judge(knowledge, node, firewalld, facts.inputs.live, &names)
    }
}

/// The names peers know this node by: its host name, the names its Mesos
/// daemons advertise, its primary address. A finding about its ports is
/// about these hosts' ports.
fn own_names(node: &NodeFacts) -> Vec<String> {
    let mut names: Vec<String> = node.hostname().map(String::from).into_iter().collect();
    names.extend(node.mesos_hostnames.iter().map(|f| f.value.clone()));
    names.extend(node.primary_address.map(|a| a.to_string()));
    names
}

fn judge(knowledge: &Knowledge, node: &NodeRoles, firewalld: &FirewalldFacts, live: bool, names: &[String]) -> Verdict {
    let filtering = firewalld.filtering(live);
    if filtering == Filtering::Off {
        return Ok(Conclusion::pass(format!(
            "firewalld filters nothing: {}; {}",
            daemon_text(&firewalld.state),
            unit_text(&firewalld.unit)
        )));
    }
    let setup = firewalld
        .zones
        .as_ref()
        .ok_or_else(|| NotJudged::Error("firewalld may filter, but its zones were not read".into()))?;
    let mut findings = Vec::new();
    let mut passed = Vec::new();
    for applying in &setup.applying {
        let permanent = setup.permanent.iter().find(|z| z.name == applying.zone);
        let Some(permanent) = permanent else {
            return Err(NotJudged::Error(format!("zone {} applies but its configuration was not read", applying.zone)));
        };
        let runtime = setup.runtime.value().and_then(|zones| zones.iter().find(|z| z.name == applying.zone));
        let (gaps, unsure) = gaps(node, permanent, runtime, setup);
        if gaps.is_empty() && unsure.is_empty() {
            passed.push(format!("{} ({})", applying.zone, pass_reason(permanent)));
            continue;
        }
        let because: Vec<String> = applying.because.iter().map(|b| b.to_string()).collect();
        let context = ZoneContext { permanent, runtime, setup, filtering, firewalld, because: because.join("; ") };
        let ports = gaps.iter().filter_map(|g| matches!(g.port, PortSpec::One(_)).then_some(g.port.low()));
        let about = ports.map(|port| Scope::endpoint(names, port));
        findings.push(about.fold(finding(&context, &gaps, &unsure, knowledge), Finding::about));
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
    Ok(Conclusion::findings(findings, note))
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
    /// The rich rule that refuses it (the permanent one first), if not the zone's target.
    refused_by: Option<&'a RichRule>,
}

/// A served port (or part of it) that a zone may refuse to some IPv4 peers.
#[derive(Debug)]
struct Unsure<'a> {
    served: &'a ServedPort,
    port: PortSpec,
    doubt: Doubt<'a>,
    config: &'a Zone,
}

/// What may refuse some peers, or send them elsewhere.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Doubt<'a> {
    /// A rule for some peers only, or one clusterdoc does not understand.
    Rule(&'a RichRule),
    /// The zone redirects the port (DNAT) before filtering.
    ForwardPort(&'a ZoneForwardPort),
}

impl Doubt<'_> {
    /// `the rich rule at FILE line N`.
    fn what(&self) -> String {
        match self {
            Doubt::Rule(rule) => format!("the rich rule at {}", rule.origin),
            Doubt::ForwardPort(forward) => format!("the forward-port at {}", forward.origin),
        }
    }

    fn text(&self) -> String {
        match self {
            Doubt::Rule(rule) => rule.text.clone(),
            Doubt::ForwardPort(forward) => format!("forward-port port={} {}", forward.port, forward.to),
        }
    }

    /// Why it may refuse some peers and not others.
    fn reason(&self) -> String {
        const FORWARDED: &str = "forward-port redirects the port before filtering; clusterdoc does not follow it";
        let meaning = match self {
            Doubt::ForwardPort(_) => return FORWARDED.into(),
            Doubt::Rule(rule) => &rule.meaning,
        };
        match meaning {
            RuleMeaning::NotUnderstood { reason } => format!("clusterdoc does not understand it: {reason}"),
            RuleMeaning::Understood { rule } => match rule.element {
                RuleElement::ForwardPort { .. } => FORWARDED.into(),
                RuleElement::SourcePort { .. } => "it matches by the peer's source port".into(),
                _ => format!("it applies only with {}", rule.conditions.join(", ")),
            },
        }
    }
}

fn gaps<'a>(
    node: &'a NodeRoles,
    permanent: &'a Zone,
    runtime: Option<&'a Zone>,
    setup: &ZoneSetup,
) -> (Vec<Gap<'a>>, Vec<Unsure<'a>>) {
    let mut gaps = Vec::new();
    let mut unsure = Vec::new();
    for served in &node.ports {
        let permanent_fates = fates(permanent, setup, served.port);
        let runtime_fates = runtime.map(|z| fates(z, setup, served.port));
        let refused = |fates: &[(PortSpec, Fate<'a>)]| -> Vec<PortSpec> {
            fates.iter().filter(|(_, f)| matches!(f, Fate::Refused(_))).map(|(p, _)| *p).collect()
        };
        let lacking_permanent = refused(&permanent_fates);
        let lacking_runtime = runtime_fates.as_deref().map(refused);
        let mut parts: Vec<PortSpec> = lacking_permanent.clone();
        parts.extend(lacking_runtime.iter().flatten());
        for port in split_at_boundaries(parts) {
            let refused_by = permanent_fates.iter().chain(runtime_fates.iter().flatten()).find_map(|(p, f)| match f {
                Fate::Refused(Some(rule)) if overlaps(*p, port) => Some(*rule),
                _ => None,
            });
            gaps.push(Gap {
                served,
                port,
                permanent: lacking_permanent.iter().any(|p| overlaps(*p, port)),
                runtime: lacking_runtime.as_ref().map(|l| l.iter().any(|p| overlaps(*p, port))),
                refused_by,
            });
        }
        let configs = std::iter::once((permanent, permanent_fates)).chain(runtime.zip(runtime_fates));
        for (config, fates) in configs {
            for (port, fate) in fates {
                if let Fate::Unsure(doubt) = fate {
                    unsure.push(Unsure { served, port, doubt, config });
                }
            }
        }
    }
    (gaps, unsure)
}

/// What a zone does with a TCP connection from an IPv4 peer to a port.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fate<'a> {
    Accepted,
    /// Refused by a rich rule, or (`None`) by the zone's target.
    Refused(Option<&'a RichRule>),
    /// Accepted, unless this refuses the peer or sends it elsewhere.
    Unsure(Doubt<'a>),
}

/// How much of the traffic to one port a rule or opening matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coverage {
    All,
    Some,
    Nothing,
}

/// One step of a zone's input chain: what it matches and whether it accepts.
struct Step<'a> {
    rule: Option<&'a RichRule>,
    accepts: bool,
    coverage: Coverage,
}

/// The fate of each piece of `port`: the pieces are cut wherever an opening
/// or a rule of the zone starts or ends, so one port decides for its piece.
fn fates<'a>(zone: &'a Zone, setup: &ZoneSetup, port: PortSpec) -> Vec<(PortSpec, Fate<'a>)> {
    let mut cuts: BTreeSet<u32> = [u32::from(port.low()), u32::from(port.high()) + 1].into();
    for spec in zone_port_specs(zone, setup) {
        for cut in [u32::from(spec.low()), u32::from(spec.high()) + 1] {
            if u32::from(port.low()) < cut && cut <= u32::from(port.high()) {
                cuts.insert(cut);
            }
        }
    }
    let cuts: Vec<u32> = cuts.into_iter().collect();
    let mut pieces: Vec<(PortSpec, Fate)> = Vec::new();
    for w in cuts.windows(2) {
        let fate = fate(zone, setup, w[0] as u16, &[]);
        match pieces.last_mut() {
            Some((last, f)) if *f == fate => *last = PortSpec::between(last.low(), (w[1] - 1) as u16),
            _ => pieces.push((PortSpec::between(w[0] as u16, (w[1] - 1) as u16), fate)),
        }
    }
    pieces
}

/// Every port range a zone's openings and rules name.
fn zone_port_specs(zone: &Zone, setup: &ZoneSetup) -> Vec<PortSpec> {
    let services = zone.services.iter().chain(zone.rich_rules.iter().filter_map(|r| match &r.understood()?.element {
        RuleElement::Service { name } => Some(name),
        _ => None,
    }));
    let service_ports = services.filter_map(|name| setup.service(name)).flat_map(|s| tcp(&s.ports));
    let rule_ports = zone.rich_rules.iter().filter_map(|r| match &r.understood()?.element {
        RuleElement::Port { port } | RuleElement::ForwardPort { port } => Some(port.port),
        _ => None,
    });
    let forwarded = zone.forward_ports.iter().map(|f| f.port).filter(|p| p.protocol == Proto::Tcp).map(|p| p.port);
    tcp(&zone.ports).into_iter().chain(service_ports).chain(rule_ports).chain(forwarded).collect()
}

/// The fate of a connection to `port`, walking the zone's input chain in the
/// order firewalld builds it (firewall/core/nftables.py, the iptables
/// backend alike): rich rules with a priority below 0 (lowest first), the
/// `deny` chain (priority-0 `reject` and `drop` rules), the `allow` chain
/// (ports, services, protocols and priority-0 `accept` rules), rich rules with
/// a priority above 0, then the target. Logging, auditing and `mark` decide
/// nothing; IPv6-only rules do not match IPv4 peers. `ignored` rules are left
/// out (to see what removing them would do).
fn fate<'a>(zone: &'a Zone, setup: &ZoneSetup, port: u16, ignored: &[&RichRule]) -> Fate<'a> {
    let rules: Vec<&RichRule> = zone.rich_rules.iter().filter(|r| !ignored.contains(r)).collect();
    let mut steps: Vec<Step> = Vec::new();
    // What clusterdoc does not model (a rule it does not understand, a
    // forward-port redirecting the port before filtering) may refuse anything.
    for rule in &rules {
        let diverts = rule.understood().is_some_and(|r| {
            r.family != Some(Family::Ipv6)
                && matches!(&r.element, RuleElement::ForwardPort { port: p } if tcp_covers(p, port))
        });
        if diverts || matches!(rule.meaning, RuleMeaning::NotUnderstood { .. }) {
            steps.push(Step { rule: Some(rule), accepts: false, coverage: Coverage::Some });
        }
    }
    let parsed: Vec<(&RichRule, &ParsedRule)> = rules.iter().filter_map(|r| Some((*r, r.understood()?))).collect();
    let rule_step = |(rule, parsed): &(&'a RichRule, &ParsedRule)| {
        let accepts = match parsed.action? {
            RuleAction::Accept => true,
            RuleAction::Reject | RuleAction::Drop => false,
            RuleAction::Mark => return None,
        };
        Some(Step { rule: Some(*rule), accepts, coverage: rule_coverage(parsed, setup, port) })
    };
    let mut early: Vec<&(&RichRule, &ParsedRule)> = parsed.iter().filter(|(_, p)| p.priority < 0).collect();
    early.sort_by_key(|(_, p)| p.priority);
    steps.extend(early.into_iter().filter_map(rule_step));
    let denies = |p: &ParsedRule| matches!(p.action, Some(RuleAction::Reject | RuleAction::Drop));
    steps.extend(parsed.iter().filter(|(_, p)| p.priority == 0 && denies(p)).filter_map(rule_step));
    let zone_opens = tcp(&zone.ports).iter().any(|p| p.low() <= port && port <= p.high())
        || zone.protocols.iter().any(|p| is_tcp(p))
        || zone.services.iter().any(|name| service_coverage(setup, name, port) == Coverage::All);
    steps.push(Step { rule: None, accepts: true, coverage: if zone_opens { Coverage::All } else { Coverage::Nothing } });
    steps.extend(parsed.iter().filter(|(_, p)| p.priority == 0 && !denies(p)).filter_map(rule_step));
    let mut late: Vec<&(&RichRule, &ParsedRule)> = parsed.iter().filter(|(_, p)| p.priority > 0).collect();
    late.sort_by_key(|(_, p)| p.priority);
    steps.extend(late.into_iter().filter_map(rule_step));

    // Redirected before filtering, the connection never reaches this port.
    let forwarded = zone.forward_ports.iter().find(|f| tcp_covers(&f.port, port));
    let mut partly_refused: Option<Doubt> = forwarded.map(Doubt::ForwardPort);
    for step in steps {
        match (step.coverage, step.accepts) {
            (Coverage::Nothing, _) | (Coverage::Some, true) => {}
            (Coverage::Some, false) => {
                partly_refused = partly_refused.or(step.rule.map(Doubt::Rule));
            }
            (Coverage::All, true) => return partly_refused.map_or(Fate::Accepted, Fate::Unsure),
            (Coverage::All, false) => return Fate::Refused(step.rule),
        }
    }
    match zone.target {
        ZoneTarget::Accept => partly_refused.map_or(Fate::Accepted, Fate::Unsure),
        _ => Fate::Refused(None),
    }
}

/// How much of the IPv4 TCP traffic to `port` a rule matches.
fn rule_coverage(rule: &ParsedRule, setup: &ZoneSetup, port: u16) -> Coverage {
    let matches = rule.family != Some(Family::Ipv6)
        && match &rule.element {
            RuleElement::Any => true,
            RuleElement::Port { port: p } => tcp_covers(p, port),
            RuleElement::Service { name } => match service_coverage(setup, name, port) {
                Coverage::All => true,
                Coverage::Some => return Coverage::Some,
                Coverage::Nothing => false,
            },
            RuleElement::Protocol { value } => is_tcp(value),
            // Any port, but only from the peers' (random) source ports it names.
            RuleElement::SourcePort { port: p } => {
                return if p.protocol == Proto::Tcp { Coverage::Some } else { Coverage::Nothing };
            }
            RuleElement::ForwardPort { .. } | RuleElement::NoTcpVerdict { .. } => false,
        };
    match (matches, rule.conditions.is_empty()) {
        (false, _) => Coverage::Nothing,
        (true, true) => Coverage::All,
        (true, false) => Coverage::Some,
    }
}

fn tcp_covers(p: &FwPort, port: u16) -> bool {
    p.protocol == Proto::Tcp && p.port.low() <= port && port <= p.port.high()
}

/// `tcp`, or its protocol number.
fn is_tcp(protocol: &str) -> bool {
    matches!(protocol, "tcp" | "6")
}

/// How much of the IPv4 traffic to `port` a service matches: a service with
/// a `<destination>` matches only connections to that address (none at all
/// for IPv4 when it names an IPv6 address only).
fn service_coverage(setup: &ZoneSetup, name: &str, port: u16) -> Coverage {
    let Some(service) = setup.service(name) else { return Coverage::Nothing };
    let covers = service.protocols.iter().any(|p| is_tcp(p)) || service.ports.iter().any(|p| tcp_covers(p, port));
    match (covers, service.destinations.as_slice()) {
        (false, _) => Coverage::Nothing,
        (true, []) => Coverage::All,
        (true, destinations) if destinations.iter().any(|d| d.starts_with("ipv4:")) => Coverage::Some,
        (true, _) => Coverage::Nothing,
    }
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

fn tcp(ports: &[FwPort]) -> Vec<PortSpec> {
    ports.iter().filter(|p| p.protocol == Proto::Tcp).map(|p| p.port).collect()
}

fn pass_reason(zone: &Zone) -> &'static str {
    if zone.target == ZoneTarget::Accept {
        "target ACCEPT"
    } else if zone.protocols.iter().any(|p| is_tcp(p)) {
        "protocol tcp"
    } else {
        "every port listed"
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

fn finding(ctx: &ZoneContext, gaps: &[Gap], unsure: &[Unsure], knowledge: &Knowledge) -> Finding {
    let zone = &ctx.permanent.name;
    let listed = port_list(gaps.iter().map(|g| (g.port, g.served.role)));
    // Who refuses: the target, unless rich rules refuse every missing port.
    let by_rule = gaps.iter().map(|g| g.refused_by.and_then(|r| r.understood()?.action)).collect::<Option<Vec<_>>>();
    let drops = match by_rule.as_deref() {
        Some([first, ..]) => *first == RuleAction::Drop,
        _ => ctx.permanent.target == ZoneTarget::Drop,
    };
    let (verb, seen) =
        if drops { ("drops them", "clients time out") } else { ("rejects them", "clients see \"No route to host\"") };
    let (status, message) = match (ctx.filtering, unsure.first()) {
        (Filtering::Unsure | Filtering::Off, _) if !gaps.is_empty() => (
            Status::Error,
            format!(
                "could not tell whether firewalld runs ({}); if it does, zone {zone} does not allow {listed}",
                daemon_text(&ctx.firewalld.state)
            ),
        ),
        (_, Some(first)) if gaps.is_empty() => (
            Status::Error,
            format!(
                "could not tell whether zone {zone} allows {} to every IPv4 peer: {} may refuse some of them ({})",
                port_list(unsure.iter().map(|u| (u.port, u.served.role))),
                first.doubt.what(),
                first.doubt.reason()
            ),
        ),
        (Filtering::AtBoot, _) => {
            let when = match ctx.firewalld.state {
                DaemonState::NotRunning { .. } => format!("from its next start {verb}"),
                _ => format!("{verb} whenever it runs"),
            };
            (Status::Fail, format!("zone {zone} does not allow {listed}; firewalld is enabled and {when}: {seen}"))
        }
        _ => (Status::Fail, format!("zone {zone} does not allow {listed}; firewalld {verb}: {seen}")),
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
    for u in unsure {
        f = f.evidence(format!(
            "{}/tcp ({}, {}): {}: {} may refuse some IPv4 peers ({}): {}",
            u.port,
            u.served.role.as_str(),
            u.served.what,
            u.config.origin,
            u.doubt.what(),
            u.doubt.reason(),
            u.doubt.text()
        ));
    }
    for line in doubts(ctx) {
        f = f.evidence(line);
    }
    f = f.evidence("judged for IPv4 peers: rich rules with family=\"ipv6\" do not apply to them".to_string());
    f = f.evidence(format!("role ports from the check data ({})", knowledge.sources.join(", ")));
    remedies(ctx, gaps).into_iter().fold(f, Finding::fix)
}

/// `5050/tcp (master), 8080/tcp (marathon)`, one entry per port.
fn port_list(ports: impl Iterator<Item = (PortSpec, Role)>) -> String {
    let mut entries: Vec<(PortSpec, Vec<Role>)> = Vec::new();
    for (port, role) in ports {
        match entries.iter_mut().find(|(p, _)| *p == port) {
            Some((_, roles)) if !roles.contains(&role) => roles.push(role),
            Some(_) => {}
            None => entries.push((port, vec![role])),
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
    let mut line =
        format!("{}/tcp ({}, {}; port from {source}): {lacking}", gap.port, gap.served.role.as_str(), gap.served.what);
    if let Some(rule) = gap.refused_by {
        line.push_str(&format!("; refused by the rich rule at {}: {}", rule.origin, rule.text));
    }
    line
}

/// One line describing what a zone configuration allows.
fn zone_summary(zone: &Zone, setup: &ZoneSetup) -> String {
    let services: Vec<String> = zone
        .services
        .iter()
        .map(|name| match setup.service(name) {
            Some(s) if s.origin.is_some() => {
                let ports: Vec<String> = s.ports.iter().map(|p| p.to_string()).collect();
                let mut ports = if ports.is_empty() { "no ports".into() } else { ports.join(" ") };
                if restricted(s) {
                    ports.push_str(&format!(" only to {}", s.destinations.join(" ")));
                }
                format!("{name} ({ports})")
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
    if !zone.rich_rules.is_empty() {
        line.push_str(&format!("; {} rich rule(s)", zone.rich_rules.len()));
    }
    line
}

/// A service that would open TCP ports, but only to its `<destination>`.
fn restricted(service: &Service) -> bool {
    let opens_tcp = service.protocols.iter().any(|p| is_tcp(p)) || !tcp(&service.ports).is_empty();
    opens_tcp && !service.destinations.is_empty()
}

/// Things in the zones that could change the verdict and were not counted.
fn doubts(ctx: &ZoneContext) -> Vec<String> {
    let zones = std::iter::once(ctx.permanent).chain(ctx.runtime);
    let mut lines: Vec<String> = zones
        .flat_map(|z| z.rich_rules.iter())
        .filter_map(|r| {
            let parsed = match &r.meaning {
                RuleMeaning::Understood { rule } => rule,
                RuleMeaning::NotUnderstood { reason } => {
                    return Some(format!(
                        "rich rule not understood ({reason}; it may open or refuse anything) at {}: {}",
                        r.origin, r.text
                    ));
                }
            };
            let not_counted = if parsed.family == Some(Family::Ipv6) {
                "for IPv6 only, so not for IPv4 peers".to_string()
            } else if !parsed.conditions.is_empty() && parsed.action == Some(RuleAction::Accept) {
                format!("it applies only with {}; check it by hand", parsed.conditions.join(", "))
            } else {
                return None;
            };
            Some(format!("rich rule not counted ({not_counted}) at {}: {}", r.origin, r.text))
        })
        .collect();
    let unknown: BTreeSet<&str> = std::iter::once(ctx.permanent)
        .chain(ctx.runtime)
        .flat_map(|z| z.services.iter())
        .filter(|name| ctx.setup.service(name).is_none_or(|s| s.origin.is_none()))
        .map(String::as_str)
        .collect();
    let bound: BTreeSet<&str> = std::iter::once(ctx.permanent)
        .chain(ctx.runtime)
        .flat_map(|z| z.services.iter())
        .filter(|name| ctx.setup.service(name).is_some_and(restricted))
        .map(String::as_str)
        .collect();
    for name in bound {
        lines.push(format!(
            "service {name}: opens its ports only to its <destination> addresses, not to every address of this node; \
             not counted"
        ));
    }
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
    let offline = matches!(ctx.firewalld.state, DaemonState::NotRunning { .. });
    let edit = || match offline {
        true => Cmd::new("firewall-offline-cmd").option("--zone=", zone),
        false => Cmd::new("firewall-cmd").word("--permanent").option("--zone=", zone),
    };
    if gaps.is_empty() {
        return vec![edit().word("--list-all").safe().with_note(
            "read-only: lists the zone's configuration; check the rich rules and forward-ports the evidence names \
             against this node's peers and their addresses, which clusterdoc does not know",
        )];
    }
    let (to_remove, to_add) = permanent_fix(ctx, gaps);
    let note = match ctx.firewalld.state {
        DaemonState::NotRunning { .. } => {
            "firewalld is not running: this edits the permanent configuration it loads at its next start"
        }
        DaemonState::Running => "changes nothing until the reload below",
        DaemonState::Unknown { .. } => {
            "changes nothing until the reload below; if firewalld is not running, run firewall-offline-cmd \
             with the same options instead (no reload needed)"
        }
    };
    let mut fixes = Vec::new();
    if !to_remove.is_empty() {
        let cmd = to_remove.iter().fold(edit(), |cmd, rule| cmd.option("--remove-rich-rule=", &rule.text));
        fixes.push(cmd.safe().with_note(format!(
            "firewalld runs these deny rules before any port opening, so adding the port alone would not help; {note}"
        )));
    }
    if !to_add.is_empty() {
        fixes.push(with_ports(edit(), &to_add).safe().with_note(note));
    }
    if offline {
        fixes.push(Cmd::new("systemctl").word("disable").word("firewalld").disruptive().with_note(
            "the blunt alternative: firewalld no longer starts at boot, so this node has no firewall at all; \
             prefer opening the ports",
        ));
        return fixes;
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

/// The permanent configuration's rich rules to remove and ports to add so
/// that every gap it has is accepted: the rules that refuse a port first,
/// then the ports no opening covers once they are gone.
fn permanent_fix<'a>(ctx: &ZoneContext<'a>, gaps: &[Gap]) -> (Vec<&'a RichRule>, Vec<PortSpec>) {
    let (mut to_remove, mut to_add): (Vec<&RichRule>, Vec<PortSpec>) = (Vec::new(), Vec::new());
    for gap in gaps.iter().filter(|g| g.permanent) {
        for piece in fates(ctx.permanent, ctx.setup, gap.port) {
            let port = piece.0;
            while let Fate::Refused(Some(rule)) = fate(ctx.permanent, ctx.setup, port.low(), &to_remove) {
                to_remove.push(rule);
            }
            if fate(ctx.permanent, ctx.setup, port.low(), &to_remove) == Fate::Refused(None)
                && !to_add.contains(&gap.port)
            {
                to_add.push(gap.port);
            }
        }
    }
    (to_remove, to_add)
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
    use crate::facts::firewalld::{ApplyingZone, Binding, DefaultZone};
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
            destinations: vec![],
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
        judge(&Knowledge::embedded(), node, fw, live, &[])
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
        zone.rich_rules.push(RichRule::from_text(
            "rule family=ipv4 port port=31500-32000 protocol=tcp accept",
            "z.xml line 3".into(),
        ));
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
        zone.rich_rules.push(RichRule::from_text(
            "rule family=ipv4 source address=10.0.0.0/8 port port=5050 protocol=tcp accept",
            "z.xml line 3".into(),
        ));
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

    fn with_rules(ports: &[FwPort], rules: &[&str]) -> FirewalldFacts {
        let mut zone = public(&[], ports);
        for (i, text) in rules.iter().enumerate() {
            zone.rich_rules.push(RichRule::from_text(text, format!("z.xml line {}", i + 3)));
        }
        firewalld(DaemonState::Running, zone, Fact::unavailable("x"))
    }

    fn master(fw: &FirewalldFacts) -> Conclusion {
        run(&node(&[Role::Master]), fw, true).unwrap()
    }

    #[test]
    fn an_ipv6_rule_opens_nothing_for_ipv4_peers() {
        let j = master(&with_rules(&[], &["rule family=ipv6 port port=5050 protocol=tcp accept"]));
        assert_eq!(j.status(), Status::Fail);
        let f = &j.findings[0];
        assert!(f.message.starts_with("zone public does not allow 5050/tcp (master); firewalld rejects"), "{f:?}");
        assert!(f.evidence.iter().any(|e| e
            == "rich rule not counted (for IPv6 only, so not for IPv4 peers) at z.xml line 3: rule family=ipv6 port \
                port=5050 protocol=tcp accept"), "{:?}", f.evidence);
        assert_eq!(f.remediation[0].command, "firewall-cmd --permanent --zone=public --add-port=5050/tcp");
    }

    #[test]
    fn a_deny_rule_wins_over_a_port_opening() {
        for (action, verb) in [("reject", "rejects them"), ("drop", "drops them")] {
            let rule = format!("rule family=ipv4 port port=5050 protocol=tcp {action}");
            let j = master(&with_rules(&[tcp(PortSpec::One(5050))], &[&rule]));
            assert_eq!(j.status(), Status::Fail, "{j:?}");
            let f = &j.findings[0];
            assert!(f.message.contains(&format!("does not allow 5050/tcp (master); firewalld {verb}")), "{f:?}");
            let line = format!(
                "missing from /usr/lib/firewalld/zones/public.xml; refused by the rich rule at z.xml line 3: {rule}"
            );
            assert!(f.evidence.iter().any(|e| e.ends_with(&line)), "{:?}", f.evidence);
            // Removing the rule is the fix: the port is listed already.
            let commands: Vec<&str> = f.remediation.iter().map(|r| r.command.as_str()).collect();
            assert_eq!(commands[0], format!("firewall-cmd --permanent --zone=public --remove-rich-rule='{rule}'"));
            assert_eq!(commands[1], "firewall-cmd --reload");
        }
        // With nothing else opening it, the port is added too.
        let j = master(&with_rules(&[], &["rule port port=5000-5100 protocol=tcp drop"]));
        let commands: Vec<&str> = j.findings[0].remediation.iter().map(|r| r.command.as_str()).collect();
        assert_eq!(
            commands[..2],
            [
                "firewall-cmd --permanent --zone=public --remove-rich-rule='rule port port=5000-5100 protocol=tcp drop'",
                "firewall-cmd --permanent --zone=public --add-port=5050/tcp"
            ]
        );
    }

    #[test]
    fn priorities_order_rules_around_the_openings() {
        let open = [tcp(PortSpec::One(5050))];
        // Above 0: after the allow chain, too late to refuse.
        assert_eq!(
            master(&with_rules(&open, &["rule priority=1 port port=5050 protocol=tcp drop"])).status(),
            Status::Pass
        );
        // Below 0: before the deny chain.
        let rules = ["rule port port=5050 protocol=tcp reject", "rule priority=-1 port port=5050 protocol=tcp accept"];
        assert_eq!(master(&with_rules(&[], &rules)).status(), Status::Pass);
        let rules = [
            "rule priority=-2 port port=5050 protocol=tcp drop",
            "rule priority=-1 port port=5050 protocol=tcp accept",
        ];
        assert_eq!(master(&with_rules(&open, &rules)).status(), Status::Fail);
        // Logging, auditing and marking decide nothing.
        let rules = [
            "rule port port=5050 protocol=tcp log",
            "rule port port=5050 protocol=tcp mark set=1",
            "rule port port=5050 protocol=tcp audit accept",
        ];
        assert_eq!(master(&with_rules(&[], &rules)).status(), Status::Pass);
        assert_eq!(master(&with_rules(&[], &rules[..2])).status(), Status::Fail);
    }

    #[test]
    fn a_deny_rule_for_some_peers_or_not_understood_is_an_error() {
        let rule = "rule family=ipv4 source address=10.0.0.0/8 port port=5050 protocol=tcp drop";
        let j = master(&with_rules(&[tcp(PortSpec::One(5050))], &[rule]));
        assert_eq!(j.status(), Status::Error);
        let f = &j.findings[0];
        assert_eq!(
            f.message,
            "could not tell whether zone public allows 5050/tcp (master) to every IPv4 peer: the rich rule at z.xml \
             line 3 may refuse some of them (it applies only with source address=10.0.0.0/8)"
        );
        assert!(
            f.evidence.iter().any(|e| e.starts_with("5050/tcp (master, ") && e.ends_with(rule)),
            "{:?}",
            f.evidence
        );
        assert_eq!(f.remediation.len(), 1);
        assert_eq!(f.remediation[0].command, "firewall-cmd --permanent --zone=public --list-all");
        let j =
            master(&with_rules(&[tcp(PortSpec::One(5050))], &["rule port port=5050 protocol=tcp frobnicate accept"]));
        assert_eq!(j.status(), Status::Error);
        assert!(j.findings[0].message.contains("at z.xml line 3 may refuse some of them (clusterdoc does not understand it: unknown element \"frobnicate\")"), "{:?}", j.findings);
        assert!(j.findings[0].evidence.iter().any(|e| e.starts_with("rich rule not understood (unknown element")));
        // A forward-port redirects the port away.
        let j = master(&with_rules(
            &[tcp(PortSpec::One(5050))],
            &["rule family=ipv4 forward-port port=5050 protocol=tcp to-port=6000"],
        ));
        assert_eq!(j.status(), Status::Error);
    }

    #[test]
    fn a_service_with_a_destination_opens_only_that_address() {
        let mut fw = firewalld(DaemonState::Running, public(&["mesos"], &[]), Fact::unavailable("x"));
        let setup = fw.zones.as_mut().unwrap();
        setup.services.push(Service {
            name: "mesos".into(),
            origin: Some("/etc/firewalld/services/mesos.xml".into()),
            ports: vec![tcp(PortSpec::One(5050))],
            protocols: vec![],
            includes: vec![],
            destinations: vec!["ipv4:10.0.0.1".into()],
        });
        let j = master(&fw);
        assert_eq!(j.status(), Status::Fail, "{j:?}");
        let f = &j.findings[0];
        assert!(f.evidence.iter().any(|e| e.contains("services mesos (5050/tcp only to ipv4:10.0.0.1)")), "{f:?}");
        assert!(f.evidence.iter().any(|e| e.starts_with("service mesos: opens its ports only to its <destination>")));
        assert_eq!(f.remediation[0].command, "firewall-cmd --permanent --zone=public --add-port=5050/tcp");
    }

    #[test]
    fn a_zone_forward_port_of_the_port_is_an_error() {
        let mut zone = public(&[], &[tcp(PortSpec::One(5050))]);
        zone.forward_ports.push(ZoneForwardPort {
            port: tcp(PortSpec::One(5050)),
            to: "to-port=6000".into(),
            origin: "z.xml line 4".into(),
        });
        let j = master(&firewalld(DaemonState::Running, zone, Fact::unavailable("x")));
        assert_eq!(j.status(), Status::Error);
        assert_eq!(
            j.findings[0].message,
            "could not tell whether zone public allows 5050/tcp (master) to every IPv4 peer: the forward-port at \
             z.xml line 4 may refuse some of them (forward-port redirects the port before filtering; clusterdoc \
             does not follow it)"
        );
        assert!(j.findings[0].evidence.iter().any(|e| e.ends_with("forward-port port=5050/tcp to-port=6000")));
    }

    #[test]
    fn boundaries_split_gaps_by_where_they_are_missing() {
        use PortSpec::{One, Range};
        assert_eq!(split_at_boundaries(vec![Range(1, 10), Range(5, 12)]), [Range(1, 4), Range(5, 10), Range(11, 12)]);
        assert_eq!(split_at_boundaries(vec![One(5050), One(5050)]), [One(5050)]);
        assert_eq!(split_at_boundaries(vec![One(65535)]), [One(65535)]);
    }
}
