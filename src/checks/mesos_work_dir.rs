//! `mesos.work-dir`: Mesos keeps its state out of temporary directories.
//!
//! Looks at every `work_dir` the node's flag files set and, when the Mesos
//! masters were asked, the leader's `/master/flags` and each agent's
//! `/slave(N)/flags`.

use std::borrow::Cow;
use super::{Check, CheckMeta, Explain, NotJudged, Verdict, conclude, required};
use crate::facts::mesos_flags::{Flags, MesosFlagsFacts};
use crate::facts::node::MesosDaemon;
use crate::facts::{Fact, Facts, Need};
use crate::remedy::{Cmd, HostGroup, Remedy, RunsOn};
use crate::report::{Finding, Status};

pub struct MesosWorkDir;

/// Where a `work_dir` that survives reboots and tmpfiles cleaning goes.
const DURABLE_WORK_DIR: &str = "/var/lib/mesos";

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("mesos.work-dir"),
    title: Cow::Borrowed("Mesos work_dir is not in a temporary directory"),
    severity: Status::Fail,
    needs: &[Need::Node, Need::MesosFlags],
    tags: texts!["mesos", "node"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("The work_dir of the Mesos daemons: the flag files /etc/mesos-master/work_dir, \
               /etc/mesos-slave/work_dir and /etc/mesos-agent/work_dir and MESOS_WORK_DIR in \
               /etc/default/mesos-* and /etc/sysconfig/mesos-* on this node, and, when a Mesos master \
               answers, the leading master's /master/flags and every registered agent's /slave(N)/flags (asked \
               at the address the agent registered with, at most 256 agents). Fails for an agent whose work_dir \
               is under /tmp, /var/tmp, /dev/shm or /run; warns for such a master. Cannot decide (error) when \
               the flags of the leader or of an agent could not be read."),
        why: Cow::Borrowed("An agent checkpoints its own identity, its frameworks, executors and unacknowledged status \
              updates under work_dir/meta, and keeps the task sandboxes under work_dir/slaves. /tmp and \
              /var/tmp are cleaned by systemd-tmpfiles (10 and 30 days by default) and by many distributions \
              at boot; /dev/shm and /run are memory. When the checkpoint is gone the restarted agent cannot \
              recover: it registers as a new agent and the executors and tasks it ran are killed, or it \
              crashes on half-deleted state (MESOS-4899). The Mesos packages once defaulted to /tmp/mesos, \
              and Mesos' own documentation warns against it. A master keeps its replica of the registry \
              (--registry=replicated_log) in work_dir: losing it on several masters at once loses the cluster's \
              list of agents and frameworks."),
        fix: Cow::Borrowed("NotJudged the daemon, write a durable directory into its flag file (the printed printf command, on the \
              host named), and start it again; where the flag is set another way (--work_dir, MESOS_WORK_DIR \
              in /etc/default/mesos-*), change it there. Masters one at a time, so the registry's quorum holds."),
        risk: Cow::Borrowed("Destructive for an agent: started with an empty work_dir it cannot recover its checkpoint, so \
               the tasks it runs are killed and rescheduled elsewhere (drain it first). Disruptive for a \
               master: it leaves the quorum while it restarts and catches its registry replica up from the \
               others."),
        references: texts![
            "https://mesos.apache.org/documentation/latest/configuration/agent/ (--work_dir: \"locations like \
             /tmp which are cleaned automatically are not suitable for the work directory when running in \
             production, since long-running agents could lose data when cleanup occurs\")",
            "https://issues.apache.org/jira/browse/MESOS-4899 (agent work_dir under /tmp, cleaned while running)",
            "https://github.com/eBayClassifiedsGroup/PanteraS/issues/198 (mesos-slave could not recover after \
             /tmp/mesos was cleaned and restarted every app on the node)",
            "https://mesos.apache.org/documentation/latest/agent-recovery/",
        ],
    },
};

