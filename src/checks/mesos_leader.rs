//! `mesos.leader`: Mesos has a leading master and active agents.

use std::borrow::Cow;
use super::{Check, CheckMeta, Explain, Conclusion, NotJudged, Verdict, required};
use crate::facts::mesos::{Agent, LeaderId, Leadership, MasterAnswer, MasterView, MesosFacts, MesosState};
use crate::facts::{Facts, Need};
use crate::remedy::{Cmd, HostGroup, Remedy, RunsOn};
use crate::report::{Finding, Scope, Status};
use crate::target::Phase;

pub struct MesosLeader;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("mesos.leader"),
    title: Cow::Borrowed("Mesos has a leading master and active agents"),
    severity: Status::Fail,
    needs: &[Need::Mesos],
    tags: texts!["mesos"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("Asks every named Mesos master for /master/state without following its redirect, so each one's own \
               answer is kept: it leads, it points at the leader (HTTP 307), or it knows no leader (HTTP 503). \
               Also reads /master/health and the master/elected metric. Fails when no master knows a leader, when \
               the named masters disagree about who leads, when the leader does not answer, or when no agent is \
               registered and active with the leader; warns about deactivated agents and about masters that do \
               not answer or have lost track of the leader. Under --root the default master (127.0.0.1:5050) \
               is not asked: the check skips until a master is named. With --phase preflight (before the \
               cluster is started) no leader is expected yet: the check skips instead of failing."),
        why: Cow::Borrowed("Without a leading master nothing is scheduled: frameworks such as Marathon cannot register and no \
              task is launched or replaced. Masters elect their leader through ZooKeeper; a master that names a \
              different leader, or none, has usually lost its ZooKeeper session, and two masters that both claim \
              to lead mean a split election. Agents that are registered but deactivated (disconnected) get no \
              offers; once they stay away longer than agent_ping_timeout x max_agent_ping_timeouts the master \
              removes them and their tasks are LOST."),
        fix: Cow::Borrowed("Read the logs of the master or agent named in the finding (journalctl), fix what keeps it from \
              ZooKeeper or from the leader (ZooKeeper quorum: clusterdoc --only zk.quorum; firewalls: \
              clusterdoc --only net.reachability), then restart it."),
        risk: Cow::Borrowed("journalctl only reads. Restarting a non-leading master is harmless; restarting \
               the leader triggers a new election (a few seconds without a leader; frameworks re-register). \
               Restarting an agent keeps its tasks only when the agent recovers them (checkpointing, default on \
               Mesos >= 1.0); with checkpointing off its tasks are lost."),
        references: texts![
            "http://mesos.apache.org/documentation/latest/endpoints/master/state/",
            "http://mesos.apache.org/documentation/latest/endpoints/master/redirect/",
            "http://mesos.apache.org/documentation/latest/high-availability/",
        ],
    },
};

/// At most this many agents are listed as evidence.
const MAX_LISTED: usize = 20;

impl Check for MesosLeader {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let mesos = required(&facts.mesos, "Mesos facts")?;
        match &mesos.leadership {
            Leadership::Known(leader) => judge_cluster(mesos, leader),
            Leadership::Unanswered { leader, error } => Ok(Conclusion::findings(
                vec![leader_silent(mesos, leader, error)],
                format!("{} masters asked", mesos.masters.len()),
            )),
            Leadership::Contested { leaders } => Ok(Conclusion::findings(
                vec![contested(mesos, &format!("{} all say they lead", leaders.join(", ")))],
                format!("{} masters asked", mesos.masters.len()),
            )),
            Leadership::Unknown if facts.inputs.phase == Some(Phase::Preflight) => Err(NotJudged::Skip(
                "preflight: no Mesos master leads yet (or none answers), as before the cluster is started (--phase postflight \
                 requires a leader)"
                    .into(),
            )),
            Leadership::Unknown => no_leader(mesos),
        }
    }
}

