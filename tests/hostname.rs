//! `hostname.case` and `hostname.resolution` end to end: the clusterdoc
//! binary judges `--root` trees built in temporary directories, runs live in
//! a UTS + mount namespace with an upper-case host name and a temporary
//! /etc/hosts, and resolves through a real DNS server (UDP on 127.0.0.1:53
//! inside a network namespace). Remediation commands are run for real, in a
//! mount namespace whose /etc is a fresh tmpfs.

mod support;

use crate::support::cli as cli_support;
#[allow(dead_code)]
use crate::support::netns;
use crate::support::uts;

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use cli_support::{ReadReport, Run};
use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, PTR};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use tempfile::TempDir;

const FLINK_CONF: &str = include_str!("fixtures/hostname/flink-conf.yaml");

fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("clusterdoc")
}

/// A node's file system under a temporary directory.
struct Tree(TempDir);

impl Tree {
    fn new() -> Tree {
        Tree(tempfile::tempdir().unwrap())
    }

    /// Writes `content` at `path` (a path on the node, e.g. `/etc/hostname`).
    fn file(self, path: &str, content: &str) -> Tree {
        let full = self.path(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
        self
    }

    fn path(&self, node_path: &str) -> PathBuf {
        self.0.path().join(node_path.trim_start_matches('/'))
    }

    /// A Flink 1.2-era distribution's `flink-conf.yaml` naming `rpc_address`.
    fn flink(self, home: &str, dist_jar: Option<&str>, rpc_address: &str) -> Tree {
        let conf =
            FLINK_CONF.replace("jobmanager.rpc.address: localhost", &format!("jobmanager.rpc.address: {rpc_address}"));
        let tree = self.file(&format!("{home}/conf/flink-conf.yaml"), &conf);
        match dist_jar {
            Some(jar) => tree.file(&format!("{home}/lib/{jar}"), ""),
            None => tree,
        }
    }
}

impl Run {
    /// Every remediation command of every check.
    fn commands(&self) -> Vec<String> {
        let checks = self.report["checks"].as_array().unwrap();
        let findings = checks.iter().flat_map(|c| c["findings"].as_array().unwrap());
        let remedies = findings.flat_map(|f| f["remediation"].as_array().unwrap());
        remedies.map(|r| r["command"].as_str().unwrap().to_string()).collect()
    }
}

const QUICK: [&str; 6] = ["--format", "json", "--timeout", "500ms", "--deadline", "10s"];

fn run_root(tree: &Tree, checks: &str, extra: &[&str]) -> Run {
    let mut cmd = Command::new(binary());
    cli_support::isolate(&mut cmd, tree.0.path());
    cmd.arg("--root").arg(tree.0.path()).args(["--only", checks]).args(QUICK).args(extra);
    Run::of_command(&mut cmd)
}

fn words(command: &str) -> Vec<String> {
    shlex::split(command).unwrap_or_else(|| panic!("not a shell command line: {command}"))
}

/// Runs a remediation command in a mount namespace whose /etc is an empty
/// tmpfs holding `etc_files`; returns the output and /etc's files afterwards.
fn run_confined(
    command: &str,
    cwd: &Path,
    etc_files: &[(&str, &str)],
    empty_path: bool,
) -> (Output, Vec<(String, String)>) {
    uts::require_root();
    let stage = tempfile::tempdir().unwrap();
    for (name, content) in etc_files {
        let file = stage.path().join(name);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    }
    let script = r#"mount -t tmpfs clusterdoc-test /etc && cp -a "$1"/. /etc/ && cd "$2" &&
        if [ "$3" = empty ]; then env -i PATH= /bin/sh -c "$4"; else /bin/sh -c "$4"; fi;
        rc=$?; cp -a /etc/. "$1"/; exit $rc"#;
    let output = Command::new("unshare")
        .args(["--mount", "--", "sh", "-c", script, "sh"])
        .arg(stage.path())
        .arg(cwd)
        .arg(if empty_path { "empty" } else { "inherit" })
        .arg(command)
        .output()
        .unwrap();
    let mut files = Vec::new();
    for (name, _) in etc_files {
        files.push((name.to_string(), std::fs::read_to_string(stage.path().join(name)).unwrap_or_default()));
    }
    (output, files)
}

// --- hostname.case under --root ---------------------------------------------

#[test]
fn upper_case_host_name_fails_with_the_hostnamectl_fix() {
    let tree = Tree::new().file("/etc/hostname", "SZV1000265118\n").file("/etc/hosts", "10.0.0.5 SZV1000265118\n");
    let run = run_root(&tree, "hostname.case", &[]);
    assert_eq!(run.code, 2);
    assert_eq!(run.status("hostname.case"), "fail");
    let finding = &run.findings("hostname.case")[0];
    assert_eq!(finding["status"], "fail");
    assert_eq!(finding["subject"], "host SZV1000265118");
    assert!(finding["message"].as_str().unwrap().contains("Akka drops their messages"));
    assert_eq!(finding["evidence"][0], "/etc/hostname: SZV1000265118");
    assert!(finding["evidence"][1].as_str().unwrap().starts_with("Flink version unknown"));
    assert_eq!(
        finding["remediation"][0],
        serde_json::json!({
            "command": "hostnamectl set-hostname szv1000265118",
            "risk": "disruptive",
            "note": "restart the Flink JobManager afterwards"
        })
    );
    assert_eq!(run.report["node"]["hostname"], "SZV1000265118");
}

#[test]
fn lower_case_host_name_passes() {
    let tree = Tree::new().file("/etc/hostname", "# set by the installer\nszv1000265118\n");
    let run = run_root(&tree, "hostname.case", &[]);
    assert_eq!(run.status("hostname.case"), "pass", "{}", run.report);
    assert_eq!(run.code, 0);
    assert!(run.reason("hostname.case").starts_with("1 host name checked"), "{}", run.reason("hostname.case"));
}

#[test]
fn flink_1_4_or_later_only_warns() {
    let tree = Tree::new().file("/etc/hostname", "SZV1000265118\n");
    let run = run_root(&tree, "hostname.case", &["--expect-flink-version", "1.4.0"]);
    assert_eq!(run.code, 1);
    let finding = &run.findings("hostname.case")[0];
    assert_eq!(finding["status"], "warn");
    assert_eq!(finding["evidence"][1], "Flink 1.4.0, from --expect-flink-version");
    assert_eq!(finding["remediation"][0]["command"], "hostnamectl set-hostname szv1000265118");
}

#[test]
fn flink_1_2_installation_fails_on_its_rpc_address() {
    let tree = Tree::new()
        .file("/etc/hostname", "szv1000265118\n")
        .flink("/opt/flink-1.2.0", Some("flink-dist_2.11-1.2.0.jar"), "SZV1000265118")
        .flink("/home/flink/flink-1.4.2", Some("flink-dist_2.11-1.4.2.jar"), "szv1000265118");
    let run = run_root(&tree, "hostname.case", &[]);
    assert_eq!(run.code, 2);
    let findings = run.findings("hostname.case");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding["status"], "fail");
    assert_eq!(finding["subject"], "Flink jobmanager.rpc.address in /opt/flink-1.2.0/conf/flink-conf.yaml");
    assert_eq!(
        finding["evidence"],
        serde_json::json!([
            "/opt/flink-1.2.0/conf/flink-conf.yaml line 28: jobmanager.rpc.address: SZV1000265118",
            "Flink 1.2.0, from /opt/flink-1.2.0/lib/flink-dist_2.11-1.2.0.jar"
        ])
    );
    let fix = &finding["remediation"][0];
    assert_eq!(fix["risk"], "disruptive");
    assert_eq!(
        words(fix["command"].as_str().unwrap()),
        [
            "sed",
            "-i.bak",
            "-E",
            "s/^[[:space:]]*jobmanager[.]rpc[.]address:.*/jobmanager.rpc.address: szv1000265118/",
            "/opt/flink-1.2.0/conf/flink-conf.yaml"
        ]
    );
    // Run on a copy of the file, the fix rewrites exactly that setting.
    let copy = tree.path("/opt/flink-1.2.0/conf/flink-conf.yaml");
    let mut sed = words(fix["command"].as_str().unwrap());
    *sed.last_mut().unwrap() = copy.display().to_string();
    assert!(Command::new(&sed[0]).args(&sed[1..]).status().unwrap().success());
    let fixed = std::fs::read_to_string(&copy).unwrap();
    assert_eq!(fixed, FLINK_CONF.replace("jobmanager.rpc.address: localhost", "jobmanager.rpc.address: szv1000265118"));
}

