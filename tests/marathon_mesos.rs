//! Marathon, Mesos and Flink facts and the `marathon.leader` / `mesos.leader`
//! checks, end to end: the real binary against real HTTP servers on loopback
//! that serve the upstream examples (Marathon 1.1.7, 1.4.13 and 1.10 shapes;
//! the mesos-dns fake state and the Apache Mesos docs example) and the
//! unpleasant answers (307 to the leader, 503 without one, 404 from
//! /v2/leader, stalled and trickling bodies, truncated JSON, oversized
//! bodies, redirect loops).

mod support;

use crate::support::http;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Answer, FakeServer, closed_port_url, fixture_json};
use serde_json::{Value, json};

const PASSWORD: &str = "s3cr3t-pw";
/// base64("admin:s3cr3t-pw"): the Authorization header must carry it, no output may.
const BASIC_AUTH: &str = "YWRtaW46czNjcjN0LXB3";

use crate::support::cli as cli_support;
use cli_support::{ReadReport, Run, clusterdoc, evidence, remedies};

impl Run {
    fn finding(&self, id: &str, index: usize) -> &Value {
        &self.check(id)["findings"][index]
    }
}

/// Runs `check --format json` with these arguments.
fn check(args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    Run::of_command(cli_support::plain(dir.path()).args(["check", "--format", "json"]).args(args))
}

/// Runs `collect` and returns the snapshot's facts.
fn collect(args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = clusterdoc(dir.path()).arg("collect").args(args).assert().success();
    let snapshot: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    snapshot["facts"].clone()
}

/// Asserts every request the servers received only read.
fn assert_read_only(servers: &[&FakeServer]) {
    let requests: Vec<http::Request> = servers.iter().flat_map(|s| s.requests()).collect();
    assert!(!requests.is_empty(), "the servers were never asked");
    for r in &requests {
        assert!(r.method == "GET" || r.method == "HEAD", "{} {} is not read-only", r.method, r.target);
    }
}

// ---------------------------------------------------------------- fixtures

/// The mesos-dns fake state (Mesos 0.19; leader == pid), changed by `edit`.
fn mesos_state(edit: impl FnOnce(&mut Value)) -> Value {
    let mut state = fixture_json("mesos/mesos-dns_factories_fake_state.json");
    edit(&mut state);
    state
}

/// A state where Marathon's framework `id` is registered, active or not.
fn state_with_marathon(id: &str, active: bool) -> Value {
    mesos_state(|s| {
        let framework = &mut s["frameworks"][0];
        framework["id"] = json!(id);
        framework["name"] = json!("marathon");
        framework["active"] = json!(active);
    })
}

/// A master serving `state`, healthy, that reports itself elected.
fn mesos_master(state: &Value) -> FakeServer {
    mesos_master_elected(state, true)
}

fn mesos_master_elected(state: &Value, elected: bool) -> FakeServer {
    FakeServer::start(vec![
        ("/master/state", Answer::json_value(state)),
        ("/master/health", Answer::status(200, "")),
        ("/metrics/snapshot", Answer::json_value(&json!({"master/elected": if elected { 1.0 } else { 0.0 }}))),
    ])
}

/// The five Marathon endpoints of one version's upstream examples; the apps
/// carry the example tasks as `?embed=apps.tasks` would.
fn marathon_routes(version: &str) -> Vec<(&'static str, Answer)> {
    let info = fixture_json(&format!("marathon/{version}/info.json"));
    let mut apps = fixture_json(&format!("marathon/{version}/app_list.json"));
    apps["apps"][0]["tasks"] = fixture_json(&format!("marathon/{version}/app_tasks.json"))["tasks"].clone();
    vec![
        ("/v2/info", Answer::json_value(&info)),
        ("/v2/leader", Answer::json_value(&json!({"leader": info["leader"]}))),
        ("/v2/apps", Answer::json_value(&apps)),
        ("/v2/queue", Answer::fixture(&format!("marathon/{version}/queue.json"))),
        ("/v2/deployments", Answer::fixture(&format!("marathon/{version}/deployments.json"))),
    ]
}

fn framework_id(version: &str) -> String {
    fixture_json(&format!("marathon/{version}/info.json"))["frameworkId"].as_str().unwrap().to_string()
}

