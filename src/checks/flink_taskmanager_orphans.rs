//! `flink.taskmanager-orphans`: No Flink TaskManagers outlive their JobManager.
//!
//! What it looks for, why it matters, how to fix it and the risk of the fix
//! are its `META.explain`, the one text `clusterdoc explain` shows.

use std::borrow::Cow;
use std::collections::HashMap;

use reqwest::Url;

use super::{Check, CheckMeta, Explain, NotJudged, Verdict, conclude, required};
use crate::facts::flink::FlinkFacts;
use crate::facts::flink_props::{CommandLine, RPC_ADDRESS, RPC_PORT};
use crate::facts::mesos::{Framework, Leadership, MesosFacts, MesosState, Task, TaskState, pid_address};
use crate::facts::processes::{ProcessFacts, ProcessInfo};
use crate::facts::{Fact, Facts, Need};
use crate::remedy::{Cmd, Remedy};
use crate::report::{Finding, Status};

pub struct FlinkTaskmanagerOrphans;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("flink.taskmanager-orphans"),
    title: Cow::Borrowed("No Flink TaskManagers outlive their JobManager"),
    severity: Status::Warn,
    needs: &[Need::Processes, Need::Mesos, Need::MesosTasks, Need::Flink],
    tags: texts!["flink", "mesos"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("Flink TaskManager processes on this node (command lines running MesosTaskManager, \
MesosTaskExecutorRunner or TaskManagerRunner) whose JobManager is gone: no JobManager process runs on this node and \
nothing shows it alive elsewhere - the Mesos framework named in the process's sandbox path, or the Flink framework \
at the -Djobmanager.rpc.address it was given, is inactive, completed or unknown (a named --flink endpoint at that \
address that answers counts as alive). And, in the leading Mesos master's state, tasks still running, staging or \
starting under Flink frameworks (a name containing \"Flink\") that are inactive or completed. A TaskManager whose \
JobManager is elsewhere cannot be judged without the Mesos master (--mesos) or that JobManager (--flink): the check \
then says so rather than guess. Under --root there is no process table: only the Mesos part is judged."),
        why: Cow::Borrowed("Destroying a Flink session's Marathon app stops its JobManager, the framework's scheduler. Its \
TaskManagers do not stop with it: they keep trying to register with the JobManager and exit only when the \
registration timeout runs out - TASKMANAGER_REGISTRATION_TIMEOUT, 5 minutes, hard-coded in Flink 1.1/1.2's \
MesosApplicationMasterRunner (it overrides taskmanager.maxRegistrationDuration; later Flink made it \
taskmanager.registration.timeout, 5 minutes by default). Until then they hold their cpus, memory and ports: a new \
session started meanwhile finds the agents full or its ports taken."),
        fix: Cow::Borrowed("Tear the framework down on the leading Mesos master, which kills its tasks at once: curl -X POST \
http://MASTER:5050/master/teardown -d frameworkId=ID. For TaskManager processes on this node, kill them by pid."),
        risk: Cow::Borrowed("Disruptive: a teardown removes the framework for good (it cannot re-register under its id) and kills \
all of its tasks; kill ends the processes. Both are writes that clusterdoc prints and never runs itself; check that \
the framework is really the destroyed session's before tearing it down."),
        references: texts![
            "REFERENCE.md section 6 (TaskManagers outlive a destroyed Flink app by minutes)",
            "https://mesos.apache.org/documentation/latest/endpoints/master/teardown/",
            "https://nightlies.apache.org/flink/flink-docs-release-1.2/setup/mesos.html",
        ],
    },
};

