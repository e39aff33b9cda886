//! Whether a text is JSON, as Go's decoder (the API server's) reads it.

use policy::request::json::Doc;
use serde_json::Value;

use super::broken;

/// serde_json's recursion limit: deeper texts are JSON it cannot judge.
const SERDE_DEPTH: usize = 127;
/// Whether Go's `encoding/json` (the API server's decoder) reads `text` as JSON, told by
/// serde_json with two readings of Go's: a number too large for an f64 is still JSON, and a
/// surrogate escape that is not part of a pair reads as U+FFFD. `None` for texts nested deeper
/// than serde_json's recursion limit.
pub fn go_reads_json(text: &[u8]) -> Option<bool> {
    if nesting(text) > SERDE_DEPTH {
        return None;
    }
    let go_text = surrogates_replaced(text);
    Some(match serde_json::from_slice::<Value>(&go_text) {
        Ok(_) => true,
        // The f64 stopped the parse: the rest is checked by skipping values (which reads numbers
        // as syntax only, and strings without their UTF-8, checked apart).
        Err(e) if e.to_string().starts_with("number out of range") => {
            serde_json::from_slice::<serde::de::IgnoredAny>(&go_text).is_ok()
                && std::str::from_utf8(text).is_ok()
        }
        Err(_) => false,
    })
}

/// The policy's JSON reader accepts `text` exactly when Go's decoder does.
///
/// # Errors
/// When they disagree, saying which way.
pub fn json_readers_agree(text: &[u8]) -> Result<(), String> {
    let Some(theirs) = go_reads_json(text) else {
        return Ok(());
    };
    let ours = Doc::parse(text).is_ok();
    if ours == theirs {
        return Ok(());
    }
    let say = |yes: bool| if yes { "accepts" } else { "refuses" };
    Err(broken(
        &format!("the reader {} what Go's decoder {}", say(ours), say(theirs)),
        text,
    ))
}

/// The deepest nesting of `[` and `{` outside strings (an upper bound when the text is not JSON).
fn nesting(text: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for &b in text {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') | (false, _, b'"') => in_string = !in_string,
            (false, _, b'[' | b'{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (false, _, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// `text` with every `\uXXXX` escape of a surrogate written as `\uFFFD`, so that serde_json
/// reads what Go reads (a well-formed pair becomes two replacement characters, which changes no
/// verdict).
fn surrogates_replaced(text: &[u8]) -> Vec<u8> {
    let mut out = text.to_vec();
    let mut i = 0;
    while i < out.len() {
        if out[i] != b'\\' {
            i += 1;
            continue;
        }
        let code = out
            .get(i + 2..i + 6)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok());
        if out.get(i + 1) == Some(&b'u') && code.is_some_and(|c| (0xD800..0xE000).contains(&c)) {
            out[i + 2..i + 6].copy_from_slice(b"FFFD");
            i += 6;
        } else {
            i += 2;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{go_reads_json, nesting};

    #[test]
    fn nesting_counts_brackets_outside_strings() {
        assert_eq!(nesting(br#"[{"a": "[[[\"[["}]"#), 2);
        assert_eq!(nesting(b"[[[]]]"), 3);
        assert_eq!(nesting(b"{}"), 1);
        assert_eq!(nesting(b"\"[\""), 0);
    }

    #[test]
    fn go_readings_differ_from_serde_where_go_does() {
        assert_eq!(go_reads_json(b"1e400"), Some(true));
        assert_eq!(go_reads_json(br#""\udc00""#), Some(true));
        assert_eq!(go_reads_json(b"[1,]"), Some(false));
        assert_eq!(go_reads_json(&[b'['; 200]), None);
    }
}
