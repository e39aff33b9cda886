//! The written object: its group and kind, and the keys of its data maps.

use crate::cel::{any, first_of, get, lit};

use super::items::{Items, SUBJECT, requested_by};

/// A CREATE or UPDATE writing an object of this group and kind.
pub fn written(group: &str, kind: &str) -> String {
    format!(
        "(variables.isWrite && object != null && request.kind.group == {} && request.kind.kind == {})",
        lit(group),
        lit(kind)
    )
}

/// Whether the object's data maps hold a key that `wanted` (reading `x`) picks, and the
/// message part naming the first (`` `key` in field ``).
pub fn data_keys(wanted: &str) -> (String, String) {
    let branches: Vec<(String, String)> = ["data", "stringData", "binaryData"]
        .iter()
        .map(|f| {
            let keys = Items::new(get("object", f, "{}"), "x", wanted);
            (keys.exist(), format!("{} + '` in {f}'", keys.first()))
        })
        .collect();
    (
        any(branches.iter().map(|(cond, _)| cond)),
        first_of(&branches),
    )
}

/// The message of a data key found by [`data_keys`] (`which`): `<subject> (requested by <who>)
/// holds the <what> `<key>` in <field>`, then `rest`.
pub fn holds_key(what: &str, which: &str, rest: &str) -> String {
    format!(
        "{} + ') holds the {what} `' + {which} + {}",
        requested_by(SUBJECT),
        lit(rest)
    )
}
