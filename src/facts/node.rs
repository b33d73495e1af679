//! Facts: this node's host name and the files that carry host names:
//! `/etc/hosts`, the Mesos `--hostname` flag files and Flink's
//! `flink-conf.yaml` (with the Flink version of each installation).
//!
//! Live, the host name is the kernel's (`gethostname`), as Java's
//! `InetAddress.getLocalHost()` sees it; under `--root DIR` it is
//! `DIR/etc/hostname` and nothing outside DIR is looked at.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, UdpSocket};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer, read_node_file};
use crate::node_fs::{Limit, NodeRoot};
use crate::version::Version;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeFacts {
    /// This node's host name and where it was read.
    pub hostname: Fact<SourcedValue>,
    /// `/etc/hosts`; unavailable when the file does not exist.
    pub hosts: Fact<HostsFile>,
    /// The address of the default route (live only): the one peers reach.
    pub primary_address: Option<IpAddr>,
    /// Mesos `--hostname` settings from the packages' flag files.
    pub mesos_hostnames: Vec<MesosFlagFile>,
    /// Mesos `--work_dir` settings from the packages' flag files.
    #[serde(default)]
    pub mesos_work_dirs: Vec<MesosFlagFile>,
    /// Mesos `--ip` and `--advertise_ip` settings from the packages' flag files.
    #[serde(default)]
    pub mesos_address_files: Vec<MesosFlagFile>,
    /// The ZooKeeper URL the packages' wrapper passes as `--zk` (masters)
    /// and `--master` (agents): `/etc/mesos/zk`.
    #[serde(default)]
    pub mesos_zk: Option<SourcedValue>,
    /// Mesos `--quorum` settings from the packages' flag files.
    #[serde(default)]
    pub mesos_quorum: Vec<MesosFlagFile>,
    /// An agent's `--master` (`host:port` or a `zk://` URL) from the
    /// packages' flag files.
    #[serde(default)]
    pub mesos_master_flags: Vec<MesosFlagFile>,
    /// Marathon's `--zk`, from /etc/marathon/conf/zk or `MARATHON_ZK`.
    #[serde(default)]
    pub marathon_zk: Option<SourcedValue>,
    /// Marathon's `--master`, from /etc/marathon/conf/master or `MARATHON_MASTER`.
    #[serde(default)]
    pub marathon_master: Option<SourcedValue>,
    /// `MESOS_WORK_DIR` in the daemons' environment files.
    #[serde(default)]
    pub mesos_work_dir_env: Vec<MesosEnvSetting>,
    /// Flink installations found on the node.
    pub flink: Vec<FlinkInstall>,
    /// ZooKeeper's `tickTime` in zoo.cfg, when set.
    #[serde(default)]
    pub zookeeper_tick_time: Option<ConfigEntry>,
    /// The ensemble zoo.cfg lists and this server's `myid`, when the node
    /// has a zoo.cfg.
    #[serde(default)]
    pub zookeeper_ensemble: Option<ZooEnsemble>,
    /// Files that exist but could not be read: a judgement without them
    /// could pass wrongly.
    pub unreadable: Vec<String>,
}

impl NodeFacts {
    /// A node that is known by `hostname` (from /etc/hostname) and nothing
    /// else, for tests to fill in what they judge.
    #[cfg(test)]
    pub fn named(hostname: &str) -> Self {
        NodeFacts {
            hostname: Fact::observed(SourcedValue { source: "/etc/hostname".into(), value: hostname.into() }),
            hosts: Fact::unavailable("not read"),
            primary_address: None,
            mesos_hostnames: Vec::new(),
            mesos_work_dirs: Vec::new(),
            mesos_address_files: Vec::new(),
            mesos_work_dir_env: Vec::new(),
            mesos_zk: None,
            mesos_quorum: Vec::new(),
            mesos_master_flags: Vec::new(),
            marathon_zk: None,
            marathon_master: None,
            flink: Vec::new(),
            zookeeper_tick_time: None,
            zookeeper_ensemble: None,
            unreadable: Vec::new(),
        }
    }

