//! Fleet mode against real nodes: each a set of namespaces with systemd as
//! PID 1 and a real sshd (tests/support/fleet_nodes.rs), reached by
//! `clusterdoc collect --nodes` over the system's OpenSSH.

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::cli::{PAST_DEADLINE, isolate};
use support::fleet_nodes::{Fleet, Node, NodeSpec};

/// What a remote run may take past its own deadline before `timeout` ends
/// it (3 s, then 1 s to SIGKILL), plus room for a machine whose cores are busy.
const REMOTE_CLEANUP: Duration = Duration::from_secs(20);

/// A finished `collect --nodes`: the fleet snapshot it wrote.
struct Collected {
    snapshot: Value,
    code: i32,
    stderr: String,
    took: Duration,
    /// The most memory clusterdoc held (VmHWM), in KiB.
    peak_kib: u64,
}

impl Collected {
    /// The record of the node named `host`.
    fn node(&self, host: &str) -> &Value {
        let nodes = self.snapshot["nodes"].as_array().unwrap_or_else(|| panic!("no nodes in {:#}", self.snapshot));
        nodes.iter().find(|n| n["host"] == host).unwrap_or_else(|| panic!("no node {host} in {:#}", self.snapshot))
    }

    /// The state and error of the node at `node`'s address.
    fn outcome(&self, node: &Node) -> (String, String) {
        let record = self.node(&node.ip.to_string());
        (record["state"].as_str().unwrap().into(), record["error"].as_str().unwrap_or_default().into())
    }
}

/// Runs `clusterdoc collect` in the fleet's client namespace with `args`
/// (the fleet's ssh command unless `args` or `env` name one), writing the
/// snapshot into `dir`, and watches its memory.
fn collect_with(fleet: &Fleet, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Collected {
    let out = dir.join("fleet.json");
    let err = dir.join("stderr");
    let mut cmd = fleet.client.command(env!("CARGO_BIN_EXE_clusterdoc"));
    isolate(&mut cmd, dir);
    cmd.arg("collect").args(args).arg("-o").arg(&out).envs(env.iter().copied());
    if !args.contains(&"--ssh") && !env.iter().any(|(k, _)| *k == "CLUSTERDOC_SSH") {
        cmd.args(["--ssh", &fleet.ssh_command()]);
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(std::fs::File::create(&err).unwrap());
    let started = Instant::now();
    // `ip netns exec` execs clusterdoc: the child is clusterdoc itself.
    let mut child = cmd.spawn().expect("run clusterdoc");
    let mut peak_kib = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        peak_kib = peak_kib.max(high_water_mark_kib(child.id()).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let stderr = std::fs::read_to_string(&err).unwrap();
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("no snapshot written ({e}); stderr: {stderr}"));
    let snapshot = serde_json::from_str(&text).unwrap_or_else(|e| panic!("the snapshot is not JSON ({e}): {text}"));
    Collected { snapshot, code: status.code().expect("an exit code"), stderr, took, peak_kib }
}

fn collect(fleet: &Fleet, dir: &Path, args: &[&str]) -> Collected {
    collect_with(fleet, dir, args, &[])
}

/// The most resident memory process `pid` has held so far (VmHWM), in KiB.
fn high_water_mark_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn addresses(nodes: &[Node]) -> String {
    nodes.iter().map(|n| n.ip.to_string()).collect::<Vec<_>>().join(",")
}

/// A clusterdoc on the node's PATH that logs how it was called, then runs
/// the one under test.
const LOGGING_CLUSTERDOC: &str =
    "#!/bin/sh\necho \"$*\" >> /usr/local/bin/calls.log\nexec /usr/local/bin/clusterdoc-under-test \"$@\"\n";

/// `clusterdoc check` run in the fleet's client namespace, its JSON report.
fn check(fleet: &Fleet, dir: &Path, args: &[&str]) -> (Value, i32) {
    let mut cmd = fleet.client.command(env!("CARGO_BIN_EXE_clusterdoc"));
    isolate(&mut cmd, dir);
    cmd.args(["check", "--format", "json", "--ssh", &fleet.ssh_command()]).args(args);
    let out = cmd.stdin(Stdio::null()).output().expect("run clusterdoc");
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (report, out.status.code().expect("an exit code"))
}

fn check_of<'a>(report: &'a Value, id: &str) -> &'a Value {
    let checks = report["checks"].as_array().unwrap();
    checks.iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no {id} in {report:#}"))
}

/// Each node's own /etc/hosts line for itself; node2's is Debian's
/// `127.0.1.1` line, which its peers cannot use.
fn hosts_line(ip: &str, name: &str) -> String {
    format!("127.0.0.1 localhost\n{ip} {name}\n")
}

#[test]
fn three_nodes_are_reached_and_each_is_judged_on_its_own_facts() {
    let started = Instant::now();
    let fleet = Fleet::start(&[
        NodeSpec::named("Node1").with_etc("hosts", &hosts_line("10.232.0.2", "Node1")),
        NodeSpec::named("node2").with_etc("hosts", &hosts_line("127.0.1.1", "node2")),
        // An agent's work directory: the built-in mesos.agent-disk runs there.
        NodeSpec::named("node3")
            .with_etc("hosts", &hosts_line("10.232.0.4", "node3"))
            .with_etc("mesos-slave/work_dir", "/tmp\n"),
    ]);
    eprintln!("3 nodes up in {:?}", started.elapsed());
    // node3 has this version of clusterdoc installed: `auto` runs it there
    // and pushes this binary to the other two.
    fleet.nodes[2].install_clusterdoc("clusterdoc-under-test");
    fleet.nodes[2].install("clusterdoc", LOGGING_CLUSTERDOC);
    let dir = tempfile::tempdir().unwrap();
    // A Mesos deploy file as the cluster scripts have it.
    let masters = dir.path().join("masters");
    std::fs::write(&masters, format!("# masters\n{}\n{}  # the third\n", fleet.nodes[1].ip, fleet.nodes[2].ip))
        .unwrap();
    let nodes = format!("root@{}:22,@{}", fleet.nodes[0].ip, masters.display());
    let run = collect(&fleet, dir.path(), &["--nodes", &nodes, "--deadline", "60s"]);
    eprintln!("collect from 3 nodes took {:?}, peak RSS {} KiB", run.took, run.peak_kib);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.snapshot["nodes"].as_array().unwrap().len(), 3);
    for node in &fleet.nodes {
        let record = run.node(&node.ip.to_string());
        assert_eq!(record["state"], "reached", "{record:#}");
        assert_eq!(record["error"], Value::Null);
        assert_eq!(record["address"], node.ip.to_string());
        assert_eq!(record["facts"]["node"]["value"]["hostname"]["value"]["value"], node.hostname, "{record:#}");
        // systemd answered live inside the node.
        assert_eq!(record["facts"]["systemd"]["state"], "observed", "{record:#}");
        // The machine's ZooKeeper config is not the node's: no roles but
        // node3's, from its own agent work directory file.
        let roles = if node.hostname == "node3" { serde_json::json!(["agent"]) } else { serde_json::json!([]) };
        assert_eq!(record["facts"]["roles"]["value"]["roles"], roles, "{record:#}");
        eprintln!("{}: {} ms", node.hostname, record["duration_ms"]);
        assert!(node.tmp_entries().is_empty(), "{} left {:?} in its /tmp", node.hostname, node.tmp_entries());
    }
    let calls = fleet.nodes[2].installed_file("calls.log");
    assert!(
        calls.starts_with("--version\ncollect --node --deadline "),
        "the installed clusterdoc was not used: {calls:?}"
    );

    // Judged live, and replayed from the snapshot: the same verdicts.
    let (live, live_code) = check(&fleet, dir.path(), &["--nodes", &nodes, "--deadline", "60s"]);
    let (replay, replay_code) = check(&fleet, dir.path(), &["--from", "fleet.json"]);
    for (report, code) in [(&live, live_code), (&replay, replay_code)] {
        assert_eq!(code, 2, "{report:#}");
        let listed: Vec<(&str, &str, &str)> = report["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["host"].as_str().unwrap(), n["hostname"].as_str().unwrap(), n["state"].as_str().unwrap()))
            .collect();
        assert_eq!(
            listed,
            [
                ("10.232.0.2", "Node1", "reached"),
                ("10.232.0.3", "node2", "reached"),
                ("10.232.0.4", "node3", "reached")
            ]
        );
        let case = check_of(report, "hostname.case");
        assert_eq!(case["status"], "fail", "{case:#}");
        assert_eq!(
            case["by_node"],
            serde_json::json!({"10.232.0.2": "fail", "10.232.0.3": "pass", "10.232.0.4": "pass"})
        );
        let upper = &case["findings"][0];
        assert_eq!((upper["node"].as_str(), upper["subject"].as_str()), (Some("10.232.0.2"), Some("host Node1")));
        assert_eq!(case["findings"].as_array().unwrap().len(), 1, "{case:#}");
        let fix = &upper["remediation"][0];
        assert_eq!(
            (fix["command"].as_str(), fix["host"].as_str()),
            (Some("hostnamectl set-hostname node1"), Some("10.232.0.2"))
        );
        let resolution = check_of(report, "hostname.resolution");
        assert_eq!(resolution["status"], "fail", "{resolution:#}");
        assert_eq!(resolution["by_node"]["10.232.0.3"], "fail", "{resolution:#}");
        assert_eq!(resolution["by_node"]["10.232.0.2"], "pass", "{resolution:#}");
        let loopback = &resolution["findings"][0];
        assert_eq!(loopback["node"], "10.232.0.3", "{resolution:#}");
        assert!(loopback["evidence"].to_string().contains("127.0.1.1"), "{loopback:#}");
        // Checks of the cluster run once, on what the orchestrator saw.
        let leader = check_of(report, "mesos.leader");
        assert!(leader.get("by_node").is_none(), "{leader:#}");
        // A built-in pack check that runs a command runs it on every node:
        // node3 has a work directory (df -P /tmp there), the others none.
        // (It passes or warns as this machine's disk is, which node3's /tmp is on.)
        let disk = check_of(report, "mesos.agent-disk");
        let on: Vec<&str> =
            ["10.232.0.2", "10.232.0.3", "10.232.0.4"].map(|n| disk["by_node"][n].as_str().unwrap()).into();
        assert!(matches!(on[..], ["skip", "skip", "pass" | "warn"]), "{disk:#}");
        let judged = disk["reason"].as_str().unwrap();
        assert!(judged.contains("on 10.232.0.4") && judged.contains("skip on 10.232.0.[2-3]"), "{disk:#}");
        // One that asks over the network is a cluster check like the others.
        let outstanding = check_of(report, "zk.outstanding-requests");
        assert!(!outstanding["reason"].as_str().unwrap_or_default().contains("fleet run"), "{outstanding:#}");
    }
    let statuses = |report: &Value| -> Vec<(String, String)> {
        let checks = report["checks"].as_array().unwrap();
        checks.iter().map(|c| (c["id"].to_string(), c["status"].to_string())).collect()
    };
    assert_eq!(statuses(&live), statuses(&replay));

    // The human report: the fleet line, and each finding on its node.
    let mut cmd = support::cli::plain(dir.path());
    let human = cmd.args(["check", "--from", "fleet.json", "--only", "hostname."]).output().unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.lines().nth(1).unwrap().starts_with("fleet: 3 nodes · 3 reached (10.232.0.[2-4])"), "{text}");
    assert!(text.contains("on 10.232.0.2: host Node1: host name has upper-case letters"), "{text}");
    assert!(text.contains("on 10.232.0.2: hostnamectl set-hostname node1"), "{text}");

    // Every format carries the node.
    let render = |format: &str| -> String {
        let mut cmd = support::cli::plain(dir.path());
        let out = cmd.args(["check", "--from", "fleet.json", "--only", "hostname.", "--format", format]).output();
        String::from_utf8(out.unwrap().stdout).unwrap()
    };
    let prometheus = render("prometheus");
    assert!(prometheus.contains("clusterdoc_check_status{id=\"hostname.case\",node=\"10.232.0.2\"} 2"), "{prometheus}");
    assert!(prometheus.contains("clusterdoc_check_status{id=\"hostname.case\",node=\"10.232.0.3\"} 0"), "{prometheus}");
    assert!(prometheus.contains("clusterdoc_node_reached{node=\"10.232.0.4\",state=\"reached\"} 1"), "{prometheus}");
    let junit = render("junit");
    for node in ["10.232.0.2", "10.232.0.3", "10.232.0.4"] {
        assert!(junit.contains(&format!("<testsuite name=\"clusterdoc@{node}\" tests=\"2\"")), "{junit}");
    }
    assert!(junit.contains("[fail] on 10.232.0.2: host Node1: host name has upper-case letters"), "{junit}");
    let tap = render("tap");
    assert!(tap.contains("[fail] on 10.232.0.3: host node2: node2 resolves to loopback 127.0.1.1"), "{tap}");
    let nagios = render("nagios");
    assert!(
        nagios.starts_with("CLUSTERDOC CRITICAL - 2 fail, 0 warn: hostname.case (host Node1 on 10.232.0.2)"),
        "{nagios}"
    );
}

