//! Remediation command templates of pack checks: `ssh {host} systemctl start x`.
//!
//! The template's own text is the pack author's, trusted like clusterdoc's
//! source; every placeholder is filled with a shell-quoted value, so a host
//! name or path from outside can never become more than one word. A
//! placeholder inside quotes would defeat that, so it is refused at load.
//! A quoted word that starts with `-` is still an option to `ssh`: a host is
//! a `HostName` (never starts with `-`), and a target that starts with `-`
//! gives no command.

use crate::remedy::{Remedy, Risk, RunsOn, quote};
use crate::remote::HostName;

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
    pub host: Option<&'a HostName>,
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

/// Reads a template as the shell would quote it, splitting out placeholders.
struct Parser<'a> {
    command: &'a str,
    vars: &'a [(&'a str, Var)],
    chars: Vec<char>,
    at: usize,
    quoting: Quoting,
    /// Text since the last placeholder.
    text: String,
    pieces: Vec<Piece>,
}

impl Parser<'_> {
    fn run(mut self) -> Result<Vec<Piece>, String> {
        while let Some(&c) = self.chars.get(self.at) {
            self.at += 1;
            match c {
                '{' | '}' if self.chars.get(self.at) == Some(&c) => {
                    self.at += 1;
                    self.text.push(c);
                }
                '{' => self.placeholder()?,
                _ => self.shell_char(c),
            }
        }
        if self.quoting != Quoting::None {
            return Err(format!("remedy {:?}: a quote is not closed", self.command));
        }
        self.end_text();
        Ok(self.pieces)
    }

    /// After a `{`: a placeholder of this check outside quotes, or the
    /// command's own brace inside quotes (awk, find); anything else is refused.
    fn placeholder(&mut self) -> Result<(), String> {
        let rest = &self.chars[self.at..];
        let name: Option<String> = rest.iter().position(|&c| c == '}').map(|end| rest[..end].iter().collect());
        let var = name.as_deref().and_then(|name| self.vars.iter().find(|(n, _)| *n == name)).map(|(_, v)| *v);
        let name = name.unwrap_or_default();
        let command = self.command;
        match (var, self.quoting) {
            (Some(_), Quoting::Single | Quoting::Double) => Err(format!(
                "remedy {command:?}: {{{name}}} is inside quotes; write it bare, clusterdoc quotes the value"
            )),
            (Some(var), Quoting::None) => {
                self.end_text();
                self.pieces.push(Piece::Var(var));
                self.at += name.chars().count() + 1;
                Ok(())
            }
            (None, Quoting::Single | Quoting::Double) => {
                self.text.push('{');
                Ok(())
            }
            (None, Quoting::None) => {
                let offered: Vec<String> = self.vars.iter().map(|(name, _)| format!("{{{name}}}")).collect();
                Err(format!(
                    "remedy {command:?}: unknown placeholder {{{name}}}; this check offers {} (write {{{{ for a literal brace)",
                    offered.join(", ")
                ))
            }
        }
    }

    /// A character of the command's own text, following its quoting.
    fn shell_char(&mut self, c: char) {
        self.text.push(c);
        match (self.quoting, c) {
            (Quoting::None, '\'') => self.quoting = Quoting::Single,
            (Quoting::None, '"') => self.quoting = Quoting::Double,
            (Quoting::Single, '\'') | (Quoting::Double, '"') => self.quoting = Quoting::None,
            (Quoting::None | Quoting::Double, '\\') => {
                self.text.extend(self.chars.get(self.at));
                self.at += 1;
            }
            _ => {}
        }
    }

    fn end_text(&mut self) {
        if !self.text.is_empty() {
            self.pieces.push(Piece::Text(std::mem::take(&mut self.text)));
        }
    }
}

impl RemedyTemplate {
    /// `vars` are the placeholders this check offers, by name.
    pub fn parse(command: &str, vars: &[(&str, Var)], risk: Risk, note: Option<String>) -> Result<Self, String> {
        let parser = Parser {
            command,
            vars,
            chars: command.chars().collect(),
            at: 0,
            quoting: Quoting::None,
            text: String::new(),
            pieces: Vec::new(),
        };
        Ok(RemedyTemplate { pieces: parser.run()?, risk, note })
    }

    pub fn risk(&self) -> Risk {
        self.risk
    }

    /// The command for one target; `None` when it names a value this target
    /// lacks (not possible for templates checked against the check's kind),
    /// or a target that would read as an option (only a forged snapshot
    /// holds one: clusterdoc's own labels never start with `-`).
    pub fn render(&self, values: Values) -> Option<Remedy> {
        let mut command = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => command.push_str(text),
                Piece::Var(Var::Target) if values.target.starts_with('-') => return None,
                Piece::Var(Var::Target) => command.push_str(&quote(values.target)),
                Piece::Var(Var::Host) => command.push_str(&quote(values.host?.as_str())),
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

    /// The command for a target (what was looked at) on host zk1.
    fn render(template: &str, target: &str) -> Option<String> {
        let t = RemedyTemplate::parse(template, VARS, Risk::Safe, None).unwrap();
        let host = HostName::parse("zk1").unwrap();
        t.render(Values { target, host: Some(&host), port: Some(2181) }).map(|r| r.command)
    }

    #[test]
    fn values_are_quoted_as_one_word() {
        let render = |template: &str, target: &str| render(template, target).unwrap();
        assert_eq!(render("ssh {host} systemctl start x", "t"), "ssh zk1 systemctl start x");
        assert_eq!(render("ls {target}", "a; rm -rf /"), "ls 'a; rm -rf /'");
        assert_eq!(render("echo mntr | nc {host} {port} # {target}", "$(id)"), "echo mntr | nc zk1 2181 # '$(id)'");
        let line = render("ssh {host} 'echo {{x}}' {target}", "h'q");
        assert_eq!(shlex::split(&line).unwrap(), ["ssh", "zk1", "echo {x}", "h'q"]);
    }

    #[test]
    fn a_target_that_reads_as_an_option_gives_no_command() {
        assert_eq!(render("cat {target}", "-oProxyCommand=id"), None);
        assert_eq!(render("ssh {host} true", "-oProxyCommand=id").as_deref(), Some("ssh zk1 true"));
    }

    #[test]
    fn placeholders_in_quotes_and_unknown_names_are_refused() {
        let parse = |t: &str| RemedyTemplate::parse(t, VARS, Risk::Safe, None);
        assert!(parse("ssh '{host}' x").unwrap_err().contains("inside quotes"));
        assert!(parse("ssh \"{host}\" x").unwrap_err().contains("inside quotes"));
        assert!(parse("ssh {hots} x").unwrap_err().contains("{target}, {host}, {port}"));
        assert!(parse("echo 'x").unwrap_err().contains("not closed"));
        // A brace in quotes that names nothing is plain text.
        assert_eq!(render("awk '{print $1}' f", "h").unwrap(), "awk '{print $1}' f");
    }

    #[test]
    fn a_missing_value_renders_nothing() {
        let t = RemedyTemplate::parse("ssh {host} x", VARS, Risk::Disruptive, Some("n".into())).unwrap();
        assert_eq!(t.render(Values { target: "t", host: None, port: None }), None);
        let h = HostName::parse("h").unwrap();
        let r = t.render(Values { target: "t", host: Some(&h), port: None }).unwrap();
        assert_eq!((r.risk, r.note.as_deref()), (Risk::Disruptive, Some("n")));
    }
}
