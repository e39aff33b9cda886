//! A small JSON reader made for this policy: one pass validates the whole text and records every
//! value on a tape (its span and where its subtree ends), then values are read lazily from the
//! tape, straight into the request model.
//!
//! serde's derived deserialisers cost about 3 KB of wasm per struct and made the module 370 KB;
//! this reader and the model's `from_json!` impls do the same job in a fraction of that, and
//! faster: serde_json reading the dind job pod's model fields took 243,205 instructions in
//! wasmtime, against 220,113 for the module's whole evaluation (docs/performance.md). The tape
//! makes every later step O(1) per value: skipping a field no rule reads is one lookup, and no
//! byte is scanned twice.

// The policy crate's lint wall holds here too: this code runs inside the module, where a panic
// is a trap that crosses the ABI. Tests may relax it.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing, clippy::unreachable))]
#![cfg_attr(not(test), deny(clippy::todo, clippy::unimplemented))]
// One `unsafe` block, in `utf8`: text found to be ASCII is taken as UTF-8 without a second pass.
#![deny(unsafe_code)]
// Indices and lengths below are bounded by the input length (at most u32::MAX, checked in
// `Doc::parse`), so the additions cannot overflow; every byte read goes through `get`.
#![allow(clippy::arithmetic_side_effects)]

use std::borrow::Cow;

mod bytes;
pub use bytes::{find_byte, is_one_of, rfind_byte, same_bytes, strip_prefix};
use bytes::{splat, word};

/// A string read from the document: borrowed unless it had escapes.
pub type Str<'a> = Cow<'a, str>;

/// Nesting deeper than this is refused (serde_json refuses beyond 128).
const MAX_DEPTH: usize = 256;

/// Why a text or a value cannot be read, with the path of the value inside the document.
/// Boxed: every read returns a `Result`, and a one-word error keeps the happy path's results
/// small (in wasm, large results travel through memory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(Box<ErrorInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct ErrorInner {
    message: String,
    /// Path segments, innermost first (they are added while the error travels outwards).
    path: Vec<String>,
}

impl JsonError {
    #[cold]
    pub fn new(message: impl Into<String>) -> Self {
        JsonError(Box::new(ErrorInner {
            message: message.into(),
            path: Vec::new(),
        }))
    }

    fn syntax(what: &str, offset: usize) -> Self {
        Self::new(format!("{what} at byte {offset}"))
    }

    /// What is wrong, without the path.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Adds an object key to the path.
    pub fn at_key(mut self, key: &str) -> Self {
        self.0.path.push(format!(".{key}"));
        self
    }

    /// Adds an array index to the path.
    pub fn at_index(mut self, index: usize) -> Self {
        self.0.path.push(format!("[{index}]"));
        self
    }

    /// `prefix.path: message`.
    pub fn describe(&self, prefix: &str) -> String {
        let path: String = self.0.path.iter().rev().map(String::as_str).collect();
        format!("{prefix}{path}: {}", self.0.message)
    }
}

/// The JSON kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    #[default]
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    pub const fn article_name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::Array => "an array",
            Kind::Object => "an object",
        }
    }
}

/// One value (or object key) on the tape, in document order.
#[derive(Debug, Clone, Copy, Default)]
struct Tok {
    /// Byte span of the value's text: `[start, end)`, quotes and brackets included.
    start: u32,
    end: u32,
    /// Tape index just past this value's subtree: the next sibling (or key).
    next: u32,
    kind: Kind,
    /// A string with a backslash (it must be unescaped to be read).
    escaped: bool,
    /// Items of an array or entries of an object (saturating): readers size their lists once.
    count: u16,
}

/// A validated document: its text and its tape.
#[derive(Debug)]
pub struct Doc<'a> {
    text: &'a str,
    tape: Vec<Tok>,
}

impl<'a> Doc<'a> {
    /// Validates a whole document.
    ///
    /// # Errors
    /// Not UTF-8, not JSON (with the byte offset), nested deeper than 256, trailing text, or
    /// larger than 4 GiB.
    pub fn parse(bytes: &'a [u8]) -> Result<Doc<'a>, JsonError> {
        let text = utf8(bytes).map_err(|e| JsonError::syntax("invalid UTF-8", e.valid_up_to()))?;
        if u32::try_from(text.len()).is_err() {
            return Err(JsonError::new("document larger than 4 GiB"));
        }
        let tape = Tape::build(text.as_bytes())?;
        Ok(Doc { text, tape })
    }

    /// The top-level value.
    pub fn root(&self) -> Json<'_> {
        Json { doc: self, at: 0 }
    }

    #[inline(always)]
    fn tok(&self, at: u32) -> Tok {
        self.tape.get(at as usize).copied().unwrap_or_default()
    }

    /// The bytes of the string token `t` between its quotes, escapes unresolved.
    #[inline(always)]
    fn inner_bytes(&self, t: Tok) -> &'a [u8] {
        self.text
            .as_bytes()
            .get(t.start as usize + 1..(t.end as usize).saturating_sub(1))
            .unwrap_or_default()
    }

    /// The text of the string token at `at` between its quotes, escapes unresolved.
    #[inline(always)]
    fn inner(&self, t: Tok) -> &'a str {
        self.text
            .get(t.start as usize + 1..(t.end as usize).saturating_sub(1))
            .unwrap_or("")
    }
}

