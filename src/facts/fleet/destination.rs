//! The nodes of a fleet as the user lists them (`--nodes`): `host`,
//! `user@host`, `host:port`, `user@[v6]:port`, comma lists, and `@FILE` with
//! one host a line and `#` comments, so the Mesos deploy files `masters` and
//! `slaves` work as they are. Each destination is validated before it can
//! reach ssh's argv; what is not valid is kept, refused, with the reason.

use std::io::Read;
use std::net::Ipv6Addr;

use crate::remote::HostName;

/// Deploy files are a host a line; a file this big is not one.
const NODE_FILE_LIMIT: u64 = 16 * 1024 * 1024;

/// A node ssh may be pointed at: a valid host name or IP address, and a
/// valid user and port when given. None of them can be read as an option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub host: HostName,
    pub user: Option<User>,
    pub port: Option<u16>,
}

/// A login name as POSIX portable user names go (letters, digits, `.`,
/// `_`, `-`; not starting with `-`): it becomes `ssh -l USER`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User(String);

impl User {
    fn parse(text: &str) -> Result<User, String> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if text.is_empty() || text.len() > 32 || text.starts_with('-') || !text.chars().all(allowed) {
            return Err(format!(
                "the user {text:?} is not a login name (1 to 32 letters, digits, '.', '_' or '-', not starting with '-')"
            ));
        }
        Ok(User(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One entry of the node list: a destination, or what was given and why it
/// is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeEntry {
    Valid(Destination),
    Refused { given: String, reason: String },
}

impl NodeEntry {
    /// How the node is named in the snapshot and reports: the host as given,
    /// without `user@` and `:port`; a refused entry as given.
    pub fn name(&self) -> &str {
        match self {
            NodeEntry::Valid(destination) => destination.host.as_str(),
            NodeEntry::Refused { given, .. } => given,
        }
    }

    fn parse(given: &str) -> NodeEntry {
        match Destination::parse(given) {
            Ok(destination) => NodeEntry::Valid(destination),
            Err(reason) => NodeEntry::Refused { given: given.to_string(), reason },
        }
    }

    /// Two entries for the same node: the same host (names compared without
    /// regard to case, as DNS does), whatever user or port.
    fn same_node(&self, other: &NodeEntry) -> bool {
        self.name().eq_ignore_ascii_case(other.name())
    }
}

impl Destination {
    /// `[user@]host[:port]`, with an IPv6 address bare or as `[addr]`
    /// (brackets needed before a port).
    pub fn parse(given: &str) -> Result<Destination, String> {
        let (user, rest) = match given.rsplit_once('@') {
            Some((user, rest)) => (Some(User::parse(user)?), rest),
            None => (None, given),
        };
        let (host, port) = split_port(rest)?;
        Ok(Destination { host: HostName::parse(host)?, user, port })
    }
}

/// `host` and its port: `[v6]:port`, `[v6]`, a bare IPv6 address (no
/// port), `host:port` or `host`.
fn split_port(text: &str) -> Result<(&str, Option<u16>), String> {
    if let Some(bracketed) = text.strip_prefix('[') {
        let (address, after) = bracketed
            .split_once(']')
            .ok_or_else(|| format!("{text:?}: an IPv6 address opened with '[' is not closed"))?;
        if address.parse::<Ipv6Addr>().is_err() {
            return Err(format!("{address:?} in brackets is not an IPv6 address"));
        }
        return match after {
            "" => Ok((address, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((address, Some(parse_port(port)?))),
                None => Err(format!("{text:?}: only ':PORT' may follow the bracketed address")),
            },
        };
    }
    if text.parse::<Ipv6Addr>().is_ok() {
        return Ok((text, None));
    }
    match text.rsplit_once(':') {
        Some((host, port)) => Ok((host, Some(parse_port(port)?))),
        None => Ok((text, None)),
    }
}

fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(port) if port > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(port),
        _ => Err(format!("the port {text:?} is not a number from 1 to 65535")),
    }
}

/// The `--nodes` item that stands for the nodes the cluster names.
pub const DISCOVER: &str = "discover";

/// The node list of `--nodes` items (each a host, `@FILE` or `discover`;
/// comma lists are already split): deploy files read, `discover` replaced by
/// the `discovered` names, every entry validated, the same node named twice
/// kept once (the first spelling wins). Only a file that cannot be read is
/// an error: an invalid entry is kept as refused.
pub fn node_list(items: &[String], discovered: &[String]) -> Result<Vec<NodeEntry>, String> {
    let mut entries: Vec<NodeEntry> = Vec::new();
    for item in items {
        let given = match item.strip_prefix('@') {
            Some(path) => file_entries(path)?,
            None if item.trim() == DISCOVER => discovered.to_vec(),
            None => vec![item.trim().to_string()],
        };
        for entry in given.iter().filter(|e| !e.is_empty()).map(|e| NodeEntry::parse(e)) {
            if !entries.iter().any(|known| known.same_node(&entry)) {
                entries.push(entry);
            }
        }
    }
    Ok(entries)
}

/// The hosts of a deploy file: a host a line, `#` to the end of the line a
/// comment, blank lines skipped.
fn file_entries(path: &str) -> Result<Vec<String>, String> {
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(NODE_FILE_LIMIT + 1).read_to_string(&mut text))
        .map_err(|e| format!("--nodes @{path}: {e}"))?;
    if text.len() as u64 > NODE_FILE_LIMIT {
        return Err(format!("--nodes @{path}: larger than {} MiB, not a list of hosts", NODE_FILE_LIMIT >> 20));
    }
    Ok(text
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim().to_string())
        .filter(|line| !line.is_empty())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(given: &str) -> (String, Option<String>, Option<u16>) {
        let d = Destination::parse(given).unwrap_or_else(|e| panic!("{given}: {e}"));
        (d.host.to_string(), d.user.map(|u| u.as_str().to_string()), d.port)
    }

