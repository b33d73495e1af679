//! `marathon.port-collision`: Marathon apps' fixed ports fit on the agents.
//!
//! What it looks for, why it matters, how to fix it and the risk of the fix
//! are its `META.explain`, the one text `clusterdoc explain` shows.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::json;

use super::{Check, CheckMeta, Explain, Verdict, conclude, observed, required};
use crate::facts::flink_props::{CommandLine, JobManagerPort, Rewritten, jobmanager_ports};
use crate::facts::knowledge::RolePorts;
use crate::facts::marathon::{App, AppTask, MarathonFacts, NetworkMode, Protocol};
use crate::facts::mesos::{Agent, TaskState};
use crate::facts::{Facts, Need};
use crate::remedy::Remedy;
use crate::report::{Finding, Scope, Status};
use crate::scheduling::free_ports::FreePorts;
use crate::scheduling::placement::{Demand, placeable, shares_blindly, union_len};
use crate::scheduling::tally::{Reason, Tally};
use crate::scheduling::{Eligible, active_agents, describe, eligible, update_app};

pub struct MarathonPortCollision;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("marathon.port-collision"),
    title: Cow::Borrowed("Marathon apps' fixed ports fit on the agents"),
    severity: Status::Fail,
    needs: &[Need::Marathon, Need::Mesos, Need::Knowledge],
    tags: texts!["marathon", "flink"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("For every Marathon app (and every app proposed with --app FILE, as if deployed: it replaces a \
app of the same id, findings name it `app /ID (proposed)` and its fix prints the file's definition changed, with \
jq, to POST instead), the fixed host ports it binds: a Flink JobManager's ports from the -D \
options of its cmd/args (jobmanager.rpc.port, 6123 when not given; jobmanager.web.port or rest.port, 8081 when not \
given, -1 turns it off, 0 is ephemeral; blob.server.port when fixed), portDefinitions with requirePorts, and fixed \
host ports of bridge port mappings. Per port, the instances of all apps binding it must fit on distinct eligible \
agents (active agents, narrowed by the apps' hostname LIKE/UNLIKE/CLUSTER constraints and, for declared ports, by \
the agents' ports resources): fail when they do not. A multi-instance app whose port is only in its command line \
and that has no [\"hostname\",\"UNIQUE\"] constraint, and two apps sharing such a port, are warnings even when the \
counts fit. Two running tasks that bind one port on one host (from the apps' tasks) fail, and failed tasks on a \
host where the port is held are shown. Ports set in flink-conf.yaml are not visible: Flink's defaults are assumed."),
        why: Cow::Borrowed("Flink sessions run as Marathon apps all bind JobManager RPC port 6123 and web port 8081 unless told \
otherwise. Mesos offers only the ports an app declares, so Marathon cannot see these: scaling /flink/flink1 to 3 \
instances made instances fail with \"Address already in use\" and retry until each happened to land on a different \
node, and a second session on the same three nodes could not start until it was given \
-Djobmanager.rpc.port=6124 -Djobmanager.web.port=8082. Instances beyond the number of hosts never run: Marathon \
keeps relaunching them, with growing back-off, forever."),
        fix: Cow::Borrowed("Give the colliding app ports no other app uses: the printed PUT rewrites the -D options in its cmd \
(or args) with ports chosen outside every app's ports, the agents' task port ranges and the cluster's role ports. \
Add [\"hostname\",\"UNIQUE\"] to multi-instance apps with a fixed port, so Marathon never puts two on one host. \
When one app alone has more instances than eligible agents, scale it down to the agent count or add agents. A PUT \
without ?partialUpdate=false changes only the fields it carries (Marathon 1.1 to 1.10); ?force=true is added only \
when a deployment of the app is in progress, which the update then replaces."),
        risk: Cow::Borrowed("Disruptive: each PUT starts a deployment that restarts the app's instances (a Flink session loses its \
running jobs unless they are restored from savepoints). Clients of a moved JobManager (flink run -m, the web UI, \
firewall rules) must use the new ports. Scaling down stops instances."),
        references: texts![
            "REFERENCE.md section 5 (RPC and web port collisions between Flink sessions on Marathon)",
            "https://mesosphere.github.io/marathon/docs/ports.html (requirePorts, host ports)",
            "https://mesosphere.github.io/marathon/docs/constraints.html (hostname UNIQUE, LIKE, CLUSTER)",
            "https://nightlies.apache.org/flink/flink-docs-release-1.2/setup/config.html (jobmanager.rpc.port, \
jobmanager.web.port, blob.server.port)",
            "Marathon REST API: PUT /v2/apps/{app_id} (partialUpdate, force)",
        ],
    },
};

impl Check for MarathonPortCollision {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let marathon = required(&facts.marathon, "Marathon facts")?;
        let apps = observed(&marathon.apps, "Marathon apps")?;
        let mesos = required(&facts.mesos, "Mesos facts")?;
        let state = observed(&mesos.state, "the leading Mesos master's state")?;
        let role_ports = &required(&facts.knowledge, "check data")?.role_ports;
        judge(marathon, apps, &active_agents(state), role_ports)
    }
}

