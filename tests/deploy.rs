//! The deploy descriptors in contrib/, as shipped: the systemd unit (and its
//! listen drop-in) run by a real systemd as PID 1 of a fake node (its own
//! network, /etc and process table: tests/support/fleet_nodes.rs), the
//! Marathon app's command run on such a node as Marathon would run it, and
//! the app judged by clusterdoc's own `marathon.port-collision`; the
//! Prometheus configuration and rules checked by `promtool`.
//!
//! Needs root and the fleet's packages (scripts/test installs them), and
//! Debian's `prometheus` for promtool.

mod support;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::fleet_nodes::{Fleet, Node};
use support::http::{Answer, FakeServer, fixture_json};

const CONTRIB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/contrib");
const UNIT: &str = "clusterdoc.service";
/// How long the unit may take to answer on a machine whose cores are busy.
const START_DEADLINE: Duration = Duration::from_secs(60);

fn contrib(name: &str) -> String {
    format!("{CONTRIB}/{name}")
}

/// `curl` as run by `output`: the status code and the body.
fn curl(run: impl FnOnce(&[&str]) -> Output, url: &str, headers: &[&str]) -> Option<(u16, String)> {
    let mut args = vec!["curl", "-s", "--max-time", "60", "-w", "\n%{http_code}"];
    for header in headers {
        args.extend(["-H", header]);
    }
    args.push(url);
    let out = run(&args);
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n')?;
    Some((code.parse().ok()?, body.to_string()))
}

