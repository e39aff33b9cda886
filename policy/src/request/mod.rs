//! The request model: the input document in any of the three dialects, reduced to what the
//! rules read. Nothing here decides anything.

pub mod admission;
pub mod de;
pub mod object;
pub mod pod;

pub use admission::{AdmissionRequest, Operation};
pub use object::{Object, PodView};

use de::Str;
use serde::Deserialize;
use serde_json::value::RawValue;

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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    #[serde(borrow, default)]
    review: Option<&'a RawValue>,
    #[serde(borrow, default)]
    request: Option<&'a RawValue>,
    #[serde(borrow, default)]
    parameters: Option<&'a RawValue>,
    #[serde(borrow, default)]
    kind: Option<Str<'a>>,
    #[serde(borrow, default)]
    api_version: Option<Str<'a>>,
}

/// A parsed input document.
#[derive(Debug)]
pub struct Input<'a> {
    pub dialect: Dialect,
    pub request: AdmissionRequest<'a>,
    /// Gatekeeper `parameters`, when the input carries them.
    pub parameters: Option<&'a RawValue>,
}

/// Why an input cannot be judged. The dialect is known when the top level could be read.
#[derive(Debug)]
pub struct InputError {
    pub dialect: Option<Dialect>,
    pub path: &'static str,
    pub message: String,
}

impl<'a> Input<'a> {
    /// Reads the input document and its admission request.
    ///
    /// # Errors
    /// Not JSON, not one of the three dialects, or a request field of the wrong type.
    pub fn parse(bytes: &'a [u8]) -> Result<Input<'a>, InputError> {
        let doc: Document<'a> = serde_json::from_slice(bytes).map_err(|e| InputError {
            dialect: None,
            path: "input",
            message: format!("input is not a JSON object: {e}"),
        })?;
        let (dialect, raw, path) = match (doc.review, doc.request) {
            (Some(review), _) => (Dialect::Gatekeeper, review, "input.review"),
            (None, Some(request)) if doc.kind.as_deref() == Some("AdmissionReview") => {
                let api_version = doc.api_version.as_deref().unwrap_or("admission.k8s.io/v1").to_owned();
                (Dialect::AdmissionReview { api_version }, request, "input.request")
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
        let request: AdmissionRequest<'a> = serde_json::from_str(raw.get()).map_err(|e| InputError {
            dialect: Some(dialect.clone()),
            path,
            message: format!("{path} is not a valid AdmissionRequest: {e}"),
        })?;
        Ok(Input {
            dialect,
            request,
            parameters: doc.parameters.filter(|p| p.get() != "null"),
        })
    }
}
