//! `marathon.port-collision`, `marathon.queue` and `flink.taskmanager-orphans`,
//! end to end: the real binary against Marathon and a Mesos master served
//! from fixtures by real HTTP servers on loopback (tests/fixtures/marathon_ports,
//! see its SOURCES.txt), and, for the orphans, a real process that looks like
//! a Flink TaskManager.

mod support;

use crate::support::http;

use std::process::{Child, Stdio};
use std::sync::{Mutex, MutexGuard};

use http::{Answer, FakeServer, closed_port_url, fixture_json};
use serde_json::{Value, json};

/// The orphans check reads the whole process table: tests that run it must
/// not see the TaskManager another test started.
static PROCESS_TABLE: Mutex<()> = Mutex::new(());

fn process_table() -> MutexGuard<'static, ()> {
    PROCESS_TABLE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

use crate::support::cli as cli_support;
use cli_support::{ReadReport, Run, clusterdoc, evidence, remedies};

impl Run {
    /// The finding about `subject`.
    fn finding(&self, id: &str, subject: &str) -> &Value {
        self.findings(id)
            .iter()
            .find(|f| f["subject"] == subject)
            .unwrap_or_else(|| panic!("no finding {subject:?} in {:#}", self.check(id)))
    }

    fn subjects(&self, id: &str) -> Vec<&str> {
        self.findings(id).iter().map(|f| f["subject"].as_str().unwrap()).collect()
    }
}

fn check(args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = clusterdoc(dir.path()).args(["check", "--format", "json"]).args(args).output().unwrap();
    Run::of(out, started.elapsed())
}

/// A `curl -X PUT URL -H ... -d JSON` command, split as the shell would: (URL, body).
fn put(command: &str) -> (String, Value) {
    let words = shlex::split(command).unwrap_or_else(|| panic!("not a shell command: {command}"));
    assert_eq!(words[..3], ["curl", "-X", "PUT"], "{command}");
    assert_eq!(words[4..7], ["-H", "Content-Type: application/json", "-d"], "{command}");
    assert_eq!(words.len(), 8, "{command}");
    (words[3].clone(), serde_json::from_str(&words[7]).unwrap())
}

/// Asserts the servers were asked and only read.
fn assert_read_only(servers: &[&FakeServer]) {
    let requests: Vec<http::Request> = servers.iter().flat_map(|s| s.requests()).collect();
    assert!(!requests.is_empty(), "the servers were never asked");
    for r in &requests {
        assert!(r.method == "GET" || r.method == "HEAD", "{} {} is not read-only", r.method, r.target);
    }
}

// ---------------------------------------------------------------- servers

const FIXTURES: &str = "marathon_ports";

fn fixture(name: &str) -> Value {
    fixture_json(&format!("{FIXTURES}/{name}"))
}

/// Marathon serving these apps, queue and deployments (fixture file names).
fn marathon(apps: &str, queue: &str, deployments: Option<&str>) -> FakeServer {
    marathon_serving(&fixture(apps), queue, deployments)
}

fn marathon_serving(apps: &Value, queue: &str, deployments: Option<&str>) -> FakeServer {
    let info = fixture_json("marathon/master/info.json");
    let deployments = deployments.map_or(json!([]), fixture);
    FakeServer::start(vec![
        ("/v2/info", Answer::json_value(&info)),
        ("/v2/leader", Answer::json_value(&json!({"leader": info["leader"]}))),
        ("/v2/apps", Answer::json_value(apps)),
        ("/v2/queue", Answer::json_value(&fixture(queue))),
        ("/v2/deployments", Answer::json_value(&deployments)),
    ])
}

/// The leading master serving this state fixture.
fn mesos(state: &str) -> FakeServer {
    FakeServer::start(vec![
        ("/master/state", Answer::json_value(&fixture(state))),
        ("/master/health", Answer::status(200, "")),
        ("/metrics/snapshot", Answer::json_value(&json!({"master/elected": 1.0}))),
    ])
}

/// Runs one check against Marathon (these apps, an empty queue) and the standard master.
fn port_check(apps: &str, deployments: Option<&str>) -> (Run, FakeServer, FakeServer) {
    let marathon = marathon(apps, "queue_empty.json", deployments);
    let mesos = mesos("master_state.json");
    let run = check(&["--only", "marathon.port-collision", "--marathon", &marathon.url(), "--mesos", &mesos.url()]);
    (run, marathon, mesos)
}

// ------------------------------------------------- marathon.port-collision

const PORTS: &str = "marathon.port-collision";

