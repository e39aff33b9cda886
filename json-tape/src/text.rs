//! String text: escapes resolved, bytes taken as UTF-8.

use crate::splat;

/// A string's inner text with its escapes resolved (the text is validated).
#[inline(never)]
pub(crate) fn unescape(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hi = hex4(&mut chars);
                let code = if (0xD800..0xDC00).contains(&hi) {
                    // A surrogate pair is two escapes; a lone half becomes U+FFFD.
                    let rest = chars.as_str();
                    if rest.starts_with("\\u") {
                        let mut look = rest.get(2..).unwrap_or("").chars();
                        let lo = hex4(&mut look);
                        if (0xDC00..0xE000).contains(&lo) {
                            chars = look;
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        } else {
                            0xFFFD
                        }
                    } else {
                        0xFFFD
                    }
                } else {
                    hi
                };
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other), // `"`, `\`, `/`
            None => {}
        }
    }
    out
}

fn hex4(chars: &mut std::str::Chars<'_>) -> u32 {
    let mut v = 0u32;
    for _ in 0..4 {
        v = (v << 4) | chars.next().and_then(|c| c.to_digit(16)).unwrap_or(0);
    }
    v
}

/// `bytes` as text. Kubernetes JSON is almost always ASCII (names, images, labels; other
/// characters are usually `\u` escapes), which one OR over the words settles; core's validator,
/// which reads four bytes at a time in wasm32, only sees texts with other bytes.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    let (words, tail) = bytes.as_chunks::<8>();
    let mut high = tail.iter().fold(0, |acc, &b| acc | u64::from(b));
    // Four words per step: fewer loop checks (each one also polls the host's time limit).
    let (quads, rest) = words.as_chunks::<4>();
    for [a, b, c, d] in quads {
        high |= u64::from_ne_bytes(*a)
            | u64::from_ne_bytes(*b)
            | u64::from_ne_bytes(*c)
            | u64::from_ne_bytes(*d);
    }
    for w in rest {
        high |= u64::from_ne_bytes(*w);
    }
    if high & splat(0x80) == 0 {
        // SAFETY: no byte has its high bit set, so every byte is an ASCII character on its
        // own, and a text of ASCII characters is valid UTF-8.
        #[allow(unsafe_code)]
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes)
}
