use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use super::*;
use crate::facts::packs::{PackFacts, PackRecord, ProcessSeen, TargetLook};
use crate::facts::systemd::{ActiveState, LiveUnit};
use crate::packs::definition::{PackFile, parse_pack};

/// The first check of a pack text.
fn check(toml: &str) -> PackCheck {
    let origin = PackFile { source: "t.toml", file: "t.toml".into(), dir: Some(Path::new("/packs")) };
    let mut declared = parse_pack(toml, &origin).unwrap();
    match declared.remove(0) {
        Ok(d) => d.check,
        Err(problem) => panic!("{problem:?}"),
    }
}

fn kind(table: &str) -> String {
    format!(
        "[[check]]\nid = \"t.x\"\ntitle = \"T\"\nseverity = \"fail\"\n[check.explain]\nwhat = \"w\"\nwhy = \"y\"\nfix = \"f\"\n{table}\n[[check.remedy]]\ncommand = \"fix {{target}}\"\nrisk = \"safe\"\n"
    )
}

fn target(label: &str, host: Option<&str>) -> ProbeTarget {
    let host = host.map(|h| crate::remote::HostName::parse(h).unwrap());
    ProbeTarget { label: label.into(), port: host.as_ref().map(|_| 2181), host }
}

fn run_on(check: &PackCheck, looks: Vec<(ProbeTarget, Fact<Observation>)>) -> Verdict {
    let record = PackRecord {
        probe: check.probe.probe.clone(),
        targets: looks.into_iter().map(|(target, seen)| TargetLook { target, seen }).collect(),
    };
    let mut checks = BTreeMap::new();
    checks.insert(check.meta.id.to_string(), Fact::observed(record));
    let facts = Facts { packs: Some(Fact::observed(PackFacts { checks })), ..Facts::default() };
    judge(check, &facts)
}

fn one(check: &PackCheck, observation: Observation) -> Verdict {
    run_on(check, vec![(target("t", Some("h1")), Fact::observed(observation))])
}

/// The single finding of a verdict.
fn finding(verdict: Verdict) -> Finding {
    let judgement = verdict.unwrap();
    assert_eq!(judgement.findings.len(), 1, "{judgement:?}");
    judgement.findings.into_iter().next().unwrap()
}

fn passes(verdict: Verdict) -> String {
    let judgement = verdict.unwrap();
    assert!(judgement.findings.is_empty(), "{judgement:?}");
    judgement.note.unwrap_or_default()
}

fn tcp_seen(connect: Connect, reply: Option<&str>) -> Observation {
    Observation::Tcp(TcpSeen { connect, reply: reply.map(String::from), reply_cut: None })
}

#[test]
fn tcp_ports_open_closed_and_measured_replies() {
    let open = check(&kind("[check.tcp]\naddress = \"h1:22\""));
    assert_eq!(passes(one(&open, tcp_seen(Connect::Open, None))), "t: open");
    let f = finding(one(&open, tcp_seen(Connect::Refused, None)));
    assert_eq!((f.status, f.message.as_str()), (Status::Fail, "the port is not open: connection refused"));
    assert_eq!(f.remediation[0].command, "fix t");

    let closed = check(&kind("[check.tcp]\naddress = \"h1:22\"\nexpect = \"closed\""));
    assert!(passes(one(&closed, tcp_seen(Connect::TimedOut, None))).contains("closed"));
    assert_eq!(finding(one(&closed, tcp_seen(Connect::Open, None))).status, Status::Fail);

    let mntr = check(&kind(
        "[check.tcp]\naddress = \"{zk.servers}\"\nsend = \"mntr\"\nmatch = '(?m)^zk_outstanding_requests\\s+(\\d+)'\nmax = 10",
    ));
    let reply = |n: u32| tcp_seen(Connect::Open, Some(&format!("zk_version\t3.8\nzk_outstanding_requests\t{n}\n")));
    assert!(passes(one(&mntr, reply(0))).contains("zk_outstanding_requests\t0"));
    let f = finding(one(&mntr, reply(25)));
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.starts_with("25 is above the maximum 10"), "{}", f.message);
    assert_eq!(f.evidence, ["the reply: zk_outstanding_requests\t25"]);
    // Not whitelisted: nothing to measure is an error, never a pass.
    let refused = tcp_seen(Connect::Open, Some("mntr is not executed because it is not in the whitelist.\n"));
    let f = finding(one(&mntr, refused));
    assert_eq!(f.status, Status::Error);
    assert!(f.evidence[0].contains("not in the whitelist"), "{f:?}");
    assert!(f.remediation.is_empty());
}