#[test]
fn flink_version_from_the_directory_name() {
    // The layout of the field report: /home/flink-1.2.0/bin/mesos-appmaster.sh.
    let old = Tree::new().file("/etc/hostname", "SZV1000265118\n").flink("/home/flink-1.2.0", None, "localhost");
    let run = run_root(&old, "hostname.case", &[]);
    let finding = &run.findings("hostname.case")[0];
    assert_eq!(finding["status"], "fail");
    assert_eq!(finding["evidence"][1], "Flink 1.2.0, from directory name /home/flink-1.2.0");

    let new = Tree::new().file("/etc/hostname", "SZV1000265118\n").flink("/usr/local/flink-1.5.0", None, "localhost");
    assert_eq!(run_root(&new, "hostname.case", &[]).findings("hostname.case")[0]["status"], "warn");
}

#[test]
fn mesos_hostname_flag_files() {
    let tree = Tree::new()
        .file("/etc/hostname", "szv1000265118\n")
        .file("/etc/mesos-master/hostname", "szv1000265118\n")
        .file("/etc/mesos-slave/hostname", "SZV1000265118\n");
    let run = run_root(&tree, "hostname.case", &[]);
    assert_eq!(run.code, 2);
    let findings = run.findings("hostname.case");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["subject"], "Mesos --hostname in /etc/mesos-slave/hostname");
    assert_eq!(findings[0]["evidence"][0], "/etc/mesos-slave/hostname: SZV1000265118");
    let fix = &findings[0]["remediation"][0];
    assert_eq!(fix["command"], r"printf '%s\n' szv1000265118 > /etc/mesos-slave/hostname");
    assert!(fix["note"].as_str().unwrap().contains("meta/slaves/latest"));
    assert!(run.reason("hostname.case").starts_with("3 host names checked"));

    // The command writes the lower-case value into the file.
    let here = tempfile::tempdir().unwrap();
    let (output, files) = run_confined(
        fix["command"].as_str().unwrap(),
        here.path(),
        &[("mesos-slave/hostname", "SZV1000265118\n")],
        true,
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(files[0].1, "szv1000265118\n");
}

