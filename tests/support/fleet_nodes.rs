//! A fleet of fake cluster nodes reachable over real OpenSSH.
//!
//! Each node is a network namespace plus PID, mount, UTS, IPC and cgroup
//! namespaces, with systemd as its PID 1 and a real `sshd` (Debian
//! `openssh-server`) as a unit. The node has its own host name and its own
//! `/etc`: an overlay over the machine's, whose upper layer holds the node's
//! `hostname`, `passwd` (root's shell is `/bin/sh`: no `~/.bashrc` on every
//! command), sshd config and host key, and hides what the machine has but a
//! node must not (`/etc/zookeeper` and other cluster configuration,
//! firewalld's enablement). Its `/tmp` and
//! `/usr/local/bin` are directories of the test ([`Node::tmp_entries`],
//! [`Node::install`]) and `/run` a fresh tmpfs.
//!
//! The nodes sit on a bridge in a client namespace (10.232.0.1/24; node `i`
//! is 10.232.0.(i+2)); the test runs clusterdoc (and so ssh) inside it with
//! [`Fleet::client`] and [`Fleet::ssh_command`], which uses a generated
//! client key and a known_hosts file holding every node's host key. No
//! traffic leaves the namespaces the fleet created, and dropping the fleet
//! ends everything in them, also when a test panics.
//!
//! Needs root, iproute2, nftables, util-linux, systemd and openssh-server
//! (scripts/test installs them): without them a test fails saying so.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::netns::{self, Netns};
use super::systemd_pid1;

const SSHD: &str = "/usr/sbin/sshd";
/// The unit that runs sshd in a node.
pub const SSHD_UNIT: &str = "sshd-fleet.service";
/// How long a node may take to boot and answer on port 22. About 0.5 s on an
/// idle machine; the margin is for a machine whose cores are all busy.
const START_DEADLINE: Duration = Duration::from_secs(60);

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Boots the node: its own /etc, /run and /tmp, then systemd as PID 1.
const SETUP: &str = r#"set -e
dir=$1
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$dir/upper,workdir=$dir/work" /etc
mount -t tmpfs tmpfs /run
mount --bind "$dir/bin" /usr/local/bin
mount --bind "$dir/tmp" /tmp
export container=clusterdoc-test
exec /lib/systemd/systemd --system --unit=cdtest.target --log-target=console --log-level=warning
"#;

/// What a node is like before it boots.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    pub hostname: String,
    /// Whether sshd accepts the client key.
    pub authorizes_client: bool,
    /// Files of the node's own `/etc` (path relative to it, content).
    pub etc: Vec<(String, String)>,
    /// Symbolic links of the node's own `/etc` (path relative to it, target).
    pub etc_links: Vec<(String, String)>,
}

impl NodeSpec {
    pub fn named(hostname: &str) -> NodeSpec {
        NodeSpec { hostname: hostname.into(), authorizes_client: true, etc: Vec::new(), etc_links: Vec::new() }
    }

    /// The node with `/etc/PATH` holding `text` (a directory the machine's
    /// /etc has and nodes hide becomes the node's own, empty but for this).
    pub fn with_etc(mut self, path: &str, text: &str) -> NodeSpec {
        self.etc.push((path.into(), text.into()));
        self
    }

    /// The node with the symbolic link `/etc/PATH` -> `target` (as `systemctl
    /// enable` makes them).
    pub fn with_etc_link(mut self, path: &str, target: &str) -> NodeSpec {
        self.etc_links.push((path.into(), target.into()));
        self
    }

    /// A node whose sshd refuses the client key.
    pub fn refusing_the_key(hostname: &str) -> NodeSpec {
        NodeSpec { authorizes_client: false, ..NodeSpec::named(hostname) }
    }
}

/// The running fleet; dropping it tears every node down.
pub struct Fleet {
    pub nodes: Vec<Node>,
    /// The namespace to run the client (clusterdoc, ssh) in.
    pub client: Netns,
    dir: TempDir,
}

/// One running node.
pub struct Node {
    pub hostname: String,
    pub ip: Ipv4Addr,
    pub ns: Netns,
    dir: PathBuf,
    unshare: Child,
    /// The node's systemd, as the machine sees it.
    pid1: u32,
}

