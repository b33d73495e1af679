//! Facts: firewalld. Whether it runs or starts at boot, which zones apply to
//! incoming traffic and why, those zones' permanent configuration (the XML
//! files, /etc/firewalld overriding /usr/lib/firewalld whole) and, on a live
//! node where firewalld runs, their runtime configuration
//! (`firewall-cmd --list-all`), which can differ until the next reload.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::process::Output;
use std::str::FromStr;
use std::time::Duration;

use quick_xml::events::Event;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::knowledge::PortSpec;
use super::roles::{port_range, shell_assignments};
use super::{Fact, Gatherer, read_node_file};
use crate::node_fs::{Limit, NodeRoot};

const ETC_DIR: &str = "/etc/firewalld";
const LIB_DIR: &str = "/usr/lib/firewalld";
const CONF_FILE: &str = "/etc/firewalld/firewalld.conf";
/// firewalld's own default when firewalld.conf names none.
const BUILT_IN_DEFAULT_ZONE: &str = "public";
const UNIT: &str = "firewalld.service";
/// Unit directories, highest priority first (systemd.unit(5)).
const UNIT_DIRS: [&str; 5] = [
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];
/// firewalld is a D-Bus service: without the system bus it cannot run.
const SYSTEM_BUS: &str = "/run/dbus/system_bus_socket";
/// `firewall-cmd --state` exit code for "not running" (firewall/errors.py).
const NOT_RUNNING_EXIT: i32 = 252;
/// EL7 network scripts bind interfaces to zones with `ZONE=`.
const IFCFG_DIR: &str = "/etc/sysconfig/network-scripts";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FirewalldFacts {
    pub state: DaemonState,
    pub unit: UnitFile,
    /// The zones, read only when firewalld runs or may run (see [`FirewalldFacts::filtering`]).
    pub zones: Option<ZoneSetup>,
}

/// Whether the firewalld daemon runs now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DaemonState {
    Running,
    NotRunning {
        how: String,
    },
    /// Not probed (under `--root`) or the probe gave no answer.
    Unknown {
        reason: String,
    },
}

/// Whether firewalld.service starts at boot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UnitFile {
    /// A `*.wants/` (or `*.requires/`) symlink pulls it in.
    Enabled {
        link: String,
    },
    Disabled {
        file: String,
    },
    /// Linked to /dev/null or empty: it cannot start.
    Masked {
        file: String,
    },
    /// No firewalld.service: firewalld is not installed.
    Absent,
}

/// What firewalld does to incoming traffic, as far as can be told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filtering {
    /// Running now.
    Active,
    /// Not running (or not known to be) but enabled: filters from the next boot.
    AtBoot,
    /// A live node where `firewall-cmd --state` gave no answer and the unit
    /// is not enabled: it may have been started by hand.
    Unsure,
    /// Neither running nor enabled (or not installed).
    Off,
}

impl FirewalldFacts {
    /// `live`: the facts come from the running node (not `--root`), so an
    /// unknown daemon state is a real doubt rather than "not probed".
    pub fn filtering(&self, live: bool) -> Filtering {
        filtering(&self.state, &self.unit, live)
    }
}

fn filtering(state: &DaemonState, unit: &UnitFile, live: bool) -> Filtering {
    match (state, unit) {
        (DaemonState::Running, _) => Filtering::Active,
        (_, UnitFile::Enabled { .. }) => Filtering::AtBoot,
        (DaemonState::Unknown { .. }, UnitFile::Disabled { .. }) if live => Filtering::Unsure,
        _ => Filtering::Off,
    }
}

/// The zones that apply, and their configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneSetup {
    pub default_zone: DefaultZone,
    /// The zones that apply to incoming traffic, each with why.
    pub applying: Vec<ApplyingZone>,
    /// The permanent configuration of the applying zones.
    pub permanent: Vec<Zone>,
    /// Their runtime configuration, when firewalld runs on a live node.
    pub runtime: Fact<Vec<Zone>>,
    /// The services those zones name, expanded to their ports.
    pub services: Vec<Service>,
}

impl ZoneSetup {
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultZone {
    pub name: String,
    /// `DefaultZone=` in firewalld.conf, or firewalld's built-in default.
    pub origin: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyingZone {
    pub zone: String,
    pub because: Vec<Binding>,
}

/// Why a zone applies to some incoming traffic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Binding {
    /// The default zone takes every interface no zone claims.
    Default {
        origin: String,
    },
    Interface {
        name: String,
        origin: String,
    },
    Source {
        address: String,
        origin: String,
    },
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Binding::Default { origin } => write!(f, "default zone ({origin}) for interfaces no zone claims"),
            Binding::Interface { name, origin } => write!(f, "interface {name} ({origin})"),
            Binding::Source { address, origin } => write!(f, "source {address} ({origin})"),
        }
    }
}

/// One zone, as a file or the runtime describes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Zone {
    pub name: String,
    /// The file it was read from, or the `firewall-cmd` command.
    pub origin: String,
    pub target: ZoneTarget,
    pub services: Vec<String>,
    pub ports: Vec<FwPort>,
    /// Whole IP protocols allowed (`<protocol value="tcp"/>` allows every TCP port).
    pub protocols: Vec<String>,
    pub sources: Vec<String>,
    pub interfaces: Vec<String>,
    pub rich_rules: Vec<RichRule>,
    /// `<forward-port>`: redirected (DNAT) before any filtering.
    #[serde(default)]
    pub forward_ports: Vec<ZoneForwardPort>,
}

/// A zone's `<forward-port port= protocol= to-port= to-addr=>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneForwardPort {
    pub port: FwPort,
    /// `to-port=6000 to-addr=10.0.0.2`, as far as given.
    pub to: String,
    /// `FILE line N`, or the line of the `firewall-cmd --list-all` output.
    pub origin: String,
}

/// What a zone does with traffic nothing in it allows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ZoneTarget {
    /// Rejects like `%%REJECT%%` (ICMP and forwarding aside).
    #[default]
    #[serde(rename = "default")]
    Default,
    #[serde(rename = "ACCEPT")]
    Accept,
    #[serde(rename = "%%REJECT%%")]
    Reject,
    #[serde(rename = "DROP")]
    Drop,
}

impl FromStr for ZoneTarget {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            "default" => Ok(ZoneTarget::Default),
            "ACCEPT" => Ok(ZoneTarget::Accept),
            "%%REJECT%%" | "REJECT" => Ok(ZoneTarget::Reject),
            "DROP" => Ok(ZoneTarget::Drop),
            other => Err(format!("unknown zone target {other:?}")),
        }
    }
}

impl fmt::Display for ZoneTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ZoneTarget::Default => "default",
            ZoneTarget::Accept => "ACCEPT",
            ZoneTarget::Reject => "%%REJECT%%",
            ZoneTarget::Drop => "DROP",
        })
    }
}

/// The protocols firewalld accepts for a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Sctp,
    Dccp,
}

impl FromStr for Proto {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            "tcp" => Ok(Proto::Tcp),
            "udp" => Ok(Proto::Udp),
            "sctp" => Ok(Proto::Sctp),
            "dccp" => Ok(Proto::Dccp),
            other => Err(format!("unknown port protocol {other:?}")),
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
            Proto::Dccp => "dccp",
        })
    }
}

/// `5050/tcp`, `31000-32000/tcp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FwPort {
    pub port: PortSpec,
    pub protocol: Proto,
}

impl FwPort {
    fn parse(port: &str, protocol: &str) -> Result<Self, String> {
        let spec = port_range(port.trim()).ok_or_else(|| format!("{port:?} is not a port or a port range"))?;
        Ok(FwPort { port: spec, protocol: protocol.parse()? })
    }
}

impl fmt::Display for FwPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.port, self.protocol)
    }
}