impl Check for FlinkTaskmanagerOrphans {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let mut seen = Seen::default();
        let mesos = seen.optional(&facts.mesos, "Mesos facts", "Mesos not consulted").and_then(|mesos| {
            let state = seen.nested(&mesos.state, "the leading Mesos master's state")?;
            Some((mesos, state))
        });
        let processes = seen.optional(&facts.processes, "processes", "processes not looked at, only Mesos judged");
        if mesos.is_none() && processes.is_none() && seen.undecided.is_empty() {
            return Err(NotJudged::Skip(seen.not_looked.join("; ")));
        }
        let mut findings = Vec::new();
        let mut looked = Vec::new();
        if let Some((_, state)) = mesos.filter(|(_, state)| state.tasks_skipped) {
            seen.undecided.push(format!(
                "the leading Mesos master's state was read without its tasks ({} frameworks): a snapshot collected \
                 without a check that reads them; collect it again with flink.taskmanager-orphans selected",
                state.frameworks.len() + state.completed_frameworks.len()
            ));
        } else if let Some((mesos, state)) = mesos {
            let (found, summary) = framework_orphans(mesos, state);
            findings.extend(found);
            looked.push(summary);
        }
        if let Some(processes) = processes {
            let flink = facts.flink.as_ref().and_then(Fact::value);
            let (found, summary) = process_orphans(processes, mesos.map(|(_, s)| s), flink, &mut seen.undecided);
            findings.extend(found);
            looked.push(summary);
        }
        looked.extend(seen.not_looked);
        conclude(findings, seen.undecided, looked.join("; "))
    }
}

/// The sources this check can judge without, and why they were not used.
#[derive(Default)]
struct Seen {
    /// Not there (unavailable): said in the note.
    not_looked: Vec<String>,
    /// Failed: the check cannot pass.
    undecided: Vec<String>,
}

impl Seen {
    fn optional<'a, T>(&mut self, fact: &'a Option<Fact<T>>, what: &str, absent: &str) -> Option<&'a T> {
        match required(fact, what) {
            Ok(value) => Some(value),
            Err(NotJudged::Skip(reason)) => {
                self.not_looked.push(format!("{absent} ({reason})"));
                None
            }
            Err(NotJudged::Error(reason)) => {
                self.undecided.push(reason);
                None
            }
        }
    }

    fn nested<'a, T>(&mut self, fact: &'a Fact<T>, what: &str) -> Option<&'a T> {
        let value = fact.value();
        if value.is_none() {
            self.undecided.push(format!("{what}: {}", fact.problem().unwrap_or_default()));
        }
        value
    }
}

fn is_flink(framework: &Framework) -> bool {
    framework.name.to_ascii_lowercase().contains("flink")
}

fn still_runs(task: &Task) -> bool {
    matches!(task.state, TaskState::Running | TaskState::Staging | TaskState::Starting)
}

/// How far a Flink framework is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gone {
    /// Listed, not active: its scheduler (the JobManager) is disconnected.
    Inactive,
    /// Removed by Mesos (`completed_frameworks`).
    Completed,
}

impl Gone {
    fn describe(self) -> &'static str {
        match self {
            Gone::Inactive => "inactive: its JobManager (the scheduler) is disconnected",
            Gone::Completed => "completed: Mesos has removed it",
        }
    }
}

/// The Flink frameworks that are gone, in the master's order.
fn gone_frameworks(state: &MesosState) -> impl Iterator<Item = (&Framework, Gone)> {
    let inactive = state.frameworks.iter().filter(|f| !f.active).map(|f| (f, Gone::Inactive));
    let completed = state.completed_frameworks.iter().map(|f| (f, Gone::Completed));
    inactive.chain(completed).filter(|(f, _)| is_flink(f))
}

