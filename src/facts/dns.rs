//! Facts: dns (not implemented yet).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DnsFacts {}

pub(crate) async fn gather(_g: &Gatherer) -> Fact<DnsFacts> {
    Fact::unavailable("not implemented yet")
}
