//! The one pass: a cursor over the text that checks the JSON grammar as the model's readers
//! ([`crate::Slot`]) take their values from it, and as it skips the values no reader takes.

use crate::{
    Json, JsonError, Kind, MAX_DEPTH, Str, Syntax, same_bytes, same_long, splat, unescape, utf8,
    word,
};
use alloc::format;

/// Skips whitespace. Compact JSON (what the API server sends) has none, so the first test
/// decides almost always: every token starts with a byte above the space.
#[inline(always)]
pub(crate) fn ws(b: &[u8], i: usize) -> usize {
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

/// The offset in the word `w` of its first byte that a string scan must look at, if any.
#[inline(always)]
fn first_special(w: u64) -> Option<usize> {
    let s = special(w);
    (s != 0).then(|| (s.trailing_zeros() / 8) as usize)
}

/// The offset of the first byte at or after `j` that a string scan must look at (`"`, `\`
/// or a control character), a word at a time: most of a Kubernetes object is string bytes.
/// These are also the bytes a JSON writer must escape. Every string goes through it but those
/// the field loop and the skip settle by their first two words. The first four words are
/// tested before the loop, where most of the strings it is called for end (about 2,000
/// instructions fewer per evaluation of the dind pod than entering the loop at once); each
/// loop iteration (which also polls the host's time limit) covers two words.
#[inline(never)]
pub fn plain_run(b: &[u8], mut j: usize) -> usize {
    if let Some(chunk) = b.get(j..).and_then(<[u8]>::first_chunk::<32>)
        && let ([w0, w1, w2, w3], []) = chunk.as_chunks::<8>()
    {
        // Written out: a loop over the four took about 400 more instructions per evaluation.
        if let Some(at) = first_special(u64::from_le_bytes(*w0)) {
            return j + at;
        }
        if let Some(at) = first_special(u64::from_le_bytes(*w1)) {
            return j + 8 + at;
        }
        if let Some(at) = first_special(u64::from_le_bytes(*w2)) {
            return j + 16 + at;
        }
        if let Some(at) = first_special(u64::from_le_bytes(*w3)) {
            return j + 24 + at;
        }
        j += 32;
    }
    while let Some(found) = in_sixteen(b, j) {
        if let Some(at) = found {
            return j + at;
        }
        j += 16;
    }
    plain_tail(b, j)
}

/// The offset among the sixteen bytes at `j` of the first one a string scan must look at:
/// `Some(None)` if there is none, `None` if fewer than sixteen bytes are left.
#[inline(always)]
fn in_sixteen(b: &[u8], j: usize) -> Option<Option<usize>> {
    let both = u128::from_le_bytes(*b.get(j..)?.first_chunk::<16>()?);
    if let Some(at) = first_special(both as u64) {
        return Some(Some(at));
    }
    Some(first_special((both >> 64) as u64).map(|at| at + 8))
}

/// [`plain_run`] with its first sixteen bytes tested in place, where most strings end: a call
/// fewer for each string up to fifteen bytes long (a call costs about forty instructions before
/// its first compare). With one word in place, an evaluation of the dind pod took about 3,000
/// more instructions (1,800 without the deadline checks), in a module 580 bytes smaller.
#[inline(always)]
fn plain_run_here(b: &[u8], j: usize) -> usize {
    match in_sixteen(b, j) {
        Some(Some(at)) => j + at,
        Some(None) => plain_run(b, j + 16),
        None => plain_run(b, j),
    }
}

/// [`plain_run`] over the last bytes of a text, fewer than sixteen. Kept apart from the loop,
/// LLVM compiles the loop with fewer values to keep: about 1,600 fewer instructions per
/// evaluation of the dind pod, at the same size (binaryen puts this code back in place).
#[inline(never)]
fn plain_tail(b: &[u8], mut j: usize) -> usize {
    if let Some(w) = word(b, j) {
        if let Some(at) = first_special(w) {
            return j + at;
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

/// [`scan_string`]'s answer: the string has escapes.
pub(crate) const ESCAPED: u64 = 1 << 32;
/// [`scan_string`]'s answer: the string is not valid ([`string_error`] says why).
pub(crate) const FAILED: u64 = 1 << 33;

/// The string whose opening quote is at `i`: the offset just past its closing quote (the low 32
/// bits; texts are at most 4 GiB), with [`ESCAPED`] set if it has escapes, or [`FAILED`]: one
/// word, which stays in a register. Every string of a text, key or value, read or skipped, is
/// scanned by [`plain_run`], here or through [`string_end_here`].
#[inline(always)]
pub(crate) fn scan_string(b: &[u8], i: usize) -> u64 {
    string_from(b, plain_run(b, i + 1))
}

/// [`scan_string`] with the string's first sixteen bytes tested in place ([`plain_run_here`]):
/// for the keys the field loop does not know, most of which (`resources`, `imagePullPolicy`)
/// end there. About 1,100 fewer instructions per evaluation of the dind pod, 200 without the
/// deadline checks: a call less per key. (One word in place cost more than it saved; the same
/// for the keys of string maps saved 60 instructions for 260 bytes of module.)
#[inline(always)]
pub(crate) fn scan_string_here(b: &[u8], i: usize) -> u64 {
    string_from(b, plain_run_here(b, i + 1))
}

/// [`scan_string`] once the plain bytes of the string run up to `j`.
#[inline(always)]
fn string_from(b: &[u8], j: usize) -> u64 {
    if b.get(j) == Some(&b'"') {
        return (j + 1) as u64;
    }
    // An escape, a control character or the end of the text.
    scan_escaped(b, j)
}

/// [`string_end`] with the string's first sixteen bytes tested in place ([`plain_run_here`]):
/// for the field loop's string values and the skip, which read most strings.
#[inline(always)]
pub(crate) fn string_end_here(b: &[u8], i: usize) -> Result<(usize, bool), Syntax> {
    string_end_by(b, i, plain_run_here)
}

/// [`scan_string`] from `j`, a byte that is not a plain string byte.
#[inline(never)]
fn scan_escaped(b: &[u8], mut j: usize) -> u64 {
    loop {
        match b.get(j) {
            Some(b'"') => return (j + 1) as u64 | ESCAPED,
            Some(b'\\') => match b.get(j + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
                Some(b'u')
                    if b.get(j + 2..j + 6)
                        .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) =>
                {
                    j += 6;
                }
                _ => return FAILED,
            },
            _ => return FAILED,
        }
        // Escapes often come in runs (`\n\t` in the job pods' shell script): the scan runs
        // only when plain bytes follow, and the sixteen bytes after an escape, where the run
        // often ends (`\n` and the next line's indent), are tested in place.
        if b.get(j)
            .is_some_and(|&c| c != b'"' && c != b'\\' && c >= 0x20)
        {
            j = plain_run_here(b, j);
        }
    }
}

/// The string whose opening quote is at `i`: where it ends (past its closing quote), and
/// whether it has escapes.
#[inline(always)]
pub(crate) fn string_end(b: &[u8], i: usize) -> Result<(usize, bool), Syntax> {
    string_end_by(b, i, plain_run)
}

/// [`string_end`] with the plain bytes after the opening quote found by `run`.
#[inline(always)]
fn string_end_by(
    b: &[u8],
    i: usize,
    run: fn(&[u8], usize) -> usize,
) -> Result<(usize, bool), Syntax> {
    let found = string_from(b, run(b, i + 1));
    if found & FAILED != 0 {
        return Err(string_error(b, i));
    }
    Ok((found as u32 as usize, found & ESCAPED != 0))
}

/// Why the string whose opening quote is at `i` is not valid: the first thing wrong with it.
#[cold]
#[inline(never)]
fn string_error(b: &[u8], i: usize) -> Syntax {
    let mut j = i + 1;
    loop {
        j = plain_run(b, j);
        match b.get(j) {
            // Not here: the string is not valid, so something else comes first.
            Some(b'"') => return Syntax::at("unterminated string", i),
            Some(b'\\') => match b.get(j + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
                Some(b'u') => {
                    let hex = b.get(j + 2..j + 6).unwrap_or(&[]);
                    if hex.len() != 4 || !hex.iter().all(u8::is_ascii_hexdigit) {
                        return Syntax::at("invalid \\u escape", j);
                    }
                    j += 6;
                }
                _ => return Syntax::at("invalid escape", j),
            },
            Some(_) => return Syntax::at("control character in a string", j),
            None => return Syntax::at("unterminated string", i),
        }
    }
}

/// The literal `word` at `i`; returns where it ends. Compared as words: slice equality would
/// call `memcmp`, a byte loop in wasm.
#[inline(always)]
pub(crate) fn literal(b: &[u8], i: usize, word: &[u8]) -> Result<usize, Syntax> {
    let end = i + word.len();
    match b.get(i..end) {
        Some(text) if same_bytes(text, word) => Ok(end),
        _ => Err(Syntax::at("invalid literal", i)),
    }
}

/// The number at `i`; returns where it ends.
#[inline(always)]
fn number_end(b: &[u8], i: usize) -> Result<usize, Syntax> {
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
    Ok(j)
}

/// A key and its colon, the key's opening quote at `i`; returns where the value starts.
#[inline(always)]
fn key_end(b: &[u8], i: usize) -> Result<usize, Syntax> {
    if b.get(i) != Some(&b'"') {
        return Err(Syntax::at("expected a string key", i));
    }
    let i = ws(b, string_end(b, i)?.0);
    if b.get(i) != Some(&b':') {
        return Err(Syntax::at("expected `:`", i));
    }
    Ok(ws(b, i + 1))
}

/// The kind of the value that starts with `c`, if one can.
pub(crate) const fn kind_of(c: u8) -> Option<Kind> {
    match c {
        b'{' => Some(Kind::Object),
        b'[' => Some(Kind::Array),
        b'"' => Some(Kind::String),
        b't' | b'f' => Some(Kind::Bool),
        b'n' => Some(Kind::Null),
        b'-' | b'0'..=b'9' => Some(Kind::Number),
        _ => None,
    }
}

/// Open containers while skipping: bit `d` says whether the container at depth `d` (counted
/// from where the skip started) is an object. As deep as the depth limit, without the heap.
struct Nest([u64; MAX_DEPTH / 64]);

impl Nest {
    #[inline(always)]
    fn set(&mut self, at: usize, object: bool) {
        if let Some(w) = self.0.get_mut(at / 64) {
            let bit = 1u64 << (at % 64);
            *w = if object { *w | bit } else { *w & !bit };
        }
    }

    #[inline(always)]
    fn is_object(&self, at: usize) -> bool {
        self.0.get(at / 64).is_some_and(|w| w >> (at % 64) & 1 == 1)
    }
}

/// Checks the value at `i` against the grammar, nested in `depth` open containers; returns
/// where it ends. One loop with its own stack: no recursion, however deep the text.
#[inline(never)]
fn skip_value(b: &[u8], mut i: usize, depth: usize) -> Result<usize, Syntax> {
    let mut open = Nest([0; MAX_DEPTH / 64]);
    let mut len = 0usize;
    'value: loop {
        match b.get(i) {
            Some(b'"') => i = string_end_here(b, i)?.0,
            Some(&c @ (b'{' | b'[')) => {
                let object = c == b'{';
                let close = if object { b'}' } else { b']' };
                i = ws(b, i + 1);
                if b.get(i) == Some(&close) {
                    i += 1;
                } else {
                    if depth + len >= MAX_DEPTH {
                        return Err(Syntax::at("nested deeper than 256 levels", i));
                    }
                    open.set(len, object);
                    len += 1;
                    if object {
                        i = key_end(b, i)?;
                    }
                    continue 'value;
                }
            }
            Some(b't') => i = literal(b, i, b"true")?,
            Some(b'f') => i = literal(b, i, b"false")?,
            Some(b'n') => i = literal(b, i, b"null")?,
            Some(b'-' | b'0'..=b'9') => i = number_end(b, i)?,
            Some(_) => return Err(Syntax::at("expected a value", i)),
            None => return Err(Syntax::at("unexpected end of input", i)),
        }
        // After a value: close what it ends, until a comma starts the next one.
        loop {
            let Some(top) = len.checked_sub(1) else {
                return Ok(i);
            };
            i = ws(b, i);
            let object = open.is_object(top);
            match b.get(i) {
                Some(b',') => {
                    i = ws(b, i + 1);
                    if object {
                        i = key_end(b, i)?;
                    }
                    continue 'value;
                }
                Some(b'}') if object => {
                    len = top;
                    i += 1;
                }
                Some(b']') if !object => {
                    len = top;
                    i += 1;
                }
                Some(_) if object => return Err(Syntax::at("expected `,` or `}`", i)),
                Some(_) => return Err(Syntax::at("expected `,` or `]`", i)),
                None => return Err(Syntax::at("unexpected end of input", i)),
            }
        }
    }
}

/// Checks a whole document: UTF-8, at most 4 GiB, one JSON value, nothing after it.
///
/// # Errors
/// The first thing wrong with it, with the byte offset.
pub fn validate(bytes: &[u8]) -> Result<(), JsonError> {
    let mut r = Reader::new(bytes)?;
    r.skip()?;
    r.finish()
}

/// Where the reader is in a container it entered: before its first entry or item, or after one.
#[derive(Debug, Clone, Copy)]
pub struct Inside {
    pub(crate) first: bool,
}

/// [`Reader::compact_key`]'s answer.
pub(crate) enum Compact {
    /// The object ended; the cursor is past it.
    End,
    /// A key's opening quote is here.
    Quote(usize),
    /// Not compact JSON here: [`Reader::key`] reads on.
    Other,
}

/// A place in the text (see [`Reader::mark`]).
#[derive(Debug, Clone, Copy)]
pub struct Mark(usize);

/// An object key as it is written (between its quotes, escapes unresolved).
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) escaped: bool,
}

