//! `ports.local-conflict`: Ports this node serves are not taken by other processes.
//!
//! What it looks for, why it matters, how to fix it and the risk of the fix
//! are its `META.explain`, the one text `clusterdoc explain` shows.

use std::borrow::Cow;
use super::{Check, CheckMeta, Explain, Conclusion, NotJudged, Verdict, required};
use crate::facts::knowledge::{PortSpec, RoleDaemon, RolePorts};
use crate::facts::roles::ServedPort;
use crate::facts::sockets::{Holder, Listener, SocketFacts};
use crate::facts::{Facts, Need};
use crate::remedy::{Cmd, Remedy};
use crate::report::{Finding, Status};
use crate::target::{Phase, Role};

pub struct PortsLocalConflict;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("ports.local-conflict"),
    title: Cow::Borrowed("Ports this node serves are not taken by other processes"),
    severity: Status::Fail,
    needs: &[Need::Roles, Need::Knowledge, Need::Sockets],
    tags: texts!["node", "network"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("Each port this node's roles serve (master 5050, agent 5051, marathon 8080, zookeeper 2181/2888/3888, \
flink 6123 and 8081, from checks/data/role-ports.toml) that is already bound by a process other than the role's \
daemon, named by pid and command line. The daemon is recognised by its command line: the mesos-master or \
mesos-agent/mesos-slave program, Marathon's main class or jar, ZooKeeper's QuorumPeerMain or ZooKeeperServerMain, \
the Flink JobManager classes. A free port passes, as before installing (`--phase preflight` too); with `--phase \
postflight` (after the deploy) a free port fails: the role's daemon should serve it. In the agent's task port range \
(31000-32000) nothing is expected to listen except Mesos tasks: other holders are a warning."),
        why: Cow::Borrowed("A daemon whose port is held fails at start with \"Address already in use\" and, under systemd or the \
cluster scripts, restarts in a loop. Flink sessions launched as Marathon apps all default to JobManager RPC port \
6123 and web port 8081: a second session on the same node cannot bind them and Marathon keeps relaunching it until \
each instance lands on a different node. A process holding a port in the agent's ports resource makes every task \
that Mesos offers that port fail to bind it."),
        fix: Cow::Borrowed("NotJudged the process that holds the port (`systemctl stop UNIT` when it runs as a systemd service, so that \
it is not restarted; `kill PID` otherwise), or move the component to another port: for a Flink session add \
-Djobmanager.rpc.port=6124 -Djobmanager.web.port=8082 to its mesos-appmaster.sh arguments; for the agent's task \
range take the port out of --resources=ports:[...]."),
        risk: Cow::Borrowed("Stopping a process is disruptive: whatever it served goes away. Moving a component's port is \
disruptive too: clients and firewall rules must follow."),
        references: texts![
            "REFERENCE.md section 5 (RPC and web port collisions between Flink sessions on Marathon)",
            "https://nightlies.apache.org/flink/flink-docs-release-1.2/setup/config.html (jobmanager.rpc.port, \
jobmanager.web.port)",
            "https://mesos.apache.org/documentation/latest/configuration/agent/ (--resources ports)",
        ],
    },
};

impl Check for PortsLocalConflict {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let node = required(&facts.roles, "node roles")?;
        let roles = &node.roles;
        if roles.is_empty() {
            return Err(NotJudged::Skip(
                "this node has no known role: name them with --role master|agent|zookeeper|marathon|flink".into(),
            ));
        }
        let data = &required(&facts.knowledge, "check data")?.role_ports;
        let sockets = required(&facts.sockets, "listening sockets")?;
        if node.ports.is_empty() {
            return Err(NotJudged::Skip(format!("no ports are known for this node's roles ({})", role_names(roles))));
        }
        let mut findings = Vec::new();
        let mut looked = Vec::new();
        for served in &node.ports {
            let entry = data.port.iter().find(|p| p.role == served.role && p.what == served.what);
            // A range by default (the agent's task ports) is handed out to
            // tasks, not held by the daemon.
            let handed_out = entry.is_some_and(|e| matches!(e.port, PortSpec::Range(..)));
            let (finding, summary) = match served.port {
                PortSpec::One(port) if !handed_out => {
                    let keys = entry.map_or(&[][..], |e| &e.keys[..]);
                    judge_port(port, served, keys, data, sockets, facts.inputs.phase)
                }
                spec => judge_task_range(spec.low(), spec.high(), served, sockets),
            };
            findings.extend(finding);
            looked.push(summary);
        }
        let mut note = format!("{} (roles: {})", looked.join("; "), role_names(roles));
        if sockets.unreadable_processes > 0 {
            note.push_str(&format!(
                "; the open files of {} processes could not be read (run as root to see every holder)",
                sockets.unreadable_processes
            ));
        }
        Ok(Conclusion::findings(findings, note))
    }
}

