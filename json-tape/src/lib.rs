//! A small JSON reader made for this policy: one pass validates the whole text and records every
//! value on a tape (its span and where its subtree ends), then values are read lazily from the
//! tape, straight into the request model.
//!
//! serde's derived deserialisers cost about 3 KB of wasm per struct and made the module 370 KB;
//! this reader and the model's `from_json!` impls do the same job in a fraction of that, and
//! faster: serde_json reading the dind job pod's model fields took 243,205 instructions in
//! wasmtime, against 220,113 for the module's whole evaluation (docs/performance.md). The tape
//! makes every later step O(1) per value: skipping a field no rule reads is one lookup, and no
//! byte is scanned twice.

// The policy crate's lint wall holds here too: this code runs inside the module, where a panic
// is a trap that crosses the ABI. Tests may relax it.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing, clippy::unreachable))]
#![cfg_attr(not(test), deny(clippy::todo, clippy::unimplemented))]
// One `unsafe` block, in `utf8`: text found to be ASCII is taken as UTF-8 without a second pass.
#![deny(unsafe_code)]
// Indices and lengths below are bounded by the input length (at most u32::MAX, checked in
// `Doc::parse`), so the additions cannot overflow; every byte read goes through `get`.
#![allow(clippy::arithmetic_side_effects)]

use std::borrow::Cow;

mod bytes;
mod error;
mod fields;
mod scanner;
mod text;
mod value;

pub use bytes::{find_byte, is_one_of, rfind_byte, same_bytes, strip_prefix};
use bytes::{splat, word};
pub use error::JsonError;
use error::Syntax;
pub use fields::{FromJson, KeyTable, Keys, Slot, read_fields, signature, signatures, table_size};
use scanner::Tape;
pub use scanner::plain_run;
use text::{unescape, utf8};
use value::Tok;
pub use value::{Doc, Entries, Items, Json, Kind};

/// A string read from the document: borrowed unless it had escapes.
pub type Str<'a> = Cow<'a, str>;

