//! `marathon.queue`: No Marathon app is stuck waiting for offers.
//!
//! What it looks for, why it matters, how to fix it and the risk of the fix
//! are its `META.explain`, the one text `clusterdoc explain` shows.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use serde_json::json;

use super::{Check, CheckMeta, Explain, Conclusion, NotJudged, Verdict, conclude, observed, required};
use crate::facts::marathon::{App, MarathonFacts, NetworkMode, QueueItem, RejectCount};
use crate::facts::mesos::{Agent, Resources};
use crate::facts::{Facts, Need};
use crate::remedy::{Cmd, Remedy};
use crate::report::{Finding, Scope, Status};
use crate::scheduling::tally::{Reason, Tally};
use crate::scheduling::{Eligible, active_agents, app_url, describe, eligible, offers_roles, update_app};

pub struct MarathonQueue;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("marathon.queue"),
    title: Cow::Borrowed("No Marathon app is stuck waiting for offers"),
    severity: Status::Warn,
    needs: &[Need::Marathon, Need::Mesos],
    tags: texts!["marathon", "mesos"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("Apps (and pods) waiting in Marathon's /v2/queue, and the instances of apps proposed with --app \
FILE as if they had just been POSTed (a proposed app whose instances the free resources hold passes): how many instances are still to launch, whether \
Marathon backs off after failed launches (delay) or waits for offers (overdue), and why it declined the offers it \
saw (processedOffersSummary, Marathon 1.4+: InsufficientCpus, InsufficientMemory, InsufficientDisk, \
InsufficientPorts, UnfulfilledConstraint, UnfulfilledRole, ...). Each app's request per instance (cpus, mem, disk, \
ports) is compared with every active agent's free resources (resources minus used_resources in the leading Mesos \
master's /master/state), on the agents its hostname constraints allow: does any agent fit one instance, how many \
instances fit in all, and which resource is short. Warns for every waiting app; fails when no eligible agent could \
run one instance even empty (the app asks more than any agent has in total). When no agent can take an instance \
now, the finding counts why, agent by agent, as the Kubernetes scheduler does (\"0/50 agents can take /flink/flink2: \
30 insufficient mem, 12 role mismatch, 8 port 6123 taken\"; an agent short of several things counts under each): \
excluded by constraints, role mismatch (the app's acceptedResourceRoles name no role the agent has resources \
reserved for, and not *), a required port not offered or in use, too little of a resource free."),
        why: Cow::Borrowed("Mesos allocates with Dominant Resource Fairness: it offers each agent's free resources to the framework \
with the smallest share of its dominant resource (the one of cpus or mem it uses most of, relative to the cluster), \
and Marathon launches an instance only from one offer that covers all of it. Free memory split over three agents \
does not run an instance that needs it on one, and an app asking more than any agent has waits in the queue \
forever: the deployment never finishes, and blocks further deployments of the app."),
        fix: Cow::Borrowed("Lower the request to what an agent has free (PUT {\"mem\": M} or {\"cpus\": C}), scale the app down to \
the instances that fit (PUT {\"instances\": N}), or add agents (or free resources on them). Once the cause is fixed, \
DELETE /v2/queue/ID/delay ends a back-off after failed launches at once."),
        risk: Cow::Borrowed("Changing an app's request or instance count starts a deployment that restarts its instances \
(disruptive); an instance given too little memory is OOM-killed. Scaling down stops instances. Resetting the \
launch delay only lets Marathon try again now."),
        references: texts![
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

    fn run(&self, facts: &Facts) -> Verdict {
        let marathon = required(&facts.marathon, "Marathon facts")?;
        let queue = &with_proposed(marathon, observed(&marathon.queue, "Marathon's queue")?);
        if queue.is_empty() {
            return Ok(Conclusion::pass(format!("{}/v2/queue is empty: no app waits for offers", marathon.url)));
        }
        let unknown = |reason: String| {
            format!("{} wait in Marathon's queue, but the agents' resources are unknown: {reason}", waiting(queue))
        };
        let mesos = required(&facts.mesos, "Mesos facts").map_err(|stop| match stop {
            NotJudged::Skip(reason) => NotJudged::Skip(unknown(reason)),
            NotJudged::Error(reason) => NotJudged::Error(unknown(reason)),
        })?;
        let state = mesos.state.value().ok_or_else(|| NotJudged::Error(unknown(problem(&mesos.state))))?;
        let agents = active_agents(state);
        let mut judge = Judge::new(&agents, queue.iter().map(|item| item.count).max().unwrap_or(0));
        let mut undecided = Vec::new();
        let findings = queue.iter().filter_map(|item| judge_item(marathon, item, &mut judge, &mut undecided)).collect();
        let proposed = queue.iter().filter(|item| item.app.as_ref().is_some_and(|a| a.proposed.is_some())).count();
        let note = match proposed {
            0 => format!("{} in Marathon's queue; {} active agents", waiting(queue), agents.len()),
            n => format!("{} to launch ({n} proposed with --app); {} active agents", waiting(queue), agents.len()),
        };
        conclude(findings, undecided, note)
    }
}

/// The queue as if the apps proposed with `--app` were deployed: all their
/// instances wait to launch (in place of a queued app of the same id).
fn with_proposed(marathon: &MarathonFacts, queue: &[QueueItem]) -> Vec<QueueItem> {
    let proposed: Vec<&App> =
        marathon.apps.value().into_iter().flatten().filter(|app| app.proposed.is_some() && app.instances > 0).collect();
    let replaced = |item: &QueueItem| item.app.as_ref().is_some_and(|a| proposed.iter().any(|p| p.id == a.id));
    let launching = proposed.iter().map(|&app| QueueItem {
        app: Some(app.clone()),
        pod_id: None,
        count: app.instances,
        delay: None,
        since: None,
        offers: None,
    });
    queue.iter().filter(|item| !replaced(item)).cloned().chain(launching).collect()
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

/// Slack for sums of fractional cpus (0.1 + 0.2 is not 0.3).
const EPSILON: f64 = 1e-9;

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
    fn name(self) -> &'static str {
        match self {
            Resource::Cpus => "cpus",
            Resource::Mem => "mem",
            Resource::Disk => "disk",
            Resource::Ports => "ports",
        }
    }

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
        f.write_str(self.name())
    }
}

