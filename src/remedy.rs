//! Remediation commands. Every value that comes from outside is shell-quoted
//! when the command is built, so pasting a command can never run anything
//! else; and every command says where it must run ([`RunsOn`]), so a plan
//! never runs a command meant for another machine on this one.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::version::Version;

pub use crate::remote::HostName;

/// What running a remediation command does to the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Read-only, or reversible at once.
    Safe,
    /// Restarts or moves services.
    Disruptive,
    /// Loses data (e.g. deleting a ZooKeeper tree).
    Destructive,
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Risk::Safe => "safe",
            Risk::Disruptive => "disruptive",
            Risk::Destructive => "destructive",
        })
    }
}

/// One complete shell command line that fixes (part of) a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remedy {
    pub command: String,
    pub risk: Risk,
    pub note: Option<String>,
    /// JSON: `host` (one host name) or `hosts` (a group clusterdoc cannot
    /// name host by host), neither for this node.
    #[serde(flatten)]
    pub runs_on: RunsOn,
}

impl Remedy {
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// The command must run there, not on the node the report is about.
    pub fn on(mut self, runs_on: RunsOn) -> Self {
        self.runs_on = runs_on;
        self
    }
}

/// Where a remediation command must run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RunsOnJson", into = "RunsOnJson")]
pub enum RunsOn {
    /// On the node the report is about; also a command that only talks to a
    /// server it names (`curl MARATHON/v2/...`, `zkCli.sh -server ...`),
    /// which runs wherever that server is reachable.
    #[default]
    ThisNode,
    /// On this host, and nowhere else.
    Host(HostName),
    /// On hosts clusterdoc cannot name one by one: no master lists them, or
    /// the remote name it has is not a valid host name.
    Every(HostGroup),
}

impl RunsOn {
    /// The host in `address` (`m1`, `m1:8080`, `http://user@m1:5050/x`,
    /// `[::1]:2181`): this node for a loopback address or `localhost`, the
    /// host for a valid name or address, else (a remote value that is no
    /// host name, e.g. `-oProxyCommand=...`) the `group` it belongs to.
    pub fn host_of(address: &str, group: HostGroup) -> RunsOn {
        let host = host_part(address);
        if host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
            return RunsOn::ThisNode;
        }
        HostName::parse(host).ok().map_or(RunsOn::Every(group), RunsOn::Host)
    }

    /// Where, in words, when that is not this node: `szv1000265119`,
    /// `each Mesos master`.
    pub fn elsewhere(&self) -> Option<String> {
        match self {
            RunsOn::ThisNode => None,
            RunsOn::Host(host) => Some(host.to_string()),
            RunsOn::Every(group) => Some(group.to_string()),
        }
    }

    /// This node when `self` names the node the report is about
    /// (`hostname`, compared as DNS does, without regard to case).
    pub fn localized(self, hostname: Option<&str>) -> RunsOn {
        match &self {
            RunsOn::Host(host) if hostname.is_some_and(|h| h.eq_ignore_ascii_case(host.as_str())) => RunsOn::ThisNode,
            _ => self,
        }
    }
}

/// `http://user:pw@host:port/path` -> `host`; `[v6]:port` -> `v6`.
fn host_part(address: &str) -> &str {
    let rest = address.split_once("://").map_or(address, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or_default();
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => host_port,
    }
}

/// The JSON shape of [`RunsOn`], flattened into a remedy.
#[derive(Clone, Default, Serialize, Deserialize)]
struct RunsOnJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host: Option<HostName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hosts: Option<HostGroup>,
}

impl From<RunsOnJson> for RunsOn {
    fn from(json: RunsOnJson) -> Self {
        match (json.host, json.hosts) {
            (Some(host), _) => RunsOn::Host(host),
            (None, Some(group)) => RunsOn::Every(group),
            (None, None) => RunsOn::ThisNode,
        }
    }
}

