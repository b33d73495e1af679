//! Facts: ZooKeeper. Two observations of the ensemble Marathon's `--zk` URL
//! names: what every server says about itself (the four-letter words `srvr`,
//! `mntr` and `ruok`), and, read through a client session and never written,
//! the tree Marathon keeps under its path (storage version, leader election
//! nodes, state layout, an interrupted migration).

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::join_all;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};
use zookeeper_client as zk;

use super::{Fact, Gatherer, net_error, unprobed_default};
use crate::target::HostPort;
use crate::version::Version;

// ---------------------------------------------------------------------------
// The ensemble: four-letter words
// ---------------------------------------------------------------------------

/// What each server of the ensemble said, in the order the URL names them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EnsembleFacts {
    pub servers: Vec<ServerFacts>,
}

impl EnsembleFacts {
    /// The ZooKeeper release the ensemble runs, from the first server that
    /// said (`srvr` or `mntr`).
    pub fn zookeeper_version(&self) -> Option<Version> {
        self.servers.iter().find_map(ServerFacts::zookeeper_version)
    }
}

/// One server's answers to `srvr`, `mntr` and `ruok`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerFacts {
    pub server: HostPort,
    pub srvr: Probe<Srvr>,
    pub mntr: Probe<Mntr>,
    /// `imok`: the process runs (not that it joined a quorum).
    pub ruok: Probe<()>,
}

impl ServerFacts {
    /// A ZooKeeper process answered at least one of the commands, even if
    /// only to refuse it.
    pub fn answered(&self) -> bool {
        self.srvr.answered() || self.mntr.answered() || self.ruok.answered()
    }

    /// The server's role, from `srvr`, else from `mntr` (a whitelist may
    /// allow one and not the other).
    pub fn mode(&self) -> Option<&Mode> {
        match (&self.srvr, &self.mntr) {
            (Probe::Answered { value }, _) => Some(&value.mode),
            (_, Probe::Answered { value }) => value.server_state.as_ref(),
            _ => None,
        }
    }

    pub fn zookeeper_version(&self) -> Option<Version> {
        let text = match (&self.srvr, &self.mntr) {
            (Probe::Answered { value }, _) => Some(value.version.as_str()),
            (_, Probe::Answered { value }) => value.version.as_deref(),
            _ => None,
        }?;
        release_of(text)
    }

    /// The commands this server refused because its `4lw.commands.whitelist`
    /// does not list them.
    pub fn refused_commands(&self) -> Vec<&'static str> {
        [("srvr", self.srvr.is_refused()), ("mntr", self.mntr.is_refused()), ("ruok", self.ruok.is_refused())]
            .into_iter()
            .filter_map(|(cmd, refused)| refused.then_some(cmd))
            .collect()
    }
}

/// How one four-letter word went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Probe<T> {
    Answered {
        value: T,
    },
    /// "<cmd> is not executed because it is not in the whitelist": the server
    /// runs, but this says nothing about its health.
    NotInWhitelist,
    /// "This ZooKeeper instance is not currently serving requests": starting,
    /// or not part of a quorum.
    NotServing,
    /// No connection, or no answer in time.
    Unreachable {
        error: String,
    },
    /// Something answered, but not as ZooKeeper does.
    Unintelligible {
        answer: String,
    },
}

impl<T> Probe<T> {
    /// ZooKeeper itself answered (whatever it said).
    pub fn answered(&self) -> bool {
        matches!(self, Probe::Answered { .. } | Probe::NotInWhitelist | Probe::NotServing)
    }

    pub fn is_refused(&self) -> bool {
        matches!(self, Probe::NotInWhitelist)
    }
}

/// A server's role in the ensemble (`Mode:` in `srvr`, `zk_server_state` in `mntr`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Leader,
    Follower,
    Observer,
    Standalone,
    ReadOnly,
    Other(String),
}

impl Mode {
    fn parse(text: &str) -> Mode {
        match text.trim() {
            "leader" => Mode::Leader,
            "follower" => Mode::Follower,
            "observer" => Mode::Observer,
            "standalone" => Mode::Standalone,
            "read-only" => Mode::ReadOnly,
            other => Mode::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Mode::Leader => "leader",
            Mode::Follower => "follower",
            Mode::Observer => "observer",
            Mode::Standalone => "standalone",
            Mode::ReadOnly => "read-only",
            Mode::Other(text) => text,
        }
    }
}

/// The parts of `srvr` clusterdoc uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Srvr {
    /// `Zookeeper version:` as printed, e.g. `3.8.0-..., built on ...`.
    pub version: String,
    pub mode: Mode,
    pub zxid: Option<String>,
    pub node_count: Option<u64>,
    pub connections: Option<u64>,
}

/// The parts of `mntr` clusterdoc uses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Mntr {
    pub version: Option<String>,
    pub server_state: Option<Mode>,
    /// Voting members the server was configured with (3.6+).
    pub quorum_size: Option<u32>,
    /// Leader only: followers in sync with it.
    pub synced_followers: Option<u32>,
    /// Leader only: followers and observers connected to it.
    pub learners: Option<u32>,
}

const WHITELIST_REFUSAL: &str = "is not executed because it is not in the whitelist";
const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";
/// More than any four-letter word answers with; a cap against a peer that streams.
const MAX_ANSWER_BYTES: u64 = 1 << 20;

/// `srvr`: `Key: value` lines; `Mode` and `Zookeeper version` are required.
pub fn parse_srvr(text: &str) -> Option<Srvr> {
    let fields: BTreeMap<&str, &str> =
        text.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim(), v.trim())).collect();
    let number = |key: &str| fields.get(key).and_then(|v| v.parse().ok());
    Some(Srvr {
        version: fields.get("Zookeeper version")?.to_string(),
        mode: Mode::parse(fields.get("Mode")?),
        zxid: fields.get("Zxid").map(|z| z.to_string()),
        node_count: number("Node count"),
        connections: number("Connections"),
    })
}

