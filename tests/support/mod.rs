//! What the integration tests share: running the binary and reading its
//! report (`cli`), serving recorded HTTP answers (`http`), ZooKeeper and
//! Marathon's tree in it (`zk`, `marathon_zk`), network and UTS namespaces
//! (`netns`, `uts`), systemd as PID 1 (`systemd_pid1`), node trees (`tree`),
//! fake nodes reached over real sshd (`fleet_nodes`) and a running
//! `clusterdoc serve` with its clients (`serve`). Each test binary
//! declares `mod support;` and uses what it needs.

#![allow(dead_code)] // each test binary uses the parts it needs

pub mod cli;
pub mod fleet_nodes;
pub mod http;
pub mod marathon_zk;
pub mod netns;
pub mod serve;
pub mod systemd_pid1;
pub mod tree;
pub mod uts;
pub mod zk;
