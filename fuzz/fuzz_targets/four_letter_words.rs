//! ZooKeeper's answers to the four-letter words `srvr`, `mntr` and `ruok`
//! (read lossily, as the gatherer does).
#![no_main]

use clusterdoc::parsers::{classify, parse_mntr, parse_ruok, parse_srvr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = classify(&text, parse_srvr);
    let _ = classify(&text, parse_mntr);
    let _ = classify(&text, parse_ruok);
});
