//! The connect sweep: every address connected to from one thread, with
//! non-blocking sockets in one epoll set (mio), as `nmap -sT` does. A tokio
//! task per connect spent more in wake-ups between the runtime's worker
//! threads than in the connects (1.3x nmap's time; see BENCHMARKS.md).

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use super::{Attempt, Budget, DEADLINE_FIRST, Outcome, RETRY_SPACING, classify, describe, ms};

/// What the sweep concluded for one address.
#[derive(Clone, Debug)]
pub(super) struct Connected {
    /// The deciding attempt.
    pub attempt: Attempt,
    /// Connects made: a timeout is tried once more, spaced.
    pub attempts: u8,
}

impl Connected {
    pub fn failed(detail: String) -> Self {
        Connected { attempt: Attempt::at_once(Outcome::Failed, detail), attempts: 0 }
    }

    /// Not tried: the run's deadline came (or the sweep was stopped) first.
    pub fn unstarted() -> Self {
        Connected { attempt: Attempt::at_once(Outcome::Unfinished, DEADLINE_FIRST.into()), attempts: 0 }
    }
}

/// Ends a running sweep from another thread; what is not decided by then
/// is `Unfinished`.
pub(super) struct Stop {
    stopped: AtomicBool,
    waker: Waker,
}

impl Stop {
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        // A failed wake leaves the sweep to end at its own deadline.
        let _ = self.waker.wake();
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }
}

const STOP: Token = Token(usize::MAX);

/// One connect in flight.
struct Flight {
    target: usize,
    stream: TcpStream,
    started: Instant,
    /// This attempt's wait, and whether the run's deadline (not `--timeout`) set it.
    wait: (Duration, bool),
    /// The first attempt's result, when this is the retry.
    first: Option<Attempt>,
    /// Tells this flight from a later one in the same slot.
    serial: u64,
}

pub(super) struct Sweep {
    poll: Poll,
    stop: Arc<Stop>,
}

impl Sweep {
    pub fn new() -> io::Result<(Sweep, Arc<Stop>)> {
        let poll = Poll::new()?;
        let stop = Arc::new(Stop { stopped: AtomicBool::new(false), waker: Waker::new(poll.registry(), STOP)? });
        Ok((Sweep { poll, stop: Arc::clone(&stop) }, stop))
    }

    /// Connects to every address, at most `cap` at a time, each attempt
    /// bounded by the budget; results in the order of `addresses`.
    pub fn run(self, addresses: Vec<SocketAddr>, cap: usize, budget: Budget) -> Vec<Connected> {
        self.sweep(addresses, None, cap, budget).1
    }

    /// [`Sweep::run`] over the addresses `incoming` brings, as they come,
    /// until its senders are gone; each address with its result.
    pub fn run_fed(self, incoming: Receiver<SocketAddr>, cap: usize, budget: Budget) -> Vec<(SocketAddr, Connected)> {
        let (addresses, results) = self.sweep(Vec::new(), Some(incoming), cap, budget);
        addresses.into_iter().zip(results).collect()
    }

    fn sweep(
        self,
        addresses: Vec<SocketAddr>,
        incoming: Option<Receiver<SocketAddr>>,
        cap: usize,
        budget: Budget,
    ) -> (Vec<SocketAddr>, Vec<Connected>) {
        let mut run = Run {
            poll: self.poll,
            results: addresses.iter().map(|_| None).collect(),
            addresses,
            incoming,
            next: 0,
            cap: cap.max(1),
            budget,
            slots: Vec::new(),
            free: Vec::new(),
            in_flight: 0,
            expiries: VecDeque::new(),
            retries: VecDeque::new(),
            serial: 0,
        };
        let mut events = Events::with_capacity(1024);
        while !self.stop.stopped() {
            let now = Instant::now();
            run.take_in();
            run.expire(now);
            run.start_due(now);
            let Some(wait) = run.next_wake(now) else { break };
            if let Err(e) = run.poll.poll(&mut events, Some(wait)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                run.fail_rest(&format!("waiting for connects failed: {e}"));
                break;
            }
            for event in events.iter().filter(|e| e.token() != STOP) {
                run.settle(event.token().0);
            }
        }
        let results = run.results.into_iter().map(|r| r.unwrap_or_else(Connected::unstarted)).collect();
        (run.addresses, results)
    }
}