/// Who holds one port the node must serve.
fn judge_port(
    port: u16,
    served: &ServedPort,
    keys: &[String],
    data: &RolePorts,
    sockets: &SocketFacts,
    phase: Option<Phase>,
) -> (Option<Finding>, String) {
    let listeners: Vec<&Listener> = sockets.on_port(port).collect();
    let daemon = data.daemon.iter().find(|d| d.role == served.role);
    if listeners.is_empty() {
        return match phase {
            Some(Phase::Postflight) => (Some(not_served(port, served, daemon)), format!("{port}/tcp not served")),
            _ => (None, format!("{port}/tcp free")),
        };
    }
    let hidden = listeners.iter().filter(|l| l.holders.is_empty()).count();
    let strangers: Vec<&Holder> = listeners
        .iter()
        .flat_map(|l| &l.holders)
        .filter(|h| daemon.is_none_or(|d| !d.matches_command(&h.command)))
        .collect();
    let summary = |who: &str| format!("{port}/tcp held by {who}");
    let base = |status, message: String| {
        let finding = Finding::new(status, format!("port {port}/tcp"), message).evidence(format!(
            "the {} role serves {port}/tcp ({})",
            served.role.as_str(),
            served.source
        ));
        listeners.iter().fold(finding, |f, l| f.evidence(listener_line(l)))
    };
    let Some(daemon) = daemon else {
        let message = format!(
            "{port}/tcp is held by {}, and role-ports.toml names no daemon for the {} role: cannot tell whether it is \
the {}",
            holders_text(&strangers, hidden),
            served.role.as_str(),
            served.what
        );
        return (Some(base(Status::Error, message)), summary("an unrecognised process"));
    };
    if !strangers.is_empty() {
        let message = format!(
            "{port}/tcp is held by {}, not by {}: the {} cannot bind it",
            holders_text(&strangers, hidden),
            daemon.name,
            served.what
        );
        let next = free_port_after(port, data, sockets);
        let finding = unique_by_process(&strangers)
            .into_iter()
            .fold(base(Status::Fail, message), |f, h| f.fix(stop_remedy(h, port, served, keys, next)));
        return (Some(finding), summary("another process"));
    }
    if hidden > 0 {
        let message = format!(
            "{port}/tcp is held by a process clusterdoc cannot see (not root, or another PID namespace): cannot tell \
whether it is {}",
            daemon.name
        );
        return (Some(base(Status::Error, message)), summary("an unseen process"));
    }
    let pids: Vec<String> = listeners.iter().flat_map(|l| &l.holders).map(|h| h.pid.to_string()).collect();
    (None, summary(&format!("{} (pid {})", daemon.name, dedup(pids).join(", "))))
}

/// Postflight: a role's port nothing listens on, where its daemon should.
fn not_served(port: u16, served: &ServedPort, daemon: Option<&RoleDaemon>) -> Finding {
    let who = daemon.map_or_else(|| format!("the {} role's daemon", served.role.as_str()), |d| d.name.clone());
    let message = format!("{port}/tcp is not served: after the deploy {who} should listen here ({})", served.what);
    Finding::new(Status::Fail, format!("port {port}/tcp"), message)
        .evidence(format!("the {} role serves {port}/tcp ({})", served.role.as_str(), served.source))
        .evidence(format!("no socket listens on {port}/tcp"))
        .fix(Cmd::new("ss").word("-ltnp").value(format!("sport = :{port}")).safe().with_note(format!(
            "start {who} and read its log if it does not come up: it may have failed to bind, or listen elsewhere"
        )))
}

