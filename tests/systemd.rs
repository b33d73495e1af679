//! `systemd.respawn` end to end: the real binary judges unit-file trees built
//! under a temporary `--root`, and every tree's verdict on each unit (enabled,
//! masked, static, ...) is checked against `systemctl --root=DIR is-enabled`,
//! the drop-ins applied against `systemd-analyze --root=DIR cat-config`.

#[path = "support/cli.rs"]
mod cli_support;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/systemd");
const VENDOR: &str = "/usr/lib/systemd/system";
const ETC: &str = "/etc/systemd/system";

/// A node's file system under a temporary directory.
struct Node {
    dir: TempDir,
}

impl Node {
    fn new() -> Self {
        let node = Node { dir: tempfile::tempdir().unwrap() };
        node.mkdir(VENDOR);
        node.mkdir(ETC);
        node
    }

    fn path(&self, node_path: &str) -> std::path::PathBuf {
        self.dir.path().join(node_path.trim_start_matches('/'))
    }

    fn mkdir(&self, node_path: &str) {
        std::fs::create_dir_all(self.path(node_path)).unwrap();
    }

    fn write(&self, node_path: &str, content: impl AsRef<[u8]>) {
        self.mkdir(Path::new(node_path).parent().unwrap().to_str().unwrap());
        std::fs::write(self.path(node_path), content).unwrap();
    }

    fn link(&self, target: &str, node_path: &str) {
        self.mkdir(Path::new(node_path).parent().unwrap().to_str().unwrap());
        symlink(target, self.path(node_path)).unwrap();
    }

    /// An upstream unit file, unchanged, installed as the packages do.
    fn install(&self, fixture: &str, unit: &str) {
        let text = std::fs::read(Path::new(FIXTURES).join(fixture)).unwrap();
        self.write(&format!("{VENDOR}/{unit}"), text);
    }

    /// What `systemctl enable` does for `WantedBy=multi-user.target`.
    fn enable(&self, unit: &str) {
        self.link(&format!("{VENDOR}/{unit}"), &format!("{ETC}/multi-user.target.wants/{unit}"));
    }

    /// The Mesos cluster scripts and the host lists they read.
    fn cluster_scripts(&self) {
        for script in ["mesos-start-cluster.sh", "mesos-stop-cluster.sh", "mesos-daemon.sh"] {
            self.write(&format!("/usr/sbin/{script}"), "#!/bin/sh\n");
        }
        self.write("/usr/etc/mesos/masters", "# masters\nm1.example\nm2.example\nm3.example\n");
        self.write("/usr/etc/mesos/slaves", "a1.example\na2.example\n");
    }

    fn clusterdoc(&self) -> Command {
        let mut cmd = cli_support::clusterdoc(self.dir.path());
        cmd.arg("--root").arg(self.dir.path()).args(["--only", "systemd.respawn"]);
        cmd
    }

    /// The `systemd.respawn` report and the exit code.
    fn check(&self) -> (Value, i32) {
        let output = self.clusterdoc().args(["--format", "json"]).output().unwrap();
        let report = json(&output.stdout);
        let code = output.status.code().unwrap();
        assert_eq!(report["checks"].as_array().unwrap().len(), 1, "{report:#}");
        (report["checks"][0].clone(), code)
    }

    /// The systemd facts clusterdoc gathered (`collect`).
    fn facts(&self) -> Value {
        let output = cli_support::clusterdoc(self.dir.path())
            .arg("collect")
            .arg("--root")
            .arg(self.dir.path())
            .args(["--only", "systemd.respawn"])
            .output()
            .unwrap();
        assert!(output.status.success(), "collect failed: {}", String::from_utf8_lossy(&output.stderr));
        let snapshot = json(&output.stdout);
        assert_eq!(snapshot["facts"]["systemd"]["state"], "observed", "{snapshot:#}");
        snapshot["facts"]["systemd"]["value"].clone()
    }

    fn unit_facts(&self, unit: &str) -> Value {
        let facts = self.facts();
        facts["units"].as_array().unwrap().iter().find(|u| u["name"] == unit).cloned().unwrap()
    }