fn replace_route(routes: &mut Vec<(&'static str, Answer)>, path: &'static str, answer: Answer) {
    routes.retain(|(p, _)| *p != path);
    routes.push((path, answer));
}

// ---------------------------------------------------------- marathon.leader

#[test]
fn marathon_of_every_version_registered_with_mesos_passes() {
    for version in ["v1.1.7", "v1.4.13", "master"] {
        let marathon = FakeServer::start(marathon_routes(version));
        let mesos = mesos_master(&state_with_marathon(&framework_id(version), true));
        let run = check(&["--only", "marathon.leader", "--marathon", &marathon.url(), "--mesos", &mesos.url()]);
        assert_eq!(run.status("marathon.leader"), "pass", "{version}: {:#}", run.report);
        assert!(run.reason("marathon.leader").contains(&framework_id(version)), "{}", run.reason("marathon.leader"));
        assert_eq!(run.code, 0);
        for path in ["/v2/info", "/v2/leader", "/v2/apps", "/v2/queue", "/v2/deployments"] {
            assert!(marathon.requested(path), "{version}: {path} was not asked");
        }
        let apps = marathon.requests().into_iter().find(|r| r.path() == "/v2/apps").unwrap();
        assert_eq!(apps.target, "/v2/apps?embed=apps.tasks");
        assert_read_only(&[&marathon, &mesos]);
    }
}

#[test]
fn the_apps_queue_and_deployments_of_every_version_land_in_the_snapshot() {
    for version in ["v1.1.7", "v1.4.13", "master"] {
        let marathon = FakeServer::start(marathon_routes(version));
        let mesos = mesos_master(&state_with_marathon(&framework_id(version), true));
        let facts = collect(&["--only", "marathon.leader", "--marathon", &marathon.url(), "--mesos", &mesos.url()]);
        let m = &facts["marathon"]["value"];
        let app = &m["apps"]["value"][0];
        assert_eq!(app["id"], "/myapp", "{version}: {m:#}");
        let ports: Vec<&Value> = app["port_definitions"].as_array().unwrap().iter().map(|p| &p["port"]).collect();
        assert_eq!(ports, [&json!(10013), &json!(10015)], "{version}");
        assert_eq!(app["constraints"][0], json!(["hostname", "UNIQUE", ""]));
        assert_eq!(app["network"], "host");
        let task = &app["tasks"][0];
        assert_eq!(task["host"], "srv7.hw.ca1.mesosphere.com");
        assert_eq!(task["ports"], json!([31756]));
        let queue = m["queue"]["value"].as_array().unwrap();
        assert_eq!(queue.len(), 2);
        assert_eq!(queue[0]["app"]["network"], "host", "docker HOST networking");
        assert_eq!(queue[1]["count"], 2);
        assert_eq!(queue[1]["offers"].is_null(), version == "v1.1.7", "offer summaries exist from 1.4");
        assert_eq!(m["deployments"]["value"][0]["affected_apps"], json!(["/foo"]));
        assert_eq!(m["leader"]["value"], m["info"]["value"]["leader"]);
        let agents = facts["mesos"]["value"]["state"]["value"]["agents"].as_array().unwrap();
        assert_eq!(agents[0]["resources"]["ports"], "[31000-32000]");
    }
}

#[test]
fn marathon_without_a_leader_fails() {
    let mut routes = marathon_routes("v1.4.13");
    replace_route(&mut routes, "/v2/leader", Answer::status(404, r#"{"message":"There is no leader"}"#));
    let marathon = FakeServer::start(routes);
    let run = check(&["--only", "marathon.leader", "--marathon", &marathon.url(), "--mesos", &closed_port_url()]);
    assert_eq!(run.status("marathon.leader"), "fail", "{:#}", run.report);
    let finding = run.finding("marathon.leader", 0);
    assert!(finding["message"].as_str().unwrap().contains("no leader"));
    assert!(evidence(finding).contains("/v2/leader: HTTP 404"), "{finding:#}");
    assert_eq!(
        remedies(finding),
        [
            ("journalctl -u marathon -n 200 --no-pager".into(), "safe".into()),
            ("systemctl restart marathon".into(), "disruptive".into())
        ]
    );
    assert_eq!(run.code, 2);
}

#[test]
fn an_inactive_marathon_framework_fails_with_its_evidence() {
    let id = framework_id("master");
    let marathon = FakeServer::start(marathon_routes("master"));
    let mesos = mesos_master(&state_with_marathon(&id, false));
    let run = check(&["--only", "marathon.leader", "--marathon", &marathon.url(), "--mesos", &mesos.url()]);
    assert_eq!(run.status("marathon.leader"), "fail");
    let finding = run.finding("marathon.leader", 0);
    assert!(finding["message"].as_str().unwrap().contains("not active"));
    let evidence = evidence(finding);
    assert!(evidence.contains(&id) && evidence.contains("active: false"), "{evidence}");
    assert!(remedies(finding).contains(&("systemctl restart marathon".into(), "disruptive".into())));
}

#[test]
fn marathon_missing_from_the_masters_frameworks_fails() {
    let marathon = FakeServer::start(marathon_routes("v1.1.7"));
    let mesos = mesos_master(&state_with_marathon("some-other-marathon-0000", true));
    let run = check(&["--only", "marathon.leader", "--marathon", &marathon.url(), "--mesos", &mesos.url()]);
    assert_eq!(run.status("marathon.leader"), "fail");
    let finding = run.finding("marathon.leader", 0);
    assert!(finding["message"].as_str().unwrap().contains("not registered"));
    let evidence = evidence(finding);
    assert!(evidence.contains(&framework_id("v1.1.7")), "{evidence}");
    assert!(evidence.contains("another framework named \"marathon\" is registered: some-other-marathon-0000"));
    assert_eq!(remedies(finding)[0].1, "safe");
}

// ------------------------------------------------------------- mesos.leader

#[test]
fn mesos_leader_passes_on_the_mesos_dns_state() {
    let mesos = mesos_master(&mesos_state(|_| {}));
    let run = check(&["--only", "mesos.leader", "--mesos", &mesos.url()]);
    assert_eq!(run.status("mesos.leader"), "pass", "{:#}", run.report);
    let note = run.reason("mesos.leader");
    assert!(note.contains("master@1.2.3.4:5050") && note.contains("4 agents active"), "{note}");
    assert_read_only(&[&mesos]);
}

/// Tasks are most of a big state's bytes: read only for a check that uses
/// them, and a snapshot taken without them says so, so that a check judging
/// it later cannot take "no tasks" for "none running".
#[test]
fn the_tasks_are_read_only_when_a_selected_check_uses_them() {
    let mesos = mesos_master(&mesos_state(|_| {}));
    let tasks = |facts: &Value| facts["mesos"]["value"]["state"]["value"]["frameworks"][0]["tasks"].clone();
    let without = collect(&["--only", "mesos.leader", "--mesos", &mesos.url()]);
    assert_eq!(tasks(&without), json!([]), "{without:#}");
    assert_eq!(without["mesos"]["value"]["state"]["value"]["tasks_skipped"], true);
    assert_eq!(without["mesos"]["value"]["state"]["value"]["agents"].as_array().unwrap().len(), 4);
    let with = collect(&["--only", "mesos.leader,flink.taskmanager-orphans", "--mesos", &mesos.url()]);
    assert_eq!(tasks(&with)[0]["state"], "TASK_RUNNING", "{with:#}");
    assert!(with["mesos"]["value"]["state"]["value"].get("tasks_skipped").is_none());

    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("without-tasks.json");
    let written = ["collect", "--only", "mesos.leader", "--mesos", &mesos.url(), "-o", snapshot.to_str().unwrap()];
    clusterdoc(dir.path()).args(written).assert().success();
    let only = ["--only", "flink.taskmanager-orphans", "--from", snapshot.to_str().unwrap()];
    let run = check(&only);
    assert_eq!(run.status("flink.taskmanager-orphans"), "error", "{:#}", run.report);
    let reason = run.reason("flink.taskmanager-orphans");
    assert!(reason.contains("read without its tasks"), "{reason}");
}

#[test]
fn the_apache_example_has_no_agents_and_fails() {
    let mesos = mesos_master(&fixture_json("mesos/apache-mesos_docs_endpoints_master_state_example.json"));
    let run = check(&["--only", "mesos.leader", "--mesos", &mesos.url()]);
    assert_eq!(run.status("mesos.leader"), "fail");
    let finding = run.finding("mesos.leader", 0);
    assert!(finding["message"].as_str().unwrap().contains("no agent is registered"));
    assert!(evidence(finding).contains("lists 0 agents"));
    assert_eq!(
        remedies(finding),
        [
            ("journalctl -u mesos-slave -n 200 --no-pager".into(), "safe".into()),
            ("systemctl restart mesos-slave".into(), "disruptive".into())
        ]
    );
}

#[test]
fn deactivated_agents_are_listed_as_a_warning() {
    let mesos = mesos_master(&mesos_state(|s| s["slaves"][1]["active"] = json!(false)));
    let run = check(&["--only", "mesos.leader", "--mesos", &mesos.url()]);
    assert_eq!(run.status("mesos.leader"), "warn", "{:#}", run.report);
    let finding = run.finding("mesos.leader", 0);
    assert!(finding["message"].as_str().unwrap().contains("1 of 4 agents are deactivated"));
    let agent = &fixture_json("mesos/mesos-dns_factories_fake_state.json")["slaves"][1];
    assert!(evidence(finding).contains(agent["id"].as_str().unwrap()));
    assert_eq!(remedies(finding)[0].0, "journalctl -u mesos-slave -n 200 --no-pager");
    assert_eq!(run.code, 1);
}

/// A follower named alone is followed to the leader (a protocol-relative
/// 307, as Mesos sends it); named together, both agree.
#[test]
fn a_follower_that_redirects_to_the_leader_agrees_with_it() {
    let leader = mesos_master(&mesos_state(|_| {}));
    let follower = FakeServer::start(vec![
        ("/master/state", Answer::redirect(307, &format!("//{}/master/state", leader.address()))),
        ("/master/health", Answer::status(200, "")),
        ("/metrics/snapshot", Answer::json_value(&json!({"master/elected": 0.0}))),
    ]);
    let alone = check(&["--only", "mesos.leader", "--mesos", &follower.url()]);
    assert_eq!(alone.status("mesos.leader"), "pass", "{:#}", alone.report);
    assert!(leader.requested("/master/state"), "the redirect was not followed to the leader");

    let both = check(&["--only", "mesos.leader", "--mesos", &format!("{},{}", follower.url(), leader.url())]);
    assert_eq!(both.status("mesos.leader"), "pass", "{:#}", both.report);
    assert!(both.reason("mesos.leader").contains("2 of 2 named masters agree"), "{}", both.reason("mesos.leader"));
    assert_read_only(&[&leader, &follower]);
}

/// Before Mesos 1.x a follower answered /master/state itself, naming the
/// leader's pid; named next to the leader it agrees (and no non-loopback
/// address is contacted: the leader is recognised by its pid).
#[test]
fn an_old_follower_naming_the_leaders_pid_agrees() {
    let leader = mesos_master(&mesos_state(|_| {}));
    let follower = mesos_master_elected(
        &mesos_state(|s| {
            s["pid"] = json!("master@9.9.9.9:5050");
            s["slaves"] = json!([]);
        }),
        false,
    );
    let run = check(&["--only", "mesos.leader", "--mesos", &format!("{},{}", follower.url(), leader.url())]);
    assert_eq!(run.status("mesos.leader"), "pass", "{:#}", run.report);
    assert!(run.reason("mesos.leader").contains("2 of 2 named masters agree"));
}

/// Two masters each saying they are elected, one naming the other: a split election.
#[test]
fn an_elected_follower_is_a_split_election() {
    let leader = mesos_master(&mesos_state(|_| {}));
    let follower = mesos_master(&mesos_state(|s| s["pid"] = json!("master@9.9.9.9:5050")));
    let run = check(&["--only", "mesos.leader", "--mesos", &format!("{},{}", follower.url(), leader.url())]);
    assert_eq!(run.status("mesos.leader"), "fail", "{:#}", run.report);
    let finding = run.finding("mesos.leader", 0);
    assert!(finding["message"].as_str().unwrap().contains("split election"));
    assert_eq!(evidence(finding), format!("{} says the leader is 1.2.3.4:5050 (master/elected = 1)", follower.url()));
    assert_eq!(remedies(finding)[0].1, "safe");
}

#[test]
fn a_leader_that_does_not_answer_fails() {
    let gone = closed_port_url();
    let follower = FakeServer::start(vec![(
        "/master/state",
        Answer::redirect(307, &format!("{}/master/state", gone.trim_start_matches("http:"))),
    )]);
    let run = check(&["--only", "mesos.leader", "--mesos", &follower.url()]);
    assert_eq!(run.status("mesos.leader"), "fail", "{:#}", run.report);
    let finding = run.finding("mesos.leader", 0);
    assert!(finding["message"].as_str().unwrap().contains("it does not answer"));
    let evidence = evidence(finding);
    assert!(evidence.contains(&format!("Mesos leader at {gone}: /master/state: connection refused")), "{evidence}");
    assert_eq!(remedies(finding)[1].0, "systemctl restart mesos-master");
}

#[test]
fn a_master_without_a_leader_503_fails() {
    let master = FakeServer::start(vec![("/master/state", Answer::status(503, "No leader elected"))]);
    let run = check(&["--only", "mesos.leader", "--mesos", &master.url()]);
    assert_eq!(run.status("mesos.leader"), "fail", "{:#}", run.report);
    let finding = run.finding("mesos.leader", 0);
    assert!(finding["message"].as_str().unwrap().contains("no master knows a leader"));
    assert!(evidence(finding).contains(&format!("{} knows no leader (HTTP 503", master.url())), "{finding:#}");
    assert_eq!(
        remedies(finding),
        [
            ("journalctl -u mesos-master -n 200 --no-pager".into(), "safe".into()),
            ("systemctl restart mesos-master".into(), "disruptive".into())
        ]
    );
}

// ------------------------------------------------------ --phase and --wait

#[test]
fn without_a_leader_preflight_skips_and_postflight_fails() {
    let master = FakeServer::start(vec![("/master/state", Answer::status(503, "No leader elected"))]);
    let mut routes = marathon_routes("v1.4.13");
    replace_route(&mut routes, "/v2/leader", Answer::status(404, r#"{"message":"There is no leader"}"#));
    let marathon = FakeServer::start(routes);
    let targets = ["--only", "mesos.leader,marathon.leader", "--mesos", &master.url(), "--marathon", &marathon.url()];
    let before = check(&[&targets[..], &["--phase", "preflight"]].concat());
    assert_eq!(before.report["phase"], "preflight");
    for id in ["mesos.leader", "marathon.leader"] {
        assert_eq!(before.status(id), "skip", "{:#}", before.report);
        assert!(before.reason(id).starts_with("preflight: "), "{}", before.reason(id));
    }
    assert_eq!(before.code, 0);
    let after = check(&[&targets[..], &["--phase", "postflight"]].concat());
    assert_eq!(after.report["phase"], "postflight");
    assert_eq!((after.status("mesos.leader"), after.status("marathon.leader"), after.code), ("fail", "fail", 2));
    assert!(after.finding("mesos.leader", 0)["message"].as_str().unwrap().contains("no master knows a leader"));
    // A master that cannot be reached at all is not yet started, in preflight.
    let closed = closed_port_url();
    let unstarted = check(&[
        "--only",
        "mesos.leader,marathon.leader",
        "--mesos",
        &closed,
        "--marathon",
        &closed,
        "--phase",
        "preflight",
        "--timeout",
        "1s",
    ]);
    assert_eq!(unstarted.status("mesos.leader"), "skip", "{:#}", unstarted.report);
    assert_eq!(unstarted.status("marathon.leader"), "skip", "{:#}", unstarted.report);
    assert!(unstarted.reason("marathon.leader").contains("Marathon does not answer"), "{:#}", unstarted.report);
}

#[test]
fn wait_returns_as_soon_as_the_master_leads() {
    let master = FakeServer::start(vec![("/master/state", Answer::status(503, "No leader elected"))]);
    let elected = mesos_state(|_| {});
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_secs(3));
            master.replace("/master/state", Answer::json_value(&elected));
            master.replace("/master/health", Answer::status(200, ""));
            master.replace("/metrics/snapshot", Answer::json_value(&json!({"master/elected": 1.0})));
        });
        let run = check(&["--only", "mesos.leader", "--mesos", &master.url(), "--wait", "5m", "--deadline", "120s"]);
        assert_eq!((run.status("mesos.leader"), run.code), ("pass", 0), "{:#}\n{}", run.report, run.stderr);
        assert!(run.stderr.contains("clusterdoc: waiting for mesos.leader ("), "{}", run.stderr);
        // Three seconds of no leader, a pause of two between runs: well
        // before the wait or the deadline, even on a loaded machine.
        assert!(run.took < Duration::from_secs(60), "took {:?}", run.took);
    });
    assert!(started.elapsed() >= Duration::from_secs(3));
}

