//! `zk.quorum` and `zk.marathon-reuse` end to end: the clusterdoc binary
//! against real ZooKeeper servers, seeded with the bytes and election nodes
//! each Marathon version writes (ephemeral nodes held by this test's session).

mod support;

use crate::support::cli as cli_support;
use crate::support::http::{Answer, FakeServer, fixture_json};
use crate::support::marathon_zk;
use crate::support::zk;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use cli_support::{PAST_DEADLINE, ReadReport, Run, assert_evidence, assert_fix};
use marathon_zk::{Seeder, V1_3_8, V1_4_13_PERSISTENCE, V1_6_0_PERSISTENCE, V18_200_0_PERSISTENCE};
use serde_json::Value;
use zk::{Ensemble, ZkServer, free_ports};

// ---------------------------------------------------------------------------
// Running clusterdoc and reading its JSON report
// ---------------------------------------------------------------------------

async fn clusterdoc(args: &[&str]) -> Run {
    let cwd = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let output = tokio::process::Command::from(cli_support::plain(cwd.path()))
        .args(["check", "--only", "zk.", "--format", "json"])
        .args(args)
        .output()
        .await
        .expect("run clusterdoc");
    Run::of(output, started.elapsed())
}

impl Run {
    /// The check's status, asserted, and the check for further assertions.
    fn expect(&self, id: &str, status: &str) -> &Value {
        let check = self.check(id);
        assert_eq!(check["status"], status, "{id}: {check:#}");
        check
    }
}

/// The finding with this status whose message contains `part`.
fn finding<'a>(check: &'a Value, status: &str, part: &str) -> &'a Value {
    check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == status && f["message"].as_str().unwrap().contains(part))
        .unwrap_or_else(|| panic!("no {status} finding saying {part:?} in {check:#}"))
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    free_ports(1)[0]
}

/// `zk.` checks against one path, with Marathon named but absent so only the
/// expected version (if any) says what is deployed.
async fn reuse(server: &ZkServer, path: &str, expect: Option<&str>) -> Run {
    let zk_url = format!("zk://{}{path}", server.address());
    let marathon = format!("http://127.0.0.1:{}", closed_port());
    let mut args = vec!["--zk", &zk_url, "--marathon", &marathon];
    if let Some(version) = expect {
        args.extend(["--expect-marathon-version", version]);
    }
    clusterdoc(&args).await
}

