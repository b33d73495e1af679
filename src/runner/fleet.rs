//! Judging a fleet (DESIGN.md C1): the cluster checks once, on the facts the
//! orchestrator gathered; each node check on every reached node's own facts
//! (put in place of the orchestrator's, with the cluster's beside them); and
//! for a node that was not reached, its node checks `error` there with the
//! reason. One report: findings name their node, node checks say their
//! status on each node in `by_node`.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::join_all;
use tokio::time::Instant;

use super::{FleetSink, MachinePacks, check_report, run_one};
use crate::checks::{Check, Conclusion, NotJudged};
use crate::facts::fleet::view::{FleetView, NodeView};
use crate::facts::fleet::{self, NodeRecord};
use crate::facts::marathon::App;
use crate::facts::{Fact, Facts, Inputs, Need};
use crate::remedy::{HostName, RunsOn};
use crate::report::{CheckReport, Finding, FleetNode, NodeState, Scope, Status, UNJUDGED, node_ranges, worst};

/// How many distinct reasons a node check's summary quotes.
const REASONS_QUOTED: usize = 3;

/// Judges a fleet as its records arrive: each node's checks on its own facts
/// at once, keeping only their reports, what the cross-node checks compare
/// and the node's summary; the cluster checks once every node is in. Pack
/// checks that look at a machine run on every node when they are built in;
/// the others skip: they would look at the machine clusterdoc runs on.
pub struct FleetJudge {
    /// The check ids in the order given, for the report.
    order: Vec<String>,
    passed_over: Vec<Arc<dyn Check>>,
    node_checks: Vec<Arc<dyn Check>>,
    cluster_checks: Vec<Arc<dyn Check>>,
    deadline: Instant,
    /// The cluster's facts, the orchestrator's; each node's own are put in
    /// their place while its checks run.
    facts: Facts,
    /// Marathon apps judged as if deployed (`--app`).
    proposed: Vec<App>,
    /// By the node's place in the list, whatever order they arrive in.
    views: Vec<(usize, NodeView)>,
    nodes: Vec<(usize, FleetNode)>,
    /// For each node check, its report from each node.
    on_nodes: Vec<Vec<(usize, String, CheckReport)>>,
}

impl FleetJudge {
    pub fn new(checks: Vec<Arc<dyn Check>>, packs: &MachinePacks, proposed: &[App], deadline: Instant) -> FleetJudge {
        let order: Vec<String> = checks.iter().map(|c| c.meta().id.to_string()).collect();
        let listed = |list: &[String], check: &Arc<dyn Check>| list.iter().any(|id| *id == check.meta().id);
        let (passed_over, checks): (Vec<_>, Vec<_>) = checks.into_iter().partition(|c| listed(&packs.here_only, c));
        let (node_checks, cluster_checks): (Vec<_>, Vec<_>) =
            checks.into_iter().partition(|c| fleet::judges_nodes(c.meta().needs) || listed(&packs.on_nodes, c));
        FleetJudge {
            order,
            passed_over,
            on_nodes: vec![Vec::new(); node_checks.len()],
            node_checks,
            cluster_checks,
            deadline,
            facts: Facts::default(),
            proposed: proposed.to_vec(),
            views: Vec::new(),
            nodes: Vec::new(),
        }
    }

    /// How many nodes have been judged.
    pub fn judged(&self) -> usize {
        self.nodes.len()
    }

    /// Judges one node's record; its facts are dropped after. A record
    /// that does not say its place (an older snapshot's) comes after those
    /// judged before it.
    async fn node(&mut self, mut record: NodeRecord) {
        let index = record.listed.unwrap_or(self.nodes.len());
        self.views.push((index, NodeView::of(&record)));
        let reports = match record.facts.take() {
            Some(mut own) if record.state == NodeState::Reached => {
                let mut facts = std::mem::take(&mut self.facts);
                swap_node_view(&mut facts, &mut own);
                let (reports, mut back) = run_all(&self.node_checks, facts, self.deadline).await;
                swap_node_view(&mut back, &mut own);
                self.facts = back;
                self.nodes.push((index, fleet_node(&record, Some(&own))));
                reports
            }
            _ => {
                self.nodes.push((index, fleet_node(&record, None)));
                self.node_checks.iter().map(|check| not_reached(check.as_ref(), &record)).collect()
            }
        };
        for (slot, report) in self.on_nodes.iter_mut().zip(reports) {
            slot.push((index, record.host.clone(), report));
        }
    }

