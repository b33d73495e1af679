//! Parsing a JSON body while it arrives.
//!
//! A big body (a `/master/state` of 100+ MB) is never held whole: the
//! caller walks the document's outer structure with [`JsonStream`] and has
//! serde deserialize each inner value (an agent, a task) from the bytes
//! received so far. A value cut off by the end of what has arrived is
//! parsed again once more has come; the buffer keeps only the unparsed
//! tail. Errors say where, as [`super::parse_json`]'s do: "truncated JSON at
//! line 1 column 5000".

use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::error::Category;

use super::Problem;

/// Appends the next piece of the body to the buffer; false once the body ended.
pub type Refill<'a> = Box<dyn FnMut(&mut Vec<u8>) -> bool + Send + 'a>;

/// A JSON document read from a body that arrives in pieces.
pub struct JsonStream<'a> {
    refill: Refill<'a>,
    buf: Vec<u8>,
    /// The next unparsed byte in `buf`.
    pos: usize,
    ended: bool,
    /// Something other than whitespace arrived.
    started: bool,
    /// Where `buf[0]` is in the document: its line (1-based) and the bytes
    /// before it on that line.
    line: usize,
    column: usize,
}

impl<'a> JsonStream<'a> {
    pub fn new(refill: Refill<'a>) -> Self {
        JsonStream { refill, buf: Vec::new(), pos: 0, ended: false, started: false, line: 1, column: 0 }
    }

    /// `bytes` arriving `size` bytes at a time (as the network may cut them).
    pub fn in_pieces(bytes: &'a [u8], size: usize) -> Self {
        let mut pieces = bytes.chunks(size.max(1));
        Self::new(Box::new(move |buf: &mut Vec<u8>| pieces.next().map(|p| buf.extend_from_slice(p)).is_some()))
    }

    /// Deserializes the next value (after whitespace).
    pub fn value<T: DeserializeOwned>(&mut self) -> Result<T, Problem> {
        self.next_value().map(|(value, _)| value)
    }

    /// Skips the next value.
    pub fn skip(&mut self) -> Result<(), Problem> {
        self.value::<IgnoredAny>().map(drop)
    }

    /// The next value's bytes as they are (for values parsed together later).
    pub fn raw(&mut self) -> Result<&[u8], Problem> {
        let (IgnoredAny, length) = self.next_value()?;
        Ok(&self.buf[self.pos - length..self.pos])
    }

    /// The next value and how many bytes it took; `pos` moves past it only
    /// once it is whole, so the buffer still holds all of it.
    fn next_value<T: DeserializeOwned>(&mut self) -> Result<(T, usize), Problem> {
        self.peek()?;
        let mut wanted = 0;
        loop {
            let rest = &self.buf[self.pos..];
            let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<T>();
            let parsed = values.next();
            let used = values.byte_offset();
            match parsed {
                // A number that ends where the received bytes end may go on.
                Some(Ok(value)) if used < rest.len() || self.ended => {
                    self.pos += used;
                    return Ok((value, used));
                }
                // A number cut short ("12.") is "invalid", not "EOF".
                Some(Err(e)) if !(e.is_eof() || at_end(rest, &e)) || self.ended => return Err(self.problem(&e)),
                _ => {
                    // Wait until the unparsed part has doubled, so a big
                    // value is parsed again only a logarithmic number of times.
                    wanted = wanted.max(rest.len()) * 2;
                    self.fill_until(wanted);
                }
            }
        }
    }

