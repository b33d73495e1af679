//! Pluggable checks, end to end through the binary: TOML packs of every kind
//! against real components (HTTP servers and TCP servers on loopback, real
//! ZooKeeper servers, real commands, unit trees under --root, processes),
//! Nagios plugins, overriding, load problems, `list` and `explain`, and
//! snapshots that replay plugin results without running plugins.

mod support;

use crate::support::http;
use crate::support::zk;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use http::{Answer, FakeServer};
use serde_json::Value;

use crate::support::cli as cli_support;
use cli_support::{ReadReport, clusterdoc, evidence};

/// A pack directory in a temporary directory.
struct Packs {
    dir: tempfile::TempDir,
}

impl Packs {
    fn new() -> Self {
        Packs { dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> &Self {
        std::fs::write(self.file(name), text).unwrap();
        self
    }

    /// An executable script.
    fn plugin(&self, name: &str, script: &str) -> &Self {
        self.write(name, &format!("#!/bin/sh\n{script}\n"));
        std::fs::set_permissions(self.file(name), std::fs::Permissions::from_mode(0o755)).unwrap();
        self
    }

    /// Runs the given checks with this pack directory; the JSON report and the exit code.
    fn run(&self, only: &str, extra: &[&str]) -> (Value, i32) {
        let mut cmd = clusterdoc(self.path());
        cmd.arg("--checks-dir").arg(self.path());
        cmd.args(["--only", only, "--format", "json", "--deadline", "20s"]).args(extra);
        if !extra.contains(&"--timeout") {
            cmd.args(["--timeout", "2s"]);
        }
        let out = cmd.output().unwrap();
        let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
        });
        (doc, out.status.code().unwrap())
    }
}

/// A `[[check]]` with the given id, severity and kind table (and remedies).
fn check(id: &str, severity: &str, body: &str) -> String {
    format!(
        "[[check]]\nid = \"{id}\"\ntitle = \"Test {id}\"\nseverity = \"{severity}\"\ntags = [\"test\"]\n\
         [check.explain]\nwhat = \"What {id} looks at.\"\nwhy = \"Why {id} matters.\"\nfix = \"How to fix {id}.\"\n{body}\n"
    )
}

fn commands(finding: &Value) -> Vec<&str> {
    finding["remediation"].as_array().unwrap().iter().map(|r| r["command"].as_str().unwrap()).collect()
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A TCP server that reads a four-letter word and answers `reply`, as ZooKeeper does.
fn four_letter_server(reply: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut word = [0u8; 4];
            stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            if stream.read_exact(&mut word).is_ok() && &word == b"mntr" {
                let _ = stream.write_all(reply.as_bytes());
            }
        }
    });
    port
}

fn mntr(outstanding: u32) -> &'static str {
    Box::leak(
        format!(
            "zk_version\t3.8.0-debian\nzk_avg_latency\t0\nzk_outstanding_requests\t{outstanding}\nzk_server_state\tstandalone\n"
        )
        .into_boxed_str(),
    )
}

#[test]
fn tcp_ports_pass_when_open_and_fire_when_closed_with_quoted_remediation() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let open_port = open.local_addr().unwrap().port();
    let closed = closed_port();
    let packs = Packs::new();
    let remedy = "[[check.remedy]]\ncommand = \"ssh {host} systemctl start svc --port {port}\"\nrisk = \"disruptive\"\nnote = \"then look again\"";
    packs.write(
        "ports.toml",
        &(check("t.open", "fail", &format!("[check.tcp]\naddress = \"127.0.0.1:{open_port}\"\n{remedy}"))
            + &check("t.closed", "warn", &format!("[check.tcp]\naddress = \"127.0.0.1:{closed}\"\n{remedy}"))),
    );
    let (doc, code) = packs.run("t.", &[]);
    assert_eq!(doc.status("t.open"), "pass");
    assert_eq!(cli_support::check(&doc, "t.open")["reason"], format!("127.0.0.1:{open_port}: open"));
    assert_eq!(doc.status("t.closed"), "warn");
    let f = &doc.findings("t.closed")[0];
    assert_eq!(f["subject"], format!("127.0.0.1:{closed}"));
    assert_eq!(f["message"], "the port is not open: connection refused");
    assert_eq!(evidence(f), "connecting: connection refused");
    assert_eq!(commands(f), [format!("ssh 127.0.0.1 systemctl start svc --port {closed}")]);
    assert_eq!(f["remediation"][0]["risk"], "disruptive");
    assert_eq!(f["remediation"][0]["note"], "then look again");
    assert_eq!(code, 1);
}