fn judge_cluster(mesos: &MesosFacts, leader: &LeaderId) -> Verdict {
    let state = mesos.state.value().ok_or_else(|| {
        NotJudged::Error(format!("the leader's state is missing: {}", mesos.state.problem().unwrap_or("not gathered")))
    })?;
    let mut findings = Vec::new();
    if mesos.masters.iter().any(|m| disagrees(m, leader)) {
        findings.push(contested(mesos, &format!("{} leads, but not every master says so", leader.pid)));
    }
    findings.extend(mesos.masters.iter().filter_map(|m| stray_master(m, leader)));
    findings.extend(agent_findings(state, leader));
    let active = state.agents.iter().filter(|a| a.active).count();
    let note = format!(
        "leader {} ({}, Mesos {}); {} of {} named masters agree; {active} agents active",
        leader.pid,
        state.hostname.as_deref().unwrap_or("unknown host"),
        state.version.as_deref().unwrap_or("unknown version"),
        mesos.masters.iter().filter(|m| !disagrees(m, leader) && answered(m)).count(),
        mesos.masters.len(),
    );
    Ok(Conclusion::findings(findings, note))
}

/// A master that names someone else as leader, or claims to lead itself.
fn disagrees(master: &MasterView, leader: &LeaderId) -> bool {
    match &master.answer {
        MasterAnswer::Leads { pid } => !leader.is(pid),
        MasterAnswer::Names { leader: named } => !leader.is(named),
        MasterAnswer::NoLeader { .. } | MasterAnswer::Failed { .. } => false,
    }
}

fn answered(master: &MasterView) -> bool {
    matches!(master.answer, MasterAnswer::Leads { .. } | MasterAnswer::Names { .. })
}

/// Every master's own answer, one evidence line each.
fn who_says_what(mesos: &MesosFacts) -> Vec<String> {
    mesos
        .masters
        .iter()
        .map(|m| match &m.answer {
            MasterAnswer::Failed { error } => error.clone(),
            answer => format!("{} {answer}{}", m.url, elected_note(m)),
        })
        .collect()
}

fn elected_note(master: &MasterView) -> &'static str {
    match master.elected {
        Some(true) => " (master/elected = 1)",
        Some(false) => " (master/elected = 0)",
        None => "",
    }
}

fn contested(mesos: &MesosFacts, message: &str) -> Finding {
    let mut finding =
        Finding::new(Status::Fail, "Mesos masters", format!("the masters disagree about the leader: {message}"));
    finding.evidence = who_says_what(mesos);
    finding.fix(master_logs(None)).fix(
        master_restart(None).with_note(
            "on the masters that name the wrong leader, after checking ZooKeeper: clusterdoc --only zk.quorum",
        ),
    )
}

fn no_leader(mesos: &MesosFacts) -> Verdict {
    if mesos.masters.iter().all(|m| matches!(m.answer, MasterAnswer::Failed { .. })) {
        return Err(NotJudged::Error(format!(
            "no named Mesos master gave a usable answer, so whether one leads is unknown: {}",
            who_says_what(mesos).join("; ")
        )));
    }
    let mut finding = Finding::new(Status::Fail, "Mesos masters", "no master knows a leader: nothing can be scheduled")
        .problem("no-leader");
    finding.evidence = who_says_what(mesos);
    // The ensemble the masters elect through: each names it in its flags.
    for zk in mesos.masters.iter().filter_map(|m| m.zk.as_deref()) {
        if let Some(ensemble) = Scope::ensemble_of_url(zk)
            && !finding.scope.contains(&ensemble)
        {
            finding.scope.push(ensemble);
        }
    }
    let finding = finding.fix(master_logs(None)).fix(
        master_restart(None)
            .with_note("once ZooKeeper has quorum (clusterdoc --only zk.quorum): masters elect through it"),
    );
    Ok(Conclusion::findings(vec![finding], format!("{} masters asked", mesos.masters.len())))
}

fn leader_silent(mesos: &MesosFacts, leader: &str, error: &str) -> Finding {
    let mut finding = Finding::new(
        Status::Fail,
        format!("Mesos leader {leader}"),
        "the masters name a leader, but it does not answer",
    );
    finding.evidence = who_says_what(mesos);
    finding.evidence.push(error.to_string());
    finding.fix(master_logs(Some(leader))).fix(
        master_restart(Some(leader))
            .with_note("if it is down (if it runs, check the path from here: clusterdoc --only net.reachability)"),
    )
}

