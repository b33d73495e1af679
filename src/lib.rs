//! clusterdoc: a doctor for Mesos / Marathon / ZooKeeper / Flink clusters.
//!
//! Data flows one way: `app -> cli -> config -> runner -> checks -> report`, and only
//! `facts` touches the world (see DESIGN.md, Part B), through the leaves
//! `node_fs` (the inspected node's files), `trust` and `output`. `serve` (the
//! HTTP server of `clusterdoc serve`) stands at `app`'s level; both make
//! their runs through `plan`.

pub mod agreement;
pub mod app;
pub mod catalog;
pub mod causes;
pub mod checks;
pub mod cli;
pub mod config;
pub mod facts;
pub mod glob;
pub mod node_fs;
pub mod output;
pub mod packs;
pub mod parsers;
pub mod plan;
pub mod policy;
pub mod redact;
pub mod remedy;
pub mod remote;
pub mod report;
pub mod runner;
pub mod scheduling;
pub mod serve;
pub mod target;
pub mod text;
pub mod trust;
pub mod version;