impl Fleet {
    /// Boots one node per spec (in parallel) and waits until each sshd answers.
    pub fn start(specs: &[NodeSpec]) -> Fleet {
        require_root_and_tools();
        let base = format!("cdf-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let dir = tempfile::tempdir().unwrap();
        keygen(&dir.path().join("client_key"));
        fs::write(dir.path().join("refused_keys"), "").unwrap();
        let client = Netns::create(format!("{base}-c"));
        client.exec(&["ip", "link", "add", "br0", "type", "bridge"]);
        client.exec(&["ip", "addr", "add", "10.232.0.1/24", "dev", "br0"]);
        client.exec(&["ip", "link", "set", "br0", "up"]);
        let mut fleet = Fleet { nodes: Vec::new(), client, dir };
        for (i, spec) in specs.iter().enumerate() {
            let node = fleet.boot(&format!("{base}-n{i}"), i, spec);
            fleet.nodes.push(node);
        }
        fleet.write_known_hosts();
        for node in &mut fleet.nodes {
            node.wait_for_pid1();
        }
        for node in &fleet.nodes {
            node.wait_for_sshd(&fleet.client);
        }
        fleet
    }

    /// `start` with one authorizing node per name.
    pub fn named(hostnames: &[&str]) -> Fleet {
        Fleet::start(&hostnames.iter().map(|h| NodeSpec::named(h)).collect::<Vec<_>>())
    }

    /// The `--ssh` command that reaches the nodes: the fleet's client key
    /// and known_hosts, no user or system ssh config.
    pub fn ssh_command(&self) -> String {
        format!(
            "ssh -F none -i {} -o UserKnownHostsFile={} -o GlobalKnownHostsFile=none -o StrictHostKeyChecking=yes -o LogLevel=ERROR",
            self.path("client_key").display(),
            self.path("known_hosts").display()
        )
    }

    /// A file of the fleet's own directory (keys, known_hosts, wrappers).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes an executable script into the fleet's directory.
    pub fn script(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        write_executable(&path, text);
        path
    }

    /// Replaces node `i`'s line in known_hosts with a freshly generated key:
    /// to the client, the node's host key has changed.
    pub fn change_known_host_key(&self, i: usize) {
        let other = self.path(&format!("other_host_key_{i}"));
        keygen(&other);
        let ip = self.nodes[i].ip.to_string();
        let known = fs::read_to_string(self.path("known_hosts")).unwrap();
        let replaced: Vec<String> = known
            .lines()
            .map(|line| match line.split_once(' ') {
                Some((host, _)) if host == ip => format!("{ip} {}", public_key(&other)),
                _ => line.to_string(),
            })
            .collect();
        fs::write(self.path("known_hosts"), replaced.join("\n") + "\n").unwrap();
    }

    fn boot(&self, ns_name: &str, i: usize, spec: &NodeSpec) -> Node {
        let ip = Ipv4Addr::new(10, 232, 0, 2 + u8::try_from(i).expect("at most 250 nodes"));
        let dir = self.path(&format!("n{i}"));
        let keys = if spec.authorizes_client { "client_key.pub" } else { "refused_keys" };
        write_etc(&dir.join("upper"), spec, ip, &self.path(keys));
        for sub in ["work", "tmp", "bin"] {
            fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let ns = Netns::create(ns_name.to_string());
        let veth = format!("v{i}");
        netns::run(
            "ip",
            &[
                "link",
                "add",
                "eth0",
                "netns",
                &ns.name,
                "type",
                "veth",
                "peer",
                "name",
                &veth,
                "netns",
                &self.client.name,
            ],
        );
        self.client.exec(&["ip", "link", "set", &veth, "master", "br0", "up"]);
        ns.exec(&["ip", "addr", "add", &format!("{ip}/24"), "dev", "eth0"]);
        ns.exec(&["ip", "link", "set", "eth0", "up"]);
        let log = fs::File::create(dir.join("systemd.log")).unwrap();
        let mut unshare = ns.command("unshare");
        unshare
            .args(["--pid", "--fork", "--kill-child", "--mount-proc", "--mount", "--propagation", "private"])
            .args(["--uts", "--ipc", "--cgroup", "--", "sh", "-c", SETUP, "sh"])
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        // Should the test process die without dropping the fleet, unshare
        // dies with it, and --kill-child takes the node's systemd down too.
        // SAFETY: prctl is async-signal-safe; nothing else runs in the child.
        unsafe {
            unshare.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            })
        };
        let unshare = unshare.spawn().unwrap_or_else(|e| panic!("cannot start node {}: {e}", spec.hostname));
        Node { hostname: spec.hostname.clone(), ip, ns, dir, unshare, pid1: 0 }
    }

    fn write_known_hosts(&self) {
        let lines: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("{} {}", n.ip, public_key(&n.dir.join("upper/ssh/host_ed25519"))))
            .collect();
        fs::write(self.path("known_hosts"), lines.join("\n") + "\n").unwrap();
    }
}

impl Node {
    /// What is in the node's /tmp.
    pub fn tmp_entries(&self) -> Vec<String> {
        let entries = fs::read_dir(self.dir.join("tmp")).unwrap();
        entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
    }