#[test]
fn without_etc_hostname_neither_check_can_pass() {
    let tree = Tree::new().file("/etc/hosts", "127.0.0.1 localhost\n");
    let run = run_root(&tree, "hostname.case,hostname.resolution", &[]);
    assert_eq!(run.code, 3);
    for id in ["hostname.case", "hostname.resolution"] {
        assert_eq!(run.status(id), "error");
        assert!(run.reason(id).contains("etc/hostname does not exist"), "{id}: {}", run.reason(id));
    }
}

// --- hostname.resolution under --root ---------------------------------------

const DEBIAN_HOSTS: &str = "127.0.0.1\tlocalhost\n127.0.1.1\tSZV1000265118.example.com\tSZV1000265118\n\n\
     # The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\n\
     ff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n";

#[test]
fn debian_loopback_line_fails_and_the_fix_maps_the_real_address() {
    let tree = Tree::new().file("/etc/hostname", "SZV1000265118\n").file("/etc/hosts", DEBIAN_HOSTS);
    let run = run_root(&tree, "hostname.resolution", &[]);
    assert_eq!(run.code, 2);
    let finding = &run.findings("hostname.resolution")[0];
    assert_eq!(finding["status"], "fail");
    assert!(finding["message"].as_str().unwrap().contains("resolves to loopback 127.0.1.1"));
    assert_eq!(finding["evidence"][0], "/etc/hosts line 2: 127.0.1.1 SZV1000265118.example.com SZV1000265118");
    let fixes = finding["remediation"].as_array().unwrap();
    assert_eq!(
        words(fixes[0]["command"].as_str().unwrap()),
        [
            "sed",
            "-i.bak",
            "-E",
            "-e",
            "/^[[:space:]]*127[.]0[.]1[.]1[[:space:]]+SZV1000265118[.]example[.]com[[:space:]]+SZV1000265118[[:space:]]*(#.*)?$/d",
            "/etc/hosts"
        ]
    );
    assert_eq!(fixes[0]["risk"], "safe");
    assert_eq!(
        fixes[1]["command"],
        r#"printf '%s %s\n' "$(hostname -I | cut -d' ' -f1)" 'SZV1000265118.example.com SZV1000265118' >> /etc/hosts"#
    );
    assert!(run.reason("hostname.resolution").contains("DNS was not consulted"));

    // Both commands, run in order on a copy of the file, map the name to a
    // real address of this machine and keep the rest.
    let here = tempfile::tempdir().unwrap();
    let both = format!("{} && {}", fixes[0]["command"].as_str().unwrap(), fixes[1]["command"].as_str().unwrap());
    let (output, files) = run_confined(&both, here.path(), &[("hosts", DEBIAN_HOSTS)], false);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let fixed = &files[0].1;
    assert!(!fixed.contains("127.0.1.1"), "{fixed}");
    assert!(fixed.contains("::1     localhost ip6-localhost ip6-loopback"), "{fixed}");
    let last = fixed.lines().last().unwrap();
    let address: IpAddr = last.split_whitespace().next().unwrap().parse().unwrap_or_else(|_| panic!("{last}"));
    assert!(!address.is_loopback());
    assert!(last.ends_with(" SZV1000265118.example.com SZV1000265118"), "{last}");
}