    /// The node's host name, when it could be read.
    pub fn hostname(&self) -> Option<&str> {
        self.hostname.value().map(|h| h.value.as_str())
    }
}

/// A value and where it came from (a file on the node, or the kernel).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourcedValue {
    pub source: String,
    pub value: String,
}

/// `/etc/hosts`, parsed the way the resolver does: `ADDRESS NAME...` lines,
/// `#` comments; lines that are neither are skipped (and counted).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HostsFile {
    pub path: String,
    pub entries: Vec<HostsEntry>,
    /// Line numbers of lines the resolver ignores (no valid address, no name).
    pub ignored_lines: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostsEntry {
    /// 1-based line number.
    pub line: usize,
    pub address: IpAddr,
    pub names: Vec<String>,
}

impl HostsFile {
    pub fn parse(path: &str, text: &str) -> Self {
        let mut hosts = HostsFile { path: path.to_string(), ..Default::default() };
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.split('#').next().unwrap_or_default().trim_start_matches('\u{feff}');
            let mut words = content.split_whitespace();
            let Some(first) = words.next() else { continue };
            let names: Vec<String> = words.map(String::from).collect();
            match first.parse::<IpAddr>() {
                Ok(address) if !names.is_empty() => hosts.entries.push(HostsEntry { line, address, names }),
                _ => hosts.ignored_lines.push(line),
            }
        }
        hosts
    }

    /// The entries that name `name` (names compare case-insensitively).
    pub fn entries_naming<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a HostsEntry> + 'a {
        let name = name.trim_end_matches('.');
        self.entries.iter().filter(move |e| e.names.iter().any(|n| n.trim_end_matches('.').eq_ignore_ascii_case(name)))
    }

    /// The first entry for an address: the one a reverse lookup through the
    /// hosts file answers with (its first name is the canonical name).
    pub fn first_entry_for(&self, address: IpAddr) -> Option<&HostsEntry> {
        self.entries.iter().find(|e| e.address == address)
    }
}

/// Which Mesos daemon a `--hostname` flag file configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MesosDaemon {
    Master,
    Slave,
    Agent,
}

impl MesosDaemon {
    const ALL: [MesosDaemon; 3] = [MesosDaemon::Master, MesosDaemon::Slave, MesosDaemon::Agent];

    /// The systemd unit (and /etc directory) of the daemon.
    pub fn unit(self) -> &'static str {
        match self {
            MesosDaemon::Master => "mesos-master",
            MesosDaemon::Slave => "mesos-slave",
            MesosDaemon::Agent => "mesos-agent",
        }
    }

    /// The file of one flag in the daemon's flag directory.
    fn flag_file(self, flag: &str) -> String {
        format!("/etc/{}/{flag}", self.unit())
    }
}

/// `/etc/mesos-*/FLAG`: mesos-init-wrapper turns each file of that
/// directory into a flag, `--FLAG=$(cat FILE)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MesosFlagFile {
    pub daemon: MesosDaemon,
    pub path: String,
    pub value: String,
}

/// `MESOS_FLAG=value` in /etc/default/mesos-* or /etc/sysconfig/mesos-*,
/// the environment the packages' units start the daemon with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MesosEnvSetting {
    pub daemon: MesosDaemon,
    pub path: String,
    /// 1-based line number.
    pub line: usize,
    pub variable: String,
    pub value: String,
}

/// One setting of a configuration file on the node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigEntry {
    pub path: String,
    /// 1-based line number.
    pub line: usize,
    pub value: String,
}

/// One Flink installation (or configuration directory) on the node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlinkInstall {
    /// The `flink-conf.yaml` read, as a path on the node.
    pub conf: String,
    /// `jobmanager.rpc.address`, when set.
    pub rpc_address: Option<YamlEntry>,
    /// `mesos.failover-timeout` (seconds), when set.
    #[serde(default)]
    pub mesos_failover_timeout: Option<YamlEntry>,
    pub version: Option<Version>,
    /// What the version was read from (`/opt/flink/lib/flink-dist_2.11-1.2.0.jar`).
    pub version_source: Option<String>,
}

