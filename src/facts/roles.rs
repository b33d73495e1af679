//! Facts: this node's roles, how each was decided, and the TCP ports each role
//! serves here: the knowledge data's defaults, overridden by the node's own
//! configuration (Mesos `port` files, zoo.cfg, Marathon `http_port`,
//! flink-conf.yaml). `firewalld.ports`, `ports.local-conflict` and
//! `net.reachability` all read [`NodeRoles::ports`].

use std::fmt;

use serde::{Deserialize, Serialize};

use super::knowledge::{Knowledge, PortSpec, RolePort};
use super::processes::{ProcessFacts, ProcessInfo};
use super::systemd::{SystemdFacts, UnitFileState};
use super::{Fact, Gatherer, read_node_file};
use crate::node_fs::NodeRoot;
use crate::target::Role;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeRoles {
    pub roles: Vec<Role>,
    /// How each role was decided (`--role`, a process, a unit, a config file),
    /// one line per piece of evidence, starting with the role.
    pub evidence: Vec<String>,
    /// The ports this node's roles serve.
    #[serde(default)]
    pub ports: Vec<ServedPort>,
    /// What the node's configuration changed or left unclear about those
    /// ports (a disabled web UI, an unreadable value and the default assumed).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl NodeRoles {
    pub fn ports_of(&self, role: Role) -> impl Iterator<Item = &ServedPort> {
        self.ports.iter().filter(move |p| p.role == role)
    }
}

/// One TCP port (or range) this node serves for one of its roles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServedPort {
    pub role: Role,
    pub port: PortSpec,
    /// What listens there ("Mesos master (HTTP API, web UI, libprocess)").
    pub what: String,
    pub source: PortSource,
}

/// Where a served port's number came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PortSource {
    /// The knowledge data's default: the node's configuration does not set it.
    Default,
    /// A setting in one of the node's files (`origin` is its path) or on a
    /// running daemon's command line.
    Setting { origin: String, setting: String },
}

impl fmt::Display for PortSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortSource::Default => f.write_str("default"),
            PortSource::Setting { origin, setting } => write!(f, "{setting} in {origin}"),
        }
    }
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<NodeRoles> {
    let knowledge = match g.knowledge().await {
        Fact::Observed { value } => value,
        other => return Fact::failed(format!("check data: {}", other.problem().unwrap_or_default())),
    };
    let cfg = &g.cfg;
    // Processes are looked at even with --role: their flags set the ports.
    let processes = g.processes().await.value();
    let found = if cfg.roles.is_empty() {
        let mut found = processes.map(|p| from_processes(p, knowledge)).unwrap_or_default();
        found.extend(g.systemd().await.value().map(from_units).unwrap_or_default());
        found.extend(from_config_files(&cfg.root));
        found
    } else {
        cfg.roles.iter().map(|r| (*r, "named with --role".to_string())).collect()
    };
    Fact::observed(node_roles(&cfg.root, knowledge, processes, found))
}

/// Assembles the fact from the roles found (with their evidence) and the
/// ports the node's processes and configuration give them.
fn node_roles(
    root: &NodeRoot,
    knowledge: &Knowledge,
    processes: Option<&ProcessFacts>,
    found: Vec<(Role, String)>,
) -> NodeRoles {
    let mut roles: Vec<Role> = found.iter().map(|(r, _)| *r).collect();
    roles.sort();
    roles.dedup();
    let evidence = found.iter().map(|(r, why)| format!("{}: {why}", r.as_str())).collect();
    let mut settings = Settings::default();
    for role in &roles {
        let daemons: Vec<&ProcessInfo> = processes
            .map(|p| p.processes.iter().filter(|p| process_role(p, knowledge) == Some(*role)).collect())
            .unwrap_or_default();
        read_settings(root, *role, &daemons, &mut settings);
    }
    let mut node = NodeRoles { roles, evidence, ports: Vec::new(), notes: std::mem::take(&mut settings.notes) };
    // In role order, then in the data's order.
    for role in node.roles.clone() {
        for entry in knowledge.role_ports.port.iter().filter(|p| p.role == role) {
            resolve_port(entry, &settings, &mut node);
        }
    }
    node
}

/// The role a running daemon serves, by the check data's daemon patterns.
fn process_role(p: &ProcessInfo, knowledge: &Knowledge) -> Option<Role> {
    knowledge.role_ports.daemon.iter().find(|d| d.matches_command(&p.cmdline)).map(|d| d.role)
}

fn from_processes(processes: &ProcessFacts, knowledge: &Knowledge) -> Vec<(Role, String)> {
    let describe = |p: &ProcessInfo| format!("process {} ({}) running", p.pid, p.name);
    processes.processes.iter().filter_map(|p| Some((process_role(p, knowledge)?, describe(p)))).collect()
}