impl Amounts {
    fn of(r: &Resources) -> Self {
        Amounts { cpus: r.cpus, mem: r.mem, disk: r.disk, ports: f64::from(r.ports.count()) }
    }

    fn free(agent: &Agent) -> Self {
        let (total, used) = (Amounts::of(&agent.resources), Amounts::of(&agent.used_resources));
        Amounts::each(|r| (r.of(&total) - r.of(&used)).max(0.0))
    }

    fn each(f: impl Fn(Resource) -> f64) -> Self {
        Amounts { cpus: f(Resource::Cpus), mem: f(Resource::Mem), disk: f(Resource::Disk), ports: f(Resource::Ports) }
    }

    /// Per resource, the larger of the two.
    fn most(&self, other: &Amounts) -> Self {
        Amounts::each(|r| r.of(self).max(r.of(other)))
    }

    fn sum(&self, other: &Amounts) -> Self {
        Amounts::each(|r| r.of(self) + r.of(other))
    }

    fn bits(&self) -> [u64; 4] {
        RESOURCES.map(|r| r.of(self).to_bits())
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
            .map(|r| ((r.of(self) + EPSILON) / r.of(request)).floor() as u64)
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

/// What the agents can do for one shape of app: a request, its constraints
/// and the host ports it requires. Judged once per shape: big Marathons run
/// thousands of apps of a few shapes.
struct Fit {
    request: Amounts,
    /// Host ports every instance requires (`requirePorts`, fixed mapped ports).
    required: Vec<u16>,
    /// Whether some eligible agent's ports resource holds all of them.
    required_offered: bool,
    candidates: Rc<Candidates>,
    /// Instances the eligible agents' free resources hold now, counted up to
    /// the most any queued app waits for.
    holds: u64,
    /// Whether any eligible agent, empty, could run one instance.
    ever: bool,
    /// Per resource the request needs: the most free on one eligible agent, and in all.
    short: Vec<(Resource, f64, f64)>,
    /// When no agent holds an instance now: why, agent by agent, counted.
    tally: Option<Tally>,
}

impl Fit {
    /// Instances of an app waiting for `waiting` that the free resources hold now.
    fn now(&self, waiting: u32) -> u64 {
        self.holds.min(u64::from(waiting))
    }
}

/// One agent's free and total resources.
#[derive(Clone, Copy, Debug, Default)]
struct Held {
    free: Amounts,
    total: Amounts,
}

impl Held {
    fn of(agent: &Agent) -> Self {
        Held { free: Amounts::free(agent), total: Amounts::of(&agent.resources) }
    }

    fn free(&self) -> &Amounts {
        &self.free
    }

    fn total(&self) -> &Amounts {
        &self.total
    }

    fn most(&self, other: &Held) -> Self {
        Held { free: self.free.most(&other.free), total: self.total.most(&other.total) }
    }
}

/// Agents per block of the index: small enough to skip much, large enough
/// that the blocks' maxima are few.
const BLOCK: usize = 32;

/// The agents an app's constraints allow, indexed by their resources:
/// ordered by free cpus then memory, so that agents alike share a block, in
/// blocks with their per-resource maxima, so that a request skips every
/// block whose maxima fall short of it. On a fragmented cluster (cpus free
/// here, memory there) most blocks are skipped unread.
struct Candidates {
    /// The agents the constraints and the accepted roles allow.
    eligible: Eligible,
    /// Active agents the constraints exclude, and of the others those
    /// without resources of a role the app accepts.
    excluded: [(Reason, usize); 2],
    /// Per resource, the eligible agents' free amounts, ascending: sorted
    /// only once an app of these rules fits nowhere (a healthy queue never
    /// needs it).
    free_sorted: OnceCell<[Vec<f64>; 4]>,
    /// Per required port: the eligible agents that do not offer it, and
    /// those where it is in use. Counted when first asked.
    port_counts: RefCell<HashMap<u16, (usize, usize)>>,
    /// The eligible agents, in index order.
    order: Vec<usize>,
    /// Per block of `order`, the most one of its agents has, per resource.
    block_most: Vec<Held>,
    /// Per resource, the most one eligible agent has.
    most: Held,
    /// Per resource, what the eligible agents have free together.
    all_free: Amounts,
}

impl Candidates {
    fn new(mut eligible: Eligible, agents: &[&Agent], roles: &[String], held: &[Held]) -> Self {
        let allowed = eligible.agents.len();
        eligible.agents.retain(|&i| offers_roles(roles, agents[i]));
        let excluded =
            [(Reason::Constraints, agents.len() - allowed), (Reason::RoleMismatch, allowed - eligible.agents.len())];
        let mut order = eligible.agents.clone();
        order.sort_by(|&a, &b| {
            let (a, b) = (&held[a].free, &held[b].free);
            b.cpus.total_cmp(&a.cpus).then(b.mem.total_cmp(&a.mem))
        });
        let block_most: Vec<Held> = order
            .chunks(BLOCK)
            .map(|block| block.iter().fold(Held::default(), |most, &i| most.most(&held[i])))
            .collect();
        let most = block_most.iter().fold(Held::default(), |most, block| most.most(block));
        let all_free = order.iter().fold(Amounts::default(), |sum, &i| sum.sum(&held[i].free));
        Candidates {
            eligible,
            excluded,
            free_sorted: OnceCell::new(),
            port_counts: RefCell::default(),
            order,
            block_most,
            most,
            all_free,
        }
    }

    /// How many eligible agents have less than `amount` of `resource` free.
    fn short_of(&self, resource: Resource, amount: f64, held: &[Held]) -> usize {
        let sorted = self.free_sorted.get_or_init(|| {
            RESOURCES.map(|r| {
                let mut free: Vec<f64> = self.eligible.agents.iter().map(|&i| r.of(&held[i].free)).collect();
                free.sort_unstable_by(f64::total_cmp);
                free
            })
        });
        sorted[resource as usize].partition_point(|&have| have + EPSILON < amount)
    }

    /// Of the eligible agents: those whose ports resource lacks `port`, and
    /// those where it is in use.
    fn port_counts(&self, port: u16, agents: &[&Agent]) -> (usize, usize) {
        *self.port_counts.borrow_mut().entry(port).or_insert_with(|| {
            let (mut absent, mut taken) = (0, 0);
            for &i in &self.eligible.agents {
                if !agents[i].resources.ports.contains(port) {
                    absent += 1;
                } else if agents[i].used_resources.ports.contains(port) {
                    taken += 1;
                }
            }
            (absent, taken)
        })
    }

    /// The eligible agents whose `side` (free or total resources) holds one
    /// instance asking `request`.
    fn holding<'s>(
        &'s self,
        held: &'s [Held],
        request: &'s Amounts,
        side: fn(&Held) -> &Amounts,
    ) -> impl Iterator<Item = usize> + 's {
        self.order
            .chunks(BLOCK)
            .zip(&self.block_most)
            .filter(move |(_, most)| side(most).holds(request, 1) > 0)
            .flat_map(|(block, _)| block.iter().copied())
            .filter(move |&i| side(&held[i]).holds(request, 1) > 0)
    }
}

