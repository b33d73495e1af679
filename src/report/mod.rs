//! The report model. Statuses are final here; renderers only render.

pub mod accepted;
pub mod causes;
pub mod healthz;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod nagios;
pub mod prometheus;
pub mod script;
pub mod tap;

#[cfg(test)]
mod format_tests;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::remedy::Remedy;
pub use accepted::{BaselineMark, BaselineUse, StaleWaiver, Waived};
pub use causes::{Cause, RootCause, Scope, ScopeKind, UNJUDGED};

/// How a check (or a finding) ended. The order is "how bad": the run's status
/// is the maximum of its checks'.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skip,
    Warn,
    Error,
    Fail,
}

impl Status {
    pub const ALL: [Status; 5] = [Status::Pass, Status::Warn, Status::Fail, Status::Skip, Status::Error];

    /// The Nagios plugin convention: 0 ok, 1 warning, 2 critical, 3 unknown.
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Pass | Status::Skip => 0,
            Status::Warn => 1,
            Status::Fail => 2,
            Status::Error => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Error => "error",
            Status::Fail => "fail",
        }
    }

    pub fn is_problem(self) -> bool {
        matches!(self, Status::Warn | Status::Error | Status::Fail)
    }

    /// Whether a health check passes on it: nothing failed, and nothing was
    /// left undecided (`error`); a warning or a skip is healthy.
    pub fn is_healthy(self) -> bool {
        matches!(self, Status::Pass | Status::Warn | Status::Skip)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem a check found, with its evidence and the commands that fix it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub status: Status,
    pub subject: String,
    pub message: String,
    pub evidence: Vec<String>,
    pub remediation: Vec<Remedy>,
    /// The one item of a kind this finding is about (see [`aggregate`]).
    #[serde(skip)]
    pub item: Option<Item>,
    /// An aggregate: how many items it stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// An aggregate: the items' names, the first [`MAX_SUBJECTS`] of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// In a fleet run, the node whose facts it was found in (absent: the
    /// cluster's, or a run on one node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The waiver that accepts it (`--waivers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived: Option<Box<Waived>>,
    /// Whether the baseline report had it (`--baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineMark>,
    /// What kind of problem it is, as `dependencies.toml` names it
    /// (`no-quorum`, `rejected`).
    #[serde(skip)]
    pub problem: Option<&'static str>,
    /// What it is about, as dependencies compare it (an ensemble, a host).
    #[serde(skip)]
    pub scope: Vec<Scope>,
    /// The problems that explain it (DESIGN.md C2): its status still counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caused_by: Vec<Cause>,
}

/// A finding about one item of a kind: `Mesos agents`, `agent0001`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The kind, plural, as a count reads it: `1,000 Mesos agents`.
    pub kind: &'static str,
    pub name: String,
}

impl Finding {
    pub fn new(status: Status, subject: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            status,
            subject: subject.into(),
            message: message.into(),
            evidence: Vec::new(),
            remediation: Vec::new(),
            item: None,
            count: None,
            subjects: Vec::new(),
            node: None,
            waived: None,
            baseline: None,
            problem: None,
            scope: Vec::new(),
            caused_by: Vec::new(),
        }
    }

    pub fn evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }

    pub fn fix(mut self, remedy: Remedy) -> Self {
        self.remediation.push(remedy);
        self
    }

    pub fn fixes(mut self, remedies: impl IntoIterator<Item = Remedy>) -> Self {
        self.remediation.extend(remedies);
        self
    }

    /// The kind of problem this is, for `dependencies.toml`.
    pub fn problem(mut self, problem: &'static str) -> Self {
        self.problem = Some(problem);
        self
    }

    /// What this finding is about, when it can be told.
    pub fn about(mut self, scope: Option<Scope>) -> Self {
        self.scope.extend(scope);
        self
    }

    /// This finding is about the item `name` of a `kind` (plural): findings
    /// of one kind with the same status and message differ only by subject,
    /// and a report aggregates them when there are many.
    pub fn item(mut self, kind: &'static str, name: impl Into<String>) -> Self {
        self.item = Some(Item { kind, name: name.into() });
        self
    }
}