impl Key {
    /// Whether it has escapes (its bytes are then not its text).
    #[inline(always)]
    pub fn escaped(self) -> bool {
        self.escaped
    }
}

/// The cursor of the one pass over a text that has been checked for UTF-8: each value is
/// checked against the JSON grammar as it is read or skipped, so that a text read to its end
/// is JSON. Syntax errors carry the byte offset ([`JsonError::is_not_json`]); a value of the
/// wrong type is an error of the model, which the caller weighs against the rest of the text
/// (see [`validate`]).
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    text: &'a str,
    /// Where the next value (or separator) starts.
    pub(crate) at: usize,
    /// Non-empty containers open around the cursor: the depth limit counts them.
    pub(crate) depth: usize,
}

impl<'a> Reader<'a> {
    /// A reader of a whole document, its cursor on the document's value.
    ///
    /// # Errors
    /// Not UTF-8 (with the offset of the first bad byte), or larger than 4 GiB.
    pub fn new(bytes: &'a [u8]) -> Result<Self, JsonError> {
        let text = utf8(bytes).map_err(|e| JsonError::syntax("invalid UTF-8", e.valid_up_to()))?;
        if u32::try_from(text.len()).is_err() {
            return Err(JsonError::not_json("document larger than 4 GiB"));
        }
        Ok(Reader {
            text,
            at: ws(text.as_bytes(), 0),
            depth: 0,
        })
    }

