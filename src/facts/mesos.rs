//! Facts: the Mesos masters.
//!
//! Every named master is asked for `/master/state` without following its
//! redirect, so its own answer survives: "I lead", "the leader is there"
//! (307, or an old follower's `leader` field), "I know no leader" (503), or
//! no answer. `/master/health` and the `master/elected` metric are asked too.
//! The leader's state is then read once - from a named master that leads, or
//! from the address the others name - and deserialized into only the fields
//! the checks use (states of big clusters run to 100+ MB).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::join_all;
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::http::{self, BodyLimit, Gathered, HttpError, JsonStream, Problem, Redirects, Service, Streamed};
use super::{Fact, Gatherer, Need, interned, unprobed_default};
use crate::redact::redact_url;
use crate::target::Target;

/// How a user names the masters, for skip reasons.
const NAME_IT: &str = "--mesos URL or MESOS_MASTER";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MesosFacts {
    /// `/master/state` of the leading master.
    pub state: Fact<MesosState>,
    /// Each named master's own answer, in the order they were named.
    #[serde(default)]
    pub masters: Vec<MasterView>,
    /// Who leads, as far as the named masters tell.
    #[serde(default)]
    pub leadership: Leadership,
}

/// One named master, asked directly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MasterView {
    /// The master's URL, redacted.
    pub url: String,
    pub answer: MasterAnswer,
    /// `/master/health` answered 200 (None: could not ask).
    pub healthy: Option<bool>,
    /// Its `master/elected` metric (None: could not ask).
    pub elected: Option<bool>,
    /// The `zk` flag it runs with (`/master/flags`, which a master without
    /// a leader still serves): the ensemble it elects through, redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zk: Option<String>,
}

/// What a master said about the leader when asked for `/master/state`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MasterAnswer {
    /// It answered with its own state, as the leader (`leader` == `pid`).
    Leads { pid: String },
    /// It names another master `host:port` as the leader: a 307 to it, or
    /// the `leader` field of an old (pre-1.x) follower's own state.
    Names { leader: String },
    /// It knows no leader (503, or a state with no `leader`).
    NoLeader { detail: String },
    /// It could not be asked, or its answer made no sense.
    Failed { error: String },
}

impl fmt::Display for MasterAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MasterAnswer::Leads { pid } => write!(f, "says it leads ({pid})"),
            MasterAnswer::Names { leader } => write!(f, "says the leader is {leader}"),
            MasterAnswer::NoLeader { detail } => write!(f, "knows no leader ({detail})"),
            MasterAnswer::Failed { error } => f.write_str(error),
        }
    }
}

/// Who leads, from the masters' answers and the leader's own state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Leadership {
    /// One master leads and its state was read.
    Known(LeaderId),
    /// A leader is named but its state could not be read.
    Unanswered { leader: String, error: String },
    /// More than one master claims to lead.
    Contested { leaders: Vec<String> },
    /// No named master knows a leader.
    #[default]
    Unknown,
}

/// The leading master and every `host:port` it is known by, so that a 307
/// naming its host name and a pid naming its IP both count as agreeing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeaderId {
    /// `master@IP:PORT`.
    pub pid: String,
    /// Where its state was read, redacted.
    pub url: String,
    /// Lower-case `host:port` forms.
    pub addresses: BTreeSet<String>,
}

impl LeaderId {
    /// Whether `address` (`host:port`, or a pid) names this leader.
    pub fn is(&self, address: &str) -> bool {
        self.addresses.contains(&normalize(pid_address(address)))
    }
}

/// The parts of `/master/state` clusterdoc uses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MesosState {
    #[serde(default, alias = "slaves")]
    pub agents: Vec<Agent>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    /// `master@IP:PORT` of the master that answered.
    #[serde(default)]
    pub pid: Option<String>,
    /// `master@IP:PORT` of the leader it knows; absent or empty: none.
    #[serde(default)]
    pub leader: Option<String>,
    #[serde(default)]
    pub frameworks: Vec<Framework>,
    #[serde(default)]
    pub completed_frameworks: Vec<Framework>,
    /// The frameworks' tasks were skipped unread (no check of the run
    /// needed them), so their task lists are empty whatever runs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tasks_skipped: bool,
}

/// Whether a state's tasks are parsed or skipped unread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tasks {
    Read,
    Skip,
}