/// One `key: value` line of a flat YAML file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct YamlEntry {
    /// 1-based line number.
    pub line: usize,
    pub key: String,
    pub value: String,
}

/// Parses the flat `key: value` YAML of `flink-conf.yaml` as Flink 1.x does
/// (one setting per line, split at the first `": "`), plus YAML's comment
/// and quoting rules. Lines that are not settings are skipped.
pub fn parse_flat_yaml(text: &str) -> Vec<YamlEntry> {
    text.lines()
        .enumerate()
        .filter_map(|(index, raw)| {
            let content = strip_yaml_comment(raw.trim_start_matches('\u{feff}')).trim();
            let (key, value) = content.split_once(": ").or_else(|| content.strip_suffix(':').map(|k| (k, "")))?;
            let (key, value) = (unquote_yaml(key.trim()), unquote_yaml(value.trim()));
            (!key.is_empty() && !value.is_empty()).then(|| YamlEntry { line: index + 1, key, value })
        })
        .collect()
}

/// The last setting of `key` (later lines override earlier ones, as in Flink).
pub fn yaml_get<'a>(entries: &'a [YamlEntry], key: &str) -> Option<&'a YamlEntry> {
    entries.iter().rev().find(|e| e.key == key)
}

/// Cuts a `#` comment: one that starts the line or follows white space,
/// outside quotes.
fn strip_yaml_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut previous_is_space = true;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '#') if previous_is_space => return &line[..i],
            (None, '"' | '\'') if previous_is_space || line[..i].trim_end().ends_with(':') => quote = Some(c),
            (Some(open), _) if c == open => quote = None,
            _ => {}
        }
        previous_is_space = c.is_whitespace();
    }
    line
}

/// Removes one pair of matching surrounding quotes; `''` inside single
/// quotes is one `'` in YAML.
fn unquote_yaml(text: &str) -> String {
    let quoted = |q: char| text.len() >= 2 && text.starts_with(q) && text.ends_with(q);
    if quoted('\'') {
        text[1..text.len() - 1].replace("''", "'")
    } else if quoted('"') {
        text[1..text.len() - 1].to_string()
    } else {
        text.to_string()
    }
}

/// `flink-dist_2.11-1.2.0.jar` (or `flink-dist-1.15.0.jar`) -> 1.2.0.
pub fn version_from_dist_jar(file_name: &str) -> Option<Version> {
    let rest = file_name.strip_prefix("flink-dist")?.strip_suffix(".jar")?;
    let rest = match rest.strip_prefix('_') {
        Some(scala_and_version) => scala_and_version.split_once('-')?.1,
        None => rest.strip_prefix('-')?,
    };
    rest.parse().ok()
}

