//! Secrets and hostile remote text, end to end through the real facts.
//!
//! Credentials named in URLs (flags, environment, the config file) are used
//! and never printed: not in any report format, the `--script` plan, a
//! snapshot, or stderr, also when the targets cannot be reached. Text that
//! Mesos and Marathon send (app ids, host names, framework names) with
//! terminal escapes and shell metacharacters never reaches the terminal raw
//! and never escapes its quoting in a remediation command or the plan: each
//! command and the plan are run with `env -i PATH= sh` and the files the
//! payloads would create must not appear.
//! (src/report/format_tests.rs covers the renderers on hand-built reports.)

mod support;

use crate::support::http;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use http::{Answer, FakeServer, closed_port_url, fixture_json};
use serde_json::{Value, json};

const USER: &str = "ops";
const PASSWORD: &str = "Pw-9c0ffee-s3cr3t";
/// base64("ops:Pw-9c0ffee-s3cr3t"): what a Basic Authorization header carries.
const BASIC_AUTH: &str = "b3BzOlB3LTljMGZmZWUtczNjcjN0";
const FORMATS: [&str; 6] = ["human", "json", "junit", "tap", "nagios", "prometheus"];

use crate::support::cli as cli_support;
use cli_support::clusterdoc;

/// The binary, bounded: a hang fails the test instead of holding the suite.
fn bounded(cwd: &Path) -> Command {
    let mut cmd = clusterdoc(cwd);
    cmd.timeout(Duration::from_secs(60));
    cmd
}

fn text(output: &Output) -> String {
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// Everything clusterdoc writes for these arguments: each format on stdout
/// (and stderr), the report and plan files of `-o` and `--script`, `collect`
/// on stdout and into a file, and `check --from` that snapshot in each format.
fn every_output(cwd: &Path, args: &[&str]) -> Vec<(String, String)> {
    let mut outputs = Vec::new();
    for format in FORMATS {
        let out = bounded(cwd).args(["check", "-v", "--format", format]).args(args).output().unwrap();
        outputs.push((format!("check --format {format}"), text(&out)));
    }
    let (report, plan, snapshot) = (cwd.join("report.out"), cwd.join("plan.sh"), cwd.join("snapshot.json"));
    let out = bounded(cwd).arg("check").args(args).arg("-o").arg(&report).arg("--script").arg(&plan).output().unwrap();
    outputs.push(("check -o --script (stdout, stderr)".into(), text(&out)));
    outputs.push(("-o FILE".into(), std::fs::read_to_string(&report).unwrap()));
    outputs.push(("--script FILE".into(), std::fs::read_to_string(&plan).unwrap()));
    let out = bounded(cwd).arg("collect").args(args).output().unwrap();
    outputs.push(("collect".into(), text(&out)));
    let out = bounded(cwd).arg("collect").args(args).arg("-o").arg(&snapshot).output().unwrap();
    outputs.push(("collect (stdout, stderr)".into(), text(&out)));
    outputs.push(("collect -o FILE".into(), std::fs::read_to_string(&snapshot).unwrap()));
    for format in FORMATS {
        let out = bounded(cwd).args(["check", "-v", "--format", format, "--from"]).arg(&snapshot).output().unwrap();
        outputs.push((format!("check --from --format {format}"), text(&out)));
    }
    outputs
}

/// The output `every_output` labelled `what`.
fn output<'a>(outputs: &'a [(String, String)], what: &str) -> &'a str {
    &outputs.iter().find(|(label, _)| label == what).unwrap_or_else(|| panic!("no output {what}")).1
}

fn assert_no_credentials(outputs: &[(String, String)]) {
    for (what, output) in outputs {
        assert!(!output.contains(PASSWORD) && !output.contains(BASIC_AUTH), "{what} shows a credential:\n{output}");
    }
}

fn with_credentials(url: &str) -> String {
    url.replacen("://", &format!("://{USER}:{PASSWORD}@"), 1)
}

// ------------------------------------------------------------ the cluster

fn framework_id() -> String {
    fixture_json("marathon/v1.4.13/info.json")["frameworkId"].as_str().unwrap().to_string()
}

/// A port nothing listens on.
fn closed_port() -> String {
    closed_port_url().rsplit(':').next().unwrap().to_string()
}

