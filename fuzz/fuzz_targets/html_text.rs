//! Arbitrary finding text in the HTML report never becomes markup: the page
//! with the text has exactly the tags of the page with a plain word in its
//! place (escaped text holds no `<`).
#![no_main]

use clusterdoc::report::{CheckReport, Finding, NodeInfo, Report, Status, html};
use libfuzzer_sys::fuzz_target;

fn page(text: &str) -> String {
    let finding = Finding { node: Some(text.into()), ..Finding::new(Status::Fail, text, text) }.evidence(text);
    let check = CheckReport {
        id: "hostname.case".into(),
        title: text.into(),
        status: Status::Fail,
        duration_ms: 0,
        reason: Some(text.into()),
        findings: vec![finding],
        by_node: [(text.to_string(), Status::Fail)].into(),
        scope: Vec::new(),
        caused_by: Vec::new(),
    };
    html::render(&Report::new(String::new(), 0, NodeInfo { source: text.into(), ..NodeInfo::default() }, vec![check]))
}

fuzz_target!(|text: &str| {
    let tags = |page: &str| page.matches('<').count();
    assert_eq!(tags(&page(text)), tags(&page("plain")), "text became markup: {text:?}");
});