#[test]
fn unreachable_nodes_are_reported_with_ssh_s_reason_and_the_others_are_unaffected() {
    let fleet = Fleet::start(&[
        NodeSpec::named("fine"),
        NodeSpec::named("stopped"),
        NodeSpec::named("silent"),
        NodeSpec::refusing_the_key("refusing"),
        NodeSpec::named("rekeyed"),
    ]);
    fleet.nodes[0].install_clusterdoc("clusterdoc");
    fleet.nodes[1].stop_sshd();
    fleet.nodes[2].drop_ssh_syns();
    fleet.change_known_host_key(4);
    let dir = tempfile::tempdir().unwrap();
    let deadline = Duration::from_secs(20);
    let args =
        ["--nodes", &addresses(&fleet.nodes), "--timeout", "2s", "--deadline", "20s", "--remote-bin", "clusterdoc"];
    let run = collect(&fleet, dir.path(), &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.outcome(&fleet.nodes[0]), ("reached".into(), String::new()));
    for (node, reason) in [
        (1, "Connection refused"),
        (2, "Connection timed out"),
        (3, "Permission denied (publickey)"),
        (4, "Host key verification failed."),
    ] {
        let (state, error) = run.outcome(&fleet.nodes[node]);
        assert_eq!(state, "unreachable", "{}: {error}", fleet.nodes[node].hostname);
        assert!(error.contains(reason), "{}: {error:?} does not say {reason:?}", fleet.nodes[node].hostname);
    }
    // The silent node holds up only its own session: ssh's ConnectTimeout (2 s).
    let silent_ms = run.node(&fleet.nodes[2].ip.to_string())["duration_ms"].as_u64().unwrap();
    assert!(silent_ms >= 2000, "{silent_ms} ms");
    assert!(run.took < deadline, "took {:?}", run.took);

    // Judged: a node not reached makes its node checks error there, never pass.
    let (report, code) = check(&fleet, dir.path(), &[&args[..], &["--only", "hostname.case,fleet.nodes"]].concat());
    let case = check_of(&report, "hostname.case");
    assert_eq!(case["status"], "error", "{case:#}");
    assert_eq!(code, 3, "an undecided check is UNKNOWN: {report:#}");
    assert_eq!(case["by_node"][fleet.nodes[0].ip.to_string()], "pass", "{case:#}");
    let reason = case["reason"].as_str().unwrap();
    for (node, said) in
        [(1, "unreachable: ssh: connect to host"), (3, "unreachable: root@10.232.0.5: Permission denied")]
    {
        let ip = fleet.nodes[node].ip.to_string();
        assert_eq!(case["by_node"][&ip], "error", "{case:#}");
        assert!(reason.contains(&format!("node {ip} {said}")), "{reason}");
    }
    let states: Vec<&str> = report["nodes"].as_array().unwrap().iter().map(|n| n["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["reached", "unreachable", "unreachable", "unreachable", "unreachable"]);

    // Each node not reached is one problem of fleet.nodes, the root of its node checks' errors there.
    let nodes = check_of(&report, "fleet.nodes");
    assert_eq!(nodes["status"], "error", "{nodes:#}");
    let unreached: Vec<&Value> = nodes["findings"].as_array().unwrap().iter().collect();
    assert_eq!(unreached.len(), 4, "{nodes:#}");
    let stopped = fleet.nodes[1].ip.to_string();
    let first = unreached.iter().find(|f| f["subject"] == format!("node {stopped}")).expect("the stopped node");
    assert!(first["message"].as_str().unwrap().contains("not reached over ssh: ssh: connect to host"), "{first:#}");
    assert_eq!(first["remediation"][0]["command"], format!("ssh -o BatchMode=yes -o ConnectTimeout=10 {stopped} true"));
    let roots = report["root_causes"].as_array().expect("root causes");
    assert_eq!(roots.len(), 4, "{:#}", report["root_causes"]);
    for root in roots {
        assert_eq!(root["check"], "fleet.nodes", "{root:#}");
        assert_eq!(
            (root["explains"].as_u64(), &root["explained_checks"]),
            (Some(1), &serde_json::json!(["hostname.case"]))
        );
    }
    let folded = case["findings"].as_array().unwrap();
    let on_stopped = folded.iter().find(|f| f["node"] == stopped.as_str()).expect("hostname.case on the stopped node");
    assert_eq!(on_stopped["status"], "error");
    let cause = &on_stopped["caused_by"][0];
    assert_eq!(
        (&cause["check"], &cause["subject"]),
        (&Value::from("fleet.nodes"), &Value::from(format!("node {stopped}")))
    );
}

#[test]
fn a_pushed_binary_s_directory_is_removed_also_when_the_run_is_cut_at_the_deadline() {
    let fleet = Fleet::named(&["stuck"]);
    let node = &fleet.nodes[0];
    // The private directory exists when `cat` receives the binary; here
    // `cat` never returns, so the session is still running at the deadline.
    node.install("cat", "#!/bin/sh\necho receiving >> /usr/local/bin/cat.log\nexec sleep 600\n");
    let dir = tempfile::tempdir().unwrap();
    let deadline = Duration::from_secs(6);
    let args = ["--nodes", &addresses(&fleet.nodes), "--deadline", "6s", "--remote-bin", "push"];
    let run = collect(&fleet, dir.path(), &args);
    // The remote run's own limit is later than ours: the directory is there.
    let at_the_cut = node.tmp_entries();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (state, error) = run.outcome(node);
    assert_eq!(state, "cut-off", "{error}");
    assert!(error.starts_with("still running at the deadline"), "{error}");
    assert!(run.took >= deadline - Duration::from_secs(1) && run.took < deadline + PAST_DEADLINE, "{:?}", run.took);
    assert_eq!(node.installed_file("cat.log"), "receiving\n");
    assert_eq!(at_the_cut.len(), 1, "no private directory at the cut: {at_the_cut:?}");
    // ssh was killed without a hangup to the node: the remote run ends itself.
    let left = node.tmp_left_after(REMOTE_CLEANUP);
    assert!(left.is_empty(), "the node's /tmp still holds {left:?}");
    assert!(node.wait_until_gone("sleep 600", REMOTE_CLEANUP), "the remote run outlived its own deadline");
}

#[test]
fn hostile_remote_programs_end_as_errors_or_cut_offs_on_time_in_bounded_memory() {
    let fleet = Fleet::named(&["fine", "babbling", "flooding", "hanging"]);
    fleet.nodes[0].install_clusterdoc("cdoc");
    fleet.nodes[1].install("cdoc", "#!/bin/sh\nprintf '\\033[31m{\"tool\": not json\\n'\n");
    fleet.nodes[2].install("cdoc", "#!/bin/sh\nexec head -c 1G /dev/zero\n");
    fleet.nodes[3].install("cdoc", "#!/bin/sh\nexec sleep 600\n");
    let dir = tempfile::tempdir().unwrap();
    let deadline = Duration::from_secs(10);
    let args = ["--nodes", &addresses(&fleet.nodes), "--deadline", "10s", "--remote-bin", "cdoc"];
    let run = collect(&fleet, dir.path(), &args);
    eprintln!("hostile nodes: took {:?}, peak RSS {} KiB", run.took, run.peak_kib);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.outcome(&fleet.nodes[0]), ("reached".into(), String::new()));
    let (state, error) = run.outcome(&fleet.nodes[1]);
    assert_eq!(state, "error");
    assert!(error.starts_with("answered with something that is not a node snapshot"), "{error}");
    assert_eq!(run.outcome(&fleet.nodes[2]), ("error".into(), "answered with more than 64 MiB".into()));
    let (state, error) = run.outcome(&fleet.nodes[3]);
    assert_eq!(state, "cut-off", "{error}");
    assert!(run.took < deadline + PAST_DEADLINE, "took {:?}", run.took);
    // 1 GiB was sent; at most the 64 MiB cap (and its buffer's growth) is held.
    assert!(run.peak_kib < 400 * 1024, "peak RSS {} KiB", run.peak_kib);
    assert!(fleet.nodes[3].wait_until_gone("sleep 600", REMOTE_CLEANUP), "the hanging program outlived its deadline");
}

#[test]
fn a_destination_that_could_be_an_option_is_refused_and_never_reaches_ssh() {
    let fleet = Fleet::named(&["fine"]);
    fleet.nodes[0].install_clusterdoc("clusterdoc");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("argv.log");
    let marker = dir.path().join("pwned");
    // The ssh command logs every argv it is given, then runs the real ssh.
    let logging_ssh = fleet.script(
        "logging-ssh",
        &format!("#!/bin/sh\nprintf '%s\\n' \"$@\" >> {}\necho >> {}\nexec ssh \"$@\"\n", log.display(), log.display()),
    );
    let slaves = dir.path().join("slaves");
    std::fs::write(&slaves, format!("-oProxyCommand=touch {}\n{}\n", marker.display(), fleet.nodes[0].ip)).unwrap();
    let ssh = format!("{} {}", logging_ssh.display(), fleet.ssh_command().trim_start_matches("ssh"));
    let nodes = format!("@{},root@-lroot,-x", slaves.display());
    let run = collect_with(
        &fleet,
        dir.path(),
        &["--remote-bin", "clusterdoc"],
        &[("CLUSTERDOC_NODES", &nodes), ("CLUSTERDOC_SSH", &ssh)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.outcome(&fleet.nodes[0]), ("reached".into(), String::new()));
    for (host, reason) in [
        (format!("-oProxyCommand=touch {}", marker.display()), "starts with '-' and would be read as an option"),
        ("root@-lroot".to_string(), "starts with '-' and would be read as an option"),
        ("-x".to_string(), "starts with '-' and would be read as an option"),
    ] {
        let record = run.node(&host);
        assert_eq!(record["state"], "refused", "{record:#}");
        assert!(record["error"].as_str().unwrap().contains(reason), "{record:#}");
    }
    let argv = std::fs::read_to_string(&log).unwrap();
    assert_eq!(argv.matches("\n\n").count(), 1, "ssh ran more than once: {argv}");
    assert!(!argv.contains("ProxyCommand") && !argv.contains("-lroot"), "{argv}");
    assert!(argv.contains(&format!("{}\n--\n", fleet.nodes[0].ip)), "the host is not followed by --: {argv}");
    assert!(!marker.exists(), "a refused destination ran a command");
}

/// An `--ssh` command that reaches nothing: it records how many sessions
/// run at once, then answers garbage for a host named `quick...`, never
/// answers for `slow...`, and for others sleeps a little first.
const FAKE_SSH: &str = r#"#!/bin/sh
log=$(dirname "$0")
touch "$log/active.$$"
ls "$log" | grep -c '^active\.' >> "$log/in-flight"
case "$*" in
*" quick"*" -- "*) ;;
*" slow"*" -- "*) exec sleep 600 ;;
*) sleep 0.5 ;;
esac
rm -f "$log/active.$$"
echo garbage
"#;

