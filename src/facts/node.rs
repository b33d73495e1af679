//! Facts: node (not implemented yet).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeFacts {}

pub(crate) async fn gather(_g: &Gatherer) -> Fact<NodeFacts> {
    Fact::unavailable("not implemented yet")
}

impl NodeFacts {
    /// The node's host name, when it could be read.
    pub fn hostname(&self) -> Option<&str> {
        None
    }
}
