//! What pack checks expect, and the judging of what their probes saw against
//! it: pure functions of the recorded facts.
//!
//! The rule that keeps a pack check honest: a check that *measures* (a number
//! against `min`/`max`) reports `error` when it cannot get the number (no
//! match, a failed command), never `pass`; a check that *asserts* (a regex
//! must match, an exit code, a port state) fires when the assertion fails.

use std::time::Duration;

use regex_lite::Regex;
use serde_json::Value;

use super::template::Values;
use crate::facts::packs::{
    Body, Connect, Exit, FileSeen, HttpSeen, Observation, ProbeTarget, ProcessesSeen, ProgramRun, TcpSeen, UnitSeen,
};
use crate::facts::systemd::{Restart, UnitFileState};
use crate::facts::{Fact, Facts};
use crate::remedy::Remedy;
use crate::report::{Finding, Status};

use super::PackCheck;
use crate::checks::{Conclusion, NotJudged, Verdict, required};

/// A number a check measures must stay within these.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Bounds {
    pub fn new(min: Option<f64>, max: Option<f64>) -> Option<Self> {
        (min.is_some() || max.is_some()).then_some(Bounds { min, max })
    }

    fn violation(&self, value: f64) -> Option<String> {
        match (self.min, self.max) {
            (_, Some(max)) if value > max => Some(format!("{value} is above the maximum {max}")),
            (Some(min), _) if value < min => Some(format!("{value} is below the minimum {min}")),
            _ => None,
        }
    }
}

/// A regex on text; with bounds, its first group (else the whole match) is
/// the number measured.
#[derive(Clone, Debug)]
pub struct TextTest {
    pub regex: Regex,
    pub bounds: Option<Bounds>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortState {
    Open,
    Closed,
}

#[derive(Clone, Debug, PartialEq)]
pub enum JsonTest {
    Equals(Value),
    /// A substring of a string, or an element of an array.
    Contains(Value),
    Within(Bounds),
}

#[derive(Clone, Debug, PartialEq)]
pub struct JsonExpect {
    pub pointer: String,
    pub test: JsonTest,
}

/// What a pack check expects of each target.
#[derive(Clone, Debug)]
pub enum Expect {
    Tcp {
        state: PortState,
        reply: Option<TextTest>,
    },
    Http {
        /// Empty: any 2xx.
        status: Vec<u16>,
        json: Vec<JsonExpect>,
        /// The most the targets' clocks (their `Date` headers) may differ.
        max_date_skew: Option<Duration>,
    },
    Command {
        exit: i32,
        stdout: Option<TextTest>,
    },
    /// The Nagios plugin protocol: the exit code says it all.
    Plugin,
    Unit {
        enabled: Option<bool>,
        active: Option<bool>,
        restart: Option<Restart>,
    },
    File {
        exists: bool,
        mode: Option<u32>,
        /// Some line must match the probe's regex.
        contains: bool,
    },
    Process {
        running: Option<bool>,
        min: Option<usize>,
        max: Option<usize>,
    },
}

/// How one target came out.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    /// As expected; what was seen.
    Fine(String),
    Fired {
        status: Status,
        message: String,
        evidence: Vec<String>,
    },
    /// Could not look, or could not tell: an `error` finding, never a pass.
    Unknown {
        message: String,
        evidence: Vec<String>,
    },
    /// The target is absent (an implicit default that does not answer).
    Absent(String),
}

impl Outcome {
    fn fired(status: Status, message: impl Into<String>, evidence: Vec<String>) -> Self {
        Outcome::Fired { status, message: message.into(), evidence }
    }

    fn unknown(message: impl Into<String>, evidence: Vec<String>) -> Self {
        Outcome::Unknown { message: message.into(), evidence }
    }
}