fn fake_fleet_run(dir: &Path, args: &[&str]) -> (Value, Duration) {
    let ssh = dir.join("fake-ssh");
    std::fs::write(&ssh, FAKE_SSH).unwrap();
    std::fs::set_permissions(&ssh, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = dir.join("fleet.json");
    let mut cmd = support::cli::plain(dir);
    cmd.args(["collect", "--ssh"]).arg(&ssh).args(args).arg("-o").arg(&out);
    let started = Instant::now();
    let output = cmd.output().unwrap();
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    (serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap(), took)
}

#[test]
fn at_most_fanout_sessions_run_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (snapshot, _) = fake_fleet_run(dir.path(), &["--nodes", "n1,n2,n3,n4,n5", "--fanout", "2"]);
    let states: Vec<&Value> = snapshot["nodes"].as_array().unwrap().iter().map(|n| &n["state"]).collect();
    assert_eq!(states, ["error"; 5], "{snapshot:#}");
    let in_flight = std::fs::read_to_string(dir.path().join("in-flight")).unwrap();
    let most = in_flight.lines().map(|l| l.parse::<u32>().unwrap()).max().unwrap();
    assert_eq!(most, 2, "sessions at once, as each started: {in_flight:?}");
}

#[test]
fn at_the_deadline_a_running_session_is_cut_off_and_a_waiting_one_never_starts() {
    let dir = tempfile::tempdir().unwrap();
    let deadline = Duration::from_secs(3);
    let (snapshot, took) =
        fake_fleet_run(dir.path(), &["--nodes", "quick1,slow1,later1", "--fanout", "1", "--deadline", "3s"]);
    let outcome = |i: usize| {
        let node = &snapshot["nodes"][i];
        (node["host"].as_str().unwrap(), node["state"].as_str().unwrap(), node["error"].as_str().unwrap())
    };
    assert_eq!(outcome(0).1, "error");
    assert_eq!(outcome(1).1, "cut-off");
    assert!(outcome(1).2.starts_with("still running at the deadline"), "{snapshot:#}");
    assert_eq!(outcome(2), ("later1", "cut-off", "not started before the deadline"));
    assert!(took >= deadline - Duration::from_secs(1) && took < deadline + PAST_DEADLINE, "{took:?}");
}

