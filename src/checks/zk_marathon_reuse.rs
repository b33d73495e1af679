//! `zk.marathon-reuse`: Marathon's ZooKeeper path is not reused across versions.
//!
//! Compares the storage version Marathon left under its path with the version
//! being deployed, looks for live candidates of both leader elections and
//! for an interrupted migration. Reads facts only; the fixes it prints are
//! a fresh path (safe), a backup and deletion of the old tree (destructive)
//! and stopping the old instances (disruptive).

use std::borrow::Cow;
use super::{Check, CheckMeta, Explain, Conclusion, NotJudged, Verdict, required};
use crate::facts::zookeeper::{ElectionNode, LayoutKind, MarathonTree, StorageFormat, StoredVersion, VersionNode};
use crate::facts::{Fact, Facts, Need};
use crate::remedy::{Cmd, HostGroup, Remedy, RunsOn, zk_delete_tree};
use crate::report::{Finding, Status};
use crate::target::ZkTarget;
use crate::version::Version;

pub struct ZkMarathonReuse;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("zk.marathon-reuse"),
    title: Cow::Borrowed("Marathon's ZooKeeper path is not reused across versions"),
    severity: Status::Fail,
    needs: &[Need::MarathonZk, Need::Marathon, Need::Zookeeper],
    tags: texts!["zookeeper", "marathon"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("Reads (never writes) Marathon's ZooKeeper path (the --zk URL, /marathon by default): the storage \
               version in state/internal:storage:version, the live candidates of both leader elections (leader/ for \
               twitter-commons, leader-curator/ for Curator), the state layout (flat up to 1.3, nested from 1.4) \
               and state/migration-in-progress. It compares the stored version with the Marathon being deployed \
               (--expect-marathon-version, else the running Marathon's /v2/info)."),
        why: Cow::Borrowed("Leader information and state differ between Marathon versions. Marathon 1.1 elects its leader with \
              twitter-commons under /marathon/leader, 1.3 and 1.4 with Curator under /marathon/leader-curator, 1.5+ \
              with Curator only: a 1.1 instance and a 1.5 instance on the same path can both believe they lead \
              (1.3.0 changelog: stop all older instances first). A newer Marathon migrates the stored data in place \
              when it first leads and then older versions cannot use it; Marathon 1.3.8+ refuses a storage version \
              newer than itself; 1.5 to 1.7 need at least 1.4.0 data in the PERSISTENCE_STORE format, 1.8 to 1.10 at \
              least 1.6.0. A leftover state/migration-in-progress makes the next leader fail with \"Migration is \
              already in progress\"."),
        fix: Cow::Borrowed("Give the new Marathon its own path (--zk zk://HOSTS/marathon-VERSION), or back the old tree up and \
              delete it (zkCli.sh deleteall on ZooKeeper 3.5+, rmr on 3.4), or upgrade through every release in \
              between without skipping. NotJudged every old instance before a new version starts. After an interrupted \
              migration, restore the backup taken before the upgrade and start the newer version again."),
        risk: Cow::Borrowed("A fresh path is safe (the old tree stays). Deleting the tree loses Marathon's apps, groups and \
               deployments: destructive, back up first. Stopping Marathon instances is disruptive (no scheduling \
               until a new leader is elected)."),
        references: texts![
            "Marathon 1.3.0 changelog: the new leader election library is not compatible with versions prior to 1.2.0",
            "Marathon docs, \"Data migration\": back up before upgrading; migration-in-progress",
            "Marathon storage: StorageVersions, ZkPersistenceStore.setStorageVersion, MigrationTo1_4_PersistenceStore",
        ],
    },
};

impl Check for ZkMarathonReuse {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let tree = required(&facts.marathon_zk, "Marathon's ZooKeeper tree")?;
        let site = Site::of(facts, tree)?;
        if is_fresh(tree) {
            return Ok(Conclusion::pass(format!("{} holds no Marathon data: a fresh path", site.url())));
        }
        let deployed = deployed_version(facts);
        let mut findings = Vec::new();
        findings.extend(version_findings(&site, &deployed));
        findings.extend(election_findings(&site, &deployed));
        findings.extend(migration_finding(&site));
        findings.extend(layout_finding(&site));
        Ok(Conclusion::findings(findings, site.summary(&deployed)))
    }
}

