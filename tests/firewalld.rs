//! `firewalld.ports` end to end, through the real binary: node trees under
//! `--root` built from the Debian firewalld package's own zone and service
//! files (tests/fixtures/firewalld), edited with the real
//! `firewall-offline-cmd` (in a private mount namespace, so the machine's
//! /etc/firewalld is never touched) and enabled with the real
//! `systemctl --root`; and a live run against a real firewalld daemon in
//! private mount, network and PID namespaces. Needs root for the namespaces.

mod support;

use crate::support::cli as cli_support;
use crate::support::tree;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use serde_json::Value;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/firewalld");

/// A node's file system: the package's /usr/lib/firewalld, its firewalld.conf
/// and its firewalld.service.
type Node = tree::NodeTree;

impl Node {
    /// The node with the Debian package's firewalld files.
    fn with_firewalld() -> Self {
        let node = Node::new();
        node.copy_in(&Path::new(FIXTURE).join("root"));
        node
    }

    /// `systemctl --root=DIR VERB UNIT`.
    fn systemctl(&self, verb: &str, unit: &str) {
        let root = format!("--root={}", self.root().display());
        let out = StdCommand::new("systemctl")
            .args([&root, verb, unit])
            .output()
            .unwrap_or_else(|e| panic!("systemctl is needed to build unit trees (Debian package systemd): {e}"));
        assert!(out.status.success(), "systemctl {verb}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn is_enabled(&self) -> String {
        let root = format!("--root={}", self.root().display());
        let out = StdCommand::new("systemctl").args([&root, "is-enabled", "firewalld.service"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs the real firewall-offline-cmd against this node's /etc/firewalld:
    /// bind-mounted over /etc/firewalld in a private mount namespace.
    fn offline(&self, args: &[&str]) {
        let etc = self.root().join("etc/firewalld");
        let out = StdCommand::new("unshare")
            .args(["--mount", "sh", "-c", r#"mount --bind "$0" /etc/firewalld && exec firewall-offline-cmd "$@""#])
            .arg(&etc)
            .args(args)
            .output()
            .expect("unshare (util-linux) is needed");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "firewall-offline-cmd {args:?} failed ({}): {stderr}\n(needs root for unshare --mount and the Debian \
             package firewalld)",
            out.status
        );
    }

    /// `clusterdoc --root DIR --only firewalld.ports --format json ARGS`.
    fn check(&self, args: &[&str]) -> (i32, Value) {
        let out = clusterdoc()
            .args(["--root", self.root().to_str().unwrap(), "--only", "firewalld.ports", "--format", "json"])
            .args(args)
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap(), doc["checks"][0].clone())
    }

    /// The roles fact as `collect` records it.
    fn roles_fact(&self, args: &[&str]) -> Value {
        let out = clusterdoc()
            .args(["collect", "--root", self.root().to_str().unwrap(), "--only", "firewalld.ports"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["facts"]["roles"].clone()
    }
}

fn clusterdoc() -> Command {
    cli_support::clusterdoc(&std::env::temp_dir())
}

fn enabled_node() -> Node {
    let node = Node::with_firewalld();
    assert_eq!(node.is_enabled(), "disabled");
    node.systemctl("enable", "firewalld.service");
    assert_eq!(node.is_enabled(), "enabled");
    node
}

/// The first finding's remedies.
fn commands(check: &Value) -> Vec<(String, String)> {
    cli_support::remedies(&check["findings"][0])
}

fn evidence(check: &Value, finding: usize) -> Vec<String> {
    check["findings"][finding]["evidence"].as_array().unwrap().iter().map(|e| e.as_str().unwrap().into()).collect()
}

fn has_line(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

#[test]
fn default_public_zone_blocks_the_master_port_with_the_exact_remedies() {
    let node = enabled_node();
    let (code, check) = node.check(&["--role", "master"]);
    assert_eq!(code, 2, "{check:#}");
    assert_eq!(check["status"], "fail");
    let finding = &check["findings"][0];
    assert_eq!(check["findings"].as_array().unwrap().len(), 1);
    assert_eq!(finding["subject"], "zone public");
    assert!(finding["message"].as_str().unwrap().starts_with("zone public does not allow 5050/tcp (master);"));
    let ev = evidence(&check, 0);
    assert!(has_line(&ev, "enabled at boot (/etc/systemd/system/multi-user.target.wants/firewalld.service)"), "{ev:?}");
    assert!(
        has_line(&ev, "zone public applies: default zone (DefaultZone= in /etc/firewalld/firewalld.conf line 6)"),
        "{ev:?}"
    );
    assert!(
        has_line(
            &ev,
            "/usr/lib/firewalld/zones/public.xml: target default; services ssh (22/tcp), dhcpv6-client (546/udp); \
             ports none"
        ),
        "{ev:?}"
    );
    assert!(
        has_line(&ev, "5050/tcp (master, Mesos master (HTTP API, web UI, libprocess); port from default)"),
        "{ev:?}"
    );
    assert_eq!(
        commands(&check),
        [
            ("firewall-cmd --permanent --zone=public --add-port=5050/tcp".to_string(), "safe".to_string()),
            ("firewall-cmd --reload".into(), "disruptive".into()),
            ("systemctl stop firewalld".into(), "disruptive".into()),
        ]
    );
    let stop = &finding["remediation"][2]["note"];
    assert!(stop.as_str().unwrap().contains("every port of this node is open to every host"), "{stop}");
}

/// The printed fix, run through the real tool's offline twin, makes the check pass.
#[test]
fn the_printed_port_fix_opens_the_port() {
    let node = enabled_node();
    let (_, check) = node.check(&["--role", "master", "--role", "marathon"]);
    let (fix, _) = &commands(&check)[0];
    assert_eq!(fix, "firewall-cmd --permanent --zone=public --add-port=5050/tcp --add-port=8080/tcp");
    let words = shlex::split(fix).unwrap();
    assert_eq!(&words[..2], ["firewall-cmd", "--permanent"]);
    node.offline(&words[2..].iter().map(String::as_str).collect::<Vec<_>>());
    let (code, check) = node.check(&["--role", "master", "--role", "marathon"]);
    assert_eq!((code, check["status"].as_str()), (0, Some("pass")), "{check:#}");
    assert!(check["reason"].as_str().unwrap().contains("allowed by zone public"), "{check:#}");
}

#[test]
fn port_ranges_are_covered_piecewise() {
    let node = enabled_node();
    node.offline(&["--zone=public", "--add-port=5051/tcp", "--add-port=31000-31499/tcp"]);
    let (code, check) = node.check(&["--role", "agent"]);
    assert_eq!(code, 2);
    let message = check["findings"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("zone public does not allow 31500-32000/tcp (agent);"), "{message}");
    assert!(has_line(&evidence(&check, 0), "/etc/firewalld/zones/public.xml: target default"));
    assert_eq!(commands(&check)[0].0, "firewall-cmd --permanent --zone=public --add-port=31500-32000/tcp");
    node.offline(&["--zone=public", "--add-port=31500-32000/tcp"]);
    assert_eq!(node.check(&["--role", "agent"]).0, 0);
}

#[test]
fn services_open_their_ports_through_includes_and_local_definitions() {
    // jenkins.xml lists 8080/tcp: Marathon's port.
    let node = enabled_node();
    node.offline(&["--zone=public", "--add-service=jenkins"]);
    assert_eq!(node.check(&["--role", "marathon"]).0, 0);

    // RH-Satellite-6-capsule includes RH-Satellite-6, which lists 8080/tcp.
    let node = enabled_node();
    node.offline(&["--zone=public", "--add-service=RH-Satellite-6-capsule"]);
    let (code, check) = node.check(&["--role", "marathon"]);
    assert_eq!(code, 0, "{check:#}");

    // A service defined in /etc/firewalld/services.
    let node = enabled_node();
    node.offline(&["--new-service=mesos-master"]);
    node.offline(&["--service=mesos-master", "--add-port=5050/tcp"]);
    node.offline(&["--zone=public", "--add-service=mesos-master"]);
    assert!(node.root().join("etc/firewalld/services/mesos-master.xml").is_file());
    assert_eq!(node.check(&["--role", "master"]).0, 0);
    let (code, check) = node.check(&["--role", "master", "--role", "agent"]);
    assert_eq!(code, 2);
    assert!(has_line(&evidence(&check, 0), "services ssh (22/tcp), dhcpv6-client (546/udp), mesos-master (5050/tcp)"));
}

#[test]
fn target_accept_allows_everything() {
    let node = enabled_node();
    node.offline(&["--zone=public", "--set-target=ACCEPT"]);
    let (code, check) = node.check(&["--role", "master", "--role", "zookeeper"]);
    assert_eq!(code, 0, "{check:#}");
    assert!(check["reason"].as_str().unwrap().contains("public (target ACCEPT)"));

    let node = enabled_node();
    node.offline(&["--set-default-zone=trusted"]);
    assert_eq!(node.check(&["--role", "master"]).0, 0);
}

#[test]
fn the_default_zone_comes_from_firewalld_conf() {
    let node = enabled_node();
    node.offline(&["--set-default-zone=internal"]);
    let (code, check) = node.check(&["--role", "zookeeper"]);
    assert_eq!(code, 2);
    let finding = &check["findings"][0];
    assert_eq!(finding["subject"], "zone internal");
    let message = finding["message"].as_str().unwrap();
    assert!(message.starts_with("zone internal does not allow 2181/tcp (zookeeper), 2888/tcp (zookeeper), 3888/tcp"));
    assert!(has_line(&evidence(&check, 0), "services ssh (22/tcp), mdns (5353/udp), samba-client (138/udp 137/udp)"));
    assert_eq!(
        commands(&check)[0].0,
        "firewall-cmd --permanent --zone=internal --add-port=2181/tcp --add-port=2888/tcp --add-port=3888/tcp"
    );
}

#[test]
fn interface_bound_zones_apply_next_to_the_default_zone() {
    let node = enabled_node();
    node.offline(&["--zone=work", "--add-interface=eth1"]);
    node.offline(&["--zone=public", "--add-port=5050/tcp"]);
    let (code, check) = node.check(&["--role", "master"]);
    assert_eq!(code, 2);
    let findings = check["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{check:#}");
    assert_eq!(findings[0]["subject"], "zone work");
    assert!(has_line(&evidence(&check, 0), "zone work applies: interface eth1 (/etc/firewalld/zones/work.xml)"));
    assert_eq!(commands(&check)[0].0, "firewall-cmd --permanent --zone=work --add-port=5050/tcp");
    // Under --root the interfaces are unknown: the default zone is still judged.
    assert!(check["reason"].as_str().unwrap().contains("allowed by zone public"));
}

#[test]
fn ifcfg_zone_bindings_and_a_default_zone_that_does_not_exist() {
    let node = enabled_node();
    node.write("/etc/firewalld/firewalld.conf", "DefaultZone=nosuch\n");
    node.write("/etc/sysconfig/network-scripts/ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=dhcp\nZONE=drop\n");
    let (code, check) = node.check(&["--role", "marathon"]);
    assert_eq!(code, 2);
    let subjects: Vec<&str> =
        check["findings"].as_array().unwrap().iter().map(|f| f["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["zone drop", "zone public"]);
    assert!(
        check["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("firewalld is enabled and drops them whenever it runs: clients time out")
    );
    assert!(has_line(
        &evidence(&check, 0),
        "zone drop applies: interface eth0 (/etc/sysconfig/network-scripts/ifcfg-eth0)"
    ));
    assert!(has_line(
        &evidence(&check, 1),
        "zone public applies: default zone (DefaultZone= in /etc/firewalld/firewalld.conf line 1 names zone \
         \"nosuch\", which does not exist: firewalld uses public)"
    ));
}

#[test]
fn simple_rich_rules_count_conditional_ones_are_listed() {
    let node = enabled_node();
    node.offline(&["--zone=public", "--add-rich-rule=rule family=ipv4 port port=5050 protocol=tcp accept"]);
    assert_eq!(node.check(&["--role", "master"]).0, 0);

    let node = enabled_node();
    node.offline(&[
        "--zone=public",
        "--add-rich-rule=rule family=ipv4 source address=10.0.0.0/8 port port=5050 protocol=tcp accept",
    ]);
    let (code, check) = node.check(&["--role", "master"]);
    assert_eq!(code, 2);
    let ev = evidence(&check, 0);
    assert!(
        has_line(
            &ev,
            r#"rich rule not counted (it applies only with source address=10.0.0.0/8; check it by hand) at /etc/firewalld/zones/public.xml line 7: rule family="ipv4" source address="10.0.0.0/8" port port="5050" protocol="tcp" accept"#
        ),
        "{ev:?}"
    );
}

#[test]
fn firewalld_not_enabled_or_masked_passes() {
    let node = Node::with_firewalld();
    let (code, check) = node.check(&["--role", "master"]);
    assert_eq!((code, check["status"].as_str()), (0, Some("pass")));
    let reason = check["reason"].as_str().unwrap();
    assert!(reason.contains("firewalld filters nothing") && reason.contains("not enabled"), "{reason}");

    let node = Node::with_firewalld();
    node.systemctl("mask", "firewalld.service");
    assert_eq!(node.is_enabled(), "masked");
    let (code, check) = node.check(&["--role", "master"]);
    assert_eq!(code, 0);
    assert!(check["reason"].as_str().unwrap().contains("masked (/etc/systemd/system/firewalld.service)"));

    let empty = tempfile::tempdir().unwrap();
    let out = clusterdoc()
        .args(["--root", empty.path().to_str().unwrap(), "--only", "firewalld.ports", "--format", "json"])
        .args(["--role", "master"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["checks"][0]["status"], "pass");
    assert!(doc["checks"][0]["reason"].as_str().unwrap().contains("not installed"));
}

/// A snapshot taken with `collect` is judged the same way by `check --from`.
#[test]
fn a_snapshot_replays_to_the_same_findings() {
    let node = enabled_node();
    node.offline(&["--zone=work", "--add-interface=eth1"]);
    let snapshot = node.root().join("snapshot.json");
    let root = node.root();
    let root = root.to_str().unwrap();
    clusterdoc()
        .args(["collect", "--root", root, "--only", "firewalld.ports", "--role", "master", "-o"])
        .arg(&snapshot)
        .assert()
        .success();
    let (_, live) = node.check(&["--role", "master"]);
    let out = clusterdoc()
        .args(["check", "--from", snapshot.to_str().unwrap(), "--only", "firewalld.ports", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let replayed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(replayed["checks"][0]["findings"], live["findings"]);
    assert_eq!(live["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn a_malformed_zone_file_is_an_error_naming_file_and_position() {
    let node = enabled_node();
    node.write(
        "/etc/firewalld/zones/public.xml",
        "<?xml version=\"1.0\"?>\n<zone>\n  <port port=\"5050\" protocol=\"tcp\">\n</zone>\n",
    );
    let (code, check) = node.check(&["--role", "master"]);
    assert_eq!(code, 3, "{check:#}");
    assert_eq!(check["status"], "error");
    let reason = check["reason"].as_str().unwrap();
    assert!(reason.starts_with("/etc/firewalld/zones/public.xml: malformed XML at line 4, column"), "{reason}");

    // Even a zone nothing uses: it could bind interfaces or sources.
    let node = enabled_node();
    node.write("/etc/firewalld/zones/other.xml", "<zone><service name=\"ssh\"/>");
    let (code, check) = node.check(&["--role", "master"]);
    assert_eq!(code, 3);
    assert!(check["reason"].as_str().unwrap().contains("other.xml: malformed XML"), "{check:#}");
}

#[test]
fn roles_and_ports_come_from_the_node_config_files() {
    let node = enabled_node();
    node.write("/etc/mesos-master/port", "5055\n");
    node.write("/etc/mesos-master/quorum", "2\n");
    node.write(
        "/etc/zookeeper/conf/zoo.cfg",
        "# comment\ntickTime=2000\ndataDir=/var/lib/zookeeper\nclientPort = 2182\n\
         server.1=zk1:2889:3889\nserver.2=zk2:2888:3888\nserver.3=[fe80::1]:2888:3888:observer\n",
    );
    node.write("/var/lib/zookeeper/myid", "1\n");
    node.write("/etc/marathon/conf/http_port", "8090");
    node.write("/opt/flink-1.2.0/conf/flink-conf.yaml", "jobmanager.rpc.port: 6124\njobmanager.web.port: -1\n");

    let roles = node.roles_fact(&[]);
    assert_eq!(roles["state"], "observed", "{roles:#}");
    let value = &roles["value"];
    assert_eq!(value["roles"], serde_json::json!(["master", "zookeeper", "marathon", "flink"]));
    let evidence: Vec<&str> = value["evidence"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    assert!(evidence.contains(&"master: configuration directory /etc/mesos-master/ present"), "{evidence:?}");
    assert!(evidence.contains(&"zookeeper: configuration file /etc/zookeeper/conf/zoo.cfg present"));
    assert!(evidence.contains(&"flink: Flink installation with /opt/flink-1.2.0/conf/flink-conf.yaml"));
    let ports: Vec<(String, String)> = value["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let source = &p["source"];
            let from = source["setting"].as_str().map_or("default".into(), |s| format!("{s} in {}", source["origin"]));
            (format!("{}:{}", p["role"].as_str().unwrap(), p["port"]), from)
        })
        .collect();
    let expect = |port: &str, from: &str| {
        assert!(ports.iter().any(|(p, f)| p == port && f == from), "{port} from {from} not in {ports:?}");
    };
    expect("master:5055", "port in \"/etc/mesos-master/port\"");
    expect("zookeeper:2182", "clientPort in \"/etc/zookeeper/conf/zoo.cfg\"");
    expect("zookeeper:2889", "server.1 in \"/etc/zookeeper/conf/zoo.cfg\"");
    expect("zookeeper:3889", "server.1 in \"/etc/zookeeper/conf/zoo.cfg\"");
    expect("marathon:8090", "http_port in \"/etc/marathon/conf/http_port\"");
    expect("flink:6124", "jobmanager.rpc.port in \"/opt/flink-1.2.0/conf/flink-conf.yaml\"");
    assert!(!ports.iter().any(|(p, _)| p == "flink:8081" || p == "marathon:8443"), "{ports:?}");
    let notes = value["notes"].to_string();
    assert!(notes.contains("Flink JobManager web/REST") && notes.contains("set to -1"), "{notes}");

    let (code, check) = node.check(&[]);
    assert_eq!(code, 2);
    let message = check["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "zone public does not allow 5055/tcp (master), 2182/tcp (zookeeper), 2889/tcp (zookeeper), \
             3889/tcp (zookeeper), 8090/tcp (marathon), 6124/tcp (flink);"
        ),
        "{message}"
    );
}

#[test]
fn a_standalone_zookeeper_serves_only_its_client_port() {
    let node = enabled_node();
    node.write("/etc/zookeeper/zoo.cfg", "dataDir=/tmp/zk\nclientPort=2181\n");
    let (_, check) = node.check(&[]);
    let message = check["findings"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("zone public does not allow 2181/tcp (zookeeper);"), "{message}");
}

#[test]
fn an_enabled_cluster_unit_shows_a_role() {
    let node = enabled_node();
    let unit = Path::new(FIXTURE).join("../systemd/mesos-slave.service");
    std::fs::copy(unit, node.root().join("usr/lib/systemd/system/mesos-slave.service")).unwrap();
    node.systemctl("enable", "mesos-slave.service");
    let roles = node.roles_fact(&[]);
    assert_eq!(roles["value"]["roles"], serde_json::json!(["agent"]), "{roles:#}");
    assert_eq!(roles["value"]["evidence"], serde_json::json!(["agent: unit mesos-slave.service enabled"]));
    let (code, check) = node.check(&[]);
    assert_eq!(code, 2);
    let message = check["findings"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("zone public does not allow 5051/tcp (agent), 31000-32000/tcp (agent);"), "{message}");
}

#[test]
fn role_flags_replace_detection() {
    let node = enabled_node();
    node.write("/etc/mesos-master/port", "5055\n");
    let roles = node.roles_fact(&["--role", "agent"]);
    assert_eq!(roles["value"]["roles"], serde_json::json!(["agent"]));
    assert_eq!(roles["value"]["evidence"], serde_json::json!(["agent: named with --role"]));
    let (_, check) = node.check(&["--role", "agent"]);
    let message = check["findings"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("zone public does not allow 5051/tcp (agent), 31000-32000/tcp (agent);"), "{message}");
}

#[test]
fn no_roles_skips_naming_the_role_flag() {
    let node = enabled_node();
    let (code, check) = node.check(&[]);
    assert_eq!((code, check["status"].as_str()), (0, Some("skip")));
    assert!(check["reason"].as_str().unwrap().contains("--role"), "{check:#}");
}

/// A live run against a real firewalld: private mount, network and PID
/// namespaces (everything in them dies with the namespace), a private D-Bus
/// system bus, and this node's /etc/firewalld bind-mounted from a temp dir.
/// A port added at runtime only is reported as "lost at the next reload";
/// the printed fix, run in the namespace, makes the check pass.
#[test]
fn live_runtime_and_permanent_configurations_are_compared() {
    let node = Node::with_firewalld();
    let dir = tempfile::tempdir().unwrap();
    let (out1, out2) = (dir.path().join("before.json"), dir.path().join("after.json"));
    let script = r#"
set -e
mount -t tmpfs tmpfs /run
mkdir /run/dbus
mount --bind "$ETC" /etc/firewalld
ip link set lo up
dbus-daemon --system --fork --nopidfile
firewalld --nofork --nopid >/dev/null 2>&1 &
i=0; until firewall-cmd --state >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 150 ] || { echo "firewalld did not start"; exit 1; }; sleep 0.2; done
firewall-cmd -q --zone=public --add-port=5050/tcp
"$CLUSTERDOC" --role master --role marathon --only firewalld.ports --format json >"$OUT1" || true
echo PHASE1
while read -r cmd; do [ "$cmd" = done ] && break; sh -c "$cmd" >/dev/null; done
"$CLUSTERDOC" --role master --role marathon --only firewalld.ports --format json >"$OUT2" || true
"#;
    let mut child = StdCommand::new("unshare")
        .args(["--mount", "--net", "--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c", script])
        .env("ETC", node.root().join("etc/firewalld"))
        .env("CLUSTERDOC", assert_cmd::cargo::cargo_bin("clusterdoc"))
        .env("OUT1", &out1)
        .env("OUT2", &out2)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("unshare (util-linux) is needed");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().map(|l| l.unwrap()).unwrap_or_default();
    assert_eq!(first, "PHASE1", "the namespace set-up failed (needs root, dbus-daemon and firewalld): {first}");

    let before = report(&out1);
    let check = &before["checks"][0];
    assert_eq!(check["status"], "fail", "{check:#}");
    let message = check["findings"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("zone public does not allow 5050/tcp (master), 8080/tcp (marathon);"), "{message}");
    let ev = evidence(check, 0);
    assert!(has_line(&ev, "firewalld: firewalld is running"), "{ev:?}");
    assert!(
        has_line(
            &ev,
            "runtime (firewall-cmd --list-all --zone=public): target default; services dhcpv6-client (546/udp), ssh (22/tcp); ports 5050/tcp"
        ),
        "{ev:?}"
    );
    assert!(
        has_line(
            &ev,
            "5050/tcp (master, Mesos master (HTTP API, web UI, libprocess); port from default): allowed at runtime only"
        ),
        "{ev:?}"
    );
    assert!(
        has_line(
            &ev,
            "8080/tcp (marathon, Marathon REST API and web UI; port from default): missing from the permanent and the runtime configuration"
        ),
        "{ev:?}"
    );
    let fixes = commands(check);
    assert_eq!(fixes[0].0, "firewall-cmd --permanent --zone=public --add-port=5050/tcp --add-port=8080/tcp");
    assert_eq!(fixes[1].0, "firewall-cmd --reload");

    let stdin = child.stdin.as_mut().unwrap();
    writeln!(stdin, "{}\n{}\ndone", fixes[0].0, fixes[1].0).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "the namespace script failed: {status}");
    let after = report(&out2);
    assert_eq!(after["checks"][0]["status"], "pass", "{:#}", after["checks"][0]);
    let zone = std::fs::read_to_string(node.root().join("etc/firewalld/zones/public.xml")).unwrap();
    assert!(zone.contains(r#"<port port="8080" protocol="tcp"/>"#), "{zone}");
}

fn report(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not a JSON report ({e}): {text}", path.display()))
}

// --- firewalld.conf, as firewalld reads it -------------------------------------

/// Each of these made clusterdoc judge zone trusted (which accepts
/// everything) and pass, while firewalld uses public and rejects 5050/tcp:
/// firewalld keeps the first `DefaultZone=`, takes the value verbatim and
/// knows no `export` (firewall/core/io/firewalld_conf.py).
#[test]
fn firewalld_conf_lines_a_shell_would_read_differently() {
    for (conf, origin) in [
        ("DefaultZone=public\nDefaultZone=trusted\n", "DefaultZone= in /etc/firewalld/firewalld.conf line 1".to_string()),
        ("DefaultZone=\"trusted\"\n", names_unknown_zone(r#""\"trusted\"""#)),
        ("DefaultZone=trusted # note\n", names_unknown_zone(r#""trusted # note""#)),
        (
            "export DefaultZone=trusted\n",
            "firewalld's built-in default: no DefaultZone= line of /etc/firewalld/firewalld.conf counts".to_string(),
        ),
        (
            "DefaultZone=trusted\n# ge\u{e4}ndert\n",
            "firewalld's built-in default: /etc/firewalld/firewalld.conf line 2 is not UTF-8, so firewalld ignores the \
             whole file"
                .to_string(),
        ),
    ] {
        let node = enabled_node();
        // The last case in Latin-1, as an editor in such a locale saves it.
        let bytes: Vec<u8> = conf.chars().map(|c| u8::try_from(u32::from(c)).unwrap()).collect();
        std::fs::write(node.root().join("etc/firewalld/firewalld.conf"), bytes).unwrap();
        let (code, check) = node.check(&["--role", "master"]);
        assert_eq!((code, check["status"].as_str()), (2, Some("fail")), "{conf:?}: {check:#}");
        assert_eq!(check["findings"][0]["subject"], "zone public", "{conf:?}");
        let ev = evidence(&check, 0);
        let line = format!("zone public applies: default zone ({origin}) for interfaces no zone claims");
        assert!(ev.contains(&line), "{conf:?}: {line} not in {ev:?}");
        assert_eq!(commands(&check)[0].0, "firewall-cmd --permanent --zone=public --add-port=5050/tcp", "{conf:?}");
    }
}

fn names_unknown_zone(quoted: &str) -> String {
    format!(
        "DefaultZone= in /etc/firewalld/firewalld.conf line 1 names zone {quoted}, which does not exist: firewalld \
         uses public"
    )
}

/// firewalld's own Python code, run on the same files: the interpreter of
/// the Debian package python3-firewall, which firewalld runs with.
const PYTHON: &str = "/usr/bin/python3";

/// Runs `script` with firewalld's Python modules, JSON in and out.
fn firewalld_python(script: &str, input: &Value) -> Value {
    let probe = StdCommand::new(PYTHON).args(["-c", "import firewall.core.fw"]).output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "firewalld's Python modules do not import ({}): install the Debian package python3-firewall \
             (apt-get install firewalld python3-firewall)",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => panic!("{PYTHON}: {e}: install the Debian packages python3 and python3-firewall"),
    }
    let mut child = StdCommand::new(PYTHON)
        .args(["-c", script])
        // Strict UTF-8, as firewalld reads files under systemd (the C locale is
        // coerced to UTF-8 since Python 3.7).
        .env("PYTHONUTF8", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let text = serde_json::to_vec(input).unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&text));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "firewalld's Python failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// firewalld's reader (`firewalld_conf.read()`) and its load-time check of
/// the default zone (`Firewall._start_load_firewalld_conf()` and
/// `_start_check()`, the code `firewalld` and `firewall-offline-cmd` run),
/// on a real `Firewall` object, one case after another.
const PICK_DEFAULT_ZONE: &str = r#"
import json, os, sys, tempfile
from firewall.core.fw import Firewall
from firewall.core.io.firewalld_conf import firewalld_conf
from firewall.core.logger import log
log.setInfoLogLevel(-1)
log.setDebugLogLevel(-1)
fw = Firewall(offline=True)
picked = []
with tempfile.TemporaryDirectory() as tmp:
    for case in json.load(sys.stdin):
        path = os.path.join(tmp, "firewalld.conf")
        if case["conf"] is None:
            if os.path.exists(path):
                os.unlink(path)
        else:
            with open(path, "wb") as f:
                f.write(bytes.fromhex(case["conf"]))
        fw._firewalld_conf = firewalld_conf(path)
        fw._default_zone = "public"  # config.FALLBACK_ZONE, as Firewall.__init_vars() sets it
        zones = case["zones"]
        fw.zone.get_zones = lambda: zones
        fw._start_load_firewalld_conf()
        fw._start_check()
        picked.append(fw._default_zone)
print(json.dumps(picked))
"#;

/// One generated firewalld.conf: lines made of the pieces that tell the
/// readers apart, and which zones exist.
fn conf_case() -> impl proptest::strategy::Strategy<Value = (Option<Vec<u8>>, Vec<String>)> {
    use proptest::prelude::*;
    let key = prop::sample::select(vec![
        "DefaultZone",
        "DefaultZone",
        "DefaultZone",
        "DefaultZone",
        "DefaultZone",
        " DefaultZone",
        "\tDefaultZone",
        "export DefaultZone",
        "defaultzone",
        "#DefaultZone",
        ";DefaultZone",
        "\u{a0}DefaultZone",
        "\u{1c}DefaultZone",
        "\u{feff}DefaultZone",
        "DefaultZone\u{3000}",
        "FirewallBackend",
        "LogDenied",
    ]);
    let separator = prop::sample::select(vec!["=", "=", " = ", "\t=\t", "==", " "]);
    let zone =
        prop::sample::select(vec!["public", "trusted", "work", "internal", "drop", "block", "external", "nosuch", ""]);
    let dress = prop::sample::select(vec![
        "{}",
        "{}",
        "{}",
        "{}",
        "{}",
        "\"{}\"",
        "'{}'",
        "{} # note",
        "{};",
        " {} ",
        "{}=x",
        "{}\u{85}",
        "{}\u{200b}",
    ]);
    let value = (zone, dress).prop_map(|(z, d)| d.replace("{}", z));
    let assignment = (key, separator, value).prop_map(|(k, s, v)| format!("{k}{s}{v}"));
    let other = prop::sample::select(vec!["", "   ", "# a comment", "; a comment", "\u{b}", "IPv6_rpfilter=yes"]);
    let line = prop_oneof![3 => assignment, 1 => other.prop_map(String::from)];
    let ending = prop::sample::select(vec!["\n", "\n", "\r\n", "\r", "\u{2028}", "\u{c}"]);
    let lines = prop::collection::vec((line, ending), 0..6);
    let damage = prop::option::weighted(
        0.1,
        (any::<prop::sample::Index>(), prop::sample::select(vec![0xffu8, 0xc3, 0xe4, 0x80])),
    );
    let conf = (lines, any::<bool>(), damage).prop_map(|(lines, last_ending, damage)| {
        let count = lines.len();
        let mut bytes = Vec::new();
        for (i, (line, ending)) in lines.into_iter().enumerate() {
            bytes.extend_from_slice(line.as_bytes());
            if i + 1 < count || last_ending {
                bytes.extend_from_slice(ending.as_bytes());
            }
        }
        if let Some((at, byte)) = damage {
            bytes.insert(at.index(bytes.len() + 1), byte);
        }
        bytes
    });
    let optional = prop::sample::subsequence(vec!["public", "external", "work", "internal", "\"trusted\""], 0..=5);
    let zones = optional.prop_map(|extra| {
        // firewalld refuses to start without these three.
        let mut zones = vec!["block".to_string(), "drop".into(), "trusted".into()];
        zones.extend(extra.into_iter().map(String::from));
        zones
    });
    (prop::option::weighted(0.97, conf), zones)
}

/// Differential: firewalld's own reader and clusterdoc's pick the same
/// default zone for 600 generated firewalld.conf variants.
#[test]
fn firewalld_conf_differential_against_firewalds_own_reader() {
    use proptest::strategy::{Strategy, ValueTree};
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = conf_case();
    let cases: Vec<(Option<Vec<u8>>, Vec<String>)> =
        (0..600).map(|_| strategy.new_tree(&mut runner).unwrap().current()).collect();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let input: Vec<Value> = cases
        .iter()
        .map(|(conf, zones)| serde_json::json!({"conf": conf.as_deref().map(hex), "zones": zones}))
        .collect();
    let picked = firewalld_python(PICK_DEFAULT_ZONE, &Value::from(input));
    let picked: Vec<&str> = picked.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(picked.len(), cases.len());
    let mut mismatches = Vec::new();
    for ((conf, zones), firewalld) in cases.iter().zip(&picked) {
        let names: Vec<&str> = zones.iter().map(String::as_str).collect();
        let ours = clusterdoc::parsers::firewalld_default_zone(conf.as_deref(), &names);
        if ours.name != *firewalld {
            let text = conf.as_deref().map(String::from_utf8_lossy);
            mismatches.push(format!("{text:?} with zones {zones:?}: firewalld {firewalld}, clusterdoc {ours:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{} of {} differ:\n{}", mismatches.len(), cases.len(), mismatches.join("\n"));
    // The generator reaches every outcome: a named zone, the fallbacks, a file that is not UTF-8.
    let count = |name: &str| picked.iter().filter(|p| **p == name).count();
    for zone in ["public", "external", "block"] {
        assert!(count(zone) >= 30, "only {} cases pick {zone}: {picked:?}", count(zone));
    }
    let named = ["trusted", "work", "internal", "drop"].iter().map(|z| count(z)).sum::<usize>();
    assert!(named >= 30, "only {named} cases pick a zone firewalld.conf names");
    let not_utf8 = cases.iter().filter(|(c, _)| c.as_deref().is_some_and(|c| std::str::from_utf8(c).is_err())).count();
    assert!(not_utf8 >= 20, "only {not_utf8} cases are not UTF-8");
}

// --- rich rules ------------------------------------------------------------------

#[test]
fn an_ipv6_rich_rule_opens_nothing_for_ipv4_peers() {
    let node = enabled_node();
    node.offline(&["--zone=public", "--add-rich-rule=rule family=ipv6 port port=5050 protocol=tcp accept"]);
    let (code, check) = node.check(&["--role", "master"]);
    assert_eq!((code, check["status"].as_str()), (2, Some("fail")), "{check:#}");
    assert!(check["findings"][0]["message"].as_str().unwrap().starts_with("zone public does not allow 5050/tcp"));
    let ev = evidence(&check, 0);
    assert!(
        has_line(
            &ev,
            r#"rich rule not counted (for IPv6 only, so not for IPv4 peers) at /etc/firewalld/zones/public.xml line 7: rule family="ipv6" port port="5050" protocol="tcp" accept"#
        ),
        "{ev:?}"
    );
    assert!(has_line(&ev, "judged for IPv4 peers"), "{ev:?}");
    assert_eq!(commands(&check)[0].0, "firewall-cmd --permanent --zone=public --add-port=5050/tcp");
}

/// firewalld puts `reject` and `drop` rules in the zone's deny chain, which
/// runs before the allow chain holding its ports (firewall/core/nftables.py).
/// The printed fix, run through firewall-offline-cmd, makes the check pass.
#[test]
fn a_deny_rich_rule_wins_over_a_port_opening() {
    let node = enabled_node();
    let rule = "rule family=ipv4 port port=5050 protocol=tcp reject";
    node.offline(&["--zone=public", "--add-port=5050/tcp"]);
    node.offline(&["--zone=public", &format!("--add-rich-rule={rule}")]);
    let (code, check) = node.check(&["--role", "master"]);
    assert_eq!((code, check["status"].as_str()), (2, Some("fail")), "{check:#}");
    let message = check["findings"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("zone public does not allow 5050/tcp (master); firewalld is enabled and rejects"));
    let ev = evidence(&check, 0);
    assert!(
        has_line(
            &ev,
            r#"missing from /etc/firewalld/zones/public.xml; refused by the rich rule at /etc/firewalld/zones/public.xml line 8: rule family="ipv4" port port="5050" protocol="tcp" reject"#
        ),
        "{ev:?}"
    );
    let fixes = commands(&check);
    let remove = r#"firewall-cmd --permanent --zone=public --remove-rich-rule='rule family="ipv4" port port="5050" protocol="tcp" reject'"#;
    assert_eq!(fixes[0], (remove.to_string(), "safe".to_string()));
    assert_eq!(fixes[1].0, "firewall-cmd --reload");
    let words = shlex::split(&fixes[0].0).unwrap();
    node.offline(&words[2..].iter().map(String::as_str).collect::<Vec<_>>());
    let (code, check) = node.check(&["--role", "master"]);
    assert_eq!((code, check["status"].as_str()), (0, Some("pass")), "{check:#}");
}

#[test]
fn rich_rules_clusterdoc_cannot_judge_are_errors_with_file_and_line() {
    let node = enabled_node();
    node.offline(&["--zone=public", "--add-port=5050/tcp"]);
    node.offline(&[
        "--zone=public",
        "--add-rich-rule=rule family=ipv4 source address=10.0.0.0/8 port port=5050 protocol=tcp drop",
    ]);
    let (code, check) = node.check(&["--role", "master"]);
    assert_eq!((code, check["status"].as_str()), (3, Some("error")), "{check:#}");
    assert_eq!(
        check["findings"][0]["message"],
        "could not tell whether zone public allows 5050/tcp (master) to every IPv4 peer: the rich rule at \
         /etc/firewalld/zones/public.xml line 8 may refuse some of them (it applies only with source \
         address=10.0.0.0/8)"
    );
    assert_eq!(
        commands(&check),
        [("firewall-cmd --permanent --zone=public --list-all".to_string(), "safe".to_string())]
    );

    // An element firewalld may know and clusterdoc does not.
    let node = enabled_node();
    node.write(
        "/etc/firewalld/zones/public.xml",
        "<?xml version=\"1.0\"?>\n<zone>\n  <port port=\"5050\" protocol=\"tcp\"/>\n  <rule family=\"ipv4\">\n    \
         <port port=\"5050\" protocol=\"tcp\"/>\n    <quarantine/>\n    <accept/>\n  </rule>\n</zone>\n",
    );
    let (code, check) = node.check(&["--role", "master"]);
    assert_eq!((code, check["status"].as_str()), (3, Some("error")), "{check:#}");
    let message = check["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.ends_with(
            "the rich rule at /etc/firewalld/zones/public.xml line 4 may refuse some of them (clusterdoc does not \
             understand it: an element clusterdoc does not know)"
        ),
        "{message}"
    );
}

/// A generated zone: a target, maybe a port and a service, and rich rules.
#[derive(Clone, Debug)]
struct ZoneCase {
    target: &'static str,
    port: Option<&'static str>,
    service: Option<&'static str>,
    rules: Vec<RuleCase>,
}

#[derive(Clone, Debug)]
struct RuleCase {
    family: Option<&'static str>,
    priority: i32,
    /// `(address, inverted)`.
    source: Option<(&'static str, bool)>,
    element: &'static str,
    actions: &'static str,
}

/// The two IPv4 peers of the differential test, on the far side of a veth
/// pair from the firewalld node (10.77.0.1).
const PEER_A: &str = "10.77.0.2";
const PEER_B: &str = "10.77.0.3";

impl ZoneCase {
    fn xml(&self) -> String {
        let target = if self.target == "default" { String::new() } else { format!(" target=\"{}\"", self.target) };
        let mut xml = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone{target}>\n  <short>Public</short>\n");
        if let Some(port) = self.port {
            let (port, protocol) = port.split_once('/').unwrap();
            xml.push_str(&format!("  <port port=\"{port}\" protocol=\"{protocol}\"/>\n"));
        }
        if let Some(service) = self.service {
            xml.push_str(&format!("  <service name=\"{service}\"/>\n"));
        }
        for rule in &self.rules {
            let mut attrs = String::new();
            if let Some(family) = rule.family {
                attrs.push_str(&format!(" family=\"{family}\""));
            }
            if rule.priority != 0 {
                attrs.push_str(&format!(" priority=\"{}\"", rule.priority));
            }
            xml.push_str(&format!("  <rule{attrs}>\n"));
            if let Some((address, inverted)) = rule.source {
                let invert = if inverted { " invert=\"True\"" } else { "" };
                xml.push_str(&format!("    <source address=\"{address}\"{invert}/>\n"));
            }
            xml.push_str(&format!("    {}\n    {}\n  </rule>\n", rule.element, rule.actions));
        }
        xml.push_str("</zone>\n");
        xml
    }
}

fn zone_case() -> impl proptest::strategy::Strategy<Value = ZoneCase> {
    use proptest::prelude::*;
    let family = prop::sample::select(vec![None, Some("ipv4"), Some("ipv4"), Some("ipv6")]);
    let priority = prop::sample::select(vec![0, 0, 0, -1, 1, -2, 2]);
    let source = prop::sample::select(vec![
        None,
        None,
        None,
        Some((PEER_A, false)),
        Some((PEER_A, true)),
        Some(("192.0.2.0/24", false)),
    ]);
    let element = prop::sample::select(vec![
        r#"<port port="5050" protocol="tcp"/>"#,
        r#"<port port="5050" protocol="tcp"/>"#,
        r#"<port port="5000-5100" protocol="tcp"/>"#,
        r#"<port port="5050" protocol="udp"/>"#,
        r#"<port port="6000" protocol="tcp"/>"#,
        r#"<service name="mesos"/>"#,
        r#"<protocol value="tcp"/>"#,
    ]);
    let actions = prop::sample::select(vec![
        "<accept/>",
        "<accept/>",
        "<reject/>",
        "<drop/>",
        r#"<log prefix="t"/>"#,
        "<audit/><accept/>",
        r#"<mark set="1"/>"#,
        r#"<log prefix="t"/><drop/>"#,
    ]);
    let rule = (family, priority, source, element, actions).prop_map(|(family, priority, source, element, actions)| {
        // An address needs a family, of its kind (firewalld refuses the rule otherwise).
        let (family, source) = match (family, source) {
            (Some("ipv6"), Some((_, inverted))) => (family, Some(("2001:db8::/32", inverted))),
            (None, Some(s)) => (Some("ipv4"), Some(s)),
            other => other,
        };
        RuleCase { family, priority, source, element, actions }
    });
    let target = prop::sample::select(vec!["default", "default", "default", "DROP", "ACCEPT"]);
    let port = prop::sample::select(vec![None, None, Some("5050/tcp"), Some("5000-5100/tcp"), Some("5050/udp")]);
    let service = prop::sample::select(vec![None, None, Some("mesos"), Some("ssh")]);
    (target, port, service, prop::collection::vec(rule, 0..=3)).prop_map(|(target, port, service, rules)| ZoneCase {
        target,
        port,
        service,
        rules,
    })
}

/// Differential: clusterdoc's verdict on generated zones (ports, services,
/// rich rules of both families, priorities, accept/reject/drop/log/audit/
/// mark) against what a real firewalld does with real connections.
/// `firewall-offline-cmd --query-port` is no oracle here: it answers from the
/// zone's `<port>` list alone and ignores rich rules. So the oracle is the
/// packet path itself: firewalld runs in private mount, network and PID
/// namespaces, loads each zone with `firewall-cmd --reload`, and two IPv4
/// peers in a second network namespace connect to a listener on 5050/tcp
/// over a veth pair. clusterdoc's `pass` must mean both peers get in, `fail`
/// that one of them at least does not (both, when no rule names a source),
/// and `error` is allowed only where a rule names a source. A live run in
/// the namespace, which also reads the runtime zone as firewalld prints it
/// (`firewall-cmd --list-all`), must give the same verdict.
#[test]
fn rich_rule_differential_against_a_real_firewalld() {
    use proptest::strategy::{Strategy, ValueTree};
    let node = enabled_node();
    node.write(
        "/etc/firewalld/services/mesos.xml",
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service>\n  <short>Mesos master</short>\n  \
         <port port=\"5050\" protocol=\"tcp\"/>\n</service>\n",
    );
    let live_report = node.root().join("live.json");
    let script = r#"
set -e
mount -t tmpfs tmpfs /run
mkdir /run/dbus
mount --bind "$ETC" /etc/firewalld
ip link set lo up
# Rejections answer at once, however many (the kernel rate-limits ICMP errors).
sysctl -qw net.ipv4.icmp_ratelimit=0
unshare --net sleep 1000000 &
PEER=$!
until [ "$(readlink /proc/$PEER/ns/net)" != "$(readlink /proc/self/ns/net)" ]; do sleep 0.05; done
ip link add fw0 type veth peer name peer0 netns $PEER
ip addr add 10.77.0.1/24 dev fw0
ip link set fw0 up
nsenter --net --target $PEER sh -c "ip link set lo up; ip addr add $PEER_A/24 dev peer0; ip addr add $PEER_B/24 dev peer0; ip link set peer0 up"
/usr/bin/python3 -c '
import socket
s = socket.socket()
s.bind(("0.0.0.0", 5050))
s.listen(64)
while True:
    s.accept()[0].close()
' &
dbus-daemon --system --fork --nopidfile
firewalld --nofork --nopid >/dev/null 2>&1 &
i=0; until firewall-cmd --state >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 150 ] || { echo "firewalld did not start"; exit 1; }; sleep 0.2; done
echo READY
while read -r command; do
    [ "$command" = done ] && break
    if ! out=$(firewall-cmd --reload 2>&1); then echo "RELOAD FAILED: $out" | tr '\n' ' '; echo; continue; fi
    seen=$(nsenter --net --target $PEER /usr/bin/python3 -c '
import socket, sys
seen = []
for peer in sys.argv[1:]:
    s = socket.socket()
    s.settimeout(1)
    s.bind((peer, 0))
    try:
        s.connect(("10.77.0.1", 5050))
        seen.append("open")
    except OSError:
        seen.append("blocked")
    s.close()
print(" ".join(seen))
' "$PEER_A" "$PEER_B")
    "$CLUSTERDOC" --role master --only firewalld.ports --format json >"$OUT" 2>/dev/null || true
    echo "$seen"
done
"#;
    let mut child = StdCommand::new("unshare")
        .args(["--mount", "--net", "--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c", script])
        .env("ETC", node.root().join("etc/firewalld"))
        .env("PEER_A", PEER_A)
        .env("PEER_B", PEER_B)
        .env("CLUSTERDOC", assert_cmd::cargo::cargo_bin("clusterdoc"))
        .env("OUT", &live_report)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("unshare (util-linux) is needed");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next_line = || lines.next().map(|l| l.unwrap()).unwrap_or_default();
    let ready = next_line();
    assert_eq!(ready, "READY", "the namespace set-up failed (needs root, dbus-daemon, firewalld, iproute2): {ready}");

    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = zone_case();
    let (mut passes, mut fails, mut errors, mut runtime_read) = (0, 0, 0, 0);
    let mut mismatches = Vec::new();
    for _ in 0..40 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        let xml = case.xml();
        node.write("/etc/firewalld/zones/public.xml", &xml);
        let (_, check) = node.check(&["--role", "master"]);
        writeln!(stdin, "probe").unwrap();
        let seen = next_line();
        let open: Vec<bool> = match seen.as_str() {
            "open open" => vec![true, true],
            "open blocked" => vec![true, false],
            "blocked open" => vec![false, true],
            "blocked blocked" => vec![false, false],
            other => panic!("the probe failed for\n{xml}\n{other}"),
        };
        let sourced = case.rules.iter().any(|r| r.source.is_some());
        let agrees = match check["status"].as_str().unwrap() {
            "pass" => {
                passes += 1;
                open.iter().all(|o| *o)
            }
            "fail" => {
                fails += 1;
                if sourced { !open.iter().all(|o| *o) } else { open.iter().all(|o| !*o) }
            }
            "error" => {
                errors += 1;
                sourced
            }
            other => panic!("status {other}: {check:#}"),
        };
        if !agrees {
            mismatches.push(format!("{xml}firewalld: {seen}; clusterdoc: {}", check["status"]));
        }
        // The live run reads the runtime zone as firewalld prints it
        // (firewall-cmd --list-all): the same verdict.
        let live = &report(&live_report)["checks"][0];
        if live["status"] != check["status"] {
            mismatches.push(format!("{xml}under --root: {}; live: {live:#}", check["status"]));
        }
        let said = live.to_string();
        if said.contains("runtime (firewall-cmd --list-all --zone=public)") && said.contains("firewalld is running") {
            runtime_read += 1;
        }
    }
    writeln!(stdin, "done").unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "the namespace script failed: {status}");
    assert!(mismatches.is_empty(), "{} of 40 differ:\n{}", mismatches.len(), mismatches.join("\n"));
    assert!(
        passes >= 8 && fails >= 8,
        "the cases do not reach both verdicts: {passes} pass, {fails} fail, {errors} error"
    );
    assert!(runtime_read >= fails, "only {runtime_read} live runs show the runtime zone ({fails} fail)");
}

/// A zone's forward-port redirects the port (DNAT) before any filtering:
/// the connection never reaches the daemon on it, whatever the zone allows.
#[test]
fn a_forward_port_of_a_served_port_is_an_error_with_file_and_line() {
    let node = enabled_node();
    node.offline(&["--zone=public", "--add-port=5050/tcp"]);
    node.offline(&["--zone=public", "--add-forward-port=port=5050:proto=tcp:toport=6000"]);
    let (code, check) = node.check(&["--role", "master"]);
    assert_eq!((code, check["status"].as_str()), (3, Some("error")), "{check:#}");
    assert_eq!(
        check["findings"][0]["message"],
        "could not tell whether zone public allows 5050/tcp (master) to every IPv4 peer: the forward-port at \
         /etc/firewalld/zones/public.xml line 8 may refuse some of them (forward-port redirects the port before \
         filtering; clusterdoc does not follow it)"
    );
    assert_eq!(
        commands(&check),
        [("firewall-cmd --permanent --zone=public --list-all".to_string(), "safe".to_string())]
    );
}