/// The cluster units and the role each serves.
const UNIT_ROLES: &[(&str, Role)] = &[
    ("mesos-master.service", Role::Master),
    ("mesos-slave.service", Role::Agent),
    ("mesos-agent.service", Role::Agent),
    ("marathon.service", Role::Marathon),
    ("zookeeper.service", Role::Zookeeper),
];

/// Roles from cluster units that start at boot or run now.
fn from_units(systemd: &SystemdFacts) -> Vec<(Role, String)> {
    let mut found = Vec::new();
    for unit in &systemd.units {
        let Some((_, role)) = UNIT_ROLES.iter().find(|(name, _)| *name == unit.name) else { continue };
        if matches!(unit.state, UnitFileState::Enabled | UnitFileState::EnabledRuntime) {
            found.push((*role, format!("unit {} {}", unit.name, unit.state)));
        }
        if let Some(live) = unit.live.as_ref().and_then(Fact::value).filter(|l| l.active_state.is_up()) {
            found.push((*role, format!("unit {} {}", unit.name, live.active_state)));
        }
    }
    found
}

/// Roles from the node's configuration files.
fn from_config_files(root: &NodeRoot) -> Vec<(Role, String)> {
    let mut found = Vec::new();
    for (role, dirs, files) in ROLE_CONFIG {
        for dir in *dirs {
            if dir_has_files(root, dir) {
                found.push((*role, format!("configuration directory {dir}/ present")));
            }
        }
        for file in *files {
            if is_file(root, file) {
                found.push((*role, format!("configuration file {file} present")));
            }
        }
    }
    if let Some(zoo) = zoo_cfg_path(root) {
        found.push((Role::Zookeeper, format!("configuration file {zoo} present")));
    }
    if let Some(conf) = flink_conf_path(root) {
        found.push((Role::Flink, format!("Flink installation with {conf}")));
    }
    found
}

/// The configuration directories and files whose presence shows a role.
const ROLE_CONFIG: &[(Role, &[&str], &[&str])] = &[
    (Role::Master, &[MESOS_MASTER_DIR], MESOS_MASTER_ENV),
    (Role::Agent, MESOS_AGENT_DIRS, MESOS_AGENT_ENV),
    (Role::Marathon, &["/etc/marathon"], MARATHON_ENV_FILES),
];

const MESOS_MASTER_DIR: &str = "/etc/mesos-master";
const MESOS_AGENT_DIRS: &[&str] = &["/etc/mesos-slave", "/etc/mesos-agent"];
pub(crate) const MARATHON_CONF_DIR: &str = "/etc/marathon/conf";
pub(crate) const MARATHON_ENV_FILES: &[&str] = &["/etc/default/marathon", "/etc/sysconfig/marathon"];
pub(crate) const ZOO_CFG: &[&str] = &["/etc/zookeeper/conf/zoo.cfg", "/etc/zookeeper/zoo.cfg"];
const ZK_MYID: &[&str] = &["/etc/zookeeper/conf/myid", "/var/lib/zookeeper/myid"];
const FLINK_CONF: &str = "/etc/flink/flink-conf.yaml";
/// Where Flink is unpacked (`/opt/flink-1.2.0`, `/home/flink-1.2.0`).
const FLINK_PARENTS: &[&str] = &["/opt", "/usr/local", "/usr/share", "/home", "/srv"];

fn dir_has_files(root: &NodeRoot, dir: &str) -> bool {
    root.read_dir(dir).is_ok_and(|entries| !entries.is_empty())
}

fn is_file(root: &NodeRoot, path: &str) -> bool {
    root.metadata(path).is_ok_and(|m| m.is_file())
}

pub(crate) fn zoo_cfg_path(root: &NodeRoot) -> Option<&'static str> {
    ZOO_CFG.iter().copied().find(|p| is_file(root, p))
}

/// The first Flink configuration: /etc/flink, else `flink*/conf/flink-conf.yaml`
/// under the usual parents, in name order.
fn flink_conf_path(root: &NodeRoot) -> Option<String> {
    if is_file(root, FLINK_CONF) {
        return Some(FLINK_CONF.to_string());
    }
    FLINK_PARENTS.iter().find_map(|parent| {
        root.read_dir(parent)
            .ok()?
            .into_iter()
            .filter_map(|e| e.name.into_string().ok())
            .filter(|n| n.starts_with("flink"))
            .map(|n| format!("{parent}/{n}/conf/flink-conf.yaml"))
            .find(|conf| is_file(root, conf))
    })
}

/// What the node's configuration says about one port setting.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Ports(Vec<PortSpec>),
    /// The port is not served (`jobmanager.web.port: -1`, `disable_http`, a
    /// standalone ZooKeeper's quorum port).
    Off(String),
    /// Served at the default port (Marathon HTTPS with a keystore).
    On,
    /// Set to something that is not a port.
    Unreadable(String),
}