/// A leading master whose state is the mesos-dns example, changed by `edit`.
/// Its agents are registered at a closed loopback port: net.reachability
/// probes them, and only loopback may be.
fn master(edit: impl FnOnce(&mut Value)) -> FakeServer {
    let mut state = fixture_json("mesos/mesos-dns_factories_fake_state.json");
    state["frameworks"][0]["id"] = json!(framework_id());
    state["frameworks"][0]["name"] = json!("marathon");
    state["frameworks"][0]["active"] = json!(true);
    edit(&mut state);
    let closed = closed_port();
    for agent in state["slaves"].as_array_mut().unwrap() {
        agent["pid"] = json!(format!("slave(1)@127.0.0.1:{closed}"));
    }
    FakeServer::start(vec![
        ("/master/state", Answer::json_value(&state)),
        ("/master/health", Answer::status(200, "")),
        ("/metrics/snapshot", Answer::json_value(&json!({"master/elected": 1.0}))),
    ])
}

/// Marathon 1.4.13's examples; `info` and `apps` changed by `edit`.
fn marathon(edit: impl FnOnce(&mut Value, &mut Value)) -> FakeServer {
    let mut info = fixture_json("marathon/v1.4.13/info.json");
    let mut apps = fixture_json("marathon/v1.4.13/app_list.json");
    apps["apps"][0]["tasks"] = fixture_json("marathon/v1.4.13/app_tasks.json")["tasks"].clone();
    edit(&mut info, &mut apps);
    FakeServer::start(vec![
        ("/v2/leader", Answer::json_value(&json!({"leader": info["leader"]}))),
        ("/v2/info", Answer::json_value(&info)),
        ("/v2/apps", Answer::json_value(&apps)),
        ("/v2/queue", Answer::fixture("marathon/v1.4.13/queue.json")),
        ("/v2/deployments", Answer::fixture("marathon/v1.4.13/deployments.json")),
    ])
}

