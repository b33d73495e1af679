//! `systemd.respawn` end to end: the real binary judges unit-file trees built
//! under a temporary `--root`, and every tree's verdict on each unit (enabled,
//! masked, static, ...) is checked against `systemctl --root=DIR is-enabled`,
//! the drop-ins applied against `systemd-analyze --root=DIR cat-config`.

mod support;

use crate::support::cli as cli_support;
use crate::support::tree;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::Command;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/systemd");
const VENDOR: &str = "/usr/lib/systemd/system";
const ETC: &str = "/etc/systemd/system";

/// A node's file system under a temporary directory.
type Node = tree::NodeTree;

impl Node {
    /// A node with systemd's unit directories.
    fn with_unit_dirs() -> Self {
        let node = Node::new();
        node.mkdir(VENDOR);
        node.mkdir(ETC);
        node
    }

    /// An upstream unit file, unchanged, installed as the packages do.
    fn install(&self, fixture: &str, unit: &str) {
        let text = std::fs::read(Path::new(FIXTURES).join(fixture)).unwrap();
        self.write(&format!("{VENDOR}/{unit}"), text);
    }

    /// What `systemctl enable` does for `WantedBy=multi-user.target`.
    fn enable(&self, unit: &str) {
        self.link(format!("{VENDOR}/{unit}"), &format!("{ETC}/multi-user.target.wants/{unit}"));
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
        let mut cmd = cli_support::clusterdoc(self.scratch());
        cmd.arg("--root").arg(self.root()).args(["--only", "systemd.respawn"]);
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
        let output = cli_support::clusterdoc(self.scratch())
            .arg("collect")
            .arg("--root")
            .arg(self.root())
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
                .arg(format!("--root={}", self.root().display()))
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
            .arg(format!("--root={}", self.root().display()))
            .args(["cat-config", &format!("systemd/system/{unit}")])
            .output()
            .unwrap_or_else(|e| panic!("systemd-analyze is needed for this test (apt-get install systemd): {e}"));
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let prefix = format!("# {}", self.root().display());
        let theirs: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix).map(String::from))
            .collect();
        assert_eq!(ours, theirs, "files applied to {unit}");
    }
}

impl Node {
    /// `systemctl show` of `unit` from the real manager, booted as PID 1 of a
    /// namespace on a copy of this node's unit directories.
    fn shown_by_systemd_pid1(&self, unit: &str) -> BTreeMap<String, String> {
        let systemd = SystemdPid1::boot();
        for dir in UNIT_DIRS {
            if self.path(dir).is_dir() {
                copy_keeping_links(&self.path(dir), &systemd.path(dir));
            }
        }
        systemd.daemon_reload();
        systemd.show(&[unit.to_string()], "LoadState,Restart").remove(0)
    }

    fn restart_by_systemd_pid1(&self, unit: &str) -> String {
        let shown = self.shown_by_systemd_pid1(unit);
        assert_eq!(shown["LoadState"], "loaded", "{unit}: {shown:?}");
        shown["Restart"].clone()
    }

    fn load_state_by_systemd_pid1(&self, unit: &str) -> String {
        self.shown_by_systemd_pid1(unit)["LoadState"].clone()
    }

    /// What `systemd-analyze verify` says about `unit` in this tree (paths
    /// as on the node).
    fn verify(&self, unit: &str) -> String {
        let output = StdCommand::new("systemd-analyze")
            .arg(format!("--root={}", self.root().display()))
            .args(["verify", "--man=no", "--recursive-errors=no", unit])
            .output()
            .unwrap_or_else(|e| panic!("systemd-analyze is needed for this test (apt-get install systemd): {e}"));
        String::from_utf8_lossy(&output.stderr).replace(&self.root().display().to_string(), "")
    }
}

