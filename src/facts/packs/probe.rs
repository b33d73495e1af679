//! The looks themselves: one target of one probe.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use super::{
    Body, Connect, Exit, FileSeen, HttpSeen, ListedTarget, Observation, Probe, ProbeTarget, ProcessSeen, ProcessesSeen,
    ProgramRun, TargetLook, TcpSeen, Template, UnitSeen, time_limit,
};
use crate::facts::systemd::UnitFileState;
use crate::facts::{Fact, Gatherer, net_error};
use crate::node_fs::{Limit, NodeRoot};
use crate::remedy::quote;
use crate::remote::HostName;
use crate::target::{HostPort, parse_host_port};

/// The only PATH programs see: their environment is otherwise empty, so no
/// secret of the caller's (tokens, passwords in variables) reaches them.
pub const CLEAN_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The most kept of a TCP reply or a program's standard output.
const OUTPUT_CAP: usize = 64 << 10;
const STDERR_CAP: usize = 4 << 10;
/// The most read of an HTTP body.
const CONTENT_CAP: usize = 4 << 20;
/// Matching lines and processes kept as evidence.
const KEPT: usize = 10;

pub(super) async fn look_at(g: &Gatherer, probe: &Probe, endpoint: Option<&ListedTarget>) -> TargetLook {
    match probe {
        Probe::Tcp { address, send, read_reply } => tcp(g, address, send.as_deref(), *read_reply, endpoint).await,
        Probe::Http { url, pointers } => http(g, url, pointers, endpoint).await,
        Probe::Command { argv } => {
            let argv: Vec<&Template> = argv.iter().collect();
            program(g, &argv, None, Path::new("/"), endpoint).await
        }
        Probe::Plugin { path, args } => {
            if let Err(why) = crate::trust::check(path, crate::trust::Kind::File) {
                let seen = Fact::failed(format!("plugin {} not run: {why}", path.display()));
                return TargetLook { target: target_of(path.display().to_string(), endpoint), seen };
            }
            let args: Vec<&Template> = args.iter().collect();
            program(g, &args, Some(path), path.parent().unwrap_or(Path::new("/")), endpoint).await
        }
        Probe::Unit { unit: name } => unit(g, name).await,
        Probe::File { path, lines } => file(g, path, lines.as_deref()).await,
        Probe::Process { pattern } => processes(g, pattern).await,
    }
}

fn target_of(label: String, endpoint: Option<&ListedTarget>) -> ProbeTarget {
    ProbeTarget { label, host: endpoint.map(|e| e.host.clone()), port: endpoint.map(|e| e.port) }
}

fn in_words(d: Duration) -> String {
    humantime::format_duration(Duration::from_millis(d.as_millis() as u64)).to_string()
}

async fn tcp(
    g: &Gatherer,
    address: &Template,
    send: Option<&str>,
    read_reply: bool,
    endpoint: Option<&ListedTarget>,
) -> TargetLook {
    let shown = address.render(endpoint, true);
    let Some(host_port) = parse_host_port(&address.render(endpoint, false), 0).filter(|a| a.port != 0) else {
        let seen = Fact::failed(format!("{shown}: not a HOST:PORT address"));
        return TargetLook { target: target_of(shown, endpoint), seen };
    };
    let host = match HostName::parse(&host_port.host) {
        Ok(host) => host,
        Err(why) => {
            return TargetLook {
                target: target_of(shown.clone(), endpoint),
                seen: Fact::failed(format!("{shown}: {why}")),
            };
        }
    };
    let target = ProbeTarget { label: shown.clone(), host: Some(host), port: Some(host_port.port) };
    let until = time_limit(g);
    let seen = match connect(&host_port, until).await {
        Err(e) => Fact::failed(e),
        Ok(Err(closed)) => match endpoint {
            Some(e) if !e.explicit => e.no_answer(format!("nothing answers at {shown} ({closed})")),
            _ => Fact::observed(Observation::Tcp(TcpSeen { connect: closed, reply: None, reply_cut: None })),
        },
        Ok(Ok(stream)) => {
            let (reply, reply_cut) =
                if read_reply { converse(stream, send, until, g.cfg.timeout).await } else { (None, None) };
            Fact::observed(Observation::Tcp(TcpSeen { connect: Connect::Open, reply, reply_cut }))
        }
    };
    TargetLook { target, seen }
}

