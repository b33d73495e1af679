//! Faults end to end: the clusterdoc binary against loopback endpoints that
//! hang (accept and never answer, or never accept), answer in the wrong
//! protocol, redirect in circles or send too much, and a fake ZooKeeper
//! whose sessions never start, expire or break mid-read. The run's deadline
//! holds, every affected check says why it could not judge, the others are
//! unaffected, and nothing panics.
//!
//! tests/marathon_mesos.rs already covers stalled and trickling bodies,
//! truncated JSON, Marathon's oversized bodies and redirect loop, and TLS
//! verification; tests/zookeeper.rs a ZooKeeper port that never speaks.

mod support;

use crate::support::cli as cli_support;
use crate::support::http;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::FromRawFd;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use cli_support::{ReadReport, Run};
use http::{Answer, FakeServer, closed_port_url, fixture_json};
use serde_json::{Value, json};

/// Every run here: 1 s per network operation, 5 s for the whole run.
const DEADLINE_ARGS: [&str; 4] = ["--timeout", "1s", "--deadline", "5s"];
/// The deadline, with slack for a loaded machine.
const WITHIN: Duration = Duration::from_secs(5).saturating_add(cli_support::PAST_DEADLINE);
/// A run that takes this long has hung; it is killed and the test fails.
const HUNG: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------- running

impl Run {
    /// The reason and every finding's text of a check, for matching.
    fn said(&self, id: &str) -> String {
        let check = self.check(id);
        let mut text = check["reason"].as_str().unwrap_or_default().to_string();
        for finding in check["findings"].as_array().unwrap() {
            text.push('\n');
            text.push_str(&finding.to_string());
        }
        text
    }

    /// The check could not judge or found the fault, and says `part`.
    fn assert_stopped(&self, id: &str, part: &str) {
        let status = self.status(id);
        assert!(status == "error" || status == "fail", "{id} is {status}: {:#}", self.check(id));
        assert!(self.said(id).contains(part), "{id} does not say {part:?}: {:#}", self.check(id));
    }
}

/// `clusterdoc check --format json ARGS`.
fn clusterdoc(args: &[&str]) -> Run {
    let (report, code, stderr, took) = run_bounded(&[&["check", "--format", "json"][..], args].concat());
    Run { report, code, stdout: String::new(), stderr, took }
}

/// The facts of `clusterdoc collect ARGS`.
fn collect(args: &[&str]) -> Value {
    let (snapshot, code, stderr, _) = run_bounded(&[&["collect"][..], args].concat());
    assert_eq!(code, 0, "{stderr}");
    snapshot["facts"].clone()
}

/// Runs clusterdoc in an empty directory with no target from the
/// environment, killed (failing the test) if it hangs; its JSON output,
/// exit code, stderr and how long it took.
fn run_bounded(args: &[&str]) -> (Value, i32, String, Duration) {
    let cwd = tempfile::tempdir().unwrap();
    let mut command = cli_support::plain(cwd.path());
    command.args(args);
    let started = Instant::now();
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run clusterdoc");
    let (mut stdout, mut stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    let err = thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).map(|_| text)
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HUNG {
            let _ = child.kill();
            panic!("clusterdoc {args:?} hung: killed after {HUNG:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let (stdout, stderr) = (out.join().unwrap().unwrap(), err.join().unwrap().unwrap());
    assert!(!stderr.contains("panicked"), "clusterdoc panicked:\n{stderr}");
    let output = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("no JSON output ({e}):\n{stdout}\n{stderr}"));
    (output, status.code().expect("an exit code"), stderr, took)
}

/// Hundreds of hanging endpoints need more descriptors than a default
/// soft limit of 1024; the children inherit the raised limit.
fn raise_open_file_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max.min(65536);
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
}

// ------------------------------------------------------- hanging endpoints

/// Loopback ports that accept every connection and never say a word.
struct Silent {
    ports: Vec<u16>,
    stop: Arc<AtomicBool>,
}