impl Check for MesosWorkDir {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let node = required(&facts.node, "node facts")?;
        let mut dirs: Vec<WorkDir> = node
            .mesos_work_dirs
            .iter()
            .map(|f| WorkDir {
                role: if f.daemon == MesosDaemon::Master { Role::Master } else { Role::Agent },
                place: Place::FlagFile { path: f.path.clone(), daemon: f.daemon },
                path: f.value.clone(),
            })
            .collect();
        dirs.extend(node.mesos_work_dir_env.iter().map(|e| WorkDir {
            role: if e.daemon == MesosDaemon::Master { Role::Master } else { Role::Agent },
            place: Place::EnvFile { path: e.path.clone(), line: e.line, variable: e.variable.clone() },
            path: e.value.clone(),
        }));
        let mut undecided: Vec<String> = node
            .unreadable
            .iter()
            .filter(|u| mentions_work_dir_source(u))
            .map(|u| format!("unreadable: {u}"))
            .collect();
        let mut ignored = Vec::new();
        match &facts.mesos_flags {
            Some(Fact::Observed { value }) => add_flags(value, &mut dirs, &mut undecided),
            Some(Fact::Unavailable { reason }) => ignored.push(format!("Mesos flags: {reason}")),
            Some(Fact::Failed { error }) => undecided.push(error.clone()),
            None => undecided.push("the Mesos flags were not gathered".into()),
        }
        if dirs.is_empty() && undecided.is_empty() {
            return Err(NotJudged::Skip(format!(
                "no Mesos work_dir found: no /etc/mesos-*/work_dir file on this node{}",
                ignored.iter().map(|i| format!("; {i}")).collect::<String>()
            )));
        }
        let findings = dirs.iter().filter_map(WorkDir::finding).collect();
        let mut note = format!("{} work_dir setting{} checked", dirs.len(), if dirs.len() == 1 { "" } else { "s" });
        if !ignored.is_empty() {
            note.push_str(&format!("; not included: {}", ignored.join("; ")));
        }
        conclude(findings, undecided, note)
    }
}

