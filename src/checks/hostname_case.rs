//! `hostname.case`: Host names are lower case.
//!
//! Looks at every host name the cluster advertises or dials: this node's,
//! the Mesos `--hostname` flag files, Flink's `jobmanager.rpc.address`, and,
//! when those facts were gathered, the Mesos agents' host names from
//! `/master/state` and Marathon's `marathon_config.hostname`.

use std::borrow::Cow;
use super::{Check, CheckMeta, Explain, Verdict, conclude, required};
use serde_json::json;

use crate::facts::flink_props::{CommandLine, Rewritten};
use crate::facts::node::{MesosDaemon, NodeFacts};
use crate::facts::{Fact, Facts, Need};
use crate::remedy::{Cmd, HostGroup, Remedy, RunsOn, sed_replacement_literal};
use crate::report::{Finding, Status, aggregate};
use crate::scheduling::update_app;
use crate::version::Version;

pub struct HostnameCase;

/// From this release on, Flink normalises Akka host names consistently
/// (FLINK-7540).
const FLINK_NORMALISES: Version = Version::new(1, 4, 0);

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("hostname.case"),
    title: Cow::Borrowed("Host names are lower case"),
    severity: Status::Fail,
    needs: &[Need::Node, Need::Mesos, Need::Marathon, Need::Flink],
    tags: texts!["node", "flink", "mesos"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("Upper-case letters in this node's host name (the kernel's, or /etc/hostname under --root), the Mesos \
               --hostname flag files (/etc/mesos-master/hostname, /etc/mesos-slave/hostname, \
               /etc/mesos-agent/hostname), Flink's jobmanager.rpc.address in every flink-conf.yaml found \
               (/etc/flink, /opt/flink*, /usr/local/flink*, /usr/lib/flink*, /home/flink*, /home/*/flink*, \
               $FLINK_HOME), the agents' host names in Mesos /master/state and Marathon's \
               marathon_config.hostname, and the -Djobmanager.rpc.address of Flink apps proposed with --app FILE \
               (fixed in the file before it is POSTed). Fails when the Flink version is below 1.4 or unknown, warns otherwise. \
               The version is --expect-flink-version, else the oldest found on this node (flink-dist jar or \
               directory name), else what the Flink endpoint reports. Flink's REST /jobmanager/config is no \
               evidence here: it reports jobmanager.rpc.address lower-cased whatever the file says. Under --root \
               DIR every file is read inside DIR (symbolic links that lead out of it are not followed); one that \
               is not a regular file or is larger than 1 MiB is not read, and the check errors naming it."),
        why: Cow::Borrowed("Flink up to 1.3 binds the JobManager's actor system to the raw host name (SZV1000265118) while \
              TaskManagers build the JobManager's address through a function that lower-cases it \
              (akka.tcp://flink@szv1000265118:6123). Akka compares addresses case-sensitively and drops the \
              messages as meant for a non-local recipient: TaskManagers never register, although TCP connects \
              fine because DNS ignores case. Flink 1.4.0 fixed it (FLINK-7540); even then many tools (kubeadm \
              among them) insist on lower-case names, and the same trap applies to Mesos --hostname values \
              and agent host names."),
        fix: Cow::Borrowed("Rename the host in lower case with `hostnamectl set-hostname <lower-case name>` and restart the \
              Flink JobManager. For a Mesos flag file write the lower-case value into it and restart the \
              daemon; for flink-conf.yaml rewrite jobmanager.rpc.address with the printed sed command. Agents \
              and Marathon hosts are fixed the same way on those hosts."),
        risk: Cow::Borrowed("Disruptive: a new host name takes effect for Flink and Mesos only after they restart. A Mesos \
               agent whose host name changed refuses to recover its checkpointed state (\"Incompatible agent \
               info detected\") until `rm -f <work_dir>/meta/slaves/latest`, which loses the tasks it ran."),
        references: texts![
            "https://issues.apache.org/jira/browse/FLINK-7540 (Akka hostnames are not normalised consistently; fixed in 1.4.0)",
            "https://github.com/apache/flink/pull/4812",
            "https://github.com/apache/flink/pull/3688 (FLINK-6273, first attempt, closed unmerged)",
            "https://mesos.apache.org/documentation/latest/agent-recovery/",
        ],
    },
};

