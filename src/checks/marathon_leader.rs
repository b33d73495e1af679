//! `marathon.leader`: Marathon has a leader registered with Mesos.

use std::borrow::Cow;
use super::{Check, CheckMeta, Explain, Conclusion, NotJudged, Verdict, required};
use crate::facts::marathon::{MarathonFacts, MarathonInfo};
use crate::facts::mesos::MesosState;
use crate::facts::{Fact, Facts, Need};
use crate::remedy::{Cmd, HostGroup, Remedy, RunsOn};
use crate::report::{Finding, Scope, Status};
use crate::target::Phase;

pub struct MarathonLeader;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("marathon.leader"),
    title: Cow::Borrowed("Marathon has a leader registered with Mesos"),
    severity: Status::Fail,
    needs: &[Need::Marathon, Need::Mesos],
    tags: texts!["marathon", "mesos"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("Asks Marathon for /v2/leader (404 means no instance leads) and /v2/info (its frameworkId), then \
               looks the framework up in the leading Mesos master's /master/state: it must be listed under \
               frameworks and be active. Fails when Marathon has no leader, has never registered (no frameworkId), \
               is missing from the master's frameworks, is inactive or disconnected there, or was removed \
               (listed under completed_frameworks). Under --root the default Marathon (127.0.0.1:8080) and \
               Mesos master are not asked: the check skips until they are named. With --phase preflight a \
               Marathon that does not answer or has no leader yet skips instead."),
        why: Cow::Borrowed("Only the leading Marathon instance talks to Mesos. Without a leader the REST API cannot deploy, \
              scale or restart anything; the instances elect their leader through ZooKeeper, so a ZooKeeper \
              without quorum or a /marathon path shared with another Marathon version leaves the cluster \
              leaderless. A leader that is not an active framework on the leading master receives no offers: \
              apps wait in the queue forever and failed tasks are not replaced. A framework Mesos has removed \
              (failover_timeout expired, or a teardown) cannot come back under the same id."),
        fix: Cow::Borrowed("Read the leader's log (journalctl -u marathon): registration errors, 'Framework has been removed', \
              authentication failures or an unreachable master show there. Make sure ZooKeeper has quorum \
              (clusterdoc --only zk.quorum) and the Mesos master leads (clusterdoc --only mesos.leader), then \
              restart Marathon so that it re-registers. If Mesos removed the framework, Marathon must register \
              as a new framework: its stored framework id has to go, and the tasks of the old framework are gone."),
        risk: Cow::Borrowed("journalctl only reads. Restarting the Marathon leader hands leadership to another instance (or \
               leaves none until it is back); running tasks keep running as long as Marathon re-registers within \
               its failover_timeout (one week by default). Deployments in progress resume after the election."),
        references: texts![
            "https://mesosphere.github.io/marathon/docs/rest-api.html (GET /v2/leader, GET /v2/info)",
            "https://mesosphere.github.io/marathon/docs/high-availability.html",
            "http://mesos.apache.org/documentation/latest/endpoints/master/state/",
        ],
    },
};

impl Check for MarathonLeader {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let preflight = facts.inputs.phase == Some(Phase::Preflight);
        let not_yet = |what: &str| {
            NotJudged::Skip(format!(
                "preflight: {what}, as before Marathon is started (--phase postflight requires a leader)"
            ))
        };
        let marathon = match required(&facts.marathon, "Marathon facts") {
            Err(NotJudged::Error(why)) if preflight => return Err(not_yet(&format!("Marathon does not answer ({why})"))),
            judged => judged?,
        };
        // /v2/info is answered by every instance, leader or not: without it
        // there is no telling that a 404 from /v2/leader came from Marathon.
        let info = match marathon.info.value() {
            Some(info) => info,
            None if preflight => return Err(not_yet(&format!("Marathon does not answer ({})", problem(&marathon.info)))),
            None => return Err(NotJudged::Error(problem(&marathon.info))),
        };
        let leader = match &marathon.leader {
            Fact::Observed { value: Some(leader) } => leader,
            Fact::Observed { value: None } if preflight => return Err(not_yet("no Marathon instance leads yet")),
            Fact::Observed { value: None } => {
                return Ok(Conclusion::findings(vec![no_leader(marathon)], "GET /v2/leader"));
            }
            other => return Err(NotJudged::Error(problem(other))),
        };
        let Some(framework_id) = info.framework_id.as_deref() else {
            let finding = never_registered(marathon, leader).problem("not-registered");
            return Ok(Conclusion::findings(vec![finding], "GET /v2/info"));
        };
        let state = leading_master_state(facts, leader)?;
        let finding = registration(state, framework_id, info, leader).map(|f| f.problem("not-registered"));
        let note = format!("Marathon leader {leader}; framework {framework_id} active on the leading Mesos master");
        Ok(Conclusion::findings(finding.into_iter().collect(), note))
    }
}

