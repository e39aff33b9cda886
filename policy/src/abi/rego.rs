//! A parser for Rego value text (`opa_value_parse`, and inputs the OPA Go SDK sends).
//!
//! Rego value text is JSON plus: sets (`{1, 2}`, `set()`), non-string object keys, trailing
//! commas, Go-quoted strings (`\a \v \xHH \ooo \UXXXXXXXX` besides JSON's escapes) and
//! backquoted raw strings. The result is a [`Tree`]: sets become arrays and non-string keys
//! become their JSON text, as `opa_json_dump` prints them.
//!
//! The same parser reads JSON text strictly ([`parse_json`]), accepting and building exactly
//! what serde_json's `from_slice::<Value>` (with `arbitrary_precision`) did before it left the
//! module: numbers are normalised as it normalised them, lone surrogates are refused, and
//! nesting stops below 128 containers.
//!
//! Nesting is limited to [`MAX_DEPTH`]: the stack is 64 KiB and an overflow is a trap.

use super::tree::{Object, Tree as Value};
use alloc::{string::String, vec, vec::Vec};

/// The deepest nesting accepted (below the JSON limit, so the JSON text of any value this
/// parser returns can be parsed again).
pub const MAX_DEPTH: usize = 100;

/// Containers JSON text may nest (serde_json's recursion limit: 128 stops at the 128th).
const MAX_JSON_CONTAINERS: usize = 127;

/// Parses one Rego value, surrounded by optional whitespace; `None` if the text is not one.
pub fn parse(text: &[u8]) -> Option<Value> {
    Parser {
        text,
        pos: 0,
        json: false,
    }
    .document()
}

/// Parses JSON text (one value, surrounded by optional whitespace) strictly; `None` if it is
/// not JSON.
pub fn parse_json(text: &[u8]) -> Option<Value> {
    // serde_json refused invalid UTF-8 anywhere in a string; outside strings only ASCII is
    // accepted anyway.
    core::str::from_utf8(text).ok()?;
    Parser {
        text,
        pos: 0,
        json: true,
    }
    .document()
}

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    /// Strict JSON: no sets, non-string keys, trailing commas, raw strings or Go escapes.
    json: bool,
}

