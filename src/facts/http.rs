//! The HTTP client shared by the Mesos, Marathon and Flink facts.
//!
//! GET only. Every request is bounded in time (connect and each read by
//! `--timeout`, the whole exchange by the run's deadline) and in size (the body
//! is capped while it streams). Redirects are followed by hand: loops end with
//! a clear error, credentials go only to the origin the user named, and the
//! Mesos facts can see a master's own 307 instead of silently landing on the
//! leader. Errors name the endpoint (never with credentials), the path and
//! what went wrong.

use std::fmt;
use std::path::Path;

use reqwest::header::LOCATION;
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;

use super::{Fact, Gatherer, net_error};
use crate::config::Config;
use crate::redact::redact_url;
use crate::target::Target;

mod stream;
pub use stream::{Gathered, JsonStream};

/// Redirect hops followed before giving up.
const MAX_REDIRECTS: usize = 5;
/// Bodies above this size are parsed off the async runtime's threads.
const PARSE_INLINE_BELOW: usize = 1 << 20;
/// The most memory reserved up front from a (possibly lying) Content-Length.
const MAX_PREALLOCATION: u64 = 16 << 20;
/// How much longer than the connect the first read may wait (see [`client`]).
const CONNECT_FIRST: std::time::Duration = std::time::Duration::from_millis(50);
/// Body pieces a streamed parse may lag behind the network.
const PIECES_IN_FLIGHT: usize = 64;

/// The shared client. Redirects are off here: [`get`] follows them itself.
pub fn client(cfg: &Config) -> Result<reqwest::Client, String> {
    builder(cfg)?
        // Per read, not per request: a large /master/state that keeps
        // streaming is fine; a stalled one is not. The deadline caps the rest.
        // reqwest starts this clock with the request, so it also runs while
        // connecting: a hair longer than the connect timeout, a port that
        // drops SYNs is reported as a connect that timed out (a firewall, a
        // host down), not as a server that does not answer (a hung process).
        .read_timeout(cfg.timeout + CONNECT_FIRST)
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {}", net_error::reason(&e)))
}

/// A client as the run's settings make it (connect timeout, TLS trust, no
/// redirects), before any limit on reading.
pub fn builder(cfg: &Config) -> Result<reqwest::ClientBuilder, String> {
    // The process-wide TLS provider; a second install (a second client) is a no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(cfg.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("clusterdoc/", env!("CARGO_PKG_VERSION")))
        .tls_danger_accept_invalid_certs(cfg.insecure);
    if let Some(path) = &cfg.ca_cert {
        builder = builder.tls_certs_merge(read_ca_certs(path)?);
    }
    Ok(builder)
}

fn read_ca_certs(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let what = format!("--ca-cert {}", path.display());
    let pem = std::fs::read(path).map_err(|e| format!("{what}: {e}"))?;
    let certs =
        reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| format!("{what}: not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{what}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file"));
    }
    Ok(certs)
}

/// The most a response body may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLimit(pub u64);

impl BodyLimit {
    /// `/master/state` of a big cluster runs to 100+ MB.
    pub const MESOS_STATE: BodyLimit = BodyLimit(256 << 20);
    /// Marathon's app, queue and deployment lists.
    pub const LIST: BodyLimit = BodyLimit(64 << 20);
    /// Everything else: info, leader, health, metrics, Flink endpoints.
    pub const SMALL: BodyLimit = BodyLimit(4 << 20);
}

impl fmt::Display for BodyLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} MiB", self.0 >> 20)
    }
}

/// A service as errors name it: "Mesos master at http://m1:5050".
#[derive(Clone, Debug)]
pub struct Service {
    what: &'static str,
    target: Target,
}

