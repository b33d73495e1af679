//! Facts: what the selected pack checks (`packs`) look at - TCP ports,
//! HTTP endpoints, commands, Nagios plugins, systemd units, files and
//! processes - each fanned out over the run's endpoints when its template
//! names them (`{zk.servers}`). Also the reading of the pack directories.
//!
//! Every look is bounded by `--timeout` and the run's deadline. Programs
//! (commands, plugins) run with a clean environment in their own process
//! group, which is killed whole when time is up. Nothing here runs when a
//! snapshot is replayed: `check --from` judges what `collect` recorded.

mod probe;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::systemd::{LiveUnit, UnitFileState};
use super::{Fact, Gatherer, unprobed_default};
use crate::remote::HostName;
use crate::target::HostPort;
use crate::trust;

/// A list of the run's endpoints that one declaration can fan out over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndpointList {
    MesosMasters,
    MesosAgents,
    ZkServers,
    Marathon,
    Flink,
}

impl EndpointList {
    pub const ALL: [EndpointList; 5] = [
        EndpointList::MesosMasters,
        EndpointList::MesosAgents,
        EndpointList::ZkServers,
        EndpointList::Marathon,
        EndpointList::Flink,
    ];

    /// The name a template uses: `{mesos.masters}`.
    pub fn name(self) -> &'static str {
        match self {
            EndpointList::MesosMasters => "mesos.masters",
            EndpointList::MesosAgents => "mesos.agents",
            EndpointList::ZkServers => "zk.servers",
            EndpointList::Marathon => "marathon",
            EndpointList::Flink => "flink",
        }
    }

    /// How a user names the endpoints of this list.
    fn flag(self) -> &'static str {
        match self {
            EndpointList::MesosMasters | EndpointList::MesosAgents => "--mesos URL",
            EndpointList::ZkServers => "--zk URL",
            EndpointList::Marathon => "--marathon URL",
            EndpointList::Flink => "--flink URL",
        }
    }
}

/// Which part of an endpoint a placeholder stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// `host:port`
    Address,
    Host,
    Port,
    /// `http://host:port` (with the credentials the user named, when requesting).
    Url,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Piece {
    Text(String),
    Endpoint { list: EndpointList, part: Part },
}

/// Text that may name one endpoint list: `{mesos.masters}/version`,
/// `{zk.servers.host}:2888`. `{{` and `}}` are literal braces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    /// `whole` is what a bare `{list}` stands for in this field (an address
    /// for a TCP check, a URL for an HTTP check).
    pub fn parse(text: &str, whole: Part) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(i) = rest.find(['{', '}']) {
            literal.push_str(&rest[..i]);
            let brace = &rest[i..i + 1];
            let after = &rest[i + 1..];
            if let Some(tail) = after.strip_prefix(brace) {
                literal.push_str(brace);
                rest = tail;
                continue;
            }
            if brace == "}" {
                return Err(format!("{text:?}: a lone `}}` (write `}}}}` for a literal brace)"));
            }
            let end = after.find('}').ok_or_else(|| format!("{text:?}: `{{` without its `}}`"))?;
            let (list, part) = placeholder(&after[..end], whole)?;
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Endpoint { list, part });
            rest = &after[end + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        let template = Template { pieces };
        let mut lists = template.lists();
        lists.dedup();
        if lists.len() > 1 {
            return Err(format!("{text:?} names more than one endpoint list; a check fans out over one"));
        }
        Ok(template)
    }

    fn lists(&self) -> Vec<EndpointList> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Endpoint { list, .. } => Some(*list),
                Piece::Text(_) => None,
            })
            .collect()
    }

    /// The endpoint list this template fans out over, if any.
    pub fn list(&self) -> Option<EndpointList> {
        self.lists().first().copied()
    }

    /// The text for one endpoint: `shown` leaves credentials out.
    fn render(&self, endpoint: Option<&ListedTarget>, shown: bool) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match (piece, endpoint) {
                (Piece::Text(text), _) => out.push_str(text),
                (Piece::Endpoint { part, .. }, Some(e)) => out.push_str(&e.part(*part, shown)),
                // Expansion always passes the endpoint of the template's list.
                (Piece::Endpoint { list, .. }, None) => out.push_str(&format!("{{{}}}", list.name())),
            }
        }
        out
    }
}