    /// Installs an executable script as `/usr/local/bin/NAME` on the node
    /// (first on its PATH).
    pub fn install(&self, name: &str, text: &str) {
        write_executable(&self.dir.join("bin").join(name), text);
    }

    /// Installs the clusterdoc under test as `/usr/local/bin/NAME` on the
    /// node (the test's own files may be out of the node's sight, under
    /// its private /tmp).
    pub fn install_clusterdoc(&self, name: &str) {
        let target = self.dir.join("bin").join(name);
        let binary = env!("CARGO_BIN_EXE_clusterdoc");
        if fs::hard_link(binary, &target).is_err() {
            fs::copy(binary, &target).unwrap();
        }
    }

    /// A file the node wrote into its `/usr/local/bin` ("" when absent).
    pub fn installed_file(&self, name: &str) -> String {
        fs::read_to_string(self.dir.join("bin").join(name)).unwrap_or_default()
    }

    /// Waits until the node's /tmp is empty, or `limit` has passed; what is
    /// left then.
    pub fn tmp_left_after(&self, limit: Duration) -> Vec<String> {
        let started = Instant::now();
        loop {
            let left = self.tmp_entries();
            if left.is_empty() || started.elapsed() > limit {
                return left;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs a program inside the node (its namespaces, its /etc and /tmp),
    /// whatever its exit status.
    pub fn output(&self, args: &[&str]) -> Output {
        Command::new("nsenter")
            .args(["-t", &self.pid1.to_string(), "-m", "-p", "-u", "-n", "-i", "--"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run nsenter (util-linux needed): {e}"))
    }

    /// Runs a program inside the node; it must succeed.
    pub fn exec(&self, args: &[&str]) -> Output {
        let output = self.output(args);
        assert!(
            output.status.success(),
            "{} in node {} failed: {}",
            args.join(" "),
            self.hostname,
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Stops the node's sshd: connections are refused.
    pub fn stop_sshd(&self) {
        self.exec(&["systemctl", "stop", SSHD_UNIT]);
    }

    /// Drops every SYN to port 22 in the node's namespace: connections time out.
    pub fn drop_ssh_syns(&self) {
        self.ns.nft(
            "table inet cdtest {\n chain input {\n  type filter hook input priority 0;\n  tcp dport 22 drop\n }\n}\n",
        );
    }

    /// Waits until processes matching `pattern` (pgrep -f) are gone from
    /// the node, or `limit` has passed; true when they are gone.
    pub fn wait_until_gone(&self, pattern: &str, limit: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < limit {
            let found = Command::new("nsenter")
                .args(["-t", &self.pid1.to_string(), "-p", "-m", "--", "pgrep", "-f", pattern])
                .output()
                .expect("nsenter");
            if !found.status.success() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("systemd.log")).unwrap_or_default()
    }

    fn wait_for_pid1(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.unshare.try_wait().unwrap() {
                panic!("node {} did not boot ({status}): {}", self.hostname, self.log());
            }
            if let Some(pid) = systemd_pid1::child_of(self.unshare.id()) {
                self.pid1 = pid;
                return;
            }
            assert!(started.elapsed() < START_DEADLINE, "node {}: unshare started no process", self.hostname);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until sshd greets a client on port 22 of the node.
    fn wait_for_sshd(&self, client: &Netns) {
        let started = Instant::now();
        let addr = SocketAddr::from((self.ip, 22));
        loop {
            let greeting = client.enter(|| {
                let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
                stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
                let mut line = String::new();
                BufReader::new(stream).read_line(&mut line).ok()?;
                Some(line)
            });
            if greeting.is_some_and(|line| line.starts_with("SSH-2.0-")) {
                return;
            }
            assert!(
                started.elapsed() < START_DEADLINE,
                "node {}: sshd does not answer on {addr} after {START_DEADLINE:?}: {}",
                self.hostname,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.pid1 != 0 {
            // SAFETY: kill has no memory preconditions; the PID is the
            // node's init, which this value started: killing it ends every
            // process in the node.
            unsafe { libc::kill(self.pid1 as libc::pid_t, libc::SIGKILL) };
        }
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
    }
}

/// The node's own /etc content: the overlay's upper layer.
fn write_etc(upper: &Path, spec: &NodeSpec, ip: Ipv4Addr, authorized_keys: &Path) {
    let units = upper.join("systemd/system");
    for sub in ["ssh", "systemd/system/cdtest.target.wants", "systemd/system/multi-user.target.wants"] {
        fs::create_dir_all(upper.join(sub)).unwrap();
    }
    fs::write(upper.join("hostname"), format!("{}\n", spec.hostname)).unwrap();
    let passwd = fs::read_to_string("/etc/passwd").unwrap();
    let passwd: Vec<String> = passwd
        .lines()
        .map(|line| match line.strip_prefix("root:") {
            Some(_) => format!("{}/bin/sh", &line[..=line.rfind(':').unwrap()]),
            None => line.to_string(),
        })
        .collect();
    fs::write(upper.join("passwd"), passwd.join("\n") + "\n").unwrap();
    // Whiteouts: the machine's cluster configuration (ZooKeeper's is there
    // on this kind of machine), its clusterdoc config and firewalld's
    // enablement are not the node's.
    for hidden in [
        "zookeeper",
        "mesos",
        "mesos-master",
        "mesos-slave",
        "marathon",
        "flink",
        "clusterdoc",
        "systemd/system/multi-user.target.wants/firewalld.service",
    ] {
        whiteout(&upper.join(hidden));
    }
    for (path, text) in &spec.etc {
        let top = upper.join(path.split('/').next().unwrap());
        if path.contains('/') && fs::symlink_metadata(&top).is_ok_and(|m| m.file_type().is_char_device()) {
            opaque_dir(&top);
        }
        let file = upper.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, text).unwrap();
    }
    for (path, target) in &spec.etc_links {
        let link = upper.join(path);
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        // A link the node has overrides a whiteout of the machine's.
        if fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_char_device()) {
            fs::remove_file(&link).unwrap();
        }
        std::os::unix::fs::symlink(target, link).unwrap();
    }
    keygen(&upper.join("ssh/host_ed25519"));
    fs::write(
        upper.join("ssh/sshd_fleet.conf"),
        format!(
            "ListenAddress {ip}:22\nHostKey /etc/ssh/host_ed25519\nPidFile /run/sshd-fleet.pid\n\
             AuthorizedKeysFile /etc/ssh/authorized_keys_fleet\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPrintMotd no\nLogLevel ERROR\n"
        ),
    )
    .unwrap();
    // In the node's /etc: the test's /tmp is not the node's.
    fs::copy(authorized_keys, upper.join("ssh/authorized_keys_fleet")).unwrap();
    fs::write(units.join("cdtest.target"), "[Unit]\nDescription=clusterdoc test node\nDefaultDependencies=no\n")
        .unwrap();
    fs::write(
        units.join(SSHD_UNIT),
        format!(
            "[Unit]\nDefaultDependencies=no\n[Service]\nExecStartPre=/bin/mkdir -p /run/sshd\n\
             ExecStart={SSHD} -D -f /etc/ssh/sshd_fleet.conf\n"
        ),
    )
    .unwrap();
    std::os::unix::fs::symlink(format!("../{SSHD_UNIT}"), units.join("cdtest.target.wants").join(SSHD_UNIT)).unwrap();
}

fn write_executable(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// An overlayfs whiteout: the lower layer's entry of that name is hidden.
fn whiteout(path: &Path) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string; a 0/0 character device is overlayfs's whiteout.
    let rc = unsafe { libc::mknod(name.as_ptr(), libc::S_IFCHR | 0o600, 0) };
    assert_eq!(rc, 0, "mknod {}: {}", path.display(), std::io::Error::last_os_error());
}

/// Replaces a whiteout with an overlayfs opaque directory: the node's own,
/// showing nothing of the lower layer's directory of that name.
fn opaque_dir(path: &Path) {
    fs::remove_file(path).unwrap();
    fs::create_dir(path).unwrap();
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: valid C strings and a one-byte value.
    let rc = unsafe { libc::setxattr(name.as_ptr(), c"trusted.overlay.opaque".as_ptr(), b"y".as_ptr().cast(), 1, 0) };
    assert_eq!(rc, 0, "setxattr {}: {}", path.display(), std::io::Error::last_os_error());
}

/// A new ed25519 key pair at `path` and `path.pub`.
fn keygen(path: &Path) {
    let output = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "clusterdoc-test", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen (openssh-client) is needed");
    assert!(output.status.success(), "ssh-keygen failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// `TYPE BASE64` of the key pair at `path`.
fn public_key(path: &Path) -> String {
    let mut text = String::new();
    fs::File::open(path.with_extension("pub")).unwrap().read_to_string(&mut text).unwrap();
    text.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

/// Fails the calling test, with what is missing, unless it can boot nodes.
pub fn require_root_and_tools() {
    netns::require_root_and_tools();
    systemd_pid1::require_root_and_tools();
    assert!(
        Path::new(SSHD).exists(),
        "fleet tests need a real sshd at {SSHD} (apt-get install openssh-server; scripts/test does)"
    );
    let keygen = Command::new("ssh-keygen").arg("-?").output();
    assert!(keygen.is_ok(), "fleet tests need ssh and ssh-keygen (apt-get install openssh-client)");
}
