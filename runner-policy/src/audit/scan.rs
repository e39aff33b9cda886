//! Reading an audit log's line as an [`Event`] in one pass over its bytes, without a tree: the
//! objects stay parts of the line's text ([`Raw`]), and only the fields the rebuild reads are
//! taken out ([`Facts`]).
//!
//! The reader is strict: it takes a line only when `serde_json` reads it as a [`Value`] and
//! [`Event`] from that would be the same event. Whatever it does not take (a line that is not
//! an audit event or not JSON, a field of an unexpected type, and the JSON it leaves to
//! `serde_json`: surrogate escapes, exponents and very long numbers, deep nesting, repeated or
//! escaped keys) is read the slow way, as a `Value`, which says what is wrong with it.
//!
//! [`Value`]: serde_json::Value

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::event::{Event, Facts, ObjectRef, Raw, ResponseStatus, is_audit_api_version};

#[cfg(test)]
mod tests;

/// The audit event a log's line holds, or the line back when it holds something else or
/// something this reader leaves to `serde_json` (see the module's documentation).
///
/// # Errors
/// The line, as it was, when it is not read here.
pub fn read_line(line: Vec<u8>) -> Result<Event, Vec<u8>> {
    let line = Arc::new(String::from_utf8(line).map_err(std::string::FromUtf8Error::into_bytes)?);
    if let Some(event) = Scanner::new(&line).event() {
        return Ok(event);
    }
    // What was read of it went with the scanner: the line is this `Arc`'s alone again.
    Err(Arc::try_unwrap(line).map_or_else(|line| line.as_bytes().to_vec(), String::into_bytes))
}

/// Arrays and objects nested deeper than this are left to `serde_json` (which reads 127).
const MAX_DEPTH: usize = 100;

/// Objects of more keys than this are left to `serde_json` (each key is checked against the
/// others of its object, one by one).
const MAX_KEYS: usize = 256;

/// Numbers longer than this are left to `serde_json`, which reads one beyond `f64` as an error.
const MAX_NUMBER: usize = 300;

/// A position in one JSON text; `None` from any method means "not read here".
struct Scanner<'a> {
    source: &'a Arc<String>,
    bytes: &'a [u8],
    at: usize,
    depth: usize,
    /// The keys of the objects being read, innermost last.
    keys: Vec<&'a [u8]>,
}

/// What a string's key or value is: the text between its quotes, unescaped.
type Text<'a> = Cow<'a, str>;

impl<'a> Scanner<'a> {
    fn new(source: &'a Arc<String>) -> Self {
        Scanner {
            source,
            bytes: source.as_bytes(),
            at: 0,
            depth: 0,
            keys: Vec::new(),
        }
    }

