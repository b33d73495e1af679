//! Real ZooKeeper servers (tests/support/zk.rs) holding a Marathon 1.4 tree,
//! as a healthy cluster's would, with the Marathon leader's latch held by
//! the seeding session.

#![allow(dead_code)] // each bench uses the parts it needs

use super::marathon_zk::{Seeder, V1_4_13_PERSISTENCE};
use super::zk::{Ensemble, ZkServer};

pub struct MarathonZk {
    /// `127.0.0.1:P1,127.0.0.1:P2,...`.
    pub servers: String,
    _running: Vec<ZkServer>,
    /// Holds the ephemeral election node.
    _seeder: Seeder,
}

impl MarathonZk {
    /// One standalone server with `/marathon` as Marathon 1.4.13 led from `marathon` wrote it.
    pub fn standalone(rt: &tokio::runtime::Runtime, marathon: &str) -> MarathonZk {
        Self::seeded(rt, vec![ZkServer::standalone("srvr,mntr,ruok")], marathon)
    }

    /// A three-server quorum with the same tree.
    pub fn ensemble(rt: &tokio::runtime::Runtime, marathon: &str) -> MarathonZk {
        Self::seeded(rt, Ensemble::start(3).servers, marathon)
    }

    fn seeded(rt: &tokio::runtime::Runtime, running: Vec<ZkServer>, marathon: &str) -> MarathonZk {
        let servers = running.iter().map(ZkServer::address).collect::<Vec<_>>().join(",");
        let seeder = rt.block_on(async {
            let seeder = Seeder::connect(&servers).await;
            seeder.marathon_nested("/marathon", V1_4_13_PERSISTENCE, marathon).await;
            seeder
        });
        MarathonZk { servers, _running: running, _seeder: seeder }
    }

    /// `zk://SERVERS/marathon`.
    pub fn url(&self) -> String {
        format!("zk://{}/marathon", self.servers)
    }
}