    /// clusterdoc's unit file state of every cluster unit equals what
    /// `systemctl is-enabled` says about the same tree; where clusterdoc
    /// could not read a unit (or found none), systemctl fails too.
    fn assert_agrees_with_systemctl(&self) {
        let facts = self.facts();
        for unit in facts["units"].as_array().unwrap() {
            let name = unit["name"].as_str().unwrap();
            let ours = unit["state"].as_str().unwrap();
            let output = systemctl()
                .arg(format!("--root={}", self.dir.path().display()))
                .args(["is-enabled", name])
                .output()
                .unwrap();
            let theirs = String::from_utf8_lossy(&output.stdout).trim().to_string();
            if matches!(ours, "bad" | "not-found") {
                assert!(
                    !output.status.success() && theirs.is_empty(),
                    "{name}: clusterdoc says {ours}, systemctl says {theirs:?} ({})",
                    String::from_utf8_lossy(&output.stderr)
                );
            } else {
                assert_eq!(ours, theirs, "{name}: clusterdoc and systemctl is-enabled disagree");
            }
        }
    }

    /// The unit file and drop-ins clusterdoc applied, in order, equal the
    /// files `systemd-analyze cat-config` shows for the unit.
    fn assert_same_files_as_systemd_analyze(&self, unit: &str) {
        let facts = self.unit_facts(unit);
        let mut ours = vec![facts["file"].as_str().unwrap().to_string()];
        ours.extend(facts["drop_ins"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()));
        let output = StdCommand::new("systemd-analyze")
            .arg(format!("--root={}", self.dir.path().display()))
            .args(["cat-config", &format!("systemd/system/{unit}")])
            .output()
            .unwrap_or_else(|e| panic!("systemd-analyze is needed for this test (apt-get install systemd): {e}"));
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let prefix = format!("# {}", self.dir.path().display());
        let theirs: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix).map(String::from))
            .collect();
        assert_eq!(ours, theirs, "files applied to {unit}");
    }
}

fn systemctl() -> StdCommand {
    assert!(
        Path::new("/usr/bin/systemctl").exists(),
        "systemctl is needed to cross-check unit file states (apt-get install systemd)"
    );
    StdCommand::new("/usr/bin/systemctl")
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

fn texts(value: &Value) -> Vec<String> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

fn has(lines: &[String], wanted: &str) -> bool {
    lines.iter().any(|l| l == wanted)
}

/// Two upstream units, enabled, on a node with the packages' layout.
fn enabled_mesos_node() -> Node {
    let node = Node::new();
    node.install("mesos-master.service", "mesos-master.service");
    node.install("mesos-slave.service", "mesos-slave.service");
    node.enable("mesos-master.service");
    node.enable("mesos-slave.service");
    node
}

#[test]
fn enabled_units_on_a_node_driven_by_the_cluster_scripts_fail_with_the_disable_remedy() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    let (check, code) = node.check();
    assert_eq!((check["status"].as_str(), code), (Some("fail"), 2), "{check:#}");
    let finding = &check["findings"][0];
    assert_eq!(finding["status"], "fail");
    assert_eq!(finding["subject"], "units mesos-master.service, mesos-slave.service");
    let evidence = texts(&finding["evidence"]);
    for line in [
        "mesos-master.service: /usr/lib/systemd/system/mesos-master.service (enabled)",
        "mesos-master.service: started at boot by /etc/systemd/system/multi-user.target.wants/mesos-master.service",
        "mesos-master.service: Restart=always (/usr/lib/systemd/system/mesos-master.service:8)",
        "mesos-master.service: RestartSec=20 (/usr/lib/systemd/system/mesos-master.service:9)",
        "mesos-slave.service: Restart=always (/usr/lib/systemd/system/mesos-slave.service:9)",
        "cluster scripts present: /usr/sbin/mesos-start-cluster.sh, /usr/sbin/mesos-stop-cluster.sh, /usr/sbin/mesos-daemon.sh",
        "deploy file /usr/etc/mesos/masters lists 3 hosts: m1.example, m2.example, m3.example",
        "judged from unit files only (--root: no live probes)",
    ] {
        assert!(has(&evidence, line), "missing {line:?} in {evidence:#?}");
    }
    let disruptive = |c: &str| (c.to_string(), "disruptive".to_string());
    let safe = |c: &str| (c.to_string(), "safe".to_string());
    assert_eq!(
        cli_support::remedies(finding),
        [
            disruptive("systemctl disable --now mesos-master.service mesos-slave.service"),
            disruptive("systemctl mask --now mesos-master.service mesos-slave.service"),
            safe("mv -- /usr/etc/mesos/masters /usr/etc/mesos/masters.disabled"),
            safe("mv -- /usr/etc/mesos/slaves /usr/etc/mesos/slaves.disabled"),
        ]
    );
    node.assert_agrees_with_systemctl();
}