impl Check for HostnameCase {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let node = required(&facts.node, "node facts")?;
        let names = HostNames::of(facts, node);
        let flink = FlinkVersion::of(facts, node);
        // Streamed into the aggregate: a million agents never become a million findings.
        let findings = aggregate(names.found.iter().filter(|h| has_upper_case(&h.name)).map(|h| h.finding(&flink)));
        let count = names.found.len();
        let mut note = format!("{count} host name{} checked ({})", if count == 1 { "" } else { "s" }, flink.evidence);
        if !names.ignored.is_empty() {
            note.push_str(&format!("; not included: {}", names.ignored.join("; ")));
        }
        conclude(findings, names.undecided, note)
    }
}

/// The Flink setting that names the JobManager's host.
const RPC_ADDRESS: &str = "jobmanager.rpc.address";

fn has_upper_case(name: &str) -> bool {
    name.chars().any(char::is_uppercase)
}

/// Where a host name was found; decides its evidence and its fix.
#[derive(Clone, Debug, PartialEq)]
enum Source {
    /// This node's host name; `origin` is `/etc/hostname` or the kernel.
    ThisNode {
        origin: String,
    },
    MesosFlag {
        daemon: MesosDaemon,
        path: String,
    },
    FlinkRpcAddress {
        conf: String,
        line: usize,
    },
    MesosAgent {
        id: String,
    },
    Marathon {
        url: String,
    },
    /// `-Djobmanager.rpc.address` of a Flink app proposed with `--app`.
    ProposedApp {
        named: String,
        remedy: Remedy,
    },
}

/// One host name and where it came from.
#[derive(Clone, Debug, PartialEq)]
struct HostName {
    source: Source,
    name: String,
}

/// The host names to judge, what could not be read (the check cannot pass
/// without it) and what was left out because it was not available.
#[derive(Debug, Default)]
struct HostNames {
    found: Vec<HostName>,
    undecided: Vec<String>,
    ignored: Vec<String>,
}

impl HostNames {
    fn of(facts: &Facts, node: &NodeFacts) -> Self {
        let mut names = HostNames::default();
        match &node.hostname {
            Fact::Observed { value } => names.push(Source::ThisNode { origin: value.source.clone() }, &value.value),
            other => names.undecided.push(format!("this node's host name: {}", other.problem().unwrap_or_default())),
        }
        names.undecided.extend(node.unreadable.iter().map(|u| format!("unreadable: {u}")));
        for flag in &node.mesos_hostnames {
            names.push(Source::MesosFlag { daemon: flag.daemon, path: flag.path.clone() }, &flag.value);
        }
        for install in &node.flink {
            if let Some(rpc) = &install.rpc_address {
                names.push(Source::FlinkRpcAddress { conf: install.conf.clone(), line: rpc.line }, &rpc.value);
            }
        }
        names.add_mesos_agents(facts);
        names.add_marathon(facts);
        names.add_proposed(facts);
        names
    }

    fn push(&mut self, source: Source, name: &str) {
        self.found.push(HostName { source, name: name.to_string() });
    }

    /// Agents as the leading master lists them; other checks report a
    /// Mesos that cannot be asked.
    fn add_mesos_agents(&mut self, facts: &Facts) {
        let Some(mesos) = facts.mesos.as_ref() else { return };
        let Some(mesos) = mesos.value() else { return self.ignore("Mesos agents", mesos.problem()) };
        match mesos.state.value() {
            Some(state) => {
                for agent in &state.agents {
                    self.push(Source::MesosAgent { id: agent.id.clone() }, &agent.hostname);
                }
            }
            None => self.ignore("Mesos agents", mesos.state.problem()),
        }
    }

    fn add_marathon(&mut self, facts: &Facts) {
        let Some(marathon) = facts.marathon.as_ref() else { return };
        let Some(marathon) = marathon.value() else { return self.ignore("Marathon", marathon.problem()) };
        match marathon.info.value() {
            Some(info) => {
                if let Some(hostname) = &info.hostname {
                    self.push(Source::Marathon { url: marathon.url.clone() }, hostname);
                }
            }
            None => self.ignore("Marathon", marathon.info.problem()),
        }
    }

