//! The data of Marathon's `/marathon/state/internal:storage:version` znode:
//! a protobuf `ZKStoreEntry` wrapping a `StorageVersion`.
#![no_main]

use clusterdoc::facts::zookeeper::VersionNode;
use clusterdoc::parsers::decode_storage_version;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let VersionNode::Stored { version } = decode_storage_version(data) {
        let _ = (version.number(), version.release());
    }
});