impl Silent {
    fn start(n: usize) -> Silent {
        let listeners: Vec<TcpListener> = (0..n).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        let ports = listeners.iter().map(|l| l.local_addr().unwrap().port()).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        thread::spawn(move || {
            let mut held = Vec::new();
            for l in &listeners {
                l.set_nonblocking(true).unwrap();
            }
            while !stopping.load(Ordering::Relaxed) {
                held.extend(listeners.iter().filter_map(|l| l.accept().ok()));
                thread::sleep(Duration::from_millis(5));
            }
        });
        Silent { ports, stop }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Loopback ports whose accept queue is full: the kernel drops further
/// SYNs, so a connect hangs exactly as behind a firewall's DROP.
struct Unaccepting {
    ports: Vec<u16>,
    _sockets: Vec<(TcpListener, Vec<TcpStream>)>,
}

impl Unaccepting {
    fn start(n: usize) -> Unaccepting {
        let sockets: Vec<(TcpListener, Vec<TcpStream>)> = thread::scope(|scope| {
            let filling: Vec<_> = (0..n).map(|_| scope.spawn(full_listener)).collect();
            filling.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let ports = sockets.iter().map(|(l, _)| l.local_addr().unwrap().port()).collect();
        Unaccepting { ports, _sockets: sockets }
    }
}

/// A listener with a backlog of 0 and the connections that fill its queue.
fn full_listener() -> (TcpListener, Vec<TcpStream>) {
    // SAFETY: plain socket calls on a descriptor this function owns; the
    // address struct outlives the bind call.
    let listener = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let address = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr { s_addr: u32::from(Ipv4Addr::LOCALHOST).to_be() },
            sin_zero: [0; 8],
        };
        let size = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        assert_eq!(libc::bind(fd, (&raw const address).cast(), size), 0, "bind");
        assert_eq!(libc::listen(fd, 0), 0, "listen");
        TcpListener::from_raw_fd(fd)
    };
    let address = listener.local_addr().unwrap();
    let mut held = Vec::new();
    while let Ok(stream) = TcpStream::connect_timeout(&address, Duration::from_millis(300)) {
        held.push(stream);
        assert!(held.len() < 16, "the accept queue of {address} never fills");
    }
    (listener, held)
}

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// The mesos-dns example state with `agents` registered at these ports.
fn state_with_agents(ports: &[u16]) -> Value {
    let mut state = fixture_json("mesos/mesos-dns_factories_fake_state.json");
    let template = state["slaves"][0].clone();
    let agents: Vec<Value> = ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            let mut agent = template.clone();
            agent["id"] = json!(format!("20150303-223506-1914870026-5050-1-S{i}"));
            agent["hostname"] = json!(format!("agent-{i}.example.com"));
            agent["pid"] = json!(format!("slave(1)@127.0.0.1:{port}"));
            agent["port"] = json!(port);
            agent["active"] = json!(true);
            agent
        })
        .collect();
    state["slaves"] = json!(agents);
    state
}

fn healthy_master(state: &Value) -> FakeServer {
    FakeServer::start(vec![
        ("/master/state", Answer::json_value(state)),
        ("/master/health", Answer::status(200, "")),
        ("/metrics/snapshot", Answer::json_value(&json!({"master/elected": 1.0}))),
    ])
}

// ------------------------------------------------------- the run's deadline

/// Checks that read only the (empty) node tree under --root.
const NODE_CHECKS: [&str; 4] = ["hostname.resolution", "systemd.respawn", "firewalld.ports", "ports.local-conflict"];

/// What ends the wait for an endpoint that hangs.
#[derive(Clone, Copy, Debug)]
enum Ends {
    /// `--timeout 1s`, well inside the deadline.
    Timeout,
    /// `--timeout 30s`: only the deadline can end the run in time.
    Deadline,
}