    /// Walks an object: `field` is called with each key, positioned at its value.
    pub fn object(&mut self, mut field: impl FnMut(&mut Self, String) -> Result<(), Problem>) -> Result<(), Problem> {
        self.expect(b'{', "`{`")?;
        if self.peek()? == b'}' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.peek()? != b'"' {
                return Err(self.invalid("key must be a string"));
            }
            let key: String = self.value()?;
            self.expect(b':', "`:`")?;
            field(self, key)?;
            if !self.next_item(b'}', "`,` or `}`")? {
                return Ok(());
            }
        }
    }

    /// Walks an array: `item` is called at each element.
    pub fn array(&mut self, mut item: impl FnMut(&mut Self) -> Result<(), Problem>) -> Result<(), Problem> {
        self.expect(b'[', "`[`")?;
        if self.peek()? == b']' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            if !self.next_item(b']', "`,` or `]`")? {
                return Ok(());
            }
        }
    }

    /// After the document: only whitespace may follow.
    pub fn end(&mut self) -> Result<(), Problem> {
        match self.next_byte() {
            None => Ok(()),
            Some(_) => Err(self.invalid("trailing characters")),
        }
    }

    /// True when another item follows (a comma), false at `close`.
    fn next_item(&mut self, close: u8, expected: &str) -> Result<bool, Problem> {
        match self.peek()? {
            b',' => {
                self.pos += 1;
                Ok(true)
            }
            b if b == close => {
                self.pos += 1;
                Ok(false)
            }
            _ => Err(self.invalid(&format!("expected {expected}"))),
        }
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), Problem> {
        if self.peek()? != byte {
            return Err(self.invalid(&format!("expected {what}")));
        }
        self.pos += 1;
        Ok(())
    }

    /// The next byte that is not whitespace, left unconsumed; an error at the end.
    fn peek(&mut self) -> Result<u8, Problem> {
        let byte = self.next_byte().ok_or_else(|| self.eof())?;
        self.started = true;
        Ok(byte)
    }

    fn next_byte(&mut self) -> Option<u8> {
        loop {
            let skipped = self.buf[self.pos..].iter().take_while(|b| b.is_ascii_whitespace()).count();
            self.pos += skipped;
            if let Some(&b) = self.buf.get(self.pos) {
                return Some(b);
            }
            if !self.refill() {
                return None;
            }
        }
    }

    /// Receives until at least `wanted` unparsed bytes are buffered or the body ended.
    fn fill_until(&mut self, wanted: usize) {
        while self.buf.len() - self.pos < wanted.max(1) && self.refill() {}
    }

    /// Drops the parsed prefix (keeping its line count) and appends the next piece.
    fn refill(&mut self) -> bool {
        if self.ended {
            return false;
        }
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.forget_parsed();
        }
        self.ended = !(self.refill)(&mut self.buf);
        !self.ended
    }

    fn forget_parsed(&mut self) {
        let (line, column) = self.position_of(self.pos);
        (self.line, self.column) = (line, column);
        self.buf.drain(..self.pos);
        self.pos = 0;
    }

    /// Line and bytes-before-on-that-line of `buf[at]`.
    fn position_of(&self, at: usize) -> (usize, usize) {
        let before = &self.buf[..at];
        // memchr's SIMD search: this runs over every byte of a big body once,
        // and /master/state is one line of 100+ MB.
        match memchr::memrchr(b'\n', before) {
            Some(last) => (self.line + memchr::memchr_iter(b'\n', before).count(), at - last - 1),
            None => (self.line, self.column + at),
        }
    }

    /// The end of the body came inside the document.
    fn eof(&self) -> Problem {
        if !self.started {
            return Problem::Json("empty body where JSON was expected".into());
        }
        let (line, column) = self.position_of(self.buf.len());
        Problem::Json(format!("truncated JSON at line {line} column {column}"))
    }

    fn invalid(&self, what: &str) -> Problem {
        let (line, column) = self.position_of(self.pos);
        Problem::Json(format!("invalid JSON: {what} at line {line} column {}", column + 1))
    }

    /// A serde error in the value at `pos`, placed in the whole document.
    fn problem(&self, e: &serde_json::Error) -> Problem {
        let (line, column) = self.position_of(self.pos);
        let (line, column) =
            if e.line() == 1 { (line, column + e.column()) } else { (line + e.line() - 1, e.column()) };
        let text = e.to_string();
        let what = text.rsplit_once(" at line ").map_or(text.as_str(), |(what, _)| what);
        Problem::Json(match e.classify() {
            Category::Eof => format!("truncated JSON at line {line} column {column}"),
            Category::Data => format!("unexpected JSON: {what} at line {line} column {column}"),
            Category::Syntax | Category::Io => format!("invalid JSON: {what} at line {line} column {column}"),
        })
    }
}

/// Whether a serde error is at the last byte of `bytes` (where more may follow).
fn at_end(bytes: &[u8], e: &serde_json::Error) -> bool {
    let lines = memchr::memchr_iter(b'\n', bytes).count() + 1;
    let last_line = memchr::memrchr(b'\n', bytes).map_or(bytes.len(), |n| bytes.len() - n - 1);
    e.line() == lines && e.column() >= last_line
}

/// Fields of an object kept aside as they are while its big members stream
/// past, parsed together once the object ends.
#[derive(Debug, Default)]
pub struct Gathered {
    json: Vec<u8>,
}