/// How many apps, instances and fixes a finding lists before summing up the rest.
const LISTED: usize = 20;

/// The transport of a bound port: tcp and udp ports do not collide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Transport {
    Tcp,
    Udp,
}

impl Transport {
    fn of(protocol: Protocol) -> &'static [Transport] {
        match protocol {
            Protocol::Tcp => &[Transport::Tcp],
            Protocol::Udp => &[Transport::Udp],
            Protocol::UdpTcp => &[Transport::Udp, Transport::Tcp],
        }
    }
}

/// A port of a host, with its transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct PortOnTransport {
    port: u16,
    transport: Transport,
}

impl fmt::Display for PortOnTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match self.transport {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        };
        write!(f, "{}/{transport}", self.port)
    }
}

/// Why an app binds a fixed host port.
#[derive(Clone, Debug, PartialEq)]
enum BindingCause {
    /// A Flink JobManager setting or default: bound by the process, unknown to Mesos.
    Flink(JobManagerPort),
    /// `portDefinitions` with `requirePorts`: Mesos offers exactly this port.
    Required,
    /// A bridge port mapping with a fixed host port: Mesos offers exactly this port.
    Mapped,
}

impl BindingCause {
    /// Bound without Mesos knowing: offers still contain the port.
    fn hidden(&self) -> bool {
        matches!(self, BindingCause::Flink(_))
    }

    fn describe(&self) -> String {
        match self {
            BindingCause::Flink(p) if p.explicit => {
                format!("the {} port (-D{} in its command line)", p.role.describe(), p.key)
            }
            BindingCause::Flink(p) => format!("the {} port (Flink's default {})", p.role.describe(), p.key),
            BindingCause::Required => "a portDefinitions port with requirePorts".into(),
            BindingCause::Mapped => "a port mapping's hostPort".into(),
        }
    }
}

#[derive(Clone, Debug)]
struct Binding {
    at: PortOnTransport,
    origin: BindingCause,
}

/// An app, the fixed host ports it binds and where its constraints let it run.
struct Bound<'a> {
    app: &'a App,
    bindings: Vec<Binding>,
    /// A Flink JobManager's command line (its ports can be moved).
    line: Option<CommandLine<'a>>,
    /// Index into the judged constraint sets.
    class: usize,
}

impl Bound<'_> {
    fn binding(&self, at: PortOnTransport) -> &Binding {
        self.bindings.iter().find(|b| b.at == at).expect("grouped by its own bindings")
    }

    fn hides(&self, at: PortOnTransport) -> bool {
        self.binding(at).origin.hidden()
    }
}

/// The fixed host ports an app binds; Err when they cannot be told.
fn bindings_of(app: &App) -> Result<(Vec<Binding>, Option<CommandLine<'_>>), String> {
    let line = CommandLine::of_app(app.cmd.as_deref(), &app.args);
    let flink = line.jobmanager_launcher().is_some();
    let mut bindings = Vec::new();
    let host = |port, protocol| Transport::of(protocol).iter().map(move |&transport| PortOnTransport { port, transport });
    match app.network {
        NetworkMode::Host => {
            if flink {
                for p in jobmanager_ports(&line)? {
                    let at = PortOnTransport { port: p.port, transport: Transport::Tcp };
                    bindings.push(Binding { at, origin: BindingCause::Flink(p) });
                }
            }
            let required = app.port_definitions.iter().filter(|d| app.require_ports && d.port != 0);
            for at in required.flat_map(|d| host(d.port, d.protocol)) {
                bindings.push(Binding { at, origin: BindingCause::Required });
            }
        }
        NetworkMode::Bridge => {
            for at in app.port_mappings.iter().filter(|m| m.host_port != 0).flat_map(|m| host(m.host_port, m.protocol))
            {
                bindings.push(Binding { at, origin: BindingCause::Mapped });
            }
        }
        NetworkMode::Container | NetworkMode::None => {}
        NetworkMode::Unrecognized => {
            let fixed = flink || app.port_mappings.iter().any(|m| m.host_port != 0) || app.require_ports;
            if fixed {
                return Err("its network mode is not one clusterdoc knows, so its host ports cannot be told".into());
            }
        }
    }
    Ok((bindings, flink.then_some(line)))
}

/// A fix a finding asks for, built once every group is judged (a moved app
/// may move off several ports in one update).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Fix {
    /// Rewrite the app's `-D` ports (the moves recorded for it).
    Move(usize),
    /// Add `["hostname", "UNIQUE"]`.
    Unique(usize),
    /// Scale to this many instances.
    Scale(usize, u32),
}

struct Draft {
    finding: Finding,
    fixes: Vec<Fix>,
}

/// Everything one run of the check works with.
struct Judge<'a> {
    marathon: &'a MarathonFacts,
    agents: &'a [&'a Agent],
    bound: Vec<Bound<'a>>,
    classes: Vec<Eligible>,
    free: FreePorts,
    /// Per moved app: its ports and where they go.
    moves: HashMap<usize, Vec<(JobManagerPort, u16)>>,
    drafts: Vec<Draft>,
    undecided: Vec<String>,
}

