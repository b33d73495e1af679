//! Root causes first (DESIGN.md C2), end to end: a real 3-server ZooKeeper
//! ensemble with two servers stopped, and a Mesos master and a Marathon
//! served on loopback answering as they do without ZooKeeper (no leader,
//! 503). One root, zk.quorum, explains the rest; statuses and the exit
//! code are unchanged. The write-up's incident gives independent roots,
//! each with its fix.

mod support;

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::cli::{self as cli_support, ReadReport, Run};
use crate::support::http::{Answer, FakeServer, fixture_json};
use crate::support::zk::Ensemble;

/// A Mesos 1.11 master that knows no leader: 503 for its state, its flags
/// (which it still serves) naming `ensemble` as its `zk`.
fn leaderless_master(zk: &str) -> FakeServer {
    let mut flags = fixture_json("mesos-real/1.11.0-master_flags.json");
    flags["flags"]["zk"] = zk.into();
    FakeServer::start(vec![
        ("/master/state", Answer::status(503, "No leader elected")),
        ("/master/flags", Answer::json_value(&flags)),
        ("/metrics/snapshot", Answer::json_value(&json!({"master/elected": 0.0}))),
        ("/master/health", Answer::status(200, "")),
    ])
}

/// A Marathon without a leader: /v2/info from the instance itself, 404
/// from /v2/leader, 503 for what only a leader serves.
fn leaderless_marathon(zk: &str) -> FakeServer {
    let mut info = fixture_json("marathon/master/info.json");
    info["elected"] = false.into();
    info["leader"] = Value::Null;
    info["zookeeper_config"]["zk"] = zk.into();
    let unavailable = || Answer::status(503, r#"{"message":"Could not determine the current leader"}"#);
    FakeServer::start(vec![
        ("/v2/info", Answer::json_value(&info)),
        ("/v2/leader", Answer::status(404, r#"{"message":"There is no leader"}"#)),
        ("/v2/apps", unavailable()),
        ("/v2/queue", unavailable()),
        ("/v2/deployments", unavailable()),
    ])
}

const CHECKS: &str = "zk.quorum,zk.marathon-reuse,mesos.leader,marathon.leader,marathon.queue";

fn run(format: &str, args: &[&str]) -> std::process::Output {
    let cwd = tempfile::tempdir().unwrap();
    cli_support::plain(cwd.path())
        .args(["check", "--only", CHECKS, "--format", format])
        .args(args)
        .output()
        .expect("run clusterdoc")
}

#[test]
fn an_ensemble_without_quorum_is_the_one_root_and_everything_else_is_folded_under_it() {
    let mut ensemble = Ensemble::start(3);
    let servers = ensemble.addresses();
    ensemble.servers[0].kill();
    ensemble.servers[1].kill();
    ensemble.servers[2].wait_until(Duration::from_secs(30), |a| a.contains("not currently serving"));
    // Mesos names the servers in another order, under its own path: the same ensemble.
    let reordered: Vec<&str> = servers.split(',').rev().collect();
    let master = leaderless_master(&format!("zk://{}/mesos", reordered.join(",")));
    let marathon = leaderless_marathon(&format!("zk://{servers}/marathon"));
    let zk = format!("zk://{servers}/marathon");
    let args = ["--zk", zk.as_str(), "--mesos", &master.url(), "--marathon", &marathon.url(), "--timeout", "2s"];

    let output = run("json", &args);
    let run = Run::of(output, Duration::ZERO);
    let roots = run.report["root_causes"].as_array().unwrap_or_else(|| panic!("no root_causes: {:#}", run.report));
    let ensemble_name = {
        let mut sorted: Vec<&str> = servers.split(',').collect();
        sorted.sort();
        format!("ZooKeeper ensemble {}", sorted.join(","))
    };
    assert_eq!(roots.len(), 1, "{roots:#?}");
    let root = &roots[0];
    assert_eq!(
        (&root["check"], &root["subject"], &root["status"]),
        (&"zk.quorum".into(), &ensemble_name.as_str().into(), &"fail".into())
    );
    let explained: Vec<&str> =
        root["explained_checks"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for id in ["mesos.leader", "marathon.leader", "marathon.queue", "zk.marathon-reuse"] {
        assert!(explained.contains(&id), "{id} not explained: {root:#}");
    }
    assert!(root["explains"].as_u64().unwrap() >= 4, "{root:#}");
    assert!(
        root["remediation"].as_array().unwrap().iter().any(|r| r["command"] == "sudo systemctl start zookeeper"),
        "{root:#}"
    );

    let by_zk = json!([{"check": "zk.quorum", "subject": ensemble_name}]);
    let no_leader = &run.findings("mesos.leader")[0];
    assert_eq!((&no_leader["status"], &no_leader["caused_by"]), (&"fail".into(), &by_zk), "{no_leader:#}");
    let marathon_leader = &run.findings("marathon.leader")[0];
    assert_eq!(marathon_leader["caused_by"], by_zk, "{marathon_leader:#}");
    // The queue could not be read: its check names what explains that.
    let queue = run.check("marathon.queue");
    assert_eq!(queue["status"], "error");
    let causes: Vec<&str> =
        queue["caused_by"].as_array().unwrap().iter().map(|c| c["check"].as_str().unwrap()).collect();
    assert!(causes.contains(&"marathon.leader") || causes.contains(&"mesos.leader"), "{queue:#}");
    // Nothing is hidden from a script: statuses and the exit code stand.
    assert!(run.findings("zk.quorum").iter().all(|f| f.get("caused_by").is_none()));
    assert_eq!(run.code, 2);
    assert_eq!(run.report["summary"]["fail"], 3, "{:#}", run.report["summary"]);

    // The human report opens with the root and folds what it explains.
    let human = run_text("human", &args);
    let first = human.lines().nth(3).unwrap_or_default();
    assert!(first.starts_with("ROOT") && first.contains("zk.quorum (ZooKeeper ensemble"), "{human}");
    assert!(human.contains("explains ") && human.contains("mesos.leader"), "{human}");
    assert!(
        human.contains(&format!("caused by zk.quorum ({ensemble_name}) (-v shows its evidence and fixes)")),
        "{human}"
    );
    let verbose = run_text("human", &[&args[..], &["-v"]].concat());
    assert!(verbose.contains("cause     caused by zk.quorum"), "{verbose}");
    // Nagios names it first.
    let nagios = run_text("nagios", &args);
    assert!(
        nagios.starts_with(&format!(
            "CLUSTERDOC CRITICAL - 3 fail, 0 warn, 2 error: root cause zk.quorum ({ensemble_name})"
        )),
        "{nagios}"
    );
}

fn run_text(format: &str, args: &[&str]) -> String {
    let output = run(format, args);
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_mesos_master_on_another_ensemble_is_its_own_root() {
    let mut ensemble = Ensemble::start(3);
    let servers = ensemble.addresses();
    ensemble.servers[0].kill();
    ensemble.servers[1].kill();
    ensemble.servers[2].wait_until(Duration::from_secs(30), |a| a.contains("not currently serving"));
    let master = leaderless_master("zk://10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181/mesos");
    let zk = format!("zk://{servers}/marathon");
    let output = run("json", &["--only", "zk.quorum,mesos.leader", "--zk", &zk, "--mesos", &master.url()]);
    let run = Run::of(output, Duration::ZERO);
    let roots: Vec<&str> =
        run.report["root_causes"].as_array().unwrap().iter().map(|r| r["check"].as_str().unwrap()).collect();
    assert_eq!(roots, ["zk.quorum", "mesos.leader"]);
    assert!(run.findings("mesos.leader")[0].get("caused_by").is_none(), "{:#}", run.report);
}

#[test]
fn the_incident_gives_independent_roots_each_with_its_fix_and_a_healthy_cluster_none() {
    let cwd = tempfile::tempdir().unwrap();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/flink-on-mesos-incident.json");
    let run = Run::of_command(cli_support::plain(cwd.path()).args(["check", "--from", example, "--format", "json"]));
    let roots = run.report["root_causes"].as_array().unwrap();
    let fails: Vec<&Value> = roots.iter().filter(|r| r["status"] == "fail").collect();
    assert!(!fails.is_empty() && fails.iter().all(|r| !r["remediation"].as_array().unwrap().is_empty()), "{roots:#?}");
    // The second Flink session's port collision is why it waits in the queue.
    let collision = roots.iter().find(|r| r["check"] == "marathon.port-collision" && r["explains"] == 1).unwrap();
    assert_eq!(collision["explained_checks"], json!(["marathon.queue"]));
    let waiting = &run.findings("marathon.queue")[0];
    assert_eq!(waiting["caused_by"][0]["check"], "marathon.port-collision", "{waiting:#}");
    // Every root is a problem that nothing else explains.
    let problems: usize = run.report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap())
        .filter(|f| f["status"] != "pass" && f.get("caused_by").is_none())
        .count();
    assert_eq!(roots.len(), problems);

    let healthy = FakeServer::start(vec![
        ("/master/state", Answer::fixture("mesos-real/1.11.0-master_state.json")),
        ("/master/health", Answer::status(200, "")),
    ]);
    let output = run_healthy(&healthy);
    assert!(output.get("root_causes").is_none(), "{output:#}");
}

fn run_healthy(master: &FakeServer) -> Value {
    let cwd = tempfile::tempdir().unwrap();
    let run = Run::of_command(cli_support::plain(cwd.path()).args([
        "check",
        "--only",
        "mesos.leader",
        "--format",
        "json",
        "--mesos",
        &master.url(),
    ]));
    assert_eq!(run.status("mesos.leader"), "pass", "{:#}", run.report);
    run.report
}