/// Connects to the first address of `host` that accepts; `Err` when the name
/// does not resolve, `Ok(Err(how))` when no address accepted.
async fn connect(host_port: &HostPort, until: Instant) -> Result<Result<TcpStream, Connect>, String> {
    let lookup = tokio::net::lookup_host((host_port.host.as_str(), host_port.port));
    let addresses: Vec<_> = match timeout_at(until, lookup).await {
        Ok(Ok(addresses)) => addresses.collect(),
        Ok(Err(e)) => return Err(format!("{} does not resolve ({})", host_port.host, net_error::lookup_reason(&e))),
        Err(_) => return Err(format!("{} does not resolve (no answer in time)", host_port.host)),
    };
    let mut closed = Connect::Unreachable { error: format!("{} has no address", host_port.host) };
    for address in addresses {
        match timeout_at(until, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => return Ok(Ok(stream)),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => closed = Connect::Refused,
            Ok(Err(e)) => closed = Connect::Unreachable { error: net_error::io_reason(&e) },
            Err(_) => return Ok(Err(Connect::TimedOut)),
        }
    }
    Ok(Err(closed))
}

/// Sends `send`, then reads the reply until the server closes, the cap or
/// the time limit; returns the reply and why it may be incomplete.
async fn converse(
    mut stream: TcpStream,
    send: Option<&str>,
    until: Instant,
    timeout: Duration,
) -> (Option<String>, Option<String>) {
    if let Some(text) = send {
        match timeout_at(until, stream.write_all(text.as_bytes())).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return (None, Some(format!("sending {text:?} failed: {e}"))),
            Err(_) => return (None, Some(format!("sending {text:?} took longer than {}", in_words(timeout)))),
        }
    }
    let mut reply = Vec::new();
    let mut buffer = [0u8; 8192];
    let cut = loop {
        match timeout_at(until, stream.read(&mut buffer)).await {
            Ok(Ok(0)) => break None,
            Ok(Ok(n)) if reply.len() + n > OUTPUT_CAP => {
                reply.extend_from_slice(&buffer[..OUTPUT_CAP - reply.len()]);
                break Some(format!("reply cut at {} KiB", OUTPUT_CAP >> 10));
            }
            Ok(Ok(n)) => reply.extend_from_slice(&buffer[..n]),
            // ZooKeeper may reset the connection right after its answer.
            Ok(Err(e)) if !reply.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => break None,
            Ok(Err(e)) => break Some(format!("reading the reply failed: {e}")),
            Err(_) => break Some(format!("the server did not end its reply within {}", in_words(timeout))),
        }
    };
    (Some(String::from_utf8_lossy(&reply).into_owned()), cut)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

async fn http(g: &Gatherer, url: &Template, pointers: &[String], endpoint: Option<&ListedTarget>) -> TargetLook {
    let shown = url.render(endpoint, true);
    let parsed = reqwest::Url::parse(&url.render(endpoint, false));
    let target = ProbeTarget {
        label: shown.clone(),
        // ListedTarget hosts are host names already; a pack's own literal URL
        // whose host is not one offers no {host} to its remedies.
        host: parsed.as_ref().ok().and_then(|u| HostName::parse(u.host_str()?.trim_matches(['[', ']'])).ok()),
        port: parsed.as_ref().ok().and_then(|u| u.port_or_known_default()),
    };
    let seen = match parsed {
        Err(e) => Fact::failed(format!("{shown}: not a URL: {e}")),
        Ok(parsed) => get(g, parsed, &shown, pointers, endpoint).await,
    };
    TargetLook { target, seen }
}

