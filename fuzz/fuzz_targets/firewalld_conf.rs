//! `/etc/firewalld/firewalld.conf`, as firewalld reads it (bytes: a file
//! that is not UTF-8 is a case of its own).
#![no_main]

use clusterdoc::parsers::{ConfDefaultZone, firewalld_default_zone, parse_firewalld_conf};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lines = data.iter().filter(|b| **b == b'\n' || **b == b'\r').count() + 1;
    match parse_firewalld_conf(data) {
        ConfDefaultZone::Set { name, line } => {
            assert!(!name.is_empty() && !name.contains(['=', '\n', '\r']), "{name:?}");
            assert!((1..=lines).contains(&line), "line {line} of {lines}");
        }
        ConfDefaultZone::NotUtf8 { line } => assert!((1..=lines).contains(&line), "line {line} of {lines}"),
        ConfDefaultZone::Unset => {}
    }
    let zones = ["block", "drop", "trusted", "public"];
    let picked = firewalld_default_zone(Some(data), &zones);
    assert!(zones.contains(&picked.name.as_str()), "{picked:?}");
});