/// A named master that is not in step with the leader: no answer, no leader,
/// unhealthy, or elected though another leads.
fn stray_master(master: &MasterView, leader: &LeaderId) -> Option<Finding> {
    let subject = format!("Mesos master {}", master.url);
    let is_leader = matches!(&master.answer, MasterAnswer::Leads { pid } if leader.is(pid));
    let (status, message) = match &master.answer {
        _ if master.elected == Some(true) && !is_leader => {
            (Status::Fail, format!("reports master/elected = 1 although {} leads: a split election", leader.pid))
        }
        MasterAnswer::Failed { .. } => (Status::Warn, "does not answer: one master fewer to fail over to".to_string()),
        MasterAnswer::NoLeader { .. } => (
            Status::Warn,
            format!("knows no leader while {} leads: it has probably lost its ZooKeeper session", leader.pid),
        ),
        _ if master.healthy == Some(false) => (Status::Warn, "/master/health does not answer 200".to_string()),
        _ => return None,
    };
    let mut finding = Finding::new(status, subject, message).evidence(match &master.answer {
        MasterAnswer::Failed { error } => error.clone(),
        answer => format!("{} {answer}{}", master.url, elected_note(master)),
    });
    if master.healthy == Some(false) {
        finding = finding.evidence(format!("{}/master/health: not 200", master.url));
    }
    Some(finding.fix(master_logs(Some(&master.url))).fix(master_restart(Some(&master.url))))
}

fn agent_findings(state: &MesosState, leader: &LeaderId) -> Vec<Finding> {
    let inactive: Vec<&Agent> = state.agents.iter().filter(|a| !a.active).collect();
    if state.agents.is_empty() {
        let finding = Finding::new(
            Status::Fail,
            "Mesos agents",
            "no agent is registered with the leading master: no task can run",
        )
        .evidence(format!("{} /master/state lists 0 agents", leader.url));
        return vec![finding.fix(agent_logs(None)).fix(agent_restart(None))];
    }
    if inactive.is_empty() {
        return Vec::new();
    }
    let all = inactive.len() == state.agents.len();
    let (status, message) = if all {
        (Status::Fail, format!("none of the {} registered agents is active: no offers, no tasks", state.agents.len()))
    } else {
        (
            Status::Warn,
            format!(
                "{} of {} agents are deactivated (disconnected): they get no offers",
                inactive.len(),
                state.agents.len()
            ),
        )
    };
    let mut finding = Finding::new(status, "Mesos agents", message);
    finding.evidence = inactive.iter().take(MAX_LISTED).map(|a| describe_agent(a)).collect();
    if inactive.len() > MAX_LISTED {
        finding.evidence.push(format!("... and {} more", inactive.len() - MAX_LISTED));
    }
    let hosts: Vec<&str> = inactive.iter().take(MAX_LISTED).map(|a| a.hostname.as_str()).collect();
    let on = format!("on the inactive ones: {}", hosts.join(", "));
    vec![finding.fix(agent_logs(Some(&on))).fix(agent_restart(Some(&on)))]
}

fn describe_agent(agent: &Agent) -> String {
    let pid = agent.pid.as_deref().unwrap_or("no pid");
    format!("agent {} ({}, {pid}): inactive", agent.hostname, agent.id)
}

/// On the master at this URL (or pid `master@host:port`), else on each.
fn on_master(master: Option<&str>) -> RunsOn {
    match master {
        Some(master) => RunsOn::host_of(master, HostGroup::MesosMasters),
        None => RunsOn::Every(HostGroup::MesosMasters),
    }
}

fn master_logs(on: Option<&str>) -> Remedy {
    Cmd::new("journalctl")
        .word("-u mesos-master -n 200 --no-pager")
        .safe()
        .on(on_master(on))
        .with_note("look for ZooKeeper session and election messages")
}

fn master_restart(on: Option<&str>) -> Remedy {
    Cmd::new("systemctl").word("restart mesos-master").disruptive().on(on_master(on))
}

/// `which`: the agents meant, when not all of them.
fn agent_logs(which: Option<&str>) -> Remedy {
    let which = which.map(|w| format!("{w}; ")).unwrap_or_default();
    Cmd::new("journalctl")
        .word("-u mesos-slave -n 200 --no-pager")
        .safe()
        .on(RunsOn::Every(HostGroup::MesosAgents))
        .with_note(format!("{which}the unit is mesos-agent on newer packages: look for registration with the master"))
}