/// `mesos.masters`, `zk.servers.host`, ... -> the list and the part.
fn placeholder(name: &str, whole: Part) -> Result<(EndpointList, Part), String> {
    let (base, part) = match name.rsplit_once('.') {
        Some((base, "address")) => (base, Part::Address),
        Some((base, "host")) => (base, Part::Host),
        Some((base, "port")) => (base, Part::Port),
        Some((base, "url")) => (base, Part::Url),
        _ => (name, whole),
    };
    let known = || EndpointList::ALL.map(|l| format!("{{{}}}", l.name())).join(", ");
    EndpointList::ALL.into_iter().find(|l| l.name() == base).map(|l| (l, part)).ok_or_else(|| {
        format!("unknown placeholder {{{name}}}; known: {} (each also as .host, .port, .url, .address)", known())
    })
}

/// One target of the run a pack check looks at, from an [`EndpointList`]. Its host is a valid host name
/// (`remote::HostName`): it goes into commands and remedies.
#[derive(Clone, Debug)]
struct ListedTarget {
    host: HostName,
    port: u16,
    /// With the user's credentials: used, never shown.
    url: String,
    shown_url: String,
    /// Named by the user (or listed by the leading master); an implicit
    /// default that does not answer is absent, not broken.
    explicit: bool,
    list: EndpointList,
}

/// An endpoint whose host is not a host name: nothing is run for it.
#[derive(Clone, Debug)]
struct Refused {
    /// The value as it came, escaped, with its port.
    label: String,
    why: String,
}

impl Refused {
    /// The refusal as the look of the check `p`: an `error` finding.
    fn look(&self, p: &PackProbe, list: EndpointList) -> TargetLook {
        let why = format!(
            "{}; refused as a {{{}}} value of pack check {} ({}): nothing was run for it",
            self.why,
            list.name(),
            p.check,
            p.pack
        );
        TargetLook {
            target: ProbeTarget { label: self.label.clone(), host: None, port: None },
            seen: Fact::failed(why),
        }
    }
}

impl ListedTarget {
    /// Refused when `host` is not a host name (it could be an option).
    fn new(list: EndpointList, host: &str, port: u16, urls: (String, String), explicit: bool) -> Result<Self, Refused> {
        match HostName::parse(host) {
            Ok(host) => Ok(ListedTarget { host, port, url: urls.0, shown_url: urls.1, explicit, list }),
            Err(why) => Err(Refused { label: format!("{host:?}:{port}"), why }),
        }
    }

    /// `host:port`, `[v6]:port`.
    fn address(&self) -> String {
        if self.host.is_ipv6() {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    fn part(&self, part: Part, shown: bool) -> String {
        match part {
            Part::Address => self.address(),
            Part::Host => self.host.to_string(),
            Part::Port => self.port.to_string(),
            Part::Url if shown => self.shown_url.clone(),
            Part::Url => self.url.clone(),
        }
    }

    /// The fact for an endpoint that did not answer at all: an implicit
    /// default is absent (its checks skip and say how to name it); one the
    /// user named has failed.
    fn no_answer<T>(&self, what: String) -> Fact<T> {
        if self.explicit {
            Fact::failed(what)
        } else {
            Fact::unavailable(format!("{what}; name the target with {}", self.list.flag()))
        }
    }
}

/// What a pack check looks at (the I/O half of its declaration).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Probe {
    Tcp {
        address: Template,
        /// Sent once connected (`mntr`).
        send: Option<String>,
        /// Read the reply (up to EOF, the size cap or the timeout).
        read_reply: bool,
    },
    Http {
        url: Template,
        /// JSON pointers whose values are kept.
        pointers: Vec<String>,
    },
    Command {
        argv: Vec<Template>,
    },
    Plugin {
        path: PathBuf,
        args: Vec<Template>,
    },
    Unit {
        unit: String,
    },
    File {
        path: String,
        /// Keep the lines matching this regex.
        lines: Option<String>,
    },
    Process {
        /// Regex on the command line (arguments joined by spaces).
        pattern: String,
    },
}

impl Probe {
    fn templates(&self) -> Vec<&Template> {
        match self {
            Probe::Tcp { address, .. } => vec![address],
            Probe::Http { url, .. } => vec![url],
            Probe::Command { argv } => argv.iter().collect(),
            Probe::Plugin { args, .. } => args.iter().collect(),
            Probe::Unit { .. } | Probe::File { .. } | Probe::Process { .. } => Vec::new(),
        }
    }

