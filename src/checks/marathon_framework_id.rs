//! `marathon.framework-id`: the framework id a scheduler keeps in ZooKeeper
//! is one the leading Mesos master still accepts.
//!
//! Reads Marathon's stored id (1.4+ `state/framework-id/b/id`, up to 1.3
//! `state/framework:id`) and instance count from its ZooKeeper path, Flink's
//! `/flink/<cluster>/mesos-workers/frameworkId`, and the leading master's
//! `frameworks` and `completed_frameworks`.

use std::borrow::Cow;

use super::{Check, CheckMeta, Explain, NotJudged, Verdict, conclude, required};
use crate::facts::mesos::{Framework, MesosState};
use crate::facts::zookeeper::{FlinkWorkerStore, MarathonTree, StoredFrameworkId, VersionNode};
use crate::facts::{Fact, Facts, Need};
use crate::remedy::{Cmd, HostGroup, Remedy, RunsOn, zk_delete_tree};
use crate::report::{Finding, Status};
use crate::target::ZkTarget;

pub struct MarathonFrameworkId;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("marathon.framework-id"),
    title: Cow::Borrowed("Schedulers' stored framework ids are accepted by Mesos"),
    severity: Status::Fail,
    needs: &[Need::MarathonZk, Need::FlinkZk, Need::Mesos, Need::Zookeeper],
    tags: texts!["marathon", "flink", "mesos", "zookeeper"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("Reads the Mesos framework id Marathon keeps under its --zk path (1.4+: \
               state/framework-id/b/id, a FrameworkID protobuf; up to 1.3: state/framework:id inside a \
               ZKStoreEntry) and how many instances (1.4+ state/instance) or tasks (task: entries) it keeps, and \
               the id each Flink session on Mesos keeps at /flink/<cluster-id>/mesos-workers/frameworkId on the \
               same ensemble (Flink's default high-availability.zookeeper.path.root). Looks each id up on the \
               leading Mesos master: fails when the master lists it under completed_frameworks (torn down, or its \
               failover timeout ran out), and when Marathon has no stored id but keeps instances; warns when the \
               master does not know the id at all (the scheduler is not registered now). Cannot decide (error) \
               when ZooKeeper or the leading master cannot be read or a stored id does not decode."),
        why: Cow::Borrowed("A scheduler re-registers with the framework id it stored, so that it gets its running tasks \
              back. Once Mesos has removed the framework (a teardown, or no scheduler connected for longer than \
              its failover timeout) it refuses the id: Marathon logs \"Framework has been removed\" and exits \
              (CrashStrategy.FrameworkHasBeenRemoved), again on every restart, and Flink's resource manager fails \
              the same way. Without a stored id Marathon would register as a new framework and orphan every \
              running task, so from 1.4 on it refuses to start: \"Refusing to create a new Framework ID while \
              there are existing instances\" (marathon#7161, #6578)."),
        fix: Cow::Borrowed("Torn down: the old framework's tasks are gone; with the Marathon storage tool of your \
              Marathon version delete the instances and the stored id (purge(listInstances()); \
              module.frameworkIdRepository.delete()), then restart Marathon: it registers anew and relaunches \
              the apps. Id missing while the master still runs Marathon's framework: store that id again \
              (module.frameworkIdRepository.store(FrameworkId(\"ID\"))). Flink: stop the session, delete \
              /flink/<cluster-id>/mesos-workers and start the session again."),
        risk: Cow::Borrowed("Destructive: purging instances and deleting a stored id cannot be undone; the apps and \
               groups stay, their tasks are relaunched under the new framework. Storing the id the master lists \
               is safe once no Marathon is running."),
        references: texts![
            "https://mesosphere.github.io/marathon/docs/framework-id.html (\"Marathon will refuse to generate a \
             new framework ID if there are any instances specified\"; recovery with the Marathon Storage Tool)",
            "https://github.com/mesosphere/marathon/blob/master/src/main/scala/mesosphere/marathon/\
             SchedulerDriverFactory.scala (getFrameworkId: \"Refusing to create a new Framework ID while there \
             are existing instances\")",
            "https://github.com/mesosphere/marathon/blob/master/src/main/scala/mesosphere/marathon/\
             MarathonScheduler.scala (error(): \"Framework has been removed\" -> crash)",
            "https://github.com/mesosphere/marathon/blob/master/src/main/scala/mesosphere/marathon/core/storage/\
             store/impl/zk/ZkPersistenceStore.scala (ZkId.path: /category/bucket-in-hex/id)",
            "https://github.com/d2iq-archive/marathon/issues/7161",
            "https://github.com/d2iq-archive/marathon/issues/6578",
            "https://github.com/apache/flink/blob/release-1.13/flink-mesos/src/main/java/org/apache/flink/mesos/\
             runtime/clusterframework/store/ZooKeeperMesosWorkerStore.java (frameworkId as UTF-8 text)",
            "http://mesos.apache.org/documentation/latest/high-availability-framework-guide/ (framework failover \
             timeout; a removed framework cannot re-register)",
        ],
    },
};