#[test]
fn zk_outstanding_requests_fans_out_over_the_zk_servers() {
    let packs = Packs::new();
    let (calm, busy) = (four_letter_server(mntr(0)), four_letter_server(mntr(25)));
    let zk = format!("zk://127.0.0.1:{calm},127.0.0.1:{busy}/marathon");
    let (doc, code) = packs.run("zk.outstanding-requests", &["--zk", &zk]);
    assert_eq!(doc.status("zk.outstanding-requests"), "warn", "{doc:#}");
    let found = doc.findings("zk.outstanding-requests");
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f["subject"], format!("127.0.0.1:{busy}"));
    assert_eq!(f["message"], "25 is above the maximum 10 (zk_outstanding_requests\t25)");
    assert_eq!(evidence(f), "the reply: zk_outstanding_requests\t25");
    assert_eq!(commands(f), [format!("echo cons | nc 127.0.0.1 {busy}")]);
    let reason = cli_support::check(&doc, "zk.outstanding-requests")["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("127.0.0.1:{calm}: zk_outstanding_requests\t0")), "{reason}");
    assert_eq!(code, 1);

    // The implicit default ensemble absent: skip, saying how to name it.
    let (doc, code) = packs.run("zk.outstanding-requests", &["--root", packs.path().to_str().unwrap()]);
    let skipped = cli_support::check(&doc, "zk.outstanding-requests");
    assert_eq!(skipped["status"], "skip", "{skipped}");
    assert!(skipped["reason"].as_str().unwrap().contains("--zk URL"), "{skipped}");
    assert_eq!(code, 0);
}

#[test]
fn zk_outstanding_requests_on_real_servers_passes_or_says_mntr_is_refused() {
    let allowed = zk::ZkServer::standalone("srvr,mntr");
    let refused = zk::ZkServer::standalone("srvr");
    let zk = format!("zk://{},{}/marathon", allowed.address(), refused.address());
    let (doc, code) = Packs::new().run("zk.outstanding-requests", &["--zk", &zk]);
    let c = cli_support::check(&doc, "zk.outstanding-requests");
    assert_eq!(c["status"], "error", "{c}");
    assert!(
        c["reason"].as_str().unwrap().contains(&format!("{}: zk_outstanding_requests\t0", allowed.address())),
        "{c}"
    );
    let f = &c["findings"][0];
    assert_eq!(f["subject"], refused.address());
    assert_eq!(f["status"], "error");
    assert!(f["message"].as_str().unwrap().contains("nothing to measure"), "{f}");
    assert!(evidence(f).contains("mntr is not executed because it is not in the whitelist"), "{f}");
    assert_eq!(code, 3);
}

