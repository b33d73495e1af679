//! Facts: firewalld (not implemented yet).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FirewalldFacts {}

pub(crate) async fn gather(_g: &Gatherer) -> Fact<FirewalldFacts> {
    Fact::unavailable("not implemented yet")
}
