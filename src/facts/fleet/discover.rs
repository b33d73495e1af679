//! `--nodes discover`: the nodes the cluster itself names. The agents the
//! leading Mesos master lists (by the host name they registered with), the
//! masters named with `--mesos`, the ZooKeeper servers of `--zk` and the
//! Marathon host of `--marathon`; implicit default targets (this machine)
//! add nothing. Every name is validated as a destination later, like any
//! other `--nodes` entry.

use crate::facts::{Fact, Gatherer};
use crate::target::Target;

/// The names, named targets first; an error when the agents cannot be
/// listed.
pub async fn discover(g: &Gatherer) -> Result<Vec<String>, String> {
    let cfg = &g.cfg;
    let host = |t: &Target| t.explicit.then(|| t.host_port().0);
    let mut names: Vec<String> = cfg.mesos.iter().filter_map(host).collect();
    if cfg.zk.explicit {
        names.extend(cfg.zk.servers.iter().map(|s| s.host.clone()));
    }
    names.extend(host(&cfg.marathon));
    let agents = match g.mesos().await {
        Fact::Observed { value } => match &value.state {
            Fact::Observed { value } => Ok(value.agents.iter().map(|a| a.hostname.clone()).collect::<Vec<_>>()),
            other => Err(other.problem().unwrap_or_default().to_string()),
        },
        other => Err(other.problem().unwrap_or_default().to_string()),
    };
    // A partial list would check fewer nodes than the operator thinks.
    let agents =
        agents.map_err(|why| format!("--nodes discover: the leading master's agents could not be listed: {why}"))?;
    names.extend(agents);
    Ok(names)
}
