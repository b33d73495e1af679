//! `marathon.queue`: No Marathon app is stuck waiting for offers.
//!
//! ## What it does
//! For each app waiting in `/v2/queue`, compares what one instance asks
//! (cpus, mem, disk, ports) with what the active agents have free
//! (`resources` minus `used_resources` in `/master/state`), within the
//! agents its constraints allow, and says which resource is short.
//!
//! ## Why is this bad?
//! An instance launches only from one agent's offer that covers all of it:
//! free resources spread over several agents do not add up, and an app that
//! asks more than any agent has waits forever.
//!
//! ## Fix safety
//! Scaling down or lowering a request redeploys the app (disruptive).

use std::fmt;

use serde_json::json;

use super::marathon_apps::{Eligible, active_agents, describe, eligible, update_app};
use super::marathon_port_collision::observed;
use super::{Check, CheckMeta, Explain, Judgement, Stop, Verdict, judged, required};
use crate::facts::marathon::{App, MarathonFacts, NetworkMode, QueueItem, RejectCount};
use crate::facts::mesos::{Agent, Resources};
use crate::facts::{Facts, Need};
use crate::remedy::{Cmd, Remedy};
use crate::report::{Finding, Status};

pub struct MarathonQueue;

static META: CheckMeta = CheckMeta {
    id: "marathon.queue",
    title: "No Marathon app is stuck waiting for offers",
    severity: Status::Warn,
    tags: &["marathon", "mesos"],
    source: "built-in",
    explain: Explain {
        what: "Apps (and pods) waiting in Marathon's /v2/queue: how many instances are still to launch, whether \
Marathon backs off after failed launches (delay) or waits for offers (overdue), and why it declined the offers it \
saw (processedOffersSummary, Marathon 1.4+: InsufficientCpus, InsufficientMemory, InsufficientDisk, \
InsufficientPorts, UnfulfilledConstraint, UnfulfilledRole, ...). Each app's request per instance (cpus, mem, disk, \
ports) is compared with every active agent's free resources (resources minus used_resources in the leading Mesos \
master's /master/state), on the agents its hostname constraints allow: does any agent fit one instance, how many \
instances fit in all, and which resource is short. Warns for every waiting app; fails when no eligible agent could \
run one instance even empty (the app asks more than any agent has in total).",
        why: "Mesos allocates with Dominant Resource Fairness: it offers each agent's free resources to the framework \
with the smallest share of its dominant resource (the one of cpus or mem it uses most of, relative to the cluster), \
and Marathon launches an instance only from one offer that covers all of it. Free memory split over three agents \
does not run an instance that needs it on one, and an app asking more than any agent has waits in the queue \
forever: the deployment never finishes, and blocks further deployments of the app.",
        fix: "Lower the request to what an agent has free (PUT {\"mem\": M} or {\"cpus\": C}), scale the app down to \
the instances that fit (PUT {\"instances\": N}), or add agents (or free resources on them). Once the cause is fixed, \
DELETE /v2/queue/ID/delay ends a back-off after failed launches at once.",
        risk: "Changing an app's request or instance count starts a deployment that restarts its instances \
(disruptive); an instance given too little memory is OOM-killed. Scaling down stops instances. Resetting the \
launch delay only lets Marathon try again now.",
        references: &[
            "REFERENCE.md, the deployment (Dominant Resource Fairness, Marathon's queue)",
            "Marathon REST API: GET /v2/queue, DELETE /v2/queue/{app_id}/delay, PUT /v2/apps/{app_id}",
            "https://mesos.apache.org/documentation/latest/app-framework-development-guide/ (offers)",
            "Ghodsi et al., Dominant Resource Fairness: Fair Allocation of Multiple Resource Types (NSDI 2011)",
        ],
    },
};

impl Check for MarathonQueue {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn needs(&self) -> &[Need] {
        &[Need::Marathon, Need::Mesos]
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let marathon = required(&facts.marathon, "Marathon facts")?;
        let queue = observed(&marathon.queue, "Marathon's queue")?;
        if queue.is_empty() {
            return Ok(Judgement::pass(format!("{}/v2/queue is empty: no app waits for offers", marathon.url)));
        }
        let unknown = |reason: String| {
            format!("{} wait in Marathon's queue, but the agents' resources are unknown: {reason}", waiting(queue))
        };
        let mesos = required(&facts.mesos, "Mesos facts").map_err(|stop| match stop {
            Stop::Skip(reason) => Stop::Skip(unknown(reason)),
            Stop::Error(reason) => Stop::Error(unknown(reason)),
        })?;
        let state = mesos.state.value().ok_or_else(|| Stop::Error(unknown(problem(&mesos.state))))?;
        let agents = active_agents(state);
        let mut undecided = Vec::new();
        let findings = queue.iter().map(|item| judge_item(marathon, item, &agents, &mut undecided)).collect();
        let note = format!("{} in Marathon's queue; {} active agents", waiting(queue), agents.len());
        judged(findings, undecided, note)
    }
}

