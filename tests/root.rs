//! `--root DIR` end to end: node files are read inside DIR only (symlinks
//! included), only regular files and only so much of them, the run ends at
//! its deadline whatever the tree holds, implicit network targets are not
//! probed, and a root that is not a readable directory is a usage error.

mod support;

use crate::support::cli as cli_support;
use crate::support::netns;
use crate::support::tree;

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cli_support::ReadReport;
use serde_json::Value;

/// The deadline these runs get: every one must end well within it plus
/// [`MARGIN`], on a machine whose cores are all busy.
const DEADLINE: Duration = Duration::from_secs(2);
const MARGIN: Duration = Duration::from_secs(10);
/// More than any run of clusterdoc needs; reading a 2 GiB file whole took 4 GiB.
const MAX_RSS_KIB: i64 = 256 << 10;
/// What only the analyst's own files hold: it must never reach a report.
const MARKER: &str = "ANALYSTSECRET";

/// A node tree under DIR, and beside it (outside DIR) the analyst's files.
type Node = tree::NodeTree;

impl Node {
    fn mkfifo(&self, node_path: &str) {
        let fifo = self.path(node_path);
        let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo (coreutils) is needed");
        assert!(made.success(), "mkfifo {}", fifo.display());
    }

    /// A file of the analyst's, outside the node tree.
    fn analyst_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.outside().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `ln -s ../../../..ABSOLUTE`: a relative link that climbs past the
    /// node's root to `target`.
    fn climbing_link(&self, target: &Path, node_path: &str) {
        let depth = node_path.trim_start_matches('/').matches('/').count() + 8;
        let up = "../".repeat(depth);
        self.link(format!("{up}{}", target.display().to_string().trim_start_matches('/')), node_path);
    }

    /// Runs clusterdoc with `--root` this tree and a JSON report.
    fn run(&self, args: &[&str]) -> Run {
        let mut cmd = cli_support::plain(self.scratch());
        cmd.arg("--root").arg(self.root()).args(["--format", "json", "--deadline"]);
        cmd.arg(format!("{}s", DEADLINE.as_secs())).args(args);
        Run::bounded(cmd, self.scratch())
    }
}

/// One finished run of clusterdoc.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    /// The child's own peak resident set, from wait4(2).
    max_rss_kib: i64,
    report: Value,
}

