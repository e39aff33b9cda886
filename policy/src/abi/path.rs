//! `opa_value_add_path` / `opa_value_remove_path`: how hosts patch the data document.
//!
//! Error codes are OPA's. Unlike OPA's C library, every check happens before the first change,
//! so a failed call leaves the base value exactly as it was.

use super::mem::Addr;
use super::rego::MAX_DEPTH;
use super::tree::{Object, Tree};
use super::value::{self, Value};
use alloc::{string::String, vec::Vec};

/// `OPA_ERR_OK`: no error.
pub const OK: i32 = 0;
/// `OPA_ERR_INTERNAL`: a value address that holds no value.
pub const INTERNAL: i32 = 1;
/// `OPA_ERR_INVALID_TYPE`: the path runs through (or ends in) something that is not an object.
pub const INVALID_TYPE: i32 = 2;
/// `OPA_ERR_INVALID_PATH`: the path is not a non-empty array of strings.
pub const INVALID_PATH: i32 = 3;

/// The segments of a path value: a non-empty array of strings, no longer than the deepest
/// value the module accepts.
fn segments(path: Addr) -> Result<Vec<String>, i32> {
    let tree = value::load_value(path)
        .ok_or(INTERNAL)?
        .tree()
        .ok_or(INTERNAL)?;
    let Tree::Array(items) = tree.as_ref() else {
        return Err(INVALID_PATH);
    };
    if items.is_empty() || items.len() > MAX_DEPTH {
        return Err(INVALID_PATH);
    }
    // A plain loop: collecting into a `Result` is a separate adapter function at opt-level "z".
    let mut out = Vec::with_capacity(items.len());
    for item in items.iter() {
        let Tree::String(segment) = item else {
            return Err(INVALID_PATH);
        };
        out.push(segment.clone());
    }
    Ok(out)
}

/// How deeply `tree` nests (a scalar is 0), counting at most `limit` levels.
fn depth(tree: &Tree, limit: usize) -> usize {
    if limit == 0 {
        return 0;
    }
    let below = limit.saturating_sub(1);
    let children = match tree {
        Tree::Array(items) => items.iter().map(|item| depth(item, below)).max(),
        Tree::Object(map) => map.values().map(|item| depth(item, below)).max(),
        _ => return 0,
    };
    children.unwrap_or(0).saturating_add(1)
}

/// `int32 opa_value_add_path(base_value_addr, path_value_addr, value_addr)`: sets the value at
/// `path` inside the object `base`, creating missing objects on the way.
pub fn add(base: Addr, path: Addr, value: Addr) -> i32 {
    let segments = match segments(path) {
        Ok(segments) => segments,
        Err(code) => return code,
    };
    if base == value {
        return INTERNAL; // a value cannot contain itself
    }
    let Some(new) = value::load_value(value)
        .and_then(|v| v.tree())
        .map(|t| t.into_owned())
    else {
        return INTERNAL;
    };
    // The nesting limit holds for the patched document too.
    if depth(&new, MAX_DEPTH.saturating_add(1)).saturating_add(segments.len()) > MAX_DEPTH {
        return INVALID_PATH;
    }
    let Some(root) = value::load_value(base).and_then(Value::tree_mut) else {
        return INTERNAL;
    };
    // Check the whole path first: every existing step must be an object.
    let mut probe = Some(&*root);
    for segment in &segments {
        match probe {
            Some(Tree::Object(map)) => probe = map.get(segment),
            Some(_) => return INVALID_TYPE,
            None => break,
        }
    }
    let Some((last, parents)) = segments.split_last() else {
        return INVALID_PATH;
    };
    let mut current = root;
    for segment in parents {
        let Tree::Object(map) = current else {
            return INVALID_TYPE;
        };
        let Some(next) = map.entry(segment, || Tree::Object(Object::default())) else {
            return INTERNAL;
        };
        current = next;
    }
    let Tree::Object(map) = current else {
        return INVALID_TYPE;
    };
    map.insert(last, new);
    OK
}

/// `int32 opa_value_remove_path(base_value_addr, path_value_addr)`: removes the value at
/// `path` inside `base`. A path that leads nowhere counts as removed, as in OPA.
pub fn remove(base: Addr, path: Addr) -> i32 {
    let segments = match segments(path) {
        Ok(segments) => segments,
        Err(code) => return code,
    };
    let Some(root) = value::load_value(base).and_then(Value::tree_mut) else {
        return INTERNAL;
    };
    let Some((last, parents)) = segments.split_last() else {
        return INVALID_PATH;
    };
    let mut current = root;
    for segment in parents {
        match current {
            Tree::Object(map) => match map.get_mut(segment) {
                Some(next) => current = next,
                None => return OK,
            },
            _ => return INVALID_TYPE,
        }
    }
    match current {
        Tree::Object(map) => {
            map.remove(last);
            OK
        }
        _ => INVALID_TYPE,
    }
}