/// One setting: the knowledge key it answers, where it was read, its value.
#[derive(Clone, Debug, PartialEq)]
struct Setting {
    role: Role,
    key: &'static str,
    /// The file, or the process whose command line, set it.
    origin: String,
    /// The setting as the file names it (`server.3`, `MARATHON_HTTP_PORT`).
    name: String,
    value: Value,
}

#[derive(Debug, Default)]
struct Settings {
    /// In priority order: the first setting of a key wins.
    found: Vec<Setting>,
    notes: Vec<String>,
}

impl Settings {
    fn add(&mut self, role: Role, key: &'static str, origin: &str, name: &str, value: Value) {
        self.found.push(Setting { role, key, origin: origin.to_string(), name: name.to_string(), value });
    }

    fn get(&self, role: Role, keys: &[String]) -> Option<&Setting> {
        keys.iter().find_map(|k| self.found.iter().find(|s| s.role == role && s.key == k))
    }

    /// Reads a node file; an unreadable one becomes a note, not a failure.
    fn read(&mut self, root: &NodeRoot, path: &str) -> Option<String> {
        match read_node_file(root, path) {
            Ok(text) => text,
            Err(e) => {
                self.notes.push(format!("cannot read {e}"));
                None
            }
        }
    }
}

fn resolve_port(entry: &RolePort, settings: &Settings, node: &mut NodeRoles) {
    let served = |port, source| ServedPort { role: entry.role, port, what: entry.what.clone(), source };
    let Some(s) = settings.get(entry.role, &entry.keys) else {
        if !entry.optional {
            node.ports.push(served(entry.port, PortSource::Default));
        }
        return;
    };
    let source = PortSource::Setting { origin: s.origin.clone(), setting: s.name.clone() };
    match &s.value {
        Value::Ports(specs) => node.ports.extend(specs.iter().map(|p| served(*p, source.clone()))),
        Value::On => node.ports.push(served(entry.port, source)),
        Value::Off(why) => node.notes.push(format!("{} not served: {why} ({source})", entry.what)),
        Value::Unreadable(text) => {
            node.notes.push(format!("{source}: {text:?} is not a port; assuming the default {}", entry.port));
            node.ports.push(served(entry.port, PortSource::Default));
        }
    }
}

/// What the node's daemons and files say about the ports of one role: a
/// running daemon's flags first (files only take effect at its next start),
/// then its configuration files.
fn read_settings(root: &NodeRoot, role: Role, daemons: &[&ProcessInfo], settings: &mut Settings) {
    if role == Role::Zookeeper {
        return zookeeper_settings(root, settings);
    }
    let mut raw: Vec<Raw> = daemons.iter().flat_map(|p| command_line_flags(role, p)).collect();
    match role {
        Role::Master => mesos_files(root, &[MESOS_MASTER_DIR], MESOS_MASTER_ENV, settings, &mut raw),
        Role::Agent => mesos_files(root, MESOS_AGENT_DIRS, MESOS_AGENT_ENV, settings, &mut raw),
        Role::Marathon => marathon_files(root, settings, &mut raw),
        Role::Flink => flink_files(root, settings, &mut raw),
        Role::Zookeeper => {}
    }
    match role {
        Role::Master | Role::Agent => mesos_settings(role, &raw, settings),
        Role::Marathon => marathon_settings(&raw, settings),
        _ => {
            for r in &raw {
                settings.add(role, r.flag, &r.origin, &r.name, port_value(&r.text));
            }
        }
    }
}

/// One flag as found, before it is understood.
#[derive(Debug)]
struct Raw {
    flag: &'static str,
    origin: String,
    /// The name it was found under (`--port`, `MESOS_PORT`, `?disable_http`).
    name: String,
    text: String,
}

impl Raw {
    fn new(flag: &'static str, origin: impl Into<String>, name: impl Into<String>, text: impl Into<String>) -> Self {
        Raw { flag, origin: origin.into(), name: name.into(), text: text.into().trim().to_string() }
    }
}

fn first<'a>(raw: &'a [Raw], flag: &str) -> Option<&'a Raw> {
    raw.iter().find(|r| r.flag == flag)
}

/// The flags of each role's daemon that decide its ports.
fn port_flags(role: Role) -> &'static [&'static str] {
    match role {
        Role::Master => &["port"],
        Role::Agent => &["port", "resources"],
        Role::Marathon => &["http_port", "https_port", "ssl_keystore_path", "disable_http"],
        Role::Flink => &["jobmanager.rpc.port", "rest.port", "jobmanager.web.port"],
        Role::Zookeeper => &[],
    }
}