/// Asks `url` from inside the node until the server `unit` runs answers.
fn wait_for(node: &Node, unit: &str, url: &str, headers: &[&str]) -> (u16, String) {
    let started = Instant::now();
    loop {
        if let Some(answer) = curl(|args| node.output(args), url, headers) {
            return answer;
        }
        if started.elapsed() > START_DEADLINE {
            let status = node.output(&["systemctl", "status", "--no-pager", "-l", unit]);
            panic!("nothing answers {url} in node {}: {}", node.hostname, String::from_utf8_lossy(&status.stdout));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn show(node: &Node, properties: &str) -> String {
    String::from_utf8_lossy(&node.exec(&["systemctl", "show", UNIT, "-p", properties]).stdout).into_owned()
}

/// Installs the binary and the unit in the node (and the drop-in, if given).
fn install_unit(node: &Node, drop_in: Option<&str>) {
    node.install_clusterdoc("clusterdoc");
    node.exec(&["cp", &staged(node, UNIT), "/etc/systemd/system/clusterdoc.service"]);
    if let Some(drop_in) = drop_in {
        node.exec(&["mkdir", "-p", "/etc/systemd/system/clusterdoc.service.d"]);
        node.exec(&["cp", &staged(node, drop_in), "/etc/systemd/system/clusterdoc.service.d/listen.conf"]);
    }
    node.exec(&["systemctl", "daemon-reload"]);
}

/// Starts the unit. Nested in a test's namespaces, systemd's setup of the
/// unit's sandbox (before clusterdoc runs) has failed once on a loaded
/// machine: a failed start is tried once more, and a second failure shows
/// both journals.
fn start_unit(node: &Node) {
    if node.output(&["systemctl", "start", UNIT]).status.success() {
        return;
    }
    let journal = |node: &Node| {
        let out = node.output(&["journalctl", "-u", UNIT, "-n", "20", "--no-pager"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = journal(node);
    node.exec(&["systemctl", "reset-failed", UNIT]);
    let again = node.output(&["systemctl", "start", UNIT]);
    assert!(again.status.success(), "{UNIT} did not start twice:\n{first}\n---\n{}", journal(node));
    eprintln!("{UNIT} started on the second try; the first failed:\n{first}");
}

/// A contrib file put where the node sees it (`/usr/local/bin`): the
/// checkout may be out of its sight, under its private /tmp.
fn staged(node: &Node, name: &str) -> String {
    node.install(name, &std::fs::read_to_string(contrib(name)).unwrap());
    format!("/usr/local/bin/{name}")
}

/// Writes the token file the drop-in and the Marathon app read.
fn write_token(node: &Node, token: &str) {
    node.exec(&["mkdir", "-p", "/etc/clusterdoc"]);
    node.exec(&["sh", "-c", &format!("umask 077 && printf '%s\\n' {token} > /etc/clusterdoc/serve.token")]);
}

#[test]
fn the_unit_starts_under_its_hardening_serves_and_stops_cleanly() {
    let fleet = Fleet::named(&["unitnode"]);
    let node = &fleet.nodes[0];
    install_unit(node, None);
    start_unit(node);
    let (code, health) = wait_for(node, UNIT, "http://127.0.0.1:9847/healthz?verbose", &[]);
    let (_, report) = wait_for(node, UNIT, "http://127.0.0.1:9847/report", &[]);
    let report: clusterdoc::report::Report = serde_json::from_str(&report).unwrap();
    assert_eq!(code, if report.status.is_healthy() { 200 } else { 503 }, "{health}");
    assert_eq!(report.node.hostname.as_deref(), Some("unitnode"), "the node's own name");
    assert!(health.lines().count() == report.checks.len() + 1, "{health}");
    // The hardening leaves the node checks what they need.
    for check in &report.checks {
        let reason = check.reason.as_deref().unwrap_or_default();
        assert!(!reason.contains("Permission denied"), "{}: {reason}", check.id);
        assert!(!reason.contains("could not be read"), "{}: {reason}", check.id);
    }
    let state = show(node, "ActiveState,SubState,MainPID");
    assert!(state.contains("ActiveState=active\n") && state.contains("SubState=running\n"), "{state}");
    let pid = state.lines().find_map(|l| l.strip_prefix("MainPID=")).unwrap().to_string();
    // The server runs with two capabilities, no new privileges, / read-only.
    let status = String::from_utf8_lossy(&node.exec(&["cat", &format!("/proc/{pid}/status")]).stdout).into_owned();
    let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).unwrap().trim().to_string();
    let bounding = u64::from_str_radix(&field("CapBnd:"), 16).unwrap();
    assert_eq!(bounding, (1 << 2) | (1 << 19), "CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE only: {status}");
    assert_eq!(field("NoNewPrivs:"), "1");
    let mounts = String::from_utf8_lossy(&node.exec(&["cat", &format!("/proc/{pid}/mountinfo")]).stdout).into_owned();
    let root = mounts.lines().find(|l| l.split(' ').nth(4) == Some("/")).unwrap();
    assert!(root.split(' ').nth(5).unwrap().split(',').any(|o| o == "ro"), "/ is not read-only: {root}");
    let stopping = Instant::now();
    node.exec(&["systemctl", "stop", UNIT]);
    assert!(stopping.elapsed() < Duration::from_secs(20), "stop took {:?}", stopping.elapsed());
    let stopped = show(node, "ActiveState,Result,ExecMainCode,ExecMainStatus");
    // Exited 0 on SIGTERM, not killed by it (ExecMainCode=2, status 15).
    for expected in ["ActiveState=inactive", "Result=success", "ExecMainStatus=0"] {
        assert!(stopped.lines().any(|l| l == expected), "no {expected} in\n{stopped}");
    }
    assert!(!stopped.lines().any(|l| l == "ExecMainCode=2"), "{stopped}");
    assert!(curl(|args| node.output(args), "http://127.0.0.1:9847/healthz", &[]).is_none(), "still answering");
}

#[test]
fn the_listen_drop_in_serves_the_network_with_the_token_it_loads() {
    let fleet = Fleet::named(&["listennode"]);
    let node = &fleet.nodes[0];
    write_token(node, "tok-from-credential");
    install_unit(node, Some("clusterdoc-listen.conf"));
    start_unit(node);
    let url = format!("http://{}:9847", node.ip);
    let (health, _) = wait_for(node, UNIT, &format!("{url}/healthz"), &[]);
    assert!(health == 200 || health == 503, "{health}");
    // From another machine: the client namespace, across the bridge.
    let from_client = |args: &[&str]| fleet.client.command(args[0]).args(&args[1..]).output().unwrap();
    let (code, metrics) =
        curl(from_client, &format!("{url}/metrics"), &["Authorization: Bearer tok-from-credential"]).unwrap();
    assert_eq!(code, 200, "{metrics}");
    assert!(metrics.contains("clusterdoc_run_errors_total 0"), "{metrics}");
    let (refused, _) = curl(from_client, &format!("{url}/metrics"), &[]).unwrap();
    assert_eq!(refused, 401);
    let (bare, _) = curl(from_client, &format!("{url}/healthz"), &[]).unwrap();
    assert_eq!(bare, health, "a load balancer's health check needs no token");
    node.exec(&["systemctl", "stop", UNIT]);
    assert!(show(node, "Result").contains("Result=success"));
}

/// The Marathon app as shipped.
fn marathon_app() -> Value {
    serde_json::from_str(&std::fs::read_to_string(contrib("marathon-clusterdoc.json")).unwrap()).unwrap()
}

#[test]
fn the_marathon_app_runs_one_instance_per_agent_on_9847_checked_on_healthz() {
    let app = marathon_app();
    assert_eq!(app["constraints"], json!([["hostname", "UNIQUE"]]));
    assert_eq!(app["portDefinitions"][0]["port"], 9847);
    assert_eq!(app["requirePorts"], true);
    let check = &app["healthChecks"][0];
    assert_eq!((&check["path"], &check["portIndex"]), (&json!("/healthz"), &json!(0)));
    assert_eq!(check["maxConsecutiveFailures"], 0, "a node's failing checks must not get the doctor killed");
    assert!(check["timeoutSeconds"].as_u64().unwrap() < check["intervalSeconds"].as_u64().unwrap());
    assert_eq!(app["upgradeStrategy"]["maximumOverCapacity"], 0, "two instances cannot share a host's 9847");
    let cmd = app["cmd"].as_str().unwrap();
    assert!(cmd.contains("--listen 0.0.0.0:9847"), "{cmd}");
}

/// Marathon serving the shipped app (as `/v2/apps` lists it, no task yet)
/// and a master whose agents offer `ports`.
fn judged(app: Value, ports: &str) -> Value {
    let mut listed = app;
    listed["tasks"] = json!([]);
    listed["version"] = json!("2026-12-05T00:00:00.000Z");
    let info = fixture_json("marathon/master/info.json");
    let marathon = FakeServer::start(vec![
        ("/v2/info", Answer::json_value(&info)),
        ("/v2/leader", Answer::json_value(&json!({"leader": info["leader"]}))),
        ("/v2/apps", Answer::json_value(&json!({ "apps": [listed] }))),
        ("/v2/queue", Answer::json_value(&json!({"queue": []}))),
        ("/v2/deployments", Answer::json_value(&json!([]))),
    ]);
    let mut state = fixture_json("marathon_ports/master_state.json");
    for agent in state["slaves"].as_array_mut().unwrap() {
        for key in ["resources", "unreserved_resources"] {
            agent[key]["ports"] = json!(ports);
        }
    }
    let master = FakeServer::start(vec![
        ("/master/state", Answer::json_value(&state)),
        ("/master/health", Answer::status(200, "")),
        ("/metrics/snapshot", Answer::json_value(&json!({"master/elected": 1.0}))),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = support::cli::clusterdoc(dir.path())
        .args(["check", "--format", "json", "--only", "marathon.port-collision"])
        .args(["--marathon", &marathon.url(), "--mesos", &master.url()])
        .output()
        .unwrap();
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["checks"][0].clone()
}

#[test]
fn clusterdoc_itself_judges_the_marathon_app_placeable_where_agents_offer_9847() {
    let offered = judged(marathon_app(), "[9847-9847, 31000-32000]");
    assert_eq!(offered["status"], "pass", "{offered:#}");
    // Agents with Mesos' default ports resource cannot take it: the README says so.
    let default_ports = judged(marathon_app(), "[31000-32000]");
    assert_eq!(default_ports["status"], "fail", "{default_ports:#}");
    assert_eq!(default_ports["findings"][0]["subject"], "port 9847/tcp");
    // One instance per agent: more instances than agents cannot all run.
    let mut beyond = marathon_app();
    beyond["instances"] = json!(5);
    let beyond = judged(beyond, "[9847-9847, 31000-32000]");
    assert_eq!(beyond["status"], "fail", "5 instances, 3 agents: {beyond:#}");
}

#[test]
fn the_marathon_command_serves_on_an_agent_as_marathon_runs_it() {
    let fleet = Fleet::named(&["agentnode"]);
    let node = &fleet.nodes[0];
    node.install_clusterdoc("clusterdoc");
    write_token(node, "tok-marathon");
    let app = marathon_app();
    // Marathon's executor runs `cmd` with sh -c.
    node.exec(&["systemd-run", "--unit=marathon-clusterdoc", "sh", "-c", app["cmd"].as_str().unwrap()]);
    let url = format!("http://{}:9847", node.ip);
    // Marathon's MESOS_HTTP health check sends no credentials.
    let (health, body) = wait_for(
        node,
        "marathon-clusterdoc",
        &format!("{url}{}", app["healthChecks"][0]["path"].as_str().unwrap()),
        &[],
    );
    assert!((health == 200 && body == "ok\n") || (health == 503 && body != "ok\n"), "{health}: {body}");
    let (code, metrics) =
        wait_for(node, "marathon-clusterdoc", &format!("{url}/metrics"), &["Authorization: Bearer tok-marathon"]);
    assert_eq!(code, 200, "{metrics}");
    node.exec(&["systemctl", "stop", "marathon-clusterdoc"]);
}

/// promtool from Debian's prometheus package.
fn promtool(args: &[&str], dir: &Path) -> Output {
    std::process::Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool is needed to check the Prometheus files (apt-get install prometheus; scripts/test does)")
}

#[test]
fn promtool_accepts_the_scrape_config_the_rules_and_the_served_metrics() {
    let contrib = Path::new(CONTRIB);
    let config = promtool(&["check", "config", "--syntax-only", "prometheus.yml"], contrib);
    assert!(
        config.status.success(),
        "{}{}",
        String::from_utf8_lossy(&config.stdout),
        String::from_utf8_lossy(&config.stderr)
    );
    let rules = promtool(&["check", "rules", "clusterdoc-rules.yml"], contrib);
    assert!(rules.status.success(), "{}", String::from_utf8_lossy(&rules.stderr));
    // The rules fire on clusterdoc's own series (promtool's rule unit tests).
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(contrib.join("clusterdoc-rules.yml"), dir.path().join("clusterdoc-rules.yml")).unwrap();
    std::fs::write(
        dir.path().join("test.yml"),
        r#"rule_files: [clusterdoc-rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'clusterdoc_check_status{id="hostname.case",instance="n1:9847",job="clusterdoc"}'
        values: '2x10'
      - series: 'clusterdoc_check_status{id="zk.quorum",instance="n1:9847",job="clusterdoc"}'
        values: '0x10'
    alert_rule_test:
      - eval_time: 6m
        alertname: ClusterdocCheckFailing
        exp_alerts:
          - exp_labels: { severity: critical, id: hostname.case, instance: "n1:9847", job: clusterdoc }
            exp_annotations:
              summary: "hostname.case fails on n1:9847"
              description: "curl -H 'Authorization: Bearer ...' http://n1:9847/report?format=human shows the evidence and the commands that fix it."
      - eval_time: 6m
        alertname: ClusterdocCheckUndecided
        exp_alerts: []
"#,
    )
    .unwrap();
    let tested = promtool(&["test", "rules", "test.yml"], dir.path());
    assert!(
        tested.status.success(),
        "{}{}",
        String::from_utf8_lossy(&tested.stdout),
        String::from_utf8_lossy(&tested.stderr)
    );
    // What /metrics serves passes promtool's lint.
    let server = support::serve::Server::start(&[
        "--from",
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/flink-on-mesos-incident.json"),
    ]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let metrics = runtime.block_on(support::serve::get(&support::serve::client(), &server.url("/metrics"), &[]));
    let mut lint = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    lint.stdin.take().unwrap().write_all(metrics.body.as_bytes()).unwrap();
    let linted = lint.wait_with_output().unwrap();
    assert!(
        linted.status.success(),
        "{}{}\n{}",
        String::from_utf8_lossy(&linted.stdout),
        String::from_utf8_lossy(&linted.stderr),
        metrics.body
    );
}

#[test]
fn the_unit_is_exposed_as_little_as_systemd_analyze_measures() {
    let out = std::process::Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=30", "--no-pager"])
        .arg(contrib(UNIT))
        .output()
        .expect("systemd-analyze is needed (apt-get install systemd)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exposure above 3.0: {text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Overall exposure level for clusterdoc.service: 2.8 OK"), "{text}");
}
