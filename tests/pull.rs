//! Fleet over HTTP (`collect --nodes ... --pull 'http://{host}:9847'`):
//! fake nodes (tests/support/fleet_nodes.rs: their own network, /etc and
//! systemd) each run `clusterdoc serve` as a unit; the orchestrator in the
//! client namespace reads every node's `/snapshot` instead of opening an
//! ssh session, and gets the same node records and states.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::cli::isolate;
use support::fleet_nodes::{Fleet, Node};

const PASSWORD: &str = "pw-not-to-be-shown";

/// Starts `clusterdoc serve` on all the node's addresses, asking for basic
/// credentials, and waits until it answers.
fn serve_on(node: &Node) {
    node.install_clusterdoc("clusterdoc");
    node.exec(&["mkdir", "-p", "/etc/clusterdoc"]);
    node.exec(&["sh", "-c", &format!("umask 077 && echo fleet:{PASSWORD} > /etc/clusterdoc/basic")]);
    let serve = ["/usr/local/bin/clusterdoc", "serve", "--listen", "0.0.0.0:9847", "--basic-auth-file"];
    node.exec(&[&["systemd-run", "--unit=clusterdoc-serve"][..], &serve, &["/etc/clusterdoc/basic"]].concat());
    let started = Instant::now();
    let args = ["curl", "-sf", "-o", "/dev/null", "-u", &format!("fleet:{PASSWORD}")];
    let url = format!("http://{}:9847/snapshot", node.ip);
    while !node.output(&[&args[..], &[url.as_str()]].concat()).status.success() {
        assert!(started.elapsed() < Duration::from_secs(60), "{} does not serve", node.hostname);
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `collect --nodes NODES --pull TEMPLATE` in the client namespace: the
/// snapshot and stderr.
fn collect(fleet: &Fleet, nodes: &str, template: &str) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fleet.json");
    let mut cmd = fleet.client.command(env!("CARGO_BIN_EXE_clusterdoc"));
    isolate(&mut cmd, dir.path());
    cmd.args(["collect", "--nodes", nodes, "--pull", template, "--timeout", "2s", "--deadline", "60s", "-o"])
        .arg(&out)
        .stdin(Stdio::null());
    let result = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains(PASSWORD) && !stderr.contains(PASSWORD), "the password is shown: {text}{stderr}");
    (serde_json::from_str(&text).unwrap(), stderr)
}

fn record<'a>(snapshot: &'a Value, host: &str) -> &'a Value {
    let nodes = snapshot["nodes"].as_array().unwrap();
    nodes.iter().find(|n| n["host"] == host).unwrap_or_else(|| panic!("no {host} in {snapshot:#}"))
}

#[test]
fn each_node_s_snapshot_is_pulled_from_its_server_with_the_fleet_s_node_states() {
    let fleet = Fleet::named(&["pull0", "Pull1", "pull2"]);
    serve_on(&fleet.nodes[0]);
    serve_on(&fleet.nodes[1]);
    // pull2 serves nothing: its port 9847 is closed.
    let ips: Vec<String> = fleet.nodes.iter().map(|n| n.ip.to_string()).collect();
    let nodes = format!("{},{},{},-oProxyCommand=x", ips[0], ips[1], ips[2]);
    let (snapshot, stderr) = collect(&fleet, &nodes, &format!("http://fleet:{PASSWORD}@{{host}}:9847"));
    for (i, name) in [(0, "pull0"), (1, "Pull1")] {
        let reached = record(&snapshot, &ips[i]);
        assert_eq!(reached["state"], "reached", "{reached:#}\n{stderr}");
        assert_eq!(reached["address"], ips[i].as_str(), "the address the connection reached");
        assert_eq!(reached["facts"]["node"]["value"]["hostname"]["value"]["value"], name, "{reached:#}");
    }
    let closed = record(&snapshot, &ips[2]);
    assert_eq!(closed["state"], "unreachable", "{closed:#}");
    assert!(closed["error"].as_str().unwrap().contains("refused"), "{closed:#}");
    let refused = record(&snapshot, "-oProxyCommand=x");
    assert_eq!(refused["state"], "refused", "{refused:#}");
    // The wrong password: the server turns the orchestrator away.
    let (wrong, _) = collect(&fleet, &ips[0], "http://fleet:wrong@{host}:9847");
    let turned_away = record(&wrong, &ips[0]);
    assert_eq!(turned_away["state"], "unreachable", "{turned_away:#}");
    assert!(turned_away["error"].as_str().unwrap().contains("401 Unauthorized"), "{turned_away:#}");
    for node in &fleet.nodes[..2] {
        node.exec(&["systemctl", "stop", "clusterdoc-serve"]);
    }
}

#[test]
fn check_nodes_judges_each_pulled_node_and_times_its_clock_by_the_date_header() {
    let fleet = Fleet::named(&["pullcheck0", "PullCheck1"]);
    for node in &fleet.nodes {
        serve_on(node);
    }
    let ips: Vec<String> = fleet.nodes.iter().map(|n| n.ip.to_string()).collect();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fleet.client.command(env!("CARGO_BIN_EXE_clusterdoc"));
    isolate(&mut cmd, dir.path());
    let template = format!("http://fleet:{PASSWORD}@{{host}}:9847");
    cmd.args(["check", "--nodes", &ips.join(","), "--pull", &template, "--only", "hostname.case,fleet.clock-skew"])
        .args(["--timeout", "2s", "--deadline", "60s", "--format", "json"])
        .stdin(Stdio::null());
    let result = cmd.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&result.stdout), String::from_utf8_lossy(&result.stderr));
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD), "the password is shown");
    assert_eq!(result.status.code(), Some(2), "the upper-case node fails the run: {stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let check = |id: &str| report["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone();
    let case = check("hostname.case");
    assert_eq!(case["status"], "fail", "{case:#}");
    assert_eq!(case["by_node"][&ips[0]], "pass", "{case:#}");
    assert_eq!(case["by_node"][&ips[1]], "fail", "{case:#}");
    let finding = &case["findings"][0];
    assert_eq!(finding["node"], ips[1].as_str(), "{finding:#}");
    assert!(finding["evidence"].to_string().contains("PullCheck1"), "{finding:#}");
    // Both clocks are this machine's: timed from each server's Date header
    // to within a second, so the check passes with both nodes compared.
    let clock = check("fleet.clock-skew");
    assert_eq!(clock["status"], "pass", "{clock:#}");
    assert!(clock["reason"].as_str().unwrap().contains("2 node clocks compared"), "{clock:#}");
    for node in &fleet.nodes {
        node.exec(&["systemctl", "stop", "clusterdoc-serve"]);
    }
}

#[test]
fn a_template_without_host_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = support::cli::clusterdoc(dir.path())
        .args(["collect", "--nodes", "m1", "--pull", "http://m1:9847"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("{host} must be the URL's host"), "{stderr}");
}
