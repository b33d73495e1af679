//! Selects checks, gathers the facts they need under one deadline, runs them
//! concurrently and turns a panic or a hang inside a check into its `error`.

mod fleet;

use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::catalog::Selection;
use crate::checks::{self, Check, NotJudged, Verdict};
use crate::config::Config;
use crate::facts::fleet::{self as fleet_facts, Fleet, NodeRecord, Tally};
use crate::facts::marathon::App;
use crate::facts::packs::{BUILT_IN_PACK, PackProbe};
use crate::facts::{Facts, Gatherer, Inputs, Need, dns, reach};
use crate::output::Output;
use crate::report::{CheckReport, NodeInfo, Report, Scope, Status};
use crate::target::NodeAsks;
use fleet::FleetJudge;

/// Where facts come from.
#[derive(Clone, Debug)]
pub enum Source {
    Live,
    Snapshot(PathBuf),
}

/// What `collect` writes and `check --from` reads.
#[derive(Debug, Serialize, Deserialize)]
pub struct Snapshot {
    pub snapshot_version: u32,
    pub tool: String,
    pub version: String,
    pub collected_at: String,
    /// A node snapshot's: the address its sshd took the session on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    /// A node snapshot's: the node's clock when it wrote the snapshot (ms
    /// since the epoch), for the fleet's clock comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_ms: Option<u64>,
    /// The cluster-wide facts; with `nodes`, those the orchestrator gathered.
    pub facts: Facts,
    /// A fleet snapshot's nodes (`collect --nodes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeRecord>,
}

impl Snapshot {
    fn new(facts: Facts) -> Snapshot {
        Snapshot {
            snapshot_version: 1,
            tool: "clusterdoc".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            collected_at: now_rfc3339(),
            address: None,
            clock_ms: None,
            facts,
            nodes: Vec::new(),
        }
    }

    /// The snapshot as `collect` writes it.
    pub fn to_json(&self) -> anyhow::Result<String> {
        Ok(crate::text::escape_json_controls(&serde_json::to_string_pretty(self)?) + "\n")
    }
}

/// Time kept back from fact gathering so the checks and the report still fit
/// inside `--deadline`.
fn gathering_deadline(start: Instant, deadline: Duration) -> Instant {
    let reserve = (deadline / 20).min(Duration::from_millis(250));
    start + deadline - reserve
}

/// What a fleet run does with the facts as they arrive: the cluster's
/// (gathered here) first, then each node's record as its session ends.
trait FleetSink {
    async fn cluster(&mut self, facts: Facts) -> anyhow::Result<()>;
    async fn node(&mut self, record: NodeRecord) -> anyhow::Result<()>;
}

/// The facts of a live run: this node's and the cluster's (returned), or
/// with `--nodes` the cluster's gathered here and each node's own from the
/// node, handed to `sink` as they arrive (`None` returned). Records wait in
/// a queue as deep as the fanout while the cluster's facts are gathered or
/// a record is judged or written: the sessions pause meanwhile, so a run
/// holds at most about twice the fanout's records, however many nodes.
async fn gather(
    cfg: &Arc<Config>,
    selection: &Selection,
    checks: &[Arc<dyn Check>],
    start: Instant,
    tally: &Tally,
    sink: &mut impl FleetSink,
) -> anyhow::Result<Option<Facts>> {
    let deadline = gathering_deadline(start, cfg.deadline);
    let mut needs = checks::needs_of(checks);
    let gatherer = Gatherer::new(cfg.clone(), deadline).with_pack_probes(selection.probes()).for_needs(&needs);
    let discovered = match fleet_facts::wants_discovery(cfg) {
        true => fleet_facts::discover(&gatherer).await.map_err(anyhow::Error::msg)?,
        false => Vec::new(),
    };
    let Some(fleet) = Fleet::from_config(cfg, &discovered).map_err(anyhow::Error::msg)? else {
        return Ok(Some(gatherer.gather(&needs).await));
    };
    needs.retain(|need| !fleet_facts::ON_NODE.contains(need));
    // The nodes probe the cluster's endpoints (the named ones and the agents
    // the leading master knows) and resolve the names its daemons registered
    // with, so the master is asked first.
    let all = checks::needs_of(checks);
    let asks = NodeAsks {
        probes: if all.contains(&Need::Reach) { reach::fleet_endpoints(&gatherer).await } else { Vec::new() },
        names: if all.contains(&Need::Fleet) { dns::fleet_names(&gatherer).await } else { Vec::new() },
        pack_checks: MachinePacks::of(selection).on_nodes,
    };
    let (queue, mut arrivals) = tokio::sync::mpsc::channel(fleet.fanout);
    let visit = async move {
        let mut records = std::pin::pin!(fleet.records(deadline, &asks, tally));
        while let Some(arrival) = records.next().await {
            if queue.send(arrival).await.is_err() {
                break; // the sink failed: the sessions left are dropped (killed).
            }
        }
    };
    let take_in = async move {
        sink.cluster(gatherer.gather(&needs).await).await?;
        while let Some(record) = arrivals.recv().await {
            sink.node(record).await?;
        }
        anyhow::Ok(())
    };
    let ((), taken) = futures::join!(visit, take_in);
    taken.map(|()| None)
}