/// A rich rule (firewalld.richlanguage(5)) in `firewall-cmd` syntax, where
/// it was read, and what clusterdoc makes of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredRichRule")]
pub struct RichRule {
    pub text: String,
    /// `FILE line N`, or the line of the `firewall-cmd --list-all` output.
    pub origin: String,
    pub meaning: RuleMeaning,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleMeaning {
    Understood {
        rule: ParsedRule,
    },
    /// A construct clusterdoc does not model: it may open or close anything.
    NotUnderstood {
        reason: String,
    },
}

/// The parts of a rich rule that decide what happens to a connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedRule {
    /// `None`: both IPv4 and IPv6.
    pub family: Option<Family>,
    /// Below 0 the rule runs before every other rule of the zone, above 0 after them.
    pub priority: i32,
    /// Why it matches only some of the traffic its family and element select
    /// (a source, a destination, a limited action); empty when it matches all.
    pub conditions: Vec<String>,
    pub element: RuleElement,
    /// `None`: it only logs or audits.
    pub action: Option<RuleAction>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ipv4,
    Ipv6,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleElement {
    /// No element: every packet of the family (and conditions).
    Any,
    Port {
        port: FwPort,
    },
    /// Matches by the peer's source port, which peers pick at random.
    SourcePort {
        port: FwPort,
    },
    Service {
        name: String,
    },
    Protocol {
        value: String,
    },
    /// `forward-port`: redirects the port (DNAT) before filtering.
    ForwardPort {
        port: FwPort,
    },
    /// `icmp-block`, `icmp-type`, `masquerade`, `tcp-mss-clamp`: nothing
    /// that accepts or refuses a TCP connection to a local port.
    NoTcpVerdict {
        element: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    Accept,
    Reject,
    Drop,
    /// Sets a packet mark and lets it go on: no verdict.
    Mark,
}

/// A rich rule as a snapshot holds it: older snapshots have its text only.
#[derive(Deserialize)]
struct StoredRichRule {
    text: String,
    #[serde(default)]
    origin: String,
    meaning: Option<RuleMeaning>,
}

impl From<StoredRichRule> for RichRule {
    fn from(stored: StoredRichRule) -> Self {
        match stored.meaning {
            Some(meaning) => RichRule { text: stored.text, origin: stored.origin, meaning },
            None => RichRule::from_text(&stored.text, stored.origin),
        }
    }
}

impl RichRule {
    pub fn from_text(text: &str, origin: String) -> Self {
        let meaning = match parse_rich_rule(text) {
            Ok(rule) => RuleMeaning::Understood { rule },
            Err(reason) => RuleMeaning::NotUnderstood { reason },
        };
        RichRule { text: text.trim().to_string(), origin, meaning }
    }

    pub fn understood(&self) -> Option<&ParsedRule> {
        match &self.meaning {
            RuleMeaning::Understood { rule } => Some(rule),
            RuleMeaning::NotUnderstood { .. } => None,
        }
    }
}

/// Parses a rich rule the way firewalld's `Rich_Rule` does
/// (firewall/core/rich.py: `_lexer`, `_import_from_string`, `check`): shell
/// words; `rule` and its `family=`/`priority=`; then elements, each with its
/// `name=value` attributes, `NOT` inverting a source or destination, and
/// `limit value=` after a log, audit or action. What firewalld refuses, or
/// clusterdoc does not know, is an error naming the word.
pub fn parse_rich_rule(text: &str) -> Result<ParsedRule, String> {
    let words = shlex::split(text).ok_or("unbalanced quotes")?;
    let mut words = words.iter().map(String::as_str).peekable();
    if words.next() != Some("rule") {
        return Err("it does not start with \"rule\"".into());
    }
    let mut rule =
        ParsedRule { family: None, priority: 0, conditions: vec![], element: RuleElement::Any, action: None };
    let (mut element, mut source, mut destination, mut log, mut audit) = (None, false, false, false, false);
    while let Some(parsed) = words.peek().and_then(|w| attribute(w)) {
        words.next();
        let (key, value) = parsed?;
        match key {
            "family" => {
                rule.family = Some(match value {
                    "ipv4" => Family::Ipv4,
                    "ipv6" => Family::Ipv6,
                    other => return Err(format!("family {other:?} is neither ipv4 nor ipv6")),
                })
            }
            "priority" => {
                rule.priority = value
                    .parse()
                    .ok()
                    .filter(|p| (-32768..=32767).contains(p))
                    .ok_or_else(|| format!("priority {value:?} is not a number from -32768 to 32767"))?
            }
            other => return Err(format!("attribute {other}= outside of any element")),
        }
    }
    while let Some(word) = words.next() {
        if attribute(word).is_some() {
            return Err(format!("attribute {word:?} outside of any element"));
        }
        let mut attrs: Vec<(&str, &str)> = Vec::new();
        let mut inverted = false;
        while let Some(next) = words.peek() {
            match attribute(next) {
                Some(parsed) => attrs.push(parsed?),
                None if matches!(*next, "NOT" | "not") && matches!(word, "source" | "destination") => inverted = true,
                None => break,
            }
            words.next();
        }
        let limit = if words.peek() == Some(&"limit") {
            words.next();
            match words.next().and_then(attribute) {
                Some(Ok(("value", v))) => Some(v),
                _ => return Err("\"limit\" without value=".into()),
            }
        } else {
            None
        };
        let get = |key: &str| attrs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let allowed = |keys: &[&str]| match attrs.iter().find(|(k, _)| !keys.contains(k)) {
            Some((k, _)) => Err(format!("{word} has no attribute {k}=")),
            None => Ok(()),
        };
        let port = |keys: &[&str]| -> Result<FwPort, String> {
            allowed(keys)?;
            let (Some(p), Some(t)) = (get("port"), get("protocol")) else {
                return Err(format!("{word} needs port= and protocol="));
            };
            FwPort::parse(p, t).map_err(|e| format!("{word}: {e}"))
        };
        if limit.is_some() && !matches!(word, "log" | "nflog" | "audit" | "accept" | "reject" | "drop" | "mark") {
            return Err(format!("\"limit\" after {word}"));
        }
        let new_element = match word {
            "source" | "destination" => {
                let seen = if word == "source" { &mut source } else { &mut destination };
                if std::mem::replace(seen, true) {
                    return Err(format!("more than one {word}"));
                }
                allowed(&["address", "mac", "ipset", "invert"])?;
                let what: Vec<String> = attrs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let not = if inverted { "NOT " } else { "" };
                rule.conditions.push(format!("{word} {not}{}", what.join(" ")));
                None
            }
            "port" => Some(RuleElement::Port { port: port(&["port", "protocol"])? }),
            "source-port" => Some(RuleElement::SourcePort { port: port(&["port", "protocol"])? }),
            "forward-port" => {
                Some(RuleElement::ForwardPort { port: port(&["port", "protocol", "to-port", "to-addr"])? })
            }
            "service" => {
                allowed(&["name"])?;
                Some(RuleElement::Service { name: get("name").ok_or("service without name=")?.to_string() })
            }
            "protocol" => {
                allowed(&["value"])?;
                Some(RuleElement::Protocol { value: get("value").ok_or("protocol without value=")?.to_string() })
            }
            "icmp-block" | "icmp-type" | "masquerade" | "tcp-mss-clamp" => {
                Some(RuleElement::NoTcpVerdict { element: word.to_string() })
            }
            "log" | "nflog" | "audit" => {
                let seen = if word == "audit" { &mut audit } else { &mut log };
                if std::mem::replace(seen, true) {
                    return Err(format!("more than one {}", if word == "audit" { "audit" } else { "log or nflog" }));
                }
                None
            }
            "accept" | "reject" | "drop" | "mark" => {
                if rule.action.is_some() {
                    return Err(format!("more than one action ({word})"));
                }
                rule.action = Some(match word {
                    "accept" => RuleAction::Accept,
                    "reject" => RuleAction::Reject,
                    "drop" => RuleAction::Drop,
                    _ => RuleAction::Mark,
                });
                if let Some(limit) = limit {
                    rule.conditions.push(format!("{word} limit value={limit}"));
                }
                None
            }
            other => return Err(format!("unknown element {other:?}")),
        };
        if let Some(new) = new_element {
            if let Some(old) = element.replace(word) {
                return Err(format!("more than one element ({word} after {old})"));
            }
            rule.element = new;
        }
    }
    let verdict_free = matches!(rule.element, RuleElement::NoTcpVerdict { .. } | RuleElement::ForwardPort { .. });
    if rule.action.is_none() && !log && !audit && !verdict_free {
        return Err("no action, no log, no audit: firewalld refuses the rule".into());
    }
    Ok(rule)
}

/// `name=value`, as firewalld's rich-rule lexer splits it: `None` for a
/// word without `=`, an error for an empty side or a second `=`.
fn attribute(word: &str) -> Option<Result<(&str, &str), String>> {
    let (key, value) = word.split_once('=')?;
    if key.is_empty() || value.is_empty() || value.contains('=') {
        return Some(Err(format!("{word:?} is not one name=value attribute")));
    }
    Some(Ok((key, value)))
}

/// A service definition, its includes' ports folded in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    /// The file it was read from; `None` when no file defines it.
    pub origin: Option<String>,
    pub ports: Vec<FwPort>,
    pub protocols: Vec<String>,
    /// Services it includes (directly or not), whose ports are in `ports`.
    pub includes: Vec<String>,
    /// `<destination ipv4= ipv6=>` of it or of a service it includes, as
    /// `ipv4:ADDRESS`: the ports are open only to those addresses.
    #[serde(default)]
    pub destinations: Vec<String>,
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<FirewalldFacts> {
    let root = &g.cfg.root;
    let unit = unit_file(root);
    let state = if root.is_live() {
        daemon_state(g.cfg.timeout).await
    } else {
        DaemonState::Unknown { reason: "live probes are off under --root".into() }
    };
    if filtering(&state, &unit, root.is_live()) == Filtering::Off {
        return Fact::observed(FirewalldFacts { state, unit, zones: None });
    }
    let read = {
        let root = root.clone();
        tokio::task::spawn_blocking(move || read_zone_files(&root)).await
    };
    let mut setup = match read {
        Ok(Ok(read)) => read,
        Ok(Err(e)) => return Fact::failed(e),
        Err(e) => return Fact::failed(format!("reading firewalld zones: {e}")),
    };
    if state == DaemonState::Running {
        setup.runtime = runtime_zones(&setup.applying, g.cfg.timeout).await;
        let runtime_services: Vec<String> =
            setup.runtime.value().into_iter().flatten().flat_map(zone_service_names).collect();
        let root = root.clone();
        let known = setup.services.clone();
        match tokio::task::spawn_blocking(move || load_services(&root, runtime_services, known)).await {
            Ok(Ok(services)) => setup.services = services,
            Ok(Err(e)) => return Fact::failed(e),
            Err(e) => return Fact::failed(format!("reading firewalld services: {e}")),
        }
    }
    Fact::observed(FirewalldFacts { state, unit, zones: Some(setup) })
}

// --- the daemon and its unit ------------------------------------------------

async fn daemon_state(timeout: Duration) -> DaemonState {
    if !Path::new(SYSTEM_BUS).exists() {
        return DaemonState::NotRunning { how: format!("no D-Bus system bus ({SYSTEM_BUS}); firewalld needs it") };
    }
    match firewall_cmd(&["--state"], timeout).await {
        Ok(out) if out.status.success() => DaemonState::Running,
        Ok(out) if out.status.code() == Some(NOT_RUNNING_EXIT) => {
            DaemonState::NotRunning { how: "firewall-cmd --state: not running".into() }
        }
        Ok(out) => DaemonState::Unknown { reason: format!("firewall-cmd --state: {}", failure(&out)) },
        Err(e) => DaemonState::Unknown { reason: e },
    }
}

async fn firewall_cmd(args: &[&str], timeout: Duration) -> Result<Output, String> {
    let what = format!("firewall-cmd {}", args.join(" "));
    let mut command = tokio::process::Command::new("firewall-cmd");
    command.args(args).kill_on_drop(true).stdin(std::process::Stdio::null());
    match tokio::time::timeout(timeout, command.output()).await {
        Err(_) => Err(format!("{what}: no answer within {}", humantime::format_duration(timeout))),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Err(format!("{what}: firewall-cmd is not installed")),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Ok(Ok(out)) => Ok(out),
    }
}

fn failure(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let text = if stderr.trim().is_empty() { stdout.trim() } else { stderr.trim() };
    format!("{} {text}", out.status)
}

/// firewalld.service's enablement from the unit directories: a symlink in a
/// `*.wants/` or `*.requires/` directory, masking in /etc or /run first.
fn unit_file(root: &NodeRoot) -> UnitFile {
    let file = UNIT_DIRS.iter().map(|d| format!("{d}/{UNIT}")).find(|f| root.symlink_metadata(f).is_ok());
    let Some(file) = file else { return UnitFile::Absent };
    if is_masked(root, &file) {
        return UnitFile::Masked { file };
    }
    UNIT_DIRS
        .iter()
        .flat_map(|dir| dependency_links(root, dir))
        .next()
        .map_or(UnitFile::Disabled { file }, |link| UnitFile::Enabled { link })
}

fn is_masked(root: &NodeRoot, file: &str) -> bool {
    let to_null = root.resolve(file).is_ok_and(|t| t == Path::new("/dev/null"));
    to_null || root.symlink_metadata(file).is_ok_and(|m| m.is_file() && m.len() == 0)
}

/// `DIR/*.wants/firewalld.service` and `DIR/*.requires/firewalld.service`.
fn dependency_links(root: &NodeRoot, dir: &str) -> Vec<String> {
    let Ok(entries) = root.read_dir(dir) else { return Vec::new() };
    let mut links: Vec<String> = entries
        .into_iter()
        .filter_map(|e| e.name.into_string().ok())
        .filter(|n| n.ends_with(".wants") || n.ends_with(".requires"))
        .map(|n| format!("{dir}/{n}/{UNIT}"))
        .filter(|link| root.symlink_metadata(link).is_ok())
        .collect();
    links.sort();
    links
}

// --- zone selection ----------------------------------------------------------

/// Reads firewalld.conf and every zone file (any of them may bind interfaces
/// or sources), and works out which zones apply.
fn read_zone_files(root: &NodeRoot) -> Result<ZoneSetup, String> {
    let zones = all_zones(root)?;
    let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
    let default_zone = firewalld_default_zone(read_conf(root)?.as_deref(), &names);
    let applying = applying_zones(root, &zones, &default_zone)?;
    let permanent: Vec<Zone> = applying
        .iter()
        .map(|a| zones.iter().find(|z| z.name == a.zone).cloned().ok_or_else(|| missing_zone(&a.zone, &a.because)))
        .collect::<Result<_, _>>()?;
    let names = permanent.iter().flat_map(zone_service_names).collect();
    let services = load_services(root, names, Vec::new())?;
    let runtime = Fact::unavailable("firewalld is not running: only the permanent configuration applies");
    Ok(ZoneSetup { default_zone, applying, permanent, runtime, services })
}

fn missing_zone(zone: &str, because: &[Binding]) -> String {
    let why: Vec<String> = because.iter().map(|b| b.to_string()).collect();
    format!("zone {zone:?} ({}) has no file in {ETC_DIR}/zones or {LIB_DIR}/zones", why.join("; "))
}

/// firewalld.conf's bytes (not text: firewalld ignores a file that is not
/// UTF-8); `None` when there is none.
fn read_conf(root: &NodeRoot) -> Result<Option<Vec<u8>>, String> {
    root.read(CONF_FILE, Limit::CONFIG).map_err(|e| e.to_string())
}

/// The zone firewalld uses by default, given firewalld.conf (`None`: there
/// is none) and the names of the zones that exist: what firewalld.conf names
/// (see [`parse_firewalld_conf`]), else the built-in default, then checked
/// against the zones as `Firewall._start_check()` (firewall/core/fw.py) does.
pub fn firewalld_default_zone(conf: Option<&[u8]>, zones: &[&str]) -> DefaultZone {
    let built_in = |why: String| DefaultZone { name: BUILT_IN_DEFAULT_ZONE.into(), origin: why };
    let named = match conf.map(parse_firewalld_conf) {
        None => built_in(format!("firewalld's built-in default: there is no {CONF_FILE}")),
        Some(ConfDefaultZone::Set { name, line }) => {
            DefaultZone { name, origin: format!("DefaultZone= in {CONF_FILE} line {line}") }
        }
        Some(ConfDefaultZone::Unset) => {
            built_in(format!("firewalld's built-in default: no DefaultZone= line of {CONF_FILE} counts"))
        }
        Some(ConfDefaultZone::NotUtf8 { line }) => built_in(format!(
            "firewalld's built-in default: {CONF_FILE} line {line} is not UTF-8, so firewalld ignores the whole file"
        )),
    };
    valid_default_zone(named, zones)
}

/// What firewalld's reader makes of firewalld.conf's `DefaultZone=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfDefaultZone {
    /// The first line that counts, 1-based as Python counts lines.
    Set { name: String, line: usize },
    /// No line counts: firewalld uses its built-in default.
    Unset,
    /// Decoding failed here: the reader raises and firewalld falls back to
    /// its built-in settings.
    NotUtf8 { line: usize },
}

/// firewalld.conf as `firewalld_conf.read()` (firewall/core/io/firewalld_conf.py)
/// reads it: UTF-8 (Python's default in the C and every UTF-8 locale), lines
/// ended by `\n`, `\r\n` or `\r` (universal newlines), each stripped of
/// Python's whitespace; blank lines and lines starting with `#` or `;` are
/// skipped; `line.split("=")` must give exactly two parts, each stripped; the
/// key must be exactly `DefaultZone` (so `export DefaultZone=` is an invalid
/// option); an empty value is skipped; a later `DefaultZone=` is a duplicate
/// and ignored. The value is verbatim: quotes and `# note` are part of it.
pub fn parse_firewalld_conf(bytes: &[u8]) -> ConfDefaultZone {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let endings = valid.matches(['\r', '\n']).count() - valid.matches("\r\n").count();
            return ConfDefaultZone::NotUtf8 { line: endings + 1 };
        }
    };
    for (index, line) in python_lines(text).enumerate() {
        let line = line.trim_matches(python_space);
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        let parts: Vec<&str> = line.split('=').map(|p| p.trim_matches(python_space)).collect();
        if let [key, value] = parts[..]
            && key == "DefaultZone"
            && !value.is_empty()
        {
            return ConfDefaultZone::Set { name: value.to_string(), line: index + 1 };
        }
    }
    ConfDefaultZone::Unset
}