/// `k` hanging ZooKeeper servers, `k` hanging Flink JobManagers, a hanging
/// Marathon and `k` Mesos agents that never accept, behind a healthy master.
fn the_deadline_holds_with(k: usize, ends: Ends) {
    raise_open_file_limit();
    let silent = Silent::start(k + 1);
    let blocked = Unaccepting::start(2 * k);
    let (agent_ports, blocked) = blocked.ports.split_at(k);
    // Each kind of hang in turn, the other kind for Flink than for ZooKeeper.
    let hanging =
        |i: usize, silent_first: bool| if i.is_multiple_of(2) == silent_first { silent.ports[i] } else { blocked[i] };
    let zk_servers: Vec<String> = (0..k).map(|i| format!("127.0.0.1:{}", hanging(i, true))).collect();
    let flink: Vec<String> = (0..k).map(|i| url(hanging(i, false))).collect();
    let marathon = url(silent.ports[k]);
    let master = healthy_master(&state_with_agents(agent_ports));
    let root = tempfile::tempdir().unwrap();
    let zk = format!("zk://{}/marathon", zk_servers.join(","));
    let master_url = master.url();
    let mut args = vec!["--root", root.path().to_str().unwrap(), "--mesos", &master_url, "--marathon", &marathon];
    args.extend(["--zk", &zk]);
    for endpoint in &flink {
        args.extend(["--flink", endpoint]);
    }
    args.extend(match ends {
        Ends::Timeout => DEADLINE_ARGS,
        Ends::Deadline => ["--timeout", "30s", "--deadline", "5s"],
    });

    let run = clusterdoc(&args);
    assert!(run.took < WITHIN, "k = {k}: the run took {:?}", run.took);
    assert!(run.code == 2 || run.code == 3, "exit {}: {}", run.code, run.stderr);
    let deadline = "gave up at the run's deadline";
    let (marathon_says, zk_says, reuse_says, reach_says) = match ends {
        Ends::Timeout => ("/v2/info: timed out", "srvr", "no ZooKeeper server of", "agent-"),
        Ends::Deadline => ("/v2/info: gave up at the run's deadline", deadline, deadline, "deadline came first"),
    };
    run.assert_stopped("marathon.leader", &format!("Marathon at {marathon}: {marathon_says}"));
    for id in ["marathon.queue", "marathon.port-collision"] {
        run.assert_stopped(id, &marathon);
    }
    run.assert_stopped("zk.quorum", zk_says);
    run.assert_stopped("zk.marathon-reuse", reuse_says);
    run.assert_stopped("net.reachability", reach_says);

    // A healthy master is judged as ever; the node checks see the same node.
    assert_eq!(run.status("mesos.leader"), "pass", "{:#}", run.check("mesos.leader"));
    let baseline = clusterdoc(&["--root", root.path().to_str().unwrap(), "--only", &NODE_CHECKS.join(",")]);
    for id in NODE_CHECKS {
        assert_eq!(run.check(id)["status"], baseline.check(id)["status"], "{id}");
        assert_eq!(run.check(id)["reason"], baseline.check(id)["reason"], "{id}");
    }
}

#[test]
fn one_hanging_endpoint_of_each_kind_times_out() {
    the_deadline_holds_with(1, Ends::Timeout);
}

#[test]
fn five_hundred_hanging_endpoints_of_each_kind_time_out() {
    the_deadline_holds_with(500, Ends::Timeout);
}

#[test]
fn the_deadline_ends_a_wait_for_one_hanging_endpoint_of_each_kind() {
    the_deadline_holds_with(1, Ends::Deadline);
}

#[test]
fn the_deadline_ends_a_wait_for_five_hundred_hanging_endpoints_of_each_kind() {
    the_deadline_holds_with(500, Ends::Deadline);
}

