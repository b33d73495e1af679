//! Fleet over HTTP, the DC/OS model: each node's facts from the `/snapshot`
//! of the `clusterdoc serve` it runs, instead of an ssh session.
//! `--pull 'http://{host}:9847'` says where: `{host}` becomes the node's
//! host (validated as for ssh; an IPv6 address in brackets), and the node's
//! answer is judged as a session's is, with the same node states.
//! Credentials for a server that asks for them go in the template's user
//! info (`http://USER:PASSWORD@{host}:9847`: basic authentication), and are
//! never shown.

use reqwest::header::DATE;
use reqwest::{StatusCode, Url};
use tokio::time::Instant;

use super::NodeState;
use super::destination::Destination;
use super::session::{ANSWER_CAP, Outcome, epoch_ms};
use crate::config::Config;
use crate::facts::{http, net_error};
use crate::redact::redact_url;

/// Where and how to pull nodes' snapshots.
#[derive(Clone, Debug)]
pub struct Pull {
    /// The base URL of each node's server, `{host}` in it.
    template: String,
    client: reqwest::Client,
}

impl Pull {
    /// `--pull TEMPLATE`, checked: an http(s) URL with `{host}` as its host.
    pub fn new(template: &str, cfg: &Config) -> Result<Pull, String> {
        let refuse = |why: &str| format!("--pull {template:?}: {why} (e.g. http://{{host}}:9847)");
        let example = template.replace("{host}", "node.invalid");
        let url = Url::parse(&example).map_err(|e| refuse(&format!("not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refuse("not http or https"));
        }
        if url.host_str() != Some("node.invalid") {
            return Err(refuse("{host} must be the URL's host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(refuse("the base URL of the nodes' servers takes no query or fragment"));
        }
        let client = http::builder(cfg)?.build().map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Pull { template: template.to_string(), client })
    }

    /// `/snapshot` of the server on `node`.
    fn url(&self, node: &Destination) -> Result<Url, String> {
        let host = if node.host.is_ipv6() { format!("[{}]", node.host) } else { node.host.to_string() };
        let mut base = self.template.replace("{host}", &host);
        if !base.ends_with('/') {
            base.push('/');
        }
        Url::parse(&base).and_then(|url| url.join("snapshot")).map_err(|e| format!("{base}: not a URL ({e})"))
    }

    /// The node's snapshot, by `deadline`.
    pub async fn run(&self, node: &Destination, deadline: Instant) -> Outcome {
        if deadline <= Instant::now() {
            return Outcome::failed(NodeState::CutOff, "not started before the deadline");
        }
        let url = match self.url(node) {
            Ok(url) => url,
            Err(why) => return Outcome::failed(NodeState::Refused, why),
        };
        let started = Instant::now();
        match tokio::time::timeout_at(deadline, self.fetch(&url)).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::failed(
                NodeState::CutOff,
                format!(
                    "GET {} still running at the deadline ({} after it started)",
                    redact_url(&url),
                    humantime::format_duration(started.elapsed())
                ),
            ),
        }
    }

    async fn fetch(&self, url: &Url) -> Outcome {
        let shown = redact_url(url);
        let mut response = match self.client.get(url.clone()).send().await {
            Ok(response) => response,
            Err(e) => {
                return Outcome::failed(NodeState::Unreachable, format!("GET {shown}: {}", net_error::reason(&e)));
            }
        };
        let answered_ms = epoch_ms();
        let status = response.status();
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Outcome::failed(
                NodeState::Unreachable,
                format!("GET {shown}: {status}: the server wants other credentials (USER:PASSWORD@ in --pull)"),
            );
        }
        let address = response.remote_addr().map(|a| a.ip());
        let node_clock_ms = response.headers().get(DATE).and_then(|d| d.to_str().ok()).and_then(clock_ms_of_date);
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() > ANSWER_CAP => {
                    return Outcome::failed(
                        NodeState::Error,
                        format!("answered with more than {} MiB", ANSWER_CAP >> 20),
                    );
                }
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => {
                    return Outcome::failed(NodeState::Error, format!("GET {shown}: {}", net_error::reason(&e)));
                }
            }
        }
        if !status.is_success() {
            let said = String::from_utf8_lossy(&body);
            let said = crate::text::sanitize(said.lines().next().unwrap_or_default());
            return Outcome::failed(NodeState::Error, format!("GET {shown}: {status}: {said}"));
        }
        match Outcome::of_snapshot(&body) {
            Ok(mut outcome) => {
                if let Some(answer) = &mut outcome.answer {
                    answer.address = address;
                    // The snapshot may come from the server's cache: its own
                    // stamp says when it was gathered, the Date header when
                    // it was sent.
                    answer.clock_skew_ms = node_clock_ms.map(|node| node as i64 - answered_ms as i64);
                }
                outcome
            }
            Err(e) => Outcome::failed(
                NodeState::Error,
                format!("GET {shown}: answered with something that is not a node snapshot ({e})"),
            ),
        }
    }
}

/// The server's clock from its `Date` header, in ms since the epoch: the
/// middle of the second it names, so off by at most half a second (plus
/// the answer's way here), well inside fleet.clock-skew's 2 s.
fn clock_ms_of_date(date: &str) -> Option<u64> {
    let at = httpdate::parse_http_date(date).ok()?;
    let seconds = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(seconds * 1000 + 500)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Settings};

    fn config() -> Config {
        Config::resolve(None, &Settings::default()).unwrap()
    }

    #[test]
    fn templates_need_host_where_the_host_goes() {
        let cfg = config();
        for bad in ["http://node:9847", "ftp://{host}:21", "http://x/{host}", "http://{host}:9847/?a=b", "{host}"] {
            assert!(Pull::new(bad, &cfg).is_err(), "{bad}");
        }
        let pull = Pull::new("https://prom:pw@{host}:9847", &cfg).unwrap();
        let node = |h: &str| Destination::parse(h).unwrap();
        assert_eq!(pull.url(&node("m1")).unwrap().as_str(), "https://prom:pw@m1:9847/snapshot");
        assert_eq!(pull.url(&node("root@fd00::1")).unwrap().as_str(), "https://prom:pw@[fd00::1]:9847/snapshot");
        let under = Pull::new("http://{host}/clusterdoc", &cfg).unwrap();
        assert_eq!(under.url(&node("10.0.0.2")).unwrap().as_str(), "http://10.0.0.2/clusterdoc/snapshot");
    }

    #[test]
    fn the_date_header_gives_the_middle_of_its_second() {
        assert_eq!(clock_ms_of_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_500));
        assert_eq!(clock_ms_of_date("yesterday"), None);
    }
}
