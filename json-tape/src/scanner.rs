//! The one validating pass over the text that records the tape.

use crate::{Kind, MAX_DEPTH, Syntax, Tok, splat, word};

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

/// Builds the tape while checking the text against the JSON grammar.
pub(crate) struct Tape<'b> {
    pub(crate) b: &'b [u8],
    pub(crate) tape: Vec<Tok>,
}

impl<'b> Tape<'b> {
    pub(crate) fn build(b: &'b [u8]) -> Result<Vec<Tok>, Syntax> {
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
    pub(crate) fn push(&mut self, kind: Kind, start: usize, end: usize, escaped: bool) {
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
    pub(crate) fn close(&mut self, slot: usize, end: usize, count: u32) {
        let next = self.tape.len() as u32;
        if let Some(tok) = self.tape.get_mut(slot) {
            tok.end = end as u32;
            tok.next = next;
            tok.count = u16::try_from(count).unwrap_or(u16::MAX);
        }
    }

    pub(crate) fn document(&mut self) -> Result<(), Syntax> {
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
    pub(crate) fn key(&mut self, i: usize) -> Result<usize, Syntax> {
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
    pub(crate) fn string(&mut self, i: usize) -> Result<usize, Syntax> {
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
    pub(crate) fn string_rest(&mut self, i: usize, mut j: usize) -> Result<usize, Syntax> {
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
    pub(crate) fn literal(&mut self, i: usize, word: &[u8]) -> Result<usize, Syntax> {
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
    pub(crate) fn number(&mut self, i: usize) -> Result<usize, Syntax> {
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
