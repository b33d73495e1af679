//! Start-up of the real binary: `--version` and `list` (no runtime, no TLS
//! set-up before it is needed), and `--only zk.marathon-reuse` against a
//! live ZooKeeper compared with one `zkCli.sh get` (a JVM start).

#[path = "support/child.rs"]
mod child;
#[path = "../tests/support/marathon_zk.rs"]
mod marathon_zk;
#[path = "../tests/support/zk.rs"]
mod zk;
#[path = "support/zk_cluster.rs"]
mod zk_cluster;

use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

const ZK_CLI: &str = "/usr/share/zookeeper/bin/zkCli.sh";

/// The binary with no target taken from the environment, run where no
/// `clusterdoc.toml` is.
fn clusterdoc(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_clusterdoc"));
    cmd.args(args).current_dir(std::env::temp_dir());
    for var in ["MESOS_MASTER", "MARATHON_URL", "MARATHON_ZK", "FLINK_URL", "CLUSTERDOC_CONFIG"] {
        cmd.env_remove(var);
    }
    cmd
}

fn run_ok(cmd: &mut Command, codes: &[i32]) {
    let code = child::run(cmd);
    assert!(codes.contains(&code), "{cmd:?} exited {code}");
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("startup");
    group.sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.bench_function("version", |b| b.iter(|| run_ok(&mut clusterdoc(&["--version"]), &[0])));
    group.bench_function("list", |b| b.iter(|| run_ok(&mut clusterdoc(&["list"]), &[0])));

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("address");
    let marathon = format!("http://{closed}");
    let zk = zk_cluster::MarathonZk::standalone(&rt, "m1.cluster.internal:8080");
    let zk_url = zk.url();
    let reuse = ["check", "--only", "zk.marathon-reuse", "--format", "json"];
    let reuse: Vec<&str> = reuse.into_iter().chain(["--zk", &zk_url, "--marathon", &marathon]).collect();
    let args = [reuse.as_slice(), &["--expect-marathon-version", "1.4.13"]].concat();
    group.bench_function("zk_marathon_reuse", |b| b.iter(|| run_ok(&mut clusterdoc(&args), &[0])));

    if std::path::Path::new(ZK_CLI).is_file() {
        group.sample_size(10).measurement_time(Duration::from_secs(15));
        let server = zk.servers.clone();
        group.bench_function("zkCli_get", |b| {
            b.iter(|| run_ok(Command::new(ZK_CLI).args(["-server", &server, "get", "/marathon"]), &[0]))
        });
    } else {
        eprintln!("{ZK_CLI} is missing: the comparison is left out (apt-get install -y zookeeper)");
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
