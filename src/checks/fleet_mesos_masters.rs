//! `fleet.mesos-masters`: the Mesos masters of a fleet agree on their
//! ZooKeeper and their quorum, and the quorum is a majority of them.
//!
//! Reads each reached master's `/etc/mesos/zk` and `/etc/mesos-master/quorum`
//! (the files the packages' mesos-init-wrapper turns into `--zk` and
//! `--quorum`).

use std::borrow::Cow;

use super::{Check, CheckMeta, Explain, NotJudged, Verdict, conclude, required};
use crate::agreement::disagreement;
use crate::facts::fleet::view::{NodeView, hosts};
use crate::facts::{Facts, Need};
use crate::remedy::{Cmd, Remedy, RunsOn};
use crate::report::{Finding, Status};
use crate::target::Role;

pub struct FleetMesosMasters;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("fleet.mesos-masters"),
    title: Cow::Borrowed("Mesos masters agree on ZooKeeper and a majority quorum"),
    severity: Status::Fail,
    needs: &[Need::Fleet],
    tags: texts!["mesos", "fleet"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("In a fleet run (--nodes), reads /etc/mesos/zk and /etc/mesos-master/quorum on every reached \
               node with the master role. Fails when the masters name different ZooKeeper URLs or quorums (naming \
               the masters that differ from the majority), when a master of several has no ZooKeeper URL, and when \
               the quorum is not a majority of the masters (quorum <= masters/2: more masters than 2*quorum-1) or \
               exceeds their number; warns when the quorum is larger than a majority needs. Cannot decide (error) \
               when a node that was not reached may be a master."),
        why: Cow::Borrowed("The masters elect a leader in ZooKeeper and keep the registry in a replicated log that a \
              write needs a quorum of them for. Masters with different --zk URLs hold separate elections, so two \
              can lead. With a quorum of half the masters or less, two halves of a partition each reach quorum \
              and write diverging logs: the registry is corrupted. A quorum above the number of masters is never \
              reached, and one above a majority makes the masters tolerate fewer failures than they could."),
        fix: Cow::Borrowed("Write the majority's ZooKeeper URL into /etc/mesos/zk and floor(masters/2)+1 into \
              /etc/mesos-master/quorum on every master, then restart the masters one at a time, the leader last."),
        risk: Cow::Borrowed("Disruptive: each restart makes the masters elect again; agents and frameworks reconnect. \
               Changing the quorum of a running cluster is safe only when every master gets the same value."),
        references: texts![
            "http://mesos.apache.org/documentation/latest/high-availability/ (--quorum: \"a majority of the \
             number of masters\"; --zk)",
            "http://mesos.apache.org/documentation/latest/replicated-log-internals/ (a write needs a quorum of \
             replicas)",
            "https://github.com/mesosphere/mesos-deb-packaging/blob/master/extra/mesos-init-wrapper (/etc/mesos/zk, \
             /etc/mesos-master/FLAG files)",
        ],
    },
};

impl Check for FleetMesosMasters {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let view = required(&facts.fleet, "the fleet's nodes")?;
        let masters: Vec<&NodeView> = view.reached().filter(|n| n.roles.contains(&Role::Master)).collect();
        if masters.is_empty() {
            return Err(NotJudged::Skip("no reached node has the Mesos master role".into()));
        }
        let mut findings = Vec::new();
        let zk = |n: &NodeView| n.mesos_zk.as_ref().map(|z| z.value.clone());
        findings.extend(disagreement("Mesos masters", &masters, zk, "ZooKeeper URL (/etc/mesos/zk)", |node, value| {
            write_file(node, value, "/etc/mesos/zk")
        }));
        if masters.len() > 1 {
            let without: Vec<&NodeView> = masters.iter().copied().filter(|n| n.mesos_zk.is_none()).collect();
            if !without.is_empty() {
                findings.push(Finding::new(
                    Status::Fail,
                    format!("Mesos masters {}", hosts(&without)),
                    format!("no /etc/mesos/zk on a master of {}: it cannot join their election", masters.len()),
                ));
            }
        }
        let quorum = |n: &NodeView| n.mesos_quorum.as_ref().map(|q| q.value.clone());
        findings.extend(disagreement("Mesos masters", &masters, quorum, "quorum (/etc/mesos-master/quorum)", |node, value| {
            write_file(node, value, "/etc/mesos-master/quorum")
        }));
        findings.extend(majority(&masters));
        let undecided = view.not_reached_may("may be a master: the count of masters is not known");
        conclude(findings, undecided, format!("{} Mesos masters compared", masters.len()))
    }
}

fn write_file(node: &NodeView, value: &str, path: &str) -> Vec<Remedy> {
    vec![
        Cmd::new("printf").word(r"'%s\n'").value(value).word(">").value(path).safe().on(node.runs_on()),
        restart(node.runs_on()),
    ]
}

fn restart(on: RunsOn) -> Remedy {
    Cmd::new("sudo")
        .word("systemctl restart mesos-master")
        .disruptive()
        .on(on)
        .with_note("one master at a time, the leader last")
}

/// The quorum the masters agree on against their number.
fn majority(masters: &[&NodeView]) -> Option<Finding> {
    let quorums: Vec<(&NodeView, &str)> =
        masters.iter().filter_map(|n| n.mesos_quorum.as_ref().map(|q| (*n, q.value.as_str()))).collect();
    let (first, text) = quorums.first()?;
    if quorums.iter().any(|(_, q)| q != text) {
        return None; // disagreement is its own finding
    }
    let n = masters.len();
    let needed = n / 2 + 1;
    let evidence = format!("{} masters ({}); quorum {text} in {}", n, hosts(masters), first.mesos_quorum.as_ref()?.path);
    let Ok(q) = text.trim().parse::<usize>() else {
        return Some(
            Finding::new(Status::Fail, "Mesos quorum", format!("quorum {text:?} is not a number")).evidence(evidence),
        );
    };
    let (status, message) = match q {
        q if q > n => (Status::Fail, format!("quorum {q} exceeds the {n} masters: the registry can never be written")),
        q if q < needed => (
            Status::Fail,
            format!(
                "quorum {q} is not a majority of {n} masters: two halves of a partition can each reach it and \
                 write diverging replicated logs (needs {needed})"
            ),
        ),
        q if q > needed => (
            Status::Warn,
            format!("quorum {q} is more than the {needed} a majority of {n} masters needs: fewer failures are tolerated"),
        ),
        _ => return None,
    };
    let mut finding = Finding::new(status, "Mesos quorum", message).evidence(evidence);
    for master in masters {
        finding = finding.fixes(write_file(master, &needed.to_string(), "/etc/mesos-master/quorum"));
    }
    Some(finding)
}