impl Parser<'_> {
    fn document(mut self) -> Option<Value> {
        let value = self.value(0)?;
        self.skip_ws();
        (self.pos == self.text.len()).then_some(value)
    }

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

    /// A value at nesting `depth`: in Rego text, values below the top level; in JSON text,
    /// containers around the value.
    fn value(&mut self, depth: usize) -> Option<Value> {
        self.skip_ws();
        let first = self.peek()?;
        let container = matches!(first, b'{' | b'[');
        if self.json {
            if container && depth >= MAX_JSON_CONTAINERS {
                return None;
            }
        } else if depth > MAX_DEPTH {
            return None;
        }
        let inner = if self.json && !container {
            depth
        } else {
            depth.saturating_add(1)
        };
        match first {
            b'{' => self.object_or_set(inner),
            b'[' => {
                self.bump();
                self.items(b']', inner).map(Value::Array)
            }
            b'"' => self.quoted().map(Value::String),
            b'`' if !self.json => self.raw().map(Value::String),
            b'-' | b'0'..=b'9' => self.number(),
            _ if self.eat(b"null") => Some(Value::Null),
            _ if self.eat(b"true") => Some(Value::Bool(true)),
            _ if self.eat(b"false") => Some(Value::Bool(false)),
            _ if !self.json && self.eat(b"set(") => {
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
            // JSON allows a closing bracket only first (an empty array), never after a comma.
            if self.peek()? == close && (!self.json || items.is_empty()) {
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
            return Some(Value::Object(Object::default()));
        }
        let first = self.key(depth)?;
        self.skip_ws();
        if self.peek()? != b':' && !self.json {
            // A set: the first element is parsed, the rest follow like array items.
            let mut items = vec![first];
            if self.separator(b'}')? {
                items.extend(self.items(b'}', depth)?);
            }
            return Some(Value::Array(items));
        }
        let mut entries = Vec::new();
        let mut key = first;
        loop {
            self.skip_ws();
            if self.bump()? != b':' {
                return None;
            }
            let value = self.value(depth)?;
            entries.push((key_text(key), value));
            if !self.separator(b'}')? {
                return self.object(entries);
            }
            self.skip_ws();
            if self.peek()? == b'}' && !self.json {
                self.bump();
                return self.object(entries);
            }
            key = self.key(depth)?;
        }
    }

    /// The object of `entries`. JSON keeps the later of two equal keys, as OPA's and Go's JSON
    /// readers do; Rego text with a key given twice is refused, since the rules refuse it in
    /// their own reader (no reader may see another value than the rules did).
    fn object(&self, entries: Vec<(String, Value)>) -> Option<Value> {
        if self.json {
            Some(Value::Object(Object::from_entries(entries)))
        } else {
            Object::from_unique_entries(entries).map(Value::Object)
        }
    }

    /// An object key (or a set's first element): any value in Rego text, a string in JSON.
    fn key(&mut self, depth: usize) -> Option<Value> {
        self.skip_ws();
        if self.json && self.peek()? != b'"' {
            return None;
        }
        self.value(depth)
    }

    /// A JSON number (Rego numbers are written as JSON numbers). A character that may
    /// continue a number but does not fit makes the text invalid (no separator could follow).
    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.bump();
        }
        number_text(self.text.get(start..self.pos)?).map(Value::Number)
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
                0x00..=0x1f if self.json => return None,
                byte => out.push(byte),
            }
        }
        Some(String::from_utf8(out).unwrap_or_else(|err| lossy(err.as_bytes())))
    }

    /// One escape sequence after the backslash, appended to `out`.
    fn escape(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let escape = self.bump()?;
        if self.json
            && !matches!(
                escape,
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' | b'u'
            )
        {
            return None;
        }
        let byte = match escape {
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
                } else if self.json && (0xd800..0xe000).contains(&unit) {
                    return None; // a lone surrogate is not a character
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

/// `bytes` as text, each invalid sequence replaced by U+FFFD exactly as
/// `String::from_utf8_lossy` replaces it (`Utf8Error` reports the same maximal invalid
/// sequences), without its 1 KB of wasm.
fn lossy(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match core::str::from_utf8(rest) {
            Ok(text) => {
                out.push_str(text);
                return out;
            }
            Err(err) => {
                let (valid, after) = rest.split_at_checked(err.valid_up_to()).unwrap_or_default();
                out.push_str(core::str::from_utf8(valid).unwrap_or_default());
                out.push(char::REPLACEMENT_CHARACTER);
                // No length: the text ends inside a sequence, which is one replacement.
                let Some(bad) = err.error_len() else {
                    return out;
                };
                rest = after.get(bad..).unwrap_or_default();
            }
        }
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
        other => String::from_utf8(other.text()).unwrap_or_default(),
    }
}

/// The text of a JSON number as serde_json (`arbitrary_precision`) kept it: as written, except
/// that the exponent is written `e` with an explicit sign; `None` if `text` is not exactly one
/// JSON number.
fn number_text(text: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(text.len().saturating_add(1));
    let mut rest = text;
    if let [b'-', tail @ ..] = rest {
        out.push('-');
        rest = tail;
    }
    // Integer part: `0` or a digit 1-9 followed by digits.
    let int_len = digits(rest);
    match rest {
        [b'0', ..] if int_len == 1 => {}
        [b'1'..=b'9', ..] => {}
        _ => return None,
    }
    let (int, tail) = rest.split_at_checked(int_len)?;
    push_ascii(&mut out, int);
    rest = tail;
    if let [b'.', tail @ ..] = rest {
        let frac_len = digits(tail);
        if frac_len == 0 {
            return None;
        }
        let (frac, tail) = tail.split_at_checked(frac_len)?;
        out.push('.');
        push_ascii(&mut out, frac);
        rest = tail;
    }
    if let [b'e' | b'E', tail @ ..] = rest {
        out.push('e');
        rest = match tail {
            [b'-', tail @ ..] => {
                out.push('-');
                tail
            }
            [b'+', tail @ ..] | tail => {
                out.push('+');
                tail
            }
        };
        let exp_len = digits(rest);
        if exp_len == 0 {
            return None;
        }
        let (exp, tail) = rest.split_at_checked(exp_len)?;
        push_ascii(&mut out, exp);
        rest = tail;
    }
    rest.is_empty().then_some(out)
}

/// How many ASCII digits `text` starts with.
fn digits(text: &[u8]) -> usize {
    text.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// Appends ASCII bytes (digits) to `out`.
fn push_ascii(out: &mut String, bytes: &[u8]) {
    out.extend(bytes.iter().map(|&b| char::from(b)));
}