/// Lines as Python's text files give them (universal newlines): ended by
/// `\r\n`, `\r` or `\n`; a last line without an ending counts.
fn python_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\r', '\n']) {
            Some(at) => {
                let ending = if current[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&current[at + ending..]).filter(|r| !r.is_empty());
                Some(&current[..at])
            }
            None => {
                rest = None;
                (!current.is_empty()).then_some(current)
            }
        }
    })
}

/// Python's `str.isspace()`: Unicode White_Space plus the information
/// separators U+001C..U+001F (bidirectional class B or S).
fn python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Every zone: the names in both directories, each read from /etc when it
/// is there (overriding /usr/lib whole).
fn all_zones(root: &NodeRoot) -> Result<Vec<Zone>, String> {
    let names: BTreeSet<String> =
        [ETC_DIR, LIB_DIR].iter().flat_map(|d| xml_names(root, &format!("{d}/zones"))).collect();
    names
        .iter()
        .filter_map(|name| Some((name, override_file(root, "zones", name)?)))
        .map(|(name, file)| {
            let text = read_node_file(root, &file)?.unwrap_or_default();
            parse_zone(name, &file, &text)
        })
        .collect()
}

/// firewalld replaces a default zone that does not exist with public, else
/// external, else block (firewall/core/fw.py).
fn valid_default_zone(named: DefaultZone, zones: &[&str]) -> DefaultZone {
    if zones.contains(&named.name.as_str()) {
        return named;
    }
    let fallback = ["public", "external", "block"].into_iter().find(|f| zones.contains(f));
    let name = fallback.unwrap_or(BUILT_IN_DEFAULT_ZONE).to_string();
    let origin = format!("{} names zone {:?}, which does not exist: firewalld uses {name}", named.origin, named.name);
    DefaultZone { name, origin }
}