impl Service {
    pub fn new(what: &'static str, target: &Target) -> Self {
        Service { what, target: target.clone() }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The endpoint's URL without credentials.
    pub fn url(&self) -> String {
        self.target.display()
    }

    fn label(&self) -> String {
        format!("{} at {}", self.what, self.target.display())
    }

    /// The fact for a first contact that failed: an implicit default that
    /// does not answer is absent (its checks skip and say how to name it);
    /// anything else failed.
    pub fn absent_or_failed<T>(&self, error: &HttpError, name_it: &str) -> Fact<T> {
        match &error.problem {
            Problem::NoAnswer(why) if !self.target.explicit => Fact::unavailable(format!(
                "no {} answers at {} ({why}); name one with {name_it}",
                self.what,
                self.url()
            )),
            _ => Fact::failed(error.to_string()),
        }
    }
}

/// What went wrong with one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    /// Nothing answered: connection refused, no route, timed out, unknown host.
    NoAnswer(String),
    /// Something answered but the exchange broke (TLS, reset, stalled body).
    Transport(String),
    /// An HTTP status other than success, with the server's message if any.
    Status {
        code: u16,
        detail: String,
    },
    Redirect(String),
    TooLarge(BodyLimit),
    Json(String),
    Deadline,
    /// The client itself could not be set up (bad --ca-cert).
    Client(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NoAnswer(why)
            | Problem::Transport(why)
            | Problem::Redirect(why)
            | Problem::Json(why)
            | Problem::Client(why) => f.write_str(why),
            Problem::Status { code, detail } => {
                let reason = StatusCode::from_u16(*code).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
                write!(f, "HTTP {code} {reason}")?;
                if !detail.is_empty() {
                    write!(f, ": {detail}")?;
                }
                Ok(())
            }
            Problem::TooLarge(limit) => write!(f, "body larger than {limit}; refused"),
            Problem::Deadline => f.write_str("gave up at the run's deadline (--deadline)"),
        }
    }
}

/// A failed request: "Mesos master at http://m1:5050: /master/state: connection refused".
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{endpoint}: {path}{via}: {problem}")]
pub struct HttpError {
    endpoint: String,
    path: String,
    /// " (redirected to URL)" when the failure happened after a redirect.
    via: String,
    pub problem: Problem,
}

impl HttpError {
    /// The HTTP status, when the server answered with an unsuccessful one.
    pub fn status(&self) -> Option<u16> {
        match self.problem {
            Problem::Status { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl<T> From<Result<T, HttpError>> for Fact<T> {
    fn from(result: Result<T, HttpError>) -> Self {
        result.map_or_else(|e| Fact::failed(e.to_string()), Fact::observed)
    }
}

/// Where a request is at, for its error messages.
#[derive(Clone, Debug)]
struct Context {
    endpoint: String,
    path: String,
    via: String,
}

impl Context {
    fn error(&self, problem: Problem) -> HttpError {
        HttpError { endpoint: self.endpoint.clone(), path: self.path.clone(), via: self.via.clone(), problem }
    }
}

/// Whether [`get`] follows redirects or hands them back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redirects {
    Follow,
    /// Return a 3xx as the reply (Mesos: a master's own answer "the leader is there").
    Report,
}

/// A response that arrived whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    /// Where a redirect pointed (with [`Redirects::Report`]); never has credentials.
    pub location: Option<Url>,
    pub body: Vec<u8>,
    context: Context,
}

impl Reply {
    /// The reply if its status is a success, else the error with the server's message.
    pub fn success(self) -> Result<Self, HttpError> {
        if self.status.is_success() {
            return Ok(self);
        }
        Err(self.context.error(Problem::Status { code: self.status.as_u16(), detail: server_message(&self.body) }))
    }

    /// Parses the body; large bodies are parsed on a blocking thread.
    pub async fn json<T: DeserializeOwned + Send + 'static>(self) -> Result<T, HttpError> {
        let Reply { body, context, .. } = self;
        let parsed = if body.len() < PARSE_INLINE_BELOW {
            parse_json(&body)
        } else {
            tokio::task::spawn_blocking(move || parse_json(&body))
                .await
                .unwrap_or_else(|e| Err(Problem::Json(format!("the JSON parser crashed: {e}"))))
        };
        parsed.map_err(|p| context.error(p))
    }
}

/// GETs `path` (which may carry a query) from an endpoint.
pub async fn get(
    g: &Gatherer,
    endpoint: &Service,
    path: &str,
    limit: BodyLimit,
    redirects: Redirects,
) -> Result<Reply, HttpError> {
    get_streamed(g, endpoint, path, limit, redirects).await?.into_reply().await
}

/// GETs `path`, following redirects, and parses a successful JSON answer.
pub async fn get_json<T: DeserializeOwned + Send + 'static>(
    g: &Gatherer,
    endpoint: &Service,
    path: &str,
    limit: BodyLimit,
) -> Result<T, HttpError> {
    get(g, endpoint, path, limit, Redirects::Follow).await?.success()?.json().await
}

/// GETs `path` up to the response's head; the body is read by [`Streamed`].
pub async fn get_streamed(
    g: &Gatherer,
    endpoint: &Service,
    path: &str,
    limit: BodyLimit,
    redirects: Redirects,
) -> Result<Streamed, HttpError> {
    let mut context = Context { endpoint: endpoint.label(), path: path.to_string(), via: String::new() };
    let client = g.http().await.map_err(|e| context.error(Problem::Client(e)))?;
    let exchange = exchange(client, &endpoint.target.url, path, redirects, &mut context);
    let (status, location, response) = match tokio::time::timeout_at(g.deadline, exchange).await {
        Ok(head) => head?,
        Err(_) => return Err(context.error(Problem::Deadline)),
    };
    Ok(Streamed { status, location, response, limit, deadline: g.deadline, context })
}