fn judge(marathon: &MarathonFacts, apps: &[App], agents: &[&Agent], role_ports: &RolePorts) -> Verdict {
    let Bindings { bound, classes, in_use, undecided } = bind_all(apps, agents);
    let free = FreePorts::new(in_use, avoided_ranges(agents, role_ports));
    let mut judge =
        Judge { marathon, agents, bound, classes, free, moves: HashMap::new(), drafts: Vec::new(), undecided };
    let groups = judge.groups();
    judge.per_app();
    for (at, members) in &groups {
        judge.group(*at, members);
    }
    let hidden = groups.iter().filter(|(at, members)| members.iter().any(|&m| judge.bound[m].hides(*at))).count();
    let note = format!(
        "{} apps, {} of them bind {} fixed host ports ({hidden} only in command lines, unknown to Mesos); {} active agents",
        apps.len(),
        judge.bound.len(),
        groups.len(),
        agents.len()
    );
    let (findings, undecided) = judge.finish();
    conclude(findings, undecided, note)
}

/// Every app's fixed host ports, read once.
struct Bindings<'a> {
    /// The apps with instances that bind fixed host ports.
    bound: Vec<Bound<'a>>,
    /// The distinct constraint sets, judged against the agents once each.
    classes: Vec<Eligible>,
    /// Every port an app binds or names, running or not.
    in_use: HashSet<u16>,
    undecided: Vec<String>,
}

fn bind_all<'a>(apps: &'a [App], agents: &[&Agent]) -> Bindings<'a> {
    let mut found = Bindings { bound: Vec::new(), classes: Vec::new(), in_use: HashSet::new(), undecided: Vec::new() };
    let mut class_of: HashMap<&[Vec<String>], usize> = HashMap::new();
    for app in apps {
        found.in_use.extend(declared_ports(app));
        let (bindings, line) = match bindings_of(app) {
            Ok(read) => read,
            Err(e) => {
                found.undecided.push(format!("{}: {e}", app.label()));
                continue;
            }
        };
        found.in_use.extend(bindings.iter().map(|b| b.at.port));
        if bindings.is_empty() || app.instances == 0 {
            continue;
        }
        let class = match class_of.get(app.constraints.as_slice()) {
            Some(&class) => class,
            None => match eligible(&app.constraints, agents) {
                Ok(e) => {
                    found.classes.push(e);
                    class_of.insert(&app.constraints, found.classes.len() - 1);
                    found.classes.len() - 1
                }
                Err(e) => {
                    found.undecided.push(format!("{}: {e}", app.label()));
                    continue;
                }
            },
        };
        found.bound.push(Bound { app, bindings, line, class });
    }
    found
}

/// The ports an app's definition or tasks name, bound or not: a moved port avoids them.
fn declared_ports(app: &App) -> impl Iterator<Item = u16> + '_ {
    let defined = app.port_definitions.iter().map(|d| d.port);
    let mapped = app.port_mappings.iter().map(|m| m.host_port);
    let given = app.tasks.iter().flat_map(|t| t.ports.iter().copied());
    defined.chain(mapped).chain(given).filter(|&p| p != 0)
}

/// Port ranges a moved JobManager port stays out of: the agents' ports
/// resources (Mesos hands them to tasks, unaware the JobManager holds one)
/// and the ports of the cluster's roles. Sorted, merged.
fn avoided_ranges(agents: &[&Agent], role_ports: &RolePorts) -> Vec<(u16, u16)> {
    let offered = agents.iter().flat_map(|a| a.resources.ports.0.iter().map(|r| (r.begin, r.end)));
    let roles = role_ports.port.iter().map(|p| (p.port.low(), p.port.high()));
    let mut ranges: Vec<(u16, u16)> = offered.chain(roles).collect();
    ranges.sort_unstable();
    let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
    for (low, high) in ranges {
        match merged.last_mut() {
            Some(last) if u32::from(low) <= u32::from(last.1) + 1 => last.1 = last.1.max(high),
            _ => merged.push((low, high)),
        }
    }
    merged
}

fn is_live(task: &AppTask) -> bool {
    task.state.is_none_or(TaskState::is_live)
}

fn has_failed(task: &AppTask) -> bool {
    matches!(task.state, Some(TaskState::Failed | TaskState::Error))
}

impl<'a> Judge<'a> {
    /// The apps binding each host port, in port order.
    fn groups(&self) -> Vec<(PortOnTransport, Vec<usize>)> {
        let mut by_port: HashMap<PortOnTransport, Vec<usize>> = HashMap::new();
        for (i, b) in self.bound.iter().enumerate() {
            for binding in &b.bindings {
                let members = by_port.entry(binding.at).or_default();
                if members.last() != Some(&i) {
                    members.push(i);
                }
            }
        }
        let mut groups: Vec<(PortOnTransport, Vec<usize>)> = by_port.into_iter().collect();
        groups.sort_unstable_by_key(|(at, _)| *at);
        groups
    }