#[test]
fn mesos_agents_fan_out_from_the_leading_masters_state() {
    let up = TcpListener::bind("127.0.0.1:0").unwrap();
    let (up_port, down_port) = (up.local_addr().unwrap().port(), closed_port());
    // The upstream example state, its agents moved to loopback ports.
    let mut state = http::fixture_json("mesos/mesos-dns_factories_fake_state.json");
    let agent = |n: u16, port: u16| {
        let mut agent = state["slaves"][0].clone();
        agent["id"] = Value::from(format!("agent-{n}"));
        agent["hostname"] = Value::from("127.0.0.1");
        agent["pid"] = Value::from(format!("slave(1)@127.0.0.1:{port}"));
        agent
    };
    state["slaves"] = Value::Array(vec![agent(1, up_port), agent(2, down_port)]);
    let master = FakeServer::start(vec![
        ("/master/state", Answer::json_value(&state)),
        ("/master/health", Answer::status(200, "")),
        ("/metrics/snapshot", Answer::json_value(&serde_json::json!({"master/elected": 1.0}))),
    ]);
    let packs = Packs::new();
    packs.write(
        "agents.toml",
        &check(
            "a.reachable",
            "fail",
            "[check.tcp]\naddress = \"{mesos.agents}\"\n[[check.remedy]]\ncommand = \"ssh {host} systemctl restart mesos-slave\"\nrisk = \"disruptive\"",
        ),
    );
    let (doc, code) = packs.run("a.reachable", &["--mesos", &master.url()]);
    let found = doc.findings("a.reachable");
    assert_eq!(found.len(), 1, "{doc:#}");
    assert_eq!(found[0]["subject"], format!("127.0.0.1:{down_port}"));
    assert_eq!(commands(&found[0]), ["ssh 127.0.0.1 systemctl restart mesos-slave"]);
    assert!(
        cli_support::check(&doc, "a.reachable")["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("127.0.0.1:{up_port}: open"))
    );
    assert_eq!(code, 2);

    // No master answers at the implicit default: the agents are unknown, the check skips.
    let (doc, _) = packs.run("a.reachable", &[]);
    assert_eq!(doc.status("a.reachable"), "skip", "{doc:#}");
}

/// An agent host name from `/master/state` that `ssh` would read as an
/// option running a command: refused before any argv or remedy sees it.
#[test]
fn remote_host_names_that_could_be_options_never_reach_argv_or_remedies() {
    assert!(
        std::process::Command::new("ssh").arg("-V").output().is_ok(),
        "this test needs ssh (Debian package openssh-client): the attack is its -oProxyCommand"
    );
    let scratch = tempfile::tempdir().unwrap();
    let marker = scratch.path().join("proxy-command-ran");
    let hostile = format!("-oProxyCommand=touch {}", marker.display());
    let closed = closed_port();
    let mut state = http::fixture_json("mesos/mesos-dns_factories_fake_state.json");
    let agent = |n: u16, host: &str| {
        let mut agent = state["slaves"][0].clone();
        agent["id"] = Value::from(format!("agent-{n}"));
        agent["hostname"] = Value::from(host);
        agent["pid"] = Value::from(format!("slave(1)@127.0.0.1:{closed}"));
        agent
    };
    state["slaves"] = Value::Array(vec![agent(1, &hostile), agent(2, "127.0.0.1")]);
    let master = FakeServer::start(vec![
        ("/master/state", Answer::json_value(&state)),
        ("/master/health", Answer::status(200, "")),
        ("/metrics/snapshot", Answer::json_value(&serde_json::json!({"master/elected": 1.0}))),
    ]);
    let remedy = "[[check.remedy]]\ncommand = \"ssh {host} systemctl restart mesos-slave\"\nrisk = \"disruptive\"";
    let packs = Packs::new();
    packs.write(
        "agents.toml",
        &(check(
            "a.ssh",
            "fail",
            &format!(
                "[check.command]\nargv = [\"ssh\", \"-o\", \"BatchMode=yes\", \"-p\", \"{closed}\", \"{{mesos.agents.host}}\", \"true\"]\n"
            ),
        ) + &check("a.port", "fail", &format!("[check.tcp]\naddress = \"{{mesos.agents}}\"\n{remedy}"))),
    );
    let (doc, code) = packs.run("a.", &["--mesos", &master.url()]);
    assert!(!marker.exists(), "the agent's host name ran its ProxyCommand through the pack's argv");
    let refused_subject = format!("{hostile:?}:{closed}");
    for id in ["a.ssh", "a.port"] {
        let found = doc.findings(id);
        let refused =
            found.iter().find(|f| f["subject"] == refused_subject.as_str()).unwrap_or_else(|| panic!("{doc:#}"));
        assert_eq!(refused["status"], "error");
        let message = refused["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("{hostile:?} is not a host name: it starts with '-' and would be read as an option; refused as a {{mesos.agents}} value of pack check {id} ({})", packs.file("agents.toml").display())), "{message}");
        assert!(commands(refused).is_empty(), "{refused}");
        // The valid agent is still looked at (nothing listens: fail).
        let other =
            found.iter().find(|f| f["subject"] != refused_subject.as_str()).unwrap_or_else(|| panic!("{doc:#}"));
        assert_eq!(other["status"], "fail", "{other}");
    }
    let port = doc.findings("a.port");
    let fixed: Vec<&str> = port.iter().flat_map(commands).collect();
    assert_eq!(fixed, ["ssh 127.0.0.1 systemctl restart mesos-slave"]);
    assert_eq!(code, 2, "a fail beside the refusal's error");
}

fn dated(date: &str) -> Answer {
    Answer::Full {
        code: 200,
        headers: vec![("Date".into(), date.into()), ("Content-Type".into(), "application/json".into())],
        body: br#"{"version":"1.4.1","build_user":"root"}"#.to_vec(),
    }
}

#[test]
fn mesos_master_clock_skew_from_date_headers() {
    let m1 = FakeServer::start(vec![("/version", dated("Tue, 24 Nov 2026 10:00:00 GMT"))]);
    let m2 = FakeServer::start(vec![("/version", dated("Tue, 24 Nov 2026 10:00:01 GMT"))]);
    let m3 = FakeServer::start(vec![("/version", dated("Tue, 24 Nov 2026 10:00:09 GMT"))]);
    let packs = Packs::new();
    let with_password = m1.url_with_credentials("admin", "hunter2");
    let (doc, code) = packs.run("mesos.master-clock-skew", &["--mesos", &with_password, "--mesos", &m2.url()]);
    assert!(!doc.to_string().contains("hunter2"), "credentials must never be shown: {doc}");
    let auth = m1.requests()[0].header("authorization").map(String::from);
    assert!(auth.is_some_and(|a| a.starts_with("Basic ")), "the named credentials are used");
    assert_eq!(doc.status("mesos.master-clock-skew"), "pass", "{doc:#}");
    let reason = cli_support::check(&doc, "mesos.master-clock-skew")["reason"].as_str().unwrap();
    assert!(reason.contains("2 clocks agree within 2s"), "{reason}");
    assert_eq!(code, 0);
    assert!(m1.requested("/version") && m2.requested("/version"));

    let (doc, code) =
        packs.run("mesos.master-clock-skew", &["--mesos", &m1.url(), "--mesos", &m2.url(), "--mesos", &m3.url()]);
    assert_eq!(doc.status("mesos.master-clock-skew"), "warn", "{doc:#}");
    let f = &doc.findings("mesos.master-clock-skew")[0];
    assert_eq!(f["subject"], format!("{}/version and {}/version", m3.url(), m1.url()));
    let message = f["message"].as_str().unwrap();
    assert!(
        message.starts_with("clocks differ by at least 7.") || message.starts_with("clocks differ by at least 8."),
        "{message}"
    );
    assert!(evidence(f).contains("Date Tue, 24 Nov 2026 10:00:09 GMT"), "{f}");
    assert_eq!(commands(f), ["ssh 127.0.0.1 chronyc tracking"]);
    assert_eq!(code, 1);
}

#[test]
fn http_status_and_json_pointers_pass_and_fire() {
    let state = FakeServer::start(vec![
        ("/state", Answer::json(r#"{"activated_slaves": 3, "flags": {"cluster": "prod"}, "roles": ["web"]}"#)),
        ("/down", Answer::status(503, "no leader")),
    ]);
    let packs = Packs::new();
    let json = |pointer: &str, test: &str| format!("[[check.http.json]]\npointer = \"{pointer}\"\n{test}\n");
    let remedy = "[[check.remedy]]\ncommand = \"curl -s {target}\"\nrisk = \"safe\"";
    packs.write(
        "http.toml",
        &(check(
            "h.ok",
            "fail",
            &format!(
                "[check.http]\nurl = \"{}/state\"\n{}{}{}{remedy}",
                state.url(),
                json("/activated_slaves", "min = 3"),
                json("/flags/cluster", "equals = \"prod\""),
                json("/roles", "contains = \"web\"")
            ),
        ) + &check(
            "h.cluster",
            "fail",
            &format!(
                "[check.http]\nurl = \"{}/state\"\n{}{remedy}",
                state.url(),
                json("/flags/cluster", "equals = \"test\"")
            ),
        ) + &check(
            "h.down",
            "warn",
            &format!("[check.http]\nurl = \"{}/down\"\nstatus = 200\n{remedy}", state.url()),
        )),
    );
    let (doc, code) = packs.run("h.", &[]);
    assert_eq!(doc.status("h.ok"), "pass", "{doc:#}");
    let f = &doc.findings("h.cluster")[0];
    assert_eq!(
        (f["status"].as_str(), f["message"].as_str()),
        (Some("fail"), Some("/flags/cluster is \"prod\"; expected \"test\""))
    );
    assert_eq!(evidence(f), "/flags/cluster = \"prod\"");
    assert_eq!(commands(f), [format!("curl -s {}/state", state.url())]);
    let f = &doc.findings("h.down")[0];
    assert_eq!((f["status"].as_str(), f["message"].as_str()), (Some("warn"), Some("answered HTTP 503; expected 200")));
    assert_eq!(code, 2);
}

#[test]
fn commands_measure_their_output_and_check_exit_codes() {
    let packs = Packs::new();
    let measure = |id: &str, max: i32| {
        check(
            id,
            "warn",
            &format!(
                "[check.command]\nargv = [\"sh\", \"-c\", \"echo used 42%\"]\nmatch = '(\\d+)%'\nmax = {max}\n[[check.remedy]]\ncommand = \"true\"\nrisk = \"safe\""
            ),
        )
    };
    packs.write(
        "cmd.toml",
        &(measure("c.fits", 50)
            + &measure("c.over", 40)
            + &check("c.exit", "fail", "[check.command]\nargv = [\"false\"]\n")
            + &check(
                "c.broken",
                "warn",
                "[check.command]\nargv = [\"sh\", \"-c\", \"echo oops >&2; exit 1\"]\nmatch = '(\\d+)%'\nmax = 1\n",
            )),
    );
    let (doc, _) = packs.run("c.", &[]);
    assert_eq!(doc.status("c.fits"), "pass");
    assert_eq!(cli_support::check(&doc, "c.fits")["reason"], "sh -c 'echo used 42%': 42%");
    let f = &doc.findings("c.over")[0];
    assert_eq!((f["status"].as_str(), f["message"].as_str()), (Some("warn"), Some("42 is above the maximum 40 (42%)")));
    assert_eq!(evidence(f), "the output: 42%");
    assert_eq!(commands(f), ["true"]);
    let f = &doc.findings("c.exit")[0];
    assert_eq!((f["status"].as_str(), f["message"].as_str()), (Some("fail"), Some("exited 1; expected 0")));
    let f = &doc.findings("c.broken")[0];
    assert_eq!(f["status"], "error", "a measurement that cannot be taken is an error, never a pass");
    assert!(evidence(f).contains("errors: oops"), "{f}");
}

/// The shipped df check, pointed at a temporary work directory.
fn agent_disk_pack(work_dir: &Path, flag_file: &Path, max: i32) -> String {
    let shipped =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("checks/packs/mesos.toml")).unwrap();
    let agent_disk = &shipped[..shipped.find("[[check]]\nid = \"mesos.master-clock-skew\"").unwrap()];
    agent_disk
        .replace("/etc/mesos-slave/work_dir", flag_file.to_str().unwrap())
        .replace("/var/lib/mesos", work_dir.to_str().unwrap())
        .replace("max = 90", &format!("max = {max}"))
}

#[test]
fn mesos_agent_disk_runs_df_on_the_work_directory() {
    let node = tempfile::tempdir().unwrap();
    let work_dir = node.path().join("mesos-work");
    std::fs::create_dir(&work_dir).unwrap();
    let flag_file = node.path().join("work_dir");
    std::fs::write(&flag_file, format!("{}\n", work_dir.display())).unwrap();

    let packs = Packs::new();
    packs.write("mesos.toml", &agent_disk_pack(&work_dir, &flag_file, 100));
    let (doc, code) = packs.run("mesos.agent-disk", &[]);
    assert_eq!(doc.status("mesos.agent-disk"), "pass", "{doc:#}");
    assert_eq!(code, 0);

    packs.write("mesos.toml", &agent_disk_pack(&work_dir, &flag_file, -1));
    let (doc, code) = packs.run("mesos.agent-disk", &[]);
    let f = &doc.findings("mesos.agent-disk")[0];
    assert_eq!(f["status"], "warn", "{doc:#}");
    assert!(f["message"].as_str().unwrap().contains("is above the maximum -1"), "{f}");
    assert!(evidence(f).starts_with("the output: "), "{f}");
    assert_eq!(f["remediation"][0]["risk"], "safe");
    assert!(commands(f)[0].starts_with("du -xh --max-depth=4"), "{f}");
    assert_eq!(code, 1);

    // A work directory the flag file names but that is gone: df cannot look.
    std::fs::write(&flag_file, format!("{}\n", node.path().join("gone").display())).unwrap();
    let (doc, _) = packs.run("mesos.agent-disk", &[]);
    assert_eq!(doc.status("mesos.agent-disk"), "error", "{doc:#}");

    // Not an agent (no flag file, no work directory): the check skips.
    let (doc, _) = Packs::new().run("mesos.agent-disk", &[]);
    let reason = cli_support::check(&doc, "mesos.agent-disk")["reason"].as_str().unwrap().to_string();
    assert!(
        Path::new("/var/lib/mesos").exists()
            || Path::new("/etc/mesos-slave/work_dir").exists()
            || reason.contains("none of"),
        "{reason}"
    );
    // Under --root no command runs.
    let (doc, _) = packs.run("mesos.agent-disk", &["--root", node.path().to_str().unwrap()]);
    assert_eq!(doc.status("mesos.agent-disk"), "skip");
}

#[test]
fn unit_files_under_root_are_judged_with_systemctl_root() {
    let root = tempfile::tempdir().unwrap();
    let units = root.path().join("usr/lib/systemd/system");
    let wants = root.path().join("etc/systemd/system/multi-user.target.wants");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::create_dir_all(&wants).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/systemd/mesos-slave.service");
    std::fs::copy(&fixture, units.join("mesos-slave.service")).unwrap();
    std::fs::copy(&fixture, units.join("mesos-master.service")).unwrap();
    std::os::unix::fs::symlink("/usr/lib/systemd/system/mesos-slave.service", wants.join("mesos-slave.service"))
        .unwrap();
    let is_enabled = |unit: &str| {
        let out = std::process::Command::new("systemctl")
            .arg(format!("--root={}", root.path().display()))
            .args(["is-enabled", unit])
            .output()
            .expect("systemctl is needed (Debian package systemd; scripts/test installs it)");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(
        (is_enabled("mesos-slave.service").as_str(), is_enabled("mesos-master.service").as_str()),
        ("enabled", "disabled")
    );

    let packs = Packs::new();
    let unit = |id: &str, name: &str| {
        check(
            id,
            "fail",
            &format!(
                "[check.unit]\nunit = \"{name}\"\nenabled = false\n[[check.remedy]]\ncommand = \"systemctl disable --now {{unit}}\"\nrisk = \"disruptive\""
            ),
        )
    };
    packs.write("units.toml", &(unit("u.slave", "mesos-slave.service") + &unit("u.master", "mesos-master.service")));
    let (doc, code) = packs.run("u.", &["--root", root.path().to_str().unwrap()]);
    assert_eq!(doc.status("u.master"), "pass", "{doc:#}");
    let f = &doc.findings("u.slave")[0];
    assert_eq!(
        (f["status"].as_str(), f["message"].as_str()),
        (Some("fail"), Some("it is enabled; it should not be enabled"))
    );
    assert_eq!(evidence(f), "UnitFileState=enabled");
    assert_eq!(commands(f), ["systemctl disable --now mesos-slave.service"]);
    assert_eq!(code, 2);
}

#[test]
fn files_under_root_exist_with_mode_and_content() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc/zookeeper/conf")).unwrap();
    let zoo_cfg = root.path().join("etc/zookeeper/conf/zoo.cfg");
    std::fs::write(&zoo_cfg, "tickTime=2000\n4lw.commands.whitelist=srvr,mntr\n").unwrap();
    std::fs::set_permissions(&zoo_cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let packs = Packs::new();
    let file = |id: &str, extra: &str| {
        check(
            id,
            "warn",
            &format!(
                "[check.file]\npath = \"/etc/zookeeper/conf/zoo.cfg\"\n{extra}\n[[check.remedy]]\ncommand = \"chmod 0640 {{path}}\"\nrisk = \"safe\""
            ),
        )
    };
    packs.write(
        "files.toml",
        &(file("f.ok", "mode = \"0644\"\ncontains = '^4lw\\.commands\\.whitelist=.*mntr'")
            + &file("f.mode", "mode = \"0640\"")
            + &file("f.content", "contains = '^autopurge'")
            + &check("f.gone", "fail", "[check.file]\npath = \"/etc/zookeeper/conf/gone.cfg\"")),
    );
    let (doc, _) = packs.run("f.", &["--root", root.path().to_str().unwrap()]);
    assert_eq!(doc.status("f.ok"), "pass", "{doc:#}");
    assert!(
        cli_support::check(&doc, "f.ok")["reason"].as_str().unwrap().contains("line: 4lw.commands.whitelist=srvr,mntr")
    );
    let f = &doc.findings("f.mode")[0];
    assert_eq!(f["message"], "its mode is 0644; it should be 0640");
    assert_eq!(f["subject"], "/etc/zookeeper/conf/zoo.cfg");
    assert_eq!(evidence(f), "mode 0644");
    assert_eq!(commands(f), ["chmod 0640 /etc/zookeeper/conf/zoo.cfg"]);
    assert_eq!(doc.findings("f.content")[0]["message"], "no line matches the expected pattern");
    assert_eq!(doc.findings("f.gone")[0]["message"], "it does not exist");
}

#[test]
fn processes_are_counted_on_the_live_node_only() {
    let mut sleeper = std::process::Command::new("sleep").arg("54321.5").spawn().unwrap();
    let packs = Packs::new();
    packs.write(
        "procs.toml",
        &(check("p.running", "fail", "[check.process]\nmatch = '^sleep 54321\\.5$'\nrunning = true\nmax = 1")
            + &check(
                "p.absent",
                "fail",
                "[check.process]\nmatch = '^no-such-daemon-here'\nrunning = true\n[[check.remedy]]\ncommand = \"systemctl start no-such-daemon\"\nrisk = \"disruptive\"",
            )),
    );
    let (doc, _) = packs.run("p.", &[]);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert_eq!(doc.status("p.running"), "pass", "{doc:#}");
    assert!(cli_support::check(&doc, "p.running")["reason"].as_str().unwrap().ends_with("1 running"));
    let f = &doc.findings("p.absent")[0];
    assert_eq!((f["status"].as_str(), f["message"].as_str()), (Some("fail"), Some("no such process runs")));
    assert_eq!(commands(f), ["systemctl start no-such-daemon"]);
    let image = tempfile::tempdir().unwrap();
    let (doc, _) = packs.run("p.", &["--root", image.path().to_str().unwrap()]);
    assert_eq!(doc.status("p.running"), "skip");
}

#[test]
fn plugins_follow_the_nagios_protocol_for_every_exit_code() {
    let packs = Packs::new();
    packs
        .plugin("check_ok", "echo 'OK - all good | load=0.1;1;2'; exit 0")
        .plugin("check_warn", "echo 'DISK WARNING - / is 91% full | /=91%;90;95'; echo 'long text line'; exit 1")
        .plugin("check_crit", "echo 'CRITICAL - master down'; exit 2")
        .plugin("check_unknown", "echo 'UNKNOWN - cannot parse'; exit 3")
        .plugin("check_odd", "echo 'weird'; exit 7")
        .plugin("check_signal", "kill -KILL $$");
    let (doc, code) = packs.run("check_*", &[]);
    assert_eq!(doc.status("check_ok"), "pass");
    assert_eq!(
        cli_support::check(&doc, "check_ok")["reason"],
        format!("{}: OK - all good", packs.file("check_ok").display())
    );
    let f = &doc.findings("check_warn")[0];
    assert_eq!((f["status"].as_str(), f["message"].as_str()), (Some("warn"), Some("DISK WARNING - / is 91% full")));
    assert_eq!(evidence(f), "long text line\nperfdata: /=91%;90;95");
    assert_eq!(doc.findings("check_crit")[0]["status"], "fail");
    assert_eq!(doc.findings("check_crit")[0]["message"], "CRITICAL - master down");
    assert_eq!(doc.findings("check_unknown")[0]["status"], "error");
    assert!(
        doc.findings("check_odd")[0]["message"].as_str().unwrap().contains("exited 7, outside the plugin protocol")
    );
    assert_eq!(doc.findings("check_signal")[0]["message"], "killed by signal 9");
    assert_eq!(code, 2);
}

#[test]
fn a_plugin_described_by_a_pack_gets_its_title_and_remediation() {
    let packs = Packs::new();
    packs.plugin("check_zk_node", "echo \"CRITICAL - $1 is down\"; exit 2");
    packs.write(
        "zk-plugin.toml",
        &check(
            "site.zk-node",
            "fail",
            "[check.plugin]\npath = \"check_zk_node\"\nargs = [\"{zk.servers.host}\"]\n[[check.remedy]]\ncommand = \"ssh {host} systemctl restart zookeeper\"\nrisk = \"disruptive\"",
        ),
    );
    let (doc, _) = packs.run("site.zk-node", &["--zk", "zk://zk-a.test:2181,zk-b.test:2181/marathon"]);
    let found = doc.findings("site.zk-node");
    assert_eq!(found.len(), 2, "{doc:#}");
    assert_eq!(found[1]["message"], "CRITICAL - zk-b.test is down");
    assert_eq!(commands(&found[1]), ["ssh zk-b.test systemctl restart zookeeper"]);
    let out = clusterdoc(packs.path()).arg("list").arg("--checks-dir").arg(packs.path()).output().unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("site.zk-node") && !listed.contains("check_zk_node "),
        "described, so not a bare plugin:\n{listed}"
    );
}

#[test]
fn a_plugin_that_hangs_is_killed_at_the_timeout() {
    let packs = Packs::new();
    packs.plugin("check_hang", "sleep 60 & sleep 60");
    let started = Instant::now();
    let (doc, code) = packs.run("check_hang", &["--timeout", "1s"]);
    let bound = Duration::from_secs(1) + cli_support::PAST_DEADLINE;
    assert!(started.elapsed() < bound, "took {:?}", started.elapsed());
    let f = &doc.findings("check_hang")[0];
    assert_eq!(f["status"], "error");
    assert!(f["message"].as_str().unwrap().contains("did not finish within --timeout"), "{f}");
    assert_eq!(code, 3);
}

#[test]
fn plugins_run_with_a_clean_environment() {
    let packs = Packs::new();
    packs.plugin("check_env", "echo \"ENV $(env | sort | tr '\\n' ' ')\"; exit 1");
    let mut cmd = clusterdoc(packs.path());
    cmd.env("CLUSTERDOC_TEST_SECRET", "hunter2").env("AWS_SECRET_ACCESS_KEY", "s3cr3t");
    let out =
        cmd.arg("--checks-dir").arg(packs.path()).args(["--only", "check_env", "--format", "json"]).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = doc.findings("check_env")[0]["message"].as_str().unwrap().to_string();
    assert!(message.contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), "{message}");
    assert!(!message.contains("hunter2") && !message.contains("s3cr3t") && !message.contains("HOME="), "{message}");
}

#[test]
fn a_later_pack_overrides_a_check_by_id() {
    let busy = four_letter_server(mntr(25));
    let packs = Packs::new();
    let shipped =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("checks/packs/zookeeper.toml")).unwrap();
    packs.write("zookeeper.toml", &shipped.replace("max = 10", "max = 50"));
    let zk = format!("zk://127.0.0.1:{busy}/marathon");
    let (doc, code) = packs.run("zk.outstanding-requests", &["--zk", &zk]);
    assert_eq!(doc.status("zk.outstanding-requests"), "pass", "{doc:#}");
    assert_eq!(code, 0);
    let out = clusterdoc(packs.path())
        .arg("list")
        .args(["--format", "json", "--checks-dir"])
        .arg(packs.path())
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = list["checks"].as_array().unwrap().iter().find(|c| c["id"] == "zk.outstanding-requests").unwrap();
    assert_eq!(entry["source"], packs.file("zookeeper.toml").display().to_string());
}

#[test]
fn malformed_packs_are_reported_with_file_and_line_and_the_rest_runs() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let packs = Packs::new();
    let good = check("g.open", "fail", &format!("[check.tcp]\naddress = \"{}\"", open.local_addr().unwrap()));
    packs.write("a-good.toml", &good);
    packs.write("b-syntax.toml", "[[check]]\nid = \"x\"\ntitle = \n");
    packs.write("c-regex.toml", &check("bad.regex", "warn", "[check.tcp]\naddress = \"h:1\"\nmatch = \"(\""));
    packs.write("d-taken.toml", &check("zk.quorum", "warn", "[check.tcp]\naddress = \"h:1\""));
    let (doc, code) = packs.run("g.,packs.load", &[]);
    assert_eq!(doc.status("g.open"), "pass", "{doc:#}");
    let problems = doc.findings("packs.load");
    let subjects: Vec<&str> = problems.iter().map(|p| p["subject"].as_str().unwrap()).collect();
    let at = |name: &str, line: u32| format!("{}:{line}", packs.file(name).display());
    assert_eq!(subjects, [at("b-syntax.toml", 3), at("c-regex.toml", 2), at("d-taken.toml", 2)]);
    assert!(problems.iter().all(|p| p["status"] == "error"));
    assert!(evidence(&problems[0]).contains("line 3: title ="), "{}", problems[0]);
    assert!(problems[1]["message"].as_str().unwrap().contains("tcp.match: not a regex"));
    assert!(problems[2]["message"].as_str().unwrap().contains("is a built-in check's"));
    assert_eq!(code, 3);

    // Every format shows it.
    for (format, needle) in
        [("human", "packs.load"), ("tap", "packs.load"), ("junit", "packs.load"), ("nagios", "packs.load")]
    {
        let out = clusterdoc(packs.path())
            .arg("--checks-dir")
            .arg(packs.path())
            .args(["--only", "g.,packs.load", "--format", format])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(needle) && text.contains("b-syntax.toml"), "{format}:\n{text}");
    }
    // `list` and `explain` show the problems too.
    let out = clusterdoc(packs.path()).arg("list").arg("--checks-dir").arg(packs.path()).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("packs.load"));
    let out =
        clusterdoc(packs.path()).args(["explain", "packs.load", "--checks-dir"]).arg(packs.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&at("b-syntax.toml", 3)), "{text}");
}