/// The selected pack checks that look at a machine (commands, plugins,
/// processes, units, files). In a fleet run the built-in ones run on every
/// node (each node's clusterdoc has them); the others, whose pack files are
/// on this machine only, cannot run there.
pub struct MachinePacks {
    pub on_nodes: Vec<String>,
    pub here_only: Vec<String>,
}

impl MachinePacks {
    pub fn of(selection: &Selection) -> MachinePacks {
        let looking = selection.probes().into_iter().filter(|p| p.probe.looks_at_this_machine());
        let (on_nodes, here_only): (Vec<_>, Vec<_>) = looking.partition(|p| p.pack == BUILT_IN_PACK);
        let ids = |probes: Vec<PackProbe>| probes.into_iter().map(|p| p.check).collect();
        MachinePacks { on_nodes: ids(on_nodes), here_only: ids(here_only) }
    }
}

/// `collect`: the selected checks' facts (a fleet's with `--nodes`),
/// written to `out` as they arrive.
pub async fn collect(cfg: &Arc<Config>, selection: &Selection, tally: &Tally, out: &mut Output) -> anyhow::Result<()> {
    let mut writer = SnapshotWriter { out, nodes: 0 };
    match gather(cfg, selection, &selection.checks(), Instant::now(), tally, &mut writer).await? {
        Some(facts) => writer.out.write(&Snapshot::new(facts).to_json()?).map_err(anyhow::Error::msg),
        None => writer.out.write(SnapshotWriter::CLOSING).map_err(anyhow::Error::msg),
    }
}

/// A fleet snapshot written as it is gathered: the same bytes
/// [`Snapshot::to_json`] gives for it, with the nodes in the order their
/// sessions ended.
struct SnapshotWriter<'a> {
    out: &'a mut Output,
    nodes: usize,
}

impl SnapshotWriter<'_> {
    const CLOSING: &'static str = "\n  ]\n}\n";
}

impl FleetSink for SnapshotWriter<'_> {
    async fn cluster(&mut self, facts: Facts) -> anyhow::Result<()> {
        let whole = serde_json::to_string_pretty(&Snapshot::new(facts))?;
        let open = whole.strip_suffix("\n}").context("a snapshot is a JSON object")?;
        let opening = format!("{},\n  \"nodes\": [", crate::text::escape_json_controls(open));
        self.out.write(&opening).map_err(anyhow::Error::msg)
    }

    async fn node(&mut self, record: NodeRecord) -> anyhow::Result<()> {
        let pretty = serde_json::to_string_pretty(&record)?;
        // A JSON string holds no raw line break: every line is the record's own.
        let indented: Vec<String> = pretty.lines().map(|line| format!("    {line}")).collect();
        let separator = if self.nodes == 0 { "\n" } else { ",\n" };
        self.nodes += 1;
        let entry = separator.to_string() + &crate::text::escape_json_controls(&indented.join("\n"));
        self.out.write(&entry).map_err(anyhow::Error::msg)
    }
}

/// `collect --node`: this node's own facts, as a fleet run asks of each node,
/// and what it saw of the endpoints it was asked to probe.
pub async fn collect_node(cfg: &Arc<Config>, selection: &Selection, asks: NodeAsks) -> anyhow::Result<String> {
    let snapshot = node_snapshot(cfg, selection, asks).await;
    Snapshot { address: fleet_facts::session_address(), ..snapshot }.to_json()
}

