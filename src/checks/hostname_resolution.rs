//! `hostname.resolution`: Host name resolves to a routable address.
//!
//! The host name must resolve, not to a loopback address, and the reverse
//! lookup of its address must give the name back.

use std::borrow::Cow;
use std::net::IpAddr;

use super::{Check, CheckMeta, Explain, Conclusion, NotJudged, Verdict, conclude, required};
use crate::facts::dns::{AnswerSource, Lookup};
use crate::facts::node::{HostsEntry, HostsFile, NodeFacts};
use crate::facts::{Facts, Need};
use crate::remedy::{Cmd, Remedy, sed_regex_literal, sed_replacement_literal};
use crate::report::{Finding, Scope, Status};

pub struct HostnameResolution;

static META: CheckMeta = CheckMeta {
    id: Cow::Borrowed("hostname.resolution"),
    title: Cow::Borrowed("Host name resolves to a routable address"),
    severity: Status::Fail,
    needs: &[Need::Node, Need::Dns],
    tags: texts!["node", "dns"],
    source: Cow::Borrowed("built-in"),
    explain: Explain {
        what: Cow::Borrowed("Resolves this node's host name as the C library does with `hosts: files dns` (/etc/hosts first, \
               then the DNS servers of /etc/resolv.conf) and reverse-resolves each address. Fails when the \
               name does not resolve or resolves to a loopback address (Debian's `127.0.1.1 <hostname>` line \
               in /etc/hosts); warns when the reverse lookup gives another name (a short name and its \
               fully qualified form count as the same). Under --root only DIR/etc/hosts is judged: DNS is not \
               consulted. When no DNS server answers, or /etc/hosts is not a regular file or is larger than \
               16 MiB, the check errors instead of guessing."),
        why: Cow::Borrowed("Mesos and Flink advertise the address their host name resolves to: with 127.0.1.1 the master, \
              agents and JobManager announce an address peers cannot reach, so agents do not register and \
              TaskManagers cannot connect. A name that does not resolve breaks the same registrations, and a \
              reverse lookup that names another host confuses logs, web UIs and anything that checks it."),
        fix: Cow::Borrowed("Map the host name to the node's real address: remove it from the loopback line of /etc/hosts \
              and add `ADDRESS NAME` (the printed sed command keeps a backup in /etc/hosts.bak), or \
              publish it in DNS. Restart Mesos and Flink on the node so they advertise the new address. Fix \
              PTR records in DNS."),
        risk: Cow::Borrowed("Safe: editing /etc/hosts is reversible at once (the backup) and restarts nothing; the restart \
               that makes daemons advertise the new address is disruptive and left to you."),
        references: texts![
            "https://www.debian.org/doc/manuals/debian-reference/ch05.en.html#_the_hostname_resolution",
            "https://mesos.apache.org/documentation/latest/configuration/master-and-agent/ (--hostname, --ip)",
        ],
    },
};

impl Check for HostnameResolution {
    fn meta(&self) -> &CheckMeta {
        &META
    }

    fn run(&self, facts: &Facts) -> Verdict {
        let node = required(&facts.node, "node facts")?;
        let dns = required(&facts.dns, "host name resolution facts")?;
        let name = dns.name.as_str();
        let scope = if dns.dns_consulted {
            String::new()
        } else {
            format!("; judged {} only, DNS was not consulted", root_path(&facts.inputs.root, "/etc/hosts"))
        };
        let (addresses, source) = match &dns.forward {
            Lookup::Unanswered { error } => {
                return Err(NotJudged::Error(format!("cannot tell whether {name} resolves: {error}")));
            }
            Lookup::NotFound { detail } => {
                let finding = not_resolving(name, detail, node);
                return Ok(Conclusion::findings(vec![finding], format!("{name} does not resolve{scope}")));
            }
            Lookup::Found { value, source } => (value, source),
        };
        let mut findings = Vec::new();
        let mut undecided = Vec::new();
        if addresses.iter().any(IpAddr::is_loopback) {
            findings.push(loopback(name, addresses, source, node));
        }
        for reverse in &dns.reverse {
            match &reverse.names {
                Lookup::Found { value, source } if !gives_back(name, value, source) => {
                    findings.push(reverse_mismatch(name, reverse.address, value, source));
                }
                Lookup::Found { .. } => {}
                Lookup::NotFound { detail } => findings.push(
                    Finding::new(
                        Status::Warn,
                        format!("address {}", reverse.address),
                        format!("{} has no reverse record; add a PTR record for it naming {name}", reverse.address),
                    )
                    .evidence(detail.clone()),
                ),
                Lookup::Unanswered { error } => {
                    undecided.push(format!("reverse lookup of {}: {error}", reverse.address))
                }
            }
        }
        conclude(findings, undecided, format!("{name} resolves to {} ({source}){scope}", list(addresses)))
    }
}

