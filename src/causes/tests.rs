use super::*;
use crate::report::{Finding, NodeInfo};
use crate::target::Target;

fn check(id: &str, status: Status, findings: Vec<Finding>) -> CheckReport {
    CheckReport {
        id: id.into(),
        title: format!("title of {id}"),
        status,
        duration_ms: 0,
        reason: None,
        findings,
        by_node: Default::default(),
        scope: Vec::new(),
        caused_by: Vec::new(),
    }
}

fn unjudged(id: &str, reason: &str, scope: Vec<Scope>) -> CheckReport {
    CheckReport { reason: Some(reason.into()), scope, ..check(id, Status::Error, Vec::new()) }
}

fn traced(checks: Vec<CheckReport>) -> Report {
    let mut report = Report::new("t".into(), 0, NodeInfo::default(), checks);
    Dependencies::load(&[]).unwrap().trace(&mut report);
    report
}

fn ensemble(url: &str) -> Option<Scope> {
    Scope::ensemble_of_url(url)
}

fn mesos() -> Option<Scope> {
    Scope::mesos(&[Target::parse("http://m1:5050", true).unwrap()])
}

fn marathon() -> Option<Scope> {
    Scope::marathon(&Target::parse("http://mt:8080", true).unwrap())
}

const A: &str = "zk://zk1:2181,zk2:2181,zk3:2181/marathon";
const B: &str = "zk://zkb1:2181/mesos";

fn stopped(server: &str, on: &str) -> Finding {
    Finding::new(Status::Fail, format!("ZooKeeper {server}"), "does not answer")
        .problem("no-quorum")
        .about(ensemble(on))
}

fn no_mesos_leader(on: &str) -> Finding {
    Finding::new(Status::Fail, "Mesos masters", "no master knows a leader")
        .problem("no-leader")
        .about(ensemble(on))
        .about(mesos())
}

fn cause(check: &str, subject: &str) -> Cause {
    Cause { check: check.into(), subject: subject.into(), node: None }
}

#[test]
fn an_ensemble_without_quorum_is_one_root_that_explains_the_leaders_and_what_follows() {
    let report = traced(vec![
        check("zk.quorum", Status::Fail, vec![stopped("zk2:2181", A), stopped("zk3:2181", A), stopped("zk1:2181", A)]),
        check(
            "marathon.leader",
            Status::Fail,
            vec![
                Finding::new(Status::Fail, "Marathon http://mt:8080", "no leader")
                    .problem("no-leader")
                    .about(ensemble(A))
                    .about(marathon()),
            ],
        ),
        unjudged(
            "marathon.queue",
            "Marathon at http://mt:8080: HTTP 503",
            [marathon(), mesos()].into_iter().flatten().collect(),
        ),
        check("mesos.leader", Status::Fail, vec![no_mesos_leader("zk://zk3:2181,zk1:2181,zk2:2181/mesos")]),
        check("hostname.case", Status::Fail, vec![Finding::new(Status::Fail, "host M1", "upper case")]),
    ]);
    let roots: Vec<(&str, &str, usize)> =
        report.root_causes.iter().map(|r| (r.check.as_str(), r.subject.as_str(), r.explains)).collect();
    let ensemble = "ZooKeeper ensemble zk1:2181,zk2:2181,zk3:2181";
    assert_eq!(roots, [("zk.quorum", ensemble, 3), ("hostname.case", "host M1", 0)]);
    assert_eq!(report.root_causes[0].explained_checks, ["marathon.leader", "marathon.queue", "mesos.leader"]);
    assert_eq!(report.checks[1].findings[0].caused_by, [cause("zk.quorum", ensemble)]);
    assert_eq!(report.checks[3].findings[0].caused_by, [cause("zk.quorum", ensemble)]);
    // The queue could not be read: Marathon without a leader, Mesos without one (either).
    assert_eq!(
        report.checks[2].caused_by,
        [cause("mesos.leader", "Mesos masters"), cause("marathon.leader", "Marathon http://mt:8080")]
    );
    assert!(report.checks[0].findings.iter().all(|f| f.caused_by.is_empty()));
    assert_eq!(report.status, Status::Fail, "statuses are kept");
    assert_eq!(report.summary.fail, 4);
}