/// Listeners in the agent's task port range that are not Mesos tasks: Mesos
/// offers those ports, and a task given one fails to bind it.
fn judge_task_range(lo: u16, hi: u16, served: &ServedPort, sockets: &SocketFacts) -> (Option<Finding>, String) {
    let in_range: Vec<&Listener> = sockets.listeners.iter().filter(|l| (lo..=hi).contains(&l.local.port())).collect();
    let foreign: Vec<&Listener> =
        in_range.iter().copied().filter(|l| l.holders.iter().any(|h| !is_mesos_task(h))).collect();
    let unseen = in_range.iter().filter(|l| l.holders.is_empty()).count();
    let summary = if in_range.is_empty() {
        format!("{lo}-{hi}/tcp (task ports) unused")
    } else {
        format!(
            "{lo}-{hi}/tcp (task ports): {}, {} not of Mesos tasks, {} of processes not seen",
            plural(in_range.len(), "listener"),
            foreign.len(),
            unseen
        )
    };
    if foreign.is_empty() {
        return (None, summary);
    }
    let ports: Vec<String> = dedup(foreign.iter().map(|l| l.local.port().to_string()).collect());
    let message = format!(
        "{} in {lo}-{hi}/tcp ({}) held by processes that are not Mesos tasks: a task offered one of them fails to \
bind it",
        plural(ports.len(), "port"),
        served.what
    );
    let strangers: Vec<&Holder> = foreign.iter().flat_map(|l| &l.holders).filter(|h| !is_mesos_task(h)).collect();
    let finding = Finding::new(Status::Warn, format!("ports {lo}-{hi}/tcp"), message);
    let finding = foreign.iter().fold(finding, |f, l| f.evidence(listener_line(l)));
    let finding = unique_by_process(&strangers).into_iter().fold(finding, |f, h| {
        f.fix(stop_command(h).with_note(format!(
            "stops {}; or leave it and take its port out of the agent's --resources=ports:[...]",
            process_text(h)
        )))
    });
    (Some(finding), summary)
}

/// A process the Mesos agent started: its control group is one Mesos made
/// (`/mesos/<container>`, `mesos_executors.slice`) or the agent's service.
fn is_mesos_task(holder: &Holder) -> bool {
    holder.cgroups.iter().flat_map(|path| path.split('/')).any(|part| part.starts_with("mesos"))
}

fn stop_remedy(holder: &Holder, port: u16, served: &ServedPort, keys: &[String], next_free: Option<u16>) -> Remedy {
    let mut note = format!("stops {}, which holds {port}/tcp", process_text(holder));
    if let Some(unit) = holder.unit() {
        note.push_str(&format!("; `systemctl disable {unit}` too if it must not start at boot"));
    }
    if let Some(alternative) = move_hint(served, keys, next_free) {
        note.push_str(&format!("; or leave it and {alternative}"));
    }
    stop_command(holder).with_note(note)
}

/// `systemctl stop UNIT` for a service (a `kill` would only make systemd
/// restart it), else `kill PID`.
fn stop_command(holder: &Holder) -> Remedy {
    match holder.unit() {
        Some(unit) => Cmd::new("systemctl").word("stop").value(unit).disruptive(),
        None => Cmd::new("kill").value(holder.pid.to_string()).disruptive(),
    }
}

/// How to move the component instead: Flink takes `-Dkey=value` arguments,
/// the others a setting of their own.
fn move_hint(served: &ServedPort, keys: &[String], next_free: Option<u16>) -> Option<String> {
    let free = next_free?;
    let first = keys.first()?;
    Some(if served.role == Role::Flink {
        let options: Vec<String> = keys.iter().map(|k| format!("-D{k}={free}")).collect();
        format!("move the Flink JobManager: add {} to the session's mesos-appmaster.sh arguments", options.join(" or "))
    } else {
        format!("give the {} another port: set its {first} to a free one such as {free}", served.what)
    })
}