fn command_line_flags(role: Role, p: &ProcessInfo) -> Vec<Raw> {
    let origin = format!("the command line of process {} ({})", p.pid, p.name);
    port_flags(role)
        .iter()
        .filter_map(|flag| {
            let (name, text) = arg_value(&p.cmdline, flag)?;
            Some(Raw::new(flag, origin.clone(), name, text))
        })
        .collect()
}

/// `--name=value`, `--name value` (a bare `--name` is a boolean: empty value)
/// or Flink's `-Dname=value` in a command line, with the form found.
fn arg_value(argv: &[String], name: &str) -> Option<(String, String)> {
    let (long, dynamic) = (format!("--{name}"), format!("-D{name}"));
    argv.iter().enumerate().find_map(|(i, arg)| {
        for form in [&long, &dynamic] {
            if let Some(value) = arg.strip_prefix(form.as_str()).and_then(|rest| rest.strip_prefix('=')) {
                return Some((form.clone(), value.to_string()));
            }
        }
        (*arg == long).then(|| {
            let next = argv.get(i + 1).filter(|n| !n.starts_with('-'));
            (long.clone(), next.cloned().unwrap_or_default())
        })
    })
}

/// A port value: `5050`, a range `31000-32000`; `-1` and `0` (ephemeral)
/// mean no fixed port is served.
fn port_value(text: &str) -> Value {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return match n {
            -1 => Value::Off(format!("set to {n}")),
            0 => Value::Off("set to 0 (an ephemeral port)".into()),
            1..=65535 => Value::Ports(vec![PortSpec::One(n as u16)]),
            _ => Value::Unreadable(text.to_string()),
        };
    }
    match port_range(text) {
        Some(spec) => Value::Ports(vec![spec]),
        None => Value::Unreadable(text.to_string()),
    }
}

/// `31000-32000` (or a single port) -> a spec; `None` for anything else.
pub(crate) fn port_range(text: &str) -> Option<PortSpec> {
    let parse = |t: &str| t.trim().parse::<u16>().ok().filter(|p| *p > 0);
    match text.split_once('-') {
        Some((lo, hi)) => {
            let (lo, hi) = (parse(lo)?, parse(hi)?);
            (lo <= hi).then(|| PortSpec::between(lo, hi))
        }
        None => parse(text).map(PortSpec::One),
    }
}

// --- Mesos -----------------------------------------------------------------

const MESOS_MASTER_ENV: &[&str] = &["/etc/default/mesos-master", "/etc/sysconfig/mesos-master"];
const MESOS_AGENT_ENV: &[&str] =
    &["/etc/default/mesos-slave", "/etc/default/mesos-agent", "/etc/sysconfig/mesos-slave"];

/// mesos-init-wrapper turns each file in /etc/mesos-master/ (or -slave/) into
/// a flag (`port` -> `--port`); /etc/default/mesos-* may set `PORT` or the
/// `MESOS_*` environment. Flag files win.
fn mesos_files(root: &NodeRoot, dirs: &[&str], env_files: &[&str], settings: &mut Settings, raw: &mut Vec<Raw>) {
    for dir in dirs {
        for flag in ["port", "resources"] {
            let file = format!("{dir}/{flag}");
            if let Some(text) = settings.read(root, &file) {
                raw.push(Raw::new(flag, &file, flag, text));
            }
        }
    }
    for file in env_files {
        let Some(text) = settings.read(root, file) else { continue };
        for (name, value) in shell_assignments(&text) {
            let flag = match name.as_str() {
                "PORT" | "MESOS_PORT" => "port",
                "MESOS_RESOURCES" => "resources",
                _ => continue,
            };
            raw.push(Raw::new(flag, *file, name, value));
        }
    }
}

fn mesos_settings(role: Role, raw: &[Raw], settings: &mut Settings) {
    if let Some(r) = first(raw, "port") {
        settings.add(role, "port", &r.origin, &r.name, port_value(&r.text));
    }
    // Resources that name no ports leave the default range in force.
    if let Some((r, value)) =
        raw.iter().filter(|r| r.flag == "resources").find_map(|r| Some((r, mesos_ports_resource(&r.text)?)))
    {
        settings.add(role, "resources", &r.origin, &r.name, value);
    }
}

/// The `ports` of a Mesos `--resources` value, text (`cpus:4;ports(*):[31000-32000]`)
/// or JSON; `None` when it names no ports (the default range applies).
fn mesos_ports_resource(text: &str) -> Option<Value> {
    let text = text.trim();
    let ranges: Vec<String> = if text.starts_with('[') {
        json_port_ranges(text)?
    } else {
        text.split(';')
            .filter_map(|r| r.split_once(':'))
            .filter(|(name, _)| name.trim().split('(').next() == Some("ports"))
            .flat_map(|(_, v)| v.trim().trim_start_matches('[').trim_end_matches(']').split(',').map(str::to_string))
            .collect()
    };
    if ranges.is_empty() {
        return None;
    }
    let specs: Option<Vec<PortSpec>> = ranges.iter().map(|r| port_range(r.trim())).collect();
    Some(specs.map_or_else(|| Value::Unreadable(ranges.join(",")), Value::Ports))
}

