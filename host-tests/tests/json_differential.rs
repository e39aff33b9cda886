//! The policy's JSON reader accepts exactly the texts serde_json accepts (RFC 8259 JSON).
//!
//! The reader (`policy::request::json`) decides whether a request is JSON at all, and a text
//! it misreads could be judged on values another reader would not see. Generated texts: the
//! recorded requests with random byte edits (deletions, insertions and replacements drawn from
//! the bytes that matter to JSON), and short texts from that alphabet. Nesting stays below
//! serde_json's recursion limit of 128 (the reader's own limit is 256).

use host_tests::fuzzing::json_readers_agree;
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

fn agree(text: &[u8]) -> Result<(), TestCaseError> {
    json_readers_agree(text).map_err(TestCaseError::fail)
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
