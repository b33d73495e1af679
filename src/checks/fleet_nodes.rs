//! `fleet.nodes`: every node named with `--nodes` was reached.
//!
//! What it looks for, why it matters, how to fix it and the risk of the fix
//! are its `META.explain`, the one text `clusterdoc explain` shows.

use std::borrow::Cow;

use super::{Check, CheckMeta, Conclusion, Explain, NotJudged, Verdict, required};
use crate::facts::fleet::view::NodeView;
use crate::facts::{Facts, Need};
use crate::remedy::{Cmd, Remedy};
use crate::report::{Finding, NodeState, Scope, Status};

pub struct FleetNodes;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("fleet.nodes"),
    title: Cow::Borrowed("Every listed node was reached"),
    severity: Status::Error,
    needs: &[Need::Fleet],
    tags: texts!["ssh", "fleet"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("In a fleet run (--nodes), whether clusterdoc got each node's snapshot: one `error` \
               finding per node that was not reached, with what went wrong (ssh could not connect or authenticate, \
               with ssh's own message; the node answered without a usable snapshot; the run's deadline came first; \
               the name is no valid ssh destination). Every node check is then `error` on that node too, and the \
               root-cause report folds those under this finding: one node down is one problem, not one per check."),
        why: Cow::Borrowed("A node clusterdoc could not reach is a node nothing was checked on: its firewalld, systemd \
              units and host name are as unknown as they were before the run. Saying so once, per node, keeps an \
              unreachable agent from reading as a dozen independent failures, and from reading as healthy."),
        fix: Cow::Borrowed("Reach the node the way clusterdoc did (the printed `ssh` with BatchMode, so a password or \
              host-key prompt shows as the error it is), then fix what it says: start sshd or the host, add the key \
              to the agent or authorized_keys, accept the host key once. Run the fleet check again; a run that only \
              ran out of time needs a longer --deadline."),
        risk: Cow::Borrowed("The printed ssh runs `true` on the node: it changes nothing there."),
        references: texts![
            "DESIGN.md C1 (fleet over OpenSSH, node states)",
            "ssh(1), ssh_config(5): BatchMode, ConnectTimeout",
        ],
    },
};

impl Check for FleetNodes {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let view = required(&facts.fleet, "the fleet's nodes")?;
        if view.nodes.is_empty() {
            return Err(NotJudged::Skip("no node was listed".into()));
        }
        let findings: Vec<Finding> = view.nodes.iter().filter_map(unreached).collect();
        let note = format!("{} of {} nodes reached", view.nodes.len() - findings.len(), view.nodes.len());
        Ok(Conclusion::findings(findings, note))
    }
}

/// The finding for a node that was not reached; none for one that was.
fn unreached(node: &NodeView) -> Option<Finding> {
    let what = node.error.as_deref().unwrap_or("no reason recorded");
    let message = match node.state {
        NodeState::Reached => return None,
        NodeState::Unreachable => format!("not reached over ssh: {what}"),
        NodeState::Error => format!("answered without a usable snapshot: {what}"),
        NodeState::CutOff => format!("not finished before the run's deadline: {what}"),
        NodeState::Refused => format!("not a valid ssh destination, never handed to ssh: {what}"),
    };
    let finding = Finding::new(Status::Error, format!("node {}", node.host), message)
        .problem(UNREACHED)
        .about(Scope::host(names(node)))
        .evidence(format!("state: {}", node.state.as_str()));
    Some(finding.fixes(remedy(node)))
}

/// The kind of problem its findings are, for the root-cause edges.
const UNREACHED: &str = "unreached";

/// Every name the node goes by: as listed, and the address ssh reached.
fn names(node: &NodeView) -> Vec<String> {
    let mut names = vec![node.host.clone()];
    names.extend(node.address.map(|a| a.to_string()));
    names
}

/// What reproduces the failure: ssh as clusterdoc runs it, with nothing to
/// do on the node; none for a name ssh was never given.
fn remedy(node: &NodeView) -> Option<Remedy> {
    match node.state {
        NodeState::Refused | NodeState::Reached => None,
        NodeState::CutOff => Some(
            Cmd::new("clusterdoc")
                .word("check --nodes")
                .value(&node.host)
                .word("--deadline 120s")
                .safe()
                .with_note("this node alone, with more time"),
        ),
        NodeState::Unreachable | NodeState::Error => Some(
            Cmd::new("ssh")
                .word("-o BatchMode=yes -o ConnectTimeout=10")
                .value(&node.host)
                .word("true")
                .safe()
                .with_note("connects as clusterdoc does (add the options of --ssh if you gave it); its error is the one to fix"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Fact;
    use crate::facts::fleet::view::FleetView;

    fn node(host: &str, state: NodeState, error: Option<&str>) -> NodeView {
        serde_json::from_value(serde_json::json!({"host": host, "state": state, "error": error})).unwrap()
    }

    fn run(nodes: Vec<NodeView>) -> Verdict {
        let facts = Facts { fleet: Some(Fact::observed(FleetView { nodes })), ..Facts::default() };
        FleetNodes.run(&facts)
    }

    #[test]
    fn each_node_not_reached_is_one_error_with_the_ssh_that_shows_why() {
        let refused = "ssh: connect to host a2 port 22: Connection refused";
        let judged = run(vec![
            node("m1", NodeState::Reached, None),
            node("a2", NodeState::Unreachable, Some(refused)),
            node("-oProxyCommand=x", NodeState::Refused, Some("not a host name")),
        ])
        .unwrap();
        assert_eq!(judged.status(), Status::Error);
        assert_eq!(judged.note.as_deref(), Some("1 of 3 nodes reached"));
        let a2 = &judged.findings[0];
        assert_eq!((a2.subject.as_str(), a2.problem), ("node a2", Some(UNREACHED)));
        assert_eq!(a2.message, format!("not reached over ssh: {refused}"));
        assert_eq!(a2.remediation[0].command, "ssh -o BatchMode=yes -o ConnectTimeout=10 a2 true");
        assert!(judged.findings[1].remediation.is_empty(), "a name never handed to ssh is not put in a command");
        assert_eq!(run(vec![node("m1", NodeState::Reached, None)]).unwrap().status(), Status::Pass);
    }
}
