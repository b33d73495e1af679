//! One node's ssh session: run the remote command, stream this binary on
//! stdin when the script may need it, read at most [`ANSWER_CAP`] of stdout
//! and the tail of stderr, and say what came of it.

use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{ChildStdin, Command};
use tokio::time::Instant;

use super::destination::Destination;
use super::remote_run::{self, RemoteLimits};
use super::{Fleet, NodeState};
use crate::facts::Facts;
use crate::target::NodeAsks;

/// The most a node's answer may hold (its snapshot); more is an error.
pub const ANSWER_CAP: usize = 64 * 1024 * 1024;
/// How much of ssh's stderr is kept: its last lines say what went wrong.
const STDERR_TAIL: usize = 16 * 1024;
/// ssh's exit code for its own errors (connect, authentication, host key).
const SSH_FAILED: i32 = 255;
/// How long to wait for stderr to close once ssh has exited.
const STDERR_LINGER: Duration = Duration::from_millis(500);

/// The binary clusterdoc runs as, to push to nodes.
const OWN_BINARY: &str = "/proc/self/exe";

/// What one session gave.
pub struct Outcome {
    pub state: NodeState,
    pub error: Option<String>,
    pub answer: Option<Answer>,
}

/// The part of a node snapshot (`collect --node`) the fleet keeps.
#[derive(Deserialize)]
pub struct Answer {
    pub tool: String,
    /// The node's address as its sshd saw the session (with `--pull`: the
    /// address the HTTP connection reached).
    #[serde(default)]
    pub address: Option<std::net::IpAddr>,
    /// The node's clock when it wrote the snapshot (ms since the epoch).
    #[serde(default)]
    pub clock_ms: Option<u64>,
    pub facts: Facts,
    /// How far the node's clock is ahead of ours (negative: behind), from
    /// its `clock_ms` and when its answer ended here: off by at most the
    /// answer's way back.
    #[serde(skip)]
    pub clock_skew_ms: Option<i64>,
}

impl Outcome {
    pub(super) fn failed(state: NodeState, error: impl Into<String>) -> Outcome {
        Outcome { state, error: Some(error.into()), answer: None }
    }

    /// What a node's answer says when it reads as a node snapshot: reached,
    /// or an error when another tool wrote it.
    pub(super) fn of_snapshot(answer: &[u8]) -> Result<Outcome, serde_json::Error> {
        let answer = serde_json::from_slice::<Answer>(answer)?;
        Ok(match answer.tool.as_str() {
            "clusterdoc" => Outcome { state: NodeState::Reached, error: None, answer: Some(answer) },
            tool => Outcome::failed(NodeState::Error, format!("answered as {tool:?}, not clusterdoc")),
        })
    }
}

/// The remote run's limits for a session starting with `left` of the
/// fleet's time: a quarter of it (at most 5 s) is kept for connecting and
/// the answer's way back.
fn limits(left: Duration, timeout: Duration) -> RemoteLimits {
    RemoteLimits { deadline: left - (left / 4).min(Duration::from_secs(5)), timeout }
}

/// Runs the session on `node`, cut off at `deadline`.
pub async fn run(fleet: &Fleet, node: &Destination, deadline: Instant, asks: &NodeAsks) -> Outcome {
    let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) else {
        return Outcome::failed(NodeState::CutOff, "not started before the deadline");
    };
    let size = if fleet.remote_bin.streams_binary() {
        match std::fs::metadata(OWN_BINARY) {
            Ok(meta) => meta.len(),
            Err(e) => return Outcome::failed(NodeState::Error, format!("cannot read this binary to push it: {e}")),
        }
    } else {
        0
    };
    let remote = remote_run::command(&fleet.remote_bin, limits(left, fleet.timeout), size, asks);
    let argv = fleet.ssh.argv(node, fleet.timeout, &remote);
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(if fleet.remote_bin.streams_binary() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    match tokio::time::timeout_at(deadline, talk(command)).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::failed(
            NodeState::CutOff,
            format!("still running at the deadline ({} after the session started)", humantime::format_duration(left)),
        ),
    }
}

/// Spawns the session and reads its answer; dropping this future kills ssh.
async fn talk(mut command: Command) -> Outcome {
    let program = command.as_std().get_program().to_string_lossy().into_owned();
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return Outcome::failed(NodeState::Unreachable, format!("cannot run {program:?}: {e}")),
    };
    if let Some(stdin) = child.stdin.take() {
        // Ends by itself when the remote side stops reading and ssh exits.
        tokio::spawn(push_binary(stdin));
    }
    let stderr = tokio::spawn(read_tail(child.stderr.take().expect("piped")));
    let stdout = read_capped(child.stdout.take().expect("piped")).await;
    let received_ms = epoch_ms();
    let Ok(stdout) = stdout else {
        let _ = child.kill().await;
        return Outcome::failed(NodeState::Error, format!("answered with more than {} MiB", ANSWER_CAP >> 20));
    };
    let status = child.wait().await;
    let stderr = tokio::time::timeout(STDERR_LINGER, stderr).await.ok().and_then(Result::ok).unwrap_or_default();
    let code = match status {
        Ok(status) => status.code(),
        Err(e) => return Outcome::failed(NodeState::Error, format!("waiting for {program:?}: {e}")),
    };
    let mut outcome = judge(code, &stdout, &stderr);
    if let Some(answer) = &mut outcome.answer {
        answer.clock_skew_ms = answer.clock_ms.map(|node| node as i64 - received_ms as i64);
    }
    outcome
}