    /// The endpoint list the probe fans out over, if any.
    pub fn list(&self) -> Option<EndpointList> {
        self.templates().into_iter().find_map(Template::list)
    }

    /// What the probe runs or sends that the pack's owner wrote, beyond
    /// clusterdoc's own read-only looks; `list` shows it.
    pub fn acts(&self) -> Option<Action> {
        match self {
            Probe::Command { .. } => Some(Action::RunsCommand),
            Probe::Plugin { .. } => Some(Action::RunsPlugin),
            Probe::Tcp { send: Some(_), .. } => Some(Action::SendsData),
            _ => None,
        }
    }

    /// Whether the probe looks at the machine it runs on (a command, a
    /// plugin, a process, a unit, a file) rather than over the network.
    pub fn looks_at_this_machine(&self) -> bool {
        !matches!(self, Probe::Tcp { .. } | Probe::Http { .. })
    }

    /// Probes of the machine clusterdoc runs on: off under `--root`.
    fn live_only(&self) -> Option<&'static str> {
        match self {
            Probe::Command { .. } => Some("command"),
            Probe::Plugin { .. } => Some("plugin"),
            Probe::Process { .. } => Some("process"),
            Probe::Tcp { .. } | Probe::Http { .. } | Probe::Unit { .. } | Probe::File { .. } => None,
        }
    }
}

/// Something a pack check does that is not a read-only look: it runs what
/// its owner wrote, as a Nagios plugin does (DESIGN C0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    RunsCommand,
    RunsPlugin,
    SendsData,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::RunsCommand => "runs a command",
            Action::RunsPlugin => "runs a plugin",
            Action::SendsData => "sends data to a port",
        })
    }
}

/// `PackProbe::pack` of the packs compiled into clusterdoc.
pub const BUILT_IN_PACK: &str = "built-in";

/// The probe of one selected pack check, as the runner hands it over.
#[derive(Clone, Debug, PartialEq)]
pub struct PackProbe {
    pub check: String,
    /// Where the check is declared: `built-in` or the pack file.
    pub pack: String,
    pub probe: Probe,
    /// Look only when one of these node paths exists (else the check skips).
    pub only_if_exists: Vec<String>,
}

/// What the selected pack checks saw, by check id.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PackFacts {
    pub checks: BTreeMap<String, Fact<PackRecord>>,
}

/// One check's looks: the probe (so a replay can tell when the pack changed
/// since `collect`) and what each target showed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackRecord {
    pub probe: Probe,
    pub targets: Vec<TargetLook>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetLook {
    pub target: ProbeTarget,
    pub seen: Fact<Observation>,
}

/// What was looked at, as reports name it (never with credentials).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeTarget {
    /// `127.0.0.1:2181`, `http://m1:5050/version`, `df -P /var/lib/mesos`, a path, a unit.
    pub label: String,
    pub host: Option<HostName>,
    pub port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Observation {
    Tcp(TcpSeen),
    Http(HttpSeen),
    Program(ProgramRun),
    Unit(UnitSeen),
    File(FileSeen),
    Processes(ProcessesSeen),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TcpSeen {
    pub connect: Connect,
    /// What the server sent back (lossy UTF-8, capped).
    pub reply: Option<String>,
    /// Why the reply may be incomplete.
    pub reply_cut: Option<String>,
}

/// How a TCP connection attempt ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Connect {
    Open,
    /// Nothing listens (RST).
    Refused,
    /// No answer: dropped by a firewall, or the host is down.
    TimedOut,
    /// Rejected on the way (host or network unreachable, EACCES).
    Unreachable {
        error: String,
    },
}