fn add_flags(flags: &MesosFlagsFacts, dirs: &mut Vec<WorkDir>, undecided: &mut Vec<String>) {
    let mut add = |role: Role, place: Place, fact: &Fact<Flags>| match fact {
        Fact::Observed { value } => match value.get("work_dir") {
            Some(path) => dirs.push(WorkDir { role, place, path: path.to_string() }),
            // work_dir is required for agents since Mesos 1.0; a master
            // without it keeps its registry in memory.
            None if role == Role::Agent => undecided.push(format!("{}: no work_dir in its flags", place.name())),
            None => {}
        },
        other => undecided.push(format!("{}: {}", place.name(), other.problem().unwrap_or_default())),
    };
    add(Role::Master, Place::MasterFlags, &flags.master);
    for agent in &flags.agents {
        let place = Place::AgentFlags { id: agent.id.clone(), hostname: agent.hostname.clone() };
        add(Role::Agent, place, &agent.flags);
    }
    if flags.unasked_agents > 0 {
        undecided.push(format!("{} more agents were not asked for their flags", flags.unasked_agents));
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Master,
    Agent,
}

/// Where a `work_dir` was read.
#[derive(Clone, Debug, PartialEq)]
enum Place {
    FlagFile {
        path: String,
        daemon: MesosDaemon,
    },
    /// `MESOS_WORK_DIR=` in /etc/default/mesos-* or /etc/sysconfig/mesos-*.
    EnvFile {
        path: String,
        line: usize,
        variable: String,
    },
    MasterFlags,
    AgentFlags {
        id: String,
        hostname: String,
    },
}

impl Place {
    fn name(&self) -> String {
        match self {
            Place::FlagFile { path, .. } => path.clone(),
            Place::EnvFile { path, line, variable } => format!("{path} line {line} ({variable})"),
            Place::MasterFlags => "the leading Mesos master's /master/flags".into(),
            Place::AgentFlags { id, hostname } => format!("Mesos agent {hostname} ({id}) /flags"),
        }
    }
}

struct WorkDir {
    role: Role,
    place: Place,
    path: String,
}

impl WorkDir {
    fn finding(&self) -> Option<Finding> {
        let why = volatile(&self.path)?;
        let (status, subject, consequence) = match (&self.place, self.role) {
            (Place::AgentFlags { hostname, .. }, _) => {
                (Status::Fail, format!("Mesos agent {hostname}"), AGENT_CONSEQUENCE)
            }
            (place, Role::Agent) => {
                (Status::Fail, format!("Mesos agent work_dir in {}", place.name()), AGENT_CONSEQUENCE)
            }
            (Place::MasterFlags, Role::Master) => (Status::Warn, "the leading Mesos master".into(), MASTER_CONSEQUENCE),
            (place, Role::Master) => {
                (Status::Warn, format!("Mesos master work_dir in {}", place.name()), MASTER_CONSEQUENCE)
            }
        };
        let message = format!("work_dir {} is {why}: {consequence}", self.path);
        Some(
            Finding::new(status, subject, message)
                .evidence(format!("{}: work_dir {}", self.place.name(), self.path))
                .fix(self.remedy()),
        )
    }

    fn remedy(&self) -> Remedy {
        // Flags read over the network belong to a daemon on another host:
        // its fix runs there, never in this node's plan.
        let (file, unit, runs_on) = match &self.place {
            Place::EnvFile { path, variable, .. } => return self.env_remedy(path, variable),
            Place::FlagFile { path, daemon } => (path.clone(), daemon.unit(), RunsOn::ThisNode),
            Place::MasterFlags => {
                ("/etc/mesos-master/work_dir".to_string(), "mesos-master", RunsOn::Every(HostGroup::MesosMasters))
            }
            Place::AgentFlags { hostname, .. } => (
                "/etc/mesos-slave/work_dir".to_string(),
                "mesos-slave",
                RunsOn::host_of(hostname, HostGroup::MesosAgents),
            ),
        };
        let cmd = Cmd::new("printf").word(r"'%s\n'").value(DURABLE_WORK_DIR).word(">").value(&file);
        let mut note = format!("with {unit} stopped; then start it");
        if runs_on != RunsOn::ThisNode {
            note = format!("{note} (or change --work_dir / MESOS_WORK_DIR where {unit} is configured)");
        }
        let remedy = match self.role {
            Role::Agent => cmd.destructive().with_note(format!("{note}; drain the agent first: its tasks are killed")),
            Role::Master => cmd.disruptive().with_note(format!("{note}; one master at a time")),
        };
        remedy.on(runs_on)
    }
}

impl WorkDir {
    /// Rewrites the assignment in the environment file.
    fn env_remedy(&self, path: &str, variable: &str) -> Remedy {
        let script = format!("s|^([[:space:]]*(export[[:space:]]+)?{variable}=).*|\\1{DURABLE_WORK_DIR}|");
        let cmd = Cmd::new("sed").word("-i.bak").word("-E").value(script).value(path);
        let note = "then restart the daemon";
        match self.role {
            Role::Agent => cmd.destructive().with_note(format!("{note}; drain the agent first: its tasks are killed")),
            Role::Master => cmd.disruptive().with_note(format!("{note}; one master at a time")),
        }
    }
}

const AGENT_CONSEQUENCE: &str =
    "when it is cleaned the agent cannot recover its checkpoint and its tasks are killed on the next restart";
const MASTER_CONSEQUENCE: &str = "the master's registry replica is lost when it is cleaned";

/// An unreadable file this check reads: a work_dir flag file or a Mesos
/// environment file.
fn mentions_work_dir_source(unreadable: &str) -> bool {
    ["work_dir", "/etc/default/mesos-", "/etc/sysconfig/mesos-"].iter().any(|part| unreadable.contains(part))
}

/// Why a directory does not keep its contents, if it does not.
fn volatile(path: &str) -> Option<&'static str> {
    const VOLATILE: [(&str, &str); 4] = [
        ("/tmp", "under /tmp, which systemd-tmpfiles and boot-time cleaning empty"),
        ("/var/tmp", "under /var/tmp, which systemd-tmpfiles cleans"),
        ("/dev/shm", "in memory (/dev/shm)"),
        ("/run", "in memory (/run)"),
    ];
    let path = normalized(path);
    VOLATILE.iter().find(|(dir, _)| path == *dir || path.starts_with(&format!("{dir}/"))).map(|(_, why)| *why)
}