fn problem<T>(fact: &Fact<T>) -> String {
    fact.problem().unwrap_or_default().to_string()
}

/// The leading master's state; skips (implicit Mesos absent) or errors with
/// a reason that says what could not be judged.
fn leading_master_state<'a>(facts: &'a Facts, leader: &str) -> Result<&'a MesosState, NotJudged> {
    let why =
        |reason: &str| format!("Marathon leads at {leader}, but its Mesos registration cannot be checked: {reason}");
    let mesos = required(&facts.mesos, "Mesos facts").map_err(|stop| match stop {
        NotJudged::Skip(reason) => NotJudged::Skip(why(&reason)),
        NotJudged::Error(reason) => NotJudged::Error(why(&reason)),
    })?;
    mesos.state.value().ok_or_else(|| NotJudged::Error(why(mesos.state.problem().unwrap_or_default())))
}

/// None when Marathon's framework is active on the leading master.
fn registration(state: &MesosState, framework_id: &str, info: &MarathonInfo, leader: &str) -> Option<Finding> {
    let master = state.pid.as_deref().unwrap_or("the leading master");
    let subject = format!("Marathon framework {framework_id}");
    if let Some(framework) = state.frameworks.iter().find(|f| f.id == framework_id) {
        if framework.active && framework.connected != Some(false) {
            return None;
        }
        let finding = Finding::new(
            Status::Fail,
            subject,
            "registered with Mesos but not active: Marathon gets no offers, its queue does not drain",
        )
        .evidence(format!("{master}: {}", framework.summary()));
        return Some(with_fixes(finding, leader));
    }
    if let Some(framework) = state.completed_frameworks.iter().find(|f| f.id == framework_id) {
        let finding = Finding::new(
            Status::Fail,
            subject,
            "Mesos has removed this framework (completed): Marathon cannot re-register under its id; it must \
             register as a new framework (its stored framework id removed), and the old framework's tasks are gone",
        )
        .evidence(format!("{master} completed_frameworks: {}", framework.summary()));
        return Some(with_fixes(finding, leader));
    }
    let mut finding = Finding::new(
        Status::Fail,
        subject,
        "Marathon is not registered with the leading Mesos master: it gets no offers",
    )
    .evidence(format!("/v2/info frameworkId: {framework_id}"))
    .evidence(format!("{master} lists {} frameworks, none with this id", state.frameworks.len()));
    let name = info.framework_name.as_deref().unwrap_or("marathon");
    for namesake in state.frameworks.iter().filter(|f| f.name == name) {
        finding = finding.evidence(format!("another framework named {name:?} is registered: {}", namesake.summary()));
    }
    Some(with_fixes(finding, leader))
}

fn no_leader(marathon: &MarathonFacts) -> Finding {
    let mut finding = Finding::new(
        Status::Fail,
        format!("Marathon {}", marathon.url),
        "Marathon has no leader: nothing can be deployed, scaled or restarted",
    )
    .problem("no-leader")
    .evidence(format!("{}/v2/leader: HTTP 404 (no leader)", marathon.url));
    // The ensemble it elects through, as it says; else the run's --zk.
    if let Some(ensemble) = marathon.info.value().and_then(|i| i.zk.as_deref()).and_then(Scope::ensemble_of_url) {
        finding = finding.about(Some(ensemble));
    }
    if let Some(info) = marathon.info.value() {
        let elected = info.elected.map_or("unknown".to_string(), |e| e.to_string());
        let zk = info.zk.as_deref().unwrap_or("unknown");
        finding = finding.evidence(format!("/v2/info: elected {elected}, ZooKeeper {zk}"));
    }
    let every = RunsOn::Every(HostGroup::MarathonHosts);
    finding.fix(marathon_logs("look for leader election and ZooKeeper errors").on(every.clone())).fix(
        marathon_restart().on(every).with_note(
            "once ZooKeeper has quorum (clusterdoc --only zk.quorum): the instances elect a leader through it",
        ),
    )
}