fn problem<T>(fact: &crate::facts::Fact<T>) -> String {
    fact.problem().unwrap_or_default().to_string()
}

fn waiting(queue: &[QueueItem]) -> String {
    match queue.len() {
        1 => "1 app".into(),
        n => format!("{n} apps"),
    }
}

/// The resources Marathon asks of an offer for one instance.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Amounts {
    cpus: f64,
    /// MB.
    mem: f64,
    /// MB.
    disk: f64,
    ports: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resource {
    Cpus,
    Mem,
    Disk,
    Ports,
}

const RESOURCES: [Resource; 4] = [Resource::Cpus, Resource::Mem, Resource::Disk, Resource::Ports];

impl Resource {
    fn of(self, a: &Amounts) -> f64 {
        match self {
            Resource::Cpus => a.cpus,
            Resource::Mem => a.mem,
            Resource::Disk => a.disk,
            Resource::Ports => a.ports,
        }
    }

    /// `1.5 cpus`, `512 MB mem`.
    fn show(self, amount: f64) -> String {
        let amount = (amount * 1000.0).round() / 1000.0;
        match self {
            Resource::Cpus => format!("{amount} cpus"),
            Resource::Mem => format!("{amount} MB mem"),
            Resource::Disk => format!("{amount} MB disk"),
            Resource::Ports => format!("{amount} ports"),
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resource::Cpus => "cpus",
            Resource::Mem => "mem",
            Resource::Disk => "disk",
            Resource::Ports => "ports",
        })
    }
}

impl Amounts {
    fn of(r: &Resources) -> Self {
        Amounts { cpus: r.cpus, mem: r.mem, disk: r.disk, ports: f64::from(r.ports.count()) }
    }

    fn free(agent: &Agent) -> Self {
        let (total, used) = (Amounts::of(&agent.resources), Amounts::of(&agent.used_resources));
        Amounts {
            cpus: (total.cpus - used.cpus).max(0.0),
            mem: (total.mem - used.mem).max(0.0),
            disk: (total.disk - used.disk).max(0.0),
            ports: (total.ports - used.ports).max(0.0),
        }
    }

    /// What one instance of `app` takes from an offer.
    fn request(app: &App) -> Self {
        let ports = match app.network {
            NetworkMode::Host => app.port_definitions.len(),
            NetworkMode::Bridge => app.port_mappings.len(),
            _ => 0,
        };
        Amounts { cpus: app.cpus, mem: app.mem, disk: app.disk, ports: ports as f64 }
    }

    /// How many instances asking `request` fit in these amounts (`cap` when
    /// the request is empty).
    fn holds(&self, request: &Amounts, cap: u64) -> u64 {
        RESOURCES
            .iter()
            .filter(|r| r.of(request) > 0.0)
            .map(|r| ((r.of(self) + 1e-9) / r.of(request)).floor() as u64)
            .min()
            .unwrap_or(cap)
            .min(cap)
    }
}

/// The fixed host ports one instance requires (`requirePorts`).
fn required_ports(app: &App) -> Vec<u16> {
    match app.network {
        NetworkMode::Host if app.require_ports => {
            app.port_definitions.iter().map(|d| d.port).filter(|&p| p != 0).collect()
        }
        NetworkMode::Bridge => app.port_mappings.iter().map(|m| m.host_port).filter(|&p| p != 0).collect(),
        _ => Vec::new(),
    }
}

/// What the agents can do for one queued app.
struct Fit {
    request: Amounts,
    /// Host ports every instance requires (`requirePorts`, fixed mapped ports).
    required: Vec<u16>,
    /// Whether some eligible agent's ports resource holds all of them.
    required_offered: bool,
    eligible: Eligible,
    /// Instances the eligible agents' free resources hold now (up to the count waiting).
    now: u64,
    /// Whether any eligible agent, empty, could run one instance.
    ever: bool,
    /// Per resource the request needs: the most free on one eligible agent, and in all.
    short: Vec<(Resource, f64, f64)>,
}

