//! Values that come from remote systems (the agents a Mesos master lists, ...),
//! checked for their kind before they reach a command line: a pack's `argv`,
//! a remediation command, an ssh destination. Shell quoting keeps a value one
//! word, but a word that starts with `-` is still an option to `ssh`, `nc` or
//! `curl` (`-oProxyCommand=...` runs a command), so a value that is not valid
//! for its kind is refused, never passed on (DESIGN.md C0, "Remote values
//! never become options or code").

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// A host name as RFC 1123 allows it (labels of letters, digits and `-`, not
/// starting or ending with `-`, at most 63 characters each and 253 in all,
/// an optional final dot) or an IP address (IPv6 without brackets). Neither
/// can start with `-`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HostName(String);

impl HostName {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.parse::<IpAddr>().is_ok() {
            return Ok(HostName(text.to_string()));
        }
        let refuse = |why: String| Err(format!("{text:?} is not a host name: {why}"));
        if text.starts_with('-') {
            return refuse("it starts with '-' and would be read as an option".into());
        }
        let name = text.strip_suffix('.').unwrap_or(text);
        if name.is_empty() {
            return refuse("it is empty".into());
        }
        if name.len() > 253 {
            return refuse(format!("{} characters, more than 253", name.len()));
        }
        for label in name.split('.') {
            if label.is_empty() || label.len() > 63 {
                return refuse(format!("the label {label:?} is not 1 to 63 characters"));
            }
            if let Some(c) = label.chars().find(|c| !c.is_ascii_alphanumeric() && *c != '-') {
                return refuse(format!("{c:?} is not a letter, digit or '-'"));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return refuse(format!("the label {label:?} starts or ends with '-'"));
            }
        }
        Ok(HostName(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An IPv6 address, which needs brackets before a `:port`.
    pub fn is_ipv6(&self) -> bool {
        self.0.contains(':')
    }
}

impl std::fmt::Display for HostName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for HostName {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        HostName::parse(&text)
    }
}

impl From<HostName> for String {
    fn from(host: HostName) -> String {
        host.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_and_addresses_are_accepted() {
        for good in [
            "zk1",
            "szv1000265118",
            "SZV1000265118",
            "m1.example.com.",
            "10.0.0.7",
            "::1",
            "fe80::1",
            "a-b.c9",
            "1e100.net",
        ] {
            assert_eq!(HostName::parse(good).map(|h| h.to_string()), Ok(good.to_string()));
        }
        assert!(HostName::parse("::1").unwrap().is_ipv6());
        assert!(!HostName::parse("zk1").unwrap().is_ipv6());
    }

    #[test]
    fn options_and_shell_text_are_refused_with_the_value_escaped() {
        let why = HostName::parse("-oProxyCommand=touch /tmp/x").unwrap_err();
        assert_eq!(
            why,
            "\"-oProxyCommand=touch /tmp/x\" is not a host name: it starts with '-' and would be read as an option"
        );
        assert!(HostName::parse("a\u{1b}[31m").unwrap_err().contains("\"a\\u{1b}[31m\""));
        for bad in [
            "",
            ".",
            "a..b",
            "a b",
            "$(id)",
            "h;rm",
            "-",
            "a-.b",
            "x_y",
            "[::1]",
            "h\u{202e}",
            &"a".repeat(64),
            &"a.".repeat(130),
        ] {
            assert!(HostName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<HostName>("\"-oX\"").is_err());
        assert_eq!(serde_json::to_string(&HostName::parse("m1").unwrap()).unwrap(), "\"m1\"");
    }
}
