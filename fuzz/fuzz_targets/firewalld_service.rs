//! firewalld service files (`/usr/lib/firewalld/services/*.xml`).
#![no_main]

use clusterdoc::parsers::parse_service;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = parse_service("/usr/lib/firewalld/services/ssh.xml", text);
});
