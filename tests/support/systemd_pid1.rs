//! The machine's own systemd (`/lib/systemd/systemd --system`) as PID 1 of a
//! new PID + mount namespace, reading a unit tree the test writes, so tests
//! can ask the real service manager what it makes of unit files
//! (`systemctl show`).
//!
//! Inside the namespace, `/etc/systemd/system`, `/run/systemd/system` and
//! `/usr/lib/systemd/system` are bind mounts of the tree's directories (the
//! host's units are hidden) and `/run` is a fresh tmpfs. The manager boots
//! into `cdtest.target` (`DefaultDependencies=no`), so it starts nothing.
//! Files written into the tree are seen inside at once; `daemon_reload`
//! makes the manager read them again. Dropping the value kills the
//! namespace's PID 1, which ends everything in it, also when a test panics.
//!
//! Needs root, `unshare` and `nsenter` (util-linux) and systemd: without
//! them a test fails saying so.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The unit directories the tree provides, as paths on the node.
pub const UNIT_DIRS: [&str; 3] = ["/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system"];
const SYSTEMD: &str = "/lib/systemd/systemd";
/// How long the manager may take to boot. It needs about 0.4 s on an idle
/// machine; the margin is for a machine whose cores are all busy.
const BOOT_DEADLINE: Duration = Duration::from_secs(60);

const SETUP: &str = r#"set -e
tree=$1
mount --make-rprivate /
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/system
for dir in /etc/systemd/system /run/systemd/system /usr/lib/systemd/system; do
    mount --bind "$tree$dir" "$dir"
done
export container=clusterdoc-test
exec /lib/systemd/systemd --system --unit=cdtest.target --log-target=console --log-level=warning
"#;

/// A running systemd with its own unit tree.
pub struct SystemdPid1 {
    tree: TempDir,
    unshare: Child,
    /// systemd's PID as the host sees it.
    pid: u32,
}

impl SystemdPid1 {
    /// Boots systemd on an empty tree (only `cdtest.target`).
    pub fn boot() -> Self {
        require_root_and_tools();
        let tree = tempfile::tempdir().unwrap();
        for dir in UNIT_DIRS {
            std::fs::create_dir_all(tree.path().join(&dir[1..])).unwrap();
        }
        std::fs::write(
            tree.path().join("etc/systemd/system/cdtest.target"),
            "[Unit]\nDescription=clusterdoc test target\nDefaultDependencies=no\n",
        )
        .unwrap();
        let log = File::create(tree.path().join("systemd.log")).unwrap();
        let mut unshare = Command::new("unshare");
        unshare
            .args(["--pid", "--fork", "--kill-child", "--mount-proc", "--mount", "--uts", "--ipc", "--cgroup", "--"])
            .args(["sh", "-c", SETUP, "sh"])
            .arg(tree.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        // Should the test process die without dropping this value, unshare
        // dies with it, and --kill-child takes systemd down too.
        // SAFETY: prctl is async-signal-safe; nothing else runs in the child.
        unsafe {
            unshare.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            })
        };
        let unshare = unshare
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run unshare to start systemd as PID 1 (util-linux needed): {e}"));
        let mut systemd = SystemdPid1 { pid: 0, unshare, tree };
        systemd.pid = systemd.wait_for_pid1();
        systemd.wait_until_running();
        systemd
    }

    /// Where a path of the node is in the tree.
    pub fn path(&self, node_path: &str) -> PathBuf {
        self.tree.path().join(node_path.trim_start_matches('/'))
    }

    /// The tree, as `--root` for clusterdoc and `systemd-analyze`.
    pub fn root(&self) -> &Path {
        self.tree.path()
    }

    /// Empties the unit directories (keeping `cdtest.target`).
    pub fn clear(&self) {
        for dir in UNIT_DIRS {
            for entry in std::fs::read_dir(self.path(dir)).unwrap().flatten() {
                if entry.file_name() == "cdtest.target" {
                    continue;
                }
                let path = entry.path();
                if entry.file_type().unwrap().is_dir() {
                    std::fs::remove_dir_all(&path).unwrap();
                } else {
                    std::fs::remove_file(&path).unwrap();
                }
            }
        }
    }

    /// `systemctl daemon-reload` inside: the manager reads the tree again.
    pub fn daemon_reload(&self) {
        let output = self.systemctl(&["daemon-reload"]);
        assert!(output.status.success(), "daemon-reload failed: {}", String::from_utf8_lossy(&output.stderr));
    }

    /// `systemctl show -p <properties>` for each unit: one map per unit, in order.
    pub fn show(&self, units: &[String], properties: &str) -> Vec<std::collections::BTreeMap<String, String>> {
        let mut args = vec!["show", "--no-pager", "-p", properties, "--"];
        args.extend(units.iter().map(String::as_str));
        let output = self.systemctl(&args);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "systemctl show failed: {}", String::from_utf8_lossy(&output.stderr));
        let blocks: Vec<_> = stdout
            .split("\n\n")
            .filter(|b| !b.trim().is_empty())
            .map(|block| {
                block.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
            })
            .collect();
        assert_eq!(blocks.len(), units.len(), "systemctl show gave {} blocks for {} units", blocks.len(), units.len());
        blocks
    }

    fn systemctl(&self, args: &[&str]) -> std::process::Output {
        Command::new("nsenter")
            .args(["-t", &self.pid.to_string(), "-m", "-p", "--", "systemctl"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run nsenter (util-linux needed): {e}"))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.tree.path().join("systemd.log")).unwrap_or_default()
    }

    /// The child of `unshare` that became the namespace's PID 1.
    fn wait_for_pid1(&mut self) -> u32 {
        let started = Instant::now();
        loop {
            if let Some(status) = self.unshare.try_wait().unwrap() {
                panic!("systemd could not start as PID 1 of a new namespace ({status}): {}", self.log());
            }
            if let Some(pid) = child_of(self.unshare.id()) {
                return pid;
            }
            assert!(started.elapsed() < BOOT_DEADLINE, "unshare started no process: {}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_until_running(&mut self) {
        let started = Instant::now();
        loop {
            let output = self.systemctl(&["is-system-running"]);
            let state = String::from_utf8_lossy(&output.stdout).trim().to_string();
            if matches!(state.as_str(), "running" | "degraded") {
                return;
            }
            if let Some(status) = self.unshare.try_wait().unwrap() {
                panic!("systemd as PID 1 exited ({status}): {}", self.log());
            }
            assert!(
                started.elapsed() < BOOT_DEADLINE,
                "systemd as PID 1 is still {state:?} after {BOOT_DEADLINE:?}: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SystemdPid1 {
    fn drop(&mut self) {
        if self.pid != 0 {
            // SAFETY: kill has no memory preconditions; the PID is the
            // namespace's init, which this value started.
            unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGKILL) };
        }
        // Killing the namespace's init ends unshare too; in case it never
        // got that far, end unshare itself.
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
    }
}

/// The first process whose parent is `parent`.
pub fn child_of(parent: u32) -> Option<u32> {
    let children = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

/// Fails the calling test, with what is missing, unless systemd can run as
/// PID 1 of a namespace here.
pub fn require_root_and_tools() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(euid, 0, "starting systemd as PID 1 of a PID + mount namespace needs root (euid is {euid})");
    for tool in ["unshare", "nsenter", "systemctl"] {
        let found = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "{tool} is needed to run systemd as PID 1 (apt-get install util-linux systemd)"
        );
    }
    assert!(Path::new(SYSTEMD).exists(), "{SYSTEMD} is needed (apt-get install systemd)");
}