/// Copies a directory tree, symlinks as symlinks.
fn copy_keeping_links(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            symlink(std::fs::read_link(entry.path()).unwrap(), target).unwrap();
        } else if kind.is_dir() {
            copy_keeping_links(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
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
    let node = Node::with_unit_dirs();
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
            // systemd cites a continued line by the line it ends on.
            "mesos-master.service: Restart=always (/etc/systemd/system/mesos-master.service.d/50-restart.conf:3)"
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

/// systemd 252 load-fragment.c: `DEFINE_CONFIG_PARSE_ENUM(config_parse_service_restart,
/// service_restart, ServiceRestart, "Failed to parse service restart specifier")`; the
/// macro (conf-parser.h) logs "..., ignoring: %s" and returns without touching the
/// setting when the value is not one it knows, and "" is not.
#[test]
fn an_empty_restart_in_a_drop_in_is_ignored_and_the_packages_always_stands() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    let drop_in = format!("{ETC}/mesos-master.service.d/reset.conf");
    node.write(&drop_in, "[Service]\nRestart=\n");
    let (check, code) = node.check();
    assert_eq!((check["status"].as_str(), code), (Some("fail"), 2), "{check:#}");
    let finding = &check["findings"][0];
    assert_eq!(finding["subject"], "units mesos-master.service, mesos-slave.service");
    let evidence = texts(&finding["evidence"]);
    for line in [
        "mesos-master.service: Restart=always (/usr/lib/systemd/system/mesos-master.service:8)".to_string(),
        format!(
            "mesos-master.service: {drop_in}:2: unknown Restart= value \"\": systemd ignores it \
             (\"Failed to parse service restart specifier, ignoring\"), Restart=always from \
             /usr/lib/systemd/system/mesos-master.service:8 stands"
        ),
        format!("mesos-master.service: drop-ins applied: {drop_in}"),
    ] {
        assert!(has(&evidence, &line), "missing {line:?} in {evidence:#?}");
    }
    assert_eq!(
        cli_support::remedies(finding)[0],
        ("systemctl disable --now mesos-master.service mesos-slave.service".into(), "disruptive".into())
    );
    // The real manager agrees, and says why.
    assert_eq!(node.restart_by_systemd_pid1("mesos-master.service"), "always");
    assert!(
        node.verify("mesos-master.service")
            .contains(&format!("{drop_in}:2: Failed to parse service restart specifier, ignoring: ")),
    );
}

/// systemd 252 fileio.c read_line(): "\n", "\r" and NUL each end a line
/// (`categorize_eol()`), so a bare CR splits `Restart=no\rRestart=always` in two.
#[test]
fn a_bare_cr_ends_a_line() {
    let node = Node::with_unit_dirs();
    node.cluster_scripts();
    // A unit that leaves Restart= at its default, `no` ...
    node.write(
        &format!("{VENDOR}/zookeeper.service"),
        "[Service]\nExecStart=/usr/bin/zkServer.sh start-foreground\n[Install]\nWantedBy=multi-user.target\n",
    );
    node.enable("zookeeper.service");
    // ... and a drop-in saved with old Mac line ends.
    let drop_in = format!("{ETC}/zookeeper.service.d/restart.conf");
    node.write(&drop_in, "[Service]\nRestart=no\rRestart=always\n");
    let (check, code) = node.check();
    assert_eq!((check["status"].as_str(), code), (Some("fail"), 2), "{check:#}");
    let finding = &check["findings"][0];
    assert_eq!(finding["subject"], "units zookeeper.service");
    let evidence = texts(&finding["evidence"]);
    for line in [
        format!("zookeeper.service: Restart=always ({drop_in}:3)"),
        format!(
            "zookeeper.service: {drop_in}: line 2 ends with a bare CR or a NUL: systemd 252 ends the line there, \
             as judged here; older systemd (CentOS 7's 219) reads on to the next LF"
        ),
    ] {
        assert!(has(&evidence, &line), "missing {line:?} in {evidence:#?}");
    }
    assert_eq!(
        cli_support::remedies(finding)[..2],
        [
            ("systemctl disable --now zookeeper.service".into(), "disruptive".into()),
            ("systemctl mask --now zookeeper.service".into(), "disruptive".into())
        ]
    );
    assert_eq!(node.restart_by_systemd_pid1("zookeeper.service"), "always");
}

/// conf-files.c lists drop-ins with FOREACH_DIRENT, which skips hidden files:
/// an editor's `.override.conf` does not apply.
#[test]
fn a_hidden_drop_in_does_not_apply() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    node.write(&format!("{ETC}/mesos-master.service.d/.no-restart.conf"), "[Service]\nRestart=no\n");
    node.write(&format!("{ETC}/mesos-slave.service.d/no-restart.conf"), "[Service]\nRestart=no\n");
    let (check, code) = node.check();
    assert_eq!((check["status"].as_str(), code), (Some("fail"), 2), "{check:#}");
    let finding = &check["findings"][0];
    assert_eq!(finding["subject"], "units mesos-master.service");
    let evidence = texts(&finding["evidence"]);
    let line = "mesos-master.service: Restart=always (/usr/lib/systemd/system/mesos-master.service:8)";
    assert!(has(&evidence, line), "missing {line:?} in {evidence:#?}");
    assert!(!evidence.iter().any(|l| l.contains("drop-ins applied")), "{evidence:#?}");
    assert_eq!(cli_support::remedies(finding)[0].0, "systemctl disable --now mesos-master.service");
    node.assert_same_files_as_systemd_analyze("mesos-master.service");
    assert_eq!(node.restart_by_systemd_pid1("mesos-master.service"), "always");
}

/// load-dropin.c unit_load_dropin() does not look at config_parse()'s result:
/// a drop-in with a broken line applies up to it, and the unit still loads
/// (while `systemctl is-enabled` says `bad`).
#[test]
fn a_broken_drop_in_applies_up_to_the_broken_line() {
    let node = Node::with_unit_dirs();
    node.cluster_scripts();
    let upstream = std::fs::read_to_string(Path::new(FIXTURES).join("marathon.service")).unwrap();
    node.write(&format!("{VENDOR}/marathon.service"), upstream.replace("Restart=always", "Restart=no"));
    node.enable("marathon.service");
    let drop_in = format!("{ETC}/marathon.service.d/x.conf");
    node.write(&drop_in, "[Service]\nRestart=on-failure\n[oops\nRestart=no\n");
    let (check, code) = node.check();
    assert_eq!((check["status"].as_str(), code), (Some("fail"), 2), "{check:#}");
    let finding = &check["findings"][0];
    let evidence = texts(&finding["evidence"]);
    for line in [
        "marathon.service: /usr/lib/systemd/system/marathon.service (bad)".to_string(),
        format!("marathon.service: Restart=on-failure ({drop_in}:2)"),
        format!(
            "marathon.service: {drop_in}: line 3: invalid section header \"[oops\": \
             systemd stops reading this drop-in here; the lines before it apply"
        ),
    ] {
        assert!(has(&evidence, &line), "missing {line:?} in {evidence:#?}");
    }
    assert_eq!(cli_support::remedies(finding)[0].0, "systemctl disable --now marathon.service");
    node.assert_agrees_with_systemctl();
    assert_eq!(node.restart_by_systemd_pid1("marathon.service"), "on-failure");
}