/// This node's own facts and what it saw of the endpoints it was asked to
/// probe, stamped with its clock; without the address a session reached
/// it on (`serve` answers `/snapshot` with it).
pub async fn node_snapshot(cfg: &Arc<Config>, selection: &Selection, asks: NodeAsks) -> Snapshot {
    // The asked pack checks' probes, as this node's catalog has them.
    let probes: Vec<_> = selection.probes().into_iter().filter(|p| asks.pack_checks.contains(&p.check)).collect();
    let mut needs = fleet_facts::node_sources();
    if !probes.is_empty() {
        needs.insert(Need::Packs);
    }
    let gatherer = Gatherer::new(cfg.clone(), gathering_deadline(Instant::now(), cfg.deadline))
        .with_pack_probes(probes)
        .with_node_asks(asks);
    let facts = gatherer.gather(&needs).await;
    Snapshot { clock_ms: Some(fleet_facts::epoch_ms()), ..Snapshot::new(facts) }
}

/// A snapshot's cluster facts and its nodes' records (a fleet's).
fn load_snapshot(path: &PathBuf, cfg: &Config) -> anyhow::Result<(Facts, Vec<NodeRecord>)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read snapshot {}", path.display()))?;
    let snapshot: Snapshot =
        serde_json::from_str(&text).with_context(|| format!("{} is not a clusterdoc snapshot", path.display()))?;
    let mut facts = snapshot.facts;
    // Expectations named now override those recorded with the snapshot.
    if cfg.expect_marathon_version.is_some() {
        facts.inputs.expect_marathon_version = cfg.expect_marathon_version;
    }
    if cfg.expect_flink_version.is_some() {
        facts.inputs.expect_flink_version = cfg.expect_flink_version;
    }
    if cfg.phase.is_some() {
        facts.inputs.phase = cfg.phase;
    }
    // A snapshot of one node, whenever taken, is not a fleet.
    if snapshot.nodes.is_empty() {
        facts.fleet.get_or_insert_with(fleet_facts::view::not_a_fleet);
    }
    Ok((facts, snapshot.nodes))
}

/// A run's report; a fleet run counts its nodes in `tally` as they finish.
/// The Marathon apps `proposed` (`--app`) are judged as if deployed.
pub async fn run(
    cfg: &Arc<Config>,
    selection: &Selection,
    source: Source,
    proposed: &[App],
    tally: &Tally,
) -> anyhow::Result<Report> {
    let start = Instant::now();
    let started_at = now_rfc3339();
    let checks = selection.checks();
    let deadline = start + cfg.deadline;
    let mut judge = FleetJudge::new(checks.clone(), &MachinePacks::of(selection), proposed, deadline);
    let (alone, mut source_label) = match &source {
        Source::Live => {
            let label = if cfg.live() { "live".to_string() } else { format!("root {}", cfg.root.display()) };
            (gather(cfg, selection, &checks, start, tally, &mut judge).await?, label)
        }
        Source::Snapshot(path) => {
            let (facts, nodes) = load_snapshot(path, cfg)?;
            let label = format!("snapshot {}", path.display());
            if nodes.is_empty() {
                (Some(facts), label)
            } else {
                judge.cluster(facts).await?;
                for record in nodes {
                    judge.node(record).await?;
                }
                (None, label)
            }
        }
    };
    let Some(facts) = alone else {
        source_label.push_str(&format!(" · fleet of {} nodes", judge.judged()));
        let (results, nodes) = judge.finish().await;
        let node = NodeInfo { hostname: None, roles: Vec::new(), source: source_label };
        let report = Report::new(started_at, start.elapsed().as_millis() as u64, node, results);
        return Ok(Report { nodes, ..report });
    };
    let mut facts = facts;
    crate::facts::proposed::deploy(&mut facts, proposed);
    let facts = Arc::new(facts);
    let results = futures::future::join_all(checks.into_iter().map(|c| run_one(c, facts.clone(), deadline))).await;
    let node = NodeInfo {
        hostname: facts.node.as_ref().and_then(|f| f.value()).and_then(|n| n.hostname()).map(String::from),
        roles: node_roles(&facts).iter().map(|r| r.as_str().to_string()).collect(),
        source: source_label,
    };
    Ok(Report::new(started_at, start.elapsed().as_millis() as u64, node, results))
}

