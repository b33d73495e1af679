//! Generated cluster answers in the shapes of the upstream examples
//! (tests/fixtures/mesos: the Apache docs' `/master/state` and the mesos-dns
//! fake state; tests/fixtures/marathon: `/v2/info`, `/v2/apps`, `/v2/queue`),
//! scaled up: 10,000 agents and 200,000 tasks, 20,000 apps.

#![allow(dead_code)] // each bench uses the parts it needs

use std::io::Write;

use serde_json::{Value, json};

use super::server::{Answer, Server};

const CLUSTER_ID: &str = "20180521-101010-16777343-5050-1234";
/// The big cluster of the issue: agents and tasks in `/master/state`.
pub const AGENTS: usize = 10_000;
pub const TASKS: usize = 200_000;

/// The big cluster's state, its agents on private addresses (parsed, never probed).
pub fn big_mesos_state(master: &str) -> Vec<u8> {
    let agents: Vec<String> =
        (0..AGENTS).map(|i| format!("10.{}.{}.{}:5051", i / 65536, (i / 256) % 256, i % 256)).collect();
    mesos_state(&StateShape { master, agents: &agents, tasks: TASKS })
}

/// The ids of the checks that read the Mesos facts (net.reachability reads
/// them only through its probes, which `benches/reach.rs` measures).
pub fn mesos_readers() -> Vec<String> {
    use clusterdoc::{checks, facts::Need};
    checks::catalog()
        .iter()
        .filter(|c| c.meta().needs.contains(&Need::Mesos))
        .map(|c| c.meta().id.to_string())
        .collect()
}

/// A `/master/state` to generate.
pub struct StateShape<'a> {
    /// `host:port` the leading master reports as its pid.
    pub master: &'a str,
    /// Where each agent registered from (`host:port`), one per agent.
    pub agents: &'a [String],
    pub tasks: usize,
}

/// `/master/state` as Mesos 1.x writes it: the leader's flags, every agent
/// with its resources, frameworks with their running tasks (each with a
/// status and network info, as Mesos keeps them). 10,000 agents with
/// 200,000 tasks come to about 120 MB.
pub fn mesos_state(shape: &StateShape) -> Vec<u8> {
    let mut out = Vec::with_capacity(shape.tasks * 600 + shape.agents.len() * 1200 + 4096);
    let head = master_head(shape.master);
    let head = serde_json::to_string(&head).expect("JSON");
    out.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    out.extend_from_slice(b",\"slaves\":[");
    for (i, address) in shape.agents.iter().enumerate() {
        comma(&mut out, i);
        serde_json::to_writer(&mut out, &agent(i, address)).expect("JSON");
    }
    out.extend_from_slice(b"],\"frameworks\":[");
    let frameworks = [("marathon", "0000"), ("flink", "0001")];
    for (f, (name, suffix)) in frameworks.iter().enumerate() {
        comma(&mut out, f);
        framework(&mut out, name, suffix, shape, f, frameworks.len());
    }
    out.extend_from_slice(b"],\"completed_frameworks\":[],\"orphan_tasks\":[],\"unregistered_frameworks\":[]}");
    out
}

/// A leading Mesos master on loopback whose `/master/state` lists `agents`
/// (`host:port` each) and `tasks` tasks.
pub fn leading_master(agents: &[String], tasks: usize) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("its address").to_string();
    let state = mesos_state(&StateShape { master: &address, agents, tasks });
    Server::on(listener, master_routes(state))
}