fn json_port_ranges(text: &str) -> Option<Vec<String>> {
    let doc: serde_json::Value = match serde_json::from_str(text) {
        Ok(doc) => doc,
        Err(e) => return Some(vec![format!("invalid JSON: {e}")]),
    };
    let ranges: Vec<String> = doc
        .as_array()?
        .iter()
        .filter(|r| r["name"] == "ports")
        .flat_map(|r| r["ranges"]["range"].as_array().cloned().unwrap_or_default())
        .map(|r| format!("{}-{}", r["begin"], r["end"]))
        .collect();
    Some(ranges)
}

/// `NAME=value` lines of a shell environment file (`export`, quotes and
/// comments allowed); values that need a shell to evaluate are kept as text
/// and end up unreadable.
pub fn shell_assignments(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("export ").unwrap_or(l).split_once('='))
        .filter(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .map(|(name, value)| {
            let value = value.split(" #").next().unwrap_or_default().trim();
            // One shell word is unquoted; anything else stays as written.
            let unquoted = match shlex::split(value).as_deref() {
                Some([]) => String::new(),
                Some([word]) => word.clone(),
                _ => value.to_string(),
            };
            (name.to_string(), unquoted)
        })
        .collect()
}

// --- ZooKeeper -------------------------------------------------------------

fn zookeeper_settings(root: &NodeRoot, settings: &mut Settings) {
    let Some(path) = zoo_cfg_path(root) else { return };
    let Some(text) = settings.read(root, path) else { return };
    let props = properties(&text);
    let prop = |key: &str| props.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let mut servers: Vec<(String, String, String)> = props
        .iter()
        .filter(|(k, _)| k.starts_with("server."))
        .map(|(k, v)| (path.to_string(), k.clone(), v.clone()))
        .collect();
    if let Some(dynamic) = prop("dynamicConfigFile")
        && let Some(dyn_text) = settings.read(root, &dynamic)
    {
        servers.extend(
            properties(&dyn_text)
                .into_iter()
                .filter(|(k, _)| k.starts_with("server."))
                .map(|(k, v)| (dynamic.clone(), k, v)),
        );
    }
    if let Some(port) = prop("clientPort") {
        settings.add(Role::Zookeeper, "clientPort", path, "clientPort", port_value(&port));
    }
    let myid = zk_myid(root, prop("dataDir"), settings);
    let mine: Vec<&(String, String, String)> = match myid {
        Some(id) if servers.iter().any(|(_, k, _)| *k == format!("server.{id}")) => {
            servers.iter().filter(|(_, k, _)| *k == format!("server.{id}")).collect()
        }
        _ => servers.iter().collect(),
    };
    if mine.is_empty() {
        let off = || Value::Off("zoo.cfg lists no server.N lines: a standalone server".into());
        settings.add(Role::Zookeeper, "quorumPort", path, "server.N", off());
        settings.add(Role::Zookeeper, "electionPort", path, "server.N", off());
        return;
    }
    // Without this server's id, any server line's ports may be this node's.
    let mut union = ZkServerPorts::default();
    let mut read: Vec<(&str, &str)> = Vec::new();
    for (file, name, value) in mine {
        match zk_server_ports(value) {
            Ok(ports) => {
                union.merge(ports);
                read.push((file, name));
            }
            Err(why) => settings.notes.push(format!("{file}: {name}={value}: {why}")),
        }
    }
    let Some((file, _)) = read.first().copied() else { return };
    let names = read.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ");
    settings.add(Role::Zookeeper, "quorumPort", file, &names, Value::Ports(union.quorum));
    settings.add(Role::Zookeeper, "electionPort", file, &names, Value::Ports(union.election));
    if let Some(client) = union.client {
        settings.add(Role::Zookeeper, "clientPort", file, &names, Value::Ports(vec![client]));
    }
}

/// This server's id, from `dataDir/myid` or the packages' usual places.
fn zk_myid(root: &NodeRoot, data_dir: Option<String>, settings: &mut Settings) -> Option<u64> {
    myid_paths(data_dir.as_deref())
        .into_iter()
        .find_map(|p| settings.read(root, &p))
        .and_then(|text| text.trim().parse().ok())
}

/// Where a ZooKeeper server's `myid` may be, first first: `dataDir/myid`,
/// then the packages' usual places.
pub(crate) fn myid_paths(data_dir: Option<&str>) -> Vec<String> {
    let in_data_dir = data_dir.map(|d| format!("{}/myid", d.trim_end_matches('/')));
    in_data_dir.into_iter().chain(ZK_MYID.iter().map(|p| p.to_string())).collect()
}

