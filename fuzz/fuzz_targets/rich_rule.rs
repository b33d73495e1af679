//! firewalld rich rules (firewalld.richlanguage(5)), as `firewall-cmd
//! --list-all` prints them and clusterdoc renders them from zone files.
#![no_main]

use clusterdoc::parsers::parse_rich_rule;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(rule) = parse_rich_rule(text) {
        assert!((-32768..=32767).contains(&rule.priority), "{rule:?}");
    }
});
