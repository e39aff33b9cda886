//! Byte routines a word at a time, for the module's hot paths: in wasm, core's byte loops cost
//! a poll of the host's time limit per byte, and `memcmp` is a byte loop.

/// Eight copies of a byte.
pub(crate) const fn splat(byte: u8) -> u64 {
    0x0101_0101_0101_0101 * byte as u64
}

/// The eight bytes at `i` as one little-endian word (one load in wasm).
#[inline(always)]
pub(crate) fn word(b: &[u8], i: usize) -> Option<u64> {
    b.get(i..)
        .and_then(<[u8]>::first_chunk::<8>)
        .map(|c| u64::from_le_bytes(*c))
}

/// The bytes of `w` equal to `byte`, each flagged by its high bit. Exact for every byte (no
/// borrow crosses bytes), so the highest flag is as right as the lowest.
#[inline(always)]
fn equal_bytes(w: u64, byte: u8) -> u64 {
    const LOW7: u64 = splat(0x7f);
    let x = w ^ splat(byte);
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

/// The offset of the first `byte` in `s`. A text of eight bytes or more ends with a word that
/// overlaps the one before it (its bytes already passed hold no `byte`), not a byte loop.
#[inline]
pub fn find_byte(s: &[u8], byte: u8) -> Option<usize> {
    let Some(last) = s.len().checked_sub(8) else {
        return s.iter().position(|&b| b == byte);
    };
    let mut i = 0;
    loop {
        let at = i.min(last);
        let hit = word(s, at).map_or(0, |w| equal_bytes(w, byte));
        if hit != 0 {
            return Some(at + (hit.trailing_zeros() / 8) as usize);
        }
        if at == last {
            return None;
        }
        i += 8;
    }
}

/// The offset of the last `byte` in `s`; its first word may overlap the one after it, as in
/// [`find_byte`].
#[inline]
pub fn rfind_byte(s: &[u8], byte: u8) -> Option<usize> {
    let Some(mut at) = s.len().checked_sub(8) else {
        return s.iter().rposition(|&b| b == byte);
    };
    loop {
        let hit = word(s, at).map_or(0, |w| equal_bytes(w, byte));
        if hit != 0 {
            return Some(at + (7 - hit.leading_zeros() / 8) as usize);
        }
        if at == 0 {
            return None;
        }
        at = at.saturating_sub(8);
    }
}

/// Byte equality without a `memcmp` call (a byte loop in wasm). Texts of up to 16 bytes (most
/// keys and names) are compared without a loop, as two words that may overlap: a loop
/// iteration also polls the host's time limit.
#[inline]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        let tail = n - 8;
        if n <= 16 {
            return word(a, 0) == word(b, 0) && word(a, tail) == word(b, tail);
        }
        let mut i = 0;
        while i < tail {
            if word(a, i) != word(b, i) {
                return false;
            }
            i += 8;
        }
        return word(a, tail) == word(b, tail);
    }
    if n >= 4 {
        let half = |s: &[u8], i: usize| {
            s.get(i..)
                .and_then(<[u8]>::first_chunk::<4>)
                .map(|c| u32::from_le_bytes(*c))
        };
        return half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4);
    }
    // 0 to 3 bytes: the first, middle and last byte cover them all.
    n == 0 || (a.first() == b.first() && a.get(n / 2) == b.get(n / 2) && a.last() == b.last())
}

/// Byte equality for long texts (a kept settings text against a new one): four words per loop
/// step, their differences folded into one test, then the last word, which may overlap the
/// one before.
#[inline(never)]
pub fn same_long(a: &[u8], b: &[u8]) -> bool {
    let same = |a: &[[u8; 8]], b: &[[u8; 8]]| {
        a.iter().zip(b).fold(0, |differ, (a, b)| {
            differ | (u64::from_ne_bytes(*a) ^ u64::from_ne_bytes(*b))
        }) == 0
    };
    let last = |s: &[u8]| s.len().checked_sub(8).and_then(|at| word(s, at));
    let (blocks, tail) = a.as_chunks::<32>();
    let (b_blocks, b_tail) = b.as_chunks::<32>();
    let ends_alike = match last(a) {
        Some(w) => last(b) == Some(w),
        None => a == b,
    };
    a.len() == b.len()
        && ends_alike
        && same(tail.as_chunks().0, b_tail.as_chunks().0)
        && blocks
            .iter()
            .zip(b_blocks)
            .all(|(a, b)| same(a.as_chunks().0, b.as_chunks().0))
}

/// ASCII-case-insensitive equality, with the length compared in place: names are mostly
/// compared with lists of names of other lengths, and core's `eq_ignore_ascii_case` is a call
/// in the size-optimised module.
#[inline(always)]
pub fn same_ignoring_case(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.eq_ignore_ascii_case(b)
}

