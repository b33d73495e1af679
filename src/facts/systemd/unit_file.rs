//! Reads systemd unit files the way systemd 252 does: `config_parse()` in
//! src/shared/conf-parser.c over `read_line()` in src/basic/fileio.c.
//!
//! * A line ends at `\n`, `\r` or NUL. A run of end markers of different
//!   kinds (`\r\n`, `\n\r`, `\n\0`) is one line end; a NUL always ends the
//!   run. So a bare CR ends a line: `Restart=no\rRestart=always` is two lines.
//! * A line whose first non-blank character is `#` or `;` is a comment, also
//!   between the lines of a continuation.
//! * A line ending in an unescaped backslash continues on the next line; the
//!   backslash becomes a space.
//! * A UTF-8 byte order mark is skipped once, on the first line that starts
//!   with one.
//! * `Key=value` with blanks (space, tab, CR, LF: systemd's `WHITESPACE`)
//!   stripped around both.
//!
//! What systemd ignores with a warning (a line without `=`, an assignment
//! before any section, an unknown section) is ignored here too and kept as a
//! warning. What makes systemd's `config_parse()` give up (a broken section
//! header, a line that is not valid UTF-8, a line of 1 MiB or more) ends the
//! file: the assignments before it stand, as they do in systemd, and
//! [`UnitFile::stopped`] says where and why. Line numbers are those systemd's
//! own messages cite (for a continued line, the line it ends on).

use std::fmt;

/// One `Key=value` line (or continued lines) of a unit file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub section: String,
    pub key: String,
    /// The value with surrounding blanks removed; empty for `Key=`.
    pub value: String,
    /// The line systemd cites for the assignment (1-based).
    pub line: u32,
}

/// A parsed unit file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitFile {
    /// The assignments systemd reads, in file order.
    pub assignments: Vec<Assignment>,
    /// Lines systemd ignores, with why (`line 3: no '=' ...`).
    pub warnings: Warnings,
    /// Where systemd stops reading the file, when it does: the lines from
    /// there on are not read. systemd refuses to load a unit whose unit file
    /// stops early; a drop-in that stops early applies up to that line.
    pub stopped: Option<ParseError>,
    /// The first line ended by a bare CR or a NUL rather than a LF: systemd
    /// 252 ends the line there, older systemd (CentOS 7's 219 reads with
    /// `fgets()`) does not, so the two may see different settings.
    pub first_bare_line_end: Option<u32>,
}

impl UnitFile {
    /// The assignments to `key` in `section`, in file order.
    pub fn values<'a>(&'a self, section: &'a str, key: &'a str) -> impl Iterator<Item = &'a Assignment> + 'a {
        self.assignments.iter().filter(move |a| a.section == section && a.key == key)
    }
}

/// Warnings, of which at most [`Warnings::MAX`] are written out and the rest
/// counted: a file of a million ignored lines must not make a report of a
/// million lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Warnings {
    pub listed: Vec<String>,
    /// How many more there were.
    pub more: usize,
}

impl Warnings {
    pub const MAX: usize = 50;

    pub fn push(&mut self, warning: String) {
        if self.listed.len() < Self::MAX {
            self.listed.push(warning);
        } else {
            self.more += 1;
        }
    }

    /// The warnings written out, each prefixed with `prefix`, then a line
    /// that counts the others.
    pub fn lines(&self, prefix: &str) -> Vec<String> {
        let mut lines: Vec<String> = self.listed.iter().map(|w| format!("{prefix}{w}")).collect();
        if self.more > 0 {
            lines.push(format!("{prefix}{} more warnings like these are left out", self.more));
        }
        lines
    }
}

/// Why systemd stops reading a unit file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// A line that starts with `[` but does not end with `]`.
    BadSection { line: u32, text: String },
    /// A section name with control characters, quotes or backslashes.
    BadSectionCharacters { line: u32, text: String },
    /// A line that is not valid UTF-8 (as systemd's `utf8_is_valid()` sees it).
    NotUtf8 { line: u32 },
    /// A line, or lines joined by continuations, of 1 MiB or more.
    LineTooLong { line: u32 },
}

impl ParseError {
    pub fn line(&self) -> u32 {
        match self {
            ParseError::BadSection { line, .. }
            | ParseError::BadSectionCharacters { line, .. }
            | ParseError::NotUtf8 { line }
            | ParseError::LineTooLong { line } => *line,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::BadSection { line, text } => write!(f, "line {line}: invalid section header {text:?}"),
            ParseError::BadSectionCharacters { line, text } => {
                write!(f, "line {line}: bad characters in section header {text:?}")
            }
            ParseError::NotUtf8 { line } => write!(f, "line {line}: not valid UTF-8"),
            ParseError::LineTooLong { line } => {
                write!(f, "line {line}: longer than systemd's limit of {LONG_LINE_MAX} bytes")
            }
        }
    }
}

