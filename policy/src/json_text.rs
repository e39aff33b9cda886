//! JSON text out: string literals escaped as serde_json escapes them. Shared by the decision,
//! the dialects and the ABI's value dumps, so it depends on nothing but the reader's scan.

use crate::request::json::plain_run;
use alloc::string::String;

/// Appends `text` as a JSON string literal.
#[inline(never)]
pub fn push_string(out: &mut String, text: &str) {
    out.push('"');
    push_escaped(out, text);
    out.push('"');
}

/// Appends `text` escaped for the inside of a JSON string literal, as serde_json escapes it: `"`
/// and `\\`, the short forms `\b \t \n \f \r`, `\u00xx` for the other control characters, and
/// everything else (DEL and non-ASCII too) as it is.
#[inline(never)]
pub fn push_escaped(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    loop {
        // The reader's scan finds the next byte to escape eight bytes at a time; `i` is at an
        // ASCII byte (or the end), so both ends of the run are character boundaries.
        let i = plain_run(bytes, start);
        out.push_str(text.get(start..i).unwrap_or_default());
        let Some(&byte) = bytes.get(i) else {
            return;
        };
        let short = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            _ => "",
        };
        if short.is_empty() {
            // The other control characters (below 0x20): `\u00xx`, written out rather than
            // looked up in a table (which took 450 bytes of the module).
            let low = byte & 15;
            out.push_str("\\u00");
            out.push(char::from(b'0'.wrapping_add(byte >> 4)));
            // `a` to `f` for 10 to 15: `W` is ten before `a`.
            out.push(char::from(
                if low < 10 { b'0' } else { b'W' }.wrapping_add(low),
            ));
        } else {
            out.push_str(short);
        }
        start = i.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        push_string(&mut out, text);
        out
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut every_ascii: String = (0u8..=0x7f).map(char::from).collect();
        every_ascii.push_str("é 中 😀 \u{2028}");
        for text in [
            "",
            "plain",
            "a\"b\\c/d",
            "\u{0}\u{1f}\u{7f}",
            every_ascii.as_str(),
        ] {
            assert_eq!(
                escaped(text),
                serde_json::to_string(text).unwrap(),
                "{text:?}"
            );
        }
        // Every byte to escape at every place in and around an eight-byte word.
        for special in ['"', '\\', '\n', '\u{1}'] {
            for at in 0..20 {
                let mut text: String = "0123456789abcdefghij".chars().take(at).collect();
                text.push(special);
                text.push_str("é-tail");
                assert_eq!(
                    escaped(&text),
                    serde_json::to_string(&text).unwrap(),
                    "{text:?}"
                );
            }
        }
    }
}
