//! The request model: the input document in any of the three dialects, reduced to what the
//! rules read. Nothing here decides anything.

use alloc::{borrow::ToOwned, format, string::String};

pub mod admission;
pub mod de;
pub mod image;
pub mod object;
pub mod pod;

/// The JSON reader: a crate of its own, optimised for speed (see `json-pass/src/lib.rs`).
pub use json_pass as json;

pub use admission::{AdmissionRequest, Operation};
pub use object::{Object, PodView};

use de::Str;
use json::{Deferred, Field, Json, JsonError, Reader, Slot, read_fields, same_bytes, validate};
use json_pass::keys;

/// The input dialect, which decides the shape of the `runners/main` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialect {
    /// `{"review": AdmissionRequest, "parameters": Settings}` (Gatekeeper, Kubewarden gatekeeper mode).
    Gatekeeper,
    /// `{"request": AdmissionRequest}` (Kubewarden opa mode).
    KubewardenOpa,
    /// A raw AdmissionReview; the answer echoes its apiVersion.
    AdmissionReview { api_version: String },
}

/// The top level of an input document, where [`Document::read`] fills its request in place:
/// the model is large, and moving it costs a call into the host per move in wasmtime. Its
/// request is read in the same pass; a type error in it waits for the rest of the text, whose
/// own errors come first, and matters only if the dialect reads that request.
#[derive(Default)]
pub(crate) struct Document<'a> {
    review: Deferred<AdmissionRequest<'a>>,
    request: Deferred<AdmissionRequest<'a>>,
    parameters: Option<Json<'a>>,
    parameters_kept: bool,
    kind: Option<Str<'a>>,
    api_version: Option<Str<'a>>,
}

/// The `parameters` value, kept as text. Hosts send the same settings with every request: a
/// value that repeats `known`, the text of the settings kept from an earlier request, is not
/// checked again (see [`Reader::raw_or_known`]), and `kept` says so.
struct Parameters<'s, 'a> {
    known: &'s [u8],
    value: &'s mut Option<Json<'a>>,
    kept: &'s mut bool,
}

impl<'a> Slot<'a> for Parameters<'_, 'a> {
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        let (value, kept) = r.raw_or_known(self.known)?;
        (*self.value, *self.kept) = (Some(value), kept);
        Ok(())
    }
}

/// An input document, read: its request lives in the `Document` it was read into.
#[derive(Debug)]
pub struct Input<'d, 'a> {
    pub dialect: Dialect,
    pub request: &'d mut AdmissionRequest<'a>,
    /// Gatekeeper `parameters`, when the input carries them.
    pub parameters: Option<Json<'a>>,
    /// The parameters are the `known` text given to `Document::read`.
    pub parameters_known: bool,
}

/// Why an input cannot be judged. The dialect is known when the top level could be read.
#[derive(Debug)]
pub struct InputError {
    pub dialect: Option<Dialect>,
    pub path: &'static str,
    pub message: String,
}

/// Why an input cannot be judged: it is not JSON, or not a request the policy can read.
#[derive(Debug)]
pub enum ReadError {
    NotJson(JsonError),
    Invalid(InputError),
}

impl<'a> Document<'a> {
    /// Reads an input document and its admission request in one pass over its text, into
    /// this document, which must be new (`Document::default()`): a field of an earlier text
    /// would stay where this one has none. The one caller, the evaluation, makes one each
    /// time; resetting here cost 170 instructions. `known` is the text of the `parameters` of
    /// an earlier input (its settings are kept): the same text here is taken without a second
    /// check.
    ///
    /// # Errors
    /// Not JSON; not one of the three dialects; a request field of the wrong type.
    pub(crate) fn read(
        &mut self,
        text: &'a [u8],
        known: &[u8],
    ) -> Result<Input<'_, 'a>, ReadError> {
        let mut r = Reader::new(text).map_err(ReadError::NotJson)?;
        if let Err(e) = self.fill(&mut r, known).and_then(|()| r.finish()) {
            if e.is_not_json() {
                return Err(ReadError::NotJson(e));
            }
            // A type error stopped the pass: the text after it may still not be JSON, and
            // that is said first.
            validate(text).map_err(ReadError::NotJson)?;
            return Err(ReadError::Invalid(InputError {
                dialect: None,
                path: "input",
                message: format!(
                    "input is not one of the three dialects: {}",
                    e.describe("input")
                ),
            }));
        }
        self.input().map_err(ReadError::Invalid)
    }

