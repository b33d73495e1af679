//! Property tests for the parsers of outside input that have none in their
//! own module: firewalld service files, zoo.cfg, environment files,
//! `systemctl show`, agent pids, Marathon JSON, the streaming `/master/state`
//! parser (against serde reading the whole body), and snapshots with the
//! checks that judge them. The modules' own proptests cover unit files, zone
//! files, `firewall-cmd --list-all`, /etc/hosts, flink-conf.yaml, the
//! four-letter words, the storage version node, Mesos port ranges, the JSON
//! stream and Flink's `-D` settings. The fuzz targets in fuzz/ run the same
//! parsers on mutated real inputs.

use std::path::Path;

use clusterdoc::checks::catalog;
use clusterdoc::parsers::{
    App, JsonStream, MesosState, Problem, QueueItem, Snapshot, marathon_wire as wire, objects_where_streamed,
    parse_host_port, parse_json, parse_service, parse_show, pid_address, properties, shell_assignments, stream_state,
    zk_server_ports,
};
use clusterdoc::report::{self, NodeInfo, Report};
use clusterdoc::runner::check_report;
use proptest::prelude::*;
use serde_json::Value;

fn fixture(relative: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// --- arbitrary and mutated JSON ----------------------------------------------

/// Keys the Marathon and Mesos parsers look for, so that random documents
/// reach past the first field.
const KEYS: &[&str] = &[
    "apps",
    "id",
    "cmd",
    "args",
    "instances",
    "cpus",
    "mem",
    "disk",
    "ports",
    "portDefinitions",
    "port",
    "protocol",
    "name",
    "requirePorts",
    "constraints",
    "container",
    "docker",
    "network",
    "portMappings",
    "containerPort",
    "hostPort",
    "networks",
    "mode",
    "ipAddress",
    "tasks",
    "host",
    "slaveId",
    "agentId",
    "state",
    "startedAt",
    "queue",
    "app",
    "pod",
    "count",
    "delay",
    "timeLeftSeconds",
    "overdue",
    "since",
    "processedOffersSummary",
    "version",
    "elected",
    "leader",
    "frameworkId",
    "marathon_config",
    "hostname",
    "master",
    "zookeeper_config",
    "zk",
    "slaves",
    "agents",
    "pid",
    "active",
    "resources",
    "used_resources",
    "frameworks",
    "completed_frameworks",
    "slave_id",
];

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,16}".prop_map(Value::from),
        Just(Value::from("TASK_RUNNING")),
        Just(Value::from("[31000-32000]")),
    ];
    leaf.prop_recursive(5, 96, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map(proptest::sample::select(KEYS), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// Every JSON pointer into a document, the root included.
fn pointers(value: &Value, at: &str, out: &mut Vec<String>) {
    out.push(at.to_string());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                pointers(child, &format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Values a broken or hostile server might put anywhere.
fn hostile_value() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None), // remove the member
        Just(Some(Value::Null)),
        Just(Some(Value::from(-1))),
        Just(Some(Value::from(u64::MAX))),
        Just(Some(Value::from(1e300))),
        Just(Some(Value::from(""))),
        Just(Some(Value::from("\u{1b}[2J$(touch /tmp/x)'\"\n"))),
        Just(Some(Value::Array(Vec::new()))),
        Just(Some(Value::Object(Default::default()))),
        any::<bool>().prop_map(|b| Some(Value::from(b))),
    ]
}

/// Replaces (or removes) the values at some pointers of `doc`.
fn mutate(mut doc: Value, edits: &[(prop::sample::Index, Option<Value>)]) -> Value {
    for (index, replacement) in edits {
        let mut all = Vec::new();
        pointers(&doc, "", &mut all);
        let target = index.get(&all).clone();
        match (replacement, target.rsplit_once('/')) {
            (Some(value), _) => *doc.pointer_mut(&target).expect("a pointer just listed") = value.clone(),
            (None, Some((parent, key))) => match doc.pointer_mut(parent) {
                Some(Value::Object(map)) => drop(map.remove(&key.replace("~1", "/").replace("~0", "~"))),
                Some(Value::Array(items)) => drop(items.remove(key.parse::<usize>().unwrap())),
                _ => unreachable!("the parent of a pointer is a container"),
            },
            (None, None) => doc = Value::Null,
        }
    }
    doc
}

fn edits() -> impl Strategy<Value = Vec<(prop::sample::Index, Option<Value>)>> {
    proptest::collection::vec((any::<prop::sample::Index>(), hostile_value()), 1..6)
}

/// Strings a broken or hostile server might send where a string belongs.
const HOSTILE_STRINGS: [&str; 8] = [
    "",
    "\u{1b}[2J$(touch /tmp/x)'\"\n",
    "-oProxyCommand=touch /tmp/x",
    "\u{202e}gnp.exe",
    "\u{fffe}\u{ffff}",
    "SZV1000265118",
    "../../etc/shadow",
    "slave(1)@[::1]:0",
];

/// A value of the same JSON type as `value`, chosen by `pick`: for a string,
/// mostly another string the document holds under the same key (so an enum
/// tag stays a tag of its enum), else a hostile one; edge numbers of the
/// same sign and kind for numbers; the other boolean; an array with one item
/// dropped or doubled. Documents damaged this way keep the shape the parsers
/// expect, so they reach the code behind deserialization instead of
/// stopping at it.
fn within_type(value: &Value, same_key: &[String], pick: prop::sample::Index) -> Value {
    match value {
        Value::String(_) if same_key.is_empty() || pick.index(4) == 0 => Value::from(*pick.get(&HOSTILE_STRINGS)),
        Value::String(_) => Value::from(pick.get(same_key).as_str()),
        Value::Number(n) if n.is_u64() => {
            let n = n.as_u64().unwrap_or(0);
            Value::from(*pick.get(&[0, 1, n / 2, n]))
        }
        Value::Number(n) if n.is_i64() => Value::from(*pick.get(&[-1i64, 0, i64::from(i32::MIN)])),
        Value::Number(_) => Value::from(*pick.get(&[0.0, 1e-300, 1e300, 0.5])),
        Value::Bool(b) => Value::from(!b),
        Value::Array(items) if !items.is_empty() => {
            let mut items = items.clone();
            let at = pick.index(items.len());
            if pick.index(2) == 0 {
                items.remove(at);
            } else {
                items.insert(at, items[at].clone());
            }
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// Applies `within_type` at some pointers of `doc`.
fn mutate_within_type(mut doc: Value, edits: &[(prop::sample::Index, prop::sample::Index)]) -> Value {
    for (at, pick) in edits {
        let mut all = Vec::new();
        pointers(&doc, "", &mut all);
        let target = at.get(&all).clone();
        let same_key = strings_under_key(&doc, &all, last_key(&target));
        let value = doc.pointer_mut(&target).expect("a pointer just listed");
        *value = within_type(value, &same_key, *pick);
    }
    doc
}

/// The member name a pointer ends in; for an array item, its array's.
fn last_key(pointer: &str) -> &str {
    let mut segments = pointer.rsplit('/');
    let last = segments.next().unwrap_or("");
    if last.parse::<usize>().is_ok() { segments.next().unwrap_or("") } else { last }
}

/// Every string value in `doc` whose pointer ends in `key`.
fn strings_under_key(doc: &Value, all: &[String], key: &str) -> Vec<String> {
    all.iter()
        .filter(|p| last_key(p) == key)
        .filter_map(|p| doc.pointer(p).and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn typed_edits() -> impl Strategy<Value = Vec<(prop::sample::Index, prop::sample::Index)>> {
    proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..6)
}

/// Runs `cases` cases of `strategy` through `test`, which returns whether the
/// case got past deserialization to the code the property is about; fails
/// unless at least `min_share` of the cases did, so a property cannot pass
/// by testing nothing.
fn reaching<S: Strategy>(strategy: S, min_share: f64, test: impl Fn(S::Value) -> bool) {
    let cases = 256;
    let reached = std::sync::atomic::AtomicU32::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(cases));
    runner
        .run(&strategy, |value| {
            if test(value) {
                reached.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    let reached = reached.into_inner();
    assert!(
        f64::from(reached) >= min_share * f64::from(cases),
        "only {reached} of {cases} cases reached the code under test (at least {min_share} wanted)"
    );
}

fn bytes(doc: &Value) -> Vec<u8> {
    serde_json::to_vec(doc).unwrap()
}

/// `/master/state` parsed as it streams in, `size` bytes at a time.
fn streamed_state(body: &[u8], size: usize) -> Result<MesosState, Problem> {
    stream_state(&mut JsonStream::in_pieces(body, size))
}

/// What the Marathon gatherer does with each endpoint's body; whether any
/// of the parsers past deserialization was reached.
fn marathon_parsers(body: &[u8]) -> bool {
    let mut reached = false;
    if let Ok(info) = parse_json::<wire::Info>(body) {
        let _ = clusterdoc::parsers::MarathonInfo::from(info).release();
        reached = true;
    }
    if let Ok(apps) = parse_json::<wire::Apps>(body) {
        let _unique = apps.apps.into_iter().map(App::from).filter(|app| app.unique_per_host()).count();
        reached = true;
    }
    if let Ok(queue) = parse_json::<wire::Queue>(body) {
        drop(queue.queue.into_iter().map(QueueItem::from).collect::<Vec<_>>());
        reached = true;
    }
    reached |= parse_json::<Vec<wire::Deployment>>(body).is_ok();
    reached | parse_json::<wire::Leader>(body).is_ok()
}

/// Runs every built-in check on a snapshot's facts and renders every format.
fn judge_and_render(snapshot: &Snapshot) {
    let checks = catalog()
        .iter()
        .map(|check| check_report(check.meta().id.to_string(), String::new(), check.run(&snapshot.facts), 0))
        .collect();
    let report = Report::new(String::new(), 0, NodeInfo::default(), checks);
    for finding in report.checks.iter().flat_map(|c| &c.findings) {
        for remedy in &finding.remediation {
            assert!(shlex::split(&remedy.command).is_some(), "unbalanced quoting: {}", remedy.command);
        }
    }
    for rendered in [
        report::human::render(&report, report::human::Detail::Verbose),
        report::json::render(&report),
        report::junit::render(&report),
        report::tap::render(&report),
        report::nagios::render(&report),
        report::prometheus::render(&report),
        report::script::render(&report),
    ] {
        assert!(!rendered.is_empty());
    }
}

/// Snapshots `collect` wrote against the fixtures (the fuzz target's seeds).
const SNAPSHOT_SEEDS: [&str; 3] = [
    "fuzz/corpus/snapshot/marathon-1.4.13-mesos-dns-firewalld-root.json",
    "fuzz/corpus/snapshot/marathon-1.1.7-mesos-docs.json",
    "fuzz/corpus/snapshot/rich-node-tree-zk-marathon-mesos-flink.json",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Structure no Marathon sends: mostly refused at deserialization,
    /// never a panic. `damage_within_type_reaches_the_marathon_parsers`
    /// covers the code behind deserialization.
    #[test]
    fn marathon_parsers_never_panic_on_any_json(doc in any_json()) {
        marathon_parsers(&bytes(&doc));
    }

    #[test]
    fn marathon_parsers_never_panic_on_damaged_real_answers(
        file in proptest::sample::select(&["app_list", "queue", "info", "deployments", "app_tasks"][..]),
        version in proptest::sample::select(&["v1.1.7", "v1.4.13", "master"][..]),
        edits in edits(),
    ) {
        let doc = fixture(&format!("tests/fixtures/marathon/{version}/{file}.json"));
        marathon_parsers(&bytes(&mutate(doc, &edits)));
    }

    /// Every field of an app but its id may be missing or null: versions
    /// differ in what they send.
    #[test]
    fn an_app_without_optional_fields_still_reads(
        version in proptest::sample::select(&["v1.1.7", "v1.4.13", "master"][..]),
        dropped in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut list = fixture(&format!("tests/fixtures/marathon/{version}/app_list.json"));
        let app = list["apps"][0].as_object_mut().unwrap();
        let optional: Vec<String> = app.keys().filter(|k| *k != "id").cloned().collect();
        for index in &dropped {
            app.remove(index.get(&optional));
        }
        let parsed = parse_json::<wire::Apps>(&bytes(&list));
        prop_assert!(parsed.is_ok(), "{:?}", parsed.err());
    }

    #[test]
    fn the_mesos_state_parser_never_panics(doc in any_json()) {
        if let Ok(state) = parse_json::<MesosState>(&bytes(&doc)) {
            let _ = (state.leader_pid(), state.answered_by_leader());
        }
    }

    /// However the network cuts a damaged real state, the streaming parser
    /// reads it the same, and reads whatever serde reads whole.
    #[test]
    fn damaged_real_mesos_states_stream_as_they_parse_whole(
        file in proptest::sample::select(&[
            "tests/fixtures/mesos/mesos-dns_factories_fake_state.json",
            "tests/fixtures/mesos/apache-mesos_docs_endpoints_master_state_example.json",
        ][..]),
        edits in edits(),
        size in 1usize..64,
    ) {
        let body = bytes(&mutate(fixture(file), &edits));
        let streamed = streamed_state(&body, size);
        prop_assert_eq!(&streamed, &streamed_state(&body, body.len()));
        if let (Ok(whole), true) = (parse_json::<MesosState>(&body), objects_where_streamed(&body)) {
            prop_assert_eq!(streamed.as_ref(), Ok(&whole));
        }
        if let Ok(state) = streamed {
            let _ = (state.leader_pid(), state.answered_by_leader());
            for agent in &state.agents {
                let _ = agent.resources.ports.count();
            }
        }
    }

    /// Snapshots damaged anywhere, in any type: never a panic (mostly
    /// refused at deserialization; `every_check_judges_a_snapshot_damaged_within_type`
    /// covers the checks behind it).
    #[test]
    fn a_snapshot_damaged_anywhere_never_panics(seed in proptest::sample::select(&SNAPSHOT_SEEDS[..]), edits in edits()) {
        let doc = mutate(fixture(seed), &edits);
        if let Ok(snapshot) = serde_json::from_value::<Snapshot>(doc) {
            judge_and_render(&snapshot);
        }
    }

    /// Agents register as `slave(1)@HOST:PORT`; the probes read that.
    #[test]
    fn registered_addresses_never_panic(pid in "\\PC*") {
        let _ = parse_host_port(pid_address(&pid), 5051);
    }

    #[test]
    fn registered_addresses_read_back(
        host in prop_oneof!["[a-z][a-z0-9.-]{0,20}", "[0-9]{1,3}(\\.[0-9]{1,3}){3}", Just("[2001:db8::1]".to_string())],
        port in any::<u16>(),
    ) {
        let parsed = parse_host_port(pid_address(&format!("slave(1)@{host}:{port}")), 5051).unwrap();
        prop_assert_eq!((parsed.host.as_str(), parsed.port), (host.trim_matches(['[', ']']), port));
        prop_assert_eq!(parse_host_port(&host, 5051).map(|p| p.port), Some(5051));
    }

    #[test]
    fn the_service_file_parser_never_panics(text in "\\PC*") {
        let _ = parse_service("/usr/lib/firewalld/services/x.xml", &text);
    }

    #[test]
    fn nor_on_near_service_xml(text in "<service>(<(port|protocol|include|short|description)( [a-z]{1,8}=\"[0-9a-z./-]{0,12}\"){0,3}/?>|</[a-z]{1,9}>){0,8}</service>") {
        let _ = parse_service("/usr/lib/firewalld/services/x.xml", &text);
    }

    #[test]
    fn service_ports_read_back(port in 1u16.., to in 1u16.., protocol in proptest::sample::select(&["tcp", "udp", "sctp"][..])) {
        let (lo, hi) = (port.min(to), port.max(to));
        let text = format!("<service><short>x</short><port port=\"{lo}-{hi}\" protocol=\"{protocol}\"/></service>");
        prop_assert!(parse_service("x.xml", &text).is_ok(), "{text}");
    }

    #[test]
    fn zoo_cfg_parsers_never_panic(text in "\\PC*") {
        for (_, value) in properties(&text) {
            let _ = zk_server_ports(&value);
        }
    }

    #[test]
    fn zoo_cfg_server_lines_read_back(
        host in prop_oneof!["[a-z][a-z0-9-]{0,12}(\\.[a-z]{2,5})?", "10\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}", Just("[fd00::2]".to_string())],
        quorum in 1u16.., election in 1u16..,
        kind in proptest::sample::select(&["", ":participant", ":observer"][..]),
        client in proptest::option::of(1u16..),
        separator in proptest::sample::select(&["=", " = ", ": ", " "][..]),
    ) {
        let client = client.map(|c| format!(";0.0.0.0:{c}")).unwrap_or_default();
        let line = format!("server.1{separator}{host}:{quorum}:{election}{kind}{client}");
        let props = properties(&format!("# ensemble\n{line}\n"));
        prop_assert_eq!(props.len(), 1, "{}", line);
        prop_assert_eq!(props[0].0.as_str(), "server.1");
        prop_assert!(zk_server_ports(&props[0].1).is_ok(), "{}", line);
        let no_quorum_port = format!("{host}:0:{election}");
        prop_assert!(zk_server_ports(&no_quorum_port).is_err());
        prop_assert!(zk_server_ports(&host).is_err());
    }

    #[test]
    fn environment_files_never_panic(text in "\\PC*") {
        for (name, _) in shell_assignments(&text) {
            prop_assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        }
    }

    #[test]
    fn environment_values_are_unquoted_once(value in "[a-zA-Z0-9:/._-]{0,20}") {
        for quoted in [value.clone(), format!("'{value}'"), format!("\"{value}\"")] {
            let parsed = shell_assignments(&format!("export MESOS_PORT={quoted} # comment\n"));
            prop_assert_eq!(parsed, vec![("MESOS_PORT".to_string(), value.clone())]);
        }
    }

    #[test]
    fn systemctl_show_never_panics(text in "\\PC*") {
        let _ = parse_show(&text);
    }

    /// Properties come in any order; unknown ones are ignored.
    #[test]
    fn systemctl_show_reads_real_values_in_any_order(
        active in proptest::sample::select(&["active", "inactive", "activating", "deactivating", "failed", "reloading"][..]),
        file_state in proptest::sample::select(&["enabled", "disabled", "static", "masked", "indirect", ""][..]),
        restart in proptest::sample::select(&["no", "always", "on-failure", "on-abnormal"][..]),
        n_restarts in proptest::option::of(0u32..1000),
        pid in 0u32..100_000,
        rotation in 0usize..7,
    ) {
        let mut lines = [
            format!("ActiveState={active}"),
            "SubState=running".to_string(),
            format!("UnitFileState={file_state}"),
            format!("Restart={restart}"),
            format!("NRestarts={}", n_restarts.map(|n| n.to_string()).unwrap_or_default()),
            format!("MainPID={pid}"),
            "Id=mesos-master.service".to_string(),
        ];
        let first = parse_show(&lines.join("\n"));
        prop_assert!(first.is_ok(), "{:?}", first);
        lines.rotate_left(rotation);
        prop_assert_eq!(parse_show(&lines.join("\n")), first.clone());
        let live = first.unwrap();
        prop_assert_eq!(live.main_pid, (pid > 0).then_some(pid));
        prop_assert_eq!(live.n_restarts, n_restarts);
    }
}

/// Real Marathon answers with hostile values of the right types: at least
/// nine in ten reach the parsers' code behind deserialization.
#[test]
fn damage_within_type_reaches_the_marathon_parsers() {
    let answers = (
        proptest::sample::select(&["app_list", "queue", "info", "deployments", "app_tasks"][..]),
        proptest::sample::select(&["v1.1.7", "v1.4.13", "master"][..]),
        typed_edits(),
    );
    reaching(answers, 0.9, |(file, version, edits)| {
        let doc = fixture(&format!("tests/fixtures/marathon/{version}/{file}.json"));
        file == "app_tasks" || marathon_parsers(&bytes(&mutate_within_type(doc, &edits)))
    });
}

/// `check --from FILE` reads whatever file it is given: a snapshot that
/// parses never crashes a check or a renderer, and every remediation
/// command stays one balanced shell line. Damaged within type, about four
/// in five snapshots get past deserialization to the checks (the rest carry
/// a hostile string where a port range or an address is parsed); at least
/// seven in ten must.
#[test]
fn every_check_judges_a_snapshot_damaged_within_type() {
    reaching((proptest::sample::select(&SNAPSHOT_SEEDS[..]), typed_edits()), 0.7, |(seed, edits)| {
        let doc = mutate_within_type(fixture(seed), &edits);
        let Ok(snapshot) = serde_json::from_value::<Snapshot>(doc) else { return false };
        judge_and_render(&snapshot);
        true
    });
}

/// The snapshot seeds themselves are judged without a crash (the property
/// above only sees them damaged).
#[test]
fn the_snapshot_seeds_are_judged() {
    for seed in SNAPSHOT_SEEDS {
        let snapshot: Snapshot = serde_json::from_value(fixture(seed)).unwrap();
        judge_and_render(&snapshot);
    }
}