/// conf-parser.c parse_line(): an unknown section (`[X-Vendor]]`, `[]`) is
/// ignored with what it holds, and config_parse() skips a comment before
/// checking that a line is UTF-8: neither makes the unit unreadable.
#[test]
fn unknown_sections_and_latin1_comments_are_read_past() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    let unit = format!("{VENDOR}/mesos-master.service");
    let upstream = std::fs::read(Path::new(FIXTURES).join("mesos-master.service")).unwrap();
    let mut text = b"# Mesos Master, paquet\xe9 par Mesosphere\n[X-Vendor]]\nRestart=no\n[]\n".to_vec();
    text.extend(upstream);
    node.write(&unit, text);
    let (check, code) = node.check();
    assert_eq!((check["status"].as_str(), code), (Some("fail"), 2), "{check:#}");
    let finding = &check["findings"][0];
    assert_eq!(finding["subject"], "units mesos-master.service, mesos-slave.service");
    let evidence = texts(&finding["evidence"]);
    let line = format!("mesos-master.service: Restart=always ({unit}:12)");
    assert!(has(&evidence, &line), "missing {line:?} in {evidence:#?}");
    assert_eq!(cli_support::remedies(finding)[0].0, "systemctl disable --now mesos-master.service mesos-slave.service");
    node.assert_agrees_with_systemctl();
    assert_eq!(node.restart_by_systemd_pid1("mesos-master.service"), "always");
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
    let node = Node::with_unit_dirs();
    node.cluster_scripts();
    let upstream = std::fs::read_to_string(Path::new(FIXTURES).join("mesos-master.service")).unwrap();
    node.write(&format!("{VENDOR}/mesos-master.service"), upstream.replace("Restart=always", "Restart=no"));
    node.write(&format!("{ETC}/mesos-master.service"), &upstream);
    node.link(format!("{ETC}/mesos-master.service"), &format!("{ETC}/multi-user.target.wants/mesos-master.service"));
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
    let node = Node::with_unit_dirs();
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
    let node = Node::with_unit_dirs();
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
    let node = Node::with_unit_dirs();
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
    let node = Node::with_unit_dirs();
    node.install("mesos-slave.service", "mesos-slave.service");
    // mesos-agent.service as another name of the mesos-slave unit file.
    node.link(format!("{VENDOR}/mesos-slave.service"), &format!("{ETC}/mesos-agent.service"));
    let agent = node.unit_facts("mesos-agent.service");
    assert_eq!(agent["state"], "alias");
    assert_eq!(agent["target"], "/usr/lib/systemd/system/mesos-slave.service");
    assert_eq!(agent["restart"]["origin"]["file"], "/usr/lib/systemd/system/mesos-slave.service");
    assert_eq!(node.unit_facts("mesos-slave.service")["state"], "indirect");
    node.assert_agrees_with_systemctl();

    // With Alias= in [Install], the alias link is what `systemctl enable`
    // made: the unit counts as enabled, and the alias reads its drop-ins.
    let node = Node::with_unit_dirs();
    let upstream = std::fs::read_to_string(Path::new(FIXTURES).join("mesos-slave.service")).unwrap();
    node.write(&format!("{VENDOR}/mesos-slave.service"), upstream + "Alias=mesos-agent.service\n");
    node.link(format!("{VENDOR}/mesos-slave.service"), &format!("{ETC}/mesos-agent.service"));
    node.write(&format!("{ETC}/mesos-slave.service.d/no.conf"), "[Service]\nRestart=no\n");
    assert_eq!(node.unit_facts("mesos-slave.service")["state"], "enabled");
    assert_eq!(node.unit_facts("mesos-agent.service")["restart"]["value"], "no");
    node.assert_agrees_with_systemctl();
}

