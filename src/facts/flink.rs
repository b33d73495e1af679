//! Facts: Flink JobManager web/REST endpoints (`--flink URL`, repeatable):
//! `/config`, `/overview`, `/taskmanagers`, `/jobmanager/config`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::http::{self, BodyLimit, HttpError, Problem, Service};
use super::{Fact, Gatherer};
use crate::target::Target;
use crate::version::Version;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlinkFacts {
    /// One per named endpoint, in the order named.
    #[serde(default)]
    pub endpoints: Vec<FlinkEndpoint>,
}

impl FlinkFacts {
    /// The Flink version the named endpoints report (`/config` flink-version);
    /// the lowest when they differ, since older Flink has more pitfalls.
    pub fn version(&self) -> Option<Version> {
        self.endpoints.iter().filter_map(FlinkEndpoint::version).min()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlinkEndpoint {
    /// The endpoint, redacted.
    pub url: String,
    /// `/config`.
    pub config: Fact<FlinkConfig>,
    /// `/overview`.
    pub overview: Fact<FlinkOverview>,
    /// `/taskmanagers`.
    pub taskmanagers: Fact<Vec<TaskManager>>,
    /// `/jobmanager/config`: `jobmanager.rpc.address`, ports, ...
    pub jobmanager_config: Fact<BTreeMap<String, String>>,
}

impl FlinkEndpoint {
    pub fn version(&self) -> Option<Version> {
        let from_overview = || self.overview.value().and_then(|o| o.flink_version.clone());
        self.config.value().and_then(|c| c.flink_version.clone()).or_else(from_overview)?.parse().ok()
    }
}

/// `/config` of the web monitor.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FlinkConfig {
    #[serde(default)]
    pub flink_version: Option<String>,
    #[serde(default)]
    pub flink_revision: Option<String>,
}

/// `/overview`: the cluster at a glance.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FlinkOverview {
    #[serde(default)]
    pub taskmanagers: u32,
    #[serde(default)]
    pub slots_total: u32,
    #[serde(default)]
    pub slots_available: u32,
    #[serde(default)]
    pub jobs_running: u32,
    #[serde(default)]
    pub jobs_finished: u32,
    #[serde(default)]
    pub jobs_cancelled: u32,
    #[serde(default)]
    pub jobs_failed: u32,
    /// 1.3+.
    #[serde(default)]
    pub flink_version: Option<String>,
}

/// One registered TaskManager.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskManager {
    pub id: String,
    /// Its RPC address: `akka.tcp://flink@HOST:PORT/user/...` up to 1.17,
    /// `pekko.tcp://flink@HOST:PORT/user/rpc/taskmanager_0` from 1.18.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub data_port: Option<u16>,
    #[serde(default)]
    pub slots_number: u32,
    #[serde(default)]
    pub free_slots: u32,
    /// When its last heartbeat arrived, in milliseconds since the epoch:
    /// whatever the key says, Flink writes the heartbeat's timestamp there.
    #[serde(default, rename = "timeSinceLastHeartbeat")]
    pub last_heartbeat_epoch_ms: Option<u64>,
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<FlinkFacts> {
    if g.cfg.flink.is_empty() {
        return Fact::unavailable("no Flink endpoint (name one with --flink URL)");
    }
    let asked = g.cfg.flink.iter().map(|t| endpoint(g, Service::new("Flink JobManager", t)));
    let asked: Vec<Result<FlinkEndpoint, HttpError>> = futures::future::join_all(asked).await;
    if asked.iter().all(Result::is_err) {
        let errors: Vec<String> = asked.iter().filter_map(|a| a.as_ref().err()).map(|e| e.to_string()).collect();
        return Fact::failed(errors.join("; "));
    }
    let endpoints = asked.into_iter().zip(&g.cfg.flink).map(|(a, t)| a.unwrap_or_else(|e| unanswered(t, &e))).collect();
    Fact::observed(FlinkFacts { endpoints })
}

/// Everything about one endpoint; Err when it does not answer at all.
async fn endpoint(g: &Gatherer, endpoint: Service) -> Result<FlinkEndpoint, HttpError> {
    let config = http::get_json::<FlinkConfig>(g, &endpoint, "/config", BodyLimit::SMALL).await;
    let config = match config {
        Err(e) if matches!(e.problem, Problem::NoAnswer(_)) => return Err(e),
        answered => answered,
    };
    let (overview, taskmanagers, jobmanager_config) = futures::join!(
        http::get_json::<FlinkOverview>(g, &endpoint, "/overview", BodyLimit::SMALL),
        http::get_json::<TaskManagers>(g, &endpoint, "/taskmanagers", BodyLimit::SMALL),
        http::get_json::<Vec<ConfigEntry>>(g, &endpoint, "/jobmanager/config", BodyLimit::SMALL),
    );
    Ok(FlinkEndpoint {
        url: endpoint.url(),
        config: config.into(),
        overview: overview.into(),
        taskmanagers: taskmanagers.map(|t| t.taskmanagers).into(),
        jobmanager_config: jobmanager_config.map(config_map).into(),
    })
}

/// An endpoint that did not answer at all: every fact of it fails the same way.
fn unanswered(target: &Target, error: &HttpError) -> FlinkEndpoint {
    let error = error.to_string();
    FlinkEndpoint {
        url: target.display(),
        config: Fact::failed(&error),
        overview: Fact::failed(&error),
        taskmanagers: Fact::failed(&error),
        jobmanager_config: Fact::failed(error),
    }
}

/// `/taskmanagers`.
#[derive(Debug, Deserialize)]
pub struct TaskManagers {
    pub taskmanagers: Vec<TaskManager>,
}

/// One entry of `/jobmanager/config`. Its `jobmanager.rpc.address` is
/// lower-cased (Flink normalises it), so an upper-case host name shows only
/// in flink-conf.yaml.
#[derive(Debug, Deserialize)]
pub struct ConfigEntry {
    pub key: String,
    pub value: Option<String>,
}

/// `/jobmanager/config` as key -> value.
pub fn config_map(entries: Vec<ConfigEntry>) -> BTreeMap<String, String> {
    entries.into_iter().map(|e| (e.key, e.value.unwrap_or_default())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint_with(version: Option<&str>) -> FlinkEndpoint {
        let config = FlinkConfig { flink_version: version.map(String::from), flink_revision: None };
        FlinkEndpoint {
            url: "http://jm:8081".into(),
            config: Fact::observed(config),
            overview: Fact::unavailable("-"),
            taskmanagers: Fact::unavailable("-"),
            jobmanager_config: Fact::unavailable("-"),
        }
    }

    #[test]
    fn the_lowest_reported_version_counts() {
        let facts = FlinkFacts {
            endpoints: vec![endpoint_with(Some("1.4.2")), endpoint_with(Some("1.2.0")), endpoint_with(None)],
        };
        assert_eq!(facts.version(), Some(Version::new(1, 2, 0)));
        assert_eq!(FlinkFacts::default().version(), None);
    }
}