/// A path on the inspected node as the user sees it (`DIR/etc/hosts`).
fn root_path(root: &str, absolute: &str) -> String {
    if root.is_empty() || root == "/" {
        absolute.to_string()
    } else {
        format!("{}{absolute}", root.trim_end_matches('/'))
    }
}

fn list(addresses: &[IpAddr]) -> String {
    addresses.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ")
}

/// Whether two names denote the same host, ignoring case and a trailing dot;
/// a short name matches the first label of a qualified one.
fn same_host(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_end_matches('.'), b.trim_end_matches('.'));
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    match (a.split_once('.'), b.split_once('.')) {
        (Some((label, _)), None) => label.eq_ignore_ascii_case(b),
        (None, Some((label, _))) => label.eq_ignore_ascii_case(a),
        _ => false,
    }
}

/// Whether a reverse answer names the host: through the hosts file, the
/// first name of the line is the canonical one; any PTR record counts.
fn gives_back(name: &str, names: &[String], source: &AnswerSource) -> bool {
    let canonical = match source {
        AnswerSource::HostsFile { .. } => &names[..names.len().min(1)],
        AnswerSource::Dns => names,
    };
    canonical.iter().any(|n| same_host(name, n))
}

fn not_resolving(name: &str, detail: &str, node: &NodeFacts) -> Finding {
    let hosts_path = node.hosts.value().map_or("/etc/hosts", |h| h.path.as_str());
    Finding::new(
        Status::Fail,
        format!("host {name}"),
        format!("{name} does not resolve: Mesos and Flink peers cannot look this node up by name"),
    )
    .evidence(detail.to_string())
    .fix(
        add_hosts_line(&[name.to_string()], node.primary_address, hosts_path)
            .with_note(format!("or publish {name} in DNS: every node that talks to this one must resolve it")),
    )
}

fn loopback(name: &str, addresses: &[IpAddr], source: &AnswerSource, node: &NodeFacts) -> Finding {
    let looped: Vec<IpAddr> = addresses.iter().copied().filter(IpAddr::is_loopback).collect();
    let mut finding = Finding::new(
        Status::Fail,
        format!("host {name}"),
        format!(
            "{name} resolves to loopback {}: Mesos and Flink then bind to and advertise an address that peers \
             cannot reach",
            list(&looped)
        ),
    )
    .problem("loopback")
    .about(Scope::host(std::iter::once(name.to_string()).chain(
        addresses.iter().filter(|a| !a.is_loopback()).map(IpAddr::to_string),
    )));
    let hosts = match (source, node.hosts.value()) {
        (AnswerSource::HostsFile { .. }, Some(hosts)) => hosts,
        _ => {
            return finding
                .evidence(format!("{source}: {name} -> {}", list(addresses)))
                .evidence("fix the DNS record so that it gives the node's real address".to_string());
        }
    };
    let entries: Vec<&HostsEntry> = hosts.entries_naming(name).filter(|e| e.address.is_loopback()).collect();
    for entry in &entries {
        finding = finding.evidence(format!(
            "{} line {}: {} {}",
            hosts.path,
            entry.line,
            entry.address,
            entry.names.join(" ")
        ));
    }
    finding = finding.fix(remove_from_loopback_lines(hosts, &entries, name));
    let mut host_names: Vec<String> = Vec::new();
    for n in entries.iter().flat_map(|e| &e.names).filter(|n| same_host(name, n)) {
        if !host_names.contains(n) {
            host_names.push(n.clone());
        }
    }
    if !addresses.iter().any(|a| !a.is_loopback()) {
        finding = finding.fix(
            add_hosts_line(&host_names, node.primary_address, &hosts.path)
                .with_note("then restart Mesos and Flink on this node so they advertise the new address"),
        );
    }
    finding
}