    /// The JobManager addresses of Flink apps proposed with `--app`: their
    /// TaskManagers would be told to connect to them.
    fn add_proposed(&mut self, facts: &Facts) {
        let Some(marathon) = facts.marathon.as_ref().and_then(Fact::value) else { return };
        let proposed = marathon.apps.value().into_iter().flatten().filter(|app| app.proposed.is_some());
        for app in proposed {
            let line = CommandLine::of_app(app.cmd.as_deref(), &app.args);
            let Some(address) = line.setting(RPC_ADDRESS).filter(|_| line.jobmanager_launcher().is_some()) else {
                continue;
            };
            let change = [(RPC_ADDRESS, address.to_lowercase())];
            let body = match line.with_settings(&change) {
                Rewritten::Shell(cmd) => json!({ "cmd": cmd }),
                Rewritten::Args(args) => json!({ "args": args }),
            };
            let note = format!("sets {RPC_ADDRESS}={} in the app's command line", address.to_lowercase());
            let remedy = update_app(marathon, app, &body, note);
            self.push(Source::ProposedApp { named: app.named(), remedy }, address);
        }
    }

    fn ignore(&mut self, what: &str, why: Option<&str>) {
        self.ignored.push(format!("{what} ({})", why.unwrap_or("not gathered")));
    }
}

/// The Flink version the verdict rests on, and where it came from.
struct FlinkVersion {
    version: Option<Version>,
    evidence: String,
}

impl FlinkVersion {
    /// `--expect-flink-version`, else the oldest version found on this node,
    /// else what the Flink endpoint reports, else unknown.
    fn of(facts: &Facts, node: &NodeFacts) -> Self {
        if let Some(v) = facts.inputs.expect_flink_version {
            return FlinkVersion::known(v, "--expect-flink-version".into());
        }
        let oldest_installed = node
            .flink
            .iter()
            .filter_map(|i| Some((i.version?, i.version_source.clone().unwrap_or_else(|| i.conf.clone()))))
            .min_by_key(|(v, _)| *v);
        if let Some((v, source)) = oldest_installed {
            return FlinkVersion::known(v, source);
        }
        if let Some(v) = facts.flink.as_ref().and_then(|f| f.value()).and_then(|f| f.version()) {
            return FlinkVersion::known(v, "the Flink endpoint's /config".into());
        }
        FlinkVersion {
            version: None,
            evidence: "Flink version unknown: none found on this node, none reported by a Flink endpoint, \
                       no --expect-flink-version"
                .into(),
        }
    }

    fn known(version: Version, source: String) -> Self {
        FlinkVersion { version: Some(version), evidence: format!("Flink {version}, from {source}") }
    }

    /// Fail unless a Flink that normalises host names is known to be in use.
    fn status(&self) -> Status {
        match self.version {
            Some(v) if v >= FLINK_NORMALISES => Status::Warn,
            _ => Status::Fail,
        }
    }

    fn consequence(&self) -> String {
        match self.version {
            Some(v) if v >= FLINK_NORMALISES => format!(
                "Flink {v} normalises host names, but tools that insist on lower-case names (kubeadm among \
                 them) and case-sensitive comparisons elsewhere still trip over it"
            ),
            Some(v) => format!(
                "Flink {v} (< 1.4) TaskManagers lower-case the JobManager address and Akka drops their messages"
            ),
            None => "with Flink < 1.4 (version unknown) TaskManagers lower-case the JobManager address and \
                     Akka drops their messages"
                .into(),
        }
    }
}

impl HostName {
    fn finding(&self, flink: &FlinkVersion) -> Finding {
        let (subject, evidence) = match &self.source {
            Source::ThisNode { origin } => (format!("host {}", self.name), format!("{origin}: {}", self.name)),
            Source::MesosFlag { path, .. } => (format!("Mesos --hostname in {path}"), format!("{path}: {}", self.name)),
            Source::FlinkRpcAddress { conf, line } => (
                format!("Flink jobmanager.rpc.address in {conf}"),
                format!("{conf} line {line}: jobmanager.rpc.address: {}", self.name),
            ),
            Source::MesosAgent { id } => (
                format!("Mesos agent {}", self.name),
                format!("Mesos /master/state: agent {id} hostname {}", self.name),
            ),
            Source::Marathon { url } => (
                format!("Marathon host {}", self.name),
                format!("Marathon {url} /v2/info marathon_config.hostname: {}", self.name),
            ),
            Source::ProposedApp { named, .. } => (
                format!("app {named}: {RPC_ADDRESS}"),
                format!("app {named}: -D{RPC_ADDRESS}={}", self.name),
            ),
        };
        let message = format!("host name has upper-case letters; {}", flink.consequence());
        let finding = Finding::new(flink.status(), subject, message)
            .evidence(evidence)
            .evidence(flink.evidence.clone())
            .fix(self.remedy());
        match self.source {
            Source::MesosAgent { .. } => finding.item("Mesos agents", &self.name),
            _ => finding,
        }
    }

