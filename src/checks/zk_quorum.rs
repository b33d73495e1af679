//! `zk.quorum`: ZooKeeper ensemble has a healthy quorum.
//!
//! Every server the `--zk` URL names must answer and serve, exactly one of
//! them must lead, and the ensemble should have an odd number of voters.
//! A four-letter word refused by `4lw.commands.whitelist` is reported as a
//! refusal: it shows the process runs, not that it serves.

use std::borrow::Cow;
use super::{Check, CheckMeta, Explain, Conclusion, Verdict, required};
use crate::facts::zookeeper::{EnsembleFacts, Mode, Probe, ServerFacts};
use crate::facts::{Facts, Need};
use crate::remedy::{Cmd, HostGroup, Remedy, RunsOn};
use crate::report::{Finding, Status};

pub struct ZkQuorum;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("zk.quorum"),
    title: Cow::Borrowed("ZooKeeper ensemble has a healthy quorum"),
    severity: Status::Fail,
    needs: &[Need::Zookeeper],
    tags: texts!["zookeeper"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("Sends the four-letter words srvr, mntr and ruok to every server of Marathon's ZooKeeper URL \
               (--zk / MARATHON_ZK). Each server must answer and serve requests, exactly one must lead (a single \
               standalone server works but is not highly available), and the number of voting servers should be \
               odd. A command refused by 4lw.commands.whitelist is reported as a refusal, never as health."),
        why: Cow::Borrowed("Mesos masters and Marathon keep their leader election and state in ZooKeeper: without a quorum no \
              Mesos master and no Marathon instance can lead, and nothing is scheduled. A server that answers \
              \"not currently serving requests\" is running but has not joined a quorum (it cannot reach its peers \
              on the quorum and election ports, 2888 and 3888). An even ensemble tolerates no more failures than \
              the odd one below it. From ZooKeeper 3.5.3 only srvr is allowed unless the whitelist lists more; \
              \"mntr is not executed because it is not in the whitelist\" says nothing about the server's health."),
        fix: Cow::Borrowed("Start or repair the servers that do not answer or do not serve (their log says why; check that \
              2888 and 3888 are open between them). Run an odd number of servers (3 or 5). To let clusterdoc and \
              monitoring see every server, add 4lw.commands.whitelist=srvr,mntr,ruok to zoo.cfg and restart the \
              servers one at a time."),
        risk: Cow::Borrowed("Reading logs and editing zoo.cfg is safe. Starting or restarting a server is disruptive: restart \
               one server at a time and wait until it serves again, so the ensemble keeps its quorum."),
        references: texts![
            "ZooKeeper Administrator's Guide, \"The Four Letter Words\" and 4lw.commands.whitelist",
            "ZOOKEEPER-2693: four-letter words restricted by a whitelist from 3.5.3",
            "ZooKeeper Administrator's Guide, \"Clustered (Multi-Server) Setup\": odd ensemble sizes",
        ],
    },
};

impl Check for ZkQuorum {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let ensemble = required(&facts.zookeeper, "ZooKeeper facts")?;
        let mut findings: Vec<Finding> = ensemble.servers.iter().flat_map(server_findings).collect();
        findings.extend(leadership_findings(ensemble));
        findings.extend(size_findings(ensemble));
        if quorum_lost(ensemble) {
            for finding in findings.iter_mut().filter(|f| f.status == Status::Fail) {
                finding.problem = Some("no-quorum");
            }
        }
        Ok(Conclusion::findings(findings, summary(ensemble)))
    }
}

/// No named server serves: none leads, and none follows a leader (a
/// follower or observer serves only while a quorum has a leader), so the
/// ensemble serves no client, whichever servers the URL left out.
fn quorum_lost(ensemble: &EnsembleFacts) -> bool {
    !ensemble
        .servers
        .iter()
        .any(|s| matches!(s.mode(), Some(Mode::Leader | Mode::Follower | Mode::Observer | Mode::Standalone)))
}

fn subject(server: &ServerFacts) -> String {
    format!("ZooKeeper {}", server.server)
}

