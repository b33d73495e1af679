//! `fleet.zk-ensemble`: the ZooKeeper servers of a fleet agree on their
//! ensemble, and each knows which member it is.
//!
//! Compares the `server.N` lines of every reached node's zoo.cfg and its
//! `myid` (dataDir/myid, or the packages' usual places).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{Check, CheckMeta, Explain, NotJudged, Verdict, conclude, required};
use crate::agreement::groups;
use crate::facts::fleet::view::{FleetView, NodeView, hosts};
use crate::facts::node::{ZooEnsemble, ZooServer};
use crate::facts::{Facts, Need};
use crate::remedy::{Cmd, Remedy, RunsOn};
use crate::report::{Finding, Status};

pub struct FleetZkEnsemble;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("fleet.zk-ensemble"),
    title: Cow::Borrowed("ZooKeeper servers agree on their ensemble"),
    severity: Status::Fail,
    needs: &[Need::Fleet],
    tags: texts!["zookeeper", "fleet"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("In a fleet run (--nodes), reads each reached node's zoo.cfg server.N lines and its myid \
               (dataDir/myid, /etc/zookeeper/conf/myid or /var/lib/zookeeper/myid). Fails when the nodes' server \
               lists differ (naming the nodes that differ from the majority), when a server has no myid, a myid \
               that no server.N line has, a myid another node has too, or a myid whose server.N line names another \
               host, and when a multi-server list has a loopback address; warns on an even number of servers. \
               Cannot decide (error) when a node that the lists name as a server was not reached."),
        why: Cow::Borrowed("Each ZooKeeper server learns the ensemble from its own zoo.cfg and its place in it from \
              myid. Servers with different lists count quorums differently and can elect two leaders, or none; a \
              server whose myid names another host's line binds that host's quorum and election ports and the \
              others cannot reach it; a missing myid stops a multi-server ensemble from starting (\"myid file is \
              missing\"); a loopback address in the list makes a peer connect to itself. An even ensemble \
              tolerates no more failures than one server fewer."),
        fix: Cow::Borrowed("Give every server the same server.N lines (the majority's are shown) and write each \
              server's own N into dataDir/myid, then restart the servers one at a time, the leader last."),
        risk: Cow::Borrowed("Disruptive: each restart drops that server's client sessions, which reconnect to the \
               others; restarting one at a time keeps the quorum."),
        references: texts![
            "https://zookeeper.apache.org/doc/current/zookeeperAdmin.html#sc_zkMulitServerSetup (\"every machine \
             that is part of the ZooKeeper ensemble should know about every other machine\"; the myid file)",
            "https://zookeeper.apache.org/doc/current/zookeeperAdmin.html#sc_designing (\"an ensemble of 2F+1 \
             servers tolerates F failures\")",
            "https://github.com/apache/zookeeper/blob/master/zookeeper-server/src/main/java/org/apache/zookeeper/\
             server/quorum/QuorumPeerConfig.java (myid file is missing; serverId not in the peer list)",
        ],
    },
};

impl Check for FleetZkEnsemble {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let view = required(&facts.fleet, "the fleet's nodes")?;
        let servers: Vec<(&NodeView, &ZooEnsemble)> =
            view.reached().filter_map(|node| node.zookeeper.as_ref().map(|zk| (node, zk))).collect();
        if servers.is_empty() {
            return Err(NotJudged::Skip("no reached node has a zoo.cfg: no ZooKeeper server to compare".into()));
        }
        let lists = by_server_list(&servers.iter().map(|(node, _)| *node).collect::<Vec<_>>());
        let (majority, majority_nodes) = &lists[0];
        let mut findings = Vec::new();
        for (list, nodes) in &lists[1..] {
            findings.push(differing_list(majority, majority_nodes, list, nodes));
        }
        findings.extend(myid_findings(&servers));
        findings.extend(lists.iter().flat_map(|(list, nodes)| loopback_members(list, nodes)));
        if majority.len() > 1 && majority.len() % 2 == 0 {
            findings.push(even_size(majority, majority_nodes));
        }
        let undecided = unreached_members(view, majority);
        let note = format!(
            "{} ZooKeeper server{} compared: {} server.N lines",
            servers.len(),
            if servers.len() == 1 { "" } else { "s" },
            majority.len()
        );
        conclude(findings, undecided, note)
    }
}

/// Nodes grouped by their server list (in id order), the largest group first.
fn by_server_list<'a>(nodes: &[&'a NodeView]) -> Vec<(Vec<ZooServer>, Vec<&'a NodeView>)> {
    let sorted = |node: &NodeView| {
        let mut list = node.zookeeper.as_ref()?.servers.clone();
        list.sort();
        Some(list)
    };
    groups(nodes, sorted).into_iter().filter_map(|(list, nodes)| Some((list?, nodes))).collect()
}

fn lines(list: &[ZooServer]) -> String {
    if list.is_empty() {
        return "no server.N lines (standalone)".into();
    }
    list.iter().map(|s| format!("server.{}={}", s.id, s.value)).collect::<Vec<_>>().join(", ")
}

fn differing_list(majority: &[ZooServer], majority_nodes: &[&NodeView], list: &[ZooServer], nodes: &[&NodeView]) -> Finding {
    let mut finding = Finding::new(
        Status::Fail,
        format!("ZooKeeper on {}", hosts(nodes)),
        format!(
            "zoo.cfg lists other servers than on {}: the servers count quorums differently and may elect two \
             leaders or none",
            hosts(majority_nodes)
        ),
    )
    .evidence(format!("{}: {}", hosts(nodes), lines(list)))
    .evidence(format!("{}: {}", hosts(majority_nodes), lines(majority)));
    for node in nodes {
        if let Some(zk) = &node.zookeeper {
            finding = finding.fixes(same_servers(node, zk, majority));
        }
    }
    finding
}