/// More findings than this of one kind, status and message become one
/// aggregate finding.
pub const AGGREGATE_ABOVE: usize = 20;
/// Of an aggregate, the first so many items keep their evidence and fixes
/// and are named in the human report (all of `subjects` with `-v`).
pub const LISTED: usize = 20;
const _: () = assert!(LISTED <= AGGREGATE_ABOVE, "an aggregate lists only members it kept");
/// The names an aggregate keeps in `subjects`.
pub const MAX_SUBJECTS: usize = 1000;
/// The kind of findings that name no [`Item`]: their subjects are the names.
const SUBJECTS: &str = "subjects";

/// Findings, with those of one kind, status and message aggregated when
/// there are more than [`AGGREGATE_ABOVE`]: one finding whose subject counts
/// them (`1,000,000 Mesos agents`), with `count`, the first
/// [`MAX_SUBJECTS`] names in `subjects`, and the evidence and fixes of the
/// first [`LISTED`]. A finding without an [`Item`] is of the kind
/// `subjects`, named by its subject. The aggregate stands where the first of
/// them stood; fewer stay as and where they were. Streams: it holds at most
/// [`AGGREGATE_ABOVE`] findings and [`MAX_SUBJECTS`] names per kind, so a
/// check may feed it a million findings lazily. Idempotent.
pub fn aggregate(findings: impl IntoIterator<Item = Finding>) -> Vec<Finding> {
    // Most slots hold a finding that stays as it is: boxing each would cost
    // an allocation per finding to save the few aggregate slots' bytes.
    #[allow(clippy::large_enum_variant)]
    enum Slot {
        One(Finding),
        Aggregate(usize),
        Moved,
    }
    #[derive(Default)]
    struct Group {
        kind: &'static str,
        count: usize,
        names: Vec<String>,
        /// What the members are about, while there are few enough to say.
        scopes: Option<Vec<Scope>>,
        /// Slots of the members while there are few.
        members: Vec<usize>,
        /// The first members, once aggregated.
        first: Vec<Finding>,
    }
    let mut slots: Vec<Slot> = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    type Key = (&'static str, Status, Option<&'static str>, String);
    let mut index: std::collections::HashMap<Key, usize> = Default::default();
    for finding in findings {
        if finding.count.is_some() {
            slots.push(Slot::One(finding));
            continue;
        }
        let (kind, name) = match &finding.item {
            Some(item) => (item.kind, &item.name),
            None => (SUBJECTS, &finding.subject),
        };
        let key = (kind, finding.status, finding.problem, finding.message.clone());
        let g = *index.entry(key).or_insert_with(|| {
            groups.push(Group { kind, scopes: Some(Vec::new()), ..Group::default() });
            groups.len() - 1
        });
        let group = &mut groups[g];
        group.count += 1;
        if group.names.len() < MAX_SUBJECTS {
            group.names.push(name.clone());
        }
        add_scopes(&mut group.scopes, &finding.scope);
        if group.count <= AGGREGATE_ABOVE {
            group.members.push(slots.len());
            slots.push(Slot::One(finding));
        } else if group.count == AGGREGATE_ABOVE + 1 {
            for (i, at) in std::mem::take(&mut group.members).into_iter().enumerate() {
                let slot = if i == 0 { Slot::Aggregate(g) } else { Slot::Moved };
                if let Slot::One(member) = std::mem::replace(&mut slots[at], slot) {
                    group.first.push(member);
                }
            }
        }
    }
    let mut out = Vec::new();
    for slot in slots {
        match slot {
            Slot::One(finding) => out.push(finding),
            Slot::Aggregate(g) => {
                let group = std::mem::take(&mut groups[g]);
                let mut finding = aggregated(group.kind, group.count, group.names, group.first);
                finding.scope = group.scopes.unwrap_or_default();
                out.push(finding);
            }
            Slot::Moved => {}
        }
    }
    out
}

/// The scopes of an aggregate's members, each once; past [`MAX_SUBJECTS`]
/// none at all (`None`): an aggregate whose members cannot all be named
/// cannot be shown to be explained, so it is never folded.
fn add_scopes(kept: &mut Option<Vec<Scope>>, scopes: &[Scope]) {
    let Some(list) = kept else { return };
    for scope in scopes {
        if !list.contains(scope) {
            list.push(scope.clone());
        }
    }
    if list.len() > MAX_SUBJECTS {
        *kept = None;
    }
}