/// Takes the host's names off its loopback lines, in one edit (one backup):
/// a line that names only this host (Debian's `127.0.1.1 host`) goes, matched
/// word for word so that no other line with that address does; on a shared
/// line (`127.0.0.1 localhost host`) only the host's names go.
fn remove_from_loopback_lines(hosts: &HostsFile, entries: &[&HostsEntry], name: &str) -> Remedy {
    let mut cmd = Cmd::new("sed").word("-i.bak").word("-E");
    for entry in entries {
        let address = format!("^[[:space:]]*{}", sed_regex_literal(&entry.address.to_string()));
        let own: Vec<&String> = entry.names.iter().filter(|n| same_host(name, n)).collect();
        if own.len() == entry.names.len() {
            let names: String = own.iter().map(|n| format!("[[:space:]]+{}", sed_regex_literal(n))).collect();
            cmd = cmd.word("-e").value(format!("/{address}{names}[[:space:]]*(#.*)?$/d"));
        } else {
            for n in own {
                let token = sed_regex_literal(n);
                cmd = cmd.word("-e").value(format!("/{address}[[:space:]]/s/[[:space:]]+{token}([[:space:]]|$)/ /"));
            }
        }
    }
    cmd.value(&hosts.path).safe().with_note(format!("keeps a copy in {}.bak", hosts.path))
}

