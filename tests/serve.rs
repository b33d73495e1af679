//! `clusterdoc serve` end to end: the real binary listening on loopback,
//! asked by real HTTP clients, judging recorded snapshots (`--from`) or a
//! Mesos master served over real HTTP, whose request log counts the fact
//! gatherings.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;
use support::http::{Answer as Reply, FakeServer};
use support::serve::{Server, client, get};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/checks");

/// A recorded case of tests/checks as `--from FILE --only ID`.
fn case(id: &str, case: &str) -> [String; 4] {
    ["--from".into(), format!("{CASES}/{id}/{case}.facts.json"), "--only".into(), id.into()]
}

fn start(args: &[String]) -> Server {
    Server::start(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A healthy Mesos master (the mesos-dns fake state), counting its requests.
fn mesos_master() -> FakeServer {
    FakeServer::start(vec![
        ("/master/state", Reply::fixture("mesos/mesos-dns_factories_fake_state.json")),
        ("/master/health", Reply::status(200, "")),
        ("/metrics/snapshot", Reply::json_value(&json!({"master/elected": 1.0}))),
    ])
}

/// How many times the master was asked for its state: one fact gathering each.
fn gatherings(master: &FakeServer) -> usize {
    master.requests().iter().filter(|r| r.path() == "/master/state").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_from_the_verdict_whatever_format_is_asked() {
    let client = client();
    for (id, name, healthy) in [
        ("mesos.leader", "passes-incident", true),
        ("zk.quorum", "fires-incident", true),
        ("hostname.case", "fires-incident", false),
        ("mesos.leader", "error-mesos-failed", false),
    ] {
        let server = start(&case(id, name));
        let code = if healthy { 200 } else { 503 };
        for query in
            ["", "?verbose", "?format=json", "?format=prometheus", "?format=junit", "?format=tap", "?format=nagios"]
        {
            let answer = get(&client, &server.url(&format!("/healthz{query}")), &[]).await;
            assert_eq!(answer.status, code, "{id} {name} /healthz{query}: {}", answer.body);
        }
        for accept in ["text/plain;version=0.0.4", "application/json", "application/xml", "text/plain", "*/*"] {
            let answer = get(&client, &server.url("/healthz"), &[("accept", accept)]).await;
            assert_eq!(answer.status, code, "{id} {name} Accept: {accept}");
        }
        let verbose = get(&client, &server.url("/healthz?verbose"), &[]).await.body;
        let sign = if healthy { "[+]" } else { "[-]" };
        assert!(verbose.starts_with(&format!("{sign}{id} ")), "{verbose}");
        let metrics = get(&client, &server.url("/metrics"), &[]).await;
        assert_eq!(metrics.status, 200, "/metrics answers its series whatever the verdict");
        let report = get(&client, &server.url("/report"), &[]).await;
        assert_eq!(report.status, 200);
        let report: clusterdoc::report::Report = serde_json::from_str(&report.body).unwrap();
        assert_eq!(report.status.is_healthy(), healthy, "{id} {name}: {:?}", report.status);
        assert_eq!(server.runs("checks").len(), 1, "one run served every request: {:?}", server.stderr());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_carry_the_report_series_and_the_servers_own() {
    let server = start(&case("hostname.case", "fires-incident"));
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let answer = get(&client(), &server.url("/metrics"), &[]).await;
    assert_eq!(answer.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let tmp = tempfile::tempdir().unwrap();
    let cli = support::cli::clusterdoc(tmp.path())
        .args(["check", "--format", "prometheus"])
        .args(case("hostname.case", "fires-incident"))
        .output()
        .unwrap();
    let from_check = String::from_utf8(cli.stdout).unwrap();
    // Every series of --format prometheus, with the same values (the
    // durations aside, which are the runs' own).
    let series = |text: &str| -> Vec<String> {
        text.lines().filter(|l| !l.starts_with('#') && !l.contains("duration_seconds")).map(String::from).collect()
    };
    for line in series(&from_check) {
        assert!(answer.body.lines().any(|l| l == line), "no {line:?} in\n{}", answer.body);
    }
    assert!(answer.body.contains("clusterdoc_run_duration_seconds "));
    assert!(answer.body.contains("# TYPE clusterdoc_run_errors_total counter\nclusterdoc_run_errors_total 0\n"));
    let stamp = answer.body.lines().find_map(|l| l.strip_prefix("clusterdoc_last_run_timestamp_seconds ")).unwrap();
    let stamp: f64 = stamp.parse().unwrap();
    assert!((before - 60.0..before + 60.0).contains(&stamp), "{stamp} vs {before}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_a_hundred_requests_makes_one_gathering_per_interval() {
    let master = mesos_master();
    let server = Server::start(&["--only", "mesos.leader", "--mesos", &master.url(), "--interval", "3s"]);
    let client = client();
    let urls: Vec<String> = (0..100).map(|i| server.url(["/metrics", "/healthz", "/report"][i % 3])).collect();
    let burst = || futures::future::join_all(urls.iter().map(|url| get(&client, url, &[])));
    let first = Instant::now();
    for answer in burst().await {
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    assert_eq!(gatherings(&master), 1, "a cold cache and 100 requests: one gathering");
    assert!(first.elapsed() < Duration::from_secs(3), "the burst outlived the interval: {:?}", first.elapsed());
    for answer in burst().await {
        assert_eq!(answer.status, 200);
    }
    assert_eq!(gatherings(&master), 1, "within the interval the result is served again");
    tokio::time::sleep(Duration::from_millis(3500)).await;
    for answer in burst().await {
        assert_eq!(answer.status, 200);
    }
    assert_eq!(gatherings(&master), 2, "an expired cache and 100 requests: one more gathering");
    let runs = server.runs("checks");
    assert_eq!(runs.len(), 2, "one log line a run: {runs:?}");
    assert!(runs[0].contains("run 1: pass (1 pass, 0 warn, 0 fail, 0 skip, 0 error) in"), "{runs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_timeout_bounds_a_fresh_run_and_stale_results_say_their_age() {
    let master = mesos_master();
    let server = Server::start(&[
        "--only",
        "mesos.leader",
        "--mesos",
        &master.url(),
        "--interval",
        "1s",
        "--timeout",
        "20s",
        "--deadline",
        "25s",
    ]);
    let client = client();
    let fresh = get(&client, &server.url("/metrics"), &[]).await;
    assert_eq!((fresh.status, fresh.header("warning")), (200, None));
    // From now on the master stalls: a run takes the whole --timeout.
    master.replace("/master/state", Reply::Stall { declared: 1000, sent: b"{\"slaves\": [".to_vec() });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let asked = Instant::now();
    let stale = get(&client, &server.url("/metrics"), &[("x-prometheus-scrape-timeout-seconds", "2")]).await;
    let took = asked.elapsed();
    assert!(took >= Duration::from_millis(1400) && took < Duration::from_secs(8), "answered after {took:?}");
    assert_eq!(stale.status, 200, "{}", stale.body);
    assert_eq!(stale.header("warning"), Some("110 clusterdoc \"Response is Stale\""));
    let age: u64 = stale.header("age").unwrap().parse().unwrap();
    assert!(age >= 1, "age {age}");
    assert!(stale.body.contains("clusterdoc_check_status{id=\"mesos.leader\"} 0"), "{}", stale.body);
    assert_eq!(gatherings(&master), 2, "the stalled run was started once");
    // Without the header a request waits for the run; another header, another bound.
    let asked = Instant::now();
    let quick = get(&client, &server.url("/healthz"), &[("x-prometheus-scrape-timeout-seconds", "0.5")]).await;
    assert!(asked.elapsed() < Duration::from_secs(5), "{:?}", asked.elapsed());
    assert_eq!(quick.status, 200, "the stale verdict still decides: {}", quick.body);
    assert_eq!(gatherings(&master), 2, "still the one run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_run_still_going_answers_503_within_the_scrape_timeout() {
    let master = FakeServer::start(vec![("/master/state", Reply::Stall { declared: 1000, sent: b"{".to_vec() })]);
    let server = Server::start(&["--only", "mesos.leader", "--mesos", &master.url(), "--timeout", "20s"]);
    let asked = Instant::now();
    let answer = get(&client(), &server.url("/metrics"), &[("x-prometheus-scrape-timeout-seconds", "1.5")]).await;
    assert!(asked.elapsed() < Duration::from_secs(7), "{:?}", asked.elapsed());
    assert_eq!(answer.status, 503);
    assert!(answer.body.starts_with("the first run of the checks, started "), "{}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_run_stops_the_server_at_once_and_answers_the_waiting() {
    let master = FakeServer::start(vec![("/master/state", Reply::Stall { declared: 1000, sent: b"{".to_vec() })]);
    let mut server = Server::start(&["--only", "mesos.leader", "--mesos", &master.url(), "--timeout", "30s"]);
    let client = client();
    let waiting = tokio::spawn({
        let url = server.url("/healthz?verbose");
        async move { get(&client, &url, &[]).await }
    });
    while gatherings(&master) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopped = server.terminate(Duration::from_secs(15)).expect("the server ended within 15 s of SIGTERM");
    assert_eq!(stopped.code(), Some(0), "{:?}", server.stderr());
    let answer = waiting.await.unwrap();
    assert_eq!(answer.status, 503);
    assert!(answer.body.contains("has not ended yet"), "{}", answer.body);
    let stderr = server.stderr();
    assert!(stderr.iter().any(|l| l == "clusterdoc serve: SIGTERM: stopping"), "{stderr:?}");
    assert_eq!(stderr.last().map(String::as_str), Some("clusterdoc serve: stopped"), "{stderr:?}");
}

/// Opens a connection and sends part of a request head, never the end.
fn slow_client(address: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_block_others_and_are_closed_at_the_head_timeout() {
    let server = start(&case("mesos.leader", "passes-incident"));
    let mut slow: Vec<TcpStream> = (0..50).map(|_| slow_client(&server.address())).collect();
    let asked = Instant::now();
    let answer = get(&client(), &server.url("/healthz"), &[]).await;
    assert_eq!(answer.status, 200);
    assert!(asked.elapsed() < Duration::from_secs(4), "{:?}", asked.elapsed());
    // Each slow connection is closed by the server (5 s to send a head).
    for stream in &mut slow {
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
    }
    let closed = asked.elapsed();
    assert!(closed >= Duration::from_secs(4) && closed < Duration::from_secs(30), "closed after {closed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_bound_wait_for_a_slot() {
    let mut args = case("mesos.leader", "passes-incident").to_vec();
    args.extend(["--max-connections".into(), "2".into()]);
    let server = start(&args);
    // Two idle connections hold both slots until the head timeout frees them.
    let idle: Vec<TcpStream> = (0..2).map(|_| slow_client(&server.address())).collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = Instant::now();
    assert_eq!(get(&client(), &server.url("/healthz"), &[]).await.status, 200);
    let waited = asked.elapsed();
    assert!(waited >= Duration::from_secs(3) && waited < Duration::from_secs(30), "waited {waited:?}");
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_and_other_methods() {
    let server = start(&case("mesos.leader", "passes-incident"));
    let client = client();
    for path in ["/metrics", "/healthz", "/report", "/snapshot"] {
        let head = client.head(server.url(path)).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
        let length: usize = head.headers()["content-length"].to_str().unwrap().parse().unwrap();
        assert!(length > 0, "HEAD {path} announces the body's length");
        assert_eq!(head.text().await.unwrap(), "", "HEAD {path} has no body");
        for method in [reqwest::Method::POST, reqwest::Method::PUT, reqwest::Method::DELETE, reqwest::Method::PATCH] {
            let refused = client.request(method.clone(), server.url(path)).body("x").send().await.unwrap();
            assert_eq!(refused.status(), 405, "{method} {path}");
            assert_eq!(refused.headers()["allow"], "GET, HEAD");
        }
    }
    let missing = get(&client, &server.url("/admin"), &[]).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_is_what_collect_node_writes() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("etc/hostname"), "Node7\n").unwrap();
    let root_arg = root.path().to_str().unwrap();
    let server = Server::start(&["--root", root_arg]);
    let answer = get(&client(), &server.url("/snapshot"), &[]).await;
    assert_eq!((answer.status, answer.header("content-type")), (200, Some("application/json")));
    let served: clusterdoc::runner::Snapshot = serde_json::from_str(&answer.body).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // The server gathers what a fleet run asks of a node, built-in pack
    // checks that look at a machine included (no one is there to ask).
    let node = ["collect", "--node", "--pack-check", "mesos.agent-disk", "--root", root_arg];
    let out = support::cli::clusterdoc(tmp.path()).args(node).output().unwrap();
    let written: clusterdoc::runner::Snapshot = serde_json::from_slice(&out.stdout).unwrap();
    let facts = |s: &clusterdoc::runner::Snapshot| {
        let mut v = serde_json::to_value(&s.facts).unwrap();
        // Timings are each run's own.
        strip_durations(&mut v);
        v
    };
    assert_eq!(facts(&served), facts(&written));
    assert!(answer.body.contains("Node7"), "{}", answer.body);
    assert_eq!(server.runs("snapshot").len(), 1);
    assert!(server.runs("checks").is_empty(), "a snapshot judges nothing");
}

fn strip_durations(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|k, _| !k.contains("duration") && !k.ends_with("_ms") && k != "collected_at");
            map.values_mut().for_each(strip_durations);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_durations),
        _ => {}
    }
}

#[test]
fn flags_that_make_no_sense_for_a_server_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, says) in [
        (vec!["--format", "json"], "serve does not take --format"),
        (vec!["-o", "x.json"], "serve does not take --output"),
        (vec!["--listen", "0.0.0.0:0"], "reachable beyond this machine"),
        (vec!["--interval", "0s"], "must be more than zero"),
        (vec!["--listen", "nowhere"], "invalid value 'nowhere'"),
        (vec!["--tls-cert", "c.pem"], "--tls-key"),
        (vec!["--nodes", "a,b"], "serves no fleet"),
    ] {
        let out = support::cli::clusterdoc(tmp.path()).arg("serve").args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn an_address_in_use_is_said() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let out = support::cli::clusterdoc(tmp.path()).args(["serve", "--listen", &address]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr.contains(&format!("cannot listen on {address}")), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_wire_never_takes_the_server_down() {
    let server = start(&case("mesos.leader", "passes-incident"));
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let heads = [
        &b"GET /\x00metrics HTTP/1.1\r\n\r\n"[..],
        b"GET /metrics HTTP/9.9\r\n\r\n",
        b"GET /metrics?format=%ff%fe HTTP/1.1\r\nHost: x\r\nAccept: \xff\xfe\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Prometheus-Scrape-Timeout-Seconds: -nan\r\n\r\n",
        b"GET /report HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"GET /report HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"\r\n\r\n\r\n",
    ];
    for round in 0..200 {
        let Ok(mut stream) = TcpStream::connect(server.address()) else { panic!("round {round}: refused") };
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let bytes: Vec<u8> = if round < heads.len() {
            heads[round].to_vec()
        } else if round % 2 == 0 {
            (0..next() % 300).map(|_| next() as u8).collect()
        } else {
            let mut head = b"GET /".to_vec();
            head.extend((0..next() % 100).map(|_| b"metrics?/&=%;healthz\r\n: \xff"[(next() % 24) as usize]));
            head.extend(b"\r\n\r\n");
            head
        };
        let _ = stream.write_all(&bytes);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
    // A head larger than the cap is refused, not read without end.
    let mut big = TcpStream::connect(server.address()).unwrap();
    let _ = big
        .write_all(format!("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(64 * 1024)).as_bytes());
    let mut answer = Vec::new();
    big.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = big.read_to_end(&mut answer);
    assert!(answer.starts_with(b"HTTP/1.1 431"), "{}", String::from_utf8_lossy(&answer));
    let alive = get(&client(), &server.url("/healthz"), &[]).await;
    assert_eq!(alive.status, 200, "the server still answers: {:?}", server.stderr());
    assert!(!server.stderr().iter().any(|l| l.contains("panicked")), "{:?}", server.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_sees_only_reads() {
    let master = mesos_master();
    let server = Server::start(&["--only", "mesos.", "--mesos", &master.url()]);
    let client = client();
    for path in ["/metrics", "/healthz", "/report", "/snapshot"] {
        let _ = get(&client, &server.url(path), &[]).await;
    }
    let requests = master.requests();
    assert!(!requests.is_empty());
    for request in requests {
        assert!(request.method == "GET" || request.method == "HEAD", "{} {}", request.method, request.target);
    }
}

/// A self-signed certificate for 127.0.0.1 and its key (mode 0600) in `dir`.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=clusterdoc-test", "-addext", "subjectAltName=IP:127.0.0.1"])
        // A leaf that is its own trust anchor: webpki refuses a CA as the end entity.
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is needed for the TLS tests (apt-get install openssl; scripts/test does)");
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    (cert, key)
}

fn secret_file(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_bearer_token_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let token = dir.path().join("token");
    secret_file(&token, "tok-123\n");
    let mut args: Vec<String> = case("hostname.case", "fires-incident").to_vec();
    for (flag, path) in [("--tls-cert", &cert), ("--tls-key", &key), ("--token-file", &token)] {
        args.extend([flag.to_string(), path.display().to_string()]);
    }
    let server = start(&args);
    assert!(server.base.starts_with("https://127.0.0.1:"), "{}", server.base);
    let client = support::serve::client_trusting(Some(&cert));
    let metrics = get(&client, &server.url("/metrics"), &[("authorization", "Bearer tok-123")]).await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.body.contains("clusterdoc_check_status{id=\"hostname.case\"} 2"), "{}", metrics.body);
    let refused = get(&client, &server.url("/metrics"), &[("authorization", "Bearer tok-124")]).await;
    assert_eq!((refused.status, refused.header("www-authenticate")), (401, Some("Bearer realm=\"clusterdoc\"")));
    let bare = get(&client, &server.url("/healthz"), &[]).await;
    assert_eq!((bare.status, bare.body.as_str()), (503, "fail\n"), "the bare health check needs no credentials");
    let verbose = get(&client, &server.url("/healthz?verbose"), &[]).await;
    assert_eq!(verbose.status, 401);
    // Plain HTTP to the TLS port gets no answer of the server's.
    let plain = client.get(format!("http://{}/healthz", server.address())).send().await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
    // A client that does not know the certificate refuses the server.
    assert!(support::serve::client().get(server.url("/healthz")).send().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_basic_auth_admits_and_a_readable_secret_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pair = dir.path().join("basic");
    secret_file(&pair, "prometheus:pa ss\n");
    let mut args = case("mesos.leader", "passes-incident").to_vec();
    args.extend(["--basic-auth-file".into(), pair.display().to_string()]);
    let tmp = tempfile::tempdir().unwrap();
    let mut command = support::cli::plain(tmp.path());
    command.args(["serve", "--listen", "0.0.0.0:0"]).args(&args);
    let server = Server::start_command(command, tmp);
    let port = server.address().rsplit(':').next().unwrap().to_string();
    let url = format!("http://127.0.0.1:{port}/report");
    let client = client();
    let admitted = client.get(&url).basic_auth("prometheus", Some("pa ss")).send().await.unwrap();
    assert_eq!(admitted.status(), 200);
    let refused = client.get(&url).basic_auth("prometheus", Some("pass")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic realm="));
    assert!(server.stderr().iter().any(|l| l.contains("cross the network in clear")), "{:?}", server.stderr());
    std::fs::set_permissions(&pair, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = support::cli::clusterdoc(tmp.path())
        .args(["serve", "--listen", "0.0.0.0:0", "--basic-auth-file"])
        .arg(&pair)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("others may read it (mode 0644)"), "{stderr}");
}
