//! The head of a request to `clusterdoc serve` (method, target, headers:
//! a line each, headers as `Name: value`): what it asks for is read, or the
//! request is turned down with a 4xx, never a panic; credentials admit only
//! when the Authorization header carries them.
#![no_main]

use clusterdoc::serve::{Access, read_request};
use hyper::header::{AUTHORIZATION, HeaderName, HeaderValue};
use hyper::{Method, Request, Uri};
use libfuzzer_sys::fuzz_target;

const TOKEN: &[u8] = b"t0ken";
/// base64("user:pw").
const BASIC: &str = "dXNlcjpwdw==";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let (Ok(method), Ok(uri)) = (
        Method::from_bytes(lines.next().unwrap_or_default().trim().as_bytes()),
        lines.next().unwrap_or_default().trim().parse::<Uri>(),
    ) else {
        return;
    };
    let mut request = Request::builder().method(method).uri(uri);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name.trim().as_bytes()), HeaderValue::from_bytes(value.trim().as_bytes()))
        {
            request = request.header(name, value);
        }
    }
    let Ok(request) = request.body(()) else { return };
    let (head, ()) = request.into_parts();
    match read_request(&head) {
        Ok(asked) => {
            let _ = asked.is_open();
        }
        Err(refused) => assert!(refused.status().is_client_error(), "{}", refused.status()),
    }
    let sent = head.headers.get(AUTHORIZATION).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let sent = sent.unwrap_or_default();
    if Access::Bearer(TOKEN.to_vec()).admits(&head.headers) {
        assert!(sent.contains("t0ken"), "a bearer token admitted without it: {sent:?}");
    }
    if Access::Basic(b"user:pw".to_vec()).admits(&head.headers) {
        assert!(sent.contains(BASIC), "basic credentials admitted without them: {sent:?}");
    }
});