/// The whitespace systemd strips (`WHITESPACE` in its sources): not the
/// Unicode notion of whitespace.
const WHITESPACE: &[u8] = b" \t\n\r";
/// systemd's `LONG_LINE_MAX`: `read_line()` refuses a line this long.
const LONG_LINE_MAX: usize = 1 << 20;
const BYTE_ORDER_MARK: &[u8] = "\u{feff}".as_bytes();

/// Parses a unit file or drop-in; see the module documentation.
pub fn parse(bytes: &[u8]) -> UnitFile {
    let mut parser = Parser::default();
    if let Err(stop) = parser.run(bytes) {
        parser.file.stopped = Some(stop);
    }
    parser.file
}

/// The kinds of line end of `read_line()` (`EndOfLineMarker`).
const EOL_TEN: u8 = 1;
const EOL_ZERO: u8 = 2;
const EOL_THIRTEEN: u8 = 4;

fn end_of_line(byte: u8) -> u8 {
    match byte {
        b'\n' => EOL_TEN,
        b'\0' => EOL_ZERO,
        b'\r' => EOL_THIRTEEN,
        _ => 0,
    }
}

/// The lines of `bytes` as `read_line()` splits them, without their ends,
/// each with the kinds of end marker that ended it (0 at the end of the file).
fn physical_lines(bytes: &[u8]) -> impl Iterator<Item = (&[u8], u8)> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let length = rest.iter().position(|b| end_of_line(*b) != 0).unwrap_or(rest.len());
        let line = &rest[..length];
        let mut seen = 0;
        let mut end = length;
        while let Some(kind) = rest.get(end).map(|b| end_of_line(*b)) {
            if kind == 0 || seen & (kind | EOL_ZERO) != 0 {
                break;
            }
            seen |= kind;
            end += 1;
        }
        rest = &rest[end..];
        Some((line, seen))
    })
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !WHITESPACE.contains(b)).unwrap_or(bytes.len());
    &bytes[start..]
}

fn trim(bytes: &[u8]) -> &[u8] {
    let bytes = trim_start(bytes);
    let end = bytes.iter().rposition(|b| !WHITESPACE.contains(b)).map_or(0, |i| i + 1);
    &bytes[..end]
}

/// True when the line ends in a backslash that is not itself escaped
/// (`a\\` ends in an escaped backslash and does not continue).
fn ends_with_continuation(line: &[u8]) -> bool {
    line.iter().rev().take_while(|b| **b == b'\\').count() % 2 == 1
}

/// systemd's `utf8_is_valid()`: UTF-8 without the code points its
/// `unichar_is_valid()` refuses (U+FDD0..U+FDEF and U+xxFFFE / U+xxFFFF).
fn systemd_utf8(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let refused = |c: char| matches!(u32::from(c), 0xFDD0..=0xFDEF) || u32::from(c) & 0xFFFE == 0xFFFE;
    (!text.chars().any(refused)).then_some(text)
}

/// systemd's `string_is_safe()`: no control characters, quotes or backslashes.
fn is_safe_section_name(name: &str) -> bool {
    !name.chars().any(|c| matches!(c, '\u{1}'..='\u{1f}' | '"' | '\'' | '\\' | '\u{7f}'))
}

#[derive(Default)]
struct Parser {
    section: Option<String>,
    file: UnitFile,
}

impl Parser {
    /// `config_parse()`: the lines of the file, until one makes systemd give up.
    fn run(&mut self, bytes: &[u8]) -> Result<(), ParseError> {
        let mut number: u32 = 0;
        let mut byte_order_mark_seen = false;
        let mut continued: Option<Vec<u8>> = None;
        for (raw, ended_by) in physical_lines(bytes) {
            number = number.saturating_add(1);
            if ended_by != 0 && ended_by & EOL_TEN == 0 && self.file.first_bare_line_end.is_none() {
                self.file.first_bare_line_end = Some(number);
            }
            if raw.len() >= LONG_LINE_MAX {
                return Err(ParseError::LineTooLong { line: number });
            }
            if trim_start(raw).first().is_some_and(|b| matches!(b, b'#' | b';')) {
                continue;
            }
            let mut line = raw;
            if !byte_order_mark_seen && let Some(rest) = line.strip_prefix(BYTE_ORDER_MARK) {
                line = rest;
                byte_order_mark_seen = true;
            }
            let mut logical = match continued.take() {
                Some(mut text) => {
                    if text.len() + line.len() > LONG_LINE_MAX {
                        return Err(ParseError::LineTooLong { line: number });
                    }
                    text.extend_from_slice(line);
                    text
                }
                None => line.to_vec(),
            };
            if ends_with_continuation(line) {
                if let Some(last) = logical.last_mut() {
                    *last = b' ';
                }
                continued = Some(logical);
                continue;
            }
            self.line(number, &logical)?;
        }
        match continued {
            Some(logical) => self.line(number.saturating_add(1), &logical),
            None => Ok(()),
        }
    }

