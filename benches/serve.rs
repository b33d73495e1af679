//! Requests per second of `clusterdoc serve` answering from its cache
//! (`/metrics`, `/healthz`), next to node_exporter's textfile collector
//! serving the same series (Debian `prometheus-node-exporter`; goss, whose
//! `goss serve` is the closer anchor, is in neither Debian's nor PyPI's
//! registry). Both servers run as child processes on loopback; one client
//! (reqwest, keep-alive connections) keeps CONCURRENCY requests in flight
//! for DURATION against each, after a warm-up. Besides the rate, each
//! server's own CPU time over the measurement (from /proc) gives requests
//! per CPU-second: on a 2-core machine the client takes its share too.
//!
//! Not a criterion bench: `cargo bench --bench serve` prints a table.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CONCURRENCY: usize = 32;
const DURATION: Duration = Duration::from_secs(10);
const WARM_UP: Duration = Duration::from_secs(2);
const NODE_EXPORTER: &str = "/usr/bin/prometheus-node-exporter";
const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/flink-on-mesos-incident.json");

/// A server under test; killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// User + system CPU time of the server so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).expect("the server's stat");
        // Fields after the command name (which is in parentheses): utime is the 14th field overall.
        let after = &stat[stat.rfind(')').expect("a stat line") + 2..];
        let fields: Vec<&str> = after.split(' ').collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        Duration::from_millis(ticks * 1000 / hz)
    }

    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn clusterdoc(dir: &Path) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_clusterdoc"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--interval", "1h", "--from", SNAPSHOT])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start clusterdoc serve");
    Server { child, base: format!("http://127.0.0.1:{port}") }
}

/// node_exporter with only its textfile collector, reading what
/// `clusterdoc check --format prometheus` writes (the same series).
fn node_exporter(dir: &Path) -> Option<Server> {
    if !Path::new(NODE_EXPORTER).exists() {
        eprintln!("serve: {NODE_EXPORTER} is missing (apt-get install prometheus-node-exporter): no comparison");
        return None;
    }
    let textfiles = dir.join("textfile");
    std::fs::create_dir_all(&textfiles).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_clusterdoc"))
        .args(["check", "--format", "prometheus", "--from", SNAPSHOT])
        .current_dir(dir)
        .output()
        .expect("clusterdoc check");
    std::fs::write(textfiles.join("clusterdoc.prom"), out.stdout).unwrap();
    let port = free_port();
    let child = Command::new(NODE_EXPORTER)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(["--collector.disable-defaults", "--collector.textfile", "--web.disable-exporter-metrics"])
        .arg(format!("--collector.textfile.directory={}", textfiles.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start node_exporter");
    Some(Server { child, base: format!("http://127.0.0.1:{port}") })
}

/// The outcome of one load.
struct Load {
    per_second: f64,
    per_cpu_second: f64,
    p50: Duration,
    p99: Duration,
    body_bytes: usize,
    rss_mib: f64,
}

/// A served answer: 200, or the 503 of `/healthz` for a failing verdict
/// (the benchmark's snapshot is the incident's).
fn answered(status: reqwest::StatusCode) -> bool {
    status.is_success() || status == reqwest::StatusCode::SERVICE_UNAVAILABLE
}

async fn wait_until_up(client: &reqwest::Client, url: &str) -> usize {
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(url).send().await
            && answered(response.status())
        {
            return response.bytes().await.map(|b| b.len()).unwrap_or(0);
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{url} does not answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn hammer(client: &reqwest::Client, url: &str, for_how_long: Duration) -> Vec<Duration> {
    let until = Instant::now() + for_how_long;
    let workers = (0..CONCURRENCY).map(|_| async move {
        let mut latencies = Vec::new();
        while Instant::now() < until {
            let sent = Instant::now();
            let response = client.get(url).send().await.expect("a response");
            assert!(answered(response.status()), "{url}: {}", response.status());
            response.bytes().await.expect("a body");
            latencies.push(sent.elapsed());
        }
        latencies
    });
    futures::future::join_all(workers).await.into_iter().flatten().collect()
}

async fn load(client: &reqwest::Client, server: &Server, path: &str) -> Load {
    let url = format!("{}{path}", server.base);
    let body_bytes = wait_until_up(client, &url).await;
    hammer(client, &url, WARM_UP).await;
    let cpu_before = server.cpu();
    let started = Instant::now();
    let mut latencies = hammer(client, &url, DURATION).await;
    let wall = started.elapsed();
    let cpu = server.cpu().saturating_sub(cpu_before);
    latencies.sort();
    let requests = latencies.len() as u64;
    Load {
        per_second: requests as f64 / wall.as_secs_f64(),
        per_cpu_second: requests as f64 / cpu.as_secs_f64().max(0.001),
        p50: latencies[latencies.len() / 2],
        p99: latencies[latencies.len() * 99 / 100],
        body_bytes,
        rss_mib: server.rss_mib(),
    }
}

fn main() {
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "serve".contains(f.as_str())) {
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let client = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(CONCURRENCY).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ours = clusterdoc(dir.path());
    let theirs = node_exporter(dir.path());
    let mut rows = Vec::new();
    for (name, server, path) in
        [("clusterdoc serve", Some(&ours), "/metrics"), ("clusterdoc serve", Some(&ours), "/healthz")]
            .into_iter()
            .chain([("node_exporter textfile", theirs.as_ref(), "/metrics")])
    {
        let Some(server) = server else { continue };
        let measured = runtime.block_on(load(&client, server, path));
        rows.push((name, path, measured));
    }
    println!(
        "\n{CONCURRENCY} requests in flight, keep-alive, {} s each after {} s of warm-up\n",
        DURATION.as_secs(),
        WARM_UP.as_secs()
    );
    println!(
        "| server | path | requests/s | requests per server CPU-s | p50 | p99 | body | server RSS |\n|---|---|---|---|---|---|---|---|"
    );
    for (name, path, m) in rows {
        println!(
            "| {name} | `{path}` | {:.0} | {:.0} | {:.2} ms | {:.2} ms | {} B | {:.1} MiB |",
            m.per_second,
            m.per_cpu_second,
            m.p50.as_secs_f64() * 1000.0,
            m.p99.as_secs_f64() * 1000.0,
            m.body_bytes,
            m.rss_mib
        );
    }
}
