use std::time::Duration;

use base64::Engine;
use http_body_util::BodyExt;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, StatusCode};
use proptest::prelude::*;
use tokio::sync::watch;

use super::{Body, Served};
use crate::report::{CheckReport, Finding, NodeInfo, Report, Status};
use crate::serve::access::Access;
use crate::serve::flight::{Flight, Produce};

const TOKEN: &str = "t0ken";

fn report(status: Status) -> Report {
    let findings = match status {
        Status::Warn | Status::Fail => vec![Finding::new(status, "host H", "upper case")],
        _ => vec![],
    };
    let check = CheckReport {
        id: "hostname.case".into(),
        title: "t".into(),
        status,
        duration_ms: 3,
        reason: (status == Status::Error).then(|| "undecided".into()),
        findings,
        by_node: Default::default(),
        scope: Vec::new(),
        caused_by: Vec::new(),
    };
    Report::new("2026-12-05T00:00:00Z".into(), 3, NodeInfo::default(), vec![check])
}

/// A server whose runs give a report of `status` (none when `None`: they fail).
fn served(status: Option<Status>, access: Access) -> (Served, watch::Sender<bool>) {
    let checks: Produce<Report> =
        Box::new(move || Box::pin(async move { status.map(report).ok_or_else(|| "the snapshot is gone".to_string()) }));
    let snapshot: Produce<hyper::body::Bytes> = Box::new(|| Box::pin(async { Ok("{\"facts\":{}}".into()) }));
    let (stop, stopping) = watch::channel(false);
    let minute = Duration::from_secs(60);
    let served = Served {
        checks: Flight::new("checks", minute, minute, checks, |_| String::new()),
        snapshot: Flight::new("snapshot", minute, minute, snapshot, |_| String::new()),
        access,
        detail: crate::report::human::Detail::Normal,
        stopping,
    };
    (served, stop)
}

fn bearer() -> Access {
    Access::Bearer(TOKEN.as_bytes().to_vec())
}

async fn ask(served: &Served, method: &str, uri: &str, headers: &[(&str, &str)]) -> (StatusCode, String, String) {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let parts = request.body(()).unwrap().into_parts().0;
    let response: hyper::Response<Body> = served.answer(&parts).await;
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let code = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (code, content_type, String::from_utf8_lossy(&body).into_owned())
}

const AUTH: (&str, &str) = ("authorization", "Bearer t0ken");

#[tokio::test]
async fn healthz_takes_its_code_from_the_verdict_in_every_format() {
    for (status, code) in [
        (Status::Pass, StatusCode::OK),
        (Status::Warn, StatusCode::OK),
        (Status::Skip, StatusCode::OK),
        (Status::Fail, StatusCode::SERVICE_UNAVAILABLE),
        (Status::Error, StatusCode::SERVICE_UNAVAILABLE),
    ] {
        let (served, _stop) = served(Some(status), bearer());
        for format in ["", "?verbose", "?format=json", "?format=prometheus", "?format=tap", "?format=junit"] {
            let (got, _, _) = ask(&served, "GET", &format!("/healthz{format}"), &[AUTH]).await;
            assert_eq!(got, code, "{status} /healthz{format}");
        }
        for accept in ["application/json", "text/plain; version=0.0.4", "application/xml", "*/*"] {
            let (got, _, _) = ask(&served, "GET", "/healthz", &[AUTH, ("accept", accept)]).await;
            assert_eq!(got, code, "{status} Accept: {accept}");
        }
        let (metrics, _, text) = ask(&served, "GET", "/metrics", &[AUTH]).await;
        assert_eq!(metrics, StatusCode::OK, "/metrics answers 200 for {status}: {text}");
        let (report, _, _) = ask(&served, "GET", "/report", &[AUTH]).await;
        assert_eq!(report, StatusCode::OK, "/report answers 200 for {status}");
    }
}