#[derive(Debug, Default, PartialEq)]
pub struct ZkServerPorts {
    quorum: Vec<PortSpec>,
    election: Vec<PortSpec>,
    client: Option<PortSpec>,
}

impl ZkServerPorts {
    fn merge(&mut self, other: ZkServerPorts) {
        for (mine, theirs) in [(&mut self.quorum, other.quorum), (&mut self.election, other.election)] {
            for port in theirs {
                if !mine.contains(&port) {
                    mine.push(port);
                }
            }
        }
        self.client = self.client.or(other.client);
    }
}

/// `host:quorum:election[:participant|observer][;[address:]clientPort]`, with
/// several `|`-separated addresses from ZooKeeper 3.6 on, IPv6 hosts in `[]`.
pub fn zk_server_ports(value: &str) -> Result<ZkServerPorts, String> {
    let (addresses, client) = match value.split_once(';') {
        Some((a, c)) => (a, Some(c)),
        None => (value, None),
    };
    let mut ports = ZkServerPorts::default();
    for address in addresses.split('|') {
        let address = address.trim();
        let after_host = match address.strip_prefix('[') {
            Some(v6) => v6.split_once(']').map(|(_, rest)| rest).ok_or("unclosed [ in the host")?,
            None => address.find(':').map(|i| &address[i..]).ok_or("no quorum port")?,
        };
        let mut numbers = after_host.trim_start_matches(':').split(':');
        let mut port =
            |what: &str| numbers.next().and_then(|p| port_range(p.trim())).ok_or(format!("no valid {what} port"));
        ports.quorum.push(port("quorum")?);
        ports.election.push(port("election")?);
    }
    if let Some(client) = client {
        let port = client.rsplit(':').next().unwrap_or_default();
        ports.client = Some(port_range(port.trim()).ok_or("no valid client port after ;")?);
    }
    Ok(ports)
}

/// Java properties: `key=value`, `key: value` or `key value`; `#`/`!`
/// comments; a trailing backslash continues the line.
pub fn properties(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut logical = String::new();
    for line in text.lines() {
        let line = line.trim_start();
        if logical.is_empty() && (line.starts_with('#') || line.starts_with('!')) {
            continue;
        }
        if let Some(continued) = line.strip_suffix('\\') {
            logical.push_str(continued);
            continue;
        }
        logical.push_str(line);
        out.extend(property(&logical));
        logical.clear();
    }
    out.extend(property(&logical));
    out
}

fn property(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let end = line.find(|c: char| c == '=' || c == ':' || c.is_whitespace()).unwrap_or(line.len());
    let rest = line[end..].trim_start();
    let rest = rest.strip_prefix(['=', ':']).unwrap_or(rest).trim();
    Some((line[..end].to_string(), rest.to_string()))
}

// --- Marathon --------------------------------------------------------------

/// The Marathon packages turn each file in /etc/marathon/conf into a flag
/// (`http_port`; a `?name` file is a boolean flag) and read `MARATHON_*`
/// variables from /etc/default/marathon.
fn marathon_files(root: &NodeRoot, settings: &mut Settings, raw: &mut Vec<Raw>) {
    for flag in port_flags(Role::Marathon) {
        for name in [flag.to_string(), format!("?{flag}")] {
            let file = format!("{MARATHON_CONF_DIR}/{name}");
            if let Some(text) = settings.read(root, &file) {
                raw.push(Raw::new(flag, &file, name, text));
            }
        }
    }
    for file in MARATHON_ENV_FILES {
        let Some(text) = settings.read(root, file) else { continue };
        for (name, value) in shell_assignments(&text) {
            if let Some(flag) =
                port_flags(Role::Marathon).iter().find(|f| name == format!("MARATHON_{}", f.to_uppercase()))
            {
                raw.push(Raw::new(flag, *file, name, value));
            }
        }
    }
}

/// `--disable_http` turns HTTP off; HTTPS is served only with a keystore.
fn marathon_settings(raw: &[Raw], settings: &mut Settings) {
    let add =
        |settings: &mut Settings, key, r: &Raw, value| settings.add(Role::Marathon, key, &r.origin, &r.name, value);
    if let Some(r) = first(raw, "disable_http").filter(|r| !matches!(r.text.as_str(), "false" | "0")) {
        add(settings, "http_port", r, Value::Off("HTTP is disabled".into()));
    }
    if let Some(r) = first(raw, "http_port") {
        add(settings, "http_port", r, port_value(&r.text));
    }
    if let Some(keystore) = first(raw, "ssl_keystore_path") {
        match first(raw, "https_port") {
            Some(r) => add(settings, "https_port", r, port_value(&r.text)),
            None => add(settings, "https_port", keystore, Value::On),
        }
    }
}

// --- Flink -----------------------------------------------------------------

