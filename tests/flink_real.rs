//! The REST answers of real Flink 1.17.2, 1.20.5 and 2.3.0 session clusters
//! (tests/fixtures/flink-real, see its SOURCES.txt), parsed with the crate's
//! own parsers, then served on loopback to the real binary's Flink facts.

mod support;

use crate::support::cli as cli_support;
use crate::support::http;

use cli_support::clusterdoc;
use clusterdoc::parsers::{
    FlinkConfig, FlinkConfigEntry, FlinkOverview, FlinkTaskManagers, flink_config_map, parse_json,
};
use http::{Answer, FakeServer, fixture_bytes};
use serde_json::Value;

const VERSIONS: [&str; 3] = ["1.17.2", "1.20.5", "2.3.0"];
/// 2026-01-01T00:00:00Z: the bodies were fetched after it.
const RECORDED_AFTER_MS: u64 = 1_767_225_600_000;

fn real<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let bytes = fixture_bytes(&format!("flink-real/{name}.json"));
    parse_json(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn config_and_overview_report_the_version() {
    for version in VERSIONS {
        let config: FlinkConfig = real(&format!("{version}-config"));
        assert_eq!(config.flink_version.as_deref(), Some(version));
        assert!(config.flink_revision.is_some());
        let overview: FlinkOverview = real(&format!("{version}-overview"));
        assert_eq!(overview.flink_version.as_deref(), Some(version));
        assert_eq!((overview.taskmanagers, overview.slots_total, overview.slots_available), (1, 2, 2));
    }
}

#[test]
fn taskmanager_paths_are_akka_up_to_1_17_and_pekko_after() {
    for (name, scheme) in [
        ("1.17.2-taskmanagers", "akka.tcp://flink@127.0.0.1:"),
        ("1.20.5-taskmanagers", "pekko.tcp://flink@127.0.0.1:"),
        ("1.20.5-upper-case-taskmanagers", "pekko.tcp://flink@127.0.0.1:"),
        ("2.3.0-taskmanagers", "pekko.tcp://flink@127.0.0.1:"),
    ] {
        let list: FlinkTaskManagers = real(name);
        let [tm] = list.taskmanagers.as_slice() else { panic!("{name}: one TaskManager expected") };
        let path = tm.path.as_deref().unwrap();
        assert!(path.starts_with(scheme) && path.ends_with("/user/rpc/taskmanager_0"), "{name}: {path}");
        assert_eq!((tm.slots_number, tm.free_slots), (2, 2), "{name}");
        assert!(tm.data_port.is_some_and(|p| p > 0), "{name}");
        // Named "timeSinceLastHeartbeat", but it is the heartbeat's epoch timestamp.
        let heartbeat = tm.last_heartbeat_epoch_ms.unwrap();
        assert!(heartbeat > RECORDED_AFTER_MS, "{name}: {heartbeat} is not an epoch timestamp in ms");
    }
}

#[test]
fn jobmanager_config_reports_the_rpc_address_lower_cased() {
    for name in ["1.17.2", "1.20.5", "2.3.0", "1.20.5-upper-case"].map(|v| format!("{v}-jobmanager_config")) {
        let entries: Vec<FlinkConfigEntry> = real(&name);
        let config = flink_config_map(entries);
        let address = &config["jobmanager.rpc.address"];
        assert_eq!(address, &address.to_lowercase(), "{name}");
        assert!(config["rest.port"].parse::<u16>().is_ok(), "{name}");
    }
    // Set upper case in that run's flink-conf.yaml: REST shows only the
    // lower-cased name, so hostname.case reads the file.
    let upper: Vec<FlinkConfigEntry> = real("1.20.5-upper-case-jobmanager_config");
    assert_eq!(flink_config_map(upper)["jobmanager.rpc.address"], "flink-jm");
}

#[test]
fn the_binary_gathers_every_real_version() {
    for version in VERSIONS {
        let served = |endpoint: &str| Answer::json(fixture_bytes(&format!("flink-real/{version}-{endpoint}.json")));
        let jobmanager = FakeServer::start(vec![
            ("/config", served("config")),
            ("/overview", served("overview")),
            ("/taskmanagers", served("taskmanagers")),
            ("/jobmanager/config", served("jobmanager_config")),
        ]);
        let root = tempfile::tempdir().unwrap();
        let out = clusterdoc(root.path())
            .args(["collect", "--only", "hostname.case", "--flink", &jobmanager.url(), "--root"])
            .arg(root.path())
            .output()
            .unwrap();
        let snapshot: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{version}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        let endpoint = &snapshot["facts"]["flink"]["value"]["endpoints"][0];
        for fact in ["config", "overview", "taskmanagers", "jobmanager_config"] {
            assert_eq!(endpoint[fact]["state"], "observed", "{version} {fact}: {endpoint:#}");
        }
        assert_eq!(endpoint["config"]["value"]["flink-version"], version);
        assert_eq!(endpoint["taskmanagers"]["value"][0]["slotsNumber"], 2, "{version}");
    }
}
