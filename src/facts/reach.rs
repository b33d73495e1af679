//! Facts: reach (not implemented yet).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReachFacts {}

pub(crate) async fn gather(_g: &Gatherer) -> Fact<ReachFacts> {
    Fact::unavailable("not implemented yet")
}
