//! Single flight: one run per interval however many requests arrive. The
//! first request after the interval starts a run; every request that comes
//! while it goes waits for that same run (or gives up and takes the latest
//! result, saying how old it is). The run belongs to no request: a client
//! that hangs up does not cancel it.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use tokio::sync::watch;
use tokio::time::Instant;

/// What a run makes, or why it made nothing.
pub type Produce<T> = Box<dyn Fn() -> BoxFuture<'static, Result<T, String>> + Send + Sync>;

/// A result and when its run ended.
#[derive(Debug)]
pub struct Done<T> {
    pub value: T,
    pub ended: Instant,
    pub ended_at: SystemTime,
}

impl<T> Done<T> {
    pub fn age(&self) -> Duration {
        self.ended.elapsed()
    }
}

/// What a request gets.
pub struct Reply<T> {
    /// The latest result, or why there is none yet.
    pub latest: Result<Arc<Done<T>>, String>,
    /// The latest result is older than the interval: the run started for
    /// this request has not ended in the time the request gave it, or it
    /// failed.
    pub stale: bool,
    /// Runs that gave no result so far.
    pub errors: u64,
}

/// Runs of one kind (the checks, the node snapshot), at most one at a time
/// and one an interval.
pub struct Flight<T> {
    /// What the runs are, for the log line: `checks`, `snapshot`.
    what: &'static str,
    interval: Duration,
    /// A run still going after this has failed (its blocking work may go
    /// on in the background; the server does not wait for it).
    limit: Duration,
    produce: Produce<T>,
    /// The log line's text for a result.
    describe: fn(&T) -> String,
    state: Mutex<State<T>>,
    /// Bumped each time a run ends.
    ended: watch::Sender<u64>,
}

struct State<T> {
    latest: Option<Arc<Done<T>>>,
    /// When the last run ended, whether it gave a result or not.
    last_end: Option<Instant>,
    /// When the run that goes on started.
    running_since: Option<Instant>,
    last_error: Option<String>,
    runs: u64,
    errors: u64,
}

impl<T: Send + Sync + 'static> Flight<T> {
    pub fn new(
        what: &'static str,
        interval: Duration,
        limit: Duration,
        produce: Produce<T>,
        describe: fn(&T) -> String,
    ) -> Arc<Self> {
        Arc::new(Flight {
            what,
            interval,
            limit,
            produce,
            describe,
            state: Mutex::new(State {
                latest: None,
                last_end: None,
                running_since: None,
                last_error: None,
                runs: 0,
                errors: 0,
            }),
            ended: watch::channel(0).0,
        })
    }

    /// The result of a run that ended less than an interval ago; else the
    /// result of the run this starts (or joins), as soon as it ends or
    /// `give_up` does, whichever is first.
    pub async fn get(self: &Arc<Self>, give_up: impl Future<Output = ()>) -> Reply<T> {
        let mut ended = {
            let mut state = self.lock();
            if state.last_end.is_some_and(|end| end.elapsed() < self.interval) {
                return self.reply(&state);
            }
            // Subscribed under the lock: the end of the run this request
            // waits for cannot slip by unseen.
            let ended = self.ended.subscribe();
            if state.running_since.is_none() {
                state.running_since = Some(Instant::now());
                tokio::spawn(self.clone().run());
            }
            ended
        };
        tokio::select! {
            _ = ended.changed() => {}
            () = give_up => {}
        }
        self.reply(&self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic never happens under this lock; should one, its state is
        // still whole (every update is a single assignment).
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn reply(&self, state: &State<T>) -> Reply<T> {
        let latest = match (&state.latest, &state.running_since, &state.last_error) {
            (Some(done), _, _) => Ok(done.clone()),
            (None, Some(since), _) => Err(format!(
                "the first run of the {}, started {} ago, has not ended yet",
                self.what,
                secs(since.elapsed())
            )),
            (None, None, Some(error)) => Err(format!("the last run of the {} failed: {error}", self.what)),
            (None, None, None) => Err(format!("no run of the {} yet", self.what)),
        };
        let stale = latest.as_ref().is_ok_and(|done| done.age() >= self.interval);
        Reply { latest, stale, errors: state.errors }
    }

    /// One run, bounded by `limit`; a panic in it is its error.
    async fn run(self: Arc<Self>) {
        let started = Instant::now();
        let mut task = tokio::spawn((self.produce)());
        let outcome = match tokio::time::timeout(self.limit, &mut task).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(crashed)) => Err(format!("the run crashed: {crashed}")),
            Err(_) => {
                task.abort();
                Err(format!("the run did not end within {} (a probe may be stuck in the kernel)", secs(self.limit)))
            }
        };
        let took = secs(started.elapsed());
        let mut state = self.lock();
        state.runs += 1;
        let n = state.runs;
        match outcome {
            Ok(value) => {
                eprintln!("clusterdoc serve: {} run {n}: {} in {took}", self.what, (self.describe)(&value));
                state.latest = Some(Arc::new(Done { value, ended: Instant::now(), ended_at: SystemTime::now() }));
                state.last_error = None;
            }
            Err(error) => {
                eprintln!("clusterdoc serve: {} run {n} failed after {took}: {error}", self.what);
                state.errors += 1;
                state.last_error = Some(error);
            }
        }
        state.last_end = Some(Instant::now());
        state.running_since = None;
        drop(state);
        self.ended.send_modify(|n| *n += 1);
    }
}

