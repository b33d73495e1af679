//! `clusterdoc serve` (DESIGN.md C3): the checks as a service. `/metrics`
//! for Prometheus, `/healthz` for load balancers and schedulers, `/report`
//! in every format, `/snapshot` (this node's facts, as `collect --node`
//! writes them) for a fleet that pulls instead of using ssh. The checks run
//! at most once an interval, whoever asks and however often ([`flight`]);
//! the server only answers reads, and nothing it does changes the cluster.
//!
//! It sits at the application's level, beside `app`: the server is a part
//! of the world too, so it stays out of `facts`, `runner` and `report`,
//! which it uses.

mod access;
mod flight;
mod listener;
mod routes;
mod tls;

pub use access::Access;
pub use routes::read_request;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Bytes;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::cli::ServeArgs;
use crate::facts::fleet::Tally;
use crate::plan::Plan;
use crate::report::Report;
use crate::runner::{self, MachinePacks};
use crate::target::NodeAsks;
use flight::{Flight, Produce};
use routes::Served;

/// How long past `--deadline` a run may go before it counts as failed:
/// the runner stops at the deadline, so only a probe stuck in the kernel
/// gets this far.
const RUN_GRACE: Duration = Duration::from_secs(2);

/// Serves until SIGTERM or SIGINT. The error is a one-line reason for the
/// user (bad flags, a secrets file refused, the address taken).
pub fn main(args: &ServeArgs) -> Result<(), String> {
    let access = Access::new(
        args.listen,
        args.token_file.as_deref(),
        args.basic_auth_file.as_deref(),
        args.allow_unauthenticated,
    )?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
        _ => None,
    };
    let plan = Plan::new(&args.run)?;
    if !plan.config.nodes.is_empty() {
        return Err("serve answers for this node and the cluster it names; it serves no fleet (--nodes)".into());
    }
    if !access.is_open() && tls.is_none() && !args.listen.ip().is_loopback() {
        eprintln!("clusterdoc serve: without --tls-cert the credentials and the reports cross the network in clear");
    }
    // Served reports are read by programs and browsers, never a terminal.
    colored::control::set_override(false);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let served = rt.block_on(serve(args, Arc::new(plan), access, tls));
    // A run stuck in a blocking call must not keep the process alive.
    rt.shutdown_background();
    served
}

async fn serve(
    args: &ServeArgs,
    plan: Arc<Plan>,
    access: Access,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> Result<(), String> {
    let listener =
        TcpListener::bind(args.listen).await.map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let (stop, stopping) = watch::channel(false);
    let mut signals = Signals::register()?;
    tokio::spawn(async move {
        let name = signals.next().await;
        eprintln!("clusterdoc serve: {name}: stopping");
        stop.send_replace(true);
    });
    let limit = plan.config.deadline + RUN_GRACE;
    let served = Arc::new(Served {
        checks: Flight::new("checks", args.interval, limit, judge(plan.clone()), describe),
        snapshot: Flight::new("snapshot", args.interval, limit, node_snapshot(plan.clone()), |bytes| {
            format!("{} bytes", bytes.len())
        }),
        access,
        detail: args.run.detail(),
        stopping: stopping.clone(),
    });
    eprintln!(
        "clusterdoc serve: listening on {}://{local} (/metrics, /healthz, /report, /snapshot); the checks run at most once every {}",
        if tls.is_some() { "https" } else { "http" },
        humantime::format_duration(args.interval)
    );
    listener::serve(listener, tls, served, args.max_connections, stopping).await;
    eprintln!("clusterdoc serve: stopped");
    Ok(())
}

/// The signals that stop the server.
struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn register() -> Result<Signals, String> {
        let handle = |kind| signal(kind).map_err(|e| format!("cannot handle signals: {e}"));
        Ok(Signals { terminate: handle(SignalKind::terminate())?, interrupt: handle(SignalKind::interrupt())? })
    }

    /// The name of the next one that arrives.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}

/// A run of the checks.
fn judge(plan: Arc<Plan>) -> Produce<Report> {
    Box::new(move || {
        let plan = plan.clone();
        Box::pin(on_own_thread(
            move || async move { plan.judge(&Tally::default()).await.map_err(|e| format!("{e:#}")) },
        ))
    })
}

/// A run of `collect --node`'s gathering, as the JSON it writes.
fn node_snapshot(plan: Arc<Plan>) -> Produce<Bytes> {
    Box::new(move || {
        let plan = plan.clone();
        Box::pin(on_own_thread(move || async move {
            let snapshot = runner::node_snapshot(
                &plan.config,
                &plan.selection,
                NodeAsks { pack_checks: MachinePacks::of(&plan.selection).on_nodes, ..NodeAsks::default() },
            )
            .await;
            snapshot.to_json().map(Bytes::from).map_err(|e| format!("cannot write the snapshot: {e:#}"))
        }))
    })
}

/// Runs the future `work` makes to its end on a blocking thread of the
/// runtime. The runner's futures are not `Send` to the compiler (closures
/// over borrowed facts in the gatherer), so they cannot be spawned as tasks;
/// `app` blocks on them, and so does this thread.
async fn on_own_thread<T, F>(work: impl FnOnce() -> F + Send + 'static) -> Result<T, String>
where
    T: Send + 'static,
    F: Future<Output = Result<T, String>>,
{
    let runtime = tokio::runtime::Handle::current();
    match tokio::task::spawn_blocking(move || runtime.block_on(work())).await {
        Ok(outcome) => outcome,
        Err(crashed) => Err(format!("the run crashed: {crashed}")),
    }
}

/// The log line's words for a report: `fail (9 pass, 0 warn, 1 fail, 3 skip, 0 error)`.
fn describe(report: &Report) -> String {
    let s = &report.summary;
    format!("{} ({} pass, {} warn, {} fail, {} skip, {} error)", report.status, s.pass, s.warn, s.fail, s.skip, s.error)
}