fn framework_orphans(mesos: &MesosFacts, state: &MesosState) -> (Vec<Finding>, String) {
    let agents: HashMap<&str, &str> = state.agents.iter().map(|a| (a.id.as_str(), a.hostname.as_str())).collect();
    let master = master_url(mesos);
    let mut findings = Vec::new();
    for (framework, gone) in gone_frameworks(state) {
        let running: Vec<&Task> = framework.tasks.iter().filter(|t| still_runs(t)).collect();
        if running.is_empty() {
            continue;
        }
        let mut finding = Finding::new(
            Status::Warn,
            format!("Flink framework {}", framework.id),
            format!(
                "{} of Flink framework {:?} still run although the framework is {}: they hold their resources and \
                 ports until their 5-minute registration timeout runs out",
                tasks(running.len()),
                framework.name,
                gone.describe()
            ),
        )
        .evidence(format!(
            "{} {} ({}) on {}: active {}",
            if gone == Gone::Completed { "completed framework" } else { "framework" },
            framework.id,
            framework.name,
            framework.hostname.as_deref().unwrap_or("an unknown host"),
            framework.active
        ));
        for task in running.iter().take(20) {
            let agent = agents.get(&*task.slave_id).copied().unwrap_or(&*task.slave_id);
            finding = finding.evidence(format!(
                "task {} ({}) on {agent}: {:?}, {} cpus, {} MB",
                task.id, task.name, task.state, task.resources.cpus, task.resources.mem
            ));
        }
        findings.push(finding.fix(teardown(&master, &framework.id)));
    }
    let flink = state.frameworks.iter().chain(&state.completed_frameworks).filter(|f| is_flink(f)).count();
    (findings, format!("{flink} Flink frameworks in the leading master's state"))
}

/// Where the leading master's state was read (redacted), for the teardown.
fn master_url(mesos: &MesosFacts) -> String {
    match &mesos.leadership {
        Leadership::Known(leader) => leader.url.clone(),
        _ => mesos.masters.first().map_or_else(|| "http://MASTER:5050".to_string(), |m| m.url.clone()),
    }
}

fn teardown(master: &str, framework_id: &str) -> Remedy {
    Cmd::new("curl")
        .word("-X POST")
        .value(format!("{master}/master/teardown"))
        .word("-d")
        .value(format!("frameworkId={framework_id}"))
        .disruptive()
        .with_note(
            "a write on the leading Mesos master, which clusterdoc never runs itself: it kills every task of the \
             framework at once and the framework cannot come back under this id (add -u PRINCIPAL:SECRET if the \
             master requires authentication)",
        )
}

fn tasks(n: usize) -> String {
    if n == 1 { "1 TaskManager task".into() } else { format!("{n} TaskManager tasks") }
}

/// A TaskManager process judged to have no JobManager, and why.
struct Orphan<'a> {
    process: &'a ProcessInfo,
    why: String,
}

/// What is known of a TaskManager's JobManager.
#[derive(Debug, PartialEq)]
enum JobManager {
    /// Alive, or may be: the TaskManager is not an orphan.
    Alive,
    /// Gone, and why that is known.
    Gone(String),
    /// Nothing here tells: why not.
    Unknown(String),
}

fn process_orphans(
    processes: &ProcessFacts,
    state: Option<&MesosState>,
    flink: Option<&FlinkFacts>,
    undecided: &mut Vec<String>,
) -> (Vec<Finding>, String) {
    let lines: Vec<(&ProcessInfo, CommandLine)> =
        processes.processes.iter().map(|p| (p, CommandLine::of_argv(&p.cmdline))).collect();
    let jobmanagers: Vec<&CommandLine> =
        lines.iter().filter(|(_, l)| l.jobmanager_launcher().is_some()).map(|(_, l)| l).collect();
    let taskmanagers: Vec<&(&ProcessInfo, CommandLine)> = lines.iter().filter(|(_, l)| l.runs_taskmanager()).collect();
    let mut orphans = Vec::new();
    for (process, line) in &taskmanagers {
        match jobmanager_of(line, &jobmanagers, state, flink, &process.cmdline) {
            JobManager::Alive => {}
            JobManager::Gone(why) => orphans.push(Orphan { process, why }),
            JobManager::Unknown(why) => undecided.push(format!("TaskManager pid {}: {why}", process.pid)),
        }
    }
    let summary =
        format!("{} Flink TaskManager and {} JobManager processes on this node", taskmanagers.len(), jobmanagers.len());
    if orphans.is_empty() {
        return (Vec::new(), summary);
    }
    let mut finding = Finding::new(
        Status::Warn,
        "Flink TaskManagers on this node",
        format!(
            "{} without a JobManager: they retry registering and exit only when the 5-minute registration timeout \
             runs out (hard-coded in Flink 1.1/1.2), holding their slots, memory and ports until then",
            match orphans.len() {
                1 => "1 TaskManager process runs".to_string(),
                n => format!("{n} TaskManager processes run"),
            }
        ),
    );
    for orphan in &orphans {
        finding = finding.evidence(format!(
            "pid {} ({}): {}; command: {}",
            orphan.process.pid,
            orphan.process.name,
            orphan.why,
            shortened(&orphan.process.cmdline.join(" "))
        ));
    }
    let kill = orphans
        .iter()
        .fold(Cmd::new("kill"), |cmd, o| cmd.value(o.process.pid.to_string()))
        .disruptive()
        .with_note("on this node: ends the orphaned TaskManagers now (SIGTERM); Mesos reports their tasks killed");
    (vec![finding.fix(kill)], summary)
}