impl From<RunsOn> for RunsOnJson {
    fn from(runs_on: RunsOn) -> Self {
        match runs_on {
            RunsOn::ThisNode => RunsOnJson::default(),
            RunsOn::Host(host) => RunsOnJson { host: Some(host), hosts: None },
            RunsOn::Every(group) => RunsOnJson { host: None, hosts: Some(group) },
        }
    }
}

/// Hosts of one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostGroup {
    MesosMasters,
    MesosAgents,
    MarathonHosts,
    ZookeeperServers,
    FlinkJobManagers,
}

impl fmt::Display for HostGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HostGroup::MesosMasters => "each Mesos master",
            HostGroup::MesosAgents => "the Mesos agents",
            HostGroup::MarathonHosts => "each Marathon host",
            HostGroup::ZookeeperServers => "each ZooKeeper server",
            HostGroup::FlinkJobManagers => "each Flink JobManager host",
        })
    }
}

/// Builds a command line word by word: `word` takes trusted literal text
/// written in clusterdoc's source, `value` takes anything else and quotes it.
#[derive(Clone, Debug)]
pub struct Cmd {
    line: String,
}

impl Cmd {
    pub fn new(program: &'static str) -> Self {
        Cmd { line: program.to_string() }
    }

    /// A literal word (flag, sub-command, operator) from clusterdoc itself.
    pub fn word(mut self, literal: &'static str) -> Self {
        self.line.push(' ');
        self.line.push_str(literal);
        self
    }

    /// A value from outside, quoted as one shell word.
    pub fn value(mut self, value: impl AsRef<str>) -> Self {
        self.line.push(' ');
        self.line.push_str(&quote(value.as_ref()));
        self
    }

    /// A value from outside where the command expects an operand (a host
    /// name for `ssh`, say): one starting with `-` follows `--`, so a remote
    /// name can never be read as an option (`-oProxyCommand=...`).
    pub fn operand(self, value: impl AsRef<str>) -> Self {
        let value = value.as_ref();
        let cmd = if value.starts_with('-') { self.word("--") } else { self };
        cmd.value(value)
    }

    /// A literal prefix glued to a quoted value: `--zone=` + `public`.
    pub fn option(mut self, prefix: &'static str, value: impl AsRef<str>) -> Self {
        self.line.push(' ');
        self.line.push_str(prefix);
        self.line.push_str(&quote(value.as_ref()));
        self
    }

    pub fn risk(self, risk: Risk) -> Remedy {
        Remedy { command: self.line, risk, note: None, runs_on: RunsOn::ThisNode }
    }

    pub fn safe(self) -> Remedy {
        self.risk(Risk::Safe)
    }

    pub fn disruptive(self) -> Remedy {
        self.risk(Risk::Disruptive)
    }

    pub fn destructive(self) -> Remedy {
        self.risk(Risk::Destructive)
    }
}

/// Quotes one shell word: bare when shlex finds nothing to quote, else the
/// whole word in single quotes (`'\''` for a quote inside), which reads
/// better than quoting from the first special character on. NUL cannot
/// appear in a shell word at all, so it is dropped.
pub fn quote(value: &str) -> String {
    let value = value.replace('\0', "");
    match shlex::try_quote(&value) {
        Ok(std::borrow::Cow::Borrowed(bare)) => bare.to_string(),
        _ => format!("'{}'", value.replace('\'', r"'\''")),
    }
}

/// `zkCli.sh -server SERVERS deleteall PATH`, or `rmr` on ZooKeeper 3.4
/// (3.6 dropped `rmr`); destructive. The note names the version it chose
/// for (what to use when it is unknown), then `consequence`.
pub fn zk_delete_tree(servers: &str, zookeeper: Option<Version>, path: &str, consequence: &str) -> Remedy {
    let (verb, which) = match zookeeper {
        Some(v) if v < Version::new(3, 5, 0) => ("rmr", format!("ZooKeeper {v}")),
        Some(v) => ("deleteall", format!("ZooKeeper {v}")),
        None => ("deleteall", "ZooKeeper 3.5+ (on 3.4 use rmr instead of deleteall)".into()),
    };
    Cmd::new("zkCli.sh")
        .word("-server")
        .value(servers)
        .word(verb)
        .value(path)
        .destructive()
        .with_note(format!("{which}: {consequence}"))
}