/// `mntr`: `key<TAB>value` lines; at least one `zk_` key is required.
pub fn parse_mntr(text: &str) -> Option<Mntr> {
    let fields: BTreeMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.trim(), v.trim()))
        .filter(|(k, _)| k.starts_with("zk_"))
        .collect();
    if fields.is_empty() {
        return None;
    }
    let number = |key: &str| fields.get(key).and_then(|v| v.parse().ok());
    Some(Mntr {
        version: fields.get("zk_version").map(|v| v.to_string()),
        server_state: fields.get("zk_server_state").map(|s| Mode::parse(s)),
        quorum_size: number("zk_quorum_size"),
        synced_followers: number("zk_synced_followers"),
        learners: number("zk_learners"),
    })
}

pub fn parse_ruok(text: &str) -> Option<()> {
    (text.trim() == "imok").then_some(())
}

/// `3.8.0-abc, built on ...` -> 3.8.0.
fn release_of(version_text: &str) -> Option<Version> {
    version_text.split([',', ' ']).next()?.parse().ok()
}

/// Sorts an answer into refusal, not serving, parsed or unintelligible.
pub fn classify<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Probe<T> {
    if text.contains(WHITELIST_REFUSAL) {
        return Probe::NotInWhitelist;
    }
    if text.contains(NOT_SERVING) {
        return Probe::NotServing;
    }
    match parse(text) {
        Some(value) => Probe::Answered { value },
        None if text.trim().is_empty() => {
            Probe::Unintelligible { answer: "(closed the connection without answering)".into() }
        }
        None => Probe::Unintelligible { answer: excerpt(text, 200) },
    }
}

fn excerpt(text: &str, max_chars: usize) -> String {
    let trimmed = text.trim();
    match trimmed.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}...", &trimmed[..cut]),
        None => trimmed.to_string(),
    }
}

/// Sends one four-letter word on its own connection (the server answers and
/// closes), all within `limit`.
async fn four_letter_word(server: &HostPort, cmd: &str, limit: Duration) -> Result<String, String> {
    let exchange = async {
        let mut stream = TcpStream::connect((server.host.as_str(), server.port)).await?;
        stream.write_all(cmd.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.take(MAX_ANSWER_BYTES).read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&answer).into_owned())
    };
    match timeout(limit, exchange).await {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(net_error::io_reason(&e)),
        Err(_) => Err(format!("no answer to {cmd} within {}", humantime::format_duration(limit))),
    }
}

async fn probe<T>(server: &HostPort, cmd: &str, limit: Duration, parse: impl Fn(&str) -> Option<T>) -> Probe<T> {
    match four_letter_word(server, cmd, limit).await {
        Ok(text) => classify(&text, parse),
        Err(error) => Probe::Unreachable { error },
    }
}

async fn probe_server(server: &HostPort, limit: Duration) -> ServerFacts {
    let (srvr, mntr, ruok) = tokio::join!(
        probe(server, "srvr", limit, parse_srvr),
        probe(server, "mntr", limit, parse_mntr),
        probe(server, "ruok", limit, parse_ruok),
    );
    ServerFacts { server: server.clone(), srvr, mntr, ruok }
}

/// How a user names the ensemble, for skip reasons.
const NAME_IT: &str = "name the ensemble with --zk URL or MARATHON_ZK";

pub(crate) async fn gather_ensemble(g: &Gatherer) -> Fact<EnsembleFacts> {
    let target = &g.cfg.zk;
    if let Some(reason) = unprobed_default(&g.cfg, target.explicit, &target.display(), NAME_IT) {
        return Fact::unavailable(reason);
    }
    let servers = join_all(target.servers.iter().map(|s| probe_server(s, g.cfg.timeout))).await;
    if !target.explicit && !servers.iter().any(ServerFacts::answered) {
        let cause = servers.iter().find_map(|s| match &s.srvr {
            Probe::Unreachable { error } => Some(format!(" ({}: {error})", s.server)),
            _ => None,
        });
        return Fact::unavailable(format!(
            "no ZooKeeper answers at the default {}{}; {NAME_IT}",
            target.display(),
            cause.unwrap_or_default()
        ));
    }
    Fact::observed(EnsembleFacts { servers })
}

// ---------------------------------------------------------------------------
// Marathon's tree
// ---------------------------------------------------------------------------

/// What Marathon left under its ZooKeeper path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarathonTree {
    /// The path, e.g. `/marathon`.
    pub path: String,
    pub exists: bool,
    pub children: Vec<String>,
    /// `<path>/state/internal:storage:version`.
    pub storage_version: VersionNode,
    /// `<path>/leader`: twitter-commons election (1.1; 1.3 and 1.4 when
    /// selected) and the tombstones later versions write; `None` if absent.
    pub leader: Option<Vec<ElectionNode>>,
    /// `<path>/leader-curator`: Curator LeaderLatch (1.3+); `None` if absent.
    pub leader_curator: Option<Vec<ElectionNode>>,
    /// The children of `<path>/state`; `None` if absent.
    pub state: Option<StateLayout>,
    /// `<path>/state/migration-in-progress`, if present.
    pub migration_in_progress: Option<MigrationFlag>,
    /// The Mesos framework id Marathon registers with.
    #[serde(default)]
    pub framework_id: StoredFrameworkId,
    /// How many instances (1.4+) or tasks (up to 1.3) Marathon keeps: with
    /// instances and no framework id it refuses to register.
    #[serde(default = "unread_instances")]
    pub instances: Fact<usize>,
}

fn unread_instances() -> Fact<usize> {
    Fact::unavailable("not read (a snapshot from an older clusterdoc)")
}

