//! A parser for Rego value text (`opa_value_parse`, and inputs the OPA Go SDK sends).
//!
//! Rego value text is JSON plus: sets (`{1, 2}`, `set()`), non-string object keys, trailing
//! commas, Go-quoted strings (`\a \v \xHH \ooo \UXXXXXXXX` besides JSON's escapes) and
//! backquoted raw strings. The result is a `serde_json::Value`: sets become arrays and
//! non-string keys become their JSON text, as `opa_json_dump` prints them.
//!
//! Nesting is limited to [`MAX_DEPTH`]: the stack is 64 KiB and an overflow is a trap.

use serde_json::{Map, Value};

/// The deepest nesting accepted (below serde_json's 128, so the JSON text of any value this
/// parser returns can be parsed again).
pub const MAX_DEPTH: usize = 100;

/// Parses one Rego value, surrounded by optional whitespace; `None` if the text is not one.
pub fn parse(text: &[u8]) -> Option<Value> {
    let mut parser = Parser { text, pos: 0 };
    let value = parser.value(0)?;
    parser.skip_ws();
    (parser.pos == text.len()).then_some(value)
}

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos = self.pos.saturating_add(1);
        Some(byte)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    /// Consumes `word` if the text continues with it.
    fn eat(&mut self, word: &[u8]) -> bool {
        let end = self.pos.saturating_add(word.len());
        if self.text.get(self.pos..end) == Some(word) {
            self.pos = end;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let inner = depth.saturating_add(1);
        self.skip_ws();
        match self.peek()? {
            b'{' => self.object_or_set(inner),
            b'[' => {
                self.bump();
                self.items(b']', inner).map(Value::Array)
            }
            b'"' => self.quoted().map(Value::String),
            b'`' => self.raw().map(Value::String),
            b'-' | b'0'..=b'9' => self.number(),
            _ if self.eat(b"null") => Some(Value::Null),
            _ if self.eat(b"true") => Some(Value::Bool(true)),
            _ if self.eat(b"false") => Some(Value::Bool(false)),
            _ if self.eat(b"set(") => {
                self.skip_ws();
                self.eat(b")").then(|| Value::Array(Vec::new()))
            }
            _ => None,
        }
    }

    /// Comma-separated values up to `close` (after the opening bracket); a trailing comma is
    /// allowed.
    fn items(&mut self, close: u8, depth: usize) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.peek()? == close {
                self.bump();
                return Some(items);
            }
            items.push(self.value(depth)?);
            if !self.separator(close)? {
                return Some(items);
            }
        }
    }

    /// After an element: `Some(true)` after a comma, `Some(false)` after the closing bracket.
    fn separator(&mut self, close: u8) -> Option<bool> {
        self.skip_ws();
        match self.bump()? {
            b',' => Some(true),
            byte if byte == close => Some(false),
            _ => None,
        }
    }

    /// `{}` (an empty object), `{k: v, ...}` or a set `{a, b, ...}`.
    fn object_or_set(&mut self, depth: usize) -> Option<Value> {
        self.bump();
        self.skip_ws();
        if self.peek()? == b'}' {
            self.bump();
            return Some(Value::Object(Map::new()));
        }
        let first = self.value(depth)?;
        self.skip_ws();
        if self.peek()? != b':' {
            // A set: the first element is parsed, the rest follow like array items.
            let mut items = vec![first];
            if self.separator(b'}')? {
                items.extend(self.items(b'}', depth)?);
            }
            return Some(Value::Array(items));
        }
        let mut map = Map::new();
        let mut key = first;
        loop {
            self.skip_ws();
            if self.bump()? != b':' {
                return None;
            }
            let value = self.value(depth)?;
            map.insert(key_text(key), value);
            if !self.separator(b'}')? {
                return Some(Value::Object(map));
            }
            self.skip_ws();
            if self.peek()? == b'}' {
                self.bump();
                return Some(Value::Object(map));
            }
            key = self.value(depth)?;
        }
    }

    /// A JSON number (Rego numbers are written as JSON numbers).
    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.bump();
        }
        let text = self.text.get(start..self.pos)?;
        serde_json::from_slice::<serde_json::Number>(text)
            .ok()
            .map(Value::Number)
    }

    /// A backquoted raw string: no escapes; carriage returns are dropped, as in Go.
    fn raw(&mut self) -> Option<String> {
        self.bump();
        let start = self.pos;
        while self.peek()? != b'`' {
            self.bump();
        }
        let body = self.text.get(start..self.pos)?;
        self.bump();
        let body: Vec<u8> = body.iter().copied().filter(|&b| b != b'\r').collect();
        String::from_utf8(body).ok()
    }

    /// A double-quoted string with Go's (and JSON's) escapes. `\x` and octal escapes are bytes;
    /// a result that is not UTF-8 has its bad sequences replaced (JSON strings are Unicode).
    fn quoted(&mut self) -> Option<String> {
        self.bump();
        let mut out: Vec<u8> = Vec::new();
        loop {
            match self.bump()? {
                b'"' => break,
                b'\\' => self.escape(&mut out)?,
                b'\n' => return None,
                byte => out.push(byte),
            }
        }
        Some(match String::from_utf8(out) {
            Ok(text) => text,
            Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
        })
    }

    /// One escape sequence after the backslash, appended to `out`.
    fn escape(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let byte = match self.bump()? {
            b'a' => 0x07,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 0x0b,
            b'\\' => b'\\',
            b'\'' => b'\'',
            b'"' => b'"',
            b'/' => b'/',
            b'x' => u8::try_from(self.hex(2)?).ok()?,
            first @ b'0'..=b'7' => {
                let mut code = u32::from(first.wrapping_sub(b'0'));
                for _ in 0..2 {
                    let digit = self.bump().filter(|d| (b'0'..=b'7').contains(d))?;
                    code = code
                        .checked_mul(8)?
                        .checked_add(u32::from(digit.wrapping_sub(b'0')))?;
                }
                u8::try_from(code).ok()?
            }
            b'u' => {
                let unit = self.hex(4)?;
                let code = if (0xd800..0xdc00).contains(&unit) && self.eat(b"\\u") {
                    // A UTF-16 surrogate pair, as JSON writes characters beyond the BMP.
                    let low = self.hex(4)?;
                    if !(0xdc00..0xe000).contains(&low) {
                        return None;
                    }
                    let high = unit.checked_sub(0xd800)?.checked_shl(10)?;
                    0x10000u32
                        .checked_add(high)?
                        .checked_add(low.checked_sub(0xdc00)?)?
                } else {
                    unit
                };
                return push_char(out, code);
            }
            b'U' => {
                let code = self.hex(8)?;
                return push_char(out, code);
            }
            _ => return None,
        };
        out.push(byte);
        Some(())
    }

    /// `digits` hex digits as a number.
    fn hex(&mut self, digits: usize) -> Option<u32> {
        let mut code: u32 = 0;
        for _ in 0..digits {
            let digit = char::from(self.bump()?).to_digit(16)?;
            code = code.checked_mul(16)?.checked_add(digit)?;
        }
        Some(code)
    }
}

/// Appends the UTF-8 encoding of `code`; a lone surrogate becomes U+FFFD, as in Go.
fn push_char(out: &mut Vec<u8>, code: u32) -> Option<()> {
    if code > 0x10ffff {
        return None;
    }
    let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    Some(())
}

/// An object key: strings as they are, anything else as its JSON text.
fn key_text(key: Value) -> String {
    match key {
        Value::String(text) => text,
        other => other.to_string(),
    }
}