#[test]
fn fleet_settings_that_cannot_work_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (args, said) in [
        (vec!["collect", "--nodes", "@/nonexistent/slaves"], "--nodes @/nonexistent/slaves: No such file"),
        (vec!["collect", "--nodes", "m1", "--ssh", "ssh -i 'key"], "--ssh \"ssh -i 'key\": unbalanced quotes"),
        (vec!["collect", "--nodes", "m1", "--remote-bin=-x"], "--remote-bin \"-x\": a path may not start with '-'"),
        (vec!["collect", "--nodes", "m1", "--fanout", "0"], "--fanout: must be at least 1"),
        (vec!["check", "--nodes", "@/nonexistent/masters"], "--nodes @/nonexistent/masters: No such file"),
    ] {
        let output = support::cli::plain(dir.path()).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
    }
}

#[test]
fn collect_node_writes_this_node_s_own_facts_and_never_fans_out() {
    let dir = tempfile::tempdir().unwrap();
    // Fleet settings from the environment do not turn a node's run into a fleet's.
    let output = support::cli::plain(dir.path())
        .args(["collect", "--node", "--deadline", "20s"])
        .env("CLUSTERDOC_NODES", "m1,m2")
        .env("CLUSTERDOC_SSH", "/bin/false")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let snapshot: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(snapshot["nodes"], Value::Null, "{snapshot:#}");
    assert_eq!(snapshot["address"], Value::Null, "not run over ssh: {snapshot:#}");
    let facts = snapshot["facts"].as_object().unwrap();
    let gathered: Vec<&str> = facts
        .iter()
        .filter(|(name, fact)| *name != "inputs" && !fact.is_null())
        .map(|(name, _)| name.as_str())
        .collect();
    // Reachability too, of what the fleet run asked (here nothing): never
    // this node's implicit defaults.
    assert_eq!(
        gathered,
        ["dns", "firewalld", "knowledge", "node", "processes", "reach", "roles", "sockets", "systemd"]
    );
    assert_eq!(facts["reach"]["value"]["probes"], serde_json::json!([]), "{snapshot:#}");
    // A node's snapshot is a snapshot: `check --from` judges it.
    std::fs::write(dir.path().join("node.json"), &output.stdout).unwrap();
    let replay =
        support::cli::plain(dir.path()).args(["check", "--from", "node.json", "--format", "json"]).output().unwrap();
    let report: Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert!(report["checks"].as_array().is_some_and(|c| !c.is_empty()), "{report:#}");
}

/// A zoo.cfg with these `server.N` hosts (ids from 1), dataDir /etc/zookeeper/conf.
fn zoo_cfg(hosts: &[&str]) -> String {
    let mut text = String::from("tickTime=2000\ndataDir=/etc/zookeeper/conf\nclientPort=2181\n");
    for (i, host) in hosts.iter().enumerate() {
        text.push_str(&format!("server.{}={host}:2888:3888\n", i + 1));
    }
    text
}

fn zk_node(name: &str, hosts: &[&str], myid: &str) -> NodeSpec {
    NodeSpec::named(name).with_etc("zookeeper/conf/zoo.cfg", &zoo_cfg(hosts)).with_etc("zookeeper/conf/myid", myid)
}