/// One validated JSON value: its place on its document's tape.
#[derive(Debug, Clone, Copy)]
pub struct Json<'a> {
    doc: &'a Doc<'a>,
    at: u32,
}

impl PartialEq for Json<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.raw() == other.raw()
    }
}

impl<'a> Json<'a> {
    pub fn raw(self) -> &'a str {
        let t = self.doc.tok(self.at);
        self.doc
            .text
            .get(t.start as usize..t.end as usize)
            .unwrap_or("")
    }

    #[inline(always)] // also called from the size-optimised policy crate
    pub fn kind(self) -> Kind {
        self.doc.tok(self.at).kind
    }

    /// How many items (array) or entries (object) it holds: exact below 65,535, a lower bound
    /// above; 0 for other kinds.
    pub fn len_hint(self) -> usize {
        usize::from(self.doc.tok(self.at).count)
    }

    #[inline(always)] // also called from the size-optimised policy crate
    pub fn is_null(self) -> bool {
        self.kind() == Kind::Null
    }

    /// An error saying this value is not what was expected.
    pub fn expected(self, what: &str) -> JsonError {
        JsonError::new(format!(
            "expected {what}, found {}",
            self.kind().article_name()
        ))
    }

    /// The tape range of this container's children (empty for other kinds).
    fn children(self, kind: Kind) -> (u32, u32) {
        if self.kind() == kind {
            (self.at + 1, self.doc.tok(self.at).next)
        } else {
            (0, 0)
        }
    }

    /// The entries of an object (nothing for other kinds), keys unescaped.
    pub fn entries(self) -> Entries<'a> {
        let (pos, end) = self.children(Kind::Object);
        Entries {
            doc: self.doc,
            pos,
            end,
        }
    }

    /// The items of an array (nothing for other kinds).
    pub fn items(self) -> Items<'a> {
        let (pos, end) = self.children(Kind::Array);
        Items {
            doc: self.doc,
            pos,
            end,
        }
    }

    /// The value of the last entry with this key (later keys win, as in Go and serde_json).
    pub fn get(self, key: &str) -> Option<Json<'a>> {
        self.entries()
            .filter(|(k, _)| k == key)
            .last()
            .map(|(_, v)| v)
    }

    pub fn as_str(self) -> Option<Str<'a>> {
        (self.kind() == Kind::String).then(|| self.doc.string(self.doc.tok(self.at)))
    }

    pub fn as_bool(self) -> Option<bool> {
        match self.raw() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// An integer value (no fraction or exponent) that fits in i64.
    pub fn as_i64(self) -> Option<i64> {
        if self.kind() == Kind::Number {
            self.raw().parse().ok()
        } else {
            None
        }
    }
}

impl<'a> Doc<'a> {
    /// The value of string token `t`: borrowed when it has no escapes.
    fn string(&'a self, t: Tok) -> Str<'a> {
        let inner = self.inner(t);
        if t.escaped {
            Cow::Owned(unescape(inner))
        } else {
            Cow::Borrowed(inner)
        }
    }
}

/// Iterator over `(key, value)` of an object.
pub struct Entries<'a> {
    doc: &'a Doc<'a>,
    pos: u32,
    end: u32,
}

impl<'a> Entries<'a> {
    /// The next entry, its key still a token: the field reader matches keys on their text.
    #[inline(always)]
    fn next_entry(&mut self) -> Option<(Tok, Json<'a>)> {
        if self.pos >= self.end {
            return None;
        }
        let key = self.doc.tok(self.pos);
        let at = self.pos + 1;
        self.pos = self.doc.tok(at).next.max(at + 1);
        Some((key, Json { doc: self.doc, at }))
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = (Str<'a>, Json<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let (key, value) = self.next_entry()?;
        Some((self.doc.string(key), value))
    }
}

/// Iterator over the items of an array.
pub struct Items<'a> {
    doc: &'a Doc<'a>,
    pos: u32,
    end: u32,
}

impl<'a> Iterator for Items<'a> {
    type Item = Json<'a>;

    #[inline(never)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.end {
            return None;
        }
        let at = self.pos;
        self.pos = self.doc.tok(at).next.max(at + 1);
        Some(Json { doc: self.doc, at })
    }
}

/// A string's inner text with its escapes resolved (the text is validated).
#[inline(never)]
fn unescape(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hi = hex4(&mut chars);
                let code = if (0xD800..0xDC00).contains(&hi) {
                    // A surrogate pair is two escapes; a lone half becomes U+FFFD.
                    let rest = chars.as_str();
                    if rest.starts_with("\\u") {
                        let mut look = rest.get(2..).unwrap_or("").chars();
                        let lo = hex4(&mut look);
                        if (0xDC00..0xE000).contains(&lo) {
                            chars = look;
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        } else {
                            0xFFFD
                        }
                    } else {
                        0xFFFD
                    }
                } else {
                    hi
                };
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other), // `"`, `\`, `/`
            None => {}
        }
    }
    out
}

fn hex4(chars: &mut std::str::Chars<'_>) -> u32 {
    let mut v = 0u32;
    for _ in 0..4 {
        v = (v << 4) | chars.next().and_then(|c| c.to_digit(16)).unwrap_or(0);
    }
    v
}

