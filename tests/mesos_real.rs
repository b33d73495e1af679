//! The answers of a real Mesos 1.11.0 master with three agents
//! (tests/fixtures/mesos-real, see its SOURCES.txt): every body parsed with
//! the crate's own parsers, then served by a loopback HTTP server to the real
//! binary, which reads the leader's /master/flags and each agent's
//! /slave(N)/flags and judges `mesos.work-dir` on them.

mod support;

use crate::support::cli as cli_support;
use crate::support::http;

use std::net::TcpListener;

use cli_support::{ReadReport, assert_evidence, assert_fix, clusterdoc};
use clusterdoc::parsers::{JsonStream, MasterMetrics, MesosFlags, MesosState, parse_json, pid_address, stream_state};
use http::{Answer, FakeServer, fixture_bytes};
use serde_json::Value;

/// Where mesos-local served the real bodies; tests serve them elsewhere.
const RECORDED_AT: &str = "127.0.0.1:15051";

fn real(name: &str) -> Vec<u8> {
    fixture_bytes(&format!("mesos-real/1.11.0-{name}.json"))
}

fn whole<T: serde::de::DeserializeOwned>(name: &str) -> T {
    parse_json(&real(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn the_real_master_state_streams_as_it_parses_whole() {
    let bytes = real("master_state");
    let state: MesosState = whole("master_state");
    for size in [1, 7, 4096, bytes.len()] {
        let streamed = stream_state(&mut JsonStream::in_pieces(&bytes, size));
        assert_eq!(streamed.as_ref(), Ok(&state), "in pieces of {size}");
    }
    assert!(state.answered_by_leader());
    assert_eq!(state.version.as_deref(), Some("1.11.0"));
    assert_eq!(state.pid.as_deref(), Some("master@127.0.0.1:15051"));
    let pids: Vec<&str> = state.agents.iter().filter_map(|a| a.pid.as_deref()).collect();
    assert_eq!(pids, ["slave(3)@127.0.0.1:15051", "slave(2)@127.0.0.1:15051", "slave(1)@127.0.0.1:15051"]);
    for agent in &state.agents {
        assert!(agent.active && agent.version.as_deref() == Some("1.11.0"), "{agent:?}");
        assert_eq!(agent.resources.cpus, 2.0);
        assert_eq!(agent.resources.ports.to_string(), "[31000-31100]");
        assert_eq!(agent.port, Some(15051));
        assert_eq!(pid_address(agent.pid.as_deref().unwrap()), RECORDED_AT);
    }
    assert!(state.frameworks.is_empty() && state.completed_frameworks.is_empty());
}

#[test]
fn the_real_agent_and_framework_lists_parse_as_the_state_does() {
    let state: MesosState = whole("master_state");
    let slaves: MesosState = whole("master_slaves");
    assert_eq!(slaves.agents, state.agents, "/master/slaves lists the agents of /master/state");
    let summary: MesosState = whole("master_state-summary");
    let ids = |s: &MesosState| s.agents.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&summary), ids(&state));
    assert_eq!(summary.hostname.as_deref(), Some("127.0.0.1"));
    let frameworks: MesosState = whole("master_frameworks");
    assert!(frameworks.frameworks.is_empty() && frameworks.completed_frameworks.is_empty());
}

#[test]
fn the_real_agent_state_names_the_agent_and_carries_its_flags() {
    let agent: MesosState = whole("slave_1__state");
    assert_eq!(agent.pid.as_deref(), Some("slave(1)@127.0.0.1:15051"));
    assert!(!agent.answered_by_leader(), "an agent's state is never a leader's");
    let flags: MesosFlags = whole("slave_1__state");
    assert_eq!(flags.get("work_dir"), Some("/tmp/mesoschk/work/agents/0/work"));
}

#[test]
fn the_real_flags_parse() {
    let master: MesosFlags = whole("master_flags");
    assert_eq!(master.get("work_dir"), Some("/tmp/mesoschk/work/master"));
    assert_eq!(master.get("hostname"), Some("127.0.0.1"));
    assert_eq!(master.get("zk_session_timeout"), Some("10secs"));
    assert_eq!(master.get("registry"), Some("in_memory"));
    let agent: MesosFlags = whole("slave_1__flags");
    assert_eq!(agent.get("work_dir"), Some("/tmp/mesoschk/work/agents/0/work"));
    assert_eq!(agent.get("port"), Some("5051"));
    assert_eq!(agent.get("ip"), None, "unset optional flags are left out");
}

#[test]
fn the_real_metrics_say_elected() {
    let metrics: MasterMetrics = whole("metrics_snapshot");
    assert_eq!(metrics.elected(), Some(true));
}

/// Where the recorded daemons kept their work_dir.
const RECORDED_WORK: &str = "/tmp/mesoschk";

/// The real master and agents (mesos-local serves them all from one
/// address) at the test server's address, their work_dirs moved from
/// [`RECORDED_WORK`] to `work`; `slave(3)` answers 404 for its flags unless
/// `every_agent_answers`.
fn real_cluster(work: &str, every_agent_answers: bool) -> FakeServer {
    real_cluster_edited(work, every_agent_answers, |_| {})
}

/// [`real_cluster`] with its `/master/state` edited.
fn real_cluster_edited(work: &str, every_agent_answers: bool, edit_state: fn(&mut Value)) -> FakeServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let served = |name: &str| {
        Answer::json(String::from_utf8(real(name)).unwrap().replace(RECORDED_AT, &address).replace(RECORDED_WORK, work))
    };
    let mut routes = vec![
        ("/master/state", {
            let text = String::from_utf8(real("master_state")).unwrap().replace(RECORDED_AT, &address);
            let mut state: Value = serde_json::from_str(&text).unwrap();
            edit_state(&mut state);
            Answer::json_value(&state)
        }),
        ("/master/health", Answer::status(200, "")),
        ("/metrics/snapshot", served("metrics_snapshot")),
        ("/master/flags", served("master_flags")),
        ("/slave(1)/flags", served("slave_1__flags")),
        ("/slave(2)/flags", served("slave_1__flags")),
    ];
    if every_agent_answers {
        routes.push(("/slave(3)/flags", served("slave_1__flags")));
    }
    FakeServer::start_on(listener, routes)
}

