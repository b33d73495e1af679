//! `marathon.failover`: a scheduler's tasks survive its failover.
//!
//! Reads Marathon's `failover_timeout` and `zk_session_timeout` from its
//! `/v2/info`, ZooKeeper's `tickTime` from this node's zoo.cfg, and Flink's
//! `mesos.failover-timeout` from every flink-conf.yaml on this node.

use std::borrow::Cow;
use super::{Check, CheckMeta, Explain, NotJudged, Verdict, conclude, required};
use crate::facts::marathon::MarathonInfo;
use crate::facts::node::{ConfigEntry, FlinkInstall};
use crate::facts::{Fact, Facts, Need};
use crate::remedy::{Cmd, HostGroup, Remedy, RunsOn, sed_replacement_literal};
use crate::report::{Finding, Status};

pub struct MarathonFailover;

/// Marathon's and Flink's default failover timeout: one week.
const WEEK_SECS: u64 = 604_800;
/// Below this a leader change (session expiry, election, re-registration)
/// can outlast the timeout.
const FAILS_BELOW_SECS: u64 = 60;
/// Below this a Marathon outage of an hour kills every task.
const WARNS_BELOW_SECS: u64 = 3_600;
/// Marathon's default `zk_session_timeout`.
const ZK_SESSION_DEFAULT_MS: u64 = 10_000;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("marathon.failover"),
    title: Cow::Borrowed("Schedulers' tasks survive a failover"),
    severity: Status::Fail,
    needs: &[Need::Marathon, Need::Node],
    tags: texts!["marathon", "flink", "mesos", "zookeeper"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("Marathon's marathon_config.failover_timeout in /v2/info (fails below 60 s, warns below an hour), \
               its zookeeper_config.zk_session_timeout (warns below 10 s, and outside 2..20 tickTime of this \
               node's zoo.cfg, the range ZooKeeper grants), and mesos.failover-timeout in every flink-conf.yaml \
               on this node (fails at 0, warns below an hour). Cannot decide (error) when Marathon could not be \
               asked or a value does not parse."),
        why: Cow::Borrowed("A framework's failover timeout is how long the Mesos master keeps its tasks while no scheduler \
              is connected. Marathon registers with --failover_timeout (default 604800 s, a week): at 0 or a \
              few seconds every leader change - a restart, an upgrade, a ZooKeeper hiccup - makes the master \
              tear the framework down and kill all its tasks, and the next leader finds its framework id \
              removed. Flink's Mesos resource manager does the same with mesos.failover-timeout. Marathon's \
              leadership lives in a ZooKeeper session: a --zk_session_timeout below 10 s expires on a GC pause \
              or a slow disk and Marathon abdicates and exits in a loop (marathon#4266); ZooKeeper grants only \
              timeouts between 2 and 20 tickTime, so a request outside that range silently becomes the bound."),
        fix: Cow::Borrowed("Set Marathon's failover timeout back to a week (/etc/marathon/conf/failover_timeout, or \
              --failover_timeout / MARATHON_FAILOVER_TIMEOUT) and its session timeout to at least 10 s within \
              2..20 tickTime; set mesos.failover-timeout in flink-conf.yaml to 604800. Restart the Marathons \
              one at a time, the leader last, and the Flink JobManager."),
        risk: Cow::Borrowed("Disruptive: Marathon and the Flink JobManager restart (a leader change, which with the old \
               timeout may itself kill the tasks: raise it before anything else restarts). Mesos records the \
               new failover timeout when the framework re-registers."),
        references: texts![
            "https://mesosphere.github.io/marathon/docs/command-line-flags.html (--failover_timeout: \"The \
             failover_timeout for Mesos in seconds\", default 604800; --zk_session_timeout, default 10000 ms)",
            "https://mesos.apache.org/documentation/latest/high-availability-framework-guide/ (\"if the \
             framework's scheduler does not reconnect within the failover timeout, the master kills all its \
             tasks\")",
            "https://github.com/d2iq-archive/marathon/issues/4266 (Marathon leaders suicide loop on ZooKeeper \
             connection loss)",
            "https://zookeeper.apache.org/doc/current/zookeeperAdmin.html (minSessionTimeout and \
             maxSessionTimeout default to 2 and 20 times tickTime)",
            "https://nightlies.apache.org/flink/flink-docs-release-1.13/docs/deployment/config/ \
             (mesos.failover-timeout, default 604800 s)",
        ],
    },
};