    fn remedy(&self) -> Remedy {
        let lower = self.name.to_lowercase();
        let rename_host = || Cmd::new("hostnamectl").word("set-hostname").operand(&lower).disruptive();
        match &self.source {
            Source::ThisNode { .. } => rename_host().with_note("restart the Flink JobManager afterwards"),
            Source::MesosFlag { daemon, path } => Cmd::new("printf")
                .word(r"'%s\n'")
                .value(&lower)
                .word(">")
                .value(path)
                .disruptive()
                .with_note(mesos_flag_note(*daemon)),
            Source::FlinkRpcAddress { conf, .. } => {
                let script = format!(
                    "s/^[[:space:]]*jobmanager[.]rpc[.]address:.*/jobmanager.rpc.address: {}/",
                    sed_replacement_literal(&lower)
                );
                Cmd::new("sed")
                    .word("-i.bak")
                    .word("-E")
                    .value(script)
                    .value(conf)
                    .disruptive()
                    .with_note("restart the Flink JobManager and its TaskManagers afterwards")
            }
            Source::MesosAgent { .. } => rename_host()
                .with_note(
                    "if /etc/mesos-slave/hostname is set there, lower-case that instead; then restart mesos-slave \
                     there (an agent whose host name changed needs `rm -f <work_dir>/meta/slaves/latest` to start, \
                     which loses its tasks)",
                )
                .on(RunsOn::host_of(&self.name, HostGroup::MesosAgents)),
            Source::ProposedApp { remedy, .. } => remedy.clone(),
            Source::Marathon { .. } => rename_host()
                .with_note(
                    "if Marathon's --hostname is set (/etc/marathon/conf/hostname or MARATHON_HOSTNAME), lower-case \
                     that instead; then restart Marathon",
                )
                .on(RunsOn::host_of(&self.name, HostGroup::MarathonHosts)),
        }
    }
}