/// The first port above `port` that nothing listens on and no role serves.
fn free_port_after(port: u16, data: &RolePorts, sockets: &SocketFacts) -> Option<u16> {
    let served = |p: u16| data.port.iter().any(|r| (r.port.low()..=r.port.high()).contains(&p));
    (port.checked_add(1)?..=u16::MAX).find(|&p| !served(p) && sockets.on_port(p).next().is_none())
}

fn listener_line(listener: &Listener) -> String {
    let holders = if listener.holders.is_empty() {
        "no visible process".to_string()
    } else {
        listener.holders.iter().map(|h| format!("{} {}", process_text(h), unit_text(h))).collect::<Vec<_>>().join("; ")
    };
    format!("LISTEN {} (socket uid {}): {}", listener.local, listener.uid, holders.trim_end())
}

fn unit_text(holder: &Holder) -> String {
    holder.unit().map(|u| format!("in {u}")).unwrap_or_default()
}

fn process_text(holder: &Holder) -> String {
    const LONGEST: usize = 160;
    let mut line = holder.command_line();
    if line.chars().count() > LONGEST {
        line = line.chars().take(LONGEST).collect::<String>() + "...";
    }
    format!("pid {} ({line})", holder.pid)
}

fn holders_text(holders: &[&Holder], hidden: usize) -> String {
    let mut parts: Vec<String> = unique_by_process(holders).iter().map(|h| process_text(h)).collect();
    if hidden > 0 {
        parts.push(format!("{} of an unseen process", plural(hidden, "socket")));
    }
    parts.join(", ")
}

fn unique_by_process<'a>(holders: &[&'a Holder]) -> Vec<&'a Holder> {
    let mut unique: Vec<&Holder> = Vec::new();
    for holder in holders {
        if !unique.iter().any(|u| u.pid == holder.pid) {
            unique.push(holder);
        }
    }
    unique
}