/// `flink-1.2.0` (or `flink-1.2.0-bin-hadoop27`) -> 1.2.0.
pub fn version_from_dir_name(dir_name: &str) -> Option<Version> {
    dir_name.strip_prefix("flink-")?.parse().ok()
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<NodeFacts> {
    let root = g.cfg.root.clone();
    // Plain blocking file reads: keep them off the async workers.
    match tokio::task::spawn_blocking(move || read_node(&root)).await {
        Ok(facts) => Fact::observed(facts),
        Err(e) => Fact::failed(format!("reading the node's files failed: {e}")),
    }
}

fn read_node(root: &NodeRoot) -> NodeFacts {
    let mut unreadable = Vec::new();
    let mesos_hostnames = mesos_flag_files(root, "hostname", &mut unreadable);
    let mesos_work_dirs = mesos_flag_files(root, "work_dir", &mut unreadable);
    let mesos_work_dir_env = mesos_env_settings(root, "MESOS_WORK_DIR", &mut unreadable);
    let mut mesos_address_files = mesos_flag_files(root, "ip", &mut unreadable);
    mesos_address_files.extend(mesos_flag_files(root, "advertise_ip", &mut unreadable));
    let flink = find_flink_installs(root, &mut unreadable);
    NodeFacts {
        hostname: if root.is_live() { kernel_hostname() } else { etc_hostname(root) },
        hosts: read_hosts(root),
        primary_address: root.is_live().then(primary_address).flatten(),
        mesos_hostnames,
        mesos_work_dirs,
        mesos_work_dir_env,
        mesos_address_files,
        mesos_zk: read_or_note(root, MESOS_ZK, &mut unreadable)
            .map(|text| SourcedValue { source: MESOS_ZK.into(), value: text.trim().to_string() })
            .filter(|zk| !zk.value.is_empty()),
        mesos_quorum: mesos_flag_files(root, "quorum", &mut unreadable),
        mesos_master_flags: mesos_flag_files(root, "master", &mut unreadable),
        marathon_zk: marathon_setting(root, "zk", &mut unreadable),
        marathon_master: marathon_setting(root, "master", &mut unreadable),
        flink,
        zookeeper_tick_time: zoo_cfg_setting(root, "tickTime", &mut unreadable),
        zookeeper_ensemble: zoo_ensemble(root, &mut unreadable),
        unreadable,
    }
}

/// The ensemble a ZooKeeper server's zoo.cfg lists, and its `myid`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZooEnsemble {
    /// The zoo.cfg read.
    pub path: String,
    /// Its `server.N=...` entries, in file order.
    pub servers: Vec<ZooServer>,
    /// Its `dataDir`, where `myid` belongs.
    pub data_dir: Option<String>,
    /// The `myid` file that exists, and what it holds (trimmed).
    pub myid: Option<SourcedValue>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ZooServer {
    /// `N` of `server.N`, as written.
    pub id: String,
    /// The host of its (first) address.
    pub host: String,
    /// The whole value, as written (`host:2888:3888[;2181]`).
    pub value: String,
}

fn zoo_ensemble(root: &NodeRoot, unreadable: &mut Vec<String>) -> Option<ZooEnsemble> {
    let path = super::roles::zoo_cfg_path(root)?;
    let text = read_or_note(root, path, unreadable)?;
    let props = super::roles::properties(&text);
    let servers = props
        .iter()
        .filter_map(|(key, value)| {
            let id = key.strip_prefix("server.")?;
            Some(ZooServer { id: id.to_string(), host: zoo_server_host(value), value: value.clone() })
        })
        .collect();
    let data_dir = props.iter().rev().find(|(k, _)| k == "dataDir").map(|(_, v)| v.as_str());
    let myid = super::roles::myid_paths(data_dir).into_iter().find_map(|path| {
        let text = read_or_note(root, &path, unreadable)?;
        Some(SourcedValue { source: path, value: text.trim().to_string() })
    });
    Some(ZooEnsemble { path: path.to_string(), servers, data_dir: data_dir.map(String::from), myid })
}

/// `10.0.0.1:2888:3888;2181` -> `10.0.0.1`, `[::1]:2888:3888` -> `::1`.
fn zoo_server_host(value: &str) -> String {
    let first = value.split(['|', ';']).next().unwrap_or_default().trim();
    match first.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default().to_string(),
        None => first.split(':').next().unwrap_or_default().to_string(),
    }
}

/// A Marathon flag as the packages pass it: the file /etc/marathon/conf/FLAG
/// (a command-line flag, which wins), else the last `MARATHON_FLAG=` in the
/// environment files.
fn marathon_setting(root: &NodeRoot, flag: &str, unreadable: &mut Vec<String>) -> Option<SourcedValue> {
    let file = format!("{}/{flag}", super::roles::MARATHON_CONF_DIR);
    if let Some(text) = read_or_note(root, &file, unreadable).filter(|t| !t.trim().is_empty()) {
        return Some(SourcedValue { source: file, value: text.trim().to_string() });
    }
    let variable = format!("MARATHON_{}", flag.to_uppercase());
    super::roles::MARATHON_ENV_FILES.iter().rev().find_map(|path| {
        let text = read_or_note(root, path, unreadable)?;
        let (_, value) = super::roles::shell_assignments(&text).into_iter().rfind(|(name, _)| *name == variable)?;
        Some(SourcedValue { source: format!("{path} ({variable})"), value })
    })
}

