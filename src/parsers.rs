//! Every parser of outside input (files of the inspected node, command
//! output, ZooKeeper answers, remote JSON, check packs), in one place for the
//! fuzz targets in `fuzz/` and the property tests in `tests/parsers.rs`.
//! Re-exports only: each parser lives with the code that uses it.

pub use crate::checks::flink_props::{CommandLine, Rewritten, jobmanager_ports, port_setting};
pub use crate::checks::pack::definition::{Origin as PackOrigin, parse_pack};
pub use crate::config::parse_host_port;
pub use crate::facts::firewalld::{ParsedService, Zone, parse_list_all, parse_service, parse_zone};
pub use crate::facts::http::{JsonStream, Problem, parse_json};
pub use crate::facts::marathon::wire as marathon_wire;
pub use crate::facts::marathon::{App, Deployment, MarathonInfo, QueueItem};
pub use crate::facts::mesos::{MesosState, PortRanges, pid_address, stream_state};
pub use crate::facts::node::{HostsFile, parse_flat_yaml};
pub use crate::facts::roles::{ZkServerPorts, properties, shell_assignments, zk_server_ports};
pub use crate::facts::systemd::unit_file::{ParseError as UnitParseError, UnitFile, parse as parse_unit_file};
pub use crate::facts::systemd::{LiveUnit, parse_show};
pub use crate::facts::zookeeper::{classify, decode_storage_version, parse_mntr, parse_ruok, parse_srvr};
pub use crate::runner::Snapshot;