impl Tasks {
    /// What the run's checks need.
    fn wanted_by(g: &Gatherer) -> Self {
        if g.needs(Need::MesosTasks) { Tasks::Read } else { Tasks::Skip }
    }
}

/// Each agent of a master's state the moment it is parsed, for whoever
/// listens (the reachability sweep, which so starts before a state of
/// thousands of agents is whole). What is told is not yet judged: a master
/// that turns out not to lead, or a state cut off later, is told as well.
#[derive(Default)]
pub struct AgentFeed(Mutex<Listening>);

#[derive(Default)]
enum Listening {
    #[default]
    Nobody,
    To(Box<dyn FnMut(&Agent) + Send>),
    /// The Mesos facts are in: nothing more is told.
    Closed,
}

impl AgentFeed {
    /// Has `listener` told of every agent parsed from now on; false (and
    /// `listener` dropped) when the feed is already closed.
    pub fn listen(&self, listener: impl FnMut(&Agent) + Send + 'static) -> bool {
        let mut listening = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if matches!(*listening, Listening::Closed) {
            return false;
        }
        *listening = Listening::To(Box::new(listener));
        true
    }

    fn tell(&self, agent: &Agent) {
        if let Listening::To(listener) = &mut *self.0.lock().unwrap_or_else(PoisonError::into_inner) {
            listener(agent);
        }
    }

    /// Ends the feed, dropping its listener.
    pub fn close(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Listening::Closed;
    }
}

impl MesosState {
    /// The leader's pid, if it knows one.
    pub fn leader_pid(&self) -> Option<&str> {
        self.leader.as_deref().filter(|l| !l.is_empty())
    }

    /// True when the master that answered is the leader.
    pub fn answered_by_leader(&self) -> bool {
        self.leader_pid().is_some() && self.leader == self.pid
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub id: String,
    pub hostname: String,
    /// `slave(1)@IP:PORT`: the address the agent registered with.
    #[serde(default)]
    pub pid: Option<String>,
    /// Absent in old Mesos (treated as active).
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub resources: Resources,
    #[serde(default)]
    pub used_resources: Resources,
    /// Per role (Mesos 1.x).
    #[serde(default)]
    pub reserved_resources: BTreeMap<String, Resources>,
    /// Mesos 1.x.
    #[serde(default)]
    pub unreserved_resources: Option<Resources>,
}

/// Scalar and port resources, as `/master/state` writes them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    #[serde(default)]
    pub cpus: f64,
    /// MB.
    #[serde(default)]
    pub mem: f64,
    /// MB.
    #[serde(default)]
    pub disk: f64,
    #[serde(default)]
    pub ports: PortRanges,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Framework {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// Missing counts as inactive: a framework is only called active when
    /// Mesos says so.
    #[serde(default)]
    pub active: bool,
    /// Mesos 1.x: the scheduler is connected.
    #[serde(default)]
    pub connected: Option<bool>,
    #[serde(default)]
    pub hostname: Option<String>,
    /// `scheduler(1)@IP:PORT`.
    #[serde(default)]
    pub pid: Option<String>,
    #[serde(default)]
    pub webui_url: Option<String>,
    #[serde(default)]
    pub tasks: Vec<Task>,
}

impl Framework {
    /// `ID (NAME) on HOST, active: B, connected: B`, for evidence.
    pub fn summary(&self) -> String {
        let connected = match self.connected {
            Some(c) => format!(", connected: {c}"),
            None => String::new(),
        };
        let host = self.hostname.as_deref().unwrap_or("unknown host");
        format!("{} ({}) on {host}, active: {}{connected}", self.id, self.name, self.active)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "interned::optional_id")]
    pub framework_id: Option<Arc<str>>,
    /// The agent the task runs on.
    #[serde(default, deserialize_with = "interned::id")]
    pub slave_id: Arc<str>,
    pub state: TaskState,
    #[serde(default)]
    pub resources: Resources,
}

