//! The network checks end to end: `net.reachability` run by the clusterdoc
//! binary inside a client network namespace against a server namespace whose
//! nftables rules reject, drop or leave ports closed exactly as firewalld
//! does; `ports.local-conflict` against real listeners on this machine.

mod support;

use crate::support::cli as cli_support;
use crate::support::netns;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::http::{Answer, FakeServer};
use cli_support::{Run, check};
use netns::{HttpServer, Netns, Pair, SERVER_IP};
use serde_json::Value;

/// Ports in the server namespace, one per way a firewall or host answers.
const HOST_PROHIBITED: u16 = 7001;
const ADMIN_PROHIBITED: u16 = 7002;
const DROPPED: u16 = 7003;
const CLOSED: u16 = 7004;
const OPEN: u16 = 7005;
const MESOS_MASTER: u16 = 7010;
const MANY_DROPPED: std::ops::RangeInclusive<u16> = 7100..=7119;
const MANY_REJECTED: std::ops::RangeInclusive<u16> = 7200..=7211;

/// What firewalld applies: the iptables backend rejects with
/// icmp-host-prohibited, the nftables backend with icmpx admin-prohibited;
/// a DROP zone target drops.
fn firewalld_like_rules() -> String {
    format!(
        "table ip cdoc_iptables_backend {{
           chain input {{ type filter hook input priority 0; policy accept;
             tcp dport {{ {HOST_PROHIBITED}, {}-{} }} reject with icmp type host-prohibited
           }}
         }}
         table inet cdoc_nftables_backend {{
           chain input {{ type filter hook input priority 0; policy accept;
             tcp dport {ADMIN_PROHIBITED} reject with icmpx type admin-prohibited
             tcp dport {{ {DROPPED}, {}-{} }} drop
           }}
         }}",
        MANY_REJECTED.start(),
        MANY_REJECTED.end(),
        MANY_DROPPED.start(),
        MANY_DROPPED.end()
    )
}

/// A client and a server namespace with the firewall rules and one open port.
fn firewalled_pair() -> (Pair, TcpListener) {
    let pair = Pair::new();
    pair.server.nft(&firewalld_like_rules());
    let open = pair.server.listen(server(OPEN));
    (pair, open)
}

fn server(port: u16) -> SocketAddr {
    SocketAddr::new(SERVER_IP.into(), port)
}

fn url(port: u16) -> String {
    format!("http://{SERVER_IP}:{port}")
}

/// The clusterdoc binary with no target from the environment or a config file.
fn clusterdoc(mut command: Command, work_dir: &Path) -> Command {
    cli_support::isolate(&mut command, work_dir);
    command.args(["check", "--format", "json"]);
    command
}

fn run(mut command: Command) -> Run {
    let started = Instant::now();
    let output = command.output().expect("cannot run clusterdoc");
    Run::of(output, started.elapsed())
}

/// Runs clusterdoc inside the client namespace, checking reachability only.
fn reachability_from(client: &Netns, args: &[String]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut command = clusterdoc(client.command(env!("CARGO_BIN_EXE_clusterdoc")), dir.path());
    command.args(["--only", "net.reachability"]).args(args);
    run(command)
}

fn finding<'a>(check: &'a Value, subject: &str) -> &'a Value {
    check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["subject"] == subject)
        .unwrap_or_else(|| panic!("no finding for {subject} in {check:#}"))
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("not a string: {value}"))
}

fn evidence_mentions(finding: &Value, part: &str) -> bool {
    finding["evidence"].as_array().unwrap().iter().any(|e| text(e).contains(part))
}

