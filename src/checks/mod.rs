//! The checks. Each file holds one check: its id, title, needs and explain text
//! next to its logic, which reads [`Facts`] and does no I/O of its own.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::facts::{Fact, Facts, Need};
use crate::report::{Finding, Status};

/// Text of a check's metadata: static for the built-in checks, owned for
/// the checks of packs (loaded at run time, and dropped with their catalog).
pub type Text = Cow<'static, str>;

/// A list of [`Text`]s.
pub type Texts = Cow<'static, [Text]>;

/// Static [`Texts`] for a built-in check's metadata: `texts!["a", "b"]`.
macro_rules! texts {
    ($($text:expr),* $(,)?) => {
        std::borrow::Cow::Borrowed(&[$(std::borrow::Cow::Borrowed($text)),*])
    };
}
pub(crate) use texts;

/// A check's explain text, in the sections of a ruff rule's documentation.
#[derive(Debug)]
pub struct Explain {
    /// What it looks for.
    pub what: Text,
    /// Why it matters: the real failure it prevents.
    pub why: Text,
    /// How to fix what it finds.
    pub fix: Text,
    /// The risk of the fixes it prints.
    pub risk: Text,
    /// Upstream issues, changelogs, docs.
    pub references: Texts,
}

/// The metadata `list` and `explain` show.
#[derive(Debug)]
pub struct CheckMeta {
    pub id: Text,
    pub title: Text,
    /// The status a check reports when it finds its pitfall at its worst.
    pub severity: Status,
    /// The fact sources `run` reads; the runner gathers exactly these.
    pub needs: &'static [Need],
    pub tags: Texts,
    /// `built-in`, or the pack file a check came from.
    pub source: Text,
    pub explain: Explain,
}

impl CheckMeta {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "tags": self.tags,
            "source": self.source,
        })
    }

    pub fn explain_text(&self) -> String {
        let e = &self.explain;
        let mut text = format!(
            "{} - {}\n\nWhat it looks for\n{}\n\nWhy it matters\n{}\n\nHow to fix it\n{}\n\nRisk of the fix\n{}\n",
            self.id,
            self.title,
            wrap(&e.what),
            wrap(&e.why),
            wrap(&e.fix),
            wrap(&e.risk)
        );
        if !e.references.is_empty() {
            text.push_str("\nReferences\n");
            for r in e.references.iter() {
                text.push_str(&format!("  - {r}\n"));
            }
        }
        text
    }
}

fn wrap(text: &str) -> String {
    text.lines().map(|l| format!("  {}", l.trim())).collect::<Vec<_>>().join("\n")
}

/// What a check concluded when it could judge: its findings (none: pass).
#[derive(Debug, Default, PartialEq)]
pub struct Conclusion {
    /// Problems found; empty means pass.
    pub findings: Vec<Finding>,
    /// For a pass: what was looked at ("3 host names checked").
    pub note: Option<String>,
}

impl Conclusion {
    pub fn pass(note: impl Into<String>) -> Self {
        Conclusion { findings: Vec::new(), note: Some(note.into()) }
    }

    pub fn findings(findings: Vec<Finding>, note: impl Into<String>) -> Self {
        Conclusion { findings, note: Some(note.into()) }
    }

    pub fn status(&self) -> Status {
        crate::report::worst(self.findings.iter().map(|f| f.status))
    }
}

/// Why a check could not judge, and so reached no [`Conclusion`].
#[derive(Debug, PartialEq)]
pub enum NotJudged {
    /// Does not apply here, or an implicit target is absent.
    Skip(String),
    /// Could not decide: bad data, a named target unreachable.
    Error(String),
}

/// A check's answer: a conclusion, or why there is none.
pub type Verdict = Result<Conclusion, NotJudged>;

pub trait Check: Send + Sync {
    fn meta(&self) -> &CheckMeta;
    fn run(&self, facts: &Facts) -> Verdict;
}

/// The value of a fact a check cannot judge without: unavailable -> skip,
/// failed or never gathered -> error.
pub fn required<'a, T>(fact: &'a Option<Fact<T>>, what: &str) -> Result<&'a T, NotJudged> {
    match fact {
        Some(Fact::Observed { value }) => Ok(value),
        Some(Fact::Unavailable { reason }) => Err(NotJudged::Skip(reason.clone())),
        Some(Fact::Failed { error }) => Err(NotJudged::Error(error.clone())),
        None => {
            Err(NotJudged::Error(format!("{what} were not gathered (a snapshot taken with other checks selected?)")))
        }
    }
}