/// The ZooKeeper URL the Mesos packages share between master and agent.
const MESOS_ZK: &str = "/etc/mesos/zk";

/// Each daemon's flag file for `flag` that holds a value.
fn mesos_flag_files(root: &NodeRoot, flag: &str, unreadable: &mut Vec<String>) -> Vec<MesosFlagFile> {
    MesosDaemon::ALL
        .into_iter()
        .filter_map(|daemon| {
            let path = daemon.flag_file(flag);
            let value = read_or_note(root, &path, unreadable)?.trim().to_string();
            (!value.is_empty()).then_some(MesosFlagFile { daemon, path, value })
        })
        .collect()
}

/// Each assignment of `variable` in the daemons' environment files.
fn mesos_env_settings(root: &NodeRoot, variable: &str, unreadable: &mut Vec<String>) -> Vec<MesosEnvSetting> {
    let mut found = Vec::new();
    for daemon in MesosDaemon::ALL {
        for dir in ["/etc/default", "/etc/sysconfig"] {
            let path = format!("{dir}/{}", daemon.unit());
            let Some(text) = read_or_note(root, &path, unreadable) else { continue };
            for (i, line) in text.lines().enumerate() {
                for (name, value) in super::roles::shell_assignments(line) {
                    if name == variable {
                        let (path, variable) = (path.clone(), name);
                        found.push(MesosEnvSetting { daemon, path, line: i + 1, variable, value });
                    }
                }
            }
        }
    }
    found
}

/// The last `key=value` line for `key` of the first zoo.cfg that exists.
fn zoo_cfg_setting(root: &NodeRoot, key: &str, unreadable: &mut Vec<String>) -> Option<ConfigEntry> {
    let path = super::roles::ZOO_CFG.iter().find(|p| root.metadata(p).is_ok_and(|m| m.is_file()))?;
    let text = read_or_note(root, path, unreadable)?;
    let property = |(i, line): (usize, &str)| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key && !line.trim_start().starts_with('#')).then(|| ConfigEntry {
            path: path.to_string(),
            line: i + 1,
            value: v.trim().to_string(),
        })
    };
    text.lines().enumerate().filter_map(property).last()
}

/// A file's text; `None` when absent or unreadable (then noted).
fn read_or_note(root: &NodeRoot, path: &str, unreadable: &mut Vec<String>) -> Option<String> {
    read_node_file(root, path).unwrap_or_else(|e| {
        unreadable.push(e);
        None
    })
}

fn kernel_hostname() -> Fact<SourcedValue> {
    let name = gethostname::gethostname().to_string_lossy().trim().to_string();
    if name.is_empty() {
        return Fact::failed("the kernel host name is empty");
    }
    Fact::observed(SourcedValue { source: "kernel host name".into(), value: name })
}

/// The first line that is neither empty nor a comment, as systemd reads it.
fn etc_hostname(root: &NodeRoot) -> Fact<SourcedValue> {
    let shown = root.shown_linked("/etc/hostname");
    match read_node_file(root, "/etc/hostname") {
        Err(e) => Fact::failed(e),
        Ok(None) => Fact::unavailable(format!("{shown} does not exist: this node's host name is unknown")),
        Ok(Some(text)) => match text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')) {
            Some(name) => Fact::observed(SourcedValue { source: "/etc/hostname".into(), value: name.to_string() }),
            None => Fact::failed(format!("{shown} holds no host name")),
        },
    }
}

fn read_hosts(root: &NodeRoot) -> Fact<HostsFile> {
    match root.read("/etc/hosts", Limit::HOSTS) {
        Err(e) => Fact::failed(e.to_string()),
        Ok(None) => Fact::unavailable(format!("{} does not exist", root.shown_linked("/etc/hosts"))),
        Ok(Some(bytes)) => Fact::observed(HostsFile::parse("/etc/hosts", &String::from_utf8_lossy(&bytes))),
    }
}

