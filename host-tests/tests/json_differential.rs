//! The policy's JSON reader accepts exactly the texts serde_json accepts (RFC 8259 JSON).
//!
//! The reader (`policy::request::json`) decides whether a request is JSON at all, and a text
//! it misreads could be judged on values another reader would not see. Generated texts: the
//! recorded requests with random byte edits (deletions, insertions and replacements drawn from
//! the bytes that matter to JSON), and short texts from that alphabet. Nesting stays below
//! serde_json's recursion limit of 128 (the reader's own limit is 256).

use policy::request::json::Doc;
use proptest::prelude::*;

/// Bytes that change how JSON reads: structure, literals, numbers, escapes, whitespace, a
/// control character, and the halves of a UTF-8 sequence.
const ALPHABET: &[u8] = b"{}[],:\"\\ \t\n0123456789-+.eEtrufalsnu/bx\x01\xc3\xa9\xff";

fn seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = [
        "dind/job-pod.json",
        "privilege/cap-sys-admin.json",
        "token/config-map.json",
    ]
    .iter()
    .map(|p| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("requests")
            .join(p);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
    .collect();
    seeds.push(
        br#"{"a": [1, -2.5e3, true, false, null, "x\"y\u00e9\ud83d\ude00"], "b": {}}"#.to_vec(),
    );
    seeds
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Insert(usize, u8),
    Replace(usize, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = proptest::sample::select(ALPHABET);
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Replace(i, b)),
    ]
}

fn apply(mut text: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = text.len().max(1);
        match *e {
            Edit::Delete(i) if !text.is_empty() => {
                text.remove(i % len);
            }
            Edit::Insert(i, b) => text.insert(i % (text.len() + 1), b),
            Edit::Replace(i, b) if !text.is_empty() => text[i % len] = b,
            _ => {}
        }
    }
    text
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
        let hex = out
            .get(i + 2..i + 6)
            .and_then(|h| std::str::from_utf8(h).ok());
        let code = hex.and_then(|h| u32::from_str_radix(h, 16).ok());
        if out.get(i + 1) == Some(&b'u') && code.is_some_and(|c| (0xD800..0xE000).contains(&c)) {
            out[i + 2..i + 6].copy_from_slice(b"FFFD");
            i += 6;
        } else {
            i += 2;
        }
    }
    out
}

fn agree(text: &[u8]) -> Result<(), TestCaseError> {
    let ours = Doc::parse(text).is_ok();
    // serde_json's full parse (its `IgnoredAny` skips strings without checking UTF-8), with two
    // readings of Go's `encoding/json`, the API server's decoder: a number too large for an f64
    // is still JSON, and a surrogate escape that is not part of a pair reads as U+FFFD.
    let go_text = surrogates_replaced(text);
    let theirs = match serde_json::from_slice::<serde_json::Value>(&go_text) {
        Ok(_) => true,
        // The f64 stopped the parse: the rest is checked by skipping values (which reads numbers
        // as syntax only, and strings without their UTF-8, checked apart).
        Err(e) if e.to_string().starts_with("number out of range") => {
            serde_json::from_slice::<serde::de::IgnoredAny>(&go_text).is_ok()
                && std::str::from_utf8(text).is_ok()
        }
        Err(_) => false,
    };
    prop_assert_eq!(
        ours,
        theirs,
        "reader {} but serde_json {}: {:?}",
        if ours { "accepts" } else { "refuses" },
        if theirs { "accepts" } else { "refuses" },
        String::from_utf8_lossy(text)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn edited_requests_read_alike(seed in 0usize..4, edits in proptest::collection::vec(edit(), 1..4)) {
        let seeds = seeds();
        let text = apply(seeds[seed % seeds.len()].clone(), &edits);
        agree(&text)?;
    }

    #[test]
    fn short_texts_read_alike(text in proptest::collection::vec(proptest::sample::select(ALPHABET), 0..24)) {
        agree(&text)?;
    }
}