/// `1.25 s`.
pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A flight whose runs count themselves, take `takes` and fail when
    /// `fail` is set.
    fn counting(interval: Duration, takes: Duration, fail: bool) -> (Arc<Flight<u64>>, Arc<AtomicU64>) {
        let count = Arc::new(AtomicU64::new(0));
        let counter = count.clone();
        let produce: Produce<u64> = Box::new(move || {
            let counter = counter.clone();
            Box::pin(async move {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(takes).await;
                if fail { Err(format!("run {n} broke")) } else { Ok(n) }
            })
        });
        (Flight::new("test", interval, Duration::from_secs(60), produce, |n| format!("result {n}")), count)
    }

    fn never() -> impl Future<Output = ()> {
        std::future::pending()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_makes_one_run_and_every_request_gets_its_result() {
        let (flight, count) = counting(Duration::from_secs(60), Duration::from_millis(200), false);
        let burst = (0..100).map(|_| {
            let flight = flight.clone();
            tokio::spawn(async move { flight.get(never()).await.latest.map(|d| d.value) })
        });
        for reply in futures::future::join_all(burst).await {
            assert_eq!(reply.unwrap(), Ok(1));
        }
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert_eq!(flight.get(never()).await.latest.map(|d| d.value), Ok(1), "cached within the interval");
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_interval_the_next_request_runs_again() {
        let (flight, count) = counting(Duration::from_millis(100), Duration::ZERO, false);
        assert_eq!(flight.get(never()).await.latest.map(|d| d.value), Ok(1));
        tokio::time::sleep(Duration::from_millis(150)).await;
        let reply = flight.get(never()).await;
        assert_eq!((reply.latest.map(|d| d.value), reply.stale), (Ok(2), false));
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_gives_up_gets_the_stale_result_and_the_run_goes_on() {
        let (flight, count) = counting(Duration::from_millis(200), Duration::from_millis(300), false);
        let first = flight.get(tokio::time::sleep(Duration::from_millis(10))).await;
        assert!(first.latest.unwrap_err().contains("has not ended yet"));
        tokio::time::sleep(Duration::from_millis(340)).await;
        let done = flight.get(never()).await;
        assert_eq!(done.latest.map(|d| d.value), Ok(1), "the run went on without the request");
        tokio::time::sleep(Duration::from_millis(250)).await;
        let stale = flight.get(tokio::time::sleep(Duration::from_millis(10))).await;
        assert!(stale.stale);
        assert_eq!(stale.latest.map(|d| d.value), Ok(1));
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn failed_runs_are_counted_said_and_not_retried_within_the_interval() {
        let (flight, count) = counting(Duration::from_secs(60), Duration::ZERO, true);
        let reply = flight.get(never()).await;
        assert_eq!(reply.latest.unwrap_err(), "the last run of the test failed: run 1 broke");
        assert_eq!(reply.errors, 1);
        assert_eq!(flight.get(never()).await.errors, 1);
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_run_that_panics_or_outlives_its_limit_fails() {
        let produce: Produce<u64> = Box::new(|| Box::pin(async { panic!("boom") }));
        let flight = Flight::new("test", Duration::from_secs(60), Duration::from_secs(60), produce, |_| String::new());
        assert!(flight.get(never()).await.latest.unwrap_err().contains("the run crashed"));
        let produce: Produce<u64> = Box::new(|| Box::pin(std::future::pending()));
        let flight =
            Flight::new("test", Duration::from_secs(60), Duration::from_millis(50), produce, |_| String::new());
        assert!(flight.get(never()).await.latest.unwrap_err().contains("did not end within 0.05 s"));
    }
}