#[test]
fn zookeeper_servers_that_disagree_on_their_ensemble_fail_fleet_zk_ensemble() {
    let good = ["10.232.0.2", "10.232.0.3", "10.232.0.4"];
    let bad = ["10.232.0.5", "10.232.0.6", "10.232.0.7"];
    let fleet = Fleet::start(&[
        zk_node("zk1", &good, "1\n"),
        zk_node("zk2", &good, "2\n"),
        zk_node("zk3", &good, "3\n"),
        // Consistent but for: zk5 took zk4's myid, and zk6 lists itself as
        // loopback (a classic of hand-written configs).
        zk_node("zk4", &bad, "1\n"),
        zk_node("zk5", &bad, "1\n"),
        zk_node("zk6", &["10.232.0.5", "10.232.0.6", "127.0.0.1"], "3\n"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let only = ["--only", "fleet.zk-ensemble", "--deadline", "60s"];

    let (report, code) = check(&fleet, dir.path(), &[&["--nodes", &good.join(",")][..], &only].concat());
    let ensemble = check_of(&report, "fleet.zk-ensemble");
    assert_eq!(ensemble["status"], "pass", "{ensemble:#}");
    assert_eq!(ensemble["reason"], "3 ZooKeeper servers compared: 3 server.N lines");
    assert_eq!(code, 0);

    let (report, code) = check(&fleet, dir.path(), &[&["--nodes", &bad.join(",")][..], &only].concat());
    let ensemble = check_of(&report, "fleet.zk-ensemble");
    assert_eq!(ensemble["status"], "fail", "{ensemble:#}");
    assert_eq!(code, 2);
    let said = |part: &str| -> &Value {
        let findings = ensemble["findings"].as_array().unwrap();
        findings
            .iter()
            .find(|f| f["message"].as_str().unwrap().contains(part))
            .unwrap_or_else(|| panic!("no {part:?} in {ensemble:#}"))
    };
    let differs = said("zoo.cfg lists other servers than on 10.232.0.[5-6]");
    assert_eq!(differs["subject"], "ZooKeeper on 10.232.0.7");
    let evidence = differs["evidence"].to_string();
    assert!(evidence.contains("server.3=127.0.0.1:2888:3888"), "{differs:#}");
    let fixes: Vec<&str> =
        differs["remediation"].as_array().unwrap().iter().map(|r| r["command"].as_str().unwrap()).collect();
    assert_eq!(
        fixes[1],
        "printf '%s\\n' 'server.1=10.232.0.5:2888:3888' 'server.2=10.232.0.6:2888:3888' 'server.3=10.232.0.7:2888:3888' \
         >> /etc/zookeeper/conf/zoo.cfg",
        "{differs:#}"
    );
    let borrowed = said("myid 1 names server.1=10.232.0.5:2888:3888, another host");
    assert_eq!(borrowed["subject"], "ZooKeeper on 10.232.0.6");
    assert_eq!(borrowed["remediation"][0]["command"], "printf '%s\\n' 2 > /etc/zookeeper/conf/myid", "{borrowed:#}");
    assert_eq!(borrowed["remediation"][0]["host"], "10.232.0.6", "{borrowed:#}");
    assert_eq!(said("myid 1 on 2 servers")["subject"], "ZooKeeper on 10.232.0.[5-6]");
    assert!(said("a loopback address in a multi-server list")["evidence"].to_string().contains("server.3=127.0.0.1"));

    // A server the lists name that cannot be reached: not a pass.
    fleet.nodes[2].stop_sshd();
    let (report, code) =
        check(&fleet, dir.path(), &[&["--nodes", &good.join(","), "--timeout", "2s"][..], &only].concat());
    let ensemble = check_of(&report, "fleet.zk-ensemble");
    assert_eq!(ensemble["status"], "error", "{ensemble:#}");
    assert!(ensemble["reason"].as_str().unwrap().contains("node 10.232.0.4 (unreachable) is a server of the ensemble"));
    assert_eq!(code, 3);
}

/// The real Mesos 1.11.0 master state, as a master on `master` with these
/// agents would answer it.
fn master_state(master: &str, agents: &[&str]) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/mesos-real/1.11.0-master_state.json"
    ))
    .unwrap();
    let mut state: Value = serde_json::from_str(&text).unwrap();
    state["pid"] = format!("master@{master}:5050").into();
    state["leader"] = state["pid"].clone();
    state["hostname"] = master.into();
    let slaves = state["slaves"].as_array_mut().unwrap();
    slaves.truncate(agents.len());
    for (i, (slave, agent)) in slaves.iter_mut().zip(agents).enumerate() {
        slave["pid"] = format!("slave({})@{agent}:5051", i + 1).into();
        slave["hostname"] = (*agent).into();
        slave["port"] = 5051.into();
    }
    state.to_string()
}

/// Serves `/etc/served` of the node on `port` as a unit of the node's own
/// systemd (python's http.server: `GET /master/state` is the file
/// `/etc/served/master/state`).
fn serve(node: &Node, port: u16) {
    let out = node.exec(&[
        "systemd-run",
        "--unit=served",
        "--",
        "python3",
        "-m",
        "http.server",
        &port.to_string(),
        "--bind",
        &node.ip.to_string(),
        "--directory",
        "/etc/served",
    ]);
    assert!(out.status.success(), "systemd-run: {}", String::from_utf8_lossy(&out.stderr));
    // Listening, as the node's own network namespace sees it.
    let started = Instant::now();
    let filter = format!("sport = :{port}");
    while node.ns.exec(&["ss", "-ltnH", &filter]).stdout.is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "{} does not serve on {port}", node.hostname);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Node 0 serves its Mesos state on 5050 behind firewalld's nftables
/// backend (loopback and this machine, the client namespace where the
/// operator runs clusterdoc, accepted; every other host rejected with
/// admin-prohibited); nodes 1 and 2 serve 5051 as agents.
fn firewalled_master_and_two_agents(fleet: &Fleet) {
    serve(&fleet.nodes[0], 5050);
    serve(&fleet.nodes[1], 5051);
    serve(&fleet.nodes[2], 5051);
    fleet.nodes[0].ns.nft(
        "table inet firewalld_test {\n chain filter_INPUT {\n  type filter hook input priority 10; policy accept;\n  \
         iifname \"lo\" accept\n  ip saddr 10.232.0.1 accept\n  tcp dport 5050 reject with icmpx type admin-prohibited\n }\n}\n",
    );
}

#[test]
fn firewalld_on_the_master_shows_as_agents_rejected_on_5050_in_the_reachability_matrix() {
    let (m1, a1, a2) = ("10.232.0.2", "10.232.0.3", "10.232.0.4");
    let fleet = Fleet::start(&[
        NodeSpec::named("m1")
            .with_etc("mesos-master/quorum", "1\n")
            .with_etc("served/master/state", &master_state(m1, &[a1, a2])),
        NodeSpec::named("a1").with_etc("mesos-slave/master", &format!("{m1}:5050\n")).with_etc("served/x", ""),
        NodeSpec::named("a2").with_etc("mesos-slave/master", &format!("{m1}:5050\n")).with_etc("served/x", ""),
    ]);
    firewalled_master_and_two_agents(&fleet);
    let dir = tempfile::tempdir().unwrap();
    let nodes = [m1, a1, a2].join(",");
    let args =
        ["--nodes", &nodes, "--mesos", &format!("http://{m1}:5050"), "--only", "net.reachability", "--deadline", "60s"];
    let (report, code) = check(&fleet, dir.path(), &args);
    let reach = check_of(&report, "net.reachability");
    assert_eq!(reach["status"], "fail", "{reach:#}");
    assert_eq!(code, 2);
    assert_eq!(reach["by_node"], serde_json::json!({m1: "pass", a1: "fail", a2: "fail"}), "{reach:#}");
    for finding in reach["findings"].as_array().unwrap() {
        assert_eq!(finding["subject"], format!("{m1}:5050"), "{reach:#}");
        assert!(
            finding["message"].as_str().unwrap().starts_with("rejected: the Mesos master port is blocked"),
            "{finding:#}"
        );
    }
    let from: Vec<&str> = reach["findings"].as_array().unwrap().iter().map(|f| f["node"].as_str().unwrap()).collect();
    assert_eq!(from, [a1, a2]);
    // The master reached both agents and itself.
    assert!(reach["reason"].as_str().unwrap().contains("pass on 10.232.0.2"), "{reach:#}");

    // The human report folds the two agents' findings into one line.
    let mut cmd = fleet.client.command(env!("CARGO_BIN_EXE_clusterdoc"));
    isolate(&mut cmd, dir.path());
    let out = cmd.args(["check", "--ssh", &fleet.ssh_command()]).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("on 10.232.0.[3-4]: {m1}:5050: rejected: the Mesos master port is blocked")),
        "{text}"
    );

    // With no target named, the agents still probe the master their own
    // configuration names (/etc/mesos-slave/master).
    let (report, code) = check(&fleet, dir.path(), &["--nodes", &nodes, "--only", "net.reachability"]);
    let reach = check_of(&report, "net.reachability");
    assert_eq!((reach["status"].as_str(), code), (Some("fail"), 2), "{reach:#}");
    assert_eq!(reach["by_node"][a1], "fail", "{reach:#}");
    let finding = &reach["findings"][0];
    assert_eq!(finding["subject"], format!("{m1}:5050"), "{reach:#}");
    assert!(
        finding["evidence"].to_string().contains("Mesos master named in this node's /etc/mesos-slave/master"),
        "{finding:#}"
    );
}