/// The Marathon release lines, in order (1.2 was never released).
const RELEASES: [Version; 9] = [
    Version::new(1, 1, 0),
    Version::new(1, 3, 0),
    Version::new(1, 4, 0),
    Version::new(1, 5, 0),
    Version::new(1, 6, 0),
    Version::new(1, 7, 0),
    Version::new(1, 8, 0),
    Version::new(1, 9, 0),
    Version::new(1, 10, 0),
];

fn line(v: Version) -> String {
    format!("{}.{}", v.major, v.minor)
}

/// Where the tree lives and how to act on it.
struct Site<'a> {
    tree: &'a MarathonTree,
    target: &'a ZkTarget,
    /// The ZooKeeper release, to pick `deleteall` (3.5+) or `rmr` (3.4).
    zookeeper: Option<Version>,
}

impl<'a> Site<'a> {
    fn of(facts: &'a Facts, tree: &'a MarathonTree) -> Result<Self, NotJudged> {
        let target =
            facts.inputs.zk.as_ref().ok_or_else(|| NotJudged::Error("the snapshot names no ZooKeeper URL".into()))?;
        let zookeeper = facts.zookeeper.as_ref().and_then(Fact::value).and_then(|e| e.zookeeper_version());
        Ok(Site { tree, target, zookeeper })
    }

    fn url(&self) -> String {
        self.target.display()
    }

    fn servers(&self) -> String {
        self.target.server_list()
    }

    fn node(&self, relative: &str) -> String {
        format!("{}/{relative}", self.tree.path)
    }

    /// `--zk zk://HOSTS/marathon-1.8`: a path of the new version's own.
    fn fresh_path(&self, deployed: Version) -> Remedy {
        let url = format!("zk://{}{}-{}", self.servers(), self.tree.path, line(deployed));
        Cmd::new("marathon").word("--zk").value(url).safe().on(RunsOn::Every(HostGroup::MarathonHosts)).with_note(
            format!(
                "start Marathon {} on a path of its own, with its other flags unchanged (or set MARATHON_ZK); \
             the old tree stays untouched",
                line(deployed)
            ),
        )
    }

    fn backup(&self) -> Remedy {
        Cmd::new("zkCli.sh")
            .word("-server")
            .value(self.servers())
            .word("ls -R")
            .value(&self.tree.path)
            .safe()
            .with_note(
                "records the tree; for a full backup also copy the version-2 snapshot in the dataDir of one ZooKeeper \
             server before deleting anything",
            )
    }

    fn delete_tree(&self) -> Remedy {
        zk_delete_tree(
            &self.servers(),
            self.zookeeper,
            &self.tree.path,
            "loses every app, group and deployment stored there; back up first and stop every Marathon using this \
             path",
        )
    }

    fn summary(&self, deployed: &Deployed) -> String {
        let stored = match &self.tree.storage_version {
            VersionNode::Stored { version } => describe(version),
            VersionNode::Absent => "no storage version".into(),
            VersionNode::Undecodable { .. } | VersionNode::Unreadable { .. } => "an unreadable storage version".into(),
        };
        let deployed = match deployed {
            Deployed::Known { version, .. } => format!("deploying {version}"),
            Deployed::Unknown { .. } => "deployed version unknown".into(),
        };
        format!("{}: {stored}; {deployed}", self.url())
    }
}

/// `1.4.13 (Marathon 1.4, PERSISTENCE_STORE)`, `18.200.0 (Marathon 1.8, ...)`.
fn describe(v: &StoredVersion) -> String {
    format!("{} (Marathon {}, {} format)", v.number(), line(v.release()), v.format.as_str())
}