fn shortened(text: &str) -> String {
    const MAX: usize = 300;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

/// Whether a TaskManager's JobManager is alive: the framework its sandbox
/// names, a JobManager process here, a named Flink endpoint at its address,
/// or the Flink frameworks Mesos knows at that address.
fn jobmanager_of(
    line: &CommandLine,
    jobmanagers: &[&CommandLine],
    state: Option<&MesosState>,
    flink: Option<&FlinkFacts>,
    argv: &[String],
) -> JobManager {
    let address = line.setting(RPC_ADDRESS);
    let port = line.setting(RPC_PORT);
    let named = match (address, port) {
        (Some(a), Some(p)) => format!("its JobManager is {a}:{p}"),
        (Some(a), None) => format!("its JobManager is at {a}"),
        _ => "it names no JobManager address".to_string(),
    };
    if let (Some(id), Some(state)) = (framework_in_sandbox(argv), state) {
        return match flink_frameworks(state).find(|(f, _)| f.id == id) {
            Some((_, true)) => JobManager::Alive,
            Some((f, false)) => {
                JobManager::Gone(format!("{named}; its framework {id} ({}) is not active in Mesos", f.name))
            }
            None => JobManager::Gone(format!("{named}; its framework {id} is unknown to the leading Mesos master")),
        };
    }
    let local = jobmanagers.iter().any(|jm| port.is_none_or(|p| jm.setting(RPC_PORT).unwrap_or("6123") == p));
    if local || address.is_some_and(|a| flink.is_some_and(|f| flink_answers_at(f, a, port))) {
        return JobManager::Alive;
    }
    let Some(state) = state else {
        return JobManager::Unknown(format!(
            "{named}, not on this node, and Mesos was not consulted: name the Mesos master (--mesos URL) or the \
             JobManager (--flink URL) to tell whether it is alive"
        ));
    };
    let Some(address) = address else {
        return match flink_frameworks(state).any(|(_, active)| active) {
            true => JobManager::Unknown(format!(
                "{named} and none runs on this node; Mesos has active Flink frameworks and nothing tells which is its"
            )),
            false => JobManager::Gone(format!(
                "{named}; no JobManager process runs on this node and no Flink framework is active in Mesos"
            )),
        };
    };
    let at_address: Vec<(&Framework, bool)> =
        flink_frameworks(state).filter(|(f, _)| framework_runs_at(f, address)).collect();
    if at_address.iter().any(|(_, active)| *active) {
        return JobManager::Alive;
    }
    let frameworks = match at_address.as_slice() {
        [] => format!("no Flink framework in Mesos runs at {address}"),
        gone => {
            let ids: Vec<&str> = gone.iter().map(|(f, _)| f.id.as_str()).collect();
            format!("the Flink framework at {address} is inactive or completed ({})", ids.join(", "))
        }
    };
    JobManager::Gone(format!("{named}; no JobManager process runs on this node and {frameworks}"))
}

/// Every Flink framework the master knows, with whether it is active.
fn flink_frameworks(state: &MesosState) -> impl Iterator<Item = (&Framework, bool)> {
    let listed = state.frameworks.iter().map(|f| (f, f.active));
    listed.chain(state.completed_frameworks.iter().map(|f| (f, false))).filter(|(f, _)| is_flink(f))
}

/// The framework id in a Mesos sandbox path (`.../frameworks/ID/executors/...`).
fn framework_in_sandbox(argv: &[String]) -> Option<&str> {
    argv.iter().find_map(|arg| {
        let (_, rest) = arg.split_once("/frameworks/")?;
        let id = rest.split('/').next()?;
        (!id.is_empty() && rest.contains("/executors/")).then_some(id)
    })
}

/// Whether a framework's scheduler runs at `address` (its host name, the IP
/// of its pid, or its web UI host).
fn framework_runs_at(framework: &Framework, address: &str) -> bool {
    let pid_host = framework.pid.as_deref().map(|pid| host_of(pid_address(pid)));
    let webui_host =
        framework.webui_url.as_deref().and_then(|u| Url::parse(u).ok()).and_then(|u| u.host_str().map(String::from));
    [framework.hostname.clone(), pid_host, webui_host].into_iter().flatten().any(|h| same_host(&h, address))
}

/// Whether a named Flink endpoint that answers is the JobManager at `address`.
fn flink_answers_at(flink: &FlinkFacts, address: &str, port: Option<&str>) -> bool {
    flink.endpoints.iter().filter(|e| e.config.value().is_some()).any(|e| {
        let config = e.jobmanager_config.value();
        let named = config.and_then(|c| c.get(RPC_ADDRESS)).is_some_and(|a| same_host(a, address));
        let port_agrees = port.is_none_or(|p| config.and_then(|c| c.get(RPC_PORT)).is_none_or(|q| q == p));
        let url_host = Url::parse(&e.url).ok().and_then(|u| u.host_str().map(String::from));
        (named || url_host.is_some_and(|h| same_host(&h, address))) && port_agrees
    })
}

/// `10.0.0.1:5050` -> `10.0.0.1`; `[::1]:5050` -> `::1`.
fn host_of(address: &str) -> String {
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    host.trim_matches(['[', ']']).to_string()
}

fn same_host(a: &str, b: &str) -> bool {
    a.trim().trim_matches(['[', ']']).eq_ignore_ascii_case(b.trim().trim_matches(['[', ']']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::flink::{FlinkConfig, FlinkEndpoint};

    fn argv(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    const TM: &str = "java -cp flink.jar org.apache.flink.mesos.runtime.clusterframework.MesosTaskManager";

    fn flink_framework(id: &str, active: bool, hostname: &str, pid: &str) -> Framework {
        Framework {
            id: id.into(),
            name: "Flink".into(),
            active,
            hostname: Some(hostname.into()),
            pid: Some(pid.into()),
            ..Framework::default()
        }
    }

    fn judge(tm: &str, jobmanagers: &[&str], state: Option<&MesosState>, flink: Option<&FlinkFacts>) -> JobManager {
        let argv = argv(tm);
        let line = CommandLine::of_argv(&argv);
        let jms: Vec<CommandLine> = jobmanagers.iter().map(|j| CommandLine::of_argv(&super::tests::argv(j))).collect();
        let jms: Vec<&CommandLine> = jms.iter().collect();
        jobmanager_of(&line, &jms, state, flink, &argv)
    }

    /// Why the JobManager is gone; None when it is alive. Panics when unknown.
    fn why(tm: &str, jobmanagers: &[&str], state: Option<&MesosState>, flink: Option<&FlinkFacts>) -> Option<String> {
        match judge(tm, jobmanagers, state, flink) {
            JobManager::Alive => None,
            JobManager::Gone(why) => Some(why),
            JobManager::Unknown(why) => panic!("undecided: {why}"),
        }
    }

    #[test]
    fn the_sandbox_path_names_the_framework() {
        let path = "-Dlog.file=/var/lib/mesos/slaves/S1/frameworks/fw-7/executors/tm-1/runs/r/taskmanager.log";
        assert_eq!(framework_in_sandbox(&argv(&format!("{TM} {path}"))), Some("fw-7"));
        assert_eq!(framework_in_sandbox(&argv("x /srv/frameworks/notes.txt")), None);
    }

    #[test]
    fn a_live_framework_or_jobmanager_keeps_a_taskmanager() {
        let state = MesosState {
            frameworks: vec![
                flink_framework("fw-live", true, "jm1.example", "scheduler-1@10.0.0.5:38117"),
                flink_framework("fw-gone", false, "jm2.example", "scheduler-1@10.0.0.6:38117"),
            ],
            ..MesosState::default()
        };
        let at = |address: &str| format!("{TM} -Djobmanager.rpc.address={address} -Djobmanager.rpc.port=6123");
        assert_eq!(why(&at("10.0.0.5"), &[], Some(&state), None), None, "by the IP of the scheduler's pid");
        assert_eq!(why(&at("JM1.example"), &[], Some(&state), None), None, "by host name, any case");
        let gone = why(&at("10.0.0.6"), &[], Some(&state), None).unwrap();
        assert!(gone.contains("the Flink framework at 10.0.0.6 is inactive or completed (fw-gone)"), "{gone}");
        let nowhere = why(&at("10.0.0.9"), &[], Some(&state), None).unwrap();
        assert!(nowhere.contains("no Flink framework in Mesos runs at 10.0.0.9"), "{nowhere}");
        let local = "java org.apache.flink.mesos.runtime.clusterframework.MesosApplicationMasterRunner";
        assert_eq!(why(&at("10.0.0.9"), &[local], Some(&state), None), None, "its JobManager is here");
        let other_port = format!("{local} -Djobmanager.rpc.port=6124");
        assert!(why(&at("10.0.0.9"), &[&other_port], Some(&state), None).is_some(), "a different JobManager");
        let sandbox = format!("{} /var/lib/mesos/slaves/S1/frameworks/fw-gone/executors/e/runs/r", at("10.0.0.5"));
        assert!(
            why(&sandbox, &[], Some(&state), None).unwrap().contains("its framework fw-gone (Flink) is not active")
        );
    }

    #[test]
    fn a_named_flink_endpoint_that_answers_keeps_a_taskmanager() {
        let endpoint = FlinkEndpoint {
            url: "http://10.0.0.9:8081".into(),
            config: Fact::observed(FlinkConfig::default()),
            overview: Fact::unavailable("-"),
            taskmanagers: Fact::unavailable("-"),
            jobmanager_config: Fact::observed([(RPC_PORT.to_string(), "6123".to_string())].into()),
        };
        let flink = FlinkFacts { endpoints: vec![endpoint] };
        let tm = format!("{TM} -Djobmanager.rpc.address=10.0.0.9 -Djobmanager.rpc.port=6123");
        assert_eq!(why(&tm, &[], None, Some(&flink)), None);
        let elsewhere = format!("{TM} -Djobmanager.rpc.address=10.0.0.9 -Djobmanager.rpc.port=6124");
        let unknown = judge(&elsewhere, &[], None, Some(&flink));
        assert!(matches!(&unknown, JobManager::Unknown(r) if r.contains("name the Mesos master")), "{unknown:?}");
    }

    #[test]
    fn without_an_address_only_a_mesos_without_active_flink_tells() {
        let gone = MesosState {
            completed_frameworks: vec![flink_framework("fw-old", false, "jm", "scheduler-1@10.0.0.5:1")],
            ..MesosState::default()
        };
        let why = why(TM, &[], Some(&gone), None).unwrap();
        assert!(why.contains("it names no JobManager address; no JobManager process runs on this node and no Flink framework is active"), "{why}");
        let live = MesosState {
            frameworks: vec![flink_framework("fw-live", true, "jm", "scheduler-1@10.0.0.5:1")],
            ..MesosState::default()
        };
        assert!(matches!(judge(TM, &[], Some(&live), None), JobManager::Unknown(_)));
    }
}