impl MarathonTree {
    fn absent(path: &str) -> Self {
        MarathonTree {
            path: path.to_string(),
            exists: false,
            children: Vec::new(),
            storage_version: VersionNode::Absent,
            leader: None,
            leader_curator: None,
            state: None,
            migration_in_progress: None,
            framework_id: StoredFrameworkId::Absent,
            instances: Fact::observed(0),
        }
    }

    /// Live twitter-commons candidates: `member_<seq>` nodes held by a session
    /// (not the tombstones a Curator leader writes).
    pub fn live_twitter_members(&self) -> Vec<&ElectionNode> {
        self.leader.iter().flatten().filter(|n| n.live() && n.kind() == ElectionNodeKind::TwitterMember).collect()
    }

    /// Live Curator LeaderLatch candidates.
    pub fn live_curator_latches(&self) -> Vec<&ElectionNode> {
        self.leader_curator.iter().flatten().filter(|n| n.live()).collect()
    }
}

/// The storage version node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum VersionNode {
    Absent,
    Stored {
        version: StoredVersion,
    },
    /// Present but not what Marathon writes (or gzip-compressed).
    Undecodable {
        bytes: usize,
        problem: String,
    },
    /// Present but could not be read (e.g. not authorized).
    Unreadable {
        error: String,
    },
}

/// Marathon's `StorageVersion` message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    pub format: StorageFormat,
    /// Size of the node's data, for messages.
    pub bytes: usize,
}

impl StoredVersion {
    /// The number as stored, e.g. 18.200.0.
    pub fn number(&self) -> Version {
        Version::new(self.major, self.minor, self.patch)
    }

    /// The Marathon release that wrote it: from 1.7 the stored number is no
    /// longer the build version (17.0.0 is 1.7, 110.100.0 is 1.10).
    pub fn release(&self) -> Version {
        match self.major {
            17 => Version::new(1, 7, 0),
            18 => Version::new(1, 8, 0),
            19 => Version::new(1, 9, 0),
            110 => Version::new(1, 10, 0),
            _ => self.number(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StorageFormat {
    Legacy,
    PersistenceStore,
}

impl StorageFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            StorageFormat::Legacy => "LEGACY",
            StorageFormat::PersistenceStore => "PERSISTENCE_STORE",
        }
    }
}

/// One child of an election directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElectionNode {
    pub name: String,
    /// Marathon writes the candidate's `host:port`.
    pub data: String,
    /// The session holding the node; 0 for a persistent node.
    pub ephemeral_owner: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElectionNodeKind {
    /// `member_<seq>`: a twitter-commons candidate.
    TwitterMember,
    /// `member_-00000000` or `member_-1<seq>`: written by a Curator leader so
    /// that older instances see a leader.
    Tombstone,
    Other,
}

impl ElectionNode {
    /// Held by a live session (ephemeral nodes vanish with their session).
    pub fn live(&self) -> bool {
        self.ephemeral_owner != 0
    }

    pub fn kind(&self) -> ElectionNodeKind {
        match self.name.strip_prefix("member_") {
            Some(rest) if rest.starts_with('-') => ElectionNodeKind::Tombstone,
            Some(seq) if !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit()) => ElectionNodeKind::TwitterMember,
            _ => ElectionNodeKind::Other,
        }
    }

    /// The host of the `host:port` data, if that is what it holds.
    pub fn host(&self) -> Option<&str> {
        let (host, port) = self.data.rsplit_once(':')?;
        (!host.is_empty() && port.parse::<u16>().is_ok()).then_some(host.trim_matches(['[', ']']))
    }
}

/// The children of `<path>/state`: flat `kind:id` entries (up to 1.3) or
/// category directories (1.4+).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateLayout {
    pub flat_entries: usize,
    /// A few flat entries, for evidence.
    pub flat_examples: Vec<String>,
    /// Category directories (`apps`, `group`, `instance`, ...).
    pub categories: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutKind {
    Empty,
    Flat,
    Nested,
    Mixed,
}

impl StateLayout {
    /// Names Marathon keeps beside its data in either layout.
    const BOOKKEEPING: [&str; 2] = [STORAGE_VERSION_NAME, "migration-in-progress"];
    const EXAMPLES: usize = 3;

    pub fn of(children: &[String]) -> Self {
        let mut layout = StateLayout::default();
        for child in children.iter().filter(|c| !Self::BOOKKEEPING.contains(&c.as_str())) {
            if child.contains(':') {
                layout.flat_entries += 1;
                if layout.flat_examples.len() < Self::EXAMPLES {
                    layout.flat_examples.push(child.clone());
                }
            } else {
                layout.categories.push(child.clone());
            }
        }
        layout.flat_examples.sort();
        layout.categories.sort();
        layout
    }

    pub fn kind(&self) -> LayoutKind {
        match (self.flat_entries > 0, !self.categories.is_empty()) {
            (false, false) => LayoutKind::Empty,
            (true, false) => LayoutKind::Flat,
            (false, true) => LayoutKind::Nested,
            (true, true) => LayoutKind::Mixed,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationFlag {
    /// When the flag was created (RFC 3339).
    pub created: String,
}

/// Marathon's `ZKStoreEntry` (every stored value is wrapped in one). Fields
/// are optional here so a missing one is reported, not defaulted.
#[derive(Clone, PartialEq, prost::Message)]
struct ZkStoreEntry {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(bytes = "vec", optional, tag = "2")]
    uuid: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "3")]
    value: Option<Vec<u8>>,
    #[prost(bool, optional, tag = "4")]
    compressed: Option<bool>,
}