/// load-fragment.c names a unit after its unit file and gives it every
/// symlink that names the same file as an alias; dropin.c then reads the
/// drop-in directories of the file's name first, then those of the aliases.
#[test]
fn the_drop_ins_of_every_alias_apply_after_those_of_the_unit_files_name() {
    let node = Node::with_unit_dirs();
    node.cluster_scripts();
    let upstream = std::fs::read_to_string(Path::new(FIXTURES).join("mesos-slave.service")).unwrap();
    node.write(&format!("{VENDOR}/mesos-slave.service"), upstream.replace("Restart=always", "Restart=no"));
    node.enable("mesos-slave.service");
    // mesos-agent.service, the new name, as a symlink; its drop-in applies
    // to mesos-slave.service too.
    node.link(format!("{VENDOR}/mesos-slave.service"), &format!("{ETC}/mesos-agent.service"));
    let drop_in = format!("{ETC}/mesos-agent.service.d/10-restart.conf");
    node.write(&drop_in, "[Service]\nRestart=always\n");
    let (check, code) = node.check();
    assert_eq!((check["status"].as_str(), code), (Some("fail"), 2), "{check:#}");
    let finding = &check["findings"][0];
    assert_eq!(finding["subject"], "units mesos-slave.service");
    let evidence = texts(&finding["evidence"]);
    for line in [
        format!("mesos-slave.service: Restart=always ({drop_in}:2)"),
        format!("mesos-slave.service: drop-ins applied: {drop_in}"),
    ] {
        assert!(has(&evidence, &line), "missing {line:?} in {evidence:#?}");
    }
    assert_eq!(cli_support::remedies(finding)[0].0, "systemctl disable --now mesos-slave.service");
    assert_eq!(node.restart_by_systemd_pid1("mesos-slave.service"), "always");
    // A drop-in of the same file name in the directory of a prefix of the
    // unit file's name (mesos-slave -> mesos-) comes first, also for the alias.
    node.write(&format!("{ETC}/mesos-.service.d/10-restart.conf"), "[Service]\nRestart=no\n");
    assert_eq!(node.unit_facts("mesos-agent.service")["restart"]["value"], "no");
    assert_eq!(node.restart_by_systemd_pid1("mesos-agent.service"), "no");
    let (check, _) = node.check();
    assert_eq!(check["status"], "pass", "{check:#}");
}

/// unit-file.c unit_ids_map_get(): an alias symlink inside the unit
/// directories is followed by the name it points to, so the unit file is the
/// first of that name along the search path, not necessarily the symlink's target.
#[test]
fn an_alias_is_followed_by_name_to_the_first_file_of_that_name() {
    let node = Node::with_unit_dirs();
    node.cluster_scripts();
    let upstream = std::fs::read_to_string(Path::new(FIXTURES).join("mesos-slave.service")).unwrap();
    node.write(&format!("{VENDOR}/mesos-slave.service"), upstream.replace("Restart=always", "Restart=no"));
    // The operator's copy in /etc restarts; the alias still points at the vendor file.
    node.write(&format!("{ETC}/mesos-slave.service"), &upstream);
    node.link(format!("{ETC}/mesos-slave.service"), &format!("{ETC}/multi-user.target.wants/mesos-slave.service"));
    node.link(format!("{VENDOR}/mesos-slave.service"), &format!("{ETC}/mesos-agent.service"));
    let agent = node.unit_facts("mesos-agent.service");
    assert_eq!(agent["target"], "/etc/systemd/system/mesos-slave.service", "{agent:#}");
    assert_eq!(agent["restart"]["value"], "always");
    assert_eq!(node.restart_by_systemd_pid1("mesos-agent.service"), "always");
    let (check, code) = node.check();
    assert_eq!((check["status"].as_str(), code), (Some("fail"), 2), "{check:#}");
    let finding = &check["findings"][0];
    let evidence = texts(&finding["evidence"]);
    let line = "mesos-slave.service: Restart=always (/etc/systemd/system/mesos-slave.service:9)";
    assert!(has(&evidence, line), "missing {line:?} in {evidence:#?}");
    assert!(
        check["reason"]
            .as_str()
            .unwrap()
            .contains("mesos-agent.service: alias, Restart=always (/etc/systemd/system/mesos-slave.service:9)"),
        "{check:#}"
    );
    assert_eq!(cli_support::remedies(finding)[0].0, "systemctl disable --now mesos-slave.service");
}

/// dropin.c unit_file_find_dropin_paths() walks the unit's aliases with
/// SET_FOREACH: with two aliases holding drop-ins of the same file name,
/// which one applies is not fixed, so clusterdoc cannot judge the unit.
#[test]
fn same_named_drop_ins_of_two_aliases_make_the_unit_an_error() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    for alias in ["mesos-agent.service", "mesos-worker.service"] {
        node.link(format!("{VENDOR}/mesos-slave.service"), &format!("{ETC}/{alias}"));
    }
    node.write(&format!("{ETC}/mesos-agent.service.d/10-restart.conf"), "[Service]\nRestart=no\n");
    node.write(&format!("{ETC}/mesos-worker.service.d/10-restart.conf"), "[Service]\nRestart=always\n");
    let (check, code) = node.check();
    // mesos-master still fails; mesos-slave (and its alias) cannot be judged.
    assert_eq!((check["status"].as_str(), code), (Some("fail"), 2), "{check:#}");
    let errors: Vec<&Value> = check["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "error").collect();
    assert_eq!(errors.len(), 2, "{check:#}");
    let slave = errors.iter().find(|f| f["subject"] == "unit mesos-slave.service").unwrap();
    assert_eq!(
        slave["message"],
        "cannot tell whether systemd restarts mesos-slave.service: drop-ins \
         /etc/systemd/system/mesos-agent.service.d/10-restart.conf and \
         /etc/systemd/system/mesos-worker.service.d/10-restart.conf belong to different aliases of the unit, \
         and systemd applies only one of them, in an order it does not fix"
    );
    assert_eq!(texts(&slave["evidence"]), ["mesos-slave.service: /usr/lib/systemd/system/mesos-slave.service (bad)"]);
    assert_eq!(
        cli_support::remedies(slave),
        [("systemd-analyze verify /usr/lib/systemd/system/mesos-slave.service".into(), "safe".into())]
    );
}

