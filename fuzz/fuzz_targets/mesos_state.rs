//! A Mesos master's `/master/state`: parsed while it streams in, however the
//! network cuts it, as serde reads it whole; and the helpers the checks and
//! the reachability probes use on it (pids are `slave(1)@HOST:PORT`).
#![no_main]

use clusterdoc::parsers::{
    JsonStream, MesosState, PortRanges, Problem, objects_where_streamed, parse_host_port, parse_json, pid_address,
    stream_state,
};
use libfuzzer_sys::fuzz_target;

/// The body arriving `size` bytes at a time.
fn streamed(body: &[u8], size: usize) -> Result<MesosState, Problem> {
    stream_state(&mut JsonStream::in_pieces(body, size))
}

fuzz_target!(|data: &[u8]| {
    let state = streamed(data, data.len());
    for size in [1, 7] {
        assert_eq!(streamed(data, size), state, "pieces of {size} bytes");
    }
    if let (Ok(whole), true) = (parse_json::<MesosState>(data), objects_where_streamed(data)) {
        assert_eq!(state.as_ref(), Ok(&whole), "what serde reads whole, the stream must read too");
    }
    let Ok(state) = state else { return };
    let _ = (state.leader_pid(), state.answered_by_leader());
    for agent in &state.agents {
        for resources in [&agent.resources, &agent.used_resources] {
            let _ = (resources.ports.count(), resources.ports.contains(31000));
            // What a snapshot writes must read back the same.
            let text = resources.ports.to_string();
            assert_eq!(text.parse::<PortRanges>().as_ref(), Ok(&resources.ports), "{text}");
        }
    }
    let pids = state.agents.iter().filter_map(|a| a.pid.as_deref());
    for pid in pids.chain(state.frameworks.iter().filter_map(|f| f.pid.as_deref())).chain(state.leader.as_deref()) {
        let _ = parse_host_port(pid_address(pid), 5051);
    }
    for task in state.frameworks.iter().flat_map(|f| &f.tasks) {
        let _ = task.state.is_live();
    }
});