fn agent_restart(which: Option<&str>) -> Remedy {
    let which = which.map(|w| format!("{w}; ")).unwrap_or_default();
    Cmd::new("systemctl")
        .word("restart mesos-slave")
        .disruptive()
        .on(RunsOn::Every(HostGroup::MesosAgents))
        .with_note(format!("{which}the agent recovers its tasks only with checkpointing (default since Mesos 1.0)"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::facts::Fact;

    fn master(url: &str, answer: MasterAnswer) -> MasterView {
        MasterView { url: url.into(), answer, healthy: Some(true), elected: None, zk: None }
    }

    fn leads(pid: &str) -> MasterAnswer {
        MasterAnswer::Leads { pid: pid.into() }
    }

    fn leader() -> LeaderId {
        LeaderId {
            pid: "master@10.0.0.1:5050".into(),
            url: "http://m1:5050".into(),
            addresses: BTreeSet::from(["10.0.0.1:5050".to_string(), "m1:5050".to_string()]),
        }
    }

    fn agent(host: &str, active: bool) -> Agent {
        Agent { id: format!("S-{host}"), hostname: host.into(), active, ..Agent::default() }
    }

    fn facts(masters: Vec<MasterView>, agents: Vec<Agent>) -> Facts {
        let state = MesosState { agents, pid: Some(leader().pid), leader: Some(leader().pid), ..Default::default() };
        let mesos = MesosFacts { state: Fact::observed(state), masters, leadership: Leadership::Known(leader()) };
        Facts { mesos: Some(Fact::observed(mesos)), ..Facts::default() }
    }

    #[test]
    fn agreeing_masters_and_active_agents_pass() {
        let masters = vec![
            master("http://m1:5050", leads("master@10.0.0.1:5050")),
            master("http://m2:5050", MasterAnswer::Names { leader: "m1:5050".into() }),
        ];
        let judgement = MesosLeader.run(&facts(masters, vec![agent("a1", true)])).unwrap();
        assert_eq!(judgement.status(), Status::Pass, "{judgement:?}");
        assert!(judgement.note.unwrap().contains("2 of 2 named masters agree; 1 agents active"));
    }

    #[test]
    fn a_master_naming_another_leader_fails_with_every_answer() {
        let masters = vec![
            master("http://m1:5050", leads("master@10.0.0.1:5050")),
            master("http://m2:5050", MasterAnswer::Names { leader: "m3:5050".into() }),
        ];
        let judgement = MesosLeader.run(&facts(masters, vec![agent("a1", true)])).unwrap();
        let finding = &judgement.findings[0];
        assert_eq!(finding.status, Status::Fail);
        assert_eq!(
            finding.evidence,
            ["http://m1:5050 says it leads (master@10.0.0.1:5050)", "http://m2:5050 says the leader is m3:5050"]
        );
    }

    #[test]
    fn an_elected_follower_is_a_split_election() {
        let mut follower = master("http://m2:5050", MasterAnswer::Names { leader: "m1:5050".into() });
        follower.elected = Some(true);
        let judgement = MesosLeader.run(&facts(vec![follower], vec![agent("a1", true)])).unwrap();
        assert_eq!(judgement.findings[0].status, Status::Fail);
        assert!(judgement.findings[0].message.contains("split election"));
    }

    #[test]
    fn deactivated_agents_warn_all_deactivated_fail() {
        let masters = vec![master("http://m1:5050", leads("master@10.0.0.1:5050"))];
        let some = MesosLeader.run(&facts(masters.clone(), vec![agent("a1", true), agent("a2", false)])).unwrap();
        assert_eq!(some.status(), Status::Warn);
        assert_eq!(some.findings[0].evidence, ["agent a2 (S-a2, no pid): inactive"]);
        assert_eq!(some.findings[0].remediation[0].command, "journalctl -u mesos-slave -n 200 --no-pager");
        let all = MesosLeader.run(&facts(masters, vec![agent("a2", false)])).unwrap();
        assert_eq!(all.status(), Status::Fail);
    }

    #[test]
    fn no_answer_from_any_master_is_an_error_not_a_pass() {
        let mesos = MesosFacts {
            state: Fact::failed("no Mesos master knows a leader"),
            masters: vec![master("http://m1:5050", MasterAnswer::Failed { error: "m1: connection refused".into() })],
            leadership: Leadership::Unknown,
        };
        let facts = Facts { mesos: Some(Fact::observed(mesos)), ..Facts::default() };
        assert!(matches!(MesosLeader.run(&facts), Err(NotJudged::Error(e)) if e.contains("connection refused")));
    }
}