/// One GET (redirects are not followed: the status is the endpoint's own).
async fn get(
    g: &Gatherer,
    url: reqwest::Url,
    shown: &str,
    pointers: &[String],
    endpoint: Option<&ListedTarget>,
) -> Fact<Observation> {
    let client = match g.http().await {
        Ok(client) => client,
        Err(e) => return Fact::failed(e),
    };
    let until = time_limit(g);
    let sent_ms = now_ms();
    // A failure is about this target, which the finding names; an absent
    // implicit default is listed among others, so it names itself.
    let no_answer = |why: String| match endpoint {
        Some(e) if !e.explicit => e.no_answer(format!("GET {shown}: {why}")),
        _ => Fact::failed(why),
    };
    let mut response = match timeout_at(until, client.get(url).send()).await {
        Err(_) => return no_answer(format!("no answer within {}", in_words(g.cfg.timeout))),
        Ok(Err(e)) if e.is_connect() || e.is_timeout() => return no_answer(net_error::reason(&e)),
        Ok(Err(e)) => return Fact::failed(net_error::reason(&e)),
        Ok(Ok(response)) => response,
    };
    let received_ms = now_ms();
    let date =
        response.headers().get(reqwest::header::DATE).map(|d| String::from_utf8_lossy(d.as_bytes()).into_owned());
    let status = response.status().as_u16();
    let body = if pointers.is_empty() {
        Body::Skipped
    } else {
        match read_body(&mut response, until).await {
            Ok(bytes) => json_values(&bytes, pointers),
            Err(error) => Body::Unreadable { error },
        }
    };
    Fact::observed(Observation::Http(HttpSeen { status, date, sent_ms, received_ms, body }))
}

async fn read_body(response: &mut reqwest::Response, until: Instant) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        match timeout_at(until, response.chunk()).await {
            Err(_) => return Err("the body did not arrive in time".into()),
            Ok(Err(e)) => return Err(format!("reading the body failed: {}", net_error::reason(&e))),
            Ok(Ok(None)) => return Ok(body),
            Ok(Ok(Some(chunk))) if body.len() + chunk.len() > CONTENT_CAP => {
                return Err(format!("the body is larger than {} MiB", CONTENT_CAP >> 20));
            }
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
        }
    }
}

fn json_values(bytes: &[u8], pointers: &[String]) -> Body {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(doc) => {
            Body::Json { values: pointers.iter().filter_map(|p| Some((p.clone(), doc.pointer(p)?.clone()))).collect() }
        }
        Err(e) => {
            let start: String = String::from_utf8_lossy(bytes).chars().take(80).collect();
            Body::Unreadable { error: format!("not JSON ({e}): {start:?}") }
        }
    }
}

/// A command (`program` None: argv[0] found on the clean PATH) or a plugin.
async fn program(
    g: &Gatherer,
    words: &[&Template],
    program: Option<&Path>,
    cwd: &Path,
    endpoint: Option<&ListedTarget>,
) -> TargetLook {
    let lead = program.map(|p| p.display().to_string());
    let argv: Vec<String> = lead.iter().cloned().chain(words.iter().map(|w| w.render(endpoint, false))).collect();
    let shown: Vec<String> = lead.into_iter().chain(words.iter().map(|w| w.render(endpoint, true))).collect();
    let label = shown.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
    let seen = match run_program(&argv, cwd, time_limit(g)).await {
        Ok(run) => Fact::observed(Observation::Program(run)),
        Err(e) => Fact::failed(format!("{label}: {e}")),
    };
    TargetLook { target: target_of(label, endpoint), seen }
}

/// Runs a program with a clean environment in its own process group; at
/// `until` the whole group is killed (a plugin's children too).
pub async fn run_program(argv: &[String], cwd: &Path, until: Instant) -> Result<ProgramRun, String> {
    let (program, args) = argv.split_first().ok_or("no program to run")?;
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", CLEAN_PATH)
        .env("LC_ALL", "C")
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| format!("cannot run {program}: {e}"))?;
    let pid = child.id();
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let finished = async {
        let (stdout, stderr, status) =
            tokio::join!(read_capped(stdout, OUTPUT_CAP), read_capped(stderr, STDERR_CAP), child.wait());
        (stdout, stderr, status)
    };
    match timeout_at(until, finished).await {
        Ok((stdout, stderr, status)) => {
            let status = status.map_err(|e| format!("waiting for {program}: {e}"))?;
            Ok(ProgramRun { exit: exit_of(status), stdout, stderr })
        }
        Err(_) => {
            if let Some(pid) = pid {
                kill_group(pid);
            }
            let _ = child.kill().await;
            let after_ms = started.elapsed().as_millis() as u64;
            Ok(ProgramRun { exit: Exit::TimedOut { after_ms }, stdout: String::new(), stderr: String::new() })
        }
    }
}

