//! Reads systemd unit files the way systemd does (systemd.syntax(7)):
//! `[Section]` headers, `Key=value` assignments, comment lines starting with
//! `#` or `;` (also in the middle of a continued line), and lines continued
//! by a trailing backslash, which becomes a space. Like systemd's line
//! reader, a NUL byte ends a line.
//!
//! What systemd ignores with a warning (a line without `=`, an assignment
//! before any section) is ignored here too and reported as a warning; what
//! makes systemd refuse the file (a broken section header) is an error.

use std::fmt;

/// One `Key=value` line (or continued lines) of a unit file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub section: String,
    pub key: String,
    /// The value with surrounding whitespace removed; empty for `Key=`,
    /// which resets the setting to its default.
    pub value: String,
    /// The line the assignment starts on (1-based).
    pub line: u32,
}

/// A parsed unit file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitFile {
    pub assignments: Vec<Assignment>,
    /// Lines systemd ignores, with why (`line 3: no '=' ...`).
    pub warnings: Vec<String>,
}

impl UnitFile {
    /// The assignments to `key` in `section`, in file order.
    pub fn values<'a>(&'a self, section: &'a str, key: &'a str) -> impl Iterator<Item = &'a Assignment> + 'a {
        self.assignments.iter().filter(move |a| a.section == section && a.key == key)
    }
}

/// Why systemd would refuse to load a unit file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Not UTF-8 text.
    NotUtf8 { valid_up_to: usize },
    /// A line that starts with `[` but is not a `[Section]` header.
    BadSection { line: u32, text: String },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NotUtf8 { valid_up_to } => {
                write!(f, "not UTF-8 text (invalid byte after offset {valid_up_to})")
            }
            ParseError::BadSection { line, text } => write!(f, "line {line}: invalid section header {text:?}"),
        }
    }
}

/// The whitespace systemd strips (`WHITESPACE` in its sources): not the
/// Unicode notion of whitespace.
const WHITESPACE: &[char] = &[' ', '\t', '\n', '\r'];

pub fn parse(bytes: &[u8]) -> Result<UnitFile, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ParseError::NotUtf8 { valid_up_to: e.valid_up_to() })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser::default();
    // A continued line: the line it started on and the text so far.
    let mut pending: Option<(u32, String)> = None;
    for (index, raw) in text.split(['\n', '\0']).enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if is_comment(raw) {
            continue;
        }
        let (start, mut logical) = match pending.take() {
            Some((start, mut text)) => {
                text.push_str(raw);
                (start, text)
            }
            None => (number, raw.to_string()),
        };
        if ends_with_continuation(raw) {
            logical.pop();
            logical.push(' ');
            pending = Some((start, logical));
            continue;
        }
        parser.line(start, &logical)?;
    }
    if let Some((start, logical)) = pending {
        parser.line(start, &logical)?;
    }
    Ok(parser.file)
}

fn is_comment(line: &str) -> bool {
    line.trim_start_matches(WHITESPACE).starts_with(['#', ';'])
}

