//! The line reader against `serde_json`: every line it takes is the event the slow way reads,
//! and what it leaves is left whole.

use serde_json::{Value, json};

use super::read_line;
use crate::audit::{Event, Facts, Raw, is_audit_event};

/// The event the slow way reads from `line`: `None` when it is not JSON or not an audit event,
/// `Some(Err)` when it is one that cannot be read.
fn slow(line: &[u8]) -> Option<Result<Event, serde_json::Error>> {
    let value: Value = serde_json::from_slice(line).ok()?;
    is_audit_event(&value).then(|| serde_json::from_value(value))
}

/// A raw value as its tree and facts, for comparing texts written differently.
fn tree(raw: Option<&std::sync::Arc<Raw>>) -> Option<(Value, Facts)> {
    raw.map(|r| {
        let value = r.value();
        assert_eq!(r.facts(), &Facts::of(&value), "{}", r.text());
        (value, r.facts().clone())
    })
}

/// Whether two events hold the same, the JSON values compared as trees.
fn assert_same(fast: &Event, slow: &Event, line: &str) {
    assert_eq!(fast.audit_id, slow.audit_id, "{line}");
    assert_eq!(fast.stage, slow.stage, "{line}");
    assert_eq!(fast.request_uri, slow.request_uri, "{line}");
    assert_eq!(fast.verb, slow.verb, "{line}");
    assert_eq!(fast.object_ref, slow.object_ref, "{line}");
    assert_eq!(fast.response_status, slow.response_status, "{line}");
    assert_eq!(fast.annotations, slow.annotations, "{line}");
    for (a, b) in [
        (&fast.user, &slow.user),
        (&fast.impersonated_user, &slow.impersonated_user),
        (&fast.request_object, &slow.request_object),
        (&fast.response_object, &slow.response_object),
    ] {
        assert_eq!(tree(a.as_ref()), tree(b.as_ref()), "{line}");
    }
}

const HEAD: &str = r#""kind":"Event","apiVersion":"audit.k8s.io/v1""#;