    /// The event, when the whole text is one audit event.
    fn event(&mut self) -> Option<Event> {
        let mut event = Event::default();
        let (mut kind, mut api_version) = (None, None);
        self.object(|s, key| {
            match key {
                "kind" => kind = s.lenient_string()?,
                "apiVersion" => api_version = s.lenient_string()?,
                "auditID" => event.audit_id = s.string_or_null()?.unwrap_or_default(),
                "stage" => event.stage = s.string_or_null()?.unwrap_or_default(),
                "requestURI" => event.request_uri = s.string_or_null()?.unwrap_or_default(),
                "verb" => event.verb = s.string_or_null()?.unwrap_or_default(),
                "user" => event.user = s.raw()?,
                "impersonatedUser" => event.impersonated_user = s.raw()?,
                "objectRef" => event.object_ref = s.object_ref()?,
                "responseStatus" => event.response_status = s.response_status()?,
                "requestObject" => event.request_object = s.raw()?,
                "responseObject" => event.response_object = s.raw()?,
                "annotations" => event.annotations = s.annotations()?,
                _ => s.skip()?,
            }
            Some(())
        })?;
        self.space();
        let whole = self.at == self.bytes.len();
        let audit = kind.as_deref() == Some("Event")
            && api_version.as_deref().is_some_and(is_audit_api_version);
        (whole && audit).then_some(event)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Skips JSON whitespace.
    fn space(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.space();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// The object here, each key handed to `field` with the scanner at its value (which
    /// `field` must read).
    fn object(&mut self, mut field: impl FnMut(&mut Self, &str) -> Option<()>) -> Option<()> {
        self.expect(b'{')?;
        self.enter()?;
        let keys = self.keys.len();
        self.space();
        if self.peek()? == b'}' {
            self.at += 1;
        } else {
            loop {
                self.space();
                let key = self.key(keys)?;
                self.expect(b':')?;
                self.space();
                field(self, key)?;
                self.space();
                match self.peek()? {
                    b',' => self.at += 1,
                    b'}' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.keys.truncate(keys);
        self.depth -= 1;
        Some(())
    }

    /// The key here, of the object whose keys start at `keys` in [`Scanner::keys`]. A key seen
    /// before in the object is left to `serde_json`, whose tree keeps the last value: the
    /// module, given the text, would refuse it (and so would the API server's own decoder).
    /// An escaped key (which might be another key written differently) is left to it too.
    fn key(&mut self, keys: usize) -> Option<&'a str> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.at + 1;
        if self.skip_string()? {
            return None;
        }
        let key = self.bytes.get(start..self.at - 1)?;
        let seen = self.keys.get(keys..)?;
        if seen.len() >= MAX_KEYS || seen.contains(&key) {
            return None;
        }
        self.keys.push(key);
        self.source.get(start..self.at - 1)
    }

    /// The array here, each item handed to `item` with the scanner at it.
    fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.expect(b'[')?;
        self.enter()?;
        self.space();
        if self.peek()? == b']' {
            self.at += 1;
        } else {
            loop {
                self.space();
                item(self)?;
                self.space();
                match self.peek()? {
                    b',' => self.at += 1,
                    b']' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Any JSON value, checked and passed over. Most of a line is passed over: this and
    /// [`Scanner::skip_string`] do no more than checking takes.
    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.skip_string().map(drop),
            b'{' => self.object(|s, _| s.skip()),
            b'[' => self.array(Self::skip),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    /// Passes over the string here; whether it holds escapes.
    fn skip_string(&mut self) -> Option<bool> {
        self.at += 1;
        let mut escaped = false;
        loop {
            self.at = plain_run(self.bytes, self.at);
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    self.escape()?;
                }
                // A control character: JSON wants it escaped.
                _ => return None,
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// A number, as JSON writes them, without an exponent; its text.
    fn number(&mut self) -> Option<&'a str> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) || self.at - start > MAX_NUMBER {
            return None;
        }
        self.source.get(start..self.at)
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }

    /// The string here, unescaped.
    fn string(&mut self) -> Option<Text<'a>> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.at;
        let escaped = self.skip_string()?;
        let quoted = self.source.get(start..self.at)?;
        if escaped {
            // Rare (Go escapes `<`, `>` and `&`): the escapes were checked above.
            serde_json::from_str(quoted).ok().map(Cow::Owned)
        } else {
            quoted.get(1..quoted.len() - 1).map(Cow::Borrowed)
        }
    }

    /// An escape sequence, from its backslash. A surrogate (half of a character beyond the
    /// basic plane, or a lone one `serde_json` refuses) is left to `serde_json`.
    fn escape(&mut self) -> Option<()> {
        self.at += 1;
        match self.peek()? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 1,
            b'u' => {
                let hex = std::str::from_utf8(self.bytes.get(self.at + 1..self.at + 5)?).ok()?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                let code = u16::from_str_radix(hex, 16).ok()?;
                if (0xD800..=0xDFFF).contains(&code) {
                    return None;
                }
                self.at += 5;
            }
            _ => return None,
        }
        Some(())
    }

    /// A string, or `None` for any other value (checked and passed over).
    fn lenient_string(&mut self) -> Option<Option<String>> {
        if self.peek()? == b'"' {
            return self.string().map(|s| Some(s.into_owned()));
        }
        self.skip().map(|()| None)
    }

    /// A string or `null`; any other value is not read here (`serde` refuses it).
    fn string_or_null(&mut self) -> Option<Option<String>> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|()| None),
            _ => self.string().map(|s| Some(s.into_owned())),
        }
    }

    /// Whether the value here is `null` (checked and passed over).
    fn is_null(&mut self) -> Option<bool> {
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|()| true);
        }
        self.skip().map(|()| false)
    }

    /// A JSON value kept as its text, with its facts; `null` is `None`.
    fn raw(&mut self) -> Option<Option<Arc<Raw>>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|()| None);
        }
        let start = self.at;
        let facts = self.facts()?;
        Some(Some(Arc::new(Raw::part(
            Arc::clone(self.source),
            start..self.at,
            facts,
        ))))
    }

    /// The [`Facts`] of the value here.
    fn facts(&mut self) -> Option<Facts> {
        if self.peek()? != b'{' {
            return self.skip().map(|()| Facts::default());
        }
        let mut facts = Facts {
            object: true,
            ..Facts::default()
        };
        self.object(|s, key| {
            match key {
                "kind" => facts.kind = s.lenient_string()?,
                "apiVersion" => facts.api_version = s.lenient_string()?,
                "metadata" => {
                    let (mut name, mut generate_name, mut version, mut deleting) =
                        (None, None, None, false);
                    if s.peek()? == b'{' {
                        s.object(|s, key| {
                            match key {
                                "name" => name = s.lenient_string()?,
                                "generateName" => generate_name = s.lenient_string()?,
                                "resourceVersion" => version = s.lenient_string()?,
                                "deletionTimestamp" => deleting = !s.is_null()?,
                                _ => s.skip()?,
                            }
                            Some(())
                        })?;
                    } else {
                        s.skip()?;
                    }
                    facts.name = name;
                    facts.generate_name = generate_name;
                    facts.resource_version = version;
                    facts.deleting = deleting;
                }
                "dryRun" => {
                    let mut all = false;
                    if s.peek()? == b'[' {
                        s.array(|s| {
                            all |= s.lenient_string()?.as_deref() == Some("All");
                            Some(())
                        })?;
                    } else {
                        s.skip()?;
                    }
                    facts.dry_run_all = all;
                }
                "target" => {
                    let mut name = None;
                    if s.peek()? == b'{' {
                        s.object(|s, key| {
                            match key {
                                "name" => name = s.lenient_string()?,
                                _ => s.skip()?,
                            }
                            Some(())
                        })?;
                    } else {
                        s.skip()?;
                    }
                    facts.target_name = name;
                }
                "username" => facts.username = s.lenient_string()?,
                _ => s.skip()?,
            }
            Some(())
        })?;
        Some(facts)
    }

    /// `objectRef`: an object of strings (or `null`s), or `null`.
    fn object_ref(&mut self) -> Option<Option<ObjectRef>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|()| None);
        }
        let mut target = ObjectRef::default();
        self.object(|s, key| {
            let slot = match key {
                "resource" => &mut target.resource,
                "namespace" => &mut target.namespace,
                "name" => &mut target.name,
                "apiGroup" => &mut target.api_group,
                "apiVersion" => &mut target.api_version,
                "subresource" => &mut target.subresource,
                _ => return s.skip(),
            };
            *slot = s.string_or_null()?.unwrap_or_default();
            Some(())
        })?;
        Some(Some(target))
    }

    /// `responseStatus`: an object whose `code` is a small whole number (or `null`), or `null`.
    fn response_status(&mut self) -> Option<Option<ResponseStatus>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|()| None);
        }
        let mut status = ResponseStatus::default();
        self.object(|s, key| {
            if key != "code" {
                return s.skip();
            }
            status.code = if s.peek()? == b'n' {
                s.literal(b"null")?;
                0
            } else {
                // `serde` reads a `u16` from digits alone (no sign, fraction or exponent).
                let digits = s.number()?;
                digits
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| digits.parse().ok())??
            };
            Some(())
        })?;
        Some(Some(status))
    }

    /// `annotations`: an object of strings, or `null`.
    fn annotations(&mut self) -> Option<BTreeMap<String, String>> {
        let mut annotations = BTreeMap::new();
        if self.peek()? == b'n' {
            return self.literal(b"null").map(|()| annotations);
        }
        self.object(|s, key| {
            let value = s.string()?;
            annotations.insert(key.to_owned(), value.into_owned());
            Some(())
        })?;
        Some(annotations)
    }
}