pub fn judge(check: &PackCheck, facts: &Facts) -> Verdict {
    let packs = required(&facts.packs, "pack check results")?;
    let record = match packs.checks.get(check.meta.id.as_ref()) {
        None => {
            return Err(NotJudged::Error(
                "this check's probe was not run (a snapshot collected without this check?)".into(),
            ));
        }
        Some(Fact::Unavailable { reason }) => return Err(NotJudged::Skip(reason.clone())),
        Some(Fact::Failed { error }) => return Err(NotJudged::Error(error.clone())),
        Some(Fact::Observed { value }) => value,
    };
    if record.probe != check.probe.probe {
        return Err(NotJudged::Error(
            "the snapshot recorded another probe for this check: its pack changed since `collect`".into(),
        ));
    }
    let outcomes: Vec<(&ProbeTarget, Outcome)> =
        record.targets.iter().map(|t| (&t.target, outcome(check, &t.seen))).collect();
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    if let Expect::Http { max_date_skew: Some(max), .. } = &check.expect {
        let dated: Vec<(&ProbeTarget, &HttpSeen)> = record
            .targets
            .iter()
            .filter_map(|t| match &t.seen {
                Fact::Observed { value: Observation::Http(seen) } => Some((&t.target, seen)),
                _ => None,
            })
            .collect();
        match clocks(check, *max, &dated) {
            Clocks::Unseen => {}
            Clocks::Agree(note) => notes.push(note),
            Clocks::Differ(finding) => findings.push(*finding),
        }
    }
    assemble(check, outcomes, findings, notes)
}

fn outcome(check: &PackCheck, seen: &Fact<Observation>) -> Outcome {
    let severity = check.meta.severity;
    let observation = match seen {
        Fact::Observed { value } => value,
        Fact::Unavailable { reason } => return Outcome::Absent(reason.clone()),
        Fact::Failed { error } => return Outcome::unknown(error.clone(), Vec::new()),
    };
    match (&check.expect, observation) {
        (Expect::Tcp { state, reply }, Observation::Tcp(seen)) => tcp(severity, *state, reply.as_ref(), seen),
        (Expect::Http { status, json, max_date_skew }, Observation::Http(seen)) => {
            http(severity, status, json, max_date_skew.is_some(), seen)
        }
        (Expect::Command { exit, stdout }, Observation::Program(run)) => command(severity, *exit, stdout.as_ref(), run),
        (Expect::Plugin, Observation::Program(run)) => plugin(run),
        (Expect::Unit { enabled, active, restart }, Observation::Unit(seen)) => {
            unit(severity, *enabled, *active, *restart, seen)
        }
        (Expect::File { exists, mode, contains }, Observation::File(seen)) => {
            file(severity, *exists, *mode, *contains, seen)
        }
        (Expect::Process { running, min, max }, Observation::Processes(seen)) => {
            processes(severity, *running, *min, *max, seen)
        }
        // The probe is compared with the recorded one first, so the kinds agree.
        _ => Outcome::unknown("the recorded observation is of another kind than this check", Vec::new()),
    }
}

/// Turns the outcomes into the check's verdict: skip when every target was
/// absent, else the findings (fired ones with their remediation).
fn assemble(
    check: &PackCheck,
    outcomes: Vec<(&ProbeTarget, Outcome)>,
    mut findings: Vec<Finding>,
    mut notes: Vec<String>,
) -> Verdict {
    let mut absent = Vec::new();
    let mut fine = Vec::new();
    for (target, outcome) in outcomes {
        match outcome {
            Outcome::Fine(what) => fine.push(format!("{}: {what}", target.label)),
            Outcome::Absent(reason) => absent.push(reason),
            Outcome::Fired { status, message, evidence } => {
                let finding = Finding::new(status, &target.label, message);
                findings.push(with_fixes(with_evidence(finding, evidence), check.remedies_for(target)));
            }
            Outcome::Unknown { message, evidence } => {
                findings.push(with_evidence(Finding::new(Status::Error, &target.label, message), evidence));
            }
        }
    }
    absent.dedup();
    if findings.is_empty() && fine.is_empty() {
        return Err(NotJudged::Skip(if absent.is_empty() { "nothing to look at".into() } else { absent.join("; ") }));
    }
    if fine.len() > 5 {
        let more = fine.len() - 3;
        fine.truncate(3);
        fine.push(format!("{more} more as expected"));
    }
    notes.splice(0..0, fine);
    if !absent.is_empty() {
        notes.push(format!("skipped: {}", absent.join("; ")));
    }
    Ok(Conclusion::findings(findings, notes.join("; ")))
}

fn with_evidence(finding: Finding, evidence: Vec<String>) -> Finding {
    evidence.into_iter().fold(finding, Finding::evidence)
}