/// Asserts the finding's class word, component and only remediation.
fn assert_finding(check: &Value, subject: &str, class: &str, component: &str, command: &str, risk: &str) -> Value {
    let f = finding(check, subject).clone();
    let message = text(&f["message"]);
    assert!(message.starts_with(&format!("{class}: ")), "{subject}: {message}");
    assert!(message.contains(component), "{subject}: {message} should name {component}");
    assert_eq!(f["status"], "fail", "{f:#}");
    assert_eq!(f["remediation"][0]["command"], command, "{f:#}");
    assert_eq!(f["remediation"][0]["risk"], risk, "{f:#}");
    // A fix for the probed host runs there; one about this node's own view runs here.
    let host = subject.split(':').next().unwrap();
    let runs_there = !command.starts_with("ip route") && !command.starts_with("getent");
    assert_eq!(f["remediation"][0].get("host").and_then(Value::as_str), runs_there.then_some(host), "{f:#}");
    f
}

const FIREWALLD_CHECK: &str = "clusterdoc check --only firewalld.ports";

#[test]
fn each_kind_of_block_is_classified_as_a_remote_client_sees_it() {
    let (pair, _open) = firewalled_pair();
    let args = [
        "--mesos".to_string(),
        url(CLOSED),
        "--marathon".into(),
        url(HOST_PROHIBITED),
        "--zk".into(),
        format!("zk://{SERVER_IP}:{DROPPED},{SERVER_IP}:{OPEN}/marathon"),
        "--flink".into(),
        url(ADMIN_PROHIBITED),
        "--flink".into(),
        "http://10.99.0.1:8081".into(),
        "--flink".into(),
        "http://nosuchhost.invalid:8081".into(),
        "--timeout".into(),
        "1s".into(),
    ];
    let Run { report, code: exit, .. } = reachability_from(&pair.client, &args);
    let c = check(&report, "net.reachability");
    assert_eq!((c["status"].as_str(), exit), (Some("fail"), 2), "{c:#}");

    let refused =
        assert_finding(c, "10.213.0.2:7004", "refused", "Mesos master", "systemctl start mesos-master", "disruptive");
    assert!(evidence_mentions(&refused, "ECONNREFUSED"), "{refused:#}");

    let host_prohibited = assert_finding(c, "10.213.0.2:7001", "rejected", "Marathon", FIREWALLD_CHECK, "safe");
    assert!(evidence_mentions(&host_prohibited, "EHOSTUNREACH"), "{host_prohibited:#}");
    assert!(text(&host_prohibited["message"]).contains("firewall"));

    let admin_prohibited =
        assert_finding(c, "10.213.0.2:7002", "rejected", "Flink JobManager", FIREWALLD_CHECK, "safe");
    assert!(evidence_mentions(&admin_prohibited, "EHOSTUNREACH"), "{admin_prohibited:#}");

    let dropped = assert_finding(c, "10.213.0.2:7003", "dropped", "ZooKeeper", FIREWALLD_CHECK, "safe");
    assert!(text(&dropped["message"]).contains("tried twice"), "{dropped:#}");
    assert!(evidence_mentions(&dropped, "(2 attempts)"), "{dropped:#}");

    let unreachable =
        assert_finding(c, "10.99.0.1:8081", "unreachable", "Flink JobManager", "ip route get 10.99.0.1", "safe");
    assert!(evidence_mentions(&unreachable, "ENETUNREACH"), "{unreachable:#}");

    assert_finding(
        c,
        "nosuchhost.invalid:8081",
        "unresolved",
        "Flink JobManager",
        "getent hosts nosuchhost.invalid",
        "safe",
    );

    let findings = c["findings"].as_array().unwrap();
    assert!(!findings.iter().any(|f| f["subject"] == "10.213.0.2:7005"), "the open port is no finding");
    // The refused master has no state to list its agents by.
    let agents = finding(c, "Mesos agents");
    assert_eq!(agents["status"], "error", "{agents:#}");
    assert!(text(&agents["message"]).starts_with("not probed: no Mesos master knows a leader: "), "{agents:#}");
    assert_eq!(findings.len(), 7, "{c:#}");
}