/// One finding for `count` items of `kind`, from the first of them.
fn aggregated(kind: &'static str, count: usize, names: Vec<String>, first: Vec<Finding>) -> Finding {
    let listed = first.len().min(LISTED);
    let mut finding = Finding::new(first[0].status, format!("{} {kind}", thousands(count)), first[0].message.clone());
    finding.problem = first[0].problem;
    for one in first.into_iter().take(LISTED) {
        for line in one.evidence {
            if !finding.evidence.contains(&line) {
                finding.evidence.push(line);
            }
        }
        for remedy in one.remediation {
            if !finding.remediation.contains(&remedy) {
                finding.remediation.push(remedy);
            }
        }
    }
    finding.evidence.push(format!(
        "evidence and fixes above are those of the first {listed}; the other {} {kind} need the same fix for \
         their own name (the JSON report's subjects lists the first {})",
        thousands(count - listed),
        thousands(names.len()),
    ));
    finding.count = Some(count);
    finding.subjects = names;
    finding
}

/// `1000000` -> `1,000,000`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The outcome of one check in a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub duration_ms: u64,
    /// Why the check skipped or errored; for a pass, what it looked at.
    pub reason: Option<String>,
    pub findings: Vec<Finding>,
    /// In a fleet run, a node check's status on each node.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_node: BTreeMap<String, Status>,
    /// What the sources it read are about (its findings are about them too).
    #[serde(skip)]
    pub scope: Vec<Scope>,
    /// For a check that ended `error` with only a reason: the problems
    /// that explain why it could not judge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caused_by: Vec<Cause>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    pub error: usize,
    /// Findings a waiver accepts (they do not count).
    #[serde(default)]
    pub waived: usize,
}

impl Summary {
    pub fn of(checks: &[CheckReport]) -> Self {
        let mut s = Summary::default();
        for c in checks {
            *s.count_mut(c.status) += 1;
            s.waived += c.findings.iter().filter(|f| f.is_waived()).count();
        }
        s
    }

    pub fn count(&self, status: Status) -> usize {
        match status {
            Status::Pass => self.pass,
            Status::Warn => self.warn,
            Status::Fail => self.fail,
            Status::Skip => self.skip,
            Status::Error => self.error,
        }
    }

    fn count_mut(&mut self, status: Status) -> &mut usize {
        match status {
            Status::Pass => &mut self.pass,
            Status::Warn => &mut self.warn,
            Status::Fail => &mut self.fail,
            Status::Skip => &mut self.skip,
            Status::Error => &mut self.error,
        }
    }
}

/// Where the run looked: shown in the human header, kept in JSON for context.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub hostname: Option<String>,
    pub roles: Vec<String>,
    /// `live`, `root DIR` or `snapshot FILE`.
    pub source: String,
}

/// How a fleet node's session ended (DESIGN.md C1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeState {
    /// The node answered with its snapshot.
    Reached,
    /// ssh could not connect or authenticate (its own message says why).
    Unreachable,
    /// The node answered, but not with a usable snapshot.
    Error,
    /// Still running at the deadline, or not started before it.
    CutOff,
    /// Not a valid destination: never handed to ssh.
    Refused,
}

impl NodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Reached => "reached",
            NodeState::Unreachable => "unreachable",
            NodeState::Error => "error",
            NodeState::CutOff => "cut-off",
            NodeState::Refused => "refused",
        }
    }
}

impl fmt::Display for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One node of a fleet run, as the report lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FleetNode {
    /// The name it was given (`--nodes`, a deploy file line), without
    /// `user@` and `:port`: the name findings and `by_node` use.
    pub host: String,
    /// What the node calls itself, when it was reached.
    pub hostname: Option<String>,
    pub address: Option<std::net::IpAddr>,
    pub state: NodeState,
    pub roles: Vec<String>,
    pub duration_ms: u64,
    /// ssh's or the node's own words when it was not reached.
    pub error: Option<String>,
}

/// A whole run (`schema_version` 1 of the JSON contract).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: String,
    pub version: String,
    pub started_at: String,
    pub duration_ms: u64,
    pub status: Status,
    pub summary: Summary,
    pub node: NodeInfo,
    /// The config file the run used (`--config`, `./clusterdoc.toml`, ...).
    #[serde(default)]
    pub config: Option<String>,
    /// Config files and check packs found but not used, and why.
    #[serde(default)]
    pub ignored: Vec<crate::trust::Ignored>,
    /// A fleet run's nodes, in the order they were named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<FleetNode>,
    /// Waivers that matched no finding (`--waivers`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale_waivers: Vec<StaleWaiver>,
    /// How the run compares with `--baseline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineUse>,
    /// `--phase`: judged as before or after a deploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<crate::target::Phase>,
    /// The problems no other explains, in the order to fix them (DESIGN.md C2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub root_causes: Vec<RootCause>,
    pub checks: Vec<CheckReport>,
}

