//! `--format html` in a real browser: Debian's headless Chromium driven by
//! Playwright (tests/browser/report.py; scripts/test installs both). The
//! page renders the incident, its filters change what is shown and the
//! counts, a link with a fragment restores a filter, no request leaves the
//! page, hostile finding text shows as text, and a 500-node x 20-check
//! fleet report stays small and opens fast.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use clusterdoc::report::{CheckReport, Finding, FleetNode, NodeInfo, NodeState, Report, Status, html};
use serde_json::Value;

const INCIDENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/flink-on-mesos-incident.json");

/// Python with Playwright: `CLUSTERDOC_PLAYWRIGHT_PYTHON`, else the venv
/// scripts/test makes.
fn playwright_python() -> PathBuf {
    let python = std::env::var_os("CLUSTERDOC_PLAYWRIGHT_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("HOME").expect("HOME");
        Path::new(&home).join(".cache/clusterdoc-test/playwright-venv/bin/python")
    });
    assert!(
        python.is_file() && Path::new("/usr/bin/chromium").is_file(),
        "this test needs Debian's chromium and PyPI's playwright in {} (scripts/test installs both)",
        python.display()
    );
    python
}

/// What the browser saw of the page at `file`.
fn open(file: &Path, shots: Option<&Path>) -> Value {
    let mut command = Command::new(playwright_python());
    command.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/report.py")).arg(file);
    if let Some(prefix) = shots {
        command.arg(prefix);
    }
    let out = command.output().expect("python3 runs");
    assert!(out.status.success(), "the browser script failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

fn incident_html(dir: &Path) -> PathBuf {
    let file = dir.join("incident.html");
    let out = support::cli::clusterdoc(dir)
        .args(["check", "--from", INCIDENT, "--format", "html", "-o"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    file
}

fn count(text: &str, prefix: &str) -> usize {
    text.split(" of ").next().and_then(|n| n.trim().parse().ok()).unwrap_or_else(|| panic!("{prefix}: {text:?}"))
}

#[test]
fn the_incident_renders_filters_and_restores_a_linked_view_without_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let file = incident_html(dir.path());
    let page = std::fs::read_to_string(&file).unwrap();
    assert!(page.contains("Content-Security-Policy") && page.contains("default-src 'none'"), "no CSP");
    let seen = open(&file, None);
    assert_eq!(seen["errors"], serde_json::json!([]), "{seen:#}");
    assert_eq!(seen["requests"].as_array().unwrap().len(), 1, "only the page itself: {:#}", seen["requests"]);
    let checks = seen["sections"].as_u64().unwrap();
    assert!(checks >= 20, "{seen:#}");
    assert_eq!((seen["matrix_rows"].as_u64(), seen["visible_sections"].as_u64()), (Some(checks), Some(checks)));
    assert!(seen["filters_shown"].as_bool().unwrap());
    assert_eq!(count(seen["shown"].as_str().unwrap(), "shown"), checks as usize);
    // The incident has 6 failing checks: only those stay when only fail is ticked.
    assert_eq!(seen["fail_only_visible"], 6, "{seen:#}");
    assert_eq!(seen["fail_only_rows"], 6, "{seen:#}");
    assert!(seen["fail_only_shown"].as_str().unwrap().starts_with("6 of "), "{seen:#}");
    assert_eq!(seen["hash"], "#status=fail");
    // A link with the fragment shows the same view: the 3 warnings.
    assert_eq!(seen["warn_link_visible"], 3, "{seen:#}");
    assert_eq!(seen["warn_link_boxes"], serde_json::json!(["warn"]));
    let text = seen["text"].as_str().unwrap();
    assert!(text.contains("host SZV1000265118") && text.contains("hostnamectl set-hostname szv1000265118"), "{text}");
    // Root causes come first; the queue's wait is folded under the port collision that explains it.
    assert_eq!(seen["roots_first"], "Root causes", "{seen:#}");
    assert!(seen["roots"].as_u64().unwrap() >= 5, "{seen:#}");
    assert!(text.contains("explains 1 more: marathon.queue"), "{text}");
    assert_eq!(seen["folded_details"], 1, "{seen:#}");
}

#[test]
fn the_same_report_gives_the_same_page_and_reads_without_javascript() {
    let dir = tempfile::tempdir().unwrap();
    // Only when it ran and how long it took may differ.
    let untimed = |page: String| {
        let (before, rest) = page.split_once("<span class=\"when\">").expect("the run's time");
        format!("{before}{}", rest.split_once("</span>").expect("closed").1)
    };
    let first = std::fs::read_to_string(incident_html(dir.path())).unwrap();
    let second = std::fs::read_to_string(incident_html(dir.path())).unwrap();
    assert!(untimed(first.clone()) == untimed(second), "the same report must give the same page");
    let page = first;
    // Without the script the filters stay hidden and every finding is there.
    assert!(page.contains("<form id=\"filters\" hidden>"), "the filter bar is the script's");
    assert!(page.contains("id=\"check-hostname.case\""));
    assert!(!page.contains(" src=") && !page.contains("<link") && !page.contains("@import"), "no resource to fetch");
}

fn hostile_report() -> Report {
    let evil = "<img src=x onerror=alert(1)><script>alert(2)</script>\u{202e}evil";
    let finding = Finding::new(Status::Fail, evil, format!("message {evil}")).evidence(format!("evidence {evil}"));
    let check = CheckReport {
        id: "hostname.case".into(),
        title: "Host names are lower case".into(),
        status: Status::Fail,
        duration_ms: 1,
        reason: Some(format!("reason {evil}")),
        findings: vec![finding],
        by_node: Default::default(),
        scope: Vec::new(),
        caused_by: Vec::new(),
    };
    Report::new("2026-12-05T00:00:00Z".into(), 1, NodeInfo::default(), vec![check])
}

#[test]
fn hostile_finding_text_shows_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.html");
    std::fs::write(&file, html::render(&hostile_report())).unwrap();
    let seen = open(&file, None);
    assert_eq!(seen["images"], 0, "{seen:#}");
    assert_eq!(seen["scripts"], 1, "only the page's own script: {seen:#}");
    assert_eq!(seen["dialogs"], serde_json::json!([]), "{seen:#}");
    let text = seen["text"].as_str().unwrap();
    assert!(text.contains("<img src=x onerror=alert(1)><script>alert(2)</script>\\u{202e}evil"), "{text}");
}

fn fleet_report(nodes: usize, checks: usize) -> Report {
    let hosts: Vec<String> = (0..nodes).map(|n| format!("agent{n:04}")).collect();
    let checks = (0..checks)
        .map(|c| {
            let failing = |n: usize| (n + c).is_multiple_of(7);
            let by_node = hosts
                .iter()
                .enumerate()
                .map(|(n, h)| (h.clone(), if failing(n) { Status::Fail } else { Status::Pass }));
            let findings = hosts.iter().enumerate().filter(|(n, _)| failing(*n)).map(|(_, h)| Finding {
                node: Some(h.clone()),
                ..Finding::new(Status::Fail, format!("host {h}"), "host name has upper-case letters")
                    .evidence("/etc/hostname")
            });
            CheckReport {
                id: format!("fleet{c:02}.check"),
                title: "A node check".into(),
                status: Status::Fail,
                duration_ms: 1,
                reason: None,
                findings: findings.collect(),
                by_node: by_node.collect(),
                scope: Vec::new(),
                caused_by: Vec::new(),
            }
        })
        .collect();
    let mut report = Report::new("2026-12-05T00:00:00Z".into(), 1, NodeInfo::default(), checks);
    report.nodes = hosts
        .iter()
        .map(|h| FleetNode {
            host: h.clone(),
            hostname: Some(h.clone()),
            address: None,
            state: NodeState::Reached,
            roles: vec!["agent".into()],
            duration_ms: 1,
            error: None,
        })
        .collect();
    report
}

#[test]
fn a_500_node_20_check_report_stays_under_2_mb_and_opens_fast() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.html");
    let page = html::render(&fleet_report(500, 20));
    std::fs::write(&file, &page).unwrap();
    println!("500 nodes x 20 checks: {} bytes", page.len());
    assert!(page.len() < 2 << 20, "{} bytes", page.len());
    let seen = open(&file, None);
    println!("loaded in {} ms", seen["load_ms"]);
    assert_eq!(seen["errors"], serde_json::json!([]), "{seen:#}");
    // Under a second on an idle machine (see README); the margin is for a loaded one.
    assert!(seen["load_ms"].as_f64().unwrap() < 5000.0, "{seen:#}");
}

/// Regenerates the screenshots README links (`cargo test --test html -- --ignored screenshots`).
#[test]
#[ignore]
fn screenshots() {
    let dir = tempfile::tempdir().unwrap();
    let file = incident_html(dir.path());
    open(&file, Some(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/incident-report"))));
}
