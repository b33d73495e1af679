//! `--waivers`, `waivers lint` and `--baseline` (DESIGN.md C4) on the
//! write-up's recorded incident (`examples/flink-on-mesos-incident.json`):
//! hostname.case fails there (the upper-case host SZV1000265118), zk.quorum
//! warns (a single ZooKeeper server).

mod support;

use std::path::Path;

use serde_json::Value;
use support::cli::clusterdoc;

const INCIDENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/flink-on-mesos-incident.json");
const ONLY: &str = "hostname.case,zk.quorum,mesos.leader";

const HOSTNAME_WAIVED: &str = r#"
[[waiver]]
check = "hostname."
subject = "*SZV1000265118*"
reason = "rename planned in CHG-1234"
owner = "ops-team@example.com"
expires = 2027-01-31
"#;

/// `check --from INCIDENT --only ONLY ARGS` on `today`: exit code, stdout, stderr.
fn check(dir: &Path, today: &str, args: &[&str]) -> (i32, String, String) {
    let out = clusterdoc(dir)
        .env("CLUSTERDOC_TODAY", today)
        .args(["check", "--from", INCIDENT, "--only", ONLY])
        .args(args)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap(), text(&out.stdout), text(&out.stderr))
}

fn json(dir: &Path, today: &str, args: &[&str]) -> (i32, Value) {
    let (code, stdout, stderr) = check(dir, today, &[args, &["--format", "json"]].concat());
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    support::cli::assert_schema(&report);
    (code, report)
}

fn check_of<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_waived_failure_stays_visible_and_counts_again_from_its_expiry_day() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = write(dir.path(), "waivers.toml", HOSTNAME_WAIVED);
    let (code, plain) = json(dir.path(), "2027-01-30", &[]);
    assert_eq!((code, plain["status"].as_str()), (2, Some("fail")), "without waivers the host name fails");

    // The day before expiry: hostname.case's findings about the host are
    // waived; one about the Flink config names no host and still counts.
    let (code, report) = json(dir.path(), "2027-01-30", &["--waivers", &waivers]);
    let case = check_of(&report, "hostname.case");
    let findings = case["findings"].as_array().unwrap();
    let waived: Vec<&Value> = findings.iter().filter(|f| f["waived"].is_object()).collect();
    assert_eq!(waived.len(), 2, "{case:#}");
    assert_eq!(waived[0]["waived"]["owner"], "ops-team@example.com");
    assert_eq!(waived[0]["waived"]["expires"], "2027-01-31");
    assert!(waived[0]["waived"].get("expired").is_none(), "{case:#}");
    assert_eq!(report["summary"]["waived"], 2);
    assert_eq!((code, case["status"].as_str()), (2, Some("fail")), "the unwaived finding fails: {case:#}");

    // Waive the Flink config too: hostname.case passes, the run warns (zk.quorum).
    let all = HOSTNAME_WAIVED.replace("subject = \"*SZV1000265118*\"\n", "");
    let waivers_all = write(dir.path(), "all.toml", &all);
    let (code, report) = json(dir.path(), "2027-01-30", &["--waivers", &waivers_all]);
    assert_eq!(check_of(&report, "hostname.case")["status"], "pass", "all its problems are waived");
    assert_eq!(check_of(&report, "hostname.case")["findings"].as_array().unwrap().len(), 3, "and all are listed");
    assert_eq!((code, report["status"].as_str(), report["summary"]["waived"].as_u64()), (1, Some("warn"), Some(3)));

    // On the expiry day the findings count again at full severity.
    let (code, report) = json(dir.path(), "2027-01-31", &["--waivers", &waivers_all]);
    let case = check_of(&report, "hostname.case");
    assert_eq!((code, case["status"].as_str()), (2, Some("fail")), "{case:#}");
    assert!(case["findings"].as_array().unwrap().iter().all(|f| f["waived"]["expired"] == true), "{case:#}");
    assert_eq!(report["summary"]["waived"], 0);

    // Every format says so.
    let (code, human, _) = check(dir.path(), "2027-01-30", &["--waivers", &waivers_all, "--color", "never"]);
    assert_eq!(code, 1);
    assert!(human.contains("waived until 2027-01-31 by ops-team@example.com: rename planned in CHG-1234"), "{human}");
    assert!(human.contains("3 waived · exit 1"), "{human}");
    assert!(human.lines().any(|l| l.starts_with("✓ pass ") && l.contains("hostname.case")), "{human}");
    let (_, expired, _) = check(dir.path(), "2027-02-01", &["--waivers", &waivers_all, "--color", "never"]);
    assert!(expired.contains("its waiver expired on 2027-01-31"), "{expired}");
    for (format, says) in [
        ("nagios", "waived=3"),
        ("tap", "# 3 waived"),
        ("junit", "clusterdoc.accepted"),
        ("prometheus", "clusterdoc_findings_waived 3"),
    ] {
        let (_, out, _) = check(dir.path(), "2027-01-30", &["--waivers", &waivers_all, "--format", format]);
        assert!(out.contains(says), "{format}: {out}");
    }
    // The plan does not fix what is accepted for now.
    let script = dir.path().join("plan.sh");
    check(dir.path(), "2027-01-30", &["--waivers", &waivers_all, "--script", script.to_str().unwrap()]);
    let plan = std::fs::read_to_string(&script).unwrap();
    assert!(plan.contains("# not planned: hostname.case host SZV1000265118: waived until 2027-01-31"), "{plan}");
    assert!(!plan.contains("\nhostnamectl set-hostname"), "{plan}");
}

