//! How Marathon places apps on Mesos agents, as the Marathon checks judge it:
//! which agents an app's constraints let it run on, how many instances fit
//! when each needs a host of its own, free ports for a moved app, and the
//! `curl` command that changes an app.

pub mod free_ports;
pub mod placement;
pub mod tally;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use regex_lite::Regex;
use serde_json::Value;

use crate::facts::marathon::{App, MarathonFacts};
use crate::facts::mesos::{Agent, MesosState};
use crate::remedy::Cmd;

/// The agents Marathon can place tasks on: the active ones.
pub fn active_agents(state: &MesosState) -> Vec<&Agent> {
    state.agents.iter().filter(|a| a.active).collect()
}

/// Whether `agent` can offer anything an app's `acceptedResourceRoles`
/// takes: unreserved resources when it takes `*` (or names no roles, Marathon's
/// default), else resources reserved for one of its roles.
pub fn offers_roles(accepted_roles: &[String], agent: &Agent) -> bool {
    accepted_roles.is_empty() || accepted_roles.iter().any(|r| r == "*" || agent.reserved_resources.contains_key(r))
}

/// Where an app's constraints let its instances run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Eligible {
    /// Indexes into the active agents, ascending.
    pub agents: Vec<usize>,
    /// `["hostname", "CLUSTER"]` with no value: every instance on one host.
    pub one_host: bool,
    /// At most this many instances per host (`UNIQUE`: 1, `MAX_PER n`).
    pub per_host: Option<u32>,
    /// Constraints on agent attributes, which `/master/state` gives but the
    /// facts do not keep: they can only narrow `agents` further.
    pub unread: Vec<String>,
}

/// Applies an app's constraints to the active agents. Marathon matches
/// `LIKE`/`UNLIKE` as regular expressions over the whole value, `CLUSTER`
/// (and 1.5's `IS`) as equality. Err: a pattern that does not compile.
pub fn eligible(constraints: &[Vec<String>], agents: &[&Agent]) -> Result<Eligible, String> {
    let mut eligible = Eligible { agents: (0..agents.len()).collect(), ..Eligible::default() };
    for constraint in constraints {
        let [field, operator, rest @ ..] = constraint.as_slice() else { continue };
        let value = rest.first().map(String::as_str);
        let on_hostname = field.eq_ignore_ascii_case("hostname");
        let keep: Box<dyn Fn(&str) -> bool> = match (operator.as_str(), value) {
            ("UNIQUE", _) if on_hostname => {
                eligible.per_host = Some(1);
                continue;
            }
            ("MAX_PER", Some(n)) if on_hostname => {
                eligible.per_host = n.trim().parse().ok().map(|n: u32| n.max(1)).or(eligible.per_host);
                continue;
            }
            ("CLUSTER", None | Some("")) if on_hostname => {
                eligible.one_host = true;
                continue;
            }
            ("LIKE" | "UNLIKE" | "CLUSTER" | "IS", Some(_)) if !on_hostname => {
                eligible.unread.push(describe(constraint));
                continue;
            }
            ("LIKE", Some(pattern)) => {
                let re = whole_match(pattern)?;
                Box::new(move |host| re.is_match(host))
            }
            ("UNLIKE", Some(pattern)) => {
                let re = whole_match(pattern)?;
                Box::new(move |host| !re.is_match(host))
            }
            ("CLUSTER" | "IS", Some(value)) => {
                let value = value.to_string();
                Box::new(move |host| host == value)
            }
            // UNIQUE/GROUP_BY/MAX_PER on attributes spread instances, they do not exclude agents.
            _ => continue,
        };
        eligible.agents.retain(|&i| keep(&agents[i].hostname));
    }
    Ok(eligible)
}

fn whole_match(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("constraint pattern {pattern:?}: {e}"))
}

/// `["hostname", "LIKE", "a.*"]` as shown in reports.
pub fn describe(constraint: &[String]) -> String {
    serde_json::to_string(constraint).unwrap_or_default()
}