#[test]
fn a_failure_of_one_ensemble_never_folds_a_finding_about_another() {
    let report = traced(vec![
        check("zk.quorum", Status::Fail, vec![stopped("zk1:2181", A)]),
        check("mesos.leader", Status::Fail, vec![no_mesos_leader(B)]),
    ]);
    let roots: Vec<&str> = report.root_causes.iter().map(|r| r.check.as_str()).collect();
    assert_eq!(roots, ["zk.quorum", "mesos.leader"]);
    assert!(report.checks[1].findings[0].caused_by.is_empty());
    // A master that does not say its ensemble is not folded either.
    let unsaid = Finding::new(Status::Fail, "Mesos masters", "no leader").problem("no-leader").about(mesos());
    let report = traced(vec![
        check("zk.quorum", Status::Fail, vec![stopped("zk1:2181", A)]),
        check("mesos.leader", Status::Fail, vec![unsaid]),
    ]);
    assert_eq!(report.root_causes.len(), 2);
}

fn rejected(host: &str, address: &str, port: u16) -> Finding {
    Finding::new(Status::Fail, format!("{host}:{port}"), "rejected: blocked by a firewall")
        .problem("rejected")
        .about(Scope::host([host, address]))
        .about(Scope::endpoint([host, address], port))
}

#[test]
fn a_firewall_on_one_node_folds_only_the_rejected_probes_towards_its_own_ports() {
    let zone = |node: &str, names: [&str; 2], port: u16| {
        let mut f = Finding::new(Status::Fail, "zone public", format!("zone public does not allow {port}/tcp"))
            .about(Scope::endpoint(names, port));
        f.node = Some(node.into());
        f
    };
    let refused =
        Finding::new(Status::Fail, "b:5051", "refused").problem("refused").about(Scope::endpoint(["b"], 5051));
    let report = traced(vec![
        check("firewalld.ports", Status::Fail, vec![zone("b", ["b", "10.0.0.2"], 5050)]),
        check(
            "net.reachability",
            Status::Fail,
            vec![
                rejected("10.0.0.2", "10.0.0.2", 5050),
                rejected("b", "10.0.0.2", 5051),
                rejected("a", "10.0.0.1", 5050),
                refused,
            ],
        ),
    ]);
    let folded: Vec<bool> = report.checks[1].findings.iter().map(|f| !f.caused_by.is_empty()).collect();
    assert_eq!(folded, [true, false, false, false]);
    let by_firewall = &report.checks[1].findings[0].caused_by[0];
    assert_eq!((by_firewall.subject.as_str(), by_firewall.node.as_deref()), ("zone public", Some("b")));
    assert_eq!(report.root_causes.len(), 4);
    assert_eq!(report.root_causes[0].check, "firewalld.ports");
    assert_eq!(report.root_causes[0].explains, 1);
}

#[test]
fn an_aggregate_is_folded_only_when_every_member_is_explained() {
    let zone = Finding::new(Status::Fail, "zone public", "closed").about(Scope::endpoint(["b", "10.0.0.2"], 5050));
    let towards = |hosts: &[&str]| -> Vec<Finding> { hosts.iter().map(|h| rejected(h, h, 5050)).collect() };
    let all_b: Vec<&str> = vec!["b"; 25];
    let report = traced(vec![
        check("firewalld.ports", Status::Fail, vec![zone.clone()]),
        check("net.reachability", Status::Fail, towards(&all_b)),
    ]);
    let aggregate = &report.checks[1].findings[0];
    assert_eq!(aggregate.count, Some(25));
    assert!(!aggregate.caused_by.is_empty());
    let mut mixed = all_b.clone();
    mixed.push("a");
    let mixed: Vec<Finding> = towards(&mixed)
        .into_iter()
        .map(|mut f| {
            f.message = "rejected: blocked by a firewall".into();
            f
        })
        .collect();
    let report = traced(vec![
        check("firewalld.ports", Status::Fail, vec![zone]),
        check("net.reachability", Status::Fail, mixed),
    ]);
    assert!(report.checks[1].findings[0].caused_by.is_empty(), "one member towards a is not the firewall's on b");
}

