//! Marathon's REST answers: `/v2/info`, `/v2/apps?embed=apps.tasks`,
//! `/v2/queue`, `/v2/deployments` and `/v2/leader`, parsed and turned into
//! the facts the checks read, as the gatherer does.
#![no_main]

use clusterdoc::parsers::{App, Deployment, MarathonInfo, QueueItem, marathon_wire as wire, parse_json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = parse_json::<wire::Info>(data) {
        let _ = MarathonInfo::from(info).release();
    }
    if let Ok(apps) = parse_json::<wire::Apps>(data) {
        for app in apps.apps.into_iter().map(App::from) {
            let _ = app.unique_per_host();
        }
    }
    if let Ok(queue) = parse_json::<wire::Queue>(data) {
        let _: Vec<QueueItem> = queue.queue.into_iter().map(QueueItem::from).collect();
    }
    if let Ok(deployments) = parse_json::<Vec<wire::Deployment>>(data) {
        let _: Vec<Deployment> = deployments.into_iter().map(Deployment::from).collect();
    }
    let _ = parse_json::<wire::Leader>(data);
});
