//! `/master/state` of a big cluster (10,000 agents, 200,000 tasks, about
//! 120 MB): fetched over loopback HTTP from a real server in this process,
//! parsed, and judged by every check that reads the Mesos facts. Compared
//! with `jq '.slaves | length'` answering one question over the same file.
//!
//! Peak memory is measured on the real binary by `benches/peak_memory.rs`.

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/server.rs"]
mod server;

use std::hint::black_box;
use std::process::Command;
use std::time::Duration;

use clusterdoc::catalog::{self, Selection};
use clusterdoc::cli::RunArgs;
use clusterdoc::config::Config;
use clusterdoc::facts::http::JsonStream;
use clusterdoc::facts::mesos::{MesosState, stream_state};
use clusterdoc::report::Status;
use clusterdoc::runner::{self, Source};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use server::Server;

/// The allocator the binary uses (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    // The master's own address is in its state: bind first, then serve.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let master = listener.local_addr().expect("its address").to_string();
    let state = cluster::big_mesos_state(&master);
    let size = state.len() as u64;
    eprintln!("/master/state: {} agents, {} tasks, {:.1} MB", cluster::AGENTS, cluster::TASKS, size as f64 / 1e6);
    let file = cluster::temp_file(&state);

    let mut group = c.benchmark_group("mesos_state");
    group.sample_size(10).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Bytes(size));

    group.bench_function("parse", |b| {
        b.iter(|| black_box(serde_json::from_slice::<MesosState>(&state).expect("the state parses")))
    });

    // The way the binary parses it: streamed, in the pieces the network delivers.
    group.bench_function("stream_parse", |b| {
        b.iter(|| black_box(stream_state(&mut JsonStream::in_pieces(&state, 64 * 1024)).expect("the state parses")))
    });

    // The limit for anything that reads every byte once: copying them.
    let mut copy = vec![0u8; state.len()];
    group.bench_function("memcpy", |b| {
        b.iter(|| {
            copy.copy_from_slice(&state);
            black_box(&copy);
        })
    });

    group.bench_function("scan_only", |b| {
        b.iter(|| black_box(serde_json::from_slice::<serde::de::IgnoredAny>(&state).expect("the state is JSON")))
    });

    let server = Server::on(listener, cluster::master_routes(state.clone()));
    drop(state);
    let readers = cluster::mesos_readers();
    let args = RunArgs { mesos: vec![server.url()], only: readers, ..RunArgs::default() };
    let config = std::sync::Arc::new(Config::resolve(args.config.as_deref(), &args.settings()).expect("config"));
    let selection = Selection::new(catalog::catalog_with_packs(&[], std::path::Path::new("/")), &args.only, &[])
        .expect("selection");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    group.bench_function("fetch_parse_check", |b| {
        b.iter(|| {
            let report = rt
                .block_on(runner::run(&config, &selection, Source::Live, &[], &Default::default()))
                .expect("a report");
            assert!(report.checks.iter().any(|c| c.id == "mesos.leader" && c.status == Status::Pass));
            black_box(report)
        })
    });

    if which_jq() {
        group.bench_function("jq_slaves_length", |b| {
            b.iter(|| {
                let out = Command::new("jq").arg(".slaves | length").arg(file.path()).output().expect("jq runs");
                assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), cluster::AGENTS.to_string());
            })
        });
    } else {
        eprintln!("jq is not installed: the comparison is left out (apt-get install -y jq)");
    }
    group.finish();
}

fn which_jq() -> bool {
    Command::new("jq").arg("--version").output().is_ok_and(|o| o.status.success())
}

criterion_group!(benches, bench);
criterion_main!(benches);
