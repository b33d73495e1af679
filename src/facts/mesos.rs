//! Facts: Mesos masters (not implemented yet; the types below are the
//! interface other facts and checks rely on).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MesosFacts {
    /// `/master/state` of the leading master.
    pub state: Fact<MesosState>,
}

/// The parts of `/master/state` clusterdoc uses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MesosState {
    pub agents: Vec<Agent>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub id: String,
    pub hostname: String,
    /// `slave(1)@IP:PORT`: the address the agent registered with.
    pub pid: Option<String>,
    /// Absent in old Mesos (treated as active).
    pub active: bool,
}

pub(crate) async fn gather(_g: &Gatherer) -> Fact<MesosFacts> {
    Fact::unavailable("not implemented yet")
}