/// A response whose body is still to be read.
#[derive(Debug)]
pub struct Streamed {
    pub status: StatusCode,
    /// Where a redirect pointed (with [`Redirects::Report`]); never has credentials.
    pub location: Option<Url>,
    /// None for a reported redirect (its body is not read).
    response: Option<reqwest::Response>,
    limit: BodyLimit,
    deadline: tokio::time::Instant,
    context: Context,
}

impl Streamed {
    /// The whole reply, body read into memory.
    pub async fn into_reply(self) -> Result<Reply, HttpError> {
        let Streamed { status, location, response, limit, deadline, context } = self;
        let body = match response {
            None => Vec::new(),
            Some(mut response) => match tokio::time::timeout_at(deadline, read_body(&mut response, limit)).await {
                Ok(body) => body.map_err(|p| context.error(p))?,
                Err(_) => return Err(context.error(Problem::Deadline)),
            },
        };
        Ok(Reply { status, location, body, context })
    }

    /// Parses a successful answer's body with `parse` on a blocking thread
    /// while the body arrives, never holding it whole: what a 100+ MB
    /// `/master/state` needs. Anything but a success is an error with the
    /// server's message.
    pub async fn json_streamed<T: Send + 'static>(
        self,
        parse: impl FnOnce(&mut JsonStream) -> Result<T, Problem> + Send + 'static,
    ) -> Result<T, HttpError> {
        let Streamed { status, location, response, limit, deadline, context } = self;
        let mut response = match response {
            Some(response) if status.is_success() => response,
            response => {
                let unsuccessful = Streamed { status, location, response, limit, deadline, context };
                let reply = unsuccessful.into_reply().await?.success()?;
                let problem = Problem::Status { code: reply.status.as_u16(), detail: String::new() };
                return Err(reply.context.error(problem));
            }
        };
        let (pieces, mut arrived) = tokio::sync::mpsc::channel(PIECES_IN_FLIGHT);
        // Written before the parser so that the pieces' type is known there.
        let feed = async move {
            let mut received = 0;
            within(limit, response.content_length().unwrap_or(0), 0)?;
            while let Some(piece) = response.chunk().await.map_err(|e| body_problem(&e, received))? {
                within(limit, received as u64, piece.len())?;
                received += piece.len();
                if pieces.send(piece).await.is_err() {
                    break; // the parser has stopped: its error says why
                }
            }
            Ok(())
        };
        let parser = tokio::task::spawn_blocking(move || {
            let refill = Box::new(move |buf: &mut Vec<u8>| match arrived.blocking_recv() {
                Some(piece) => {
                    buf.extend_from_slice(&piece);
                    true
                }
                None => false,
            });
            parse(&mut JsonStream::new(refill))
        });
        let fed = tokio::time::timeout_at(deadline, feed).await.unwrap_or(Err(Problem::Deadline));
        let parsed = parser.await.unwrap_or_else(|e| Err(Problem::Json(format!("the JSON parser crashed: {e}"))));
        // A body that broke off, grew too large or ran past the deadline
        // explains whatever the parser made of it.
        fed.and(parsed).map_err(|p| context.error(p))
    }
}

/// Refuses a body that would outgrow the limit with `more` bytes.
fn within(limit: BodyLimit, received: u64, more: usize) -> Result<(), Problem> {
    if received + more as u64 > limit.0 { Err(Problem::TooLarge(limit)) } else { Ok(()) }
}

async fn exchange(
    client: &reqwest::Client,
    base: &Url,
    path: &str,
    redirects: Redirects,
    context: &mut Context,
) -> Result<(StatusCode, Option<Url>, Option<reqwest::Response>), HttpError> {
    let mut url = join(base, path);
    let mut visited = vec![redact_url(&url)];
    loop {
        let response = client.get(url.clone()).send().await.map_err(|e| context.error(request_problem(&e)))?;
        let status = response.status();
        if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
            let next = redirect_target(&response, &url).map_err(|p| context.error(p))?;
            if redirects == Redirects::Report {
                return Ok((status, Some(next), None));
            }
            url = next_hop(base, next, &mut visited).map_err(|p| context.error(p))?;
            context.via = format!(" (redirected to {})", redact_url(&url));
            continue;
        }
        return Ok((status, None, Some(response)));
    }
}