#[test]
fn wait_never_outlasts_the_deadline() {
    let master = FakeServer::start(vec![("/master/state", Answer::status(503, "No leader elected"))]);
    let run = check(&["--only", "mesos.leader", "--mesos", &master.url(), "--wait", "10m", "--deadline", "8s"]);
    assert_eq!((run.status("mesos.leader"), run.code), ("fail", 2), "{:#}", run.report);
    assert!(run.took < Duration::from_secs(8) + cli_support::PAST_DEADLINE, "took {:?}", run.took);
    let asked = master.requests().iter().filter(|r| r.path() == "/master/state").count();
    assert!(asked >= 2, "the check ran again while it waited: {asked} requests");
}

#[test]
fn masters_that_disagree_fail_listing_who_says_what() {
    let m1 = mesos_master(&mesos_state(|_| {}));
    let m2 = mesos_master(&mesos_state(|s| {
        s["pid"] = json!("master@5.6.7.8:5050");
        s["leader"] = json!("master@5.6.7.8:5050");
    }));
    let run = check(&["--only", "mesos.leader,marathon.leader", "--mesos", &format!("{},{}", m1.url(), m2.url())]);
    assert_eq!(run.status("mesos.leader"), "fail", "{:#}", run.report);
    let finding = run.finding("mesos.leader", 0);
    assert!(finding["message"].as_str().unwrap().contains("disagree"));
    let evidence = evidence(finding);
    assert!(evidence.contains(&format!("{} says it leads (master@1.2.3.4:5050)", m1.url())), "{evidence}");
    assert!(evidence.contains(&format!("{} says it leads (master@5.6.7.8:5050)", m2.url())), "{evidence}");
    assert_eq!(remedies(finding)[1], ("systemctl restart mesos-master".into(), "disruptive".into()));
}