#[test]
fn absent_targets_skip_and_failed_ones_error() {
    let mntr = check(&kind("[check.tcp]\naddress = \"{zk.servers}\""));
    let verdict = run_on(&mntr, vec![(target("a", None), Fact::unavailable("nothing answers at a; name it"))]);
    assert_eq!(verdict, Err(NotJudged::Skip("nothing answers at a; name it".into())));
    let verdict = run_on(
        &mntr,
        vec![
            (target("a", None), Fact::unavailable("gone")),
            (target("b", Some("b")), Fact::failed("cannot resolve b")),
            (target("c", Some("c")), Fact::observed(tcp_seen(Connect::Open, None))),
        ],
    );
    let judgement = verdict.unwrap();
    assert_eq!(judgement.status(), Status::Error);
    assert_eq!(judgement.findings[0].message, "cannot resolve b");
    assert_eq!(judgement.note.as_deref(), Some("c: open; skipped: gone"));
}

#[test]
fn missing_or_changed_records_are_errors() {
    let open = check(&kind("[check.tcp]\naddress = \"h1:22\""));
    let facts = Facts { packs: Some(Fact::observed(PackFacts::default())), ..Facts::default() };
    assert!(matches!(judge(&open, &facts), Err(NotJudged::Error(e)) if e.contains("not run")));
    let other = check(&kind("[check.tcp]\naddress = \"h1:23\""));
    let mut checks = BTreeMap::new();
    let record = PackRecord { probe: other.probe.probe.clone(), targets: Vec::new() };
    checks.insert("t.x".to_string(), Fact::observed(record));
    let facts = Facts { packs: Some(Fact::observed(PackFacts { checks })), ..Facts::default() };
    assert!(matches!(judge(&open, &facts), Err(NotJudged::Error(e)) if e.contains("pack changed")));
}

fn http_seen(status: u16, date: Option<&str>, sent_ms: i64, body: Body) -> Observation {
    Observation::Http(HttpSeen { status, date: date.map(String::from), sent_ms, received_ms: sent_ms + 20, body })
}

#[test]
fn http_status_and_json_pointers() {
    let c = check(&kind(
        "[check.http]\nurl = \"{mesos.masters}/state\"\n[[check.http.json]]\npointer = \"/activated_slaves\"\nmin = 3\n[[check.http.json]]\npointer = \"/flags/cluster\"\nequals = \"prod\"\n[[check.http.json]]\npointer = \"/roles\"\ncontains = \"web\"",
    ));
    let body = |agents: serde_json::Value, cluster: &str| Body::Json {
        values: [
            ("/activated_slaves".to_string(), agents),
            ("/flags/cluster".into(), json!(cluster)),
            ("/roles".into(), json!(["web", "db"])),
        ]
        .into(),
    };
    let note = passes(one(&c, http_seen(200, None, 0, body(json!(3.0), "prod"))));
    assert!(note.contains("/activated_slaves = 3.0") && note.contains("/roles contains \"web\""), "{note}");
    let f = finding(one(&c, http_seen(200, None, 0, body(json!(2), "prod"))));
    assert_eq!((f.status, f.message.as_str()), (Status::Fail, "/activated_slaves: 2 is below the minimum 3"));
    assert_eq!(f.evidence, ["/activated_slaves = 2"]);
    let f = finding(one(&c, http_seen(200, None, 0, body(json!(3), "test"))));
    assert_eq!(f.message, "/flags/cluster is \"test\"; expected \"prod\"");
    let f = finding(one(&c, http_seen(200, None, 0, body(json!("many"), "prod"))));
    assert_eq!(f.status, Status::Error);
    let f = finding(one(&c, http_seen(503, None, 0, Body::Skipped)));
    assert_eq!((f.status, f.message.as_str()), (Status::Fail, "answered HTTP 503; expected a 2xx status"));
    let f = finding(one(&c, http_seen(200, None, 0, Body::Unreadable { error: "not JSON".into() })));
    assert_eq!((f.status, f.message.as_str()), (Status::Error, "cannot read the JSON body: not JSON"));
}