/// The key of a memoized [`Fit`]: amounts as bits, so it hashes.
#[derive(PartialEq, Eq, Hash)]
struct Shape<'a> {
    request: [u64; 4],
    rules: Rules<'a>,
    required: Vec<u16>,
}

/// What narrows an app's agents: its constraints and accepted roles.
type Rules<'a> = (&'a [Vec<String>], &'a [String]);

/// Judges queued apps against the active agents: each agent's resources are
/// worked out once, each set of constraints indexed once and each app
/// shape judged once.
struct Judge<'a> {
    agents: &'a [&'a Agent],
    /// Per active agent.
    held: Vec<Held>,
    /// The most instances any queued app waits for: counting stops there.
    bound: u64,
    candidates: HashMap<Rules<'a>, Result<Rc<Candidates>, String>>,
    fits: HashMap<Shape<'a>, Rc<Fit>>,
}

impl<'a> Judge<'a> {
    fn new(agents: &'a [&'a Agent], bound: u32) -> Self {
        Judge {
            agents,
            held: agents.iter().map(|a| Held::of(a)).collect(),
            bound: u64::from(bound),
            candidates: HashMap::new(),
            fits: HashMap::new(),
        }
    }

    fn fit(&mut self, app: &'a App) -> Result<Rc<Fit>, String> {
        let request = Amounts::request(app);
        let rules = (app.constraints.as_slice(), app.accepted_resource_roles.as_slice());
        let shape = Shape { request: request.bits(), rules, required: required_ports(app) };
        if let Some(fit) = self.fits.get(&shape) {
            return Ok(Rc::clone(fit));
        }
        let candidates = self.candidates(rules)?;
        let fit = Rc::new(self.judge_shape(request, shape.required.clone(), candidates));
        self.fits.insert(shape, Rc::clone(&fit));
        Ok(fit)
    }

    fn candidates(&mut self, rules: Rules<'a>) -> Result<Rc<Candidates>, String> {
        if let Some(known) = self.candidates.get(&rules) {
            return known.clone();
        }
        let (constraints, roles) = rules;
        let made = eligible(constraints, self.agents)
            .map(|eligible| Rc::new(Candidates::new(eligible, self.agents, roles, &self.held)));
        self.candidates.insert(rules, made.clone());
        made
    }

    /// Why no agent holds an instance asking `request` now, agent by agent:
    /// by binary search per resource and once per port, so a cluster of
    /// 10,000 agents is not walked per shape.
    fn tally(&self, request: &Amounts, required: &[u16], candidates: &Candidates) -> Tally {
        let mut tally = Tally::new(self.agents.len(), 0);
        for (reason, agents) in candidates.excluded {
            tally.add(reason, agents);
        }
        for &port in required {
            let (absent, taken) = candidates.port_counts(port, self.agents);
            tally.add(Reason::PortNotOffered(port), absent);
            tally.add(Reason::PortTaken(port), taken);
        }
        for r in RESOURCES.into_iter().filter(|r| r.of(request) > 0.0) {
            tally.add(Reason::Insufficient(r.name()), candidates.short_of(r, r.of(request), &self.held));
        }
        tally
    }

    fn judge_shape(&self, request: Amounts, required: Vec<u16>, candidates: Rc<Candidates>) -> Fit {
        let offers = |i: usize| required.iter().all(|&p| self.agents[i].resources.ports.contains(p));
        let has_free = |i: usize| required.iter().all(|&p| !self.agents[i].used_resources.ports.contains(p));
        let short: Vec<(Resource, f64, f64)> = RESOURCES
            .iter()
            .filter(|r| r.of(&request) > 0.0 && !candidates.order.is_empty())
            .map(|&r| (r, r.of(&candidates.most.free), r.of(&candidates.all_free)))
            .filter(|&(r, most, _)| most + EPSILON < r.of(&request))
            .collect();
        let cap = candidates.eligible.per_host.map_or(self.bound, u64::from).min(self.bound);
        let mut holds = 0;
        if short.is_empty() {
            let free = candidates.holding(&self.held, &request, Held::free);
            for i in free.filter(|&i| offers(i) && has_free(i)) {
                holds += self.held[i].free.holds(&request, cap);
                if holds >= self.bound {
                    break;
                }
            }
        }
        let ever = candidates.holding(&self.held, &request, Held::total).any(offers);
        let required_offered = candidates.order.iter().any(|&i| offers(i));
        let tally = (holds == 0).then(|| self.tally(&request, &required, &candidates));
        Fit { request, required, required_offered, candidates, holds: holds.min(self.bound), ever, short, tally }
    }
}

