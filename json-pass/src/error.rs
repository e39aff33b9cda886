//! Errors: where and why a text or a value cannot be read.

use alloc::{boxed::Box, format, string::String, vec::Vec};

/// Why a text or a value cannot be read: the text is not JSON (with the byte offset), or a
/// value does not have the model's type (with the path of the value inside the document).
/// Boxed: every read returns a `Result`, and a one-word error keeps the happy path's results
/// small (in wasm, large results travel through memory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(Box<ErrorInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct ErrorInner {
    pub(crate) message: String,
    /// Path segments, innermost first (they are added while the error travels outwards).
    pub(crate) path: Vec<String>,
    /// The text is not JSON: not an error of the model.
    pub(crate) not_json: bool,
}

impl JsonError {
    #[cold]
    pub fn new(message: impl Into<String>) -> Self {
        JsonError(Box::new(ErrorInner {
            message: message.into(),
            path: Vec::new(),
            not_json: false,
        }))
    }

    /// The text is not JSON.
    #[cold]
    pub fn not_json(message: impl Into<String>) -> Self {
        let mut e = Self::new(message);
        e.0.not_json = true;
        e
    }

    pub(crate) fn syntax(what: &str, offset: usize) -> Self {
        Self::not_json(format!("{what} at byte {offset}"))
    }

    /// Whether the text is not JSON (rather than a value not of the model's type).
    pub fn is_not_json(&self) -> bool {
        self.0.not_json
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

/// Where and why the text is not JSON: small, so that the reader's happy path returns little.
#[derive(Debug, Clone, Copy)]
pub struct Syntax {
    pub(crate) what: &'static str,
    pub(crate) offset: usize,
}

impl Syntax {
    #[cold]
    pub(crate) fn at(what: &'static str, offset: usize) -> Self {
        Syntax { what, offset }
    }
}

impl From<Syntax> for JsonError {
    fn from(e: Syntax) -> Self {
        JsonError::syntax(e.what, e.offset)
    }
}