/// `bytes` as text. Kubernetes JSON is almost always ASCII (names, images, labels; other
/// characters are usually `\u` escapes), which one OR over the words settles; core's validator,
/// which reads four bytes at a time in wasm32, only sees texts with other bytes.
fn utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    let (words, tail) = bytes.as_chunks::<8>();
    let mut high = tail.iter().fold(0, |acc, &b| acc | u64::from(b));
    // Four words per step: fewer loop checks (each one also polls the host's time limit).
    let (quads, rest) = words.as_chunks::<4>();
    for [a, b, c, d] in quads {
        high |= u64::from_ne_bytes(*a)
            | u64::from_ne_bytes(*b)
            | u64::from_ne_bytes(*c)
            | u64::from_ne_bytes(*d);
    }
    for w in rest {
        high |= u64::from_ne_bytes(*w);
    }
    if high & splat(0x80) == 0 {
        // SAFETY: no byte has its high bit set, so every byte is an ASCII character on its
        // own, and a text of ASCII characters is valid UTF-8.
        #[allow(unsafe_code)]
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes)
}

/// Skips whitespace. Compact JSON (what the API server sends) has none, so the first test
/// decides almost always: every token starts with a byte above the space.
#[inline(always)]
fn ws(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(&c) if c > b' ' => i,
        _ => ws_run(b, i),
    }
}

/// Skips a run of whitespace; eight spaces (pretty-printed indentation) at a time.
#[inline(never)]
fn ws_run(b: &[u8], mut i: usize) -> usize {
    loop {
        match b.get(i) {
            Some(b' ') => {
                while let Some(chunk) = word(b, i) {
                    if chunk != splat(b' ') {
                        break;
                    }
                    i += 8;
                }
                i += usize::from(b.get(i) == Some(&b' '));
            }
            Some(b'\n' | b'\r' | b'\t') => i += 1,
            _ => return i,
        }
    }
}

/// The bytes of `w` that a string scan must look at (`"`, `\` or a control character), each
/// flagged by its high bit. The classic SWAR tests: the lowest flagged byte is exact (borrows
/// only flag bytes above it), so its position is the answer.
#[inline(always)]
fn special(w: u64) -> u64 {
    const ONES: u64 = splat(1);
    const HIGH: u64 = splat(0x80);
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    zero(w ^ splat(b'"')) | zero(w ^ splat(b'\\')) | (w.wrapping_sub(splat(0x20)) & !w & HIGH)
}

/// [`plain_run`] for the short runs most Kubernetes strings are: the first two words are
/// looked at without a loop (each loop iteration also polls the host's time limit), and only
/// a longer run falls back to the loop.
#[inline(always)]
fn short_run(b: &[u8], j: usize) -> usize {
    if let Some(w) = word(b, j) {
        let s = special(w);
        if s != 0 {
            return j + (s.trailing_zeros() / 8) as usize;
        }
        if let Some(w) = word(b, j + 8) {
            let s = special(w);
            if s != 0 {
                return j + 8 + (s.trailing_zeros() / 8) as usize;
            }
        }
    }
    plain_run(b, j)
}