/// Now, in milliseconds since the epoch.
pub fn epoch_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// What the session's exit code and output say about the node.
fn judge(code: Option<i32>, stdout: &[u8], stderr: &[u8]) -> Outcome {
    let said = last_line(stderr);
    if code == Some(SSH_FAILED) && stdout.is_empty() {
        return Outcome::failed(NodeState::Unreachable, said.unwrap_or_else(|| "ssh failed and said nothing".into()));
    }
    match Outcome::of_snapshot(stdout) {
        Ok(outcome) => outcome,
        Err(_) if code == Some(remote_run::TIMED_OUT) => {
            Outcome::failed(NodeState::Error, "the remote run outlived its own deadline and was stopped")
        }
        Err(_) if code != Some(0) => {
            let exit = code.map_or("was killed by a signal".to_string(), |c| format!("exited with {c}"));
            let said = said.map(|s| format!(": {s}")).unwrap_or_default();
            Outcome::failed(NodeState::Error, format!("the remote run {exit} without a snapshot{said}"))
        }
        Err(e) => {
            Outcome::failed(NodeState::Error, format!("answered with something that is not a node snapshot ({e})"))
        }
    }
}

/// The last non-empty line of `stderr`, as safe text.
fn last_line(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    text.lines().map(str::trim).rfind(|l| !l.is_empty()).map(crate::text::sanitize)
}

/// Streams this binary into the session; errors (the node stopped reading)
/// end the push and are not the session's verdict.
async fn push_binary(mut stdin: ChildStdin) {
    if let Ok(mut binary) = tokio::fs::File::open(OWN_BINARY).await {
        let _ = tokio::io::copy(&mut binary, &mut stdin).await;
    }
}

/// All of `stream` up to [`ANSWER_CAP`]; `Err` past it.
async fn read_capped(stream: impl AsyncRead + Unpin) -> Result<Vec<u8>, ()> {
    let mut answer = Vec::new();
    let read = stream.take(ANSWER_CAP as u64 + 1).read_to_end(&mut answer).await;
    match read {
        Ok(_) if answer.len() > ANSWER_CAP => Err(()),
        _ => Ok(answer),
    }
}

/// The last [`STDERR_TAIL`] bytes of `stream`, read to its end.
async fn read_tail(mut stream: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut tail = Vec::new();
    let mut chunk = [0u8; 8192];
    while let Ok(n @ 1..) = stream.read(&mut chunk).await {
        tail.extend_from_slice(&chunk[..n]);
        if tail.len() > 2 * STDERR_TAIL {
            tail.drain(..tail.len() - STDERR_TAIL);
        }
    }
    tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remote_run_keeps_a_quarter_of_the_time_at_most_five_seconds_for_the_way() {
        let t = Duration::from_secs(3);
        assert_eq!(limits(Duration::from_secs(4), t).deadline, Duration::from_secs(3));
        assert_eq!(limits(Duration::from_secs(60), t).deadline, Duration::from_secs(55));
    }

    #[test]
    fn ssh_failures_garbage_and_exits_are_told_apart() {
        let refused = judge(Some(255), b"", b"ssh: connect to host 10.0.0.9 port 22: Connection refused\r\n");
        assert_eq!(refused.state, NodeState::Unreachable);
        assert_eq!(refused.error.as_deref(), Some("ssh: connect to host 10.0.0.9 port 22: Connection refused"));
        let garbage = judge(Some(0), b"\x1b[31mhello", b"");
        assert_eq!(garbage.state, NodeState::Error);
        assert!(garbage.error.unwrap().starts_with("answered with something that is not a node snapshot"));
        let died = judge(Some(3), b"", b"clusterdoc: cannot start\n");
        assert_eq!(
            died.error.as_deref(),
            Some("the remote run exited with 3 without a snapshot: clusterdoc: cannot start")
        );
        let killed = judge(None, b"", b"");
        assert_eq!(killed.error.as_deref(), Some("the remote run was killed by a signal without a snapshot"));
        let other = judge(Some(0), br#"{"tool": "other", "facts": {"inputs": {"root": "/", "live": true, "mesos": [], "flink": [], "roles": [], "timeout_ms": 1}}}"#, b"");
        assert_eq!(other.error.as_deref(), Some("answered as \"other\", not clusterdoc"));
    }
}