/// No data a Marathon left: no path, or nothing in it but empty directories.
fn is_fresh(tree: &MarathonTree) -> bool {
    !tree.exists
        || (tree.storage_version == VersionNode::Absent
            && tree.state.as_ref().is_none_or(|s| s.kind() == LayoutKind::Empty)
            && tree.leader.iter().chain(&tree.leader_curator).flatten().all(|n| !n.live())
            && tree.migration_in_progress.is_none())
}

/// The Marathon version being deployed, and how clusterdoc knows it.
enum Deployed {
    Known { version: Version, source: String },
    Unknown { why: String },
}

impl Deployed {
    fn version(&self) -> Option<Version> {
        match self {
            Deployed::Known { version, .. } => Some(*version),
            Deployed::Unknown { .. } => None,
        }
    }
}

fn deployed_version(facts: &Facts) -> Deployed {
    if let Some(version) = facts.inputs.expect_marathon_version {
        return Deployed::Known { version, source: format!("--expect-marathon-version {version}") };
    }
    let marathon = match &facts.marathon {
        Some(Fact::Observed { value }) => value,
        Some(fact) => {
            return Deployed::Unknown { why: format!("Marathon: {}", fact.problem().unwrap_or_default()) };
        }
        None => return Deployed::Unknown { why: "Marathon was not asked".into() },
    };
    let reported = match &marathon.info {
        Fact::Observed { value } => value.release(),
        other => {
            return Deployed::Unknown {
                why: format!("Marathon at {}: {}", marathon.url, other.problem().unwrap_or_default()),
            };
        }
    };
    match reported {
        Some(Ok(version)) => {
            Deployed::Known { version, source: format!("Marathon at {} reports version {version}", marathon.url) }
        }
        Some(Err(e)) => Deployed::Unknown { why: format!("Marathon at {}: {e}", marathon.url) },
        None => Deployed::Unknown { why: format!("Marathon at {} reports no version", marathon.url) },
    }
}

/// The oldest storage a release can migrate from: 1.5 to 1.7 need 1.4.0 in
/// the PERSISTENCE_STORE format, 1.8 and later need 1.6.0.
fn starting_point(deployed: Version) -> Option<(Version, Option<StorageFormat>)> {
    let deployed = (deployed.major, deployed.minor);
    if deployed >= (1, 8) {
        Some((Version::new(1, 6, 0), None))
    } else if deployed >= (1, 5) {
        Some((Version::new(1, 4, 0), Some(StorageFormat::PersistenceStore)))
    } else {
        None
    }
}

/// The release lines strictly between two versions.
fn releases_between(from: Version, to: Version) -> Vec<String> {
    RELEASES.iter().filter(|r| r.line() > from.line() && r.line() < to.line()).map(|r| line(*r)).collect()
}

fn version_findings(site: &Site, deployed: &Deployed) -> Vec<Finding> {
    let subject = format!("ZooKeeper {}", site.url());
    let stored = match stored_version(site, &subject) {
        Ok(stored) => stored,
        Err(finding) => return vec![*finding],
    };
    let (to, source) = match deployed {
        Deployed::Known { version, source } => (*version, source),
        Deployed::Unknown { why } => return vec![target_unknown(site, subject, &stored, why)],
    };
    let from = stored.version.release();
    let finding = |status: Status, message: String| {
        Finding::new(status, subject.clone(), message).evidence(stored.evidence.clone()).evidence(source.clone())
    };
    if from.line() == to.line() {
        Vec::new()
    } else if from.line() > to.line() {
        vec![with_fresh_start_fixes(site, finding(Status::Fail, downgrade_message(site, from, to)), to)]
    } else if let Some(message) = no_migration_path(&stored.version, to) {
        vec![with_fresh_start_fixes(site, finding(Status::Fail, message), to)]
    } else {
        vec![
            finding(Status::Warn, in_place_migration_message(from, to))
                .fix(site.backup())
                .fixes(stop_instances(&live_hosts(site.tree), &format!("every Marathon {} instance", line(from)))),
        ]
    }
}

/// The storage version node as read, with its evidence line.
struct Stored {
    version: StoredVersion,
    evidence: String,
}

