//! Runs a program as if on another node: in a new UTS namespace (its own
//! host name) and a new mount namespace, with temporary files bind-mounted
//! over `/etc/hosts` (and `/etc/resolv.conf`). The mounts are private to that
//! namespace: the machine's own files are never touched.
//!
//! Needs root and `unshare` (util-linux): without them a test fails saying so.

use std::path::Path;
use std::process::Command;

/// Fails the calling test, with what is missing, unless it can build UTS and
/// mount namespaces.
pub fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(euid, 0, "this test needs root for `unshare --uts --mount` (run the suite as root, as CI does)");
    let works = Command::new("unshare").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(works, "this test needs `unshare` (install the util-linux package)");
}

/// The node a program is run as.
pub struct Node<'a> {
    pub hostname: &'a str,
    /// Mounted over /etc/hosts.
    pub hosts: &'a Path,
    /// Mounted over /etc/resolv.conf, when given.
    pub resolv_conf: Option<&'a Path>,
}

/// Sets the host name, mounts the files, then execs the program and the
/// arguments that follow.
const ENTER_NODE: &str = r#"hostname "$1" && mount --bind "$2" /etc/hosts &&
if [ -n "$3" ]; then mount --bind "$3" /etc/resolv.conf; fi && shift 3 && exec "$@""#;

/// `launcher` runs `unshare` (e.g. `Command::new("unshare")`, or an
/// `ip netns exec NS unshare` command); arguments added to the returned
/// command go to `program`.
pub fn as_node(mut launcher: Command, node: &Node, program: &Path) -> Command {
    launcher
        .args(["--uts", "--mount", "--", "sh", "-c", ENTER_NODE, "sh", node.hostname])
        .arg(node.hosts)
        .arg(node.resolv_conf.map_or_else(Default::default, |p| p.as_os_str().to_owned()))
        .arg(program);
    launcher
}