#[test]
fn two_flink_sessions_as_first_deployed_collide_and_flink2_moves_to_6124_and_8082() {
    let (run, marathon, mesos) = port_check("apps_flink_first_deploy.json", Some("deployments_flink2.json"));
    assert_eq!(run.status(PORTS), "fail", "{:#}", run.report);
    assert_eq!(run.code, 2);

    let rpc = run.finding(PORTS, "port 6123/tcp");
    assert_eq!(rpc["status"], "fail");
    let message = rpc["message"].as_str().unwrap();
    assert!(message.contains("4 instances of 2 apps bind 6123/tcp, but at most 3 can run at once"), "{message}");
    let seen = evidence(rpc);
    for line in [
        "/flink/flink1: 3 instances, binds 6123/tcp as the JobManager RPC port (Flink's default jobmanager.rpc.port); 3 eligible agents",
        "/flink/flink2: 1 instance, binds 6123/tcp as the JobManager RPC port (Flink's default jobmanager.rpc.port); 3 eligible agents; to move to 6124",
        "3 active agents: node1, node2, node3",
    ] {
        assert!(seen.contains(line), "{line:?} not in\n{seen}");
    }
    let fixes = remedies(rpc);
    assert_eq!(fixes.len(), 1, "{fixes:?}");
    let (command, risk) = &fixes[0];
    assert_eq!(risk, "disruptive");
    let (url, body) = put(command);
    // flink2 has a deployment in progress (it cannot start): the update replaces it.
    assert_eq!(url, format!("{}/v2/apps/flink/flink2?force=true", marathon.url()));
    let cmd = body["cmd"].as_str().unwrap();
    assert!(
        cmd.ends_with("-Dmesos.resourcemanager.tasks.mem=1024 -Djobmanager.rpc.port=6124 -Djobmanager.web.port=8082"),
        "{cmd}"
    );
    assert!(cmd.starts_with("/home/flink-1.2.0/bin/mesos-appmaster.sh -Dmesos.master=10.120.177.85:5050"), "{cmd}");
    assert_eq!(body.as_object().unwrap().len(), 1, "only cmd changes: {body}");
    let note = rpc["remediation"][0]["note"].as_str().unwrap();
    assert!(note.contains("jobmanager.rpc.port 6123 -> 6124, jobmanager.web.port 8081 -> 8082"), "{note}");
    assert!(note.contains("deployment 5ed4c0c5-9ff8-4a6f-a0cd-f57f59a34b43"), "{note}");

    let web = run.finding(PORTS, "port 8081/tcp");
    assert_eq!(web["status"], "fail");
    assert!(evidence(web).contains("fixed by the command under port 6123/tcp"), "{web:#}");
    assert!(remedies(web).is_empty());

    // flink1's three instances spread only by luck: no UNIQUE constraint.
    let flink1 = run.finding(PORTS, "app /flink/flink1");
    assert_eq!(flink1["status"], "warn");
    assert!(flink1["message"].as_str().unwrap().contains("without a [\"hostname\",\"UNIQUE\"] constraint"));
    let (url, body) = put(&remedies(flink1)[0].0);
    assert_eq!(url, format!("{}/v2/apps/flink/flink1", marathon.url()));
    assert_eq!(body, json!({"constraints": [["hostname", "UNIQUE"]]}));

    // flink2's failed launch on node2, where flink1 holds both ports.
    let failed = run.finding(PORTS, "port 6123/tcp on node2");
    assert_eq!(failed["status"], "fail");
    assert!(failed["message"].as_str().unwrap().contains("a task failed on node2, where another task holds 6123/tcp"));
    let seen = evidence(failed);
    assert!(seen.contains("of /flink/flink2 on node2: Failed") && seen.contains("of /flink/flink1 on node2: Running"));
    // /web/frontend's service port 10000 is no host port: not judged, but avoided.
    assert!(!run.subjects(PORTS).iter().any(|s| s.contains("10000")));
    assert_read_only(&[&marathon, &mesos]);
}

#[test]
fn the_sessions_on_6124_and_8082_with_unique_pass() {
    let (run, _marathon, _mesos) = port_check("apps_flink_clean.json", None);
    assert_eq!(run.status(PORTS), "pass", "{:#}", run.report);
    assert_eq!(run.code, 0);
    assert!(run.reason(PORTS).contains("2 apps, 2 of them bind 4 fixed host ports"), "{}", run.reason(PORTS));
    assert!(run.reason(PORTS).contains("3 active agents"), "the inactive node4 does not count");
}