/// The offset of the first byte at or after `j` that a string scan must look at (`"`, `\` or a
/// control character), eight bytes at a time: most of a Kubernetes object is string bytes. These
/// are also the bytes a JSON writer must escape.
#[inline]
pub fn plain_run(b: &[u8], mut j: usize) -> usize {
    while let Some(w) = word(b, j) {
        let s = special(w);
        if s != 0 {
            return j + (s.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while let Some(&c) = b.get(j) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        j += 1;
    }
    j
}

/// Where and why the text is not JSON: small, so that the scanner's happy path returns a word.
#[derive(Debug, Clone, Copy)]
struct Syntax {
    what: &'static str,
    offset: usize,
}

impl Syntax {
    #[cold]
    fn at(what: &'static str, offset: usize) -> Self {
        Syntax { what, offset }
    }
}

impl From<Syntax> for JsonError {
    fn from(e: Syntax) -> Self {
        JsonError::syntax(e.what, e.offset)
    }
}

/// Builds the tape while checking the text against the JSON grammar.
struct Tape<'b> {
    b: &'b [u8],
    tape: Vec<Tok>,
}

impl<'b> Tape<'b> {
    fn build(b: &'b [u8]) -> Result<Vec<Tok>, Syntax> {
        let mut t = Tape {
            b,
            // Kubernetes JSON has about one value or key per 10 bytes; a guess above that saves
            // regrowth (which, on a bump heap, leaves the old copy behind).
            tape: Vec::with_capacity(b.len() / 8 + 16),
        };
        t.document()?;
        Ok(t.tape)
    }

    #[inline(always)]
    fn push(&mut self, kind: Kind, start: usize, end: usize, escaped: bool) {
        let next = self.tape.len() as u32 + 1;
        self.tape.push(Tok {
            start: start as u32,
            end: end as u32,
            next,
            kind,
            escaped,
            count: 0,
        });
    }

    #[inline(always)] // one scanner loop without calls: results stay in registers
    fn close(&mut self, slot: usize, end: usize, count: u32) {
        let next = self.tape.len() as u32;
        if let Some(tok) = self.tape.get_mut(slot) {
            tok.end = end as u32;
            tok.next = next;
            tok.count = u16::try_from(count).unwrap_or(u16::MAX);
        }
    }

    fn document(&mut self) -> Result<(), Syntax> {
        let b = self.b;
        // Open containers: their kind, their slot on the tape and their values so far.
        let mut stack: Vec<(u8, usize, u32)> = Vec::new();
        let mut i = ws(b, 0);
        'value: loop {
            match b.get(i) {
                Some(&open @ (b'{' | b'[')) => {
                    let slot = self.tape.len();
                    let kind = if open == b'{' {
                        Kind::Object
                    } else {
                        Kind::Array
                    };
                    self.push(kind, i, i + 1, false);
                    let close = if open == b'{' { b'}' } else { b']' };
                    i = ws(b, i + 1);
                    if b.get(i) == Some(&close) {
                        i += 1;
                        self.close(slot, i, 0);
                    } else {
                        if stack.len() >= MAX_DEPTH {
                            return Err(Syntax::at("nested deeper than 256 levels", i));
                        }
                        stack.push((open, slot, 1));
                        if open == b'{' {
                            i = self.key(i)?;
                        }
                        continue 'value;
                    }
                }
                Some(b'"') => i = self.string(i)?,
                Some(b't') => i = self.literal(i, b"true")?,
                Some(b'f') => i = self.literal(i, b"false")?,
                Some(b'n') => i = self.literal(i, b"null")?,
                Some(b'-' | b'0'..=b'9') => i = self.number(i)?,
                Some(_) => return Err(Syntax::at("expected a value", i)),
                None => return Err(Syntax::at("unexpected end of input", i)),
            }
            loop {
                i = ws(b, i);
                let Some(&mut (open, slot, ref mut count)) = stack.last_mut() else {
                    return if i == b.len() {
                        Ok(())
                    } else {
                        Err(Syntax::at("trailing characters after the document", i))
                    };
                };
                let close = if open == b'{' { b'}' } else { b']' };
                match b.get(i) {
                    Some(b',') => {
                        *count += 1;
                        i = ws(b, i + 1);
                        if open == b'{' {
                            i = self.key(i)?;
                        }
                        continue 'value;
                    }
                    Some(&c) if c == close => {
                        let count = *count;
                        stack.pop();
                        i += 1;
                        self.close(slot, i, count);
                    }
                    Some(_) => {
                        let what = if open == b'{' {
                            "expected `,` or `}`"
                        } else {
                            "expected `,` or `]`"
                        };
                        return Err(Syntax::at(what, i));
                    }
                    None => return Err(Syntax::at("unexpected end of input", i)),
                }
            }
        }
    }

    /// A key and its colon; returns where the value starts.
    #[inline(always)] // one scanner loop without calls: results stay in registers
    fn key(&mut self, i: usize) -> Result<usize, Syntax> {
        let b = self.b;
        if b.get(i) != Some(&b'"') {
            return Err(Syntax::at("expected a string key", i));
        }
        let i = ws(b, self.string(i)?);
        if b.get(i) != Some(&b':') {
            return Err(Syntax::at("expected `:`", i));
        }
        Ok(ws(b, i + 1))
    }

    /// The string whose opening quote is at `i`; returns where it ends.
    #[inline(always)] // one scanner loop without calls: results stay in registers
    fn string(&mut self, i: usize) -> Result<usize, Syntax> {
        let j = short_run(self.b, i + 1);
        if self.b.get(j) == Some(&b'"') {
            self.push(Kind::String, i, j + 1, false);
            return Ok(j + 1);
        }
        self.string_rest(i, j)
    }

    /// The rest of a string that is long or has escapes, from `j`, the first byte of it a
    /// plain run did not cover.
    #[inline(never)]
    fn string_rest(&mut self, i: usize, mut j: usize) -> Result<usize, Syntax> {
        let b = self.b;
        let mut escaped = false;
        loop {
            j = plain_run(b, j);
            match b.get(j) {
                Some(b'"') => {
                    self.push(Kind::String, i, j + 1, escaped);
                    return Ok(j + 1);
                }
                Some(b'\\') => {
                    escaped = true;
                    match b.get(j + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
                        Some(b'u') => {
                            let hex = b.get(j + 2..j + 6).unwrap_or(&[]);
                            if hex.len() != 4 || !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(Syntax::at("invalid \\u escape", j));
                            }
                            j += 6;
                        }
                        _ => return Err(Syntax::at("invalid escape", j)),
                    }
                }
                Some(_) => return Err(Syntax::at("control character in a string", j)),
                None => return Err(Syntax::at("unterminated string", i)),
            }
        }
    }

    #[inline(always)] // one scanner loop without calls: results stay in registers
    fn literal(&mut self, i: usize, word: &[u8]) -> Result<usize, Syntax> {
        if self.b.get(i..i + word.len()) == Some(word) {
            let kind = if word == b"null" {
                Kind::Null
            } else {
                Kind::Bool
            };
            self.push(kind, i, i + word.len(), false);
            Ok(i + word.len())
        } else {
            Err(Syntax::at("invalid literal", i))
        }
    }

    #[inline(always)] // one scanner loop without calls: results stay in registers
    fn number(&mut self, i: usize) -> Result<usize, Syntax> {
        let b = self.b;
        let digits = |mut j: usize| {
            let start = j;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            (j, j > start)
        };
        let mut j = i;
        if b.get(j) == Some(&b'-') {
            j += 1;
        }
        match b.get(j) {
            Some(b'0') => j += 1,
            Some(b'1'..=b'9') => j = digits(j).0,
            _ => return Err(Syntax::at("invalid number", i)),
        }
        if b.get(j) == Some(&b'.') {
            let (end, any) = digits(j + 1);
            if !any {
                return Err(Syntax::at("invalid number", i));
            }
            j = end;
        }
        if let Some(b'e' | b'E') = b.get(j) {
            j += 1;
            if let Some(b'+' | b'-') = b.get(j) {
                j += 1;
            }
            let (end, any) = digits(j);
            if !any {
                return Err(Syntax::at("invalid number", i));
            }
            j = end;
        }
        self.push(Kind::Number, i, j, false);
        Ok(j)
    }
}