/// A Marathon on loopback that answers `/v2/info` with the upstream 1.4.13
/// example (version 1.4.8) and 404 to everything else.
fn marathon_1_4() -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request_line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let _ = reader.read_line(&mut request_line);
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let (status, body) = if request_line.starts_with("GET /v2/info ") {
                ("200 OK", include_str!("fixtures/marathon/v1.4.13/info.json"))
            } else {
                ("404 Not Found", "{}")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

// ---------------------------------------------------------------------------
// zk.marathon-reuse
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_versions_against_the_version_being_deployed() {
    let server = ZkServer::standalone("srvr,mntr,ruok");
    let seed = Seeder::connect(&server.address()).await;
    seed.marathon_1_1("/v11/marathon", "m1.example:8080").await;
    seed.marathon_1_3("/v13/marathon").await;
    seed.marathon_nested("/v14/marathon", V1_4_13_PERSISTENCE, "m4.example:8080").await;
    seed.marathon_nested("/v16/marathon", V1_6_0_PERSISTENCE, "m6.example:8080").await;
    seed.marathon_nested("/v18/marathon", V18_200_0_PERSISTENCE, "m8.example:8080").await;
    seed.put("/empty/marathon/leader-curator", b"").await;
    let delete = format!("zkCli.sh -server {} deleteall", server.address());

    // No path, or only empty directories: a fresh start.
    let run = reuse(&server, "/fresh/marathon", Some("1.8.0")).await;
    assert!(run.expect("zk.marathon-reuse", "pass")["reason"].as_str().unwrap().contains("fresh path"));
    let quorum = run.expect("zk.quorum", "warn");
    let standalone = finding(quorum, "warn", "standalone server: no high availability");
    assert_evidence(standalone, "Mode: standalone");
    assert_eq!(run.code, 1);
    reuse(&server, "/empty/marathon", Some("1.8.0")).await.expect("zk.marathon-reuse", "pass");

    // The same release line: pass, whatever the patch level.
    for (path, deployed) in [
        ("/v11/marathon", "1.1.10"),
        ("/v13/marathon", "1.3.13"),
        ("/v14/marathon", "1.4.13"),
        ("/v16/marathon", "1.6.322"),
        ("/v18/marathon", "1.8.194"),
    ] {
        let run = reuse(&server, path, Some(deployed)).await;
        let check = run.expect("zk.marathon-reuse", "pass");
        assert!(check["findings"].as_array().unwrap().is_empty(), "{path} {deployed}: {check:#}");
    }

    // Stored newer than deployed: Marathon refuses to downgrade.
    let run = reuse(&server, "/v18/marathon", Some("1.6.0")).await;
    let check = run.expect("zk.marathon-reuse", "fail");
    let newer = finding(check, "fail", "newer than 1.6.0 being deployed");
    assert_evidence(
        newer,
        "/v18/marathon/state/internal:storage:version: 18.200.0 (Marathon 1.8, PERSISTENCE_STORE format)",
    );
    assert_evidence(newer, "--expect-marathon-version 1.6.0");
    assert_fix(newer, &format!("marathon --zk zk://{}/v18/marathon-1.6", server.address()), "safe");
    assert_fix(newer, "zkCli.sh -server", "safe");
    assert_fix(newer, &format!("{delete} /v18/marathon"), "destructive");
    assert_eq!(run.code, 2);
    let run = reuse(&server, "/v13/marathon", Some("1.1.10")).await;
    finding(run.expect("zk.marathon-reuse", "fail"), "fail", "holds data of Marathon 1.3, newer than 1.1.10");

    // Deployed needs a newer starting point than stored: name the steps.
    let run = reuse(&server, "/v11/marathon", Some("1.5.0")).await;
    let check = run.expect("zk.marathon-reuse", "fail");
    let steps = finding(check, "fail", "needs at least 1.4.0 in the PERSISTENCE_STORE format");
    assert!(steps["message"].as_str().unwrap().contains("upgrade through 1.3, 1.4 first"), "{steps:#}");
    assert_evidence(steps, "1.1.10 (Marathon 1.1, LEGACY format)");
    assert_fix(steps, &format!("{delete} /v11/marathon"), "destructive");
    // ...and the live 1.1 candidate would keep a leader beside 1.5's.
    let election = finding(check, "fail", "live twitter-commons candidate(s) while Marathon 1.5");
    assert_evidence(election, "/v11/marathon/leader/member_0000000000: m1.example:8080 (ephemeral, session 0x");
    assert_fix(election, "sudo systemctl stop marathon", "disruptive");
    let run = reuse(&server, "/v14/marathon", Some("1.8.0")).await;
    let steps = finding(run.expect("zk.marathon-reuse", "fail"), "fail", "needs at least 1.6.0");
    assert!(steps["message"].as_str().unwrap().contains("upgrade through 1.5, 1.6, 1.7 first"), "{steps:#}");

    // Stored older and the upgrade supported: migrated in place.
    for (path, deployed, from) in [
        ("/v11/marathon", "1.3.13", "Marathon 1.1"),
        ("/v13/marathon", "1.4.1", "Marathon 1.3"),
        ("/v14/marathon", "1.7.0", "Marathon 1.4"),
        ("/v16/marathon", "1.10.0", "Marathon 1.6"),
        ("/v18/marathon", "1.9.0", "Marathon 1.8"),
    ] {
        let run = reuse(&server, path, Some(deployed)).await;
        let check = run.expect("zk.marathon-reuse", "warn");
        let upgrade = finding(check, "warn", &format!("will migrate the data of {from} in place"));
        assert!(upgrade["message"].as_str().unwrap().contains("stop every old instance first"));
        assert_fix(upgrade, &format!("zkCli.sh -server {} ls -R {path}", server.address()), "safe");
        assert_fix(upgrade, "sudo systemctl stop marathon", "disruptive");
    }
    let run = reuse(&server, "/v14/marathon", Some("1.7.0")).await;
    let skipping = finding(run.check("zk.marathon-reuse"), "warn", "not to skip releases (1.5, 1.6 lie between)");
    assert_evidence(skipping, "/v14/marathon/state/internal:storage:version: 1.4.13 (Marathon 1.4, PERSISTENCE_STORE");

    // A snapshot taken now and judged later (with the expectation named then) gives the same verdict.
    let snapshot = tempfile::NamedTempFile::new().unwrap();
    let zk_url = format!("zk://{}/v18/marathon", server.address());
    let marathon = format!("http://127.0.0.1:{}", closed_port());
    let cwd = tempfile::tempdir().unwrap();
    let collected = tokio::process::Command::from(cli_support::plain(cwd.path()))
        .args(["collect", "--only", "zk.", "--zk", &zk_url, "--marathon", &marathon, "-o"])
        .arg(snapshot.path())
        .status()
        .await
        .unwrap();
    assert!(collected.success());
    let replay = clusterdoc(&["--from", snapshot.path().to_str().unwrap(), "--expect-marathon-version", "1.6.0"]).await;
    let newer = finding(replay.expect("zk.marathon-reuse", "fail"), "fail", "newer than 1.6.0 being deployed");
    assert_fix(newer, &format!("{delete} /v18/marathon"), "destructive");

    // No version named: the running Marathon's /v2/info says what is deployed.
    let marathon = marathon_1_4();
    for (path, status) in [("/v14/marathon", "pass"), ("/v11/marathon", "warn")] {
        let zk_url = format!("zk://{}{path}", server.address());
        let run = clusterdoc(&["--zk", &zk_url, "--marathon", &marathon]).await;
        let check = run.expect("zk.marathon-reuse", status);
        assert!(check["reason"].as_str().unwrap().contains("deploying 1.4.8"), "{check:#}");
    }
    let run = clusterdoc(&["--zk", &format!("zk://{}/v11/marathon", server.address()), "--marathon", &marathon]).await;
    let upgrade =
        finding(run.check("zk.marathon-reuse"), "warn", "Marathon 1.4.8 will migrate the data of Marathon 1.1");
    assert_evidence(upgrade, &format!("Marathon at {marathon} reports version 1.4.8"));

    // No deployed version known (Marathon named but absent): warn, still say what is stored.
    let run = reuse(&server, "/v16/marathon", None).await;
    let unknown = finding(run.expect("zk.marathon-reuse", "warn"), "warn", "the version being deployed is not known");
    assert!(unknown["message"].as_str().unwrap().contains("--expect-marathon-version"));
    assert_evidence(unknown, "1.6.0 (Marathon 1.6, PERSISTENCE_STORE format)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_elections_interrupted_migration_and_garbage() {
    // The default 3.5+ whitelist: srvr only.
    let server = ZkServer::standalone("srvr");
    let seed = Seeder::connect(&server.address()).await;

    // A 1.1 instance (twitter-commons) and a 1.4 instance (Curator) both live.
    seed.marathon_nested("/two/marathon", V1_4_13_PERSISTENCE, "new.example:8080").await;
    seed.candidate("/two/marathon/leader/member_", "old.example:8080").await;
    let run = reuse(&server, "/two/marathon", Some("1.4.13")).await;
    let check = run.expect("zk.marathon-reuse", "fail");
    let both = finding(check, "fail", "live candidates in both leader elections");
    assert_evidence(both, "/two/marathon/leader/member_0000000000: old.example:8080");
    assert_evidence(
        both,
        "/two/marathon/leader-curator/_c_6f1d7b9e-3a52-4c1e-9c55-0c2f8e0b7a11-latch-0000000000: new.example:8080",
    );
    let stop = &both["remediation"][0];
    assert_eq!(stop["command"], "sudo systemctl stop marathon");
    assert_eq!(stop["risk"], "disruptive");
    let stopped_on: Vec<&Value> = both["remediation"].as_array().unwrap().iter().map(|r| &r["host"]).collect();
    assert_eq!(stopped_on, ["old.example"], "{both:#}");
    assert_eq!(run.code, 2);
    // mntr and ruok refused by the whitelist: reported as such, not as health.
    let refused = finding(run.expect("zk.quorum", "warn"), "warn", "mntr, ruok refused");
    assert!(refused["message"].as_str().unwrap().contains("a refusal is not health"));
    assert_evidence(refused, "mntr is not executed because it is not in the whitelist");
    assert_fix(refused, "4lw.commands.whitelist=srvr,mntr,ruok", "safe");
    assert_fix(refused, "sudo systemctl restart zookeeper", "disruptive");

    // Tombstones are not candidates: a 1.3 leader alone passes.
    seed.marathon_1_3("/tomb/marathon").await;
    reuse(&server, "/tomb/marathon", Some("1.3.8")).await.expect("zk.marathon-reuse", "pass");

    // An interrupted migration.
    seed.marathon_nested("/mig/marathon", V1_4_13_PERSISTENCE, "m4.example:8080").await;
    seed.put("/mig/marathon/state/migration-in-progress", b"").await;
    let run = reuse(&server, "/mig/marathon", Some("1.4.13")).await;
    let interrupted = finding(run.expect("zk.marathon-reuse", "fail"), "fail", "a storage migration was interrupted");
    assert_evidence(interrupted, "/mig/marathon/state/migration-in-progress: present since 20");
    assert_fix(interrupted, "ls -R /mig/marathon", "safe");

    // Garbage in the version node: an error naming the size, never a pass.
    seed.nested_state("/junk/marathon", V1_4_13_PERSISTENCE).await;
    seed.client
        .set_data("/junk/marathon/state/internal:storage:version", b"\xff\xfe not protobuf", None)
        .await
        .unwrap();
    let run = reuse(&server, "/junk/marathon", Some("1.4.13")).await;
    let junk = finding(run.expect("zk.marathon-reuse", "error"), "error", "cannot be decoded (15 bytes)");
    assert_evidence(junk, "internal:storage:version: 15 bytes, not a ZKStoreEntry");
    assert_evidence(junk, "expected a protobuf ZKStoreEntry whose value is a StorageVersion");
    assert_fix(junk, "get /junk/marathon/state/internal:storage:version", "safe");
    assert_eq!(run.code, 3);

    // Flat entries in a tree whose version says 1.4+: two versions wrote here.
    seed.flat_state("/mixed/marathon", V1_4_13_PERSISTENCE).await;
    let run = reuse(&server, "/mixed/marathon", Some("1.4.13")).await;
    let mixed = finding(run.expect("zk.marathon-reuse", "warn"), "warn", "the state layout does not match");
    assert_evidence(mixed, "flat layout (Marathon <= 1.3)");
}

// ---------------------------------------------------------------------------
// zk.quorum
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_one_leader_then_quorum_lost() {
    let mut ensemble = Ensemble::start(3);
    let all = format!("zk://{}/marathon", ensemble.addresses());
    let run = clusterdoc(&["--skip", "zk.marathon-reuse", "--zk", &all]).await;
    let check = run.expect("zk.quorum", "pass");
    let note = check["reason"].as_str().unwrap();
    assert_eq!(note.matches(" leader").count(), 1, "{note}");
    assert_eq!(note.matches(" follower").count(), 2, "{note}");
    assert_eq!(run.code, 0);

    // Two of three named: clients cannot fail over to the third.
    let two = format!("zk://{},{}/marathon", ensemble.servers[0].address(), ensemble.servers[1].address());
    let run = clusterdoc(&["--skip", "zk.marathon-reuse", "--zk", &two]).await;
    let partial = finding(run.expect("zk.quorum", "warn"), "warn", "the URL names 2 of the 3 voting servers");
    assert_evidence(partial, "zk_quorum_size 3");

    // Two servers gone: they fail with the cause, the third stops serving.
    ensemble.servers[0].kill();
    ensemble.servers[1].kill();
    ensemble.servers[2].wait_until(Duration::from_secs(20), |a| a.contains("not currently serving"));
    let run = clusterdoc(&["--skip", "zk.marathon-reuse", "--zk", &all]).await;
    let check = run.expect("zk.quorum", "fail");
    for gone in &ensemble.servers[..2] {
        let down = check["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["subject"] == format!("ZooKeeper {}", gone.address()))
            .unwrap_or_else(|| panic!("no finding about {} in {check:#}", gone.address()));
        assert_eq!(
            (&down["status"], &down["message"]),
            (&"fail".into(), &"does not answer: connection refused".into())
        );
        assert_eq!(down["evidence"][0], format!("srvr to {}: connection refused", gone.address()));
        assert_fix(down, "sudo systemctl start zookeeper", "disruptive");
    }
    let stuck = finding(check, "fail", "running but not serving requests");
    assert_eq!(stuck["subject"], format!("ZooKeeper {}", ensemble.servers[2].address()));
    assert_evidence(stuck, "This ZooKeeper instance is not currently serving requests");
    assert_fix(stuck, "journalctl -u zookeeper", "safe");
    assert_eq!(run.code, 2);
}

// ---------------------------------------------------------------------------
// Unreachable, silent and implicit targets (no JVM)
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_never_speaks_does_not_hang_the_run() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept and hold every connection without a word.
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().collect();
        drop(held);
    });
    let url = format!("zk://127.0.0.1:{port}/marathon");
    let marathon = format!("http://127.0.0.1:{}", closed_port());
    let started = Instant::now();
    let run = clusterdoc(&["--zk", &url, "--marathon", &marathon, "--timeout", "500ms", "--deadline", "3s"]).await;
    assert!(started.elapsed() < Duration::from_secs(3) + PAST_DEADLINE, "took {:?}", started.elapsed());
    let silent = finding(run.expect("zk.quorum", "fail"), "fail", "no answer to srvr within 500ms");
    assert_fix(silent, "sudo systemctl start zookeeper", "disruptive");
    let reuse = run.expect("zk.marathon-reuse", "error");
    assert!(reuse["reason"].as_str().unwrap().contains(&format!("no ZooKeeper server of {url} answers")), "{reuse:#}");

    // A timeout longer than the deadline: the deadline wins.
    let started = Instant::now();
    let run = clusterdoc(&["--zk", &url, "--marathon", &marathon, "--timeout", "30s", "--deadline", "2s"]).await;
    // Ended by the 2 s deadline, not by the 30 s timeout.
    assert!(started.elapsed() < Duration::from_secs(2) + PAST_DEADLINE, "took {:?}", started.elapsed());
    let quorum = run.expect("zk.quorum", "error");
    assert!(quorum["reason"].as_str().unwrap().contains("deadline"), "{quorum:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_ensemble_that_refuses_fails_an_implicit_one_skips() {
    let url = format!("zk://127.0.0.1:{}/marathon", closed_port());
    let marathon = format!("http://127.0.0.1:{}", closed_port());
    let run = clusterdoc(&["--zk", &url, "--marathon", &marathon]).await;
    let refused = run.expect("zk.quorum", "fail");
    finding(refused, "fail", "connection refused");
    run.expect("zk.marathon-reuse", "error");

    // The implicit default is not probed under --root: skip, saying how to name one.
    let root = tempfile::tempdir().unwrap();
    let run = clusterdoc(&["--root", root.path().to_str().unwrap(), "--marathon", &marathon]).await;
    for id in ["zk.quorum", "zk.marathon-reuse"] {
        let check = run.expect(id, "skip");
        assert!(check["reason"].as_str().unwrap().contains("--zk URL or MARATHON_ZK"), "{check:#}");
    }
    assert_eq!(run.code, 0);
}

// ---------------------------------------------------------------------------
// marathon.framework-id
// ---------------------------------------------------------------------------

const REMOVED_ID: &str = "7c5d1f0e-3b6a-4f0e-9a51-1d2c3b4a5f60-0007";
const UNKNOWN_ID: &str = "0b9d3a41-6c1e-4f59-8e2a-5d7f1c3b9a20-0001";

/// A leading Mesos 1.11.0 master (its real `/master/state`) running the
/// incident's Marathon framework, with a removed one in
/// `completed_frameworks`.
fn leading_master() -> FakeServer {
    let mut state = fixture_json("mesos-real/1.11.0-master_state.json");
    let running = fixture_json("incident/mesos/master_state.json")["frameworks"][0].clone();
    assert_eq!(running["id"], marathon_zk::MARATHON_FRAMEWORK_ID, "the incident's Marathon framework");
    let mut removed = running.clone();
    removed["id"] = REMOVED_ID.into();
    removed["active"] = false.into();
    removed["tasks"] = serde_json::json!([]);
    state["frameworks"] = serde_json::json!([running]);
    state["completed_frameworks"] = serde_json::json!([removed]);
    FakeServer::start(vec![("/master/state", Answer::json_value(&state))])
}

async fn framework_id(server: &ZkServer, path: &str, master: &FakeServer) -> Run {
    let cwd = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let zk_url = format!("zk://{}{path}", server.address());
    let output = tokio::process::Command::from(cli_support::plain(cwd.path()))
        .args(["check", "--only", "marathon.framework-id", "--format", "json", "--zk", &zk_url])
        .args(["--mesos", &master.url()])
        .output()
        .await
        .expect("run clusterdoc");
    Run::of(output, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_framework_ids_against_the_leading_master() {
    let server = ZkServer::standalone("srvr,mntr,ruok");
    let master = leading_master();
    let seed = Seeder::connect(&server.address()).await;
    let servers = server.address();
    // Marathon 1.4 and 1.3 under the id the master runs: pass.
    seed.nested_state("/v14/marathon", V1_4_13_PERSISTENCE).await;
    seed.flat_state("/v13/marathon", V1_3_8).await;
    // 1.4 whose framework Mesos removed.
    seed.nested_state("/removed/marathon", V1_4_13_PERSISTENCE).await;
    seed.client
        .set_data("/removed/marathon/state/framework-id/b/id", &marathon_zk::framework_id(REMOVED_ID), None)
        .await
        .unwrap();
    // 1.3 under an id the master has never seen.
    seed.flat_state("/unknown/marathon", V1_3_8).await;
    seed.client
        .set_data("/unknown/marathon/state/framework:id", &marathon_zk::flat_framework_id(UNKNOWN_ID), None)
        .await
        .unwrap();
    // 1.4 that lost its id but keeps an instance.
    seed.nested_state("/lost/marathon", V1_4_13_PERSISTENCE).await;
    seed.client.delete("/lost/marathon/state/framework-id/b/id", None).await.unwrap();
    // An id node that is not a FrameworkID.
    seed.nested_state("/garbage/marathon", V1_4_13_PERSISTENCE).await;
    seed.client.set_data("/garbage/marathon/state/framework-id/b/id", b"\xff\xfe-not-a-protobuf", None).await.unwrap();

    for path in ["/v14/marathon", "/v13/marathon"] {
        let run = framework_id(&server, path, &master).await;
        let check = run.expect("marathon.framework-id", "pass");
        assert!(check["reason"].as_str().unwrap().contains("master@127.0.0.1:15051"), "{path}: {check:#}");
        assert_eq!(run.code, 0, "{path}");
    }

    let run = framework_id(&server, "/removed/marathon", &master).await;
    let removed = finding(run.expect("marathon.framework-id", "fail"), "fail", "Mesos has removed framework");
    assert_evidence(removed, &format!("/removed/marathon/state/framework-id/b/id: {REMOVED_ID}"));
    assert_evidence(removed, &format!("master@127.0.0.1:15051 completed_frameworks: {REMOVED_ID} (marathon)"));
    assert_fix(removed, "sudo systemctl stop marathon", "disruptive");
    assert_fix(
        removed,
        &format!("docker run --rm -it mesosphere/marathon-storage-tool:1.4.13 --zk zk://{servers}/removed/marathon"),
        "destructive",
    );
    assert_eq!(run.code, 2);

    let run = framework_id(&server, "/unknown/marathon", &master).await;
    let unknown =
        finding(run.expect("marathon.framework-id", "warn"), "warn", "not registered with the leading master");
    assert_evidence(unknown, &format!("/unknown/marathon/state/framework:id: {UNKNOWN_ID}"));
    assert_evidence(unknown, "lists 1 frameworks and 1 completed, none with this id");
    assert_fix(unknown, "sudo systemctl restart marathon", "disruptive");

    // The master still runs a framework named marathon: store its id again.
    let run = framework_id(&server, "/lost/marathon", &master).await;
    let lost = finding(run.expect("marathon.framework-id", "fail"), "fail", "Refusing to create a new Framework ID");
    assert!(lost["message"].as_str().unwrap().contains("1 instance is kept"), "{lost:#}");
    assert_evidence(lost, "neither framework-id/b/id nor framework:id");
    let store = &lost["remediation"][0];
    assert!(
        store["note"].as_str().unwrap().contains(&format!("FrameworkId(\"{}\")", marathon_zk::MARATHON_FRAMEWORK_ID)),
        "{lost:#}"
    );

    let run = framework_id(&server, "/garbage/marathon", &master).await;
    let check = run.expect("marathon.framework-id", "error");
    assert!(check["reason"].as_str().unwrap().contains("framework-id/b/id does not decode"), "{check:#}");
    assert_eq!(run.code, 3, "error is UNKNOWN");

    // Flink sessions on the same ensemble: one under a removed id.
    seed.put("/flink/session-a/mesos-workers/frameworkId", marathon_zk::MARATHON_FRAMEWORK_ID.as_bytes()).await;
    seed.put("/flink/session-b/mesos-workers/frameworkId", REMOVED_ID.as_bytes()).await;
    seed.put("/flink/session-c/mesos-workers/frameworkId", b"").await;
    let run = framework_id(&server, "/v14/marathon", &master).await;
    let check = run.expect("marathon.framework-id", "fail");
    let flink = finding(check, "fail", "the session's resource manager is refused");
    assert_eq!(flink["subject"], "Flink cluster session-b", "{check:#}");
    assert_evidence(flink, &format!("/flink/session-b/mesos-workers/frameworkId: {REMOVED_ID}"));
    assert_fix(flink, &format!("zkCli.sh -server {servers} deleteall /flink/session-b/mesos-workers"), "destructive");
    assert_eq!(check["findings"].as_array().unwrap().len(), 1, "{check:#}");

    // The master names a leader that does not answer: cannot decide.
    let mut standby = fixture_json("mesos-real/1.11.0-master_state.json");
    standby["leader"] = "master@127.0.0.1:15052".into();
    let standby = FakeServer::start(vec![("/master/state", Answer::json_value(&standby))]);
    let run = framework_id(&server, "/v14/marathon", &standby).await;
    let check = run.expect("marathon.framework-id", "error");
    let reason = check["reason"].as_str().unwrap();
    assert!(reason.contains("Mesos leader at http://127.0.0.1:15052") && reason.contains("refused"), "{check:#}");
}
