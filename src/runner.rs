//! Selects checks, gathers the facts they need under one deadline, runs them
//! concurrently and turns a panic or a hang inside a check into its `error`.

use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::catalog::Selection;
use crate::checks::{self, Check, NotJudged, Verdict};
use crate::config::Config;
use crate::facts::fleet::{self, Fleet, NodeRecord};
use crate::facts::{Facts, Gatherer};
use crate::report::{CheckReport, NodeInfo, Report, Status};

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

async fn gather(cfg: &Arc<Config>, selection: &Selection, checks: &[Arc<dyn Check>], start: Instant) -> Facts {
    let gatherer =
        Gatherer::new(cfg.clone(), gathering_deadline(start, cfg.deadline)).with_pack_probes(selection.probes());
    gatherer.gather(&checks::needs_of(checks)).await
}

/// `collect`: the selected checks' facts; with `--nodes`, the cluster's
/// gathered here and each node's from the node, side by side.
pub async fn collect(cfg: &Arc<Config>, selection: &Selection) -> anyhow::Result<String> {
    let start = Instant::now();
    let Some(fleet) = Fleet::from_config(cfg).map_err(anyhow::Error::msg)? else {
        return Snapshot::new(gather(cfg, selection, &selection.checks(), start).await).to_json();
    };
    let deadline = gathering_deadline(start, cfg.deadline);
    let mut needs = checks::needs_of(&selection.checks());
    needs.retain(|need| fleet::CLUSTER_SOURCES.contains(need));
    let gatherer = Gatherer::new(cfg.clone(), deadline);
    let (facts, nodes) = futures::join!(gatherer.gather(&needs), fleet.collect(deadline));
    Snapshot { nodes, ..Snapshot::new(facts) }.to_json()
}

/// `collect --node`: this node's own facts, as a fleet run asks of each node.
pub async fn collect_node(cfg: &Arc<Config>) -> anyhow::Result<String> {
    Snapshot { address: fleet::session_address(), ..node_snapshot(cfg).await }.to_json()
}

/// This node's own facts (the sources of [`fleet::NODE_SOURCES`]), without
/// the address a session reached it on.
pub async fn node_snapshot(cfg: &Arc<Config>) -> Snapshot {
    let gatherer = Gatherer::new(cfg.clone(), gathering_deadline(Instant::now(), cfg.deadline));
    Snapshot::new(gatherer.gather(&fleet::NODE_SOURCES.into_iter().collect()).await)
}

fn load_snapshot(path: &PathBuf, cfg: &Config) -> anyhow::Result<Facts> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read snapshot {}", path.display()))?;
    let snapshot: Snapshot =
        serde_json::from_str(&text).with_context(|| format!("{} is not a clusterdoc snapshot", path.display()))?;
    if !snapshot.nodes.is_empty() {
        anyhow::bail!("{} is a fleet snapshot: judging a fleet's nodes is not there yet", path.display());
    }
    let mut facts = snapshot.facts;
    // Expectations named now override those recorded with the snapshot.
    if cfg.expect_marathon_version.is_some() {
        facts.inputs.expect_marathon_version = cfg.expect_marathon_version;
    }
    if cfg.expect_flink_version.is_some() {
        facts.inputs.expect_flink_version = cfg.expect_flink_version;
    }
    Ok(facts)
}

pub async fn run(cfg: &Arc<Config>, selection: &Selection, source: Source) -> anyhow::Result<Report> {
    let start = Instant::now();
    let started_at = now_rfc3339();
    let checks = selection.checks();
    let (facts, source_label) = match &source {
        Source::Live => {
            let label = if cfg.live() { "live".to_string() } else { format!("root {}", cfg.root.display()) };
            (gather(cfg, selection, &checks, start).await, label)
        }
        Source::Snapshot(path) => (load_snapshot(path, cfg)?, format!("snapshot {}", path.display())),
    };
    let facts = Arc::new(facts);
    let deadline = start + cfg.deadline;
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
    let began = Instant::now();
    let task = tokio::task::spawn_blocking(move || catch_unwind(AssertUnwindSafe(|| check.run(&facts))));
    let verdict: Verdict = match tokio::time::timeout_at(deadline, task).await {
        Ok(Ok(Ok(verdict))) => verdict,
        Ok(Ok(Err(panic))) => Err(NotJudged::Error(format!("the check crashed: {}", panic_message(&panic)))),
        Ok(Err(join)) => Err(NotJudged::Error(format!("the check could not run: {join}"))),
        Err(_) => Err(NotJudged::Error("the check did not finish before the run's deadline".into())),
    };
    check_report(id, title, verdict, began.elapsed().as_millis() as u64)
}

/// A check's verdict as the report shows it.
pub fn check_report(id: String, title: String, verdict: Verdict, duration_ms: u64) -> CheckReport {
    let (status, reason, findings) = match verdict {
        Ok(judgement) => (judgement.status(), judgement.note, judgement.findings),
        Err(NotJudged::Skip(reason)) => (Status::Skip, Some(reason), Vec::new()),
        Err(NotJudged::Error(reason)) => (Status::Error, Some(reason), Vec::new()),
    };
    CheckReport { id, title, status, duration_ms, reason, findings }
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