/// A master that never answers, one that never accepts, and Marathon over
/// https:// on a port that never completes the TLS handshake.
#[test]
fn hanging_masters_and_a_silent_tls_handshake_end_within_the_deadline() {
    let silent = Silent::start(2);
    let blocked = Unaccepting::start(1);
    let (answerless, acceptless) = (url(silent.ports[0]), url(blocked.ports[0]));
    let mesos = format!("{answerless},{acceptless}");
    let marathon = format!("https://127.0.0.1:{}", silent.ports[1]);
    let mut args = vec!["--only", "mesos.leader,marathon.leader", "--mesos", &mesos, "--marathon", &marathon];
    args.extend(DEADLINE_ARGS);
    let run = clusterdoc(&args);
    assert!(run.took < WITHIN, "the run took {:?}", run.took);
    // A port that takes no connection (a firewall's DROP) is told from a
    // server that takes it and never answers (a hung process).
    run.assert_stopped(
        "mesos.leader",
        &format!("Mesos master at {answerless}: /master/state: timed out waiting for the response"),
    );
    run.assert_stopped("mesos.leader", &format!("Mesos master at {acceptless}: /master/state: timed out connecting"));
    run.assert_stopped("marathon.leader", &format!("Marathon at {marathon}: /v2/info: timed out"));
}

// ------------------------------------------------------ wrong answers

/// A plain HTTP server as Jetty (Marathon's) is: bytes that are not HTTP,
/// such as a TLS ClientHello, get a 400 and the connection is closed.
struct PlainHttp {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl PlainHttp {
    fn start() -> PlainHttp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        let _ = stream.read(&mut [0u8; 4096]);
                        let _ = stream
                            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        PlainHttp { address, stop }
    }

    /// The server's address with the wrong scheme.
    fn https(&self) -> String {
        format!("https://{}", self.address)
    }
}

impl Drop for PlainHttp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[test]
fn https_to_a_plain_http_port_is_a_tls_error() {
    let (mesos, marathon, flink) = (PlainHttp::start(), PlainHttp::start(), PlainHttp::start());
    let (m, a, f) = (mesos.https(), marathon.https(), flink.https());
    let targets = [&["--mesos", &m, "--marathon", &a, "--flink", &f][..], &DEADLINE_ARGS].concat();
    let run = clusterdoc(&[&["--only", "mesos.leader,marathon.leader"][..], &targets].concat());
    assert!(run.took < WITHIN, "the run took {:?}", run.took);
    run.assert_stopped("mesos.leader", &format!("Mesos master at {m}: /master/state: TLS handshake failed"));
    run.assert_stopped("marathon.leader", &format!("Marathon at {a}: /v2/info: TLS handshake failed"));
    let root = tempfile::tempdir().unwrap();
    let only_flink = ["--only", "flink.taskmanager-orphans", "--root", root.path().to_str().unwrap()];
    let facts = collect(&[&only_flink[..], &targets].concat());
    let config = &facts["flink"]["value"]["endpoints"][0]["config"];
    let error = config["error"].as_str().unwrap_or_default();
    assert!(error.starts_with(&format!("Flink JobManager at {f}: /config: TLS handshake failed")), "{config:#}");
}

/// Mesos reads a master's redirect itself and then follows it to the
/// leader: a master that names itself as the leader must end in an error,
/// not a loop.
#[test]
fn a_master_that_redirects_to_itself_is_a_clear_error() {
    let looping = FakeServer::start(vec![("/master/state", Answer::redirect(307, "/master/state"))]);
    let run = clusterdoc(&[&["--only", "mesos.leader", "--mesos", &looping.url()][..], &DEADLINE_ARGS].concat());
    run.assert_stopped("mesos.leader", &format!("redirect loop: {0}/master/state -> {0}/master/state", looping.url()));
}

