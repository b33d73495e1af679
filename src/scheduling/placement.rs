//! Placing instances on agents when each needs a host of its own.

use std::collections::VecDeque;

/// Instances of apps alike (same constraints, port hidden or declared) and
/// the agents they may use.
pub struct Demand {
    pub hidden: bool,
    pub apps: usize,
    pub instances: u64,
    pub agents: Vec<usize>,
}

/// How many instances can run at once when each needs a host of its own: a
/// maximum matching of instances to agents, by augmenting paths.
pub fn placeable(demands: &[Demand], agent_count: usize) -> u64 {
    if let [only] = demands {
        return only.instances.min(only.agents.len() as u64);
    }
    let mut owner: Vec<Option<usize>> = vec![None; agent_count];
    let mut placed = 0;
    for start in 0..demands.len() {
        // A demand that finds no augmenting path never finds one later.
        for _ in 0..demands[start].instances.min(agent_count as u64) {
            if !augment(demands, &mut owner, start) {
                break;
            }
            placed += 1;
        }
    }
    placed
}

/// Gives demand `start` one more agent, moving others along a path if needed.
fn augment(demands: &[Demand], owner: &mut [Option<usize>], start: usize) -> bool {
    let mut visited = vec![false; demands.len()];
    // For a demand reached: the demand that takes one of its agents, and that agent.
    let mut taken_by: Vec<Option<(usize, usize)>> = vec![None; demands.len()];
    visited[start] = true;
    let mut queue = VecDeque::from([start]);
    while let Some(d) = queue.pop_front() {
        for &agent in &demands[d].agents {
            match owner[agent] {
                None => {
                    owner[agent] = Some(d);
                    let mut gives = d;
                    while let Some((takes, its_agent)) = taken_by[gives] {
                        owner[its_agent] = Some(takes);
                        gives = takes;
                    }
                    return true;
                }
                Some(other) if !visited[other] => {
                    visited[other] = true;
                    taken_by[other] = Some((d, agent));
                    queue.push_back(other);
                }
                Some(_) => {}
            }
        }
    }
    false
}

/// Whether apps binding the port could meet on a host without Mesos
/// knowing: two of them may run on one agent and one hides the port.
pub fn shares_blindly(demands: &[Demand], agent_count: usize) -> bool {
    if demands.iter().any(|d| d.hidden && d.apps > 1 && !d.agents.is_empty()) {
        return true;
    }
    let mut first_on: Vec<Option<usize>> = vec![None; agent_count];
    for (i, d) in demands.iter().enumerate() {
        for &agent in &d.agents {
            match first_on[agent] {
                Some(other) if d.hidden || demands[other].hidden => return true,
                Some(_) => {}
                None => first_on[agent] = Some(i),
            }
        }
    }
    false
}

/// How many agents some demands may use together.
pub fn union_len(demands: &[Demand], agent_count: usize) -> usize {
    if let [only] = demands {
        return only.agents.len();
    }
    let mut seen = vec![false; agent_count];
    demands.iter().flat_map(|d| &d.agents).filter(|&&a| !std::mem::replace(&mut seen[a], true)).count()
}
