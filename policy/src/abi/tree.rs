//! A parsed OPA value, and its JSON text.
//!
//! The module's own small tree instead of `serde_json::Value` (which brought serde_json and
//! float formatting into the module). It prints exactly as serde_json printed its `Value` with
//! `arbitrary_precision`: objects in key order without duplicates, numbers as their (normalised)
//! text, strings escaped as serde_json escapes them.

use crate::json_text::push_string;
use alloc::{borrow::ToOwned, string::String, vec::Vec};

/// A JSON value. Rego sets are arrays here, as `opa_json_dump` prints them.
#[derive(Debug, Clone)]
pub enum Tree {
    Null,
    Bool(bool),
    /// The number's text: never parsed, so no float code and no precision lost.
    Number(String),
    String(String),
    Array(Vec<Tree>),
    Object(Object),
}

/// A JSON object: entries sorted by key (byte order), keys unique.
#[derive(Debug, Clone, Default)]
pub struct Object {
    entries: Vec<(String, Tree)>,
}

impl Object {
    /// An object of `entries` in any order; of two equal keys the later one wins.
    pub fn from_entries(entries: Vec<(String, Tree)>) -> Self {
        let sorted = entries
            .windows(2)
            .all(|pair| matches!(pair, [(a, _), (b, _)] if a < b));
        if sorted {
            return Object { entries };
        }
        let key = |at: usize| entries.get(at).map_or("", |(key, _)| key.as_str());
        let order = crate::order::sorted_order(entries.len(), &key);
        let mut slots: Vec<Option<(String, Tree)>> = entries.into_iter().map(Some).collect();
        let mut unique: Vec<(String, Tree)> = Vec::with_capacity(slots.len());
        for at in order {
            let Some(entry) = slots.get_mut(at).and_then(Option::take) else {
                continue;
            };
            match unique.last_mut() {
                // The order is stable, so the later of two equal keys comes later here.
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => unique.push(entry),
            }
        }
        Object { entries: unique }
    }

    /// An object of `entries`, or `None` when two keys are equal.
    pub fn from_unique_entries(entries: Vec<(String, Tree)>) -> Option<Self> {
        let given = entries.len();
        let object = Self::from_entries(entries);
        (object.entries.len() == given).then_some(object)
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|(probe, _)| probe.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&Tree> {
        let at = self.find(key).ok()?;
        self.entries.get(at).map(|(_, value)| value)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Tree> {
        let at = self.find(key).ok()?;
        self.entries.get_mut(at).map(|(_, value)| value)
    }

    /// The value under `key`, inserting `make()` first if there is none.
    pub fn entry(&mut self, key: &str, make: impl FnOnce() -> Tree) -> Option<&mut Tree> {
        let at = match self.find(key) {
            Ok(at) => at,
            Err(at) => {
                self.entries.insert(at, (key.to_owned(), make()));
                at
            }
        };
        self.entries.get_mut(at).map(|(_, value)| value)
    }

    /// Sets `key` to `value`, replacing any value it had.
    pub fn insert(&mut self, key: &str, value: Tree) {
        if let Some(slot) = self.entry(key, || Tree::Null) {
            *slot = value;
        }
    }

    pub fn remove(&mut self, key: &str) {
        if let Ok(at) = self.find(key) {
            self.entries.remove(at);
        }
    }

    pub fn values(&self) -> impl Iterator<Item = &Tree> {
        self.entries.iter().map(|(_, value)| value)
    }
}

impl Tree {
    /// The JSON text of the tree, compact.
    pub fn text(&self) -> Vec<u8> {
        let mut out = String::new();
        self.write(&mut out);
        out.into_bytes()
    }

    fn write(&self, out: &mut String) {
        match self {
            Tree::Null => out.push_str("null"),
            Tree::Bool(true) => out.push_str("true"),
            Tree::Bool(false) => out.push_str("false"),
            Tree::Number(text) => out.push_str(text),
            Tree::String(text) => push_string(out, text),
            Tree::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Tree::Object(object) => {
                out.push('{');
                for (i, (key, value)) in object.entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_string(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}