#[test]
fn the_human_report_shows_the_fix() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    let output = node.clusterdoc().args(["--color", "never"]).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("systemctl disable --now mesos-master.service mesos-slave.service"), "{text}");
}

#[test]
fn scripts_alone_count_as_a_second_manager() {
    let node = enabled_mesos_node();
    node.write("/usr/local/sbin/mesos-daemon.sh", "#!/bin/sh\n");
    let (check, _) = node.check();
    assert_eq!(check["status"], "fail", "{check:#}");
    // No host list to move aside: the scripts themselves are.
    let moves: Vec<_> =
        cli_support::remedies(&check["findings"][0]).into_iter().filter(|(c, _)| c.starts_with("mv")).collect();
    assert_eq!(
        moves,
        [("mv -- /usr/local/sbin/mesos-daemon.sh /usr/local/sbin/mesos-daemon.sh.disabled".into(), "safe".into())]
    );
}

#[test]
fn enabled_units_without_the_scripts_warn() {
    let node = enabled_mesos_node();
    let (check, code) = node.check();
    assert_eq!((check["status"].as_str(), code), (Some("warn"), 1), "{check:#}");
    let finding = &check["findings"][0];
    assert!(finding["message"].as_str().unwrap().contains("fine while systemd is their only manager"));
    let evidence = texts(&finding["evidence"]);
    assert!(has(&evidence, "no Mesos cluster scripts or deploy files found"), "{evidence:#?}");
    assert!(has(&evidence, "mesos-master.service: Restart=always (/usr/lib/systemd/system/mesos-master.service:8)"));
    assert_eq!(cli_support::remedies(finding), []);
    node.assert_agrees_with_systemctl();
}

#[test]
fn a_drop_in_with_restart_no_passes() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    for unit in ["mesos-master.service", "mesos-slave.service"] {
        node.write(
            &format!("{ETC}/{unit}.d/override.conf"),
            "# managed by the cluster scripts\n[Service]\nRestart=no\n",
        );
    }
    let (check, code) = node.check();
    assert_eq!((check["status"].as_str(), code), (Some("pass"), 0), "{check:#}");
    let note = check["reason"].as_str().unwrap();
    assert!(
        note.contains(
            "mesos-master.service: enabled, Restart=no (/etc/systemd/system/mesos-master.service.d/override.conf:3)"
        ),
        "{note}"
    );
    node.assert_agrees_with_systemctl();
    node.assert_same_files_as_systemd_analyze("mesos-master.service");
}

#[test]
fn drop_ins_apply_in_name_order_and_etc_shadows_the_vendor_one() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    let unit = "mesos-master.service";
    // Applied in name order whatever the directory: 10 from /etc, then 50.
    node.write(&format!("{ETC}/{unit}.d/10-on-failure.conf"), "[Service]\nRestart=on-failure\n");
    node.write(&format!("{VENDOR}/{unit}.d/50-restart.conf"), "[Service]\nRestart=no\n");
    assert_eq!(node.unit_facts(unit)["restart"]["value"], "no");
    node.assert_same_files_as_systemd_analyze(unit);
    // A drop-in of the same name in /etc replaces the vendor one.
    node.write(&format!("{ETC}/{unit}.d/50-restart.conf"), "[Service]\nRestart=\\\n  always\nRestartSec=5\n");
    node.assert_same_files_as_systemd_analyze(unit);
    let (check, _) = node.check();
    assert_eq!(check["status"], "fail", "{check:#}");
    let evidence = texts(&check["findings"][0]["evidence"]);
    assert!(
        has(
            &evidence,
            "mesos-master.service: Restart=always (/etc/systemd/system/mesos-master.service.d/50-restart.conf:2)"
        ),
        "{evidence:#?}"
    );
    assert!(
        has(
            &evidence,
            "mesos-master.service: RestartSec=5 (/etc/systemd/system/mesos-master.service.d/50-restart.conf:4)"
        ),
        "{evidence:#?}"
    );
    assert!(
        has(
            &evidence,
            "mesos-master.service: drop-ins applied: /etc/systemd/system/mesos-master.service.d/10-on-failure.conf, /etc/systemd/system/mesos-master.service.d/50-restart.conf"
        ),
        "{evidence:#?}"
    );
}

