//! Facts: ZooKeeper (not implemented yet).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EnsembleFacts {}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MarathonTree {}

pub(crate) async fn gather_ensemble(_g: &Gatherer) -> Fact<EnsembleFacts> {
    Fact::unavailable("not implemented yet")
}

pub(crate) async fn gather_marathon_tree(_g: &Gatherer) -> Fact<MarathonTree> {
    Fact::unavailable("not implemented yet")
}
