//! Facts: flink (not implemented yet).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlinkFacts {}

pub(crate) async fn gather(_g: &Gatherer) -> Fact<FlinkFacts> {
    Fact::unavailable("not implemented yet")
}
