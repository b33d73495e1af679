//! Facts: Flink JobManager endpoints (not implemented yet; the types below are
//! the interface other facts and checks rely on).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};
use crate::version::Version;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlinkFacts {}

impl FlinkFacts {
    /// The Flink version the named endpoints report (`/config` flink-version).
    pub fn version(&self) -> Option<Version> {
        None
    }
}

pub(crate) async fn gather(_g: &Gatherer) -> Fact<FlinkFacts> {
    Fact::unavailable("not implemented yet")
}