    /// Apps whose own instances would collide on a host.
    fn per_app(&mut self) {
        for i in 0..self.bound.len() {
            let b = &self.bound[i];
            let (app, class) = (b.app, &self.classes[b.class]);
            if app.instances < 2 {
                continue;
            }
            let subject = app.label();
            if class.one_host {
                let binding = &b.bindings[0];
                let finding = Finding::new(
                    Status::Fail,
                    subject,
                    format!(
                        "a [\"hostname\",\"CLUSTER\"] constraint puts all {} instances on one host, but each binds {}: \
                         only one can run",
                        app.instances, binding.at
                    ),
                )
                .problem("port-taken")
                .about(Scope::app(&app.id))
                .evidence(self.app_line(i, binding.at));
                self.drafts.push(Draft { finding, fixes: vec![Fix::Scale(i, 1)] });
            } else if class.per_host != Some(1)
                && let Some(binding) = b.bindings.iter().find(|x| x.origin.hidden())
            {
                let finding = Finding::new(
                    Status::Warn,
                    subject,
                    format!(
                        "{} instances bind {}, {}, without a [\"hostname\",\"UNIQUE\"] constraint: Mesos cannot \
                         see a port in the command line, so Marathon may place two instances on one host, where the \
                         second fails to bind and is retried until the instances happen to spread",
                        app.instances,
                        binding.at,
                        binding.origin.describe()
                    ),
                )
                .about(Scope::app(&app.id))
                .evidence(self.app_line(i, binding.at));
                self.drafts.push(Draft { finding, fixes: vec![Fix::Unique(i)] });
            }
        }
    }

    fn group(&mut self, at: PortOnTransport, members: &[usize]) {
        let demands = self.demands(at, members);
        let total: u64 = demands.iter().map(|d| d.instances).sum();
        let fit = placeable(&demands, self.agents.len());
        if fit < total {
            self.over_capacity(at, members, &demands, total, fit);
        } else if members.len() > 1 && shares_blindly(&demands, self.agents.len()) {
            self.blind(at, members);
        } else {
            self.unread_constraints(at, members);
        }
        self.live_collisions(at, members);
    }

    fn demands(&self, at: PortOnTransport, members: &[usize]) -> Vec<Demand> {
        let mut demands: Vec<Demand> = Vec::new();
        let mut index: HashMap<(usize, bool), usize> = HashMap::new();
        for &m in members {
            let b = &self.bound[m];
            let class = &self.classes[b.class];
            let hidden = b.hides(at);
            let i = *index.entry((b.class, hidden)).or_insert_with(|| {
                // A declared port is offered only by agents whose ports resource holds it.
                let agents = match hidden {
                    true => class.agents.clone(),
                    false => class
                        .agents
                        .iter()
                        .copied()
                        .filter(|&a| self.agents[a].resources.ports.contains(at.port))
                        .collect(),
                };
                demands.push(Demand { hidden, apps: 0, instances: 0, agents });
                demands.len() - 1
            });
            let instances = if class.one_host { b.app.instances.min(1) } else { b.app.instances };
            demands[i].apps += 1;
            demands[i].instances += u64::from(instances);
        }
        demands
    }

    fn over_capacity(&mut self, at: PortOnTransport, members: &[usize], demands: &[Demand], total: u64, fit: u64) {
        let (stay, movers) = self.split(at, members);
        let moved = self.move_all(at, &movers);
        let stay_demands = self.demands(at, &stay);
        let stay_total: u64 = stay_demands.iter().map(|d| d.instances).sum();
        let overflow = stay_total - placeable(&stay_demands, self.agents.len()).min(stay_total);
        let mut fixes: Vec<Fix> = moved.iter().take(LISTED).map(|&(m, _)| Fix::Move(m)).collect();
        if overflow > 0
            && let Some(&largest) = stay.iter().max_by_key(|&&m| (self.bound[m].app.instances, std::cmp::Reverse(m)))
        {
            let instances = u64::from(self.bound[largest].app.instances);
            if instances > overflow {
                fixes.push(Fix::Scale(largest, (instances - overflow) as u32));
            }
        }
        let hidden = members.iter().any(|&m| self.bound[m].hides(at));
        let consequence = match hidden {
            true => {
                "the port is in a command line, unknown to Mesos: Marathon keeps placing the extra instances \
                     where they fail to bind, and relaunching them"
            }
            false => "Marathon waits for offers of this port that cannot come",
        };
        let message = format!(
            "{total} instances of {} bind {at}, but at most {fit} can run at once: each needs a host of its own and \
             {} eligible agents can take them; {consequence}",
            plural(members.len(), "app"),
            union_len(demands, self.agents.len())
        );
        let mut finding = self.group_finding(Status::Fail, at, message, members, &moved);
        if let Some(line) = self.offered_line(at, members) {
            finding = finding.evidence(line);
        }
        let holders = self.holders(members);
        for &m in members.iter().take(LISTED) {
            let app = format!("{} on {at} now", self.bound[m].app.named());
            finding = finding.evidence(self.tally(m, at, &holders).line(&app));
        }
        self.drafts.push(Draft { finding, fixes });
    }

