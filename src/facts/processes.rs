//! Facts: the live process table of this node (pid, parent, name, command
//! line, start time, and the systemd unit whose cgroup holds the process).
//!
//! Only for a live run: under `--root DIR` the processes of the machine
//! clusterdoc runs on say nothing about the node under DIR.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

use super::{Fact, Gatherer};
use crate::redact::redact_argv;

/// Every process of the node when the facts were gathered, ordered by pid.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessFacts {
    pub processes: Vec<ProcessInfo>,
}

/// One process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessInfo {
    pub pid: u32,
    pub parent_pid: Option<u32>,
    /// The kernel's short name (`comm`, at most 15 bytes: `java`, `mesos-master`).
    pub name: String,
    /// The full command line, one element per argument (`argv`), secrets
    /// redacted (`config::redact_argv`); empty for kernel threads and for
    /// processes that could not be read.
    pub cmdline: Vec<String>,
    /// When the process started, in seconds since the Unix epoch.
    pub start_time: u64,
    /// The systemd unit (`*.service`) whose cgroup holds the process, e.g.
    /// `mesos-master.service` for a daemon systemd started; `None` for
    /// processes started outside any service (a shell, `nohup`, ssh).
    pub unit: Option<String>,
}

impl ProcessFacts {
    /// The processes whose command line satisfies `matches`, e.g.
    /// `find(|argv| argv.iter().any(|a| a.ends_with("mesos-master")))`.
    pub fn find<'a>(&'a self, matches: impl Fn(&[String]) -> bool + 'a) -> impl Iterator<Item = &'a ProcessInfo> + 'a {
        self.processes.iter().filter(move |p| matches(&p.cmdline))
    }

    /// The process with this pid, if it was running.
    pub fn get(&self, pid: u32) -> Option<&ProcessInfo> {
        self.processes.binary_search_by_key(&pid, |p| p.pid).ok().map(|i| &self.processes[i])
    }

    /// The processes in the cgroup of a systemd unit (`mesos-master.service`).
    pub fn in_unit<'a>(&'a self, unit: &'a str) -> impl Iterator<Item = &'a ProcessInfo> + 'a {
        self.processes.iter().filter(move |p| p.unit.as_deref() == Some(unit))
    }
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<ProcessFacts> {
    if !g.cfg.live() {
        return Fact::unavailable("live probes of the local node are off under --root");
    }
    match tokio::task::spawn_blocking(read_process_table).await {
        Ok(Ok(facts)) => Fact::observed(facts),
        Ok(Err(e)) => Fact::failed(e),
        Err(e) => Fact::failed(format!("reading the process table: {e}")),
    }
}

/// Reads the process table of the machine clusterdoc runs on.
fn read_process_table() -> Result<ProcessFacts, String> {
    let mut system = System::new().map_err(|e| format!("reading the process table: {e}"))?;
    // Threads are not processes here; the command line is the one thing
    // beyond /proc/PID/stat that we need.
    let refresh = ProcessRefreshKind::nothing().without_tasks().with_cmd(UpdateKind::Always);
    system.refresh_processes_specifics(ProcessesToUpdate::All, true, refresh);
    let mut processes: Vec<ProcessInfo> = system
        .processes()
        .values()
        .filter(|p| p.thread_kind().is_none())
        .map(|p| ProcessInfo {
            pid: p.pid().as_u32(),
            parent_pid: p.parent().map(|pid| pid.as_u32()),
            name: p.name().to_string_lossy().into_owned(),
            cmdline: redact_argv(&p.cmd().iter().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>()),
            start_time: p.start_time(),
            unit: unit_of_pid(p.pid().as_u32()),
        })
        .collect();
    processes.sort_by_key(|p| p.pid);
    Ok(ProcessFacts { processes })
}

/// The service unit of a process, from `/proc/PID/cgroup`; `None` when the
/// file cannot be read (the process exited meanwhile) or names no service.
fn unit_of_pid(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("cgroup")).ok()?;
    service_of_cgroup(&text)
}

/// The innermost `*.service` in the systemd cgroup path of a
/// `/proc/PID/cgroup` text. systemd keeps its tree in the unified hierarchy
/// (`0::/system.slice/x.service`) or, on cgroup v1 (CentOS 7), in the named
/// hierarchy `N:name=systemd:/system.slice/x.service`; the latter wins when both
/// exist because on hybrid set-ups the unified line may be empty.
fn service_of_cgroup(text: &str) -> Option<String> {
    let path_of = |controller: &str| {
        text.lines().find_map(|line| {
            let mut fields = line.splitn(3, ':');
            let (_id, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
            (controllers == controller).then_some(path)
        })
    };
    let path = path_of("name=systemd").or_else(|| path_of(""))?;
    path.split('/').rev().find(|part| part.ends_with(".service") && part.len() > ".service".len()).map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_comes_from_the_systemd_hierarchy() {
        assert_eq!(
            service_of_cgroup("0::/system.slice/mesos-master.service\n").as_deref(),
            Some("mesos-master.service")
        );
        let v1 = "11:cpu,cpuacct:/system.slice/other.service\n1:name=systemd:/system.slice/mesos-slave.service\n";
        assert_eq!(service_of_cgroup(v1).as_deref(), Some("mesos-slave.service"));
        // A unit nested in a user manager: the innermost service is the one
        // that started the process.
        let user = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/marathon.service\n";
        assert_eq!(service_of_cgroup(user).as_deref(), Some("marathon.service"));
        // Sub-cgroups a service made for itself still belong to it.
        assert_eq!(
            service_of_cgroup("0::/system.slice/zookeeper.service/payload\n").as_deref(),
            Some("zookeeper.service")
        );
    }

    #[test]
    fn processes_outside_services_have_no_unit() {
        assert_eq!(service_of_cgroup("0::/user.slice/user-0.slice/session-3.scope\n"), None);
        assert_eq!(service_of_cgroup("0::/\n"), None);
        assert_eq!(service_of_cgroup(""), None);
        assert_eq!(service_of_cgroup("garbage without colons"), None);
    }

    #[test]
    fn the_live_table_holds_this_test_with_its_command_line() {
        let table = read_process_table().unwrap();
        let me = table.get(std::process::id()).expect("the test process is in the table");
        let exe = std::env::current_exe().unwrap();
        let exe_name = exe.file_name().unwrap().to_str().unwrap();
        assert!(me.cmdline.first().is_some_and(|a| a.ends_with(exe_name)), "{:?}", me.cmdline);
        assert!(me.start_time > 0);
        assert_eq!(me.parent_pid, Some(std::os::unix::process::parent_id()));
        assert!(table.find(|argv| argv.first().is_some_and(|a| a.ends_with(exe_name))).any(|p| p.pid == me.pid));
    }
}