/// Reading a model type from a JSON value.
///
/// The conversions below are `inline(always)`: each is used by the one [`Slot`] of its type, so
/// inlining it there makes the module smaller as well as faster (measured: 5.5 KB).
pub trait FromJson<'a>: Sized {
    /// # Errors
    /// The value does not have the expected type (the error carries the path).
    fn from_json(v: Json<'a>) -> Result<Self, JsonError>;
}

impl<'a> FromJson<'a> for Json<'a> {
    #[inline(always)]
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        Ok(v)
    }
}

impl<'a> FromJson<'a> for Str<'a> {
    #[inline(always)]
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        v.as_str().ok_or_else(|| v.expected("a string"))
    }
}

impl<'a> FromJson<'a> for bool {
    #[inline(always)]
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        v.as_bool().ok_or_else(|| v.expected("a boolean"))
    }
}

impl<'a> FromJson<'a> for i64 {
    #[inline(always)]
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        v.as_i64().ok_or_else(|| v.expected("an integer"))
    }
}

impl<'a, T: FromJson<'a>> FromJson<'a> for Option<T> {
    #[inline(always)]
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        if v.is_null() {
            Ok(None)
        } else {
            T::from_json(v).map(Some)
        }
    }
}

impl<'a, T: FromJson<'a>> FromJson<'a> for Vec<T> {
    #[inline(always)]
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        if v.kind() != Kind::Array {
            return Err(v.expected("an array"));
        }
        let mut out = Vec::with_capacity(v.len_hint());
        for (i, item) in v.items().enumerate() {
            out.push(T::from_json(item).map_err(|e| e.at_index(i))?);
        }
        Ok(out)
    }
}

/// A field of a model struct, filled from its JSON value. Implemented once per field type, not
/// once per field: the struct readers that [`from_json!`] writes stay a few words per field.
pub trait Slot<'a> {
    /// # Errors
    /// The value does not have the field's type.
    fn fill(&mut self, v: Json<'a>) -> Result<(), JsonError>;
}

impl<'a, T: FromJson<'a>> Slot<'a> for T {
    #[inline(always)]
    fn fill(&mut self, v: Json<'a>) -> Result<(), JsonError> {
        // `read_fields` fills a slot once (a repeated key is an error), while it still holds its
        // `Default`, which owns no heap: not dropping it saves a call per field.
        std::mem::forget(std::mem::replace(self, T::from_json(v)?));
        Ok(())
    }
}

/// Reads the fields of an object: the value of `keys.names[i]` fills `slots[i]`. Absent and
/// `null` fields are left alone; unknown keys are skipped; a known key given twice is an error,
/// so that no reader of the same text can see a different value than the rules do. One shared
/// function (rather than code per struct) keeps the module small.
///
/// # Errors
/// Not an object, a duplicate key, or a value of the wrong type (with the key added to its path).
#[inline(never)]
pub fn read_fields<'a>(
    v: Json<'a>,
    keys: &Keys<'_>,
    slots: &mut [&mut dyn Slot<'a>],
) -> Result<(), JsonError> {
    if v.kind() != Kind::Object {
        return Err(v.expected("an object"));
    }
    let mut seen = 0u64;
    let mut entries = v.entries();
    while let Some((key_tok, value)) = entries.next_entry() {
        // Keys are matched on their text: only a key with escapes (rare) is unescaped first.
        let index = if key_tok.escaped {
            keys.find(unescape(v.doc.inner(key_tok)).as_bytes())
        } else {
            keys.find(v.doc.inner_bytes(key_tok))
        };
        let Some(index) = index else {
            continue;
        };
        let name = keys.names.get(index).copied().unwrap_or_default();
        // `Keys::build` holds at most 64 keys, so the bit exists.
        let bit = 1u64.checked_shl(index as u32).unwrap_or(0);
        if seen & bit != 0 {
            return Err(JsonError::new(format!("duplicate key `{name}`")));
        }
        seen |= bit;
        if let Some(slot) = slots.get_mut(index).filter(|_| !value.is_null()) {
            slot.fill(value).map_err(|e| e.at_key(name))?;
        }
    }
    Ok(())
}

/// The keys of a model struct, with a hash table built at compile time by [`from_json!`]: a
/// field lookup is one multiply and one table read, however many fields the struct has.
#[derive(Debug, Clone, Copy)]
pub struct Keys<'k> {
    pub names: &'k [&'k str],
    /// `signature` of each name.
    pub sigs: &'k [u32],
    /// The table: `slots[(sig * mult) >> shift]` is 1 + the index of the first key with that
    /// signature, or 0. No two different signatures share a slot.
    pub mult: u32,
    pub shift: u32,
    pub slots: &'k [u8],
}

