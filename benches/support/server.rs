//! A small HTTP/1.1 server on 127.0.0.1 for the benches: fixed answers per
//! path, bodies shared (never copied per request) so a 120 MB
//! `/master/state` costs the server one `write_all`, not a clone.
//!
//! One answer per connection (`Connection: close`); dropping the server stops
//! its accept loop.

#![allow(dead_code)] // each bench uses the parts it needs

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// What the server sends for a path.
#[derive(Clone, Debug)]
pub struct Answer {
    code: u16,
    location: Option<String>,
    body: Arc<[u8]>,
}

impl Answer {
    pub fn json(body: impl Into<Arc<[u8]>>) -> Self {
        Answer { code: 200, location: None, body: body.into() }
    }

    pub fn json_value(value: &serde_json::Value) -> Self {
        Answer::json(serde_json::to_vec(value).expect("a JSON value serializes"))
    }

    /// A 307 to `location`, as a Mesos follower sends (`//host:port/path`).
    pub fn redirect(location: &str) -> Self {
        Answer { code: 307, location: Some(location.to_string()), body: Arc::from(&b""[..]) }
    }
}

pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Serves `routes` (path without query -> answer); anything else gets 404.
    pub fn start(routes: Vec<(&str, Answer)>) -> Self {
        Server::on(TcpListener::bind("127.0.0.1:0").expect("bind a loopback port"), routes)
    }

    /// Serves `routes` on a listener bound earlier (an answer that names its
    /// own address, like a master's pid, needs the port first).
    pub fn on(listener: TcpListener, routes: Vec<(&str, Answer)>) -> Self {
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let addr = listener.local_addr().expect("the listener's address");
        let routes: Arc<Vec<(String, Answer)>> = Arc::new(routes.into_iter().map(|(p, a)| (p.into(), a)).collect());
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let routes = routes.clone();
                        thread::spawn(move || serve(stream, &routes));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(1)),
                }
            }
        });
        Server { addr, stop }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(stream: TcpStream, routes: &[(String, Answer)]) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(path) = request_path(&stream) else { return };
    let not_found = Answer { code: 404, location: None, body: Arc::from(&br#"{"message":"not found"}"#[..]) };
    let answer = routes.iter().find(|(p, _)| *p == path).map_or(&not_found, |(_, a)| a);
    let _ = write_answer(&stream, answer);
}

/// The path of the request line, after reading the whole head.
fn request_path(stream: &TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let target = line.split(' ').nth(1)?;
    let path = target.split('?').next()?.to_string();
    for _ in 0..100 {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 || line == "\r\n" {
            return Some(path);
        }
    }
    None
}

fn write_answer(mut stream: &TcpStream, answer: &Answer) -> std::io::Result<()> {
    let reason = match answer.code {
        200 => "OK",
        307 => "Temporary Redirect",
        _ => "Not Found",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        answer.code,
        answer.body.len()
    );
    if let Some(location) = &answer.location {
        head.push_str(&format!("Location: {location}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&answer.body)
}