    /// The checks' reports in the order given, and the fleet's nodes in
    /// the list's order.
    pub async fn finish(mut self) -> (Vec<CheckReport>, Vec<FleetNode>) {
        self.views.sort_by_key(|(i, _)| *i);
        self.nodes.sort_by_key(|(i, _)| *i);
        let views = self.views.into_iter().map(|(_, view)| view).collect();
        self.facts.fleet = Some(Fact::observed(FleetView { nodes: views }));
        let (cluster_reports, _) = run_all(&self.cluster_checks, self.facts, self.deadline).await;
        let skipped = self.passed_over.iter().map(|check| {
            let meta = check.meta();
            let why = format!(
                "not judged in a fleet run: this pack check looks at the machine clusterdoc runs on, not at the \
                 nodes; run `clusterdoc check --only {}` on them",
                meta.id
            );
            check_report(meta.id.to_string(), meta.title.to_string(), Err(NotJudged::Skip(why)), 0)
        });
        let on_nodes = self.on_nodes.into_iter().map(|mut reports| {
            reports.sort_by_key(|(i, _, _)| *i);
            reports.into_iter().map(|(_, host, report)| (host, report)).collect()
        });
        let mut by_id: BTreeMap<String, CheckReport> = cluster_reports
            .into_iter()
            .chain(on_nodes.filter_map(combine))
            .chain(skipped)
            .map(|r| (r.id.clone(), r))
            .collect();
        let reports = self.order.iter().filter_map(|id| by_id.remove(id)).collect();
        (reports, self.nodes.into_iter().map(|(_, node)| node).collect())
    }
}

impl FleetSink for FleetJudge {
    async fn cluster(&mut self, mut facts: Facts) -> anyhow::Result<()> {
        crate::facts::proposed::deploy(&mut facts, &self.proposed);
        self.facts = facts;
        Ok(())
    }

    async fn node(&mut self, record: NodeRecord) -> anyhow::Result<()> {
        FleetJudge::node(self, record).await;
        Ok(())
    }
}

/// Runs `checks` concurrently on `facts`, and hands the facts back.
async fn run_all(checks: &[Arc<dyn Check>], facts: Facts, deadline: Instant) -> (Vec<CheckReport>, Facts) {
    let shared = Arc::new(facts);
    let reports = join_all(checks.iter().map(|c| run_one(c.clone(), shared.clone(), deadline))).await;
    // A check cut off at the deadline may still hold its copy: take ours back.
    let facts = Arc::try_unwrap(shared).unwrap_or_else(|still_shared| (*still_shared).clone());
    (reports, facts)
}

/// Puts a node's own sources (and where and how it looked, and what its
/// pack checks saw) in place of the orchestrator's, or back: swapping twice
/// restores both. The cluster checks, which read the orchestrator's packs,
/// have run by then.
fn swap_node_view(facts: &mut Facts, own: &mut Facts) {
    facts.swap_sources(own, &fleet::ON_NODE);
    facts.swap_sources(own, &[Need::Packs]);
    let (ours, theirs): (&mut Inputs, &mut Inputs) = (&mut facts.inputs, &mut own.inputs);
    std::mem::swap(&mut ours.root, &mut theirs.root);
    std::mem::swap(&mut ours.live, &mut theirs.live);
    std::mem::swap(&mut ours.roles, &mut theirs.roles);
}

/// A node check on a node that was not reached: `error`, with one finding
/// about the node, so the node's own problem (`fleet.nodes`) can explain it.
fn not_reached(check: &dyn Check, record: &NodeRecord) -> CheckReport {
    let why = record.error.as_deref().unwrap_or("no snapshot");
    let reason = format!("node {} {}: {why}", record.host, record.state);
    let finding = Finding::new(Status::Error, format!("node {}", record.host), format!("not judged: {reason}"))
        .problem(UNJUDGED)
        .about(Scope::host([&record.host]));
    let meta = check.meta();
    check_report(meta.id.to_string(), meta.title.to_string(), Ok(Conclusion::findings(vec![finding], reason)), 0)
}