/// How often a sweep fed while it runs looks for new addresses.
const FEED_TICK: Duration = Duration::from_millis(1);

/// A sweep's state between polls.
struct Run {
    poll: Poll,
    addresses: Vec<SocketAddr>,
    /// More addresses, while the feed is open.
    incoming: Option<Receiver<SocketAddr>>,
    /// The next address to start.
    next: usize,
    cap: usize,
    budget: Budget,
    /// Flights by token; `free` lists the empty slots.
    slots: Vec<Option<Flight>>,
    free: Vec<usize>,
    in_flight: usize,
    /// When each flight's wait ends (slot, serial), in start order: every
    /// wait is `--timeout` cut by the one deadline, so they end in that order.
    expiries: VecDeque<(Instant, usize, u64)>,
    /// Targets whose first connect timed out, with when to try again.
    retries: VecDeque<(Instant, usize, Attempt)>,
    results: Vec<Option<Connected>>,
    serial: u64,
}

impl Run {
    /// Adds the addresses the feed brought since the last look.
    fn take_in(&mut self) {
        let Some(incoming) = &self.incoming else { return };
        loop {
            match incoming.try_recv() {
                Ok(address) => {
                    self.addresses.push(address);
                    self.results.push(None);
                }
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => return self.incoming = None,
            }
        }
    }

    /// Starts connects while there is room: due retries first, then the
    /// next addresses.
    fn start_due(&mut self, now: Instant) {
        while self.in_flight < self.cap {
            if self.retries.front().is_some_and(|&(due, _, _)| due <= now) {
                let Some((_, target, first)) = self.retries.pop_front() else { break };
                // Queued for a free slot past its time, it may have lost the whole timeout it needs.
                match self.budget.wait_from(now).0 == self.budget.timeout {
                    true => self.start(target, Some(first), now),
                    false => self.results[target] = Some(Connected { attempt: first, attempts: 1 }),
                }
            } else if self.next < self.addresses.len() {
                match self.budget.wait_from(now).0.is_zero() {
                    true => self.results[self.next] = Some(Connected::unstarted()),
                    false => self.start(self.next, None, now),
                }
                self.next += 1;
            } else {
                break;
            }
        }
    }

    fn start(&mut self, target: usize, first: Option<Attempt>, now: Instant) {
        let wait = self.budget.wait_from(now);
        let mut stream = match TcpStream::connect(self.addresses[target]) {
            Ok(stream) => stream,
            Err(e) => return self.decide(target, first, Attempt::of_error(&e, now)),
        };
        // A near host (loopback, the local network) has often answered by
        // the time connect returns: no need to watch that socket.
        if let Some(attempt) = answer(&stream, now) {
            return self.decide(target, first, attempt);
        }
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        if let Err(e) = self.poll.registry().register(&mut stream, Token(slot), Interest::WRITABLE) {
            self.free.push(slot);
            let attempt = Attempt::at_once(Outcome::Failed, format!("could not watch the socket: {e}"));
            return self.decide(target, first, attempt);
        }
        self.serial += 1;
        self.expiries.push_back((now + wait.0, slot, self.serial));
        self.slots[slot] = Some(Flight { target, stream, started: now, wait, first, serial: self.serial });
        self.in_flight += 1;
    }

    fn take(&mut self, slot: usize) -> Option<Flight> {
        let flight = self.slots.get_mut(slot)?.take()?;
        self.free.push(slot);
        self.in_flight -= 1;
        Some(flight)
    }

    /// A socket became writable or failed: the connect is decided, unless
    /// the wake-up was spurious.
    fn settle(&mut self, slot: usize) {
        let Some(Some(flight)) = self.slots.get(slot) else { return };
        let Some(attempt) = answer(&flight.stream, flight.started) else { return };
        if let Some(flight) = self.take(slot) {
            // Dropping the stream closes the connection at once, no data sent,
            // with a FIN: a RST (SO_LINGER 0) is a few % faster, but every
            // probed daemon would log a connection reset on every run.
            self.decide(flight.target, flight.first, attempt);
        }
    }

