//! The output of `firewall-cmd --list-all --zone=Z`.
#![no_main]

use clusterdoc::parsers::parse_list_all;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The gatherer reads the command's stdout lossily, as here.
    let _ = parse_list_all("public", &String::from_utf8_lossy(data));
});