/// What a leading master answers: its state, health and `master/elected`.
pub fn master_routes(state: Vec<u8>) -> Vec<(&'static str, Answer)> {
    vec![
        ("/master/state", Answer::json(state)),
        ("/master/health", Answer::json(&b""[..])),
        ("/metrics/snapshot", Answer::json(&br#"{"master/elected": 1.0}"#[..])),
    ]
}

fn comma(out: &mut Vec<u8>, index: usize) {
    if index > 0 {
        out.push(b',');
    }
}

fn master_head(master: &str) -> Value {
    let (ip, port) = master.rsplit_once(':').expect("host:port");
    json!({
        "version": "1.4.1", "git_sha": "c844db9ac7c0cef59be87438c6781bfb71adcc42", "git_tag": "1.4.1",
        "build_date": "2017-11-30 10:00:28", "build_time": 1512036028, "build_user": "mesos-user",
        "start_time": 1526897410.42422, "elected_time": 1526897410.43457, "id": "b5eac2c5-609b-4ca1-a352-61941702fc9e",
        "pid": format!("master@{master}"), "hostname": "m1.cluster.internal", "leader": format!("master@{master}"),
        "activated_slaves": 0, "deactivated_slaves": 0, "cluster": "bench",
        "log_dir": "/var/log/mesos", "external_log_file": "mesos.log",
        "flags": {
            "allocation_interval": "1secs", "allocator": "HierarchicalDRF", "authenticate_agents": "false",
            "cluster": "bench", "hostname_lookup": "true", "ip": ip, "port": port, "quorum": "2",
            "registry": "replicated_log", "work_dir": "/var/lib/mesos", "zk": "zk://127.0.0.1:2181/mesos",
            "zk_session_timeout": "10secs", "max_completed_tasks_per_framework": "1000"
        }
    })
}

fn agent(i: usize, address: &str) -> Value {
    let resources = json!({"disk": 1035066.0, "mem": 30844.0, "gpus": 0.0, "cpus": 8.0, "ports": "[31000-32000]"});
    let used = json!({"disk": 0.0, "mem": 10240.0, "gpus": 0.0, "cpus": 4.0, "ports": "[31000-31019]"});
    json!({
        "id": format!("{CLUSTER_ID}-S{i}"),
        "pid": format!("slave(1)@{address}"),
        "hostname": format!("agent-{i}.cluster.internal"),
        "port": address.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()).unwrap_or(5051),
        "registered_time": 1526897415.65675,
        "reregistered_time": 1526897415.65675,
        "resources": resources,
        "used_resources": used,
        "offered_resources": {"disk": 0.0, "mem": 0.0, "gpus": 0.0, "cpus": 0.0},
        "reserved_resources": {},
        "unreserved_resources": resources,
        "attributes": {"rack": format!("r{}", i % 40), "zone": "a"},
        "active": true,
        "version": "1.4.1",
        "capabilities": ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"]
    })
}

/// One framework with its share of the tasks, written straight out (a
/// `Value` holding 200,000 tasks would take gigabytes).
fn framework(out: &mut Vec<u8>, name: &str, suffix: &str, shape: &StateShape, index: usize, count: usize) {
    let id = format!("{CLUSTER_ID}-{suffix}");
    let head = json!({
        "id": id, "name": name, "pid": format!("scheduler-{id}@127.0.0.1:15{index:03}"),
        "hostname": "m1.cluster.internal", "webui_url": "http://m1.cluster.internal:8080",
        "active": true, "connected": true, "recovered": false, "user": "root", "role": "*",
        "failover_timeout": 604800.0, "checkpoint": true, "capabilities": [{"type": "PARTITION_AWARE"}],
        "registered_time": 1526897420.1, "unregistered_time": 0, "offers": [], "executors": [],
        "completed_tasks": [], "unreachable_tasks": []
    });
    let head = serde_json::to_string(&head).expect("JSON");
    out.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    out.extend_from_slice(b",\"tasks\":[");
    let mine = (index..shape.tasks).step_by(count);
    for (n, t) in mine.enumerate() {
        comma(out, n);
        serde_json::to_writer(&mut *out, &task(t, &id, shape.agents.len())).expect("JSON");
    }
    out.extend_from_slice(b"]}");
}

fn task(t: usize, framework_id: &str, agents: usize) -> Value {
    let app = t % 20_000;
    let port = 31000 + (t / agents.max(1)) % 1000;
    json!({
        "id": format!("app-{app}.{t:08x}-5a1d-11e8-9c2d-0242ac110002"),
        "name": format!("app-{app}"),
        "framework_id": framework_id,
        "executor_id": "",
        "slave_id": format!("{CLUSTER_ID}-S{}", t % agents.max(1)),
        "state": "TASK_RUNNING",
        "resources": {"disk": 0.0, "mem": 512.0, "gpus": 0.0, "cpus": 0.1, "ports": format!("[{port}-{port}]")},
        "statuses": [{
            "state": "TASK_RUNNING", "timestamp": 1526897816.34576,
            "container_status": {
                "container_id": {"value": format!("{t:08x}-98f1-4fc3-a260-f92c116fc926")},
                "network_infos": [{"ip_addresses": [{"protocol": "IPv4", "ip_address": "10.0.1.3"}]}]
            }
        }],
        "discovery": {"visibility": "FRAMEWORK", "name": format!("app-{app}"), "ports": {}}
    })
}

/// `/v2/info` of a leading Marathon 1.4.
pub fn marathon_info(address: &str, zk: &str) -> Value {
    json!({
        "name": "marathon", "version": "1.4.13", "buildref": "unknown", "elected": true, "leader": address,
        "frameworkId": format!("{CLUSTER_ID}-0000"),
        "marathon_config": {"framework_name": "marathon", "hostname": "m1.cluster.internal",
                            "master": "zk://127.0.0.1:2181/mesos", "ha": true, "checkpoint": true},
        "zookeeper_config": {"zk": zk, "zk_timeout": 10000},
        "http_config": {"http_port": address.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok())}
    })
}

