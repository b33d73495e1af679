//! What the nodes of a fleet that must agree on a setting disagree on: the
//! nodes grouped by their value, the majority's value, and the others named
//! in one finding with the fix that writes the majority's value there. The
//! cross-node checks (`fleet.*`) share it.

use crate::facts::fleet::view::{NodeView, hosts};
use crate::remedy::Remedy;
use crate::report::{Finding, Status};

/// Nodes grouped by a value, the largest group first; of equal groups, the
/// one seen first (`None`: not set).
pub fn groups<'a, T: PartialEq>(
    nodes: &[&'a NodeView],
    value: impl Fn(&NodeView) -> Option<T>,
) -> Vec<(Option<T>, Vec<&'a NodeView>)> {
    let mut groups: Vec<(Option<T>, Vec<&NodeView>)> = Vec::new();
    for node in nodes {
        let v = value(node);
        match groups.iter_mut().find(|(g, _)| *g == v) {
            Some((_, members)) => members.push(node),
            None => groups.push((v, vec![node])),
        }
    }
    groups.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
    groups
}

/// A failing finding about the `kind` nodes (`Mesos masters`) whose `what`
/// (`ZooKeeper URL (/etc/mesos/zk)`) differs from the majority's, with
/// `fix(node, majority value)` for each; `None` when those that set it agree.
pub fn disagreement(
    kind: &str,
    nodes: &[&NodeView],
    value: impl Fn(&NodeView) -> Option<String>,
    what: &str,
    fix: impl Fn(&NodeView, &str) -> Vec<Remedy>,
) -> Option<Finding> {
    let set: Vec<(String, Vec<&NodeView>)> =
        groups(nodes, value).into_iter().filter_map(|(v, nodes)| Some((v?, nodes))).collect();
    let ((majority, majority_nodes), others) = set.split_first()?;
    if others.is_empty() {
        return None;
    }
    let differing: Vec<&NodeView> = others.iter().flat_map(|(_, nodes)| nodes.iter().copied()).collect();
    let mut finding = Finding::new(
        Status::Fail,
        format!("{kind} {}", hosts(&differing)),
        format!("their {what} differs from the one of {}", hosts(majority_nodes)),
    )
    .evidence(format!("{}: {majority}", hosts(majority_nodes)));
    for (other, nodes) in others {
        finding = finding.evidence(format!("{}: {other}", hosts(nodes)));
    }
    for node in &differing {
        finding = finding.fixes(fix(node, majority));
    }
    Some(finding)
}
