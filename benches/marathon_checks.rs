//! `marathon.port-collision` and `marathon.queue` over a big Marathon:
//! 20,000 apps on the big cluster's 10,000 agents and 200,000 tasks, with
//! 200 of them waiting in the queue (criterion); then timed once each: all
//! 20,000 waiting, and the queue's worst case (20,000 shapes on a
//! fragmented cluster). Facts are built by hand and each check's `run` is
//! timed alone: no I/O.

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/server.rs"]
mod server;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clusterdoc::checks::{self, Check};
use clusterdoc::facts::knowledge::Knowledge;
use clusterdoc::facts::marathon::{
    App, MarathonFacts, MarathonInfo, NetworkMode, OffersSummary, PortDefinition, PortMapping, Protocol, QueueDelay,
    QueueItem, RejectCount, RejectReason,
};
use clusterdoc::facts::mesos::{LeaderId, Leadership, MasterAnswer, MasterView, MesosFacts, MesosState};
use clusterdoc::facts::{Fact, Facts};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const APPS: usize = 20_000;
const WAITING: usize = 200;

/// The big cluster's facts with the first `waiting` apps in the queue.
fn big_facts(waiting: usize) -> Facts {
    let master = "127.0.0.1:5050";
    let state = cluster::big_mesos_state(master);
    let state: MesosState = serde_json::from_slice(&state).expect("the generated state parses");
    let apps: Vec<App> = (0..APPS).map(app).collect();
    let queue = apps.iter().take(waiting).enumerate().map(|(i, a)| queued(i, a.clone())).collect();
    let pid = format!("master@{master}");
    let mesos = MesosFacts {
        state: Fact::observed(state),
        masters: vec![MasterView {
            url: format!("http://{master}"),
            answer: MasterAnswer::Leads { pid: pid.clone() },
            healthy: Some(true),
            elected: Some(true),
            zk: None,
        }],
        leadership: Leadership::Known(LeaderId {
            pid,
            url: format!("http://{master}"),
            addresses: [master.to_string()].into(),
        }),
    };
    let marathon = MarathonFacts {
        url: "http://127.0.0.1:8080".into(),
        info: Fact::observed(MarathonInfo { version: Some("1.4.13".into()), ..MarathonInfo::default() }),
        leader: Fact::observed(Some("127.0.0.1:8080".into())),
        apps: Fact::observed(apps),
        queue: Fact::observed(queue),
        deployments: Fact::observed(Vec::new()),
    };
    Facts {
        knowledge: Some(Fact::observed(Knowledge::embedded())),
        mesos: Some(Fact::observed(mesos)),
        marathon: Some(Fact::observed(marathon)),
        ..Facts::default()
    }
}

/// The shapes of `cluster::marathon_apps`: dynamic service ports, fixed
/// ports with `requirePorts`, bridged containers with a mapped host port.
fn app(i: usize) -> App {
    let fixed = 31_000 + (i % 1_000) as u16;
    let http = |port| PortDefinition { port, protocol: Protocol::Tcp, name: Some("http".into()) };
    let mut app = App {
        id: format!("/team-{}/app-{i}", i % 50),
        cmd: Some("exec ./run.sh".into()),
        instances: 1 + (i % 3) as u32,
        cpus: 0.1,
        mem: 128.0,
        constraints: vec![vec!["hostname".into(), "UNIQUE".into()]],
        ..App::default()
    };
    match i % 4 {
        0 | 1 => app.port_definitions = vec![http(0)],
        2 => (app.port_definitions, app.require_ports) = (vec![http(fixed)], true),
        _ => {
            app.network = NetworkMode::Bridge;
            app.port_mappings = vec![PortMapping { container_port: 80, host_port: fixed, protocol: Protocol::Tcp }];
        }
    }
    app
}

fn queued(i: usize, app: App) -> QueueItem {
    let count = |reason, declined| RejectCount { reason, declined, processed: 123 };
    QueueItem {
        app: Some(app),
        count: 1 + (i % 3) as u32,
        delay: Some(QueueDelay { time_left_seconds: 0.0, overdue: true }),
        since: Some("2018-05-21T10:41:41.090Z".into()),
        offers: Some(OffersSummary {
            processed: 123,
            unused: 123,
            last_offers: vec![
                count(RejectReason::UnfulfilledRole, 0),
                count(RejectReason::InsufficientCpus, 75),
                count(RejectReason::InsufficientMemory, 15),
                count(RejectReason::InsufficientPorts, 3),
            ],
            launch_attempt: vec![count(RejectReason::InsufficientCpus, 75)],
        }),
        ..QueueItem::default()
    }
}

fn check(id: &str) -> Arc<dyn Check> {
    checks::catalog().into_iter().map(Arc::from).find(|c: &Arc<dyn Check>| c.meta().id == id).expect("a built-in check")
}

fn bench(c: &mut Criterion) {
    let mut facts = big_facts(WAITING);
    let mut group = c.benchmark_group("marathon_checks");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(APPS as u64));
    for id in ["marathon.port-collision", "marathon.queue"] {
        let check = check(id);
        report(id, &check, &facts);
        group.bench_function(id, |b| b.iter(|| black_box(check.run(black_box(&facts)))));
    }
    group.finish();

    let queue = check("marathon.queue");
    let everything = big_facts(APPS);
    facts.marathon = everything.marathon;
    timed_once(&format!("marathon.queue with all {APPS} apps waiting"), &queue, &facts);
    fragment(&mut facts);
    timed_once(
        &format!("marathon.queue, {APPS} apps of distinct shapes waiting on a fragmented cluster"),
        &queue,
        &facts,
    );
}

/// The worst case for the queue: every app a shape of its own (one more MB
/// of memory each), on agents that each have free either the cpus or the
/// memory an instance needs but never both, so no agent is ruled out
/// without looking at it.
fn fragment(facts: &mut Facts) {
    let Some(Fact::Observed { value: mesos }) = &mut facts.mesos else { panic!("mesos facts") };
    let Fact::Observed { value: state } = &mut mesos.state else { panic!("the state") };
    for (i, agent) in state.agents.iter_mut().enumerate() {
        let (cpus, mem) = (agent.resources.cpus, agent.resources.mem);
        (agent.used_resources.cpus, agent.used_resources.mem) =
            if i % 2 == 0 { (cpus - 0.5, 0.0) } else { (0.0, mem - 1024.0) };
    }
    let Some(Fact::Observed { value: marathon }) = &mut facts.marathon else { panic!("marathon facts") };
    let Fact::Observed { value: queue } = &mut marathon.queue else { panic!("the queue") };
    for (i, item) in queue.iter_mut().enumerate() {
        let app = item.app.as_mut().expect("an app");
        (app.cpus, app.mem) = (1.0, 2048.0 + i as f64);
    }
}

fn timed_once(what: &str, check: &Arc<dyn Check>, facts: &Facts) {
    let started = Instant::now();
    report(&check.meta().id, check, facts);
    eprintln!("{what}: {:.3} s (one run)", started.elapsed().as_secs_f64());
}

/// What the check concluded, so a reader sees the time was spent judging.
fn report(id: &str, check: &Arc<dyn Check>, facts: &Facts) {
    match check.run(facts) {
        Ok(judgement) => eprintln!("{id}: {:?}, {} findings", judgement.status(), judgement.findings.len()),
        Err(stop) => eprintln!("{id}: {stop:?}"),
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
