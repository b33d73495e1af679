//! Remediation commands. Every value that comes from outside is shell-quoted
//! when the command is built, so pasting a command can never run anything else.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What running a remediation command does to the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Read-only, or reversible at once.
    Safe,
    /// Restarts or moves services.
    Disruptive,
    /// Loses data (e.g. deleting a ZooKeeper tree).
    Destructive,
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Risk::Safe => "safe",
            Risk::Disruptive => "disruptive",
            Risk::Destructive => "destructive",
        })
    }
}

/// One complete shell command line that fixes (part of) a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remedy {
    pub command: String,
    pub risk: Risk,
    pub note: Option<String>,
}

impl Remedy {
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// Builds a command line word by word: `word` takes trusted literal text
/// written in clusterdoc's source, `value` takes anything else and quotes it.
#[derive(Clone, Debug)]
pub struct Cmd {
    line: String,
}

impl Cmd {
    pub fn new(program: &'static str) -> Self {
        Cmd { line: program.to_string() }
    }

    /// A literal word (flag, sub-command, operator) from clusterdoc itself.
    pub fn word(mut self, literal: &'static str) -> Self {
        self.line.push(' ');
        self.line.push_str(literal);
        self
    }

    /// A value from outside, quoted as one shell word.
    pub fn value(mut self, value: impl AsRef<str>) -> Self {
        self.line.push(' ');
        self.line.push_str(&quote(value.as_ref()));
        self
    }

    /// A value from outside where the command expects an operand (a host
    /// name for `ssh`, say): one starting with `-` follows `--`, so a remote
    /// name can never be read as an option (`-oProxyCommand=...`).
    pub fn operand(self, value: impl AsRef<str>) -> Self {
        let value = value.as_ref();
        let cmd = if value.starts_with('-') { self.word("--") } else { self };
        cmd.value(value)
    }

    /// A literal prefix glued to a quoted value: `--zone=` + `public`.
    pub fn option(mut self, prefix: &'static str, value: impl AsRef<str>) -> Self {
        self.line.push(' ');
        self.line.push_str(prefix);
        self.line.push_str(&quote(value.as_ref()));
        self
    }

    pub fn risk(self, risk: Risk) -> Remedy {
        Remedy { command: self.line, risk, note: None }
    }

    pub fn safe(self) -> Remedy {
        self.risk(Risk::Safe)
    }

    pub fn disruptive(self) -> Remedy {
        self.risk(Risk::Disruptive)
    }

    pub fn destructive(self) -> Remedy {
        self.risk(Risk::Destructive)
    }
}

/// Quotes one shell word: bare when shlex finds nothing to quote, else the
/// whole word in single quotes (`'\''` for a quote inside), which reads
/// better than quoting from the first special character on. NUL cannot
/// appear in a shell word at all, so it is dropped.
pub fn quote(value: &str) -> String {
    let value = value.replace('\0', "");
    match shlex::try_quote(&value) {
        Ok(std::borrow::Cow::Borrowed(bare)) => bare.to_string(),
        _ => format!("'{}'", value.replace('\'', r"'\''")),
    }
}

/// `text` as a literal inside a `sed -E` regular expression delimited by `/`.
/// Special characters go into brackets (`.` -> `[.]`) where they can, so
/// the usual host names and addresses need no backslashes and the script
/// stays readable once [`Cmd::value`] has shell-quoted it.
pub fn sed_regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '.' | '*' | '+' | '?' | '(' | ')' | '{' | '}' | '|' | '$' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            '\\' | '/' | '^' | '[' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out
}

/// `text` as literal replacement text of a sed `s/../../` command.
pub fn sed_replacement_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '&' | '/' => {
                out.push('\\');
                out.push(c);
            }
            // An escaped newline stays inside the `s` command (POSIX).
            '\n' => out.push_str("\\\n"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_words_are_not() {
        let r = Cmd::new("firewall-cmd").word("--permanent").option("--zone=", "pub lic").value("$(rm -rf /)").safe();
        assert_eq!(r.command, "firewall-cmd --permanent --zone='pub lic' '$(rm -rf /)'");
        assert_eq!(Cmd::new("hostnamectl").value("host-1").safe().command, "hostnamectl host-1");
    }

    #[test]
    fn operands_that_look_like_options_follow_a_double_dash() {
        assert_eq!(Cmd::new("ssh").operand("m1").word("true").safe().command, "ssh m1 true");
        assert_eq!(
            Cmd::new("ssh").operand("-oProxyCommand=touch x").word("true").safe().command,
            "ssh -- '-oProxyCommand=touch x' true"
        );
    }

    #[test]
    fn quoting_round_trips_through_a_shell_parser() {
        for hostile in ["a'b", "x;y", "`id`", "new\nline", "$HOME", "nul\0byte", ""] {
            let line = Cmd::new("echo").value(hostile).safe().command;
            let words = shlex::split(&line).unwrap();
            assert_eq!(words, vec!["echo".to_string(), hostile.replace('\0', "")]);
        }
    }
}