/// A drop-in of 100,000 lines systemd ignores gives a few evidence lines, not 100,000.
#[test]
fn a_flood_of_ignored_lines_is_counted_not_listed() {
    let node = enabled_mesos_node();
    node.cluster_scripts();
    let drop_in = format!("{ETC}/mesos-master.service.d/flood.conf");
    node.write(&drop_in, format!("[Service]\n{}", "Restart no\n".repeat(100_000)));
    let (check, code) = node.check();
    assert_eq!((check["status"].as_str(), code), (Some("fail"), 2), "status");
    let finding = &check["findings"][0];
    let evidence = texts(&finding["evidence"]);
    let flood: Vec<&String> = evidence.iter().filter(|l| l.contains(&drop_in)).collect();
    // 50 listed, one counting the rest, and the drop-ins applied.
    assert_eq!(flood.len(), 52, "{flood:#?}");
    let counted = format!("mesos-master.service: {drop_in}: 99950 more warnings like these are left out");
    assert!(has(&evidence, &counted), "missing {counted:?}");
    assert!(has(&evidence, "mesos-master.service: Restart=always (/usr/lib/systemd/system/mesos-master.service:8)"));
    assert_eq!(cli_support::remedies(finding)[0].0, "systemctl disable --now mesos-master.service mesos-slave.service");
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
    let node = Node::with_unit_dirs();
    node.cluster_scripts();
    // A binary copied over the unit file.
    node.write(&format!("{VENDOR}/mesos-master.service"), b"\x7fELF\x02\x01\x01\x00\x00\xb0\x9c\xff\xfe\n[Service]\n");
    node.enable("mesos-master.service");
    // A directory where the unit file should be cannot be read.
    node.mkdir(&format!("{VENDOR}/mesos-slave.service"));
    let (check, code) = node.check();
    assert_eq!((check["status"].as_str(), code), (Some("error"), 3), "{check:#}");
    let messages: Vec<String> =
        check["findings"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap().to_string()).collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    // Lines end at the NULs; the third is not UTF-8, which makes systemd give up.
    assert!(
        messages[0].contains("/usr/lib/systemd/system/mesos-master.service: line 3: not valid UTF-8"),
        "{messages:#?}"
    );
    assert!(
        messages[1].contains("/usr/lib/systemd/system/mesos-slave.service is a directory, not a regular file"),
        "{messages:#?}"
    );
    assert_eq!(
        cli_support::remedies(&check["findings"][0]),
        [("systemd-analyze verify /usr/lib/systemd/system/mesos-master.service".into(), "safe".into())]
    );
    node.assert_agrees_with_systemctl();
    assert_eq!(node.load_state_by_systemd_pid1("mesos-master.service"), "error");
}

