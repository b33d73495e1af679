//! Fleet mode against real nodes: each a set of namespaces with systemd as
//! PID 1 and a real sshd (tests/support/fleet_nodes.rs), reached by
//! `clusterdoc collect --nodes` over the system's OpenSSH.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::cli::isolate;
use support::fleet_nodes::Fleet;

/// A finished `collect --nodes`: the fleet snapshot it wrote.
struct Collected {
    snapshot: Value,
    code: i32,
    stderr: String,
    took: Duration,
}

impl Collected {
    /// The record of the node named `host`.
    fn node(&self, host: &str) -> &Value {
        let nodes = self.snapshot["nodes"].as_array().unwrap_or_else(|| panic!("no nodes in {:#}", self.snapshot));
        nodes.iter().find(|n| n["host"] == host).unwrap_or_else(|| panic!("no node {host} in {:#}", self.snapshot))
    }
}

/// Runs `clusterdoc collect` in the fleet's client namespace with the
/// fleet's ssh command and `args`, writing the snapshot into `dir`.
fn collect(fleet: &Fleet, dir: &Path, args: &[&str]) -> Collected {
    let out = dir.join("fleet.json");
    let mut cmd = fleet.client.command(env!("CARGO_BIN_EXE_clusterdoc"));
    isolate(&mut cmd, dir);
    cmd.args(["collect", "--ssh", &fleet.ssh_command(), "-o"]).arg(&out).args(args);
    let started = Instant::now();
    let output = cmd.output().expect("run clusterdoc");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("no snapshot written ({e}); stderr: {stderr}"));
    let snapshot = serde_json::from_str(&text).unwrap_or_else(|e| panic!("the snapshot is not JSON ({e}): {text}"));
    Collected { snapshot, code: output.status.code().expect("an exit code"), stderr, took }
}

fn addresses(fleet: &Fleet) -> String {
    fleet.nodes.iter().map(|n| n.ip.to_string()).collect::<Vec<_>>().join(",")
}

#[test]
fn three_nodes_are_reached_and_each_answers_with_its_own_facts() {
    let started = Instant::now();
    let fleet = Fleet::named(&["Node1", "node2", "node3"]);
    eprintln!("3 nodes up in {:?}", started.elapsed());
    let dir = tempfile::tempdir().unwrap();
    let run = collect(&fleet, dir.path(), &["--nodes", &addresses(&fleet), "--deadline", "60s"]);
    eprintln!("collect from 3 nodes took {:?}", run.took);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for node in &fleet.nodes {
        let record = run.node(&node.ip.to_string());
        assert_eq!(record["state"], "reached", "{record:#}");
        assert_eq!(record["error"], Value::Null);
        assert_eq!(record["address"], node.ip.to_string());
        assert_eq!(record["facts"]["node"]["value"]["hostname"]["value"]["value"], node.hostname, "{record:#}");
        eprintln!("{}: {} ms", node.hostname, record["duration_ms"]);
        assert!(node.tmp_entries().is_empty(), "{} left {:?} in its /tmp", node.hostname, node.tmp_entries());
    }
}