/// Marathon's `StorageVersion`.
#[derive(Clone, PartialEq, prost::Message)]
struct StorageVersionMessage {
    #[prost(uint32, optional, tag = "1")]
    major: Option<u32>,
    #[prost(uint32, optional, tag = "2")]
    minor: Option<u32>,
    #[prost(uint32, optional, tag = "3")]
    patch: Option<u32>,
    #[prost(enumeration = "StorageFormatCode", optional, tag = "4")]
    format: Option<i32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, prost::Enumeration)]
#[repr(i32)]
enum StorageFormatCode {
    Legacy = 0,
    PersistenceStore = 1,
}

const STORAGE_VERSION_NAME: &str = "internal:storage:version";
const EXPECTED_VERSION_NODE: &str =
    "expected a protobuf ZKStoreEntry whose value is a StorageVersion {major, minor, patch, format}";

/// Decodes the storage version node's data.
pub fn decode_storage_version(data: &[u8]) -> VersionNode {
    let undecodable = |problem: String| VersionNode::Undecodable { bytes: data.len(), problem };
    let entry = match <ZkStoreEntry as prost::Message>::decode(data) {
        Ok(entry) => entry,
        Err(e) => return undecodable(format!("not a ZKStoreEntry ({e}); {EXPECTED_VERSION_NODE}")),
    };
    if let Some(name) = entry.name.as_deref().filter(|n| *n != STORAGE_VERSION_NAME) {
        return undecodable(format!("a ZKStoreEntry named {name:?}, not {STORAGE_VERSION_NAME:?}"));
    }
    let Some(value) = entry.value else {
        return undecodable(format!("a ZKStoreEntry without a value; {EXPECTED_VERSION_NODE}"));
    };
    if entry.compressed == Some(true) {
        return undecodable(
            "the value is gzip-compressed (ZKStoreEntry.compressed = true) and clusterdoc does not decompress it"
                .into(),
        );
    }
    let message = match <StorageVersionMessage as prost::Message>::decode(value.as_slice()) {
        Ok(m) => m,
        Err(e) => return undecodable(format!("the value is not a StorageVersion ({e}); {EXPECTED_VERSION_NODE}")),
    };
    let (Some(major), Some(minor), Some(patch)) = (message.major, message.minor, message.patch) else {
        return undecodable(format!(
            "the StorageVersion lacks major, minor or patch ({} bytes of value); {EXPECTED_VERSION_NODE}",
            value.len()
        ));
    };
    let format = match message.format.map(StorageFormatCode::try_from) {
        None | Some(Ok(StorageFormatCode::Legacy)) => StorageFormat::Legacy,
        Some(Ok(StorageFormatCode::PersistenceStore)) => StorageFormat::PersistenceStore,
        Some(Err(_)) => {
            return undecodable(format!(
                "unknown StorageFormat {} (expected LEGACY = 0 or PERSISTENCE_STORE = 1)",
                message.format.unwrap_or_default()
            ));
        }
    };
    VersionNode::Stored { version: StoredVersion { major, minor, patch, format, bytes: data.len() } }
}

/// A Mesos framework id a scheduler keeps in ZooKeeper to re-register under.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StoredFrameworkId {
    /// No id stored: the scheduler registers as a new framework.
    #[default]
    Absent,
    Stored {
        id: String,
        /// The node it was read from.
        path: String,
    },
    /// Present but not what the scheduler writes.
    Undecodable { path: String, problem: String },
    /// Present but could not be read (e.g. not authorized).
    Unreadable { error: String },
}

/// Mesos' `FrameworkID { required string value = 1; }`.
#[derive(Clone, PartialEq, prost::Message)]
struct FrameworkIdMessage {
    #[prost(string, optional, tag = "1")]
    value: Option<String>,
}

/// Marathon 1.4+ writes `state/framework-id/<bucket>/id`, the bucket being
/// `abs("id".hashCode % 16)` in hex (`ZkId.path`): always `b`.
pub const NESTED_FRAMEWORK_ID: &str = "framework-id/b/id";
/// Marathon up to 1.3 writes the flat entry `state/framework:id`.
pub const FLAT_FRAMEWORK_ID: &str = "framework:id";

/// A framework id must look like one Mesos hands out (`<uuid>-<seq>`): it
/// goes into evidence and remedies.
fn valid_framework_id(id: &str) -> bool {
    id.len() <= 128
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn framework_id_of(value: &[u8], path: &str) -> StoredFrameworkId {
    let undecodable = |problem: String| StoredFrameworkId::Undecodable { path: path.to_string(), problem };
    match <FrameworkIdMessage as prost::Message>::decode(value) {
        Ok(FrameworkIdMessage { value: Some(id) }) if valid_framework_id(&id) => {
            StoredFrameworkId::Stored { id, path: path.to_string() }
        }
        Ok(FrameworkIdMessage { value: Some(id) }) => {
            undecodable(format!("the FrameworkID value {:?} is not a Mesos framework id", excerpt(&id, 80)))
        }
        Ok(FrameworkIdMessage { value: None }) => undecodable("a FrameworkID without a value".into()),
        Err(e) => undecodable(format!("not a protobuf FrameworkID ({e})")),
    }
}

/// Decodes Marathon 1.4+'s framework id node: the FrameworkID message itself.
pub fn decode_nested_framework_id(data: &[u8], path: &str) -> StoredFrameworkId {
    framework_id_of(data, path)
}

/// Decodes Marathon <= 1.3's `framework:id`: a ZKStoreEntry around the FrameworkID.
pub fn decode_flat_framework_id(data: &[u8], path: &str) -> StoredFrameworkId {
    let undecodable = |problem: String| StoredFrameworkId::Undecodable { path: path.to_string(), problem };
    match <ZkStoreEntry as prost::Message>::decode(data) {
        Err(e) => undecodable(format!("not a ZKStoreEntry ({e})")),
        Ok(ZkStoreEntry { compressed: Some(true), .. }) => {
            undecodable("the value is gzip-compressed and clusterdoc does not decompress it".into())
        }
        Ok(ZkStoreEntry { value: Some(value), .. }) => framework_id_of(&value, path),
        Ok(_) => undecodable("a ZKStoreEntry without a value".into()),
    }
}

/// Flink's `ZooKeeperMesosWorkerStore` keeps the id as UTF-8 text; empty
/// means none.
pub fn decode_flink_framework_id(data: &[u8], path: &str) -> StoredFrameworkId {
    match std::str::from_utf8(data) {
        Ok("") => StoredFrameworkId::Absent,
        Ok(id) if valid_framework_id(id) => StoredFrameworkId::Stored { id: id.to_string(), path: path.to_string() },
        _ => StoredFrameworkId::Undecodable {
            path: path.to_string(),
            problem: format!("{:?} is not a Mesos framework id", excerpt(&String::from_utf8_lossy(data), 80)),
        },
    }
}

/// Election node data is short `host:port` text; anything longer is cut.
const MAX_ELECTION_DATA_CHARS: usize = 256;

/// Reads the tree with a client session, one bounded request at a time.
struct TreeReader<'a> {
    client: &'a zk::Client,
    ensemble: String,
    limit: Duration,
}