/// `base` + `path?query`, keeping any path prefix of the base (a Marathon
/// behind a reverse proxy at `/marathon`).
fn join(base: &Url, path: &str) -> Url {
    let (path, query) = path.split_once('?').map_or((path, None), |(p, q)| (p, Some(q)));
    let mut url = base.clone();
    url.set_path(&format!("{}{}", base.path().trim_end_matches('/'), path));
    url.set_query(query);
    url
}

/// The Location of a redirect, resolved (Mesos sends `//host:port/path`).
fn redirect_target(response: &reqwest::Response, from: &Url) -> Result<Url, Problem> {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(LOCATION)
        .ok_or_else(|| Problem::Redirect(format!("HTTP {status} redirect without a Location header")))?;
    let location = location
        .to_str()
        .map_err(|_| Problem::Redirect(format!("HTTP {status} redirect to a Location that is not text")))?;
    let mut next = from
        .join(location)
        .map_err(|e| Problem::Redirect(format!("HTTP {status} redirect to an unusable Location: {e}")))?;
    let _ = next.set_username("");
    let _ = next.set_password(None);
    Ok(next)
}

/// The next URL to request, with the named credentials only if it stays on
/// the named origin; refuses loops and long chains.
fn next_hop(base: &Url, mut next: Url, visited: &mut Vec<String>) -> Result<Url, Problem> {
    let shown = redact_url(&next);
    if visited.contains(&shown) {
        visited.push(shown);
        return Err(Problem::Redirect(format!("redirect loop: {}", visited.join(" -> "))));
    }
    visited.push(shown);
    if visited.len() > MAX_REDIRECTS + 1 {
        return Err(Problem::Redirect(format!("more than {MAX_REDIRECTS} redirects: {}", visited.join(" -> "))));
    }
    if next.scheme() != "http" && next.scheme() != "https" {
        return Err(Problem::Redirect(format!("redirect to a non-HTTP URL {}", redact_url(&next))));
    }
    if next.origin() == base.origin() {
        let _ = next.set_username(base.username());
        let _ = next.set_password(base.password());
    }
    Ok(next)
}

/// Reads the whole body, refusing it as soon as it outgrows the limit.
async fn read_body(response: &mut reqwest::Response, limit: BodyLimit) -> Result<Vec<u8>, Problem> {
    within(limit, response.content_length().unwrap_or(0), 0)?;
    let reserve = response.content_length().unwrap_or(0).min(MAX_PREALLOCATION);
    let mut body = Vec::with_capacity(reserve as usize);
    while let Some(chunk) = response.chunk().await.map_err(|e| body_problem(&e, body.len()))? {
        within(limit, body.len() as u64, chunk.len())?;
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    use serde_json::error::Category;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::Json("empty body where JSON was expected".into()));
    }
    serde_json::from_slice(body).map_err(|e| {
        Problem::Json(match e.classify() {
            Category::Eof => format!("truncated JSON at line {} column {}", e.line(), e.column()),
            Category::Data => format!("unexpected JSON: {e}"),
            Category::Syntax | Category::Io => format!("invalid JSON: {e}"),
        })
    })
}

/// The server's own words from an error body: Marathon's `{"message": ..}`,
/// else the start of the text on one line.
fn server_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Message {
        message: String,
    }
    let text = match serde_json::from_slice::<Message>(body) {
        Ok(m) => m.message,
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    }
}

/// Names a failed request the way an operator thinks about it.
fn request_problem(e: &reqwest::Error) -> Problem {
    if let Some(io) = net_error::io_cause(e) {
        return match io.kind() {
            std::io::ErrorKind::TimedOut => timed_out(e),
            // The TLS layer reports every handshake failure as InvalidData.
            std::io::ErrorKind::InvalidData if e.is_connect() => tls_problem(io),
            _ if e.is_connect() => Problem::NoAnswer(net_error::io_reason(io)),
            _ => Problem::Transport(net_error::io_reason(io)),
        };
    }
    if e.is_timeout() {
        return timed_out(e);
    }
    if e.is_connect() {
        return Problem::NoAnswer(net_error::reason(e));
    }
    Problem::Transport(net_error::reason(e))
}

fn timed_out(e: &reqwest::Error) -> Problem {
    let phase = if e.is_connect() { "connecting" } else { "waiting for the response" };
    Problem::NoAnswer(format!("timed out {phase} (--timeout)"))
}

fn tls_problem(cause: &std::io::Error) -> Problem {
    let text = cause.to_string();
    let hint = if text.contains("certificate") {
        " (trust its CA with --ca-cert FILE, or skip verification with --insecure)"
    } else {
        ""
    };
    Problem::Transport(format!("TLS handshake failed: {text}{hint}"))
}

