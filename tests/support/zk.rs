//! Real ZooKeeper servers for tests (the Debian `zookeeper` package, 3.8):
//! standalone servers and ensembles on free loopback ports, each with a
//! temporary data directory, killed when dropped.

#![allow(dead_code)] // each test file uses the parts it needs

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const JARS: [&str; 4] = [
    "/usr/share/java/zookeeper.jar",
    "/usr/share/java/zookeeper-jute.jar",
    "/usr/share/java/slf4j-api.jar",
    "/usr/share/java/slf4j-simple.jar",
];
const READY_WITHIN: Duration = Duration::from_secs(30);

/// One ZooKeeper server process.
pub struct ZkServer {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

/// Every server of a quorum, in `server.N` order.
pub struct Ensemble {
    pub servers: Vec<ZkServer>,
}

/// Free loopback ports, all held until every one is chosen so none repeats.
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> =
        (0..n).map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a loopback port")).collect();
    listeners.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

fn require_installation() {
    let mut missing: Vec<&str> = JARS.iter().copied().filter(|jar| !Path::new(jar).exists()).collect();
    if which_java().is_none() {
        missing.insert(0, "java");
    }
    assert!(
        missing.is_empty(),
        "a real ZooKeeper is needed but {} is missing: install the Debian zookeeper package (scripts/test does)",
        missing.join(", ")
    );
}

fn which_java() -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join("java")).find(|p| p.is_file())
}

/// Sends one four-letter word; the answer, or "" when nothing answers.
pub fn four_letter_word(port: u16, cmd: &str) -> String {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut answer = String::new();
    if stream.write_all(cmd.as_bytes()).is_ok() {
        let _ = stream.read_to_string(&mut answer);
    }
    answer
}

impl ZkServer {
    /// A standalone server allowing the given four-letter words.
    pub fn standalone(whitelist: &str) -> ZkServer {
        let port = free_ports(1)[0];
        let server = Self::spawn(port, whitelist, None);
        server.wait_until(READY_WITHIN, |answer| answer.contains("Mode:") || answer.contains("not in the whitelist"));
        server
    }

    /// Starts a server; `member` is (myid, `server.N=` lines) for an ensemble member.
    fn spawn(port: u16, whitelist: &str, member: Option<(usize, &str)>) -> ZkServer {
        require_installation();
        let dir = tempfile::tempdir().expect("temporary data dir");
        let (main_class, quorum_config) = match member {
            Some((id, members)) => {
                std::fs::write(dir.path().join("myid"), format!("{id}\n")).unwrap();
                ("org.apache.zookeeper.server.quorum.QuorumPeerMain", members)
            }
            None => ("org.apache.zookeeper.server.ZooKeeperServerMain", ""),
        };
        let config = format!(
            "tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             4lw.commands.whitelist={whitelist}\nadmin.enableServer=false\n{quorum_config}",
            dir.path().display()
        );
        std::fs::write(dir.path().join("zoo.cfg"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new("java")
            .args(["-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", &JARS.join(":"), main_class])
            .arg(dir.path().join("zoo.cfg"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start java ({e}): install the Debian zookeeper package (scripts/test does)")
            });
        ZkServer { port, child, dir }
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn srvr(&self) -> String {
        four_letter_word(self.port, "srvr")
    }

    /// Polls `srvr` until `ready` accepts the answer; panics with the server's log otherwise.
    pub fn wait_until(&self, within: Duration, ready: impl Fn(&str) -> bool) {
        let start = Instant::now();
        while start.elapsed() < within {
            if ready(&self.srvr()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect();
        panic!(
            "ZooKeeper on port {} not ready in {within:?}; last srvr: {:?}\n{}",
            self.port,
            self.srvr(),
            tail.join("\n")
        );
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ZkServer {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Ensemble {
    /// `size` servers in one quorum on loopback; returns once each reports a mode.
    pub fn start(size: usize) -> Ensemble {
        let ports = free_ports(size * 3);
        let members: String = (0..size)
            .map(|i| format!("server.{}=127.0.0.1:{}:{}\n", i + 1, ports[size + i], ports[2 * size + i]))
            .collect();
        let servers: Vec<ZkServer> =
            (0..size).map(|i| ZkServer::spawn(ports[i], "srvr,mntr,ruok", Some((i + 1, &members)))).collect();
        for server in &servers {
            server.wait_until(READY_WITHIN, |answer| {
                answer.contains("Mode: leader") || answer.contains("Mode: follower")
            });
        }
        Ensemble { servers }
    }

    /// `127.0.0.1:P1,127.0.0.1:P2,...`.
    pub fn addresses(&self) -> String {
        self.servers.iter().map(ZkServer::address).collect::<Vec<_>>().join(",")
    }
}