fn fleet_node(record: &NodeRecord, own: Option<&Facts>) -> FleetNode {
    let hostname = own.and_then(|f| f.node.as_ref()).and_then(|n| n.value()).and_then(|n| n.hostname());
    let roles = own.and_then(|f| f.roles.as_ref()).and_then(|r| r.value()).map(|r| &r.roles);
    FleetNode {
        host: record.host.clone(),
        hostname: hostname.map(String::from),
        address: record.address,
        state: record.state,
        roles: roles.into_iter().flatten().map(|r| r.as_str().to_string()).collect(),
        duration_ms: record.duration_ms,
        error: record.error.clone(),
    }
}

/// One node check's reports from every node as one: the worst status of
/// the nodes that judged (all skipped: skip), each finding naming its node
/// and its this-node fixes made fixes on that node. A finding every judging
/// node made alike, whose fixes all run elsewhere, is about the cluster the
/// nodes share (a Mesos agent's name, say): it is kept once, with no node.
fn combine(on_nodes: Vec<(String, CheckReport)>) -> Option<CheckReport> {
    let (_, first) = on_nodes.first()?;
    let (id, title) = (first.id.clone(), first.title.clone());
    let judged = on_nodes.iter().map(|(_, r)| r.status).filter(|s| *s != Status::Skip);
    let status = if on_nodes.iter().all(|(_, r)| r.status == Status::Skip) { Status::Skip } else { worst(judged) };
    let reason = summary(&on_nodes);
    let duration_ms = on_nodes.iter().map(|(_, r)| r.duration_ms).max().unwrap_or(0);
    let by_node = on_nodes.iter().map(|(host, r)| (host.clone(), r.status)).collect();
    let shared = about_the_cluster(&on_nodes);
    let mut scope: Vec<Scope> = Vec::new();
    for one in on_nodes.iter().flat_map(|(_, r)| &r.scope) {
        if !scope.contains(one) {
            scope.push(one.clone());
        }
    }
    let mut kept_shared = Vec::new();
    let mut findings = Vec::new();
    for (host, report) in on_nodes {
        let on = HostName::parse(&host).map(RunsOn::Host).ok();
        for mut finding in report.findings {
            if shared.contains(&finding) {
                if !kept_shared.contains(&finding) {
                    kept_shared.push(finding.clone());
                    findings.push(finding);
                }
                continue;
            }
            if let Some(on) = &on {
                for remedy in finding.remediation.iter_mut().filter(|r| r.runs_on == RunsOn::ThisNode) {
                    remedy.runs_on = on.clone();
                }
            }
            finding.node = Some(host.clone());
            findings.push(finding);
        }
    }
    Some(CheckReport {
        id,
        title,
        status,
        duration_ms,
        reason: Some(reason),
        findings,
        by_node,
        scope,
        caused_by: Vec::new(),
    })
}

/// The findings that every one of several judging nodes made alike, with
/// no fix for the node itself.
fn about_the_cluster(on_nodes: &[(String, CheckReport)]) -> Vec<Finding> {
    let judging: Vec<&CheckReport> = on_nodes
        .iter()
        .map(|(_, r)| r)
        .filter(|r| matches!(r.status, Status::Pass | Status::Warn | Status::Fail))
        .collect();
    let Some((first, others)) = judging.split_first() else { return Vec::new() };
    if others.is_empty() {
        return Vec::new();
    }
    first
        .findings
        .iter()
        .filter(|f| f.remediation.iter().all(|r| r.runs_on != RunsOn::ThisNode))
        .filter(|f| others.iter().all(|r| r.findings.contains(f)))
        .cloned()
        .collect()
}

