//! `fleet.marathon-config`: every Marathon instance of a fleet uses the same
//! ZooKeeper state and the same Mesos masters.
//!
//! Reads each reached Marathon node's `--zk` and `--master` as the packages
//! pass them: /etc/marathon/conf/zk and /etc/marathon/conf/master, else
//! `MARATHON_ZK` / `MARATHON_MASTER` in /etc/default/marathon or
//! /etc/sysconfig/marathon.

use std::borrow::Cow;

use super::{Check, CheckMeta, Explain, NotJudged, Verdict, conclude, required};
use crate::agreement::disagreement;
use crate::facts::fleet::view::NodeView;
use crate::facts::{Facts, Need};
use crate::remedy::{Cmd, Remedy};
use crate::report::Status;
use crate::target::Role;

pub struct FleetMarathonConfig;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("fleet.marathon-config"),
    title: Cow::Borrowed("Marathon instances share their ZooKeeper state and Mesos masters"),
    severity: Status::Fail,
    needs: &[Need::Fleet],
    tags: texts!["marathon", "fleet"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("In a fleet run (--nodes), reads --zk and --master on every reached node with the \
               Marathon role, as the packages pass them (/etc/marathon/conf/zk and /etc/marathon/conf/master, \
               else MARATHON_ZK and MARATHON_MASTER in /etc/default/marathon or /etc/sysconfig/marathon). Fails \
               when the instances name different values, naming those that differ from the majority. Cannot \
               decide (error) when a node that was not reached may run Marathon."),
        why: Cow::Borrowed("Marathon instances form one highly available service only when they elect their leader \
              and keep their state under the same --zk path: an instance on another path elects itself and \
              schedules its own copy of the apps (or none), and one that registers with other Mesos masters \
              (--master) runs the apps on another cluster. The write-up's reused /marathon path is the same \
              fault seen from ZooKeeper."),
        fix: Cow::Borrowed("Write the majority's value into /etc/marathon/conf/zk or /etc/marathon/conf/master on \
              the differing instances (or fix MARATHON_ZK / MARATHON_MASTER where they are set), then restart \
              them one at a time."),
        risk: Cow::Borrowed("Disruptive: a restarted instance leaves the election; when it was the leader, \
               scheduling pauses until a new one is elected."),
        references: texts![
            "https://mesosphere.github.io/marathon/docs/command-line-flags.html (--zk, --master)",
            "https://mesosphere.github.io/marathon/docs/high-availability.html (instances share the --zk path)",
        ],
    },
};

impl Check for FleetMarathonConfig {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let view = required(&facts.fleet, "the fleet's nodes")?;
        let instances: Vec<&NodeView> = view.reached().filter(|n| n.roles.contains(&Role::Marathon)).collect();
        if instances.is_empty() {
            return Err(NotJudged::Skip("no reached node has the Marathon role".into()));
        }
        let zk = |n: &NodeView| n.marathon_zk.as_ref().map(|v| v.value.clone());
        let master = |n: &NodeView| n.marathon_master.as_ref().map(|v| v.value.clone());
        let findings = [
            disagreement("Marathon on", &instances, zk, "--zk", |node, value| set_flag(node, "zk", value)),
            disagreement("Marathon on", &instances, master, "--master", |node, value| set_flag(node, "master", value)),
        ]
        .into_iter()
        .flatten()
        .collect();
        let undecided = view.not_reached_may("may run Marathon");
        conclude(findings, undecided, format!("{} Marathon instances compared", instances.len()))
    }
}

fn set_flag(node: &NodeView, flag: &str, value: &str) -> Vec<Remedy> {
    let on = node.runs_on();
    vec![
        Cmd::new("printf")
            .word(r"'%s\n'")
            .value(value)
            .word(">")
            .value(format!("/etc/marathon/conf/{flag}"))
            .safe()
            .on(on.clone())
            .with_note(format!("or MARATHON_{} where the instance's environment sets it", flag.to_uppercase())),
        Cmd::new("sudo").word("systemctl restart marathon").disruptive().on(on).with_note("one instance at a time"),
    ]
}