#[test]
fn proper_hosts_line_passes_and_says_dns_was_not_consulted() {
    let hosts = "127.0.0.1 localhost\n10.0.0.5 szv1000265118.example.com szv1000265118\n";
    let tree = Tree::new().file("/etc/hostname", "szv1000265118\n").file("/etc/hosts", hosts);
    let run = run_root(&tree, "hostname.resolution", &[]);
    assert_eq!(run.status("hostname.resolution"), "pass", "{}", run.report);
    let reason = run.reason("hostname.resolution");
    assert!(reason.starts_with("szv1000265118 resolves to 10.0.0.5 (/etc/hosts line 2)"), "{reason}");
    assert!(reason.contains("etc/hosts only, DNS was not consulted"), "{reason}");
}

#[test]
fn missing_hosts_entry_fails() {
    let tree = Tree::new().file("/etc/hostname", "szv1000265118\n").file("/etc/hosts", "127.0.0.1 localhost\n");
    let run = run_root(&tree, "hostname.resolution", &[]);
    assert_eq!(run.code, 2);
    let finding = &run.findings("hostname.resolution")[0];
    assert_eq!(finding["subject"], "host szv1000265118");
    assert!(finding["message"].as_str().unwrap().contains("does not resolve"));
    assert_eq!(finding["evidence"][0], "not in /etc/hosts (DNS was not consulted)");
    assert_eq!(
        finding["remediation"][0]["command"],
        r#"printf '%s %s\n' "$(hostname -I | cut -d' ' -f1)" szv1000265118 >> /etc/hosts"#
    );
}

