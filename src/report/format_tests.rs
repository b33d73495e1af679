//! Every format on one report full of hostile remote text: nothing raw reaches
//! a terminal, nothing escapes quoting or comments, each format stays valid.

use super::*;
use crate::remedy::{Cmd, HostGroup, Risk, RunsOn};

const ESC: &str = "\x1b[2J\x1b]0;pwned\x07";
/// A bidi override, zero-width and isolate characters, a BOM and the two
/// characters XML 1.0 forbids outright.
const FORMAT: &str = "\u{202e}gpj.exe\u{200b}\u{2066}\u{feff}\u{fffe}\u{ffff}";

fn hostile_report() -> Report {
    let evil_host = format!("SZV1{ESC}{FORMAT}\nrm -rf / #|x");
    let fail = Finding::new(Status::Fail, format!("host {evil_host}"), "host name has upper-case letters")
        .evidence(format!("/etc/hostname: {evil_host}"))
        .fix(Cmd::new("hostnamectl").word("set-hostname").value(evil_host.to_lowercase()).disruptive())
        .fix(Cmd::new("zkCli.sh").word("deleteall").value("/marathon'\ntouch /tmp/owned").destructive())
        .fix(Cmd::new("hostnamectl").word("set-hostname").value(format!("n{FORMAT}")).safe())
        .fix(
            Cmd::new("sudo")
                .word("systemctl stop marathon")
                .disruptive()
                .on(RunsOn::host_of("szv1000265119", HostGroup::MarathonHosts)),
        );
    let warn = Finding::new(Status::Warn, "zone public", "not \"quoted\" \\ text")
        .fix(Cmd::new("firewall-cmd").word("--reload").disruptive().with_note(format!("then {ESC} check")));
    let checks = vec![
        CheckReport {
            id: "hostname.case".into(),
            title: "Host names are lower case".into(),
            status: Status::Fail,
            duration_ms: 2,
            reason: None,
            findings: vec![fail],
            by_node: Default::default(),
            scope: Vec::new(),
            caused_by: Vec::new(),
        },
        CheckReport {
            id: "firewalld.ports".into(),
            title: "firewalld allows the ports".into(),
            status: Status::Warn,
            duration_ms: 1,
            reason: None,
            findings: vec![warn],
            by_node: Default::default(),
            scope: Vec::new(),
            caused_by: Vec::new(),
        },
        CheckReport {
            id: "zk.quorum".into(),
            title: "ZooKeeper quorum".into(),
            status: Status::Error,
            duration_ms: 0,
            reason: Some(format!("ZooKeeper 10.0.0.1:2181: {ESC} # not ok")),
            findings: vec![],
            by_node: Default::default(),
            scope: Vec::new(),
            caused_by: Vec::new(),
        },
        CheckReport {
            id: "mesos.leader".into(),
            title: "Mesos leader".into(),
            status: Status::Skip,
            duration_ms: 0,
            reason: Some("no Mesos master # SKIP\nnot ok 99".into()),
            findings: vec![],
            by_node: Default::default(),
            scope: Vec::new(),
            caused_by: Vec::new(),
        },
        CheckReport {
            id: "marathon.leader".into(),
            title: "Marathon leader".into(),
            status: Status::Pass,
            duration_ms: 3,
            reason: Some("leader m1:8080".into()),
            findings: vec![],
            by_node: Default::default(),
            scope: Vec::new(),
            caused_by: Vec::new(),
        },
    ];
    Report::new(
        "2026-11-25T03:00:00Z".into(),
        184,
        NodeInfo { hostname: Some(format!("n{ESC}")), ..Default::default() },
        checks,
    )
}

fn all_formats(report: &Report) -> Vec<(&'static str, String)> {
    colored::control::set_override(false);
    vec![
        ("human", human::render(report, human::Detail::Verbose)),
        ("json", json::render(report)),
        ("junit", junit::render(report)),
        ("tap", tap::render(report)),
        ("nagios", nagios::render(report)),
        ("prometheus", prometheus::render(report)),
        ("script", script::render(report)),
    ]
}