/// The local address of the default route. Connecting a UDP socket sends
/// nothing; it only asks the kernel which source address it would use.
fn primary_address() -> Option<IpAddr> {
    let probe = |bind: IpAddr, documentation_peer: IpAddr| {
        let socket = UdpSocket::bind((bind, 0)).ok()?;
        socket.connect((documentation_peer, 9)).ok()?;
        socket.local_addr().ok().map(|a| a.ip()).filter(|ip| !ip.is_unspecified() && !ip.is_loopback())
    };
    probe(Ipv4Addr::UNSPECIFIED.into(), Ipv4Addr::new(192, 0, 2, 1).into())
        .or_else(|| probe(Ipv6Addr::UNSPECIFIED.into(), "2001:db8::1".parse::<Ipv6Addr>().ok()?.into()))
}

/// Where Flink installations usually live: (parent directory, whether its
/// `flink*` children are installations or home directories holding them).
const FLINK_PARENTS: [(&str, bool); 4] = [("/opt", false), ("/usr/local", false), ("/usr/lib", false), ("/home", true)];

/// A candidate Flink configuration: its `flink-conf.yaml` and the
/// installation directory it belongs to (unknown for `/etc/flink`).
struct Candidate {
    conf: String,
    home: Option<String>,
}

fn find_flink_installs(root: &NodeRoot, unreadable: &mut Vec<String>) -> Vec<FlinkInstall> {
    let mut seen = BTreeSet::new();
    flink_candidates(root)
        .into_iter()
        .filter_map(|c| {
            let text = read_or_note(root, &c.conf, unreadable)?;
            // One installation reached through a symlink is still one.
            let real = root.resolve(&c.conf).unwrap_or_else(|_| PathBuf::from(&c.conf));
            seen.insert(real).then(|| flink_install(root, c, &text))
        })
        .collect()
}

fn flink_candidates(root: &NodeRoot) -> Vec<Candidate> {
    let mut candidates: Vec<Candidate> = ["/etc/flink/flink-conf.yaml", "/etc/flink/conf/flink-conf.yaml"]
        .into_iter()
        .map(|conf| Candidate { conf: conf.into(), home: None })
        .collect();
    let mut homes = Vec::new();
    for (parent, holds_users) in FLINK_PARENTS {
        homes.extend(children(root, parent, "flink"));
        if holds_users {
            for user in children(root, parent, "") {
                homes.extend(children(root, &user, "flink"));
            }
        }
    }
    if root.is_live()
        && let Some(home) = std::env::var_os("FLINK_HOME")
    {
        homes.push(home.to_string_lossy().trim_end_matches('/').to_string());
    }
    candidates.extend(
        homes.into_iter().map(|home| Candidate { conf: format!("{home}/conf/flink-conf.yaml"), home: Some(home) }),
    );
    candidates
}

/// Directories under `parent` (a path on the node) whose names start with
/// `prefix`, as paths on the node, sorted.
fn children(root: &NodeRoot, parent: &str, prefix: &str) -> Vec<String> {
    let Ok(entries) = root.read_dir(parent) else { return Vec::new() };
    entries
        .into_iter()
        .filter_map(|e| e.name.to_str().map(String::from))
        .filter(|name| name.starts_with(prefix))
        .map(|name| format!("{}/{name}", parent.trim_end_matches('/')))
        .filter(|child| root.metadata(child).is_ok_and(|m| m.is_dir()))
        .collect()
}

fn flink_install(root: &NodeRoot, candidate: Candidate, conf_text: &str) -> FlinkInstall {
    let entries = parse_flat_yaml(conf_text);
    let (version, version_source) = match candidate.home.as_deref().and_then(|home| flink_version(root, home)) {
        Some((version, source)) => (Some(version), Some(source)),
        None => (None, None),
    };
    FlinkInstall {
        conf: candidate.conf,
        rpc_address: yaml_get(&entries, "jobmanager.rpc.address").cloned(),
        mesos_failover_timeout: yaml_get(&entries, "mesos.failover-timeout").cloned(),
        version,
        version_source,
    }
}

