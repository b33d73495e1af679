//! What the server answers to a request: the endpoint, the method, the
//! credentials, the representation asked (`?format=` or `Accept`), then the
//! latest run's result in it. The status code of `/healthz` comes from the
//! verdict whatever representation is asked; the other endpoints answer 200
//! whenever they have a result.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Response, StatusCode};
use tokio::sync::watch;

use super::access::Access;
use super::flight::{Done, Flight, Reply};
use crate::cli::Format;
use crate::config::MAX_DURATION;
use crate::plan;
use crate::report::human::Detail;
use crate::report::{Report, healthz, prometheus};

pub type Body = Full<Bytes>;

/// Prometheus' scrape timeout, sent with each scrape.
const SCRAPE_TIMEOUT: &str = "x-prometheus-scrape-timeout-seconds";
/// Kept back from a scrape's timeout for the answer's way back (as
/// blackbox_exporter does).
const SCRAPE_MARGIN: f64 = 0.5;
const FORMATS: &str = "human, json, junit, tap, nagios, prometheus, html";
const PROMETHEUS_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
const TEXT_TYPE: &str = "text/plain; charset=utf-8";

/// What the server serves from.
pub struct Served {
    pub checks: Arc<Flight<Report>>,
    pub snapshot: Arc<Flight<Bytes>>,
    pub access: Access,
    /// The human format's detail (`-v`, `-q`).
    pub detail: Detail,
    /// Set when the server stops: requests waiting for a run take what
    /// there is.
    pub stopping: watch::Receiver<bool>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Metrics,
    Healthz,
    Report,
    Snapshot,
}

impl Endpoint {
    fn of(path: &str) -> Option<Endpoint> {
        match path {
            "/metrics" => Some(Endpoint::Metrics),
            "/healthz" => Some(Endpoint::Healthz),
            "/report" => Some(Endpoint::Report),
            "/snapshot" => Some(Endpoint::Snapshot),
            _ => None,
        }
    }
}

/// The representation a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// Whatever the endpoint gives by default (no preference, `*/*`).
    Default,
    /// Plain text: the health lines of `/healthz`, the human report.
    Text,
    Format(Format),
}

/// A request the server turns down, and why.
struct Refusal(StatusCode, String);

/// The query's parameters the server knows.
#[derive(Default)]
struct Query {
    verbose: bool,
    format: Option<String>,
}

impl Query {
    fn of(query: Option<&str>) -> Query {
        let mut known = Query::default();
        for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_encoding::percent_decode_str(&value.replace('+', " ")).decode_utf8_lossy().into_owned();
            match key {
                "verbose" => known.verbose = !matches!(value.as_str(), "0" | "false"),
                "format" => known.format = Some(value),
                _ => {}
            }
        }
        known
    }
}

/// What a request asks for, read from its head alone.
pub struct Asked {
    endpoint: Endpoint,
    want: Want,
    query: Query,
}

impl Asked {
    /// The bare health check says only healthy or not: load balancers and
    /// Marathon's health checks, which send no credentials, may ask it.
    pub fn is_open(&self) -> bool {
        self.endpoint == Endpoint::Healthz && !self.query.verbose && matches!(self.want, Want::Default | Want::Text)
    }
}

/// The request's endpoint and the representation it asks for, or the
/// answer that turns it down at once (unknown endpoint, a method that is not
/// GET or HEAD, a body, an unknown format). A pure function of the head, so
/// it is fuzzed (fuzz/fuzz_targets/serve_request.rs); never panics.
pub fn read_request(request: &Parts) -> Result<Asked, Box<Response<Body>>> {
    let Some(endpoint) = Endpoint::of(request.uri.path()) else {
        let unknown = "no such endpoint: /metrics, /healthz, /report and /snapshot are served\n";
        return Err(Box::new(text(StatusCode::NOT_FOUND, unknown)));
    };
    if request.method != Method::GET && request.method != Method::HEAD {
        let mut refused = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD: the server only reads\n");
        refused.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Err(Box::new(refused));
    }
    if has_body(&request.headers) {
        return Err(Box::new(text(StatusCode::PAYLOAD_TOO_LARGE, "requests to this server carry no body\n")));
    }
    let query = Query::of(request.uri.query());
    match wanted(endpoint, &query, &request.headers) {
        Ok(want) => Ok(Asked { endpoint, want, query }),
        Err(Refusal(code, why)) => Err(Box::new(text(code, &format!("{why}\n")))),
    }
}