#[test]
fn twenty_dropped_endpoints_take_about_one_timeout_not_twenty() {
    let (pair, _open) = firewalled_pair();
    let timeout = Duration::from_secs(2);
    let mut args: Vec<String> = MANY_DROPPED.flat_map(|p| ["--flink".to_string(), url(p)]).collect();
    args.extend(["--timeout".into(), format!("{}ms", timeout.as_millis())]);
    let Run { report, took, .. } = reachability_from(&pair.client, &args);
    let c = check(&report, "net.reachability");
    let findings = c["findings"].as_array().unwrap();
    assert_eq!(findings.len(), MANY_DROPPED.len(), "{c:#}");
    assert!(findings.iter().all(|f| text(&f["message"]).starts_with("dropped: ")), "{c:#}");
    // One timeout, plus the one spaced retry that allows for rate-limited rejects.
    // Twenty timeouts in a row would take 40 s.
    let bound = timeout * 2 + cli_support::PAST_DEADLINE;
    assert!(took < bound, "{} dropped endpoints took {took:?} with --timeout {timeout:?}", MANY_DROPPED.len());
}

/// The kernel sends about six ICMP errors to a peer at once, then one a
/// second: a burst of connects to rejected ports sees the later ones time
/// out. Each must then be a reject, or a drop worded as possibly a
/// rate-limited reject - never a plain drop.
#[test]
fn rejects_the_host_rate_limited_are_not_passed_off_as_plain_drops() {
    let (pair, _open) = firewalled_pair();
    let mut args: Vec<String> = MANY_REJECTED.flat_map(|p| ["--flink".to_string(), url(p)]).collect();
    args.extend(["--timeout".into(), "1s".into()]);
    let Run { report, .. } = reachability_from(&pair.client, &args);
    let c = check(&report, "net.reachability");
    let findings = c["findings"].as_array().unwrap();
    assert_eq!(findings.len(), MANY_REJECTED.len(), "{c:#}");
    let messages: Vec<&str> = findings.iter().map(|f| text(&f["message"])).collect();
    let rejected = messages.iter().filter(|m| m.starts_with("rejected: ")).count();
    assert!(rejected >= 6, "the first burst of rejects arrives: {messages:#?}");
    for m in messages.iter().filter(|m| !m.starts_with("rejected: ")) {
        assert!(m.starts_with("dropped: ") && m.contains("a reject it rate-limited (net.ipv4.icmp_ratelimit)"), "{m}");
    }
}

#[test]
fn mesos_agents_are_probed_at_the_address_they_registered_with() {
    let (pair, _open) = firewalled_pair();
    let agent_ports = [OPEN, DROPPED, HOST_PROHIBITED, CLOSED];
    let _master = HttpServer::start(&pair.server, server(MESOS_MASTER), master_routes(&agent_ports));
    let args = ["--mesos".to_string(), url(MESOS_MASTER), "--timeout".into(), "1s".into()];
    let Run { report, .. } = reachability_from(&pair.client, &args);
    let c = check(&report, "net.reachability");
    assert_eq!(c["status"], "fail", "{c:#}");

    let dropped = assert_finding(c, "10.213.0.2:7003", "dropped", "Mesos agent", FIREWALLD_CHECK, "safe");
    assert!(evidence_mentions(&dropped, "agent 1.2.3.11 registered with the Mesos master as slave(1)@10.213.0.2:7003"));
    assert_finding(c, "10.213.0.2:7001", "rejected", "Mesos agent", FIREWALLD_CHECK, "safe");
    assert_finding(c, "10.213.0.2:7004", "refused", "Mesos agent", "systemctl start mesos-slave", "disruptive");
    assert_eq!(c["findings"].as_array().unwrap().len(), 3, "the master and the open agent are fine: {c:#}");
}