#[test]
fn an_app_scaled_beyond_the_agents_fails_with_a_scale_down() {
    let (run, marathon, _mesos) = port_check("apps_beyond_agents.json", None);
    assert_eq!(run.status(PORTS), "fail", "{:#}", run.report);
    assert_eq!(run.subjects(PORTS), ["port 6123/tcp"], "web port off (-1): one port only");
    let finding = run.finding(PORTS, "port 6123/tcp");
    let message = finding["message"].as_str().unwrap();
    assert!(message.contains("5 instances of 1 app bind 6123/tcp, but at most 3 can run at once"), "{message}");
    assert!(evidence(finding).contains("constraints [\"hostname\",\"UNIQUE\"]"));
    assert!(evidence(finding).contains("3/3 agents can take /flink/big on 6123/tcp now"), "{}", evidence(finding));
    let fixes = remedies(finding);
    let (url, body) = put(&fixes[0].0);
    assert_eq!(url, format!("{}/v2/apps/flink/big", marathon.url()));
    assert_eq!(body, json!({"instances": 3}));
    assert_eq!(fixes[0].1, "disruptive");
}

#[test]
fn where_the_port_is_held_no_further_instance_can_go_and_the_finding_counts_why() {
    let mut apps = fixture("apps_beyond_agents.json");
    let task = |i: usize| json!({"id": format!("flink_big.{i}"), "host": format!("node{i}"), "state": "TASK_RUNNING"});
    apps["apps"][0]["tasks"] = json!([task(1), task(2), task(3)]);
    let marathon = marathon_serving(&apps, "queue_empty.json", None);
    let mesos = mesos("master_state.json");
    let run = check(&["--only", PORTS, "--marathon", &marathon.url(), "--mesos", &mesos.url()]);
    assert_eq!(run.status(PORTS), "fail", "{:#}", run.report);
    let finding = run.finding(PORTS, "port 6123/tcp");
    let line = "0/3 agents can take /flink/big on 6123/tcp now: 3 port 6123 taken";
    assert!(evidence(finding).contains(line), "{}", evidence(finding));
}

#[test]
fn a_unique_multi_instance_session_is_not_warned() {
    let (run, _marathon, _mesos) = port_check("apps_unique.json", None);
    assert_eq!(run.status(PORTS), "pass", "{:#}", run.report);
}

#[test]
fn a_multi_instance_fixed_port_app_without_a_constraint_warns() {
    let (run, marathon, _mesos) = port_check("apps_no_constraint.json", None);
    assert_eq!(run.status(PORTS), "warn", "{:#}", run.report);
    assert_eq!(run.code, 1);
    assert_eq!(run.subjects(PORTS), ["app /flink/spread"]);
    let finding = run.finding(PORTS, "app /flink/spread");
    let message = finding["message"].as_str().unwrap();
    assert!(message.contains(
        "2 instances bind 6200/tcp, the JobManager RPC port (-Djobmanager.rpc.port in its command line), without"
    ));
    assert!(message.contains("Mesos cannot see a port in the command line"), "{message}");
    let (url, body) = put(&remedies(finding)[0].0);
    assert_eq!(url, format!("{}/v2/apps/flink/spread", marathon.url()));
    assert_eq!(body, json!({"constraints": [["hostname", "UNIQUE"]]}));
}

#[test]
fn required_ports_must_be_offered_by_the_agents() {
    let (run, _marathon, _mesos) = port_check("apps_require_ports.json", None);
    assert_eq!(run.status(PORTS), "fail", "{:#}", run.report);
    // /svc/api's 31500 is in every agent's ports resource and Mesos keeps its
    // three instances apart: no warning; 9090 is offered by no agent.
    assert_eq!(run.subjects(PORTS), ["port 9090/tcp"]);
    let finding = run.finding(PORTS, "port 9090/tcp");
    let message = finding["message"].as_str().unwrap();
    assert!(message.contains("at most 0 can run at once") && message.contains("offers of this port that cannot come"));
    let seen = evidence(finding);
    assert!(
        seen.contains("/svc/admin: 1 instance, binds 9090/tcp as a portDefinitions port with requirePorts"),
        "{seen}"
    );
    assert!(seen.contains("agents offering 9090 in their ports resource: 0 of 3 eligible ([31000-32000])"), "{seen}");
}

#[test]
fn two_tasks_holding_one_port_on_one_host_fail() {
    let (run, marathon, _mesos) = port_check("apps_live_collision.json", None);
    assert_eq!(run.status(PORTS), "fail", "{:#}", run.report);
    let live = run.finding(PORTS, "port 6123/tcp on node2");
    assert_eq!(live["status"], "fail");
    assert!(live["message"].as_str().unwrap().starts_with("2 tasks bind 6123/tcp on node2 at once"));
    let seen = evidence(live);
    assert!(seen.contains("of /flink/a on node2: Running") && seen.contains("of /flink/b on node2: Running"), "{seen}");
    // Both hide 6123 in their command: /flink/b (second by id) moves.
    let shared = run.finding(PORTS, "port 6123/tcp");
    assert_eq!(shared["status"], "warn");
    let (url, body) = put(&remedies(shared)[0].0);
    assert_eq!(url, format!("{}/v2/apps/flink/b", marathon.url()));
    assert!(body["cmd"].as_str().unwrap().ends_with("-Djobmanager.web.port=-1 -Djobmanager.rpc.port=6124"), "{body}");
    assert!(evidence(live).contains("fixed by the command under port 6123/tcp"));
}