    fn fill(&mut self, r: &mut Reader<'a>, known: &[u8]) -> Result<(), JsonError> {
        let Self {
            review,
            request,
            parameters,
            parameters_kept,
            kind,
            api_version,
        } = self;
        read_fields(
            r,
            keys!("review", "request", "parameters", "kind", "apiVersion"),
            &mut [
                review.field(),
                request.field(),
                Field::Any(&mut Parameters {
                    known,
                    value: parameters,
                    kept: parameters_kept,
                }),
                kind.field(),
                api_version.field(),
            ],
        )
    }

    /// The input this document holds, once read.
    fn input(&mut self) -> Result<Input<'_, 'a>, InputError> {
        let (dialect, read, path) = match (&mut self.review.0, &mut self.request.0) {
            (Some(review), _) => (Dialect::Gatekeeper, review, "input.review"),
            (None, Some(request)) => {
                let dialect = if self
                    .kind
                    .as_deref()
                    .is_some_and(|k| same_bytes(k.as_bytes(), b"AdmissionReview"))
                {
                    Dialect::AdmissionReview {
                        api_version: self
                            .api_version
                            .as_deref()
                            .unwrap_or("admission.k8s.io/v1")
                            .to_owned(),
                    }
                } else {
                    Dialect::KubewardenOpa
                };
                (dialect, request, "input.request")
            }
            (None, None) => {
                return Err(InputError {
                    dialect: None,
                    path: "input",
                    message: "unsupported input: expected {\"review\": AdmissionRequest} (Gatekeeper), {\"request\": AdmissionRequest} (Kubewarden opa mode) or an AdmissionReview".to_owned(),
                });
            }
        };
        let invalid = |message: String| InputError {
            dialect: Some(dialect.clone()),
            path,
            message: format!("{path} is not a valid AdmissionRequest: {message}"),
        };
        let request = read.as_mut().map_err(|e| invalid(e.describe(path)))?;
        if request.operation.is_none() {
            return Err(invalid(format!(
                "{path}.operation is required (CREATE, UPDATE, DELETE or CONNECT)"
            )));
        }
        // The API server sends a uid with every AdmissionReview and refuses an answer without
        // it. (Gatekeeper's audit and gator send reviews without one.)
        if matches!(dialect, Dialect::AdmissionReview { .. })
            && request.uid.as_deref().is_none_or(str::is_empty)
        {
            return Err(invalid(format!(
                "{path}.uid is required (the API server sends one with every AdmissionReview)"
            )));
        }
        if request.kind.kind.is_empty() {
            return Err(invalid(format!(
                "{path}.kind.kind is required (the object's kind, e.g. Pod)"
            )));
        }
        Ok(Input {
            dialect,
            request,
            parameters: self.parameters.filter(|p| !p.is_null()),
            parameters_known: self.parameters_kept,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::decide;
    use rstest::rstest;

    const DATA: &[u8] = br#"{"org": "acme", "runners": [{"type": "dind", "serviceAccount": "gitlab-runner-dind"}]}"#;

    /// A request of `kind` with `object`, its fields in the order the API server sends them
    /// (kind before object) or the other way round.
    fn review(kind: &str, object: &str, kind_first: bool) -> String {
        let kind = format!(r#""kind": {{"group": "", "version": "v1", "kind": "{kind}"}}"#);
        let object = format!(r#""object": {object}"#);
        let (a, b) = if kind_first {
            (kind, object)
        } else {
            (object, kind)
        };
        format!(
            r#"{{"request": {{"uid": "u", {a}, "operation": "CREATE", "userInfo": {{"username": "system:serviceaccount:acme-runners:gitlab-runner-dind"}}, {b}}}}}"#
        )
    }

    /// The decision as its messages: the pass that reads the object in the shape of its
    /// kind and the read of its kept text once the kind is known say the same.
    fn messages(input: &str) -> Vec<String> {
        let outcome = decide(input.as_bytes(), Some(DATA));
        outcome
            .decision
            .violations
            .into_iter()
            .map(|v| v.msg)
            .collect()
    }

    #[rstest]
    #[case::host_network_pod(
        "Pod",
        r#"{"metadata": {"name": "p", "namespace": "acme-runners"}, "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "quay.io/x"}]}}"#
    )]
    #[case::type_error("Pod", r#"{"metadata": {"name": 5}, "spec": {"containers": []}}"#)]
    #[case::no_pod_spec("Pod", r#"{"metadata": {"name": "p"}, "spec": null}"#)]
    #[case::deployment(
        "Deployment",
        r#"{"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "quay.io/x"}]}}}}"#
    )]
    fn the_object_reads_alike_before_and_after_its_kind(#[case] kind: &str, #[case] object: &str) {
        let early = messages(&review(kind, object, true));
        assert!(!early.is_empty(), "{early:?}");
        assert_eq!(early, messages(&review(kind, object, false)));
    }

    /// Which error an input gets when it has more than one: not JSON first, then the top
    /// level, then the request, then the object.
    #[rstest]
    #[case::syntax_after_a_type_error_in_the_object(
        r#"{"request": {"kind": {"kind": "Pod"}, "object": {"spec": 5}, "operation": "CREATE"}} x"#,
        "input is not JSON: trailing characters after the document at byte 85"
    )]
    #[case::syntax_after_a_type_error_in_the_request(
        r#"{"request": {"uid": 5}, "kind": [1 2]}"#,
        "input is not JSON: expected `,` or `]` at byte 35"
    )]
    #[case::top_level_after_a_type_error_in_the_request(
        r#"{"review": {"uid": 5}, "kind": 5}"#,
        "input is not one of the three dialects: input.kind: expected a string, found a number"
    )]
    #[case::request_after_a_type_error_in_the_object(
        r#"{"request": {"kind": {"kind": "Pod"}, "object": {"spec": 5}, "operation": "CREATE", "userInfo": 7}}"#,
        "input.request is not a valid AdmissionRequest: input.request.userInfo: expected an object, found a number"
    )]
    #[case::request_of_the_other_dialect_ignored(
        r#"{"request": {"uid": 5}, "review": {"kind": {"kind": "Pod"}, "operation": "CREATE", "userInfo": {"username": "u"}, "object": {"spec": 5}}}"#,
        "request.object is not a valid Pod: object.spec: expected an object, found a number"
    )]
    #[case::duplicate_key_in_a_skipped_request(
        r#"{"review": {"kind": {"kind": "Pod"}, "kind": {}}, "kind": "AdmissionReview"}"#,
        "input.review is not a valid AdmissionRequest: input.review: duplicate key `kind`"
    )]
    fn errors_rank_as_before(#[case] input: &str, #[case] message: &str) {
        let outcome = decide(input.as_bytes(), Some(DATA));
        let first = outcome.decision.violations.first().map(|v| v.msg.as_str());
        assert_eq!(
            first,
            Some(format!("valid-request: {message}").as_str()),
            "{input}"
        );
    }

    /// A warm cache skips the check of `parameters` that repeat the last ones it kept; it must
    /// answer every input as a fresh cache does: the same parameters, others, a prefix of
    /// them, them followed by text that is not JSON, and them elsewhere than at the top.
    #[test]
    fn known_parameters_answer_as_fresh_ones_do() {
        let params = r#"{"org": "acme", "runners": [{"type": "dind", "serviceAccount": "gitlab-runner-dind"}]}"#;
        let pod = r#"{"metadata": {"name": "p", "namespace": "acme-runners"}, "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "quay.io/x"}]}}"#;
        let request = review("Pod", pod, true);
        let review = request
            .strip_prefix(r#"{"request": "#)
            .and_then(|r| r.strip_suffix('}'))
            .unwrap();
        let gatekeeper =
            |parameters: &str| format!(r#"{{"review": {review}, "parameters": {parameters}}}"#);
        let inputs = [
            gatekeeper(params),
            gatekeeper(params),
            gatekeeper(&params.replace("acme", "other")),
            gatekeeper(params),
            gatekeeper(&params[..params.len() - 1]),
            gatekeeper(&format!("{params} x")),
            gatekeeper(&format!("{params}x")),
            format!(r#"{{"parameters": {params}, "review": {review}"#),
            gatekeeper(&format!(r#"{{"p": {params}}}"#)),
            format!(r#"{{"review": {review}, "parameters": {params}, "parameters": {params}}}"#),
            gatekeeper("null"),
            gatekeeper(params),
        ];
        let mut warm = crate::SettingsCache::<crate::cache::Heap>::new();
        for (i, input) in inputs.iter().enumerate() {
            let got = warm.decide(input.as_bytes(), None);
            let fresh = decide(input.as_bytes(), None);
            assert_eq!(got.decision, fresh.decision, "input {i}: {input}");
            assert_eq!(got.dialect, fresh.dialect, "input {i}");
        }
    }
}