/// The stored version, or the finding that says why it is not known.
fn stored_version(site: &Site, subject: &str) -> Result<Stored, Box<Finding>> {
    let node = site.node("state/internal:storage:version");
    let finding = match &site.tree.storage_version {
        VersionNode::Stored { version } => {
            return Ok(Stored { version: *version, evidence: format!("{node}: {}", describe(version)) });
        }
        VersionNode::Absent => Finding::new(
            Status::Error,
            subject,
            "Marathon data is present but there is no storage version node: which version wrote it cannot be told",
        )
        .evidence(format!("{node}: absent"))
        .evidence(state_evidence(site))
        .fix(site.backup()),
        VersionNode::Undecodable { bytes, problem } => Finding::new(
            Status::Error,
            subject,
            format!(
                "the storage version node cannot be decoded ({bytes} bytes), so whether the Marathon being deployed \
                 can use this data cannot be told"
            ),
        )
        .evidence(format!("{node}: {bytes} bytes, {problem}"))
        .fix(inspect(site, &node)),
        VersionNode::Unreadable { error } => {
            Finding::new(Status::Error, subject, format!("the storage version node cannot be read: {error}"))
                .evidence(format!("{node}: {error}"))
                .problem("unreadable")
        }
    };
    Err(Box::new(finding))
}

fn target_unknown(site: &Site, subject: String, stored: &Stored, why: &str) -> Finding {
    Finding::new(
        Status::Warn,
        subject,
        format!(
            "{} was written by Marathon {}; the version being deployed is not known ({why}), so whether it can use \
             this data cannot be told: name it with --expect-marathon-version",
            site.tree.path,
            line(stored.version.release())
        ),
    )
    .evidence(stored.evidence.clone())
    .fix(site.backup())
}

/// The fixes for data the Marathon being deployed cannot use: a fresh path,
/// or back up and delete the old tree.
fn with_fresh_start_fixes(site: &Site, finding: Finding, to: Version) -> Finding {
    finding.fix(site.fresh_path(to)).fix(site.backup()).fix(site.delete_tree())
}

fn downgrade_message(site: &Site, from: Version, to: Version) -> String {
    format!(
        "{} holds data of Marathon {}, newer than {to} being deployed: Marathon 1.3.8+ refuses a storage version \
         newer than itself (\"too new\"), older releases run on data they do not understand, and data migrated by \
         1.4+ cannot go back",
        site.tree.path,
        line(from)
    )
}

/// Why Marathon `to` cannot migrate the stored data, if it cannot: the data
/// is older than its oldest starting point, or in another format.
fn no_migration_path(stored: &StoredVersion, to: Version) -> Option<String> {
    let from = stored.release();
    let (minimum, format) = starting_point(to)?;
    let too_old = from < minimum;
    let wrong_format = format.is_some_and(|f| f != stored.format);
    if !too_old && !wrong_format {
        return None;
    }
    let needs = match format {
        Some(f) => format!("at least {minimum} in the {} format", f.as_str()),
        None => format!("at least {minimum}"),
    };
    let between = releases_between(from, to);
    let steps = if between.is_empty() { vec![line(minimum)] } else { between };
    Some(format!(
        "Marathon {} cannot migrate data of Marathon {} ({} format): it needs {needs}; upgrade through {} first, one \
         release at a time",
        line(to),
        line(from),
        stored.format.as_str(),
        steps.join(", ")
    ))
}

fn in_place_migration_message(from: Version, to: Version) -> String {
    let skipped = releases_between(from, to);
    let skipping = if skipped.is_empty() {
        String::new()
    } else {
        format!("; upstream advises not to skip releases ({} lie between)", skipped.join(", "))
    };
    format!(
        "Marathon {to} will migrate the data of Marathon {} in place when it first leads, and older versions cannot \
         use it afterwards: back it up and stop every old instance first{skipping}",
        line(from)
    )
}