fn flink_files(root: &NodeRoot, settings: &mut Settings, raw: &mut Vec<Raw>) {
    let Some(path) = flink_conf_path(root) else { return };
    let Some(text) = settings.read(root, &path) else { return };
    for (key, value) in flink_conf(&text) {
        if let Some(flag) = port_flags(Role::Flink).iter().find(|f| **f == key) {
            raw.push(Raw::new(flag, &path, key, value));
        }
    }
}

/// flink-conf.yaml as Flink reads it: one `key: value` per line, `#` comments.
fn flink_conf(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|l| l.split_once('#').map_or(l, |(before, _)| before).trim())
        .filter_map(|l| l.split_once(": ").or_else(|| l.strip_suffix(':').map(|k| (k, ""))))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches(['"', '\'']).to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use PortSpec::{One, Range};

    fn process(pid: u32, line: &str) -> ProcessInfo {
        let cmdline: Vec<String> = line.split(' ').map(String::from).collect();
        let name = cmdline[0].rsplit('/').next().unwrap().chars().take(15).collect();
        ProcessInfo { pid, parent_pid: Some(1), name, cmdline, start_time: 0, unit: None }
    }

    fn ports(node: &NodeRoles) -> Vec<String> {
        node.ports.iter().map(|p| format!("{}:{} ({})", p.role.as_str(), p.port, p.source)).collect()
    }

    #[test]
    fn running_daemons_show_roles_and_their_flags_win_over_files() {
        let root = tempfile::tempdir().unwrap();
        let conf = root.path().join("etc/marathon/conf");
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::write(conf.join("http_port"), "8090\n").unwrap();
        let tree = NodeRoot::new(root.path()).unwrap();
        let table = ProcessFacts {
            processes: vec![
                process(10, "/usr/sbin/mesos-master --zk=zk://z:2181/mesos --port=5055"),
                process(11, "java -cp m.jar mesosphere.marathon.Main --http_port 8095 --ssl_keystore_path /k.jks"),
                process(
                    12,
                    "java -cp f.jar org.apache.flink.mesos.runtime.clusterframework.MesosApplicationMasterRunner \
                             -Djobmanager.rpc.port=6124 -Djobmanager.web.port=-1",
                ),
                process(13, "python3 -m http.server 5050"),
            ],
        };
        let knowledge = Knowledge::embedded();
        let found = from_processes(&table, &knowledge);
        assert_eq!(
            found.iter().map(|(r, why)| format!("{}: {why}", r.as_str())).collect::<Vec<_>>(),
            [
                "master: process 10 (mesos-master) running",
                "marathon: process 11 (java) running",
                "flink: process 12 (java) running"
            ]
        );
        let node = node_roles(&tree, &knowledge, Some(&table), found);
        assert_eq!(
            ports(&node),
            [
                "master:5055 (--port in the command line of process 10 (mesos-master))",
                "marathon:8095 (--http_port in the command line of process 11 (java))",
                "marathon:8443 (--ssl_keystore_path in the command line of process 11 (java))",
                "flink:6124 (-Djobmanager.rpc.port in the command line of process 12 (java))",
            ]
        );
        assert!(node.notes.iter().any(|n| n.starts_with("Flink JobManager web/REST") && n.contains("set to -1")));
    }

    #[test]
    fn marathon_https_needs_a_keystore_and_http_can_be_disabled() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc/marathon/conf")).unwrap();
        std::fs::create_dir_all(root.path().join("etc/default")).unwrap();
        std::fs::write(root.path().join("etc/marathon/conf/https_port"), "9443").unwrap();
        std::fs::write(root.path().join("etc/default/marathon"), "MARATHON_DISABLE_HTTP=true\n").unwrap();
        let tree = NodeRoot::new(root.path()).unwrap();
        let marathon = |tree: &NodeRoot| {
            node_roles(tree, &Knowledge::embedded(), None, vec![(Role::Marathon, "named with --role".into())])
        };
        let node = marathon(&tree);
        assert!(ports(&node).is_empty(), "{:?}", ports(&node));
        assert!(node.notes[0].contains("HTTP is disabled (MARATHON_DISABLE_HTTP in /etc/default/marathon)"));
        std::fs::write(root.path().join("etc/marathon/conf/ssl_keystore_path"), "/k.jks").unwrap();
        assert_eq!(ports(&marathon(&tree)), ["marathon:9443 (https_port in /etc/marathon/conf/https_port)"]);
    }

    #[test]
    fn unreadable_values_keep_the_default_and_say_so() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc/mesos-slave")).unwrap();
        std::fs::write(root.path().join("etc/mesos-slave/port"), "fifty").unwrap();
        std::fs::write(root.path().join("etc/mesos-slave/resources"), "cpus:4;ports:[21000-24000]").unwrap();
        let tree = NodeRoot::new(root.path()).unwrap();
        let node = node_roles(&tree, &Knowledge::embedded(), None, from_config_files(&tree));
        assert_eq!(node.roles, [Role::Agent]);
        assert_eq!(
            ports(&node),
            ["agent:5051 (default)", "agent:21000-24000 (resources in /etc/mesos-slave/resources)"]
        );
        assert_eq!(node.notes, ["port in /etc/mesos-slave/port: \"fifty\" is not a port; assuming the default 5051"]);
    }

    #[test]
    fn without_myid_every_server_line_counts() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc/zookeeper")).unwrap();
        let zoo = "dataDir=/nonexistent\nserver.1=a:2888:3888\nserver.2=b:2889:3889;2182\nserver.3=c:2888:3888\n";
        std::fs::write(root.path().join("etc/zookeeper/zoo.cfg"), zoo).unwrap();
        let tree = NodeRoot::new(root.path()).unwrap();
        let node = node_roles(&tree, &Knowledge::embedded(), None, from_config_files(&tree));
        let from = "server.1, server.2, server.3 in /etc/zookeeper/zoo.cfg";
        assert_eq!(
            ports(&node),
            [
                format!("zookeeper:2182 ({from})"),
                format!("zookeeper:2888 ({from})"),
                format!("zookeeper:2889 ({from})"),
                format!("zookeeper:3888 ({from})"),
                format!("zookeeper:3889 ({from})"),
            ]
        );
    }

    #[test]
    fn properties_like_java() {
        let p = properties("# c\n! c\nclientPort = 2182\ninitLimit:5\nsyncLimit 2\nserver.1=a:\\\n  2888:3888\nlast");
        assert_eq!(
            p,
            [
                ("clientPort".into(), "2182".into()),
                ("initLimit".into(), "5".into()),
                ("syncLimit".into(), "2".into()),
                ("server.1".into(), "a:2888:3888".into()),
                ("last".into(), "".into()),
            ]
        );
    }

    #[test]
    fn zookeeper_server_lines() {
        let p = zk_server_ports("zk1:2888:3888").unwrap();
        assert_eq!((p.quorum, p.election, p.client), (vec![One(2888)], vec![One(3888)], None));
        let p = zk_server_ports("[::1]:2889:3889:participant;0.0.0.0:2182").unwrap();
        assert_eq!((p.quorum, p.election, p.client), (vec![One(2889)], vec![One(3889)], Some(One(2182))));
        let p = zk_server_ports("a:2888:3888|b:2890:3890;2181").unwrap();
        assert_eq!(p.quorum, [One(2888), One(2890)]);
        assert!(zk_server_ports("zk1").is_err());
        assert!(zk_server_ports("zk1:x:3888").is_err());
        assert!(zk_server_ports("[::1:2888:3888").is_err());
    }

    #[test]
    fn port_values() {
        assert_eq!(port_value(" 5055\n"), Value::Ports(vec![One(5055)]));
        assert_eq!(port_value("31000-32000"), Value::Ports(vec![Range(31000, 32000)]));
        assert!(matches!(port_value("-1"), Value::Off(_)));
        assert!(matches!(port_value("0"), Value::Off(_)));
        assert_eq!(port_value("70000"), Value::Unreadable("70000".into()));
        assert_eq!(port_value("$PORT"), Value::Unreadable("$PORT".into()));
    }

    #[test]
    fn mesos_resources_ports() {
        assert_eq!(mesos_ports_resource("cpus:4;mem:1024"), None);
        assert_eq!(
            mesos_ports_resource("cpus:4;ports(*):[31000-31500, 32000-32000]"),
            Some(Value::Ports(vec![Range(31000, 31500), One(32000)]))
        );
        let json = r#"[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":21000,"end":24000}]}}]"#;
        assert_eq!(mesos_ports_resource(json), Some(Value::Ports(vec![Range(21000, 24000)])));
        assert!(matches!(mesos_ports_resource("[not json"), Some(Value::Unreadable(_))));
    }

    #[test]
    fn shell_environment_files() {
        let vars = shell_assignments("# x\nexport PORT=\"5055\"\nZK=$(cat /etc/mesos/zk)\nMESOS_PORT=5056 # c\n");
        assert_eq!(
            vars,
            [
                ("PORT".into(), "5055".into()),
                ("ZK".into(), "$(cat /etc/mesos/zk)".into()),
                ("MESOS_PORT".into(), "5056".into())
            ]
        );
    }

    #[test]
    fn flink_conf_lines() {
        let c = flink_conf("jobmanager.rpc.port: 6124 # rpc\n# jobmanager.web.port: 1\nrest.port: '8082'\nbad line\n");
        assert_eq!(c, [("jobmanager.rpc.port".into(), "6124".into()), ("rest.port".into(), "8082".into())]);
    }
}