/// Appends `ADDRESS NAME...` to the hosts file: the default route's address
/// when known, else the first one `hostname -I` reports on the node.
fn add_hosts_line(names: &[String], address: Option<IpAddr>, hosts_path: &str) -> Remedy {
    let names = names.join(" ");
    let cmd = match address {
        Some(address) => Cmd::new("printf").word(r"'%s\n'").value(format!("{address} {names}")),
        None => Cmd::new("printf").word(r"'%s %s\n'").word(r#""$(hostname -I | cut -d' ' -f1)""#).value(names),
    };
    cmd.word(">>").value(hosts_path).safe()
}

fn reverse_mismatch(name: &str, address: IpAddr, names: &[String], source: &AnswerSource) -> Finding {
    let finding = Finding::new(
        Status::Warn,
        format!("address {address}"),
        format!("reverse lookup of {address} gives {}, not {name}", names.first().map_or("nothing", String::as_str)),
    )
    .evidence(format!("{source}: {address} -> {}", names.join(" ")));
    match source {
        AnswerSource::HostsFile { path, .. } => {
            // Putting the host name first makes it the line's canonical name.
            let address_text = address.to_string();
            let script = format!(
                "s/^[[:space:]]*{}[[:space:]]+/{} {} /",
                sed_regex_literal(&address_text),
                sed_replacement_literal(&address_text),
                sed_replacement_literal(name)
            );
            finding.fix(Cmd::new("sed").word("-i.bak").word("-E").value(script).value(path).safe())
        }
        AnswerSource::Dns => finding.evidence(format!("fix the PTR record of {address} in DNS to name {name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Fact;
    use crate::facts::dns::{DnsFacts, ReverseLookup};
    use crate::remedy::Risk;

    const HOSTS: &str = "/etc/hosts";

    fn node(hosts_text: &str, primary: Option<&str>) -> NodeFacts {
        NodeFacts {
            hosts: Fact::observed(HostsFile::parse(HOSTS, hosts_text)),
            primary_address: primary.map(|p| p.parse().unwrap()),
            ..NodeFacts::named("node1")
        }
    }

    fn at(line: usize) -> AnswerSource {
        AnswerSource::HostsFile { path: HOSTS.into(), line }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn facts(node: NodeFacts, forward: Lookup<Vec<IpAddr>>, reverse: Vec<ReverseLookup>) -> Facts {
        let dns = DnsFacts { name: "node1".into(), dns_consulted: true, forward, reverse, peers: Vec::new() };
        Facts { node: Some(Fact::observed(node)), dns: Some(Fact::observed(dns)), ..Default::default() }
    }

    fn words(remedy: &Remedy) -> Vec<String> {
        shlex::split(&remedy.command).unwrap()
    }

    #[test]
    fn matching_forward_and_reverse_pass() {
        let f = facts(
            node("10.0.0.5 node1.example.com node1\n", None),
            Lookup::Found { value: vec![ip("10.0.0.5")], source: at(1) },
            vec![ReverseLookup {
                address: ip("10.0.0.5"),
                names: Lookup::Found { value: vec!["node1.example.com".into(), "node1".into()], source: at(1) },
            }],
        );
        let j = HostnameResolution.run(&f).unwrap();
        assert!(j.findings.is_empty());
        assert_eq!(j.note.unwrap(), "node1 resolves to 10.0.0.5 (/etc/hosts line 1)");
    }

    #[test]
    fn debian_loopback_line_fails_and_the_name_moves_to_the_real_address() {
        let f = facts(
            node("127.0.0.1 localhost\n127.0.1.1 node1.example.com node1\n", Some("10.0.0.5")),
            Lookup::Found { value: vec![ip("127.0.1.1")], source: at(2) },
            Vec::new(),
        );
        let j = HostnameResolution.run(&f).unwrap();
        let finding = &j.findings[0];
        assert_eq!(finding.status, Status::Fail);
        assert!(finding.message.contains("loopback 127.0.1.1"));
        assert_eq!(finding.evidence, ["/etc/hosts line 2: 127.0.1.1 node1.example.com node1"]);
        assert_eq!(
            words(&finding.remediation[0]),
            [
                "sed",
                "-i.bak",
                "-E",
                "-e",
                "/^[[:space:]]*127[.]0[.]1[.]1[[:space:]]+node1[.]example[.]com[[:space:]]+node1[[:space:]]*(#.*)?$/d",
                HOSTS
            ]
        );
        assert_eq!(finding.remediation[0].risk, Risk::Safe);
        assert_eq!(finding.remediation[1].command, r"printf '%s\n' '10.0.0.5 node1.example.com node1' >> /etc/hosts");
    }

    #[test]
    fn shared_localhost_line_loses_only_the_host_names() {
        let f = facts(
            node("127.0.0.1 localhost node1 localhost.localdomain\n", None),
            Lookup::Found { value: vec![ip("127.0.0.1")], source: at(1) },
            Vec::new(),
        );
        let finding = &HostnameResolution.run(&f).unwrap().findings[0];
        assert_eq!(
            words(&finding.remediation[0]),
            [
                "sed",
                "-i.bak",
                "-E",
                "-e",
                "/^[[:space:]]*127[.]0[.]0[.]1[[:space:]]/s/[[:space:]]+node1([[:space:]]|$)/ /",
                HOSTS
            ]
        );
        assert_eq!(
            finding.remediation[1].command,
            r#"printf '%s %s\n' "$(hostname -I | cut -d' ' -f1)" node1 >> /etc/hosts"#
        );
    }

    #[test]
    fn the_hosts_fixes_do_what_they_say() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        let text = "127.0.0.1 localhost node1 localhost.localdomain\n127.0.0.1 node1 # mine\n127.0.1.1 node1\n\
                    127.0.1.1 other\n10.9.9.9 other\n";
        std::fs::write(&path, text).unwrap();
        let mut n = node(text, Some("10.0.0.5"));
        n.hosts = Fact::observed(HostsFile::parse(&path.display().to_string(), text));
        let source = AnswerSource::HostsFile { path: path.display().to_string(), line: 1 };
        let finding = loopback("node1", &[ip("127.0.0.1"), ip("127.0.1.1")], &source, &n);
        assert_eq!(finding.remediation.len(), 2);
        for remedy in &finding.remediation {
            let status = std::process::Command::new("sh").arg("-c").arg(&remedy.command).status().unwrap();
            assert!(status.success(), "{}", remedy.command);
        }
        let fixed = HostsFile::parse("hosts", &std::fs::read_to_string(&path).unwrap());
        let naming: Vec<String> = fixed.entries_naming("node1").map(|e| e.address.to_string()).collect();
        assert_eq!(naming, ["10.0.0.5"]);
        assert_eq!(fixed.entries_naming("localhost.localdomain").count(), 1);
        assert_eq!(fixed.entries_naming("other").count(), 2);
        assert_eq!(fixed.entries.len(), 4, "{fixed:?}");
    }

    #[test]
    fn reverse_disagreement_warns_with_a_fix_for_the_hosts_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        std::fs::write(&path, "10.0.0.5 other node1\n").unwrap();
        let source = AnswerSource::HostsFile { path: path.display().to_string(), line: 1 };
        let f = facts(
            node("10.0.0.5 other node1\n", None),
            Lookup::Found { value: vec![ip("10.0.0.5")], source: source.clone() },
            vec![ReverseLookup {
                address: ip("10.0.0.5"),
                names: Lookup::Found { value: vec!["other".into(), "node1".into()], source },
            }],
        );
        let j = HostnameResolution.run(&f).unwrap();
        assert_eq!(j.status(), Status::Warn);
        assert_eq!(j.findings[0].message, "reverse lookup of 10.0.0.5 gives other, not node1");
        let status = std::process::Command::new("sh").arg("-c").arg(&j.findings[0].remediation[0].command).status();
        assert!(status.unwrap().success());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "10.0.0.5 node1 other node1\n");
    }

    #[test]
    fn dns_answers_not_found_and_unanswered() {
        let reverse = |names| vec![ReverseLookup { address: ip("10.0.0.5"), names }];
        let found = || Lookup::Found { value: vec![ip("10.0.0.5")], source: AnswerSource::Dns };
        let ptr = Lookup::Found { value: vec!["NODE1.example.com".into()], source: AnswerSource::Dns };
        assert!(HostnameResolution.run(&facts(node("", None), found(), reverse(ptr))).unwrap().findings.is_empty());

        let other = Lookup::Found { value: vec!["web.example.com".into()], source: AnswerSource::Dns };
        let j = HostnameResolution.run(&facts(node("", None), found(), reverse(other))).unwrap();
        assert_eq!(j.status(), Status::Warn);
        assert!(j.findings[0].remediation.is_empty());
        assert!(j.findings[0].evidence[1].contains("PTR record"));

        let nx = Lookup::NotFound { detail: "DNS: node1 does not exist (NXDOMAIN)".into() };
        let j = HostnameResolution.run(&facts(node("", Some("10.0.0.5")), nx, Vec::new())).unwrap();
        assert_eq!(j.status(), Status::Fail);
        assert_eq!(j.findings[0].evidence, ["DNS: node1 does not exist (NXDOMAIN)"]);
        assert_eq!(j.findings[0].remediation[0].command, r"printf '%s\n' '10.0.0.5 node1' >> /etc/hosts");

        let timeout = Lookup::Unanswered { error: "DNS lookup of node1: no answer within 3s".into() };
        let verdict = HostnameResolution.run(&facts(node("", None), timeout, Vec::new()));
        assert_eq!(
            verdict,
            Err(NotJudged::Error("cannot tell whether node1 resolves: DNS lookup of node1: no answer within 3s".into()))
        );

        let unanswered = Lookup::Unanswered { error: "SERVFAIL".into() };
        let verdict = HostnameResolution.run(&facts(node("", None), found(), reverse(unanswered)));
        assert!(matches!(verdict, Err(NotJudged::Error(r)) if r.contains("reverse lookup of 10.0.0.5: SERVFAIL")));
    }

    #[test]
    fn short_and_qualified_names_are_the_same_host() {
        assert!(same_host("node1", "NODE1.example.com."));
        assert!(same_host("node1.example.com", "node1"));
        assert!(!same_host("node1.example.com", "node1.other.com"));
        assert!(!same_host("node1", "node10"));
    }
}
