//! clusterdoc against the tool an operator would otherwise use, run side by
//! side as whole processes from this one bench, alternately (ABAB: ours,
//! theirs, ours, theirs, ... for several rounds), so that a machine that is
//! busy for a while slows both alike. Each round gives a ratio (their wall
//! time over ours); the table shows the median ratio and its spread (the
//! lowest and highest round), next to the goal.
//!
//! - `/master/state` of 10,000 agents and 200,000 tasks (about 120 MB),
//!   served over loopback HTTP: `clusterdoc check --only mesos.leader`
//!   against `jq '.slaves | length'` over the same bytes in a file; and
//!   `--only flink.taskmanager-orphans`, the one check that reads the tasks
//!   (the others skip them unparsed), against the same jq.
//! - 10,000 agents at loopback ports 20000-29999 (1,000 listening): the
//!   whole `clusterdoc check --only net.reachability` (fetch the agents,
//!   sweep, judge) against `nmap -sT -n -Pn` over the same ports; and the
//!   same agents listed before 200,000 tasks, with the one check that reads
//!   the tasks also run (the sweep runs while the tasks are parsed).
//!
//! `cargo bench --bench side_by_side` (rounds: `CLUSTERDOC_ABAB_ROUNDS`,
//! default 7). Not criterion: it prints a table.

#[path = "support/child.rs"]
mod child;
#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/listeners.rs"]
mod listeners;
#[path = "support/server.rs"]
mod server;

use std::process::Command;
use std::time::Duration;

use child::{Measured, measure, which};
use listeners::Accepting;

/// Below the ephemeral port range (32768-60999).
const PORTS: std::ops::Range<u16> = 20_000..30_000;

fn main() {
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "side_by_side".contains(f.as_str())) {
        return;
    }
    let rounds: usize = std::env::var("CLUSTERDOC_ABAB_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(7);
    println!("{rounds} rounds, each: clusterdoc, then the other tool (whole processes, wall time)");
    println!(
        "{:<48} {:>11} {:>11} {:>24} {:>6}",
        "comparison", "clusterdoc", "theirs", "ratio: median (low-high)", "goal"
    );
    state_against_jq(rounds);
    sweep_against_nmap(rounds);
}

fn state_against_jq(rounds: usize) {
    let Some(jq) = which("jq") else { return println!("jq is not installed (apt-get install -y jq): left out") };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let master = listener.local_addr().expect("its address").to_string();
    let state = cluster::big_mesos_state(&master);
    let file = cluster::temp_file(&state);
    let server = server::Server::on(listener, cluster::master_routes(state));
    let mut ours = clusterdoc(&["--only", "mesos.leader", "--mesos", &server.url()]);
    hold(&ours);
    let mut theirs = Command::new(jq);
    theirs.arg(".slaves | length").arg(file.path());
    abab("/master/state 120 MB: mesos.leader vs jq", rounds, &mut ours, &mut theirs, Some(20.0));
    // The one check that reads the tasks: every task parsed and built.
    let with_tasks = ["--only", "flink.taskmanager-orphans", "--mesos", &server.url()];
    let mut ours = clusterdoc(&with_tasks);
    abab("  the same, tasks read: taskmanager-orphans", rounds, &mut ours, &mut theirs, None);
}

fn sweep_against_nmap(rounds: usize) {
    let Some(nmap) = which("nmap") else {
        return println!("nmap is not installed (apt-get install -y nmap): left out");
    };
    listeners::raise_open_file_limit();
    let open = Accepting::start(PORTS.step_by(10));
    let closed = listeners::closed_ports(PORTS, &open.ports);
    let mut ports: Vec<u16> = open.ports.iter().chain(&closed).copied().collect();
    ports.sort_unstable();
    let agents: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let master = cluster::leading_master(&agents, 0);
    let mut ours = clusterdoc(&["--only", "net.reachability", "--mesos", &master.url(), "--timeout", "2s"]);
    hold(&ours);
    let list = ports.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
    let mut theirs = Command::new(nmap);
    theirs.args(["-sT", "-n", "-Pn", "-oG", "-", "-p", &list, "127.0.0.1"]);
    abab("10,000 endpoints: net.reachability vs nmap -sT", rounds, &mut ours, &mut theirs, Some(1.3));
    // The agents come first in the state, then 200,000 tasks (about 120 MB)
    // that a run with the orphans check reads: the sweep runs meanwhile.
    let master = cluster::leading_master(&agents, cluster::TASKS);
    let both = ["--only", "net.reachability,flink.taskmanager-orphans", "--mesos", &master.url(), "--timeout", "2s"];
    let mut ours = clusterdoc(&both);
    hold(&ours);
    abab("  the same agents before 200,000 tasks, all read", rounds, &mut ours, &mut theirs, None);
}

/// With `CLUSTERDOC_ABAB_HOLD=SECONDS`, keeps the comparison's cluster up
/// that long first, to profile `ours` by hand (perf record ...).
fn hold(ours: &Command) {
    if let Ok(seconds) = std::env::var("CLUSTERDOC_ABAB_HOLD") {
        println!("holding {seconds} s: {ours:?}");
        std::thread::sleep(Duration::from_secs(seconds.parse().unwrap_or(60)));
    }
}

fn clusterdoc(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clusterdoc"));
    command.args(["check", "--format", "json"]).args(args).current_dir(std::env::temp_dir());
    command
}

/// Runs the pair alternately for `rounds` after one warm-up of each, and
/// prints the median times and the ratios.
fn abab(what: &str, rounds: usize, ours: &mut Command, theirs: &mut Command, goal: Option<f64>) {
    let judged = |m: Measured| {
        assert!(m.exit_code < 3, "clusterdoc could not judge (exit {}): {what}", m.exit_code);
        m.wall
    };
    let (_, _) = (judged(measure(ours)), measure(theirs));
    let mut pairs: Vec<(Duration, Duration)> = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let mine = judged(measure(ours));
        let other = measure(theirs).wall;
        pairs.push((mine, other));
    }
    let mut ratios: Vec<f64> = pairs.iter().map(|(mine, other)| other.as_secs_f64() / mine.as_secs_f64()).collect();
    ratios.sort_by(f64::total_cmp);
    let median = |mut walls: Vec<Duration>| {
        walls.sort();
        walls[walls.len() / 2]
    };
    let (mine, other) = (median(pairs.iter().map(|p| p.0).collect()), median(pairs.iter().map(|p| p.1).collect()));
    let spread = format!("{:.2}x ({:.2}-{:.2})", ratios[ratios.len() / 2], ratios[0], ratios[ratios.len() - 1]);
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1e3);
    let goal = goal.map_or_else(|| "-".to_string(), |g| format!("{g}x"));
    println!("{what:<48} {:>11} {:>11} {spread:>24} {goal:>6}", ms(mine), ms(other));
}