#[test]
fn prefix_drop_ins_apply_to_every_mesos_unit_and_the_specific_one_wins() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    // `mesos-.service.d` applies to mesos-master and mesos-slave alike ...
    node.write(&format!("{ETC}/mesos-.service.d/10-scripts.conf"), "[Service]\nRestart=no\n");
    let (check, _) = node.check();
    assert_eq!(check["status"], "pass", "{check:#}");
    assert!(
        check["reason"]
            .as_str()
            .unwrap()
            .contains("Restart=no (/etc/systemd/system/mesos-.service.d/10-scripts.conf:2)")
    );
    // A file of the same name for one unit in a lower-priority directory does
    // not count: systemd takes the first directory in search-path order ...
    node.write(&format!("{VENDOR}/mesos-slave.service.d/10-scripts.conf"), "[Service]\nRestart=on-failure\n");
    assert_eq!(node.check().0["status"], "pass");
    // ... but in the same directory the unit's own one replaces the prefix one.
    node.write(&format!("{ETC}/mesos-slave.service.d/10-scripts.conf"), "[Service]\nRestart=on-failure\n");
    // And the per-type service.d comes last: its own file name still applies, after.
    node.write(&format!("{VENDOR}/service.d/99-all.conf"), "[Service]\nRestartSec=7\n");
    let (check, _) = node.check();
    assert_eq!(check["status"], "fail", "{check:#}");
    assert_eq!(check["findings"][0]["subject"], "units mesos-slave.service");
    let evidence = texts(&check["findings"][0]["evidence"]);
    for line in [
        "mesos-slave.service: Restart=on-failure (/etc/systemd/system/mesos-slave.service.d/10-scripts.conf:2)",
        "mesos-slave.service: RestartSec=7 (/usr/lib/systemd/system/service.d/99-all.conf:2)",
        "mesos-slave.service: drop-ins applied: /etc/systemd/system/mesos-slave.service.d/10-scripts.conf, /usr/lib/systemd/system/service.d/99-all.conf",
    ] {
        assert!(has(&evidence, line), "missing {line:?} in {evidence:#?}");
    }
}

#[test]
fn an_empty_restart_resets_to_no() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    node.write(&format!("{ETC}/mesos-master.service.d/reset.conf"), "[Service]\nRestart=\n");
    node.write(&format!("{ETC}/mesos-slave.service.d/reset.conf"), "[Service]\nRestart=\n");
    let (check, _) = node.check();
    assert_eq!(check["status"], "pass", "{check:#}");
    assert!(
        check["reason"]
            .as_str()
            .unwrap()
            .contains("Restart=no (reset to the default at /etc/systemd/system/mesos-slave.service.d/reset.conf:2)")
    );
}

#[test]
fn masked_units_pass_even_with_wants_links_left_behind() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    node.link("/dev/null", &format!("{ETC}/mesos-master.service"));
    node.write(&format!("{ETC}/mesos-slave.service"), ""); // an empty file masks too
    let (check, code) = node.check();
    assert_eq!((check["status"].as_str(), code), (Some("pass"), 0), "{check:#}");
    let note = check["reason"].as_str().unwrap();
    assert!(note.contains("mesos-master.service: masked") && note.contains("mesos-slave.service: masked"), "{note}");
    node.assert_agrees_with_systemctl();
}

#[test]
fn a_unit_in_etc_overrides_the_vendor_file() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    // The operator's copy in /etc says Restart=no: the vendor file no longer counts.
    let vendor = std::fs::read_to_string(node.path(&format!("{VENDOR}/mesos-master.service"))).unwrap();
    node.write(&format!("{ETC}/mesos-master.service"), vendor.replace("Restart=always", "Restart=no"));
    node.write(&format!("{ETC}/mesos-slave.service.d/no.conf"), "[Service]\nRestart=no\n");
    let (check, _) = node.check();
    assert_eq!(check["status"], "pass", "{check:#}");
    assert!(check["reason"].as_str().unwrap().contains("Restart=no (/etc/systemd/system/mesos-master.service:8)"));
    node.assert_agrees_with_systemctl();
    node.assert_same_files_as_systemd_analyze("mesos-master.service");

    // And the other way round: the vendor file says no, the /etc copy always.
    let node = Node::new();
    node.cluster_scripts();
    let upstream = std::fs::read_to_string(Path::new(FIXTURES).join("mesos-master.service")).unwrap();
    node.write(&format!("{VENDOR}/mesos-master.service"), upstream.replace("Restart=always", "Restart=no"));
    node.write(&format!("{ETC}/mesos-master.service"), &upstream);
    node.link(&format!("{ETC}/mesos-master.service"), &format!("{ETC}/multi-user.target.wants/mesos-master.service"));
    let (check, _) = node.check();
    assert_eq!(check["status"], "fail", "{check:#}");
    let evidence = texts(&check["findings"][0]["evidence"]);
    assert!(
        has(&evidence, "mesos-master.service: Restart=always (/etc/systemd/system/mesos-master.service:8)"),
        "{evidence:#?}"
    );
    node.assert_agrees_with_systemctl();
}

