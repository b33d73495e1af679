//! `mesos.work-dir` from a node's files alone (`--root`, no Mesos named):
//! the packages' flag files and environment files.

mod support;

use crate::support::cli as cli_support;
use crate::support::tree;

use cli_support::{ReadReport, assert_evidence, assert_fix, clusterdoc};
use serde_json::Value;
use tree::write;

fn check(root: &std::path::Path) -> Value {
    let out = clusterdoc(root)
        .args(["check", "--format", "json", "--only", "mesos.work-dir", "--root"])
        .arg(root)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn flag_and_environment_files_under_tmp_fail() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "/etc/mesos-slave/work_dir", "/tmp/mesos\n");
    write(root.path(), "/etc/default/mesos-master", "# work\nexport MESOS_WORK_DIR=\"/var/tmp/mesos\"\nPORT=5050\n");
    let report = check(root.path());
    assert_eq!(report.status("mesos.work-dir"), "fail", "{report:#}");
    let findings = report.findings("mesos.work-dir");
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert_evidence(&findings[0], "/etc/mesos-slave/work_dir: work_dir /tmp/mesos");
    assert_fix(&findings[0], r"printf '%s\n' /var/lib/mesos > /etc/mesos-slave/work_dir", "destructive");
    assert_eq!(findings[1]["status"], "warn");
    assert_evidence(&findings[1], "/etc/default/mesos-master line 2 (MESOS_WORK_DIR): work_dir /var/tmp/mesos");
    assert_fix(&findings[1], "MESOS_WORK_DIR=).*|\\1/var/lib/mesos|' /etc/default/mesos-master", "disruptive");
    assert!(report.reason("mesos.work-dir").contains("not included: Mesos flags:"), "{report:#}");
}

#[test]
fn a_durable_flag_file_passes_and_no_setting_at_all_skips() {
    let root = tempfile::tempdir().unwrap();
    let report = check(root.path());
    assert_eq!(report.status("mesos.work-dir"), "skip", "{report:#}");
    write(root.path(), "/etc/mesos-slave/work_dir", "/var/lib/mesos\n");
    let report = check(root.path());
    assert_eq!(report.status("mesos.work-dir"), "pass", "{report:#}");
}
