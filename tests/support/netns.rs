//! Network namespaces for tests: a client and a server namespace joined by a
//! veth pair, with addresses (10.213.0.0/24) that exist only inside them, and
//! nftables rules in the server namespace. Traffic never leaves the two
//! namespaces. Both are deleted on drop, also when a test panics.
//!
//! Needs root, `ip` (iproute2) and `nft` (nftables): without them a test
//! fails saying so.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(10, 213, 0, 1);
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(10, 213, 0, 2);
const PREFIX: u8 = 24;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Fails the calling test, with what is missing, unless it can build
/// namespaces.
pub fn require_root_and_tools() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(euid, 0, "this test needs root to create network namespaces (run the suite as root, as CI does)");
    for (tool, version_flag, package) in [("ip", "-V", "iproute2"), ("nft", "--version", "nftables")] {
        let works = Command::new(tool).arg(version_flag).output().is_ok_and(|o| o.status.success());
        assert!(works, "this test needs `{tool}` (install the {package} package)");
    }
}

pub fn run(program: &str, args: &[&str]) -> Output {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} {}: {e}", args.join(" ")));
    assert!(
        output.status.success(),
        "{program} {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// One named network namespace, deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn create(name: String) -> Netns {
        run("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        ns.exec(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    /// Runs a command inside the namespace and requires it to succeed.
    pub fn exec(&self, args: &[&str]) -> Output {
        let mut all = vec!["netns", "exec", &self.name];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// A command that will run inside the namespace.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]).arg(program);
        command
    }

    /// Loads an nftables ruleset (`nft -f -` syntax) into the namespace.
    pub fn nft(&self, ruleset: &str) {
        let mut child = self
            .command("nft")
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run nft");
        child.stdin.take().unwrap().write_all(ruleset.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "nft rejected the ruleset: {}", String::from_utf8_lossy(&output.stderr));
    }

    /// Runs `work` on a thread that has entered the namespace: sockets it
    /// creates live there.
    pub fn enter<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        let handle = File::open(format!("/run/netns/{}", self.name)).expect("namespace handle");
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    // SAFETY: setns on a valid namespace fd changes only this thread.
                    let rc = unsafe { libc::setns(handle.as_raw_fd(), libc::CLONE_NEWNET) };
                    assert_eq!(rc, 0, "setns into {}: {}", self.name, std::io::Error::last_os_error());
                    work()
                })
                .join()
                .expect("the thread inside the namespace panicked")
        })
    }

    /// A listening socket inside the namespace; the kernel completes
    /// handshakes for it without anyone accepting.
    pub fn listen(&self, addr: SocketAddr) -> TcpListener {
        self.enter(|| TcpListener::bind(addr)).unwrap_or_else(|e| panic!("listen on {addr} in {}: {e}", self.name))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).output();
    }
}

/// A client and a server namespace joined by a veth pair:
/// CLIENT_IP <-> SERVER_IP, no other route.
pub struct Pair {
    pub client: Netns,
    pub server: Netns,
}

impl Pair {
    pub fn new() -> Pair {
        require_root_and_tools();
        let base = format!("cdoc-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let client = Netns::create(format!("{base}-c"));
        let server = Netns::create(format!("{base}-s"));
        // Created directly inside the namespaces: nothing is left in the
        // host's namespace, and the pair goes away with them.
        run(
            "ip",
            &[
                "link",
                "add",
                "cdoc0",
                "netns",
                &client.name,
                "type",
                "veth",
                "peer",
                "name",
                "cdoc0",
                "netns",
                &server.name,
            ],
        );
        for (ns, ip) in [(&client, CLIENT_IP), (&server, SERVER_IP)] {
            ns.exec(&["ip", "addr", "add", &format!("{ip}/{PREFIX}"), "dev", "cdoc0"]);
            ns.exec(&["ip", "link", "set", "cdoc0", "up"]);
        }
        Pair { client, server }
    }
}

/// A tiny HTTP server inside a namespace answering GETs from a fixed table
/// of paths (404 otherwise); stopped on drop.
pub struct HttpServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    pub fn start(ns: &Netns, addr: SocketAddr, routes: Vec<(&'static str, String)>) -> HttpServer {
        let listener = ns.listen(addr);
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => answer(stream, &routes),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        HttpServer { stop, thread: Some(thread) }
    }
}

fn answer(mut stream: std::net::TcpStream, routes: &[(&'static str, String)]) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").split('?').next().unwrap_or("/").to_string();
    let (status, body) = match routes.iter().find(|(p, _)| *p == path) {
        Some((_, body)) => ("200 OK", body.as_str()),
        None => ("404 Not Found", ""),
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(reply.as_bytes());
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
