//! `fleet.clock-skew`: every node's clock agrees with the orchestrator's.
//!
//! Each node writes its clock into its snapshot; the orchestrator compares
//! it with its own when the answer has arrived, so a node looks behind by at
//! most the answer's way back (milliseconds), never ahead.

use std::borrow::Cow;

use super::{Check, CheckMeta, Explain, NotJudged, Verdict, conclude, required};
use crate::facts::fleet::view::{NodeView, hosts};
use crate::facts::{Facts, Need};
use crate::remedy::Cmd;
use crate::report::{Finding, Status};

pub struct FleetClockSkew;

/// Beyond this a node's clock is called skewed (as `mesos.master-clock-skew`).
const WARN_ABOVE_MS: i64 = 2_000;
/// Beyond this, certificates, Kerberos tickets and log times are all off.
const FAIL_ABOVE_MS: i64 = 60_000;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("fleet.clock-skew"),
    title: Cow::Borrowed("Nodes' clocks agree"),
    severity: Status::Warn,
    needs: &[Need::Fleet],
    tags: texts!["time", "fleet"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("In a fleet run (--nodes), each node writes its clock (milliseconds) into the snapshot it \
               sends back, and clusterdoc compares it with its own clock when the answer has arrived: a node can \
               look behind by the answer's way back (milliseconds), never ahead. Warns when a node is more than 2 s \
               off, fails above 60 s; names the nodes and how far off each is. Nodes not reached are not \
               compared. Cannot decide (error) when no reached node sent its clock (a node running an older \
               clusterdoc)."),
        why: Cow::Borrowed("Mesos masters and agents stamp task status updates, registry entries, maintenance \
              windows and their logs with their own clocks; after a fail-over a skewed master shifts every \
              time it reports, and a post-incident review cannot line the logs of the nodes up. Skew also breaks \
              TLS certificate validity and Kerberos between the nodes (5 minutes by default), which is why DC/OS \
              requires time synchronisation on every node."),
        fix: Cow::Borrowed("Run a time service (chronyd or ntpd) on every node, pointing at the same servers, and let \
              it step the clock once; check it with `chronyc tracking` (or `ntpq -p`, `timedatectl`)."),
        risk: Cow::Borrowed("The printed commands only read the time service's state. Stepping a clock back can \
               confuse programs that assumed time only moves forward; chronyd steps only at start (makestep)."),
        references: texts![
            "https://docs.d2iq.com/mesosphere/dcos/latest/installing/production/system-requirements/ (time \
             synchronisation required on every node)",
            "https://web.mit.edu/kerberos/krb5-latest/doc/admin/conf_files/krb5_conf.html (clockskew, 300 s)",
            "https://chrony-project.org/doc/4.5/chrony.conf.html (makestep)",
        ],
    },
};

impl Check for FleetClockSkew {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let view = required(&facts.fleet, "the fleet's nodes")?;
        let reached: Vec<&NodeView> = view.reached().collect();
        if reached.is_empty() {
            return Err(NotJudged::Skip("no node was reached".into()));
        }
        let timed: Vec<(&NodeView, i64)> = reached.iter().filter_map(|n| n.clock_skew_ms.map(|s| (*n, s))).collect();
        let untimed: Vec<&NodeView> = reached.iter().copied().filter(|n| n.clock_skew_ms.is_none()).collect();
        let undecided = if untimed.is_empty() {
            Vec::new()
        } else {
            vec![format!("{} sent no clock (an older clusterdoc there?)", hosts(&untimed))]
        };
        let findings = [Status::Fail, Status::Warn]
            .into_iter()
            .filter_map(|status| skewed(&timed, status))
            .collect();
        let widest = timed.iter().map(|(_, s)| s.abs()).max().unwrap_or(0);
        conclude(findings, undecided, format!("{} node clocks compared; the widest is {widest} ms off", timed.len()))
    }
}

/// The nodes whose skew falls in `status`'s band, as one finding.
fn skewed(timed: &[(&NodeView, i64)], status: Status) -> Option<Finding> {
    let band = |skew: i64| match skew.abs() {
        s if s > FAIL_ABOVE_MS => Some(Status::Fail),
        s if s > WARN_ABOVE_MS => Some(Status::Warn),
        _ => None,
    };
    let off: Vec<&(&NodeView, i64)> = timed.iter().filter(|(_, skew)| band(*skew) == Some(status)).collect();
    if off.is_empty() {
        return None;
    }
    let nodes: Vec<&NodeView> = off.iter().map(|(n, _)| *n).collect();
    let limit = if status == Status::Fail { FAIL_ABOVE_MS } else { WARN_ABOVE_MS };
    let mut finding = Finding::new(
        status,
        format!("clocks of {}", hosts(&nodes)),
        format!("more than {} s off this machine's clock: logs, task times and certificates disagree", limit / 1000),
    );
    for (node, skew) in off {
        let direction = if *skew > 0 { "ahead" } else { "behind" };
        finding = finding
            .evidence(format!("{}: {:.1} s {direction}", node.host, skew.abs() as f64 / 1000.0))
            .fix(Cmd::new("chronyc").word("tracking").safe().on(node.runs_on()).with_note(
                "or `ntpq -p` where ntpd keeps time; `timedatectl` shows whether a time service is active",
            ));
    }
    Some(finding)
}