fn mesos_flag_note(daemon: MesosDaemon) -> String {
    let unit = daemon.unit();
    match daemon {
        MesosDaemon::Master => format!("takes effect when {unit} restarts (systemctl restart {unit})"),
        MesosDaemon::Slave | MesosDaemon::Agent => format!(
            "takes effect when {unit} restarts; an agent whose host name changed refuses to recover (\"Incompatible \
             agent info detected\") until `rm -f <work_dir>/meta/slaves/latest`, which loses its tasks"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::NotJudged;
    use crate::facts::node::{FlinkInstall, MesosFlagFile, SourcedValue, YamlEntry};
    use crate::remedy::Risk;

    fn node(hostname: &str) -> NodeFacts {
        NodeFacts { hosts: Fact::unavailable("no /etc/hosts"), ..NodeFacts::named(hostname) }
    }

    fn facts(node: NodeFacts) -> Facts {
        Facts { node: Some(Fact::observed(node)), ..Default::default() }
    }

    fn flink_install(version: Option<Version>, rpc_address: &str) -> FlinkInstall {
        FlinkInstall {
            conf: "/opt/flink-1.2.0/conf/flink-conf.yaml".into(),
            rpc_address: Some(YamlEntry { line: 34, key: "jobmanager.rpc.address".into(), value: rpc_address.into() }),
            mesos_failover_timeout: None,
            version,
            version_source: version.map(|v| format!("/opt/flink-{v}/lib/flink-dist_2.11-{v}.jar")),
        }
    }

    fn judge(facts: &Facts) -> super::super::Conclusion {
        HostnameCase.run(facts).expect("a judgement")
    }

    #[test]
    fn lower_case_names_pass() {
        let j = judge(&facts(node("szv1000265118")));
        assert!(j.findings.is_empty());
        assert!(j.note.unwrap().starts_with("1 host name checked"));
    }

    #[test]
    fn upper_case_host_fails_when_flink_version_is_unknown() {
        let j = judge(&facts(node("SZV1000265118")));
        assert_eq!(j.status(), Status::Fail);
        let f = &j.findings[0];
        assert_eq!(f.subject, "host SZV1000265118");
        assert_eq!(f.evidence[0], "/etc/hostname: SZV1000265118");
        assert!(f.evidence[1].starts_with("Flink version unknown"));
        assert_eq!(f.remediation[0].command, "hostnamectl set-hostname szv1000265118");
        assert_eq!(f.remediation[0].risk, Risk::Disruptive);
        assert_eq!(f.remediation[0].note.as_deref(), Some("restart the Flink JobManager afterwards"));
    }

    #[test]
    fn version_precedence_expected_then_node_then_endpoint() {
        let mut n = node("SZV1000265118");
        n.flink.push(flink_install(Some(Version::new(1, 2, 0)), "localhost"));
        n.flink.push(flink_install(Some(Version::new(1, 5, 0)), "localhost"));
        let mut f = facts(n);
        assert_eq!(judge(&f).status(), Status::Fail, "the oldest installed version (1.2) counts");
        f.inputs.expect_flink_version = Some(Version::new(1, 4, 0));
        let j = judge(&f);
        assert_eq!(j.status(), Status::Warn);
        assert!(j.findings[0].evidence[1].contains("--expect-flink-version"));
        assert!(j.findings[0].message.contains("Flink 1.4.0 normalises"));
    }

    #[test]
    fn mesos_flag_and_flink_conf_get_file_fixes() {
        let mut n = node("szv1000265118");
        n.mesos_hostnames.push(MesosFlagFile {
            daemon: MesosDaemon::Slave,
            path: "/etc/mesos-slave/hostname".into(),
            value: "SZV1000265118".into(),
        });
        n.flink.push(flink_install(Some(Version::new(1, 2, 0)), "SZV1000265118"));
        let j = judge(&facts(n));
        assert_eq!(j.findings.len(), 2);
        let mesos = &j.findings[0];
        assert_eq!(mesos.evidence[0], "/etc/mesos-slave/hostname: SZV1000265118");
        assert_eq!(mesos.remediation[0].command, r"printf '%s\n' szv1000265118 > /etc/mesos-slave/hostname");
        assert!(mesos.remediation[0].note.as_deref().unwrap().contains("meta/slaves/latest"));
        let flink = &j.findings[1];
        assert_eq!(
            flink.evidence[0],
            "/opt/flink-1.2.0/conf/flink-conf.yaml line 34: jobmanager.rpc.address: SZV1000265118"
        );
        let words = shlex::split(&flink.remediation[0].command).unwrap();
        assert_eq!(
            words,
            [
                "sed",
                "-i.bak",
                "-E",
                "s/^[[:space:]]*jobmanager[.]rpc[.]address:.*/jobmanager.rpc.address: szv1000265118/",
                "/opt/flink-1.2.0/conf/flink-conf.yaml"
            ]
        );
    }

    /// Mesos and Marathon facts as their gatherers record them (built from
    /// JSON, so fields added to those types later do not break this test).
    fn remote_facts(mesos: serde_json::Value, marathon: serde_json::Value) -> Facts {
        let mut f = facts(node("szv1000265118"));
        f.mesos = Some(serde_json::from_value(mesos).unwrap());
        f.marathon = Some(serde_json::from_value(marathon).unwrap());
        f
    }

    #[test]
    fn mesos_agents_and_marathon_host_names_are_judged_when_observed() {
        let unavailable = serde_json::json!({"state": "unavailable", "reason": "not asked"});
        let f = remote_facts(
            serde_json::json!({"state": "observed", "value": {
                "state": {"state": "observed", "value": {"agents": [
                    {"id": "S0", "hostname": "agent-1"},
                    {"id": "S1", "hostname": "Agent-2"}
                ]}}
            }}),
            serde_json::json!({"state": "observed", "value": {
                "url": "http://m1:8080",
                "info": {"state": "observed", "value": {"hostname": "M1.Example.com"}},
                "leader": unavailable, "apps": unavailable, "queue": unavailable, "deployments": unavailable
            }}),
        );
        let j = judge(&f);
        let subjects: Vec<&str> = j.findings.iter().map(|f| f.subject.as_str()).collect();
        assert_eq!(subjects, ["Mesos agent Agent-2", "Marathon host M1.Example.com"]);
        assert_eq!(j.findings[0].evidence[0], "Mesos /master/state: agent S1 hostname Agent-2");
        assert_eq!(j.findings[0].remediation[0].command, "hostnamectl set-hostname agent-2");
        assert!(j.findings[0].remediation[0].note.as_deref().unwrap().starts_with("if /etc/mesos-slave/hostname"));
        assert_eq!(j.findings[0].remediation[0].runs_on.elsewhere().as_deref(), Some("Agent-2"));
        assert_eq!(j.findings[1].remediation[0].command, "hostnamectl set-hostname m1.example.com");
        assert_eq!(j.findings[1].remediation[0].runs_on.elsewhere().as_deref(), Some("M1.Example.com"));
        assert!(j.note.unwrap().starts_with("4 host names checked"));
    }

    #[test]
    fn unavailable_remote_facts_are_left_out_not_fatal() {
        let mut f = facts(node("szv1000265118"));
        f.mesos = Some(Fact::unavailable("no Mesos master at http://127.0.0.1:5050"));
        f.marathon = Some(Fact::failed("Marathon at http://m1:8080: connection refused"));
        let j = judge(&f);
        assert!(j.findings.is_empty());
        let note = j.note.unwrap();
        assert!(note.contains("Mesos agents (no Mesos master at http://127.0.0.1:5050)"), "{note}");
        assert!(note.contains("Marathon (Marathon at http://m1:8080: connection refused)"), "{note}");
    }

    #[test]
    fn unknown_host_name_or_unreadable_file_cannot_pass() {
        let mut n = node("x");
        n.hostname = Fact::unavailable("/r/etc/hostname does not exist: this node's host name is unknown");
        assert!(
            matches!(HostnameCase.run(&facts(n.clone())), Err(NotJudged::Error(r)) if r.contains("host name is unknown"))
        );
        let mut n = node("szv");
        n.unreadable.push("/etc/mesos-slave/hostname: Permission denied".into());
        assert!(matches!(HostnameCase.run(&facts(n.clone())), Err(NotJudged::Error(r)) if r.contains("Permission denied")));
        // A failure found elsewhere still stands.
        n.hostname = Fact::observed(SourcedValue { source: "/etc/hostname".into(), value: "SZV".into() });
        assert_eq!(judge(&facts(n)).status(), Status::Fail);
    }

    #[test]
    fn hostile_values_stay_single_shell_words() {
        let hostile = "A$(touch x)';B\n`id`&/\\1";
        let mut n = node(hostile);
        n.mesos_hostnames.push(MesosFlagFile {
            daemon: MesosDaemon::Master,
            path: "/etc/mesos-master/hostname".into(),
            value: hostile.into(),
        });
        n.flink.push(flink_install(None, hostile));
        for finding in judge(&facts(n)).findings {
            let words = shlex::split(&finding.remediation[0].command).expect("parses");
            assert!(words.iter().any(|w| w.contains("$(touch x)';b")), "{words:?}");
        }
    }

    #[test]
    fn the_sed_fix_rewrites_only_the_rpc_address() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("flink-conf.yaml");
        std::fs::write(&conf, "jobmanager.rpc.address: SZV&1/x\\y\njobmanager.rpc.port: 6123\n").unwrap();
        let install = FlinkInstall { conf: conf.display().to_string(), ..flink_install(None, "SZV&1/x\\y") };
        let host = HostName {
            source: Source::FlinkRpcAddress { conf: install.conf.clone(), line: 1 },
            name: "SZV&1/x\\y".into(),
        };
        let status = std::process::Command::new("sh").arg("-c").arg(&host.remedy().command).status().unwrap();
        assert!(status.success());
        let text = std::fs::read_to_string(&conf).unwrap();
        assert_eq!(text, "jobmanager.rpc.address: szv&1/x\\y\njobmanager.rpc.port: 6123\n");
    }
}