#[test]
fn disabled_and_static_units_pass() {
    let node = Node::new();
    node.cluster_scripts();
    node.install("mesos-master.service", "mesos-master.service");
    // A static unit: no [Install] section, so nothing enables it.
    let upstream = std::fs::read_to_string(Path::new(FIXTURES).join("mesos-slave.service")).unwrap();
    let without_install = upstream.split("[Install]").next().unwrap().to_string();
    node.write(&format!("{VENDOR}/mesos-slave.service"), without_install);
    // A drop-in may add the [Install] section a static unit lacks.
    node.write(
        &format!("{VENDOR}/zookeeper.service"),
        "[Service]\nExecStart=/usr/bin/zkServer.sh start-foreground\nRestart=on-failure\n",
    );
    node.write(&format!("{ETC}/zookeeper.service.d/install.conf"), "[Install]\nWantedBy=multi-user.target\n");
    let (check, _) = node.check();
    assert_eq!(check["status"], "pass", "{check:#}");
    let note = check["reason"].as_str().unwrap();
    assert!(note.contains("mesos-master.service: disabled, Restart=always"), "{note}");
    assert!(note.contains("mesos-slave.service: static, Restart=always"), "{note}");
    assert!(note.contains("zookeeper.service: disabled, Restart=on-failure"), "{note}");
    node.assert_agrees_with_systemctl();
}

#[test]
fn a_vendor_wants_link_starts_the_unit_though_systemctl_says_disabled() {
    let node = Node::new();
    node.cluster_scripts();
    node.install("marathon.service", "marathon.service");
    node.link("../marathon.service", &format!("{VENDOR}/multi-user.target.wants/marathon.service"));
    let (check, _) = node.check();
    assert_eq!(check["status"], "fail", "{check:#}");
    let evidence = texts(&check["findings"][0]["evidence"]);
    assert!(has(&evidence, "marathon.service: /usr/lib/systemd/system/marathon.service (disabled)"), "{evidence:#?}");
    assert!(has(
        &evidence,
        "marathon.service: started at boot by /usr/lib/systemd/system/multi-user.target.wants/marathon.service"
    ));
    assert!(
        has(&evidence, "marathon.service: RestartSec=60 (/usr/lib/systemd/system/marathon.service:12)"),
        "{evidence:#?}"
    );
    node.assert_agrees_with_systemctl();
}

#[test]
fn runtime_enablement_requires_links_and_debian_paths_count() {
    let node = Node::new();
    node.cluster_scripts();
    // Debian without merged /usr: units in /lib/systemd/system.
    let legacy = std::fs::read(Path::new(FIXTURES).join("marathon-legacy.service")).unwrap();
    node.write("/lib/systemd/system/marathon.service", legacy);
    node.link(
        "/lib/systemd/system/marathon.service",
        "/run/systemd/system/multi-user.target.requires/marathon.service",
    );
    let (check, _) = node.check();
    assert_eq!(check["status"], "fail", "{check:#}");
    let evidence = texts(&check["findings"][0]["evidence"]);
    assert!(
        has(&evidence, "marathon.service: /lib/systemd/system/marathon.service (enabled-runtime)"),
        "{evidence:#?}"
    );
    assert!(
        has(&evidence, "marathon.service: Restart=always (/lib/systemd/system/marathon.service:9)"),
        "{evidence:#?}"
    );
    node.assert_agrees_with_systemctl();
}