impl Served {
    /// The answer to a request; never fails, never panics.
    pub async fn answer(&self, request: &Parts) -> Response<Body> {
        let asked = match read_request(request) {
            Ok(asked) => asked,
            Err(refused) => return *refused,
        };
        let (endpoint, want, query) = (asked.endpoint, asked.want, &asked.query);
        if !asked.is_open() && !self.access.admits(&request.headers) {
            let mut refused = text(StatusCode::UNAUTHORIZED, "credentials needed\n");
            refused.headers_mut().insert(header::WWW_AUTHENTICATE, self.access.challenge());
            return refused;
        }
        let give_up = self.give_up(scrape_bound(&request.headers));
        if endpoint == Endpoint::Snapshot {
            let reply = self.snapshot.get(give_up).await;
            return cached(&reply, |done| (StatusCode::OK, "application/json", done.value.clone()));
        }
        let reply = self.checks.get(give_up).await;
        cached(&reply, |done| match (endpoint, want) {
            (Endpoint::Metrics, _) => {
                let runs = prometheus::Runs { last_run_ended: done.ended_at, errors_total: reply.errors };
                (StatusCode::OK, PROMETHEUS_TYPE, prometheus::render_served(&done.value, &runs).into())
            }
            (Endpoint::Healthz, want) => {
                let report = &done.value;
                let code = if report.status.is_healthy() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
                match want {
                    Want::Format(format) => (code, content_type(format), self.render(report, format)),
                    Want::Default | Want::Text => (code, TEXT_TYPE, healthz::render(report, query.verbose).into()),
                }
            }
            (_, want) => {
                let format = match want {
                    Want::Format(format) => format,
                    Want::Default => Format::Json,
                    Want::Text => Format::Human,
                };
                (StatusCode::OK, content_type(format), self.render(&done.value, format))
            }
        })
    }

    fn render(&self, report: &Report, format: Format) -> Bytes {
        plan::render(report, format, self.detail).into()
    }

    /// When a request stops waiting for a run: at its scrape's bound, or
    /// when the server stops.
    fn give_up(&self, bound: Option<Duration>) -> impl Future<Output = ()> + use<> {
        let mut stopping = self.stopping.clone();
        async move {
            let stop = async move {
                // A dropped sender is a server that stopped too.
                let _ = stopping.wait_for(|stopping| *stopping).await;
            };
            match bound {
                Some(bound) => {
                    tokio::select! {
                        () = tokio::time::sleep(bound) => {}
                        () = stop => {}
                    }
                }
                None => stop.await,
            }
        }
    }
}

/// The representation `endpoint` gives for the request.
fn wanted(endpoint: Endpoint, query: &Query, headers: &HeaderMap) -> Result<Want, Refusal> {
    match endpoint {
        Endpoint::Metrics => Ok(Want::Format(Format::Prometheus)),
        Endpoint::Snapshot => Ok(Want::Default),
        Endpoint::Healthz | Endpoint::Report => match &query.format {
            Some(name) => by_name(name).map(Want::Format),
            None => by_accept(headers.get(header::ACCEPT)),
        },
    }
}

fn by_name(name: &str) -> Result<Format, Refusal> {
    Format::from_str(name, true).map_err(|_| {
        let shown = crate::text::sanitize(name);
        Refusal(StatusCode::BAD_REQUEST, format!("unknown format {shown:?}; formats: {FORMATS}"))
    })
}