impl<'k> Keys<'k> {
    /// The keys `names`, with their signatures and the table built over them.
    pub const fn new<const N: usize, const S: usize>(
        names: &'k [&'k str; N],
        sigs: &'k [u32; N],
        table: &'k KeyTable<S>,
    ) -> Self {
        Keys {
            names,
            sigs,
            mult: table.mult,
            shift: table.shift,
            slots: &table.slots,
        }
    }

    /// The index of the key `key`, if it is one of these.
    #[inline(always)]
    fn find(&self, key: &[u8]) -> Option<usize> {
        let sig = signature(key);
        let slot = sig
            .wrapping_mul(self.mult)
            .checked_shr(self.shift)
            .unwrap_or(0);
        let mut at = usize::from(*self.slots.get(slot as usize)?).checked_sub(1)?;
        loop {
            // A slot holds one signature: another one there means an unknown key.
            if self.sigs.get(at) != Some(&sig) {
                return None;
            }
            if same_bytes(self.names.get(at)?.as_bytes(), key) {
                return Some(at);
            }
            // Keys that share a signature (rare): the next one with it, if any.
            at = find_signature(self.sigs, at + 1, sig);
        }
    }
}

/// A key table of `S` slots (a power of two), built by [`KeyTable::build`].
#[derive(Debug, Clone, Copy)]
pub struct KeyTable<const S: usize> {
    pub mult: u32,
    pub shift: u32,
    pub slots: [u8; S],
}

/// Slots for `n` keys: two per key (rounded up to a power of two), where a multiplier that
/// spreads the keys without collisions is found at compile time within a few hundred tries
/// (four per key were no faster and 350 bytes larger).
pub const fn table_size(n: usize) -> usize {
    2 * n.next_power_of_two()
}

impl<const S: usize> KeyTable<S> {
    /// Finds a multiplier under which the signatures `sigs` fall into distinct slots (equal
    /// signatures share theirs). For `from_json!`'s const items: a failure is a compile error.
    #[allow(clippy::indexing_slicing, clippy::panic)] // evaluated at compile time
    pub const fn build<const N: usize>(sigs: &[u32; N]) -> Self {
        assert!(
            N <= 64,
            "a model struct reads at most 64 keys (one bit each)"
        );
        assert!(S.is_power_of_two() && S >= 2 && S <= 256);
        let shift = 32 - S.trailing_zeros();
        let mut mult: u32 = 0x9E37_79B9;
        let mut tries = 0;
        while tries < 100_000 {
            let mut slots = [0u8; S];
            let mut ok = true;
            let mut i = 0;
            while i < N {
                let h = (sigs[i].wrapping_mul(mult) >> shift) as usize;
                if slots[h] == 0 {
                    slots[h] = (i + 1) as u8;
                } else if sigs[slots[h] as usize - 1] != sigs[i] {
                    ok = false;
                    break;
                }
                i += 1;
            }
            if ok {
                return KeyTable { mult, shift, slots };
            }
            // The next odd multiplier of a simple sequence.
            mult = mult.wrapping_mul(0x0019_660D).wrapping_add(0x3C6E_F35F) | 1;
            tries += 1;
        }
        panic!("no collision-free key table found");
    }
}

/// The first index at or after `from` whose signature is `sig` (`sigs.len()` if none).
#[inline(never)]
fn find_signature(sigs: &[u32], from: usize, sig: u32) -> usize {
    let rest = sigs.get(from..).unwrap_or_default();
    from + rest.iter().position(|&s| s == sig).unwrap_or(rest.len())
}

/// A key's signature: its length, first and last byte. Model keys are short and distinct, so
/// two keys rarely share one; comparing signatures first makes a field lookup a scan of words.
#[inline]
pub const fn signature(key: &[u8]) -> u32 {
    match (key.first(), key.last()) {
        (Some(&first), Some(&last)) => {
            ((key.len() as u32) << 16) | ((first as u32) << 8) | last as u32
        }
        _ => 0,
    }
}

/// The signatures of `keys`, computed at compile time by [`from_json!`] (an index out of range
/// would be a compile error, not a panic).
#[allow(clippy::indexing_slicing)]
pub const fn signatures<const N: usize>(keys: &[&str; N]) -> [u32; N] {
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        out[i] = signature(keys[i].as_bytes());
        i += 1;
    }
    out
}