/// What one server's answers show on their own.
fn server_findings(server: &ServerFacts) -> Vec<Finding> {
    let mut findings = Vec::new();
    match server.mode() {
        None => findings.push(silent_server(server)),
        Some(Mode::ReadOnly) => findings.push(
            Finding::new(
                Status::Fail,
                subject(server),
                "serves read-only: it is cut off from a quorum of its ensemble and refuses every write",
            )
            .evidence(format!("{}: Mode: read-only", server.server)),
        ),
        Some(Mode::Other(mode)) => findings.push(
            Finding::new(Status::Error, subject(server), format!("reports a mode clusterdoc does not know: {mode:?}"))
                .evidence(format!("{}: Mode: {mode}", server.server)),
        ),
        Some(_) => {}
    }
    let refused = server.refused_commands();
    if server.mode().is_some() && !refused.is_empty() {
        findings.push(
            Finding::new(
                Status::Warn,
                subject(server),
                format!(
                    "{} refused by the server's 4lw.commands.whitelist: a refusal is not health; \
                     clusterdoc judged this server by what it did answer",
                    refused.join(", ")
                ),
            )
            .evidence(refusal_evidence(server, &refused))
            .fix(allow_commands(server))
            .fix(restart(server)),
        );
    }
    findings
}

/// A server whose role is unknown: why, as precisely as its answers allow.
fn silent_server(server: &ServerFacts) -> Finding {
    let not_serving = matches!(server.srvr, Probe::NotServing) || matches!(server.mntr, Probe::NotServing);
    if not_serving {
        return Finding::new(
            Status::Fail,
            subject(server),
            "running but not serving requests: it is still starting, or cannot reach a quorum of its ensemble",
        )
        .evidence(format!("srvr on {}: This ZooKeeper instance is not currently serving requests", server.server))
        .fix(
            Cmd::new("sudo").word("journalctl -u zookeeper -n 100 --no-pager").safe().on(on(server)).with_note(
                "the log says why it has no quorum (peers unreachable on the quorum and election ports 2888/3888?)",
            ),
        );
    }
    match &server.srvr {
        Probe::Unreachable { error } => {
            Finding::new(Status::Fail, subject(server), format!("does not answer: {error}"))
                .evidence(format!("srvr to {}: {error}", server.server))
                .fix(Cmd::new("sudo").word("systemctl start zookeeper").disruptive().on(on(server)).with_note(format!(
                    "if ZooKeeper is not running there; if it is, check the firewall for port {}/tcp",
                    server.server.port
                )))
        }
        Probe::NotInWhitelist => {
            let refused = server.refused_commands();
            Finding::new(
                Status::Error,
                subject(server),
                format!(
                    "refuses {} (4lw.commands.whitelist): the process runs, but whether it serves cannot be told; \
                     a refusal is not health",
                    refused.join(", ")
                ),
            )
            .evidence(refusal_evidence(server, &refused))
            .fix(allow_commands(server))
            .fix(restart(server))
        }
        Probe::Unintelligible { answer } => Finding::new(
            Status::Error,
            subject(server),
            "answered srvr, but not as ZooKeeper does: is another service on this port?",
        )
        .evidence(format!("srvr on {}: {answer}", server.server)),
        // srvr answered with a mode (so this is not reached) or mntr said
        // "not serving" (handled above): nothing more precise to say.
        Probe::Answered { .. } | Probe::NotServing => {
            Finding::new(Status::Error, subject(server), "its role in the ensemble could not be determined")
        }
    }
}

fn refusal_evidence(server: &ServerFacts, refused: &[&str]) -> String {
    let lines: Vec<String> =
        refused.iter().map(|cmd| format!("{cmd} is not executed because it is not in the whitelist")).collect();
    format!("{}: {}", server.server, lines.join("; "))
}

fn allow_commands(server: &ServerFacts) -> Remedy {
    Cmd::new("echo")
        .word("4lw.commands.whitelist=srvr,mntr,ruok | sudo tee -a /etc/zookeeper/conf/zoo.cfg")
        .safe()
        .on(on(server))
        .with_note("Debian's zoo.cfg; elsewhere conf/zoo.cfg of the ZooKeeper installation")
}

fn restart(server: &ServerFacts) -> Remedy {
    Cmd::new("sudo")
        .word("systemctl restart zookeeper")
        .disruptive()
        .on(on(server))
        .with_note("restart one server at a time and wait until srvr shows its mode, so the ensemble keeps its quorum")
}

/// A command about a server runs on that server.
fn on(server: &ServerFacts) -> RunsOn {
    RunsOn::host_of(&server.server.host, HostGroup::ZookeeperServers)
}