fn dedup(mut items: Vec<String>) -> Vec<String> {
    let mut seen = Vec::new();
    items.retain(|i| {
        let new = !seen.contains(i);
        seen.push(i.clone());
        new
    });
    items
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

fn role_names(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Fact;
    use crate::facts::knowledge::Knowledge;
    use crate::facts::roles::{NodeRoles, PortSource};

    fn holder(pid: u32, command: &str, cgroup: &str) -> Holder {
        Holder { pid, command: command.split(' ').map(String::from).collect(), cgroups: vec![cgroup.into()] }
    }

    fn listening(addr: &str, holders: Vec<Holder>) -> Listener {
        Listener { local: addr.parse().unwrap(), uid: 0, holders }
    }

    /// The roles with the ports the embedded data gives them.
    fn node(roles: &[Role]) -> NodeRoles {
        let ports =
            Knowledge::embedded().role_ports.port.into_iter().filter(|p| roles.contains(&p.role) && !p.optional);
        NodeRoles {
            roles: roles.to_vec(),
            ports: ports
                .map(|p| ServedPort { role: p.role, port: p.port, what: p.what, source: PortSource::Default })
                .collect(),
            ..NodeRoles::default()
        }
    }

    fn run(roles: &[Role], listeners: Vec<Listener>) -> Verdict {
        let facts = Facts {
            roles: Some(Fact::observed(node(roles))),
            knowledge: Some(Fact::observed(Knowledge::embedded())),
            sockets: Some(Fact::observed(SocketFacts { listeners, unreadable_processes: 0 })),
            ..Facts::default()
        };
        PortsLocalConflict.run(&facts)
    }

    #[test]
    fn no_role_skips_naming_the_flag() {
        let Err(NotJudged::Skip(reason)) = run(&[], Vec::new()) else { panic!("expected a skip") };
        assert!(reason.contains("--role"));
    }

    #[test]
    fn the_expected_daemons_and_free_ports_pass() {
        let judgement = run(
            &[Role::Master, Role::Zookeeper],
            vec![
                listening(
                    "0.0.0.0:5050",
                    vec![holder(10, "/usr/sbin/mesos-master --port=5050", "/system.slice/mesos-master.service")],
                ),
                listening(
                    "[::]:2181",
                    vec![holder(11, "java -cp zk.jar org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg", "/")],
                ),
            ],
        )
        .unwrap();
        assert!(judgement.findings.is_empty(), "{:?}", judgement.findings);
        let note = judgement.note.unwrap();
        assert!(note.contains("5050/tcp held by mesos-master (pid 10)"), "{note}");
        assert!(note.contains("2888/tcp free"), "{note}");
    }

    #[test]
    fn a_stranger_on_a_flink_port_fails_with_kill_and_the_port_move() {
        let judgement = run(
            &[Role::Flink],
            vec![listening("0.0.0.0:6123", vec![holder(4242, "python3 -m http.server 6123", "/")])],
        )
        .unwrap();
        let f = &judgement.findings[0];
        assert_eq!((f.status, f.subject.as_str()), (Status::Fail, "port 6123/tcp"));
        assert!(
            f.message
                .starts_with("6123/tcp is held by pid 4242 (python3 -m http.server 6123), not by Flink JobManager")
        );
        assert_eq!(
            f.evidence,
            [
                "the flink role serves 6123/tcp (default)",
                "LISTEN 0.0.0.0:6123 (socket uid 0): pid 4242 (python3 -m http.server 6123)"
            ]
        );
        assert_eq!(f.remediation[0].command, "kill 4242");
        let note = f.remediation[0].note.as_deref().unwrap();
        assert!(
            note.contains("add -Djobmanager.rpc.port=6124 to the session's mesos-appmaster.sh arguments"),
            "{note}"
        );
    }

    #[test]
    fn a_stranger_in_a_service_is_stopped_through_systemd() {
        let judgement = run(
            &[Role::Marathon],
            vec![listening("127.0.0.1:8080", vec![holder(7, "/usr/bin/jenkins", "/system.slice/jenkins.service")])],
        )
        .unwrap();
        let remedy = &judgement.findings[0].remediation[0];
        assert_eq!(remedy.command, "systemctl stop jenkins.service");
        assert!(remedy.note.as_deref().unwrap().contains("set its http_port to a free one such as 8082"));
    }

    #[test]
    fn an_unseen_holder_is_an_error_not_a_pass() {
        let judgement = run(&[Role::Master], vec![listening("0.0.0.0:5050", Vec::new())]).unwrap();
        assert_eq!(judgement.status(), Status::Error);
        assert!(judgement.findings[0].message.contains("cannot see"));
    }

    #[test]
    fn task_ports_are_for_mesos_tasks_only() {
        let task = holder(20, "python3 -m http.server 31001", "/mesos/3f2a");
        let stranger = holder(21, "nc -l 31500", "/user.slice/user-0.slice/session-1.scope");
        let judgement = run(
            &[Role::Agent],
            vec![listening("0.0.0.0:31001", vec![task]), listening("0.0.0.0:31500", vec![stranger])],
        )
        .unwrap();
        assert_eq!(judgement.findings.len(), 1);
        let f = &judgement.findings[0];
        assert_eq!((f.status, f.subject.as_str()), (Status::Warn, "ports 31000-32000/tcp"));
        assert_eq!(f.evidence.len(), 1);
        assert_eq!(f.remediation[0].command, "kill 21");
    }

    #[test]
    fn without_daemon_data_a_holder_cannot_be_judged() {
        let mut knowledge = Knowledge::embedded();
        knowledge.role_ports.daemon.retain(|d| d.role != Role::Master);
        let facts = Facts {
            roles: Some(Fact::observed(node(&[Role::Master]))),
            knowledge: Some(Fact::observed(knowledge)),
            sockets: Some(Fact::observed(SocketFacts {
                listeners: vec![listening("0.0.0.0:5050", vec![holder(1, "mesos-master", "/")])],
                unreadable_processes: 0,
            })),
            ..Facts::default()
        };
        let judgement = PortsLocalConflict.run(&facts).unwrap();
        assert_eq!(judgement.status(), Status::Error);
        assert!(judgement.findings[0].message.contains("names no daemon for the master role"));
    }
}
