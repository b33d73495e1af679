//! The clusterdoc binary as the integration tests run it.

use std::path::Path;

use assert_cmd::Command;

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
    let mut cmd = Command::cargo_bin("clusterdoc").unwrap();
    cmd.current_dir(cwd);
    for var in AMBIENT {
        cmd.env_remove(var);
    }
    cmd
}