impl Check for MarathonFrameworkId {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let tree = required(&facts.marathon_zk, "Marathon's ZooKeeper tree")?;
        let flink = required(&facts.flink_zk, "Flink's ZooKeeper worker stores")?;
        let target =
            facts.inputs.zk.as_ref().ok_or_else(|| NotJudged::Error("the snapshot names no ZooKeeper URL".into()))?;
        let marathon_settled = !tree.exists
            || (tree.framework_id == StoredFrameworkId::Absent && tree.instances == Fact::observed(0));
        if marathon_settled && flink.stores.iter().all(|s| s.framework_id == StoredFrameworkId::Absent) {
            return Err(NotJudged::Skip(format!(
                "no framework id stored under {} or {}/*/mesos-workers",
                target.display(),
                flink.root
            )));
        }
        let master = leading_master(facts)?;
        let site = Site { target, zookeeper: zookeeper_version(facts), master };
        let (mut findings, mut undecided) = (Vec::new(), Vec::new());
        if tree.exists {
            site.judge_marathon(tree, &mut findings, &mut undecided);
        }
        for store in &flink.stores {
            site.judge_flink(store, &mut findings, &mut undecided);
        }
        let note = format!(
            "stored framework ids checked against {} ({} frameworks, {} completed)",
            master.pid.as_deref().unwrap_or("the leading master"),
            master.frameworks.len(),
            master.completed_frameworks.len()
        );
        conclude(findings, undecided, note)
    }
}

fn zookeeper_version(facts: &Facts) -> Option<crate::version::Version> {
    facts.zookeeper.as_ref().and_then(Fact::value).and_then(|e| e.zookeeper_version())
}

/// The leading master's state: a standby lists no frameworks.
fn leading_master(facts: &Facts) -> Result<&MesosState, NotJudged> {
    let mesos = required(&facts.mesos, "Mesos facts")?;
    let state = mesos.state.value().ok_or_else(|| {
        NotJudged::Error(format!("the leading Mesos master's state: {}", mesos.state.problem().unwrap_or_default()))
    })?;
    if !state.answered_by_leader() {
        return Err(NotJudged::Error(format!(
            "the Mesos master that answered ({}) does not lead, and only the leader knows the frameworks",
            state.pid.as_deref().unwrap_or("no pid")
        )));
    }
    Ok(state)
}

/// Where Mesos has the id: registered, removed, or not at all.
enum Known<'a> {
    Registered,
    Removed(&'a Framework),
    Unknown,
}

struct Site<'a> {
    target: &'a ZkTarget,
    zookeeper: Option<crate::version::Version>,
    master: &'a MesosState,
}

