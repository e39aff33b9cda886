//! A validated document and its values: the tape, read lazily.

use std::borrow::Cow;

use crate::{JsonError, Str, Tape, unescape, utf8};

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
pub(crate) struct Tok {
    /// Byte span of the value's text: `[start, end)`, quotes and brackets included.
    pub(crate) start: u32,
    pub(crate) end: u32,
    /// Tape index just past this value's subtree: the next sibling (or key).
    pub(crate) next: u32,
    pub(crate) kind: Kind,
    /// A string with a backslash (it must be unescaped to be read).
    pub(crate) escaped: bool,
    /// Items of an array or entries of an object (saturating): readers size their lists once.
    pub(crate) count: u16,
}

/// A validated document: its text and its tape.
#[derive(Debug)]
pub struct Doc<'a> {
    pub(crate) text: &'a str,
    pub(crate) tape: Vec<Tok>,
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
    pub(crate) fn tok(&self, at: u32) -> Tok {
        self.tape.get(at as usize).copied().unwrap_or_default()
    }

    /// The bytes of the string token `t` between its quotes, escapes unresolved.
    #[inline(always)]
    pub(crate) fn inner_bytes(&self, t: Tok) -> &'a [u8] {
        self.text
            .as_bytes()
            .get(t.start as usize + 1..(t.end as usize).saturating_sub(1))
            .unwrap_or_default()
    }

    /// The text of the string token at `at` between its quotes, escapes unresolved.
    #[inline(always)]
    pub(crate) fn inner(&self, t: Tok) -> &'a str {
        self.text
            .get(t.start as usize + 1..(t.end as usize).saturating_sub(1))
            .unwrap_or("")
    }
}

/// One validated JSON value: its place on its document's tape.
#[derive(Debug, Clone, Copy)]
pub struct Json<'a> {
    pub(crate) doc: &'a Doc<'a>,
    pub(crate) at: u32,
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
    pub(crate) fn children(self, kind: Kind) -> (u32, u32) {
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
        // One tape read, and the text sliced once: this runs for every string the model reads.
        let t = self.doc.tok(self.at);
        if t.kind != Kind::String {
            return None;
        }
        let inner = self.doc.inner(t);
        Some(if t.escaped {
            Cow::Owned(unescape(inner))
        } else {
            Cow::Borrowed(inner)
        })
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
    pub(crate) fn string(&'a self, t: Tok) -> Str<'a> {
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
    pub(crate) doc: &'a Doc<'a>,
    pub(crate) pos: u32,
    pub(crate) end: u32,
}

impl<'a> Entries<'a> {
    /// The next entry, its key still a token: the field reader matches keys on their text.
    #[inline(always)]
    pub(crate) fn next_entry(&mut self) -> Option<(Tok, Json<'a>)> {
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
    pub(crate) doc: &'a Doc<'a>,
    pub(crate) pos: u32,
    pub(crate) end: u32,
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