#[test]
fn a_snapshot_replays_the_same_verdicts() {
    let tree = Tree::new().file("/etc/hostname", "SZV1000265118\n").file("/etc/hosts", DEBIAN_HOSTS).flink(
        "/opt/flink-1.2.0",
        Some("flink-dist_2.11-1.2.0.jar"),
        "SZV1000265118",
    );
    let snapshot = tree.path("/snapshot.json");
    let mut collect = Command::new(binary());
    cli_support::isolate(&mut collect, tree.0.path());
    collect.arg("collect").arg("--root").arg(tree.0.path()).args(["--only", "hostname.", "-o"]).arg(&snapshot);
    let collected = collect.output().unwrap();
    assert!(collected.status.success(), "{}", String::from_utf8_lossy(&collected.stderr));

    let live = run_root(&tree, "hostname.", &[]);
    let mut replay = Command::new(binary());
    cli_support::isolate(&mut replay, tree.0.path());
    replay.arg("check").arg("--from").arg(&snapshot).args(["--only", "hostname."]).args(QUICK);
    let replayed = Run::of_command(&mut replay);
    for id in ["hostname.case", "hostname.resolution"] {
        assert_eq!(replayed.status(id), "fail");
        assert_eq!(replayed.findings(id), live.findings(id), "{id}");
    }
}

// --- hostile values ----------------------------------------------------------

#[test]
fn hostile_host_names_never_run_from_the_fixes() {
    // All lower case: the fixes lower-case the payload, which must still be
    // able to reach the marker if it ever ran.
    let here = tempfile::Builder::new()
        .prefix(&format!("clusterdoc-hostile-{}", std::process::id()))
        .rand_bytes(0)
        .tempdir()
        .unwrap();
    let marker = here.path().join("pwned");
    let m = marker.display().to_string();
    assert_eq!(m, m.to_lowercase());
    // Builtins only, and no spaces (so it is one /etc/hosts name): with an
    // empty PATH a payload that ran could still write the marker.
    let payload = format!("Evil$(echo${{IFS}}x>{m})';echo${{IFS}}x>{m};'\"`echo${{IFS}}x>{m}`\"&/\\1");
    let mesos = format!("{payload}\n$(echo${{IFS}}x>{m})\n;echo x >{m}");
    let tree = Tree::new()
        .file("/etc/hostname", &format!("{payload}\nsecond line; echo x >{m}\n"))
        .file("/etc/hosts", &format!("127.0.0.1 localhost\n127.0.1.1 {payload}\n"))
        .file("/etc/mesos-slave/hostname", &format!("{mesos}\n"))
        .flink("/opt/flink-1.3.0", None, &format!("\"{payload}\""));
    let run = run_root(&tree, "hostname.case,hostname.resolution", &[]);
    assert_eq!(run.status("hostname.case"), "fail");
    assert_eq!(run.status("hostname.resolution"), "fail");
    let commands = run.commands();
    assert_eq!(commands.len(), 5, "{commands:#?}");
    let lower = payload.to_lowercase();
    assert!(commands.iter().any(|c| words(c) == ["hostnamectl", "set-hostname", lower.as_str()]), "{commands:#?}");
    let lower_mesos = mesos.to_lowercase();
    let mesos_fix = ["printf", "%s\\n", lower_mesos.as_str(), ">", "/etc/mesos-slave/hostname"];
    assert!(commands.iter().any(|c| words(c) == mesos_fix), "{commands:#?}");

    // The harness does notice a payload that runs.
    let (output, _) = run_confined(&format!("x={}", payload.replace('\'', "")), here.path(), &[], true);
    assert!(marker.exists(), "control payload did not run: {}", String::from_utf8_lossy(&output.stderr));
    std::fs::remove_file(&marker).unwrap();

    for command in &commands {
        let etc = [("hosts", format!("127.0.0.1 localhost\n127.0.1.1 {payload}\n"))];
        let etc: Vec<(&str, &str)> = etc.iter().map(|(n, c)| (*n, c.as_str())).collect();
        let _ = run_confined(command, here.path(), &etc, true);
        assert!(!marker.exists(), "running {command:?} executed the payload");
    }
}