fn with_fixes(finding: Finding, remedies: Vec<Remedy>) -> Finding {
    remedies.into_iter().fold(finding, Finding::fix)
}

impl PackCheck {
    fn remedies_for(&self, target: &ProbeTarget) -> Vec<Remedy> {
        let values = Values { target: &target.label, host: target.host.as_ref(), port: target.port };
        self.remedies.iter().filter_map(|r| r.render(values)).collect()
    }
}

/// The first lines of some text, for evidence.
fn excerpt(what: &str, text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(3).collect();
    match lines.as_slice() {
        [] => format!("{what}: (empty)"),
        lines => format!("{what}: {}", lines.join(" | ")),
    }
}

fn judge_text(severity: Status, test: &TextTest, text: &str, what: &str) -> Outcome {
    let Some(captures) = test.regex.captures(text) else {
        let message = format!("{what} does not match /{}/", test.regex.as_str());
        let evidence = vec![excerpt(what, text)];
        return match test.bounds {
            Some(_) => Outcome::unknown(format!("{message}: nothing to measure"), evidence),
            None => Outcome::fired(severity, message, evidence),
        };
    };
    let matched = captures.get(0).map_or("", |m| m.as_str()).trim().to_string();
    let Some(bounds) = test.bounds else { return Outcome::Fine(format!("{what} has {matched:?}")) };
    let number = captures.get(1).or(captures.get(0)).map_or("", |m| m.as_str()).trim();
    match number.parse::<f64>() {
        Err(_) => Outcome::unknown(format!("{number:?} in {what} is not a number"), vec![matched]),
        Ok(value) => match bounds.violation(value) {
            Some(why) => Outcome::fired(severity, format!("{why} ({matched})"), vec![format!("{what}: {matched}")]),
            None => Outcome::Fine(matched),
        },
    }
}

fn tcp(severity: Status, state: PortState, reply: Option<&TextTest>, seen: &TcpSeen) -> Outcome {
    match (state, &seen.connect, reply) {
        (PortState::Closed, Connect::Open, _) => Outcome::fired(
            severity,
            "the port is open; it should be closed",
            vec!["a TCP connection was accepted".into()],
        ),
        (PortState::Closed, closed, _) => Outcome::Fine(format!("closed ({closed})")),
        (PortState::Open, Connect::Open, None) => Outcome::Fine("open".into()),
        (PortState::Open, Connect::Open, Some(test)) => {
            let cut = seen.reply_cut.iter().map(|why| format!("the reply may be incomplete: {why}"));
            match &seen.reply {
                None => Outcome::unknown("no reply to judge", cut.collect()),
                Some(text) => match judge_text(severity, test, text, "the reply") {
                    Outcome::Unknown { message, mut evidence } => {
                        evidence.extend(cut);
                        Outcome::Unknown { message, evidence }
                    }
                    other => other,
                },
            }
        }
        (PortState::Open, closed, _) => {
            Outcome::fired(severity, format!("the port is not open: {closed}"), vec![format!("connecting: {closed}")])
        }
    }
}

fn status_ok(expected: &[u16], status: u16) -> bool {
    if expected.is_empty() { (200..300).contains(&status) } else { expected.contains(&status) }
}

fn http(severity: Status, expected: &[u16], json: &[JsonExpect], dated: bool, seen: &HttpSeen) -> Outcome {
    let answered = format!("HTTP {}", seen.status);
    if !status_ok(expected, seen.status) {
        let wanted = match expected {
            [] => "a 2xx status".to_string(),
            codes => codes.iter().map(u16::to_string).collect::<Vec<_>>().join(" or "),
        };
        return Outcome::fired(severity, format!("answered {answered}; expected {wanted}"), vec![answered]);
    }
    let mut seen_values = Vec::new();
    for expect in json {
        match json_outcome(severity, expect, &seen.body) {
            Ok(note) => seen_values.push(note),
            Err(outcome) => return outcome,
        }
    }
    if dated && let Err(why) = date_of(seen) {
        return Outcome::unknown(why, vec![answered]);
    }
    let mut what = answered;
    for note in seen_values {
        what.push_str(&format!(", {note}"));
    }
    Outcome::Fine(what)
}