    /// A reader of one value already checked (its text is the value, nothing around it).
    pub fn over(v: Json<'a>) -> Self {
        Reader {
            text: v.raw(),
            at: 0,
            depth: 0,
        }
    }

    #[inline(always)]
    pub(crate) fn b(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The first byte of the value at the cursor.
    #[inline(always)]
    pub fn peek(&self) -> Option<u8> {
        self.b().get(self.at).copied()
    }

    /// After the document's value, only whitespace may follow.
    ///
    /// # Errors
    /// Anything else.
    pub fn finish(&self) -> Result<(), JsonError> {
        let i = ws(self.b(), self.at);
        if i == self.text.len() {
            Ok(())
        } else {
            Err(Syntax::at("trailing characters after the document", i).into())
        }
    }

    /// The error for the value at the cursor, which is not `what`: a type error that names
    /// what it is, or the syntax error where no value starts.
    #[cold]
    #[inline(never)]
    pub fn unexpected(&self, what: &str) -> JsonError {
        match self.peek() {
            None => Syntax::at("unexpected end of input", self.at).into(),
            Some(c) => match kind_of(c) {
                Some(kind) => {
                    JsonError::new(format!("expected {what}, found {}", kind.article_name()))
                }
                None => Syntax::at("expected a value", self.at).into(),
            },
        }
    }

    /// Skips the value at the cursor, checking it.
    ///
    /// # Errors
    /// It is not JSON.
    #[inline(always)]
    pub fn skip(&mut self) -> Result<(), Syntax> {
        // Most values skipped are strings: without the call and the nesting stack.
        self.at = if self.peek() == Some(b'"') {
            string_end(self.b(), self.at)?.0
        } else {
            skip_value(self.b(), self.at, self.depth)?
        };
        Ok(())
    }

    /// The value at the cursor, checked and kept as text to be read later.
    ///
    /// # Errors
    /// It is not JSON.
    pub fn raw(&mut self) -> Result<Json<'a>, Syntax> {
        let start = self.mark();
        self.skip()?;
        Ok(self.since(start))
    }