    /// The hosts where a live task of one of `members` runs: the port is
    /// held there.
    fn holders(&self, members: &[usize]) -> HashSet<&'a str> {
        members
            .iter()
            .flat_map(|&m| self.bound[m].app.tasks.iter().filter(|t| is_live(t)))
            .filter_map(|task| task.host.as_deref())
            .collect()
    }

    /// Which active agents could take one more instance of app `m` on
    /// port `at`, and why the others cannot: its constraints, the port not
    /// in their ports resource (when the app declares it), a live task of
    /// an app binding it there (`holders`).
    fn tally(&self, m: usize, at: PortOnTransport, holders: &HashSet<&str>) -> Tally {
        let eligible = &self.classes[self.bound[m].class].agents;
        let declared = !self.bound[m].hides(at);
        let (mut absent, mut taken) = (0, 0);
        for agent in eligible.iter().map(|&a| self.agents[a]) {
            if declared && !agent.resources.ports.contains(at.port) {
                absent += 1;
            } else if holders.contains(agent.hostname.as_str()) {
                taken += 1;
            }
        }
        let mut tally = Tally::new(self.agents.len(), eligible.len() - absent - taken);
        tally.add(Reason::Constraints, self.agents.len() - eligible.len());
        tally.add(Reason::PortNotOffered(at.port), absent);
        tally.add(Reason::PortTaken(at.port), taken);
        tally
    }

    /// For a declared port: how many eligible agents offer it, when not all do.
    fn offered_line(&self, at: PortOnTransport, members: &[usize]) -> Option<String> {
        let declaring = members.iter().find(|&&m| !self.bound[m].hides(at))?;
        let eligible = &self.classes[self.bound[*declaring].class].agents;
        let offering = eligible.iter().filter(|&&a| self.agents[a].resources.ports.contains(at.port)).count();
        if offering == eligible.len() {
            return None;
        }
        let mut ranges: Vec<String> = eligible.iter().map(|&a| self.agents[a].resources.ports.to_string()).collect();
        ranges.sort_unstable();
        ranges.dedup();
        Some(format!(
            "agents offering {} in their ports resource: {offering} of {} eligible ({})",
            at.port,
            eligible.len(),
            ranges.join(", ")
        ))
    }

    fn blind(&mut self, at: PortOnTransport, members: &[usize]) {
        let (_, movers) = self.split(at, members);
        let moved = self.move_all(at, &movers);
        let message = format!(
            "{} bind {at} and at least one only in its command line: Mesos cannot see such a port, so Marathon may \
             put two of them on one host, where the later one fails to bind and is relaunched until it lands \
             elsewhere",
            plural(members.len(), "app")
        );
        let fixes = moved.iter().take(LISTED).map(|&(m, _)| Fix::Move(m)).collect();
        let finding = self.group_finding(Status::Warn, at, message, members, &moved);
        self.drafts.push(Draft { finding, fixes });
    }

    /// The apps that keep the port and those that move off it: apps that
    /// declare it stay (Mesos keeps them apart); of the apps that hide it in
    /// their command line one stays, the first by id, unless a declaring app
    /// is there.
    fn split(&self, at: PortOnTransport, members: &[usize]) -> (Vec<usize>, Vec<usize>) {
        let (mut stay, mut hiding): (Vec<usize>, Vec<usize>) =
            members.iter().copied().partition(|&m| !self.bound[m].hides(at));
        hiding.sort_by(|&a, &b| self.bound[a].app.id.cmp(&self.bound[b].app.id));
        if stay.is_empty() && !hiding.is_empty() {
            stay.push(hiding.remove(0));
        }
        (stay, hiding)
    }

    /// Moves each app off the port; returns those that got a new port.
    fn move_all(&mut self, at: PortOnTransport, movers: &[usize]) -> Vec<(usize, Option<u16>)> {
        movers.iter().map(|&m| (m, self.move_off(m, at))).collect()
    }

    fn move_off(&mut self, m: usize, at: PortOnTransport) -> Option<u16> {
        let BindingCause::Flink(port) = self.bound[m].binding(at).origin.clone() else { return None };
        let new = self.free.after(at.port)?;
        self.moves.entry(m).or_default().push((port, new));
        Some(new)
    }

    fn group_finding(
        &self,
        status: Status,
        at: PortOnTransport,
        message: String,
        members: &[usize],
        moved: &[(usize, Option<u16>)],
    ) -> Finding {
        let mut finding = Finding::new(status, format!("port {at}"), message).problem("port-taken");
        for &m in members {
            finding = finding.about(Scope::app(&self.bound[m].app.id));
        }
        for &m in members.iter().take(LISTED) {
            let mut line = self.app_line(m, at);
            match moved.iter().find(|(mover, _)| *mover == m) {
                Some((_, Some(new))) => line.push_str(&format!("; to move to {new}")),
                Some((_, None)) => line.push_str(&format!("; no free port above {} to move it to", at.port)),
                None => {}
            }
            finding = finding.evidence(line);
        }
        if members.len() > LISTED {
            finding = finding.evidence(format!("... and {} more apps", members.len() - LISTED));
        }
        if moved.len() > LISTED {
            finding = finding
                .evidence(format!("commands for the first {LISTED} moved apps only; the others need the same change"));
        }
        let hosts: Vec<&str> = self.agents.iter().take(LISTED).map(|a| a.hostname.as_str()).collect();
        let more = if self.agents.len() > LISTED { ", ..." } else { "" };
        finding.evidence(format!("{} active agents: {}{more}", self.agents.len(), hosts.join(", ")))
    }

    /// `/flink/flink2: 3 instances, binds it by ..., 3 eligible agents, constraints [...]`.
    fn app_line(&self, m: usize, at: PortOnTransport) -> String {
        let b = &self.bound[m];
        let class = &self.classes[b.class];
        let mut line = format!(
            "{}: {}, binds {at} as {}; {}",
            b.app.named(),
            plural(b.app.instances as usize, "instance"),
            b.binding(at).origin.describe(),
            plural(class.agents.len(), "eligible agent")
        );
        if !b.app.constraints.is_empty() {
            let constraints: Vec<String> = b.app.constraints.iter().map(|c| describe(c)).collect();
            line.push_str(&format!("; constraints {}", constraints.join(", ")));
        }
        line
    }

    /// A port whose apps fit, unless constraints on attributes exclude agents.
    fn unread_constraints(&mut self, at: PortOnTransport, members: &[usize]) {
        for &m in members {
            let b = &self.bound[m];
            let unread = &self.classes[b.class].unread;
            if !unread.is_empty() {
                self.undecided.push(format!(
                    "port {at}: {} has constraints on agent attributes ({}) that clusterdoc does not apply, so \
                     whether its {} fit is unknown",
                    b.app.label(),
                    unread.join(", "),
                    plural(b.app.instances as usize, "instance")
                ));
            }
        }
    }

    /// Tasks that bind the port on one host at once, and tasks that failed
    /// on a host where it is held.
    fn live_collisions(&mut self, at: PortOnTransport, members: &[usize]) {
        let mut on_host: HashMap<&str, Vec<(usize, &AppTask)>> = HashMap::new();
        for &m in members {
            for task in self.bound[m].app.tasks.iter().filter(|t| is_live(t) || has_failed(t)) {
                if let Some(host) = task.host.as_deref() {
                    on_host.entry(host).or_default().push((m, task));
                }
            }
        }
        let mut hosts: Vec<(&str, Vec<(usize, &AppTask)>)> = on_host
            .into_iter()
            .filter(|(_, tasks)| {
                let live = tasks.iter().filter(|(_, t)| is_live(t)).count();
                live >= 2 || (live == 1 && tasks.len() > 1)
            })
            .collect();
        hosts.sort_unstable_by_key(|(host, _)| *host);
        let mut drafts = Vec::new();
        for (host, tasks) in hosts {
            let live = tasks.iter().filter(|(_, t)| is_live(t)).count();
            let message = match live {
                1 => format!("a task failed on {host}, where another task holds {at}"),
                n => format!("{n} tasks bind {at} on {host} at once: only one can hold it, the others fail to bind"),
            };
            let mut finding = Finding::new(Status::Fail, format!("port {at} on {host}"), message).problem("port-taken");
            for (m, task) in &tasks {
                let state = task.state.map_or("running (no state reported)".to_string(), |s| format!("{s:?}"));
                finding = finding.evidence(format!("task {} of {} on {host}: {state}", task.id, self.bound[*m].app.id));
            }
            let mut apps: Vec<usize> = tasks.iter().map(|(m, _)| *m).collect();
            apps.sort_unstable();
            apps.dedup();
            for &m in &apps {
                finding = finding.about(Scope::app(&self.bound[m].app.id));
            }
            // One app's instances meet: keep them apart; apps meet: the moves decided for the port.
            let fixes = match apps.as_slice() {
                [one] if self.classes[self.bound[*one].class].per_host != Some(1) => vec![Fix::Unique(*one)],
                [_] => Vec::new(),
                several => several.iter().filter(|m| self.moves.contains_key(m)).map(|&m| Fix::Move(m)).collect(),
            };
            drafts.push(Draft { finding, fixes });
        }
        self.drafts.extend(drafts);
    }

    /// The findings with their fixes; a fix shared by several findings is
    /// printed under the first.
    fn finish(mut self) -> (Vec<Finding>, Vec<String>) {
        let mut placed: HashMap<Fix, String> = HashMap::new();
        let mut findings = Vec::new();
        for Draft { mut finding, fixes } in std::mem::take(&mut self.drafts) {
            for fix in fixes {
                match placed.get(&fix) {
                    Some(subject) => finding = finding.evidence(format!("fixed by the command under {subject}")),
                    None => {
                        if let Some(remedy) = self.remedy(fix) {
                            finding = finding.fix(remedy);
                            placed.insert(fix, finding.subject.clone());
                        }
                    }
                }
            }
            findings.push(finding);
        }
        (findings, self.undecided)
    }

    fn remedy(&self, fix: Fix) -> Option<Remedy> {
        let (m, body, note) = match fix {
            Fix::Move(m) => {
                let (body, note) = self.move_body(m)?;
                (m, body, note)
            }
            Fix::Unique(m) => {
                let mut constraints = self.bound[m].app.constraints.clone();
                constraints.push(vec!["hostname".into(), "UNIQUE".into()]);
                let note = "adds [\"hostname\",\"UNIQUE\"]; the list replaces the app's constraints, so any it had \
                            are repeated in it. Marathon redeploys the app, at most one instance per host";
                (m, json!({ "constraints": constraints }), note.to_string())
            }
            Fix::Scale(m, instances) => {
                let app = self.bound[m].app;
                let note = format!(
                    "runs {instances} instead of {} instances of {}; or add agents that can take them instead",
                    app.instances, app.id
                );
                (m, json!({ "instances": instances }), note)
            }
        };
        Some(update_app(self.marathon, self.bound[m].app, &body, note))
    }

    /// The new `cmd` (or `args`) of a moved JobManager and what it changes.
    fn move_body(&self, m: usize) -> Option<(serde_json::Value, String)> {
        let b = &self.bound[m];
        let moves = self.moves.get(&m)?;
        let changes: Vec<(&str, String)> = moves.iter().map(|(p, new)| (p.key, new.to_string())).collect();
        let (body, field) = match b.line.as_ref()?.with_settings(&changes) {
            Rewritten::Shell(cmd) => (json!({ "cmd": cmd }), "cmd"),
            Rewritten::Args(args) => (json!({ "args": args }), "args"),
        };
        let changed: Vec<String> = moves.iter().map(|(p, new)| format!("{} {} -> {new}", p.key, p.port)).collect();
        let note = format!(
            "sets {} in the app's {field}: ports no app uses, outside the agents' task port ranges and the cluster's \
             role ports. Marathon restarts the app's instances; clients of this JobManager (flink run -m, the web \
             UI) must use the new ports",
            changed.join(", ")
        );
        Some((body, note))
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::NotJudged;
    use crate::facts::knowledge::Knowledge;
    use crate::facts::marathon::PortDefinition;
    use crate::facts::mesos::{PortRange, PortRanges, Resources};

    const FLINK: &str = "/opt/flink/bin/mesos-appmaster.sh -Dmesos.initial-tasks=2";

    fn agents(n: usize) -> Vec<Agent> {
        (1..=n)
            .map(|i| Agent {
                id: format!("S{i}"),
                hostname: format!("node{i}"),
                active: true,
                resources: Resources {
                    ports: PortRanges(vec![PortRange { begin: 31000, end: 32000 }]),
                    ..Resources::default()
                },
                ..Agent::default()
            })
            .collect()
    }

    fn app(id: &str, cmd: &str, instances: u32) -> App {
        App { id: id.into(), cmd: Some(cmd.into()), instances, ..App::default() }
    }

    fn marathon() -> MarathonFacts {
        MarathonFacts::empty("http://m1:8080")
    }

    fn run(apps: &[App], agent_count: usize) -> Verdict {
        let owned = agents(agent_count);
        let refs: Vec<&Agent> = owned.iter().collect();
        judge(&marathon(), apps, &refs, &Knowledge::embedded().role_ports)
    }

    fn free_ports(taken: &[u16], avoid: Vec<(u16, u16)>) -> FreePorts {
        FreePorts::new(taken.iter().copied().collect(), avoid)
    }

    #[test]
    fn a_free_port_skips_used_ports_roles_and_task_ranges() {
        let owned = agents(2);
        let refs: Vec<&Agent> = owned.iter().collect();
        let avoid = avoided_ranges(&refs, &Knowledge::embedded().role_ports);
        assert!(avoid.contains(&(31000, 32000)) && avoid.contains(&(8080, 8081)), "merged: {avoid:?}");
        let mut free = free_ports(&[6124, 6125], avoid);
        assert_eq!(free.after(6123), Some(6126));
        assert_eq!(free.after(6123), Some(6127), "each port is handed out once");
        assert_eq!(free.after(8081), Some(8082));
        assert_eq!(free.after(8079), Some(8082 + 1), "8080-8081 are role ports, 8082 is taken now");
        assert_eq!(free.after(30999), Some(32001), "the agents' task range is skipped whole");
        assert_eq!(free.after(65535), None);
        let mut full = free_ports(&[], vec![(1, 65535)]);
        assert_eq!(full.after(6123), None);
    }

    #[test]
    fn many_moves_off_one_port_take_the_next_free_ones() {
        let mut free = free_ports(&[], Vec::new());
        let chosen: Vec<u16> = (0..20_000).map(|_| free.after(6123).unwrap()).collect();
        assert_eq!((chosen[0], chosen[19_999]), (6124, 26123));
    }

    fn demand(hidden: bool, instances: u64, agents: &[usize]) -> Demand {
        Demand { hidden, apps: 1, instances, agents: agents.to_vec() }
    }

    #[test]
    fn placement_is_a_maximum_matching() {
        // Greedy would give the broad app agent 0 and leave the narrow one nothing.
        let narrow_last = [demand(true, 1, &[0, 1]), demand(true, 1, &[0])];
        assert_eq!(placeable(&narrow_last, 2), 2);
        let crowded = [demand(true, 2, &[0, 1]), demand(true, 1, &[0]), demand(false, 1, &[1])];
        assert_eq!(placeable(&crowded, 2), 2);
        assert_eq!(placeable(&[demand(true, 5, &[0, 1, 2])], 3), 3);
        assert_eq!(placeable(&[demand(true, u64::from(u32::MAX), &[0]), demand(true, 1, &[1])], 2), 2);
    }

    #[test]
    fn sharing_is_blind_when_a_hidden_port_may_meet_another_on_one_agent() {
        assert!(!shares_blindly(&[demand(true, 1, &[0]), demand(true, 1, &[1])], 2), "disjoint hosts");
        assert!(shares_blindly(&[demand(true, 1, &[0, 1]), demand(false, 1, &[1])], 2));
        assert!(!shares_blindly(&[demand(false, 1, &[0, 1]), demand(false, 1, &[0, 1])], 2), "Mesos knows both");
        assert!(shares_blindly(&[Demand { hidden: true, apps: 2, instances: 2, agents: vec![0] }], 1));
    }

    #[test]
    fn the_reference_app_alone_passes_and_a_copy_of_it_collides() {
        let reference = app("/flink/flink1", &format!("{FLINK} -Djobmanager.web.port=-1"), 1);
        let alone = run(std::slice::from_ref(&reference), 3).unwrap();
        assert_eq!(alone.status(), Status::Pass, "{alone:?}");
        let twin = App { id: "/flink/flink2".into(), ..reference.clone() };
        let both = run(&[reference, twin], 3).unwrap();
        assert_eq!(both.status(), Status::Warn, "two apps on 6123 fit, placed blindly: {both:?}");
        let command = &both.findings[0].remediation[0].command;
        assert!(
            command.contains("/v2/apps/flink/flink2") && command.contains("-Djobmanager.rpc.port=6124"),
            "{command}"
        );
    }

    #[test]
    fn apps_that_cannot_be_read_leave_the_check_undecided() {
        let unreadable = app("/flink/x", &format!("{FLINK} -Djobmanager.rpc.port=$RPC_PORT"), 1);
        let verdict = run(&[unreadable], 3);
        assert!(
            matches!(&verdict, Err(NotJudged::Error(r)) if r.contains("app /flink/x: -Djobmanager.rpc.port")),
            "{verdict:?}"
        );
        let rack =
            App { constraints: vec![vec!["rack".into(), "LIKE".into(), "r1".into()]], ..app("/flink/r", FLINK, 1) };
        assert!(matches!(run(&[rack], 3), Err(NotJudged::Error(r)) if r.contains("agent attributes")));
        // A failure found elsewhere still fails.
        let elsewhere = format!("{FLINK} -Djobmanager.rpc.port=7000 -Djobmanager.web.port=-1");
        let rack = App {
            constraints: vec![vec!["rack".into(), "LIKE".into(), "r1".into()]],
            ..app("/flink/r", &elsewhere, 1)
        };
        let big = App {
            constraints: vec![vec!["hostname".into(), "UNIQUE".into()]],
            ..app("/flink/big", "jobmanager.sh", 4)
        };
        let judgement = run(&[rack, big], 3).unwrap();
        assert_eq!(judgement.status(), Status::Fail);
        assert!(judgement.note.unwrap().contains("not judged"));
    }

    #[test]
    fn ports_that_do_not_bind_the_host_are_left_alone() {
        let service = App {
            port_definitions: vec![PortDefinition { port: 10000, protocol: Protocol::Tcp, name: None }],
            ..app("/svc", "serve $PORT0", 5)
        };
        let container = App { network: NetworkMode::Container, ..app("/flink/c", FLINK, 5) };
        let assigned = app("/flink/a", &format!("{FLINK} -Djobmanager.rpc.port=$PORT0 -Drest.port=0"), 5);
        assert_eq!(run(&[service, container, assigned], 3).unwrap().status(), Status::Pass);
        let udp = App {
            port_definitions: vec![PortDefinition { port: 6123, protocol: Protocol::Udp, name: None }],
            require_ports: true,
            ..app("/udp", "x", 1)
        };
        let tcp = app("/flink/t", &format!("{FLINK} -Djobmanager.web.port=-1"), 1);
        let verdict = run(&[udp, tcp], 3).unwrap();
        assert!(verdict.findings.iter().all(|f| f.subject != "port 6123/tcp"), "udp and tcp do not collide");
    }

    /// Correct at scale; how fast is measured by `cargo bench --bench marathon_checks`.
    #[test]
    fn twenty_thousand_apps_are_judged() {
        let apps: Vec<App> = (0..20_000)
            .map(|i| {
                let cmd = match i % 4 {
                    0 => format!("{FLINK} -Djobmanager.rpc.port={} -Djobmanager.web.port=-1", 40000 + i / 4),
                    1 => "sleep 3600".to_string(),
                    _ => FLINK.to_string(),
                };
                App { constraints: vec![vec!["hostname".into(), "UNIQUE".into()]], ..app(&format!("/a/{i}"), &cmd, 2) }
            })
            .collect();
        let judgement = run(&apps, 100).unwrap();
        assert_eq!(judgement.status(), Status::Fail, "10000 default sessions on 6123 and 8081");
    }
}
