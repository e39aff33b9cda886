//! The result set an evaluation returns: `[{"result": X}]`.

use serde_json::Value;

use super::error::{HostError, HostResult};

/// `X` of a JSON result set `[{"result": X}]`.
///
/// # Errors
/// When `text` is not JSON or not a one-element result set.
pub fn result_of(text: &[u8]) -> HostResult<Value> {
    let set: Value = serde_json::from_slice(text).map_err(|source| HostError::NotAResultSet {
        what: format!(
            "the module returned invalid JSON: {}",
            String::from_utf8_lossy(text.get(..200).unwrap_or(text))
        ),
        source: Some(source),
    })?;
    match set {
        Value::Array(mut items) if items.len() == 1 => match items.pop() {
            Some(Value::Object(mut binding)) if binding.len() == 1 => {
                binding.remove("result").ok_or_else(|| {
                    HostError::not_a_result_set("the result set's element has no `result` key")
                })
            }
            other => Err(HostError::not_a_result_set(format!(
                "the result set's element is not {{\"result\": X}}: {other:?}"
            ))),
        },
        other => Err(HostError::not_a_result_set(format!(
            "expected a one-element result set [{{\"result\": X}}], got {}",
            truncate(&other.to_string(), 200)
        ))),
    }
}

pub(crate) fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}
