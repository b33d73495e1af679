//! Fleet collection over real OpenSSH, side by side with the tools an
//! operator would otherwise use: `parallel-ssh` (Debian `pssh`) and
//! `ansible -m command` (PyPI `ansible-core`), at the same fanout, running
//! the same remote `clusterdoc collect --node` on the same hosts.
//!
//! The fleet is N loopback addresses (127.0.x.y) served by one real sshd on
//! a private port, in a network namespace of the bench's own (only its
//! loopback, so nothing outside can connect) where every tool runs too. Every node is its own ssh session; on the "node" a shim
//! runs the clusterdoc under test with `--root` set to that node's tree,
//! picked by the address the session came in on (`$SSH_CONNECTION`). Rounds
//! alternate the tools (ABC ABC ...) so a noisy machine hits all of them
//! alike; the table gives each tool's median wall time and clusterdoc's
//! ratio to each, and clusterdoc's own peak memory at each fleet size.
//!
//! Needs root (to read /root/.ssh-free keys and run sshd), sshd, pssh and an
//! ansible-core venv (`CLUSTERDOC_ANSIBLE`, default
//! ~/.cache/clusterdoc-bench/ansible-venv/bin/ansible); a missing tool is
//! reported and its column left out. Not a criterion bench: `cargo bench
//! --bench fleet_ssh` prints a table.

#[path = "support/child.rs"]
mod child;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use child::{Measured, measure, mib, which};

const FANOUT: usize = 32;
const PORT: u16 = 22022;
/// (fleet size, rounds): three rounds at 100 nodes, one at 1,000.
const SIZES: [(usize, usize); 2] = [(100, 3), (1000, 1)];

fn main() {
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "fleet_ssh".contains(f.as_str())) {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let bench = Bench::set_up(dir.path());
    println!("fleet over OpenSSH: loopback nodes, one sshd, fanout {FANOUT}, the same remote collect --node");
    println!("{:<8} {:<30} {:>10} {:>12} {:>16}", "nodes", "tool", "wall", "peak RSS", "clusterdoc is");
    for (size, rounds) in SIZES {
        let hosts = bench.hosts(size);
        let mut runs: Vec<(&str, Vec<Measured>)> = Vec::new();
        for _ in 0..rounds {
            for tool in bench.tools() {
                let measured = bench.run(tool, &hosts, size);
                match runs.iter_mut().find(|(name, _)| *name == tool.name()) {
                    Some((_, all)) => all.push(measured),
                    None => runs.push((tool.name(), vec![measured])),
                }
            }
        }
        let ours = median(&runs[0].1);
        for (name, all) in &runs {
            let m = median(all);
            let ratio = if name.starts_with("clusterdoc") {
                String::new()
            } else {
                format!("{:.2}x as fast", m.wall.as_secs_f64() / ours.wall.as_secs_f64())
            };
            println!("{size:<8} {name:<30} {:>9.2}s {:>10.1}MiB {ratio:>16}", m.wall.as_secs_f64(), mib(m.peak_rss));
        }
    }
}

fn median(all: &[Measured]) -> &Measured {
    let mut sorted: Vec<&Measured> = all.iter().collect();
    sorted.sort_by_key(|m| m.wall);
    sorted[sorted.len() / 2]
}

#[derive(Clone, Copy, PartialEq)]
enum Tool {
    Clusterdoc,
    /// The same sessions, every node judged as it arrives.
    ClusterdocCheck,
    Pssh,
    Ansible,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Clusterdoc => "clusterdoc collect --nodes",
            Tool::ClusterdocCheck => "clusterdoc check --nodes",
            Tool::Pssh => "parallel-ssh (pssh 2.3)",
            Tool::Ansible => "ansible -m command",
        }
    }
}

struct Bench {
    dir: PathBuf,
    /// The network namespace sshd and the tools run in.
    netns: String,
    sshd: Child,
    pssh: Option<PathBuf>,
    ansible: Option<PathBuf>,
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = self.sshd.kill();
        let _ = self.sshd.wait();
        let _ = Command::new("ip").args(["netns", "delete", &self.netns]).status();
    }
}