#[test]
fn http_dates_parse() {
    assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000));
    assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
    assert_eq!(parse_http_date("Tue, 29 Feb 2028 12:00:00 GMT"), Some(1_835_438_400_000));
    for bad in [
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 PST",
        "06 Nov 1994",
        "",
        "Sun, 32 Nov 1994 08:49:37 GMT",
    ] {
        assert_eq!(parse_http_date(bad), None, "{bad}");
    }
}

#[test]
fn clocks_are_compared_allowing_for_resolution_and_round_trips() {
    let c = check(&kind("[check.http]\nurl = \"{mesos.masters}/version\"\nmax_date_skew = \"2s\""));
    let at = |label: &str, date: &str| {
        let sent = parse_http_date("Tue, 24 Nov 2026 10:00:00 GMT").unwrap() + 300;
        (target(label, Some(label)), Fact::observed(http_seen(200, Some(date), sent, Body::Skipped)))
    };
    // 2 s apart by the headers: within what resolution allows.
    let note =
        passes(run_on(&c, vec![at("m1", "Tue, 24 Nov 2026 10:00:00 GMT"), at("m2", "Tue, 24 Nov 2026 10:00:02 GMT")]));
    assert!(note.contains("2 clocks agree within 2s"), "{note}");
    let f = finding(run_on(
        &c,
        vec![
            at("m1", "Tue, 24 Nov 2026 10:00:00 GMT"),
            at("m2", "Tue, 24 Nov 2026 10:00:07 GMT"),
            at("m3", "Tue, 24 Nov 2026 10:00:01 GMT"),
        ],
    ));
    assert_eq!(f.subject, "m2 and m1");
    assert_eq!(f.message, "clocks differ by at least 6.0s (more than 2s)");
    assert!(f.evidence[0].starts_with("m2: Date Tue, 24 Nov 2026 10:00:07 GMT"), "{:?}", f.evidence);
    assert_eq!(f.remediation.iter().map(|r| r.command.as_str()).collect::<Vec<_>>(), ["fix m2", "fix m1"]);
    let note = passes(run_on(&c, vec![at("m1", "Tue, 24 Nov 2026 10:00:00 GMT")]));
    assert!(note.contains("one clock answered"), "{note}");
    let f = finding(run_on(&c, vec![(target("m1", None), Fact::observed(http_seen(200, None, 0, Body::Skipped)))]));
    assert_eq!(
        (f.status, f.message.as_str()),
        (Status::Error, "no Date header: this server's clock cannot be compared")
    );
}

fn ran(exit: Exit, stdout: &str) -> Observation {
    Observation::Program(ProgramRun { exit, stdout: stdout.into(), stderr: String::new() })
}

#[test]
fn commands_assert_or_measure() {
    let asserting = check(&kind("[check.command]\nargv = [\"true\"]\nexit = 0\nmatch = \"ok\""));
    assert_eq!(passes(one(&asserting, ran(Exit::Code { code: 0 }, "all ok\n"))), "t: the output has \"ok\"");
    assert_eq!(finding(one(&asserting, ran(Exit::Code { code: 0 }, "bad\n"))).status, Status::Fail);
    let f = finding(one(&asserting, ran(Exit::Code { code: 1 }, "")));
    assert_eq!((f.status, f.message.as_str()), (Status::Fail, "exited 1; expected 0"));

    let measuring = check(&kind("[check.command]\nargv = [\"df\"]\nmatch = '(\\d+)%'\nmax = 90"));
    assert_eq!(finding(one(&measuring, ran(Exit::Code { code: 0 }, "/dev/sda 95% /\n"))).status, Status::Fail);
    assert_eq!(finding(one(&measuring, ran(Exit::Code { code: 1 }, ""))).status, Status::Error);
    let f = finding(one(&measuring, ran(Exit::TimedOut { after_ms: 3000 }, "")));
    assert_eq!(
        (f.status, f.message.as_str()),
        (Status::Error, "killed after 3000 ms: it did not finish within --timeout")
    );
}