/// The `NAME` of each `NAME.xml` in a directory of the node.
fn xml_names(root: &NodeRoot, dir: &str) -> Vec<String> {
    let Ok(entries) = root.read_dir(dir) else { return Vec::new() };
    entries
        .into_iter()
        .filter_map(|e| e.name.into_string().ok())
        .filter_map(|n| n.strip_suffix(".xml").map(String::from))
        .filter(|n| !n.is_empty())
        .collect()
}

/// `/etc/firewalld/KIND/NAME.xml` if present, else the /usr/lib one. Names
/// that are not plain file names (firewalld refuses them) have no file.
fn override_file(root: &NodeRoot, kind: &str, name: &str) -> Option<String> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return None;
    }
    [ETC_DIR, LIB_DIR].iter().map(|d| format!("{d}/{kind}/{name}.xml")).find(|f| root.metadata(f).is_ok())
}

fn applying_zones(root: &NodeRoot, zones: &[Zone], default: &DefaultZone) -> Result<Vec<ApplyingZone>, String> {
    let mut bindings: Vec<(String, Binding)> = Vec::new();
    for zone in zones {
        for name in &zone.interfaces {
            bindings.push((zone.name.clone(), Binding::Interface { name: name.clone(), origin: zone.origin.clone() }));
        }
        for address in &zone.sources {
            bindings
                .push((zone.name.clone(), Binding::Source { address: address.clone(), origin: zone.origin.clone() }));
        }
    }
    bindings.extend(ifcfg_bindings(root)?);
    let bound: BTreeSet<&str> = bindings
        .iter()
        .filter_map(|(_, b)| match b {
            Binding::Interface { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let interfaces = live_interfaces(root);
    // Under --root the interfaces are unknown: some may fall to the default zone.
    let default_applies =
        interfaces.as_ref().is_none_or(|all| all.is_empty() || all.iter().any(|i| !bound.contains(i.as_str())));
    if default_applies {
        bindings.push((default.name.clone(), Binding::Default { origin: default.origin.clone() }));
    }
    let mut applying: Vec<ApplyingZone> = Vec::new();
    for (zone, binding) in bindings {
        match applying.iter_mut().find(|a| a.zone == zone) {
            Some(a) => a.because.push(binding),
            None => applying.push(ApplyingZone { zone, because: vec![binding] }),
        }
    }
    applying.sort_by(|a, b| a.zone.cmp(&b.zone));
    Ok(applying)
}

/// The node's network interfaces other than loopback, when live.
fn live_interfaces(root: &NodeRoot) -> Option<Vec<String>> {
    if !root.is_live() {
        return None;
    }
    let entries = std::fs::read_dir("/sys/class/net").ok()?;
    Some(entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n != "lo").collect())
}

/// `ZONE=` in /etc/sysconfig/network-scripts/ifcfg-* (EL7): the interface is
/// `DEVICE=`, else the file's suffix.
fn ifcfg_bindings(root: &NodeRoot) -> Result<Vec<(String, Binding)>, String> {
    let Ok(entries) = root.read_dir(IFCFG_DIR) else { return Ok(Vec::new()) };
    let mut names: Vec<String> = entries
        .into_iter()
        .filter_map(|e| e.name.into_string().ok())
        .filter(|n| n.starts_with("ifcfg-") && n != "ifcfg-lo")
        .collect();
    names.sort();
    let mut bindings = Vec::new();
    for name in names {
        let file = format!("{IFCFG_DIR}/{name}");
        let vars = shell_assignments(&read_node_file(root, &file)?.unwrap_or_default());
        let var = |key: &str| vars.iter().rev().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.clone());
        if let Some(zone) = var("ZONE") {
            let device = var("DEVICE").unwrap_or_else(|| name.trim_start_matches("ifcfg-").to_string());
            bindings.push((zone, Binding::Interface { name: device, origin: file }));
        }
    }
    Ok(bindings)
}

// --- services ------------------------------------------------------------------

fn zone_service_names(zone: &Zone) -> Vec<String> {
    let from_rules = zone.rich_rules.iter().filter_map(|r| match &r.understood()?.element {
        RuleElement::Service { name } => Some(name.clone()),
        _ => None,
    });
    zone.services.iter().cloned().chain(from_rules).collect()
}

/// Loads the named services not in `known`, following includes.
fn load_services(root: &NodeRoot, names: Vec<String>, mut known: Vec<Service>) -> Result<Vec<Service>, String> {
    for name in names {
        if !known.iter().any(|s| s.name == name) {
            let service = load_service(root, &name)?;
            known.push(service);
        }
    }
    known.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(known)
}

fn load_service(root: &NodeRoot, name: &str) -> Result<Service, String> {
    let mut service = Service {
        name: name.into(),
        origin: None,
        ports: vec![],
        protocols: vec![],
        includes: vec![],
        destinations: vec![],
    };
    let mut todo = vec![name.to_string()];
    let mut seen = BTreeSet::new();
    while let Some(next) = todo.pop() {
        if !seen.insert(next.clone()) {
            continue;
        }
        let Some(file) = override_file(root, "services", &next) else { continue };
        let text = read_node_file(root, &file)?.unwrap_or_default();
        let parsed = parse_service(&file, &text)?;
        if next == name {
            service.origin = Some(file);
        } else {
            service.includes.push(next);
        }
        service.ports.extend(parsed.ports);
        service.protocols.extend(parsed.protocols);
        service.destinations.extend(parsed.destinations);
        todo.extend(parsed.includes);
    }
    Ok(service)
}

// --- runtime ---------------------------------------------------------------------

async fn runtime_zones(applying: &[ApplyingZone], timeout: Duration) -> Fact<Vec<Zone>> {
    let mut zones = Vec::new();
    for a in applying {
        let zone_arg = format!("--zone={}", a.zone);
        let what = format!("firewall-cmd --list-all {zone_arg}");
        let out = match firewall_cmd(&["--list-all", &zone_arg], timeout).await {
            Ok(out) if out.status.success() => out,
            Ok(out) => return Fact::failed(format!("{what}: {}", failure(&out))),
            Err(e) => return Fact::failed(e),
        };
        match parse_list_all(&a.zone, &String::from_utf8_lossy(&out.stdout)) {
            Ok(mut zone) => {
                zone.origin = format!("runtime ({what})");
                zones.push(zone);
            }
            Err(e) => return Fact::failed(format!("{what}: {e}")),
        }
    }
    Fact::observed(zones)
}

/// `firewall-cmd --list-all --zone=Z`: `key: values` lines, rich rules one
/// per line after `rich rules:`.
pub fn parse_list_all(name: &str, text: &str) -> Result<Zone, String> {
    let mut zone = Zone { name: name.to_string(), ..Zone::default() };
    let mut section = "";
    let mut saw_target = false;
    for (index, line) in text.lines().enumerate().skip(1) {
        let line = line.trim();
        let origin = || format!("line {} of firewall-cmd --list-all --zone={name}", index + 1);
        if section == "rich rules" && line.starts_with("rule") {
            zone.rich_rules.push(RichRule::from_text(line, origin()));
            continue;
        }
        // `port=5050:proto=tcp:toport=6000:toaddr=`
        if section == "forward-ports" && line.starts_with("port=") {
            let field = |key: &str| line.split(':').find_map(|f| f.strip_prefix(key)?.strip_prefix('=')).unwrap_or("");
            let port = FwPort::parse(field("port"), field("proto")).map_err(|e| format!("{}: {e}", origin()))?;
            let to = [("to-port", field("toport")), ("to-addr", field("toaddr"))]
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ");
            zone.forward_ports.push(ZoneForwardPort { port, to, origin: origin() });
            continue;
        }
        let Some((key, values)) = line.split_once(':') else { continue };
        section = ["rich rules", "forward-ports"].into_iter().find(|s| *s == key).unwrap_or("");
        let words = || values.split_whitespace().map(String::from);
        match key {
            "target" => {
                zone.target = values.parse()?;
                saw_target = true;
            }
            "services" => zone.services = words().collect(),
            "ports" => zone.ports = words().map(|w| parse_port_word(&w)).collect::<Result<_, _>>()?,
            "protocols" => zone.protocols = words().collect(),
            "sources" => zone.sources = words().collect(),
            "interfaces" => zone.interfaces = words().collect(),
            _ => {}
        }
    }
    if !saw_target {
        return Err("no \"target:\" line: not the output of firewall-cmd --list-all".into());
    }
    Ok(zone)
}

/// `5050/tcp`.
fn parse_port_word(word: &str) -> Result<FwPort, String> {
    let (port, protocol) = word.split_once('/').ok_or_else(|| format!("{word:?} is not PORT/PROTOCOL"))?;
    FwPort::parse(port, protocol)
}

// --- XML ---------------------------------------------------------------------

/// A zone file (firewalld.zone(5)).
#[derive(Debug, Deserialize)]
struct ZoneXml {
    #[serde(rename = "@target")]
    target: Option<String>,
    #[serde(rename = "$value", default)]
    items: Vec<ZoneItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ZoneItem {
    Service(NameXml),
    Port(PortXml),
    Protocol(ValueXml),
    Source(AddressXml),
    Interface(NameXml),
    Rule(RuleXml),
    ForwardPort(ForwardPortXml),
    /// `short`, `description`, `forward`, `masquerade`, `icmp-block`, ...
    #[serde(other)]
    Other,
}

/// A service file (firewalld.service(5)).
#[derive(Debug, Deserialize)]
struct ServiceXml {
    #[serde(rename = "$value", default)]
    items: Vec<ServiceItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ServiceItem {
    Port(PortXml),
    Protocol(ValueXml),
    Include(IncludeXml),
    Destination(DestinationXml),
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct NameXml {
    #[serde(rename = "@name")]
    name: String,
}

#[derive(Debug, Deserialize)]
struct ValueXml {
    #[serde(rename = "@value")]
    value: String,
}

/// `<destination ipv4="224.0.0.251" ipv6="ff02::fb"/>` of a service.
#[derive(Debug, Deserialize)]
struct DestinationXml {
    #[serde(rename = "@ipv4")]
    ipv4: Option<String>,
    #[serde(rename = "@ipv6")]
    ipv6: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IncludeXml {
    #[serde(rename = "@service")]
    service: String,
}

#[derive(Debug, Deserialize)]
struct PortXml {
    #[serde(rename = "@port")]
    port: String,
    #[serde(rename = "@protocol")]
    protocol: String,
}

/// `<source address=|mac=|ipset= [invert=]/>`, `<destination .../>`.
#[derive(Debug, Deserialize)]
struct AddressXml {
    #[serde(rename = "@address")]
    address: Option<String>,
    #[serde(rename = "@mac")]
    mac: Option<String>,
    #[serde(rename = "@ipset")]
    ipset: Option<String>,
    #[serde(rename = "@invert")]
    invert: Option<String>,
}

impl AddressXml {
    fn render(&self) -> String {
        let not = if self.invert.as_deref().is_some_and(|i| i.eq_ignore_ascii_case("true")) { "NOT " } else { "" };
        let attr = [("address", &self.address), ("mac", &self.mac), ("ipset", &self.ipset)]
            .into_iter()
            .find_map(|(k, v)| v.as_ref().map(|v| format!("{k}=\"{v}\"")))
            .unwrap_or_default();
        format!("{not}{attr}")
    }

    fn value(&self) -> Option<String> {
        self.address.clone().or_else(|| self.mac.clone()).or_else(|| self.ipset.as_ref().map(|i| format!("ipset:{i}")))
    }
}

/// `<rule family= priority=>` and its parts (firewalld.richlanguage(5)).
#[derive(Debug, Deserialize)]
struct RuleXml {
    #[serde(rename = "@family")]
    family: Option<String>,
    #[serde(rename = "@priority")]
    priority: Option<String>,
    #[serde(rename = "$value", default)]
    parts: Vec<RulePart>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RulePart {
    Source(AddressXml),
    Destination(AddressXml),
    Service(NameXml),
    Port(PortXml),
    SourcePort(PortXml),
    Protocol(ValueXml),
    IcmpBlock(NameXml),
    IcmpType(NameXml),
    ForwardPort(ForwardPortXml),
    Masquerade,
    Log(ActionXml),
    Nflog(ActionXml),
    Audit(ActionXml),
    Accept(ActionXml),
    Reject(ActionXml),
    Drop(ActionXml),
    Mark(ActionXml),
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct ForwardPortXml {
    #[serde(rename = "@port")]
    port: String,
    #[serde(rename = "@protocol")]
    protocol: String,
    #[serde(rename = "@to-port")]
    to_port: Option<String>,
    #[serde(rename = "@to-addr")]
    to_addr: Option<String>,
}

/// An action or logging element; any `<limit>` makes the rule conditional.
#[derive(Debug, Deserialize)]
struct ActionXml {
    #[serde(rename = "@type")]
    kind: Option<String>,
    #[serde(rename = "@prefix")]
    prefix: Option<String>,
    #[serde(rename = "@level")]
    level: Option<String>,
    #[serde(rename = "@set")]
    set: Option<String>,
    limit: Option<ValueXml>,
}

impl ActionXml {
    fn render(&self, word: &str) -> String {
        let mut text = word.to_string();
        for (key, value) in [("type", &self.kind), ("prefix", &self.prefix), ("level", &self.level), ("set", &self.set)]
        {
            if let Some(v) = value {
                text.push_str(&format!(" {key}=\"{v}\""));
            }
        }
        if let Some(limit) = &self.limit {
            text.push_str(&format!(" limit value=\"{}\"", limit.value));
        }
        text
    }
}

impl RuleXml {
    /// The rule in `firewall-cmd --list-all` syntax.
    fn render(&self) -> String {
        let mut words = vec!["rule".to_string()];
        if let Some(f) = &self.family {
            words.push(format!("family=\"{f}\""));
        }
        if let Some(p) = &self.priority {
            words.push(format!("priority=\"{p}\""));
        }
        for part in &self.parts {
            words.push(match part {
                RulePart::Source(a) => format!("source {}", a.render()),
                RulePart::Destination(a) => format!("destination {}", a.render()),
                RulePart::Service(s) => format!("service name=\"{}\"", s.name),
                RulePart::Port(p) => format!("port port=\"{}\" protocol=\"{}\"", p.port, p.protocol),
                RulePart::SourcePort(p) => format!("source-port port=\"{}\" protocol=\"{}\"", p.port, p.protocol),
                RulePart::Protocol(v) => format!("protocol value=\"{}\"", v.value),
                RulePart::IcmpBlock(n) => format!("icmp-block name=\"{}\"", n.name),
                RulePart::IcmpType(n) => format!("icmp-type name=\"{}\"", n.name),
                RulePart::ForwardPort(f) => {
                    let mut text = format!("forward-port port=\"{}\" protocol=\"{}\"", f.port, f.protocol);
                    for (k, v) in [("to-port", &f.to_port), ("to-addr", &f.to_addr)] {
                        if let Some(v) = v {
                            text.push_str(&format!(" {k}=\"{v}\""));
                        }
                    }
                    text
                }
                RulePart::Masquerade => "masquerade".into(),
                RulePart::Log(a) => a.render("log"),
                RulePart::Nflog(a) => a.render("nflog"),
                RulePart::Audit(a) => a.render("audit"),
                RulePart::Accept(a) => a.render("accept"),
                RulePart::Reject(a) => a.render("reject"),
                RulePart::Drop(a) => a.render("drop"),
                RulePart::Mark(a) => a.render("mark"),
                RulePart::Other => "(an element clusterdoc does not know)".into(),
            });
        }
        words.join(" ")
    }
}

/// Parses a zone file; errors name the file and, for malformed XML, the
/// line and column.
pub fn parse_zone(name: &str, file: &str, text: &str) -> Result<Zone, String> {
    let (xml, children): (ZoneXml, _) = parse_xml(file, text, "zone")?;
    let lines_of = |name: &str| -> Vec<usize> {
        children.iter().filter(|(n, _)| n == name).map(|(_, at)| line_column(text, *at).0).collect()
    };
    let at_line = |line: Option<usize>| line.map_or(file.to_string(), |line| format!("{file} line {line}"));
    let (mut rule_lines, mut forward_lines) = (lines_of("rule").into_iter(), lines_of("forward-port").into_iter());
    let bad = |e: String| format!("{file}: {e}");
    let mut zone = Zone {
        name: name.to_string(),
        origin: file.to_string(),
        target: xml.target.as_deref().map_or(Ok(ZoneTarget::Default), str::parse).map_err(bad)?,
        ..Zone::default()
    };
    for item in xml.items {
        match item {
            ZoneItem::Service(s) => zone.services.push(s.name),
            ZoneItem::Port(p) => zone.ports.push(FwPort::parse(&p.port, &p.protocol).map_err(bad)?),
            ZoneItem::Protocol(p) => zone.protocols.push(p.value),
            ZoneItem::Source(s) => zone.sources.extend(s.value()),
            ZoneItem::Interface(i) => zone.interfaces.push(i.name),
            ZoneItem::Rule(r) => {
                let mut rule = RichRule::from_text(&r.render(), at_line(rule_lines.next()));
                if r.parts.iter().any(|p| matches!(p, RulePart::Other)) {
                    rule.meaning = RuleMeaning::NotUnderstood { reason: "an element clusterdoc does not know".into() };
                }
                zone.rich_rules.push(rule);
            }
            ZoneItem::ForwardPort(f) => {
                let to = [("to-port", &f.to_port), ("to-addr", &f.to_addr)]
                    .iter()
                    .filter_map(|(k, v)| Some(format!("{k}={}", v.as_deref()?)))
                    .collect::<Vec<_>>()
                    .join(" ");
                let port = FwPort::parse(&f.port, &f.protocol).map_err(bad)?;
                zone.forward_ports.push(ZoneForwardPort { port, to, origin: at_line(forward_lines.next()) });
            }
            ZoneItem::Other => {}
        }
    }
    Ok(zone)
}

pub struct ParsedService {
    ports: Vec<FwPort>,
    protocols: Vec<String>,
    includes: Vec<String>,
    destinations: Vec<String>,
}

pub fn parse_service(file: &str, text: &str) -> Result<ParsedService, String> {
    let (xml, _): (ServiceXml, _) = parse_xml(file, text, "service")?;
    let mut parsed = ParsedService { ports: vec![], protocols: vec![], includes: vec![], destinations: vec![] };
    for item in xml.items {
        match item {
            ServiceItem::Port(p) => {
                parsed.ports.push(FwPort::parse(&p.port, &p.protocol).map_err(|e| format!("{file}: {e}"))?)
            }
            ServiceItem::Protocol(p) => parsed.protocols.push(p.value),
            ServiceItem::Include(i) => parsed.includes.push(i.service),
            ServiceItem::Destination(d) => {
                let families = [("ipv4", d.ipv4), ("ipv6", d.ipv6)];
                parsed.destinations.extend(families.into_iter().filter_map(|(f, a)| Some(format!("{f}:{}", a?))));
            }
            ServiceItem::Other => {}
        }
    }
    Ok(parsed)
}

/// Checks that `text` is well-formed XML whose root is `<root>` (quick-xml's
/// reader knows where it failed; its serde errors do not), then deserializes.
/// Also gives the names and byte offsets of the root's children, in order
/// (serde does not know where things are).
fn parse_xml<T: DeserializeOwned>(file: &str, text: &str, root: &str) -> Result<(T, Vec<(String, usize)>), String> {
    let children = well_formed(text, root).map_err(|(at, e)| {
        let (line, column) = line_column(text, at);
        format!("{file}: malformed XML at line {line}, column {column}: {e}")
    })?;
    let parsed = quick_xml::de::from_str(text).map_err(|e| format!("{file}: not a firewalld {root} file: {e}"))?;
    Ok((parsed, children))
}

fn well_formed(text: &str, root: &str) -> Result<Vec<(String, usize)>, (usize, String)> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0usize;
    let mut roots = 0;
    let mut children = Vec::new();
    loop {
        let at = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| (reader.error_position() as usize, e.to_string()))?;
        let opens = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e) if depth == 0 => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if name != root {
                    return Err((at, format!("the root element is <{name}>, expected <{root}>")));
                }
                roots += 1;
                if roots > 1 {
                    return Err((at, format!("a second <{root}> element")));
                }
                if opens {
                    depth += 1;
                }
            }
            Event::Start(e) | Event::Empty(e) => {
                if depth == 1 {
                    children.push((String::from_utf8_lossy(e.name().as_ref()).into_owned(), at));
                }
                if opens {
                    depth += 1;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(t) if depth == 0 && !t.iter().all(u8::is_ascii_whitespace) => {
                return Err((at, "text outside the root element".into()));
            }
            Event::Eof if depth > 0 => return Err((text.len(), "the file ends inside an element".into())),
            Event::Eof if roots == 0 => return Err((text.len(), format!("no <{root}> element"))),
            Event::Eof => return Ok(children),
            _ => {}
        }
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..at.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = before.len() - before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use PortSpec::{One, Range};

    const PUBLIC: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<zone>
  <short>Public</short>
  <description>For use in public areas.</description>
  <service name="ssh"/>
  <port port="31000-32000" protocol="tcp"/>
  <service name="dhcpv6-client"/>
  <source address="10.0.0.0/8"/>
  <interface name="eth0"/>
  <rule family="ipv4">
    <port port="8080" protocol="tcp"/>
    <accept/>
  </rule>
  <rule family="ipv4">
    <source address="192.168.0.0/24"/>
    <port port="5050" protocol="tcp"/>
    <accept><limit value="1/m"/></accept>
  </rule>
  <forward/>
</zone>
"#;

    #[test]
    fn a_zone_file_with_interleaved_elements() {
        let z = parse_zone("public", "/etc/firewalld/zones/public.xml", PUBLIC).unwrap();
        assert_eq!(z.target, ZoneTarget::Default);
        assert_eq!(z.services, ["ssh", "dhcpv6-client"]);
        assert_eq!(z.ports, [FwPort { port: Range(31000, 32000), protocol: Proto::Tcp }]);
        assert_eq!(z.sources, ["10.0.0.0/8"]);
        assert_eq!(z.interfaces, ["eth0"]);
        assert_eq!(z.rich_rules[0].text, r#"rule family="ipv4" port port="8080" protocol="tcp" accept"#);
        assert_eq!(z.rich_rules[0].origin, "/etc/firewalld/zones/public.xml line 10");
        let rule = z.rich_rules[0].understood().unwrap();
        assert_eq!(rule.element, RuleElement::Port { port: FwPort { port: One(8080), protocol: Proto::Tcp } });
        assert_eq!(
            (rule.family, rule.action, rule.conditions.is_empty()),
            (Some(Family::Ipv4), Some(RuleAction::Accept), true)
        );
        assert_eq!(
            z.rich_rules[1].text,
            r#"rule family="ipv4" source address="192.168.0.0/24" port port="5050" protocol="tcp" accept limit value="1/m""#
        );
        assert_eq!(z.rich_rules[1].origin, "/etc/firewalld/zones/public.xml line 14");
        assert_eq!(
            z.rich_rules[1].understood().unwrap().conditions,
            ["source address=192.168.0.0/24", "accept limit value=1/m"]
        );
    }

    #[test]
    fn targets() {
        for (attr, target) in
            [("ACCEPT", ZoneTarget::Accept), ("%%REJECT%%", ZoneTarget::Reject), ("DROP", ZoneTarget::Drop)]
        {
            let z = parse_zone("z", "f", &format!("<zone target=\"{attr}\"/>")).unwrap();
            assert_eq!(z.target, target);
        }
        let e = parse_zone("z", "f.xml", "<zone target=\"MAYBE\"/>").unwrap_err();
        assert!(e.contains("f.xml") && e.contains("MAYBE"), "{e}");
    }

    #[test]
    fn malformed_xml_names_file_line_and_column() {
        let e = parse_zone("public", "/etc/firewalld/zones/public.xml", "<zone>\n  <service name=\"ssh\">\n</zone>\n")
            .unwrap_err();
        assert!(e.starts_with("/etc/firewalld/zones/public.xml: malformed XML at line 3, column"), "{e}");
        let e = parse_zone("p", "p.xml", "<zone>\n <port port=\"1\" protocol=\"tcp\"/>").unwrap_err();
        assert!(e.contains("p.xml: malformed XML") && e.contains("ends inside"), "{e}");
        let e = parse_zone("p", "p.xml", "<service/>").unwrap_err();
        assert!(e.contains("expected <zone>"), "{e}");
        let e = parse_zone("p", "p.xml", "").unwrap_err();
        assert!(e.contains("no <zone> element"), "{e}");
        let e = parse_zone("p", "p.xml", "<zone><port port=\"99999\" protocol=\"tcp\"/></zone>").unwrap_err();
        assert!(e.contains("p.xml") && e.contains("99999"), "{e}");
        let e = parse_zone("p", "p.xml", "<zone><port protocol=\"tcp\"/></zone>").unwrap_err();
        assert!(e.contains("p.xml: not a firewalld zone file"), "{e}");
    }

    #[test]
    fn rich_rules_as_firewalld_reads_them() {
        let rule = |t: &str| parse_rich_rule(t).unwrap();
        let tcp = |p| RuleElement::Port { port: FwPort { port: p, protocol: Proto::Tcp } };
        let r = rule("rule family=ipv4 port port=5050 protocol=tcp accept");
        assert_eq!(
            (r.family, r.priority, &r.element, r.action),
            (Some(Family::Ipv4), 0, &tcp(One(5050)), Some(RuleAction::Accept))
        );
        let r = rule(r#"rule priority="-5" family="ipv6" port port="31000-32000" protocol="tcp" drop"#);
        assert_eq!(
            (r.family, r.priority, &r.element, r.action),
            (Some(Family::Ipv6), -5, &tcp(Range(31000, 32000)), Some(RuleAction::Drop))
        );
        assert_eq!(rule("rule service name=http accept").element, RuleElement::Service { name: "http".into() });
        let r = rule(
            r#"rule family="ipv4" source NOT address="10.0.0.0/8" port port="5050" protocol="tcp" log prefix="x" level="info" limit value="1/m" reject type="icmp-host-prohibited" limit value="2/s""#,
        );
        assert_eq!(r.conditions, ["source NOT address=10.0.0.0/8", "reject limit value=2/s"]);
        assert_eq!(r.action, Some(RuleAction::Reject));
        // Logging alone is a rule, without a verdict.
        assert_eq!(rule("rule port port=5050 protocol=tcp log").action, None);
        assert_eq!(rule("rule port port=5050 protocol=tcp audit accept").action, Some(RuleAction::Accept));
        assert_eq!(
            rule("rule family=ipv4 masquerade").element,
            RuleElement::NoTcpVerdict { element: "masquerade".into() }
        );
        for (text, error) in [
            ("rule port port=5050 protocol=tcp", "no action"),
            ("rule port port=5050 accept", "needs port= and protocol="),
            ("rule \"unbalanced accept", "unbalanced"),
            ("rule family=ipv5 accept", "ipv5"),
            ("rule priority=40000 port port=1 protocol=tcp accept", "priority"),
            ("rule port port=1 protocol=tcp service name=x accept", "more than one element"),
            ("rule port port=1 protocol=tcp accept drop", "more than one action"),
            ("rule port port=1 protocol=tcp frobnicate accept", "unknown element \"frobnicate\""),
            ("rule port port=1 protocol=tcp color=red accept", "no attribute color="),
            ("rule port port=1=2 protocol=tcp accept", "not one name=value"),
            ("rule port port=1 protocol=tcp accept limit", "limit"),
            ("rules port port=1 protocol=tcp accept", "does not start"),
        ] {
            let e = parse_rich_rule(text).unwrap_err();
            assert!(e.contains(error), "{text}: {e}");
        }
    }

    #[test]
    fn an_unknown_element_in_a_zone_rule_is_not_understood() {
        let z = parse_zone(
            "p",
            "p.xml",
            "<zone>\n<rule>\n<port port=\"5050\" protocol=\"tcp\"/><frob/><accept/></rule></zone>",
        )
        .unwrap();
        assert_eq!(z.rich_rules[0].origin, "p.xml line 2");
        assert_eq!(
            z.rich_rules[0].meaning,
            RuleMeaning::NotUnderstood { reason: "an element clusterdoc does not know".into() }
        );
    }

    #[test]
    fn list_all_output() {
        let text = "public (default, active)\n  target: default\n  icmp-block-inversion: no\n  interfaces: eth0\n  \
                    sources: \n  services: dhcpv6-client ssh\n  ports: 5050/tcp 31000-32000/tcp\n  protocols: \n  \
                    forward: yes\n  masquerade: no\n  forward-ports: \n  source-ports: \n  icmp-blocks: \n  rich rules: \n\
                    \trule family=\"ipv4\" port port=\"8080\" protocol=\"tcp\" accept\n";
        let z = parse_list_all("public", text).unwrap();
        assert_eq!(z.services, ["dhcpv6-client", "ssh"]);
        assert_eq!(z.ports.iter().map(|p| p.to_string()).collect::<Vec<_>>(), ["5050/tcp", "31000-32000/tcp"]);
        assert_eq!(z.interfaces, ["eth0"]);
        assert!(z.sources.is_empty());
        assert_eq!(z.rich_rules.len(), 1);
        assert_eq!(z.rich_rules[0].origin, "line 15 of firewall-cmd --list-all --zone=public");
        assert!(z.rich_rules[0].understood().is_some());
        assert!(parse_list_all("public", "garbage\n").is_err());
        assert!(parse_list_all("public", "public\n  target: default\n  ports: 5050\n").is_err());
    }

    #[test]
    fn firewalld_conf_as_firewalld_reads_it() {
        let set = |name: &str, line| ConfDefaultZone::Set { name: name.into(), line };
        for (text, expected) in [
            (&b"DefaultZone=public\nDefaultZone=trusted\n"[..], set("public", 1)),
            (b"DefaultZone=\"trusted\"", set("\"trusted\"", 1)),
            (b"DefaultZone=trusted # note", set("trusted # note", 1)),
            (b"export DefaultZone=trusted\n", ConfDefaultZone::Unset),
            (b"# c\n; c\n\n  DefaultZone = work \r\n", set("work", 4)),
            (b"DefaultZone=\nDefaultZone=a=b\nDefaultZone=work", set("work", 3)),
            (b"DefaultZone=work\rDefaultZone=trusted", set("work", 1)),
            (b"x\rDefaultZone=work", set("work", 2)),
            (b"\x1cDefaultZone=work\x1f", set("work", 1)),
            (b"DefaultZone=trusted\n# \xe4\n", ConfDefaultZone::NotUtf8 { line: 2 }),
            (b"\xff", ConfDefaultZone::NotUtf8 { line: 1 }),
            (b"", ConfDefaultZone::Unset),
        ] {
            assert_eq!(parse_firewalld_conf(text), expected, "{:?}", String::from_utf8_lossy(text));
        }
        let zones = ["block", "drop", "trusted", "public", "work"];
        let zone = firewalld_default_zone(Some(b"DefaultZone=trusted # note\n"), &zones);
        assert_eq!(zone.name, "public");
        assert_eq!(
            zone.origin,
            "DefaultZone= in /etc/firewalld/firewalld.conf line 1 names zone \"trusted # note\", which does not exist: \
             firewalld uses public"
        );
        assert_eq!(firewalld_default_zone(None, &["block", "drop", "trusted"]).name, "block");
    }

    #[test]
    fn rich_rules_round_trip_and_older_snapshots_are_read_again() {
        let rule = RichRule::from_text("rule family=ipv4 port port=5050 protocol=tcp drop", "z.xml line 3".into());
        let json = serde_json::to_string(&rule).unwrap();
        assert_eq!(serde_json::from_str::<RichRule>(&json).unwrap(), rule);
        let old = r#"{"text":"rule family=ipv4 port port=5050 protocol=tcp drop","opens":null}"#;
        let read: RichRule = serde_json::from_str(old).unwrap();
        assert_eq!((read.meaning, read.origin), (rule.meaning, String::new()));
    }

    #[test]
    fn service_destinations() {
        let text =
            r#"<service><port port="5353" protocol="udp"/><destination ipv4="224.0.0.251" ipv6="ff02::fb"/></service>"#;
        let parsed = parse_service("mdns.xml", text).unwrap();
        assert_eq!(parsed.destinations, ["ipv4:224.0.0.251", "ipv6:ff02::fb"]);
    }

    #[test]
    fn zone_forward_ports_from_files_and_the_runtime() {
        let z = parse_zone(
            "p",
            "p.xml",
            "<zone>\n  <port port=\"5050\" protocol=\"tcp\"/>\n  <forward-port port=\"5050\" protocol=\"tcp\" to-port=\"6000\"/>\n</zone>",
        )
        .unwrap();
        let expected = |origin: &str, to: &str| ZoneForwardPort {
            port: FwPort { port: One(5050), protocol: Proto::Tcp },
            to: to.into(),
            origin: origin.into(),
        };
        assert_eq!(z.forward_ports, [expected("p.xml line 3", "to-port=6000")]);
        let text = "public\n  target: default\n  forward-ports: \n\tport=5050:proto=tcp:toport=6000:toaddr=10.0.0.2\n  \
                    source-ports: \n";
        let z = parse_list_all("public", text).unwrap();
        assert_eq!(
            z.forward_ports,
            [expected("line 4 of firewall-cmd --list-all --zone=public", "to-port=6000 to-addr=10.0.0.2")]
        );
    }

    #[test]
    fn who_filters() {
        let enabled = UnitFile::Enabled { link: "l".into() };
        let disabled = UnitFile::Disabled { file: "f".into() };
        let unknown = DaemonState::Unknown { reason: "r".into() };
        let stopped = DaemonState::NotRunning { how: "h".into() };
        assert_eq!(filtering(&DaemonState::Running, &disabled, true), Filtering::Active);
        assert_eq!(filtering(&stopped, &enabled, true), Filtering::AtBoot);
        assert_eq!(filtering(&unknown, &enabled, false), Filtering::AtBoot);
        assert_eq!(filtering(&unknown, &disabled, true), Filtering::Unsure);
        assert_eq!(filtering(&unknown, &disabled, false), Filtering::Off);
        assert_eq!(filtering(&unknown, &UnitFile::Absent, true), Filtering::Off);
        assert_eq!(filtering(&stopped, &disabled, true), Filtering::Off);
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("ab", 99), (1, 3));
    }

    proptest::proptest! {
        #[test]
        fn the_zone_parser_never_panics(text in "\\PC*") {
            let _ = parse_zone("z", "z.xml", &text);
        }

        #[test]
        fn nor_on_near_zone_xml(text in "<zone( target=\"[A-Z%]{0,12}\")?>(<(service|port|rule|source|interface|accept|limit)( [a-z]{1,8}=\"[0-9a-z./-]{0,12}\"){0,3}/?>|</[a-z]{1,9}>){0,8}</zone>") {
            let _ = parse_zone("z", "z.xml", &text);
        }

        #[test]
        fn nor_the_list_all_parser(text in "\\PC*") {
            let _ = parse_list_all("z", &text);
        }

        #[test]
        fn nor_the_firewalld_conf_reader(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = firewalld_default_zone(Some(&bytes), &["block", "drop", "trusted"]);
        }

        #[test]
        fn nor_the_rich_rule_parser(text in "rule( [a-zA-Z-]{1,12}(=\"?[0-9a-z./-]{0,10}\"?)?){0,8}") {
            let _ = RichRule::from_text(&text, "z".into());
        }
    }
}