fn json_outcome(severity: Status, expect: &JsonExpect, body: &Body) -> Result<String, Outcome> {
    let pointer = &expect.pointer;
    let values = match body {
        Body::Json { values } => values,
        Body::Unreadable { error } => {
            return Err(Outcome::unknown(format!("cannot read the JSON body: {error}"), Vec::new()));
        }
        Body::Skipped => return Err(Outcome::unknown("the body was not read", Vec::new())),
    };
    let value = values.get(pointer);
    let shown = value.map_or("(missing)".to_string(), |v| clip(&v.to_string()));
    let evidence = vec![format!("{pointer} = {shown}")];
    let fired = |message: String| Err(Outcome::fired(severity, message, evidence.clone()));
    match (&expect.test, value) {
        (JsonTest::Within(_), None) => {
            Err(Outcome::unknown(format!("{pointer} is missing: nothing to measure"), evidence))
        }
        (JsonTest::Within(bounds), Some(v)) => match v.as_f64() {
            None => Err(Outcome::unknown(format!("{pointer} is {shown}, not a number"), evidence)),
            Some(n) => match bounds.violation(n) {
                Some(why) => fired(format!("{pointer}: {why}")),
                None => Ok(format!("{pointer} = {shown}")),
            },
        },
        (JsonTest::Equals(want), Some(v)) if json_eq(v, want) => Ok(format!("{pointer} = {shown}")),
        (JsonTest::Equals(want), _) => fired(format!("{pointer} is {shown}; expected {want}")),
        (JsonTest::Contains(want), Some(v)) if json_contains(v, want) => Ok(format!("{pointer} contains {want}")),
        (JsonTest::Contains(want), _) => fired(format!("{pointer} is {shown}; expected it to contain {want}")),
    }
}

fn clip(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// Equal, with numbers compared by value (TOML `3` equals JSON `3.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn json_contains(haystack: &Value, needle: &Value) -> bool {
    match (haystack, needle) {
        (Value::String(s), Value::String(n)) => s.contains(n.as_str()),
        (Value::Array(items), _) => items.iter().any(|i| json_eq(i, needle)),
        _ => false,
    }
}

/// The `Date` header in ms since the epoch.
fn date_of(seen: &HttpSeen) -> Result<i64, String> {
    let date = seen.date.as_deref().ok_or("no Date header: this server's clock cannot be compared")?;
    parse_http_date(date).ok_or_else(|| format!("the Date header {date:?} is not an HTTP date"))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110), the only