// ------------------------------------------------- absent, unreachable, bad

#[test]
fn implicit_defaults_that_do_not_answer_skip_and_name_the_flag() {
    for port in [5050, 8080] {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            panic!("something listens on 127.0.0.1:{port}; this test needs the implicit defaults to be absent");
        }
    }
    let run = check(&["--only", "mesos.leader,marathon.leader"]);
    assert_eq!(run.status("mesos.leader"), "skip");
    assert!(run.reason("mesos.leader").contains("--mesos URL or MESOS_MASTER"), "{}", run.reason("mesos.leader"));
    assert_eq!(run.status("marathon.leader"), "skip");
    assert!(run.reason("marathon.leader").contains("--marathon URL or MARATHON_URL"));
    assert_eq!(run.code, 0);
}

#[test]
fn named_targets_that_do_not_answer_are_errors_with_context() {
    let (mesos, marathon) = (closed_port_url(), closed_port_url());
    let run = check(&["--only", "mesos.leader,marathon.leader", "--mesos", &mesos, "--marathon", &marathon]);
    assert_eq!(run.status("mesos.leader"), "error");
    let expected = format!("Mesos master at {mesos}: /master/state: connection refused");
    assert!(run.reason("mesos.leader").contains(&expected), "{}", run.reason("mesos.leader"));
    assert_eq!(run.status("marathon.leader"), "error");
    assert_eq!(run.reason("marathon.leader"), format!("Marathon at {marathon}: /v2/info: connection refused"));
    assert_eq!(run.code, 3);
}