    #[test]
    fn users_hosts_and_ports_are_taken_apart() {
        assert_eq!(valid("m1"), ("m1".into(), None, None));
        assert_eq!(valid("ops@m1.example.com:2222"), ("m1.example.com".into(), Some("ops".into()), Some(2222)));
        assert_eq!(valid("10.0.0.7:22"), ("10.0.0.7".into(), None, Some(22)));
        assert_eq!(valid("root@[fe80::1]:2200"), ("fe80::1".into(), Some("root".into()), Some(2200)));
        assert_eq!(valid("[::1]"), ("::1".into(), None, None));
        assert_eq!(valid("::1"), ("::1".into(), None, None));
        assert_eq!(valid("SZV1000265118"), ("SZV1000265118".into(), None, None));
    }

    #[test]
    fn what_could_be_read_as_an_option_or_code_is_refused_with_the_reason() {
        for (given, reason) in [
            ("-oProxyCommand=touch /tmp/x", "starts with '-' and would be read as an option"),
            ("root@-oProxyCommand=x", "starts with '-' and would be read as an option"),
            ("-lroot@m1", "the user \"-lroot\" is not a login name"),
            ("m1:-p", "the port \"-p\" is not a number"),
            ("m1:0", "the port \"0\" is not a number from 1 to 65535"),
            ("m1:65536", "the port \"65536\""),
            ("m1:+22", "the port \"+22\""),
            ("a b", "' ' is not a letter, digit or '-'"),
            ("$(id)", "is not a host name"),
            ("[::1", "is not closed"),
            ("[m1]:22", "in brackets is not an IPv6 address"),
            ("[::1]x", "only ':PORT' may follow"),
            ("@m1", "the user \"\" is not a login name"),
        ] {
            let why = Destination::parse(given).expect_err(given);
            assert!(why.contains(reason), "{given}: {why}");
        }
    }

    #[test]
    fn lists_files_and_duplicates_make_one_node_list() {
        let dir = tempfile::tempdir().unwrap();
        let slaves = dir.path().join("slaves");
        // A Mesos deploy file as the cluster scripts ship it.
        std::fs::write(&slaves, "# agents\nagent1\n  agent2  # rack 2\n\nroot@AGENT1:2222\n-oProxyCommand=x\n")
            .unwrap();
        let items = ["m1".to_string(), format!("@{}", slaves.display()), "ops@m1:22".into(), "agent3".into()];
        let list = node_list(&items, &[]).unwrap();
        let names: Vec<&str> = list.iter().map(NodeEntry::name).collect();
        assert_eq!(names, ["m1", "agent1", "agent2", "-oProxyCommand=x", "agent3"]);
        assert!(
            matches!(&list[0], NodeEntry::Valid(d) if d.user.is_none() && d.port.is_none()),
            "the first spelling wins"
        );
        assert!(matches!(&list[3], NodeEntry::Refused { reason, .. } if reason.contains("option")));
        let missing = node_list(&["@/nonexistent/masters".to_string()], &[]).unwrap_err();
        assert!(missing.starts_with("--nodes @/nonexistent/masters: No such file"), "{missing}");
    }
}