/// `text` as a literal inside a `sed -E` regular expression delimited by `/`.
/// Special characters go into brackets (`.` -> `[.]`) where they can, so
/// the usual host names and addresses need no backslashes and the script
/// stays readable once [`Cmd::value`] has shell-quoted it.
pub fn sed_regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '.' | '*' | '+' | '?' | '(' | ')' | '{' | '}' | '|' | '$' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            '\\' | '/' | '^' | '[' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out
}

/// `text` as literal replacement text of a sed `s/../../` command.
pub fn sed_replacement_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '&' | '/' => {
                out.push('\\');
                out.push(c);
            }
            // An escaped newline stays inside the `s` command (POSIX).
            '\n' => out.push_str("\\\n"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_words_are_not() {
        let r = Cmd::new("firewall-cmd").word("--permanent").option("--zone=", "pub lic").value("$(rm -rf /)").safe();
        assert_eq!(r.command, "firewall-cmd --permanent --zone='pub lic' '$(rm -rf /)'");
        assert_eq!(Cmd::new("hostnamectl").value("host-1").safe().command, "hostnamectl host-1");
    }

    #[test]
    fn operands_that_look_like_options_follow_a_double_dash() {
        assert_eq!(Cmd::new("ssh").operand("m1").word("true").safe().command, "ssh m1 true");
        assert_eq!(
            Cmd::new("ssh").operand("-oProxyCommand=touch x").word("true").safe().command,
            "ssh -- '-oProxyCommand=touch x' true"
        );
    }

    #[test]
    fn where_a_command_runs_comes_from_the_host_of_an_address() {
        let host = |h: &str| RunsOn::Host(HostName::parse(h).unwrap());
        let group = HostGroup::MesosMasters;
        assert_eq!(RunsOn::host_of("http://admin:pw@m1:5050/master", group), host("m1"));
        assert_eq!(RunsOn::host_of("m2:8080", group), host("m2"));
        assert_eq!(RunsOn::host_of("[fe80::1]:2181", group), host("fe80::1"));
        assert_eq!(RunsOn::host_of("fe80::2", group), host("fe80::2"));
        assert_eq!(RunsOn::host_of("http://127.0.0.1:5050", group), RunsOn::ThisNode);
        assert_eq!(RunsOn::host_of("LOCALHOST", group), RunsOn::ThisNode);
        assert_eq!(RunsOn::host_of("-oProxyCommand=x", group), RunsOn::Every(group));
        assert_eq!(host("SZV1").localized(Some("szv1")), RunsOn::ThisNode);
        assert_eq!(host("szv2").localized(Some("szv1")), host("szv2"));
    }

    #[test]
    fn json_names_the_host_only_when_it_is_another() {
        let here = Cmd::new("true").safe();
        assert_eq!(
            serde_json::to_value(&here).unwrap(),
            serde_json::json!({"command": "true", "risk": "safe", "note": null})
        );
        let there = here.clone().on(RunsOn::host_of("szv2", HostGroup::MesosAgents));
        let json = serde_json::to_value(&there).unwrap();
        assert_eq!(json["host"], "szv2");
        assert_eq!(serde_json::from_value::<Remedy>(json).unwrap(), there);
        let every = here.on(RunsOn::Every(HostGroup::MarathonHosts));
        let json = serde_json::to_value(&every).unwrap();
        assert_eq!(json["hosts"], "marathon-hosts");
        assert_eq!(serde_json::from_value::<Remedy>(json).unwrap(), every);
    }

    #[test]
    fn quoting_round_trips_through_a_shell_parser() {
        for hostile in ["a'b", "x;y", "`id`", "new\nline", "$HOME", "nul\0byte", ""] {
            let line = Cmd::new("echo").value(hostile).safe().command;
            let words = shlex::split(&line).unwrap();
            assert_eq!(words, vec!["echo".to_string(), hostile.replace('\0', "")]);
        }
    }
}