/// On a terminal, a fleet run shows how many nodes are done and how many
/// were not reached (`script` gives clusterdoc a pseudo-terminal).
#[test]
fn a_terminal_sees_the_nodes_done_and_not_reached() {
    let dir = tempfile::tempdir().unwrap();
    let ssh = dir.path().join("fake-ssh");
    std::fs::write(&ssh, FAKE_SSH).unwrap();
    std::fs::set_permissions(&ssh, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let command = format!(
        "{} collect --ssh {} --nodes quick1,other1,slow1 --deadline 3s -o {}",
        env!("CARGO_BIN_EXE_clusterdoc"),
        ssh.display(),
        dir.path().join("fleet.json").display()
    );
    let mut cmd = std::process::Command::new("script");
    isolate(&mut cmd, dir.path());
    let out =
        cmd.args(["-qfec", &command, "/dev/null"]).output().expect("script (util-linux) runs clusterdoc on a pty");
    let seen = String::from_utf8_lossy(&out.stdout);
    assert!(seen.contains("gathering facts: 2/3 nodes done, 2 not reached"), "{seen}");
}

fn mesos_master(name: &str, zk: &str, quorum: &str) -> NodeSpec {
    NodeSpec::named(name)
        .with_etc("mesos/zk", &format!("{zk}\n"))
        .with_etc("mesos-master/quorum", &format!("{quorum}\n"))
}

#[test]
fn mesos_masters_that_disagree_or_lack_a_majority_quorum_fail_fleet_mesos_masters() {
    let zk = "zk://10.232.0.2:2181,10.232.0.3:2181,10.232.0.4:2181/mesos";
    let fleet = Fleet::start(&[mesos_master("m1", zk, "2"), mesos_master("m2", zk, "2"), mesos_master("m3", zk, "2")]);
    let dir = tempfile::tempdir().unwrap();
    let nodes = addresses(&fleet.nodes);
    let args = ["--nodes", &nodes, "--only", "fleet.mesos-masters", "--deadline", "60s"];
    let judged = || {
        let (report, code) = check(&fleet, dir.path(), &args);
        (check_of(&report, "fleet.mesos-masters").clone(), code)
    };
    let (masters, code) = judged();
    assert_eq!((masters["status"].as_str(), code), (Some("pass"), 0), "{masters:#}");
    assert_eq!(masters["reason"], "3 Mesos masters compared");

    // m3 was set up by hand: another ZooKeeper path, quorum 1.
    let set = |node: &Node, path: &str, value: &str| {
        let out = node.exec(&["sh", "-c", &format!("printf '%s\\n' '{value}' > {path}")]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    set(&fleet.nodes[2], "/etc/mesos/zk", "zk://10.232.0.2:2181/mesos-test");
    set(&fleet.nodes[2], "/etc/mesos-master/quorum", "1");
    let (masters, code) = judged();
    assert_eq!((masters["status"].as_str(), code), (Some("fail"), 2), "{masters:#}");
    let findings = masters["findings"].as_array().unwrap();
    let zk_differs = &findings[0];
    assert_eq!(zk_differs["subject"], "Mesos masters 10.232.0.4", "{masters:#}");
    assert_eq!(
        zk_differs["message"], "their ZooKeeper URL (/etc/mesos/zk) differs from the one of 10.232.0.[2-3]",
        "{masters:#}"
    );
    assert_eq!(zk_differs["remediation"][0]["command"], format!("printf '%s\\n' '{zk}' > /etc/mesos/zk"));
    assert_eq!(zk_differs["remediation"][0]["host"], "10.232.0.4");
    assert_eq!(
        findings[1]["message"],
        "their quorum (/etc/mesos-master/quorum) differs from the one of 10.232.0.[2-3]"
    );

    // All agree on quorum 1 of 3: two partitions could each write.
    set(&fleet.nodes[2], "/etc/mesos/zk", zk);
    for node in &fleet.nodes[..2] {
        set(node, "/etc/mesos-master/quorum", "1");
    }
    let (masters, code) = judged();
    assert_eq!((masters["status"].as_str(), code), (Some("fail"), 2), "{masters:#}");
    let finding = &masters["findings"][0];
    assert!(finding["message"].as_str().unwrap().starts_with("quorum 1 is not a majority of 3 masters"), "{finding:#}");
    assert_eq!(finding["remediation"][0]["command"], "printf '%s\\n' 2 > /etc/mesos-master/quorum");
}

#[test]
fn discover_finds_the_named_master_and_the_agents_it_lists_and_refuses_a_hostile_name() {
    let (m1, a1, a2) = ("10.232.0.2", "10.232.0.3", "10.232.0.4");
    let hostile = "-oProxyCommand=touch /tmp/pwned";
    let fleet = Fleet::start(&[
        NodeSpec::named("m1").with_etc("served/master/state", &master_state(m1, &[a1, a2, hostile])),
        NodeSpec::named("a1"),
        NodeSpec::named("a2"),
    ]);
    serve(&fleet.nodes[0], 5050);
    let dir = tempfile::tempdir().unwrap();
    let args = ["--nodes", "discover", "--mesos", &format!("http://{m1}:5050"), "--only", "hostname.case"];
    let (report, code) = check(&fleet, dir.path(), &args);
    let nodes: Vec<(&str, &str)> = report["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{report:#}"))
        .iter()
        .map(|n| (n["host"].as_str().unwrap(), n["state"].as_str().unwrap()))
        .collect();
    assert_eq!(nodes, [(m1, "reached"), (a1, "reached"), (a2, "reached"), (hostile, "refused")], "{report:#}");
    let case = check_of(&report, "hostname.case");
    assert_eq!(case["by_node"][hostile], "error", "a refused node's checks are undecided there: {case:#}");
    // The agent that registered as the hostile name has upper-case letters:
    // a finding about the cluster, made on every node, reported once.
    let findings = case["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{case:#}");
    assert_eq!((findings[0].get("node"), code), (None, 2), "{case:#}");
    // And the refused node's own: not judged there.
    assert_eq!(
        (&findings[1]["status"], &findings[1]["node"]),
        (&Value::from("error"), &Value::from(hostile)),
        "{case:#}"
    );
    assert!(!Path::new("/tmp/pwned").exists());
}

/// A unit as the Mesosphere packages install it: restarted by systemd.
const RESPAWNING_UNIT: &str = "[Unit]\nDescription=Mesos\n[Service]\nExecStart=/bin/sleep infinity\nRestart=always\nRestartSec=20\n[Install]\nWantedBy=multi-user.target\n";

/// A node of the write-up: its Mesos unit enabled with Restart=always and
/// the cluster scripts' deploy files naming the master.
fn write_up_node(name: &str, unit: &str, master: &str) -> NodeSpec {
    NodeSpec::named(name)
        .with_etc(&format!("systemd/system/{unit}"), RESPAWNING_UNIT)
        .with_etc_link(
            &format!("systemd/system/multi-user.target.wants/{unit}"),
            &format!("/etc/systemd/system/{unit}"),
        )
        .with_etc("mesos/masters", &format!("{master}\n"))
}

/// The write-up as a 3-node fleet: the master's host name is upper case and
/// its Flink configuration names it so, every node's Mesos unit respawns
/// what the scripts stop, and the master's firewall rejects 5050 for the
/// agents. One run names each problem on its node.
#[test]
fn the_write_up_as_a_three_node_fleet() {
    let (m1, a1, a2) = ("10.232.0.2", "10.232.0.3", "10.232.0.4");
    let fleet = Fleet::start(&[
        write_up_node("SZV1000265118", "mesos-master.service", m1)
            .with_etc("mesos-master/quorum", "1\n")
            // firewalld enabled at boot, with the package's public default zone.
            .with_etc_link(
                "systemd/system/multi-user.target.wants/firewalld.service",
                "/usr/lib/systemd/system/firewalld.service",
            )
            .with_etc("flink/flink-conf.yaml", "jobmanager.rpc.address: SZV1000265118\njobmanager.rpc.port: 6123\n")
            .with_etc("served/master/state", &master_state(m1, &[a1, a2])),
        write_up_node("szv1000265119", "mesos-slave.service", m1).with_etc("served/x", ""),
        write_up_node("szv1000265120", "mesos-slave.service", m1).with_etc("served/x", ""),
    ]);
    firewalled_master_and_two_agents(&fleet);
    let dir = tempfile::tempdir().unwrap();
    let nodes = [m1, a1, a2].join(",");
    let args = ["--nodes", &nodes, "--mesos", &format!("http://{m1}:5050"), "--deadline", "60s"];
    let (report, code) = check(&fleet, dir.path(), &args);
    assert_eq!(code, 2, "{report:#}");

    let case = check_of(&report, "hostname.case");
    assert_eq!(case["by_node"][m1], "fail", "{case:#}");
    let on_m1: Vec<&str> = case["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["node"] == m1)
        .map(|f| f["subject"].as_str().unwrap())
        .collect();
    assert_eq!(on_m1, ["host SZV1000265118", "Flink jobmanager.rpc.address in /etc/flink/flink-conf.yaml"], "{case:#}");

    // Respawning units on every node, seen by the node's own systemd.
    let respawn = check_of(&report, "systemd.respawn");
    assert_eq!(respawn["by_node"], serde_json::json!({m1: "fail", a1: "fail", a2: "fail"}), "{respawn:#}");
    for finding in respawn["findings"].as_array().unwrap() {
        let evidence = finding["evidence"].to_string();
        assert!(evidence.contains("deploy file /etc/mesos/masters lists 1 hosts"), "{finding:#}");
        // What the node's own systemd (PID 1 there) says, not only its files.
        assert!(evidence.contains("systemctl show: ActiveState=inactive SubState=dead Restart=always"), "{finding:#}");
        assert_eq!(finding["remediation"][0]["host"], finding["node"], "{finding:#}");
    }

    // The agents are rejected on 5050; the master cannot even resolve the
    // JobManager address its own flink-conf.yaml names (its /etc/hosts does
    // not know its upper-case name).
    let reach = check_of(&report, "net.reachability");
    assert_eq!(reach["by_node"], serde_json::json!({m1: "fail", a1: "fail", a2: "fail"}), "{reach:#}");
    let seen: Vec<(&str, &str)> = reach["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["node"].as_str().unwrap(), f["subject"].as_str().unwrap()))
        .collect();
    let rejected = format!("{m1}:5050");
    assert_eq!(seen, [(m1, "SZV1000265118:6123"), (a1, rejected.as_str()), (a2, rejected.as_str())], "{reach:#}");

    // The cause, on the master: firewalld's zone does not open 5050.
    let firewalld = check_of(&report, "firewalld.ports");
    assert_eq!(firewalld["by_node"][m1], "fail", "{firewalld:#}");
    let zone = firewalld["findings"].as_array().unwrap().iter().find(|f| f["node"] == m1).expect("a finding on m1");
    assert!(zone["message"].as_str().unwrap().contains("does not allow 5050/tcp (master)"), "{zone:#}");
    assert_eq!(zone["remediation"][0]["host"], m1, "{zone:#}");
}

/// A node whose clusterdoc sees a clock 90 s ahead (libfaketime, as a node
/// without a time service drifts) against two in step with this machine.
#[test]
fn a_node_whose_clock_is_off_fails_fleet_clock_skew() {
    let fleet = Fleet::named(&["n1", "n2", "n3"]);
    for node in &fleet.nodes {
        node.install_clusterdoc("clusterdoc-under-test");
    }
    fleet.nodes[2].install(
        "clusterdoc-under-test-skewed",
        "#!/bin/sh\nexec faketime -f +90s /usr/local/bin/clusterdoc-under-test \"$@\"\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--nodes",
        &addresses(&fleet.nodes[..2]),
        "--only",
        "fleet.clock-skew",
        "--remote-bin",
        "/usr/local/bin/clusterdoc-under-test",
    ];
    let (report, code) = check(&fleet, dir.path(), &args);
    let skew = check_of(&report, "fleet.clock-skew");
    assert_eq!((skew["status"].as_str(), code), (Some("pass"), 0), "{skew:#}");
    assert!(skew["reason"].as_str().unwrap().starts_with("2 node clocks compared"), "{skew:#}");

    // Each node runs its own wrapper: only n3's is skewed.
    for (node, wrapper) in
        fleet.nodes.iter().zip(["clusterdoc-under-test", "clusterdoc-under-test", "clusterdoc-under-test-skewed"])
    {
        node.install("clusterdoc-fleet", &format!("#!/bin/sh\nexec /usr/local/bin/{wrapper} \"$@\"\n"));
    }
    let args = [
        "--nodes",
        &addresses(&fleet.nodes),
        "--only",
        "fleet.clock-skew",
        "--remote-bin",
        "/usr/local/bin/clusterdoc-fleet",
    ];
    let (report, code) = check(&fleet, dir.path(), &args);
    let skew = check_of(&report, "fleet.clock-skew");
    assert_eq!((skew["status"].as_str(), code), (Some("fail"), 2), "{skew:#}");
    let finding = &skew["findings"][0];
    assert_eq!(finding["subject"], "clocks of 10.232.0.4", "{skew:#}");
    let evidence = finding["evidence"][0].as_str().unwrap();
    assert!(evidence.starts_with("10.232.0.4: 8") || evidence.starts_with("10.232.0.4: 9"), "{evidence}");
    assert!(evidence.ends_with(" s ahead"), "{evidence}");
    assert_eq!(finding["remediation"][0]["command"], "chronyc tracking");
    assert_eq!(finding["remediation"][0]["host"], "10.232.0.4");
}

#[test]
fn marathon_instances_on_another_zookeeper_path_fail_fleet_marathon_config() {
    let zk = "zk://10.232.0.2:2181/marathon";
    let master = "zk://10.232.0.2:2181/mesos";
    let fleet = Fleet::start(&[
        NodeSpec::named("mar1")
            .with_etc("marathon/conf/zk", &format!("{zk}\n"))
            .with_etc("marathon/conf/master", master),
        NodeSpec::named("mar2")
            .with_etc("marathon/conf/zk", &format!("{zk}\n"))
            .with_etc("marathon/conf/master", master),
        // The third reads its settings from the environment file, with another path.
        NodeSpec::named("mar3").with_etc("marathon/conf/http_port", "8080\n").with_etc(
            "default/marathon",
            &format!("MARATHON_ZK=zk://10.232.0.2:2181/marathon-1.4\nMARATHON_MASTER={master}\n"),
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let args = ["--nodes", &addresses(&fleet.nodes), "--only", "fleet.marathon-config"];
    let (report, code) = check(&fleet, dir.path(), &args);
    let config = check_of(&report, "fleet.marathon-config");
    assert_eq!((config["status"].as_str(), code), (Some("fail"), 2), "{config:#}");
    let findings = config["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "--master agrees: {config:#}");
    assert_eq!(findings[0]["subject"], "Marathon on 10.232.0.4");
    assert_eq!(findings[0]["message"], "their --zk differs from the one of 10.232.0.[2-3]");
    assert_eq!(findings[0]["evidence"][1], "10.232.0.4: zk://10.232.0.2:2181/marathon-1.4");
    assert_eq!(findings[0]["remediation"][0]["command"], format!("printf '%s\\n' {zk} > /etc/marathon/conf/zk"));

    let (report, code) =
        check(&fleet, dir.path(), &["--nodes", &addresses(&fleet.nodes[..2]), "--only", "fleet.marathon-config"]);
    let config = check_of(&report, "fleet.marathon-config");
    assert_eq!((config["status"].as_str(), code), (Some("pass"), 0), "{config:#}");
}

#[test]
fn agents_newer_than_their_master_or_of_another_major_version_are_named_by_fleet_versions() {
    let m1 = "10.232.0.2";
    let mut state: Value = serde_json::from_str(&master_state(m1, &["a1", "a2", "a3"])).unwrap();
    for (agent, version) in state["slaves"].as_array_mut().unwrap().iter_mut().zip(["1.11.0", "1.12.0", "0.28.2"]) {
        agent["version"] = version.into();
    }
    let fleet = Fleet::start(&[NodeSpec::named("m1").with_etc("served/master/state", &state.to_string())]);
    serve(&fleet.nodes[0], 5050);
    let dir = tempfile::tempdir().unwrap();
    let args = ["--nodes", m1, "--mesos", &format!("http://{m1}:5050"), "--only", "fleet.versions"];
    let (report, code) = check(&fleet, dir.path(), &args);
    let versions = check_of(&report, "fleet.versions");
    assert_eq!((versions["status"].as_str(), code), (Some("fail"), 2), "{versions:#}");
    let said: Vec<(&str, &str)> = versions["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["subject"].as_str().unwrap(), f["status"].as_str().unwrap()))
        .collect();
    assert_eq!(said, [("Mesos agents a3", "fail"), ("Mesos agents a2", "warn")], "{versions:#}");
    assert!(versions["reason"].as_str().unwrap().starts_with("3 Mesos agents against master 1.11.0"), "{versions:#}");
}

#[test]
fn a_node_that_resolves_a_peer_s_name_elsewhere_fails_fleet_name_resolution() {
    let (m1, a1, a2) = ("10.232.0.2", "10.232.0.3", "10.232.0.4");
    let mut state: Value = serde_json::from_str(&master_state(m1, &[a1, a2])).unwrap();
    state["hostname"] = "m1".into();
    for (agent, name) in state["slaves"].as_array_mut().unwrap().iter_mut().zip(["a1", "a2"]) {
        agent["hostname"] = name.into();
    }
    let everyone = format!("127.0.0.1 localhost\n{m1} m1\n{a1} a1\n{a2} a2\n");
    // a2 names itself with Debian's 127.0.1.1 line.
    let a2_hosts = format!("127.0.0.1 localhost\n127.0.1.1 a2\n{m1} m1\n{a1} a1\n");
    let fleet = Fleet::start(&[
        NodeSpec::named("m1").with_etc("hosts", &everyone).with_etc("served/master/state", &state.to_string()),
        NodeSpec::named("a1").with_etc("hosts", &everyone),
        NodeSpec::named("a2").with_etc("hosts", &a2_hosts),
    ]);
    serve(&fleet.nodes[0], 5050);
    let dir = tempfile::tempdir().unwrap();
    let mesos = format!("http://{m1}:5050");
    let judged = |nodes: &str| {
        let args = ["--nodes", nodes, "--mesos", &mesos, "--only", "fleet.name-resolution"];
        let (report, code) = check(&fleet, dir.path(), &args);
        (check_of(&report, "fleet.name-resolution").clone(), code)
    };
    let (resolution, code) = judged(&format!("{m1},{a1}"));
    assert_eq!((resolution["status"].as_str(), code), (Some("pass"), 0), "{resolution:#}");
    assert_eq!(resolution["reason"], "3 registered names resolved on 2 nodes");

    let (resolution, code) = judged(&format!("{m1},{a1},{a2}"));
    assert_eq!((resolution["status"].as_str(), code), (Some("fail"), 2), "{resolution:#}");
    let findings = resolution["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{resolution:#}");
    assert_eq!(
        findings[0]["message"],
        format!("a2 resolves to 127.0.1.1 (/etc/hosts line 2) on {a2}, not {a2}, where it registered with Mesos")
    );
    assert_eq!(findings[0]["remediation"][0]["command"], format!("printf '%s %s\\n' {a2} a2 >> /etc/hosts"));
    assert_eq!(findings[0]["remediation"][0]["host"], a2);
}

/// A pack check of the operator's own that runs a command exists only on
/// this machine: a fleet run says it is not judged there, never judges
/// this machine in the nodes' place.
#[test]
fn an_operator_s_machine_pack_check_is_not_judged_in_a_fleet_run() {
    let dir = tempfile::tempdir().unwrap();
    let packs = dir.path().join("packs");
    std::fs::create_dir(&packs).unwrap();
    std::fs::write(
        packs.join("local.toml"),
        "[[check]]\nid = \"local.uptime\"\ntitle = \"Uptime\"\nseverity = \"warn\"\ntags = [\"test\"]\n\
         [check.explain]\nwhat = \"w\"\nwhy = \"y\"\nfix = \"f\"\n[check.command]\nargv = [\"true\"]\n",
    )
    .unwrap();
    let (snapshot, _) = fake_fleet_run(dir.path(), &["--nodes", "quick1"]);
    assert_eq!(snapshot["nodes"][0]["state"], "error", "{snapshot:#}");
    let out = support::cli::plain(dir.path())
        .args(["check", "--from", "fleet.json", "--format", "json", "--only", "local.uptime", "--checks-dir"])
        .arg(&packs)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    let uptime = check_of(&report, "local.uptime");
    assert_eq!(uptime["status"], "skip", "{uptime:#}");
    assert!(uptime["reason"].as_str().unwrap().starts_with("not judged in a fleet run"), "{uptime:#}");
}