fn fit(app: &App, waiting: u32, agents: &[&Agent]) -> Result<Fit, String> {
    let eligible = eligible(&app.constraints, agents)?;
    let request = Amounts::request(app);
    let required = required_ports(app);
    let per_host = eligible.per_host.map_or(u64::from(waiting), u64::from);
    let on = |agent: &Agent, amounts: Amounts, free_ports_only: bool| {
        let has_ports = required.iter().all(|&p| {
            agent.resources.ports.contains(p) && !(free_ports_only && agent.used_resources.ports.contains(p))
        });
        if has_ports { amounts.holds(&request, per_host) } else { 0 }
    };
    let chosen: Vec<&Agent> = eligible.agents.iter().map(|&i| agents[i]).collect();
    let now = chosen.iter().map(|a| on(a, Amounts::free(a), true)).sum::<u64>().min(u64::from(waiting));
    let ever = chosen.iter().any(|a| on(a, Amounts::of(&a.resources), false) > 0);
    let required_offered = chosen.iter().any(|a| required.iter().all(|&p| a.resources.ports.contains(p)));
    let short = RESOURCES
        .iter()
        .filter(|r| r.of(&request) > 0.0 && !chosen.is_empty())
        .map(|&r| {
            let free: Vec<f64> = chosen.iter().map(|a| r.of(&Amounts::free(a))).collect();
            (r, free.iter().copied().fold(0.0, f64::max), free.iter().fold(0.0, |sum, f| sum + f))
        })
        .filter(|&(r, best, _)| best + 1e-9 < r.of(&request))
        .collect();
    Ok(Fit { request, required, required_offered, eligible, now, ever, short })
}

fn judge_item(marathon: &MarathonFacts, item: &QueueItem, agents: &[&Agent], undecided: &mut Vec<String>) -> Finding {
    let Some(app) = &item.app else {
        let pod = item.pod_id.as_deref().unwrap_or("(unnamed pod)");
        let finding = Finding::new(Status::Warn, format!("pod {pod}"), format!("{} for offers", waits(item.count)));
        return queue_evidence(finding, item);
    };
    let fit = match fit(app, item.count, agents) {
        Ok(fit) => fit,
        Err(e) => {
            undecided.push(format!("app {}: {e}", app.id));
            let finding =
                Finding::new(Status::Warn, format!("app {}", app.id), format!("{} for offers", waits(item.count)));
            return queue_evidence(finding, item);
        }
    };
    let (status, message) = verdict(item.count, &fit, agents.len());
    let mut finding = Finding::new(status, format!("app {}", app.id), message)
        .evidence(format!(
            "request per instance: {}; {} configured, {} still to launch",
            show_request(&fit.request),
            app.instances,
            item.count
        ))
        .evidence(eligible_line(app, &fit.eligible, agents.len()));
    for &(r, best, all) in &fit.short {
        finding = finding.evidence(format!(
            "{r}: the most free on one agent is {}, {} free on all eligible agents together (an instance cannot \
             span agents)",
            r.show(best),
            r.show(all)
        ));
    }
    finding = queue_evidence(finding, item);
    for remedy in remedies(marathon, app, item, &fit) {
        finding = finding.fix(remedy);
    }
    finding
}

fn verdict(waiting: u32, fit: &Fit, agent_count: usize) -> (Status, String) {
    let short: Vec<String> = fit.short.iter().map(|(r, _, _)| r.to_string()).collect();
    let drf = "Mesos offers one agent's free resources at a time, by Dominant Resource Fairness, and an instance \
               launches only from an offer that covers all of it";
    if fit.eligible.agents.is_empty() {
        let message = format!(
            "{}, but no active agent is eligible ({agent_count} active; the constraints exclude them all)",
            waits(waiting)
        );
        return (Status::Fail, message);
    }
    if !fit.ever {
        let why = match fit.required_offered {
            false => {
                let ports: Vec<String> = fit.required.iter().map(u16::to_string).collect();
                format!("it requires host ports {}, which no eligible agent's ports resource holds", ports.join(", "))
            }
            true => format!("one instance asks {}, more than any of them has", show_request(&fit.request)),
        };
        let message =
            format!("{}, but no eligible agent could run one even with nothing else on it: {why}", waits(waiting));
        return (Status::Fail, message);
    }
    let message = match fit.now {
        0 if short.is_empty() => format!(
            "{}: no eligible agent has the required ports free for one (the other resources are there)",
            waits(waiting)
        ),
        0 => format!("{}: no eligible agent has the {} free for one; {drf}", waits(waiting), short.join(" and ")),
        n if n < u64::from(waiting) => {
            format!("{} and the free resources hold only {n} of them; {drf}", waits(waiting))
        }
        _ => format!(
            "{} although the eligible agents have the resources free: the offers were declined for other reasons \
             (below), or Mesos offers them to other frameworks first (Dominant Resource Fairness)",
            waits(waiting)
        ),
    };
    (Status::Warn, message)
}