#[test]
fn lines_are_read_as_serde_json_reads_them_or_left_to_it() {
    let pod = r#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","resourceVersion":"7"},"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80}],"resources":{"limits":{"cpu":0.5}}}]}}"#;
    // (the line, whether the fast reader takes it)
    let cases: Vec<(String, bool)> = vec![
        (
            format!(
                r#"{{{HEAD},"auditID":"a","stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/pods?dryRun=All","user":{{"username":"u","groups":["g"]}},"objectRef":{{"resource":"pods","namespace":"ns","name":"p","apiVersion":"v1","uid":"x"}},"responseStatus":{{"metadata":{{}},"code":201}},"requestObject":{pod},"responseObject":{pod},"annotations":{{"authorization.k8s.io/decision":"allow"}}}}"#
            ),
            true,
        ),
        // Whitespace everywhere JSON allows it.
        (
            " { \"kind\" : \"Event\" ,\t\"apiVersion\":\r\"audit.k8s.io/v1\" , \"verb\" : \"create\" , \"requestObject\" : { \"kind\" : \"Pod\" , \"metadata\" : { \"name\" : \"p\" } } } \r\n"
                .to_owned(),
            true,
        ),
        // Escapes; characters beyond ASCII as they are.
        (
            format!(
                r#"{{{HEAD},"verb":"cre\u0061te","user":{{"username":"a\"b\\c\/d\n\t\u00e9\u003c\u0026"}},"requestObject":{{"kind":"Pod","metadata":{{"name":"é 日本 \ud7ff \uE000"}}}}}}"#
            ),
            true,
        ),
        // Absent and null fields.
        (format!("{{{HEAD}}}"), true),
        (
            format!(
                r#"{{{HEAD},"auditID":null,"stage":null,"verb":null,"requestURI":null,"user":null,"impersonatedUser":null,"objectRef":null,"responseStatus":null,"requestObject":null,"responseObject":null,"annotations":null}}"#
            ),
            true,
        ),
        (
            format!(
                r#"{{{HEAD},"objectRef":{{"resource":null,"name":null}},"responseStatus":{{"code":null}}}}"#
            ),
            true,
        ),
        // Objects of other types than expected, where a tree would hold them too.
        (
            format!(
                r#"{{{HEAD},"user":"u","requestObject":[1,{{"kind":"Pod"}}],"responseObject":{{"kind":5,"metadata":[],"dryRun":"All","target":{{"name":7}}}}}}"#
            ),
            true,
        ),
        (
            format!(
                r#"{{{HEAD},"requestObject":{{"kind":"DeleteOptions","dryRun":["x",null,"All"]}},"responseObject":{{"metadata":{{"deletionTimestamp":null}}}}}}"#
            ),
            true,
        ),
        (
            format!(
                r#"{{{HEAD},"responseObject":{{"metadata":{{"deletionTimestamp":"2025-01-01T00:00:00Z","generateName":"g-"}},"target":{{"name":"node-1"}}}}}}"#
            ),
            true,
        ),
        // Keys a tree would read differently from the text: repeated (the tree keeps the
        // last), or escaped (perhaps another key written differently).
        (format!(r#"{{{HEAD},"verb":"get","verb":"create"}}"#), false),
        (
            format!(r#"{{{HEAD},"requestObject":{{"metadata":{{"name":"a","name":"b"}}}}}}"#),
            false,
        ),
        (
            format!(r#"{{{HEAD},"requestObject":{{"spec":[{{"a":1,"b":{{"a":2}},"a":3}}]}}}}"#),
            false,
        ),
        (format!(r#"{{{HEAD},"\u0076erb":"create"}}"#), false),
        (
            format!(r#"{{{HEAD},"requestObject":{{"\u006bind":"Pod","kind":"Node"}}}}"#),
            false,
        ),
        // The same key in different objects is no repeat.
        (
            format!(
                r#"{{{HEAD},"requestObject":{{"name":"a","metadata":{{"name":"b"}},"spec":[{{"name":"c"}},{{"name":"d"}}]}},"responseObject":{{"name":"e"}}}}"#
            ),
            true,
        ),
        // Numbers JSON writes, big and small.
        (
            format!(
                r#"{{{HEAD},"requestObject":{{"a":-0,"b":0.25,"c":-12.5,"d":123456789012345678901234567890}}}}"#
            ),
            true,
        ),
        // A field of the wrong type: the event cannot be read.
        (format!(r#"{{{HEAD},"verb":5}}"#), false),
        (
            format!(r#"{{{HEAD},"responseStatus":{{"code":70000}}}}"#),
            false,
        ),
        (
            format!(r#"{{{HEAD},"responseStatus":{{"code":"201"}}}}"#),
            false,
        ),
        (
            format!(r#"{{{HEAD},"responseStatus":{{"code":201.0}}}}"#),
            false,
        ),
        (
            format!(r#"{{{HEAD},"responseStatus":{{"code":-1}}}}"#),
            false,
        ),
        (format!(r#"{{{HEAD},"annotations":{{"a":1}}}}"#), false),
        (format!(r#"{{{HEAD},"objectRef":["pods"]}}"#), false),
        // JSON left to serde_json: surrogates, exponents, deep nesting.
        (format!(r#"{{{HEAD},"verb":"\ud83d\ude00"}}"#), false),
        (format!(r#"{{{HEAD},"verb":"\ud800"}}"#), false),
        (format!(r#"{{{HEAD},"requestObject":{{"n":1e3}}}}"#), false),
        (
            format!(r#"{{{HEAD},"requestObject":{{"n":1e400}}}}"#),
            false,
        ),
        (
            format!(
                r#"{{{HEAD},"requestObject":{}1{}}}"#,
                "[".repeat(150),
                "]".repeat(150)
            ),
            false,
        ),
        // Not JSON.
        (format!("{{{HEAD},\"verb\":\"a\tb\"}}"), false),
        (format!(r#"{{{HEAD},"verb":"create"}} x"#), false),
        (format!(r#"{{{HEAD},"verb":"create",}}"#), false),
        (format!(r#"{{{HEAD},"verb":"\x"}}"#), false),
        (format!(r#"{{{HEAD},"n":01}}"#), false),
        (format!(r#"{{{HEAD},"n":1.}}"#), false),
        (format!(r#"{{{HEAD},"n":tru}}"#), false),
        (format!(r#"{{{HEAD},"verb":"create""#), false),
        // Not an audit event.
        (
            r#"{"kind":"AdmissionReview","request":{"uid":"1"}}"#.to_owned(),
            false,
        ),
        (
            r#"{"kind":"Event","apiVersion":"v1","verb":"create"}"#.to_owned(),
            false,
        ),
        (r#"{"kind":"Event"}"#.to_owned(), false),
        (format!("[{{{HEAD}}}]"), false),
        ("null".to_owned(), false),
    ];
    for (line, taken) in cases {
        match read_line(line.clone().into_bytes()) {
            Ok(fast) => {
                assert!(taken, "taken: {line}");
                let slow = slow(line.as_bytes())
                    .unwrap_or_else(|| panic!("serde_json reads no event from {line}"));
                assert_same(&fast, &slow.expect(&line), &line);
            }
            Err(back) => {
                assert!(!taken, "left: {line}");
                assert_eq!(back, line.as_bytes(), "the line comes back as it was");
            }
        }
    }
    // Bytes that are not UTF-8 come back too.
    let line = [HEAD.as_bytes(), b"\xff"].concat();
    assert_eq!(read_line(line.clone()), Err(line));
}

/// Any JSON value, with the keys the facts are read from.
fn any_value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z\"\\\\/\n\t\u{7f}<>&é日\u{1F600}]{0,6}".prop_map(Value::from),
        prop::sample::select(vec!["All", "Pod", "v1", "apps/v1", "Status"]).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(vec![
                        "kind",
                        "apiVersion",
                        "metadata",
                        "name",
                        "generateName",
                        "resourceVersion",
                        "deletionTimestamp",
                        "dryRun",
                        "target",
                        "username",
                    ])
                    .prop_map(str::to_owned),
                    "[a-zé]{1,4}",
                ],
                inner,
                0..5,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

    /// Any JSON value in an event, compact or spread out, is read as `serde_json` reads it,
    /// its facts as a tree gives them.
    #[test]
    fn any_value_is_read_as_serde_json_reads_it(
        object in any_value(),
        user in any_value(),
        pretty in proptest::bool::ANY,
    ) {
        let event = json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "verb": "create",
            "user": user, "requestObject": object.clone(), "responseObject": object,
        });
        // Pretty JSON on one line: newlines outside strings become spaces.
        let line = if pretty {
            serde_json::to_string_pretty(&event).unwrap().replace('\n', " ")
        } else {
            event.to_string()
        };
        let fast = read_line(line.clone().into_bytes());
        proptest::prop_assert!(fast.is_ok(), "left: {}", line);
        let slow = slow(line.as_bytes()).unwrap().unwrap();
        assert_same(&fast.unwrap(), &slow, &line);
    }
}