#[test]
fn no_format_lets_terminal_controls_or_format_characters_through() {
    for (name, text) in all_formats(&hostile_report()) {
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{name} has raw escapes:\n{text}");
        let raw: Vec<char> = text.chars().filter(|c| crate::text::is_unsafe(*c) && !matches!(c, '\n' | '\t')).collect();
        assert!(raw.is_empty(), "{name} has raw unsafe characters {raw:?}:\n{text}");
        // Prometheus carries no remote text, only check ids and numbers.
        assert!(name == "prometheus" || text.contains("202e"), "{name} does not show the bidi override:\n{text}");
    }
}

/// Python's expat, a strict XML 1.0 parser, reads the JUnit report whole.
#[test]
fn junit_is_well_formed_for_a_real_xml_parser() {
    let xml = junit::render(&hostile_report());
    let mut python = std::process::Command::new("python3")
        .args(["-c", "import sys, xml.dom.minidom\nd = xml.dom.minidom.parseString(sys.stdin.buffer.read())\nprint(len(d.getElementsByTagName('testcase')))"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is needed for this test (Debian package python3)");
    use std::io::Write as _;
    python.stdin.take().unwrap().write_all(xml.as_bytes()).unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(out.status.success(), "expat rejects the report: {}\n{xml}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "5");
}

#[test]
fn junit_parses_back_with_one_case_per_check() {
    let xml = junit::render(&hostile_report());
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => match e.name().as_ref() {
                b"testcase" => cases += 1,
                b"failure" => failures += 1,
                b"error" => errors += 1,
                b"skipped" => skipped += 1,
                _ => {}
            },
            _ => {}
        }
    }
    assert_eq!((cases, failures, errors, skipped), (5, 1, 1, 1), "{xml}");
    assert!(xml.contains("hostnamectl set-hostname"), "remediation in the body");
}

#[test]
fn tap_has_one_line_per_check_and_no_forged_results() {
    let tap = tap::render(&hostile_report());
    assert!(tap.starts_with("TAP version 14\n1..5\n"));
    let results: Vec<&str> = tap.lines().filter(|l| l.starts_with("ok ") || l.starts_with("not ok ")).collect();
    assert_eq!(results.len(), 5, "{tap}");
    assert!(results[0].starts_with("not ok 1 - hostname.case"));
    assert!(results[1].contains("# TODO"));
    assert!(results[3].starts_with("ok 4 - mesos.leader # SKIP"));
    assert!(!tap.lines().any(|l| l.starts_with("not ok 99")));
}

#[test]
fn nagios_is_one_line_with_perfdata() {
    let line = nagios::render(&hostile_report());
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(line.starts_with("CLUSTERDOC CRITICAL - 1 fail, 1 warn, 1 error: hostname.case"), "{line}");
    let (_, perf) = line.split_once(" | ").unwrap();
    assert_eq!(perf.trim(), "pass=1 warn=1 fail=1 skip=1 error=1 waived=0 duration=0.184s");
    assert_eq!(line.matches('|').count(), 1, "remote text must not add perfdata");
}

#[test]
fn prometheus_lines_are_well_formed() {
    let text = prometheus::render(&hostile_report());
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
        assert!(series.starts_with("clusterdoc_"), "{line}");
    }
    assert!(text.contains("clusterdoc_check_status{id=\"hostname.case\"} 2"));
    assert!(text.contains("clusterdoc_findings{id=\"hostname.case\"} 1"));
    assert!(text.contains("clusterdoc_run_status 2"));
}

#[test]
fn script_comments_out_destructive_commands_line_by_line() {
    let script = script::render(&hostile_report());
    assert!(script.starts_with("#!/bin/sh\n"));
    assert!(script.contains("\nset -eu\n"));
    for line in script.lines() {
        assert!(!line.starts_with("touch"), "a quoted newline escaped the comment:\n{script}");
        assert!(!line.starts_with("rm -rf"), "{script}");
    }
    assert!(script.contains("# zkCli.sh deleteall"));
    assert!(script.contains("# left out: a value holds control or format characters"));
    assert!(script.contains("\n# hostnamectl set-hostname 'n\\u{202e}gpj.exe\\u{200b}"), "{script}");
    assert!(script.lines().any(|l| l == "firewall-cmd --reload"));
    let risk_lines = script.lines().filter(|l| l.starts_with("# risk: ")).count();
    assert_eq!(risk_lines, 5);
    let _ = Risk::Safe;
}