#[test]
fn a_dangling_unit_symlink_is_an_error() {
    let node = Node::with_unit_dirs();
    node.link("/opt/mesos/mesos-master.service", &format!("{ETC}/mesos-master.service"));
    let (check, _) = node.check();
    assert_eq!(check["status"], "error", "{check:#}");
    let message = check["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("/etc/systemd/system/mesos-master.service is a symlink to /opt/mesos/mesos-master.service, which does not exist"), "{message}");
    node.assert_agrees_with_systemctl();
}

#[test]
fn a_linked_unit_file_outside_the_search_path() {
    let node = Node::with_unit_dirs();
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
    let output = cli_support::clusterdoc(node.scratch())
        .arg("collect")
        .arg("--root")
        .arg(node.root())
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
    let collected = cli_support::clusterdoc(node.scratch())
        .arg("collect")
        .arg("--root")
        .arg(node.root())
        .args(["--only", "systemd.respawn", "-o"])
        .arg(&snapshot)
        .output()
        .unwrap();
    assert!(collected.status.success(), "{}", String::from_utf8_lossy(&collected.stderr));
    let replay = cli_support::clusterdoc(node.scratch())
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

// ---------------------------------------------------------------------------
// Differential tests: clusterdoc's reading of generated unit trees against the
// real systemd (systemd 252 on Debian 12) running as PID 1 of a namespace,
// and against `systemd-analyze verify`.

use crate::support::systemd_pid1;

use std::collections::{BTreeMap, BTreeSet};

use systemd_pid1::{SystemdPid1, UNIT_DIRS};

/// A small deterministic generator (SplitMix64): a failing case is found
/// again from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }
}

const RESTART_VALUES: [&str; 20] = [
    "no",
    "always",
    "on-failure",
    "on-abnormal",
    "on-success",
    "on-watchdog",
    "on-abort",
    "always",
    "no",
    "",
    "",
    "sometimes",
    "ALWAYS",
    "\"always\"",
    "always # the packages' default",
    "on-\\\nfailure",
    "\\\nalways",
    "\\\n# a comment inside\n; another\nalways",
    "al\\\nways",
    "always\\\\",
];

/// Lines systemd reads without giving up on the file.
const OTHER_LINES: [&str; 24] = [
    "# Restart=always",
    "; Restart=no",
    "   # indented comment",
    "[Service]",
    "[Service]",
    "[Unit]",
    "[Install]",
    "[X-Mesos]",
    "[Service]x]",
    "[]",
    "  [Service]  ",
    "Restart no",
    "=always",
    "RestartSec=5",
    "RestartSec=",
    "\u{feff}Restart=always",
    "\u{feff}[Unit]",
    "Rest\\\nart=always",
    ".include /dev/null",
    "Description=caf\u{e9} \u{202e}",
    "\\",
    "",
    "restart=always",
    "X-Restart=always",
];

/// Lines that make systemd's config_parse() give up on the file.
const FATAL_LINES: [&[u8]; 6] =
    [b"[Service", b"[Ser\"vice]", b"[Ser\tvice]", b"Restart=\xff", "User=\u{fffe}".as_bytes(), b"\xc3["];

const LINE_ENDS: [&str; 9] = ["\n", "\n", "\n", "\r\n", "\r", "\0", "\n\r", "\n\n", "\r\r"];

fn restart_line(rng: &mut Rng) -> Vec<u8> {
    let key = rng.pick(&["Restart", "Restart", "Restart", " Restart", "Restart\t", "\tRestart "]);
    let equals = rng.pick(&["=", "=", " = ", "=\t"]);
    let value = rng.pick(&RESTART_VALUES);
    let trailing = rng.pick(&["", "", " ", "\t", " \t"]);
    format!("{key}{equals}{value}{trailing}").into_bytes()
}

/// The lines of a unit file or drop-in after its first `[Service]`.
fn body(rng: &mut Rng, fatal_percent: usize) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for _ in 0..1 + rng.below(6) {
        lines.push(match rng.below(10) {
            0..=5 => restart_line(rng),
            _ if rng.percent(fatal_percent) => rng.pick(&FATAL_LINES).to_vec(),
            _ if rng.percent(2) => format!("X-Long={}", "x".repeat((1 << 20) - 8 + rng.below(2))).into_bytes(),
            _ => rng.pick(&OTHER_LINES).as_bytes().to_vec(),
        });
    }
    let mut text = Vec::new();
    for line in lines {
        text.extend(line);
        text.extend(rng.pick(&LINE_ENDS).as_bytes());
    }
    if rng.percent(15) {
        // No line end after the last line, or a dangling continuation.
        while text.last().is_some_and(|b| matches!(b, b'\n' | b'\r' | b'\0')) {
            text.pop();
        }
        if rng.percent(30) {
            text.push(b'\\');
        }
    }
    text
}

/// One generated unit: its name and the files that make it up (node path,
/// what is there), written in this order.
struct Case {
    unit: String,
    files: Vec<(String, Entry)>,
}

enum Entry {
    File(Vec<u8>),
    Link(String),
}

const DROP_IN_NAMES: [&str; 7] =
    ["10-a.conf", "50-b.conf", "50-b.conf", "90-z.conf", "override.conf", ".hidden.conf", "notes.txt"];

/// The drop-in directory names of a unit name: its own and its dash prefixes'.
fn drop_in_dir_names(unit: &str) -> Vec<String> {
    let (stem, _) = unit.rsplit_once('.').unwrap();
    let mut names = vec![format!("{unit}.d"), format!("{unit}.d")];
    names.extend(stem.match_indices('-').map(|(i, _)| format!("{}-.service.d", &stem[..i])));
    names
}

fn generate(rng: &mut Rng, unit: String) -> Case {
    let mut files = Vec::new();
    let fragment_dir = *rng.pick(&[UNIT_DIRS[2], UNIT_DIRS[2], UNIT_DIRS[0], UNIT_DIRS[1]]);
    let mut fragment = b"[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=/bin/true\n".to_vec();
    fragment.extend(body(rng, 3));
    let mut drop_in_dirs = drop_in_dir_names(&unit);
    if rng.percent(10) {
        // The unit's name is an alias: a symlink to a unit file of another name,
        // whose drop-ins apply too.
        let real = unit.replace(".service", "-impl.service");
        files.push((format!("{}/{real}", UNIT_DIRS[2]), Entry::File(fragment)));
        files.push((format!("{fragment_dir}/{unit}"), Entry::Link(format!("{}/{real}", UNIT_DIRS[2]))));
        drop_in_dirs.extend(drop_in_dir_names(&real));
        if rng.percent(30) {
            // A copy of that file (or a mask) in a directory before it: systemd
            // follows the alias by name, to this one.
            let copy = match rng.below(3) {
                0 => Entry::Link("/dev/null".into()),
                _ => Entry::File(b"[Service]\nExecStart=/bin/true\nRestart=on-success\n".to_vec()),
            };
            files.push((format!("{}/{real}", UNIT_DIRS[0]), copy));
        }
    } else {
        files.push((format!("{fragment_dir}/{unit}"), Entry::File(fragment)));
    }
    if fragment_dir != UNIT_DIRS[2] && rng.percent(40) {
        // A copy the one above shadows.
        files.push((
            format!("{}/{unit}", UNIT_DIRS[2]),
            Entry::File(b"[Service]\nExecStart=/bin/true\nRestart=on-watchdog\n".to_vec()),
        ));
    }
    if rng.percent(4) {
        files.push((format!("{}/{unit}", UNIT_DIRS[0]), Entry::Link("/dev/null".into())));
    }
    for _ in 0..rng.below(5) {
        let dir = format!("{}/{}", rng.pick(&UNIT_DIRS), rng.pick(&drop_in_dirs));
        let path = format!("{dir}/{}", rng.pick(&DROP_IN_NAMES));
        let entry = match rng.below(20) {
            0 => Entry::Link("/dev/null".into()),
            1 => Entry::File(Vec::new()),
            _ => {
                let mut text =
                    rng.pick(&["[Service]\n", "[Service]\r\n", "[Service]\r", "[Unit]\n"]).as_bytes().to_vec();
                text.extend(body(rng, 8));
                Entry::File(text)
            }
        };
        files.push((path, entry));
    }
    Case { unit, files }
}