#[test]
fn a_body_that_never_finishes_ends_the_run_in_time() {
    let stalled =
        FakeServer::start(vec![("/v2/info", Answer::Stall { declared: 10_000, sent: b"{\"name\":".to_vec() })]);
    let trickling = FakeServer::start(vec![("/master/state", Answer::Trickle(Duration::from_millis(100)))]);
    let run = check(&[
        "--only",
        "mesos.leader,marathon.leader",
        "--marathon",
        &stalled.url(),
        "--mesos",
        &trickling.url(),
        "--timeout",
        "1s",
        "--deadline",
        "5s",
    ]);
    assert!(run.took < Duration::from_secs(5) + cli_support::PAST_DEADLINE, "the run took {:?}", run.took);
    assert_eq!(run.status("marathon.leader"), "error");
    assert!(
        run.reason("marathon.leader").contains("/v2/info: the body stalled after 8 bytes"),
        "{}",
        run.reason("marathon.leader")
    );
    assert_eq!(run.status("mesos.leader"), "error");
    // The state is parsed while it streams: a body that opens with `[` is
    // refused at once rather than at the deadline (a trickling `{` runs
    // into the deadline: see the http module's tests).
    let reason = run.reason("mesos.leader");
    assert!(reason.contains("/master/state: invalid JSON: expected `{` at line 1 column 1"), "{reason}");
}