/// Running the script (with an empty PATH, so nothing but shell built-ins can
/// run) must not create the payload's marker file.
#[test]
fn script_runs_nothing_it_should_not() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("owned");
    let mut report = hostile_report();
    report.checks[0].findings[0]
        .remediation
        .push(Cmd::new("echo").value(format!("$(touch {m}) `touch {m}`; touch {m}", m = marker.display())).safe());
    let script = script::render(&report).replace("set -eu", "set -u");
    std::fs::write(dir.path().join("plan.sh"), &script).unwrap();
    let _ = std::process::Command::new("/bin/sh")
        .arg(dir.path().join("plan.sh"))
        .env_clear()
        .env("PATH", "")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!marker.exists(), "the plan ran an injected command:\n{script}");
}

/// The plan runs only here: a command for another host sits, commented out,
/// under that host's name after everything for this node.
#[test]
fn script_comments_out_what_must_run_on_another_host() {
    let script = script::render(&hostile_report());
    let here = script.find("# ===== On this node =====").expect(&script);
    let there = script.find("# ===== On szv1000265119, not here: run these there =====").expect(&script);
    assert!(here < there, "{script}");
    assert!(script[there..].contains("\n# sudo systemctl stop marathon\n"), "{script}");
    assert!(!script.lines().any(|l| l.starts_with("sudo")), "{script}");
    assert!(script[here..there].contains("\nfirewall-cmd --reload\n"), "{script}");
    let human = human::render(&hostile_report(), human::Detail::Normal);
    assert!(human.contains("on szv1000265119: sudo systemctl stop marathon"), "{human}");
    let json: serde_json::Value = serde_json::from_str(&json::render(&hostile_report())).unwrap();
    let stop = &json["checks"][0]["findings"][0]["remediation"][3];
    assert_eq!((&stop["command"], &stop["host"]), (&"sudo systemctl stop marathon".into(), &"szv1000265119".into()));
    assert_eq!(json["checks"][0]["findings"][0]["remediation"][0].get("host"), None);
}

/// A plan runs only on the node its report is about: elsewhere it stops
/// before its first command.
#[test]
fn script_stops_on_any_host_but_the_reports_node() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let this_machine =
        String::from_utf8(std::process::Command::new("uname").arg("-n").output().unwrap().stdout).unwrap();
    let run_plan_for = |node: &str| {
        let mut report = hostile_report();
        report.node.hostname = Some(node.to_string());
        // Nothing but the marker may be active: this runs on the test machine.
        for finding in report.checks.iter_mut().flat_map(|c| &mut c.findings) {
            finding.remediation.clear();
        }
        report.checks[1].findings[0].remediation = vec![Cmd::new("touch").value(marker.display().to_string()).safe()];
        let plan = script::render(&report);
        std::fs::write(dir.path().join("plan.sh"), &plan).unwrap();
        let out = std::process::Command::new("/bin/sh").arg(dir.path().join("plan.sh")).output().unwrap();
        (out, plan)
    };
    let (out, plan) = run_plan_for("szv1000265119.example.invalid");
    assert_eq!(out.status.code(), Some(1), "{plan}");
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("this plan is for szv1000265119.example.invalid, not "));
    assert!(!marker.exists(), "the plan ran on another host:\n{plan}");
    let (out, plan) = run_plan_for(&this_machine.trim().to_uppercase());
    assert!(out.status.success(), "{}\n{plan}", String::from_utf8_lossy(&out.stderr));
    assert!(marker.exists(), "the plan did not run on its own node:\n{plan}");
}

/// Under an aggregate's fixes, a note shared by consecutive fixes is shown once.
#[test]
fn human_shows_a_repeated_note_once() {
    let mut report = hostile_report();
    let fix = |host: &str| Cmd::new("hostnamectl").value(host).disruptive().with_note("restart mesos-slave there");
    report.checks[1].findings[0].remediation = vec![fix("a"), fix("b"), fix("c").with_note("other")];
    let text = human::render(&report, human::Detail::Normal);
    assert_eq!(text.matches("restart mesos-slave there").count(), 1, "{text}");
    assert!(text.contains("hostnamectl c   [disruptive]\n                     other\n"), "{text}");
}