/// True when the line ends in a backslash that is not itself escaped
/// (`a\\` ends in an escaped backslash and does not continue).
fn ends_with_continuation(line: &str) -> bool {
    line.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

#[derive(Default)]
struct Parser {
    section: Option<String>,
    file: UnitFile,
}

impl Parser {
    fn line(&mut self, number: u32, text: &str) -> Result<(), ParseError> {
        let text = text.trim_matches(WHITESPACE);
        if text.is_empty() {
            return Ok(());
        }
        if text.starts_with('[') {
            let name = text
                .strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .filter(|name| !name.is_empty() && !name.contains(['[', ']']))
                .ok_or_else(|| ParseError::BadSection { line: number, text: text.to_string() })?;
            self.section = Some(name.to_string());
            return Ok(());
        }
        let Some(section) = &self.section else {
            self.warn(number, "assignment outside of any section, ignored");
            return Ok(());
        };
        let Some((key, value)) = text.split_once('=') else {
            self.warn(number, &format!("no '=' in {text:?}, ignored"));
            return Ok(());
        };
        let key = key.trim_matches(WHITESPACE);
        if key.is_empty() {
            self.warn(number, "no key name before '=', ignored");
            return Ok(());
        }
        self.file.assignments.push(Assignment {
            section: section.clone(),
            key: key.to_string(),
            value: value.trim_matches(WHITESPACE).to_string(),
            line: number,
        });
        Ok(())
    }

    fn warn(&mut self, number: u32, why: &str) {
        self.file.warnings.push(format!("line {number}: {why}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values(file: &UnitFile, section: &str, key: &str) -> Vec<(String, u32)> {
        file.values(section, key).map(|a| (a.value.clone(), a.line)).collect()
    }

    #[test]
    fn sections_assignments_and_comments() {
        let file = parse(
            b"# header comment\n[Unit]\nDescription = Mesos Master \n\n; another comment\n[Service]\n\
              ExecStart=/usr/bin/mesos-init-wrapper master\nRestart=always\nRestartSec=20\n",
        )
        .unwrap();
        assert_eq!(values(&file, "Unit", "Description"), [("Mesos Master".to_string(), 3)]);
        assert_eq!(values(&file, "Service", "Restart"), [("always".to_string(), 8)]);
        assert_eq!(values(&file, "Unit", "Restart"), []);
        assert!(file.warnings.is_empty());
    }

    #[test]
    fn continuations_join_lines_and_skip_comments_inside() {
        let file = parse(b"[Install]\nWantedBy=multi-user.target \\\n  graphical.target\n[Service]\nRestart=on-\\\n# a comment\n; another\nfailure\n").unwrap();
        assert_eq!(values(&file, "Install", "WantedBy"), [("multi-user.target    graphical.target".to_string(), 2)]);
        // The backslash becomes a space: systemd sees "on- failure".
        assert_eq!(values(&file, "Service", "Restart"), [("on- failure".to_string(), 5)]);
    }

    #[test]
    fn an_escaped_backslash_does_not_continue_and_a_final_continuation_ends_the_file() {
        let file = parse(b"[Service]\nExecStart=/bin/echo a\\\\\nRestart=no\\").unwrap();
        assert_eq!(values(&file, "Service", "ExecStart"), [("/bin/echo a\\\\".to_string(), 2)]);
        assert_eq!(values(&file, "Service", "Restart"), [("no".to_string(), 3)]);
    }

    #[test]
    fn empty_assignments_are_kept_as_resets() {
        let file = parse(b"[Service]\nRestart=always\nRestart=\n").unwrap();
        assert_eq!(values(&file, "Service", "Restart"), [("always".to_string(), 2), (String::new(), 3)]);
    }

    #[test]
    fn what_systemd_ignores_becomes_a_warning() {
        let file = parse(b"Restart=always\n[Service]\nRestart no\n=x\r\nUser=mesos\r\n").unwrap();
        assert_eq!(file.warnings.len(), 3, "{:?}", file.warnings);
        assert!(file.warnings[0].starts_with("line 1: assignment outside"));
        assert!(file.warnings[1].contains("\"Restart no\""));
        assert_eq!(values(&file, "Service", "Restart"), []);
        assert_eq!(values(&file, "Service", "User"), [("mesos".to_string(), 5)]);
    }

    #[test]
    fn a_nul_byte_ends_a_line_as_in_systemd() {
        let file = parse(b"[Service]\nRestart=al\0ways\n").unwrap();
        assert_eq!(values(&file, "Service", "Restart"), [("al".to_string(), 2)]);
        assert_eq!(file.warnings, ["line 3: no '=' in \"ways\", ignored"]);
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let file = parse("\u{feff}[Service]\nRestart=always\n".as_bytes()).unwrap();
        assert_eq!(values(&file, "Service", "Restart").len(), 1);
    }

    #[test]
    fn broken_headers_and_binary_content_are_errors() {
        assert_eq!(
            parse(b"[Service\nRestart=always\n"),
            Err(ParseError::BadSection { line: 1, text: "[Service".into() })
        );
        assert!(matches!(parse(b"[]\n"), Err(ParseError::BadSection { .. })));
        assert_eq!(parse(b"[Service]\nUser=\xff\n"), Err(ParseError::NotUtf8 { valid_up_to: 15 }));
        assert!(ParseError::BadSection { line: 1, text: "[x".into() }.to_string().contains("line 1"));
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn never_panics_on_unit_like_text(text in "([\\[\\]=#; \\\\\t\r\nA-Za-z]{0,12}\n?){0,24}") {
            if let Ok(file) = parse(text.as_bytes()) {
                for a in &file.assignments {
                    prop_assert!(!a.key.is_empty());
                    prop_assert!(a.line >= 1);
                }
            }
        }
    }
}