impl TreeReader<'_> {
    /// One request, bounded, with the error in context; `Ok(None)` when the node is absent.
    async fn read<T>(
        &self,
        path: &str,
        request: impl Future<Output = Result<T, zk::Error>>,
    ) -> Result<Option<T>, String> {
        match timeout(self.limit, request).await {
            Ok(Ok(value)) => Ok(Some(value)),
            Ok(Err(zk::Error::NoNode)) => Ok(None),
            Ok(Err(zk::Error::NoAuth)) => Err(format!(
                "ZooKeeper {}: reading {path}: not authorized (the node has an ACL; clusterdoc reads without \
                 credentials)",
                self.ensemble
            )),
            Ok(Err(e)) => Err(format!("ZooKeeper {}: reading {path}: {e}", self.ensemble)),
            Err(_) => Err(format!(
                "ZooKeeper {}: reading {path}: no answer within {}",
                self.ensemble,
                humantime::format_duration(self.limit)
            )),
        }
    }

    async fn children(&self, path: &str) -> Result<Option<Vec<String>>, String> {
        self.read(path, self.client.list_children(path)).await
    }

    async fn data(&self, path: &str) -> Result<Option<(Vec<u8>, zk::Stat)>, String> {
        self.read(path, self.client.get_data(path)).await
    }

    async fn election(&self, dir: &str) -> Result<Option<Vec<ElectionNode>>, String> {
        let Some(mut names) = self.children(dir).await? else {
            return Ok(None);
        };
        names.sort();
        let nodes = join_all(names.into_iter().map(|name| async move {
            let path = format!("{dir}/{name}");
            // A candidate may leave between listing and reading: skip it.
            Ok::<_, String>(self.data(&path).await?.map(|(data, stat)| ElectionNode {
                data: excerpt(&String::from_utf8_lossy(&data), MAX_ELECTION_DATA_CHARS),
                ephemeral_owner: stat.ephemeral_owner,
                name,
            }))
        }))
        .await;
        Ok(Some(nodes.into_iter().collect::<Result<Vec<_>, _>>()?.into_iter().flatten().collect()))
    }

    async fn storage_version(&self, path: &str) -> VersionNode {
        match self.data(path).await {
            Ok(Some((data, _))) => decode_storage_version(&data),
            Ok(None) => VersionNode::Absent,
            Err(error) => VersionNode::Unreadable { error },
        }
    }

    /// The framework id at `path`, decoded by `decode`; `None` when absent.
    async fn framework_id(
        &self,
        path: String,
        decode: fn(&[u8], &str) -> StoredFrameworkId,
    ) -> Option<StoredFrameworkId> {
        match self.data(&path).await {
            Ok(Some((data, _))) => Some(decode(&data, &path)),
            Ok(None) => None,
            Err(error) => Some(StoredFrameworkId::Unreadable { error }),
        }
    }

    /// Marathon's id: the 1.4+ node, else the flat entry of older versions.
    async fn marathon_framework_id(&self, state: &str) -> StoredFrameworkId {
        let nested = self.framework_id(format!("{state}/{NESTED_FRAMEWORK_ID}"), decode_nested_framework_id);
        let flat = self.framework_id(format!("{state}/{FLAT_FRAMEWORK_ID}"), decode_flat_framework_id);
        let (nested, flat) = tokio::join!(nested, flat);
        nested.or(flat).unwrap_or_default()
    }

    /// Instances under `state/instance/<bucket>/` (1.4+).
    async fn nested_instances(&self, state: &str) -> Result<usize, String> {
        let dir = format!("{state}/instance");
        let buckets = self.children(&dir).await?.unwrap_or_default();
        let counts = join_all(buckets.iter().map(|b| self.children_count(format!("{dir}/{b}")))).await;
        counts.into_iter().sum()
    }

    /// From the node's stat: no listing of what may be thousands of names.
    async fn children_count(&self, path: String) -> Result<usize, String> {
        let stat = self.read(&path, self.client.check_stat(&path)).await?.flatten();
        Ok(stat.map_or(0, |s| s.num_children.max(0) as usize))
    }

    async fn migration_flag(&self, path: &str) -> Result<Option<MigrationFlag>, String> {
        let stat = self.read(path, self.client.check_stat(path)).await?.flatten();
        Ok(stat.map(|s| MigrationFlag { created: rfc3339_millis(s.ctime) }))
    }

    async fn tree(&self, root: &str) -> Result<MarathonTree, String> {
        let Some(mut children) = self.children(root).await? else {
            return Ok(MarathonTree::absent(root));
        };
        children.sort();
        let state = format!("{root}/state");
        let [version_path, leader_path, curator_path, migration_path] = [
            format!("{state}/{STORAGE_VERSION_NAME}"),
            format!("{root}/leader"),
            format!("{root}/leader-curator"),
            format!("{state}/migration-in-progress"),
        ];
        let (storage_version, leader, leader_curator, state_children, migration, framework_id, nested_instances) = tokio::join!(
            self.storage_version(&version_path),
            self.election(&leader_path),
            self.election(&curator_path),
            self.children(&state),
            self.migration_flag(&migration_path),
            self.marathon_framework_id(&state),
            self.nested_instances(&state),
        );
        let state_children = state_children?;
        // Up to 1.3 each task is a flat `task:<id>` entry.
        let flat_tasks = state_children.iter().flatten().filter(|c| c.starts_with("task:")).count();
        let instances = match nested_instances {
            Ok(nested) => Fact::observed(nested + flat_tasks),
            Err(error) => Fact::failed(error),
        };
        Ok(MarathonTree {
            path: root.to_string(),
            exists: true,
            children,
            storage_version,
            leader: leader?,
            leader_curator: leader_curator?,
            state: state_children.map(|c| StateLayout::of(&c)),
            migration_in_progress: migration?,
            framework_id,
            instances,
        })
    }
}