/// Nesting deeper than this is refused (serde_json refuses beyond 128).
const MAX_DEPTH: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::object(r#" {"a": [1, -2.5e3, true, false, null, "x\"y\u00e9"], "b": {}} "#)]
    #[case::empty_containers("[[], {}, [{}]]")]
    #[case::scalar("\"just a string\"")]
    #[case::zero("0")]
    fn valid_documents_parse(#[case] text: &str) {
        assert!(Doc::parse(text.as_bytes()).is_ok(), "{text}");
        // Agrees with serde_json.
        assert!(serde_json::from_str::<serde_json::Value>(text).is_ok());
    }

    #[rstest]
    #[case::truncated(r#"{"a": [1, 2"#)]
    #[case::trailing_comma("[1, 2,]")]
    #[case::trailing_text("{} x")]
    #[case::bare_word("{a: 1}")]
    #[case::leading_zero("01")]
    #[case::bad_escape(r#""\x41""#)]
    #[case::control_char("\"a\u{1}b\"")]
    #[case::empty("")]
    #[case::missing_colon(r#"{"a" 1}"#)]
    #[case::dot_number("1.")]
    #[case::plus("+1")]
    #[case::mismatched("[1}")]
    #[case::bad_literal("nul")]
    fn invalid_documents_fail(#[case] text: &str) {
        assert!(Doc::parse(text.as_bytes()).is_err(), "{text}");
        assert!(serde_json::from_str::<serde_json::Value>(text).is_err());
    }

    /// A key table over `names`, as `from_json!` builds one (with `N` known at compile time).
    fn find_all<const N: usize, const S: usize>(names: [&str; N], probes: &[&str]) {
        let sigs = signatures(&names);
        let table = KeyTable::<S>::build(&sigs);
        let keys = Keys::new(&names, &sigs, &table);
        for (i, name) in names.iter().enumerate() {
            assert_eq!(keys.find(name.as_bytes()), Some(i), "{name}");
        }
        for probe in probes {
            let want = names.iter().position(|n| n == probe);
            assert_eq!(keys.find(probe.as_bytes()), want, "{probe}");
        }
    }

    #[test]
    fn key_tables_find_every_key_and_nothing_else() {
        let unknown = [
            "",
            "x",
            "nam",
            "namE",
            "image ",
            "resources",
            "imagePullPolicy",
            "names",
        ];
        find_all::<1, { table_size(1) }>(["name"], &unknown);
        // A container's keys, as many as the largest model struct reads.
        find_all::<16, { table_size(16) }>(
            [
                "name",
                "image",
                "securityContext",
                "env",
                "envFrom",
                "volumeMounts",
                "ports",
                "lifecycle",
                "livenessProbe",
                "readinessProbe",
                "startupProbe",
                "command",
                "args",
                "workingDir",
                "stdin",
                "tty",
            ],
            &unknown,
        );
        // Shared signatures (length, first and last byte): all are told apart by their bytes.
        find_all::<4, { table_size(4) }>(["abc", "axc", "a-c", "abd"], &["aqc", "abc", "ab"]);
    }

    #[test]
    fn texts_are_checked_for_utf8_at_every_position() {
        // Lengths around the ASCII shortcut's 8- and 32-byte steps; a non-ASCII byte anywhere.
        for len in 0..80 {
            let ascii = vec![b'a'; len];
            assert_eq!(utf8(&ascii), Ok("a".repeat(len).as_str()));
            for at in 0..len {
                let mut bad = ascii.clone();
                bad[at] = 0xff;
                assert_eq!(
                    utf8(&bad).unwrap_err().valid_up_to(),
                    at,
                    "len {len}, at {at}"
                );
                let mut good = ascii.clone();
                good.splice(at..=at, "é".bytes());
                assert_eq!(utf8(&good).unwrap(), std::str::from_utf8(&good).unwrap());
            }
        }
    }

    /// Strings of every length around the scanner's two-word shortcut, with a byte that ends
    /// or breaks the plain run (quote, backslash escape, control character) at every position,
    /// as the last value of a document and followed by more: read as serde_json reads them.
    #[test]
    fn strings_of_every_length_read_as_serde_json_reads_them() {
        for len in 0..40 {
            for at in 0..=len {
                for special in ["\\\"", "\\n", "\\u00e9", "\\x", "\u{1}", "\""] {
                    let mut inner = "a".repeat(len);
                    inner.insert_str(at, special);
                    for text in [format!("\"{inner}\""), format!("[\"{inner}\", 1]")] {
                        let ours = Doc::parse(text.as_bytes());
                        let theirs = serde_json::from_str::<serde_json::Value>(&text);
                        assert_eq!(ours.is_ok(), theirs.is_ok(), "{text:?}");
                        let (Ok(doc), Ok(value)) = (ours, theirs) else {
                            continue;
                        };
                        let string = value.as_str().or_else(|| value[0].as_str());
                        let root = doc.root();
                        let first = root.items().next().unwrap_or(root);
                        assert_eq!(first.as_str().as_deref(), string, "{text:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let deep = "[".repeat(100_000);
        assert!(
            Doc::parse(deep.as_bytes())
                .unwrap_err()
                .message()
                .contains("nested deeper")
        );
        let ok = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(Doc::parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn values_are_read_lazily() {
        let doc = Doc::parse(
            br#"{"k": "v", "n": 42, "list": [1, {"x": "\u0041\ud83d\ude00"}], "k": "later"}"#,
        )
        .unwrap();
        let doc = doc.root();
        assert_eq!(doc.get("k").unwrap().as_str().unwrap(), "later");
        assert_eq!(doc.get("n").unwrap().as_i64(), Some(42));
        let items: Vec<_> = doc.get("list").unwrap().items().collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].get("x").unwrap().as_str().unwrap(), "A\u{1F600}");
        assert!(matches!(
            doc.get("k").unwrap().as_str().unwrap(),
            Cow::Borrowed(_)
        ));
        assert_eq!(doc.entries().count(), 4);
    }

    #[derive(Debug, Default)]
    struct Twins<'a> {
        one: Option<Str<'a>>,
        two: Option<Str<'a>>,
    }
    crate::from_json!(Twins<'a> { one: "abc", two: "axc" });

    #[test]
    fn keys_with_one_signature_are_told_apart() {
        assert_eq!(signature(b"abc"), signature(b"axc"));
        let doc = Doc::parse(br#"{"axc": "2", "abq": "x", "abc": "1"}"#).unwrap();
        let twins = Twins::from_json(doc.root()).unwrap();
        assert_eq!(
            (twins.one.as_deref(), twins.two.as_deref()),
            (Some("1"), Some("2"))
        );
        let doc = Doc::parse(br#"{"abc": "1", "axc": "2", "abc": "3"}"#).unwrap();
        assert!(
            Twins::from_json(doc.root()).is_err(),
            "a duplicate key is refused"
        );
    }

    #[rstest]
    #[case::escaped_key_fills_its_field(r#"{"a\u0062c": "1"}"#, Ok((Some("1"), None)))]
    #[case::escaped_value(r#"{"axc": "\u0032"}"#, Ok((None, Some("2"))))]
    #[case::escaped_twin_of_a_key_is_a_duplicate(r#"{"abc": "1", "\u0061bc": "2"}"#, Err(()))]
    #[case::wrong_type_names_the_key(r#"{"abc": 1}"#, Err(()))]
    fn fields_are_read_by_their_unescaped_key(
        #[case] text: &str,
        #[case] expected: Result<(Option<&str>, Option<&str>), ()>,
    ) {
        let doc = Doc::parse(text.as_bytes()).unwrap();
        let read = Twins::from_json(doc.root());
        match expected {
            Ok(fields) => {
                let twins = read.unwrap();
                assert_eq!((twins.one.as_deref(), twins.two.as_deref()), fields);
            }
            Err(()) => assert!(read.is_err(), "{text}"),
        }
    }

    #[test]
    fn a_field_error_carries_the_key() {
        let doc = Doc::parse(br#"{"abc": 1}"#).unwrap();
        let e = Twins::from_json(doc.root()).unwrap_err().describe("x");
        assert!(e.contains("x.abc"), "{e}");
    }

    #[rstest]
    #[case::empty_array("[]", 0)]
    #[case::empty_object("{}", 0)]
    #[case::array("[1, [2, 3], {}]", 3)]
    #[case::object(r#"{"a": [1, 2], "b": {"c": 1}}"#, 2)]
    #[case::scalar("\"s\"", 0)]
    fn containers_know_their_size(#[case] text: &str, #[case] len: usize) {
        let doc = Doc::parse(text.as_bytes()).unwrap();
        let root = doc.root();
        assert_eq!(root.len_hint(), len);
        assert_eq!(
            root.len_hint(),
            root.items().count().max(root.entries().count())
        );
    }

    #[test]
    fn errors_carry_the_path() {
        let doc = Doc::parse(br#"{"xs": ["a", 1]}"#).unwrap();
        let doc = doc.root();
        let err = Vec::<Str>::from_json(doc.get("xs").unwrap())
            .unwrap_err()
            .at_key("xs");
        assert_eq!(
            err.describe("input"),
            "input.xs[1]: expected a string, found a number"
        );
    }
}
