//! `mesos.advertise-address` end to end: a node tree (`--root`) with the
//! packages' /etc/mesos-master/ip, and the real Mesos 1.11.0 master state
//! edited into a three-host cluster whose master registered on Debian's
//! 127.0.1.1.

mod support;

use crate::support::cli as cli_support;
use crate::support::http;
use crate::support::tree;

use cli_support::{ReadReport, assert_evidence, assert_fix, clusterdoc};
use http::{Answer, FakeServer, fixture_json};
use serde_json::{Value, json};
use tree::write;

#[test]
fn a_master_on_127_0_1_1_with_agents_elsewhere_fails_naming_its_ip_file() {
    let mut state = fixture_json("mesos-real/1.11.0-master_state.json");
    state["pid"] = json!("master@127.0.1.1:5050");
    state["leader"] = json!("master@127.0.1.1:5050");
    state["hostname"] = json!("m1");
    for (i, agent) in state["slaves"].as_array_mut().unwrap().iter_mut().enumerate() {
        agent["pid"] = json!(format!("slave(1)@10.0.0.{}:5051", i + 2));
        agent["hostname"] = json!(format!("a{i}"));
    }
    let master = FakeServer::start(vec![
        ("/master/state", Answer::json_value(&state)),
        ("/master/health", Answer::status(200, "")),
    ]);
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "/etc/hostname", "m1\n");
    write(root.path(), "/etc/hosts", "127.0.0.1 localhost\n127.0.1.1 m1\n");
    write(root.path(), "/etc/mesos-master/ip", "127.0.1.1\n");
    let out = clusterdoc(root.path())
        .args(["check", "--format", "json", "--only", "mesos.advertise-address", "--mesos", &master.url(), "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report.status("mesos.advertise-address"), "fail", "{report:#}");
    let findings = report.findings("mesos.advertise-address");
    assert_eq!(findings.len(), 1, "only the master: {findings:#?}");
    assert_eq!(findings[0]["subject"], "Mesos master m1");
    assert_evidence(&findings[0], "/master/state: pid master@127.0.1.1:5050");
    assert_evidence(&findings[0], "/etc/mesos-master/ip: 127.0.1.1");
    assert_fix(&findings[0], "> /etc/mesos-master/ip", "disruptive");
}