/// `program` run inside the namespace (`ip netns exec` execs it: what
/// `/usr/bin/time` measures is the program itself).
fn in_netns(netns: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new("ip");
    command.args(["netns", "exec", netns]).arg(program);
    command
}

impl Bench {
    fn set_up(dir: &Path) -> Bench {
        let sshd_bin = which("/usr/sbin/sshd").expect("sshd is needed: apt-get install -y openssh-server");
        for key in ["host_key", "client_key"] {
            let status = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(dir.join(key))
                .status()
                .expect("ssh-keygen");
            assert!(status.success());
        }
        fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
        // The shim: the clusterdoc under test on the node tree of the
        // address this session came in on.
        let trees = dir.join("trees");
        write_executable(
            &dir.join("node-clusterdoc"),
            &format!(
                "#!/bin/sh\naddr=$(echo \"$SSH_CONNECTION\" | cut -d' ' -f3)\nexec {} \"$@\" --root {}/\"$addr\"\n",
                env!("CARGO_BIN_EXE_clusterdoc"),
                trees.display()
            ),
        );
        let netns = format!("cdbench-{}", std::process::id());
        for args in [&["netns", "add", &netns][..], &["netns", "exec", &netns, "ip", "link", "set", "lo", "up"]] {
            let status = Command::new("ip").args(args).status().expect("iproute2");
            assert!(status.success(), "ip {args:?} (needs root)");
        }
        fs::write(
            dir.join("sshd_config"),
            format!(
                "ListenAddress 0.0.0.0:{PORT}\nHostKey {host}\nAuthorizedKeysFile {keys}\nPidFile {dir}/sshd.pid\n\
                 PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 UsePAM no\nStrictModes no\nMaxStartups 1000\nMaxSessions 1000\nLogLevel ERROR\n",
                host = dir.join("host_key").display(),
                keys = dir.join("authorized_keys").display(),
                dir = dir.display()
            ),
        )
        .unwrap();
        fs::create_dir_all("/run/sshd").unwrap();
        let sshd = in_netns(&netns, sshd_bin)
            .args(["-D", "-e", "-f"])
            .arg(dir.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sshd");
        let started = Instant::now();
        let filter = format!("sport = :{PORT}");
        while in_netns(&netns, "ss").args(["-ltnH", &filter]).output().expect("ss").stdout.is_empty() {
            assert!(started.elapsed() < Duration::from_secs(30), "sshd does not listen on {PORT}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let ansible = std::env::var_os("CLUSTERDOC_ANSIBLE").map(PathBuf::from).or_else(|| {
            let home = std::env::var_os("HOME")?;
            Some(Path::new(&home).join(".cache/clusterdoc-bench/ansible-venv/bin/ansible"))
        });
        let bench = Bench {
            dir: dir.to_path_buf(),
            netns,
            sshd,
            pssh: which("parallel-ssh"),
            ansible: ansible.filter(|a| a.is_file()),
        };
        if bench.pssh.is_none() {
            println!("parallel-ssh not found (apt-get install -y pssh): its column is left out");
        }
        if bench.ansible.is_none() {
            println!("ansible not found (pip install ansible-core into a venv, CLUSTERDOC_ANSIBLE): left out");
        }
        bench
    }

    /// The tools measured; `CLUSTERDOC_BENCH_OURS_ONLY=1` leaves the
    /// others out (a quick look at clusterdoc's own figures).
    fn tools(&self) -> Vec<Tool> {
        let mut tools = vec![Tool::Clusterdoc, Tool::ClusterdocCheck];
        if std::env::var_os("CLUSTERDOC_BENCH_OURS_ONLY").is_none() {
            tools.extend(self.pssh.as_ref().map(|_| Tool::Pssh));
            tools.extend(self.ansible.as_ref().map(|_| Tool::Ansible));
        }
        tools
    }

    /// N loopback addresses with a node tree each, listed in a hosts file.
    fn hosts(&self, size: usize) -> PathBuf {
        let mut list = String::new();
        for i in 0..size {
            let address = format!("127.0.{}.{}", 1 + i / 250, 1 + i % 250);
            let etc = self.dir.join("trees").join(&address).join("etc");
            fs::create_dir_all(&etc).unwrap();
            fs::write(etc.join("hostname"), format!("node{i}\n")).unwrap();
            list.push_str(&address);
            list.push('\n');
        }
        let file = self.dir.join(format!("hosts-{size}"));
        fs::write(&file, list).unwrap();
        file
    }

    fn ssh_options(&self) -> Vec<String> {
        let key = self.dir.join("client_key");
        [
            "-p".to_string(),
            PORT.to_string(),
            "-i".into(),
            key.display().to_string(),
            "-o".into(),
            "StrictHostKeyChecking=no".into(),
            "-o".into(),
            "UserKnownHostsFile=/dev/null".into(),
            "-o".into(),
            "LogLevel=ERROR".into(),
            "-o".into(),
            "BatchMode=yes".into(),
        ]
        .into()
    }

    fn run(&self, tool: Tool, hosts: &Path, size: usize) -> Measured {
        let shim = self.dir.join("node-clusterdoc");
        let remote = format!("{} collect --node --deadline 120s", shim.display());
        let out = self.dir.join("out");
        let _ = fs::remove_dir_all(&out);
        fs::create_dir_all(&out).unwrap();
        let mut command = match tool {
            Tool::Clusterdoc | Tool::ClusterdocCheck => {
                let (run, output) = match tool {
                    Tool::Clusterdoc => (["collect"].as_slice(), "fleet.json"),
                    _ => (["check", "--format", "json"].as_slice(), "report.json"),
                };
                let mut c = in_netns(&self.netns, env!("CARGO_BIN_EXE_clusterdoc"));
                c.args(run)
                    .args(["--fanout", &FANOUT.to_string(), "--deadline", "600s", "--timeout", "10s"])
                    .arg(format!("--nodes=@{}", hosts.display()))
                    .arg(format!("--ssh=ssh {}", self.ssh_options().join(" ")))
                    .arg(format!("--remote-bin={}", shim.display()))
                    .arg("-o")
                    .arg(out.join(output));
                c
            }
            Tool::Pssh => {
                let mut c = in_netns(&self.netns, self.pssh.as_ref().unwrap());
                c.arg("-h").arg(hosts).args(["-p", &FANOUT.to_string(), "-l", "root", "-t", "600", "-o"]);
                c.arg(&out).arg("-x").arg(self.ssh_options().join(" ")).arg(&remote);
                c
            }
            Tool::Ansible => {
                let inventory = self.dir.join(format!("inventory-{size}.ini"));
                let lines: String = fs::read_to_string(hosts).unwrap().lines().map(|h| format!("{h}\n")).collect();
                fs::write(&inventory, format!("[all]\n{lines}")).unwrap();
                let mut c = in_netns(&self.netns, self.ansible.as_ref().unwrap());
                c.arg("all").arg("-i").arg(&inventory).args([
                    "-m",
                    "command",
                    "-a",
                    &remote,
                    "-f",
                    &FANOUT.to_string(),
                ]);
                c.args(["-u", "root", "--private-key"]).arg(self.dir.join("client_key"));
                c.env("ANSIBLE_HOST_KEY_CHECKING", "False")
                    .env("ANSIBLE_SSH_ARGS", format!("-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p {PORT}"))
                    .env("ANSIBLE_REMOTE_PORT", PORT.to_string())
                    .env("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3")
                    .env("ANSIBLE_LOCAL_TEMP", self.dir.join("ansible-tmp"))
                    .env("ANSIBLE_REMOTE_TMP", self.dir.join("ansible-remote-tmp"));
                c
            }
        };
        command.current_dir(&self.dir);
        let measured = measure(&command);
        // A check run's verdict on the bench's nodes may be warn or fail (1, 2); 3 is a broken run.
        let worked = if tool == Tool::ClusterdocCheck { measured.exit_code <= 2 } else { measured.exit_code == 0 };
        assert!(worked, "{} on {size} nodes exited {}", tool.name(), measured.exit_code);
        measured
    }
}

fn write_executable(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    let mut permissions = fs::metadata(path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    fs::set_permissions(path, permissions).unwrap();
}