/// form servers may send, in ms since the epoch.
pub fn parse_http_date(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (_, rest) = text.trim().split_once(", ")?;
    let fields: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = fields.as_slice() else { return None };
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else { return None };
    if !(1..=31).contains(&day) || *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    Some((days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s) * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// How far a server's clock may be from this machine's, in ms: the server
/// read its clock between our send and receive, and the Date header drops
/// the fraction of its second.
fn offset_range(date_ms: i64, seen: &HttpSeen) -> (i64, i64) {
    (date_ms - seen.received_ms, date_ms + 1000 - seen.sent_ms)
}

/// How the targets' clocks compare.
enum Clocks {
    /// No target sent a usable Date.
    Unseen,
    Agree(String),
    Differ(Box<Finding>),
}

/// The targets' clocks against each other: they differ only when they do by
/// more than `max` for certain (whatever the network delays and the
/// header's one-second resolution).
fn clocks(check: &PackCheck, max: Duration, dated: &[(&ProbeTarget, &HttpSeen)]) -> Clocks {
    let ranges: Vec<(&ProbeTarget, &HttpSeen, (i64, i64))> = dated
        .iter()
        .filter_map(|(target, seen)| Some((*target, *seen, offset_range(date_of(seen).ok()?, seen))))
        .collect();
    let (Some(ahead), Some(behind)) = (ranges.iter().max_by_key(|r| r.2.0), ranges.iter().min_by_key(|r| r.2.1)) else {
        return Clocks::Unseen;
    };
    if ranges.len() < 2 {
        return Clocks::Agree("one clock answered: nothing to compare it with".into());
    }
    let at_least = ahead.2.0 - behind.2.1;
    let max_ms = max.as_millis() as i64;
    if at_least <= max_ms {
        return Clocks::Agree(format!("{} clocks agree within {}", ranges.len(), humantime::format_duration(max)));
    }
    let describe = |(target, seen, range): &(&ProbeTarget, &HttpSeen, (i64, i64))| {
        format!(
            "{}: Date {} (this machine's clock {:+.1}s to {:+.1}s from it)",
            target.label,
            seen.date.as_deref().unwrap_or_default(),
            -(range.1 as f64) / 1000.0,
            -(range.0 as f64) / 1000.0,
        )
    };
    let finding = Finding::new(
        check.meta.severity,
        format!("{} and {}", ahead.0.label, behind.0.label),
        format!(
            "clocks differ by at least {:.1}s (more than {})",
            at_least as f64 / 1000.0,
            humantime::format_duration(max)
        ),
    )
    .evidence(describe(ahead))
    .evidence(describe(behind));
    let mut remedies = check.remedies_for(ahead.0);
    for remedy in check.remedies_for(behind.0) {
        if !remedies.contains(&remedy) {
            remedies.push(remedy);
        }
    }
    Clocks::Differ(Box::new(with_fixes(finding, remedies)))
}

fn command(severity: Status, expected: i32, stdout: Option<&TextTest>, run: &ProgramRun) -> Outcome {
    let measures = stdout.is_some_and(|t| t.bounds.is_some());
    let mut evidence = vec![excerpt("output", &run.stdout)];
    if !run.stderr.trim().is_empty() {
        evidence.push(excerpt("errors", &run.stderr));
    }
    match run.exit {
        Exit::Code { code } if code == expected => match stdout {
            None => Outcome::Fine(format!("exited {code}")),
            Some(test) => judge_text(severity, test, &run.stdout, "the output"),
        },
        Exit::Code { code } if measures => {
            Outcome::unknown(format!("exited {code} (expected {expected}): nothing to measure"), evidence)
        }
        Exit::Code { code } => Outcome::fired(severity, format!("exited {code}; expected {expected}"), evidence),
        other => Outcome::unknown(did_not_finish(other), evidence),
    }
}

fn did_not_finish(exit: Exit) -> String {
    match exit {
        Exit::TimedOut { after_ms } => format!("killed after {after_ms} ms: it did not finish within --timeout"),
        Exit::Signal { signal } => format!("killed by signal {signal}"),
        Exit::Code { code } => format!("exited {code}"),
    }
}

/// A plugin's output: the first line's text is the message; what follows a
/// `|` (on the first line or in the long text after it) is performance data.
fn nagios_output(stdout: &str) -> (String, Vec<String>) {
    let mut lines = stdout.lines();
    let first = lines.next().unwrap_or_default();
    let (message, perfdata) = first.split_once('|').unwrap_or((first, ""));
    let mut evidence = Vec::new();
    let mut perf: Vec<String> = vec![perfdata.trim().to_string()];
    let mut in_perfdata = false;
    for line in lines {
        let (text, more) = if in_perfdata {
            ("", Some(line))
        } else {
            line.split_once('|').map_or((line, None), |(t, p)| (t, Some(p)))
        };
        if !text.trim().is_empty() {
            evidence.push(text.trim().to_string());
        }
        if let Some(more) = more {
            in_perfdata = true;
            perf.push(more.trim().to_string());
        }
    }
    evidence.truncate(5);
    perf.retain(|p| !p.is_empty());
    if !perf.is_empty() {
        evidence.push(format!("perfdata: {}", perf.join(" ")));
    }
    (message.trim().to_string(), evidence)
}

fn plugin(run: &ProgramRun) -> Outcome {
    let (message, evidence) = nagios_output(&run.stdout);
    let said = |default: &str| if message.is_empty() { default.to_string() } else { message.clone() };
    match run.exit {
        Exit::Code { code: 0 } => Outcome::Fine(said("OK")),
        Exit::Code { code: 1 } => Outcome::fired(Status::Warn, said("WARNING (no message)"), evidence),
        Exit::Code { code: 2 } => Outcome::fired(Status::Fail, said("CRITICAL (no message)"), evidence),
        Exit::Code { code: 3 } => Outcome::unknown(said("UNKNOWN (no message)"), evidence),
        Exit::Code { code } => Outcome::unknown(
            format!(
                "exited {code}, outside the plugin protocol (0 ok, 1 warning, 2 critical, 3 unknown): {}",
                said("no message")
            ),
            evidence,
        ),
        other => Outcome::unknown(did_not_finish(other), evidence),
    }
}

fn unit(
    severity: Status,
    enabled: Option<bool>,
    active: Option<bool>,
    restart: Option<Restart>,
    seen: &UnitSeen,
) -> Outcome {
    let state = seen.file_state;
    if state == UnitFileState::NotFound {
        return match (enabled, active, restart) {
            (Some(true), _, _) | (_, Some(true), _) => {
                Outcome::fired(severity, "it is not installed", vec!["no unit file of this name".into()])
            }
            (_, _, Some(_)) => Outcome::Absent("it is not installed".into()),
            _ => Outcome::Fine("not installed".into()),
        };
    }
    let is_enabled = matches!(state, UnitFileState::Enabled | UnitFileState::EnabledRuntime);
    let mut evidence = vec![format!("UnitFileState={state}")];
    let mut wrong = Vec::new();
    if let Some(want) = enabled
        && want != is_enabled
    {
        wrong.push(format!("it is {state}; it should {}be enabled", if want { "" } else { "not " }));
    }
    let blind = match &seen.live {
        None if active.is_some() || restart.is_some() => {
            Some("its active state and Restart= need a running systemd (not under --root)")
        }
        None => None,
        Some(live) => {
            evidence.push(format!("ActiveState={} Restart={}", live.active_state, live.restart));
            if let Some(want) = active
                && want != live.active_state.is_up()
            {
                wrong.push(format!(
                    "it is {}; it should {}be active",
                    live.active_state,
                    if want { "" } else { "not " }
                ));
            }
            if let Some(want) = restart
                && want != live.restart
            {
                wrong.push(format!("Restart={}; it should be Restart={want}", live.restart));
            }
            None
        }
    };
    match (wrong.is_empty(), blind) {
        (false, _) => Outcome::fired(severity, wrong.join("; "), evidence),
        (true, Some(why)) => Outcome::Absent(why.into()),
        (true, None) => Outcome::Fine(evidence.join(", ")),
    }
}

fn file(severity: Status, exists: bool, mode: Option<u32>, contains: bool, seen: &FileSeen) -> Outcome {
    match (exists, seen.exists) {
        (true, false) => return Outcome::fired(severity, "it does not exist", vec!["no such file".into()]),
        (false, true) => return Outcome::fired(severity, "it exists; it should not", vec!["the file exists".into()]),
        (false, false) => return Outcome::Fine("absent".into()),
        (true, true) => {}
    }
    let mut evidence: Vec<String> = seen.mode.iter().map(|m| format!("mode {m:04o}")).collect();
    if let (Some(want), Some(got)) = (mode, seen.mode)
        && want != got
    {
        return Outcome::fired(severity, format!("its mode is {got:04o}; it should be {want:04o}"), evidence);
    }
    if contains && seen.matches == 0 {
        evidence.extend(seen.cut.clone());
        return Outcome::fired(severity, "no line matches the expected pattern", evidence);
    }
    evidence.extend(seen.matching.iter().take(3).map(|l| format!("line: {}", clip(l))));
    Outcome::Fine(evidence.join(", "))
}

fn processes(
    severity: Status,
    running: Option<bool>,
    min: Option<usize>,
    max: Option<usize>,
    seen: &ProcessesSeen,
) -> Outcome {
    let count = seen.count;
    let evidence: Vec<String> = seen.matching.iter().map(|p| format!("pid {}: {}", p.pid, clip(&p.command))).collect();
    let wrong = match (running, min, max) {
        (Some(true), _, _) if count == 0 => Some("no such process runs".to_string()),
        (Some(false), _, _) if count > 0 => Some(format!("{count} such processes run; none should")),
        (_, Some(min), _) if count < min => Some(format!("{count} such processes run; at least {min} should")),
        (_, _, Some(max)) if count > max => Some(format!("{count} such processes run; at most {max} should")),
        _ => None,
    };
    match wrong {
        Some(message) => Outcome::fired(severity, message, evidence),
        None => Outcome::Fine(format!("{count} running")),
    }
}

#[cfg(test)]
mod tests;
