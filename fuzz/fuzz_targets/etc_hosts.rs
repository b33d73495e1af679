//! `/etc/hosts`.
#![no_main]

use clusterdoc::parsers::HostsFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let hosts = HostsFile::parse("/etc/hosts", &String::from_utf8_lossy(data));
    for entry in &hosts.entries {
        assert!(!entry.names.is_empty(), "{entry:?}");
        let _ = hosts.entries_naming(&entry.names[0]).count();
        assert!(hosts.first_entry_for(entry.address).is_some());
    }
});