/// The representation an `Accept` header prefers among those the server
/// has: the highest `q` first, then the order given. A header naming only
/// what the server does not have is refused (406).
fn by_accept(accept: Option<&HeaderValue>) -> Result<Want, Refusal> {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()).filter(|v| !v.trim().is_empty()) else {
        return Ok(Want::Default);
    };
    let mut offers: Vec<(f32, usize, Want)> = Vec::new();
    for (order, range) in accept.split(',').enumerate() {
        let mut params = range.split(';');
        let media = params.next().unwrap_or_default().trim().to_ascii_lowercase();
        let (mut q, mut version) = (1.0f32, None);
        for param in params {
            match param.split_once('=').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().trim_matches('"'))) {
                Some((key, value)) if key == "q" => q = value.parse().unwrap_or(0.0),
                Some((key, value)) if key == "version" => version = Some(value.to_string()),
                _ => {}
            }
        }
        let want = match media.as_str() {
            "application/json" => Want::Format(Format::Json),
            "text/html" | "application/xhtml+xml" => Want::Format(Format::Html),
            "application/xml" | "text/xml" => Want::Format(Format::Junit),
            "application/openmetrics-text" => Want::Format(Format::Prometheus),
            "text/plain" if version.as_deref() == Some("0.0.4") => Want::Format(Format::Prometheus),
            "text/plain" => Want::Text,
            "*/*" | "text/*" | "application/*" => Want::Default,
            _ => continue,
        };
        if q > 0.0 && q.is_finite() {
            offers.push((q, order, want));
        }
    }
    offers.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    match offers.first() {
        Some(&(_, _, want)) => Ok(want),
        None => Err(Refusal(
            StatusCode::NOT_ACCEPTABLE,
            format!("nothing the Accept header names is served; formats (also as ?format=): {FORMATS}"),
        )),
    }
}

fn content_type(format: Format) -> &'static str {
    match format {
        Format::Json => "application/json",
        Format::Junit => "application/xml",
        Format::Prometheus => PROMETHEUS_TYPE,
        Format::Html => "text/html; charset=utf-8",
        Format::Human | Format::Tap | Format::Nagios => TEXT_TYPE,
    }
}

/// How long a run may take for this request: its scrape timeout less the
/// margin, when it sends one that reads as a number of seconds.
fn scrape_bound(headers: &HeaderMap) -> Option<Duration> {
    let seconds: f64 = headers.get(SCRAPE_TIMEOUT)?.to_str().ok()?.trim().parse().ok()?;
    let bound = (seconds - SCRAPE_MARGIN).clamp(0.0, MAX_DURATION.as_secs_f64());
    Duration::try_from_secs_f64(bound).ok()
}

fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers.get(header::CONTENT_LENGTH).is_some_and(|length| length.as_bytes() != b"0")
}

/// The answer from a run's latest result (`render` gives status, type and
/// body), saying how old it is; 503 when there is none.
fn cached<T>(reply: &Reply<T>, render: impl FnOnce(&Done<T>) -> (StatusCode, &'static str, Bytes)) -> Response<Body> {
    let done = match &reply.latest {
        Ok(done) => done,
        Err(why) => return text(StatusCode::SERVICE_UNAVAILABLE, &format!("{why}\n")),
    };
    let (code, content_type, body) = render(done);
    let mut response = respond(code, content_type, body);
    let headers = response.headers_mut();
    headers.insert(header::AGE, HeaderValue::from(done.age().as_secs()));
    if reply.stale {
        headers.insert(header::WARNING, HeaderValue::from_static("110 clusterdoc \"Response is Stale\""));
    }
    response
}

fn text(code: StatusCode, body: &str) -> Response<Body> {
    respond(code, TEXT_TYPE, Bytes::copy_from_slice(body.as_bytes()))
}

fn respond(code: StatusCode, content_type: &'static str, body: Bytes) -> Response<Body> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = code;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests;