// --- live: UTS + mount namespace ----------------------------------------------

#[test]
fn live_upper_case_host_name_and_loopback_line_fail() {
    uts::require_root();
    let real_hosts = std::fs::read_to_string("/etc/hosts").unwrap();
    let real_name = gethostname();
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "127.0.0.1 localhost\n127.0.1.1 SZV1000265118\n").unwrap();
    let node = uts::Node { hostname: "SZV1000265118", hosts: &hosts, resolv_conf: None };
    let mut cmd = uts::as_node(Command::new("unshare"), &node, &binary());
    cli_support::isolate(&mut cmd, dir.path());
    cmd.args(["--only", "hostname.case,hostname.resolution"]).args(QUICK);
    let run = Run::of_command(&mut cmd);

    assert_eq!(run.code, 2);
    assert_eq!(run.report["node"]["hostname"], "SZV1000265118");
    let case = &run.findings("hostname.case")[0];
    assert_eq!(case["status"], "fail");
    assert_eq!(case["evidence"][0], "kernel host name: SZV1000265118");
    assert_eq!(case["remediation"][0]["command"], "hostnamectl set-hostname szv1000265118");
    let resolution = &run.findings("hostname.resolution")[0];
    assert_eq!(resolution["status"], "fail");
    assert_eq!(resolution["evidence"][0], "/etc/hosts line 2: 127.0.1.1 SZV1000265118");
    let add = resolution["remediation"][1]["command"].as_str().unwrap();
    // The default route's address when there is one, else `hostname -I` on the node.
    assert!(add.ends_with(" SZV1000265118' >> /etc/hosts") || add.contains("hostname -I"), "{add}");

    assert_eq!(std::fs::read_to_string("/etc/hosts").unwrap(), real_hosts, "the real /etc/hosts changed");
    assert_eq!(gethostname(), real_name, "the real host name changed");
}

fn gethostname() -> String {
    String::from_utf8(Command::new("hostname").output().unwrap().stdout).unwrap()
}

// --- live: a real DNS server in a network namespace ----------------------------

