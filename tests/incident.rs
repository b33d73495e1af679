//! `examples/flink-on-mesos-incident.json`: how it is made, and what it shows.
//!
//! `regenerate_incident_example` (ignored; run it with
//! `cargo test --test incident -- --ignored regenerate`) stands up the broken
//! cluster of the deployment write-up (REFERENCE.md, intro and sections 1-6)
//! with real parts: the node SZV1000265118 as a tree under `--root`, built
//! from the packages' own unit and zone files and enabled with the real
//! `systemctl --root`; a real ZooKeeper seeded as Marathon 1.1 and 1.4.13
//! leave it; a Mesos master, three agents and Marathon on loopback serving
//! their answers in the upstream shapes (tests/fixtures/incident). It runs
//! `clusterdoc collect` against them and writes the snapshot with only two
//! edits: each loopback stand-in's address becomes the write-up's address it
//! stood in for, and the temporary root becomes `/`. It then checks that the
//! edited snapshot judges exactly as the live run did, and refreshes README's
//! sample report (`refresh_readme_sample` does only that).
//!
//! The other tests run the real binary on the committed example.

mod support;

use crate::support::http;
use crate::support::marathon_zk;
use crate::support::tree;
use crate::support::zk;

use std::net::TcpListener;
use std::path::Path;
use std::process::Output;

use http::{Answer, FakeServer};
use marathon_zk::{Seeder, V1_4_13_PERSISTENCE};
use serde_json::Value;
use zk::ZkServer;

const CRATE: &str = env!("CARGO_MANIFEST_DIR");
/// Relative to [`CRATE`], as the README has a newcomer type it.
const EXAMPLE: &str = "examples/flink-on-mesos-incident.json";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// The checks that fail on the example, each with a problem of the write-up.
const FAILING: [&str; 6] = [
    "hostname.case",
    "firewalld.ports",
    "systemd.respawn",
    "zk.marathon-reuse",
    "marathon.port-collision",
    "mesos.work-dir",
];

// ---------------------------------------------------------------------------
// Running clusterdoc
// ---------------------------------------------------------------------------

use crate::support::cli as cli_support;
use cli_support::{assert_evidence, assert_fix, check, clusterdoc};

/// `clusterdoc check --from examples/flink-on-mesos-incident.json ARGS`, in the crate's directory.
fn check_example(args: &[&str]) -> Output {
    clusterdoc(Path::new(CRATE)).args(["check", "--from", EXAMPLE]).args(args).output().unwrap()
}

fn example_path() -> std::path::PathBuf {
    Path::new(CRATE).join(EXAMPLE)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn json_report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("no JSON report ({e})\nstdout: {}\nstderr: {}", text(&output.stdout), text(&output.stderr))
    })
}

/// The check's findings with this status.
fn findings<'a>(report: &'a Value, id: &str, status: &str) -> Vec<&'a Value> {
    let check = check(report, id);
    assert_eq!(check["status"], status, "{id}: {check:#}");
    check["findings"].as_array().unwrap().iter().filter(|f| f["status"] == status).collect()
}

/// The first finding of `id` whose subject or message contains `part`.
fn finding<'a>(report: &'a Value, id: &str, part: &str) -> &'a Value {
    let check = check(report, id);
    let says = |f: &Value, field: &str| f[field].as_str().unwrap().contains(part);
    check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| says(f, "subject") || says(f, "message"))
        .unwrap_or_else(|| panic!("{id}: no finding saying {part:?} in {check:#}"))
}

