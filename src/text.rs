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
}
