//! `collect` + `check --from` give the same verdicts as a direct run, and a
//! snapshot never holds the credentials it was collected with.

use std::path::Path;

use serde_json::Value;

mod support;

use crate::support::cli as cli_support;
use cli_support::clusterdoc;

/// A node image with several problems clusterdoc knows: an upper-case host
/// name, a loopback host-name line, Mesos units enabled with Restart=always
/// next to the cluster scripts, firewalld enabled with the default zone.
fn broken_node(root: &Path) {
    let write = |path: &str, text: &str| {
        let full = root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    };
    write("/etc/hostname", "SZV1000265118\n");
    write("/etc/hosts", "127.0.0.1 localhost\n127.0.1.1 SZV1000265118\n");
    write("/etc/mesos-master/hostname", "SZV1000265118\n");
    write(
        "/usr/lib/systemd/system/mesos-master.service",
        "[Unit]\nDescription=Mesos Master\n\n[Service]\nExecStart=/usr/bin/mesos-init-wrapper master\nRestart=always\nRestartSec=20\n\n[Install]\nWantedBy=multi-user.target\n",
    );
    let wants = root.join("etc/systemd/system/multi-user.target.wants");
    std::fs::create_dir_all(&wants).unwrap();
    std::os::unix::fs::symlink("/usr/lib/systemd/system/mesos-master.service", wants.join("mesos-master.service"))
        .unwrap();
    write("/usr/sbin/mesos-stop-cluster.sh", "#!/bin/sh\n");
    write("/usr/etc/mesos/masters", "szv1000265118\n");
    write("/etc/firewalld/firewalld.conf", "DefaultZone=public\n");
}

fn verdicts(report: &Value) -> Vec<(String, String, Vec<Value>)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["findings"].as_array().unwrap().clone(),
            )
        })
        .collect()
}

#[test]
fn replaying_a_snapshot_gives_the_same_verdicts() {
    let root = tempfile::tempdir().unwrap();
    broken_node(root.path());
    let mut target: Vec<std::ffi::OsString> = vec!["--root".into(), root.path().into()];
    target.extend(
        [
            "--marathon",
            "http://admin:s3cret-pass@127.0.0.1:9",
            "--role",
            "master",
            // Generous: the two runs must see the same, also on a busy machine.
            "--timeout",
            "3s",
            "--deadline",
            "20s",
        ]
        .map(Into::into),
    );
    let direct = clusterdoc(root.path()).arg("check").args(&target).args(["--format", "json"]).output().unwrap();
    let direct_report: Value = serde_json::from_slice(&direct.stdout).unwrap();

    let snapshot_file = root.path().join("snap.json");
    clusterdoc(root.path()).arg("collect").args(&target).arg("-o").arg(&snapshot_file).assert().success();
    let snapshot = std::fs::read_to_string(&snapshot_file).unwrap();
    assert!(!snapshot.contains("s3cret-pass"), "the snapshot holds a password");
    assert!(snapshot.contains("\"collected_at\""));

    let replay =
        clusterdoc(root.path()).args(["check", "--format", "json", "--from"]).arg(&snapshot_file).output().unwrap();
    let replay_report: Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(verdicts(&replay_report), verdicts(&direct_report));
    assert_eq!(replay.status.code(), direct.status.code());
    assert_eq!(direct_report["status"], "fail", "the broken node must fail: {direct_report:#}");
}

#[test]
fn a_snapshot_that_is_not_one_is_a_clear_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.json");
    std::fs::write(&file, "{\"facts\": 3}").unwrap();
    let out = clusterdoc(dir.path()).args(["check", "--from"]).arg(&file).assert().code(3);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("x.json") && stderr.contains("not a clusterdoc snapshot"), "{stderr}");
}

/// What a check reads is what it declares: judged with only the facts its
/// `needs` name, every check gives the verdict it gives with all of them, on
/// the write-up's incident (where every source was gathered).
#[test]
fn every_check_reads_only_the_facts_it_declares() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/flink-on-mesos-incident.json"))
        .expect("the incident example");
    let snapshot: clusterdoc::runner::Snapshot = serde_json::from_str(&text).expect("a snapshot");
    for check in clusterdoc::checks::catalog() {
        let meta = check.meta();
        let with_all = check.run(&snapshot.facts);
        let with_declared = check.run(&snapshot.facts.only(meta.needs));
        assert_eq!(with_declared, with_all, "{} reads facts beyond its needs {:?}", meta.id, meta.needs);
        assert!(
            !matches!(&with_all, Err(clusterdoc::checks::NotJudged::Error(reason)) if reason.contains("not gathered")),
            "{}: the incident example lacks what it needs: {with_all:?}",
            meta.id
        );
    }
}