#[test]
fn without_mesos_the_ports_cannot_be_judged() {
    let marathon = marathon("apps_flink_first_deploy.json", "queue_empty.json", None);
    let run = check(&["--only", PORTS, "--marathon", &marathon.url(), "--mesos", &closed_port_url()]);
    assert_eq!(run.status(PORTS), "error", "{:#}", run.report);
    assert!(
        run.reason(PORTS).contains("connection refused") || run.reason(PORTS).contains("Mesos"),
        "{}",
        run.reason(PORTS)
    );
    assert_eq!(run.code, 3);
}

// ---------------------------------------------------------- marathon.queue

const QUEUE: &str = "marathon.queue";

#[test]
fn waiting_apps_are_compared_with_the_agents_free_resources() {
    let marathon = marathon("apps_flink_clean.json", "queue_waiting.json", None);
    let mesos = mesos("master_state.json");
    let run = check(&["--only", QUEUE, "--marathon", &marathon.url(), "--mesos", &mesos.url()]);
    assert_eq!(run.status(QUEUE), "fail", "{:#}", run.report);
    assert_eq!(run.code, 2);
    let status = |subject: &str| run.finding(QUEUE, subject)["status"].as_str().unwrap().to_string();
    for (subject, expected) in [
        ("app /q/cpu", "warn"),
        ("app /q/mem", "warn"),
        ("app /q/ports", "fail"),
        ("app /q/pinned", "fail"),
        ("app /q/huge", "fail"),
        ("app /q/backoff", "warn"),
        ("app /q/scarce", "warn"),
        ("pod /pods/etl", "warn"),
    ] {
        assert_eq!(status(subject), expected, "{subject}: {:#}", run.finding(QUEUE, subject));
    }
    // Every reason Marathon declines offers for is reported where it counted.
    let all: String = run.findings(QUEUE).iter().map(evidence).collect::<Vec<_>>().join("\n");
    for reason in [
        "InsufficientCpus 3 of 3",
        "InsufficientMemory 3 of 3",
        "InsufficientPorts 3 of 3",
        "UnfulfilledConstraint 3 of 3",
        "UnfulfilledRole 1 of 3",
        "NoCorrespondingReservationFound 1 of 2",
        "AgentMaintenance 1 of 1",
        "InsufficientDisk 1 of 3",
        "InsufficientGpus 1 of 2",
        "DeclinedScarceResources 1 of 1",
    ] {
        assert!(all.contains(reason), "{reason} not in\n{all}");
    }

    let cpu = run.finding(QUEUE, "app /q/cpu");
    assert!(
        cpu["message"]
            .as_str()
            .unwrap()
            .contains("1 instance waits: 0/3 agents can take /q/cpu: 3 insufficient cpus; ")
    );
    assert!(cpu["message"].as_str().unwrap().contains("Dominant Resource Fairness"));
    assert!(evidence(cpu).contains("cpus: the most free on one agent is 3 cpus, 4.5 cpus free on all eligible agents"));
    let (url, body) = put(&remedies(cpu)[0].0);
    assert_eq!((url, body), (format!("{}/v2/apps/q/cpu", marathon.url()), json!({"cpus": 3.0})));

    let mem = run.finding(QUEUE, "app /q/mem");
    assert!(
        evidence(mem).contains(
            "request per instance: 0.5 cpus, 7000 MB mem, 0 MB disk, 1 ports; 3 configured, 2 still to launch"
        )
    );
    assert!(evidence(mem).contains("mem: the most free on one agent is 6144 MB mem, 11264 MB mem free on all"));
    let fixes = remedies(mem);
    assert_eq!(put(&fixes[0].0).1, json!({"instances": 1}), "the one running instance stays");
    assert_eq!(put(&fixes[1].0).1, json!({"mem": 6144.0}));
    assert!(fixes.iter().all(|(_, risk)| risk == "disruptive"));

    let huge = run.finding(QUEUE, "app /q/huge");
    assert!(huge["message"].as_str().unwrap().contains("no eligible agent could run one even with nothing else on it"));
    let ports = run.finding(QUEUE, "app /q/ports");
    assert!(
        ports["message"]
            .as_str()
            .unwrap()
            .contains("requires host ports 80, which no eligible agent's ports resource holds")
    );
    let pinned = run.finding(QUEUE, "app /q/pinned");
    assert!(
        pinned["message"]
            .as_str()
            .unwrap()
            .ends_with("no active agent is eligible: 0/3 agents can take /q/pinned: 3 excluded by constraints"),
        "{pinned:#}"
    );
    assert!(
        evidence(pinned).contains("eligible agents: 0 of 3 active (constraints [\"hostname\",\"LIKE\",\"node9\"])")
    );

    let backoff = run.finding(QUEUE, "app /q/backoff");
    assert!(backoff["message"].as_str().unwrap().contains("although the eligible agents have the resources free"));
    assert!(evidence(backoff).contains("delay: backed off after failed launches, next attempt in 120 s"));
    assert_eq!(
        remedies(backoff),
        [(format!("curl -X DELETE {}/v2/queue/q/backoff/delay", marathon.url()), "safe".to_string())]
    );
    assert_read_only(&[&marathon, &mesos]);
}