#[test]
fn truncated_and_malformed_json_are_clear_errors() {
    let state = serde_json::to_vec(&mesos_state(|_| {})).unwrap();
    let master = FakeServer::start(vec![("/master/state", Answer::json(state[..5000].to_vec()))]);
    let mut routes = marathon_routes("v1.1.7");
    replace_route(&mut routes, "/v2/apps", Answer::fixture("marathon/v1.1.7/app.json"));
    let marathon = FakeServer::start(routes);
    let run = check(&["--only", "mesos.leader", "--mesos", &master.url()]);
    assert_eq!(run.status("mesos.leader"), "error");
    assert!(
        run.reason("mesos.leader").contains("/master/state: truncated JSON at line 1 column 5000"),
        "{}",
        run.reason("mesos.leader")
    );
    let facts = collect(&["--only", "marathon.leader", "--marathon", &marathon.url(), "--mesos", &master.url()]);
    let apps = &facts["marathon"]["value"]["apps"];
    assert_eq!(apps["state"], "failed");
    let error = apps["error"].as_str().unwrap();
    assert!(
        error.contains("/v2/apps?embed=apps.tasks: invalid JSON: expected `,` or `}` at line 81 column 7"),
        "{error}"
    );
}

#[test]
fn oversized_bodies_are_refused_while_they_stream() {
    let big = vec![b' '; 5 << 20];
    let mut routes = marathon_routes("v1.4.13");
    replace_route(&mut routes, "/v2/info", Answer::Chunked(big.clone()));
    replace_route(&mut routes, "/v2/leader", Answer::json(big));
    let marathon = FakeServer::start(routes);
    let facts = collect(&["--only", "marathon.leader", "--marathon", &marathon.url(), "--mesos", &closed_port_url()]);
    let m = &facts["marathon"]["value"];
    let expected = |path: &str| format!("Marathon at {}: {path}: body larger than 4 MiB; refused", marathon.url());
    assert_eq!(m["info"]["error"], expected("/v2/info"), "chunked, no Content-Length");
    assert_eq!(m["leader"]["error"], expected("/v2/leader"), "announced by Content-Length");
    assert_eq!(m["apps"]["state"], "observed", "the other endpoints are still read");
}

#[test]
fn a_redirect_loop_is_a_clear_error() {
    let marathon = FakeServer::start(vec![
        ("/v2/info", Answer::redirect(302, "/v2/elsewhere")),
        ("/v2/elsewhere", Answer::redirect(302, "/v2/info")),
    ]);
    let run = check(&["--only", "marathon.leader", "--marathon", &marathon.url(), "--mesos", &closed_port_url()]);
    assert_eq!(run.status("marathon.leader"), "error");
    let url = marathon.url();
    assert!(
        run.reason("marathon.leader")
            .contains(&format!("redirect loop: {url}/v2/info -> {url}/v2/elsewhere -> {url}/v2/info")),
        "{}",
        run.reason("marathon.leader")
    );
}