/// What a report must say about the cluster of the write-up.
fn assert_write_up_verdicts(report: &Value) {
    assert_eq!(report["status"], "fail", "{report:#}");
    assert_eq!(report["node"]["hostname"], "SZV1000265118", "{:#}", report["node"]);

    // 1. The upper-case JobManager host, with Flink 1.2 installed.
    assert!(!findings(report, "hostname.case", "fail").is_empty());
    let host = finding(report, "hostname.case", "host SZV1000265118");
    assert_eq!(host["status"], "fail");
    assert_evidence(host, "/etc/hostname: SZV1000265118");
    assert_evidence(host, "Flink 1.2.0, from /home/flink-1.2.0/lib/flink-dist_2.11-1.2.0.jar");
    assert_fix(host, "hostnamectl set-hostname szv1000265118", "disruptive");
    let rpc = finding(report, "hostname.case", "jobmanager.rpc.address");
    assert_evidence(rpc, "/home/flink-1.2.0/conf/flink-conf.yaml line 28: jobmanager.rpc.address: SZV1000265118");

    // 4. firewalld's default zone on the master + Marathon node.
    let zone = &findings(report, "firewalld.ports", "fail")[0];
    let message = zone["message"].as_str().unwrap();
    assert!(message.starts_with("zone public does not allow 5050/tcp (master)"), "{message}");
    assert!(message.contains("8080/tcp (marathon)"), "{message}");
    assert_fix(zone, "firewall-cmd --permanent --zone=public --add-port=5050/tcp", "safe");
    assert_fix(zone, "--add-port=8080/tcp", "safe");
    assert_fix(zone, "firewall-cmd --reload", "disruptive");

    // 3. The packages' units respawn what the cluster scripts stop.
    let respawn = findings(report, "systemd.respawn", "fail");
    let units: String = respawn.iter().map(|f| f.to_string()).collect();
    for unit in ["mesos-master.service", "mesos-slave.service"] {
        assert!(units.contains(unit), "{unit} not named: {units}");
    }
    assert!(units.contains("Restart=always"), "{units}");
    assert!(units.contains("mesos-stop-cluster.sh"), "{units}");
    assert!(respawn.iter().any(|f| has_fix_containing(f, "systemctl disable --now")), "{units}");

    // 2. /marathon used by Marathon 1.1 (twitter-commons) and 1.4.13 (Curator) at once.
    let two = finding(report, "zk.marathon-reuse", "live candidates in both leader elections");
    assert_eq!(two["status"], "fail");
    assert_evidence(two, "/marathon/leader/member_0000000000: szv1000265119:8080");
    assert_evidence(two, "/marathon/leader-curator/");
    assert_fix(two, "sudo systemctl stop marathon", "disruptive");

    // 5. /flink/flink1 (3 instances) and /flink/flink2 on three agents, all on 6123.
    assert!(!findings(report, "marathon.port-collision", "fail").is_empty());
    let port = finding(report, "marathon.port-collision", "port 6123/tcp");
    assert_eq!(port["status"], "fail");
    assert_evidence(port, "/flink/flink1: 3 instances, binds 6123/tcp");
    assert_evidence(port, "/flink/flink2: 1 instance, binds 6123/tcp");
    assert_fix(port, "/v2/apps/flink/flink2?force=true", "disruptive");
    assert_fix(port, "-Djobmanager.rpc.port=6124", "disruptive");

    // 6. The agents keep their checkpoints in /tmp/mesos (their /slave(1)/flags); the master does not.
    let work_dirs = findings(report, "mesos.work-dir", "fail");
    let subjects: Vec<&str> = work_dirs.iter().map(|f| f["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["Mesos agent szv1000265118", "Mesos agent szv1000265119", "Mesos agent szv1000265120"]);
    assert_evidence(work_dirs[0], "/flags: work_dir /tmp/mesos");
    assert_fix(work_dirs[0], r"printf '%s\n' /var/lib/mesos > /etc/mesos-slave/work_dir", "destructive");
}

fn has_fix_containing(finding: &Value, part: &str) -> bool {
    finding["remediation"].as_array().unwrap().iter().any(|r| r["command"].as_str().unwrap().contains(part))
}

// ---------------------------------------------------------------------------
// The committed example
// ---------------------------------------------------------------------------

#[test]
fn the_example_shows_each_problem_of_the_write_up() {
    let output = check_example(&["--format", "json"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let report = json_report(&output);
    assert_write_up_verdicts(&report);
    assert!(report["node"]["source"].as_str().unwrap().starts_with("snapshot "), "{:#}", report["node"]);
}

/// Collected on the node itself: every endpoint answered, as REFERENCE.md
/// section 4 says loopback always does; only the zone files show the block.
#[test]
fn reachability_is_what_the_node_itself_saw() {
    let snapshot: Value = serde_json::from_str(&std::fs::read_to_string(example_path()).unwrap()).unwrap();
    let probes = snapshot["facts"]["reach"]["value"]["probes"].as_array().unwrap();
    let mut seen: Vec<(&str, &str)> =
        probes.iter().map(|p| (p["address"].as_str().unwrap(), p["outcome"].as_str().unwrap())).collect();
    seen.sort();
    let mut expected: Vec<(&str, &str)> =
        [MASTER, MARATHON, ZOOKEEPER].into_iter().chain(AGENTS).map(|a| (a, "open")).collect();
    expected.sort();
    assert_eq!(seen, expected);
    let report = json_report(&check_example(&["--format", "json", "--only", "net.reachability"]));
    assert_eq!(check(&report, "net.reachability")["status"], "pass");
}

#[test]
fn the_example_holds_the_write_ups_addresses_and_no_trace_of_its_making() {
    let raw = std::fs::read_to_string(example_path()).unwrap();
    assert!(!raw.contains("127.0.0.1:"), "a loopback stand-in is left in the example");
    // tempfile names its directories .tmpXXXXXX (the agents' work_dir /tmp/mesos is data).
    assert!(!raw.contains("/.tmp"), "the temporary root is left in the example");
    let snapshot: Value = serde_json::from_str(&raw).unwrap();
    let inputs = &snapshot["facts"]["inputs"];
    assert_eq!(inputs["root"], "/");
    assert_eq!(inputs["mesos"][0]["url"], format!("http://{MASTER}"));
    assert_eq!(inputs["marathon"]["url"], format!("http://{MARATHON}"));
    assert_eq!(inputs["zk"]["url"], format!("zk://{ZOOKEEPER}/marathon"));
    assert_eq!(raw, pretty(&snapshot), "the example is not in the generator's layout");
}

#[test]
fn the_human_report_names_each_problem_and_its_fix() {
    let output = check_example(&["--color", "never"]);
    assert_eq!(output.status.code(), Some(2));
    let human = text(&output.stdout);
    assert!(!human.contains('\x1b'), "colour codes with --color never:\n{human}");
    assert!(human.starts_with("clusterdoc "), "{human}");
    assert!(human.contains("SZV1000265118"), "{human}");
    for id in FAILING {
        let line = human.lines().find(|l| l.contains("FAIL") && l.contains(id));
        assert!(line.is_some(), "no FAIL line for {id}:\n{human}");
    }
    assert!(human.lines().any(|l| l.trim_start().starts_with("fix ")), "no fix line:\n{human}");
    assert!(human.contains("hostnamectl set-hostname szv1000265118"), "{human}");
    let summary = human.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert!(summary.contains(" fail") && summary.ends_with("exit 2"), "{summary}");
}

#[test]
fn every_format_renders_the_example() {
    let render = |format: &str| {
        let output = check_example(&["--format", format]);
        assert_eq!(output.status.code(), Some(2), "{format}: {}", text(&output.stderr));
        text(&output.stdout)
    };
    let junit = render("junit");
    let mut reader = quick_xml::Reader::from_str(&junit);
    let mut failures = 0;
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("junit is not XML ({e}):\n{junit}")) {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)
                if e.name().as_ref() == b"failure" =>
            {
                failures += 1
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert!(failures >= FAILING.len(), "{failures} failures in:\n{junit}");
    let tap = render("tap");
    assert!(tap.starts_with("TAP version 14\n"), "{tap}");
    for id in FAILING {
        assert!(tap.lines().any(|l| l.starts_with("not ok") && l.contains(id)), "{id} not failed in:\n{tap}");
    }
    let nagios = render("nagios");
    assert!(nagios.starts_with("CLUSTERDOC CRITICAL - "), "{nagios}");
    let prometheus = render("prometheus");
    for id in FAILING {
        assert!(prometheus.contains(&format!("clusterdoc_check_status{{id=\"{id}\"}} 2")), "{id}:\n{prometheus}");
    }
    assert!(prometheus.contains("clusterdoc_run_status 2"), "{prometheus}");
    let json: Value = serde_json::from_str(&render("json")).unwrap();
    assert_eq!(json["status"], "fail");
}

// ---------------------------------------------------------------------------
// README's sample report
// ---------------------------------------------------------------------------

/// README's "A sample report" is this example's human report, cut by
/// [`sample_of`]. Refreshed by both ignored tests.
#[test]
fn the_readme_sample_is_the_examples_report() {
    let readme = std::fs::read_to_string(readme_path()).unwrap();
    let (_, shown, _) = sample_block(&readme);
    let expected = sample_of(&human_report());
    assert_eq!(
        timing_free(shown),
        timing_free(&expected),
        "README's sample report is not this example's: cargo test --test incident -- --ignored refresh_readme_sample"
    );
}

#[test]
#[ignore = "rewrites README.md's sample report: cargo test --test incident -- --ignored refresh_readme_sample"]
fn refresh_readme_sample() {
    let _writing = WRITING.lock().unwrap();
    write_readme_sample();
}

fn readme_path() -> std::path::PathBuf {
    Path::new(CRATE).join("README.md")
}

fn human_report() -> String {
    let output = check_example(&["--color", "never"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    text(&output.stdout)
}

/// README split around the code block of its "A sample report" section.
fn sample_block(readme: &str) -> (&str, &str, &str) {
    let section = readme.find("## A sample report").expect("README has a sample report section");
    let open = section + readme[section..].find("```\n").expect("a code block in the sample section") + 4;
    let close = open + readme[open..].find("\n```").expect("the code block ends");
    (&readme[..open], &readme[open..close], &readme[close..])
}

/// Held while the example or README's sample is written, so that the two
/// ignored tests, run together, leave them in step.
static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn write_readme_sample() {
    let readme = std::fs::read_to_string(readme_path()).unwrap();
    let (before, _, after) = sample_block(&readme);
    let refreshed = format!("{before}{}{after}", sample_of(&human_report()));
    std::fs::write(readme_path(), refreshed).unwrap();
}

/// What a line of the human report is, by its indentation.
#[derive(Clone, Copy, PartialEq)]
enum Line {
    /// `✗ FAIL  id  title` (problem: fail), `! WARN ...`, `? ERROR ...`.
    Check {
        problem: bool,
    },
    Finding,
    /// `evidence  ...` or `fix  ...`: the first line of a group.
    Label,
    /// The further lines of an evidence or fix group.
    Continuation,
    /// Header, blank lines, the pass and skip lines, the summary.
    Other,
}

fn line_kind(line: &str) -> Line {
    let indent = line.len() - line.trim_start_matches(' ').len();
    match indent {
        0 if line.starts_with("✗ FAIL") => Line::Check { problem: true },
        0 if line.starts_with("! WARN") || line.starts_with("? ERROR") => Line::Check { problem: false },
        9 => Line::Finding,
        11 => Line::Label,
        i if i > 11 => Line::Continuation,
        _ => Line::Other,
    }
}

/// Groups of evidence or fixes longer than this show their first two lines
/// (a fix: its first command and note).
const LONGEST_GROUP: usize = 6;

/// The human report with the long parts cut, `(...)` where lines are left
/// out: failures keep their findings, evidence and fixes (long groups cut);
/// warnings and errors keep their first finding; header, pass and skip
/// lines and the summary stay.
fn sample_of(report: &str) -> String {
    let lines: Vec<&str> = report.lines().collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut cut = false;
    let (mut in_failure, mut findings_seen, mut group_left) = (false, 0, 0);
    for (index, line) in lines.iter().enumerate() {
        let keep = match line_kind(line) {
            Line::Other => {
                in_failure = false;
                true
            }
            Line::Check { problem } => {
                (in_failure, findings_seen) = (problem, 0);
                true
            }
            Line::Finding => {
                findings_seen += 1;
                in_failure || findings_seen == 1
            }
            Line::Label if in_failure => {
                let rest = lines[index + 1..].iter().take_while(|l| line_kind(l) == Line::Continuation).count();
                group_left = if rest < LONGEST_GROUP { rest } else { 1 };
                true
            }
            Line::Continuation if in_failure && group_left > 0 => {
                group_left -= 1;
                true
            }
            Line::Label | Line::Continuation => false,
        };
        if keep {
            if cut {
                kept.push("(...)");
            }
            kept.push(line);
        }
        cut = !keep;
    }
    if cut {
        kept.push("(...)");
    }
    kept.join("\n")
}

/// The header's run time differs from run to run.
fn timing_free(report: &str) -> String {
    let strip = |line: &str| match line.rsplit_once(" checks in ") {
        Some((head, _)) if line.starts_with("clusterdoc ") => format!("{head} checks"),
        _ => line.to_string(),
    };
    report.lines().map(strip).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_sample_cuts_long_groups_and_quiet_checks() {
    let evidence = ["           evidence  e1", "                     e2"];
    let fixes = ["           fix       c1   [safe]", "                     n1", "                     c2   [safe]"];
    let more_fixes = [
        "                     n2",
        "                     c3   [safe]",
        "                     n3",
        "                     c4   [safe]",
    ];
    let report = [
        &["clusterdoc 0.1.0 · node n · 3 checks in 0.01 s", "", "✗ FAIL   a.b  A", "         ✗ one"][..],
        &evidence,
        &fixes,
        &more_fixes,
        &["! WARN   c.d  C", "         ! first", "           evidence  w", "         ! second"],
        &["✓ pass   e.f", "", "1 fail · 1 warn · 1 pass · exit 2"],
    ]
    .concat()
    .join("\n");
    let sample = [
        &["clusterdoc 0.1.0 · node n · 3 checks in 0.01 s", "", "✗ FAIL   a.b  A", "         ✗ one"][..],
        &evidence,
        &fixes[..2],
        &["(...)", "! WARN   c.d  C", "         ! first", "(...)"],
        &["✓ pass   e.f", "", "1 fail · 1 warn · 1 pass · exit 2"],
    ]
    .concat()
    .join("\n");
    assert_eq!(sample_of(&report), sample);
}

// ---------------------------------------------------------------------------
// Regenerating the example
// ---------------------------------------------------------------------------

/// The write-up's endpoints. Only the master's address is in the write-up;
/// the other two agents' addresses and names follow its naming.
const MASTER: &str = "10.120.177.85:5050";
const MARATHON: &str = "10.120.177.85:8080";
const ZOOKEEPER: &str = "10.120.177.85:2181";
const AGENTS: [&str; 3] = ["10.120.177.85:5051", "10.120.177.86:5051", "10.120.177.87:5051"];

/// Each write-up address and the loopback address standing in for it.
struct StandIns(Vec<(&'static str, String)>);

impl StandIns {
    fn to_loopback(&self, text: &str) -> String {
        self.0.iter().fold(text.to_string(), |t, (write_up, local)| replace_address(&t, write_up, local))
    }

    fn to_write_up(&self, text: &str) -> String {
        self.0.iter().fold(text.to_string(), |t, (write_up, local)| replace_address(&t, local, write_up))
    }
}

/// Replaces each `from` in `text` for which `with`, given the text before
/// and after it, names a replacement.
fn replace_where<'a>(text: &str, from: &str, with: impl Fn(&str, &str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, _) in text.match_indices(from) {
        let end = start + from.len();
        if let Some(replacement) = with(&text[..start], &text[end..]) {
            out.push_str(&text[copied..start]);
            out.push_str(replacement);
            copied = end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Replaces the address `from` (`host:port`) where it stands alone: not
/// preceded by a digit or dot, not followed by a digit (`:5050` is not `:50501`).
fn replace_address(text: &str, from: &str, to: &str) -> String {
    replace_where(text, from, |before, after| {
        let free_before = !before.ends_with(|c: char| c.is_ascii_digit() || c == '.');
        let free_after = !after.starts_with(|c: char| c.is_ascii_digit());
        (free_before && free_after).then_some(to)
    })
}

/// The snapshot edits: stand-in addresses (in text, and in `host`/`port`
/// pairs) back to the write-up's, and paths under the temporary root to `/`.
fn rewrite(value: &mut Value, stand_ins: &StandIns, root: &str) {
    match value {
        Value::String(s) => *s = stand_ins.to_write_up(&root_to_slash(s, root)),
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, stand_ins, root)),
        Value::Object(map) => {
            if let (Some(Value::String(host)), Some(Value::Number(port))) = (map.get("host"), map.get("port")) {
                let place = format!("{host}:{port}");
                let moved = stand_ins.to_write_up(&place);
                if moved != place {
                    let (host, port) = moved.rsplit_once(':').unwrap();
                    let port: u16 = port.parse().unwrap();
                    map.insert("host".into(), Value::from(host));
                    map.insert("port".into(), Value::from(port));
                }
            }
            map.values_mut().for_each(|v| rewrite(v, stand_ins, root));
        }
        _ => {}
    }
}

/// `ROOT/etc/hosts` -> `/etc/hosts`, `ROOT` alone -> `/`; `ROOTx` is another path.
fn root_to_slash(text: &str, root: &str) -> String {
    replace_where(text, root, |_, after| match after.chars().next() {
        Some('/') => Some(""),
        Some(c) if c.is_alphanumeric() || "._-".contains(c) => None,
        _ => Some("/"),
    })
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap() + "\n"
}

/// A file of tests/fixtures/incident with the write-up's addresses turned
/// into their stand-ins.
fn served(relative: &str, stand_ins: &StandIns) -> Answer {
    let path = Path::new(FIXTURES).join("incident").join(relative);
    let body = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Answer::json(stand_ins.to_loopback(&body))
}

/// The answer with a `Date` header (of when the server starts).
fn dated(answer: Answer) -> Answer {
    match answer {
        Answer::Full { code, mut headers, body } => {
            headers.push(("Date".into(), http_date(std::time::SystemTime::now())));
            Answer::Full { code, headers, body }
        }
        other => other,
    }
}

/// RFC 9110's IMF-fixdate: `Tue, 25 Nov 2025 04:52:00 GMT`.
fn http_date(time: std::time::SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = time.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The node SZV1000265118 (10.120.177.85): Mesos master and agent, Marathon,
/// ZooKeeper and a Flink 1.2 installation, with the Mesos packages' units and
/// firewalld enabled, and the Mesos cluster scripts installed.
type Node = tree::NodeTree;

impl Node {
    fn build() -> Node {
        let node = Node::new();
        // The Debian firewalld package's zones, services, firewalld.conf and unit.
        node.copy_in(&Path::new(FIXTURES).join("firewalld/root"));
        for unit in ["mesos-master.service", "mesos-slave.service"] {
            let upstream = std::fs::read(Path::new(FIXTURES).join("systemd").join(unit)).unwrap();
            node.write(&format!("/usr/lib/systemd/system/{unit}"), upstream);
        }
        node.systemctl(&["enable", "firewalld.service", "mesos-master.service", "mesos-slave.service"]);
        node.write("/etc/hostname", "SZV1000265118\n");
        node.write(
            "/etc/hosts",
            "127.0.0.1   localhost localhost.localdomain localhost4 localhost4.localdomain4\n\
             ::1         localhost localhost.localdomain localhost6 localhost6.localdomain6\n\
             10.120.177.85 SZV1000265118\n10.120.177.86 szv1000265119\n10.120.177.87 szv1000265120\n",
        );
        // The agents register lower-case names; Flink's JobManager takes the OS host name.
        node.write("/etc/mesos-slave/hostname", "szv1000265118\n");
        node.write(
            "/etc/zookeeper/conf/zoo.cfg",
            "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/var/lib/zookeeper\nclientPort=2181\n",
        );
        let conf = std::fs::read_to_string(Path::new(FIXTURES).join("hostname/flink-conf.yaml")).unwrap();
        assert!(conf.contains("\njobmanager.rpc.address: localhost\n"));
        node.write(
            "/home/flink-1.2.0/conf/flink-conf.yaml",
            conf.replace("\njobmanager.rpc.address: localhost\n", "\njobmanager.rpc.address: SZV1000265118\n"),
        );
        node.write("/home/flink-1.2.0/lib/flink-dist_2.11-1.2.0.jar", "");
        for script in ["mesos-start-cluster.sh", "mesos-stop-cluster.sh", "mesos-daemon.sh"] {
            node.write(&format!("/usr/sbin/{script}"), "#!/bin/sh\n");
        }
        node.write("/usr/etc/mesos/masters", "szv1000265118\n");
        node.write("/usr/etc/mesos/slaves", "szv1000265118\nszv1000265119\nszv1000265120\n");
        node
    }

    /// The real `systemctl --root=DIR ARGS`.
    fn systemctl(&self, args: &[&str]) {
        let out = std::process::Command::new("systemctl")
            .arg(format!("--root={}", self.root().display()))
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("systemctl is needed to build the unit tree (Debian package systemd): {e}"));
        assert!(out.status.success(), "systemctl {args:?}: {}", text(&out.stderr));
    }
}

/// `/marathon` as the write-up leaves it: Marathon 1.4.13 on SZV1000265118
/// migrated it to its nested layout and leads through its Curator latch,
/// while the Marathon 1.1 that used the path before still runs on
/// szv1000265119 and leads its twitter-commons group. One session per
/// Marathon, holding its election node.
async fn seed_marathon_path(zookeeper: &ZkServer) -> [Seeder; 2] {
    let new = Seeder::connect(&zookeeper.address()).await;
    new.marathon_nested("/marathon", V1_4_13_PERSISTENCE, "SZV1000265118:8080").await;
    let old = Seeder::connect(&zookeeper.address()).await;
    old.twitter_commons_member("/marathon", "szv1000265119:8080").await;
    [new, old]
}

/// A loopback listener for a server that must know its own address.
fn loopback_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind a loopback port")
}

fn address(listener: &TcpListener) -> String {
    listener.local_addr().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "rewrites examples/flink-on-mesos-incident.json: cargo test --test incident -- --ignored regenerate"]
async fn regenerate_incident_example() {
    let node = Node::build();
    let zookeeper = ZkServer::standalone("*");
    let marathons = seed_marathon_path(&zookeeper).await;

    let (master, marathon) = (loopback_listener(), loopback_listener());
    let agents: Vec<TcpListener> = AGENTS.iter().map(|_| loopback_listener()).collect();
    let mut pairs = vec![(MASTER, address(&master)), (MARATHON, address(&marathon)), (ZOOKEEPER, zookeeper.address())];
    pairs.extend(AGENTS.iter().zip(&agents).map(|(write_up, l)| (*write_up, address(l))));
    let stand_ins = StandIns(pairs);

    // libprocess dates every answer.
    let master = FakeServer::start_on(
        master,
        vec![
            ("/master/state", dated(served("mesos/master_state.json", &stand_ins))),
            ("/master/health", dated(Answer::status(200, ""))),
            ("/metrics/snapshot", dated(served("mesos/metrics_snapshot.json", &stand_ins))),
            ("/master/flags", dated(served("mesos/master_flags.json", &stand_ins))),
            ("/version", dated(served("mesos/version.json", &stand_ins))),
        ],
    );
    let marathon = FakeServer::start_on(
        marathon,
        vec![
            ("/v2/info", served("marathon/info.json", &stand_ins)),
            ("/v2/leader", served("marathon/leader.json", &stand_ins)),
            ("/v2/apps", served("marathon/apps.json", &stand_ins)),
            ("/v2/queue", served("marathon/queue.json", &stand_ins)),
            ("/v2/deployments", served("marathon/deployments.json", &stand_ins)),
        ],
    );
    // Agents are asked for their flags only.
    let agent_routes = || vec![("/slave(1)/flags", dated(served("mesos/agent_flags.json", &stand_ins)))];
    let _agents: Vec<FakeServer> = agents.into_iter().map(|l| FakeServer::start_on(l, agent_routes())).collect();

    let root = node.root().to_str().unwrap().to_string();
    let zk_url = format!("zk://{}/marathon", zookeeper.address());
    let (mesos_url, marathon_url) = (master.url(), marathon.url());
    let mut args = vec!["--root", &root, "--mesos", &mesos_url, "--marathon", &marathon_url, "--zk", &zk_url];
    for role in ["master", "agent", "marathon", "zookeeper", "flink"] {
        args.extend(["--role", role]);
    }
    let cwd = tempfile::tempdir().unwrap();
    let live = clusterdoc(cwd.path()).arg("check").args(&args).args(["--format", "json"]).output().unwrap();
    let collected = clusterdoc(cwd.path()).arg("collect").args(&args).output().unwrap();
    assert!(collected.status.success(), "collect failed: {}", text(&collected.stderr));

    let mut snapshot: Value = serde_json::from_slice(&collected.stdout).unwrap();
    rewrite(&mut snapshot, &stand_ins, &root);
    let _writing = WRITING.lock().unwrap();
    std::fs::write(example_path(), pretty(&snapshot)).unwrap();

    // The edited snapshot judges as the live cluster did, addresses aside.
    let mut live_report = json_report(&live);
    rewrite(&mut live_report, &stand_ins, &root);
    let replay = check_example(&["--format", "json"]);
    assert_eq!(replay.status.code(), live.status.code());
    let replay_report = json_report(&replay);
    // Live, every daemon stood in at a loopback address, which
    // mesos.advertise-address rightly fails; the snapshot holds the real ones.
    let judged_alike = |report: &Value| {
        verdicts(report).into_iter().filter(|(id, _, _)| id != "mesos.advertise-address").collect::<Vec<_>>()
    };
    assert_eq!(judged_alike(&replay_report), judged_alike(&live_report));
    assert_write_up_verdicts(&replay_report);
    drop(marathons);
    write_readme_sample();
}

/// Each check's status and findings.
fn verdicts(report: &Value) -> Vec<(Value, Value, Value)> {
    let checks = report["checks"].as_array().unwrap();
    checks.iter().map(|c| (c["id"].clone(), c["status"].clone(), c["findings"].clone())).collect()
}

#[test]
fn http_dates_are_imf_fixdates() {
    let at = |secs: u64| http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
    assert_eq!(at(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(at(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
    assert_eq!(at(1_511_424_000 + 3_723), "Thu, 23 Nov 2017 09:02:03 GMT");
}

#[test]
fn addresses_are_replaced_only_where_they_stand_alone() {
    let stand_ins = StandIns(vec![(MASTER, "127.0.0.1:4050".into()), (AGENTS[1], "127.0.0.1:40501".into())]);
    let served = "master@10.120.177.85:5050 slave(1)@10.120.177.86:5051 110.120.177.85:5050 10.120.177.85:50501";
    let local = stand_ins.to_loopback(served);
    assert_eq!(local, "master@127.0.0.1:4050 slave(1)@127.0.0.1:40501 110.120.177.85:5050 10.120.177.85:50501");
    assert_eq!(stand_ins.to_write_up(&local), served);

    let root = "/tmp/.tmpAbC";
    let mut value = serde_json::json!({
        "root": root,
        "probe": {"host": "127.0.0.1", "port": 40501, "address": "127.0.0.1:40501"},
        "other": {"host": "127.0.0.1", "port": 9},
        "paths": [format!("{root}/etc/hosts does not exist"), format!("{root}x/etc"), format!("under --root {root}")],
    });
    rewrite(&mut value, &stand_ins, root);
    assert_eq!(
        value,
        serde_json::json!({
            "root": "/",
            "probe": {"host": "10.120.177.86", "port": 5051, "address": "10.120.177.86:5051"},
            "other": {"host": "127.0.0.1", "port": 9},
            "paths": ["/etc/hosts does not exist", format!("{root}x/etc"), "under --root /"],
        })
    );
}