impl Report {
    /// The report of a run: findings aggregated ([`aggregate`]) and each
    /// fix for a host that is this node's own name made a fix for this node.
    pub fn new(started_at: String, duration_ms: u64, node: NodeInfo, mut checks: Vec<CheckReport>) -> Self {
        for check in &mut checks {
            check.findings = aggregate(std::mem::take(&mut check.findings));
            for remedy in check.findings.iter_mut().flat_map(|f| &mut f.remediation) {
                remedy.runs_on = std::mem::take(&mut remedy.runs_on).localized(node.hostname.as_deref());
            }
        }
        Report {
            schema_version: 1,
            tool: "clusterdoc".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            started_at,
            duration_ms,
            status: worst(checks.iter().map(|c| c.status)),
            summary: Summary::of(&checks),
            node,
            config: None,
            ignored: Vec::new(),
            nodes: Vec::new(),
            stale_waivers: Vec::new(),
            baseline: None,
            phase: None,
            root_causes: Vec::new(),
            checks,
        }
    }

    pub fn exit_code(&self) -> i32 {
        self.status.exit_code()
    }

    /// This report with the checks `rerun` judged again in place of its own
    /// (a `--wait` rerun), and its fleet's nodes as the rerun saw them.
    pub fn with_checks_of(mut self, rerun: Report) -> Report {
        for check in rerun.checks {
            if let Some(slot) = self.checks.iter_mut().find(|c| c.id == check.id) {
                *slot = check;
            }
        }
        if !rerun.nodes.is_empty() {
            self.nodes = rerun.nodes;
        }
        self.status = worst(self.checks.iter().map(|c| c.status));
        self.summary = Summary::of(&self.checks);
        self
    }
}

/// A check's findings as plain, sanitized text (one block per finding), for
/// formats that carry a free-text body.
pub fn plain_findings(check: &CheckReport) -> String {
    use crate::text::sanitize;
    let mut out = String::new();
    for f in &check.findings {
        let on = f.node.as_deref().map(|n| format!("on {}: ", sanitize(n))).unwrap_or_default();
        out.push_str(&format!("[{}] {on}{}: {}\n", f.status, sanitize(&f.subject), sanitize(&f.message)));
        for line in accepted::marks(f) {
            out.push_str(&format!("  accepted: {line}\n"));
        }
        if let Some(names) = subjects_line(f, false) {
            out.push_str(&format!("  subjects: {names}\n"));
        }
        for e in &f.evidence {
            out.push_str(&format!("  evidence: {}\n", sanitize(e)));
        }
        for r in &f.remediation {
            out.push_str(&format!("  fix [{}]: {}\n", r.risk, fix_text(r)));
        }
    }
    out
}

/// An aggregate's names, sanitized: the first [`LISTED`], or all it kept.
pub fn subjects_line(finding: &Finding, all: bool) -> Option<String> {
    let count = finding.count?;
    let shown = if all { finding.subjects.len() } else { finding.subjects.len().min(LISTED) };
    let names: Vec<String> = finding.subjects.iter().take(shown).map(|n| crate::text::sanitize(n)).collect();
    let more = if shown < count {
        format!(", … (the first {} of {})", thousands(shown), thousands(count))
    } else {
        String::new()
    };
    Some(format!("{}{more}", names.join(", ")))
}

/// A fix as a line of text, sanitized: `on HOST: COMMAND` when it must run
/// elsewhere than the node the report is about.
pub fn fix_text(remedy: &Remedy) -> String {
    use crate::text::sanitize;
    match remedy.runs_on.elsewhere() {
        Some(place) => format!("on {}: {}", sanitize(&place), sanitize(&remedy.command)),
        None => sanitize(&remedy.command),
    }
}