/// Mesos' 256 MiB and Flink's 4 MiB limits hold when a server announces
/// more (nothing that large is sent).
#[test]
fn announced_oversized_bodies_are_refused_at_once() {
    let huge = |mib: usize| Answer::Stall { declared: mib << 20, sent: b"{".to_vec() };
    let mesos = FakeServer::start(vec![("/master/state", huge(300))]);
    let flink = FakeServer::start(vec![("/config", huge(5)), ("/overview", huge(5))]);
    let (mesos_url, flink_url) = (mesos.url(), flink.url());
    // Waiting for the body would take the whole 60 s timeout.
    let patient = ["--timeout", "60s", "--deadline", "60s"];
    let run = clusterdoc(&[&["--only", "mesos.leader", "--mesos", &mesos_url][..], &patient].concat());
    assert!(run.took < cli_support::PAST_DEADLINE, "refusing should not wait: {:?}", run.took);
    run.assert_stopped("mesos.leader", "/master/state: body larger than 256 MiB; refused");
    let root = tempfile::tempdir().unwrap();
    let root = root.path().to_str().unwrap();
    let facts =
        collect(&["--only", "flink.taskmanager-orphans", "--root", root, "--flink", &flink_url, "--timeout", "1s"]);
    let endpoint = &facts["flink"]["value"]["endpoints"][0];
    for (fact, path) in [("config", "/config"), ("overview", "/overview")] {
        let expected = format!("Flink JobManager at {flink_url}: {path}: body larger than 4 MiB; refused");
        assert_eq!(endpoint[fact]["error"], expected.as_str(), "{endpoint:#}");
    }
}

// ------------------------------------------------- a ZooKeeper that misbehaves

/// What a fake ZooKeeper does with a client session (it answers the
/// four-letter words as a healthy standalone server).
#[derive(Clone, Copy)]
enum Session {
    /// Reads the ConnectRequest and never answers it.
    NeverStarts,
    /// Answers with session id 0: ZooKeeper's "your session has expired".
    Expired,
    /// Opens the session, then closes the connection.
    ClosesAfterConnect,
    /// Opens the session, answers pings, and closes the connection at the
    /// first request: the session breaks mid-read.
    ClosesAtFirstRequest,
    /// Opens the session, answers pings, and never answers a request.
    SilentAfterConnect,
}

struct FakeZk {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl FakeZk {
    fn start(session: Session) -> FakeZk {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let stopping = stopping.clone();
                        thread::spawn(move || zk_connection(stream, session, &stopping));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeZk { port, stop }
    }

    fn url(&self) -> String {
        format!("zk://127.0.0.1:{}/marathon", self.port)
    }
}

impl Drop for FakeZk {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

const SRVR: &str = "Zookeeper version: 3.8.0-fake, built on 2024-12-29 17:54 UTC\nLatency min/avg/max: 0/0.0/0\n\
                    Received: 1\nSent: 0\nConnections: 1\nOutstanding: 0\nZxid: 0x2\nMode: standalone\nNode count: 5\n";
const MNTR: &str = "zk_version\t3.8.0-fake, built on 2024-12-29 17:54 UTC\nzk_server_state\tstandalone\n";

fn zk_connection(mut stream: TcpStream, session: Session, stop: &AtomicBool) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = [0u8; 4];
    if stream.read_exact(&mut head).is_err() {
        return;
    }
    let answer = match &head {
        b"srvr" => Some(SRVR),
        b"mntr" => Some(MNTR),
        b"ruok" => Some("imok"),
        _ => None,
    };
    if let Some(answer) = answer {
        let _ = stream.write_all(answer.as_bytes());
        return;
    }
    // A session: a length-prefixed ConnectRequest.
    let mut request = vec![0u8; u32::from_be_bytes(head).min(4096) as usize];
    if stream.read_exact(&mut request).is_err() {
        return;
    }
    match session {
        Session::NeverStarts => hold(stop),
        Session::Expired => drop(stream.write_all(&framed(&connect_response(0)))),
        Session::ClosesAfterConnect => drop(stream.write_all(&framed(&connect_response(0x5eed)))),
        Session::ClosesAtFirstRequest | Session::SilentAfterConnect => {
            if stream.write_all(&framed(&connect_response(0x5eed))).is_ok() {
                answer_pings(&mut stream);
                if matches!(session, Session::SilentAfterConnect) {
                    hold(stop);
                }
            }
        }
    }
}

fn hold(stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(20));
    }
}