/// Exactly one leader among the servers that serve, or one standalone server.
fn leadership_findings(ensemble: &EnsembleFacts) -> Vec<Finding> {
    let with_mode =
        |mode: &Mode| -> Vec<&ServerFacts> { ensemble.servers.iter().filter(|s| s.mode() == Some(mode)).collect() };
    let (leaders, followers, standalone) =
        (with_mode(&Mode::Leader), with_mode(&Mode::Follower), with_mode(&Mode::Standalone));
    let names = |servers: &[&ServerFacts]| servers.iter().map(|s| s.server.to_string()).collect::<Vec<_>>().join(", ");
    let mode_evidence = |servers: &[&ServerFacts]| -> Vec<String> {
        servers.iter().map(|s| format!("{}: Mode: {}", s.server, s.mode().map_or("?", Mode::as_str))).collect()
    };
    let mut findings = Vec::new();
    if !standalone.is_empty() && ensemble.servers.len() == 1 {
        let finding = Finding::new(
            Status::Warn,
            subject(standalone[0]),
            "a standalone server: no high availability; when it stops, Mesos and Marathon lose their leaders",
        );
        findings.push(with_evidence(finding, mode_evidence(&standalone)));
    } else if !standalone.is_empty() {
        let finding = Finding::new(
            Status::Fail,
            format!("ZooKeeper {}", names(&standalone)),
            format!(
                "the URL names {} servers, but {} run standalone: they do not replicate, so clients connected to \
                 different servers see different data",
                ensemble.servers.len(),
                standalone.len()
            ),
        );
        findings.push(with_evidence(finding, mode_evidence(&standalone)));
    }
    if leaders.len() > 1 {
        let finding = Finding::new(
            Status::Fail,
            format!("ZooKeeper {}", names(&leaders)),
            format!("{} servers claim to lead: the URL mixes separate ensembles, or the ensemble split", leaders.len()),
        );
        findings.push(with_evidence(finding, mode_evidence(&leaders)));
    }
    let all_known = ensemble.servers.iter().all(|s| s.mode().is_some());
    let leader_may_be_unnamed = voters(ensemble).is_some_and(|(n, _)| n > ensemble.servers.len());
    if leaders.is_empty() && !followers.is_empty() && standalone.is_empty() && all_known && !leader_may_be_unnamed {
        let finding = Finding::new(
            Status::Fail,
            format!("ZooKeeper {}", names(&followers)),
            "every server answers, but none leads: the ensemble is electing a leader or cannot agree on one",
        );
        findings.push(with_evidence(finding, mode_evidence(&followers)));
    }
    findings
}

fn with_evidence(mut finding: Finding, evidence: Vec<String>) -> Finding {
    finding.evidence.extend(evidence);
    finding
}

/// The number of voting servers, and where that number comes from: the
/// servers' own `zk_quorum_size` (3.6+), else the servers the URL names.
fn voters(ensemble: &EnsembleFacts) -> Option<(usize, String)> {
    let reported = ensemble.servers.iter().find_map(|s| match &s.mntr {
        Probe::Answered { value } => value.quorum_size.map(|n| (n as usize, s.server.to_string())),
        _ => None,
    });
    match reported {
        Some((n, server)) => Some((n, format!("mntr on {server}: zk_quorum_size {n}"))),
        None if ensemble.servers.len() > 1 => {
            Some((ensemble.servers.len(), format!("the URL names {} servers", ensemble.servers.len())))
        }
        None => None,
    }
}

/// Odd ensemble size, every voter named by the URL and in sync with the leader.
fn size_findings(ensemble: &EnsembleFacts) -> Vec<Finding> {
    let Some((voters, source)) = voters(ensemble) else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    if voters > 1 && voters % 2 == 0 {
        findings.push(
            Finding::new(
                Status::Warn,
                "ZooKeeper ensemble",
                format!(
                    "{voters} voting servers: an even ensemble tolerates {} failures, no more than {} servers would",
                    (voters - 1) / 2,
                    voters - 1
                ),
            )
            .evidence(source.clone()),
        );
    }
    if voters > ensemble.servers.len() {
        findings.push(
            Finding::new(
                Status::Warn,
                "ZooKeeper ensemble",
                format!(
                    "the URL names {} of the {voters} voting servers: clients cannot fail over to the others",
                    ensemble.servers.len()
                ),
            )
            .evidence(source.clone()),
        );
    }
    for leader in ensemble.servers.iter().filter(|s| s.mode() == Some(&Mode::Leader)) {
        if let Probe::Answered { value } = &leader.mntr
            && let Some(synced) = value.synced_followers
            && (synced as usize) + 1 < voters
        {
            findings.push(
                Finding::new(
                    Status::Warn,
                    subject(leader),
                    format!(
                        "only {} of {voters} voting servers are in sync with the leader: one more failure may \
                         lose the quorum",
                        synced + 1
                    ),
                )
                .evidence(format!("mntr on {}: zk_synced_followers {synced}", leader.server))
                .evidence(source.clone()),
            );
        }
    }
    findings
}

