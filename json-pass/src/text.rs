//! String text: escapes resolved, bytes taken as UTF-8.

use crate::splat;
use alloc::string::String;

/// A string's inner text with its escapes resolved (the text is validated). Runs of plain
/// text are copied whole: only escapes are decoded.
#[inline(never)]
pub(crate) fn unescape(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(at) = rest.bytes().position(|c| c == b'\\') {
        // A backslash is ASCII, so the text before it ends on a character boundary.
        out.push_str(rest.get(..at).unwrap_or_default());
        let escape = rest.as_bytes().get(at + 1).copied().unwrap_or_default();
        rest = rest.get(at + 2..).unwrap_or_default();
        let c = match escape {
            b'n' => '\n',
            b't' => '\t',
            b'r' => '\r',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'u' => {
                let hi = hex4(rest);
                rest = rest.get(4..).unwrap_or_default();
                let code = if (0xD800..0xDC00).contains(&hi) {
                    // A surrogate pair is two escapes; a lone half becomes U+FFFD.
                    let lo = rest.strip_prefix("\\u").map_or(0, hex4);
                    if (0xDC00..0xE000).contains(&lo) {
                        rest = rest.get(6..).unwrap_or_default();
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    } else {
                        0xFFFD
                    }
                } else {
                    hi
                };
                char::from_u32(code).unwrap_or('\u{FFFD}')
            }
            // `"`, `\`, `/`
            other => char::from(other),
        };
        out.push(c);
    }
    out.push_str(rest);
    out
}

/// The value of the four hex digits that start `s` (the text is validated, so they are there).
/// Through the `i64` parser that reading integers needs anyway: its own loop, or decoding four
/// chars, was most of `unescape`'s code.
fn hex4(s: &str) -> u32 {
    s.get(..4)
        .and_then(|hex| i64::from_str_radix(hex, 16).ok())
        .map_or(0, |v| v as u32)
}

/// `bytes` as text. Kubernetes JSON is almost always ASCII (names, images, labels; other
/// characters are usually `\u` escapes), which one OR over the words settles; core's validator,
/// which reads four bytes at a time in wasm32, only sees texts with other bytes.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, core::str::Utf8Error> {
    let (words, tail) = bytes.as_chunks::<8>();
    let mut high = tail.iter().fold(0, |acc, &b| acc | u64::from(b));
    // Eight words per step: fewer loop checks (each one also polls the host's time limit).
    let (steps, rest) = words.as_chunks::<8>();
    for [a, b, c, d, e, f, g, h] in steps {
        high |= (u64::from_ne_bytes(*a) | u64::from_ne_bytes(*b))
            | (u64::from_ne_bytes(*c) | u64::from_ne_bytes(*d))
            | (u64::from_ne_bytes(*e) | u64::from_ne_bytes(*f))
            | (u64::from_ne_bytes(*g) | u64::from_ne_bytes(*h));
    }
    for w in rest {
        high |= u64::from_ne_bytes(*w);
    }
    if high & splat(0x80) == 0 {
        // SAFETY: no byte has its high bit set, so every byte is an ASCII character on its
        // own, and a text of ASCII characters is valid UTF-8.
        #[allow(unsafe_code)]
        return Ok(unsafe { core::str::from_utf8_unchecked(bytes) });
    }
    core::str::from_utf8(bytes)
}

#[cfg(test)]
mod tests {
    use super::unescape;
    use rstest::rstest;

    #[rstest]
    #[case::plain("abc", "abc")]
    #[case::short_escapes(r#"a\"b\\c\/d\n\t\r\b\f"#, "a\"b\\c/d\n\t\r\u{8}\u{c}")]
    #[case::lower_and_upper_hex(r"\u0041\u00e9\u00E9", "Aéé")]
    #[case::surrogate_pair(r"x\ud83d\ude00y", "x\u{1F600}y")]
    #[case::lone_high_at_end(r"x\ud83d", "x\u{FFFD}")]
    #[case::lone_high_then_text(r"\ud83dz", "\u{FFFD}z")]
    #[case::high_then_other_escape(r"\ud83d\u0041", "\u{FFFD}A")]
    #[case::lone_low(r"\ude00", "\u{FFFD}")]
    #[case::multibyte_around(r"é\u0041ü", "éAü")]
    fn escapes_are_resolved(#[case] inner: &str, #[case] text: &str) {
        assert_eq!(unescape(inner), text);
        // serde_json reads the same string alike (it refuses lone surrogates, which Go and
        // this reader take as U+FFFD).
        if let Ok(serde) = serde_json::from_str::<String>(&format!("\"{inner}\"")) {
            assert_eq!(serde, text);
        }
    }
}
