//! Facts: the flags the Mesos daemons run with.
//!
//! The leading master's `/master/flags` and each registered agent's
//! `/slave(N)/flags` (read-only GETs). An agent is asked at the address it
//! registered with (its pid, `slave(1)@IP:PORT`), without credentials: the
//! user did not name it. At most [`MAX_AGENTS`] agents are asked,
//! [`IN_FLIGHT`] at a time, all under the run's deadline.

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt};
use reqwest::Url;
use serde::{Deserialize, Serialize};

use super::http::{self, BodyLimit, Service};
use super::mesos::{Agent, Leadership, MesosFacts, pid_address};
use super::{Fact, Gatherer};
use crate::target::Target;

/// Agents asked for their flags; a bigger cluster is judged on these.
pub const MAX_AGENTS: usize = 256;
/// Agents asked at the same time.
const IN_FLIGHT: usize = 16;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MesosFlagsFacts {
    /// `/master/flags` of the leading master.
    pub master: Fact<Flags>,
    /// The agents of the leader's state, in its order (at most [`MAX_AGENTS`]).
    pub agents: Vec<AgentFlags>,
    /// How many agents were left unasked beyond [`MAX_AGENTS`].
    #[serde(default)]
    pub unasked_agents: usize,
}

/// One agent's flags.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentFlags {
    pub id: String,
    pub hostname: String,
    /// `slave(1)@IP:PORT`, when the state carried it.
    pub pid: Option<String>,
    pub flags: Fact<Flags>,
}

/// A `/flags` answer: `{"flags": {"work_dir": "/var/lib/mesos", ...}}`.
/// Mesos writes every value as a string; anything else is refused.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Flags {
    pub flags: BTreeMap<String, String>,
}

impl Flags {
    /// A flag's value; Mesos leaves unset optional flags out.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.flags.get(name).map(String::as_str)
    }
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<MesosFlagsFacts> {
    let mesos = match g.mesos().await {
        Fact::Observed { value } => value,
        Fact::Unavailable { reason } => return Fact::unavailable(reason.clone()),
        Fact::Failed { error } => return Fact::failed(format!("the Mesos flags need the leader's state: {error}")),
    };
    let master = master_flags(g, mesos).await;
    let all_agents: &[Agent] = mesos.state.value().map_or(&[], |s| &s.agents);
    let asked = &all_agents[..all_agents.len().min(MAX_AGENTS)];
    let agents = stream::iter(asked.iter().map(|a| agent_flags(g, a))).buffered(IN_FLIGHT).collect().await;
    Fact::observed(MesosFlagsFacts { master, agents, unasked_agents: all_agents.len() - asked.len() })
}

/// The leader's flags: from the named master it is (with the user's
/// credentials), else from its pid's address.
async fn master_flags(g: &Gatherer, mesos: &MesosFacts) -> Fact<Flags> {
    let Leadership::Known(leader) = &mesos.leadership else {
        return Fact::failed(format!(
            "no leading Mesos master to ask for /master/flags: {}",
            mesos.state.problem().unwrap_or("its state was not read")
        ));
    };
    let named = g.cfg.mesos.iter().find(|t| {
        let url = &t.url;
        leader.is(&format!("{}:{}", url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(80)))
    });
    let scheme = g.cfg.mesos.first().map_or("http", |t| t.url.scheme());
    let target = match named {
        Some(t) => t.clone(),
        None => match unnamed_target(scheme, &leader.pid) {
            Some(t) => t,
            None => return Fact::failed(format!("the leader's pid {:?} is not master@HOST:PORT", leader.pid)),
        },
    };
    read_flags(g, &Service::new("Mesos leader", &target), "/master/flags").await
}

async fn agent_flags(g: &Gatherer, agent: &Agent) -> AgentFlags {
    let scheme = g.cfg.mesos.first().map_or("http", |t| t.url.scheme());
    let flags = match agent.pid.as_deref().and_then(|pid| Some((pid.split_once('@')?.0, unnamed_target(scheme, pid)?)))
    {
        None => Fact::failed(format!(
            "agent {} ({}): its pid {:?} is not slave(N)@HOST:PORT, so its /flags cannot be asked",
            agent.id, agent.hostname, agent.pid
        )),
        Some((process, target)) => {
            read_flags(g, &Service::new("Mesos agent", &target), &format!("/{process}/flags")).await
        }
    };
    AgentFlags { id: agent.id.clone(), hostname: agent.hostname.clone(), pid: agent.pid.clone(), flags }
}

/// A daemon the user did not name, at its pid's address, without credentials.
fn unnamed_target(scheme: &str, pid: &str) -> Option<Target> {
    let url = Url::parse(&format!("{scheme}://{}", pid_address(pid))).ok()?;
    url.port().is_some().then_some(Target { url, explicit: true })
}

async fn read_flags(g: &Gatherer, endpoint: &Service, path: &str) -> Fact<Flags> {
    match http::get_json::<Flags>(g, endpoint, path, BodyLimit::SMALL).await {
        Ok(flags) => Fact::observed(flags),
        Err(e) => Fact::failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flags_answer_with_a_non_string_value_is_refused() {
        assert!(serde_json::from_str::<Flags>(r#"{"flags": {"port": 5050}}"#).is_err());
        let flags: Flags = serde_json::from_str(r#"{"flags": {"work_dir": "/var/lib/mesos"}}"#).unwrap();
        assert_eq!(flags.get("work_dir"), Some("/var/lib/mesos"));
        assert_eq!(flags.get("ip"), None);
    }

    #[test]
    fn agents_are_asked_at_their_pid() {
        let t = unnamed_target("http", "slave(1)@10.0.0.7:5051").unwrap();
        assert_eq!(t.url.as_str(), "http://10.0.0.7:5051/");
        assert!(unnamed_target("http", "slave(1)@10.0.0.7").is_none(), "no port: not a pid");
    }
}