/// Writes a file of the tree (a later write to the same path wins).
fn write_node_file(root: &Path, node_path: &str, entry: &Entry) {
    let path = root.join(node_path.trim_start_matches('/'));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    match entry {
        Entry::File(bytes) => std::fs::write(&path, bytes).unwrap(),
        Entry::Link(target) => symlink(target, &path).unwrap(),
    }
}

/// What clusterdoc concluded about each unit of `units`, from the tree at
/// `root`: the JSON facts per unit name.
fn clusterdoc_units(root: &Path, units: &[String]) -> BTreeMap<String, Value> {
    let checks = tempfile::tempdir().unwrap();
    let list: Vec<String> = units.iter().map(|u| format!("{u:?}")).collect();
    std::fs::write(
        checks.path().join("cluster-units.toml"),
        format!("units = [{}]\nscripts = []\nscript_dirs = []\ndeploy_files = []\n", list.join(", ")),
    )
    .unwrap();
    let output = cli_support::clusterdoc(checks.path())
        .arg("collect")
        .arg("--root")
        .arg(root)
        .arg("--checks-dir")
        .arg(checks.path())
        .args(["--only", "systemd.respawn"])
        .output()
        .unwrap();
    assert!(output.status.success(), "collect failed: {}", String::from_utf8_lossy(&output.stderr));
    let snapshot = json(&output.stdout);
    let facts = &snapshot["facts"]["systemd"]["value"]["units"];
    facts
        .as_array()
        .unwrap_or_else(|| panic!("no systemd facts: {snapshot:#}"))
        .iter()
        .map(|u| (u["name"].as_str().unwrap().to_string(), u.clone()))
        .collect()
}

/// What clusterdoc says about a unit, in systemd's terms: `Err` when it
/// cannot judge it (systemd must then refuse to load it), else `Restart=`.
fn our_restart(unit: &Value) -> Result<String, String> {
    match unit["error"].as_str() {
        Some(error) => Err(error.to_string()),
        None => Ok(unit["restart"]["value"].as_str().unwrap_or("no").to_string()),
    }
}

/// `file:line` of each line where clusterdoc says systemd ignores a
/// `Restart=` value, or stops reading a drop-in.
fn our_notices(unit: &Value) -> BTreeSet<String> {
    let mut notices = BTreeSet::new();
    for warning in texts(&unit["warnings"]) {
        if let Some((origin, _)) = warning.split_once(": unknown Restart= value") {
            notices.insert(format!("{origin} restart"));
        } else if warning.ends_with("systemd stops reading this drop-in here; the lines before it apply")
            && !warning.contains("longer than systemd's limit")
        {
            let (path, rest) = warning.split_once(": line ").unwrap();
            let line = rest.split(':').next().unwrap();
            notices.insert(format!("{path}:{line} stop"));
        }
    }
    notices
}

/// The same from `systemd-analyze verify` for units the manager loaded.
fn verify_notices(root: &Path, units: &[String]) -> BTreeSet<String> {
    let output = StdCommand::new("systemd-analyze")
        .arg(format!("--root={}", root.display()))
        .args(["verify", "--man=no", "--recursive-errors=no"])
        .args(units)
        .output()
        .unwrap_or_else(|e| panic!("systemd-analyze is needed for this test (apt-get install systemd): {e}"));
    let prefix = root.display().to_string();
    let mut notices = BTreeSet::new();
    for line in String::from_utf8_lossy(&output.stderr).lines() {
        let Some(rest) = line.strip_prefix(&prefix) else { continue };
        let Some((origin, message)) = rest.split_once(": ") else { continue };
        if message.starts_with("Failed to parse service restart specifier") {
            notices.insert(format!("{origin} restart"));
        } else if ["Invalid section header", "Bad characters in section header", "String is not UTF-8 clean"]
            .iter()
            .any(|m| message.starts_with(m))
        {
            notices.insert(format!("{origin} stop"));
        }
    }
    notices
}

fn describe(case: &Case) -> String {
    let mut text = String::new();
    for (path, entry) in &case.files {
        match entry {
            Entry::Link(target) => text.push_str(&format!("  {path} -> {target}\n")),
            Entry::File(bytes) if bytes.len() > 4096 => text.push_str(&format!("  {path}: {} bytes\n", bytes.len())),
            Entry::File(bytes) => text.push_str(&format!("  {path}: {:?}\n", String::from_utf8_lossy(bytes))),
        }
    }
    text
}