/// Node names with their numbered runs folded, pdsh style:
/// `agent01, agent02, agent03, agent05, m1` -> `agent[01-03,05], m1`. A name
/// is split at its last run of digits; names alike around it share one
/// bracket, in the order their first member was given.
pub fn node_ranges(names: &[&str]) -> String {
    /// A name without digits stands alone; the others join their group.
    enum Entry<'a> {
        Alone(&'a str),
        Group { prefix: &'a str, suffix: &'a str, numbers: Vec<&'a str> },
    }
    let mut entries: Vec<Entry> = Vec::new();
    for name in names {
        let Some(end) = name.rfind(|c: char| c.is_ascii_digit()).map(|i| i + 1) else {
            entries.push(Entry::Alone(name));
            continue;
        };
        let start = name[..end].rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
        let (prefix, digits, suffix) = (&name[..start], &name[start..end], &name[end..]);
        let group = entries.iter_mut().find_map(|e| match e {
            Entry::Group { prefix: p, suffix: s, numbers } if *p == prefix && *s == suffix => Some(numbers),
            _ => None,
        });
        match group {
            Some(numbers) => numbers.push(digits),
            None => entries.push(Entry::Group { prefix, suffix, numbers: vec![digits] }),
        }
    }
    let texts: Vec<String> = entries
        .into_iter()
        .map(|entry| match entry {
            Entry::Alone(name) => name.to_string(),
            Entry::Group { prefix, suffix, numbers } if numbers.len() == 1 => format!("{prefix}{}{suffix}", numbers[0]),
            Entry::Group { prefix, suffix, numbers } => format!("{prefix}[{}]{suffix}", number_runs(numbers)),
        })
        .collect();
    texts.join(", ")
}

/// `01,02,03,05` -> `01-03,05`: consecutive numbers become a run, of one
/// width when they are zero-padded.
fn number_runs(mut numbers: Vec<&str>) -> String {
    let value = |digits: &str| digits.parse::<u128>().unwrap_or(u128::MAX);
    let padded = |digits: &str| digits.len() > 1 && digits.starts_with('0');
    let follows = |last: &str, next: &str| {
        value(last).checked_add(1) == Some(value(next)) && (last.len() == next.len() || !padded(last) && !padded(next))
    };
    numbers.sort_by_key(|d| (value(d), d.len()));
    numbers.dedup();
    let mut runs: Vec<(&str, &str)> = Vec::new();
    for digits in numbers {
        match runs.last_mut() {
            Some((_, last)) if follows(last, digits) => {
                *last = digits;
            }
            _ => runs.push((digits, digits)),
        }
    }
    let runs: Vec<String> =
        runs.into_iter().map(|(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") }).collect();
    runs.join(",")
}

/// The worst of some statuses; `pass` when there are none.
pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Status {
    statuses.into_iter().max().unwrap_or(Status::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_plugin_convention() {
        assert_eq!(worst([Status::Pass, Status::Skip]).exit_code(), 0);
        assert_eq!(worst([Status::Pass, Status::Warn]).exit_code(), 1);
        assert_eq!(worst([Status::Error, Status::Fail, Status::Warn]).exit_code(), 2);
        assert_eq!(worst([Status::Error, Status::Warn]).exit_code(), 3);
        assert_eq!(worst([]), Status::Pass);
    }

    fn agent(n: usize) -> Finding {
        use crate::remedy::{Cmd, HostGroup, RunsOn};
        let name = format!("Agent{n:04}");
        Finding::new(Status::Fail, format!("Mesos agent {name}"), "host name has upper-case letters")
            .evidence(format!("agent S{n} hostname {name}"))
            .evidence("Flink version unknown")
            .fix(
                Cmd::new("hostnamectl")
                    .value(name.to_lowercase())
                    .disruptive()
                    .on(RunsOn::host_of(&name, HostGroup::MesosAgents)),
            )
            .item("Mesos agents", name)
    }

    #[test]
    fn node_names_fold_into_ranges() {
        assert_eq!(node_ranges(&["agent01", "agent02", "agent03", "agent05", "m1"]), "agent[01-03,05], m1");
        assert_eq!(node_ranges(&["10.232.0.3", "10.232.0.2", "10.232.0.4"]), "10.232.0.[2-4]");
        assert_eq!(node_ranges(&["zk", "node9", "node10", "node11"]), "zk, node[9-11]");
        assert_eq!(node_ranges(&["a1.example", "a2.example", "b1.example"]), "a[1-2].example, b1.example");
        assert_eq!(node_ranges(&["n1"]), "n1");
        assert_eq!(node_ranges(&[]), "");
        // Widths differ: 9 and 010 are not one run.
        assert_eq!(node_ranges(&["n9", "n010"]), "n[9,010]");
    }

    #[test]
    fn a_few_findings_of_a_kind_stay_as_they_are() {
        let few: Vec<Finding> = (0..AGGREGATE_ABOVE).map(agent).collect();
        assert_eq!(aggregate(few.clone()), few);
    }

    #[test]
    fn many_findings_of_a_kind_become_one_where_the_first_stood() {
        let other = Finding::new(Status::Warn, "host m1", "other");
        let odd = Finding::new(Status::Warn, "Mesos agent X", "another message").item("Mesos agents", "X");
        let findings = std::iter::once(other.clone()).chain((0..100_000).map(agent)).chain([odd.clone()]);
        let out = aggregate(findings);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], other);
        assert_eq!(out[2], odd);
        let all = &out[1];
        assert_eq!(all.subject, "100,000 Mesos agents");
        assert_eq!(all.message, "host name has upper-case letters");
        assert_eq!(all.count, Some(100_000));
        assert_eq!(all.subjects.len(), MAX_SUBJECTS);
        assert_eq!(all.subjects[..2], ["Agent0000", "Agent0001"]);
        assert_eq!(all.remediation.len(), LISTED);
        assert_eq!(all.remediation[1].runs_on.elsewhere().as_deref(), Some("Agent0001"));
        // Shared evidence once, each listed item's own, and what was left out.
        assert_eq!(all.evidence.iter().filter(|e| *e == "Flink version unknown").count(), 1);
        assert_eq!(all.evidence.len(), LISTED + 2);
        assert!(all.evidence.last().unwrap().contains("the other 99,980 Mesos agents"), "{:?}", all.evidence);
        assert_eq!(aggregate(out.clone()), out, "aggregating twice changes nothing");
        assert_eq!(subjects_line(all, false).unwrap().split(", ").count(), LISTED + 1);
        assert!(subjects_line(all, true).unwrap().ends_with("Agent0999, … (the first 1,000 of 100,000)"));
    }

    #[test]
    fn findings_without_an_item_aggregate_by_subject_and_few_keep_their_order() {
        let refused = |n: usize| Finding::new(Status::Fail, format!("10.0.{}.{}:5051", n / 256, n % 256), "refused");
        let other = |n: usize| Finding::new(Status::Warn, format!("other {n}"), format!("message {n}"));
        let few: Vec<Finding> = (0..10).flat_map(|n| [refused(n), other(n)]).collect();
        assert_eq!(aggregate(few.clone()), few, "interleaved findings keep their places");
        let many = (0..5000).flat_map(|n| std::iter::once(refused(n)).chain((n % 1000 == 1).then(|| other(n))));
        let out = aggregate(many);
        let subjects: Vec<&str> = out.iter().map(|f| f.subject.as_str()).collect();
        assert_eq!(subjects, ["5,000 subjects", "other 1", "other 1001", "other 2001", "other 3001", "other 4001"]);
        assert_eq!(out[0].subjects[..2], ["10.0.0.0:5051", "10.0.0.1:5051"]);
        assert_eq!((out[0].message.as_str(), out[0].count), ("refused", Some(5000)));
    }

    #[test]
    fn counts_read_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn a_fix_for_a_host_that_is_this_node_runs_here() {
        use crate::remedy::{Cmd, HostGroup, RunsOn};
        let fix = |host: &str| Cmd::new("true").safe().on(RunsOn::host_of(host, HostGroup::MesosAgents));
        let finding = Finding::new(Status::Fail, "x", "y").fix(fix("SZV1")).fix(fix("szv2"));
        let check = CheckReport {
            id: "c".into(),
            title: "t".into(),
            status: Status::Fail,
            duration_ms: 0,
            reason: None,
            findings: vec![finding],
            by_node: Default::default(),
            scope: Vec::new(),
            caused_by: Vec::new(),
        };
        let node = NodeInfo { hostname: Some("szv1".into()), ..Default::default() };
        let report = Report::new("t".into(), 0, node, vec![check]);
        let places: Vec<Option<String>> =
            report.checks[0].findings[0].remediation.iter().map(|r| r.runs_on.elsewhere()).collect();
        assert_eq!(places, [None, Some("szv2".to_string())]);
    }
}
