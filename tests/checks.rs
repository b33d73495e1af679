//! Every built-in check judged on recorded facts, ruff's fixture pattern on
//! clusterdoc's own snapshot format: `tests/checks/<id>/<expect>-<case>.facts.json`
//! is a `collect` snapshot holding the facts the check needs, `<expect>` is
//! what the check must answer (`fires`: fail or warn, `passes`, `skips`,
//! `error`), and the check's report (status, reason, findings with evidence
//! and fixes) is pinned with insta under `tests/checks/snapshots/`.
//!
//! A new case is a file; `cargo insta review` (or `INSTA_UPDATE=always`)
//! records its report once it judges as its name says.

use std::path::{Path, PathBuf};

use clusterdoc::checks::Check;
use clusterdoc::facts::Need;
use clusterdoc::report::Status;
use clusterdoc::runner::{Snapshot, check_report};
use serde_json::{Value, json};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/checks");
const INCIDENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/flink-on-mesos-incident.json");

/// What a case's name says the check must answer.
fn expected(case: &str) -> &'static [Status] {
    match case.split('-').next() {
        Some("fires") => &[Status::Fail, Status::Warn],
        Some("passes") => &[Status::Pass],
        Some("skips") => &[Status::Skip],
        Some("error") => &[Status::Error],
        _ => panic!("{case}: a case's name starts with fires-, passes-, skips- or error-"),
    }
}

fn built_in(id: &str) -> Box<dyn Check> {
    let found = clusterdoc::checks::catalog().into_iter().find(|c| c.meta().id == id);
    found.unwrap_or_else(|| panic!("tests/checks/{id}: no built-in check has this id"))
}

fn cases() -> Vec<(String, PathBuf)> {
    let mut cases = Vec::new();
    for dir in std::fs::read_dir(CASES).expect("tests/checks") {
        let dir = dir.unwrap().path();
        let Some(id) = dir.file_name().and_then(|n| n.to_str()).filter(|n| *n != "snapshots") else { continue };
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            if file.to_str().is_some_and(|f| f.ends_with(".facts.json")) {
                cases.push((id.to_string(), file));
            }
        }
    }
    cases.sort();
    cases
}

#[test]
fn every_recorded_case_judges_as_its_name_says() {
    let cases = cases();
    assert!(!cases.is_empty(), "no case under {CASES}");
    for (id, file) in cases {
        let case = file.file_name().unwrap().to_str().unwrap().trim_end_matches(".facts.json").to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let snapshot: Snapshot =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not a snapshot: {e}", file.display()));
        let check = built_in(&id);
        let report = check_report(id.clone(), check.meta().title.to_string(), check.run(&snapshot.facts), 0);
        assert!(
            expected(&case).contains(&report.status),
            "{id} {case}: {:?}, but the case says {:?}: {report:#?}",
            report.status,
            expected(&case)
        );
        insta::with_settings!({
            snapshot_path => Path::new(CASES).join("snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_json_snapshot!(format!("{id}__{case}"), report);
        });
    }
}

/// Every built-in check has recorded cases, among them one that fires (or
/// passes, for checks the incident does not trip) and one that cannot decide.
#[test]
fn every_built_in_check_has_cases() {
    let cases = cases();
    for check in clusterdoc::checks::catalog() {
        let id = check.meta().id.to_string();
        let names: Vec<String> = cases
            .iter()
            .filter(|(of, _)| *of == id)
            .map(|(_, f)| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().any(|n| n.starts_with("error-")), "{id} has no error- case: {names:?}");
        assert!(names.len() >= 2, "{id} has fewer than two cases: {names:?}");
    }
}

// ------------------------------------------------------------ recording

/// What the write-up's incident makes each built-in check answer (README's
/// sample report): the expectation of the cases recorded from it.
const ON_THE_INCIDENT: [(&str, &str); 17] = [
    ("hostname.case", "fires"),
    ("hostname.resolution", "passes"),
    ("zk.quorum", "fires"),
    ("zk.marathon-reuse", "fires"),
    ("systemd.respawn", "fires"),
    ("firewalld.ports", "fires"),
    ("net.reachability", "passes"),
    ("ports.local-conflict", "skips"),
    ("marathon.port-collision", "fires"),
    ("marathon.leader", "passes"),
    ("marathon.queue", "fires"),
    ("mesos.leader", "passes"),
    ("flink.taskmanager-orphans", "fires"),
    ("mesos.work-dir", "fires"),
    ("mesos.advertise-address", "passes"),
    ("marathon.failover", "passes"),
    ("marathon.framework-id", "passes"),
];

/// A snapshot field's name for a fact source (`MarathonZk` -> `marathon_zk`).
fn field(need: Need) -> String {
    let mut name = String::new();
    for (i, c) in format!("{need:?}").chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_lowercase());
    }
    name
}

/// Records, per built-in check, the incident's facts it needs (its answer
/// named as README's sample report gives it) and the same with the first
/// source it needs failed (an `error` case: a check never passes on facts
/// it could not get). Run by hand; review the files and snapshots after.
#[test]
#[ignore = "writes tests/checks/*: cargo test --test checks -- --ignored record_incident_cases"]
fn record_incident_cases() {
    let snapshot: Snapshot = serde_json::from_str(&std::fs::read_to_string(INCIDENT).unwrap()).unwrap();
    for (id, expect) in ON_THE_INCIDENT {
        let check = built_in(id);
        let needs = check.meta().needs;
        let mut recorded = with_facts(&snapshot, snapshot.facts.only(needs));
        let dir = Path::new(CASES).join(id);
        std::fs::create_dir_all(&dir).unwrap();
        write_case(&dir.join(format!("{expect}-incident.facts.json")), &recorded);
        let failed = field(needs[0]);
        recorded["facts"][&failed] = json!({"state": "failed", "error": format!("{failed}: recorded as failed")});
        write_case(&dir.join(format!("error-{}-failed.facts.json", failed.replace('_', "-"))), &recorded);
    }
}

fn write_case(path: &Path, snapshot: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(snapshot).unwrap() + "\n").unwrap();
}

/// `snapshot`'s header around other facts, as JSON.
fn with_facts(snapshot: &Snapshot, facts: clusterdoc::facts::Facts) -> Value {
    json!({
        "snapshot_version": snapshot.snapshot_version,
        "tool": snapshot.tool,
        "version": snapshot.version,
        "collected_at": snapshot.collected_at,
        "facts": facts,
    })
}
