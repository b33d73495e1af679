//! Facts: marathon (not implemented yet).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MarathonFacts {}

pub(crate) async fn gather(_g: &Gatherer) -> Fact<MarathonFacts> {
    Fact::unavailable("not implemented yet")
}