fn flink() -> FakeServer {
    FakeServer::start(vec![
        ("/config", Answer::json(r#"{"flink-version":"1.2.0","flink-revision":"abc"}"#)),
        ("/overview", Answer::json(r#"{"taskmanagers":0,"slots-total":0,"slots-available":0,"jobs-running":0}"#)),
        ("/taskmanagers", Answer::json(r#"{"taskmanagers":[]}"#)),
        ("/jobmanager/config", Answer::json(r#"[{"key":"jobmanager.rpc.port","value":"6123"}]"#)),
    ])
}

/// A ZooKeeper URL with credentials on a port nothing listens on.
fn zk_with_credentials() -> String {
    format!("zk://{USER}:{PASSWORD}@127.0.0.1:{}/marathon", closed_port())
}

// ------------------------------------------------------------ credentials

/// Marathon also reports URLs with credentials of its own (its ZooKeeper
/// and Mesos URLs): the facts keep them redacted.
#[test]
fn credentials_in_target_urls_are_used_and_never_printed() {
    let master = master(|_| {});
    let marathon = marathon(|info, _| {
        info["zookeeper_config"]["zk"] = json!(format!("zk://{USER}:{PASSWORD}@zk1:2181/marathon"));
        info["marathon_config"]["master"] = json!(format!("zk://{USER}:{PASSWORD}@zk1:2181/mesos"));
    });
    let flink = flink();
    let root = tempfile::tempdir().unwrap();
    let (m, a, f, zk) = (
        with_credentials(&master.url()),
        with_credentials(&marathon.url()),
        with_credentials(&flink.url()),
        zk_with_credentials(),
    );
    let args = ["--root", root.path().to_str().unwrap(), "--mesos", &m, "--marathon", &a, "--flink", &f, "--zk", &zk];
    let cwd = tempfile::tempdir().unwrap();
    let outputs = every_output(cwd.path(), &args);
    assert_no_credentials(&outputs);
    let report: Value = serde_json::from_str(output(&outputs, "check --format json")).unwrap();
    let status =
        |id: &str| report["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap()["status"].clone();
    assert_eq!((status("marathon.leader"), status("mesos.leader")), (json!("pass"), json!("pass")), "{report:#}");
    for (server, path) in [(&master, "/master/state"), (&marathon, "/v2/info"), (&flink, "/config")] {
        let request = server.requests().into_iter().find(|r| r.path() == path).unwrap();
        assert_eq!(request.header("authorization"), Some(format!("Basic {BASIC_AUTH}").as_str()), "{path}");
    }
}

/// Error paths: refused connections, an https:// endpoint whose server never
/// answers the TLS handshake, and URLs clusterdoc cannot use; the errors
/// name the endpoint without its credentials.
#[test]
fn credentials_of_targets_that_fail_are_never_printed() {
    let plain = FakeServer::start(vec![]);
    let refused = with_credentials(&closed_port_url());
    let tls = format!("https://{USER}:{PASSWORD}@{}", plain.address());
    let zk = zk_with_credentials();
    let root = tempfile::tempdir().unwrap();
    let root = root.path().to_str().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let args = ["--root", root, "--mesos", &refused, "--marathon", &tls, "--flink", &refused, "--zk", &zk];
    let args = [&args[..], &["--timeout", "1s", "--deadline", "5s"]].concat();
    let outputs = every_output(cwd.path(), &args);
    assert_no_credentials(&outputs);
    let json = output(&outputs, "check --format json");
    assert!(json.contains("connection refused") && json.contains("timed out"), "{json}");

    // URLs clusterdoc cannot use at all: refused before any request.
    for bad in [
        format!("http://{USER}:{PASSWORD}@127.0.0.1:99999"),
        format!("ftp://{USER}:{PASSWORD}@127.0.0.1:21"),
        format!("http://{USER}:{PASSWORD}@"),
    ] {
        for flag in ["--mesos", "--marathon", "--flink"] {
            let out = bounded(cwd.path()).args(["check", "--root", root, flag, &bad]).output().unwrap();
            assert_eq!(out.status.code(), Some(3), "{flag} {bad}: {out:?}");
            assert_no_credentials(&[(format!("{flag} {bad}"), text(&out))]);
        }
    }
    for bad in [format!("zk://{USER}:{PASSWORD}@h:99999/x"), format!("zk://{USER}:{PASSWORD}@h:2181")] {
        let out = bounded(cwd.path()).args(["check", "--root", root, "--zk", &bad]).output().unwrap();
        assert_no_credentials(&[(format!("--zk {bad}"), text(&out))]);
    }
}

/// The same targets named in ./clusterdoc.toml and through the environment.
#[test]
fn credentials_in_the_config_file_and_environment_are_never_printed() {
    let master = master(|_| {});
    let marathon = marathon(|_, _| {});
    let flink = flink();
    let root = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let config = format!(
        "mesos = [{:?}]\nmarathon = {:?}\nzk = {:?}\nflink = [{:?}]\nroot = {:?}\n",
        with_credentials(&master.url()),
        with_credentials(&marathon.url()),
        zk_with_credentials(),
        with_credentials(&flink.url()),
        root.path().to_str().unwrap(),
    );
    std::fs::write(cwd.path().join("clusterdoc.toml"), &config).unwrap();
    assert_no_credentials(&every_output(cwd.path(), &[]));
    let requests = marathon.requests();
    assert!(requests.iter().any(|r| r.header("authorization").is_some()), "the config file's Marathon was not used");

    // A config file clusterdoc refuses: the error names the key, not the secret.
    for broken in [
        format!("marathon = \"http://{USER}:{PASSWORD}@127.0.0.1:99999\"\n"),
        format!("zk = \"zk://{USER}:{PASSWORD}@\"\n"),
        format!("marathon = \"http://{USER}:{PASSWORD}@m1:8080\"\nnot toml at all {PASSWORD}\n"),
    ] {
        std::fs::write(cwd.path().join("clusterdoc.toml"), &broken).unwrap();
        let out = bounded(cwd.path()).arg("check").output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{broken}: {out:?}");
        let shown = text(&out);
        assert!(!shown.contains(PASSWORD), "the config error shows the secret:\n{shown}");
    }
    std::fs::remove_file(cwd.path().join("clusterdoc.toml")).unwrap();

    let environment = [
        ("MESOS_MASTER", with_credentials(&master.url())),
        ("MARATHON_URL", with_credentials(&marathon.url())),
        ("MARATHON_ZK", zk_with_credentials()),
        ("FLINK_URL", with_credentials(&flink.url())),
    ];
    for format in FORMATS {
        let mut cmd = bounded(cwd.path());
        cmd.envs(environment.iter().map(|(var, value)| (var, value)));
        let out =
            cmd.args(["check", "-v", "--root", root.path().to_str().unwrap(), "--format", format]).output().unwrap();
        assert_no_credentials(&[(format!("environment, {format}"), text(&out))]);
    }
}

/// `--help` shows which variables it reads, never their values.
#[test]
fn help_never_shows_the_environments_credentials() {
    let cwd = tempfile::tempdir().unwrap();
    let environment = [
        ("MESOS_MASTER", with_credentials("http://m1:5050")),
        ("MARATHON_URL", with_credentials("http://marathon1:8080")),
        ("MARATHON_ZK", zk_with_credentials()),
        ("FLINK_URL", with_credentials("http://jm1:8081")),
        ("CLUSTERDOC_CONFIG", format!("/etc/{PASSWORD}.toml")),
    ];
    for args in [&["--help"][..], &["check", "--help"], &["collect", "--help"], &["list", "--help"], &["-h"]] {
        let out =
            bounded(cwd.path()).envs(environment.iter().map(|(var, value)| (var, value))).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        let shown = text(&out);
        assert!(shown.contains("CLUSTERDOC_CONFIG"), "{args:?} does not name the variables:\n{shown}");
        assert!(!shown.contains(PASSWORD) && !shown.contains("m1:5050"), "{args:?} shows a value:\n{shown}");
    }
}

/// A live `collect` records every process's command line: credentials in
/// clusterdoc's own arguments and in another process's are redacted there.
#[test]
fn a_live_collect_redacts_credentials_in_command_lines() {
    let cwd = tempfile::tempdir().unwrap();
    let zk = format!("zk://marathon:{PASSWORD}@zk1:2181/marathon");
    // A stand-in for Marathon: `sh -c` keeps its arguments in its command
    // line (the `; :` stops dash from replacing itself with sleep).
    let mut daemon = std::process::Command::new("sh")
        .args(["-c", "sleep 60; :", "fake-marathon", "--zk", &zk, &format!("-Dpassword={PASSWORD}")])
        .args([&format!("--password={PASSWORD}"), "--secret", PASSWORD])
        .spawn()
        .unwrap();
    let (mesos, zk_port) = (closed_port_url(), closed_port());
    let out = bounded(cwd.path())
        .args(["collect", "--deadline", "20s", "--mesos", &with_credentials(&mesos), "--zk"])
        .arg(format!("zk://{USER}:{PASSWORD}@127.0.0.1:{zk_port}/marathon"))
        .output()
        .unwrap();
    let _ = daemon.kill();
    let _ = daemon.wait();
    let snapshot = text(&out);
    assert!(out.status.success(), "{snapshot}");
    assert_no_credentials(&[("live collect".into(), snapshot.clone())]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let processes = doc["facts"]["processes"]["value"]["processes"].as_array().unwrap_or_else(|| panic!("{doc:#}"));
    let argv_of = |pid: u32| -> Vec<String> {
        let process = processes.iter().find(|p| p["pid"] == pid).unwrap_or_else(|| panic!("no process {pid}"));
        process["cmdline"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect()
    };
    assert_eq!(
        argv_of(daemon.id())[3..],
        [
            "fake-marathon",
            "--zk",
            "zk://zk1:2181/marathon",
            "-Dpassword=<redacted>",
            "--password=<redacted>",
            "--secret",
            "<redacted>"
        ]
    );
    let own = processes
        .iter()
        .find(|p| p["cmdline"].as_array().is_some_and(|a| a.iter().any(|w| w == "collect")))
        .unwrap_or_else(|| panic!("clusterdoc itself is not in the table: {processes:?}"));
    let own: Vec<&str> = own["cmdline"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(own.contains(&mesos.as_str()), "{own:?}");
    assert!(own.contains(&format!("zk://127.0.0.1:{zk_port}/marathon").as_str()), "{own:?}");
}

// ------------------------------------------------------ hostile remote text

/// Each payload creates its marker file with shell builtins only (`PATH` is
/// empty where commands run) if it ever escapes its quotes.
const PAYLOADS: [&str; 6] = [
    "$(: >pwned-subst)",
    "`: >pwned-backtick`",
    "';: >pwned-single;'",
    "\";: >pwned-double;\"",
    "x\n: >pwned-newline\n",
    "&: >pwned-amp&",
];
const MARKERS: [&str; 6] =
    ["pwned-subst", "pwned-backtick", "pwned-single", "pwned-double", "pwned-newline", "pwned-amp"];
/// Erases the screen, sets the window title, hides what follows.
const ESCAPES: &str = "\u{1b}[2J\u{1b}]0;owned\u{7}\u{1b}[8m\u{9b}31m\u{202e}";
/// Text that must never start a line of the human report.
const FORGED: &str = "FORGED-LINE";

/// One hostile name per payload: upper-case (so that hostname.case fires
/// and prints a fix), escapes, and a line that tries to pass for output.
fn hostile(i: usize) -> String {
    format!("EVIL-{i}{ESCAPES}{}\n{FORGED} ✓ pass  everything is fine", PAYLOADS[i])
}

/// A cluster whose Mesos and Marathon report hostile names everywhere
/// clusterdoc shows or acts on a name.
fn hostile_cluster() -> (FakeServer, FakeServer) {
    let master = master(|state| {
        let template = state["slaves"][0].clone();
        state["slaves"] = json!(
            (0..PAYLOADS.len())
                .map(|i| {
                    let mut agent = template.clone();
                    agent["id"] = json!(format!("S{i}{}", hostile(i)));
                    agent["hostname"] = json!(hostile(i));
                    agent["active"] = json!(i % 2 == 0);
                    agent
                })
                .collect::<Vec<_>>()
        );
        for (i, framework) in state["frameworks"].as_array_mut().unwrap().iter_mut().enumerate().skip(1) {
            framework["name"] = json!(hostile(i % PAYLOADS.len()));
            framework["hostname"] = json!(hostile(i % PAYLOADS.len()));
            framework["active"] = json!(false);
        }
    });
    let marathon = marathon(|info, apps| {
        info["marathon_config"]["hostname"] = json!(hostile(0));
        info["leader"] = json!(format!("{}:8080", hostile(1)));
        let app = apps["apps"][0].clone();
        apps["apps"] = json!(
            (0..PAYLOADS.len())
                .map(|i| {
                    let mut app = app.clone();
                    app["id"] = json!(format!("/flink/{}", hostile(i)));
                    app["cmd"] = json!(format!(
                        "/opt/flink/bin/mesos-appmaster.sh -Djobmanager.rpc.address={} -Djobmanager.rpc.port=6123",
                        hostile(i)
                    ));
                    app["instances"] = json!(3);
                    app["constraints"] = json!([]);
                    app["tasks"][0]["host"] = json!(hostile(i));
                    app
                })
                .collect::<Vec<_>>()
        );
    });
    (master, marathon)
}

/// `env -i PATH= /bin/sh ARGS` in `cwd`. The commands fail (nothing is on
/// PATH); what matters is which files they create.
fn sh_in_empty_env(cwd: &Path, args: &[&str]) {
    std::process::Command::new("env")
        .args(["-i", "PATH=", "/bin/sh"])
        .args(args)
        .current_dir(cwd)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
}

fn assert_no_marker(dir: &Path, after: &str) {
    for marker in MARKERS {
        assert!(!dir.join(marker).exists(), "{marker} was created: a payload escaped its quotes in {after}");
    }
}

#[test]
fn remote_text_never_reaches_the_terminal_raw_nor_escapes_quoting() {
    let (master, marathon) = hostile_cluster();
    let root = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let (m, a) = (master.url(), marathon.url());
    let args = ["--root", root.path().to_str().unwrap(), "--mesos", &m, "--marathon", &a, "--timeout", "1s"];
    let outputs = every_output(cwd.path(), &args);

    // Human output: no terminal control character survives, no forged line.
    for (what, output) in outputs.iter().filter(|(what, _)| what.ends_with("human")) {
        let raw: Vec<char> = output.chars().filter(|c| c.is_control() && *c != '\n').collect();
        assert!(raw.is_empty(), "{what}: raw control characters {raw:?}:\n{output}");
        assert!(!output.contains('\u{202e}'), "{what}: a bidi override reached the terminal");
        assert!(!output.lines().any(|l| l.trim_start().starts_with(FORGED)), "{what}: a forged line:\n{output}");
        assert!(output.contains("EVIL-0"), "{what}: the hostile names were not reported at all:\n{output}");
    }

    // Every remediation command, run as it would be pasted.
    let report: Value = serde_json::from_str(output(&outputs, "check --format json")).unwrap();
    let commands: Vec<String> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap())
        .flat_map(|f| f["remediation"].as_array().unwrap())
        .map(|r| r["command"].as_str().unwrap().to_string())
        .collect();
    let hostile_commands: Vec<&String> =
        commands.iter().filter(|c| c.contains("EVIL-") || c.contains("evil-")).collect();
    assert!(!hostile_commands.is_empty(), "no command carries a hostile name: {commands:#?}");
    let sandbox = tempfile::tempdir().unwrap();
    for command in &commands {
        assert!(shlex::split(command).is_some(), "not one balanced shell line: {command}");
        sh_in_empty_env(sandbox.path(), &["-c", command]);
        assert_no_marker(sandbox.path(), command);
    }

    // The plan as a whole, and each of its lines on its own (`set -e`
    // stops the whole at the first command that is not found).
    let plan = output(&outputs, "--script FILE");
    std::fs::write(sandbox.path().join("plan.sh"), plan).unwrap();
    sh_in_empty_env(sandbox.path(), &["plan.sh"]);
    assert_no_marker(sandbox.path(), "the --script plan");
    for line in plan.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty() && *l != "set -eu") {
        sh_in_empty_env(sandbox.path(), &["-c", line]);
        assert_no_marker(sandbox.path(), line);
    }
    for comment in plan.lines().filter(|l| l.starts_with('#')) {
        assert!(!comment.chars().any(char::is_control), "a control character in a comment: {comment:?}");
    }
}