fn never_registered(marathon: &MarathonFacts, leader: &str) -> Finding {
    let finding = Finding::new(
        Status::Fail,
        format!("Marathon {}", marathon.url),
        "Marathon leads but has no framework id: it never registered with Mesos",
    )
    .evidence(format!("{}/v2/info: frameworkId is empty; leader {leader}", marathon.url));
    with_fixes(finding, leader)
}

/// Fixes on the leading Marathon (`leader`: its `host:port`).
fn with_fixes(finding: Finding, leader: &str) -> Finding {
    let on = RunsOn::host_of(leader, HostGroup::MarathonHosts);
    finding
        .fix(
            marathon_logs("the leader: look for registration, authentication or master connection errors")
                .on(on.clone()),
        )
        .fix(
            marathon_restart().on(on).with_note(
                "once the Mesos master leads (clusterdoc --only mesos.leader): Marathon re-registers on start",
            ),
        )
}

fn marathon_logs(note: &str) -> Remedy {
    Cmd::new("journalctl").word("-u marathon -n 200 --no-pager").safe().with_note(note)
}

fn marathon_restart() -> Remedy {
    Cmd::new("systemctl").word("restart marathon").disruptive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::mesos::{Framework, Leadership, MesosFacts};

    const ID: &str = "da21ff97-dd3f-4f9c-8dfc-ae618c6c5394-0000";

    fn facts(leader: Option<&str>, frameworks: Vec<Framework>) -> Facts {
        let info = MarathonInfo { framework_id: Some(ID.into()), ..MarathonInfo::default() };
        let marathon = MarathonFacts {
            url: "http://marathon:8080".into(),
            info: Fact::observed(info),
            leader: Fact::observed(leader.map(String::from)),
            apps: Fact::observed(Vec::new()),
            queue: Fact::observed(Vec::new()),
            deployments: Fact::observed(Vec::new()),
        };
        let state = MesosState { pid: Some("master@10.0.0.1:5050".into()), frameworks, ..MesosState::default() };
        let mesos = MesosFacts { state: Fact::observed(state), masters: Vec::new(), leadership: Leadership::Unknown };
        Facts { marathon: Some(Fact::observed(marathon)), mesos: Some(Fact::observed(mesos)), ..Facts::default() }
    }

    fn marathon(active: bool) -> Framework {
        Framework { id: ID.into(), name: "marathon".into(), active, ..Framework::default() }
    }

    #[test]
    fn an_active_registered_leader_passes() {
        let judgement = MarathonLeader.run(&facts(Some("m1:8080"), vec![marathon(true)])).unwrap();
        assert_eq!(judgement.status(), Status::Pass);
    }

    #[test]
    fn no_leader_fails_even_without_mesos() {
        let mut facts = facts(None, Vec::new());
        facts.mesos = Some(Fact::unavailable("no Mesos master answers"));
        let judgement = MarathonLeader.run(&facts).unwrap();
        assert_eq!(judgement.findings[0].status, Status::Fail);
        assert_eq!(judgement.findings[0].remediation[1].command, "systemctl restart marathon");
    }

    #[test]
    fn inactive_or_missing_frameworks_fail() {
        let inactive = MarathonLeader.run(&facts(Some("m1:8080"), vec![marathon(false)])).unwrap();
        assert!(inactive.findings[0].message.contains("not active"));
        let missing = MarathonLeader.run(&facts(Some("m1:8080"), Vec::new())).unwrap();
        assert!(missing.findings[0].message.contains("not registered"));
    }

    #[test]
    fn an_absent_implicit_mesos_skips_and_says_so() {
        let mut facts = facts(Some("m1:8080"), Vec::new());
        facts.mesos = Some(Fact::unavailable("no Mesos master answers at http://127.0.0.1:5050"));
        assert!(matches!(MarathonLeader.run(&facts), Err(NotJudged::Skip(r)) if r.contains("Marathon leads at m1:8080")));
    }
}