fn check_work_dir(master: &FakeServer) -> Value {
    check_only("mesos.work-dir", master)
}

fn check_only(id: &str, master: &FakeServer) -> Value {
    let root = tempfile::tempdir().unwrap();
    let out = clusterdoc(root.path())
        .args(["check", "--format", "json", "--only", id, "--mesos", &master.url(), "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn work_dirs_under_tmp_on_the_real_cluster_fail_from_its_flags() {
    let master = real_cluster(RECORDED_WORK, true);
    let report = check_work_dir(&master);
    assert_eq!(report.status("mesos.work-dir"), "fail", "{report:#}");
    let findings = report.findings("mesos.work-dir");
    assert_eq!(findings.len(), 4, "the leader and three agents: {findings:#?}");
    assert_eq!(findings[0]["status"], "warn");
    assert_eq!(findings[0]["subject"], "the leading Mesos master");
    assert_evidence(&findings[0], "the leading Mesos master's /master/flags: work_dir /tmp/mesoschk/work/master");
    assert_fix(&findings[0], r"printf '%s\n' /var/lib/mesos > /etc/mesos-master/work_dir", "disruptive");
    for agent in &findings[1..] {
        assert_eq!(agent["status"], "fail");
        assert_evidence(agent, "/flags: work_dir /tmp/mesoschk/work/agents/0/work");
        assert_fix(agent, r"printf '%s\n' /var/lib/mesos > /etc/mesos-slave/work_dir", "destructive");
    }
    for path in ["/master/flags", "/slave(1)/flags", "/slave(2)/flags", "/slave(3)/flags"] {
        assert!(master.requested(path), "{path} was not asked");
    }
    assert!(master.requests().iter().all(|r| r.method == "GET"), "only reads");
}

#[test]
fn an_agent_that_does_not_answer_for_its_flags_leaves_the_check_undecided() {
    let durable = real_cluster("/var/lib/mesoschk", false);
    let report = check_work_dir(&durable);
    assert_eq!(report.status("mesos.work-dir"), "error", "never a pass without every agent: {report:#}");
    let reason = report.reason("mesos.work-dir");
    assert!(reason.contains("-S2) /flags") && reason.contains("/slave(3)/flags") && reason.contains("404"), "{reason}");

    // The others' /tmp work_dirs still fail the check; the silent agent is named.
    let volatile = real_cluster(RECORDED_WORK, false);
    let report = check_work_dir(&volatile);
    assert_eq!(report.status("mesos.work-dir"), "fail", "{report:#}");
    let reason = report.reason("mesos.work-dir");
    assert!(reason.contains("not judged") && reason.contains("/slave(3)/flags"), "{reason}");
}

#[test]
fn durable_work_dirs_on_the_real_cluster_pass() {
    let master = real_cluster("/var/lib/mesoschk", true);
    let report = check_work_dir(&master);
    assert_eq!(report.status("mesos.work-dir"), "pass", "{report:#}");
    assert!(report.reason("mesos.work-dir").contains("4 work_dir settings checked"));
}

#[test]
fn the_real_single_host_cluster_on_loopback_passes_advertise_address() {
    let master = real_cluster(RECORDED_WORK, true);
    let report = check_only("mesos.advertise-address", &master);
    assert_eq!(report.status("mesos.advertise-address"), "pass", "{report:#}");
    assert_eq!(report.reason("mesos.advertise-address"), "4 registered addresses checked (all on one host)");
}

#[test]
fn loopback_agents_of_three_hosts_fail_advertise_address_with_their_flags() {
    let master = real_cluster_edited(RECORDED_WORK, true, |state| {
        for (i, agent) in state["slaves"].as_array_mut().unwrap().iter_mut().enumerate() {
            agent["hostname"] = Value::from(format!("agent{i}.example"));
        }
    });
    let report = check_only("mesos.advertise-address", &master);
    assert_eq!(report.status("mesos.advertise-address"), "fail", "{report:#}");
    let findings = report.findings("mesos.advertise-address");
    assert_eq!(findings.len(), 4, "the master and three agents: {findings:#?}");
    assert_eq!(findings[1]["subject"], "Mesos agent agent0.example");
    assert_evidence(&findings[1], "its flags: --ip unset, --advertise_ip unset, --hostname=127.0.0.1");
    assert_fix(&findings[1], "> /etc/mesos-slave/ip", "disruptive");
    assert_evidence(&findings[0], "its flags: --ip unset, --advertise_ip unset, --hostname=127.0.0.1");
    assert_fix(&findings[0], "> /etc/mesos-master/ip", "disruptive");
}