/// `//tmp/./mesos/` -> `/tmp/mesos`: the spellings that name the same place.
fn normalized(path: &str) -> String {
    let parts: Vec<&str> = path.trim().split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::mesos_flags::AgentFlags;
    use crate::facts::node::{MesosFlagFile, NodeFacts};
    use crate::remedy::Risk;

    fn node(work_dirs: &[(MesosDaemon, &str)]) -> NodeFacts {
        NodeFacts {
            hostname: Fact::unavailable("not needed"),
            mesos_work_dirs: work_dirs
                .iter()
                .map(|&(daemon, value)| MesosFlagFile {
                    daemon,
                    path: format!("/etc/{}/work_dir", daemon.unit()),
                    value: value.into(),
                })
                .collect(),
            ..NodeFacts::named("-")
        }
    }

    fn flags(work_dir: &str) -> Fact<Flags> {
        Fact::observed(Flags { flags: [("work_dir".to_string(), work_dir.to_string())].into() })
    }

    fn facts(node: NodeFacts, mesos: Fact<MesosFlagsFacts>) -> Facts {
        Facts { node: Some(Fact::observed(node)), mesos_flags: Some(mesos), ..Default::default() }
    }

    fn cluster(master: Fact<Flags>, agents: Vec<Fact<Flags>>) -> Fact<MesosFlagsFacts> {
        let agents = agents
            .into_iter()
            .enumerate()
            .map(|(i, flags)| AgentFlags {
                id: format!("S{i}"),
                hostname: format!("agent{i}"),
                pid: Some(format!("slave(1)@10.0.0.{i}:5051")),
                flags,
            })
            .collect();
        Fact::observed(MesosFlagsFacts { master, agents, unasked_agents: 0 })
    }

    #[test]
    fn an_agent_flag_file_under_tmp_fails_with_a_destructive_fix() {
        let f = facts(node(&[(MesosDaemon::Slave, "/tmp/mesos")]), Fact::unavailable("no master"));
        let j = MesosWorkDir.run(&f).unwrap();
        assert_eq!(j.status(), Status::Fail);
        let finding = &j.findings[0];
        assert_eq!(finding.subject, "Mesos agent work_dir in /etc/mesos-slave/work_dir");
        assert_eq!(finding.evidence, ["/etc/mesos-slave/work_dir: work_dir /tmp/mesos"]);
        assert_eq!(finding.remediation[0].command, r"printf '%s\n' /var/lib/mesos > /etc/mesos-slave/work_dir");
        assert_eq!(finding.remediation[0].risk, Risk::Destructive);
        assert!(j.note.unwrap().contains("not included: Mesos flags: no master"));
    }

    #[test]
    fn a_master_under_var_tmp_warns_and_agents_from_their_flags_fail() {
        let f = facts(node(&[]), cluster(flags("/var/tmp/mesos"), vec![flags("/var/lib/mesos"), flags("//tmp/./x")]));
        let j = MesosWorkDir.run(&f).unwrap();
        assert_eq!(j.status(), Status::Fail);
        let subjects: Vec<&str> = j.findings.iter().map(|f| f.subject.as_str()).collect();
        assert_eq!(subjects, ["the leading Mesos master", "Mesos agent agent1"]);
        assert_eq!(j.findings[0].status, Status::Warn);
        assert_eq!(j.findings[0].remediation[0].risk, Risk::Disruptive);
        let agent1 = crate::remote::HostName::parse("agent1").unwrap();
        assert_eq!(j.findings[1].remediation[0].runs_on, RunsOn::Host(agent1), "runs on the agent, not here");
        assert_eq!(j.findings[0].remediation[0].runs_on, RunsOn::Every(HostGroup::MesosMasters));
        assert_eq!(j.findings[1].evidence, ["Mesos agent agent1 (S1) /flags: work_dir //tmp/./x"]);
    }

    #[test]
    fn an_agents_environment_file_under_tmp_fails_with_a_sed_fix() {
        let mut n = node(&[]);
        n.mesos_work_dir_env.push(crate::facts::node::MesosEnvSetting {
            daemon: MesosDaemon::Slave,
            path: "/etc/default/mesos-slave".into(),
            line: 3,
            variable: "MESOS_WORK_DIR".into(),
            value: "/tmp/mesos".into(),
        });
        let j = MesosWorkDir.run(&facts(n, Fact::unavailable("no master"))).unwrap();
        let finding = &j.findings[0];
        assert_eq!(finding.subject, "Mesos agent work_dir in /etc/default/mesos-slave line 3 (MESOS_WORK_DIR)");
        assert_eq!(
            finding.remediation[0].command,
            r"sed -i.bak -E 's|^([[:space:]]*(export[[:space:]]+)?MESOS_WORK_DIR=).*|\1/var/lib/mesos|' /etc/default/mesos-slave"
        );
        assert_eq!(finding.remediation[0].risk, Risk::Destructive);
    }

    #[test]
    fn durable_directories_pass() {
        let f = facts(
            node(&[(MesosDaemon::Master, "/var/lib/mesos/master"), (MesosDaemon::Agent, "/srv/tmp/mesos")]),
            cluster(flags("/var/lib/mesos"), vec![flags("/mnt/mesos")]),
        );
        let j = MesosWorkDir.run(&f).unwrap();
        assert!(j.findings.is_empty());
        assert_eq!(j.note.as_deref(), Some("4 work_dir settings checked"));
    }

    #[test]
    fn an_agent_whose_flags_could_not_be_read_is_an_error_not_a_pass() {
        let f =
            facts(node(&[]), cluster(flags("/var/lib/mesos"), vec![Fact::failed("agent at 10.0.0.0:5051: refused")]));
        let err = MesosWorkDir.run(&f).unwrap_err();
        assert_eq!(err, NotJudged::Error("Mesos agent agent0 (S0) /flags: agent at 10.0.0.0:5051: refused".into()));
        let failed = facts(node(&[]), Fact::failed("no Mesos master knows a leader"));
        assert!(matches!(MesosWorkDir.run(&failed), Err(NotJudged::Error(e)) if e.contains("knows a leader")));
    }

    #[test]
    fn nothing_to_judge_skips() {
        let f = facts(node(&[]), Fact::unavailable("no Mesos master answers at http://127.0.0.1:5050"));
        assert!(matches!(MesosWorkDir.run(&f), Err(NotJudged::Skip(r)) if r.contains("no /etc/mesos-*/work_dir")));
    }

    #[test]
    fn only_temporary_places_are_volatile() {
        for path in ["/tmp", "/tmp/mesos", "/var/tmp/m", "/dev/shm/m", "/run/mesos", " /tmp/x/ "] {
            assert!(volatile(path).is_some(), "{path}");
        }
        for path in ["/tmpfoo", "/var/lib/mesos", "/srv/tmp", "/runner", "relative/tmp"] {
            assert!(volatile(path).is_none(), "{path}");
        }
    }
}
