//! systemd unit files and drop-ins (from the inspected node's tree), and
//! `systemctl show` output.
#![no_main]

use clusterdoc::parsers::{parse_show, parse_unit_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let unit = parse_unit_file(data);
    for a in &unit.assignments {
        assert!(!a.key.is_empty() && !a.key.contains('=') && a.line >= 1, "{a:?}");
    }
    let _ = parse_show(&String::from_utf8_lossy(data));
});