/// How many bytes `a` and `b` start with alike, eight at a time.
#[inline]
pub fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let mut i = 0;
    while let (Some(x), Some(y)) = (word(a, i), word(b, i)) {
        let differ = x ^ y;
        if differ != 0 {
            return i + (differ.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < a.len() && a.get(i) == b.get(i) {
        i += 1;
    }
    i
}

/// Whether `s` is one of `list`, compared through [`same_bytes`].
#[inline]
pub fn is_one_of<S: AsRef<str>>(s: &str, list: &[S]) -> bool {
    list.iter()
        .any(|item| same_bytes(item.as_ref().as_bytes(), s.as_bytes()))
}

/// `s` without `prefix`, if it starts with it ([`str::strip_prefix`] through [`same_bytes`]).
#[inline]
pub fn strip_prefix<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.as_bytes().get(..prefix.len())?;
    if same_bytes(head, prefix.as_bytes()) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::empty("", "", true)]
    #[case::short("abc", "abc", true)]
    #[case::short_differs("abc", "abd", false)]
    #[case::one_word("abcdefgh", "abcdefgh", true)]
    #[case::word_differs("abcdefgh", "abcdefgX", false)]
    #[case::tail_differs("abcdefghij", "abcdefghiX", false)]
    #[case::lengths_differ("abcdefgh", "abcdefghi", false)]
    #[case::long("0123456789abcdef0123", "0123456789abcdef0123", true)]
    fn bytes_compare(#[case] a: &str, #[case] b: &str, #[case] equal: bool) {
        assert_eq!(same_bytes(a.as_bytes(), b.as_bytes()), equal);
        assert_eq!(same_long(a.as_bytes(), b.as_bytes()), equal);
        assert_eq!(a == b, equal);
    }

    /// Every length around the word and block sizes, with one byte changed at every position.
    #[test]
    fn bytes_compare_at_every_position() {
        for n in 0..100 {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i % 26).collect();
            assert!(same_bytes(&a, &a.clone()), "{n}");
            assert!(same_long(&a, &a.clone()), "{n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_bytes(&a, &b), "length {n}, byte {at}");
                assert!(!same_long(&a, &b), "length {n}, byte {at}");
            }
            // A longer text with the same start is another text.
            let mut longer = a.clone();
            longer.push(b'!');
            assert!(!same_long(&a, &longer) && !same_long(&longer, &a), "{n}");
        }
    }

    /// Every length around the word size, with the first difference at every position.
    #[test]
    fn common_prefixes_are_found_at_every_position() {
        for n in 0..40 {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i % 26).collect();
            assert_eq!(common_prefix(&a, &a), n);
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert_eq!(common_prefix(&a, &b), at, "length {n}, byte {at}");
                assert_eq!(common_prefix(&a[..at], &a), at, "a prefix of length {at}");
            }
        }
    }

    #[rstest]
    #[case::prefix("system:serviceaccount:ns:sa", "system:serviceaccount:", Some("ns:sa"))]
    #[case::whole("abc", "abc", Some(""))]
    #[case::empty_prefix("abc", "", Some("abc"))]
    #[case::differs("system:serviceaccounts:ns", "system:serviceaccount:", None)]
    #[case::shorter("sys", "system:", None)]
    #[case::multibyte_differs("é", "è", None)]
    fn prefixes_are_stripped(#[case] s: &str, #[case] prefix: &str, #[case] rest: Option<&str>) {
        assert_eq!(strip_prefix(s, prefix), rest);
        assert_eq!(s.strip_prefix(prefix), rest);
    }

    #[test]
    fn membership_compares_whole_texts() {
        let list = ["docker.io", "registry.gitlab.com"];
        assert!(is_one_of("registry.gitlab.com", &list));
        assert!(!is_one_of("registry.gitlab.co", &list));
        assert!(!is_one_of("registry.gitlab.com.evil.io", &list));
        assert!(!is_one_of("docker.io", &[] as &[&str]));
    }

    /// Every length around the word size, with the byte at every position (and twice).
    #[test]
    fn bytes_are_found_at_every_position() {
        for n in 0..40 {
            let plain = vec![b'a'; n];
            assert_eq!(find_byte(&plain, b'/'), None);
            assert_eq!(rfind_byte(&plain, b'/'), None);
            for at in 0..n {
                let mut s = plain.clone();
                s[at] = b'/';
                assert_eq!(find_byte(&s, b'/'), Some(at), "length {n}, at {at}");
                assert_eq!(rfind_byte(&s, b'/'), Some(at), "length {n}, at {at}");
                for other in at + 1..n {
                    let mut t = s.clone();
                    t[other] = b'/';
                    assert_eq!(find_byte(&t, b'/'), Some(at), "{n}: {at}, {other}");
                    assert_eq!(rfind_byte(&t, b'/'), Some(other), "{n}: {at}, {other}");
                }
            }
        }
        // Bytes next to the one sought (0x2e, 0x30, and with the high bit) are not it.
        assert_eq!(find_byte(b".0\xaf\xff-abc/", b'/'), Some(8));
        assert_eq!(rfind_byte(b"/.0\xaf\xffabcdefgh", b'/'), Some(0));
    }
}