/// `fail on Node1; pass on node[2-3]; error on n4: node n4 unreachable: ...`:
/// the nodes by status, with the reasons of those that could not judge.
fn summary(on_nodes: &[(String, CheckReport)]) -> String {
    let mut parts = Vec::new();
    for status in [Status::Fail, Status::Error, Status::Warn, Status::Pass, Status::Skip] {
        let mut by_reason: Vec<(Option<&str>, Vec<&str>)> = Vec::new();
        for (host, report) in on_nodes.iter().filter(|(_, r)| r.status == status) {
            // Only a node that did not judge has a reason worth repeating.
            let reason = matches!(status, Status::Error | Status::Skip).then_some(report.reason.as_deref()).flatten();
            match by_reason.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, hosts)) => hosts.push(host),
                None => by_reason.push((reason, vec![host])),
            }
        }
        let quoted = by_reason.len().min(REASONS_QUOTED);
        for (reason, hosts) in by_reason.iter().take(quoted) {
            let nodes = node_ranges(hosts);
            parts.push(match reason {
                Some(reason) => format!("{status} on {nodes}: {reason}"),
                None => format!("{status} on {nodes}"),
            });
        }
        let rest: Vec<&str> = by_reason.iter().skip(quoted).flat_map(|(_, hosts)| hosts.iter().copied()).collect();
        if !rest.is_empty() {
            parts.push(format!("{status} on {} for other reasons", node_ranges(&rest)));
        }
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remedy::Cmd;

    fn on(host: &str, status: Status, reason: &str, findings: Vec<Finding>) -> (String, CheckReport) {
        let report = CheckReport {
            id: "hostname.case".into(),
            title: "t".into(),
            status,
            duration_ms: 1,
            reason: Some(reason.into()),
            findings,
            by_node: BTreeMap::new(),
            scope: Vec::new(),
            caused_by: Vec::new(),
        };
        (host.into(), report)
    }

    #[test]
    fn a_node_check_is_as_bad_as_its_worst_node_and_skips_only_when_all_skip() {
        let skip = |h| on(h, Status::Skip, "no roles", vec![]);
        let pass = |h| on(h, Status::Pass, "fine", vec![]);
        assert_eq!(combine(vec![skip("n1"), skip("n2")]).unwrap().status, Status::Skip);
        assert_eq!(combine(vec![skip("n1"), pass("n2")]).unwrap().status, Status::Pass);
        let mixed = combine(vec![
            pass("n1"),
            on("n2", Status::Error, "node n2 unreachable: ssh: Connection refused", vec![]),
            on("n3", Status::Fail, "upper case", vec![]),
            on("n4", Status::Error, "node n4 unreachable: ssh: Connection refused", vec![]),
        ])
        .unwrap();
        assert_eq!(mixed.status, Status::Fail);
        assert_eq!(
            mixed.reason.as_deref(),
            Some(
                "fail on n3; error on n2: node n2 unreachable: ssh: Connection refused; error on n4: node n4 \
                 unreachable: ssh: Connection refused; pass on n1"
            )
        );
        assert_eq!(mixed.by_node.get("n2"), Some(&Status::Error));
        assert!(combine(Vec::new()).is_none());
    }

    #[test]
    fn findings_name_their_node_and_this_node_fixes_run_there() {
        let finding = Finding::new(Status::Fail, "host Node1", "upper case")
            .fix(Cmd::new("hostnamectl").value("node1").disruptive())
            .fix(Cmd::new("true").safe().on(RunsOn::Host(HostName::parse("m1").unwrap())));
        let combined = combine(vec![on("Node1", Status::Fail, "x", vec![finding])]).unwrap();
        let finding = &combined.findings[0];
        assert_eq!(finding.node.as_deref(), Some("Node1"));
        assert_eq!(finding.remediation[0].runs_on, RunsOn::Host(HostName::parse("Node1").unwrap()));
        assert_eq!(finding.remediation[1].runs_on, RunsOn::Host(HostName::parse("m1").unwrap()));
    }

    #[test]
    fn a_finding_about_the_cluster_that_every_node_makes_is_kept_once_without_a_node() {
        let agent = || {
            Finding::new(Status::Fail, "Mesos agent A1", "upper case")
                .fix(Cmd::new("hostnamectl").value("a1").disruptive().on(RunsOn::Host(HostName::parse("A1").unwrap())))
        };
        let own = |n: &str| Finding::new(Status::Fail, "unit mesos-slave.service", n).fix(Cmd::new("true").safe());
        let combined = combine(vec![
            on("n1", Status::Fail, "x", vec![agent(), own("respawns")]),
            on("n2", Status::Fail, "x", vec![agent(), own("respawns")]),
            on("n3", Status::Error, "node n3 unreachable", vec![]),
        ])
        .unwrap();
        let nodes: Vec<Option<&str>> = combined.findings.iter().map(|f| f.node.as_deref()).collect();
        assert_eq!(nodes, [None, Some("n1"), Some("n2")], "{:#?}", combined.findings);
        // One node judging: nothing to compare, everything is that node's.
        let alone = combine(vec![on("n1", Status::Fail, "x", vec![agent()])]).unwrap();
        assert_eq!(alone.findings[0].node.as_deref(), Some("n1"));
    }
}
