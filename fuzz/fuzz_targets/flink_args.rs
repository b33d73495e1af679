//! Flink `-Dkey=value` settings in a Marathon app's `cmd` (a shell line) or
//! `args`, the JobManager ports they decide, and the rewritten command line
//! a fix proposes, which must read back with the new values.
#![no_main]

use clusterdoc::parsers::{CommandLine, Rewritten, jobmanager_ports, port_setting};
use libfuzzer_sys::fuzz_target;

const CHANGES: [(&str, &str); 2] = [("jobmanager.rpc.port", "6124"), ("rest.port", "8082")];

fuzz_target!(|text: &str| {
    let args: Vec<String> = text.split('\0').map(String::from).collect();
    for line in [CommandLine::of_app(Some(text), &[]), CommandLine::of_app(None, &args), CommandLine::of_argv(&args)] {
        let _ = (jobmanager_ports(&line), line.jobmanager_launcher(), line.runs_taskmanager());
        let changes: Vec<(&str, String)> = CHANGES.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let rewritten = line.with_settings(&changes);
        let reread = match &rewritten {
            // An unclosed quote swallows what is added after it: no oracle.
            Rewritten::Shell(_) if text.contains(['\'', '"', '\\']) => continue,
            Rewritten::Shell(new) => CommandLine::of_app(Some(new), &[]),
            Rewritten::Args(new) => CommandLine::of_app(None, new),
        };
        for (key, value) in CHANGES {
            assert_eq!(reread.setting(key), Some(value), "{key} after rewriting {text:?}");
        }
    }
    let _ = port_setting(text);
});
