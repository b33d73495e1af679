//! Settings files of the inspected node: Flink's `flink-conf.yaml` and the
//! shell environment files of the Mesos and Marathon packages
//! (`/etc/default/mesos-master`, `/etc/sysconfig/marathon`, ...).
#![no_main]

use clusterdoc::parsers::{parse_flat_yaml, shell_assignments};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for entry in parse_flat_yaml(&text) {
        assert!(!entry.key.is_empty() && !entry.value.is_empty(), "{entry:?}");
    }
    let _ = shell_assignments(&text);
});