/// What a queued app's wait says; none for a proposed app whose instances
/// the free resources hold (it would launch).
fn judge_item<'a>(
    marathon: &MarathonFacts,
    item: &'a QueueItem,
    judge: &mut Judge<'a>,
    undecided: &mut Vec<String>,
) -> Option<Finding> {
    let Some(app) = &item.app else {
        let pod = item.pod_id.as_deref().unwrap_or("(unnamed pod)");
        let finding = Finding::new(Status::Warn, format!("pod {pod}"), format!("{} for offers", waits(item.count)))
            .about(Scope::app(pod));
        return Some(queue_evidence(finding, item));
    };
    let fit = match judge.fit(app) {
        Ok(fit) => fit,
        Err(e) => {
            undecided.push(format!("{}: {e}", app.label()));
            let finding = Finding::new(Status::Warn, app.label(), format!("{} for offers", waits(item.count)))
                .about(Scope::app(&app.id));
            return Some(queue_evidence(finding, item));
        }
    };
    if app.proposed.is_some() && fit.now(item.count) >= u64::from(item.count) {
        return None;
    }
    let agent_count = judge.agents.len();
    let (status, message) = verdict(&app.id, item.count, &fit);
    let message = match app.proposed {
        Some(_) => format!("if deployed, {message}"),
        None => message,
    };
    let mut finding = Finding::new(status, app.label(), message)
        .about(Scope::app(&app.id))
        .evidence(format!(
            "request per instance: {}; {} configured, {} still to launch",
            show_request(&fit.request),
            app.instances,
            item.count
        ))
        .evidence(eligible_line(app, &fit.candidates.eligible, agent_count));
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
    Some(finding)
}

