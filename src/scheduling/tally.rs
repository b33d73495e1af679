//! Why agents cannot take an app, counted the way the Kubernetes scheduler
//! prints it (`0/50 nodes are available: 30 Insufficient memory, ...`):
//! one number per reason, an agent short of several counted under each.

use std::fmt;

/// One reason an agent cannot take an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The app's constraints exclude the agent.
    Constraints,
    /// The app accepts only resources reserved for roles the agent has none of.
    RoleMismatch,
    /// The agent's ports resource does not hold a port the app requires.
    PortNotOffered(u16),
    /// A port the app requires is in use on the agent.
    PortTaken(u16),
    /// Too little of a resource is free (`cpus`, `mem`, `disk`, `ports`).
    Insufficient(&'static str),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Constraints => f.write_str("excluded by constraints"),
            Reason::RoleMismatch => f.write_str("role mismatch"),
            Reason::PortNotOffered(port) => write!(f, "port {port} not offered"),
            Reason::PortTaken(port) => write!(f, "port {port} taken"),
            Reason::Insufficient(resource) => write!(f, "insufficient {resource}"),
        }
    }
}

/// How many of the agents can take an instance, and why the others cannot.
#[derive(Clone, Debug, PartialEq)]
pub struct Tally {
    pub agents: usize,
    pub can_take: usize,
    /// Most agents first; reasons no agent has are left out.
    reasons: Vec<(Reason, usize)>,
}

impl Tally {
    pub fn new(agents: usize, can_take: usize) -> Self {
        Tally { agents, can_take, reasons: Vec::new() }
    }

    /// Counts `agents` agents under `reason` (none: nothing to say).
    pub fn add(&mut self, reason: Reason, agents: usize) {
        if agents == 0 {
            return;
        }
        // Stable: reasons with equal counts keep the order they were added in.
        let at = self.reasons.partition_point(|&(_, n)| n >= agents);
        self.reasons.insert(at, (reason, agents));
    }

    pub fn reasons(&self) -> &[(Reason, usize)] {
        &self.reasons
    }

    /// `0/50 agents can take /flink/flink2: 30 insufficient mem, 12 role mismatch`.
    pub fn line(&self, what: &str) -> String {
        let mut line = format!("{}/{} agents can take {what}", self.can_take, self.agents);
        let reasons: Vec<String> = self.reasons.iter().map(|(reason, n)| format!("{n} {reason}")).collect();
        if !reasons.is_empty() {
            line.push_str(": ");
            line.push_str(&reasons.join(", "));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_most_agents_first_as_kubernetes_prints_them() {
        let mut tally = Tally::new(50, 0);
        tally.add(Reason::PortTaken(6123), 8);
        tally.add(Reason::Insufficient("mem"), 30);
        tally.add(Reason::Constraints, 0);
        tally.add(Reason::RoleMismatch, 12);
        tally.add(Reason::PortNotOffered(6124), 12);
        assert_eq!(
            tally.line("/flink/flink2"),
            "0/50 agents can take /flink/flink2: 30 insufficient mem, 12 role mismatch, 12 port 6124 not offered, \
             8 port 6123 taken"
        );
        assert_eq!(Tally::new(3, 3).line("it"), "3/3 agents can take it");
    }
}
