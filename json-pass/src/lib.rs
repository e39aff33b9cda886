//! A small JSON reader made for this policy: one pass over the text checks it against the JSON
//! grammar and fills the request model as it goes, with no intermediate tree or tape.
//!
//! A [`Reader`] is a cursor over text already checked for UTF-8. The model's readers ([`Slot`],
//! written by [`from_json!`](crate::from_json) from compile-time key tables) take each value they know from it,
//! in place: strings stay borrowed from the input unless they have escapes. Every value no
//! reader takes is skipped by a loop that checks it all the same (no recursion, however deep),
//! so a text read to its end is JSON, with the same limits as a validation alone: the exact
//! grammar, UTF-8, a nesting depth of 256 and 4 GiB. A value the model must read later (the
//! settings in `parameters`, an object whose kind came after it) is kept as its checked text,
//! a [`Json`], and read by walking that text again.
//!
//! In the compact JSON the API server sends, the field loop finds a model key by the four bytes
//! it starts with (`name":`) and compares it whole where it is written, without looking for its
//! end; every other string, key or value, is scanned by one function, [`plain_run`], sixteen
//! bytes at a time (the field loop's string values, the skip's strings and the bytes after an
//! escape test their first sixteen bytes in place first: a call in wasmtime costs more than a
//! short string). The field loop and the string maps also take an object's closing brace
//! themselves. Other spellings of JSON (whitespace, escaped keys) take a general path.
//!
//! A value of the wrong type stops the pass with an error of the model; whether the text is
//! JSON at all still decides first. A caller told of a model error checks the whole text
//! ([`validate`]) before reporting it: that costs only on the error path. Values whose type
//! errors rank after those around them (the dialect's request, the object under review) are
//! read through [`Deferred`]: their error waits, the rest of them is checked, and the pass goes
//! on.
//!
//! serde's derived deserialisers cost about 3 KB of wasm per struct and made the module 370 KB;
//! this reader and the model's `from_json!` impls do the same job in a fraction of that, and
//! faster: serde_json reading the dind job pod's model fields took 243,205 instructions in
//! wasmtime, more than the module's whole evaluation (docs/performance.md).

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
// `Reader::new`), so the additions cannot overflow; every byte read goes through `get`.
#![allow(clippy::arithmetic_side_effects)]
// No std, like the policy crate this code is compiled into: `core` and `alloc` only.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::borrow::Cow;

mod bytes;
mod error;
mod fields;
mod reader;
mod text;
mod value;