fn inspect(site: &Site, node: &str) -> Remedy {
    Cmd::new("zkCli.sh")
        .word("-server")
        .value(site.servers())
        .word("get")
        .value(node)
        .safe()
        .with_note("shows what the node holds; Marathon writes a protobuf ZKStoreEntry there")
}

fn state_evidence(site: &Site) -> String {
    let state = site.node("state");
    match &site.tree.state {
        None => format!("{state}: absent"),
        Some(layout) => match layout.kind() {
            LayoutKind::Empty => format!("{state}: empty"),
            LayoutKind::Flat => {
                format!(
                    "{state}: flat layout (Marathon <= 1.3), {} entries, e.g. {}",
                    layout.flat_entries,
                    layout.flat_examples.join(", ")
                )
            }
            LayoutKind::Nested => format!("{state}: nested layout (Marathon 1.4+): {}", layout.categories.join(", ")),
            LayoutKind::Mixed => format!(
                "{state}: flat entries (Marathon <= 1.3: {}) beside nested categories (1.4+: {})",
                layout.flat_examples.join(", "),
                layout.categories.join(", ")
            ),
        },
    }
}

fn election_evidence(site: &Site, dir: &str, node: &ElectionNode) -> String {
    format!("{}/{}: {} (ephemeral, session 0x{:x})", site.node(dir), node.name, node.data, node.ephemeral_owner)
}

/// Hosts of every live candidate, from their `host:port` data.
fn live_hosts(tree: &MarathonTree) -> Vec<String> {
    let mut hosts: Vec<String> = tree
        .live_twitter_members()
        .into_iter()
        .chain(tree.live_curator_latches())
        .filter_map(|n| n.host().map(String::from))
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

/// Stops `which` (e.g. "the old Marathon") on each host known to run it,
/// else on every Marathon host.
fn stop_instances(hosts: &[String], which: &str) -> Vec<Remedy> {
    let places: Vec<RunsOn> = match hosts {
        [] => vec![RunsOn::Every(HostGroup::MarathonHosts)],
        hosts => hosts.iter().map(|h| RunsOn::host_of(h, HostGroup::MarathonHosts)).collect(),
    };
    let note =
        format!("stops {which} there, before the new version starts; scheduling pauses until a new leader is elected");
    places
        .into_iter()
        .map(|place| Cmd::new("sudo").word("systemctl stop marathon").disruptive().on(place).with_note(note.clone()))
        .collect()
}

/// Candidates of both elections, or of an election the stored or deployed
/// version does not use: two instances may lead at once.
fn election_findings(site: &Site, deployed: &Deployed) -> Vec<Finding> {
    let tree = site.tree;
    let candidates = Candidates { twitter: tree.live_twitter_members(), curator: tree.live_curator_latches() };
    let stored = match &tree.storage_version {
        VersionNode::Stored { version } => Some(version.release()),
        _ => None,
    };
    let Some(conflict) = candidates
        .in_both_elections()
        .or_else(|| candidates.old_while_deploying(deployed.version()))
        .or_else(|| candidates.old_on_newer_data(stored))
        .or_else(|| candidates.new_on_unmigrated_data(stored))
    else {
        return Vec::new();
    };
    let twitter_lines = candidates.twitter.iter().map(|n| election_evidence(site, "leader", n));
    let curator_lines = candidates.curator.iter().map(|n| election_evidence(site, "leader-curator", n));
    let finding = Finding::new(Status::Fail, format!("ZooKeeper {}", site.url()), conflict.message);
    vec![twitter_lines.chain(curator_lines).fold(finding, Finding::evidence).fixes(stop_instances(&conflict.hosts, conflict.which))]
}

/// The live candidates of Marathon's two leader elections.
struct Candidates<'a> {
    /// Marathon 1.1, or 1.3/1.4 with twitter_commons.
    twitter: Vec<&'a ElectionNode>,
    /// Marathon 1.3+.
    curator: Vec<&'a ElectionNode>,
}

/// Candidates that can lead beside each other, and which to stop.
struct Conflict {
    message: String,
    hosts: Vec<String>,
    which: &'static str,
}