/// A Mesos task state (`TASK_RUNNING`, ...); Marathon reports the same names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskState {
    #[serde(rename = "TASK_STAGING")]
    Staging,
    #[serde(rename = "TASK_STARTING")]
    Starting,
    #[serde(rename = "TASK_RUNNING")]
    Running,
    #[serde(rename = "TASK_KILLING")]
    Killing,
    #[serde(rename = "TASK_FINISHED")]
    Finished,
    #[serde(rename = "TASK_FAILED")]
    Failed,
    #[serde(rename = "TASK_KILLED")]
    Killed,
    #[serde(rename = "TASK_LOST")]
    Lost,
    #[serde(rename = "TASK_ERROR")]
    Error,
    #[serde(rename = "TASK_DROPPED")]
    Dropped,
    #[serde(rename = "TASK_UNREACHABLE")]
    Unreachable,
    #[serde(rename = "TASK_GONE")]
    Gone,
    #[serde(rename = "TASK_GONE_BY_OPERATOR")]
    GoneByOperator,
    #[serde(rename = "TASK_UNKNOWN")]
    Unknown,
    /// A state this version of clusterdoc does not know.
    #[serde(rename = "TASK_UNRECOGNIZED", other)]
    Unrecognized,
}

impl TaskState {
    /// The task holds resources on its agent (it has not ended).
    pub fn is_live(self) -> bool {
        matches!(self, TaskState::Staging | TaskState::Starting | TaskState::Running | TaskState::Killing)
    }
}

/// An inclusive range of ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortRange {
    pub begin: u16,
    pub end: u16,
}

/// Mesos' text form of a ports resource, `[31000-32000, 33000-33001]`, parsed.
/// (De)serializes as that text, so snapshots read back the same.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortRanges(pub Vec<PortRange>);

impl PortRanges {
    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|r| (r.begin..=r.end).contains(&port))
    }

    /// How many ports the ranges hold.
    pub fn count(&self) -> u32 {
        self.0.iter().map(|r| u32::from(r.end - r.begin) + 1).sum()
    }
}

impl FromStr for PortRanges {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            let shown: String = text.chars().take(60).collect();
            format!("ports {shown:?}: {why} (expected e.g. \"[31000-32000, 33000-33001]\")")
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(PortRanges::default());
        }
        let inner =
            trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')).ok_or_else(|| bad("not in [brackets]"))?;
        if inner.trim().is_empty() {
            return Ok(PortRanges::default());
        }
        inner.split(',').map(|part| parse_range(part).ok_or_else(|| bad("not BEGIN-END ports"))).collect()
    }
}

impl FromIterator<PortRange> for PortRanges {
    fn from_iter<I: IntoIterator<Item = PortRange>>(iter: I) -> Self {
        PortRanges(iter.into_iter().collect())
    }
}

/// `31000-32000` (or a single `31000`), with begin <= end.
fn parse_range(text: &str) -> Option<PortRange> {
    let (begin, end) = text.split_once('-').unwrap_or((text, text));
    let range = PortRange { begin: begin.trim().parse().ok()?, end: end.trim().parse().ok()? };
    (range.begin <= range.end).then_some(range)
}

impl fmt::Display for PortRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|r| format!("{}-{}", r.begin, r.end)).collect();
        write!(f, "[{}]", parts.join(", "))
    }
}