fn remedies(marathon: &MarathonFacts, app: &App, item: &QueueItem, fit: &Fit) -> Vec<Remedy> {
    let mut remedies = Vec::new();
    let running = u64::from(app.instances.saturating_sub(item.count));
    let target = running + fit.now;
    if target > 0 && target < u64::from(app.instances) {
        remedies.push(update_app(
            marathon,
            &app.id,
            &json!({ "instances": target }),
            format!(
                "{}: those running ({running}) and those the free resources hold ({}); or add agents and keep {}",
                instances(target as u32),
                fit.now,
                app.instances
            ),
        ));
    }
    if fit.now == 0 && !fit.short.is_empty() && fit.short.iter().all(|&(_, best, _)| best > 0.0) {
        let lowered: serde_json::Map<String, serde_json::Value> = fit
            .short
            .iter()
            .filter(|(r, _, _)| *r != Resource::Ports)
            .map(|&(r, best, _)| (r.to_string(), json!((best * 1000.0).floor() / 1000.0)))
            .collect();
        if lowered.len() == fit.short.len() {
            let shown: Vec<String> = lowered.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let consequence = match lowered.contains_key("mem") {
                true => "an instance that needs more memory is OOM-killed",
                false => "each instance gets less CPU time",
            };
            remedies.push(update_app(
                marathon,
                &app.id,
                &serde_json::Value::Object(lowered),
                format!(
                    "asks only {} per instance, what the best eligible agent has free; only if the app can run with \
                     that ({consequence}); Marathon restarts every instance",
                    shown.join(", ")
                ),
            ));
        }
    }
    if item.delay.as_ref().is_some_and(|d| !d.overdue && d.time_left_seconds > 0.0) {
        let slash = if app.id.starts_with('/') { "" } else { "/" };
        remedies.push(
            Cmd::new("curl")
                .word("-X DELETE")
                .value(format!("{}/v2/queue{slash}{}/delay", marathon.url, app.id))
                .safe()
                .with_note("ends the back-off after failed launches now; run it once the cause is fixed"),
        );
    }
    remedies
}

fn instances(n: u32) -> String {
    if n == 1 { "1 instance".into() } else { format!("{n} instances") }
}

/// `1 instance waits`, `2 instances wait`.
fn waits(n: u32) -> String {
    if n == 1 { "1 instance waits".into() } else { format!("{n} instances wait") }
}

fn show_request(request: &Amounts) -> String {
    let parts: Vec<String> = RESOURCES.iter().map(|r| r.show(r.of(request))).collect();
    parts.join(", ")
}

fn eligible_line(app: &App, eligible: &Eligible, agent_count: usize) -> String {
    let mut line = format!("eligible agents: {} of {agent_count} active", eligible.agents.len());
    if !app.constraints.is_empty() {
        let constraints: Vec<String> = app.constraints.iter().map(|c| describe(c)).collect();
        line.push_str(&format!(" (constraints {})", constraints.join(", ")));
    }
    if !eligible.unread.is_empty() {
        line.push_str(&format!(
            "; constraints on agent attributes are not applied ({}): the eligible agents may be fewer",
            eligible.unread.join(", ")
        ));
    }
    line
}

/// The queue's own account: back-off, since when, and why offers were declined.
fn queue_evidence(mut finding: Finding, item: &QueueItem) -> Finding {
    match &item.delay {
        Some(d) if !d.overdue && d.time_left_seconds > 0.0 => {
            finding = finding.evidence(format!(
                "delay: backed off after failed launches, next attempt in {:.0} s",
                d.time_left_seconds
            ));
        }
        Some(_) => finding = finding.evidence("delay: none (overdue: waiting for offers)"),
        None => {}
    }
    if let Some(since) = &item.since {
        finding = finding.evidence(format!("waiting since {since}"));
    }
    if let Some(offers) = &item.offers {
        let mut line = format!("offers: {} processed, {} unused", offers.processed, offers.unused);
        let declined = declined(&offers.last_offers).or_else(|| declined(&offers.launch_attempt));
        if let Some(declined) = declined {
            line.push_str(&format!("; declined for {declined}"));
        }
        finding = finding.evidence(line);
    }
    finding
}

