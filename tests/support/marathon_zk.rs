//! Seeding a real ZooKeeper as each Marathon version leaves it: the storage
//! version node in the bytes Marathon's protobuf-java writes, the flat
//! (<= 1.3) or nested (1.4+) state layout, and the election nodes of
//! twitter-commons (1.1) and Curator (1.3+), held by the seeding session.

#![allow(dead_code)] // each test file uses the parts it needs

use std::time::Duration;

use zookeeper_client as zkc;

/// The storage version node as Marathon's protobuf-java writes it:
/// `ZKStoreEntry { name = "internal:storage:version", uuid = <UUID text>,
/// value = <StorageVersion>, compressed = false }`, fields in tag order.
pub fn store_entry(storage_version: &[u8]) -> Vec<u8> {
    named_store_entry(b"internal:storage:version", storage_version)
}

/// The framework id the incident's Marathon registered under (its /v2/info
/// and the Mesos state's `marathon` framework).
pub const MARATHON_FRAMEWORK_ID: &str = "7c5d1f0e-3b6a-4f0e-9a51-1d2c3b4a5f60-0000";

/// Mesos' `FrameworkID { value = 1 }`, as Marathon 1.4+ stores it at
/// `state/framework-id/b/id`.
pub fn framework_id(id: &str) -> Vec<u8> {
    let mut bytes = vec![0x0a, id.len() as u8];
    bytes.extend_from_slice(id.as_bytes());
    bytes
}

/// Marathon <= 1.3's `state/framework:id`: the FrameworkID in a ZKStoreEntry.
pub fn flat_framework_id(id: &str) -> Vec<u8> {
    named_store_entry(b"framework:id", &framework_id(id))
}

/// `ZKStoreEntry { name, uuid, value, compressed = false }`, fields in tag order.
fn named_store_entry(name: &[u8], value: &[u8]) -> Vec<u8> {
    let uuid = b"7d0c61b4-5b0e-4b8e-a3f1-6a0f1f0e2c9d";
    let mut bytes = vec![0x0a, name.len() as u8];
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(&[0x12, uuid.len() as u8]);
    bytes.extend_from_slice(uuid);
    bytes.extend_from_slice(&[0x1a, value.len() as u8]);
    bytes.extend_from_slice(value);
    bytes.extend_from_slice(&[0x20, 0x00]);
    bytes
}

/// `StorageVersion` messages: major = 1, minor = 2, patch = 3 (varints), format = 4.
pub const V1_1_10: &[u8] = &[0x08, 1, 0x10, 1, 0x18, 10];
pub const V1_3_8: &[u8] = &[0x08, 1, 0x10, 3, 0x18, 8];
pub const V1_4_13_PERSISTENCE: &[u8] = &[0x08, 1, 0x10, 4, 0x18, 13, 0x20, 1];
pub const V1_6_0_PERSISTENCE: &[u8] = &[0x08, 1, 0x10, 6, 0x18, 0, 0x20, 1];
/// Marathon 1.8 stores 18.200.0 (200 is the varint c8 01).
pub const V18_200_0_PERSISTENCE: &[u8] = &[0x08, 18, 0x10, 0xc8, 0x01, 0x18, 0, 0x20, 1];

/// A session of the test's own: writes the seed and holds the ephemeral
/// election nodes for as long as it lives.
pub struct Seeder {
    pub client: zkc::Client,
}

impl Seeder {
    /// Connects to the server at `host:port`.
    pub async fn connect(address: &str) -> Seeder {
        let client = zkc::Client::connector()
            .with_session_timeout(Duration::from_secs(20))
            .connect(address)
            .await
            .expect("test session");
        Seeder { client }
    }

    pub async fn create(&self, path: &str, data: &[u8], mode: zkc::CreateMode) -> String {
        let parent = &path[..path.rfind('/').unwrap()];
        if !parent.is_empty() {
            let dir = zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_all());
            self.client.mkdir(parent, &dir).await.unwrap_or_else(|e| panic!("mkdir {parent}: {e}"));
        }
        let options = mode.with_acls(zkc::Acls::anyone_all());
        let (_, sequence) =
            self.client.create(path, data, &options).await.unwrap_or_else(|e| panic!("create {path}: {e}"));
        match mode {
            zkc::CreateMode::EphemeralSequential | zkc::CreateMode::PersistentSequential => format!("{path}{sequence}"),
            _ => path.to_string(),
        }
    }

    pub async fn put(&self, path: &str, data: &[u8]) {
        self.create(path, data, zkc::CreateMode::Persistent).await;
    }

    /// A live candidate: an ephemeral(-sequential) node with `host:port` data.
    pub async fn candidate(&self, path: &str, host_port: &str) -> String {
        let mode = if path.ends_with('-') || path.ends_with('_') {
            zkc::CreateMode::EphemeralSequential
        } else {
            zkc::CreateMode::Ephemeral
        };
        self.create(path, host_port.as_bytes(), mode).await
    }

    /// Marathon <= 1.3: flat `kind:id` entries in `state`, one task, and
    /// the framework id.
    pub async fn flat_state(&self, root: &str, version: &[u8]) {
        self.put(&format!("{root}/state/internal:storage:version"), &store_entry(version)).await;
        for entry in ["app:/flink/flink1", "group:root", "task:flink_flink1.1f3c2b1a"] {
            self.put(&format!("{root}/state/{entry}"), b"\x0a\x04seed").await;
        }
        self.put(&format!("{root}/state/framework:id"), &flat_framework_id(MARATHON_FRAMEWORK_ID)).await;
    }

    /// Marathon 1.4+: category directories in `state`, one instance, and the
    /// framework id where `ZkId.path` puts it.
    pub async fn nested_state(&self, root: &str, version: &[u8]) {
        self.put(&format!("{root}/state/internal:storage:version"), &store_entry(version)).await;
        for entry in ["apps/1f/flink_flink1/2017-03-01T10:00:00.000Z", "group/root", "instance/2a/flink_flink1.1f3c"] {
            self.put(&format!("{root}/state/{entry}"), b"\x0a\x04seed").await;
        }
        self.put(&format!("{root}/state/framework-id/b/id"), &framework_id(MARATHON_FRAMEWORK_ID)).await;
    }

    /// 1.1: flat state and a twitter-commons candidate `member_<seq>` under `leader`.
    pub async fn marathon_1_1(&self, root: &str, host_port: &str) {
        self.flat_state(root, V1_1_10).await;
        self.twitter_commons_member(root, host_port).await;
    }

    /// A live 1.1 instance's twitter-commons group membership.
    pub async fn twitter_commons_member(&self, root: &str, host_port: &str) -> String {
        self.candidate(&format!("{root}/leader/member_"), host_port).await
    }

    /// 1.3: Curator latch, plus the tombstones its leader writes into `leader`.
    pub async fn marathon_1_3(&self, root: &str) {
        self.flat_state(root, V1_3_8).await;
        self.curator_latch(root, "m3.example:8080").await;
        self.candidate(&format!("{root}/leader/member_-00000000"), "m3.example:8080").await;
        self.candidate(&format!("{root}/leader/member_-1"), "m3.example:8080").await;
    }

    pub async fn curator_latch(&self, root: &str, host_port: &str) -> String {
        self.candidate(&format!("{root}/leader-curator/_c_6f1d7b9e-3a52-4c1e-9c55-0c2f8e0b7a11-latch-"), host_port)
            .await
    }

    /// 1.4 and later: nested state, Curator latch.
    pub async fn marathon_nested(&self, root: &str, version: &[u8], host_port: &str) {
        self.nested_state(root, version).await;
        self.curator_latch(root, host_port).await;
    }
}