/// The value of a fact inside an observed source: unavailable skips, failed errors.
pub fn observed<'a, T>(fact: &'a Fact<T>, what: &str) -> Result<&'a T, NotJudged> {
    match fact {
        Fact::Observed { value } => Ok(value),
        Fact::Unavailable { reason } => Err(NotJudged::Skip(format!("{what}: {reason}"))),
        Fact::Failed { error } => Err(NotJudged::Error(format!("{what}: {error}"))),
    }
}

/// Findings, unless part of what the check must look at could not be judged
/// (`undecided`, each with its reason) and nothing failed: a partial look
/// must not pass, nor merely warn.
pub fn conclude(findings: Vec<Finding>, undecided: Vec<String>, note: impl Into<String>) -> Verdict {
    if undecided.is_empty() || findings.iter().any(|f| f.status == Status::Fail) {
        let mut note = note.into();
        if !undecided.is_empty() {
            note.push_str(&format!("; not judged: {}", undecided.join("; ")));
        }
        return Ok(Conclusion::findings(findings, note));
    }
    let mut reason = undecided.join("; ");
    if !findings.is_empty() {
        // Bounded like a report's aggregates: a million findings are not one reason.
        let listed = crate::report::LISTED;
        let mut subjects: Vec<&str> = findings.iter().take(listed).map(|f| f.subject.as_str()).collect();
        let more = findings.len().saturating_sub(listed);
        let more_text = format!("and {} more", crate::report::thousands(more));
        if more > 0 {
            subjects.push(&more_text);
        }
        reason.push_str(&format!(" (also found: {})", subjects.join(", ")));
    }
    Err(NotJudged::Error(reason))
}

/// Declares the built-in checks, each once: its module and its place in the
/// catalog. Adding a check is its file and a line here.
macro_rules! built_in_checks {
    ($($module:ident::$check:ident),+ $(,)?) => {
        $(mod $module;)+

        /// Every built-in check, in catalog order (DESIGN.md's table).
        pub fn catalog() -> Vec<Box<dyn Check>> {
            vec![$(Box::new($module::$check)),+]
        }
    };
}

built_in_checks! {
    hostname_case::HostnameCase,
    hostname_resolution::HostnameResolution,
    zk_quorum::ZkQuorum,
    zk_marathon_reuse::ZkMarathonReuse,
    systemd_respawn::SystemdRespawn,
    firewalld_ports::FirewalldPorts,
    net_reachability::NetReachability,
    ports_local_conflict::PortsLocalConflict,
    marathon_port_collision::MarathonPortCollision,
    marathon_leader::MarathonLeader,
    marathon_queue::MarathonQueue,
    mesos_leader::MesosLeader,
    flink_taskmanager_orphans::FlinkTaskmanagerOrphans,
    mesos_work_dir::MesosWorkDir,
    mesos_advertise_address::MesosAdvertiseAddress,
    marathon_failover::MarathonFailover,
    marathon_framework_id::MarathonFrameworkId,
    fleet_zk_ensemble::FleetZkEnsemble,
    fleet_mesos_masters::FleetMesosMasters,
    fleet_clock_skew::FleetClockSkew,
    fleet_marathon_config::FleetMarathonConfig,
    fleet_versions::FleetVersions,
    fleet_name_resolution::FleetNameResolution,
    fleet_nodes::FleetNodes,
}

/// The union of the needs of some checks.
pub fn needs_of(checks: &[Arc<dyn Check>]) -> BTreeSet<Need> {
    checks.iter().flat_map(|c| c.meta().needs.iter().copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids of DESIGN.md's table, which scripts rely on: they come first,
    /// in this order; later checks follow them.
    #[test]
    fn catalog_starts_with_the_contract_ids_in_order() {
        let catalog = catalog();
        let ids: Vec<&str> = catalog.iter().map(|c| c.meta().id.as_ref()).collect();
        assert_eq!(
            ids[..13],
            [
                "hostname.case",
                "hostname.resolution",
                "zk.quorum",
                "zk.marathon-reuse",
                "systemd.respawn",
                "firewalld.ports",
                "net.reachability",
                "ports.local-conflict",
                "marathon.port-collision",
                "marathon.leader",
                "marathon.queue",
                "mesos.leader",
                "flink.taskmanager-orphans",
            ]
        );
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "an id is declared twice: {ids:?}");
    }

    #[test]
    fn an_undecided_look_names_a_bounded_number_of_other_findings() {
        let findings: Vec<Finding> =
            (0..100_000).map(|n| Finding::new(Status::Warn, format!("agent{n}"), "inactive")).collect();
        let Err(NotJudged::Error(reason)) = conclude(findings, vec!["/master/state: truncated".into()], "") else {
            panic!("a partial look must not pass")
        };
        assert!(reason.starts_with("/master/state: truncated (also found: agent0, agent1,"), "{reason}");
        assert!(reason.ends_with("agent19, and 99,980 more)"), "{reason}");
    }
}
