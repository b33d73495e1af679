//! ZooKeeper's `zoo.cfg` (and its dynamic configuration file): Java
//! properties, and the `server.N=host:quorum:election[;client]` values.
#![no_main]

use clusterdoc::parsers::{properties, zk_server_ports};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for (key, value) in properties(&String::from_utf8_lossy(data)) {
        if key.starts_with("server.") {
            let _ = zk_server_ports(&value);
        }
    }
});