/// Replaces the node's server lines with the majority's, then restarts it.
fn same_servers(node: &NodeView, zk: &ZooEnsemble, majority: &[ZooServer]) -> Vec<Remedy> {
    let on = node.runs_on();
    let delete = Cmd::new("sed")
        .word("-i.bak -E")
        .value(r"/^[[:space:]]*server\.[0-9]+[[:space:]]*[=:]/d")
        .value(&zk.path)
        .safe()
        .on(on.clone())
        .with_note("keeps a copy as .bak");
    let mut append = Cmd::new("printf").word(r"'%s\n'");
    for server in majority {
        append = append.value(format!("server.{}={}", server.id, server.value));
    }
    vec![
        delete,
        append.word(">>").value(&zk.path).safe().on(on.clone()),
        restart(on),
    ]
}

fn restart(on: RunsOn) -> Remedy {
    Cmd::new("sudo")
        .word("systemctl restart zookeeper")
        .disruptive()
        .on(on)
        .with_note("one server at a time, the leader last, so the quorum holds")
}

fn myid_findings(servers: &[(&NodeView, &ZooEnsemble)]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut holders: BTreeMap<&str, Vec<&NodeView>> = BTreeMap::new();
    for (node, zk) in servers.iter().filter(|(_, zk)| zk.servers.len() > 1) {
        let own_line = zk.servers.iter().find(|s| node.is(&s.host));
        let Some(myid) = &zk.myid else {
            let finding = Finding::new(
                Status::Fail,
                format!("ZooKeeper on {}", node.host),
                "no myid file: a server of a multi-server ensemble does not start (\"myid file is missing\")",
            )
            .evidence(format!("{}: {} server.N lines", zk.path, zk.servers.len()));
            findings.push(with_myid_fix(finding, node, zk, own_line));
            continue;
        };
        holders.entry(myid.value.as_str()).or_default().push(node);
        let problem = match zk.servers.iter().find(|s| s.id == myid.value) {
            None => Some(format!("myid {:?} has no server.{} line", myid.value, myid.value)),
            Some(line) if !node.is(&line.host) => Some(format!(
                "myid {} names server.{}={}, another host: this server binds that host's quorum and election ports",
                myid.value, line.id, line.value
            )),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            let finding = Finding::new(Status::Fail, format!("ZooKeeper on {}", node.host), problem)
                .evidence(format!("{}: {}", myid.source, myid.value))
                .evidence(format!("{}: {}", zk.path, lines(&zk.servers)))
                .evidence(identity(node));
            findings.push(with_myid_fix(finding, node, zk, own_line));
        }
    }
    for (myid, nodes) in holders.into_iter().filter(|(_, nodes)| nodes.len() > 1) {
        findings.push(
            Finding::new(
                Status::Fail,
                format!("ZooKeeper on {}", hosts(&nodes)),
                format!("myid {myid} on {} servers: the ensemble sees one member where there are several", nodes.len()),
            )
            .evidence(format!("myid {myid}: {}", hosts(&nodes))),
        );
    }
    findings
}

fn identity(node: &NodeView) -> String {
    let address = node.address.map(|a| a.to_string()).unwrap_or_else(|| "unknown".into());
    format!("{}: address {address}, host name {}", node.host, node.hostname.as_deref().unwrap_or("unknown"))
}

/// Writes the id of the node's own server line into its myid file.
fn with_myid_fix(finding: Finding, node: &NodeView, zk: &ZooEnsemble, own: Option<&ZooServer>) -> Finding {
    let Some(own) = own else {
        return finding.evidence(format!("no server.N line of {} names this node: add one", zk.path));
    };
    let path = match &zk.data_dir {
        Some(dir) => format!("{}/myid", dir.trim_end_matches('/')),
        None => zk.myid.as_ref().map_or("/var/lib/zookeeper/myid".into(), |m| m.source.clone()),
    };
    let on = node.runs_on();
    finding.fixes([
        Cmd::new("printf").word(r"'%s\n'").value(&own.id).word(">").value(path).safe().on(on.clone()),
        restart(on),
    ])
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn loopback_members(list: &[ZooServer], nodes: &[&NodeView]) -> Option<Finding> {
    if list.len() < 2 {
        return None;
    }
    let looped: Vec<String> =
        list.iter().filter(|s| is_loopback(&s.host)).map(|s| format!("server.{}={}", s.id, s.value)).collect();
    (!looped.is_empty()).then(|| {
        Finding::new(
            Status::Fail,
            format!("ZooKeeper on {}", hosts(nodes)),
            "a loopback address in a multi-server list: that server's peers connect to themselves",
        )
        .evidence(format!("{}: {}", hosts(nodes), looped.join(", ")))
    })
}

fn even_size(list: &[ZooServer], nodes: &[&NodeView]) -> Finding {
    let n = list.len();
    Finding::new(
        Status::Warn,
        format!("ZooKeeper on {}", hosts(nodes)),
        format!(
            "{n} servers tolerate {} failure{}, as {} do: an even ensemble adds a vote, not tolerance",
            (n - 1) / 2,
            if (n - 1) / 2 == 1 { "" } else { "s" },
            n - 1
        ),
    )
    .evidence(lines(list))
}

/// Servers of the list on nodes that were named but not reached.
fn unreached_members(view: &FleetView, list: &[ZooServer]) -> Vec<String> {
    view.nodes
        .iter()
        .filter(|n| n.state != crate::report::NodeState::Reached)
        .filter(|n| list.iter().any(|s| n.is(&s.host)))
        .map(|n| format!("node {} ({}) is a server of the ensemble and was not reached", n.host, n.state))
        .collect()
}