impl Run {
    /// Runs `cmd`, killing it (and failing) past the deadline and margin.
    fn bounded(mut cmd: Command, scratch: &Path) -> Run {
        let out_path = scratch.join(format!("stdout-{}", std::process::id()));
        let err_path = scratch.join(format!("stderr-{}", std::process::id()));
        cmd.stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap());
        let started = Instant::now();
        // Reaped below with wait4, which also gives the child's own peak memory.
        #[allow(clippy::zombie_processes)]
        let pid = cmd.spawn().expect("cannot start clusterdoc").id() as libc::pid_t;
        let (status, usage) = loop {
            let mut status = 0;
            // SAFETY: an all-zero rusage is valid; wait4 fills it.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: waits for our own child only, with valid out-pointers.
            let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
            assert!(done >= 0, "wait4: {}", std::io::Error::last_os_error());
            if done == pid {
                break (status, usage);
            }
            if started.elapsed() > DEADLINE + MARGIN {
                // SAFETY: kill(2) on our own child, not yet reaped.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                // SAFETY: reaps that child.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                panic!(
                    "clusterdoc did not exit within --deadline {DEADLINE:?} + {MARGIN:?}; stderr: {}",
                    std::fs::read_to_string(&err_path).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let elapsed = started.elapsed();
        assert!(libc::WIFEXITED(status), "clusterdoc died: wait status {status}");
        let stdout = std::fs::read_to_string(&out_path).unwrap();
        let stderr = std::fs::read_to_string(&err_path).unwrap();
        let report = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        Run { code: libc::WEXITSTATUS(status), stdout, stderr, elapsed, max_rss_kib: usage.ru_maxrss, report }
    }

    /// Ended well within the deadline, in bounded memory, and never showed
    /// the analyst's own files.
    fn assert_contained(&self) {
        assert!(self.elapsed < DEADLINE + MARGIN, "took {:?}", self.elapsed);
        assert!(self.max_rss_kib < MAX_RSS_KIB, "peak RSS {} KiB", self.max_rss_kib);
        assert!(
            !self.stdout.contains(MARKER) && !self.stderr.contains(MARKER),
            "the analyst's file leaked into the output:\n{}\n{}",
            self.stdout,
            self.stderr
        );
        assert!(self.report.is_object(), "not a JSON report: {}\n{}", self.stdout, self.stderr);
    }

    /// The finding messages and evidence of a check, one text.
    fn said(&self, id: &str) -> String {
        let check = self.check(id);
        let findings = check["findings"].as_array().unwrap();
        let mut text = vec![check["reason"].as_str().unwrap_or_default().to_string()];
        for f in findings {
            text.push(f["message"].as_str().unwrap_or_default().to_string());
            text.push(cli_support::evidence(f));
        }
        text.join("\n")
    }
}

impl ReadReport for Run {
    fn report(&self) -> &Value {
        &self.report
    }
}

#[test]
fn a_fifo_as_etc_hostname_is_refused_and_the_run_ends() {
    let node = Node::new();
    node.mkfifo("/etc/hostname");
    let run = node.run(&["--only", "hostname.case"]);
    run.assert_contained();
    assert_eq!((run.status("hostname.case"), run.code), ("error", 3), "{:#}", run.report);
    let fifo = node.root().join("etc/hostname");
    assert!(run.reason("hostname.case").contains(&format!("{} is a FIFO, not a regular file", fifo.display())));
}

#[test]
fn a_fifo_as_a_unit_file_is_refused() {
    let node = Node::new();
    node.mkfifo("/usr/lib/systemd/system/mesos-master.service");
    let run = node.run(&["--only", "systemd.respawn"]);
    run.assert_contained();
    assert_eq!((run.status("systemd.respawn"), run.code), ("error", 3), "{:#}", run.report);
    assert!(
        run.said("systemd.respawn").contains("mesos-master.service is a FIFO, not a regular file"),
        "{:#}",
        run.report
    );
}

#[test]
fn a_fifo_as_firewalld_conf_is_refused() {
    let node = Node::new();
    tree::copy_tree(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/firewalld/root")), &node.root());
    node.link(
        "/usr/lib/systemd/system/firewalld.service",
        "/etc/systemd/system/multi-user.target.wants/firewalld.service",
    );
    std::fs::remove_file(node.path("/etc/firewalld/firewalld.conf")).unwrap();
    node.mkfifo("/etc/firewalld/firewalld.conf");
    let run = node.run(&["--only", "firewalld.ports", "--role", "master"]);
    run.assert_contained();
    assert_eq!((run.status("firewalld.ports"), run.code), ("error", 3), "{:#}", run.report);
    assert!(run.said("firewalld.ports").contains("firewalld.conf is a FIFO, not a regular file"), "{:#}", run.report);
}

#[test]
fn a_sparse_2_gib_hosts_file_is_refused_unread() {
    let node = Node::new();
    node.write("/etc/hostname", "node1\n");
    std::fs::File::create(node.path("/etc/hosts")).unwrap().set_len(2 << 30).unwrap();
    let run = node.run(&["--only", "hostname.resolution"]);
    run.assert_contained();
    assert_eq!((run.status("hostname.resolution"), run.code), ("error", 3), "{:#}", run.report);
    assert!(
        run.said("hostname.resolution")
            .contains("hosts is larger than the 16 MiB clusterdoc reads of a hosts file; it was not read"),
        "{:#}",
        run.report
    );
}

#[test]
fn hosts_as_a_link_to_dev_zero_or_a_zero_device_is_refused() {
    let node = Node::new();
    node.write("/etc/hostname", "node1\n");
    // The link names the node's /dev/zero, which this tree does not have.
    node.link("/dev/zero", "/etc/hosts");
    let run = node.run(&["--only", "hostname.resolution"]);
    run.assert_contained();
    // Judged without a hosts file, as the node would resolve.
    assert_eq!(run.status("hostname.resolution"), "fail", "{:#}", run.report);
    assert!(run.reason("hostname.resolution").starts_with("node1 does not resolve"), "{:#}", run.report);
    // Now the tree has one: the real zero device (major 1, minor 5).
    let zero = node.path("/dev/zero");
    let made = Command::new("mknod").arg(&zero).args(["c", "1", "5"]).status().expect("mknod (coreutils)");
    assert!(made.success(), "this test needs root to create a device node");
    let run = node.run(&["--only", "hostname.resolution"]);
    run.assert_contained();
    assert_eq!((run.status("hostname.resolution"), run.code), ("error", 3), "{:#}", run.report);
    assert!(
        run.said("hostname.resolution")
            .contains("etc/hosts (a link to /dev/zero) is a character device, not a regular file"),
        "{:#}",
        run.report
    );
}

#[test]
fn hostname_links_out_of_the_root_are_not_followed() {
    let node = Node::new();
    let secret = node.analyst_file("hostname", &format!("{MARKER}\n"));
    for absolute in [true, false] {
        let _ = std::fs::remove_file(node.root().join("etc/hostname"));
        if absolute {
            node.link(&secret, "/etc/hostname");
        } else {
            node.climbing_link(&secret, "/etc/hostname");
        }
        let run = node.run(&["--only", "hostname.case"]);
        run.assert_contained();
        assert_eq!((run.status("hostname.case"), run.code), ("error", 3), "{:#}", run.report);
        let shown =
            format!("{} (a link to {}) does not exist", node.root().join("etc/hostname").display(), secret.display());
        assert!(run.reason("hostname.case").contains(&shown), "{:#}", run.report);
    }
    // A link that stays inside the node is followed, as on the node.
    std::fs::remove_file(node.root().join("etc/hostname")).unwrap();
    node.write("/etc/hostname.real", "Node1\n");
    node.link("/etc/hostname.real", "/etc/hostname");
    let run = node.run(&["--only", "hostname.case"]);
    assert_eq!(run.status("hostname.case"), "fail", "{:#}", run.report);
}

#[test]
fn firewalld_conf_links_out_of_the_root_are_not_followed() {
    let node = Node::new();
    tree::copy_tree(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/firewalld/root")), &node.root());
    node.link(
        "/usr/lib/systemd/system/firewalld.service",
        "/etc/systemd/system/multi-user.target.wants/firewalld.service",
    );
    // The analyst's own firewalld trusts everything, in a zone named after the marker.
    let conf = node.analyst_file("firewalld/firewalld.conf", &format!("DefaultZone={MARKER}\n"));
    node.analyst_file(&format!("firewalld/zones/{MARKER}.xml"), "<?xml version=\"1.0\"?><zone target=\"ACCEPT\"/>\n");
    std::fs::remove_file(node.path("/etc/firewalld/firewalld.conf")).unwrap();
    node.climbing_link(&conf, "/etc/firewalld/firewalld.conf");
    std::fs::remove_dir_all(node.path("/etc/firewalld/zones")).ok();
    node.link(node.outside().join("firewalld/zones"), "/etc/firewalld/zones");
    let run = node.run(&["--only", "firewalld.ports", "--role", "master"]);
    run.assert_contained();
    // The node's own default zone (public, from /usr/lib) rejects the master's port.
    assert_eq!(run.status("firewalld.ports"), "fail", "{:#}", run.report);
    assert!(run.said("firewalld.ports").contains("public"), "{:#}", run.report);
}

#[test]
fn flink_confs_out_of_the_root_are_not_read() {
    let node = Node::new();
    node.write("/etc/hostname", "node1\n");
    let home = node.outside().join("flink-1.2.0");
    node.analyst_file("flink-1.2.0/conf/flink-conf.yaml", &format!("jobmanager.rpc.address: {MARKER}\n"));
    // An installation directory that is a link to the analyst's, and a
    // node installation whose conf climbs out.
    node.link(&home, "/opt/flink-1.2.0");
    node.climbing_link(&home.join("conf/flink-conf.yaml"), "/usr/local/flink-1.3.0/conf/flink-conf.yaml");
    node.climbing_link(&home.join("conf/flink-conf.yaml"), "/etc/flink/flink-conf.yaml");
    let run = node.run(&["--only", "hostname.case"]);
    run.assert_contained();
    assert_eq!(run.status("hostname.case"), "pass", "{:#}", run.report);
}

#[test]
fn pack_files_out_of_the_root_are_not_read() {
    let node = Node::new();
    let secret = node.analyst_file("secret.conf", &format!("password={MARKER}\n"));
    let packs = node.scratch().join("packs");
    std::fs::create_dir_all(&packs).unwrap();
    let pack = |id: &str, only_if: &str, path: &str| {
        format!(
            "[[check]]\nid = \"{id}\"\ntitle = \"t\"\nseverity = \"fail\"\n{only_if}\n\
             [check.explain]\nwhat = \"w\"\nwhy = \"w\"\nfix = \"f\"\n\n\
             [check.file]\npath = \"{path}\"\ncontains = \"password=\"\n"
        )
    };
    let text = pack("site.secret", "", "/etc/secret.conf")
        + &pack("site.gated", "only_if_exists = [\"/etc/gate\"]", "/etc/hostname");
    std::fs::write(packs.join("site.toml"), text).unwrap();
    node.climbing_link(&secret, "/etc/secret.conf");
    node.link(&secret, "/etc/gate");
    node.write("/etc/hostname", "password=node\n");
    let packs_dir = packs.to_str().unwrap();
    let run = node.run(&["--checks-dir", packs_dir, "--only", "site.secret,site.gated"]);
    run.assert_contained();
    assert_eq!(run.status("site.secret"), "fail", "{:#}", run.report);
    assert!(run.said("site.secret").contains("does not exist"), "{:#}", run.report);
    assert_eq!(run.status("site.gated"), "skip", "{:#}", run.report);
    assert_eq!(run.reason("site.gated"), "none of /etc/gate exists on this node");
}

#[test]
fn a_root_that_is_not_a_readable_directory_is_a_usage_error() {
    let node = Node::new();
    let file = node.analyst_file("plain", "x");
    let missing = node.scratch().join("nonexistent");
    for (root, why) in [(&missing, "does not exist".to_string()), (&file, "is a regular file, not a directory".into())]
    {
        let output = cli_support::plain(node.scratch()).arg("--root").arg(root).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{stderr}");
        assert_eq!(stderr, format!("clusterdoc: --root: {} {why}\n", root.display()));
        assert!(output.stdout.is_empty());
    }
}

/// Accepts whatever is waiting on `listener` and says how many connections came.
fn connections(listener: &TcpListener) -> usize {
    listener.set_nonblocking(true).unwrap();
    let mut count = 0;
    loop {
        match listener.accept() {
            Ok(_) => count += 1,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return count,
            Err(e) => panic!("accept: {e}"),
        }
    }
}

#[test]
fn implicit_targets_are_not_probed_under_root() {
    // A namespace of its own: its 127.0.0.1 is nobody else's, so the default
    // ports can be listened on without disturbing anything.
    let pair = netns::Pair::new();
    let ns = &pair.client;
    let ports = [5050, 8080, 2181];
    let listeners: Vec<TcpListener> = ports.iter().map(|p| ns.listen(SocketAddr::from(([127, 0, 0, 1], *p)))).collect();
    let node = Node::new();
    let checks =
        "mesos.leader,marathon.leader,zk.quorum,net.reachability,mesos.master-clock-skew,zk.outstanding-requests";
    let run = |named: &[&str]| {
        let mut cmd = ns.command(env!("CARGO_BIN_EXE_clusterdoc"));
        cli_support::isolate(&mut cmd, node.scratch());
        cmd.arg("--root").arg(node.root()).args(["--format", "json", "--only", checks]);
        cmd.args(["--timeout", "500ms", "--deadline", "2s"]).args(named);
        Run::bounded(cmd, node.scratch())
    };
    let implicit = run(&[]);
    let arrived: Vec<usize> = listeners.iter().map(connections).collect();
    assert_eq!(arrived, [0, 0, 0], "the implicit defaults were probed: {:#}", implicit.report);
    let default = |url: &str, flag: &str| {
        format!("--root inspects a file tree, so the default {url} is not probed; name one with {flag}")
    };
    let expected = [
        ("mesos.leader", default("http://127.0.0.1:5050", "--mesos URL or MESOS_MASTER")),
        ("marathon.leader", default("http://127.0.0.1:8080", "--marathon URL or MARATHON_URL")),
        ("zk.quorum", "the default zk://127.0.0.1:2181/marathon is not probed; name the ensemble with --zk".into()),
        ("mesos.master-clock-skew", default("127.0.0.1:5050", "--mesos URL")),
        ("zk.outstanding-requests", default("127.0.0.1:2181", "--zk URL")),
    ];
    for (id, reason) in expected {
        assert_eq!(implicit.status(id), "skip", "{id}: {:#}", implicit.report);
        assert!(implicit.reason(id).contains(&reason), "{id}: {:?} lacks {reason:?}", implicit.reason(id));
    }
    // The same targets named are probed: the listeners do see clusterdoc.
    let named = run(&["--mesos", "127.0.0.1:5050", "--marathon", "127.0.0.1:8080", "--zk", "zk://127.0.0.1:2181/m"]);
    let arrived: Vec<usize> = listeners.iter().map(connections).collect();
    assert!(arrived.iter().all(|n| *n > 0), "named targets not probed: {arrived:?} {:#}", named.report);
}
