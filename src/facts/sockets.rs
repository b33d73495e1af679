//! Facts: the TCP sockets listening on this node and the processes holding
//! them, from `/proc/net/tcp`, `/proc/net/tcp6` and each process's open files.

use std::collections::HashMap;
use std::net::SocketAddr;

use procfs::net::{TcpNetEntry, TcpState};
use procfs::process::{FDTarget, Process};
use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};
use crate::redact::redact_argv;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SocketFacts {
    pub listeners: Vec<Listener>,
    /// Processes whose open files could not be read (another user's, when not
    /// root): a listener of theirs shows no holder.
    pub unreadable_processes: usize,
}

impl SocketFacts {
    /// The listeners on `port`, on any local address.
    pub fn on_port(&self, port: u16) -> impl Iterator<Item = &Listener> {
        self.listeners.iter().filter(move |l| l.local.port() == port)
    }
}

/// One listening TCP socket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Listener {
    pub local: SocketAddr,
    /// The socket's owner, as the kernel records it.
    pub uid: u32,
    /// The processes that have the socket open (several after a fork); empty
    /// when none could be seen.
    pub holders: Vec<Holder>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    /// The command line, credentials in URLs removed; `[comm]` for a process
    /// without one (a kernel thread, a zombie).
    pub command: Vec<String>,
    /// The process's distinct control group paths (`/system.slice/x.service`,
    /// `/mesos/<container>`).
    pub cgroups: Vec<String>,
}

impl Holder {
    /// The systemd service the process runs in, if any.
    pub fn unit(&self) -> Option<&str> {
        self.cgroups.iter().flat_map(|path| path.rsplit('/')).find(|part| part.ends_with(".service"))
    }

    pub fn command_line(&self) -> String {
        self.command.join(" ")
    }
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<SocketFacts> {
    if !g.cfg.live() {
        return Fact::unavailable(format!(
            "listening sockets are only looked at on the live node, not under --root {}",
            g.cfg.root.display()
        ));
    }
    match tokio::task::spawn_blocking(read_listeners).await {
        Ok(Ok(facts)) => Fact::observed(facts),
        Ok(Err(e)) => Fact::failed(e),
        Err(e) => Fact::failed(format!("reading the socket tables failed: {e}")),
    }
}

/// Reads this network namespace's listening sockets and their holders.
pub fn read_listeners() -> Result<SocketFacts, String> {
    let mut entries = procfs::net::tcp().map_err(|e| format!("/proc/net/tcp: {e}"))?;
    // No tcp6 table means IPv6 is off: nothing listens there.
    match procfs::net::tcp6() {
        Ok(v6) => entries.extend(v6),
        Err(procfs::ProcError::NotFound(_)) => {}
        Err(e) => return Err(format!("/proc/net/tcp6: {e}")),
    }
    let listening: Vec<TcpNetEntry> = entries.into_iter().filter(|e| e.state == TcpState::Listen).collect();
    let (mut holders, unreadable_processes) = holders_by_inode()?;
    let mut listeners: Vec<Listener> = listening
        .into_iter()
        .map(|e| Listener { local: e.local_address, uid: e.uid, holders: holders.remove(&e.inode).unwrap_or_default() })
        .collect();
    listeners.sort_by_key(|l| (l.local.port(), l.local));
    Ok(SocketFacts { listeners, unreadable_processes })
}

/// Socket inode -> the processes holding it, and how many processes could not
/// be looked into.
fn holders_by_inode() -> Result<(HashMap<u64, Vec<Holder>>, usize), String> {
    let mut by_inode: HashMap<u64, Vec<Holder>> = HashMap::new();
    let mut unreadable = 0;
    for process in procfs::process::all_processes().map_err(|e| format!("/proc: {e}"))? {
        // A process that exited while we looked holds nothing any more.
        let Ok(process) = process else { continue };
        let inodes = match socket_inodes(&process) {
            Ok(inodes) => inodes,
            Err(procfs::ProcError::PermissionDenied(_)) => {
                unreadable += 1;
                continue;
            }
            Err(_) => continue,
        };
        if inodes.is_empty() {
            continue;
        }
        let holder = describe(&process);
        for inode in inodes {
            by_inode.entry(inode).or_default().push(holder.clone());
        }
    }
    Ok((by_inode, unreadable))
}

fn socket_inodes(process: &Process) -> procfs::ProcResult<Vec<u64>> {
    let mut inodes = Vec::new();
    for fd in process.fd()? {
        if let Ok(fd) = fd
            && let FDTarget::Socket(inode) = fd.target
        {
            inodes.push(inode);
        }
    }
    Ok(inodes)
}

fn describe(process: &Process) -> Holder {
    let mut command = redact_argv(&process.cmdline().unwrap_or_default());
    if command.is_empty() {
        let comm = process.stat().map(|s| s.comm).unwrap_or_else(|_| "?".into());
        command.push(format!("[{comm}]"));
    }
    let mut cgroups: Vec<String> =
        process.cgroups().map(|c| c.into_iter().map(|g| g.pathname).collect()).unwrap_or_default();
    cgroups.sort();
    cgroups.dedup();
    Holder { pid: process.pid as u32, command, cgroups }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_listeners_are_found_with_our_pid_and_command() {
        let v4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let v6 = std::net::TcpListener::bind("[::1]:0").unwrap();
        let facts = read_listeners().unwrap();
        for listener in [&v4, &v6] {
            let addr = listener.local_addr().unwrap();
            let found: Vec<&Listener> = facts.on_port(addr.port()).filter(|l| l.local == addr).collect();
            assert_eq!(found.len(), 1, "{addr} in {facts:?}");
            let holder = &found[0].holders[0];
            assert_eq!(holder.pid, std::process::id());
            let me = std::env::args().next().unwrap();
            assert_eq!(holder.command[0], me);
            assert_eq!(found[0].uid, unsafe { libc::getuid() });
        }
    }

    #[test]
    fn a_service_cgroup_names_the_unit() {
        let holder = |paths: &[&str]| Holder {
            pid: 1,
            command: vec!["x".into()],
            cgroups: paths.iter().map(|p| p.to_string()).collect(),
        };
        assert_eq!(holder(&["/system.slice/mesos-slave.service"]).unit(), Some("mesos-slave.service"));
        assert_eq!(holder(&["/", "/user.slice/user-0.slice/session-3.scope"]).unit(), None);
        assert_eq!(holder(&[]).unit(), None);
    }
}
