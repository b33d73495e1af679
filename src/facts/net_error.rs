//! How every fact source words a network error: as an operator says it
//! ("connection refused", "the name does not resolve (...)"), never as a raw
//! `Connection refused (os error 111)`. The subject (which server, which
//! URL) is the caller's to add, once.

use std::error::Error;
use std::io;

/// An I/O error met while connecting or talking to a server.
pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset".into(),
        io::ErrorKind::ConnectionAborted => "connection aborted".into(),
        io::ErrorKind::HostUnreachable => "no route to host (a firewall may reject the connection)".into(),
        io::ErrorKind::NetworkUnreachable => "network unreachable".into(),
        io::ErrorKind::PermissionDenied => "connection not permitted (a firewall may reject it)".into(),
        io::ErrorKind::TimedOut => "timed out".into(),
        io::ErrorKind::UnexpectedEof => "the connection closed early".into(),
        _ => in_words(&e.to_string()),
    }
}

/// The deepest cause in an error's chain: an I/O error as [`io_reason`]
/// words it, anything else as its own text. Outer layers (reqwest's) name
/// the URL, which may carry credentials; the caller names the subject.
pub fn reason(e: &(dyn Error + 'static)) -> String {
    match io_cause(e) {
        Some(io) => io_reason(io),
        None => in_words(&innermost(e).to_string()),
    }
}

/// Why a host name did not resolve, as the resolver says it
/// ("name or service not known"), for callers that say "does not resolve".
pub fn lookup_reason(e: &io::Error) -> String {
    let text = e.to_string();
    let text = without_errno(&text);
    lower_first(text.strip_prefix(LOOKUP_FAILED).unwrap_or(text))
}

/// How the C library's `getaddrinfo` failure reads in Rust's error text.
const LOOKUP_FAILED: &str = "failed to lookup address information: ";

/// The innermost I/O error in a chain. An `io::Error` wrapping another hides
/// the inner one from `source()`, so those are unwrapped with `get_ref`.
pub fn io_cause<'a>(e: &'a (dyn Error + 'static)) -> Option<&'a io::Error> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(mut io) = c.downcast_ref::<io::Error>() {
            while let Some(inner) = io.get_ref().and_then(|i| i.downcast_ref::<io::Error>()) {
                io = inner;
            }
            return Some(io);
        }
        cause = c.source();
    }
    None
}

fn innermost<'a>(e: &'a (dyn Error + 'static)) -> &'a (dyn Error + 'static) {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last
}

/// A library's or the C library's text, reworded: a failed lookup says so
/// and keeps the resolver's reason; the errno number goes.
fn in_words(text: &str) -> String {
    let text = without_errno(text);
    let lookup = text.trim_start_matches("dns error: ");
    if let Some(why) = lookup.strip_prefix(LOOKUP_FAILED) {
        return format!("the name does not resolve ({})", lower_first(why));
    }
    lower_first(text)
}

fn without_errno(text: &str) -> &str {
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => &text[..at],
        _ => text,
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if chars.clone().next().is_some_and(char::is_lowercase) => {
            first.to_lowercase().chain(chars).collect()
        }
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_errors_read_as_an_operator_says_them() {
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(refused.to_string(), "Connection refused (os error 111)");
        assert_eq!(io_reason(&refused), "connection refused");
        assert_eq!(
            io_reason(&io::Error::from_raw_os_error(libc::EHOSTUNREACH)),
            "no route to host (a firewall may reject the connection)"
        );
        let lookup = io::Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(io_reason(&lookup), "the name does not resolve (name or service not known)");
        assert_eq!(lookup_reason(&lookup), "name or service not known");
        assert_eq!(
            in_words("dns error: failed to lookup address information: Temporary failure in name resolution"),
            "the name does not resolve (temporary failure in name resolution)"
        );
        assert_eq!(in_words("Broken pipe (os error 32)"), "broken pipe");
        assert_eq!(in_words("TLS handshake: EOF"), "TLS handshake: EOF", "an acronym keeps its case");
        let wrapped = io::Error::other(io::Error::from_raw_os_error(libc::ECONNRESET));
        assert_eq!(reason(&wrapped), "connection reset");
    }
}
