//! `marathon.failover` end to end: the real binary reads a node tree
//! (zoo.cfg's tickTime, a flink-conf.yaml's mesos.failover-timeout) and a
//! Marathon /v2/info served on loopback.

mod support;

use crate::support::cli as cli_support;
use crate::support::http;
use crate::support::tree;

use cli_support::{ReadReport, assert_evidence, assert_fix, clusterdoc};
use http::{Answer, FakeServer};
use serde_json::{Value, json};
use tree::write;

fn run(root: &std::path::Path, marathon: &FakeServer) -> Value {
    let out = clusterdoc(root)
        .args(["check", "--format", "json", "--only", "marathon.failover", "--marathon", &marathon.url(), "--root"])
        .arg(root)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn zero_failover_timeouts_fail_and_a_session_timeout_above_20_ticks_warns() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "/etc/zookeeper/conf/zoo.cfg", "# tickTime=1\ntickTime=2000\ndataDir=/var/lib/zookeeper\n");
    write(
        root.path(),
        "/opt/flink-1.10.0/conf/flink-conf.yaml",
        "jobmanager.rpc.address: jm\nmesos.failover-timeout: 0\n",
    );
    let info = json!({
        "version": "1.4.13",
        "marathon_config": {"failover_timeout": 0, "framework_name": "marathon"},
        "zookeeper_config": {"zk": "zk://zk:2181/marathon", "zk_session_timeout": 50000}
    });
    let marathon = FakeServer::start(vec![("/v2/info", Answer::json_value(&info))]);
    let report = run(root.path(), &marathon);
    assert_eq!(report.status("marathon.failover"), "fail", "{report:#}");
    let findings = report.findings("marathon.failover");
    let subjects: Vec<&str> = findings.iter().map(|f| f["subject"].as_str().unwrap()).collect();
    assert_eq!(
        subjects,
        [
            "Marathon failover_timeout",
            "Marathon zk_session_timeout",
            "Flink mesos.failover-timeout in /opt/flink-1.10.0/conf/flink-conf.yaml"
        ]
    );
    assert_fix(&findings[0], r"printf '%s\n' 604800 > /etc/marathon/conf/failover_timeout", "disruptive");
    assert_eq!(findings[1]["status"], "warn");
    assert_evidence(&findings[1], "/etc/zookeeper/conf/zoo.cfg line 2: tickTime=2000");
    assert_fix(&findings[1], r"printf '%s\n' 10000 > /etc/marathon/conf/zk_session_timeout", "disruptive");
    assert_evidence(&findings[2], "/opt/flink-1.10.0/conf/flink-conf.yaml line 2: mesos.failover-timeout: 0");
    assert_fix(&findings[2], "/opt/flink-1.10.0/conf/flink-conf.yaml", "disruptive");
}

#[test]
fn a_marathon_that_cannot_be_asked_leaves_the_check_undecided() {
    let root = tempfile::tempdir().unwrap();
    let marathon = FakeServer::start(vec![("/v2/info", Answer::status(500, "{}"))]);
    let report = run(root.path(), &marathon);
    assert_eq!(report.status("marathon.failover"), "error", "{report:#}");
    assert!(report.reason("marathon.failover").contains("500"), "{report:#}");
}
