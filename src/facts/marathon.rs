//! Facts: Marathon (not implemented yet; the types below are the interface
//! other facts and checks rely on).

use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarathonFacts {
    /// The Marathon endpoint, redacted.
    pub url: String,
    /// `/v2/info`.
    pub info: Fact<MarathonInfo>,
}

/// The parts of `/v2/info` clusterdoc uses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MarathonInfo {
    pub version: Option<String>,
    pub framework_id: Option<String>,
    pub leader: Option<String>,
    pub elected: Option<bool>,
    /// `marathon_config.hostname`.
    pub hostname: Option<String>,
    /// `zookeeper_config.zk`, redacted.
    pub zk: Option<String>,
}

pub(crate) async fn gather(_g: &Gatherer) -> Fact<MarathonFacts> {
    Fact::unavailable("not implemented yet")
}
