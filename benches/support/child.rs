//! Runs a program as a child process and measures it honestly: wall time
//! from spawn to exit, and the program's own peak resident set, as
//! `/usr/bin/time` reports it. (Not `wait4` on a child of this process: a
//! forked child counts this process's pages, the 120 MB state it serves
//! included, until it execs, and `ru_maxrss` keeps that high-water mark.)

#![allow(dead_code)] // each bench uses the parts it needs

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One finished run.
#[derive(Debug)]
pub struct Measured {
    pub wall: Duration,
    /// Peak resident set size, bytes.
    pub peak_rss: u64,
    pub exit_code: i32,
}

/// Where GNU time is (Debian package `time`).
const TIME: &str = "/usr/bin/time";

/// Runs `command` to its end with stdout and stderr discarded, under
/// `/usr/bin/time`, which forks it from a small process.
pub fn measure(command: &Command) -> Measured {
    assert!(std::path::Path::new(TIME).is_file(), "{TIME} is needed to measure peak memory: apt-get install -y time");
    let report = tempfile::NamedTempFile::new().expect("a temporary file");
    let mut timed = Command::new(TIME);
    timed.arg("-f").arg("%M").arg("-o").arg(report.path()).arg(command.get_program()).args(command.get_args());
    if let Some(dir) = command.get_current_dir() {
        timed.current_dir(dir);
    }
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => timed.env(key, value),
            None => timed.env_remove(key),
        };
    }
    let started = Instant::now();
    let status = timed
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let wall = started.elapsed();
    let text = std::fs::read_to_string(report.path()).expect("time's report");
    // "Command exited with non-zero status N" may come first; the figure is last.
    let kib: u64 =
        text.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or_else(|| panic!("time said {text:?}"));
    Measured { wall, peak_rss: kib * 1024, exit_code: status.code().unwrap_or(-1) }
}

/// Runs `command` to its end, output discarded (criterion times it); its exit code.
pub fn run(command: &mut Command) -> i32 {
    let status = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
    status.unwrap_or_else(|e| panic!("cannot run {command:?}: {e}")).code().unwrap_or(-1)
}

/// The program's absolute path if it is on PATH (or given as a path that exists).
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    let direct = std::path::Path::new(program);
    if direct.is_absolute() {
        return direct.is_file().then(|| direct.to_path_buf());
    }
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| std::path::Path::new(d).join(program)).find(|p| p.is_file())
}

/// The median of `runs` measurements (wall time; peak memory of the same run).
pub fn median_of(runs: usize, mut run: impl FnMut() -> Measured) -> Measured {
    let mut all: Vec<Measured> = (0..runs).map(|_| run()).collect();
    all.sort_by_key(|m| m.wall);
    all.swap_remove(all.len() / 2)
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}
