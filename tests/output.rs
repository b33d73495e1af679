//! Output safe for every reader, end to end: the clusterdoc binary writes
//! `-o` and `--script` as `curl -o` does (a regular file atomically, a FIFO
//! or a device in place, never replaced); JUnit stays well-formed XML for a
//! real parser (Python's expat) whatever a served /master/state calls its
//! agents; format characters never reach a report or a plan raw; the plan
//! runs only here; and a cluster of 100,000 upper-case agents gives a report
//! of a few hundred kilobytes, in time.

mod support;

use crate::support::cli as cli_support;
use crate::support::http;

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cli_support::ReadReport;
use http::{Answer, FakeServer};
use serde_json::Value;
use tempfile::TempDir;

/// A node tree under --root whose own host name is lower case.
fn node() -> TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("etc/hostname"), "szv1000265118\n").unwrap();
    root
}

/// `clusterdoc check --root NODE --only hostname.case ARGS`, from an empty
/// directory with nothing from the environment.
fn run(root: &Path, args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    cli_support::clusterdoc(cwd.path())
        .args(["check", "--root", root.to_str().unwrap(), "--only", "hostname.case", "--deadline", "20s"])
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A Mesos master whose /master/state lists agents with these host names.
fn master(hostnames: impl IntoIterator<Item = String>) -> FakeServer {
    let mut body = String::from(
        r#"{"version":"1.4.0","pid":"master@127.0.0.1:5050","leader":"master@127.0.0.1:5050","frameworks":[],"slaves":["#,
    );
    for (i, hostname) in hostnames.into_iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        let agent = serde_json::json!({"id": format!("S{i}"), "hostname": hostname, "active": true});
        body.push_str(&agent.to_string());
    }
    body.push_str("]}");
    FakeServer::start(vec![
        ("/master/state", Answer::json(body)),
        ("/master/health", Answer::status(200, "")),
        ("/metrics/snapshot", Answer::json(r#"{"master/elected": 1.0}"#)),
    ])
}

// ------------------------------------------------------------ writing files

/// Creates a special file with mknod(2) (a FIFO needs no privilege; a
/// device needs root).
fn mknod(path: &Path, mode: libc::mode_t, device: libc::dev_t) {
    let c_path = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path and plain integers.
    let rc = unsafe { libc::mknod(c_path.as_ptr(), mode, device) };
    assert_eq!(rc, 0, "mknod {}: {}", path.display(), std::io::Error::last_os_error());
}

fn is_fifo(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

/// Reads a FIFO whole on a thread; the text arrives on the channel.
fn drain(fifo: &Path) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    let fifo = fifo.to_path_buf();
    std::thread::spawn(move || {
        let mut text = String::new();
        std::fs::File::open(&fifo).unwrap().read_to_string(&mut text).unwrap();
        let _ = send.send(text);
    });
    receive
}

#[test]
fn a_fifo_is_written_in_place_for_its_reader() {
    let (root, dir) = (node(), tempfile::tempdir().unwrap());
    let (report, plan) = (dir.path().join("report.fifo"), dir.path().join("plan.fifo"));
    mknod(&report, libc::S_IFIFO | 0o600, 0);
    mknod(&plan, libc::S_IFIFO | 0o600, 0);
    let (report_text, plan_text) = (drain(&report), drain(&plan));
    let out =
        run(root.path(), &["--format", "json", "-o", report.to_str().unwrap(), "--script", plan.to_str().unwrap()]);
    // Checked before waiting: a FIFO replaced by a file leaves its reader blocked for ever.
    assert!(is_fifo(&report) && is_fifo(&plan), "a FIFO was replaced: {}", stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = report_text.recv_timeout(Duration::from_secs(30)).expect("the report reached the FIFO's reader");
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc.status("hostname.case"), "pass", "{doc:#}");
    let plan = plan_text.recv_timeout(Duration::from_secs(30)).expect("the plan reached the FIFO's reader");
    assert!(plan.starts_with("#!/bin/sh\n"), "{plan}");
}

/// /dev/null's twin (char 1:3), made with mknod in a directory of our own:
/// `-o` and `--script` write into it and leave it a device. Today's code
/// replaced it with a regular file (as root, /dev/null itself).
#[test]
fn a_device_is_written_in_place_never_replaced() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "this test needs root to create a device node (mknod c 1 3)");
    let root = node();
    // Not under /tmp: a tmpfs mounted nodev would refuse to open the device.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let null = dir.path().join("null");
    mknod(&null, libc::S_IFCHR | 0o666, libc::makedev(1, 3));
    let null_arg = null.to_str().unwrap();
    let out = run(root.path(), &["--format", "junit", "-o", null_arg, "--script", null_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let meta = std::fs::symlink_metadata(&null).unwrap();
    assert!(meta.file_type().is_char_device(), "{} is no longer a device: {meta:?}", null.display());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "a temporary file was left beside it");
}

#[test]
fn a_regular_file_is_replaced_whole_keeping_its_mode() {
    let (root, dir) = (node(), tempfile::tempdir().unwrap());
    let path = dir.path().join("clusterdoc.prom");
    std::fs::write(&path, "old report\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    // A reader that opened the old report still reads all of it: the new one
    // arrives by rename, never by rewriting the old file in place.
    let mut old_reader = std::fs::File::open(&path).unwrap();
    let out = run(root.path(), &["--format", "prometheus", "-o", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut old = String::new();
    old_reader.read_to_string(&mut old).unwrap();
    assert_eq!(old, "old report\n");
    let new = std::fs::read_to_string(&path).unwrap();
    assert!(new.contains("clusterdoc_check_status{id=\"hostname.case\"} 0"), "{new}");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
    let names: Vec<PathBuf> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(names, [path], "a temporary file was left beside the report");
}

/// `-o /dev/stdout` writes to the descriptor, whatever it is: here a file
/// the shell opened, which must not be replaced behind its back. Named as
/// /proc/self/fd/1 (where /dev/stdout leads), so that a regression cannot
/// replace the machine's /dev/stdout.
#[test]
fn dev_stdout_is_the_descriptor_even_when_it_is_a_file() {
    let (root, dir) = (node(), tempfile::tempdir().unwrap());
    let path = dir.path().join("redirected.json");
    let file = std::fs::File::create(&path).unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let status = cli_support::plain(cwd.path())
        .args(["check", "--root", root.path().to_str().unwrap(), "--only", "hostname.case", "--format", "json"])
        .args(["--deadline", "20s", "-o", "/proc/self/fd/1"])
        .stdout(file.try_clone().unwrap())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let mut text = String::new();
    std::fs::File::open(&path).unwrap().read_to_string(&mut text).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
    assert_eq!(doc.status("hostname.case"), "pass");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(file.metadata().unwrap().ino(), std::fs::metadata(&path).unwrap().ino(), "the file was replaced");
}

#[test]
fn a_plan_that_cannot_be_written_leaves_the_old_report_intact() {
    let (root, dir) = (node(), tempfile::tempdir().unwrap());
    let report = dir.path().join("report.json");
    std::fs::write(&report, "{\"old\": true}\n").unwrap();
    let plan = dir.path().join("missing-dir/plan.sh");
    let out =
        run(root.path(), &["--format", "json", "-o", report.to_str().unwrap(), "--script", plan.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("cannot write {}", plan.display())), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&report).unwrap(), "{\"old\": true}\n");
}

// ------------------------------------------------- hostile names, every format

/// What XML 1.0 forbids, bidi overrides and other format characters, in
/// agent host names a master serves.
const HOSTILE: [&str; 3] =
    ["AGENT-1\u{fffe}\u{ffff}", "Agent-2\u{202e}gpj.exe\u{200b}\u{2066}\u{feff}", "AGENT-3\u{1}\u{1b}[2J\u{9b}"];

/// Python's expat (a strict XML 1.0 parser) reads `xml`; the test cases it found.
fn expat_test_cases(xml: &[u8]) -> usize {
    let mut python = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, xml.dom.minidom\n\
             doc = xml.dom.minidom.parseString(sys.stdin.buffer.read())\n\
             print(len(doc.getElementsByTagName('testcase')))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("this test needs python3 (Debian package python3)");
    python.stdin.take().unwrap().write_all(xml).unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(out.status.success(), "expat rejects the JUnit report: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().parse().unwrap()
}

#[test]
fn hostile_agent_names_leave_every_format_well_formed_and_inert() {
    let root = node();
    let master = master(HOSTILE.iter().map(|h| h.to_string()));
    let mesos = master.url();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.sh");
    let junit = run(root.path(), &["--mesos", &mesos, "--format", "junit", "--script", plan.to_str().unwrap()]);
    assert_eq!(junit.status.code(), Some(2), "{}", stderr(&junit));
    assert_eq!(expat_test_cases(&junit.stdout), 1);
    let xml = String::from_utf8(junit.stdout).unwrap();
    assert!(xml.contains("AGENT-1\\u{fffe}\\u{ffff}"), "{xml}");

    let plan = std::fs::read_to_string(&plan).unwrap();
    let mut outputs = vec![("junit", xml), ("script", plan.clone())];
    for format in ["human", "json", "tap", "nagios"] {
        let out = run(root.path(), &["--mesos", &mesos, "--format", format, "-v"]);
        assert_eq!(out.status.code(), Some(2), "{format}: {}", stderr(&out));
        outputs.push((format, String::from_utf8(out.stdout).unwrap()));
    }
    for (format, text) in &outputs {
        let raw: Vec<char> = text
            .chars()
            .filter(|c| c.is_control() && !matches!(c, '\n' | '\t') || is_format_or_xml_forbidden(*c))
            .collect();
        assert!(raw.is_empty(), "{format} has raw characters {raw:?}:\n{text}");
        // Nagios names only the first finding's subject.
        let shown = match *format {
            "nagios" => "AGENT-1\\u{fffe}\\u{ffff}",
            "json" => "Agent-2\\u202egpj.exe\\u200b\\u2066\\ufeff",
            _ => "Agent-2\\u{202e}gpj.exe\\u{200b}",
        };
        assert!(text.contains(shown), "{format} does not show {shown}:\n{text}");
    }
    // The agents' fixes run on the agents: none is active in this node's plan.
    let guard = "[ \"$(uname -n | tr '[:upper:]' '[:lower:]')\" = szv1000265118 ] || { echo \"this plan is for \
                 szv1000265118, not $(uname -n)\" >&2; exit 1; }";
    for line in plan.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        assert!(line == "set -eu" || line == guard, "an active command in the plan:\n{plan}");
    }
    assert!(plan.contains("\n# ===== On the Mesos agents, not here: run these there ====="), "{plan}");
}

/// Category Cf as Python's unicodedata knows it, and U+FFFE / U+FFFF.
fn is_format_or_xml_forbidden(c: char) -> bool {
    matches!(c, '\u{fffe}' | '\u{ffff}' | '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}')
        || matches!(c, '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}' | '\u{feff}')
}

// ------------------------------------------------------------ the plan's hosts

#[test]
fn fixes_for_other_hosts_say_where_and_stay_out_of_the_local_plan() {
    let root = node();
    let master = master(["SZV1000265119".to_string(), "szv1000265120".to_string()]);
    let mesos = master.url();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.sh");
    let out = run(root.path(), &["--mesos", &mesos, "--format", "json", "--script", plan.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    cli_support::assert_schema(&doc);
    let finding = &doc.findings("hostname.case")[0];
    assert_eq!(finding["subject"], "Mesos agent SZV1000265119");
    let fix = &finding["remediation"][0];
    assert_eq!(fix["command"], "hostnamectl set-hostname szv1000265119");
    assert_eq!(fix["host"], "SZV1000265119");

    let plan = std::fs::read_to_string(&plan).unwrap();
    let section = plan.find("# ===== On SZV1000265119, not here: run these there =====").expect(&plan);
    assert!(plan[section..].contains("\n# hostnamectl set-hostname szv1000265119\n"), "{plan}");
    assert!(!plan.lines().any(|l| l.starts_with("hostnamectl")), "{plan}");

    let human = run(root.path(), &["--mesos", &mesos, "--color", "never"]);
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(text.contains("on SZV1000265119: hostnamectl set-hostname szv1000265119"), "{text}");
}

// ------------------------------------------------------------ bounded reports

/// 100,000 agents with upper-case names: one aggregate finding with the
/// right count, a report of a few hundred kilobytes in every format, the
/// run inside its deadline.
#[test]
fn a_hundred_thousand_upper_case_agents_give_a_bounded_report_in_time() {
    const AGENTS: usize = 100_000;
    let root = node();
    let master = master((0..AGENTS).map(|i| format!("AGENT{i:06}.EXAMPLE.COM")));
    let mesos = master.url();
    let deadline = Duration::from_secs(20);
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.sh");
    let started = Instant::now();
    let out = run(root.path(), &["--mesos", &mesos, "--format", "json", "--script", plan.to_str().unwrap()]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // The process start and writing stay inside the slack of a loaded machine.
    assert!(took < deadline + Duration::from_secs(5), "the run took {took:?} with a {deadline:?} deadline");
    assert!(out.stdout.len() < 300_000, "a JSON report of {} bytes", out.stdout.len());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    cli_support::assert_schema(&doc);
    let findings = doc.findings("hostname.case");
    assert_eq!(findings.len(), 1, "{:#}", doc.check("hostname.case"));
    let all = &findings[0];
    assert_eq!(all["subject"], "100,000 Mesos agents");
    assert_eq!(all["count"], AGENTS);
    let subjects = all["subjects"].as_array().unwrap();
    assert_eq!(subjects.len(), 1000);
    assert_eq!(subjects[0], "AGENT000000.EXAMPLE.COM");
    assert_eq!(all["remediation"].as_array().unwrap().len(), 20);
    assert!(std::fs::metadata(&plan).unwrap().len() < 100_000);

    for (format, limit) in [("human", 50_000), ("junit", 50_000), ("tap", 50_000)] {
        let out = run(root.path(), &["--mesos", &mesos, "--format", format, "-v"]);
        assert_eq!(out.status.code(), Some(2), "{format}: {}", stderr(&out));
        assert!(out.stdout.len() < limit, "{format}: {} bytes", out.stdout.len());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("100,000 Mesos agents"), "{format}:\n{text}");
        if format == "human" {
            // -v lists every name the report keeps.
            assert!(text.contains("AGENT000999.EXAMPLE.COM, … (the first 1,000 of 100,000)"), "{text}");
        }
    }
}