/// Answers the session's pings (xid -2) until another request comes.
fn answer_pings(stream: &mut TcpStream) {
    const PING_XID: i32 = -2;
    loop {
        let mut length = [0u8; 4];
        if stream.read_exact(&mut length).is_err() {
            return;
        }
        let mut request = vec![0u8; u32::from_be_bytes(length).min(1 << 20) as usize];
        if stream.read_exact(&mut request).is_err() || request.len() < 4 {
            return;
        }
        if i32::from_be_bytes(request[..4].try_into().unwrap()) != PING_XID {
            return;
        }
        // ReplyHeader: xid, zxid, error code.
        let reply = [&PING_XID.to_be_bytes()[..], &1i64.to_be_bytes(), &0i32.to_be_bytes()].concat();
        if stream.write_all(&framed(&reply)).is_err() {
            return;
        }
    }
}

fn framed(body: &[u8]) -> Vec<u8> {
    [&(body.len() as u32).to_be_bytes()[..], body].concat()
}

/// A ConnectResponse: protocol version, negotiated timeout (ms), session
/// id, 16-byte password, read-only flag.
fn connect_response(session_id: i64) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(0i32.to_be_bytes());
    body.extend(4000i32.to_be_bytes());
    body.extend(session_id.to_be_bytes());
    body.extend(16i32.to_be_bytes());
    body.extend([7u8; 16]);
    body.push(0);
    body
}

fn zk_run(session: Session) -> (Run, String) {
    let zk = FakeZk::start(session);
    let url = zk.url();
    let marathon = closed_port_url();
    let run = clusterdoc(&[&["--only", "zk.", "--zk", &url, "--marathon", &marathon][..], &DEADLINE_ARGS].concat());
    assert!(run.took < WITHIN, "the run took {:?}", run.took);
    // The four-letter words were answered: the quorum check is unaffected.
    assert_eq!(run.status("zk.quorum"), "warn", "{:#}", run.check("zk.quorum"));
    (run, url)
}

#[test]
fn a_zookeeper_session_that_never_starts_is_an_error() {
    let (run, url) = zk_run(Session::NeverStarts);
    run.assert_stopped("zk.marathon-reuse", &format!("ZooKeeper {url}: no session: "));
}

#[test]
fn an_expired_zookeeper_session_is_an_error() {
    let (run, url) = zk_run(Session::Expired);
    run.assert_stopped("zk.marathon-reuse", &format!("ZooKeeper {url}: no session: session expired"));
}

#[test]
fn a_zookeeper_that_closes_after_the_handshake_is_an_error() {
    let (run, url) = zk_run(Session::ClosesAfterConnect);
    run.assert_stopped("zk.marathon-reuse", &format!("ZooKeeper {url}: no session: "));
}

#[test]
fn a_zookeeper_session_lost_mid_read_is_an_error() {
    let (run, url) = zk_run(Session::ClosesAtFirstRequest);
    run.assert_stopped("zk.marathon-reuse", &format!("ZooKeeper {url}: reading /marathon: connection"));
}

#[test]
fn a_zookeeper_that_never_answers_a_read_is_an_error() {
    let (run, url) = zk_run(Session::SilentAfterConnect);
    run.assert_stopped("zk.marathon-reuse", &format!("ZooKeeper {url}: reading /marathon: "));
    // Whichever gives up first: clusterdoc's --timeout or the ZooKeeper
    // client's own wait for the server.
    let said = run.said("zk.marathon-reuse");
    assert!(said.contains("no answer within 1s") || said.contains("no response from connection in 1000ms"), "{said}");
}

// ------------------------------------------------------------ error wording

