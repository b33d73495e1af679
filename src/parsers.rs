//! Every parser of outside input (files of the inspected node, command
//! output, ZooKeeper answers, remote JSON, check packs), in one place for the
//! fuzz targets in `fuzz/` and the property tests in `tests/parsers.rs`.
//! Re-exports: each parser lives with the code that uses it. Also the one
//! condition the fuzz target and the property test of the streamed Mesos
//! state share.

pub use crate::facts::firewalld::{
    ConfDefaultZone, ParsedService, Zone, firewalld_default_zone, parse_firewalld_conf, parse_list_all,
    parse_rich_rule, parse_service, parse_zone,
};
pub use crate::facts::flink::{
    ConfigEntry as FlinkConfigEntry, FlinkConfig, FlinkOverview, TaskManagers as FlinkTaskManagers,
    config_map as flink_config_map,
};
pub use crate::facts::flink_props::{CommandLine, Rewritten, jobmanager_ports, port_setting};
pub use crate::facts::http::{JsonStream, Problem, parse_json};
pub use crate::facts::marathon::wire as marathon_wire;
pub use crate::facts::marathon::{App, Deployment, MarathonInfo, QueueItem};
pub use crate::facts::mesos::{MasterMetrics, MesosState, PortRanges, pid_address, stream_state};
pub use crate::facts::mesos_flags::Flags as MesosFlags;
pub use crate::facts::node::{HostsFile, parse_flat_yaml};
pub use crate::facts::roles::{ZkServerPorts, properties, shell_assignments, zk_server_ports};
pub use crate::facts::systemd::unit_file::{ParseError as UnitParseError, UnitFile, parse as parse_unit_file};
pub use crate::facts::systemd::{LiveUnit, parse_show};
pub use crate::facts::zookeeper::{classify, decode_storage_version, parse_mntr, parse_ruok, parse_srvr};
pub use crate::packs::definition::{PackFile, parse_pack};
pub use crate::runner::Snapshot;
pub use crate::target::parse_host_port;

/// Whether `stream_state` walks this document as serde reads it whole: serde
/// also takes a struct from an array (its fields in order), the stream only
/// from an object, as Mesos writes the state and its frameworks.
pub fn objects_where_streamed(body: &[u8]) -> bool {
    let Ok(serde_json::Value::Object(state)) = serde_json::from_slice(body) else { return false };
    ["frameworks", "completed_frameworks"]
        .iter()
        .filter_map(|key| state.get(*key).and_then(serde_json::Value::as_array))
        .flatten()
        .all(serde_json::Value::is_object)
}
