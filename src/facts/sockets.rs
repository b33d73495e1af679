//! Facts: sockets (not implemented yet).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SocketFacts {}

pub(crate) async fn gather(_g: &Gatherer) -> Fact<SocketFacts> {
    Fact::unavailable("not implemented yet")
}