impl std::fmt::Display for Connect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Connect::Open => f.write_str("open"),
            Connect::Refused => f.write_str("connection refused"),
            Connect::TimedOut => f.write_str("no answer (dropped, or the host is down)"),
            Connect::Unreachable { error } => f.write_str(error),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpSeen {
    pub status: u16,
    /// The `Date` header, as sent.
    pub date: Option<String>,
    /// This machine's clock when the request left and when the headers came
    /// back (ms since the Unix epoch): the server's clock was read in between.
    pub sent_ms: i64,
    pub received_ms: i64,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Body {
    /// No JSON pointer asked for it.
    Skipped,
    /// The values at the pointers that exist in the document.
    Json {
        values: BTreeMap<String, serde_json::Value>,
    },
    Unreadable {
        error: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProgramRun {
    pub exit: Exit,
    /// Capped, lossy UTF-8.
    pub stdout: String,
    pub stderr: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Exit {
    Code {
        code: i32,
    },
    Signal {
        signal: i32,
    },
    /// Killed (with its process group) when its time was up.
    TimedOut {
        after_ms: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitSeen {
    pub file_state: UnitFileState,
    /// `systemctl show`, when systemd runs the node (else only the unit
    /// files were read, with `systemctl --root`).
    pub live: Option<LiveUnit>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileSeen {
    pub exists: bool,
    /// Permission bits (`0o644`).
    pub mode: Option<u32>,
    /// Lines matching the probe's regex (the first few), and how many matched.
    pub matching: Vec<String>,
    pub matches: usize,
    /// Why the content may be incomplete.
    pub cut: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessesSeen {
    /// The first few matching processes, and how many matched.
    pub matching: Vec<ProcessSeen>,
    pub count: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessSeen {
    pub pid: u32,
    pub command: String,
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<PackFacts> {
    let looks = g.pack_probes.iter().map(|p| async move { (p.check.clone(), look(g, p).await) });
    let checks = futures::future::join_all(looks).await.into_iter().collect();
    Fact::observed(PackFacts { checks })
}

/// All the looks of one check.
async fn look(g: &Gatherer, p: &PackProbe) -> Fact<PackRecord> {
    if let Some(kind) = p.probe.live_only()
        && !g.cfg.live()
    {
        return Fact::unavailable(format!("{kind} checks look at the live node; they are off under --root"));
    }
    if !p.only_if_exists.is_empty() && !p.only_if_exists.iter().any(|path| g.cfg.root.metadata(path).is_ok()) {
        return Fact::unavailable(format!("none of {} exists on this node", p.only_if_exists.join(", ")));
    }
    let endpoints = match p.probe.list() {
        None => vec![Ok(None)],
        Some(list) => match endpoints(g, list).await {
            Fact::Observed { value } => value.into_iter().map(|e| e.map(Some).map_err(|r| (r, list))).collect(),
            Fact::Unavailable { reason } => return Fact::unavailable(reason),
            Fact::Failed { error } => return Fact::failed(error),
        },
    };
    let targets = futures::future::join_all(endpoints.iter().map(|e| async move {
        match e {
            Ok(endpoint) => probe::look_at(g, &p.probe, endpoint.as_ref()).await,
            Err((refused, list)) => refused.look(p, *list),
        }
    }))
    .await;
    Fact::observed(PackRecord { probe: p.probe.clone(), targets })
}

/// The endpoints of a list in this run; those whose host is not a host name
/// (an agent named `-oProxyCommand=...`) are refused.
async fn endpoints(g: &Gatherer, list: EndpointList) -> Fact<Vec<Result<ListedTarget, Refused>>> {
    let cfg = &g.cfg;
    let http = |t: &crate::target::Target| {
        let (host, port) = t.host_port();
        let urls = (t.url.as_str().trim_end_matches('/').to_string(), t.display());
        ListedTarget::new(list, &host, port, urls, t.explicit)
    };
    let plain = |address: &HostPort, explicit: bool| {
        let url = format!("http://{address}");
        ListedTarget::new(list, &address.host, address.port, (url.clone(), url), explicit)
    };
    let endpoints: Vec<Result<ListedTarget, Refused>> = match list {
        EndpointList::MesosMasters => cfg.mesos.iter().map(http).collect(),
        EndpointList::Marathon => vec![http(&cfg.marathon)],
        EndpointList::Flink => cfg.flink.iter().map(http).collect(),
        EndpointList::ZkServers => cfg.zk.servers.iter().map(|s| plain(s, cfg.zk.explicit)).collect(),
        EndpointList::MesosAgents => match agents(g).await {
            Fact::Observed { value } => value.iter().map(|a| plain(a, true)).collect(),
            Fact::Unavailable { reason } => return Fact::unavailable(reason),
            Fact::Failed { error } => return Fact::failed(error),
        },
    };
    let name_it = format!("name one with {}", list.flag());
    if endpoints.is_empty() {
        return Fact::unavailable(format!("no {{{}}} endpoint; {name_it}", list.name()));
    }
    let unprobed = |e: &ListedTarget| unprobed_default(cfg, e.explicit, &e.address(), &name_it);
    if let Some(reason) = endpoints.iter().filter_map(|e| e.as_ref().ok()).find_map(unprobed) {
        return Fact::unavailable(reason);
    }
    Fact::observed(endpoints)
}

/// The active agents the leading Mesos master lists, at the address each
/// registered with (`slave(1)@10.0.0.7:5051`), else its host name and port.
async fn agents(g: &Gatherer) -> Fact<Vec<HostPort>> {
    let state = match g.mesos().await {
        Fact::Observed { value } => &value.state,
        Fact::Unavailable { reason } => return Fact::unavailable(format!("Mesos agents: {reason}")),
        Fact::Failed { error } => return Fact::failed(format!("Mesos agents: {error}")),
    };
    let state = match state {
        Fact::Observed { value } => value,
        Fact::Unavailable { reason } => return Fact::unavailable(format!("Mesos agents: {reason}")),
        Fact::Failed { error } => return Fact::failed(format!("Mesos agents: {error}")),
    };
    let agents: Vec<HostPort> = state
        .agents
        .iter()
        .filter(|a| a.active)
        .map(|a| HostPort {
            host: a.hostname.clone(),
            port: a.port.or_else(|| pid_port(a.pid.as_deref())).unwrap_or(5051),
        })
        .collect();
    if agents.is_empty() {
        return Fact::unavailable("the leading Mesos master lists no active agent");
    }
    Fact::observed(agents)
}

/// The port of a libprocess pid `slave(1)@10.0.0.7:5051`.
fn pid_port(pid: Option<&str>) -> Option<u16> {
    pid?.rsplit_once(':')?.1.parse().ok()
}

/// When a look must end: `--timeout` from now, never past the deadline.
fn time_limit(g: &Gatherer) -> Instant {
    (Instant::now() + g.cfg.timeout).min(g.deadline)
}

/// A file of a pack directory.
#[derive(Debug)]
pub struct PackFile {
    pub path: PathBuf,
    pub content: PackContent,
}

#[derive(Debug)]
pub enum PackContent {
    /// A declarative pack.
    Toml(String),
    /// A Nagios plugin.
    Executable,
    Unreadable(String),
    /// A pack, plugin or check data file that others could have written
    /// (`trust`): not used, and why.
    Untrusted(String),
}

/// A pack directory as found.
#[derive(Debug)]
pub enum PackDir {
    Missing,
    /// Others could have written it (`trust`): none of its files is used.
    Untrusted(String),
    Files(Vec<PackFile>),
}

/// The packs in `dir` by file name: `*.toml` files (except the check data
/// files, see `knowledge`) and executable files; hidden files and anything
/// else (a README) are left alone. A directory or file that others could
/// have written is passed over (`PackDir::Untrusted`, `PackContent::Untrusted`),
/// a check data file too, since `knowledge` will not use it either.
pub fn read_pack_dir(dir: &Path) -> Result<PackDir, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(PackDir::Missing),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    if let Err(why) = trust::check(dir, trust::Kind::Directory) {
        return Ok(PackDir::Untrusted(why));
    }
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| !n.starts_with('.')))
        .collect();
    paths.sort();
    Ok(PackDir::Files(paths.into_iter().filter_map(pack_file).collect()))
}

fn pack_file(path: PathBuf) -> Option<PackFile> {
    use std::os::unix::fs::PermissionsExt;
    let name = path.file_name()?.to_str()?;
    let toml = name.ends_with(".toml");
    let executable = || std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    if !toml && !executable() {
        return None;
    }
    if let Err(why) = trust::check(&path, trust::Kind::File) {
        return Some(PackFile { path, content: PackContent::Untrusted(why) });
    }
    if !toml {
        return Some(PackFile { path, content: PackContent::Executable });
    }
    if super::knowledge::DATA_FILES.contains(&name) {
        return None;
    }
    let content = match std::fs::read_to_string(&path) {
        Ok(text) => PackContent::Toml(text),
        Err(e) => PackContent::Unreadable(e.to_string()),
    };
    Some(PackFile { path, content })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_one_list_and_keep_literal_braces() {
        let t = Template::parse("{mesos.masters}/version", Part::Url).unwrap();
        assert_eq!(t.list(), Some(EndpointList::MesosMasters));
        let e = ListedTarget {
            host: HostName::parse("m1").unwrap(),
            port: 5050,
            url: "http://u:secret@m1:5050".into(),
            shown_url: "http://m1:5050".into(),
            explicit: true,
            list: EndpointList::MesosMasters,
        };
        assert_eq!(t.render(Some(&e), false), "http://u:secret@m1:5050/version");
        assert_eq!(t.render(Some(&e), true), "http://m1:5050/version");
        let t = Template::parse("{zk.servers.host}:2888", Part::Address).unwrap();
        assert_eq!(t.render(Some(&e), true), "m1:2888");
        let t = Template::parse("a{{b}}c", Part::Address).unwrap();
        assert_eq!((t.list(), t.render(None, true)), (None, "a{b}c".to_string()));
        assert!(Template::parse("{zk.servers}{flink}", Part::Address).unwrap_err().contains("more than one"));
        assert!(Template::parse("{mesos.slaves}", Part::Url).unwrap_err().contains("{mesos.agents}"));
        assert!(Template::parse("x}", Part::Url).is_err());
        assert!(Template::parse("{flink", Part::Url).is_err());
    }

    #[test]
    fn endpoints_whose_host_could_be_an_option_are_refused() {
        let urls = || (String::new(), String::new());
        let refused = ListedTarget::new(EndpointList::MesosAgents, "-oProxyCommand=touch /tmp/x", 5051, urls(), true)
            .expect_err("a host name starting with '-' reached a command");
        assert_eq!(refused.label, "\"-oProxyCommand=touch /tmp/x\":5051");
        assert!(refused.why.contains("would be read as an option"), "{}", refused.why);
        let v6 = ListedTarget::new(EndpointList::ZkServers, "::1", 2181, urls(), true).unwrap();
        assert_eq!(v6.part(Part::Address, true), "[::1]:2181");
    }

    #[test]
    fn agent_ports_come_from_their_pid() {
        assert_eq!(pid_port(Some("slave(1)@10.0.0.7:5052")), Some(5052));
        assert_eq!(pid_port(Some("garbage")), None);
        assert_eq!(pid_port(None), None);
    }

    #[test]
    fn pack_dirs_list_packs_and_plugins_by_name() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (name, mode) in [
            ("b.toml", 0o644),
            ("a.toml", 0o644),
            ("check_x", 0o755),
            ("README", 0o644),
            (".hidden", 0o755),
            ("role-ports.toml", 0o644),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, "").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let PackDir::Files(files) = read_pack_dir(dir.path()).unwrap() else { panic!("the directory is trusted") };
        let names: Vec<_> = files.iter().map(|f| f.path.file_name().unwrap().to_str().unwrap()).collect();
        assert_eq!(names, ["a.toml", "b.toml", "check_x"]);
        assert!(matches!(files[2].content, PackContent::Executable));
        assert!(matches!(read_pack_dir(&dir.path().join("none")).unwrap(), PackDir::Missing));
    }

    #[test]
    fn pack_files_and_dirs_others_can_write_are_passed_over() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (name, mode) in [("a.toml", 0o666), ("check_x", 0o757), ("role-ports.toml", 0o664), ("b.toml", 0o644)] {
            let path = dir.path().join(name);
            std::fs::write(&path, "").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let PackDir::Files(files) = read_pack_dir(dir.path()).unwrap() else { panic!("the directory is trusted") };
        let seen: Vec<_> = files
            .iter()
            .map(|f| {
                (
                    f.path.file_name().unwrap().to_str().unwrap(),
                    matches!(&f.content, PackContent::Untrusted(why) if why.contains("writable by group or others")),
                )
            })
            .collect();
        assert_eq!(seen, [("a.toml", true), ("b.toml", false), ("check_x", true), ("role-ports.toml", true)]);
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(matches!(read_pack_dir(dir.path()).unwrap(), PackDir::Untrusted(why) if why.contains("mode 0777")));
    }
}
