//! Checked JSON values kept as text, read by walking their text again: for what is read after
//! the one pass (settings, an object whose kind came after it, an UPDATE's old object), never
//! on the way of a CREATE.

use alloc::{borrow::Cow, format};

use crate::reader::kind_of;
use crate::{Inside, JsonError, Reader, Str, find_byte, unescape};

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

/// A checked document.
#[derive(Debug, Clone, Copy)]
pub struct Doc<'a> {
    root: Json<'a>,
}

impl<'a> Doc<'a> {
    /// Checks a whole document.
    ///
    /// # Errors
    /// Not UTF-8, not JSON (with the byte offset), nested deeper than 256, trailing text, or
    /// larger than 4 GiB.
    pub fn parse(bytes: &'a [u8]) -> Result<Doc<'a>, JsonError> {
        let mut r = Reader::new(bytes)?;
        let root = r.raw()?;
        r.finish()?;
        Ok(Doc { root })
    }

    /// The top-level value.
    pub fn root(&self) -> Json<'a> {
        self.root
    }
}

/// One checked JSON value: its text, nothing around it.
#[derive(Debug, Clone, Copy)]
pub struct Json<'a> {
    text: &'a str,
}

impl Default for Json<'_> {
    fn default() -> Self {
        Json { text: "null" }
    }
}

impl PartialEq for Json<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl<'a> Json<'a> {
    /// The value whose text is `text`, which the reader has checked.
    pub(crate) fn from_text(text: &'a str) -> Self {
        Json { text }
    }

    pub fn raw(self) -> &'a str {
        self.text
    }

    #[inline(always)] // also called from the size-optimised policy crate
    pub fn kind(self) -> Kind {
        self.text
            .as_bytes()
            .first()
            .and_then(|&c| kind_of(c))
            .unwrap_or_default()
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

    /// A reader whose cursor is on this value, entered when it opens with `open`.
    fn entered(self, open: u8) -> (Reader<'a>, Option<Inside>) {
        let mut r = Reader::over(self);
        let inside = (r.peek() == Some(open)).then(|| r.step_in());
        (r, inside)
    }

    /// The entries of an object (nothing for other kinds), keys unescaped.
    pub fn entries(self) -> Entries<'a> {
        let (r, inside) = self.entered(b'{');
        Entries { r, inside }
    }

    /// The items of an array (nothing for other kinds).
    pub fn items(self) -> Items<'a> {
        let (r, inside) = self.entered(b'[');
        Items { r, inside }
    }

    /// The value of the last entry with this key (later keys win, as in Go and serde_json).
    pub fn get(self, key: &str) -> Option<Json<'a>> {
        self.entries()
            .filter(|(k, _)| k == key)
            .last()
            .map(|(_, v)| v)
    }

    pub fn as_str(self) -> Option<Str<'a>> {
        if self.kind() != Kind::String {
            return None;
        }
        let inner = self.text.get(1..self.text.len().saturating_sub(1))?;
        Some(if find_byte(inner.as_bytes(), b'\\').is_some() {
            Cow::Owned(unescape(inner))
        } else {
            Cow::Borrowed(inner)
        })
    }

    pub fn as_bool(self) -> Option<bool> {
        match self.text {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// An integer value (no fraction or exponent) that fits in i64.
    pub fn as_i64(self) -> Option<i64> {
        if self.kind() == Kind::Number {
            self.text.parse().ok()
        } else {
            None
        }
    }
}

/// Iterator over `(key, value)` of an object.
pub struct Entries<'a> {
    r: Reader<'a>,
    /// `None` once the object's end is reached.
    inside: Option<Inside>,
}

impl<'a> Iterator for Entries<'a> {
    type Item = (Str<'a>, Json<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let inside = self.inside.as_mut()?;
        // The text is checked: an error here cannot happen, and ends the walk if it did.
        let entry = match self.r.key(inside) {
            Ok(Some(key)) => self.r.raw().ok().map(|v| (self.r.text_of(key), v)),
            _ => None,
        };
        if entry.is_none() {
            self.inside = None;
        }
        entry
    }
}

/// Iterator over the items of an array.
pub struct Items<'a> {
    r: Reader<'a>,
    /// `None` once the array's end is reached.
    inside: Option<Inside>,
}

impl<'a> Iterator for Items<'a> {
    type Item = Json<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let inside = self.inside.as_mut()?;
        let item = match self.r.item(inside) {
            Ok(true) => self.r.raw().ok(),
            _ => None,
        };
        if item.is_none() {
            self.inside = None;
        }
        item
    }
}