#[test]
fn a_waiver_that_matches_nothing_is_reported_stale() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HOSTNAME_WAIVED}\n[[waiver]]\ncheck = \"mesos.leader\"\nnode = \"m9\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\n"
    );
    let waivers = write(dir.path(), "waivers.toml", &text);
    let (_, report) = json(dir.path(), "2026-12-05", &["--waivers", &waivers]);
    let stale = report["stale_waivers"].as_array().unwrap();
    assert_eq!(stale.len(), 1, "{report:#}");
    assert_eq!((stale[0]["check"].as_str(), stale[0]["node"].as_str()), (Some("mesos.leader"), Some("m9")));
    let (_, human, _) = check(dir.path(), "2026-12-05", &["--waivers", &waivers, "--color", "never"]);
    assert!(human.contains("stale waiver: mesos.leader on m9 (o, until 2027-01-01) matched no finding"), "{human}");
}

#[test]
fn a_bad_waivers_file_stops_the_run_before_any_probe_naming_the_waiver_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "missing.toml",
            HOSTNAME_WAIVED.replace("owner = \"ops-team@example.com\"\n", ""),
            "waiver 1 (hostname.): `owner` is required",
        ),
        (
            "far.toml",
            HOSTNAME_WAIVED.replace("2027-01-31", "2028-01-31"),
            "more than a year ahead (at most 2027-12-06)",
        ),
        ("string.toml", HOSTNAME_WAIVED.replace("2027-01-31", "\"2027-01-31\""), "expected a TOML datetime"),
        ("time.toml", HOSTNAME_WAIVED.replace("2027-01-31", "2027-01-31T10:00:00Z"), "is not a date"),
        ("typo.toml", HOSTNAME_WAIVED.replace("owner", "owners"), "unknown field `owners`"),
        ("broken.toml", "[[waiver]\ncheck = 1".to_string(), "waivers "),
    ];
    // A Mesos master that would see any probe.
    let master = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    master.set_nonblocking(true).unwrap();
    let mesos = format!("http://{}", master.local_addr().unwrap());
    for (name, text, says) in cases {
        let waivers = write(dir.path(), name, &text);
        let out = clusterdoc(dir.path())
            .env("CLUSTERDOC_TODAY", "2026-12-05")
            .args(["check", "--mesos", &mesos, "--waivers", &waivers])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{name}: {stderr}");
        assert!(stderr.contains(&waivers) && stderr.contains(says), "{name}: {stderr}");
        let lint = clusterdoc(dir.path())
            .env("CLUSTERDOC_TODAY", "2026-12-05")
            .args(["waivers", "lint", &waivers])
            .output()
            .unwrap();
        assert_eq!(lint.status.code(), Some(3), "{name}: lint agrees");
    }
    assert!(master.accept().is_err(), "nothing was probed");
}