    /// `parse_line()`: one logical line.
    fn line(&mut self, number: u32, bytes: &[u8]) -> Result<(), ParseError> {
        let bytes = trim(bytes);
        if bytes.is_empty() {
            return Ok(());
        }
        let text = systemd_utf8(bytes).ok_or(ParseError::NotUtf8 { line: number })?;
        if let Some(header) = text.strip_prefix('[') {
            let name =
                header.strip_suffix(']').ok_or_else(|| ParseError::BadSection { line: number, text: text.into() })?;
            if !is_safe_section_name(name) {
                return Err(ParseError::BadSectionCharacters { line: number, text: text.into() });
            }
            // An unknown section (even `[]`) is ignored, with what it holds.
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
        if key.is_empty() {
            self.warn(number, "no key name before '=', ignored");
            return Ok(());
        }
        self.file.assignments.push(Assignment {
            section: section.clone(),
            key: trim_str(key).to_string(),
            value: trim_str(value).to_string(),
            line: number,
        });
        Ok(())
    }

    fn warn(&mut self, number: u32, why: &str) {
        self.file.warnings.push(format!("line {number}: {why}"));
    }
}

fn trim_str(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_ascii() && WHITESPACE.contains(&(c as u8)))
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
        );
        assert_eq!(values(&file, "Unit", "Description"), [("Mesos Master".to_string(), 3)]);
        assert_eq!(values(&file, "Service", "Restart"), [("always".to_string(), 8)]);
        assert_eq!(values(&file, "Unit", "Restart"), []);
        assert!(file.warnings.listed.is_empty() && file.stopped.is_none());
    }

    #[test]
    fn continuations_join_lines_and_skip_comments_inside() {
        let file = parse(b"[Install]\nWantedBy=multi-user.target \\\n  graphical.target\n[Service]\nRestart=on-\\\n# a comment\n; another\nfailure\n");
        // systemd cites the line a continued line ends on.
        assert_eq!(values(&file, "Install", "WantedBy"), [("multi-user.target    graphical.target".to_string(), 3)]);
        // The backslash becomes a space: systemd sees "on- failure".
        assert_eq!(values(&file, "Service", "Restart"), [("on- failure".to_string(), 8)]);
    }

    #[test]
    fn an_escaped_backslash_does_not_continue_and_a_final_continuation_ends_the_file() {
        let file = parse(b"[Service]\nExecStart=/bin/echo a\\\\\nRestart=no\\");
        assert_eq!(values(&file, "Service", "ExecStart"), [("/bin/echo a\\\\".to_string(), 2)]);
        // config_parse() parses a pending continuation at the end as line N+1.
        assert_eq!(values(&file, "Service", "Restart"), [("no".to_string(), 4)]);
    }

    #[test]
    fn empty_assignments_are_kept_for_the_setting_to_judge() {
        let file = parse(b"[Service]\nRestart=always\nRestart=\n");
        assert_eq!(values(&file, "Service", "Restart"), [("always".to_string(), 2), (String::new(), 3)]);
    }

    #[test]
    fn what_systemd_ignores_becomes_a_warning() {
        let file = parse(b"Restart=always\n[Service]\nRestart no\n=x\r\nUser=mesos\r\n");
        assert_eq!(file.warnings.listed.len(), 3, "{:?}", file.warnings);
        assert!(file.warnings.listed[0].starts_with("line 1: assignment outside"));
        assert!(file.warnings.listed[1].contains("\"Restart no\""));
        assert_eq!(values(&file, "Service", "Restart"), []);
        assert_eq!(values(&file, "Service", "User"), [("mesos".to_string(), 5)]);
    }

    /// fileio.c read_line(): "\n", "\r" and NUL each end a line; a run of
    /// different ones ("\r\n", "\n\r", "\n\0") is one line end.
    #[test]
    fn line_ends_are_those_of_read_line() {
        let file = parse(b"[Service]\nRestart=no\rRestart=always\n");
        assert_eq!(values(&file, "Service", "Restart"), [("no".to_string(), 2), ("always".to_string(), 3)]);
        let file = parse(b"[Service]\r\n\n\rRestart=al\0ways\0\nUser=\r\rGroup=x\n\0\n");
        assert_eq!(values(&file, "Service", "Restart"), [("al".to_string(), 3)]);
        assert_eq!(file.warnings.listed, ["line 4: no '=' in \"ways\", ignored"]);
        // "\0\n": the NUL ends the run, the "\n" ends an empty line 5.
        assert_eq!(values(&file, "Service", "User"), [(String::new(), 6)]);
        assert_eq!(values(&file, "Service", "Group"), [("x".to_string(), 8)]);
        let lines: Vec<&[u8]> = physical_lines(b"a\n\r\0b\r\rc\0\0d\n\n").map(|(line, _)| line).collect();
        assert_eq!(lines, [&b"a"[..], b"b", b"", b"c", b"", b"d", b""]);
        assert_eq!(file.first_bare_line_end, Some(3));
        assert_eq!(parse(b"[Service]\r\nRestart=no\n\rUser=x").first_bare_line_end, None);
    }

    #[test]
    fn a_byte_order_mark_is_skipped_once() {
        let file = parse("\u{feff}[Service]\nRestart=always\n".as_bytes());
        assert_eq!(values(&file, "Service", "Restart").len(), 1);
        // Not only at the start of the file: on the first line that has one.
        let file = parse("[Service]\n\u{feff}Restart=always\n\u{feff}Restart=no\n".as_bytes());
        assert_eq!(values(&file, "Service", "Restart"), [("always".to_string(), 2)]);
        assert_eq!(values(&file, "Service", "\u{feff}Restart"), [("no".to_string(), 3)]);
    }

    /// conf-parser.c parse_line(): these make config_parse() return an error;
    /// what came before stands.
    #[test]
    fn broken_headers_bad_text_and_long_lines_stop_the_file() {
        let stopped = |bytes: &[u8]| {
            let file = parse(bytes);
            (values(&file, "Service", "Restart"), file.stopped)
        };
        let always = || vec![("always".to_string(), 2)];
        assert_eq!(
            stopped(b"[Service]\nRestart=always\n[Service\nRestart=no\n"),
            (always(), Some(ParseError::BadSection { line: 3, text: "[Service".into() }))
        );
        assert_eq!(
            stopped(b"[Service]\nRestart=always\n[Ser\"vice]\nRestart=no\n"),
            (always(), Some(ParseError::BadSectionCharacters { line: 3, text: "[Ser\"vice]".into() }))
        );
        assert_eq!(stopped(b"[Service]\nRestart=always\nUser=\xff\n").1, Some(ParseError::NotUtf8 { line: 3 }));
        // systemd's UTF-8 check also refuses noncharacters.
        assert_eq!(
            stopped("[Service]\nRestart=always\nUser=\u{fffe}\n".as_bytes()).1,
            Some(ParseError::NotUtf8 { line: 3 })
        );
        // A comment is skipped before the check.
        assert_eq!(stopped(b"[Service]\nRestart=always\n# \xff\n"), (always(), None));
        let long = format!("[Service]\nRestart=always\nX-A={}\nRestart=no\n", "x".repeat(LONG_LINE_MAX - 4));
        assert_eq!(stopped(long.as_bytes()).1, Some(ParseError::LineTooLong { line: 3 }));
        let fits = format!("[Service]\nRestart=always\nX-A={}\nRestart=no\n", "x".repeat(LONG_LINE_MAX - 5));
        assert_eq!(stopped(fits.as_bytes()).0.len(), 2);
        assert!(ParseError::BadSection { line: 1, text: "[x".into() }.to_string().contains("line 1"));
    }

    #[test]
    fn a_million_ignored_lines_make_a_few_warnings() {
        let file = parse("[Service]\nx\n".repeat(100_000).as_bytes());
        assert_eq!((file.warnings.listed.len(), file.warnings.more), (Warnings::MAX, 100_000 - Warnings::MAX));
        let lines = file.warnings.lines("f: ");
        assert_eq!(lines.len(), Warnings::MAX + 1);
        assert_eq!(
            lines[Warnings::MAX],
            format!("f: {} more warnings like these are left out", 100_000 - Warnings::MAX)
        );
    }

    #[test]
    fn unknown_sections_are_ignored_not_errors() {
        let file = parse(b"[Service]x]\nRestart=always\n[]\nRestart=on-failure\n[X-Mesos]\nRestart=no\n");
        assert_eq!(file.stopped, None);
        assert_eq!(values(&file, "Service", "Restart"), []);
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn never_panics_on_unit_like_text(text in "([\\[\\]=#; \\\\\t\r\n\0A-Za-z]{0,12}\n?){0,24}") {
            let file = parse(text.as_bytes());
            for a in &file.assignments {
                prop_assert!(!a.key.is_empty());
                prop_assert!(a.line >= 1);
            }
        }
    }
}
