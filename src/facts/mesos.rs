//! Facts: mesos (not implemented yet).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MesosFacts {}

pub(crate) async fn gather(_g: &Gatherer) -> Fact<MesosFacts> {
    Fact::unavailable("not implemented yet")
}