/// What the DNS server knows; everything else is NXDOMAIN.
#[derive(Clone, Default)]
struct Zone {
    a: Vec<(&'static str, Ipv4Addr)>,
    ptr: Vec<(Ipv4Addr, &'static str)>,
    /// Never answer (a resolver that cannot be reached).
    silent: bool,
}

/// A DNS server on 127.0.0.1:53 (UDP) inside a namespace; stopped on drop.
struct DnsServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    fn start(ns: &netns::Netns, zone: Zone) -> DnsServer {
        let socket = ns.enter(|| UdpSocket::bind("127.0.0.1:53")).expect("bind 127.0.0.1:53 in the namespace");
        socket.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buffer = [0u8; 1500];
            while !stopped.load(Ordering::SeqCst) {
                let Ok((n, peer)) = socket.recv_from(&mut buffer) else { continue };
                if let Some(reply) = answer(&zone, &buffer[..n]).filter(|_| !zone.silent) {
                    let _ = socket.send_to(&reply, peer);
                }
            }
        });
        DnsServer { stop, thread: Some(thread) }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(zone: &Zone, packet: &[u8]) -> Option<Vec<u8>> {
    let query = Message::from_vec(packet).ok()?;
    let question = query.queries.first()?.clone();
    let name = question.name().to_utf8().trim_end_matches('.').to_lowercase();
    let owner = question.name().clone();
    let records: Vec<Record> = match question.query_type() {
        RecordType::A => zone
            .a
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, ip)| Record::from_rdata(owner.clone(), 60, RData::A(A(*ip))))
            .collect(),
        RecordType::PTR => {
            let address = question.name().parse_arpa_name().ok()?.addr();
            zone.ptr
                .iter()
                .filter(|(ip, _)| IpAddr::V4(*ip) == address)
                .map(|(_, n)| {
                    Record::from_rdata(owner.clone(), 60, RData::PTR(PTR(Name::from_ascii(format!("{n}.")).unwrap())))
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let exists = !records.is_empty() || zone.a.iter().any(|(n, _)| *n == name);
    let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    if !exists {
        reply.metadata.response_code = ResponseCode::NXDomain;
    }
    reply.add_query(question);
    for record in records {
        reply.add_answer(record);
    }
    reply.to_vec().ok()
}

/// Runs clusterdoc's resolution check as node `dns-node` (in no hosts file)
/// inside a fresh network namespace whose resolver is `zone`.
fn run_with_dns(zone: Zone) -> Run {
    uts::require_root();
    let pair = netns::Pair::new();
    let _server = DnsServer::start(&pair.client, zone);
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    let resolv = dir.path().join("resolv.conf");
    std::fs::write(&hosts, "127.0.0.1 localhost\n").unwrap();
    std::fs::write(&resolv, "nameserver 127.0.0.1\n").unwrap();
    let node = uts::Node { hostname: "dns-node", hosts: &hosts, resolv_conf: Some(&resolv) };
    let mut cmd = uts::as_node(pair.client.command("unshare"), &node, &binary());
    cli_support::isolate(&mut cmd, dir.path());
    cmd.args(["--only", "hostname.resolution", "--format", "json", "--timeout", "300ms", "--deadline", "10s"]);
    Run::of_command(&mut cmd)
}

const NODE_IP: Ipv4Addr = netns::CLIENT_IP;

#[test]
fn dns_forward_and_reverse_agree() {
    let run = run_with_dns(Zone {
        a: vec![("dns-node", NODE_IP)],
        ptr: vec![(NODE_IP, "dns-node.example.com")],
        ..Zone::default()
    });
    assert_eq!(run.status("hostname.resolution"), "pass", "{}", run.report);
    assert_eq!(run.reason("hostname.resolution"), "dns-node resolves to 10.213.0.1 (DNS)");
}

#[test]
fn dns_nxdomain_fails() {
    let run = run_with_dns(Zone::default());
    assert_eq!(run.code, 2, "{}", run.report);
    let finding = &run.findings("hostname.resolution")[0];
    assert_eq!(finding["status"], "fail");
    assert!(finding["evidence"][0].as_str().unwrap().contains("NXDOMAIN"), "{finding}");
    // No default route in the namespace: the address is taken on the node.
    assert!(finding["remediation"][0]["command"].as_str().unwrap().contains("hostname -I"));
}

#[test]
fn dns_reverse_naming_another_host_warns() {
    let run = run_with_dns(Zone {
        a: vec![("dns-node", NODE_IP)],
        ptr: vec![(NODE_IP, "web.example.com")],
        ..Zone::default()
    });
    assert_eq!(run.code, 1, "{}", run.report);
    let finding = &run.findings("hostname.resolution")[0];
    assert_eq!(finding["status"], "warn");
    assert_eq!(finding["message"], "reverse lookup of 10.213.0.1 gives web.example.com, not dns-node");
    assert_eq!(finding["evidence"][0], "DNS: 10.213.0.1 -> web.example.com");
}

#[test]
fn unreachable_resolver_is_an_error_not_a_verdict() {
    let run = run_with_dns(Zone { silent: true, ..Zone::default() });
    assert_eq!(run.code, 3, "{}", run.report);
    assert_eq!(run.status("hostname.resolution"), "error");
    let reason = run.reason("hostname.resolution");
    assert!(reason.starts_with("cannot tell whether dns-node resolves:"), "{reason}");
    assert!(reason.contains("no answer within") || reason.contains("timed out"), "{reason}");
}