/// The version of the installation at `home`: from its distribution jar,
/// else from the directory's name.
fn flink_version(root: &NodeRoot, home: &str) -> Option<(Version, String)> {
    let lib = format!("{home}/lib");
    let from_jar = root.read_dir(&lib).ok().and_then(|entries| {
        let mut jars = entries.into_iter().filter_map(|e| e.name.into_string().ok());
        jars.find_map(|jar| version_from_dist_jar(&jar).map(|v| (v, format!("{lib}/{jar}"))))
    });
    from_jar.or_else(|| {
        let name = PathBuf::from(home).file_name()?.to_str()?.to_string();
        version_from_dir_name(&name).map(|v| (v, format!("directory name {home}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file_tolerates_comments_and_odd_lines() {
        let text = "\u{feff}127.0.0.1\tlocalhost\n# comment\n127.0.1.1 SZV1000265118.example.com SZV1000265118 # debian\n\
                    not-an-address foo\n10.0.0.5\n::1 ip6-localhost\n\n10.0.0.5 szv1000265118\n";
        let hosts = HostsFile::parse("/etc/hosts", text);
        assert_eq!(hosts.entries.len(), 4);
        assert_eq!(hosts.ignored_lines, vec![4, 5]);
        let naming: Vec<usize> = hosts.entries_naming("szv1000265118.").map(|e| e.line).collect();
        assert_eq!(naming, vec![3, 8]);
        assert_eq!(hosts.entries[1].names, vec!["SZV1000265118.example.com", "SZV1000265118"]);
        assert_eq!(hosts.first_entry_for("10.0.0.5".parse().unwrap()).unwrap().line, 8);
        assert!(hosts.first_entry_for("10.9.9.9".parse().unwrap()).is_none());
    }

    #[test]
    fn flat_yaml_settings_comments_and_quotes() {
        let text = "# Flink\njobmanager.rpc.address: SZV1000265118\njobmanager.rpc.port: 6123   # rpc\n\
                    \n  indented.key: 'it''s'\nquoted: \"a # not a comment\"\nurl: http://h#frag\n\
                    no-space:value\nempty:\n: novalue\njobmanager.rpc.address: \"Override\" # later wins\r\n";
        let entries = parse_flat_yaml(text);
        let get = |k: &str| yaml_get(&entries, k).map(|e| e.value.as_str());
        assert_eq!(get("jobmanager.rpc.port"), Some("6123"));
        assert_eq!(get("indented.key"), Some("it's"));
        assert_eq!(get("quoted"), Some("a # not a comment"));
        assert_eq!(get("url"), Some("http://h#frag"));
        assert_eq!(get("no-space:value"), None);
        assert_eq!(get("empty"), None);
        let rpc = yaml_get(&entries, "jobmanager.rpc.address").unwrap();
        assert_eq!((rpc.line, rpc.value.as_str()), (11, "Override"));
    }

    #[test]
    fn flink_versions_from_jar_and_directory_names() {
        assert_eq!(version_from_dist_jar("flink-dist_2.11-1.2.0.jar"), Some(Version::new(1, 2, 0)));
        assert_eq!(version_from_dist_jar("flink-dist-1.15.4.jar"), Some(Version::new(1, 15, 4)));
        assert_eq!(version_from_dist_jar("flink-dist_2.11-1.3-SNAPSHOT.jar"), Some(Version::new(1, 3, 0)));
        assert_eq!(version_from_dist_jar("flink-python_2.11-1.2.0.jar"), None);
        assert_eq!(version_from_dist_jar("flink-dist_2.11.jar"), None);
        assert_eq!(version_from_dir_name("flink-1.2.0"), Some(Version::new(1, 2, 0)));
        assert_eq!(version_from_dir_name("flink-1.4.2-bin-hadoop27"), Some(Version::new(1, 4, 2)));
        assert_eq!(version_from_dir_name("flink"), None);
        assert_eq!(version_from_dir_name("flink-current"), None);
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(text in "\\PC*") {
            let _ = parse_flat_yaml(&text);
            let _ = HostsFile::parse("/etc/hosts", &text);
            let _ = version_from_dist_jar(&text);
        }
    }
}