    /// [`Reader::raw`] for a value that often repeats `known`: the text of an object that
    /// [`Reader::raw`] returned before, at the same depth of a document of the same shape (the
    /// settings a host sends with every request). When the text at the cursor starts with
    /// `known`, the value is that object, checked already: an object ends at its own closing
    /// brace, whatever follows it. Anything else is read and checked as by [`Reader::raw`].
    /// With the value, whether it was `known`.
    ///
    /// # Errors
    /// As [`Reader::raw`].
    pub fn raw_or_known(&mut self, known: &[u8]) -> Result<(Json<'a>, bool), Syntax> {
        let start = self.mark();
        let end = self.at.saturating_add(known.len());
        if known.first() == Some(&b'{')
            && self
                .b()
                .get(self.at..end)
                .is_some_and(|text| same_long(text, known))
        {
            self.at = end;
            return Ok((self.since(start), true));
        }
        Ok((self.raw()?, false))
    }

    /// Where the cursor is, to take the text of the value read from there ([`Reader::since`]).
    #[inline(always)]
    pub fn mark(&self) -> Mark {
        Mark(self.at)
    }

    /// The text read since `mark`: the value that started there, once it is read. Out of line:
    /// a copy of its checks in each reader of raw values cost 240 bytes.
    #[inline(never)]
    pub fn since(&self, mark: Mark) -> Json<'a> {
        Json::from_text(self.text.get(mark.0..self.at).unwrap_or("null"))
    }

    /// Reads the value at the cursor with `read`; a type error in it is returned beside the
    /// value's end, not through it, once the rest of the value is known to be JSON. For values
    /// whose type errors are reported after others (the dialect's request, the object).
    ///
    /// # Errors
    /// The value is not JSON.
    pub fn deferred<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<T, JsonError>,
    ) -> Result<Result<T, JsonError>, JsonError> {
        let (at, depth) = (self.at, self.depth);
        match read(self) {
            Ok(value) => Ok(Ok(value)),
            Err(e) if e.is_not_json() => Err(e),
            Err(e) => {
                // Only on the error path: the value is checked again from its start.
                self.at = at;
                self.depth = depth;
                self.skip()?;
                Ok(Err(e))
            }
        }
    }

    /// A `null` at the cursor, read if it is there.
    ///
    /// # Errors
    /// Something that starts like `null` and is not.
    #[inline(always)]
    pub fn null(&mut self) -> Result<bool, Syntax> {
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        self.at = literal(self.b(), self.at, b"null")?;
        Ok(true)
    }

    /// The string at the cursor; borrowed unless it has escapes. Its first two words are tested in
    /// place: most strings read this way (label values, list items) are short.
    ///
    /// # Errors
    /// Not a string, or not JSON.
    #[inline(always)]
    pub fn string(&mut self) -> Result<Str<'a>, JsonError> {
        let i = self.at;
        if self.peek() != Some(b'"') {
            return Err(self.unexpected("a string"));
        }
        let (end, escaped) = string_end_here(self.b(), i)?;
        self.at = end;
        Ok(self.text_of(Key {
            start: i + 1,
            end: end - 1,
            escaped,
        }))
    }

    /// The boolean at the cursor.
    ///
    /// # Errors
    /// Not a boolean, or not JSON.
    pub fn bool(&mut self) -> Result<bool, JsonError> {
        let (word, value): (&[u8], bool) = match self.peek() {
            Some(b't') => (b"true", true),
            Some(b'f') => (b"false", false),
            _ => return Err(self.unexpected("a boolean")),
        };
        self.at = literal(self.b(), self.at, word)?;
        Ok(value)
    }

    /// The integer at the cursor (no fraction or exponent; fits in i64).
    ///
    /// # Errors
    /// Not a number, not such an integer, or not JSON.
    pub fn i64(&mut self) -> Result<i64, JsonError> {
        let start = self.at;
        if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
            return Err(self.unexpected("an integer"));
        }
        self.at = number_end(self.b(), start)?;
        let text = self.text.get(start..self.at).unwrap_or("");
        text.parse()
            .map_err(|_| JsonError::new("expected an integer, found a number"))
    }

    /// Enters the container at the cursor if it opens with `open` (`{` or `[`): its entries
    /// follow through [`Reader::key`], its items through [`Reader::item`].
    ///
    /// # Errors
    /// It is not `what` (`an object` or `an array`), or not JSON.
    #[inline(always)]
    pub fn enter(&mut self, open: u8, what: &str) -> Result<Inside, JsonError> {
        if self.peek() != Some(open) {
            return Err(self.unexpected(what));
        }
        Ok(self.step_in())
    }

    /// Steps past the opening bracket at the cursor.
    #[inline(always)]
    pub(crate) fn step_in(&mut self) -> Inside {
        self.at += 1;
        Inside { first: true }
    }

    /// The next key of the object entered with `open`, the cursor then on its value; `None`
    /// past the object's end.
    ///
    /// # Errors
    /// Not JSON.
    #[inline(always)] // in the field loop: its state stays in registers
    pub fn key(&mut self, open: &mut Inside) -> Result<Option<Key>, Syntax> {
        let b = self.b();
        let mut i = ws(b, self.at);
        if open.first {
            open.first = false;
            if !self.first_inside(i, b'}')? {
                return Ok(None);
            }
        } else {
            match b.get(i) {
                Some(b',') => i = ws(b, i + 1),
                Some(b'}') => {
                    self.at = i + 1;
                    self.depth -= 1;
                    return Ok(None);
                }
                Some(_) => return Err(Syntax::at("expected `,` or `}`", i)),
                None => return Err(Syntax::at("unexpected end of input", i)),
            }
        }
        if b.get(i) != Some(&b'"') {
            return Err(Syntax::at("expected a string key", i));
        }
        let (end, escaped) = string_end(b, i)?;
        let j = ws(b, end);
        if b.get(j) != Some(&b':') {
            return Err(Syntax::at("expected `:`", j));
        }
        self.at = ws(b, j + 1);
        Ok(Some(Key {
            start: i + 1,
            end: end - 1,
            escaped,
        }))
    }

    /// The first look inside a container just entered, at `i`: `false` if `close` is there (the
    /// container is empty; the cursor goes past it), else one level deeper.
    #[inline(always)]
    fn first_inside(&mut self, i: usize, close: u8) -> Result<bool, Syntax> {
        if self.b().get(i) == Some(&close) {
            self.at = i + 1;
            return Ok(false);
        }
        if self.depth >= MAX_DEPTH {
            return Err(Syntax::at("nested deeper than 256 levels", i));
        }
        self.depth += 1;
        Ok(true)
    }

    /// The next key of the object entered with `open`, as compact JSON (what the API server
    /// sends) writes it: `,"key":`, or `"key":` first. Takes the object's end when `}` follows
    /// a value. Anything else is for [`Reader::key`].
    #[inline(always)]
    pub(crate) fn compact_key(&mut self, open: &Inside) -> Compact {
        let b = self.b();
        let at = self.at;
        let first = open.first;
        if !first && b.get(at) == Some(&b'}') {
            self.at = at + 1;
            self.depth -= 1;
            return Compact::End;
        }
        let quote = at + usize::from(!first);
        if (first || b.get(at) == Some(&b',')) && b.get(quote) == Some(&b'"') {
            // The first key opens a level, as `Reader::key` counts it.
            if !first || self.depth < MAX_DEPTH {
                return Compact::Quote(quote);
            }
        }
        Compact::Other
    }

    /// A key found through [`Reader::compact_key`] is taken: the cursor to its value at `value`.
    #[inline(always)]
    pub(crate) fn took_key(&mut self, open: &mut Inside, value: usize) {
        if open.first {
            open.first = false;
            self.depth += 1;
        }
        self.at = ws(self.b(), value);
    }

    /// [`Reader::key`] out of line, for the rare keys the field loop's fast path leaves.
    #[inline(never)]
    pub(crate) fn key_slow(&mut self, open: &mut Inside) -> Result<Option<Key>, Syntax> {
        self.key(open)
    }

    /// [`Reader::skip`] for a value that is not a string, out of line. `true` and `{}`, common
    /// among the fields no rule reads, are passed without the walk's set-up.
    #[inline(never)]
    pub(crate) fn skip_slow(&mut self) -> Result<(), Syntax> {
        let (b, i) = (self.b(), self.at);
        // As a word: an array pattern would compare through `memcmp`, a byte loop in wasm.
        let first = b.get(i..).and_then(<[u8]>::first_chunk::<4>).copied();
        self.at = match first.map(u32::from_le_bytes) {
            Some(w) if w == u32::from_le_bytes(*b"true") => i + 4,
            Some(w) if w & 0xffff == u32::from(u16::from_le_bytes(*b"{}")) => i + 2,
            _ => skip_value(b, i, self.depth)?,
        };
        Ok(())
    }

    /// Whether the array entered with `open` has another item, the cursor then on it.
    ///
    /// # Errors
    /// Not JSON.
    #[inline(always)]
    pub fn item(&mut self, open: &mut Inside) -> Result<bool, Syntax> {
        let b = self.b();
        let i = ws(b, self.at);
        if open.first {
            open.first = false;
            let more = self.first_inside(i, b']')?;
            if more {
                self.at = i;
            }
            return Ok(more);
        }
        match b.get(i) {
            Some(b',') => {
                self.at = ws(b, i + 1);
                Ok(true)
            }
            Some(b']') => {
                self.at = i + 1;
                self.depth -= 1;
                Ok(false)
            }
            Some(_) => Err(Syntax::at("expected `,` or `]`", i)),
            None => Err(Syntax::at("unexpected end of input", i)),
        }
    }

    /// A key's bytes as written: what key tables match (a key with escapes is unescaped first).
    #[inline(always)]
    pub fn key_bytes(&self, key: Key) -> &'a [u8] {
        self.b().get(key.start..key.end).unwrap_or_default()
    }

    /// A key's text, escapes resolved.
    #[inline(always)]
    pub fn text_of(&self, key: Key) -> Str<'a> {
        let inner = self.text.get(key.start..key.end).unwrap_or("");
        if key.escaped {
            Str::Owned(unescape(inner))
        } else {
            Str::Borrowed(inner)
        }
    }
}
