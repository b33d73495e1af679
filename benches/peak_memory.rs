//! Peak memory and wall time of the real binary reading the big
//! `/master/state` (10,000 agents, 200,000 tasks, about 120 MB) over
//! loopback HTTP and running every check that reads it, next to `jq
//! '.slaves | length'` over the same bytes in a file. Each program runs as a
//! child process under `/usr/bin/time`, which reports its peak resident
//! set. Medians of 5 runs.
//!
//! Not a criterion bench (criterion measures time only): `cargo bench
//! --bench peak_memory` prints a table.

#[path = "support/child.rs"]
mod child;
#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/server.rs"]
mod server;

use std::process::Command;

use child::{Measured, measure, median_of, mib};

const RUNS: usize = 5;
/// The ceiling: peak memory at most this many times the body.
const TARGET_RATIO: f64 = 1.5;

fn main() {
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "peak_memory".contains(f.as_str())) {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let master = listener.local_addr().expect("its address").to_string();
    let state = cluster::big_mesos_state(&master);
    let body = state.len() as u64;
    let file = cluster::temp_file(&state);
    let server = server::Server::on(listener, cluster::master_routes(state));
    let only = cluster::mesos_readers().join(",");

    let ours = median_of(RUNS, || {
        let measured = measure(
            Command::new(env!("CARGO_BIN_EXE_clusterdoc"))
                .args(["check", "--format", "json", "--only", &only, "--mesos", &server.url()])
                .current_dir(std::env::temp_dir()),
        );
        assert!(measured.exit_code < 3, "clusterdoc could not judge the state (exit {})", measured.exit_code);
        measured
    });
    println!(
        "/master/state body: {:.1} MiB ({AGENTS} agents, {TASKS} tasks)",
        mib(body),
        AGENTS = cluster::AGENTS,
        TASKS = cluster::TASKS
    );
    println!("{:<44} {:>10} {:>14} {:>12}", "program", "wall", "peak RSS", "peak / body");
    println!("(checks: {only})");
    row("clusterdoc check, fetch over loopback HTTP", &ours, body);
    let ratio = ours.peak_rss as f64 / body as f64;
    let verdict = if ratio <= TARGET_RATIO { "met" } else { "MISSED" };
    println!("target: peak at most {TARGET_RATIO}x the body: {verdict} ({ratio:.2}x)");

    if child::which("jq").is_some() {
        let jq = median_of(RUNS, || measure(Command::new("jq").arg(".slaves | length").arg(file.path())));
        row("jq '.slaves | length' (the same bytes, a file)", &jq, body);
        println!("clusterdoc is {:.1}x faster than jq", jq.wall.as_secs_f64() / ours.wall.as_secs_f64());
    } else {
        println!("jq is not installed: no comparison (apt-get install -y jq)");
    }
}

fn row(what: &str, m: &Measured, body: u64) {
    println!(
        "{what:<44} {:>8.0} ms {:>10.1} MiB {:>11.2}x",
        m.wall.as_secs_f64() * 1e3,
        mib(m.peak_rss),
        m.peak_rss as f64 / body as f64
    );
}