#[test]
fn aliases_are_followed_to_the_unit_they_name() {
    let node = Node::new();
    node.install("mesos-slave.service", "mesos-slave.service");
    // mesos-agent.service as another name of the mesos-slave unit file.
    node.link(&format!("{VENDOR}/mesos-slave.service"), &format!("{ETC}/mesos-agent.service"));
    let agent = node.unit_facts("mesos-agent.service");
    assert_eq!(agent["state"], "alias");
    assert_eq!(agent["target"], "/usr/lib/systemd/system/mesos-slave.service");
    assert_eq!(agent["restart"]["origin"]["file"], "/usr/lib/systemd/system/mesos-slave.service");
    assert_eq!(node.unit_facts("mesos-slave.service")["state"], "indirect");
    node.assert_agrees_with_systemctl();

    // With Alias= in [Install], the alias link is what `systemctl enable`
    // made: the unit counts as enabled, and the alias reads its drop-ins.
    let node = Node::new();
    let upstream = std::fs::read_to_string(Path::new(FIXTURES).join("mesos-slave.service")).unwrap();
    node.write(&format!("{VENDOR}/mesos-slave.service"), upstream + "Alias=mesos-agent.service\n");
    node.link(&format!("{VENDOR}/mesos-slave.service"), &format!("{ETC}/mesos-agent.service"));
    node.write(&format!("{ETC}/mesos-slave.service.d/no.conf"), "[Service]\nRestart=no\n");
    assert_eq!(node.unit_facts("mesos-slave.service")["state"], "enabled");
    assert_eq!(node.unit_facts("mesos-agent.service")["restart"]["value"], "no");
    node.assert_agrees_with_systemctl();
}

#[test]
fn a_unit_file_with_a_broken_header_is_an_error_not_a_pass() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    node.write(&format!("{VENDOR}/mesos-slave.service"), "[Service\nExecStart=/usr/bin/mesos-init-wrapper slave\n");
    let (check, code) = node.check();
    // mesos-master still fails; mesos-slave cannot be judged.
    assert_eq!((check["status"].as_str(), code), (Some("fail"), 2), "{check:#}");
    let error = check["findings"].as_array().unwrap().iter().find(|f| f["status"] == "error").unwrap().clone();
    assert_eq!(error["subject"], "unit mesos-slave.service");
    assert_eq!(
        error["message"],
        "cannot tell whether systemd restarts mesos-slave.service: /usr/lib/systemd/system/mesos-slave.service: line 1: invalid section header \"[Service\""
    );
    assert_eq!(
        cli_support::remedies(&error),
        [("systemd-analyze verify /usr/lib/systemd/system/mesos-slave.service".into(), "safe".into())]
    );
    node.assert_agrees_with_systemctl();
}

#[test]
fn garbage_and_unreadable_unit_files_make_the_check_error() {
    let node = Node::new();
    node.cluster_scripts();
    // A binary copied over the unit file.
    node.write(&format!("{VENDOR}/mesos-master.service"), b"\x7fELF\x02\x01\x01\x00\x00\xb0\x9c\xff\xfe\n[Service]\n");
    node.enable("mesos-master.service");
    // A directory where the unit file should be cannot be read.
    node.mkdir(&format!("{VENDOR}/mesos-slave.service"));
    // A drop-in that is garbage spoils its unit too.
    node.install("marathon.service", "marathon.service");
    node.write(&format!("{ETC}/marathon.service.d/x.conf"), "[Service]\nRestart=no\n[oops\n");
    let (check, code) = node.check();
    assert_eq!((check["status"].as_str(), code), (Some("error"), 3), "{check:#}");
    let messages: Vec<String> =
        check["findings"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap().to_string()).collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(messages[0].contains("/usr/lib/systemd/system/mesos-master.service: not UTF-8 text"), "{messages:#?}");
    assert!(
        messages[1].contains("/usr/lib/systemd/system/mesos-slave.service is a directory, not a regular file"),
        "{messages:#?}"
    );
    assert!(
        messages[2].contains("drop-in /etc/systemd/system/marathon.service.d/x.conf: line 3: invalid section header"),
        "{messages:#?}"
    );
    node.assert_agrees_with_systemctl();
}