fn summary(ensemble: &EnsembleFacts) -> String {
    let roles: Vec<String> = ensemble
        .servers
        .iter()
        .map(|s| format!("{} {}", s.server, s.mode().map_or("(no role)", Mode::as_str)))
        .collect();
    let version = ensemble.zookeeper_version().map(|v| format!(" (ZooKeeper {v})")).unwrap_or_default();
    format!("{} server(s): {}{version}", ensemble.servers.len(), roles.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Fact;
    use crate::facts::zookeeper::{Mntr, Srvr};
    use crate::target::HostPort;

    fn server(port: u16, mode: Option<Mode>) -> ServerFacts {
        let srvr = match mode {
            Some(mode) => Probe::Answered {
                value: Srvr { version: "3.8.0".into(), mode, zxid: None, node_count: None, connections: None },
            },
            None => Probe::Unreachable { error: "connection refused".into() },
        };
        ServerFacts {
            server: HostPort { host: "127.0.0.1".into(), port },
            srvr,
            mntr: Probe::Answered { value: Mntr::default() },
            ruok: Probe::Answered { value: () },
        }
    }

    fn judge(servers: Vec<ServerFacts>) -> Conclusion {
        let facts = Facts { zookeeper: Some(Fact::observed(EnsembleFacts { servers })), ..Facts::default() };
        ZkQuorum.run(&facts).unwrap()
    }

    #[test]
    fn one_leader_of_three_passes() {
        let j = judge(vec![
            server(1, Some(Mode::Follower)),
            server(2, Some(Mode::Leader)),
            server(3, Some(Mode::Follower)),
        ]);
        assert_eq!(j.findings, vec![]);
        assert!(j.note.unwrap().contains("127.0.0.1:2 leader"));
    }

    #[test]
    fn even_size_two_leaders_and_silence() {
        let j = judge(vec![
            server(1, Some(Mode::Leader)),
            server(2, Some(Mode::Leader)),
            server(3, Some(Mode::Follower)),
            server(4, None),
        ]);
        let messages: Vec<(Status, &str)> = j.findings.iter().map(|f| (f.status, f.message.as_str())).collect();
        assert!(messages.iter().any(|(s, m)| *s == Status::Fail && m.contains("connection refused")), "{messages:?}");
        assert!(messages.iter().any(|(s, m)| *s == Status::Fail && m.contains("2 servers claim to lead")));
        assert!(messages.iter().any(|(s, m)| *s == Status::Warn && m.contains("4 voting servers")));
    }

    /// ZooKeeper 3.8 always allows srvr; a server refusing it (and mntr)
    /// cannot be judged, and the refusal must not pass for health.
    #[test]
    fn srvr_refused_is_an_error_not_health() {
        let mut refusing = server(1, None);
        (refusing.srvr, refusing.mntr) = (Probe::NotInWhitelist, Probe::NotInWhitelist);
        let j = judge(vec![refusing]);
        assert_eq!(j.status(), Status::Error);
        let f = &j.findings[0];
        assert!(f.message.contains("refuses srvr, mntr") && f.message.contains("a refusal is not health"));
        assert_eq!(
            f.evidence,
            ["127.0.0.1:1: srvr is not executed because it is not in the whitelist; \
                 mntr is not executed because it is not in the whitelist"]
        );
        let commands: Vec<&str> = f.remediation.iter().map(|r| r.command.as_str()).collect();
        assert_eq!(
            commands,
            [
                "echo 4lw.commands.whitelist=srvr,mntr,ruok | sudo tee -a /etc/zookeeper/conf/zoo.cfg",
                "sudo systemctl restart zookeeper"
            ]
        );
    }

    #[test]
    fn followers_without_a_leader_fail() {
        let j = judge(vec![
            server(1, Some(Mode::Follower)),
            server(2, Some(Mode::Follower)),
            server(3, Some(Mode::Follower)),
        ]);
        assert_eq!(j.status(), Status::Fail);
        assert!(j.findings[0].message.contains("none leads"));
    }
}