fn body_problem(e: &reqwest::Error, received: usize) -> Problem {
    if e.is_timeout() {
        return Problem::Transport(format!("the body stalled after {received} bytes: no data within --timeout"));
    }
    Problem::Transport(format!("the body broke off after {received} bytes: {}", net_error::reason(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server on loopback that sends a chunked 200 with `{`, then a space
    /// every 50 ms for as long as the client listens (at most a minute).
    async fn trickling_object() -> Url {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            while !request.ends_with(b"\r\n\r\n") && stream.read_u8().await.map(|b| request.push(b)).is_ok() {}
            let head =
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n1\r\n{\r\n";
            let mut sent = stream.write_all(head.as_bytes()).await;
            for _ in 0..1200 {
                if sent.is_err() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                sent = stream.write_all(b"1\r\n \r\n").await;
            }
        });
        url
    }

    #[tokio::test]
    async fn a_streamed_body_that_never_ends_stops_at_the_deadline() {
        let cfg = Config::resolve(None, &crate::config::Settings::default()).unwrap();
        let started = tokio::time::Instant::now();
        let g = Gatherer::new(std::sync::Arc::new(cfg), started + std::time::Duration::from_millis(400));
        let endpoint = Service::new("Mesos master", &Target { url: trickling_object().await, explicit: true });
        let streamed = get_streamed(&g, &endpoint, "/master/state", BodyLimit::MESOS_STATE, Redirects::Report);
        let error = streamed.await.unwrap().json_streamed(|s| s.skip()).await.unwrap_err();
        assert_eq!(error.problem, Problem::Deadline);
        // Far below the minute the body would take, with room for a loaded machine.
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "took {:?}", started.elapsed());
        assert!(error.to_string().ends_with("/master/state: gave up at the run's deadline (--deadline)"), "{error}");
    }

    #[test]
    fn joins_keep_a_proxy_prefix_and_the_query() {
        let base = Url::parse("http://u:p@h:8080/marathon/").unwrap();
        let url = join(&base, "/v2/apps?embed=apps.tasks");
        assert_eq!(url.as_str(), "http://u:p@h:8080/marathon/v2/apps?embed=apps.tasks");
        assert_eq!(join(&Url::parse("http://h:5050").unwrap(), "/master/state").path(), "/master/state");
    }

    #[test]
    fn credentials_follow_only_same_origin_redirects() {
        let base = Url::parse("http://admin:pw@m1:5050").unwrap();
        let same = next_hop(&base, Url::parse("http://m1:5050/x").unwrap(), &mut vec![]).unwrap();
        assert_eq!((same.username(), same.password()), ("admin", Some("pw")));
        let other = next_hop(&base, Url::parse("http://m2:5050/x").unwrap(), &mut vec![]).unwrap();
        assert_eq!((other.username(), other.password()), ("", None));
    }

    #[test]
    fn loops_and_long_chains_are_refused() {
        let base = Url::parse("http://h").unwrap();
        let mut visited = vec!["http://h/a".to_string()];
        let err = next_hop(&base, Url::parse("http://h/a").unwrap(), &mut visited).unwrap_err();
        assert_eq!(err, Problem::Redirect("redirect loop: http://h/a -> http://h/a".into()));
        let mut visited = Vec::new();
        for i in 0..=MAX_REDIRECTS {
            next_hop(&base, Url::parse(&format!("http://h/{i}")).unwrap(), &mut visited).unwrap();
        }
        let err = next_hop(&base, Url::parse("http://h/last").unwrap(), &mut visited).unwrap_err();
        assert!(err.to_string().starts_with("more than 5 redirects"), "{err}");
    }

    #[test]
    fn json_errors_say_where() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Info {
            version: String,
        }
        assert_eq!(
            parse_json::<Info>(br#"{"version": "1.4"#).unwrap_err(),
            Problem::Json("truncated JSON at line 1 column 16".into())
        );
        assert!(matches!(parse_json::<Info>(b"<html>"), Err(Problem::Json(m)) if m.starts_with("invalid JSON")));
        assert!(matches!(parse_json::<Info>(b"{}"), Err(Problem::Json(m)) if m.contains("missing field `version`")));
        assert_eq!(parse_json::<Info>(b" \n").unwrap_err(), Problem::Json("empty body where JSON was expected".into()));
    }

    #[test]
    fn server_messages_are_short_single_lines() {
        assert_eq!(server_message(br#"{"message":"There is no leader"}"#), "There is no leader");
        assert_eq!(server_message(b"No leader\n  elected"), "No leader elected");
        assert_eq!(server_message(&[b'x'; 500]).len(), 203);
    }
}