impl Serialize for PortRanges {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PortRanges {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

fn yes() -> bool {
    true
}

/// `master@10.0.0.1:5050` -> `10.0.0.1:5050`; anything else unchanged.
pub fn pid_address(pid: &str) -> &str {
    pid.split_once('@').map_or(pid, |(_, address)| address)
}

fn normalize(address: &str) -> String {
    address.trim().to_ascii_lowercase()
}

fn url_address(url: &Url) -> String {
    normalize(&format!("{}:{}", url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(80)))
}

/// One master's answers, before the leader is worked out.
struct Asked {
    view: MasterView,
    /// Its state, when it answered as the leader.
    state: Option<MesosState>,
    /// Where to read the leader it names.
    leader_url: Option<Url>,
    /// Why it could not be asked at all.
    error: Option<HttpError>,
    endpoint: Service,
}

/// A master that says it leads, with its state.
struct Candidate {
    id: LeaderId,
    state: MesosState,
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<MesosFacts> {
    let facts = gather_masters(g).await;
    g.agent_feed.close();
    facts
}

async fn gather_masters(g: &Gatherer) -> Fact<MesosFacts> {
    let name_it = format!("name one with {NAME_IT}");
    if let Some(reason) = g.cfg.mesos.iter().find_map(|t| unprobed_default(&g.cfg, t.explicit, &t.display(), &name_it))
    {
        return Fact::unavailable(reason);
    }
    let mut asked: Vec<Asked> =
        join_all(g.cfg.mesos.iter().map(|t| ask_master(g, Service::new("Mesos master", t)))).await;
    if let Some(absent) = implicit_default_absent(&asked) {
        return absent;
    }
    let (leadership, state) = find_leader(g, &mut asked).await;
    Fact::observed(MesosFacts { state, masters: asked.into_iter().map(|a| a.view).collect(), leadership })
}

/// Unavailable when the only master is the implicit default and it did not answer.
fn implicit_default_absent(asked: &[Asked]) -> Option<Fact<MesosFacts>> {
    let [only] = asked else { return None };
    let fact = only.endpoint.absent_or_failed(only.error.as_ref()?, NAME_IT);
    matches!(fact, Fact::Unavailable { .. }).then_some(fact)
}

async fn ask_master(g: &Gatherer, endpoint: Service) -> Asked {
    let state = http::get_streamed(g, &endpoint, "/master/state", BodyLimit::MESOS_STATE, Redirects::Report);
    let (state, healthy, elected, zk) =
        futures::join!(state, health(g, &endpoint), elected(g, &endpoint), zk_flag(g, &endpoint));
    let said = interpret(state, endpoint.target().url.scheme(), state_parser(g)).await;
    Asked {
        view: MasterView { url: endpoint.url(), answer: said.answer, healthy, elected, zk },
        state: said.state,
        leader_url: said.leader_url,
        error: said.error,
        endpoint,
    }
}

/// What one master's `/master/state` answer says.
struct Said {
    answer: MasterAnswer,
    state: Option<MesosState>,
    leader_url: Option<Url>,
    error: Option<HttpError>,
}

impl Said {
    fn only(answer: MasterAnswer) -> Self {
        Said { answer, state: None, leader_url: None, error: None }
    }
}

async fn interpret(reply: Result<Streamed, HttpError>, scheme: &str, parse: StateParser) -> Said {
    match reply {
        Err(e) => Said { error: Some(e.clone()), ..Said::only(MasterAnswer::Failed { error: e.to_string() }) },
        Ok(Streamed { location: Some(location), .. }) => Said {
            leader_url: Some(location.clone()),
            ..Said::only(MasterAnswer::Names { leader: url_address(&location) })
        },
        Ok(reply) if reply.status == StatusCode::SERVICE_UNAVAILABLE => {
            Said::only(MasterAnswer::NoLeader { detail: "HTTP 503: no leader is elected".into() })
        }
        Ok(reply) => match reply.json_streamed(parse).await {
            Err(e) => Said::only(MasterAnswer::Failed { error: e.to_string() }),
            Ok(state) => from_own_state(state, scheme),
        },
    }
}

/// A master's own state: the leader's is kept, a follower's names its leader.
fn from_own_state(state: MesosState, scheme: &str) -> Said {
    if state.answered_by_leader() {
        let pid = state.pid.clone().unwrap_or_default();
        return Said { state: Some(state), ..Said::only(MasterAnswer::Leads { pid }) };
    }
    match state.leader_pid() {
        Some(pid) => {
            let leader = normalize(pid_address(pid));
            let leader_url = Url::parse(&format!("{scheme}://{leader}")).ok();
            Said { leader_url, ..Said::only(MasterAnswer::Names { leader }) }
        }
        None => Said::only(MasterAnswer::NoLeader { detail: "its state names no leader".into() }),
    }
}

async fn health(g: &Gatherer, endpoint: &Service) -> Option<bool> {
    let reply = http::get(g, endpoint, "/master/health", BodyLimit::SMALL, Redirects::Report).await.ok()?;
    (!reply.status.is_redirection()).then(|| reply.status.is_success())
}

/// The part of `/metrics/snapshot` clusterdoc uses.
#[derive(Debug, Deserialize)]
pub struct MasterMetrics {
    /// 1 on the leader, 0 elsewhere; absent on an agent.
    #[serde(rename = "master/elected")]
    elected: Option<f64>,
}

impl MasterMetrics {
    pub fn elected(&self) -> Option<bool> {
        self.elected.map(|e| e >= 0.5)
    }
}

/// The part of `/master/flags` the leader question uses.
#[derive(Debug, Deserialize)]
struct ZkFlag {
    flags: ZkFlagValue,
}

#[derive(Debug, Deserialize)]
struct ZkFlagValue {
    zk: Option<String>,
}

/// The master's `zk` flag, credentials taken out (`zk://user:pass@...`).
async fn zk_flag(g: &Gatherer, endpoint: &Service) -> Option<String> {
    let answer: ZkFlag = http::get_json(g, endpoint, "/master/flags", BodyLimit::SMALL).await.ok()?;
    let zk = answer.flags.zk?;
    Some(crate::target::ZkTarget::parse(&zk, true).ok()?.display())
}

async fn elected(g: &Gatherer, endpoint: &Service) -> Option<bool> {
    let metrics: MasterMetrics = http::get_json(g, endpoint, "/metrics/snapshot", BodyLimit::SMALL).await.ok()?;
    metrics.elected()
}

/// Works out who leads and reads its state, once.
async fn find_leader(g: &Gatherer, asked: &mut [Asked]) -> (Leadership, Fact<MesosState>) {
    let mut candidates: Vec<Candidate> = Vec::new();
    for a in asked.iter_mut() {
        if let Some(state) = a.state.take() {
            add_candidate(&mut candidates, state, &a.view.url, url_address(&a.endpoint.target().url));
        }
    }
    let mut unanswered: Vec<(String, String)> = Vec::new();
    for (claim, url) in claims_to_follow(asked, &candidates) {
        match read_named_leader(g, &url).await {
            Ok(state) if state.answered_by_leader() => add_candidate(&mut candidates, state, &redact_url(&url), claim),
            Ok(state) => unanswered.push((
                claim.clone(),
                format!(
                    "{claim} was named as the leader but says the leader is {}",
                    state.leader_pid().unwrap_or("unknown")
                ),
            )),
            Err(e) => unanswered.push((claim, e.to_string())),
        }
    }
    conclude(candidates, unanswered, asked)
}

/// Leaders named by masters that no candidate is known by, each once.
fn claims_to_follow(asked: &[Asked], candidates: &[Candidate]) -> Vec<(String, Url)> {
    let mut claims: Vec<(String, Url)> = Vec::new();
    for a in asked {
        if let (MasterAnswer::Names { leader }, Some(url)) = (&a.view.answer, &a.leader_url) {
            let known = candidates.iter().any(|c| c.id.is(leader)) || claims.iter().any(|(l, _)| l == leader);
            if !known {
                claims.push((leader.clone(), url.clone()));
            }
        }
    }
    claims
}

/// Reads the state of a leader a master pointed to. It was not named by the
/// user, so it gets no credentials (a 307 must not carry them elsewhere).
async fn read_named_leader(g: &Gatherer, url: &Url) -> Result<MesosState, HttpError> {
    let mut base = url.clone();
    base.set_path("");
    base.set_query(None);
    let endpoint = Service::new("Mesos leader", &Target { url: base, explicit: true });
    http::get_streamed(g, &endpoint, "/master/state", BodyLimit::MESOS_STATE, Redirects::Follow)
        .await?
        .json_streamed(state_parser(g))
        .await
}

/// `/master/state` parsed while it arrives, never held whole (100+ MB in a
/// big cluster): agents and tasks one at a time, the few other fields the
/// checks use gathered and parsed at the end.
pub fn stream_state(s: &mut JsonStream) -> Result<MesosState, Problem> {
    stream_state_with(s, Tasks::Read)
}

/// [`stream_state`], with the tasks read or skipped: skipped, each task is
/// still walked whole (so a cut or malformed body is refused just the same),
/// only not built.
pub fn stream_state_with(s: &mut JsonStream, tasks: Tasks) -> Result<MesosState, Problem> {
    stream_state_telling(s, tasks, &mut |_| {})
}

type StateParser = Box<dyn FnOnce(&mut JsonStream) -> Result<MesosState, Problem> + Send>;

/// How this run parses a state: with the tasks its checks need, telling
/// its [`AgentFeed`] of each agent.
fn state_parser(g: &Gatherer) -> StateParser {
    let (tasks, feed) = (Tasks::wanted_by(g), Arc::clone(&g.agent_feed));
    Box::new(move |s| stream_state_telling(s, tasks, &mut |agent| feed.tell(agent)))
}

/// The parse itself, with ids interned and `tell` told of each agent.
fn stream_state_telling(s: &mut JsonStream, tasks: Tasks, tell: &mut dyn FnMut(&Agent)) -> Result<MesosState, Problem> {
    interned::interning(|| parse_state(s, tasks, tell))
}

fn parse_state(s: &mut JsonStream, tasks: Tasks, tell: &mut dyn FnMut(&Agent)) -> Result<MesosState, Problem> {
    let (mut agents, mut frameworks, mut completed) = (Vec::new(), Vec::new(), Vec::new());
    let mut rest = Gathered::default();
    s.object(|s, key| match key.as_str() {
        "slaves" | "agents" => s.array(|s| {
            s.value().map(|agent| {
                tell(&agent);
                agents.push(agent);
            })
        }),
        "frameworks" => s.array(|s| stream_framework(s, tasks).map(|f| frameworks.push(f))),
        "completed_frameworks" => s.array(|s| stream_framework(s, tasks).map(|f| completed.push(f))),
        _ => s.raw().map(|raw| rest.keep(&key, raw)),
    })?;
    s.end()?;
    let mut state: MesosState = rest.parse()?;
    (state.agents, state.frameworks, state.completed_frameworks) = (agents, frameworks, completed);
    state.tasks_skipped |= tasks == Tasks::Skip;
    Ok(state)
}

fn stream_framework(s: &mut JsonStream, reading: Tasks) -> Result<Framework, Problem> {
    let mut tasks = Vec::new();
    let mut rest = Gathered::default();
    s.object(|s, key| match (key.as_str(), reading) {
        ("tasks", Tasks::Read) => s.array(|s| s.value().map(|task| tasks.push(task))),
        // One task at a time: skipping the array whole would hold it whole.
        ("tasks", Tasks::Skip) => s.array(JsonStream::skip),
        _ => s.raw().map(|raw| rest.keep(&key, raw)),
    })?;
    let mut framework: Framework = rest.parse()?;
    framework.tasks = tasks;
    Ok(framework)
}

/// Adds a leading master, merging with one that has the same pid.
fn add_candidate(candidates: &mut Vec<Candidate>, state: MesosState, url: &str, reached_at: String) {
    let pid = state.pid.clone().unwrap_or_default();
    let mut addresses = BTreeSet::from([reached_at, normalize(pid_address(&pid))]);
    if let (Some(host), Some((_, port))) = (&state.hostname, pid_address(&pid).rsplit_once(':')) {
        addresses.insert(normalize(&format!("{host}:{port}")));
    }
    match candidates.iter_mut().find(|c| c.id.pid == pid) {
        Some(existing) => existing.id.addresses.extend(addresses),
        None => candidates.push(Candidate { id: LeaderId { pid, url: url.to_string(), addresses }, state }),
    }
}

fn conclude(
    mut candidates: Vec<Candidate>,
    unanswered: Vec<(String, String)>,
    asked: &[Asked],
) -> (Leadership, Fact<MesosState>) {
    if candidates.len() > 1 {
        let leaders: Vec<String> = candidates.iter().map(|c| c.id.pid.clone()).collect();
        let error = format!("the Mesos masters disagree about the leader: {} all say they lead", leaders.join(", "));
        return (Leadership::Contested { leaders }, Fact::failed(error));
    }
    if let Some(Candidate { id, state }) = candidates.pop() {
        return (Leadership::Known(id), Fact::observed(state));
    }
    if let Some((leader, error)) = unanswered.into_iter().next() {
        return (Leadership::Unanswered { leader, error: error.clone() }, Fact::failed(error));
    }
    // A failed answer names its master already.
    let answers: Vec<String> = asked
        .iter()
        .map(|a| match &a.view.answer {
            MasterAnswer::Failed { error } => error.clone(),
            said => format!("{} {said}", a.view.url),
        })
        .collect();
    (Leadership::Unknown, Fact::failed(format!("no Mesos master knows a leader: {}", answers.join("; "))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ranges(pairs: &[(u16, u16)]) -> PortRanges {
        pairs.iter().map(|&(begin, end)| PortRange { begin, end }).collect()
    }

    #[test]
    fn ports_parse_like_mesos_writes_them() {
        assert_eq!("[31000-32000, 33000-33001]".parse(), Ok(ranges(&[(31000, 32000), (33000, 33001)])));
        assert_eq!("[31354-31354]".parse(), Ok(ranges(&[(31354, 31354)])));
        assert_eq!(" [ 80 , 443-444 ] ".parse(), Ok(ranges(&[(80, 80), (443, 444)])));
        assert_eq!("[]".parse(), Ok(PortRanges::default()));
        assert_eq!("".parse(), Ok(PortRanges::default()));
        let r: PortRanges = "[31000-32000, 33000-33001]".parse().unwrap();
        assert_eq!(r.count(), 1003);
        assert!(r.contains(33001) && !r.contains(32001));
        assert_eq!(r.to_string(), "[31000-32000, 33000-33001]");
    }

    #[test]
    fn bad_ports_are_refused_with_the_text() {
        for bad in ["31000-32000", "[32000-31000]", "[1-70000]", "[a-b]", "[1-2,]", "[-]", "{a, b}"] {
            let err = bad.parse::<PortRanges>().unwrap_err();
            assert!(err.contains("expected e.g."), "{bad}: {err}");
        }
    }

    proptest! {
        /// Agents and tasks with escapes, unicode and odd spacing, cut anywhere.
        #[test]
        fn streaming_agrees_with_serde_on_generated_states(
            hosts in proptest::collection::vec("[a-zA-Z0-9.\\\\\"é -]{0,12}", 0..5),
            cpus in proptest::collection::vec(-1e6f64..1e6, 0..5),
            size in 1usize..40,
        ) {
            let agent = |(i, h): (usize, &String)| {
                serde_json::json!({"id": format!("S{i}"), "hostname": h, "resources": {"ports": "[1-2]"}})
            };
            let agents: Vec<serde_json::Value> = hosts.iter().enumerate().map(agent).collect();
            let task = |(i, c): (usize, &f64)| {
                serde_json::json!({"id": i.to_string(), "state": "TASK_RUNNING", "resources": {"cpus": c}})
            };
            let tasks: Vec<serde_json::Value> = cpus.iter().enumerate().map(task).collect();
            let doc = serde_json::json!({
                "pid": "master@1.2.3.4:5050", "flags": {"a": [1, {"b": null}]}, "slaves": agents,
                "frameworks": [{"id": "f", "tasks": tasks, "active": true}], "completed_frameworks": []
            });
            let text = serde_json::to_string_pretty(&doc).unwrap();
            let whole: MesosState = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(streamed(text.as_bytes(), size), Ok(whole));
        }

        #[test]
        fn port_parsing_never_panics(text in ".*") {
            let _ = text.parse::<PortRanges>();
        }

        #[test]
        fn port_parsing_never_panics_on_near_misses(text in r"\[[0-9 ,\-]{0,40}\]?") {
            let _ = text.parse::<PortRanges>();
        }

        #[test]
        fn printed_ranges_parse_back(pairs in proptest::collection::vec((any::<u16>(), any::<u16>()), 0..8)) {
            let r = ranges(&pairs.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect::<Vec<_>>());
            prop_assert_eq!(r.to_string().parse::<PortRanges>(), Ok(r));
        }
    }

    #[test]
    fn the_mesos_dns_state_deserializes() {
        let text = include_str!("../../tests/fixtures/mesos/mesos-dns_factories_fake_state.json");
        let state: MesosState = serde_json::from_str(text).unwrap();
        assert!(state.answered_by_leader());
        assert_eq!(state.version.as_deref(), Some("0.19.1"));
        assert_eq!(state.agents.len(), 4);
        let agent = &state.agents[0];
        assert_eq!(agent.pid.as_deref(), Some("slave(1)@1.2.3.10:5051"));
        assert!(agent.active, "old Mesos has no `active`: counts as active");
        assert_eq!(agent.resources.ports, ranges(&[(31000, 32000)]));
        let task = &state.frameworks[0].tasks[0];
        assert_eq!(task.state, TaskState::Running);
        assert_eq!(task.resources.ports, ranges(&[(31354, 31354), (31355, 31355)]));
        let again: MesosState = serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
        assert_eq!(again, state, "a snapshot reads back the same");
    }

    fn streamed(bytes: &[u8], size: usize) -> Result<MesosState, Problem> {
        stream_state(&mut JsonStream::in_pieces(bytes, size))
    }

    fn streamed_without_tasks(bytes: &[u8], size: usize) -> Result<MesosState, Problem> {
        stream_state_with(&mut JsonStream::in_pieces(bytes, size), Tasks::Skip)
    }

    #[test]
    fn streaming_reads_the_fixtures_as_serde_does() {
        for name in ["mesos-dns_factories_fake_state.json", "apache-mesos_docs_endpoints_master_state_example.json"] {
            let path = format!("{}/tests/fixtures/mesos/{name}", env!("CARGO_MANIFEST_DIR"));
            let bytes = std::fs::read(&path).unwrap();
            let whole: MesosState = serde_json::from_slice(&bytes).unwrap();
            let mut without_tasks = whole.clone();
            for framework in without_tasks.frameworks.iter_mut().chain(&mut without_tasks.completed_frameworks) {
                framework.tasks.clear();
            }
            without_tasks.tasks_skipped = true;
            for size in [1, 2, 7, 64, 1000, bytes.len()] {
                assert_eq!(streamed(&bytes, size).as_ref(), Ok(&whole), "{name} in pieces of {size}");
                let skipped = streamed_without_tasks(&bytes, size);
                assert_eq!(skipped.as_ref(), Ok(&without_tasks), "{name} without tasks, in pieces of {size}");
            }
        }
    }

    #[test]
    fn a_cut_state_is_never_taken_for_a_whole_one() {
        let bytes = include_bytes!("../../tests/fixtures/mesos/mesos-dns_factories_fake_state.json");
        let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).unwrap();
        for cut in (0..=end).step_by(3) {
            for result in [streamed(&bytes[..cut], 5), streamed_without_tasks(&bytes[..cut], 5)] {
                assert!(matches!(&result, Err(Problem::Json(_))), "cut at {cut}: {result:?}");
            }
        }
    }

    #[test]
    fn skipped_tasks_are_still_walked_as_json() {
        let cut_in_a_task = r#"{"frameworks": [{"id": "f", "tasks": [{"id": "t", "state": "TASK_RUNNING"}, {"id": "#;
        let err = streamed_without_tasks(cut_in_a_task.as_bytes(), 4).unwrap_err().to_string();
        assert!(err.starts_with("truncated JSON"), "{err}");
        let garbled = r#"{"frameworks": [{"id": "f", "tasks": [{"id": "t"} {"id": "u"}]}]}"#;
        let err = streamed_without_tasks(garbled.as_bytes(), 4).unwrap_err().to_string();
        assert_eq!(err, "invalid JSON: expected `,` or `]` at line 1 column 51");
        // Only what is read must have the fields Mesos always writes.
        let odd_task = r#"{"frameworks": [{"id": "f", "tasks": [{"name": "no id"}]}]}"#;
        assert!(streamed(odd_task.as_bytes(), 4).is_err());
        let state = streamed_without_tasks(odd_task.as_bytes(), 4).unwrap();
        assert!(state.tasks_skipped && state.frameworks[0].tasks.is_empty());
    }

    #[test]
    fn streaming_keeps_serdes_complaints() {
        let err = |text: &str| streamed(text.as_bytes(), 4).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"slaves": [{"hostname": "a"}]}"#),
            "unexpected JSON: missing field `id` at line 1 column 29"
        );
        assert_eq!(err(r#"{"frameworks": [{"name": "x"}]}"#), "unexpected JSON: missing field `id`");
        assert_eq!(err(r#"{"slaves": null}"#), "invalid JSON: expected `[` at line 1 column 12");
        assert_eq!(err(r#"[1]"#), "invalid JSON: expected `{` at line 1 column 1");
        assert_eq!(err(r#"{"version": 1}"#), "unexpected JSON: invalid type: integer `1`, expected a string");
    }

    #[test]
    fn the_apache_example_has_a_leader_and_no_agents() {
        let text = include_str!("../../tests/fixtures/mesos/apache-mesos_docs_endpoints_master_state_example.json");
        let state: MesosState = serde_json::from_str(text).unwrap();
        assert!(state.answered_by_leader());
        assert_eq!(state.hostname.as_deref(), Some("localhost"));
        assert!(state.agents.is_empty() && state.frameworks.is_empty());
    }

    #[test]
    fn unknown_task_states_are_kept_as_unrecognized() {
        let task: Task = serde_json::from_str(r#"{"id": "t", "state": "TASK_FROM_THE_FUTURE"}"#).unwrap();
        assert_eq!(task.state, TaskState::Unrecognized);
    }

    #[test]
    fn a_leader_is_known_by_its_pid_host_name_and_url() {
        let state = MesosState {
            pid: Some("master@10.0.0.1:5050".into()),
            leader: Some("master@10.0.0.1:5050".into()),
            hostname: Some("M1.example".into()),
            ..MesosState::default()
        };
        let mut candidates = Vec::new();
        add_candidate(&mut candidates, state, "http://127.0.0.1:9", "127.0.0.1:9".into());
        let id = &candidates[0].id;
        assert!(id.is("master@10.0.0.1:5050") && id.is("m1.example:5050") && id.is("127.0.0.1:9"));
        assert!(!id.is("10.0.0.2:5050"));
    }
}