/// `curl -X PUT MARATHON/v2/apps/ID -H ... -d 'JSON'`: changes only the
/// fields in `body` (a PUT without `partialUpdate=false` merges, in every
/// Marathon from 1.1 on; PATCH exists only from 1.4). `force` overrides a
/// deployment of the app that is in progress (else Marathon answers 409).
pub fn put_app(marathon: &MarathonFacts, app_id: &str, body: &Value, force: bool) -> Cmd {
    let query = if force { "?force=true" } else { "" };
    Cmd::new("curl")
        .word("-X PUT")
        .value(format!("{}{query}", app_url(marathon, "apps", app_id)))
        .word("-H 'Content-Type: application/json'")
        .word("-d")
        .value(body.to_string())
}

/// `jq` printing the app or group file `file` with the fields of `body`
/// set on the app whose id ends in the last part of `app_id`: only prints,
/// changes nothing.
fn edit_proposed(file: &str, app_id: &str, body: &Value) -> Cmd {
    let name = app_id.rsplit('/').next().unwrap_or(app_id);
    let filter = format!(
        "(.. | objects | select((.id? | type) == \"string\" and (.id | split(\"/\") | last) == {})) |= . + $change",
        Value::String(name.to_string())
    );
    Cmd::new("jq").word("--argjson change").value(body.to_string()).value(filter).operand(file)
}

/// What a path segment cannot hold as is (the WHATWG URL standard's
/// path-segment set).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// `MARATHON/v2/COLLECTION/GROUP/APP`: each segment of the app id
/// percent-encoded, and `.`/`..` segments too (curl would resolve them: an
/// id from a broken or hostile Marathon could aim the command at another
/// endpoint). Marathon's own ids never need it.
pub fn app_url(marathon: &MarathonFacts, collection: &str, app_id: &str) -> String {
    let segments: Vec<String> = app_id
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "." | ".." => s.replace('.', "%2E"),
            _ => utf8_percent_encode(s, SEGMENT).to_string(),
        })
        .collect();
    format!("{}/v2/{collection}/{}", marathon.url.trim_end_matches('/'), segments.join("/"))
}

/// The deployment in progress that changes an app, if any.
pub fn deployment_of<'a>(marathon: &'a MarathonFacts, app_id: &str) -> Option<&'a str> {
    let deployments = marathon.deployments.value()?;
    deployments.iter().find(|d| d.affected_apps.iter().any(|a| a == app_id)).map(|d| d.id.as_str())
}

