//! One evaluation: input bytes and the data document in, the entrypoint's result out.

use crate::Entrypoint;
use crate::decision::{Decision, RuleName, Violation};
use crate::dialect::Answer;
use crate::request::json::{Doc, Kind};
use crate::request::{Dialect, Input, Object};
use crate::rules::{self, Context};
use crate::settings::{Settings, Source};

/// Evaluates one request.
///
/// `input` is the JSON text of the input document in any of the three dialects; `data` is the
/// JSON text of the data document (settings live there unless the input carries
/// `parameters`). Returns the JSON text of the entrypoint's result value (the `X` of the result
/// set `[{"result": X}]`). Never fails: malformed input or settings become a `valid-request`
/// denial.
pub fn evaluate(entrypoint: Entrypoint, input: &[u8], data: Option<&[u8]>) -> String {
    evaluate_or(entrypoint, input, data, || None)
}

/// [`evaluate`], but input that is not JSON is first offered to `convert` (the ABI turns Rego
/// value text, which the OPA Go SDK sends, into JSON there). Costs nothing for JSON input.
pub fn evaluate_or(
    entrypoint: Entrypoint,
    input: &[u8],
    data: Option<&[u8]>,
    convert: impl FnOnce() -> Option<Vec<u8>>,
) -> String {
    let mut outcome = decide(input, data);
    if outcome.not_json
        && let Some(json) = convert()
    {
        outcome = decide(&json, data);
    }
    Answer {
        dialect: outcome.dialect.as_ref(),
        uid: &outcome.uid,
        decision: &outcome.decision,
    }
    .render(entrypoint)
}

/// The decision with what the edge needs to answer in the caller's dialect.
pub struct Outcome {
    /// The input was not JSON at all (so another reading of it may be tried).
    pub not_json: bool,
    pub dialect: Option<Dialect>,
    pub uid: String,
    pub decision: Decision,
}

/// Judges one input document.
pub fn decide(input: &[u8], data: Option<&[u8]>) -> Outcome {
    let doc = match Doc::parse(input) {
        Ok(doc) => doc,
        Err(e) => {
            return Outcome {
                not_json: true,
                dialect: None,
                uid: String::new(),
                decision: Decision::invalid("input", format!("input is not JSON: {}", e.message)),
            };
        }
    };
    let parsed = match Input::parse(&doc) {
        Ok(parsed) => parsed,
        Err(e) => {
            return Outcome {
                not_json: false,
                dialect: e.dialect,
                uid: String::new(),
                decision: Decision::invalid(e.path, e.message),
            };
        }
    };
    let uid = parsed.request.uid.as_deref().unwrap_or("").to_owned();
    let decision = match settings(&parsed, data) {
        Ok(settings) => judge(&parsed, &settings),
        Err(violations) => Decision::from_violations(None, violations),
    };
    Outcome {
        not_json: false,
        dialect: Some(parsed.dialect),
        uid,
        decision,
    }
}

/// Settings from `parameters` when the input has them, else from the data document.
fn settings(input: &Input<'_>, data: Option<&[u8]>) -> Result<Settings, Vec<Violation>> {
    let invalid = |path: &str, msg: String| vec![Violation::new(RuleName::ValidRequest, path, msg)];
    let data_doc = match (input.parameters, data) {
        (None, Some(data)) => match Doc::parse(data) {
            Ok(doc) => Some(doc),
            Err(e) => {
                return Err(invalid(
                    "data",
                    format!("the data document is not JSON: {}", e.message),
                ));
            }
        },
        _ => None,
    };
    let (value, source, origin) = match (input.parameters, &data_doc) {
        (Some(parameters), _) => (Some(parameters), Source::Parameters, "input.parameters"),
        (None, Some(doc)) => (Some(doc.root()), Source::Data, "data"),
        (None, None) => (None, Source::Data, "data"),
    };
    let empty = value.is_none_or(|v| match v.kind() {
        Kind::Null => true,
        Kind::Object => v
            .entries()
            .all(|(k, _)| k == "kubernetes" || k == "inventory"),
        _ => false,
    });
    let Some(value) = value.filter(|_| !empty) else {
        return Err(invalid(
            origin,
            "no settings: give them as the Gatekeeper constraint's parameters, or as the data document (OPA bundle data.json, Kubewarden settings); see the README's settings reference".to_owned(),
        ));
    };
    Settings::from_json(value, source).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| {
                let path = e.split_once(':').map_or("settings", |(p, _)| p).to_owned();
                Violation::new(
                    RuleName::ValidRequest,
                    path,
                    format!("invalid settings ({origin}): {e}"),
                )
            })
            .collect()
    })
}

fn judge(input: &Input<'_>, settings: &Settings) -> Decision {
    let request = &input.request;
    let username = request.username();
    if username.is_empty() {
        return Decision::invalid(
            "request.userInfo.username",
            "the request has no userInfo.username: identity comes from userInfo only, so it cannot be judged (admission requests always carry it; background audits cannot judge identity rules)",
        );
    }
    let object = match Object::parse(&request.kind.group, &request.kind.kind, request.object) {
        Ok(object) => object,
        Err(e) => {
            return Decision::invalid(
                "request.object",
                format!(
                    "request.object is not a valid {}: {}",
                    request.kind.kind,
                    e.describe("object")
                ),
            );
        }
    };
    let runner = settings.runner_for(username).map(|r| r.runner_type);
    if settings.exempt_users.iter().any(|u| u == username) {
        return Decision::from_violations(runner, Vec::new());
    }
    let Some(ctx) = Context::new(request, &object, settings) else {
        return Decision::invalid("request.operation", "the request has no operation");
    };
    Decision::from_violations(runner, rules::run_all(&ctx))
}