impl Site<'_> {
    fn master_name(&self) -> &str {
        self.master.pid.as_deref().unwrap_or("the leading master")
    }

    fn known(&self, id: &str) -> Known<'_> {
        if self.master.frameworks.iter().any(|f| f.id == id) {
            return Known::Registered;
        }
        match self.master.completed_frameworks.iter().find(|f| f.id == id) {
            Some(framework) => Known::Removed(framework),
            None => Known::Unknown,
        }
    }

    fn judge_marathon(&self, tree: &MarathonTree, findings: &mut Vec<Finding>, undecided: &mut Vec<String>) {
        let subject = format!("Marathon at {}", self.target.display());
        match &tree.framework_id {
            StoredFrameworkId::Stored { id, path } => match self.known(id) {
                Known::Registered => {}
                Known::Removed(framework) => findings.push(
                    Finding::new(
                        Status::Fail,
                        subject,
                        format!(
                            "Mesos has removed framework {id}: Marathon is refused (\"Framework has been removed\") \
                             and exits on every start until the stored id is gone"
                        ),
                    )
                    .evidence(format!("{path}: {id}"))
                    .evidence(format!("{} completed_frameworks: {}", self.master_name(), framework.summary()))
                    .fixes(self.marathon_reset(tree)),
                ),
                Known::Unknown => findings.push(
                    Finding::new(
                        Status::Warn,
                        subject,
                        format!(
                            "framework {id} is not registered with the leading master: no Marathon is connected \
                             under the id it stored"
                        ),
                    )
                    .evidence(format!("{path}: {id}"))
                    .evidence(self.listed())
                    .fix(restart_marathon().with_note(
                        "Marathon re-registers under its stored id when it starts; its log says \"Framework has \
                         been removed\" if Mesos refuses it",
                    )),
                ),
            },
            StoredFrameworkId::Absent => match &tree.instances {
                Fact::Observed { value: 0 } => {}
                Fact::Observed { value: instances } => findings.push(self.missing_id(tree, *instances)),
                other => undecided.push(format!(
                    "{subject}: no framework id stored, and its instances cannot be counted: {}",
                    other.problem().unwrap_or_default()
                )),
            },
            StoredFrameworkId::Undecodable { path, problem } => {
                undecided.push(format!("{subject}: {path} does not decode: {problem}"))
            }
            StoredFrameworkId::Unreadable { error } => undecided.push(format!("{subject}: {error}")),
        }
    }

    fn missing_id(&self, tree: &MarathonTree, instances: usize) -> Finding {
        let mut finding = Finding::new(
            Status::Fail,
            format!("Marathon at {}", self.target.display()),
            format!(
                "no framework id stored, but {instances} instance{} kept: Marathon refuses to start (\"Refusing to \
                 create a new Framework ID while there are existing instances\")",
                if instances == 1 { " is" } else { "s are" }
            ),
        )
        .evidence(format!("{}/state: neither framework-id/b/id nor framework:id", tree.path));
        // The master may still run Marathon's framework: storing its id again
        // gets the tasks back.
        let namesakes: Vec<&Framework> = self.master.frameworks.iter().filter(|f| f.name == "marathon").collect();
        for framework in &namesakes {
            finding = finding.evidence(format!("registered framework named \"marathon\": {}", framework.summary()));
        }
        if namesakes.is_empty() {
            finding = finding.evidence(format!(
                "{} lists {} frameworks, none named \"marathon\"",
                self.master_name(),
                self.master.frameworks.len()
            ));
        }
        match namesakes.as_slice() {
            [one] => finding.fix(self.storage_tool(tree).with_note(format!(
                "in the tool: module.frameworkIdRepository.store(FrameworkId(\"{}\")); then start Marathon: it \
                 re-registers as that framework and keeps its tasks",
                one.id
            ))),
            _ => finding.fixes(self.marathon_reset(tree)),
        }
    }

    fn judge_flink(&self, store: &FlinkWorkerStore, findings: &mut Vec<Finding>, undecided: &mut Vec<String>) {
        let subject = format!("Flink cluster {}", store.cluster);
        let StoredFrameworkId::Stored { id, path } = &store.framework_id else {
            match &store.framework_id {
                StoredFrameworkId::Undecodable { path, problem } => {
                    undecided.push(format!("{subject}: {path} does not decode: {problem}"))
                }
                StoredFrameworkId::Unreadable { error } => undecided.push(format!("{subject}: {error}")),
                _ => {}
            }
            return;
        };
        let (status, message, extra) = match self.known(id) {
            Known::Registered => return,
            Known::Removed(framework) => (
                Status::Fail,
                format!(
                    "Mesos has removed framework {id}: the session's resource manager is refused (\"Framework has \
                     been removed\") whenever it starts"
                ),
                format!("{} completed_frameworks: {}", self.master_name(), framework.summary()),
            ),
            Known::Unknown => (
                Status::Warn,
                format!("framework {id} is not registered with the leading master: the session is not connected"),
                self.listed(),
            ),
        };
        let workers = path.trim_end_matches("/frameworkId");
        findings.push(
            Finding::new(status, subject, message).evidence(format!("{path}: {id}")).evidence(extra).fix(
                zk_delete_tree(
                    &self.target.server_list(),
                    self.zookeeper,
                    workers,
                    "stop the Flink session first and start it afterwards: it registers as a new framework \
                     (its old TaskManagers are gone with the old framework)",
                ),
            ),
        );
    }

    fn listed(&self) -> String {
        format!(
            "{} lists {} frameworks and {} completed, none with this id",
            self.master_name(),
            self.master.frameworks.len(),
            self.master.completed_frameworks.len()
        )
    }

    /// The Marathon storage tool on this path, in the stored version's image.
    fn storage_tool(&self, tree: &MarathonTree) -> Remedy {
        let tag = match &tree.storage_version {
            VersionNode::Stored { version } => version.release().to_string(),
            _ => "latest".to_string(),
        };
        Cmd::new("docker")
            .word("run --rm -it")
            .value(format!("mesosphere/marathon-storage-tool:{tag}"))
            .word("--zk")
            .value(self.target.display())
            .destructive()
            .on(RunsOn::Every(HostGroup::MarathonHosts))
    }

    /// Torn down or unrecoverable: drop the instances and the id, restart.
    fn marathon_reset(&self, tree: &MarathonTree) -> Vec<Remedy> {
        vec![
            Cmd::new("sudo").word("systemctl stop marathon").disruptive().on(RunsOn::Every(HostGroup::MarathonHosts)),
            self.storage_tool(tree).with_note(
                "use the tag of your Marathon version; in the tool: purge(listInstances()); \
                 module.frameworkIdRepository.delete() (apps and groups stay)",
            ),
            restart_marathon().with_note("Marathon registers as a new framework and relaunches the apps"),
        ]
    }
}

fn restart_marathon() -> Remedy {
    Cmd::new("sudo").word("systemctl restart marathon").disruptive().on(RunsOn::Every(HostGroup::MarathonHosts))
}