const OLD_INSTANCES: &str = "the old Marathon (twitter-commons candidates)";

/// Marathon 1.5 and later take part in the Curator election only.
fn curator_only(version: Version) -> bool {
    version.line() >= (1, 5)
}

fn hosts(nodes: &[&ElectionNode]) -> Vec<String> {
    nodes.iter().filter_map(|n| n.host().map(String::from)).collect()
}

impl Candidates<'_> {
    fn in_both_elections(&self) -> Option<Conflict> {
        (!self.twitter.is_empty() && !self.curator.is_empty()).then(|| Conflict {
            message: format!(
                "live candidates in both leader elections: {} twitter-commons (Marathon 1.1, or 1.3/1.4 with \
                 twitter_commons) and {} Curator (1.3+); each side can elect its own leader, so two Marathons may lead",
                self.twitter.len(),
                self.curator.len()
            ),
            hosts: hosts(&self.twitter),
            which: OLD_INSTANCES,
        })
    }

    /// Old candidates while a Marathon with only the Curator election is
    /// being deployed.
    fn old_while_deploying(&self, deployed: Option<Version>) -> Option<Conflict> {
        let v = deployed.filter(|v| curator_only(*v))?;
        self.old_ones(format!(
            "{} live twitter-commons candidate(s) while Marathon {} (Curator election only) is being deployed: the \
             old instances would keep a leader of their own beside the new one",
            self.twitter.len(),
            line(v)
        ))
    }

    /// Old candidates on data a Marathon with only the Curator election wrote.
    fn old_on_newer_data(&self, stored: Option<Version>) -> Option<Conflict> {
        let v = stored.filter(|v| curator_only(*v))?;
        self.old_ones(format!(
            "{} live twitter-commons candidate(s) on data written by Marathon {} (Curator election only): an old \
             instance runs against newer data",
            self.twitter.len(),
            line(v)
        ))
    }

    fn old_ones(&self, message: String) -> Option<Conflict> {
        (!self.twitter.is_empty()).then(|| Conflict { message, hosts: hosts(&self.twitter), which: OLD_INSTANCES })
    }

    fn new_on_unmigrated_data(&self, stored: Option<Version>) -> Option<Conflict> {
        let v = stored.filter(|v| v.line() < (1, 3))?;
        (!self.curator.is_empty()).then(|| Conflict {
            message: format!(
                "{} live Curator candidate(s) (Marathon 1.3+) on data written by Marathon {}: a newer instance runs \
                 against data it has not migrated",
                self.curator.len(),
                line(v)
            ),
            hosts: hosts(&self.curator),
            which: "the Marathon 1.3+ instances (Curator candidates)",
        })
    }
}

fn migration_finding(site: &Site) -> Option<Finding> {
    let flag = site.tree.migration_in_progress.as_ref()?;
    Some(
        Finding::new(
            Status::Fail,
            format!("ZooKeeper {}", site.url()),
            "a storage migration was interrupted: the next Marathon to lead fails with \"Migration is already in \
             progress\", and the data may be half migrated",
        )
        .evidence(format!("{}: present since {}", site.node("state/migration-in-progress"), flag.created))
        .fix(site.backup().with_note(
            "then restore the backup taken before the upgrade and start one instance of the newer Marathon to \
             repeat the migration (Marathon docs, \"Data migration\")",
        )),
    )
}