/// The change `body` to `app`: `put_app`, forced when a deployment of the
/// app is in progress, with a note that says so; for an app only proposed
/// (`--app FILE`), the file's definition with the change, to POST instead.
pub fn update_app(marathon: &MarathonFacts, app: &App, body: &Value, note: String) -> crate::remedy::Remedy {
    if let Some(file) = &app.proposed {
        return edit_proposed(file, &app.id, body).safe().with_note(format!(
            "{note}. It prints {file} with the change, for the app as written there (matched by the last part of \
             its id); POST that instead"
        ));
    }
    let app_id = app.id.as_str();
    match deployment_of(marathon, app_id) {
        Some(deployment) => put_app(marathon, app_id, body, true).disruptive().with_note(format!(
            "{note}; ?force=true because deployment {deployment} of this app is in progress (it is replaced by this one)"
        )),
        None => put_app(marathon, app_id, body, false).disruptive().with_note(note),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Fact;
    use crate::facts::marathon::Deployment;

    fn agents(names: &[&str]) -> Vec<Agent> {
        names
            .iter()
            .map(|n| Agent { id: n.to_string(), hostname: n.to_string(), active: true, ..Agent::default() })
            .collect()
    }

    fn constraint(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| p.to_string()).collect()
    }

    fn marathon() -> MarathonFacts {
        MarathonFacts {
            deployments: Fact::observed(vec![Deployment {
                id: "d-1".into(),
                affected_apps: vec!["/busy".into()],
                ..Deployment::default()
            }]),
            ..MarathonFacts::empty("http://m1:8080")
        }
    }

    #[test]
    fn hostname_constraints_narrow_the_agents() {
        let owned = agents(&["node1", "node2", "srv3"]);
        let all: Vec<&Agent> = owned.iter().collect();
        let of = |parts: &[&[&str]]| {
            let constraints: Vec<Vec<String>> = parts.iter().map(|p| constraint(p)).collect();
            eligible(&constraints, &all).unwrap()
        };
        assert_eq!(of(&[]).agents, [0, 1, 2]);
        assert_eq!(of(&[&["hostname", "LIKE", "node.*"]]).agents, [0, 1]);
        assert_eq!(of(&[&["hostname", "LIKE", "node"]]).agents, [] as [usize; 0], "the whole name must match");
        assert_eq!(of(&[&["hostname", "UNLIKE", "node1|srv3"]]).agents, [1]);
        assert_eq!(of(&[&["hostname", "CLUSTER", "srv3"]]).agents, [2]);
        let unique = of(&[&["hostname", "UNIQUE"], &["hostname", "GROUP_BY"]]);
        assert_eq!((unique.agents.len(), unique.per_host), (3, Some(1)));
        assert!(of(&[&["hostname", "CLUSTER"]]).one_host);
        assert_eq!(of(&[&["hostname", "MAX_PER", "2"]]).per_host, Some(2));
        let rack = of(&[&["rack", "LIKE", "r1"]]);
        assert_eq!((rack.agents.len(), rack.unread.as_slice()), (3, &[r#"["rack","LIKE","r1"]"#.to_string()][..]));
        assert!(eligible(&[constraint(&["hostname", "LIKE", "("])], &all).is_err());
        assert_eq!(of(&[&["hostname"]]).agents.len(), 3, "malformed constraints are Marathon's to refuse");
    }

    #[test]
    fn app_updates_quote_the_id_and_the_body() {
        let body = serde_json::json!({"cmd": "echo 'hi' $(id)"});
        let app = |id: &str| App { id: id.into(), ..App::default() };
        let remedy = update_app(&marathon(), &app("/flink/a b"), &body, "why".into());
        assert_eq!(
            remedy.command,
            r#"curl -X PUT 'http://m1:8080/v2/apps/flink/a%20b' -H 'Content-Type: application/json' -d '{"cmd":"echo '\''hi'\'' $(id)"}'"#
        );
        let words = shlex::split(&remedy.command).unwrap();
        assert_eq!(words[7], body.to_string());
        assert_eq!(remedy.note.as_deref(), Some("why"));
        let forced = update_app(&marathon(), &app("/busy"), &body, "why".into());
        assert!(forced.command.contains("'http://m1:8080/v2/apps/busy?force=true'"), "{}", forced.command);
        assert!(forced.note.unwrap().contains("deployment d-1"));
        let proposed = App { proposed: Some("deploy/it's.json".into()), ..app("/flink/flink2") };
        let edit = update_app(&marathon(), &proposed, &body, "why".into());
        let words = shlex::split(&edit.command).unwrap();
        assert_eq!(words[..3], ["jq", "--argjson", "change"], "{}", edit.command);
        assert_eq!((words[3].as_str(), words[5].as_str()), (body.to_string().as_str(), "deploy/it's.json"));
        assert!(words[4].ends_with("last) == \"flink2\")) |= . + $change"), "{}", words[4]);
        assert_eq!(edit.risk, crate::remedy::Risk::Safe);
    }

    #[test]
    fn app_urls_keep_every_segment_of_the_id_inside_the_apps_path() {
        let url = |id| app_url(&marathon(), "apps", id);
        assert_eq!(url("/flink/session-1"), "http://m1:8080/v2/apps/flink/session-1");
        assert_eq!(url("flink"), "http://m1:8080/v2/apps/flink", "a relative id");
        assert_eq!(url("/../../leader"), "http://m1:8080/v2/apps/%2E%2E/%2E%2E/leader");
        assert_eq!(url("/a?force=true#x"), "http://m1:8080/v2/apps/a%3Fforce=true%23x");
        assert_eq!(url("/é %"), "http://m1:8080/v2/apps/%C3%A9%20%25");
    }
}