impl Gathered {
    pub fn keep(&mut self, key: &str, raw: &[u8]) {
        self.json.push(if self.json.is_empty() { b'{' } else { b',' });
        serde_json::to_writer(&mut self.json, key).expect("a string serializes into memory");
        self.json.push(b':');
        self.json.extend_from_slice(raw);
    }

    /// The kept fields as `T` (its streamed members left at their defaults).
    pub fn parse<T: DeserializeOwned>(mut self) -> Result<T, Problem> {
        if self.json.is_empty() {
            self.json.push(b'{');
        }
        self.json.push(b'}');
        serde_json::from_slice(&self.json).map_err(|e| {
            // Positions in the gathered fields mean nothing to a reader.
            let text = e.to_string();
            let what = text.rsplit_once(" at line ").map_or(text.as_str(), |(what, _)| what);
            Problem::Json(format!("unexpected JSON: {what}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values(text: &str, size: usize) -> Result<Vec<serde_json::Value>, Problem> {
        let mut s = JsonStream::in_pieces(text.as_bytes(), size);
        let mut all = Vec::new();
        s.array(|s| s.value().map(|v| all.push(v)))?;
        s.end().map(|()| all)
    }

    #[test]
    fn numbers_and_literals_cut_by_a_piece_are_read_whole() {
        let text = r#"[12345.5e3, -0.25, true, null, "a\"b\u00e9", {"k": [1, 2]}, 7]"#;
        let whole: Vec<serde_json::Value> = serde_json::from_str(text).unwrap();
        for size in 1..text.len() {
            assert_eq!(values(text, size).unwrap(), whole, "pieces of {size}");
        }
    }

    #[test]
    fn errors_are_placed_in_the_whole_document() {
        assert_eq!(values("", 3), Err(Problem::Json("empty body where JSON was expected".into())));
        assert_eq!(values(" \n ", 1), Err(Problem::Json("empty body where JSON was expected".into())));
        assert_eq!(values("[1, 2", 2), Err(Problem::Json("truncated JSON at line 1 column 5".into())));
        assert_eq!(
            values("[1,\n2 x]", 2),
            Err(Problem::Json("invalid JSON: expected `,` or `]` at line 2 column 3".into()))
        );
        assert_eq!(
            values("[1,\n  tru]", 2),
            Err(Problem::Json("invalid JSON: expected ident at line 2 column 6".into()))
        );
        assert_eq!(
            values("[1] 2", 1),
            Err(Problem::Json("invalid JSON: trailing characters at line 1 column 5".into()))
        );
        assert_eq!(values("[1.]", 1), Err(Problem::Json("invalid JSON: invalid number at line 1 column 4".into())));
    }

    #[test]
    fn gathered_fields_parse_together() {
        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct Head {
            version: String,
            #[serde(default)]
            pid: Option<String>,
        }
        let mut kept = Gathered::default();
        kept.keep("version", br#""1.4.1""#);
        kept.keep("pid", b"null");
        assert_eq!(kept.parse::<Head>(), Ok(Head { version: "1.4.1".into(), pid: None }));
        let mut wrong = Gathered::default();
        wrong.keep("version", b"5");
        assert_eq!(
            wrong.parse::<Head>(),
            Err(Problem::Json("unexpected JSON: invalid type: integer `5`, expected a string".into()))
        );
        assert!(Gathered::default().parse::<Head>().is_err(), "a missing required field is an error");
    }

    proptest! {
        /// However the body is cut, the stream reads what serde reads from
        /// the whole, and refuses what serde refuses.
        #[test]
        fn streaming_agrees_with_the_whole_body(
            doc in r#"\[( ?(-?[0-9]{1,6}(\.[0-9]{1,3})?|"[a-z\\"]{0,6}"|true|null|\{"k": ?\[[0-9]?\]\}),?){0,6} ?\]?"#,
            size in 1usize..9,
        ) {
            let whole = serde_json::from_str::<Vec<serde_json::Value>>(&doc);
            let streamed = values(&doc, size);
            prop_assert_eq!(streamed.is_ok(), whole.is_ok(), "{:?} vs {:?}", streamed, whole.as_ref().err());
            if let (Ok(streamed), Ok(whole)) = (streamed, whole) {
                prop_assert_eq!(streamed, whole);
            }
        }
    }
}
