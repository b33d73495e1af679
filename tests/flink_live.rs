//! A real Flink 1.20.5 session cluster on 127.0.0.1 (JobManager and
//! TaskManager from PyPI's apache-flink-libraries jars, which scripts/test
//! caches in CLUSTERDOC_FLINK_LIB) judged by the real binary:
//! flink.taskmanager-orphans passes while the JobManager runs and, once the
//! JobManager is killed, finds the TaskManager process that lingers (well
//! under a minute with the short heartbeat and registration timeouts set
//! here; 5 minutes with Flink's defaults). Mesos is the real 1.11.0 master's state,
//! served on loopback, with no Flink framework in it.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::cli::{ReadReport, Run};
use crate::support::http::{Answer, FakeServer, fixture_bytes};

/// Waiting longer than this for the cluster to come up means it will not
/// (it takes 10-30 s on 2 loaded cores).
const START_LIMIT: Duration = Duration::from_secs(180);

/// The cached jars, or a failure saying how to get them.
fn flink_lib() -> PathBuf {
    let lib = std::env::var_os("CLUSTERDOC_FLINK_LIB")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/clusterdoc-test/flink-1.20.5/lib")))
        .expect("HOME or CLUSTERDOC_FLINK_LIB");
    let has_dist = std::fs::read_dir(&lib)
        .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("flink-dist-")))
        .unwrap_or(false);
    assert!(
        has_dist,
        "this test needs Flink's jars in {} (flink-dist and log4j from `pip download apache-flink-libraries==1.20.5`); \
         scripts/test fetches and caches them",
        lib.display()
    );
    lib
}

/// Polls `done` until it holds; past `limit` the test fails saying `why`.
fn wait_until(limit: Duration, done: impl Fn() -> bool, why: impl Fn() -> String) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "Flink did not come up in {limit:?}: {}", why());
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The body of `GET path` from 127.0.0.1:port, if it answers 200 in time.
fn get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_string())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A Flink JVM, killed (and waited for) when dropped, also when a test fails.
struct Jvm(Child);

impl Drop for Jvm {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The JobManager and TaskManager of one session cluster, in a scratch directory.
struct Cluster {
    jobmanager: Option<Jvm>,
    taskmanager: Jvm,
    rest: String,
    rest_port: u16,
    _work: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Cluster {
        let lib = flink_lib();
        let work = tempfile::tempdir().unwrap();
        let (rpc, rest) = (free_port(), free_port());
        let conf = work.path().join("conf");
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::write(conf.join("config.yaml"), config(rpc, rest)).unwrap();
        std::fs::write(work.path().join("log4j.properties"), LOG4J).unwrap();
        let rpc_settings = ["-D".to_string(), format!("jobmanager.rpc.port={rpc}")];
        let jobmanager = jvm(&lib, work.path(), "jm", JOBMANAGER, &["-Xmx400m", "-Xms400m"], &rpc_settings);
        // A TaskManager that reaches no JobManager at its first try pauses
        // before the next: start it once the JobManager answers.
        wait_until(START_LIMIT, || get(rest, "/config").is_some(), || "the JobManager never answered /config".into());
        let taskmanager_settings =
            [&["-D".to_string(), "jobmanager.rpc.address=127.0.0.1".to_string()][..], &rpc_settings].concat();
        let taskmanager = jvm(
            &lib,
            work.path(),
            "tm",
            TASKMANAGER,
            &["-Xmx128m", "-Xms128m", "-XX:MaxDirectMemorySize=160m"],
            &taskmanager_settings,
        );
        let cluster = Cluster {
            jobmanager: Some(jobmanager),
            taskmanager,
            rest: format!("http://127.0.0.1:{rest}"),
            rest_port: rest,
            _work: work,
        };
        cluster.wait_for_a_registered_taskmanager();
        cluster
    }

    fn wait_for_a_registered_taskmanager(&self) {
        let registered = || {
            get(self.rest_port, "/overview")
                .and_then(|body| serde_json::from_str::<serde_json::Value>(&body).ok())
                .is_some_and(|o| o["taskmanagers"].as_u64().unwrap_or(0) >= 1)
        };
        wait_until(START_LIMIT, registered, || format!("no TaskManager registered:\n{}", self.logs()));
    }

    /// The end of each JVM's log, for a failure message (the directory goes with the test).
    fn logs(&self) -> String {
        let tail = |role: &str| {
            let log = std::fs::read_to_string(self._work.path().join(format!("{role}.log"))).unwrap_or_default();
            let problems: Vec<&str> = log
                .lines()
                .filter(|l| {
                    l.contains(" WARN ") || l.contains(" ERROR ") || l.contains("esourceManager") || l.contains("egist")
                })
                .collect();
            format!("--- {role}.log, warnings and errors\n{}", problems[problems.len().saturating_sub(40)..].join("\n"))
        };
        format!("{}\n{}", tail("jm"), tail("tm"))
    }

