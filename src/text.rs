//! Text that came from remote systems or files, made safe for every reader:
//! a terminal, an XML parser, a shell script, an editor. The one judgement of
//! which characters are unsafe lives here ([`is_unsafe`]); every text format
//! escapes through [`sanitize`], JSON through [`escape_json_controls`].

/// Replaces every unsafe character (see [`is_unsafe`]) with a visible
/// `\u{...}` escape (`\n`, `\t`, `\r` for those), so remote text can never
/// move the cursor, recolour the screen, reorder what a reader sees, break
/// a line or make an XML document ill-formed.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Serialized JSON with every unsafe character other than JSON's own
/// whitespace written as a `\uXXXX` escape (a surrogate pair above U+FFFF).
/// serde_json escapes only those below U+0020; the others may only stand
/// inside strings, where the escape means the same character, so the
/// document is unchanged for a parser and inert on a terminal.
pub fn escape_json_controls(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut safe_from = 0;
    for (at, c) in json.char_indices() {
        if is_unsafe(c) && !matches!(c, '\n' | '\t' | '\r') {
            // Runs of safe text are copied whole: reports are megabytes.
            out.push_str(&json[safe_from..at]);
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
            safe_from = at + c.len_utf8();
        }
    }
    out.push_str(&json[safe_from..]);
    out
}

/// Whether `text` holds a character that [`sanitize`] would escape.
pub fn has_unsafe(text: &str) -> bool {
    text.chars().any(is_unsafe)
}

/// Characters no report shows raw: control characters (C0, DEL, C1: they
/// drive terminals), Unicode format characters (category Cf: bidi overrides
/// and isolates, zero-width characters, the BOM; they make text read
/// differently from what it is), the line and paragraph separators (a
/// comment or a TAP line must stay one line) and the noncharacters (U+FFFE
/// and U+FFFF are not allowed in XML 1.0 at all).
pub fn is_unsafe(c: char) -> bool {
    // ASCII, nearly all of any report, has only its controls to fear.
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    c.is_control()
        || is_format(c)
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{fdd0}'..='\u{fdef}')
        || (c as u32 & 0xfffe) == 0xfffe
}

/// Unicode general category Cf (Unicode 15.1).
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(sanitize("a\x1b[31mb\nc\u{9b}"), "a\\u{1b}[31mb\\nc\\u{9b}");
        assert_eq!(sanitize("plain host-1:5050 Zürich"), "plain host-1:5050 Zürich");
        assert_eq!(sanitize("x\u{202e}y"), "x\\u{202e}y");
    }

    #[test]
    fn escapes_format_characters_and_what_xml_forbids() {
        assert_eq!(
            sanitize("a\u{200b}b\u{2066}c\u{feff}d\u{fffe}e\u{ffff}f\u{2028}g\u{e0041}"),
            "a\\u{200b}b\\u{2066}c\\u{feff}d\\u{fffe}e\\u{ffff}f\\u{2028}g\\u{e0041}"
        );
        assert!(!has_unsafe("szv1000265119.example.com"));
        assert!(has_unsafe("szv\u{10fffe}"));
    }

    /// The Cf table against Python's `unicodedata` (the real Unicode
    /// database of the machine): every Cf character there is escaped here.
    #[test]
    fn the_format_table_covers_pythons_unicode_database() {
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import unicodedata\nprint(' '.join(str(c) for c in range(0x110000) if unicodedata.category(chr(c)) == 'Cf'))",
            ])
            .output()
            .expect("python3 is needed for this test (Debian package python3)");
        assert!(out.status.success(), "python3 failed: {}", String::from_utf8_lossy(&out.stderr));
        let listed: Vec<u32> =
            String::from_utf8(out.stdout).unwrap().split_whitespace().map(|n| n.parse().unwrap()).collect();
        assert!(listed.len() > 150, "python listed only {} Cf characters", listed.len());
        for cp in listed {
            let c = char::from_u32(cp).unwrap();
            assert!(is_format(c), "U+{cp:04X} is Cf in Python's Unicode database but not escaped");
        }
    }

    #[test]
    fn json_keeps_its_meaning_without_raw_controls() {
        let original = "x\u{9b}31m\u{202e}y\u{1b}\u{200b}\u{ffff}\u{e0041}";
        let json = serde_json::to_string(&serde_json::json!({ "a": original })).unwrap();
        let escaped = escape_json_controls(&json);
        assert!(!has_unsafe(&escaped), "{escaped}");
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back["a"], original);
    }
}
