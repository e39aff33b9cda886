//! Model building blocks for Kubernetes JSON: absent and `null` lists and maps are empty.

use super::json::{FromJson, Json, JsonError, Kind};
use std::borrow::Cow;

/// A string borrowed from the input when it has no escapes.
pub type Str<'a> = Cow<'a, str>;

/// A list that may be absent or `null` (Kubernetes omits and nulls empty lists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List<T>(pub Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<T> std::ops::Deref for List<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<'a, T: FromJson<'a>> FromJson<'a> for List<T> {
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        if v.is_null() {
            Ok(List::default())
        } else {
            Vec::from_json(v).map(List)
        }
    }
}

/// A string map kept as pairs in document order (labels, annotations, Secret data).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs<'a>(pub Vec<(Str<'a>, Str<'a>)>);

impl<'a> Pairs<'a> {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }
}

impl<'a> FromJson<'a> for Pairs<'a> {
    /// A duplicate key is an error: a label read twice must not mean two things.
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        if v.is_null() {
            return Ok(Pairs::default());
        }
        if v.kind() != Kind::Object {
            return Err(v.expected("a map of strings"));
        }
        let mut pairs = Vec::with_capacity(v.len_hint());
        for (key, value) in v.entries() {
            let value = Str::from_json(value).map_err(|e| e.at_key(&key))?;
            pairs.push((key, value));
        }
        if pairs.len() > 1 {
            let key = |at: usize| pairs.get(at).map_or("", |(k, _)| k.as_ref());
            let order = crate::order::sorted_order(pairs.len(), &key);
            let duplicate = order.windows(2).find_map(|w| match w {
                [a, b] if key(*a) == key(*b) => Some(key(*a)),
                _ => None,
            });
            if let Some(key) = duplicate {
                return Err(JsonError::new(format!("duplicate key `{key}`")));
            }
        }
        Ok(Pairs(pairs))
    }
}