/// Credentials in URLs authenticate (Basic) against the named origin, never
/// follow a redirect to another one, and never appear in any output.
#[test]
fn credentials_in_urls_are_used_and_never_printed() {
    let leader = mesos_master(&state_with_marathon(&framework_id("v1.4.13"), true));
    let follower = FakeServer::start(vec![
        ("/master/state", Answer::redirect(307, &format!("//{}/master/state", leader.address()))),
        ("/master/health", Answer::status(200, "")),
    ]);
    let mut routes = marathon_routes("v1.4.13");
    let info = routes.iter().find(|(p, _)| *p == "/v2/info").unwrap().1.clone();
    replace_route(&mut routes, "/v2/info", Answer::redirect(302, "/v2/info-moved"));
    routes.push(("/v2/info-moved", info));
    let marathon = FakeServer::start(routes);
    let targets = [
        "--only",
        "marathon.leader,mesos.leader",
        "--marathon",
        &marathon.url_with_credentials("admin", PASSWORD),
        "--mesos",
        &follower.url_with_credentials("admin", PASSWORD),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for format in ["json", "human"] {
        let out = clusterdoc(dir.path()).args(["check", "-v", "--format", format]).args(targets).output().unwrap();
        outputs.push(String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr));
    }
    let out = clusterdoc(dir.path()).arg("collect").args(targets).output().unwrap();
    outputs.push(String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr));
    let unreachable =
        check(&["--only", "marathon.leader", "--marathon", &format!("http://admin:{PASSWORD}@127.0.0.1:9")]);
    outputs.push(unreachable.stdout + &unreachable.stderr);
    for output in &outputs {
        assert!(!output.contains(PASSWORD) && !output.contains(BASIC_AUTH), "a credential leaked:\n{output}");
    }
    assert!(outputs[0].contains("\"status\": \"pass\""), "{}", outputs[0]);

    let auth = |server: &FakeServer, path: &str| {
        let request = server.requests().into_iter().find(|r| r.path() == path).unwrap();
        request.header("authorization").map(String::from)
    };
    let basic = Some(format!("Basic {BASIC_AUTH}"));
    assert_eq!(auth(&marathon, "/v2/info"), basic);
    assert_eq!(auth(&marathon, "/v2/info-moved"), basic, "same-origin redirects keep the credentials");
    assert_eq!(auth(&follower, "/master/state"), basic);
    assert_eq!(auth(&leader, "/master/state"), None, "a 307 to another host must not carry the credentials");
}

/// What `collect` saw, `check --from` judges the same way: leadership,
/// master answers, agents and frameworks survive the snapshot.
#[test]
fn a_snapshot_replays_the_same_verdicts() {
    let id = framework_id("v1.4.13");
    let leader = mesos_master(&mesos_state(|s| {
        s["slaves"][2]["active"] = json!(false);
        s["frameworks"][0]["id"] = json!(id);
        s["frameworks"][0]["active"] = json!(false);
    }));
    let follower = FakeServer::start(vec![(
        "/master/state",
        Answer::redirect(307, &format!("//{}/master/state", leader.address())),
    )]);
    let marathon = FakeServer::start(marathon_routes("v1.4.13"));
    let mesos = format!("{},{}", follower.url(), leader.url());
    let targets = ["--only", "marathon.leader,mesos.leader", "--marathon", &marathon.url(), "--mesos", &mesos];
    let direct = check(&targets);
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot.json");
    clusterdoc(dir.path()).arg("collect").args(targets).arg("-o").arg(&snapshot).assert().success();
    let replay = check(&["--from", snapshot.to_str().unwrap()]);
    for id in ["marathon.leader", "mesos.leader"] {
        assert_eq!(replay.check(id)["findings"], direct.check(id)["findings"], "{id}");
        assert_eq!(replay.status(id), direct.status(id));
    }
    assert_eq!((direct.status("marathon.leader"), direct.status("mesos.leader")), ("fail", "warn"));
}