impl Check for MarathonFailover {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let node = required(&facts.node, "node facts")?;
        let tick = node.zookeeper_tick_time.as_ref();
        let (mut findings, mut undecided, mut ignored, mut judged_count) = (Vec::new(), Vec::new(), Vec::new(), 0);
        match required(&facts.marathon, "Marathon facts").map(|m| &m.info) {
            Ok(Fact::Observed { value }) => {
                judged_count += 1;
                marathon_findings(value, tick, &mut findings, &mut undecided);
            }
            Ok(other) => undecided.push(format!("Marathon /v2/info: {}", other.problem().unwrap_or_default())),
            Err(NotJudged::Skip(reason)) => ignored.push(format!("Marathon: {reason}")),
            Err(NotJudged::Error(error)) => undecided.push(error),
        }
        for install in &node.flink {
            if let Some(entry) = &install.mesos_failover_timeout {
                judged_count += 1;
                match entry.value.trim().parse::<u64>() {
                    Ok(secs) => findings.extend(flink_finding(install, entry.line, secs)),
                    Err(_) => undecided.push(format!(
                        "{} line {}: mesos.failover-timeout {:?} is not a number of seconds",
                        install.conf, entry.line, entry.value
                    )),
                }
            }
        }
        if judged_count == 0 && undecided.is_empty() {
            return Err(NotJudged::Skip(format!(
                "nothing to judge: no Marathon answered and no flink-conf.yaml sets mesos.failover-timeout ({})",
                ignored.join("; ")
            )));
        }
        let mut note =
            format!("{judged_count} scheduler configuration{} checked", if judged_count == 1 { "" } else { "s" });
        if !ignored.is_empty() {
            note.push_str(&format!("; not included: {}", ignored.join("; ")));
        }
        conclude(findings, undecided, note)
    }
}

fn marathon_findings(
    info: &MarathonInfo,
    tick: Option<&ConfigEntry>,
    findings: &mut Vec<Finding>,
    undecided: &mut Vec<String>,
) {
    match info.failover_timeout_secs {
        Some(secs) => findings.extend(timeout_status(secs).map(|status| {
            Finding::new(
                status,
                "Marathon failover_timeout",
                format!(
                    "failover_timeout is {secs} s: when no Marathon is connected for longer - a leader change, a \
                     restart - the Mesos master tears the framework down and kills all its tasks"
                ),
            )
            .evidence(format!("Marathon /v2/info marathon_config.failover_timeout: {secs}"))
            .fix(marathon_flag("failover_timeout", WEEK_SECS))
        })),
        None => undecided.push("Marathon /v2/info reports no marathon_config.failover_timeout".into()),
    }
    let Some(ms) = info.zk_session_timeout_ms else { return };
    let tick_ms = tick.and_then(|t| t.value.trim().parse::<u64>().ok().map(|ms| (t, ms)));
    let granted = tick_ms.map(|(_, t)| (2 * t, 20 * t));
    let problem = match granted {
        Some((min, _)) if ms < min => Some(format!("below 2 tickTime ({min} ms): ZooKeeper raises it to {min} ms")),
        Some((_, max)) if ms > max => Some(format!("above 20 tickTime ({max} ms): ZooKeeper lowers it to {max} ms")),
        _ if ms < ZK_SESSION_DEFAULT_MS => {
            Some("below 10 s: a GC pause or a slow ZooKeeper disk expires the session, and the leader abdicates".into())
        }
        _ => None,
    };
    if let Some(problem) = problem {
        let mut finding = Finding::new(
            Status::Warn,
            "Marathon zk_session_timeout",
            format!("zk_session_timeout is {ms} ms, {problem}"),
        )
        .evidence(format!("Marathon /v2/info zookeeper_config.zk_session_timeout: {ms}"));
        if let Some((entry, _)) = tick_ms {
            finding = finding.evidence(format!("{} line {}: tickTime={}", entry.path, entry.line, entry.value));
        }
        let wanted = match granted {
            Some((min, max)) => ZK_SESSION_DEFAULT_MS.clamp(min, max),
            None => ZK_SESSION_DEFAULT_MS,
        };
        findings.push(finding.fix(marathon_flag("zk_session_timeout", wanted)));
    }
}