/// Runs one check on a blocking thread, so a check that spins cannot stall the
/// others, and bounds it by the deadline.
async fn run_one(check: Arc<dyn Check>, facts: Arc<Facts>, deadline: Instant) -> CheckReport {
    let (id, title) = (check.meta().id.to_string(), check.meta().title.to_string());
    let scope = sources_scope(check.meta().needs, &facts.inputs);
    let began = Instant::now();
    let task = tokio::task::spawn_blocking(move || catch_unwind(AssertUnwindSafe(|| check.run(&facts))));
    let verdict: Verdict = match tokio::time::timeout_at(deadline, task).await {
        Ok(Ok(Ok(verdict))) => verdict,
        Ok(Ok(Err(panic))) => Err(NotJudged::Error(format!("the check crashed: {}", panic_message(&panic)))),
        Ok(Err(join)) => Err(NotJudged::Error(format!("the check could not run: {join}"))),
        Err(_) => Err(NotJudged::Error("the check did not finish before the run's deadline".into())),
    };
    let mut report = check_report(id, title, verdict, began.elapsed().as_millis() as u64);
    for finding in &mut report.findings {
        let inherited: Vec<Scope> =
            scope.iter().filter(|s| !finding.scope.iter().any(|own| own.kind == s.kind)).cloned().collect();
        finding.scope.extend(inherited);
    }
    report.scope = scope;
    report
}

/// What the cluster sources a check reads are about: the ensemble of
/// `--zk`, the Mesos masters, the Marathon. Its findings are about them
/// too, unless they say otherwise (a Mesos master's own ensemble).
fn sources_scope(needs: &[Need], inputs: &Inputs) -> Vec<Scope> {
    let reads = |of: &[Need]| needs.iter().any(|n| of.contains(n));
    let mut scope = Vec::new();
    if reads(&[Need::Zookeeper, Need::MarathonZk, Need::FlinkZk, Need::Packs]) {
        scope.extend(inputs.zk.as_ref().and_then(Scope::ensemble_of));
    }
    if reads(&[Need::Mesos, Need::MesosFlags, Need::Packs]) {
        scope.extend(Scope::mesos(&inputs.mesos));
    }
    if reads(&[Need::Marathon]) {
        scope.extend(inputs.marathon.as_ref().and_then(Scope::marathon));
    }
    scope
}

/// A check's verdict as the report shows it.
pub fn check_report(id: String, title: String, verdict: Verdict, duration_ms: u64) -> CheckReport {
    let (status, reason, findings) = match verdict {
        Ok(judgement) => (judgement.status(), judgement.note, judgement.findings),
        Err(NotJudged::Skip(reason)) => (Status::Skip, Some(reason), Vec::new()),
        Err(NotJudged::Error(reason)) => (Status::Error, Some(reason), Vec::new()),
    };
    CheckReport {
        id,
        title,
        status,
        duration_ms,
        reason,
        findings,
        by_node: Default::default(),
        scope: Vec::new(),
        caused_by: Vec::new(),
    }
}

/// The roles the checks judged by: detected ones when gathered, else `--role`.
fn node_roles(facts: &Facts) -> Vec<crate::target::Role> {
    match facts.roles.as_ref().and_then(|f| f.value()) {
        Some(detected) => detected.roles.clone(),
        None => facts.inputs.roles.clone(),
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::NodeState;

    fn record(host: &str, state: NodeState) -> NodeRecord {
        let reached = state == NodeState::Reached;
        NodeRecord {
            host: host.into(),
            listed: Some(1),
            address: "10.0.0.7".parse().ok(),
            state,
            duration_ms: 12,
            // Hostile text from a node: a bell and a bidi override.
            error: (!reached).then(|| "said \u{7}\u{202e}gnorw".into()),
            clock_skew_ms: reached.then_some(-40),
            facts: reached.then(Facts::default),
        }
    }

    fn without_stamp(json: &str) -> String {
        json.lines().filter(|line| !line.contains("\"collected_at\"")).collect::<Vec<_>>().join("\n")
    }

    #[tokio::test]
    async fn a_fleet_snapshot_written_node_by_node_is_the_one_to_json_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fleet.json");
        let records = [record("m1", NodeState::Reached), record("a1", NodeState::Unreachable)];
        let mut out = Output::open(Some(&path)).unwrap();
        let mut writer = SnapshotWriter { out: &mut out, nodes: 0 };
        writer.cluster(Facts::default()).await.unwrap();
        for record in &records {
            writer.node(record.clone()).await.unwrap();
        }
        writer.out.write(SnapshotWriter::CLOSING).unwrap();
        out.finish().unwrap();
        let streamed = std::fs::read_to_string(&path).unwrap();
        let whole = Snapshot { nodes: records.to_vec(), ..Snapshot::new(Facts::default()) }.to_json().unwrap();
        assert_eq!(without_stamp(&streamed), without_stamp(&whole));
        assert!(streamed.contains("\\u0007\\u202egnorw"), "{streamed}");
        let read: Snapshot = serde_json::from_str(&streamed).unwrap();
        assert_eq!(read.nodes, records);
    }
}