    fn kill_jobmanager(&mut self) {
        drop(self.jobmanager.take());
    }
}

const JOBMANAGER: &str = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
const TASKMANAGER: &str = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";

/// `java` as Flink's own scripts start it on Java 17, without the scripts
/// (the PyPI package has none): the JVM is the child, so killing it kills Flink.
fn jvm(lib: &Path, work: &Path, role: &str, class: &str, memory: &[&str], settings: &[String]) -> Jvm {
    let tmp = work.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let child = Command::new("java")
        .args(memory)
        .arg("-XX:MaxMetaspaceSize=192m")
        .args(ADD_OPENS.split_whitespace())
        .arg(format!("-Djava.io.tmpdir={}", tmp.display()))
        .arg(format!("-Dlog.file={}/{role}.log", work.display()))
        .arg(format!("-Dlog4j.configurationFile=file:{}/log4j.properties", work.display()))
        .arg("-cp")
        .arg(format!("{}/*", lib.display()))
        .arg(class)
        .arg("--configDir")
        .arg(work.join("conf"))
        .args(["-D".to_string(), format!("io.tmp.dirs={}", tmp.display())])
        .args(settings)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("this test needs java (Debian default-jre-headless): {e}"));
    Jvm(child)
}

/// The `--add-opens` list of `env.java.opts.all` in flink-dist's default config.yaml.
const ADD_OPENS: &str = "--add-exports=java.base/sun.net.util=ALL-UNNAMED \
    --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED \
    --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED \
    --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
    --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
    --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED \
    --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED";

/// Each JVM logs to its `-Dlog.file`.
const LOG4J: &str = "rootLogger.level = INFO\nrootLogger.appenderRef.file.ref = F\nappender.file.name = F\n\
    appender.file.type = FILE\nappender.file.fileName = ${sys:log.file}\nappender.file.layout.type = PatternLayout\n\
    appender.file.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-30c{1} - %m%n\n";

/// A small session cluster on loopback. A TaskManagerRunner started without
/// Flink's scripts needs every memory size set; the short heartbeat and
/// registration timeouts make a TaskManager without JobManager exit after
/// well under a minute instead of 5 minutes, and a failed registration
/// attempt is retried after 1 s instead of 10.
fn config(rpc: u16, rest: u16) -> String {
    format!(
        "jobmanager.rpc.address: 127.0.0.1\njobmanager.rpc.port: {rpc}\njobmanager.bind-host: 127.0.0.1\n\
         jobmanager.memory.process.size: 600m\nrest.address: 127.0.0.1\nrest.bind-address: 127.0.0.1\nrest.port: {rest}\n\
         blob.server.port: 0\ntaskmanager.bind-host: 127.0.0.1\ntaskmanager.host: 127.0.0.1\ntaskmanager.rpc.port: 0\n\
         taskmanager.data.port: 0\ntaskmanager.numberOfTaskSlots: 2\ntaskmanager.cpu.cores: 2.0\n\
         taskmanager.memory.framework.heap.size: 64m\ntaskmanager.memory.framework.off-heap.size: 64m\n\
         taskmanager.memory.task.heap.size: 64m\ntaskmanager.memory.task.off-heap.size: 0m\n\
         taskmanager.memory.network.min: 32m\ntaskmanager.memory.network.max: 32m\ntaskmanager.memory.managed.size: 32m\n\
         taskmanager.memory.jvm-metaspace.size: 128m\ntaskmanager.memory.jvm-overhead.min: 64m\n\
         taskmanager.memory.jvm-overhead.max: 64m\nheartbeat.interval: 1000\nheartbeat.timeout: 5000\n\
         taskmanager.registration.timeout: 30 s\ncluster.registration.error-delay: 1000\n"
    )
}

/// The real Mesos 1.11.0 master's state (no framework registered), served
/// as the leading master.
fn mesos_master() -> FakeServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let state = String::from_utf8(fixture_bytes("mesos-real/1.11.0-master_state.json")).unwrap();
    FakeServer::start_on(
        listener,
        vec![
            ("/master/state", Answer::json(state.replace("127.0.0.1:15051", &address))),
            ("/master/health", Answer::status(200, "")),
        ],
    )
}

fn orphans_check(cluster: &Cluster, mesos: &FakeServer) -> Run {
    let cwd = tempfile::tempdir().unwrap();
    let mut command = crate::support::cli::plain(cwd.path());
    command.args(["check", "--only", "flink.taskmanager-orphans", "--format", "json", "--timeout", "2s"]);
    command.args(["--flink", &cluster.rest, "--mesos", &mesos.url()]);
    Run::of_command(&mut command)
}

#[test]
fn a_taskmanager_outliving_its_killed_jobmanager_is_found() {
    let mesos = mesos_master();
    let mut cluster = Cluster::start();
    let taskmanager_pid = cluster.taskmanager.0.id();

    let alive = orphans_check(&cluster, &mesos);
    let check = alive.typed_check("flink.taskmanager-orphans");
    assert_eq!(check.status.as_str(), "pass", "{check:#?}");
    assert!(
        check
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("1 Flink TaskManager and 1 JobManager processes on this node"),
        "{check:#?}"
    );

    cluster.kill_jobmanager();
    let orphaned = orphans_check(&cluster, &mesos);
    let check = orphaned.typed_check("flink.taskmanager-orphans");
    assert_eq!(check.status.as_str(), "warn", "{check:#?}");
    let finding = &check.findings[0];
    assert_eq!(finding.subject, "Flink TaskManagers on this node");
    assert!(finding.message.starts_with("1 TaskManager process runs without a JobManager"), "{finding:#?}");
    let evidence = finding.evidence.join("\n");
    assert!(evidence.contains(&format!("pid {taskmanager_pid} (java): its JobManager is 127.0.0.1:")), "{evidence}");
    assert!(evidence.contains("no Flink framework in Mesos runs at 127.0.0.1"), "{evidence}");
    assert_eq!(finding.remediation[0].command, format!("kill {taskmanager_pid}"));
    assert_eq!(orphaned.code, 1, "a warning exits 1");
}
