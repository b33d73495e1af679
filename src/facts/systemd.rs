//! Facts: systemd (not implemented yet).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemdFacts {}

pub(crate) async fn gather(_g: &Gatherer) -> Fact<SystemdFacts> {
    Fact::unavailable("not implemented yet")
}