/// Flat entries (<= 1.3) and nested categories (1.4+) that do not match the
/// stored version: more than one version wrote here.
fn layout_finding(site: &Site) -> Option<Finding> {
    let layout = site.tree.state.as_ref()?;
    let VersionNode::Stored { version } = &site.tree.storage_version else {
        return None;
    };
    let nested_era = version.release().line() >= (1, 4);
    let mismatch = match layout.kind() {
        LayoutKind::Mixed => true,
        LayoutKind::Flat => nested_era,
        LayoutKind::Nested => !nested_era,
        LayoutKind::Empty => false,
    };
    mismatch.then(|| {
        Finding::new(
            Status::Warn,
            format!("ZooKeeper {}", site.url()),
            format!(
                "the state layout does not match the stored version {}: more than one Marathon version wrote here \
                 (or a 1.4 migration left old entries behind)",
                describe(version)
            ),
        )
        .evidence(state_evidence(site))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::marathon::{MarathonFacts, MarathonInfo};
    use crate::facts::zookeeper::{StateLayout, StoredVersion};

    fn stored(major: u32, minor: u32, patch: u32, format: StorageFormat) -> VersionNode {
        VersionNode::Stored { version: StoredVersion { major, minor, patch, format, bytes: 60 } }
    }

    fn node(name: &str, data: &str) -> ElectionNode {
        ElectionNode { name: name.into(), data: data.into(), ephemeral_owner: 0x1234 }
    }

    fn tree(version: VersionNode) -> MarathonTree {
        MarathonTree {
            path: "/marathon".into(),
            exists: true,
            children: vec!["leader".into(), "leader-curator".into(), "state".into()],
            storage_version: version,
            leader: None,
            leader_curator: None,
            state: Some(StateLayout { flat_entries: 0, flat_examples: vec![], categories: vec!["apps".into()] }),
            migration_in_progress: None,
            framework_id: Default::default(),
            instances: Fact::observed(0),
        }
    }

    fn facts(tree: MarathonTree, running: Option<&str>) -> Facts {
        let mut facts = Facts {
            marathon_zk: Some(Fact::observed(tree)),
            marathon: running.map(|v| {
                Fact::observed(MarathonFacts {
                    url: "http://m1:8080".into(),
                    info: Fact::observed(MarathonInfo { version: Some(v.into()), ..MarathonInfo::default() }),
                    leader: Fact::unavailable("not asked"),
                    apps: Fact::unavailable("not asked"),
                    queue: Fact::unavailable("not asked"),
                    deployments: Fact::unavailable("not asked"),
                })
            }),
            ..Facts::default()
        };
        facts.inputs.zk = Some(ZkTarget::parse("zk://z1:2181,z2:2181/marathon", true).unwrap());
        facts
    }

    fn judge(facts: &Facts) -> Conclusion {
        ZkMarathonReuse.run(facts).unwrap()
    }

    #[test]
    fn the_running_marathon_names_the_deployed_version() {
        let same = judge(&facts(tree(stored(1, 4, 13, StorageFormat::PersistenceStore)), Some("1.4.2")));
        assert_eq!(same.findings, vec![]);
        assert!(same.note.unwrap().contains("deploying 1.4.2"));
        let older = judge(&facts(tree(stored(110, 100, 0, StorageFormat::PersistenceStore)), Some("1.9.0")));
        let f = &older.findings[0];
        assert_eq!(f.status, Status::Fail);
        assert!(f.evidence.iter().any(|e| e == "Marathon at http://m1:8080 reports version 1.9.0"), "{f:?}");
        let commands: Vec<&str> = f.remediation.iter().map(|r| r.command.as_str()).collect();
        assert_eq!(
            commands,
            [
                "marathon --zk 'zk://z1:2181,z2:2181/marathon-1.9'",
                "zkCli.sh -server 'z1:2181,z2:2181' ls -R /marathon",
                "zkCli.sh -server 'z1:2181,z2:2181' deleteall /marathon",
            ]
        );
        assert!(f.remediation[2].note.as_deref().unwrap().contains("on 3.4 use rmr"));
    }

    #[test]
    fn zookeeper_3_4_gets_rmr() {
        let mut facts = facts(tree(stored(1, 6, 0, StorageFormat::PersistenceStore)), None);
        facts.inputs.expect_marathon_version = Some(Version::new(1, 5, 0));
        let srvr =
            crate::facts::zookeeper::parse_srvr("Zookeeper version: 3.4.14-4c25d, built on x\nMode: standalone\n");
        facts.zookeeper = Some(Fact::observed(crate::facts::zookeeper::EnsembleFacts {
            servers: vec![crate::facts::zookeeper::ServerFacts {
                server: crate::target::HostPort { host: "z1".into(), port: 2181 },
                srvr: crate::facts::zookeeper::Probe::Answered { value: srvr.unwrap() },
                mntr: crate::facts::zookeeper::Probe::NotInWhitelist,
                ruok: crate::facts::zookeeper::Probe::NotInWhitelist,
            }],
        }));
        let j = judge(&facts);
        assert!(
            j.findings[0].remediation.iter().any(|r| r.command == "zkCli.sh -server 'z1:2181,z2:2181' rmr /marathon")
        );
    }

    #[test]
    fn candidates_of_an_election_the_data_does_not_use() {
        let mut old_on_new = tree(stored(1, 6, 0, StorageFormat::PersistenceStore));
        old_on_new.leader = Some(vec![node("member_0000000007", "old:8080"), node("member_-00000000", "new:8080")]);
        let j = judge(&facts(old_on_new, None));
        assert!(j.findings.iter().any(|f| f.message.contains("an old instance runs against newer data")), "{j:?}");

        let mut new_on_old = tree(stored(1, 1, 10, StorageFormat::Legacy));
        new_on_old.leader_curator = Some(vec![node("_c_x-latch-0000000001", "new:8080")]);
        let j = judge(&facts(new_on_old, Some("1.1.10")));
        let f = j.findings.iter().find(|f| f.message.contains("has not migrated")).unwrap();
        assert!(f.remediation[0].note.as_deref().unwrap().contains("Curator candidates) there, before"), "{f:?}");
        assert_eq!(f.remediation[0].runs_on.elsewhere().as_deref(), Some("new"), "{f:?}");

        let mut tombstones_only = tree(stored(1, 4, 13, StorageFormat::PersistenceStore));
        tombstones_only.leader =
            Some(vec![node("member_-00000000", "new:8080"), node("member_-10000000002", "new:8080")]);
        tombstones_only.leader_curator = Some(vec![node("_c_x-latch-0000000001", "new:8080")]);
        assert_eq!(judge(&facts(tombstones_only, Some("1.4.13"))).findings, vec![]);
    }

    #[test]
    fn no_version_node_beside_data_is_an_error_and_a_fresh_tree_passes() {
        let j = judge(&facts(tree(VersionNode::Absent), Some("1.4.13")));
        assert_eq!(j.status(), Status::Error);
        assert!(j.findings[0].evidence.iter().any(|e| e.contains("nested layout (Marathon 1.4+): apps")));
        let unreadable =
            VersionNode::Unreadable { error: "ZooKeeper zk://z1:2181/marathon: reading x: not authorized".into() };
        assert_eq!(judge(&facts(tree(unreadable), Some("1.4.13"))).status(), Status::Error);
        let mut empty = tree(VersionNode::Absent);
        empty.state = None;
        empty.leader_curator =
            Some(vec![ElectionNode { ephemeral_owner: 0, ..node("_c_x-latch-0000000001", "gone:8080") }]);
        assert_eq!(judge(&facts(empty, None)).findings, vec![]);
    }

    #[test]
    fn upgrade_steps_and_starting_points() {
        assert_eq!(
            releases_between(Version::new(1, 1, 10), Version::new(1, 8, 0)),
            ["1.3", "1.4", "1.5", "1.6", "1.7"]
        );
        assert_eq!(
            starting_point(Version::new(1, 7, 0)),
            Some((Version::new(1, 4, 0), Some(StorageFormat::PersistenceStore)))
        );
        assert_eq!(starting_point(Version::new(1, 10, 0)), Some((Version::new(1, 6, 0), None)));
        assert_eq!(starting_point(Version::new(1, 4, 13)), None);
        // 1.4 data still in the LEGACY format cannot feed 1.5.
        let j = judge(&facts(tree(stored(1, 4, 13, StorageFormat::Legacy)), Some("1.5.0")));
        assert!(j.findings[0].message.contains("PERSISTENCE_STORE format; upgrade through 1.4 first"), "{j:?}");
        assert_eq!(j.status(), Status::Fail);
    }
}
