//! `clusterdoc serve` as the tests run it: the real binary listening on a
//! loopback port the kernel picks (`--listen 127.0.0.1:0`; the server says
//! which in its first line on stderr), its stderr kept line by line, and
//! real HTTP clients (reqwest) to ask it. Dropping the value kills the
//! server, also when a test panics.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::cli;

/// How long a debug build may take to start listening on a machine whose
/// cores are all busy.
const START_DEADLINE: Duration = Duration::from_secs(60);

pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT` (or `https://`).
    pub base: String,
    stderr: Arc<Mutex<Vec<String>>>,
    _cwd: TempDir,
}

impl Server {
    /// Starts `clusterdoc serve --listen 127.0.0.1:0 ARGS` and waits until
    /// it listens.
    pub fn start(args: &[&str]) -> Server {
        let cwd = tempfile::tempdir().unwrap();
        let mut command = cli::plain(cwd.path());
        command.args(["serve", "--listen", "127.0.0.1:0"]).args(args);
        Server::start_command(command, cwd)
    }

    /// Starts `command` (a clusterdoc serve, maybe wrapped) and waits until
    /// it says where it listens.
    pub fn start_command(mut command: std::process::Command, cwd: TempDir) -> Server {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start clusterdoc serve");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (listening, base) = mpsc::channel();
        let (lines, pipe) = (stderr.clone(), child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(at) = line.strip_prefix("clusterdoc serve: listening on ") {
                    let _ = listening.send(at.split_whitespace().next().unwrap_or_default().to_string());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let mut server = Server { child, base: String::new(), stderr, _cwd: cwd };
        match base.recv_timeout(START_DEADLINE) {
            Ok(base) => server.base = base,
            Err(_) => {
                let status = server.child.try_wait().unwrap();
                panic!("clusterdoc serve did not listen ({status:?}); stderr:\n{}", server.stderr().join("\n"));
            }
        }
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        self.base.rsplit('/').next().unwrap().to_string()
    }

    /// What the server wrote on stderr so far, a line each.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// The log lines of runs of `what` (`checks`, `snapshot`).
    pub fn runs(&self, what: &str) -> Vec<String> {
        let prefix = format!("clusterdoc serve: {what} run ");
        self.stderr().into_iter().filter(|l| l.starts_with(&prefix)).collect()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits at most `limit` for the server to end.
    pub fn terminate(&mut self, limit: Duration) -> Option<ExitStatus> {
        // SAFETY: kill has no memory preconditions; the PID is our child's.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Whether the server still runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A reqwest client for tests: rustls with ring (the crate's provider), no
/// proxy from the environment.
pub fn client() -> reqwest::Client {
    client_trusting(None)
}

/// [`client`], also trusting the PEM certificate at `ca`.
pub fn client_trusting(ca: Option<&Path>) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(120));
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).unwrap();
        builder = builder.tls_certs_merge([reqwest::Certificate::from_pem(&pem).unwrap()]);
    }
    builder.build().unwrap()
}

/// A finished request: status, headers, body.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// GET `url` with `headers`.
pub async fn get(client: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = client.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("GET {url}: {e:?}"));
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    Answer { status, headers, body: response.text().await.unwrap() }
}