fn exit_of(status: std::process::ExitStatus) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code { code },
        (None, Some(signal)) => Exit::Signal { signal },
        (None, None) => Exit::Code { code: -1 },
    }
}

fn kill_group(pid: u32) {
    // SAFETY: kill(2) only sends a signal; the group is the child's own
    // (process_group(0) made its pid the group id), so nothing else is hit.
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
    }
}

/// Reads a stream to its end, keeping the first `cap` bytes (the rest is
/// drained so the writer never blocks on a full pipe).
async fn read_capped(reader: Option<impl AsyncRead + Unpin>, cap: usize) -> String {
    let Some(mut reader) = reader else { return String::new() };
    let mut kept = Vec::new();
    let mut buffer = [0u8; 8192];
    while let Ok(n) = reader.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&buffer[..n.min(room)]);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

async fn unit(g: &Gatherer, name: &str) -> TargetLook {
    let target = target_of(name.to_string(), None);
    let seen = if g.cfg.live() && systemd_runs() {
        match crate::facts::systemd::show(name, g.cfg.timeout).await {
            Fact::Observed { value } => {
                Fact::observed(Observation::Unit(UnitSeen { file_state: value.unit_file_state, live: Some(value) }))
            }
            Fact::Unavailable { reason } => Fact::unavailable(reason),
            Fact::Failed { error } => Fact::failed(error),
        }
    } else {
        match unit_file_state(g, name).await {
            Ok(file_state) => Fact::observed(Observation::Unit(UnitSeen { file_state, live: None })),
            Err(e) => Fact::failed(format!("{name}: {e}")),
        }
    };
    TargetLook { target, seen }
}

fn systemd_runs() -> bool {
    std::fs::read_to_string("/proc/1/comm").is_ok_and(|name| name.trim() == "systemd")
}

/// `systemctl --root=DIR is-enabled UNIT`: works on the unit files alone.
async fn unit_file_state(g: &Gatherer, name: &str) -> Result<UnitFileState, String> {
    let argv = ["systemctl".to_string(), format!("--root={}", g.cfg.root.display()), "is-enabled".into(), "--".into()];
    let argv: Vec<String> = argv.into_iter().chain([name.to_string()]).collect();
    let run = run_program(&argv, Path::new("/"), time_limit(g)).await?;
    let state = run.stdout.lines().next().unwrap_or_default().trim();
    if state.is_empty() && run.stderr.contains("No such file") {
        return Ok(UnitFileState::NotFound);
    }
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    let parsed: Result<UnitFileState, serde::de::value::Error> = UnitFileState::deserialize(state.into_deserializer());
    parsed.map_err(|_| format!("systemctl is-enabled said {:?} {:?}", state, run.stderr.trim()))
}

async fn file(g: &Gatherer, path: &str, lines: Option<&str>) -> TargetLook {
    let target = target_of(path.to_string(), None);
    let root = g.cfg.root.clone();
    let (node, lines) = (path.to_string(), lines.map(String::from));
    let read = tokio::task::spawn_blocking(move || read_file(&root, &node, lines.as_deref())).await;
    let seen = match read {
        Ok(Ok(seen)) => Fact::observed(Observation::File(seen)),
        Ok(Err(e)) => Fact::failed(format!("{path}: {e}")),
        Err(e) => Fact::failed(format!("{path}: reading failed: {e}")),
    };
    TargetLook { target, seen }
}

fn read_file(root: &NodeRoot, node: &str, lines: Option<&str>) -> Result<FileSeen, String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match root.metadata(node) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(FileSeen { exists: false, mode: None, matching: Vec::new(), matches: 0, cut: None });
        }
        Err(e) => return Err(e.to_string()),
    };
    let mut seen = FileSeen {
        exists: true,
        mode: Some(meta.permissions().mode() & 0o7777),
        matching: Vec::new(),
        matches: 0,
        cut: None,
    };
    let Some(pattern) = lines else { return Ok(seen) };
    let regex = regex_lite::Regex::new(pattern).map_err(|e| e.to_string())?;
    let file = root.open(node).map_err(|e| e.to_string())?.ok_or("it disappeared while being read")?;
    let content = file.read_up_to(Limit::PACK_FILE).map_err(|e| e.to_string())?;
    if content.cut {
        seen.cut = Some(format!("only the first {} were read", Limit::PACK_FILE));
    }
    let text = String::from_utf8_lossy(&content.bytes);
    let matching: Vec<&str> = text.lines().filter(|l| regex.is_match(l)).collect();
    seen.matches = matching.len();
    seen.matching = matching.into_iter().take(KEPT).map(String::from).collect();
    Ok(seen)
}

