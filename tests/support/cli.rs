//! The clusterdoc binary as the integration tests run it, and reading its
//! JSON report.

#![allow(dead_code)] // each test file uses the parts it needs

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// Environment that would name a target, a config file or a proxy, or change
/// colours: none of it may leak from the developer's shell into a test.
const AMBIENT: [&str; 12] = [
    "MESOS_MASTER",
    "MARATHON_URL",
    "MARATHON_ZK",
    "FLINK_URL",
    "CLUSTERDOC_CONFIG",
    "NO_COLOR",
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
];

/// The binary, run from `cwd` (an empty directory: no ./clusterdoc.toml),
/// with no ambient target, config file or proxy.
pub fn clusterdoc(cwd: &Path) -> Command {
    Command::from_std(plain(cwd))
}

/// [`clusterdoc`] as a plain process, for tests that bound, await or wrap it
/// themselves.
pub fn plain(cwd: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_clusterdoc"));
    isolate(&mut cmd, cwd);
    cmd
}

/// Runs `cmd` (clusterdoc, or a wrapper that starts it) from `cwd` with no
/// ambient target, config file or proxy.
pub fn isolate(cmd: &mut std::process::Command, cwd: &Path) {
    cmd.current_dir(cwd);
    for var in AMBIENT {
        cmd.env_remove(var);
    }
}

/// The check `id` in a JSON report.
pub fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    let checks = report["checks"].as_array().unwrap_or_else(|| panic!("not a report: {report:#}"));
    checks.iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no {id} in {report:#}"))
}