/// Implements [`FromJson`] for a model struct whose fields all have a `Default` (absent and
/// `null` fields take it), through [`read_fields`].
///
/// The struct is destructured without `..`, so every field must be given its JSON key here: a
/// field added to the struct but not to its key list is a compile error (E0027), not a field
/// that silently keeps its default and reads as "absent" to a rule.
///
/// ```
/// use json_tape::{Doc, FromJson, Str, from_json};
/// #[derive(Default)]
/// struct Meta<'a> { name: Option<Str<'a>>, namespace: Option<Str<'a>> }
/// from_json!(Meta<'a> { name: "name", namespace: "namespace" });
/// let doc = Doc::parse(br#"{"name": "a", "namespace": "b"}"#).unwrap();
/// let meta = Meta::from_json(doc.root()).unwrap();
/// assert_eq!(meta.namespace.as_deref(), Some("b"));
/// ```
///
/// The same struct with `namespace` left out of the key list does not compile:
///
/// ```compile_fail
/// use json_tape::{Doc, FromJson, Str, from_json};
/// #[derive(Default)]
/// struct Meta<'a> { name: Option<Str<'a>>, namespace: Option<Str<'a>> }
/// from_json!(Meta<'a> { name: "name" });
/// let doc = Doc::parse(br#"{"name": "a", "namespace": "b"}"#).unwrap();
/// let meta = Meta::from_json(doc.root()).unwrap();
/// assert_eq!(meta.namespace.as_deref(), Some("b"));
/// ```
#[macro_export]
macro_rules! from_json {
    ($name:ident $(<$lt:lifetime>)? { $($field:ident : $key:literal),* $(,)? }) => {
        impl<'a> $crate::FromJson<'a> for $name $(<$lt>)? {
            fn from_json(v: $crate::Json<'a>) -> Result<Self, $crate::JsonError> {
                const N: usize = [$($key),*].len();
                const KEYS: [&str; N] = [$($key),*];
                const SIGS: [u32; N] = $crate::signatures(&KEYS);
                const SIZE: usize = $crate::table_size(N);
                const TABLE: $crate::KeyTable<SIZE> = $crate::KeyTable::build(&SIGS);
                const FIELDS: $crate::Keys<'static> = $crate::Keys::new(&KEYS, &SIGS, &TABLE);
                let mut out = Self::default();
                let Self { $($field,)* } = &mut out;
                $crate::read_fields(v, &FIELDS, &mut [$($field as &mut dyn $crate::Slot<'a>),*])?;
                Ok(out)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::object(r#" {"a": [1, -2.5e3, true, false, null, "x\"y\u00e9"], "b": {}} "#)]
    #[case::empty_containers("[[], {}, [{}]]")]
    #[case::scalar("\"just a string\"")]
    #[case::zero("0")]
    fn valid_documents_parse(#[case] text: &str) {
        assert!(Doc::parse(text.as_bytes()).is_ok(), "{text}");
        // Agrees with serde_json.
        assert!(serde_json::from_str::<serde_json::Value>(text).is_ok());
    }

    #[rstest]
    #[case::truncated(r#"{"a": [1, 2"#)]
    #[case::trailing_comma("[1, 2,]")]
    #[case::trailing_text("{} x")]
    #[case::bare_word("{a: 1}")]
    #[case::leading_zero("01")]
    #[case::bad_escape(r#""\x41""#)]
    #[case::control_char("\"a\u{1}b\"")]
    #[case::empty("")]
    #[case::missing_colon(r#"{"a" 1}"#)]
    #[case::dot_number("1.")]
    #[case::plus("+1")]
    #[case::mismatched("[1}")]
    #[case::bad_literal("nul")]
    fn invalid_documents_fail(#[case] text: &str) {
        assert!(Doc::parse(text.as_bytes()).is_err(), "{text}");
        assert!(serde_json::from_str::<serde_json::Value>(text).is_err());
    }

    /// A key table over `names`, as `from_json!` builds one (with `N` known at compile time).
    fn find_all<const N: usize, const S: usize>(names: [&str; N], probes: &[&str]) {
        let sigs = signatures(&names);
        let table = KeyTable::<S>::build(&sigs);
        let keys = Keys::new(&names, &sigs, &table);
        for (i, name) in names.iter().enumerate() {
            assert_eq!(keys.find(name.as_bytes()), Some(i), "{name}");
        }
        for probe in probes {
            let want = names.iter().position(|n| n == probe);
            assert_eq!(keys.find(probe.as_bytes()), want, "{probe}");
        }
    }

    #[test]
    fn key_tables_find_every_key_and_nothing_else() {
        let unknown = [
            "",
            "x",
            "nam",
            "namE",
            "image ",
            "resources",
            "imagePullPolicy",
            "names",
        ];
        find_all::<1, { table_size(1) }>(["name"], &unknown);
        // A container's keys, as many as the largest model struct reads.
        find_all::<16, { table_size(16) }>(
            [
                "name",
                "image",
                "securityContext",
                "env",
                "envFrom",
                "volumeMounts",
                "ports",
                "lifecycle",
                "livenessProbe",
                "readinessProbe",
                "startupProbe",
                "command",
                "args",
                "workingDir",
                "stdin",
                "tty",
            ],
            &unknown,
        );
        // Shared signatures (length, first and last byte): all are told apart by their bytes.
        find_all::<4, { table_size(4) }>(["abc", "axc", "a-c", "abd"], &["aqc", "abc", "ab"]);
    }

    #[test]
    fn texts_are_checked_for_utf8_at_every_position() {
        // Lengths around the ASCII shortcut's 8- and 32-byte steps; a non-ASCII byte anywhere.
        for len in 0..80 {
            let ascii = vec![b'a'; len];
            assert_eq!(utf8(&ascii), Ok("a".repeat(len).as_str()));
            for at in 0..len {
                let mut bad = ascii.clone();
                bad[at] = 0xff;
                assert_eq!(
                    utf8(&bad).unwrap_err().valid_up_to(),
                    at,
                    "len {len}, at {at}"
                );
                let mut good = ascii.clone();
                good.splice(at..=at, "é".bytes());
                assert_eq!(utf8(&good).unwrap(), std::str::from_utf8(&good).unwrap());
            }
        }
    }

    /// Strings of every length around the scanner's two-word shortcut, with a byte that ends
    /// or breaks the plain run (quote, backslash escape, control character) at every position,
    /// as the last value of a document and followed by more: read as serde_json reads them.
    #[test]
    fn strings_of_every_length_read_as_serde_json_reads_them() {
        for len in 0..40 {
            for at in 0..=len {
                for special in ["\\\"", "\\n", "\\u00e9", "\\x", "\u{1}", "\""] {
                    let mut inner = "a".repeat(len);
                    inner.insert_str(at, special);
                    for text in [format!("\"{inner}\""), format!("[\"{inner}\", 1]")] {
                        let ours = Doc::parse(text.as_bytes());
                        let theirs = serde_json::from_str::<serde_json::Value>(&text);
                        assert_eq!(ours.is_ok(), theirs.is_ok(), "{text:?}");
                        let (Ok(doc), Ok(value)) = (ours, theirs) else {
                            continue;
                        };
                        let string = value.as_str().or_else(|| value[0].as_str());
                        let root = doc.root();
                        let first = root.items().next().unwrap_or(root);
                        assert_eq!(first.as_str().as_deref(), string, "{text:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let deep = "[".repeat(100_000);
        assert!(
            Doc::parse(deep.as_bytes())
                .unwrap_err()
                .message()
                .contains("nested deeper")
        );
        let ok = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(Doc::parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn values_are_read_lazily() {
        let doc = Doc::parse(
            br#"{"k": "v", "n": 42, "list": [1, {"x": "\u0041\ud83d\ude00"}], "k": "later"}"#,
        )
        .unwrap();
        let doc = doc.root();
        assert_eq!(doc.get("k").unwrap().as_str().unwrap(), "later");
        assert_eq!(doc.get("n").unwrap().as_i64(), Some(42));
        let items: Vec<_> = doc.get("list").unwrap().items().collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].get("x").unwrap().as_str().unwrap(), "A\u{1F600}");
        assert!(matches!(
            doc.get("k").unwrap().as_str().unwrap(),
            Cow::Borrowed(_)
        ));
        assert_eq!(doc.entries().count(), 4);
    }

    #[derive(Debug, Default)]
    struct Twins<'a> {
        one: Option<Str<'a>>,
        two: Option<Str<'a>>,
    }
    crate::from_json!(Twins<'a> { one: "abc", two: "axc" });

    #[test]
    fn keys_with_one_signature_are_told_apart() {
        assert_eq!(signature(b"abc"), signature(b"axc"));
        let doc = Doc::parse(br#"{"axc": "2", "abq": "x", "abc": "1"}"#).unwrap();
        let twins = Twins::from_json(doc.root()).unwrap();
        assert_eq!(
            (twins.one.as_deref(), twins.two.as_deref()),
            (Some("1"), Some("2"))
        );
        let doc = Doc::parse(br#"{"abc": "1", "axc": "2", "abc": "3"}"#).unwrap();
        assert!(
            Twins::from_json(doc.root()).is_err(),
            "a duplicate key is refused"
        );
    }

    #[rstest]
    #[case::escaped_key_fills_its_field(r#"{"a\u0062c": "1"}"#, Ok((Some("1"), None)))]
    #[case::escaped_value(r#"{"axc": "\u0032"}"#, Ok((None, Some("2"))))]
    #[case::escaped_twin_of_a_key_is_a_duplicate(r#"{"abc": "1", "\u0061bc": "2"}"#, Err(()))]
    #[case::wrong_type_names_the_key(r#"{"abc": 1}"#, Err(()))]
    fn fields_are_read_by_their_unescaped_key(
        #[case] text: &str,
        #[case] expected: Result<(Option<&str>, Option<&str>), ()>,
    ) {
        let doc = Doc::parse(text.as_bytes()).unwrap();
        let read = Twins::from_json(doc.root());
        match expected {
            Ok(fields) => {
                let twins = read.unwrap();
                assert_eq!((twins.one.as_deref(), twins.two.as_deref()), fields);
            }
            Err(()) => assert!(read.is_err(), "{text}"),
        }
    }

    #[test]
    fn a_field_error_carries_the_key() {
        let doc = Doc::parse(br#"{"abc": 1}"#).unwrap();
        let e = Twins::from_json(doc.root()).unwrap_err().describe("x");
        assert!(e.contains("x.abc"), "{e}");
    }

    #[rstest]
    #[case::empty_array("[]", 0)]
    #[case::empty_object("{}", 0)]
    #[case::array("[1, [2, 3], {}]", 3)]
    #[case::object(r#"{"a": [1, 2], "b": {"c": 1}}"#, 2)]
    #[case::scalar("\"s\"", 0)]
    fn containers_know_their_size(#[case] text: &str, #[case] len: usize) {
        let doc = Doc::parse(text.as_bytes()).unwrap();
        let root = doc.root();
        assert_eq!(root.len_hint(), len);
        assert_eq!(
            root.len_hint(),
            root.items().count().max(root.entries().count())
        );
    }

    #[test]
    fn errors_carry_the_path() {
        let doc = Doc::parse(br#"{"xs": ["a", 1]}"#).unwrap();
        let doc = doc.root();
        let err = Vec::<Str>::from_json(doc.get("xs").unwrap())
            .unwrap_err()
            .at_key("xs");
        assert_eq!(
            err.describe("input"),
            "input.xs[1]: expected a string, found a number"
        );
    }
}