    /// Ends the waits that are over.
    fn expire(&mut self, now: Instant) {
        while let Some(&(end, slot, serial)) = self.expiries.front() {
            if end > now {
                break;
            }
            self.expiries.pop_front();
            // The flight may have settled already, and its slot been taken by another.
            let current = self.slots.get(slot).and_then(Option::as_ref).is_some_and(|f| f.serial == serial);
            let Some(flight) = current.then(|| self.take(slot)).flatten() else { continue };
            let (wait, cut_by_deadline) = flight.wait;
            let attempt = match cut_by_deadline {
                true => Attempt::at_once(Outcome::Unfinished, DEADLINE_FIRST.into()),
                false => Attempt::at_once(Outcome::Dropped, format!("no answer within {}", ms(wait))),
            };
            let attempt = Attempt { elapsed: flight.started.elapsed(), ..attempt };
            self.decide_after(flight.target, flight.first, attempt, flight.started);
        }
    }

    fn decide(&mut self, target: usize, first: Option<Attempt>, attempt: Attempt) {
        self.decide_after(target, first, attempt, Instant::now());
    }

    /// Records an attempt's result: a first timeout is tried again once
    /// `RETRY_SPACING` after it started (the ICMP rate limit's interval), if
    /// a whole `--timeout` is left then; a retry decides only if it saw
    /// more than another timeout.
    fn decide_after(&mut self, target: usize, first: Option<Attempt>, attempt: Attempt, started: Instant) {
        let connected = match first {
            None if attempt.outcome == Outcome::Dropped => {
                let due = started + RETRY_SPACING;
                if self.budget.wait_from(due).0 == self.budget.timeout {
                    self.retries.push_back((due, target, attempt));
                    return;
                }
                Connected { attempt, attempts: 1 }
            }
            None => Connected { attempt, attempts: 1 },
            Some(first) if attempt.outcome == Outcome::Dropped => Connected { attempt: first, attempts: 2 },
            Some(_) => Connected { attempt, attempts: 2 },
        };
        self.results[target] = Some(connected);
    }

    /// How long to wait for sockets: until the next wait ends or retry is
    /// due. None when everything is decided.
    fn next_wake(&self, now: Instant) -> Option<Duration> {
        let fed = self.incoming.is_some();
        if self.in_flight == 0 && self.retries.is_empty() && self.next == self.addresses.len() && !fed {
            return None;
        }
        // Every flight has an expiry, so one of the two is there (or the feed's tick).
        let expiry = self.expiries.front().map(|&(end, _, _)| end);
        // A due retry waits for a free slot, which only a settle or an expiry makes.
        let retry = self.retries.front().map(|&(due, _, _)| due).filter(|_| self.in_flight < self.cap);
        let tick = fed.then_some(now + FEED_TICK);
        let next = expiry.into_iter().chain(retry).chain(tick).min().unwrap_or(now);
        Some(next.saturating_duration_since(now))
    }

    fn fail_rest(&mut self, detail: &str) {
        for result in self.results.iter_mut().filter(|r| r.is_none()) {
            *result = Some(Connected::failed(detail.to_string()));
        }
    }
}

/// What a connect started at `started` has come to: None while it waits.
fn answer(stream: &TcpStream, started: Instant) -> Option<Attempt> {
    match stream.take_error() {
        Ok(Some(e)) | Err(e) => Some(Attempt::of_error(&e, started)),
        Ok(None) => match stream.peer_addr() {
            Ok(_) => Some(Attempt { outcome: Outcome::Open, detail: None, elapsed: started.elapsed() }),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => None,
            Err(e) => Some(Attempt::of_error(&e, started)),
        },
    }
}

impl Attempt {
    fn at_once(outcome: Outcome, detail: String) -> Self {
        Attempt { outcome, detail: Some(detail), elapsed: Duration::ZERO }
    }

    fn of_error(error: &io::Error, started: Instant) -> Self {
        Attempt { outcome: classify(error), detail: Some(describe(error)), elapsed: started.elapsed() }
    }
}