#[test]
fn plugins_follow_the_nagios_protocol() {
    let c = check(&kind("[check.plugin]\npath = \"check_x\""));
    let out = "DISK WARNING - free space: / 3% | /=97%;80;90\nlong text\n| more=1\n";
    assert_eq!(passes(one(&c, ran(Exit::Code { code: 0 }, "OK - fine | x=1\n"))), "t: OK - fine");
    let f = finding(one(&c, ran(Exit::Code { code: 1 }, out)));
    assert_eq!((f.status, f.message.as_str()), (Status::Warn, "DISK WARNING - free space: / 3%"));
    assert_eq!(f.evidence, ["long text", "perfdata: /=97%;80;90 more=1"]);
    assert_eq!(f.remediation[0].command, "fix t");
    assert_eq!(finding(one(&c, ran(Exit::Code { code: 2 }, "CRIT\n"))).status, Status::Fail);
    for exit in
        [Exit::Code { code: 3 }, Exit::Code { code: 4 }, Exit::Signal { signal: 9 }, Exit::TimedOut { after_ms: 1 }]
    {
        let f = finding(one(&c, ran(exit, "")));
        assert_eq!(f.status, Status::Error, "{exit:?}");
        assert!(f.remediation.is_empty());
    }
    assert!(finding(one(&c, ran(Exit::Code { code: 7 }, "x"))).message.contains("outside the plugin protocol"));
}

#[test]
fn units_enabled_active_restart() {
    let c = check(&kind("[check.unit]\nunit = \"mesos-slave.service\"\nenabled = false\nrestart = \"no\""));
    let files_only = |state| Observation::Unit(UnitSeen { file_state: state, live: None });
    let f = finding(one(&c, files_only(UnitFileState::Enabled)));
    assert_eq!(f.message, "it is enabled; it should not be enabled");
    assert_eq!(f.evidence, ["UnitFileState=enabled"]);
    // Restart= cannot be seen without a running systemd: no pass.
    assert!(
        matches!(one(&c, files_only(UnitFileState::Disabled)), Err(NotJudged::Skip(r)) if r.contains("running systemd"))
    );
    let live = |restart| {
        Observation::Unit(UnitSeen {
            file_state: UnitFileState::Disabled,
            live: Some(LiveUnit {
                active_state: ActiveState::Active,
                sub_state: "running".into(),
                unit_file_state: UnitFileState::Disabled,
                restart,
                n_restarts: None,
                main_pid: Some(7),
            }),
        })
    };
    assert!(passes(one(&c, live(Restart::No))).contains("Restart=no"));
    assert_eq!(finding(one(&c, live(Restart::Always))).message, "Restart=always; it should be Restart=no");
    let wanted = check(&kind("[check.unit]\nunit = \"chronyd.service\"\nenabled = true"));
    assert_eq!(finding(one(&wanted, files_only(UnitFileState::NotFound))).message, "it is not installed");
    assert!(
        matches!(one(&c, files_only(UnitFileState::NotFound)), Err(NotJudged::Skip(r)) if r == "it is not installed")
    );
}

#[test]
fn files_exist_with_mode_and_content() {
    let c = check(&kind("[check.file]\npath = \"/etc/zk/zoo.cfg\"\nmode = \"0640\"\ncontains = \"^4lw\""));
    let seen = |exists, mode, matches: usize| {
        Observation::File(FileSeen {
            exists,
            mode,
            matching: vec!["4lw.commands.whitelist=*".to_string()].into_iter().take(matches).collect(),
            matches,
            cut: None,
        })
    };
    assert!(passes(one(&c, seen(true, Some(0o640), 1))).contains("line: 4lw.commands.whitelist=*"));
    assert_eq!(finding(one(&c, seen(false, None, 0))).message, "it does not exist");
    assert_eq!(finding(one(&c, seen(true, Some(0o644), 1))).message, "its mode is 0644; it should be 0640");
    assert_eq!(finding(one(&c, seen(true, Some(0o640), 0))).message, "no line matches the expected pattern");
}

#[test]
fn processes_running_and_counted() {
    let c = check(&kind("[check.process]\nmatch = \"mesos-agent\"\nrunning = true\nmax = 1"));
    let seen = |n: u32| {
        let matching: Vec<ProcessSeen> =
            (0..n).map(|pid| ProcessSeen { pid, command: "mesos-agent --x".into() }).collect();
        Observation::Processes(ProcessesSeen { count: matching.len(), matching })
    };
    assert_eq!(passes(one(&c, seen(1))), "t: 1 running");
    assert_eq!(finding(one(&c, seen(0))).message, "no such process runs");
    let f = finding(one(&c, seen(2)));
    assert_eq!(f.message, "2 such processes run; at most 1 should");
    assert_eq!(f.evidence, ["pid 0: mesos-agent --x", "pid 1: mesos-agent --x"]);
}
