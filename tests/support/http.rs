//! A small real HTTP/1.1 server on 127.0.0.1 for tests: a route table of
//! canned answers (fixture files, statuses, redirects, bodies that stall,
//! trickle or outgrow a limit) and a log of every request it received.
//!
//! Each connection gets one answer and is closed (`Connection: close`).
//! Dropping the server stops it: stalled answers end, the port is released.

#![allow(dead_code)] // each test file uses a different part of it

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path and query, e.g. `/v2/apps?embed=apps.tasks`.
    pub target: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// What the server sends for a route.
#[derive(Clone, Debug)]
pub enum Answer {
    /// A complete response.
    Full { code: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Announces `declared` bytes, sends `sent`, then nothing until the server stops.
    Stall { declared: usize, sent: Vec<u8> },
    /// A chunked body that sends one byte per interval until the server stops.
    Trickle(Duration),
    /// `body` sent chunked, without a Content-Length.
    Chunked(Vec<u8>),
    /// Announces `first` and `rest`, sends `first`, waits `pause`, then
    /// sends `rest` (noting when in `resumed`), or with `cut` hangs up instead.
    Paused { first: Vec<u8>, pause: Duration, rest: Vec<u8>, cut: bool, resumed: Arc<Mutex<Option<Instant>>> },
}

impl Answer {
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Answer::Full { code: 200, headers: vec![json_type()], body: body.into() }
    }

    pub fn json_value(value: &serde_json::Value) -> Self {
        Answer::json(serde_json::to_vec(value).unwrap())
    }

    /// A file under tests/fixtures, served as JSON.
    pub fn fixture(relative: &str) -> Self {
        Answer::json(fixture_bytes(relative))
    }

    pub fn status(code: u16, body: &str) -> Self {
        Answer::Full { code, headers: vec![json_type()], body: body.as_bytes().to_vec() }
    }

    /// A redirect; `location` may be relative or protocol-relative (`//host:port/path`, as Mesos sends).
    pub fn redirect(code: u16, location: &str) -> Self {
        Answer::Full { code, headers: vec![("Location".into(), location.into())], body: Vec::new() }
    }
}

fn json_type() -> (String, String) {
    ("Content-Type".into(), "application/json".into())
}

pub fn fixture_bytes(relative: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

pub fn fixture_json(relative: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture_bytes(relative)).unwrap_or_else(|e| panic!("fixture {relative}: {e}"))
}

/// The route table: path without query -> answer.
type Routes = Arc<Mutex<Vec<(String, Answer)>>>;

pub struct FakeServer {
    addr: SocketAddr,
    routes: Routes,
    log: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl FakeServer {
    /// Serves `routes` (path without query -> answer); other paths get 404.
    pub fn start(routes: Vec<(&str, Answer)>) -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").expect("bind a loopback port"), routes)
    }

    /// Serves `routes` on a listener bound beforehand, so that an answer can
    /// name the server's own address.
    pub fn start_on(listener: TcpListener, routes: Vec<(&str, Answer)>) -> Self {
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: Routes = Arc::new(Mutex::new(routes.into_iter().map(|(p, a)| (p.to_string(), a)).collect()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (routes2, log2, stop2) = (routes.clone(), log.clone(), stop.clone());
        thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (routes, log, stop) = (routes2.clone(), log2.clone(), stop2.clone());
                        thread::spawn(move || serve(stream, &routes, &log, &stop));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeServer { addr, routes, log, stop }
    }

    /// From now on, answers `path` with `answer`.
    pub fn replace(&self, path: &str, answer: Answer) {
        let mut routes = self.routes.lock().unwrap();
        routes.retain(|(p, _)| p != path);
        routes.push((path.to_string(), answer));
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://USER:PASSWORD@127.0.0.1:PORT`.
    pub fn url_with_credentials(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@{}", self.addr)
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    pub fn requested(&self, path: &str) -> bool {
        self.requests().iter().any(|r| r.path() == path)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

fn serve(mut stream: TcpStream, routes: &Mutex<Vec<(String, Answer)>>, log: &Mutex<Vec<Request>>, stop: &AtomicBool) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let Some(request) = read_request(&mut stream) else { return };
    let answer = routes
        .lock()
        .unwrap()
        .iter()
        .find(|(path, _)| path == request.path())
        .map(|(_, a)| a.clone())
        .unwrap_or_else(|| Answer::status(404, r#"{"message":"not found"}"#));
    log.lock().unwrap().push(request);
    let _ = write_answer(&mut stream, &answer, stop);
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Request { method, target, headers })
}

fn write_answer(stream: &mut TcpStream, answer: &Answer, stop: &AtomicBool) -> std::io::Result<()> {
    match answer {
        Answer::Full { code, headers, body } => {
            write_head(stream, *code, headers, &format!("Content-Length: {}", body.len()))?;
            stream.write_all(body)
        }
        Answer::Stall { declared, sent } => {
            write_head(stream, 200, &[json_type()], &format!("Content-Length: {declared}"))?;
            stream.write_all(sent)?;
            stream.flush()?;
            wait_for(stop, || Ok(()))
        }
        Answer::Trickle(interval) => {
            write_head(stream, 200, &[json_type()], "Transfer-Encoding: chunked")?;
            stream.write_all(b"1\r\n[\r\n")?;
            wait_for(stop, || {
                thread::sleep(*interval);
                stream.write_all(b"1\r\n \r\n")
            })
        }
        Answer::Paused { first, pause, rest, cut, resumed } => {
            let declared = format!("Content-Length: {}", first.len() + rest.len());
            write_head(stream, 200, &[json_type()], &declared)?;
            stream.write_all(first)?;
            stream.flush()?;
            thread::sleep(*pause);
            if *cut {
                return Ok(());
            }
            *resumed.lock().unwrap() = Some(Instant::now());
            stream.write_all(rest)
        }
        Answer::Chunked(body) => {
            write_head(stream, 200, &[json_type()], "Transfer-Encoding: chunked")?;
            for chunk in body.chunks(64 * 1024) {
                write!(stream, "{:x}\r\n", chunk.len())?;
                stream.write_all(chunk)?;
                stream.write_all(b"\r\n")?;
            }
            stream.write_all(b"0\r\n\r\n")
        }
    }
}

fn write_head(stream: &mut TcpStream, code: u16, headers: &[(String, String)], length: &str) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {code} {}\r\nConnection: close\r\n{length}\r\n", reason(code));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())
}

/// Runs `step` until the server stops (or the client goes away).
fn wait_for(stop: &AtomicBool, mut step: impl FnMut() -> std::io::Result<()>) -> std::io::Result<()> {
    while !stop.load(Ordering::Relaxed) {
        step()?;
        thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        404 => "Not Found",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