#[test]
fn accepted_problems_take_no_part() {
    let mut quorum = stopped("zk1:2181", A);
    quorum.baseline = Some(crate::report::BaselineMark::Known);
    let report = traced(vec![
        check("zk.quorum", Status::Fail, vec![quorum]),
        check("mesos.leader", Status::Fail, vec![no_mesos_leader(A)]),
    ]);
    assert_eq!(report.root_causes.len(), 1);
    assert_eq!(report.root_causes[0].check, "mesos.leader");
    assert!(report.checks[1].findings[0].caused_by.is_empty());
}

#[test]
fn a_healthy_report_has_no_roots() {
    let report = traced(vec![check("zk.quorum", Status::Pass, vec![]), check("mesos.leader", Status::Pass, vec![])]);
    assert!(report.root_causes.is_empty());
    let json = crate::report::json::render(&report);
    assert!(!json.contains("root_causes") && !json.contains("caused_by"), "{json}");
}

#[test]
fn edges_that_would_close_a_circle_are_left_out() {
    let text = r#"
        [[edge]]
        parent = { check = "a" }
        dependent = { check = "b" }
        same = "host"
        [[edge]]
        parent = { check = "b" }
        dependent = { check = "a" }
        same = "host"
    "#;
    let dependencies = Dependencies::parse(text).unwrap();
    let on = |id: &str| check(id, Status::Fail, vec![Finding::new(Status::Fail, "x", "y").about(Scope::host(["h"]))]);
    let mut report = Report::new("t".into(), 0, NodeInfo::default(), vec![on("a"), on("b")]);
    dependencies.trace(&mut report);
    assert_eq!(report.root_causes.len(), 1, "{:?}", report.root_causes);
    assert_eq!((report.root_causes[0].check.as_str(), report.root_causes[0].explains), ("a", 1));
}

#[test]
fn an_override_replaces_the_built_in_file_and_a_bad_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dependencies.toml");
    std::fs::write(&file, "").unwrap();
    let none = Dependencies::load(&[dir.path().to_path_buf()]).unwrap();
    assert!(none.edges.is_empty());
    std::fs::write(&file, "[[edge]]\nparent = { check = \"a\" }\ndependent = { check = \"b\" }\nsame = \"galaxy\"\n")
        .unwrap();
    let error = Dependencies::load(&[dir.path().to_path_buf()]).unwrap_err();
    assert!(error.starts_with(&file.display().to_string()) && error.contains("galaxy"), "{error}");
    assert!(Dependencies::load(&[]).unwrap().edges.len() > 10, "the built-in file");
}

#[test]
fn the_plan_and_the_nagios_line_put_the_root_first() {
    use crate::remedy::Cmd;
    let first = Finding::new(Status::Fail, "x", "independent").fix(Cmd::new("echo").word("independent").safe());
    let report = traced(vec![
        check("hostname.case", Status::Fail, vec![first]),
        check("mesos.leader", Status::Fail, vec![no_mesos_leader(A).fix(Cmd::new("echo").word("leader").safe())]),
        check("zk.quorum", Status::Fail, vec![stopped("zk1:2181", A).fix(Cmd::new("echo").word("quorum").safe())]),
    ]);
    let plan = crate::report::script::render(&report);
    let at = |command: &str| plan.find(&format!("\necho {command}\n")).unwrap_or_else(|| panic!("{command}: {plan}"));
    assert!(at("quorum") < at("independent") && at("independent") < at("leader"), "{plan}");
    let nagios = crate::report::nagios::render(&report);
    assert!(nagios.contains(": root cause zk.quorum (ZooKeeper zk1:2181), explains 1 more; "), "{nagios}");
}