/// The master's `/master/state` (the mesos-dns fixture, with the leader and
/// each agent moved into the server namespace) and its health endpoints.
fn master_routes(agent_ports: &[u16]) -> Vec<(&'static str, String)> {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mesos/mesos-dns_factories_fake_state.json");
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let master_pid = format!("master@{SERVER_IP}:{MESOS_MASTER}");
    state["pid"] = master_pid.clone().into();
    state["leader"] = master_pid.into();
    state["hostname"] = SERVER_IP.to_string().into();
    let agents = state["slaves"].as_array_mut().unwrap();
    assert_eq!(agents.len(), agent_ports.len());
    for (agent, port) in agents.iter_mut().zip(agent_ports) {
        agent["pid"] = format!("slave(1)@{SERVER_IP}:{port}").into();
    }
    vec![
        ("/master/state", state.to_string()),
        ("/master/health", String::new()),
        ("/metrics/snapshot", r#"{"master/elected": 1.0}"#.to_string()),
    ]
}

/// A master on loopback whose `/master/state` lists its agents first and
/// then holds the rest of the body back for `pause` (or hangs up with
/// `cut`): the first agent at `agent`, the others at ports nothing listens on.
fn pausing_master(agent: SocketAddr, pause: Duration, cut: bool) -> (FakeServer, Arc<Mutex<Option<Instant>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let master = listener.local_addr().unwrap();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mesos/mesos-dns_factories_fake_state.json");
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    (state["pid"], state["leader"]) = (format!("master@{master}").into(), format!("master@{master}").into());
    let mut agents = state.as_object_mut().unwrap().remove("slaves").unwrap();
    for (i, a) in agents.as_array_mut().unwrap().iter_mut().enumerate() {
        let address = if i == 0 { agent } else { SocketAddr::from(([127, 0, 0, 1], free_port())) };
        a["pid"] = format!("slave(1)@{address}").into();
    }
    let first = format!(r#"{{"slaves": {agents}, "#).into_bytes();
    let rest = state.to_string().as_bytes()[1..].to_vec();
    let resumed = Arc::new(Mutex::new(None));
    let paused = Answer::Paused { first, pause, rest, cut, resumed: Arc::clone(&resumed) };
    let routes = vec![
        ("/master/state", paused),
        ("/master/health", Answer::status(200, "")),
        ("/metrics/snapshot", Answer::json(r#"{"master/elected": 1.0}"#)),
    ];
    (FakeServer::start_on(listener, routes), resumed)
}

/// An agent's port: when it first accepted a connection.
fn accepting_agent() -> (SocketAddr, Arc<Mutex<Option<Instant>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let (address, accepted) = (listener.local_addr().unwrap(), Arc::new(Mutex::new(None)));
    let noted = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for connection in listener.incoming() {
            noted.lock().unwrap().get_or_insert_with(Instant::now);
            drop(connection);
        }
    });
    (address, accepted)
}

/// The report of `--only CHECKS` against `master`, on loopback.
fn reachability_on_loopback(master: &FakeServer, checks: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let mut command = clusterdoc(Command::new(env!("CARGO_BIN_EXE_clusterdoc")), dir.path());
    command.args(["--only", checks, "--mesos", &master.url(), "--timeout", "10s"]);
    run(command).report
}

/// The sweep starts while the state still streams: an agent listed before
/// the master holds its body back is connected to before the rest comes.
#[test]
fn agents_are_probed_while_the_state_is_still_arriving() {
    let (agent, accepted) = accepting_agent();
    let (master, resumed) = pausing_master(agent, Duration::from_secs(2), false);
    let report = reachability_on_loopback(&master, "net.reachability");
    let c = check(&report, "net.reachability");
    assert_eq!(c["status"], "fail", "the three agents at closed ports: {c:#}");
    let findings = c["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3, "{c:#}");
    for f in findings {
        assert!(text(&f["message"]).starts_with("refused: ") && evidence_mentions(f, "ECONNREFUSED"), "{f:#}");
    }
    assert!(text(&c["reason"]).starts_with("2 of 7 endpoints open (1 Mesos master, 1 Mesos agent)"), "{c:#}");
    let accepted = accepted.lock().unwrap().expect("the open agent was never connected to");
    let resumed = resumed.lock().unwrap().expect("the master never sent the rest of its state");
    assert!(accepted < resumed, "the agent was probed only after the whole state had come");
}

/// What the early sweep saw of a state that breaks off later is not kept:
/// the agents are not judged (`error`, never a pass on the endpoints that
/// were probed), and the master's own failure is shown as the cause.
#[test]
fn agents_of_a_state_cut_off_later_are_not_reported() {
    let (agent, accepted) = accepting_agent();
    let (master, _) = pausing_master(agent, Duration::from_millis(500), true);
    let report = reachability_on_loopback(&master, "net.reachability,mesos.leader");
    assert!(accepted.lock().unwrap().is_some(), "the agent was swept while its state arrived");
    let c = check(&report, "net.reachability");
    assert_eq!(c["status"], "error", "{c:#}");
    assert!(text(&c["reason"]).starts_with("1 of 3 endpoints open (1 Mesos master);"), "{c:#}");
    let findings = c["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "only the unlisted agents, none of the early sweep's probes: {c:#}");
    let unprobed = &findings[0];
    assert_eq!((unprobed["status"].as_str(), unprobed["subject"].as_str()), (Some("error"), Some("Mesos agents")));
    let message = text(&unprobed["message"]);
    assert!(
        message.starts_with("not probed: no Mesos master knows a leader: ") && message.contains("broke off"),
        "{message}"
    );
    let rerun = format!("clusterdoc check --only mesos.leader --mesos {}", master.url());
    assert_eq!(unprobed["remediation"][0]["command"], rerun.as_str(), "{unprobed:#}");
    assert_eq!(unprobed["remediation"][0]["risk"], "safe");
    assert_eq!(unprobed["caused_by"][0]["check"], "mesos.leader", "the master's failure explains it: {unprobed:#}");
}

#[test]
fn all_open_passes_and_silent_implicit_defaults_are_not_counted() {
    let (pair, _open) = firewalled_pair();
    let Run { report, code: exit, .. } = reachability_from(&pair.client, &["--flink".into(), url(OPEN)]);
    let c = check(&report, "net.reachability");
    assert_eq!((c["status"].as_str(), exit), (Some("pass"), 0), "{c:#}");
    let note = text(&c["reason"]);
    assert!(note.starts_with("1 of 4 endpoints open (1 Flink JobManager)"), "{note}");
    assert!(note.contains("127.0.0.1:8080 (Marathon, implicit default) refused; name it with --marathon"), "{note}");
}

// ports.local-conflict: real listeners on this machine, role ports moved to
// free high ports through a --checks-dir override.

/// A role-ports.toml override giving `role` one port, with the daemons.
fn role_ports_override(dir: &Path, ports: &[(&str, u16, &str, &str)]) {
    let mut toml = String::new();
    for (role, port, what, key) in ports {
        toml.push_str(&format!(
            "[[port]]\nrole = \"{role}\"\nport = {port}\nwhat = \"{what}\"\nkeys = [\"{key}\"]\n\n"
        ));
    }
    toml.push_str(
        "[[daemon]]\nrole = \"master\"\nname = \"mesos-master\"\nmatches = [\"mesos-master\"]\n\n\
         [[daemon]]\nrole = \"flink\"\nname = \"Flink JobManager\"\n\
         matches = [\"org.apache.flink.mesos.entrypoint.MesosSessionClusterEntrypoint\"]\n",
    );
    std::fs::write(dir.join("role-ports.toml"), toml).unwrap();
}

fn local_conflicts(roles: &[&str], checks_dir: &Path) -> Run {
    local_conflicts_in(&[], roles, checks_dir)
}

/// [`local_conflicts`] with `extra` arguments (`--phase postflight`).
fn local_conflicts_in(extra: &[&str], roles: &[&str], checks_dir: &Path) -> Run {
    let mut command = clusterdoc(Command::new(env!("CARGO_BIN_EXE_clusterdoc")), checks_dir);
    command.args(["--only", "ports.local-conflict", "--checks-dir"]).arg(checks_dir).args(extra);
    for role in roles {
        command.args(["--role", role]);
    }
    run(command)
}

/// A port nothing listens on (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The systemd unit this test process runs in, if any: a holder in a unit is
/// stopped with systemctl rather than killed.
fn own_unit() -> Option<String> {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    cgroups.lines().flat_map(|l| l.rsplit('/')).find(|p| p.ends_with(".service")).map(String::from)
}

#[test]
fn a_role_port_held_by_another_process_fails_naming_pid_and_command() {
    let squatter = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = squatter.local_addr().unwrap().port();
    let flink_port = free_port();
    let dir = tempfile::tempdir().unwrap();
    role_ports_override(
        dir.path(),
        &[
            ("master", port, "Mesos master (test port)", "port"),
            ("flink", flink_port, "Flink JobManager RPC", "jobmanager.rpc.port"),
        ],
    );
    let Run { report, code: exit, .. } = local_conflicts(&["master", "flink"], dir.path());
    let c = check(&report, "ports.local-conflict");
    assert_eq!((c["status"].as_str(), exit), (Some("fail"), 2), "{c:#}");
    let f = finding(c, &format!("port {port}/tcp"));
    let pid = std::process::id();
    let me = std::env::args().next().unwrap();
    let message = text(&f["message"]);
    assert!(message.contains(&format!("held by pid {pid} ({me}")), "{message}");
    assert!(message.contains("not by mesos-master"), "{message}");
    assert!(evidence_mentions(f, &format!("LISTEN 127.0.0.1:{port}")), "{f:#}");
    let expected = match own_unit() {
        Some(unit) => format!("systemctl stop {unit}"),
        None => format!("kill {pid}"),
    };
    assert_eq!(f["remediation"][0]["command"], expected.as_str(), "{f:#}");
    assert_eq!(f["remediation"][0]["risk"], "disruptive");
    assert!(text(&c["reason"]).contains(&format!("{flink_port}/tcp free")), "{c:#}");
    drop(squatter);
}

/// A child process killed when the test ends, however it ends.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `program` (python3 under another name, or python3 itself) with a
/// listener on a free loopback port, its command line ending in `extra`.
fn fake_daemon(program: &Path, extra: &[&str]) -> (Daemon, u16) {
    let listen = "import socket, time\n\
                  s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
                  print(s.getsockname()[1], flush=True)\n\
                  time.sleep(120)";
    let mut child =
        Command::new(program).arg("-c").arg(listen).args(extra).stdout(Stdio::piped()).spawn().expect("python3");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    let port = line.trim().parse().unwrap_or_else(|_| panic!("the fake daemon printed {line:?}"));
    (Daemon(child), port)
}

fn real_python() -> String {
    let out = Command::new("python3").args(["-c", "import sys; print(sys.executable)"]).output();
    let out = out.expect("this test needs python3 (the Debian package python3)");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn the_expected_daemons_on_their_ports_pass() {
    let dir = tempfile::tempdir().unwrap();
    // The Mesos master is recognised by its program name...
    let mesos_master = dir.path().join("mesos-master");
    std::os::unix::fs::symlink(real_python(), &mesos_master).unwrap();
    let (master, master_port) = fake_daemon(&mesos_master, &[]);
    // ...a Flink JobManager by its main class among the arguments.
    let class = "org.apache.flink.mesos.entrypoint.MesosSessionClusterEntrypoint";
    let (jobmanager, flink_port) = fake_daemon(Path::new(&real_python()), &[class]);
    role_ports_override(
        dir.path(),
        &[
            ("master", master_port, "Mesos master (test port)", "port"),
            ("flink", flink_port, "Flink JobManager RPC", "jobmanager.rpc.port"),
        ],
    );
    let Run { report, code: exit, .. } = local_conflicts(&["master", "flink"], dir.path());
    let c = check(&report, "ports.local-conflict");
    assert_eq!((c["status"].as_str(), exit), (Some("pass"), 0), "{c:#}");
    let note = text(&c["reason"]);
    assert!(note.contains(&format!("{master_port}/tcp held by mesos-master (pid {})", master.0.id())), "{note}");
    assert!(note.contains(&format!("{flink_port}/tcp held by Flink JobManager (pid {})", jobmanager.0.id())), "{note}");
}

#[test]
fn free_role_ports_pass_before_the_deploy_and_fail_after_it_until_the_daemon_serves_them() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    role_ports_override(dir.path(), &[("master", port, "Mesos master (test port)", "port")]);
    // The same node, nothing listening: ready for the install...
    let before = local_conflicts_in(&["--phase", "preflight"], &["master"], dir.path());
    let c = check(&before.report, "ports.local-conflict");
    assert_eq!((c["status"].as_str(), before.code), (Some("pass"), 0), "{c:#}");
    assert!(text(&c["reason"]).contains(&format!("{port}/tcp free")), "{c:#}");
    // ...and not done with it.
    let after = local_conflicts_in(&["--phase", "postflight"], &["master"], dir.path());
    let c = check(&after.report, "ports.local-conflict");
    assert_eq!((c["status"].as_str(), after.code), (Some("fail"), 2), "{c:#}");
    let f = finding(c, &format!("port {port}/tcp"));
    assert!(text(&f["message"]).contains("is not served: after the deploy mesos-master should listen here"), "{f:#}");
    assert!(evidence_mentions(f, &format!("no socket listens on {port}/tcp")), "{f:#}");
    assert_eq!(f["remediation"][0]["command"], format!("ss -ltnp 'sport = :{port}'").as_str(), "{f:#}");
    assert_eq!(f["remediation"][0]["risk"], "safe");
    // Once the master serves it, postflight passes.
    let mesos_master = dir.path().join("mesos-master");
    std::os::unix::fs::symlink(real_python(), &mesos_master).unwrap();
    let (master, served) = fake_daemon(&mesos_master, &[]);
    role_ports_override(dir.path(), &[("master", served, "Mesos master (test port)", "port")]);
    let served_after = local_conflicts_in(&["--phase", "postflight"], &["master"], dir.path());
    let c = check(&served_after.report, "ports.local-conflict");
    assert_eq!((c["status"].as_str(), served_after.code), (Some("pass"), 0), "{c:#}");
    assert!(text(&c["reason"]).contains(&format!("held by mesos-master (pid {})", master.0.id())), "{c:#}");
}

#[test]
fn holders_an_unprivileged_run_cannot_see_are_undecidable_not_passes() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test needs root: it runs clusterdoc as nobody against root's socket"
    );
    let squatter = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = squatter.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    role_ports_override(dir.path(), &[("master", port, "Mesos master (test port)", "port")]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut setpriv = Command::new("setpriv");
    setpriv.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_clusterdoc")]);
    let mut command = clusterdoc(setpriv, dir.path());
    command.args(["--only", "ports.local-conflict", "--role", "master", "--checks-dir"]).arg(dir.path());
    let Run { report, code: exit, .. } = run(command);
    let c = check(&report, "ports.local-conflict");
    assert_eq!((c["status"].as_str(), exit), (Some("error"), 3), "{c:#}");
    let f = finding(c, &format!("port {port}/tcp"));
    assert_eq!(f["status"], "error");
    assert!(text(&f["message"]).contains("held by a process clusterdoc cannot see"), "{f:#}");
    assert!(evidence_mentions(f, &format!("LISTEN 127.0.0.1:{port} (socket uid 0): no visible process")), "{f:#}");
    assert!(text(&c["reason"]).contains("could not be read (run as root to see every holder)"), "{c:#}");
    drop(squatter);
}