pub use bytes::{
    common_prefix, find_byte, is_one_of, rfind_byte, same_bytes, same_ignoring_case, same_long,
    strip_prefix,
};
use bytes::{splat, word};
pub use error::{JsonError, Syntax};
pub use fields::{
    Deferred, Field, FromJson, KeyTable, Keys, Slot, prefix, prefixes, read, read_fields,
    read_items, read_pairs, signature, table_size,
};
pub use reader::{Inside, Key, Mark, Reader, plain_run, validate};
use text::{unescape, utf8};
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
        let prefixes = prefixes(&names);
        let table = KeyTable::<S>::build(&prefixes);
        let keys = Keys::new(&names, &prefixes, &table);
        // Found by their text, and where compact JSON writes them (`key":`), by their first
        // four bytes, which may run into the value.
        let written = |key: &str| {
            let text = format!("{key}\":1}}");
            let first4 = text
                .as_bytes()
                .first_chunk::<4>()
                .map(|b| u32::from_le_bytes(*b));
            first4.and_then(|p| keys.find_written(p, text.as_bytes(), 0))
        };
        for (i, name) in names.iter().enumerate() {
            assert_eq!(keys.find(name.as_bytes()), Some(i), "{name}");
            assert_eq!(written(name), Some((i, name.len())), "{name}");
        }
        for probe in probes {
            let want = names.iter().position(|n| n == probe);
            assert_eq!(keys.find(probe.as_bytes()), want, "{probe}");
            assert_eq!(written(probe), want.map(|i| (i, probe.len())), "{probe}");
        }
    }

    /// A lookup walks on from the first key with a prefix while the keys have it: a key list
    /// with one of them elsewhere would leave that key unfound, read as unknown. Such a list
    /// does not build (in `from_json!`, a compile error).
    #[test]
    #[should_panic(expected = "must be listed together")]
    fn keys_sharing_a_prefix_apart_are_refused() {
        let _ = KeyTable::<16>::build(&prefixes(&["name", "image", "namespace"]));
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
        // Shared prefixes: all are told apart by their bytes.
        find_all::<5, { table_size(5) }>(
            ["hostNetwork", "hostPID", "hostIPC", "hostUsers", "ho"],
            &[
                "host",
                "hostPIDs",
                "hostPI",
                "hostNetwor",
                "h",
                "hostUsers\\",
            ],
        );
    }

    #[test]
    fn texts_are_checked_for_utf8_at_every_position() {
        // Lengths around the ASCII shortcut's 8- and 32-byte steps; a non-ASCII byte anywhere.
        for len in 0..140 {
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
                assert_eq!(utf8(&good).unwrap(), core::str::from_utf8(&good).unwrap());
            }
        }
    }

    /// Strings of every length around the scanner's shortcuts (the first two words tested in
    /// place, two words per step), with a byte that ends or breaks the plain run (quote, backslash
    /// escape, a run of escapes, control character) at every position: as the last value of a
    /// document, followed by more, cut off by the end of the text, and as a model field (the
    /// field loop's own scan): read as serde_json reads them.
    #[test]
    fn strings_of_every_length_read_as_serde_json_reads_them() {
        let specials = [
            "\\\"",
            "\\n",
            "\\n\\t",
            "\\t ",
            "\\\\\\\"",
            "\\u00e9",
            "\\u00e9\\n",
            "\\x",
            "\u{1}",
            "\"",
        ];
        for len in 0..40 {
            for at in 0..=len {
                for special in specials {
                    let mut inner = "a".repeat(len);
                    inner.insert_str(at, special);
                    for text in [
                        format!("\"{inner}\""),
                        format!("[\"{inner}\", 1]"),
                        format!("[\"{inner}"),
                    ] {
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
                    let text = format!("{{\"abc\":\"{inner}\",\"axc\":\"b\"}}");
                    let mut r = Reader::new(text.as_bytes()).unwrap();
                    let ours = read::<Twins>(&mut r).and_then(|twins| r.finish().map(|()| twins));
                    let theirs = serde_json::from_str::<serde_json::Value>(&text);
                    assert_eq!(ours.is_ok(), theirs.is_ok(), "{text:?}");
                    if let (Ok(twins), Ok(value)) = (ours, theirs) {
                        assert_eq!(twins.one.as_deref(), value["abc"].as_str(), "{text:?}");
                        assert_eq!(twins.two.as_deref(), Some("b"), "{text:?}");
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
    fn keys_are_told_apart_by_their_bytes() {
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

    /// The field loop scans the keys it does not know, their first sixteen bytes in place and
    /// the rest out of line: every length around that edge, with an escape, a bad escape or a
    /// control character at every position, is taken or refused as serde_json takes or refuses it.
    #[test]
    fn unknown_keys_are_checked_at_every_length_and_position() {
        for len in 0..40 {
            let plain = "k".repeat(len);
            let mut keys = vec![plain.clone()];
            for at in 0..len {
                for odd in ["\\n", "\\x", "\u{1}", "\\u00e9", "\""] {
                    let mut key = plain.clone();
                    key.replace_range(at..=at, odd);
                    keys.push(key);
                }
            }
            for key in keys {
                let text = format!(r#"{{"{key}":"v","abc":"1"}}"#);
                let valid = serde_json::from_str::<serde_json::Value>(&text).is_ok();
                let read = Reader::new(text.as_bytes()).and_then(|mut r| {
                    let twins: Twins<'_> = read(&mut r)?;
                    r.finish()?;
                    Ok(twins.one.map(|s| s.to_string()))
                });
                match read {
                    Ok(one) => {
                        assert!(valid, "{text} was taken");
                        assert_eq!(one.as_deref(), Some("1"), "{text}");
                    }
                    Err(_) => assert!(!valid, "{text} was refused"),
                }
            }
        }
    }

    #[rstest]
    #[case::escaped_key_fills_its_field(r#"{"a\u0062c": "1"}"#, Ok((Some("1"), None)))]
    #[case::escaped_value(r#"{"axc": "\u0032"}"#, Ok((None, Some("2"))))]
    #[case::escaped_twin_of_a_key_is_a_duplicate(r#"{"abc": "1", "\u0061bc": "2"}"#, Err(()))]
    #[case::wrong_type_names_the_key(r#"{"abc": 1}"#, Err(()))]
    #[case::null_leaves_a_string_field_alone(r#"{"abc": null, "axc": "2"}"#, Ok((None, Some("2"))))]
    #[case::a_null_key_given_again_is_a_duplicate(r#"{"abc": null, "abc": "1"}"#, Err(()))]
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
    #[case::empty_array("[]", 0, 0)]
    #[case::empty_object("{}", 0, 0)]
    #[case::array("[1, [2, 3], {}]", 3, 0)]
    #[case::object(r#"{"a": [1, 2], "b": {"c": 1}}"#, 0, 2)]
    #[case::spaced(" [ 1 , { } ] ", 2, 0)]
    #[case::scalar("\"s\"", 0, 0)]
    fn containers_list_their_items_and_entries(
        #[case] text: &str,
        #[case] items: usize,
        #[case] entries: usize,
    ) {
        let doc = Doc::parse(text.as_bytes()).unwrap();
        let root = doc.root();
        assert_eq!(root.raw(), text.trim());
        assert_eq!(root.items().count(), items);
        assert_eq!(root.entries().count(), entries);
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        for (item, theirs) in root.items().zip(value.as_array().into_iter().flatten()) {
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(item.raw()).unwrap(),
                *theirs
            );
        }
    }

    /// A model over a text with a syntax error after a value it reads: the pass stops at the
    /// syntax error, which is reported as one.
    #[rstest]
    #[case::after_the_fields(
        r#"{"abc": "1"} x"#,
        "trailing characters after the document at byte 13"
    )]
    #[case::in_a_skipped_value(r#"{"q": [1, }, "abc": "1"}"#, "expected a value at byte 10")]
    #[case::in_a_key(r#"{"abc": "1", "a"#, "unterminated string at byte 13")]
    #[case::bad_null(r#"{"abc": nul}"#, "invalid literal at byte 8")]
    fn syntax_errors_stop_the_pass(#[case] text: &str, #[case] message: &str) {
        let mut r = Reader::new(text.as_bytes()).unwrap();
        let e = read::<Twins>(&mut r).and_then(|_| r.finish()).unwrap_err();
        assert!(e.is_not_json(), "{text}");
        assert_eq!(e.message(), message);
        assert_eq!(validate(text.as_bytes()).unwrap_err().message(), message);
    }

    /// A type error stops the pass where it is found, as an error of the model; the text after
    /// it is left for `validate` to judge.
    #[test]
    fn type_errors_are_errors_of_the_model() {
        let text = br#"{"abc": 1, "axc": [}"#;
        let mut r = Reader::new(text).unwrap();
        let e = read::<Twins>(&mut r).unwrap_err();
        assert!(!e.is_not_json());
        assert_eq!(e.describe("x"), "x.abc: expected a string, found a number");
        assert!(validate(text).unwrap_err().is_not_json());
    }

    /// A value that repeats a known object is taken without a second check, and said to be
    /// the known one; anything else (another object, a longer number, text that is not JSON)
    /// is read as `raw` reads it.
    #[rstest]
    #[case::repeated(r#"[{"a": [1]}, 2]"#, r#"{"a": [1]}"#, Ok((r#"{"a": [1]}"#, true)))]
    #[case::other_object(r#"[{"a": [2]}, 2]"#, r#"{"a": [1]}"#, Ok((r#"{"a": [2]}"#, false)))]
    #[case::known_is_a_prefix(
        r#"[{"a": [1]}x, 2]"#,
        r#"{"a": [1]}"#,
        Ok((r#"{"a": [1]}"#, true))
    )]
    #[case::long_repeated(
        r#"[{"org": "example", "runners": [{"type": "dind", "serviceAccount": "sa"}]}, 2]"#,
        r#"{"org": "example", "runners": [{"type": "dind", "serviceAccount": "sa"}]}"#,
        Ok((r#"{"org": "example", "runners": [{"type": "dind", "serviceAccount": "sa"}]}"#, true))
    )]
    #[case::long_other_in_a_block(
        r#"[{"org": "examplf", "runners": [{"type": "dind", "serviceAccount": "sa"}]}, 2]"#,
        r#"{"org": "example", "runners": [{"type": "dind", "serviceAccount": "sa"}]}"#,
        Ok((r#"{"org": "examplf", "runners": [{"type": "dind", "serviceAccount": "sa"}]}"#, false))
    )]
    #[case::long_other_in_the_tail(
        r#"[{"org": "example", "runners": [{"type": "dind", "serviceAccount": "sb"}]}, 2]"#,
        r#"{"org": "example", "runners": [{"type": "dind", "serviceAccount": "sa"}]}"#,
        Ok((r#"{"org": "example", "runners": [{"type": "dind", "serviceAccount": "sb"}]}"#, false))
    )]
    #[case::long_other_in_a_tail_word(
        r#"[{"org": "example", "runners": [{"type": "dind", "serviceAccount": "sb"}], "more": "abc"}, 2]"#,
        r#"{"org": "example", "runners": [{"type": "dind", "serviceAccount": "sa"}], "more": "abc"}"#,
        Ok((r#"{"org": "example", "runners": [{"type": "dind", "serviceAccount": "sb"}], "more": "abc"}"#, false))
    )]
    #[case::short_repeated(r#"[{"a":1}, 2]"#, r#"{"a":1}"#, Ok((r#"{"a":1}"#, true)))]
    #[case::short_other(r#"[{"a":2}, 2]"#, r#"{"a":1}"#, Ok((r#"{"a":2}"#, false)))]
    #[case::not_an_object(r#"[12, 2]"#, "1", Ok(("12", false)))]
    #[case::no_known(r#"[{"a": 1}, 2]"#, "", Ok((r#"{"a": 1}"#, false)))]
    #[case::text_shorter(r#"[{"a""#, r#"{"a": [1]}"#, Err("expected `:` at byte 5"))]
    #[case::bad_other(
        r#"[{"a": [1, }, 2]"#,
        r#"{"a": [1]}"#,
        Err("expected a value at byte 11")
    )]
    fn known_values_are_taken_unchecked(
        #[case] text: &str,
        #[case] known: &str,
        #[case] expected: Result<(&str, bool), &str>,
    ) {
        let mut r = Reader::new(text.as_bytes()).unwrap();
        let mut inside = r.enter(b'[', "an array").unwrap();
        assert!(r.item(&mut inside).unwrap());
        let got = r.raw_or_known(known.as_bytes());
        match expected {
            Ok((value, was_known)) => {
                let (got, got_known) = got.unwrap();
                assert_eq!((got.raw(), got_known), (value, was_known));
                assert_eq!(r.peek(), Some(text.as_bytes()[1 + value.len()]));
            }
            Err(message) => assert_eq!(JsonError::from(got.unwrap_err()).message(), message),
        }
    }

    #[derive(Debug, Default)]
    struct Late<'a> {
        first: Deferred<Twins<'a>>,
        then: Option<Str<'a>>,
    }
    crate::from_json!(Late<'a> { first: "first", then: "then" });

    /// A deferred value's type error waits; the value is still checked to its end, and the
    /// pass goes on after it.
    #[rstest]
    #[case::read(r#"{"first": {"abc": "1"}, "then": "t"}"#, Ok(Ok(())))]
    #[case::type_error_waits(r#"{"first": {"abc": 1, "q": [[]]}, "then": "t"}"#, Ok(Err(())))]
    #[case::not_json_inside(r#"{"first": {"abc": 1, "q": [}, "then": "t"}"#, Err(()))]
    #[case::not_json_after(r#"{"first": {"abc": 1}, "then": t}"#, Err(()))]
    fn deferred_values_report_their_type_errors_later(
        #[case] text: &str,
        #[case] expected: Result<Result<(), ()>, ()>,
    ) {
        let mut r = Reader::new(text.as_bytes()).unwrap();
        let read = read::<Late>(&mut r).and_then(|late| r.finish().map(|()| late));
        match (read, expected) {
            (Ok(late), Ok(first)) => {
                assert_eq!(late.then.as_deref(), Some("t"));
                assert_eq!(late.first.0.unwrap().map(|_| ()).map_err(|_| ()), first);
            }
            // Not JSON: the pass says so, or its type error sends the caller to `validate`.
            (Err(e), Err(())) => {
                assert!(
                    e.is_not_json() || validate(text.as_bytes()).is_err(),
                    "{text}"
                );
            }
            (got, want) => panic!("{text}: got {got:?}, expected {want:?}"),
        }
    }

    /// Values of fields no model reads are skipped, and checked, as serde_json checks them;
    /// the small ones the skip passes without its walk (`true`, `{}`) included.
    #[rstest]
    fn skipped_values_are_checked(
        #[values(
            "true", "false", "null", "{}", "[]", "{ }", "0", "-1.5e3", "\"s\"", "[{}]", "tru",
            "truex", "true1", "{}}", "{]", "[}", "{}x", "t", "{", "01", "nul"
        )]
        value: &str,
    ) {
        let text = format!(r#"{{"x":{value},"abc":"a"}}"#);
        let mut r = Reader::new(text.as_bytes()).unwrap();
        let got = read::<Twins>(&mut r).and_then(|twins| r.finish().map(|()| twins));
        let serde = serde_json::from_str::<serde_json::Value>(&text);
        assert_eq!(got.is_ok(), serde.is_ok(), "{text}");
        if let Ok(twins) = got {
            assert_eq!(twins.one.as_deref(), Some("a"));
        }
    }

    /// String maps are read alike however they are written: compact (the field loop's way),
    /// spaced, with escaped keys; and refused alike when they are not maps of strings.
    #[rstest]
    #[case::compact(r#"{"a":"1","b/c":"2"}"#, Ok(vec![("a", "1"), ("b/c", "2")]))]
    #[case::spaced(r#"{ "a" : "1" ,"b/c": "2" }"#, Ok(vec![("a", "1"), ("b/c", "2")]))]
    #[case::escaped_key(r#"{"a\u0062":"1","c":"\n"}"#, Ok(vec![("ab", "1"), ("c", "\n")]))]
    #[case::empty("{}", Ok(vec![]))]
    #[case::empty_spaced("{ }", Ok(vec![]))]
    #[case::not_a_string(r#"{"a":"1","b":2}"#, Err("m.b: expected a string, found a number"))]
    #[case::no_colon(r#"{"a""1"}"#, Err("m: expected `:` at byte 4"))]
    #[case::trailing_comma(r#"{"a":"1",}"#, Err("m: expected a string key at byte 9"))]
    #[case::unterminated(r#"{"a":"1","b"#, Err("m: unterminated string at byte 9"))]
    fn string_maps_read_alike(
        #[case] text: &str,
        #[case] expected: Result<Vec<(&str, &str)>, &str>,
    ) {
        let mut r = Reader::new(text.as_bytes()).unwrap();
        let mut pairs = Vec::new();
        let got = read_pairs(&mut r, &mut pairs).and_then(|()| r.finish());
        match expected {
            Ok(want) => {
                got.unwrap();
                let got: Vec<_> = pairs
                    .iter()
                    .map(|(k, v)| (k.as_ref(), v.as_ref()))
                    .collect();
                assert_eq!(got, want);
                assert_eq!(r.depth, 0);
            }
            Err(message) => assert_eq!(got.unwrap_err().describe("m"), message),
        }
    }

    /// Each model object gives its level back where it ends, compact (`}` right after its last
    /// value) or spaced: a list of many objects is as deep as one.
    #[rstest]
    #[case::compact(r#"{"one":"a","two":"b"}"#)]
    #[case::spaced(r#"{ "one": "a", "two": "b" }"#)]
    #[case::empty("{}")]
    fn model_objects_give_their_level_back(#[case] item: &str) {
        let items = vec![item; 300].join(",");
        let text = format!("[{items}]");
        let mut r = Reader::new(text.as_bytes()).unwrap();
        assert_eq!(read::<Vec<Twins>>(&mut r).unwrap().len(), 300);
        assert_eq!(r.depth, 0);
        r.finish().unwrap();
        // Under 254 lists, each item's contents are at the limit and still read.
        let deep = format!("{}[{items}]{}", "[".repeat(254), "]".repeat(254));
        let mut r = Reader::new(deep.as_bytes()).unwrap();
        let mut opened = Vec::new();
        for _ in 0..254 {
            opened.push(r.enter(b'[', "an array").unwrap());
            assert!(r.item(opened.last_mut().unwrap()).unwrap());
        }
        assert_eq!(read::<Vec<Twins>>(&mut r).unwrap().len(), 300);
    }

    /// The depth limit counts the containers the model is in and those a skip is in alike:
    /// 256 open non-empty containers are read, and the next one is refused where its first
    /// value starts.
    #[rstest]
    #[case::skipped(0)]
    #[case::under_a_model_field(1)]
    fn the_depth_limit_is_exact(#[case] model: usize) {
        let nest = |depth: usize| {
            let inner = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            if model == 0 {
                inner
            } else {
                format!(r#"{{"q": {}}}"#, &inner[1..inner.len() - 1])
            }
        };
        let ok = nest(256);
        assert!(validate(ok.as_bytes()).is_ok());
        let mut r = Reader::new(ok.as_bytes()).unwrap();
        assert!(read::<Twins>(&mut r).is_ok() || model == 0);
        let deep = nest(257);
        let e = validate(deep.as_bytes()).unwrap_err();
        assert_eq!(
            e.message(),
            format!(
                "nested deeper than 256 levels at byte {}",
                deep.find('1').unwrap()
            )
        );
        // Empty containers count for nothing.
        let empty = format!("{}[]{}", "[".repeat(256), "]".repeat(256));
        assert!(validate(empty.as_bytes()).is_ok());
    }

    #[test]
    fn errors_carry_the_path() {
        let doc = Doc::parse(br#"{"xs": ["a", 1]}"#).unwrap();
        let doc = doc.root();
        assert!(
            Vec::<Str>::from_json(doc.get("xs").unwrap())
                .unwrap_err()
                .message()
                .contains("found a number")
        );
        let err = Vec::<Str>::from_json(doc.get("xs").unwrap())
            .unwrap_err()
            .at_key("xs");
        assert_eq!(
            err.describe("input"),
            "input.xs[1]: expected a string, found a number"
        );
    }
}