#[test]
fn lint_passes_a_good_file_and_lists_expired_waivers() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = write(dir.path(), "waivers.toml", HOSTNAME_WAIVED);
    let out = clusterdoc(dir.path())
        .env("CLUSTERDOC_TODAY", "2027-02-02")
        .args(["waivers", "lint", &waivers])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("1 waivers"), "{stdout}");
    assert!(stdout.contains("waiver 1 (hostname., ops-team@example.com) expired on 2027-01-31"), "{stdout}");
}

#[test]
fn a_baseline_makes_known_findings_pass_and_new_ones_fail_and_counts_the_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut baseline) = json(dir.path(), "2026-12-05", &[]);
    // The baseline as it would be from a week ago: it did not have the
    // Flink config finding yet (new now), and had one finding fixed since.
    let case = baseline["checks"].as_array_mut().unwrap().iter_mut().find(|c| c["id"] == "hostname.case").unwrap();
    let findings = case["findings"].as_array_mut().unwrap();
    let before = findings.len();
    findings.retain(|f| !f["subject"].as_str().unwrap().starts_with("Flink"));
    assert_eq!(findings.len(), before - 1);
    let mut fixed = findings[0].clone();
    fixed["subject"] = "host OLDNAME".into();
    findings.push(fixed);
    let file = write(dir.path(), "baseline.json", &baseline.to_string());

    let (code, report) = json(dir.path(), "2026-12-05", &["--baseline", &file]);
    assert_eq!(report["baseline"]["known"], 3, "{:#}", report["baseline"]);
    assert_eq!((report["baseline"]["new"].as_u64(), report["baseline"]["gone"].as_u64()), (Some(1), Some(1)));
    let case = check_of(&report, "hostname.case");
    let new: Vec<&Value> = case["findings"].as_array().unwrap().iter().filter(|f| f["baseline"] == "new").collect();
    assert_eq!(new.len(), 1);
    assert!(new[0]["subject"].as_str().unwrap().starts_with("Flink"));
    assert_eq!((code, case["status"].as_str()), (2, Some("fail")), "the new finding fails the run");
    let (_, human, _) = check(dir.path(), "2026-12-05", &["--baseline", &file, "--color", "never"]);
    assert!(human.contains("3 known, 1 new, 1 fixed since the baseline"), "{human}");
    assert!(human.contains("new since the baseline"), "{human}");

    // Against a baseline of this very run, nothing is new: the run passes.
    let (_, same) = json(dir.path(), "2026-12-05", &[]);
    let same = write(dir.path(), "same.json", &same.to_string());
    let (code, report) = json(dir.path(), "2026-12-05", &["--baseline", &same]);
    assert_eq!((code, report["status"].as_str()), (0, Some("pass")), "{report:#}");
    assert_eq!((report["baseline"]["new"].as_u64(), report["baseline"]["gone"].as_u64()), (Some(0), Some(0)));
}

#[test]
fn a_baseline_that_is_not_a_report_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let junk = write(dir.path(), "junk.json", "{\"checks\": ");
    let other = write(dir.path(), "other.json", r#"{"tool": "clusterdoc", "schema_version": 2, "checks": []}"#);
    for (file, says) in [
        (INCIDENT.to_string(), "no schema_version: a snapshot, perhaps"),
        (junk, "not a clusterdoc JSON report (EOF"),
        (other, "schema_version 2; this clusterdoc reads 1"),
    ] {
        let (code, _, stderr) = check(dir.path(), "2026-12-05", &["--baseline", &file]);
        assert_eq!(code, 3, "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
}

#[test]
fn run_files_that_are_fifos_or_huge_are_refused_before_any_probe() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success(), "mkfifo (coreutils)");
    let huge = write(dir.path(), "huge.toml", &"# padding\n".repeat(200_000));
    let fifo = fifo.to_str().unwrap();
    for (flag, file, says) in [
        ("--waivers", fifo, "not a regular file"),
        ("--baseline", fifo, "not a regular file"),
        ("--app", fifo, "not a regular file"),
        ("--waivers", huge.as_str(), "larger than 1024 KiB"),
    ] {
        let (code, _, stderr) = check(dir.path(), "2026-12-05", &[flag, file]);
        assert_eq!(code, 3, "{flag} {file}: {stderr}");
        assert!(stderr.contains(says), "{flag} {file}: {stderr}");
    }
}