#[tokio::test]
async fn the_representation_follows_the_query_then_accept() {
    let (served, _stop) = served(Some(Status::Fail), bearer());
    let cases = [
        ("/report", None, "application/json", "\"schema_version\": 1"),
        ("/report?format=tap", Some("application/json"), "text/plain; charset=utf-8", "TAP version 14"),
        ("/report?format=NAGIOS", None, "text/plain; charset=utf-8", "CLUSTERDOC CRITICAL"),
        ("/report", Some("application/xml"), "application/xml", "<testsuites"),
        ("/report", Some("text/html;q=0.9, text/plain;q=0.8"), "text/html; charset=utf-8", "<!DOCTYPE html>"),
        ("/report", Some("text/html;q=0.5, text/plain;q=0.8"), "text/plain; charset=utf-8", "clusterdoc 0.1.0"),
        ("/report?format=html", None, "text/html; charset=utf-8", "default-src 'none'"),
        ("/report", Some("text/plain;version=0.0.4;q=0.3,*/*;q=0.2"), "text/plain; version=0.0.4", "# TYPE"),
        ("/report", Some("application/json;q=0.1, application/xml"), "application/xml", "<testsuites"),
        ("/healthz?verbose", None, "text/plain; charset=utf-8", "[-]hostname.case fail: host H: upper case"),
        ("/healthz", Some("application/json"), "application/json", "\"status\": \"fail\""),
        ("/metrics", Some("application/json"), "text/plain; version=0.0.4", "clusterdoc_run_errors_total 0"),
        ("/snapshot", None, "application/json", "{\"facts\":{}}"),
    ];
    for (uri, accept, content_type, part) in cases {
        let mut headers = vec![AUTH];
        headers.extend(accept.map(|a| ("accept", a)));
        let (code, got_type, body) = ask(&served, "GET", uri, &headers).await;
        assert!(got_type.starts_with(content_type), "{uri} {accept:?}: {got_type}");
        assert!(body.contains(part), "{uri} {accept:?} ({code}): no {part:?} in\n{body}");
    }
    let (code, _, body) = ask(&served, "GET", "/report?format=yaml", &[AUTH]).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(body.contains("human, json, junit, tap, nagios, prometheus, html"), "{body}");
    let (code, _, _) = ask(&served, "GET", "/report", &[AUTH, ("accept", "image/png")]).await;
    assert_eq!(code, StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn only_the_bare_health_check_answers_without_credentials() {
    let (served, _stop) = served(Some(Status::Pass), bearer());
    assert_eq!(ask(&served, "GET", "/healthz", &[]).await.0, StatusCode::OK);
    assert_eq!(ask(&served, "HEAD", "/healthz", &[("accept", "text/plain")]).await.0, StatusCode::OK);
    for uri in ["/healthz?verbose", "/healthz?format=json", "/metrics", "/report", "/snapshot"] {
        let (code, _, _) = ask(&served, "GET", uri, &[]).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{uri}");
        let (code, _, _) = ask(&served, "GET", uri, &[("authorization", "Bearer wrong")]).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{uri}");
    }
    let (code, _, _) = ask(&served, "GET", "/healthz", &[("accept", "application/json")]).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "a report in JSON is more than healthy or not");
    let basic = Access::Basic(b"prom:pw".to_vec());
    let (served, _stop) = self::served(Some(Status::Pass), basic);
    let credentials = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("prom:pw"));
    assert_eq!(ask(&served, "GET", "/metrics", &[("authorization", &credentials)]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn other_methods_paths_and_bodies_are_refused() {
    let (served, _stop) = served(Some(Status::Pass), Access::Anyone);
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "PROPFIND"] {
        let uri = if method == "CONNECT" { "127.0.0.1:9847" } else { "/report" };
        let (code, _, _) = ask(&served, method, uri, &[]).await;
        let expected = if method == "CONNECT" { StatusCode::NOT_FOUND } else { StatusCode::METHOD_NOT_ALLOWED };
        assert_eq!(code, expected, "{method}");
    }
    assert_eq!(ask(&served, "GET", "/", &[]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(ask(&served, "GET", "/metrics/", &[]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(ask(&served, "GET", "/report", &[("content-length", "5")]).await.0, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn without_a_result_every_endpoint_says_why_with_503() {
    let (served, _stop) = served(None, Access::Anyone);
    for uri in ["/metrics", "/healthz", "/report"] {
        let (code, _, body) = ask(&served, "GET", uri, &[]).await;
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert_eq!(body, "the last run of the checks failed: the snapshot is gone\n");
    }
}

#[tokio::test]
async fn a_request_waits_no_longer_than_its_scrape_timeout_allows() {
    let pending: Produce<Report> = Box::new(|| Box::pin(std::future::pending()));
    let (stop, stopping) = watch::channel(false);
    let minute = Duration::from_secs(60);
    let snapshot: Produce<hyper::body::Bytes> = Box::new(|| Box::pin(std::future::pending()));
    let served = Served {
        checks: Flight::new("checks", minute, minute, pending, |_| String::new()),
        snapshot: Flight::new("snapshot", minute, minute, snapshot, |_| String::new()),
        access: Access::Anyone,
        detail: crate::report::human::Detail::Normal,
        stopping,
    };
    let started = std::time::Instant::now();
    let (code, _, body) = ask(&served, "GET", "/metrics", &[("x-prometheus-scrape-timeout-seconds", "0.7")]).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("has not ended yet"), "{body}");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(200) && took < Duration::from_secs(10), "{took:?}");
    // Stopping releases a request that named no bound.
    let waiting = ask(&served, "GET", "/snapshot", &[]);
    let stopper = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop.send_replace(true);
    };
    let ((code, _, _), ()) = tokio::join!(waiting, stopper);
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
}

#[test]
fn scrape_bounds_keep_half_a_second_and_ignore_nonsense() {
    let bound = |value: &str| {
        let mut headers = hyper::HeaderMap::new();
        headers.insert(HeaderName::from_static(super::SCRAPE_TIMEOUT), HeaderValue::from_str(value).unwrap());
        super::scrape_bound(&headers)
    };
    assert_eq!(bound("10"), Some(Duration::from_millis(9500)));
    assert_eq!(bound(" 2.5 "), Some(Duration::from_secs(2)));
    assert_eq!(bound("0.2"), Some(Duration::ZERO));
    assert_eq!(bound("1e300"), Some(crate::config::MAX_DURATION));
    assert_eq!(bound("inf"), Some(crate::config::MAX_DURATION));
    for nonsense in ["", "NaN", "-1e400", "ten"] {
        assert!(matches!(bound(nonsense), None | Some(Duration::ZERO)), "{nonsense}: {:?}", bound(nonsense));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Whatever the path, query, method and headers, the answer is one of
    /// the server's own, and a known endpoint asked with GET by a client with
    /// credentials gets its result or a refusal of the representation.
    #[test]
    fn no_request_makes_the_server_panic(
        method in prop_oneof![Just("GET".to_string()), Just("HEAD".to_string()), "[A-Z]{1,8}"],
        path in prop_oneof![
            Just("/metrics".to_string()), Just("/healthz".to_string()), Just("/report".to_string()),
            Just("/snapshot".to_string()), "/[ -~]{0,40}",
        ],
        query in "[ -~]{0,60}",
        headers in proptest::collection::vec(
            (prop_oneof![
                Just("accept".to_string()), Just("authorization".to_string()),
                Just("x-prometheus-scrape-timeout-seconds".to_string()), Just("content-length".to_string()),
                "[a-z-]{1,20}",
            ], "[ -~]{0,80}"),
            0..6,
        ),
    ) {
        let mut request = Request::builder().method(method.as_str()).uri(format!("{path}?{query}"));
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        // What hyper could not parse never reaches the server's answer.
        let Ok(request) = request.body(()) else { return Ok(()) };
        let parts = request.into_parts().0;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (served, _stop) = served(Some(Status::Fail), bearer());
        let response = runtime.block_on(served.answer(&parts));
        let allowed = [200, 400, 401, 404, 405, 406, 413, 503];
        prop_assert!(allowed.contains(&response.status().as_u16()), "{}", response.status());
        prop_assert!(response.headers().contains_key("content-type"));
    }
}