/// `/v2/apps?embed=apps.tasks` with `count` apps in the 1.4 shape: half
/// with dynamic service ports, a quarter with `requirePorts` and a fixed
/// host port unique to the app, a quarter bridged with a mapped host port;
/// multi-instance ones are spread with `hostname UNIQUE`. Nothing collides.
pub fn marathon_apps(count: usize) -> Value {
    let apps: Vec<Value> = (0..count).map(app).collect();
    json!({ "apps": apps })
}

fn app(i: usize) -> Value {
    let fixed = 31_000 + (i % 1_000) as u16;
    let mut app = json!({
        "id": format!("/team-{}/app-{i}", i % 50), "cmd": "exec ./run.sh", "args": null,
        "instances": 1 + i % 3, "cpus": 0.1, "mem": 128.0, "disk": 0.0,
        "constraints": [["hostname", "UNIQUE"]], "env": {"JAVA_OPTS": "-Xmx100m"},
        "labels": {"team": format!("team-{}", i % 50)}, "healthChecks": [], "backoffSeconds": 1,
        "upgradeStrategy": {"minimumHealthCapacity": 1, "maximumOverCapacity": 1},
        "version": "2018-05-21T10:10:10.000Z", "tasksRunning": 1 + i % 3, "tasksStaged": 0,
        "container": null, "tasks": []
    });
    match i % 4 {
        0 | 1 => app["portDefinitions"] = json!([{"port": 0, "protocol": "tcp", "name": "http"}]),
        2 => {
            app["portDefinitions"] = json!([{"port": fixed, "protocol": "tcp", "name": "http"}]);
            app["requirePorts"] = json!(true);
        }
        _ => {
            app["container"] = json!({"type": "DOCKER", "docker": {"image": "nginx:1.14", "network": "BRIDGE",
                "portMappings": [{"containerPort": 80, "hostPort": fixed, "servicePort": 0, "protocol": "tcp"}]}});
        }
    }
    app
}

/// `/v2/queue` with `waiting` apps held for offers, as Marathon 1.4 reports
/// them: each with its `processedOffersSummary` reasons.
pub fn marathon_queue(waiting: usize) -> Value {
    let items: Vec<Value> = (0..waiting)
        .map(|i| {
            json!({
                "app": app(i), "count": 1 + i % 3, "role": "*", "since": "2018-05-21T10:41:41.090Z",
                "delay": {"timeLeftSeconds": 0, "overdue": true},
                "processedOffersSummary": {
                    "processedOffersCount": 123, "unusedOffersCount": 123,
                    "rejectSummaryLastOffers": [
                        {"reason": "UnfulfilledRole", "declined": 0, "processed": 123},
                        {"reason": "InsufficientCpus", "declined": 75, "processed": 123},
                        {"reason": "InsufficientMemory", "declined": 15, "processed": 48},
                        {"reason": "InsufficientPorts", "declined": 3, "processed": 33}
                    ],
                    "rejectSummaryLaunchAttempt": [
                        {"reason": "InsufficientCpus", "declined": 75, "processed": 123}
                    ]
                }
            })
        })
        .collect();
    json!({ "queue": items })
}

/// Writes `bytes` to a file that lives as long as the returned handle.
pub fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    file.write_all(bytes).expect("write the temporary file");
    file
}
