//! Facts: this node's roles (not implemented yet).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};
use crate::config::Role;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeRoles {
    pub roles: Vec<Role>,
    /// How each role was decided (`--role`, a process, a unit, a config file).
    pub evidence: Vec<String>,
}

pub(crate) async fn gather(_g: &Gatherer) -> Fact<NodeRoles> {
    Fact::unavailable("not implemented yet")
}
