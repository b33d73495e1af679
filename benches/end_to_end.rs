//! A whole `clusterdoc check` (every check, the real binary) against a
//! simulated healthy cluster on loopback: three Mesos masters (one leads,
//! two redirect to it), 50 agents that accept connections, a real
//! three-server ZooKeeper quorum holding Marathon 1.4's tree, and Marathon
//! with 200 apps.

#[path = "support/child.rs"]
mod child;
#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/listeners.rs"]
mod listeners;
#[path = "../tests/support/marathon_zk.rs"]
mod marathon_zk;
#[path = "support/server.rs"]
mod server;
#[path = "../tests/support/zk.rs"]
mod zk;
#[path = "support/zk_cluster.rs"]
mod zk_cluster;

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use server::{Answer, Server};

const AGENTS: usize = 50;
const APPS: usize = 200;

/// Everything the run talks to; dropping it stops the servers.
struct Cluster {
    masters: Vec<Server>,
    marathon: Server,
    zk: zk_cluster::MarathonZk,
    _agents: listeners::Accepting,
}

impl Cluster {
    fn start(rt: &tokio::runtime::Runtime) -> Cluster {
        let agents = listeners::Accepting::start(listeners::closed_ports(25_000..25_000 + AGENTS as u16 * 2, &[]));
        assert!(agents.ports.len() >= AGENTS, "not enough free loopback ports for the agents");
        let addresses: Vec<String> = agents.ports[..AGENTS].iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let leader = cluster::leading_master(&addresses, APPS * 2);
        let to_leader = format!("//{}/master/state", leader.address());
        let follower = || {
            Server::start(vec![
                ("/master/state", Answer::redirect(&to_leader)),
                ("/master/health", Answer::json(&b""[..])),
                ("/metrics/snapshot", Answer::json(&br#"{"master/elected": 0.0}"#[..])),
            ])
        };
        let masters = vec![leader, follower(), follower()];
        let marathon_listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let marathon_address = marathon_listener.local_addr().expect("its address").to_string();
        let zk = zk_cluster::MarathonZk::ensemble(rt, &marathon_address);
        let marathon = Server::on(
            marathon_listener,
            vec![
                ("/v2/info", Answer::json_value(&cluster::marathon_info(&marathon_address, &zk.url()))),
                ("/v2/leader", Answer::json_value(&json!({ "leader": marathon_address }))),
                ("/v2/apps", Answer::json_value(&cluster::marathon_apps(APPS))),
                ("/v2/queue", Answer::json_value(&json!({ "queue": [] }))),
                ("/v2/deployments", Answer::json_value(&json!([]))),
            ],
        );
        Cluster { masters, marathon, zk, _agents: agents }
    }

    fn args(&self) -> Vec<String> {
        let masters: Vec<String> = self.masters.iter().map(Server::url).collect();
        vec![
            "check".into(),
            "--format".into(),
            "json".into(),
            "--mesos".into(),
            masters.join(","),
            "--marathon".into(),
            self.marathon.url(),
            "--zk".into(),
            self.zk.url(),
        ]
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let cluster = Cluster::start(&rt);
    let args = cluster.args();
    let command = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_clusterdoc"));
        cmd.args(&args).current_dir(std::env::temp_dir()).env("NO_COLOR", "1");
        cmd
    };
    print_statuses(command());

    let mut group = c.benchmark_group("end_to_end");
    group.sample_size(20).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(6));
    group.bench_function("check_healthy_cluster", |b| b.iter(|| child::run(&mut command())));
    group.finish();
}

/// What the run concluded, once, so a reader can see the cluster checks pass
/// (the node checks judge the machine the bench runs on).
fn print_statuses(mut command: Command) {
    let output = command.output().expect("clusterdoc runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    eprintln!("end_to_end: clusterdoc took {} ms (its own figure):", report["duration_ms"]);
    for check in report["checks"].as_array().expect("checks") {
        let reason = check["reason"].as_str().unwrap_or_default();
        eprintln!(
            "  {:28} {:5} {:>4} ms  {}",
            check["id"].as_str().unwrap_or_default(),
            check["status"].as_str().unwrap_or_default(),
            check["duration_ms"],
            reason.chars().take(100).collect::<String>()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