/// `InsufficientCpus 75 of 123, InsufficientMemory 15 of 48`, or None when none was declined.
fn declined(counts: &[RejectCount]) -> Option<String> {
    let parts: Vec<String> = counts
        .iter()
        .filter(|c| c.declined > 0)
        .map(|c| format!("{} {} of {}", String::from(c.reason.clone()), c.declined, c.processed))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::mesos::{PortRange, PortRanges};

    fn agent(name: &str, cpus: f64, mem: f64, used_cpus: f64, used_mem: f64) -> Agent {
        let ports = PortRanges(vec![PortRange { begin: 31000, end: 31002 }]);
        Agent {
            id: name.into(),
            hostname: name.into(),
            active: true,
            resources: Resources { cpus, mem, disk: 1000.0, ports },
            used_resources: Resources { cpus: used_cpus, mem: used_mem, ..Resources::default() },
            ..Agent::default()
        }
    }

    fn app(cpus: f64, mem: f64, instances: u32) -> App {
        App { id: "/a".into(), cpus, mem, instances, ..App::default() }
    }

    #[test]
    fn instances_fit_by_their_scarcest_resource() {
        let free = Amounts { cpus: 2.0, mem: 1000.0, disk: 0.0, ports: 3.0 };
        assert_eq!(free.holds(&Amounts { cpus: 0.5, mem: 300.0, ..Amounts::default() }, 10), 3);
        assert_eq!(free.holds(&Amounts { cpus: 0.1, mem: 10.0, disk: 1.0, ports: 0.0 }, 10), 0, "no disk");
        assert_eq!(free.holds(&Amounts { cpus: 0.7, ..Amounts::default() }, 10), 2);
        assert_eq!(free.holds(&Amounts { cpus: 0.1, ..Amounts::default() }, 4), 4, "capped");
        assert_eq!(free.holds(&Amounts::default(), 7), 7, "an empty request fits the cap");
        let floats = Amounts { cpus: 0.3, ..Amounts::default() };
        assert_eq!(floats.holds(&Amounts { cpus: 0.1, ..Amounts::default() }, 10), 3, "0.3 / 0.1 is 3");
    }

    #[test]
    fn free_resources_split_over_agents_do_not_add_up() {
        let owned = [agent("n1", 4.0, 8192.0, 3.0, 6144.0), agent("n2", 4.0, 8192.0, 3.0, 6144.0)];
        let agents: Vec<&Agent> = owned.iter().collect();
        let fit = fit(&app(1.0, 3000.0, 1), 1, &agents).unwrap();
        assert_eq!((fit.now, fit.ever), (0, true));
        assert_eq!(fit.short, [(Resource::Mem, 2048.0, 4096.0)]);
        let small = super::fit(&app(0.5, 1024.0, 5), 5, &agents).unwrap();
        assert_eq!(small.now, 4, "two per agent: cpus 1 free each");
        let unique = App { constraints: vec![vec!["hostname".into(), "UNIQUE".into()]], ..app(0.5, 1024.0, 5) };
        assert_eq!(super::fit(&unique, 5, &agents).unwrap().now, 2, "one per host");
    }

    #[test]
    fn required_ports_must_be_offered_and_free() {
        let mut owned = agent("n1", 4.0, 8192.0, 0.0, 0.0);
        owned.used_resources.ports = PortRanges(vec![PortRange { begin: 31000, end: 31000 }]);
        let agents = [&owned];
        let needs = |port| App {
            network: NetworkMode::Host,
            require_ports: true,
            port_definitions: vec![crate::facts::marathon::PortDefinition {
                port,
                protocol: Default::default(),
                name: None,
            }],
            ..app(0.1, 10.0, 1)
        };
        let taken = fit(&needs(31000), 1, &agents).unwrap();
        assert_eq!((taken.now, taken.ever, taken.required_offered), (0, true, true));
        let absent = fit(&needs(80), 1, &agents).unwrap();
        assert_eq!((absent.now, absent.ever, absent.required_offered), (0, false, false));
        assert_eq!(fit(&needs(31001), 1, &agents).unwrap().now, 1);
    }
}