#[test]
fn list_shows_sources_and_explain_shows_the_pack_text() {
    let packs = Packs::new();
    packs.write("site.toml", &check("site.ntp", "warn", "[check.tcp]\naddress = \"127.0.0.1:123\""));
    packs.write("run.toml", &check("site.run", "warn", "[check.command]\nargv = [\"true\"]"));
    packs.plugin("check_bare", "exit 0");
    let out =
        clusterdoc(packs.path()).args(["list", "--format", "json", "--checks-dir"]).arg(packs.path()).output().unwrap();
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let source = |id: &str| {
        list["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("{id}"))["source"]
            .clone()
    };
    assert_eq!(source("hostname.case"), "built-in");
    assert_eq!(source("zk.outstanding-requests"), "built-in");
    assert_eq!(source("site.ntp"), packs.file("site.toml").display().to_string());
    assert_eq!(source("check_bare"), packs.file("check_bare").display().to_string());
    // What runs what its pack's owner wrote is marked (DESIGN C0).
    let acts = |id: &str| list["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap()["acts"].clone();
    assert_eq!(acts("site.run"), "runs-command");
    assert_eq!(acts("check_bare"), "runs-plugin");
    assert_eq!(acts("zk.outstanding-requests"), "sends-data", "it sends mntr");
    assert_eq!(acts("site.ntp"), Value::Null);
    assert_eq!(acts("hostname.case"), Value::Null);
    let out = clusterdoc(packs.path()).arg("list").arg("--checks-dir").arg(packs.path()).output().unwrap();
    let human = String::from_utf8_lossy(&out.stdout);
    let line = human.lines().find(|l| l.starts_with("site.ntp")).unwrap();
    assert!(line.ends_with(&format!("from {}", packs.file("site.toml").display())), "{line}");
    let line = human.lines().find(|l| l.starts_with("site.run")).unwrap();
    assert!(line.ends_with(&format!("from {}  (runs a command)", packs.file("run.toml").display())), "{line}");
    let line = human.lines().find(|l| l.starts_with("check_bare")).unwrap();
    assert!(line.ends_with("(runs a plugin)"), "{line}");

    let out =
        clusterdoc(packs.path()).args(["explain", "site.ntp", "--checks-dir"]).arg(packs.path()).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for part in [
        "site.ntp - Test site.ntp",
        "What site.ntp looks at.",
        "Why site.ntp matters.",
        "How to fix site.ntp.",
        "This check prints no commands.",
    ] {
        assert!(text.contains(part), "{part:?} in\n{text}");
    }
    assert!(text.contains(&format!("declared in {}", packs.file("site.toml").display())), "{text}");
    let out = clusterdoc(packs.path()).args(["explain", "zk.outstanding-requests"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("4lw.commands.whitelist"));
}

#[test]
fn replaying_a_snapshot_never_runs_plugins() {
    let packs = Packs::new();
    let marker = packs.file("runs.log");
    packs.plugin("check_once", &format!("echo ran >> {}; echo 'WARNING - recorded'; exit 1", marker.display()));
    let out = clusterdoc(packs.path())
        .args(["collect", "--only", "check_once", "--checks-dir"])
        .arg(packs.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let snapshot = packs.file("snapshot.json");
    std::fs::write(&snapshot, &out.stdout).unwrap();
    assert_eq!(std::fs::read_to_string(&marker).unwrap().lines().count(), 1);
    packs.plugin("check_once", &format!("echo ran >> {}; echo 'CRITICAL - changed'; exit 2", marker.display()));
    let (doc, code) = packs.run("check_once", &["--from", snapshot.to_str().unwrap()]);
    assert_eq!(doc.findings("check_once")[0]["message"], "WARNING - recorded");
    assert_eq!(code, 1);
    assert_eq!(std::fs::read_to_string(&marker).unwrap().lines().count(), 1, "the plugin ran during the replay");
}