#[test]
fn a_dangling_unit_symlink_is_an_error() {
    let node = Node::new();
    node.link("/opt/mesos/mesos-master.service", &format!("{ETC}/mesos-master.service"));
    let (check, _) = node.check();
    assert_eq!(check["status"], "error", "{check:#}");
    let message = check["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("/etc/systemd/system/mesos-master.service is a symlink to /opt/mesos/mesos-master.service, which does not exist"), "{message}");
    node.assert_agrees_with_systemctl();
}

#[test]
fn a_linked_unit_file_outside_the_search_path() {
    let node = Node::new();
    node.write(
        "/opt/mesos/mesos-master.service",
        std::fs::read(Path::new(FIXTURES).join("mesos-master.service")).unwrap(),
    );
    node.link("/opt/mesos/mesos-master.service", &format!("{ETC}/mesos-master.service"));
    let facts = node.unit_facts("mesos-master.service");
    assert_eq!(facts["state"], "linked");
    assert_eq!(facts["restart"]["origin"]["file"], "/opt/mesos/mesos-master.service");
    node.assert_agrees_with_systemctl();
}

#[test]
fn a_node_without_unit_directories_skips() {
    let dir = tempfile::tempdir().unwrap();
    let output = cli_support::clusterdoc(dir.path())
        .arg("--root")
        .arg(dir.path())
        .args(["--only", "systemd.respawn", "--format", "json"])
        .output()
        .unwrap();
    let report = json(&output.stdout);
    assert_eq!(report["checks"][0]["status"], "skip", "{report:#}");
    assert!(report["checks"][0]["reason"].as_str().unwrap().contains("no systemd unit directories"));
}

#[test]
fn the_process_table_is_off_under_root() {
    let node = enabled_mesos_node();
    let output = cli_support::clusterdoc(node.dir.path())
        .arg("collect")
        .arg("--root")
        .arg(node.dir.path())
        .args(["--only", "systemd.respawn"])
        .output()
        .unwrap();
    let snapshot = json(&output.stdout);
    assert_eq!(snapshot["facts"]["processes"]["state"], "unavailable");
    assert_eq!(snapshot["facts"]["processes"]["reason"], "live probes of the local node are off under --root");
    assert_eq!(snapshot["facts"]["systemd"]["value"]["manager"]["state"], "files_only");
}

#[test]
fn a_snapshot_replays_to_the_same_verdict() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    let snapshot = node.path("/snapshot.json");
    let collected = cli_support::clusterdoc(node.dir.path())
        .arg("collect")
        .arg("--root")
        .arg(node.dir.path())
        .args(["--only", "systemd.respawn", "-o"])
        .arg(&snapshot)
        .output()
        .unwrap();
    assert!(collected.status.success(), "{}", String::from_utf8_lossy(&collected.stderr));
    let replay = cli_support::clusterdoc(node.dir.path())
        .args(["check", "--only", "systemd.respawn", "--format", "json", "--from"])
        .arg(&snapshot)
        .output()
        .unwrap();
    let report = json(&replay.stdout);
    assert_eq!(report["checks"][0]["status"], "fail", "{report:#}");
    assert_eq!(
        report["checks"][0]["findings"][0]["remediation"][0]["command"],
        "systemctl disable --now mesos-master.service mesos-slave.service"
    );
}

#[test]
fn a_live_run_reads_the_process_table_and_whether_systemd_is_pid_1() {
    let cwd = tempfile::tempdir().unwrap();
    let child = cli_support::plain(cwd.path())
        .args(["collect", "--only", "systemd.respawn"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    let facts = json(&output.stdout)["facts"].clone();
    assert_eq!(facts["processes"]["state"], "observed", "{:#}", facts["processes"]);
    let me = facts["processes"]["value"]["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == pid)
        .cloned()
        .unwrap_or_else(|| panic!("clusterdoc (pid {pid}) is not in its own process table"));
    assert_eq!(me["name"], "clusterdoc");
    assert_eq!(texts(&me["cmdline"])[1..], ["collect", "--only", "systemd.respawn"]);
    let pid1 = std::fs::read_to_string("/proc/1/comm").unwrap().trim().to_string();
    let systemd = &facts["systemd"];
    if systemd["state"] == "observed" {
        let manager = &systemd["value"]["manager"];
        if pid1 == "systemd" {
            assert_eq!(manager["state"], "running", "{manager:#}");
        } else {
            assert_eq!(
                (manager["state"].as_str(), manager["pid1"].as_str()),
                (Some("not_running"), Some(pid1.as_str()))
            );
        }
    } else {
        assert!(systemd["reason"].as_str().unwrap().contains("no systemd unit directories"), "{systemd:#}");
    }
}