/// Every text of a report a person reads: reasons, messages, evidence.
fn texts(report: &clusterdoc::report::Report) -> Vec<(&str, &str)> {
    let mut said = Vec::new();
    for check in &report.checks {
        said.extend(check.reason.as_deref().map(|r| (check.id.as_str(), r)));
        for finding in &check.findings {
            said.push((check.id.as_str(), finding.message.as_str()));
            said.extend(finding.evidence.iter().map(|e| (check.id.as_str(), e.as_str())));
        }
    }
    said
}

/// Network errors read one way in every check and pack: as an operator says
/// them, with the subject named once, never the C library's raw text.
#[test]
fn network_errors_read_one_way_in_every_check_and_pack() {
    let silent = Silent::start(1);
    let closed = closed_port_url();
    let closed_port = closed.rsplit(':').next().unwrap();
    let zk = format!("zk://127.0.0.1:{closed_port},nohost.invalid:2181,127.0.0.1:{}/marathon", silent.ports[0]);
    let run = clusterdoc(
        &[
            &["--mesos", &closed, "--marathon", "http://nohost.invalid:8080", "--zk", &zk][..],
            &["--role", "zookeeper", "--skip", "systemd.respawn,firewalld.ports,ports.local-conflict"],
            &DEADLINE_ARGS,
        ]
        .concat(),
    );
    let report = run.typed();
    for (id, text) in texts(&report) {
        for raw in ["os error", "failed to lookup address information", "Connection refused"] {
            assert!(!text.contains(raw), "{id} says {raw:?}: {text}");
        }
        for url in text.split_whitespace().filter(|w| w.starts_with("http://")) {
            let url = url.trim_end_matches([':', ',', ';', ')']);
            assert_eq!(text.matches(url).count(), 1, "{id} names {url} more than once: {text}");
        }
    }
    for check in &report.checks {
        for finding in &check.findings {
            let (subject, message) = (&finding.subject, &finding.message);
            assert!(!message.contains(subject.as_str()), "{}: {message:?} repeats its subject {subject:?}", check.id);
        }
    }
    let message_about = |id: &str, subject: &str| -> String {
        let check = run.typed_check(id);
        let finding = check.findings.iter().find(|f| f.subject == subject);
        finding.unwrap_or_else(|| panic!("no {id} finding about {subject}: {check:#?}")).message.clone()
    };
    assert_eq!(
        message_about("zk.quorum", &format!("ZooKeeper 127.0.0.1:{closed_port}")),
        "does not answer: connection refused"
    );
    assert!(
        message_about("zk.quorum", "ZooKeeper nohost.invalid:2181")
            .starts_with("does not answer: the name does not resolve ("),
        "{:#}",
        run.check("zk.quorum")
    );
    assert_eq!(
        message_about("zk.quorum", &format!("ZooKeeper 127.0.0.1:{}", silent.ports[0])),
        "does not answer: no answer to srvr within 1s"
    );
    assert!(
        run.check("marathon.leader")["reason"]
            .as_str()
            .unwrap()
            .starts_with("Marathon at http://nohost.invalid:8080: /v2/info: the name does not resolve ("),
        "{:#}",
        run.check("marathon.leader")
    );
    assert_eq!(
        run.check("mesos.leader")["reason"],
        format!(
            "no named Mesos master gave a usable answer, so whether one leads is unknown: Mesos master at {closed}: /master/state: connection refused"
        )
    );
    assert_eq!(
        message_about("zk.outstanding-requests", &format!("127.0.0.1:{closed_port}")),
        "the port is not open: connection refused"
    );
    assert!(
        message_about("zk.outstanding-requests", "nohost.invalid:2181")
            .starts_with("nohost.invalid does not resolve ("),
        "{:#}",
        run.check("zk.outstanding-requests")
    );
    assert_eq!(message_about("mesos.master-clock-skew", &format!("{closed}/version")), "connection refused");
}