/// Fail or warn for a failover timeout of `secs`, or nothing.
fn timeout_status(secs: u64) -> Option<Status> {
    match secs {
        s if s < FAILS_BELOW_SECS => Some(Status::Fail),
        s if s < WARNS_BELOW_SECS => Some(Status::Warn),
        _ => None,
    }
}

/// Sets a Marathon flag through its conf directory (the packages' wrapper
/// turns `/etc/marathon/conf/NAME` into `--NAME`).
fn marathon_flag(name: &str, value: u64) -> Remedy {
    Cmd::new("printf")
        .word(r"'%s\n'")
        .value(value.to_string())
        .word(">")
        .value(format!("/etc/marathon/conf/{name}"))
        .disruptive()
        .with_note(format!(
            "or --{name} / MARATHON_{} where Marathon is started; restart them one at a time, the leader last",
            name.to_ascii_uppercase()
        ))
        .on(RunsOn::Every(HostGroup::MarathonHosts))
}

fn flink_finding(install: &FlinkInstall, line: usize, secs: u64) -> Option<Finding> {
    let status = timeout_status(secs)?;
    let script = format!(
        "s/^[[:space:]]*mesos[.]failover-timeout:.*/mesos.failover-timeout: {}/",
        sed_replacement_literal(&WEEK_SECS.to_string())
    );
    Some(
        Finding::new(
            status,
            format!("Flink mesos.failover-timeout in {}", install.conf),
            format!(
                "mesos.failover-timeout is {secs} s: when the JobManager fails over, the Mesos master kills its \
                 TaskManagers before the new one re-registers"
            ),
        )
        .evidence(format!("{} line {line}: mesos.failover-timeout: {secs}", install.conf))
        .fix(
            Cmd::new("sed")
                .word("-i.bak")
                .word("-E")
                .value(script)
                .value(&install.conf)
                .disruptive()
                .with_note("restart the Flink JobManager afterwards"),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::marathon::MarathonFacts;
    use crate::facts::node::{NodeFacts, YamlEntry};
    use crate::remedy::Risk;

    fn node(tick: Option<&str>, flink: Option<&str>) -> NodeFacts {
        NodeFacts {
            hostname: Fact::unavailable("not needed"),
            flink: flink
                .map(|value| FlinkInstall {
                    conf: "/opt/flink/conf/flink-conf.yaml".into(),
                    rpc_address: None,
                    mesos_failover_timeout: Some(YamlEntry {
                        line: 7,
                        key: "mesos.failover-timeout".into(),
                        value: value.into(),
                    }),
                    version: None,
                    version_source: None,
                })
                .into_iter()
                .collect(),
            zookeeper_tick_time: tick.map(|value| ConfigEntry {
                path: "/etc/zookeeper/conf/zoo.cfg".into(),
                line: 1,
                value: value.into(),
            }),
            ..NodeFacts::named("not needed")
        }
    }

    fn facts(info: Option<MarathonInfo>, node: NodeFacts) -> Facts {
        let marathon = match info {
            Some(info) => Fact::observed(MarathonFacts {
                url: "http://m:8080".into(),
                info: Fact::observed(info),
                leader: Fact::observed(None),
                apps: Fact::observed(Vec::new()),
                queue: Fact::observed(Vec::new()),
                deployments: Fact::observed(Vec::new()),
            }),
            None => Fact::unavailable("no Marathon answers at http://127.0.0.1:8080"),
        };
        Facts { marathon: Some(marathon), node: Some(Fact::observed(node)), ..Default::default() }
    }

    fn info(failover: Option<u64>, session: Option<u64>) -> MarathonInfo {
        MarathonInfo { failover_timeout_secs: failover, zk_session_timeout_ms: session, ..MarathonInfo::default() }
    }

    #[test]
    fn a_zero_failover_timeout_fails_with_a_week_as_the_fix() {
        let j = MarathonFailover.run(&facts(Some(info(Some(0), Some(10_000))), node(None, None))).unwrap();
        assert_eq!(j.status(), Status::Fail);
        let f = &j.findings[0];
        assert_eq!(f.subject, "Marathon failover_timeout");
        assert_eq!(f.evidence, ["Marathon /v2/info marathon_config.failover_timeout: 0"]);
        assert_eq!(f.remediation[0].command, r"printf '%s\n' 604800 > /etc/marathon/conf/failover_timeout");
        assert_eq!(f.remediation[0].risk, Risk::Disruptive);
    }

    #[test]
    fn a_short_failover_timeout_and_session_timeout_warn() {
        let j = MarathonFailover.run(&facts(Some(info(Some(600), Some(5_000))), node(None, None))).unwrap();
        assert_eq!(j.status(), Status::Warn);
        let subjects: Vec<&str> = j.findings.iter().map(|f| f.subject.as_str()).collect();
        assert_eq!(subjects, ["Marathon failover_timeout", "Marathon zk_session_timeout"]);
        assert!(j.findings[1].message.contains("below 10 s"), "{:?}", j.findings[1]);
    }

    #[test]
    fn a_session_timeout_outside_what_tick_time_grants_warns_with_the_bound() {
        let j = MarathonFailover.run(&facts(Some(info(None, Some(30_000))), node(Some("1000"), None)));
        // No failover_timeout reported: not a pass, but the session finding is kept.
        let err = j.unwrap_err();
        assert!(matches!(&err, NotJudged::Error(e) if e.contains("no marathon_config.failover_timeout")), "{err:?}");
        let j = MarathonFailover.run(&facts(Some(info(Some(WEEK_SECS), Some(30_000))), node(Some("1000"), None)));
        let j = j.unwrap();
        let f = &j.findings[0];
        assert!(f.message.contains("above 20 tickTime (20000 ms)"), "{f:?}");
        assert_eq!(f.evidence[1], "/etc/zookeeper/conf/zoo.cfg line 1: tickTime=1000");
        assert_eq!(f.remediation[0].command, r"printf '%s\n' 10000 > /etc/marathon/conf/zk_session_timeout");
        let low = MarathonFailover.run(&facts(Some(info(Some(WEEK_SECS), Some(10_000))), node(Some("6000"), None)));
        let low = low.unwrap();
        assert!(low.findings[0].message.contains("ZooKeeper raises it to 12000 ms"), "{low:?}");
        assert!(low.findings[0].remediation[0].command.contains(" 12000 "), "{low:?}");
    }

    #[test]
    fn flink_at_zero_fails_and_defaults_pass() {
        let j = MarathonFailover.run(&facts(None, node(None, Some("0")))).unwrap();
        assert_eq!(j.status(), Status::Fail);
        let f = &j.findings[0];
        assert_eq!(f.evidence, ["/opt/flink/conf/flink-conf.yaml line 7: mesos.failover-timeout: 0"]);
        assert!(f.remediation[0].command.starts_with("sed -i.bak -E 's/^[[:space:]]*mesos[.]failover-timeout:"));
        assert!(j.note.unwrap().contains("not included: Marathon: no Marathon answers"));

        let fine = MarathonFailover.run(&facts(Some(info(Some(WEEK_SECS), Some(10_000))), node(Some("2000"), None)));
        let fine = fine.unwrap();
        assert!(fine.findings.is_empty(), "{fine:?}");
    }

    #[test]
    fn what_cannot_be_read_is_an_error_and_nothing_skips() {
        let err = MarathonFailover.run(&facts(None, node(None, Some("a week")))).unwrap_err();
        assert!(matches!(&err, NotJudged::Error(e) if e.contains("line 7: mesos.failover-timeout \"a week\"")), "{err:?}");
        assert!(matches!(MarathonFailover.run(&facts(None, node(None, None))), Err(NotJudged::Skip(_))));
    }
}
