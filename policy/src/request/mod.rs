//! The request model: the input document in any of the three dialects, reduced to what the
//! rules read. Nothing here decides anything.

pub mod admission;
pub mod de;
pub mod image;
pub mod object;
pub mod pod;

/// The JSON reader: a crate of its own, optimised for speed (see `json-tape/src/lib.rs`).
pub use json_tape as json;

pub use admission::{AdmissionRequest, Operation};
pub use object::{Object, PodView};

use de::Str;
use json::{Doc, FromJson, Json};
use json_tape::from_json;

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

#[derive(Default)]
struct Document<'a> {
    review: Option<Json<'a>>,
    request: Option<Json<'a>>,
    parameters: Option<Json<'a>>,
    kind: Option<Str<'a>>,
    api_version: Option<Str<'a>>,
}
from_json!(Document<'a> { review: "review", request: "request", parameters: "parameters", kind: "kind", api_version: "apiVersion" });

/// A parsed input document.
#[derive(Debug)]
pub struct Input<'a> {
    pub dialect: Dialect,
    pub request: AdmissionRequest<'a>,
    /// Gatekeeper `parameters`, when the input carries them.
    pub parameters: Option<Json<'a>>,
}

/// Why an input cannot be judged. The dialect is known when the top level could be read.
#[derive(Debug)]
pub struct InputError {
    pub dialect: Option<Dialect>,
    pub path: &'static str,
    pub message: String,
}

impl<'a> Input<'a> {
    /// Reads the (validated) input document and its admission request.
    ///
    /// # Errors
    /// Not one of the three dialects, or a request field of the wrong type.
    pub fn parse(doc: &'a Doc<'a>) -> Result<Input<'a>, InputError> {
        let top = doc.root();
        let doc = Document::from_json(top).map_err(|e| InputError {
            dialect: None,
            path: "input",
            message: format!(
                "input is not one of the three dialects: {}",
                e.describe("input")
            ),
        })?;
        let (dialect, raw, path) = match (doc.review, doc.request) {
            (Some(review), _) => (Dialect::Gatekeeper, review, "input.review"),
            (None, Some(request)) if doc.kind.as_deref() == Some("AdmissionReview") => {
                let api_version = doc
                    .api_version
                    .as_deref()
                    .unwrap_or("admission.k8s.io/v1")
                    .to_owned();
                (
                    Dialect::AdmissionReview { api_version },
                    request,
                    "input.request",
                )
            }
            (None, Some(request)) => (Dialect::KubewardenOpa, request, "input.request"),
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
        let request = AdmissionRequest::from_json(raw).map_err(|e| invalid(e.describe(path)))?;
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
            parameters: doc.parameters.filter(|p| !p.is_null()),
        })
    }
}
