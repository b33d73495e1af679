//! Reachability fan-out: 10,000 Mesos agents registered at loopback ports
//! (1,000 listening, the rest closed), listed in `/master/state` and probed
//! by `net.reachability`. Compared with `nmap -sT` sweeping the same ports.

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/listeners.rs"]
mod listeners;
#[path = "support/server.rs"]
mod server;

use std::process::Command;
use std::time::Duration;

use clusterdoc::catalog::{self, Selection};
use clusterdoc::cli::RunArgs;
use clusterdoc::config::Config;
use clusterdoc::report::Status;
use clusterdoc::runner::{self, Source};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use listeners::Accepting;

/// Below the ephemeral port range (32768-60999).
const PORTS: std::ops::Range<u16> = 20_000..30_000;

fn bench(c: &mut Criterion) {
    let limit = listeners::raise_open_file_limit();
    let open = Accepting::start(PORTS.step_by(10));
    let closed = listeners::closed_ports(PORTS, &open.ports);
    let mut ports: Vec<u16> = open.ports.iter().chain(&closed).copied().collect();
    ports.sort_unstable();
    eprintln!("{} ports: {} listening, {} closed; RLIMIT_NOFILE {limit}", ports.len(), open.ports.len(), closed.len());

    let agents: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let master = cluster::leading_master(&agents, 0);
    let args = RunArgs {
        mesos: vec![master.url()],
        only: vec!["net.reachability".into()],
        timeout: Some("2s".into()),
        ..RunArgs::default()
    };
    let config = std::sync::Arc::new(Config::resolve(args.config.as_deref(), &args.settings()).expect("config"));
    let selection = Selection::new(catalog::catalog_with_packs(&[], std::path::Path::new("/")), &args.only, &[])
        .expect("selection");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");

    let mut group = c.benchmark_group("reach");
    group.sample_size(10).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(6));
    group.throughput(Throughput::Elements(ports.len() as u64));
    group.bench_function("net_reachability_10k", |b| {
        b.iter(|| {
            let report = rt
                .block_on(runner::run(&config, &selection, Source::Live, &[], &Default::default()))
                .expect("a report");
            assert_eq!(report.checks[0].status, Status::Fail, "closed agent ports are findings");
            report
        })
    });
    match nmap() {
        Some(nmap) => {
            let list = ports.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
            group.bench_function("nmap_sT_10k", |b| {
                b.iter(|| {
                    let out = Command::new(&nmap)
                        .args(["-sT", "-n", "-Pn", "-oG", "-", "-p", &list, "127.0.0.1"])
                        .output()
                        .expect("nmap runs");
                    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                })
            });
        }
        None => eprintln!("nmap is not installed: the comparison is left out (apt-get install -y nmap)"),
    }
    group.finish();
}

fn nmap() -> Option<String> {
    Command::new("nmap").arg("--version").output().ok().filter(|o| o.status.success()).map(|_| "nmap".into())
}

criterion_group!(benches, bench);
criterion_main!(benches);