fn verdict(app_id: &str, waiting: u32, fit: &Fit) -> (Status, String) {
    let drf = "Mesos offers one agent's free resources at a time, by Dominant Resource Fairness, and an instance \
               launches only from an offer that covers all of it";
    // Set whenever no agent holds an instance now, as in every branch below but the last two.
    let tally = fit.tally.as_ref().map(|t| t.line(app_id)).unwrap_or_default();
    if fit.candidates.eligible.agents.is_empty() {
        return (Status::Fail, format!("{}, but no active agent is eligible: {tally}", waits(waiting)));
    }
    if !fit.ever {
        let why = match fit.required_offered {
            false => {
                let ports: Vec<String> = fit.required.iter().map(u16::to_string).collect();
                format!("it requires host ports {}, which no eligible agent's ports resource holds", ports.join(", "))
            }
            true => format!("one instance asks {}, more than any of them has", show_request(&fit.request)),
        };
        let message = format!(
            "{}, but no eligible agent could run one even with nothing else on it: {why}; {tally}",
            waits(waiting)
        );
        return (Status::Fail, message);
    }
    let message = match fit.now(waiting) {
        0 if fit.short.is_empty() => {
            format!("{}: {tally} (no eligible agent has all of it free at once)", waits(waiting))
        }
        0 => format!("{}: {tally}; {drf}", waits(waiting)),
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
    let now = fit.now(item.count);
    let target = running + now;
    if target > 0 && target < u64::from(app.instances) {
        remedies.push(update_app(
            marathon,
            app,
            &json!({ "instances": target }),
            format!(
                "{}: those running ({running}) and those the free resources hold ({}); or add agents and keep {}",
                instances(target as u32),
                now,
                app.instances
            ),
        ));
    }
    if now == 0 && !fit.short.is_empty() && fit.short.iter().all(|&(_, best, _)| best > 0.0) {
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
                app,
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
        remedies.push(
            Cmd::new("curl")
                .word("-X DELETE")
                .value(format!("{}/delay", app_url(marathon, "queue", &app.id)))
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
    if !app.accepted_resource_roles.is_empty() {
        let roles = serde_json::to_string(&app.accepted_resource_roles).unwrap_or_default();
        let only = match app.accepted_resource_roles.iter().any(|r| r == "*") {
            true => "unreserved resources and those reserved for them",
            false => "resources reserved for them only",
        };
        line.push_str(&format!(" (accepted roles {roles}: {only})"));
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

    /// Judges `app` waiting for `waiting` instances, as the check does.
    fn fit(app: &App, waiting: u32, agents: &[&Agent]) -> (u64, Rc<Fit>) {
        let fit = Judge::new(agents, waiting).fit(app).unwrap();
        (fit.now(waiting), fit)
    }

    #[test]
    fn free_resources_split_over_agents_do_not_add_up() {
        let owned = [agent("n1", 4.0, 8192.0, 3.0, 6144.0), agent("n2", 4.0, 8192.0, 3.0, 6144.0)];
        let agents: Vec<&Agent> = owned.iter().collect();
        let (now, big) = fit(&app(1.0, 3000.0, 1), 1, &agents);
        assert_eq!((now, big.ever), (0, true));
        assert_eq!(big.short, [(Resource::Mem, 2048.0, 4096.0)]);
        assert_eq!(fit(&app(0.5, 1024.0, 5), 5, &agents).0, 4, "two per agent: cpus 1 free each");
        let unique = App { constraints: vec![vec!["hostname".into(), "UNIQUE".into()]], ..app(0.5, 1024.0, 5) };
        assert_eq!(fit(&unique, 5, &agents).0, 2, "one per host");
        assert!(fit(&app(3.0, 100.0, 1), 1, &agents).1.ever, "4 cpus in all");
        assert!(!fit(&app(5.0, 100.0, 1), 1, &agents).1.ever, "more cpus than any agent has");
    }

    #[test]
    fn apps_of_one_shape_are_judged_once_and_counted_per_app() {
        let owned = [agent("n1", 4.0, 8192.0, 0.0, 0.0), agent("n2", 4.0, 8192.0, 3.0, 0.0)];
        let agents: Vec<&Agent> = owned.iter().collect();
        let (one, many) = (app(1.0, 100.0, 1), App { id: "/b".into(), ..app(1.0, 100.0, 9) });
        let mut judge = Judge::new(&agents, 9);
        let (first, second) = (judge.fit(&one).unwrap(), judge.fit(&many).unwrap());
        assert!(Rc::ptr_eq(&first, &second), "same request and constraints: one judgement");
        assert_eq!((first.now(1), second.now(9)), (1, 5), "4 on n1 and 1 on n2, capped by each app's wait");
        let other = judge.fit(&app(2.0, 100.0, 1)).unwrap();
        assert_eq!(other.now(9), 2, "another shape is judged afresh");
    }

    #[test]
    fn the_index_finds_the_one_agent_that_fits_among_many_that_do_not() {
        let mut owned: Vec<Agent> = (0..200)
            .map(|i| match i % 2 {
                0 => agent(&format!("cpu-{i}"), 8.0, 4096.0, 0.0, 4000.0),
                _ => agent(&format!("mem-{i}"), 8.0, 4096.0, 7.5, 0.0),
            })
            .collect();
        let (now, none) = fit(&app(1.0, 2048.0, 1), 1, &owned.iter().collect::<Vec<_>>());
        assert_eq!((now, none.ever, none.short.as_slice()), (0, true, &[][..]), "each resource is free somewhere");
        owned[137].used_resources = Resources::default();
        let (now, _) = fit(&app(1.0, 2048.0, 3), 3, &owned.iter().collect::<Vec<_>>());
        assert_eq!(now, 2, "agent 137, emptied, holds two by memory (4096 MB)");
    }

    proptest::proptest! {
        /// The index skips only agents that cannot hold an instance: the
        /// counts match looking at every agent.
        #[test]
        fn the_index_counts_as_looking_at_every_agent(
            resources in proptest::collection::vec((0u8..9, 0u8..9, 0u8..9, 0u8..9), 0..150),
            (cpus, mem) in (0u8..5, 0u8..5),
            waiting in 1u32..6,
            unique: bool,
        ) {
            let owned: Vec<Agent> = resources
                .iter()
                .enumerate()
                .map(|(i, &(c, m, uc, um))| {
                    let (c, m) = (f64::from(c.max(uc)), f64::from(m.max(um)) * 512.0);
                    agent(&format!("n{i}"), c, m, f64::from(uc), f64::from(um) * 512.0)
                })
                .collect();
            let agents: Vec<&Agent> = owned.iter().collect();
            let mut asked = app(f64::from(cpus) / 2.0, f64::from(mem) * 256.0, waiting);
            if unique {
                asked.constraints = vec![vec!["hostname".into(), "UNIQUE".into()]];
            }
            let (now, fit) = fit(&asked, waiting, &agents);
            let request = Amounts::request(&asked);
            let cap = if unique { 1 } else { u64::from(waiting) };
            let every: u64 = agents.iter().map(|a| Amounts::free(a).holds(&request, cap)).sum();
            proptest::prop_assert_eq!(now, every.min(u64::from(waiting)));
            let ever = agents.iter().any(|a| Amounts::of(&a.resources).holds(&request, 1) > 0);
            proptest::prop_assert_eq!(fit.ever, ever);
            // When none fits, each resource's count is the agents short of it, looked at one by one.
            if let Some(tally) = &fit.tally {
                for r in RESOURCES.into_iter().filter(|r| r.of(&request) > 0.0) {
                    let short = agents.iter().filter(|a| r.of(&Amounts::free(a)) + EPSILON < r.of(&request)).count();
                    let counted = tally.reasons().iter().find(|(why, _)| *why == Reason::Insufficient(r.name()));
                    proptest::prop_assert_eq!(counted.map_or(0, |&(_, n)| n), short);
                }
                proptest::prop_assert_eq!(now, 0);
            }
        }
    }

    /// The check on one queued app and one agent, with the Mesos state given.
    fn run_with(item: QueueItem, state: crate::facts::Fact<crate::facts::mesos::MesosState>) -> Verdict {
        use crate::facts::Fact;
        use crate::facts::mesos::{Leadership, MesosFacts};
        let marathon = MarathonFacts {
            url: "http://m1:8080".into(),
            info: Fact::unavailable("-"),
            leader: Fact::unavailable("-"),
            apps: Fact::observed(Vec::new()),
            queue: Fact::observed(vec![item]),
            deployments: Fact::observed(Vec::new()),
        };
        let mesos = MesosFacts { state, masters: Vec::new(), leadership: Leadership::default() };
        let facts =
            Facts { marathon: Some(Fact::observed(marathon)), mesos: Some(Fact::observed(mesos)), ..Facts::default() };
        MarathonQueue.run(&facts)
    }

    fn waiting(app: App) -> QueueItem {
        QueueItem { app: Some(app), count: 1, ..QueueItem::default() }
    }

    #[test]
    fn unknown_agent_resources_or_an_unreadable_constraint_are_errors_not_passes() {
        use crate::facts::Fact;
        use crate::facts::mesos::MesosState;
        let truncated =
            Fact::failed("Mesos master at http://m1:5050: /master/state: truncated JSON at line 1 column 90");
        let Err(NotJudged::Error(reason)) = run_with(waiting(app(1.0, 100.0, 1)), truncated) else {
            panic!("a queue judged without the agents' resources")
        };
        assert!(reason.contains("1 app wait in Marathon's queue, but the agents' resources are unknown"), "{reason}");
        assert!(reason.contains("truncated JSON"), "{reason}");
        let state = MesosState { agents: vec![agent("n1", 4.0, 8192.0, 0.0, 0.0)], ..MesosState::default() };
        let garbled =
            App { constraints: vec![vec!["hostname".into(), "LIKE".into(), "(".into()]], ..app(1.0, 100.0, 1) };
        let Err(NotJudged::Error(reason)) = run_with(waiting(garbled), Fact::observed(state)) else {
            panic!("an app whose constraint cannot be read was judged")
        };
        assert!(reason.starts_with("app /a: constraint pattern \"(\""), "{reason}");
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
        let (now, taken) = fit(&needs(31000), 1, &agents);
        assert_eq!((now, taken.ever, taken.required_offered), (0, true, true));
        let (now, absent) = fit(&needs(80), 1, &agents);
        assert_eq!((now, absent.ever, absent.required_offered), (0, false, false));
        assert_eq!(fit(&needs(31001), 1, &agents).0, 1);
    }
}