fn rfc3339_millis(epoch_millis: i64) -> String {
    let at = std::time::UNIX_EPOCH + Duration::from_millis(epoch_millis.max(0) as u64);
    humantime::format_rfc3339_seconds(at).to_string()
}

/// A read-only session with the servers of `--zk` that answered a
/// four-letter word; the fact to return instead when there is none.
async fn open_session<T>(g: &Gatherer) -> Result<zk::Client, Fact<T>> {
    let target = &g.cfg.zk;
    let ensemble = match g.zookeeper().await {
        Fact::Observed { value } => value,
        Fact::Unavailable { reason } => return Err(Fact::unavailable(reason.clone())),
        Fact::Failed { error } => return Err(Fact::failed(error.clone())),
    };
    // Only servers that answered a four-letter word can hold a session; one
    // that accepts connections and never speaks must not be waited on.
    let reachable: Vec<String> =
        ensemble.servers.iter().filter(|s| s.answered()).map(|s| s.server.to_string()).collect();
    if reachable.is_empty() {
        let causes: Vec<String> = ensemble
            .servers
            .iter()
            .map(|s| match &s.srvr {
                Probe::Unreachable { error } => format!("ZooKeeper {}: {error}", s.server),
                _ => format!("ZooKeeper {}: no usable answer", s.server),
            })
            .collect();
        return Err(Fact::failed(format!(
            "no ZooKeeper server of {} answers: {}",
            target.display(),
            causes.join("; ")
        )));
    }
    let connect_by = (Instant::now() + g.cfg.timeout).min(g.deadline);
    let connector = zk::Client::connector()
        .with_session_timeout(g.cfg.timeout)
        .with_connection_timeout(g.cfg.timeout)
        .with_fail_eagerly();
    match timeout_at(connect_by, connector.connect(&reachable.join(","))).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(Fact::failed(format!("ZooKeeper {}: no session: {e}", target.display()))),
        Err(_) => Err(Fact::failed(format!(
            "ZooKeeper {}: no session within {}",
            target.display(),
            humantime::format_duration(g.cfg.timeout)
        ))),
    }
}

pub(crate) async fn gather_marathon_tree(g: &Gatherer) -> Fact<MarathonTree> {
    let client = match open_session(g).await {
        Ok(client) => client,
        Err(fact) => return fact,
    };
    let reader = TreeReader { client: &client, ensemble: g.cfg.zk.display(), limit: g.cfg.timeout };
    match reader.tree(&g.cfg.zk.path).await {
        Ok(tree) => Fact::observed(tree),
        Err(error) => Fact::failed(error),
    }
}

// ---------------------------------------------------------------------------
// Flink's Mesos worker stores
// ---------------------------------------------------------------------------

/// Flink's default `high-availability.zookeeper.path.root`.
pub const FLINK_HA_ROOT: &str = "/flink";
/// More Flink clusters than this under the root are not read (evidence says so).
const MAX_FLINK_CLUSTERS: usize = 256;

/// The framework ids Flink's Mesos resource managers (Flink <= 1.13) keep at
/// `<root>/<cluster-id>/mesos-workers/frameworkId`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlinkWorkerStores {
    pub root: String,
    /// Clusters with a Mesos worker store, by cluster id.
    pub stores: Vec<FlinkWorkerStore>,
    /// Cluster ids beyond the cap, not read.
    pub not_read: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlinkWorkerStore {
    pub cluster: String,
    pub framework_id: StoredFrameworkId,
}

