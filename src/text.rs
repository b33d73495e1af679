//! Text that came from remote systems or files, made safe for a terminal.

/// Replaces terminal control characters (C0, DEL, C1 and the bidi overrides
/// that can disguise text) with visible escapes, so remote text can never move
/// the cursor, recolour the screen or hide what it says.
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

/// Serialized JSON with every control character, C1 and bidi override
/// written as a `\uXXXX` escape. serde_json escapes only those below U+0020;
/// the others may only stand inside strings, where the escape means the same
/// character, so the document is unchanged for a parser and inert on a
/// terminal.
pub fn escape_json_controls(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if is_unsafe(c) && !matches!(c, '\n' | '\t' | '\r') {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(sanitize("a\x1b[31mb\nc\u{9b}"), "a\\u{1b}[31mb\\nc\\u{9b}");
        assert_eq!(sanitize("plain host-1:5050"), "plain host-1:5050");
        assert_eq!(sanitize("x\u{202e}y"), "x\\u{202e}y");
    }

    #[test]
    fn json_keeps_its_meaning_without_raw_controls() {
        let json = serde_json::to_string(&serde_json::json!({"a": "x\u{9b}31m\u{202e}y\u{1b}"})).unwrap();
        let escaped = escape_json_controls(&json);
        assert!(!escaped.chars().any(is_unsafe), "{escaped}");
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back["a"], "x\u{9b}31m\u{202e}y\u{1b}");
    }
}
