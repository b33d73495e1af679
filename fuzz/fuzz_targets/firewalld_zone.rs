//! firewalld zone files (`/etc/firewalld/zones/*.xml`, `/usr/lib/firewalld/zones/*.xml`).
#![no_main]

use clusterdoc::parsers::parse_zone;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = parse_zone("public", "/etc/firewalld/zones/public.xml", text);
});
