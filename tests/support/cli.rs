//! The clusterdoc binary as the integration tests run it, and reading its
//! JSON report.

#![allow(dead_code)] // each test file uses the parts it needs

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

/// Environment that would name a target, a config file or a proxy, or change
/// colours: none of it may leak from the developer's shell into a test.
const AMBIENT: [&str; 14] = [
    "MESOS_MASTER",
    "MARATHON_URL",
    "MARATHON_ZK",
    "FLINK_URL",
    "CLUSTERDOC_CONFIG",
    "CLUSTERDOC_NODES",
    "CLUSTERDOC_SSH",
    "NO_COLOR",
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
];

/// How long after its `--deadline` a run may still end on a fully loaded
/// 2-core machine: starting a debug binary, writing the report, waiting for
/// the scheduler. Every fake that hangs in these tests hangs far longer (or
/// until the test ends), so a bound of `deadline + PAST_DEADLINE` still tells
/// a run that stopped at its deadline from one that hung.
pub const PAST_DEADLINE: Duration = Duration::from_secs(10);

/// The binary, run from `cwd` (an empty directory: no ./clusterdoc.toml),
/// with no ambient target, config file or proxy.
pub fn clusterdoc(cwd: &Path) -> Command {
    Command::from_std(plain(cwd))
}

/// [`clusterdoc`] as a plain process, for tests that bound, await or wrap it
/// themselves.
pub fn plain(cwd: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_clusterdoc"));
    isolate(&mut cmd, cwd);
    cmd
}

/// Runs `cmd` (clusterdoc, or a wrapper that starts it) from `cwd` with no
/// ambient target, config file or proxy.
pub fn isolate(cmd: &mut std::process::Command, cwd: &Path) {
    cmd.current_dir(cwd);
    for var in AMBIENT {
        cmd.env_remove(var);
    }
}

/// A finished run of clusterdoc: its JSON report, exit code, output and
/// how long it took.
pub struct Run {
    pub report: Value,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    /// Runs `cmd` to its end.
    pub fn of_command(cmd: &mut std::process::Command) -> Run {
        let started = std::time::Instant::now();
        let output = cmd.output().expect("run clusterdoc");
        Run::of(output, started.elapsed())
    }

    /// The run that gave `output` after `took`; a run that printed no JSON
    /// report fails the test, showing both streams.
    pub fn of(output: std::process::Output, took: Duration) -> Run {
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let report = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("clusterdoc printed no JSON report ({e}):\n{stdout}\nstderr: {stderr}"));
        let run = Run { report, code: output.status.code().expect("an exit code"), stdout, stderr, took };
        run.typed();
        run
    }
}

impl ReadReport for Run {
    fn report(&self) -> &Value {
        &self.report
    }
}

/// The check `id` in a JSON report.
pub fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    let checks = report["checks"].as_array().unwrap_or_else(|| panic!("not a report: {report:#}"));
    checks.iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no {id} in {report:#}"))
}

/// Reading a JSON report by check id: a test's run type only says where its
/// report is.
pub trait ReadReport {
    fn report(&self) -> &Value;

    /// The report as the crate's own type: what every reader of the JSON
    /// contract gets (a report that does not parse fails the test).
    fn typed(&self) -> clusterdoc::report::Report {
        serde_json::from_value(self.report().clone())
            .unwrap_or_else(|e| panic!("the JSON report is not a clusterdoc report ({e}): {:#}", self.report()))
    }

    /// The check `id` as the crate's own type.
    fn typed_check(&self, id: &str) -> clusterdoc::report::CheckReport {
        let check = self.typed().checks.into_iter().find(|c| c.id == id);
        check.unwrap_or_else(|| panic!("no {id} in {:#}", self.report()))
    }

    fn check(&self, id: &str) -> &Value {
        check(self.report(), id)
    }

    fn status(&self, id: &str) -> &str {
        self.check(id)["status"].as_str().unwrap()
    }

    /// Why the check skipped or errored, or what it looked at ("" if nothing).
    fn reason(&self, id: &str) -> &str {
        self.check(id)["reason"].as_str().unwrap_or_default()
    }

    fn findings(&self, id: &str) -> &[Value] {
        self.check(id)["findings"].as_array().unwrap()
    }
}

impl ReadReport for Value {
    fn report(&self) -> &Value {
        self
    }
}

/// A finding's evidence, one line each.
pub fn evidence(finding: &Value) -> String {
    finding["evidence"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect::<Vec<_>>().join("\n")
}

/// A finding's remedies: (command, risk).
pub fn remedies(finding: &Value) -> Vec<(String, String)> {
    let remediation = finding["remediation"].as_array().unwrap();
    remediation.iter().map(|r| (r["command"].as_str().unwrap().into(), r["risk"].as_str().unwrap().into())).collect()
}

/// Some evidence line of `finding` contains `part`.
pub fn assert_evidence(finding: &Value, part: &str) {
    let evidence = finding["evidence"].as_array().unwrap();
    assert!(evidence.iter().any(|e| e.as_str().unwrap().contains(part)), "no evidence {part:?} in {finding:#}");
}

/// Some remedy of `finding` contains `command` and has this risk.
pub fn assert_fix(finding: &Value, command: &str, risk: &str) {
    let fixes = finding["remediation"].as_array().unwrap();
    assert!(
        fixes.iter().any(|r| r["command"].as_str().unwrap().contains(command) && r["risk"] == risk),
        "no {risk} fix {command:?} in {finding:#}"
    );
}

/// Fails the test unless `doc` is a report as schema/report.schema.json
/// describes it.
pub fn assert_schema(doc: &Value) {
    let schema: Value = serde_json::from_str(include_str!("../../schema/report.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
}
