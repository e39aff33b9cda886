//! The same JSON document written the other ways an API client may write it.

use std::collections::BTreeSet;

use policy::request::json::{Doc, Json, Kind};
use serde_json::Value;

use runner_policy::decision::Decision;

use super::broken;

/// Each rewriting of `text` (see [`rewritings`]) must get the verdict of `decision` from `judge`.
pub(super) fn rewritings_agree(
    text: &[u8],
    decision: &Decision,
    judge: impl Fn(&[u8]) -> Result<Decision, String>,
) -> Result<(), String> {
    for (how, rewritten) in rewritings(text) {
        let (judged, expected) = (judge(&rewritten)?, verdict(decision));
        if verdict(&judged) != expected {
            return Err(broken(
                &format!(
                    "the same document written {how} is judged otherwise: {:?} against {expected:?}",
                    verdict(&judged)
                ),
                text,
            ));
        }
    }
    Ok(())
}

/// What a rewriting must keep: allowed or not, and each violation's rule and path.
fn verdict(decision: &Decision) -> (bool, Vec<(&str, &str)>) {
    let mut found: Vec<(&str, &str)> = decision
        .violations
        .iter()
        .map(|v| (v.rule.as_str(), v.path.as_str()))
        .collect();
    found.sort_unstable();
    (decision.allowed, found)
}

/// The same JSON document written the other ways an API client may write it: compact, indented,
/// every object's keys in reverse order, every character of every string and key escaped as
/// `\uXXXX`. Numbers keep their text. None for a text the policy's reader refuses, or with a
/// duplicate key (judged as written: see `valid-request`).
pub fn rewritings(input: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let Ok(doc) = Doc::parse(input) else {
        return Vec::new();
    };
    if has_duplicate_keys(doc.root()) {
        return Vec::new();
    }
    [
        ("compact", Spelling::default()),
        (
            "indented",
            Spelling {
                indent: true,
                ..Spelling::default()
            },
        ),
        (
            "with its keys reversed",
            Spelling {
                reverse_keys: true,
                ..Spelling::default()
            },
        ),
        (
            "with every character escaped",
            Spelling {
                escape_all: true,
                ..Spelling::default()
            },
        ),
    ]
    .into_iter()
    .map(|(how, spelling)| {
        let mut out = Vec::new();
        spelling.write(doc.root(), 0, &mut out);
        (how, out)
    })
    .collect()
}

/// Whether some object below `v` repeats a key (after unescaping).
fn has_duplicate_keys(v: Json<'_>) -> bool {
    match v.kind() {
        Kind::Object => {
            let mut keys = BTreeSet::new();
            v.entries()
                .any(|(k, child)| !keys.insert(k.into_owned()) || has_duplicate_keys(child))
        }
        Kind::Array => v.items().any(has_duplicate_keys),
        _ => false,
    }
}

/// One way of writing a JSON document.
#[derive(Debug, Clone, Copy, Default)]
struct Spelling {
    indent: bool,
    reverse_keys: bool,
    escape_all: bool,
}

impl Spelling {
    fn write(self, v: Json<'_>, depth: usize, out: &mut Vec<u8>) {
        match v.kind() {
            Kind::Object => {
                let mut entries: Vec<_> = v.entries().collect();
                if self.reverse_keys {
                    entries.reverse();
                }
                out.push(b'{');
                let any = !entries.is_empty();
                for (i, (key, child)) in entries.into_iter().enumerate() {
                    self.separate(i, depth + 1, out);
                    self.string(&key, out);
                    out.extend_from_slice(if self.indent { b": " } else { b":" });
                    self.write(child, depth + 1, out);
                }
                self.close(any, depth, b'}', out);
            }
            Kind::Array => {
                out.push(b'[');
                let mut any = false;
                for (i, item) in v.items().enumerate() {
                    self.separate(i, depth + 1, out);
                    self.write(item, depth + 1, out);
                    any = true;
                }
                self.close(any, depth, b']', out);
            }
            Kind::String => self.string(&v.as_str().unwrap_or_default(), out),
            // Numbers, booleans and null keep their text.
            _ => out.extend_from_slice(v.raw().as_bytes()),
        }
    }

    fn separate(self, i: usize, depth: usize, out: &mut Vec<u8>) {
        if i > 0 {
            out.push(b',');
        }
        self.newline(depth, out);
    }

    fn close(self, any: bool, depth: usize, bracket: u8, out: &mut Vec<u8>) {
        if any {
            self.newline(depth, out);
        }
        out.push(bracket);
    }

    fn newline(self, depth: usize, out: &mut Vec<u8>) {
        if self.indent {
            out.push(b'\n');
            out.extend(std::iter::repeat_n(b' ', 2 * depth));
        }
    }

    fn string(self, text: &str, out: &mut Vec<u8>) {
        if !self.escape_all {
            out.extend(Value::from(text).to_string().into_bytes());
            return;
        }
        out.push(b'"');
        for unit in text.encode_utf16() {
            out.extend(format!("\\u{unit:04x}").into_bytes());
        }
        out.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::rewritings;

    #[test]
    fn rewritings_spell_the_same_document() {
        let text = r#"{"a": ["é", 1, {"b": null}], "c": "x\"y"}"#.as_bytes();
        let original: Value = serde_json::from_slice(text).unwrap();
        let all = rewritings(text);
        assert_eq!(all.len(), 4);
        for (how, rewritten) in &all {
            let value: Value = serde_json::from_slice(rewritten).unwrap();
            assert_eq!(value, original, "{how}");
        }
        let escaped = &all[3].1;
        assert!(
            escaped.starts_with(br#"{"\u0061":["\u00e9""#),
            "{escaped:?}"
        );
        assert!(rewritings(br#"{"a": 1, "a": 2}"#).is_empty());
        assert!(rewritings(br#"{"a": 1, "b": {"c": 1, "c": 1}}"#).is_empty());
        assert!(rewritings(b"[1,").is_empty());
    }
}