#[test]
fn an_empty_queue_passes_without_asking_mesos() {
    let marathon = marathon("apps_flink_clean.json", "queue_empty.json", None);
    let run = check(&["--only", QUEUE, "--marathon", &marathon.url(), "--mesos", &closed_port_url()]);
    assert_eq!(run.status(QUEUE), "pass", "{:#}", run.report);
    assert!(run.reason(QUEUE).contains("/v2/queue is empty"));
    assert_eq!(run.code, 0);
}

// ------------------------------------------------ flink.taskmanager-orphans

const ORPHANS: &str = "flink.taskmanager-orphans";

#[test]
fn taskmanager_tasks_of_gone_flink_frameworks_warn_with_the_teardown() {
    let _table = process_table();
    let mesos = mesos("master_state_flink_gone.json");
    let run = check(&["--only", ORPHANS, "--mesos", &mesos.url()]);
    assert_eq!(run.status(ORPHANS), "warn", "{:#}", run.report);
    assert_eq!(run.code, 1);
    let completed = run.finding(ORPHANS, "Flink framework 96d7da70-b731-4cfb-96a7-0ee877af615d-0007");
    let message = completed["message"].as_str().unwrap();
    assert!(message.contains("2 TaskManager tasks of Flink framework \"Flink\" still run"), "{message}");
    assert!(message.contains("completed: Mesos has removed it") && message.contains("5-minute registration timeout"));
    assert!(
        evidence(completed).contains("task taskmanager-00001 (taskmanager-00001) on node2: Running, 1 cpus, 1024 MB")
    );
    assert_eq!(
        remedies(completed),
        [(
            format!(
                "curl -X POST {}/master/teardown -d 'frameworkId=96d7da70-b731-4cfb-96a7-0ee877af615d-0007'",
                mesos.url()
            ),
            "disruptive".to_string()
        )]
    );
    assert!(completed["remediation"][0]["note"].as_str().unwrap().contains("clusterdoc never runs itself"));
    let inactive = run.finding(ORPHANS, "Flink framework 96d7da70-b731-4cfb-96a7-0ee877af615d-0009");
    assert!(inactive["message"].as_str().unwrap().contains("1 TaskManager task of Flink framework"), "{inactive:#}");
    assert!(evidence(inactive).contains("on node1: Staging"), "the finished task is not listed: {inactive:#}");
    assert_eq!(run.findings(ORPHANS).len(), 2, "the old completed framework has no running task");
    assert_read_only(&[&mesos]);

    // Under --root there is no process table: the Mesos part alone, said so.
    let root = tempfile::tempdir().unwrap();
    let run = check(&["--only", ORPHANS, "--mesos", &mesos.url(), "--root", root.path().to_str().unwrap()]);
    assert_eq!(run.status(ORPHANS), "warn", "{:#}", run.report);
    assert_eq!(run.findings(ORPHANS).len(), 2);
    assert!(run.reason(ORPHANS).contains("processes not looked at, only Mesos judged"), "{}", run.reason(ORPHANS));
}