pub(crate) async fn gather_flink_stores(g: &Gatherer) -> Fact<FlinkWorkerStores> {
    let client = match open_session(g).await {
        Ok(client) => client,
        Err(fact) => return fact,
    };
    let reader = TreeReader { client: &client, ensemble: g.cfg.zk.display(), limit: g.cfg.timeout };
    let mut clusters = match reader.children(FLINK_HA_ROOT).await {
        Ok(clusters) => clusters.unwrap_or_default(),
        Err(error) => return Fact::failed(error),
    };
    clusters.sort();
    let not_read = clusters.len().saturating_sub(MAX_FLINK_CLUSTERS);
    clusters.truncate(MAX_FLINK_CLUSTERS);
    let reads = clusters.into_iter().map(|cluster| {
        let reader = &reader;
        async move {
            let path = format!("{FLINK_HA_ROOT}/{cluster}/mesos-workers/frameworkId");
            let framework_id = reader.framework_id(path, decode_flink_framework_id).await?;
            Some(FlinkWorkerStore { cluster, framework_id })
        }
    });
    let stores = join_all(reads).await.into_iter().flatten().collect();
    Fact::observed(FlinkWorkerStores { root: FLINK_HA_ROOT.to_string(), stores, not_read })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SRVR_LEADER: &str = "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n\
        Latency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 0\nConnections: 1\nOutstanding: 0\n\
        Zxid: 0x100000002\nMode: leader\nNode count: 5\nProposal sizes last/min/max: -1/-1/-1\n";

    #[test]
    fn srvr_gives_mode_version_and_counts() {
        let srvr = parse_srvr(SRVR_LEADER).unwrap();
        assert_eq!(srvr.mode, Mode::Leader);
        assert_eq!(release_of(&srvr.version), Some(Version::new(3, 8, 0)));
        assert_eq!(srvr.zxid.as_deref(), Some("0x100000002"));
        assert_eq!((srvr.node_count, srvr.connections), (Some(5), Some(1)));
        let old = "Zookeeper version: 3.4.14-4c25d480e66aadd371de8bd2fd8da255ac140bcf, built on 03/06/2019 16:18 GMT\n\
                   Mode: follower\n";
        let srvr = parse_srvr(old).unwrap();
        assert_eq!((srvr.mode, release_of(&srvr.version)), (Mode::Follower, Some(Version::new(3, 4, 14))));
        assert_eq!(parse_srvr("Mode: read-only\nZookeeper version: 3.5.9").unwrap().mode, Mode::ReadOnly);
        assert_eq!(parse_srvr("HTTP/1.1 400 Bad Request\r\n\r\n"), None);
    }

    #[test]
    fn mntr_gives_state_and_quorum_size() {
        let text = "zk_version\t3.8.0-x, built on y\nzk_server_state\tleader\nzk_quorum_size\t3\n\
                    zk_synced_followers\t2\nzk_learners\t2\nzk_avg_latency\t0.0\n";
        let mntr = parse_mntr(text).unwrap();
        assert_eq!(mntr.server_state, Some(Mode::Leader));
        assert_eq!((mntr.quorum_size, mntr.synced_followers, mntr.learners), (Some(3), Some(2), Some(2)));
        assert_eq!(parse_mntr("imok"), None);
    }

    #[test]
    fn refusals_and_not_serving_are_not_answers() {
        let refused = classify("mntr is not executed because it is not in the whitelist.\n", parse_mntr);
        assert_eq!(refused, Probe::NotInWhitelist);
        assert!(refused.answered() && refused.is_refused());
        assert_eq!(
            classify("This ZooKeeper instance is not currently serving requests\n", parse_srvr),
            Probe::NotServing
        );
        assert_eq!(classify("imok", parse_ruok), Probe::Answered { value: () });
        assert!(matches!(classify("", parse_ruok), Probe::Unintelligible { .. }));
        assert!(matches!(classify("SSH-2.0-OpenSSH_9.2\r\n", parse_srvr), Probe::Unintelligible { .. }));
    }

    /// Marathon 1.4.13 with the persistence store: name, uuid text, value, compressed=false.
    fn entry(value: &[u8], compressed: bool) -> Vec<u8> {
        let mut bytes = vec![0x0a, 24];
        bytes.extend_from_slice(b"internal:storage:version");
        bytes.extend_from_slice(&[0x12, 36]);
        bytes.extend_from_slice(b"0b4f1f5a-4b7e-4e0e-9a39-1f2d1c8b9e10");
        bytes.extend_from_slice(&[0x1a, value.len() as u8]);
        bytes.extend_from_slice(value);
        bytes.extend_from_slice(&[0x20, compressed as u8]);
        bytes
    }

    #[test]
    fn decodes_the_framework_ids_marathon_and_flink_write() {
        const ID: &str = "7c5d1f0e-3b6a-4f0e-9a51-1d2c3b4a5f60-0000";
        let message = [&[0x0a, ID.len() as u8][..], ID.as_bytes()].concat();
        let stored = StoredFrameworkId::Stored { id: ID.into(), path: "/p".into() };
        assert_eq!(decode_nested_framework_id(&message, "/p"), stored);
        assert_eq!(decode_flat_framework_id(&entry(&message, false), "/p"), stored);
        assert_eq!(decode_flink_framework_id(ID.as_bytes(), "/p"), stored);
        assert_eq!(decode_flink_framework_id(b"", "/p"), StoredFrameworkId::Absent);
        let undecodable = |found: StoredFrameworkId| match found {
            StoredFrameworkId::Undecodable { problem, .. } => problem,
            other => panic!("{other:?}"),
        };
        assert!(undecodable(decode_nested_framework_id(b"\xff\xff", "/p")).contains("not a protobuf FrameworkID"));
        assert!(undecodable(decode_flat_framework_id(&entry(&message, true), "/p")).contains("gzip"));
        // Text that would become an option or a command in a remedy.
        let hostile = [&[0x0a, 9][..], b"-rf /; ls"].concat();
        assert!(undecodable(decode_nested_framework_id(&hostile, "/p")).contains("is not a Mesos framework id"));
        assert!(undecodable(decode_flink_framework_id(b"$(reboot)", "/p")).contains("is not a Mesos framework id"));
        assert!(undecodable(decode_flink_framework_id(b"-0000", "/p")).contains("is not a Mesos framework id"));
    }

    #[test]
    fn decodes_the_storage_versions_marathon_writes() {
        let v14 = decode_storage_version(&entry(&[0x08, 1, 0x10, 4, 0x18, 13, 0x20, 1], false));
        let VersionNode::Stored { version } = v14 else { panic!("{v14:?}") };
        assert_eq!((version.number(), version.format), (Version::new(1, 4, 13), StorageFormat::PersistenceStore));
        let v18 = decode_storage_version(&entry(&[0x08, 18, 0x10, 0xc8, 0x01, 0x18, 0, 0x20, 1], false));
        let VersionNode::Stored { version } = v18 else { panic!("{v18:?}") };
        assert_eq!((version.number(), version.release()), (Version::new(18, 200, 0), Version::new(1, 8, 0)));
        let v11 = decode_storage_version(&entry(&[0x08, 1, 0x10, 1, 0x18, 10], false));
        let VersionNode::Stored { version } = v11 else { panic!("{v11:?}") };
        assert_eq!((version.release(), version.format), (Version::new(1, 1, 10), StorageFormat::Legacy));
    }

    #[test]
    fn undecodable_version_nodes_say_why() {
        for (bytes, needle) in [
            (b"hello, world".to_vec(), "not a ZKStoreEntry"),
            (Vec::new(), "without a value"),
            (entry(&[0x08, 1], false), "lacks major, minor or patch"),
            (entry(&[0x08, 1, 0x10, 4, 0x18, 0], true), "gzip-compressed"),
            (entry(&[0x08, 1, 0x10, 4, 0x18, 0, 0x20, 7], false), "unknown StorageFormat 7"),
            ([&[0x0a, 3][..], b"app"].concat(), "named \"app\""),
        ] {
            match decode_storage_version(&bytes) {
                VersionNode::Undecodable { bytes: n, problem } => {
                    assert_eq!(n, bytes.len());
                    assert!(problem.contains(needle), "{problem}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn election_nodes_and_layouts() {
        let node = |name: &str| ElectionNode { name: name.into(), data: "m1:8080".into(), ephemeral_owner: 7 };
        assert_eq!(node("member_0000000001").kind(), ElectionNodeKind::TwitterMember);
        assert_eq!(node("member_-00000000").kind(), ElectionNodeKind::Tombstone);
        assert_eq!(node("member_-10000000003").kind(), ElectionNodeKind::Tombstone);
        assert_eq!(node("_c_1b2-latch-0000000000").kind(), ElectionNodeKind::Other);
        assert_eq!(node("x").host(), Some("m1"));
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let flat = StateLayout::of(&names(&["app:/a", "group:root", "internal:storage:version", "framework:id"]));
        assert_eq!((flat.kind(), flat.flat_entries), (LayoutKind::Flat, 3));
        assert_eq!(StateLayout::of(&names(&["apps", "group", "internal:storage:version"])).kind(), LayoutKind::Nested);
        assert_eq!(StateLayout::of(&names(&["apps", "task:x"])).kind(), LayoutKind::Mixed);
        assert_eq!(StateLayout::of(&names(&["migration-in-progress"])).kind(), LayoutKind::Empty);
    }

    #[test]
    fn facts_survive_a_snapshot() {
        let server = ServerFacts {
            server: HostPort { host: "z1".into(), port: 2181 },
            srvr: classify(SRVR_LEADER, parse_srvr),
            mntr: Probe::NotInWhitelist,
            ruok: Probe::Answered { value: () },
        };
        let mut with_other_mode = server.clone();
        with_other_mode.srvr = classify("Zookeeper version: 3.9.1\nMode: wandering\n", parse_srvr);
        let ensemble = EnsembleFacts { servers: vec![server, with_other_mode] };
        let json = serde_json::to_string(&ensemble).unwrap();
        assert_eq!(serde_json::from_str::<EnsembleFacts>(&json).unwrap(), ensemble);
        let mut tree = MarathonTree::absent("/marathon");
        tree.storage_version = decode_storage_version(&entry(&[0x08, 1, 0x10, 4, 0x18, 13, 0x20, 1], false));
        tree.leader =
            Some(vec![ElectionNode { name: "member_0000000001".into(), data: "m1:8080".into(), ephemeral_owner: 9 }]);
        tree.migration_in_progress = Some(MigrationFlag { created: rfc3339_millis(1_500_000_000_000) });
        let json = serde_json::to_string(&tree).unwrap();
        assert_eq!(serde_json::from_str::<MarathonTree>(&json).unwrap(), tree);
        assert_eq!(tree.migration_in_progress.unwrap().created, "2017-07-14T02:40:00Z");
    }

    #[tokio::test]
    async fn an_implicit_ensemble_that_refuses_is_unavailable_and_says_how_to_name_one() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cfg = crate::config::Config::resolve(None, &crate::config::Settings::default()).unwrap();
        cfg.zk = crate::target::ZkTarget::parse(&format!("zk://127.0.0.1:{port}/marathon"), false).unwrap();
        let g = Gatherer::new(std::sync::Arc::new(cfg), Instant::now() + Duration::from_secs(5));
        for problem in [g.zookeeper().await.problem(), g.marathon_zk().await.problem()] {
            let reason = problem.unwrap();
            assert!(reason.contains("--zk URL or MARATHON_ZK"), "{reason}");
            assert!(reason.contains(&format!("marathon (127.0.0.1:{port}: connection refused)")), "{reason}");
        }
        assert!(matches!(g.marathon_zk().await, Fact::Unavailable { .. }));
    }

    proptest! {
        #[test]
        fn parsers_never_panic(text in ".{0,400}", bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = classify(&text, parse_srvr);
            let _ = classify(&text, parse_mntr);
            let _ = classify(&text, parse_ruok);
            let _ = decode_storage_version(&bytes);
            let _ = decode_nested_framework_id(&bytes, "/p");
            let _ = decode_flat_framework_id(&bytes, "/p");
            let _ = decode_flink_framework_id(&bytes, "/p");
            let lossy = String::from_utf8_lossy(&bytes);
            let _ = parse_srvr(&lossy);
            let _ = parse_mntr(&lossy);
        }

        #[test]
        fn decode_never_panics_inside_a_well_formed_entry(value in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = decode_storage_version(&entry(&value, false));
            let _ = decode_flat_framework_id(&entry(&value, false), "/p");
        }
    }
}
