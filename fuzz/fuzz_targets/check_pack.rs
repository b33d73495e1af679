//! A TOML check pack (`checks/*.toml`, `--checks-dir`, `/etc/clusterdoc/checks.d`).
#![no_main]

use clusterdoc::parsers::{PackFile, parse_pack};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    // No directory: nothing on disk is looked at (a pack's plugins are).
    let origin = PackFile { source: "fuzz", file: "fuzz.toml".into(), dir: None };
    let _ = parse_pack(text, &origin);
});