/// The end of the run of bytes from `at` that a string holds as they are: up to a quote, a
/// backslash or a control character (or the end). Eight bytes at a time: most of a log's
/// bytes are in such runs.
#[inline]
fn plain_run(bytes: &[u8], mut at: usize) -> usize {
    // Sixteen bytes a round, as two words: the loop's own work is then a small part.
    while let Some(chunk) = bytes.get(at..at + 16) {
        let mut words = [0; 2];
        for (word, half) in words.iter_mut().zip(chunk.chunks_exact(8)) {
            *word = u64::from_le_bytes(half.try_into().unwrap_or([b'"'; 8]));
        }
        let (low, high) = (stops(words[0]), stops(words[1]));
        if low | high != 0 {
            let bit = if low != 0 {
                low.trailing_zeros()
            } else {
                64 + high.trailing_zeros()
            };
            return at + (bit / 8) as usize;
        }
        at += 16;
    }
    while let Some(&b) = bytes.get(at) {
        if b < 0x20 || b == b'"' || b == b'\\' {
            break;
        }
        at += 1;
    }
    at
}

/// The bytes of `word` (little-endian) that end a run of plain string bytes: a byte's high bit
/// is set when it is below 0x20, a quote or a backslash (bytes above such a byte may be
/// flagged falsely; the lowest flag is always right).
#[inline]
fn stops(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    (word.wrapping_sub(ONES * 0x20)
        | quote.wrapping_sub(ONES) & !quote
        | backslash.wrapping_sub(ONES) & !backslash)
        & !word
        & HIGHS
}