/// A real TLS server: `openssl s_server -WWW` with a certificate signed by a
/// CA made for the test, serving Marathon's /v2/info.
struct TlsServer {
    child: std::process::Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("the TLS test needs the openssl command line tool: {e}"));
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn tls_marathon() -> TlsServer {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem"]
            .into_iter()
            .chain(["-days", "1", "-subj", "/CN=clusterdoc test CA"])
            .collect::<Vec<_>>(),
    );
    openssl(
        d,
        &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"],
    );
    std::fs::write(d.join("leaf.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    openssl(
        d,
        &["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"]
            .into_iter()
            .chain(["-out", "leaf.pem", "-days", "1", "-extfile", "leaf.ext"])
            .collect::<Vec<_>>(),
    );
    std::fs::create_dir_all(d.join("www/v2")).unwrap();
    std::fs::write(d.join("www/v2/info"), http::fixture_bytes("marathon/v1.4.13/info.json")).unwrap();
    let address = closed_port_url().trim_start_matches("http://").to_string();
    let child = std::process::Command::new("openssl")
        .args(["s_server", "-accept", &address, "-cert", "../leaf.pem", "-key", "../leaf.key", "-WWW", "-quiet"])
        .current_dir(d.join("www"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start openssl s_server");
    let server = TlsServer { child, url: format!("https://{address}"), dir };
    let ready = Instant::now();
    while std::net::TcpStream::connect(&address).is_err() {
        assert!(ready.elapsed() < Duration::from_secs(5), "openssl s_server did not listen on {address}");
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

#[test]
fn https_endpoints_are_verified_against_ca_cert_or_not_with_insecure() {
    let server = tls_marathon();
    let ca = server.dir.path().join("ca.pem");
    let info = |extra: &[&str]| {
        let mut args = vec!["--only", "marathon.leader", "--marathon", &server.url, "--mesos"];
        let closed = closed_port_url();
        args.push(&closed);
        args.extend(extra);
        collect(&args)["marathon"]["value"]["info"].clone()
    };
    let untrusted = info(&[]);
    let error = untrusted["error"].as_str().unwrap_or_else(|| panic!("{untrusted:#}"));
    assert!(error.contains("/v2/info: TLS handshake failed: invalid peer certificate: UnknownIssuer"), "{error}");
    assert!(error.contains("--ca-cert FILE") && error.contains("--insecure"), "{error}");
    assert_eq!(info(&["--ca-cert", ca.to_str().unwrap()])["value"]["version"], "1.4.8");
    assert_eq!(info(&["--insecure"])["value"]["version"], "1.4.8");
    let not_pem = info(&["--ca-cert", server.dir.path().join("leaf.key").to_str().unwrap()]);
    assert!(not_pem.to_string().contains("no PEM certificate"), "{not_pem:#}");
}

// ----------------------------------------------------- facts via the library

fn gatherer(args: clusterdoc::cli::RunArgs) -> clusterdoc::facts::Gatherer {
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("empty.toml");
    std::fs::write(&config_file, "").unwrap();
    let args = clusterdoc::cli::RunArgs { config: Some(config_file), timeout: Some("2s".into()), ..args };
    let cfg = clusterdoc::config::Config::resolve(args.config.as_deref(), &args.settings()).unwrap();
    clusterdoc::facts::Gatherer::new(Arc::new(cfg), tokio::time::Instant::now() + Duration::from_secs(10))
}

fn flink_jobmanager() -> FakeServer {
    // Shapes of Flink 1.2's web monitor (no upstream fixture is stored).
    FakeServer::start(vec![
        (
            "/config",
            Answer::json_value(
                &json!({"refresh-interval": 3000, "flink-version": "1.2.0", "flink-revision": "1c659cf"}),
            ),
        ),
        (
            "/overview",
            Answer::json_value(&json!({"taskmanagers": 2, "slots-total": 4, "slots-available": 1, "jobs-running": 1,
                "jobs-finished": 0, "jobs-cancelled": 0, "jobs-failed": 0, "flink-version": "1.2.0"})),
        ),
        (
            "/taskmanagers",
            Answer::json_value(
                &json!({"taskmanagers": [{"id": "tm-1", "path": "akka.tcp://flink@10.0.0.7:41234/user/taskmanager",
                "dataPort": 37213, "timeSinceLastHeartbeat": 1_485_000_000_000u64, "slotsNumber": 2, "freeSlots": 0,
                "cpuCores": 8, "physicalMemory": 16_000_000_000u64}]}),
            ),
        ),
        (
            "/jobmanager/config",
            Answer::json_value(&json!([{"key": "jobmanager.rpc.address", "value": "SZV1000265118"},
                {"key": "jobmanager.rpc.port", "value": "6123"}])),
        ),
    ])
}

#[tokio::test]
async fn flink_facts_come_from_each_named_jobmanager() {
    let jobmanager = flink_jobmanager();
    let g = gatherer(clusterdoc::cli::RunArgs { flink: vec![jobmanager.url()], ..Default::default() });
    let flink = g.flink().await.value().expect("observed").clone();
    assert_eq!(flink.version(), Some(clusterdoc::version::Version::new(1, 2, 0)));
    let endpoint = &flink.endpoints[0];
    assert_eq!(endpoint.overview.value().unwrap().slots_available, 1);
    let tm = &endpoint.taskmanagers.value().unwrap()[0];
    assert_eq!((tm.id.as_str(), tm.data_port, tm.slots_number), ("tm-1", Some(37213), 2));
    let config = endpoint.jobmanager_config.value().unwrap();
    assert_eq!(config["jobmanager.rpc.address"], "SZV1000265118");
    assert_read_only(&[&jobmanager]);
}

#[tokio::test]
async fn flink_absent_or_unreachable_says_why() {
    let none = gatherer(clusterdoc::cli::RunArgs::default());
    assert_eq!(none.flink().await.problem(), Some("no Flink endpoint (name one with --flink URL)"));
    let url = closed_port_url();
    let unreachable = gatherer(clusterdoc::cli::RunArgs { flink: vec![url.clone()], ..Default::default() });
    let fact = unreachable.flink().await;
    assert!(matches!(fact, clusterdoc::facts::Fact::Failed { .. }));
    assert_eq!(fact.problem().unwrap(), format!("Flink JobManager at {url}: /config: connection refused"));
}
