//! Facts: processes (not implemented yet).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessFacts {}

pub(crate) async fn gather(_g: &Gatherer) -> Fact<ProcessFacts> {
    Fact::unavailable("not implemented yet")
}
