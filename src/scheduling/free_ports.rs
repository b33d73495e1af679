//! Choosing ports for moved apps.

use std::collections::{HashMap, HashSet};

/// Chooses ports that collide with nothing known, each at most once.
pub struct FreePorts {
    taken: HashSet<u16>,
    /// Sorted, disjoint.
    avoid: Vec<(u16, u16)>,
    /// Per starting port, where the next search resumes (keeps many moves off one port linear).
    resume: HashMap<u16, u32>,
}

impl FreePorts {
    pub fn new(taken: HashSet<u16>, avoid: Vec<(u16, u16)>) -> Self {
        FreePorts { taken, avoid, resume: HashMap::new() }
    }

    /// The first free port above `port`, now taken.
    pub fn after(&mut self, port: u16) -> Option<u16> {
        let mut candidate = self.resume.get(&port).copied().unwrap_or(u32::from(port) + 1);
        let mut chosen = None;
        while chosen.is_none() && candidate <= u32::from(u16::MAX) {
            let c = candidate as u16;
            let i = self.avoid.partition_point(|&(_, high)| high < c);
            match self.avoid.get(i) {
                Some(&(low, high)) if low <= c => candidate = u32::from(high) + 1,
                _ => {
                    candidate += 1;
                    chosen = self.taken.insert(c).then_some(c);
                }
            }
        }
        self.resume.insert(port, candidate);
        chosen
    }
}