/// Hundreds of generated unit trees: for every unit, the `Restart=` that
/// clusterdoc resolves is the one `systemctl show` reports from the real
/// manager, a unit clusterdoc cannot judge is one the manager refuses to
/// load, and the lines clusterdoc says systemd ignores (or stops at) are
/// those `systemd-analyze verify` complains about.
#[test]
fn restart_resolution_matches_systemd_as_pid_1() {
    const BATCHES: u64 = 4;
    const CASES_PER_BATCH: usize = 60;
    let systemd = SystemdPid1::boot();
    let mut mismatches = Vec::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for batch in 0..BATCHES {
        let seed = 0x5eed_0000 + batch;
        let mut rng = Rng(seed);
        systemd.clear();
        let cases: Vec<Case> =
            (0..CASES_PER_BATCH).map(|i| generate(&mut rng, format!("c{batch}n{i}-mesos-agent.service"))).collect();
        // A type-level drop-in that applies to every service of the batch.
        if rng.percent(75) {
            let mut text = b"[Service]\n".to_vec();
            text.extend(body(&mut rng, 0));
            let dir = rng.pick(&UNIT_DIRS);
            write_node_file(
                systemd.root(),
                &format!("{dir}/service.d/{}", rng.pick(&DROP_IN_NAMES)),
                &Entry::File(text),
            );
        }
        for case in &cases {
            for (path, content) in &case.files {
                write_node_file(systemd.root(), path, content);
            }
        }
        systemd.daemon_reload();
        let units: Vec<String> = cases.iter().map(|c| c.unit.clone()).collect();
        let theirs = systemd.show(&units, "Names,LoadState,Restart");
        let ours = clusterdoc_units(systemd.root(), &units);
        let mut loaded = Vec::new();
        for (case, shown) in cases.iter().zip(&theirs) {
            assert!(shown["Names"].split(' ').any(|n| n == case.unit), "{shown:?} is not {}", case.unit);
            let mine = our_restart(&ours[&case.unit]);
            let agree = match (shown["LoadState"].as_str(), &mine) {
                ("loaded", Ok(restart)) => *restart == shown["Restart"],
                ("masked", Ok(_)) => ours[&case.unit]["state"].as_str().is_some_and(|s| s.starts_with("masked")),
                ("error", Err(_)) => true,
                _ => false,
            };
            if !agree {
                mismatches.push(format!(
                    "seed {seed:#x} {}: systemd LoadState={} Restart={}, clusterdoc {mine:?}\n{}",
                    case.unit,
                    shown["LoadState"],
                    shown["Restart"],
                    describe(case)
                ));
            }
            *counts.entry(if mine.is_err() { "refused" } else { "loaded" }).or_default() += 1;
            if case.files.iter().any(|(_, e)| matches!(e, Entry::File(bytes) if bytes.len() >= 1 << 20)) {
                *counts.entry("a line of about 1 MiB").or_default() += 1;
            }
            if shown["LoadState"] == "masked" {
                *counts.entry("masked").or_default() += 1;
            }
            if case.files.iter().any(|(_, e)| matches!(e, Entry::Link(t) if t.ends_with("-impl.service"))) {
                *counts.entry("alias").or_default() += 1;
            }
            if shown["LoadState"] == "loaded" && agree {
                loaded.push(case.unit.clone());
                let warnings = texts(&ours[&case.unit]["warnings"]).join("\n");
                if warnings.contains("unknown Restart= value \"\"") {
                    *counts.entry("empty Restart= ignored").or_default() += 1;
                }
                if warnings.contains("systemd stops reading this drop-in") {
                    *counts.entry("drop-in read in part").or_default() += 1;
                }
                if warnings.contains("ends with a bare CR or a NUL") {
                    *counts.entry("bare CR or NUL line end").or_default() += 1;
                }
            }
        }
        let ours_notices: BTreeSet<String> = loaded.iter().flat_map(|u| our_notices(&ours[u])).collect();
        let theirs_notices = verify_notices(systemd.root(), &loaded);
        if ours_notices != theirs_notices {
            mismatches.push(format!(
                "seed {seed:#x}: lines systemd-analyze verify names but clusterdoc does not: {:?}; \
                 the other way round: {:?}",
                theirs_notices.difference(&ours_notices).collect::<Vec<_>>(),
                ours_notices.difference(&theirs_notices).collect::<Vec<_>>()
            ));
        }
    }
    eprintln!("cases: {counts:?}");
    assert!(mismatches.is_empty(), "{} disagreements with systemd:\n{}", mismatches.len(), mismatches.join("\n"));
    // The generator reaches what it is meant to test.
    for (what, least) in [
        ("loaded", 120),
        ("refused", 3),
        ("masked", 3),
        ("alias", 10),
        ("a line of about 1 MiB", 3),
        ("empty Restart= ignored", 20),
        ("drop-in read in part", 5),
        ("bare CR or NUL line end", 20),
    ] {
        assert!(counts.get(what).copied().unwrap_or(0) >= least, "only {counts:?} ({what}: at least {least} wanted)");
    }
}