/// The python3 interpreter itself, not a wrapper script (pyenv's shim would
/// show up as a second process with the same command line).
fn python3() -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap_or_else(|e| panic!("this test needs python3 to stand in for a TaskManager: {e}"));
    assert!(out.status.success(), "python3 does not run: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A process whose command line is a Flink TaskManager's, pointing at a
/// JobManager that does not exist; killed when dropped.
struct FakeTaskManager(Child);

impl FakeTaskManager {
    fn start(jobmanager_port: u16) -> Self {
        let child = std::process::Command::new(python3())
            .args([
                "-c",
                "import time; time.sleep(120)",
                "org.apache.flink.mesos.runtime.clusterframework.MesosTaskManager",
                "-Djobmanager.rpc.address=127.0.0.1",
                &format!("-Djobmanager.rpc.port={jobmanager_port}"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting python3 as a stand-in TaskManager: {e}"));
        FakeTaskManager(child)
    }
}

impl Drop for FakeTaskManager {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_taskmanager_process_without_a_jobmanager_warns_with_kill() {
    let _table = process_table();
    let mesos = mesos("master_state.json");
    let closed: u16 = closed_port_url().rsplit(':').next().unwrap().parse().unwrap();
    let tm = FakeTaskManager::start(closed);
    let pid = tm.0.id();
    let run = check(&["--only", ORPHANS, "--mesos", &mesos.url()]);
    assert_eq!(run.status(ORPHANS), "warn", "{:#}", run.report);
    let finding = run.finding(ORPHANS, "Flink TaskManagers on this node");
    assert!(finding["message"].as_str().unwrap().contains("1 TaskManager process runs without a JobManager"));
    let seen = evidence(finding);
    assert!(seen.contains(&format!("pid {pid} (python3")), "{seen}");
    assert!(seen.contains(&format!("): its JobManager is 127.0.0.1:{closed}; ")), "{seen}");
    assert!(seen.contains("no JobManager process runs on this node and no Flink framework in Mesos runs at 127.0.0.1"));
    assert_eq!(remedies(finding), [(format!("kill {pid}"), "disruptive".to_string())]);
    assert_eq!(run.subjects(ORPHANS), ["Flink TaskManagers on this node"], "the active Flink framework is fine");
    drop(tm);
}

#[test]
fn live_flink_frameworks_and_no_stray_taskmanagers_pass() {
    let _table = process_table();
    let mesos = mesos("master_state.json");
    let run = check(&["--only", ORPHANS, "--mesos", &mesos.url()]);
    assert_eq!(run.status(ORPHANS), "pass", "{:#}", run.report);
    let reason = run.reason(ORPHANS);
    assert!(reason.contains("2 Flink frameworks in the leading master's state"), "{reason}");
    assert!(reason.contains("0 Flink TaskManager and 0 JobManager processes on this node"), "{reason}");
    assert_eq!(run.code, 0);
}

// ------------------------------------------------------------ --app what-if

/// The write-up's cluster before flink2: flink1's three instances on the
/// three agents (and the frontend), served as Marathon answers.
fn marathon_without_flink2() -> FakeServer {
    let mut apps = fixture("apps_flink_first_deploy.json");
    apps["apps"].as_array_mut().unwrap().retain(|a| a["id"] != "/flink/flink2");
    let info = fixture_json("marathon/master/info.json");
    FakeServer::start(vec![
        ("/v2/info", Answer::json_value(&info)),
        ("/v2/leader", Answer::json_value(&json!({"leader": info["leader"]}))),
        ("/v2/apps", Answer::json_value(&apps)),
        ("/v2/queue", Answer::json_value(&fixture("queue_empty.json"))),
        ("/v2/deployments", Answer::json_value(&json!([]))),
    ])
}

/// flink2 as the write-up POSTs it: the deployed definition without what
/// Marathon adds (tasks, versions).
fn flink2_as_posted() -> Value {
    let apps = fixture("apps_flink_first_deploy.json");
    let deployed = apps["apps"].as_array().unwrap().iter().find(|a| a["id"] == "/flink/flink2").unwrap();
    let keep = ["id", "cmd", "cpus", "mem", "disk", "instances", "constraints", "portDefinitions", "requirePorts"];
    let posted: serde_json::Map<String, Value> = deployed
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| keep.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(posted)
}

/// `DIR/flink2.json` holding `app`.
fn write_app(dir: &std::path::Path, app: &Value) -> std::path::PathBuf {
    let file = dir.join("flink2.json");
    std::fs::write(&file, app.to_string()).unwrap();
    file
}

#[test]
fn a_proposed_flink2_collides_on_6123_and_the_printed_edit_makes_it_fit() {
    let (marathon, mesos) = (marathon_without_flink2(), mesos("master_state.json"));
    let dir = tempfile::tempdir().unwrap();
    let app_file = write_app(dir.path(), &flink2_as_posted());
    let what_if = |file: &std::path::Path| {
        let targets = ["--marathon", &marathon.url(), "--mesos", &mesos.url()];
        let file = file.to_str().unwrap();
        check(&[&["--only", "marathon.port-collision,marathon.queue", "--app", file][..], &targets].concat())
    };
    // Without the proposal the cluster is fine on 6123.
    let now = check(&["--only", PORTS, "--marathon", &marathon.url(), "--mesos", &mesos.url()]);
    assert!(!now.subjects(PORTS).contains(&"port 6123/tcp"), "{:#}", now.report);

    let run = what_if(&app_file);
    assert_eq!((run.status(PORTS), run.code), ("fail", 2), "{:#}", run.report);
    let rpc = run.finding(PORTS, "port 6123/tcp");
    let seen = evidence(rpc);
    let line = "/flink/flink2 (proposed): 1 instance, binds 6123/tcp as the JobManager RPC port (Flink's default jobmanager.rpc.port); 3 eligible agents; to move to 6124";
    assert!(seen.contains(line), "{line:?} not in\n{seen}");
    let fixes = remedies(rpc);
    assert_eq!(fixes.len(), 1, "{fixes:?}");
    let (command, risk) = &fixes[0];
    assert_eq!(risk, "safe", "it only prints the edited definition");
    assert!(command.starts_with("jq --argjson change ") && command.ends_with(app_file.to_str().unwrap()), "{command}");
    assert!(command.contains("-Djobmanager.rpc.port=6124 -Djobmanager.web.port=8082"), "{command}");
    // The queue check sees flink2's instance fit the agents' free resources.
    assert_eq!(run.status("marathon.queue"), "pass", "{:#}", run.check("marathon.queue"));
    assert!(run.reason("marathon.queue").contains("(1 proposed with --app)"), "{}", run.reason("marathon.queue"));
    assert_read_only(&[&marathon, &mesos]);

    // Run the printed command as the operator would, and propose its output.
    let words = shlex::split(command).unwrap();
    let edited = std::process::Command::new(&words[0]).args(&words[1..]).output().expect("jq (Debian package jq)");
    assert!(edited.status.success(), "{}", String::from_utf8_lossy(&edited.stderr));
    let fixed_file = dir.path().join("flink2-fixed.json");
    std::fs::write(&fixed_file, &edited.stdout).unwrap();
    let fixed = what_if(&fixed_file);
    assert!(
        !fixed.subjects(PORTS).iter().any(|s| s.starts_with("port 6123") || s.starts_with("port 8081")),
        "{:#}",
        fixed.check(PORTS)
    );
    assert_ne!(fixed.code, 3, "{}", fixed.stderr);
}

#[test]
fn a_proposal_is_judged_alike_live_and_from_a_snapshot() {
    let (marathon, mesos) = (marathon_without_flink2(), mesos("master_state.json"));
    let dir = tempfile::tempdir().unwrap();
    let app_file = write_app(dir.path(), &flink2_as_posted());
    let snapshot = dir.path().join("snap.json");
    let collected = clusterdoc(dir.path())
        .args(["collect", "--marathon", &marathon.url(), "--mesos", &mesos.url(), "-o"])
        .arg(&snapshot)
        .output()
        .unwrap();
    assert!(collected.status.success(), "{}", String::from_utf8_lossy(&collected.stderr));
    let from = check(&["--only", PORTS, "--from", snapshot.to_str().unwrap(), "--app", app_file.to_str().unwrap()]);
    assert_eq!((from.status(PORTS), from.code), ("fail", 2), "{:#}", from.report);
    assert!(evidence(from.finding(PORTS, "port 6123/tcp")).contains("/flink/flink2 (proposed): 1 instance"));
}

#[test]
fn a_proposed_jobmanager_address_in_upper_case_is_caught_before_the_post() {
    let marathon = marathon_without_flink2();
    let dir = tempfile::tempdir().unwrap();
    let mut app = flink2_as_posted();
    let cmd = format!("{} -Djobmanager.rpc.address=SZV1000265118", app["cmd"].as_str().unwrap());
    app["cmd"] = cmd.into();
    let app_file = write_app(dir.path(), &app);
    let run = check(&[
        "--only",
        "hostname.case",
        "--marathon",
        &marathon.url(),
        "--mesos",
        &closed_port_url(),
        "--expect-flink-version",
        "1.2.0",
        "--app",
        app_file.to_str().unwrap(),
    ]);
    let finding = run.finding("hostname.case", "app /flink/flink2 (proposed): jobmanager.rpc.address");
    assert_eq!(finding["status"], "fail", "Flink 1.2 TaskManagers lower-case it: {finding:#}");
    let (command, risk) = &remedies(finding)[0];
    assert_eq!(risk, "safe");
    assert!(command.contains("-Djobmanager.rpc.address=szv1000265118") && command.starts_with("jq "), "{command}");
}

#[test]
fn an_app_file_that_is_not_an_app_stops_the_run_naming_the_json_path() {
    let dir = tempfile::tempdir().unwrap();
    let group = dir.path().join("group.json");
    std::fs::write(&group, r#"{"id": "/flink", "apps": [{"id": "flink2", "cpus": "one"}]}"#).unwrap();
    let out = clusterdoc(dir.path()).args(["check", "--app", group.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("group.json: at apps[0].cpus: invalid type: string \"one\""), "{stderr}");
}

#[test]
fn a_proposed_app_no_agent_could_run_fails_the_queue_before_the_post() {
    let (marathon, mesos) = (marathon_without_flink2(), mesos("master_state.json"));
    let dir = tempfile::tempdir().unwrap();
    let mut app = flink2_as_posted();
    app["mem"] = json!(1_000_000);
    let app_file = write_app(dir.path(), &app);
    let run = check(&[
        "--only",
        "marathon.queue",
        "--marathon",
        &marathon.url(),
        "--mesos",
        &mesos.url(),
        "--app",
        app_file.to_str().unwrap(),
    ]);
    assert_eq!((run.status("marathon.queue"), run.code), ("fail", 2), "{:#}", run.report);
    let finding = run.finding("marathon.queue", "app /flink/flink2 (proposed)");
    let message = finding["message"].as_str().unwrap();
    assert!(message.starts_with("if deployed, 1 instance waits"), "{message}");
    assert!(message.contains("no eligible agent could run one even with nothing else on it"), "{message}");
    assert!(evidence(finding).contains("request per instance"), "{finding:#}");
    // The fix asks only what the best agent has free, in the file, before the POST.
    let fixes = remedies(finding);
    assert_eq!(fixes.len(), 1, "{fixes:?}");
    let (command, risk) = &fixes[0];
    assert!(command.starts_with("jq --argjson change '{\"mem\":") && command.ends_with("flink2.json"), "{command}");
    assert_eq!(risk, "safe");
    assert_read_only(&[&marathon, &mesos]);
}

/// Six agents, each unable to take a JobManager that requires port 6123 and
/// accepts only resources reserved for role `flink`, for its own reason.
fn agents_for_flink_only(free_mem_on_last: bool) -> FakeServer {
    let mut state = fixture("master_state.json");
    let template = state["slaves"][1].clone();
    let agent = |i: usize, reserved: bool, used_ports: Option<&str>, used_mem: f64| {
        let mut a = template.clone();
        (a["id"], a["hostname"]) = (json!(format!("agent-{i}")), json!(format!("agent{i}")));
        a["resources"]["ports"] = json!("[6000-32000]");
        a["used_resources"] = json!({"cpus": 0.0, "mem": used_mem, "disk": 0.0});
        if let Some(ports) = used_ports {
            a["used_resources"]["ports"] = json!(ports);
        }
        if reserved {
            a["reserved_resources"] = json!({"flink": {"cpus": 2.0, "mem": 4096.0, "disk": 0.0}});
        }
        a
    };
    let last_mem = if free_mem_on_last { 0.0 } else { 7680.0 };
    state["slaves"] = json!([
        agent(1, false, None, 0.0),
        agent(2, false, None, 0.0),
        agent(3, false, None, 0.0),
        agent(4, true, Some("[6123-6123]"), 0.0),
        agent(5, true, Some("[6100-6200]"), 0.0),
        agent(6, true, None, last_mem),
    ]);
    FakeServer::start(vec![
        ("/master/state", Answer::json_value(&state)),
        ("/master/health", Answer::status(200, "")),
        ("/metrics/snapshot", Answer::json_value(&json!({"master/elected": 1.0}))),
    ])
}

#[test]
fn a_queued_app_no_agent_can_take_is_explained_agent_by_agent() {
    let marathon = marathon("apps_flink_clean.json", "queue_empty.json", None);
    let dir = tempfile::tempdir().unwrap();
    let app = json!({
        "id": "/flink/flink2", "cmd": "jobmanager.sh", "instances": 1, "cpus": 1.0, "mem": 1024.0,
        "portDefinitions": [{"port": 6123, "protocol": "tcp"}], "requirePorts": true,
        "acceptedResourceRoles": ["flink"],
    });
    let file = write_app(dir.path(), &app);
    let what_if = |mesos: &FakeServer| {
        let file = file.to_str().unwrap();
        check(&["--only", QUEUE, "--marathon", &marathon.url(), "--mesos", &mesos.url(), "--app", file])
    };

    let broken = agents_for_flink_only(false);
    let run = what_if(&broken);
    assert_eq!(run.status(QUEUE), "warn", "{:#}", run.report);
    let finding = run.finding(QUEUE, "app /flink/flink2 (proposed)");
    let message = finding["message"].as_str().unwrap();
    let counted = "0/6 agents can take /flink/flink2: 3 role mismatch, 2 port 6123 taken, 1 insufficient mem";
    assert_eq!(
        message,
        format!("if deployed, 1 instance waits: {counted} (no eligible agent has all of it free at once)")
    );
    let line = "eligible agents: 3 of 6 active (accepted roles [\"flink\"]: resources reserved for them only)";
    assert!(evidence(finding).contains(line), "{}", evidence(finding));
    assert_read_only(&[&marathon, &broken]);

    // Memory freed on the one agent with the role and the port: it launches.
    let fixed = agents_for_flink_only(true);
    let run = what_if(&fixed);
    assert_eq!(run.status(QUEUE), "pass", "{:#}", run.report);
}
