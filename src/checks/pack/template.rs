//! Remediation command templates of pack checks: `ssh {host} systemctl start x`.
//!
//! The template's own text is the pack author's, trusted like clusterdoc's
//! source; every placeholder is filled with a shell-quoted value, so a host
//! name or path from outside can never become more than one word. A
//! placeholder inside quotes would defeat that, so it is refused at load.

use crate::remedy::{Remedy, Risk, RunsOn, quote};

/// A value a remediation command can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Var {
    /// What was looked at: the address, URL, command, unit, path.
    Target,
    Host,
    Port,
}

/// The values of one target.
#[derive(Clone, Copy, Debug)]
pub struct Values<'a> {
    pub target: &'a str,
    pub host: Option<&'a str>,
    pub port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Text(String),
    Var(Var),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RemedyTemplate {
    pieces: Vec<Piece>,
    risk: Risk,
    note: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Quoting {
    None,
    Single,
    Double,
}

impl RemedyTemplate {
    /// `vars` are the placeholders this check offers, by name.
    pub fn parse(command: &str, vars: &[(&str, Var)], risk: Risk, note: Option<String>) -> Result<Self, String> {
        let offered = || vars.iter().map(|(name, _)| format!("{{{name}}}")).collect::<Vec<_>>().join(", ");
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut quoting = Quoting::None;
        let chars: Vec<char> = command.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            i += 1;
            match (quoting, c) {
                (_, '{' | '}') if next == Some(c) => {
                    i += 1;
                    text.push(c);
                }
                (_, '{') => {
                    let name: Option<String> =
                        chars[i..].iter().position(|&c| c == '}').map(|end| chars[i..i + end].iter().collect());
                    let var = name.as_deref().and_then(|name| vars.iter().find(|(n, _)| *n == name)).map(|(_, v)| *v);
                    let name = name.unwrap_or_default();
                    match (var, quoting) {
                        (Some(_), Quoting::Single | Quoting::Double) => {
                            return Err(format!(
                                "remedy {command:?}: {{{name}}} is inside quotes; write it bare, clusterdoc quotes the value"
                            ));
                        }
                        (Some(var), Quoting::None) => {
                            if !text.is_empty() {
                                pieces.push(Piece::Text(std::mem::take(&mut text)));
                            }
                            pieces.push(Piece::Var(var));
                            i += name.chars().count() + 1;
                        }
                        // Braces inside quotes are the command's own (awk, find).
                        (None, Quoting::Single | Quoting::Double) => text.push(c),
                        (None, Quoting::None) => {
                            return Err(format!(
                                "remedy {command:?}: unknown placeholder {{{name}}}; this check offers {} (write {{{{ for a literal brace)",
                                offered()
                            ));
                        }
                    }
                }
                (Quoting::None, '\'') => {
                    quoting = Quoting::Single;
                    text.push(c);
                }
                (Quoting::None, '"') => {
                    quoting = Quoting::Double;
                    text.push(c);
                }
                (Quoting::Single, '\'') | (Quoting::Double, '"') => {
                    quoting = Quoting::None;
                    text.push(c);
                }
                (Quoting::None | Quoting::Double, '\\') => {
                    text.push(c);
                    text.extend(next);
                    i += 1;
                }
                _ => text.push(c),
            }
        }
        if quoting != Quoting::None {
            return Err(format!("remedy {command:?}: a quote is not closed"));
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(RemedyTemplate { pieces, risk, note })
    }

    pub fn risk(&self) -> Risk {
        self.risk
    }

    /// The command for one target; `None` when it names a value this target
    /// lacks (not possible for templates checked against the check's kind).
    pub fn render(&self, values: Values) -> Option<Remedy> {
        let mut command = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => command.push_str(text),
                Piece::Var(Var::Target) => command.push_str(&quote(values.target)),
                Piece::Var(Var::Host) => command.push_str(&quote(values.host?)),
                Piece::Var(Var::Port) => command.push_str(&values.port?.to_string()),
            }
        }
        Some(Remedy { command, risk: self.risk, note: self.note.clone(), runs_on: RunsOn::ThisNode })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARS: &[(&str, Var)] = &[("target", Var::Target), ("host", Var::Host), ("port", Var::Port)];

    fn render(template: &str, host: &str) -> String {
        let t = RemedyTemplate::parse(template, VARS, Risk::Safe, None).unwrap();
        t.render(Values { target: "t", host: Some(host), port: Some(2181) }).unwrap().command
    }

    #[test]
    fn values_are_quoted_as_one_word() {
        assert_eq!(render("ssh {host} systemctl start x", "zk1"), "ssh zk1 systemctl start x");
        assert_eq!(render("ssh {host} systemctl start x", "a; rm -rf /"), "ssh 'a; rm -rf /' systemctl start x");
        assert_eq!(render("echo mntr | nc {host} {port}", "$(id)"), "echo mntr | nc '$(id)' 2181");
        let line = render("ssh {host} 'echo {{x}}'", "h'q");
        assert_eq!(shlex::split(&line).unwrap(), ["ssh", "h'q", "echo {x}"]);
    }

    #[test]
    fn placeholders_in_quotes_and_unknown_names_are_refused() {
        let parse = |t: &str| RemedyTemplate::parse(t, VARS, Risk::Safe, None);
        assert!(parse("ssh '{host}' x").unwrap_err().contains("inside quotes"));
        assert!(parse("ssh \"{host}\" x").unwrap_err().contains("inside quotes"));
        assert!(parse("ssh {hots} x").unwrap_err().contains("{target}, {host}, {port}"));
        assert!(parse("echo 'x").unwrap_err().contains("not closed"));
        // A brace in quotes that names nothing is plain text.
        assert_eq!(render("awk '{print $1}' f", "h"), "awk '{print $1}' f");
    }

    #[test]
    fn a_missing_value_renders_nothing() {
        let t = RemedyTemplate::parse("ssh {host} x", VARS, Risk::Disruptive, Some("n".into())).unwrap();
        assert_eq!(t.render(Values { target: "t", host: None, port: None }), None);
        let r = t.render(Values { target: "t", host: Some("h"), port: None }).unwrap();
        assert_eq!((r.risk, r.note.as_deref()), (Risk::Disruptive, Some("n")));
    }
}