async fn processes(g: &Gatherer, pattern: &str) -> TargetLook {
    let target = target_of(format!("processes matching /{pattern}/"), None);
    let seen = match (regex_lite::Regex::new(pattern), g.processes().await) {
        (Err(e), _) => Fact::failed(format!("/{pattern}/: {e}")),
        (_, Fact::Unavailable { reason }) => Fact::unavailable(reason.clone()),
        (_, Fact::Failed { error }) => Fact::failed(error.clone()),
        (Ok(regex), Fact::Observed { value }) => {
            let own = std::process::id();
            let matching: Vec<ProcessSeen> = value
                .processes
                .iter()
                .filter(|p| p.pid != own)
                .map(|p| ProcessSeen { pid: p.pid, command: command_line(&p.cmdline, &p.name) })
                .filter(|p| regex.is_match(&p.command))
                .collect();
            let count = matching.len();
            Fact::observed(Observation::Processes(ProcessesSeen {
                matching: matching.into_iter().take(KEPT).collect(),
                count,
            }))
        }
    };
    TargetLook { target, seen }
}

/// The command line as one string; the kernel's name for processes without one.
fn command_line(argv: &[String], name: &str) -> String {
    if argv.is_empty() { format!("[{name}]") } else { argv.join(" ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soon(ms: u64) -> Instant {
        Instant::now() + Duration::from_millis(ms)
    }

    #[tokio::test]
    async fn programs_see_only_the_clean_path() {
        let run = run_program(&["env".into()], Path::new("/"), soon(5000)).await.unwrap();
        let mut vars: Vec<&str> = run.stdout.lines().collect();
        vars.sort();
        assert_eq!(vars, ["LC_ALL=C".to_string(), format!("PATH={CLEAN_PATH}")]);
        assert_eq!(run.exit, Exit::Code { code: 0 });
    }

    #[tokio::test]
    async fn a_program_that_hangs_is_killed_with_its_children() {
        let marker = tempfile::tempdir().unwrap();
        let pid_file = marker.path().join("child.pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
        let started = Instant::now();
        let run = run_program(&["sh".into(), "-c".into(), script], Path::new("/"), soon(500)).await.unwrap();
        assert!(matches!(run.exit, Exit::TimedOut { .. }), "{run:?}");
        // Far below the 30 s the child sleeps, with room for a loaded machine.
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
        let child: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Gone, or dead and waiting for its new parent to reap it.
        let state = std::fs::read_to_string(format!("/proc/{child}/stat"))
            .map(|stat| stat.rsplit_once(") ").map_or('?', |(_, rest)| rest.chars().next().unwrap_or('?')))
            .unwrap_or('X');
        assert!(matches!(state, 'X' | 'Z'), "the plugin's child {child} outlived the timeout (state {state})");
    }

    #[tokio::test]
    async fn exit_codes_signals_and_missing_programs() {
        async fn run(script: &str) -> Exit {
            let argv = ["sh".to_string(), "-c".into(), script.into()];
            run_program(&argv, Path::new("/"), soon(5000)).await.unwrap().exit
        }
        assert_eq!(run("exit 3").await, Exit::Code { code: 3 });
        assert_eq!(run("kill -TERM $$").await, Exit::Signal { signal: libc::SIGTERM });
        let missing = run_program(&["no-such-program-here".into()], Path::new("/"), soon(5000)).await;
        assert!(missing.unwrap_err().contains("cannot run no-such-program-here"));
    }

    #[test]
    fn json_bodies_keep_the_asked_pointers() {
        let body = json_values(br#"{"a": {"b": 3}, "c": null}"#, &["/a/b".into(), "/c".into(), "/d".into()]);
        let Body::Json { values } = body else { panic!("{body:?}") };
        assert_eq!(values.len(), 2);
        assert_eq!(values["/a/b"], serde_json::json!(3));
        assert!(matches!(json_values(b"<html>", &["/a".into()]), Body::Unreadable { .. }));
    }
}
