//! One evaluation: input bytes and the data document in, the entrypoint's result out.

use crate::Entrypoint;
use crate::decision::{Decision, RuleName, Violation};
use crate::dialect::Answer;
use crate::request::json::{Doc, Json, Kind, is_one_of};
use crate::request::{Dialect, Input, Object};
use crate::rules::{self, Context};
use crate::settings::{ENGINE_KEYS, Settings, Source};

/// Evaluates one request.
///
/// `input` is the JSON text of the input document in any of the three dialects; `data` is the
/// JSON text of the data document (settings live there unless the input carries
/// `parameters`). Returns the JSON text of the entrypoint's result value (the `X` of the result
/// set `[{"result": X}]`). Never fails: malformed input or settings become a `valid-request`
/// denial.
pub fn evaluate(entrypoint: Entrypoint, input: &[u8], data: Option<&[u8]>) -> String {
    evaluate_or(entrypoint, input, Data::Text(data), || None)
}

/// The settings a data document holds, or the `valid-request` violations saying why it holds
/// none. Inputs without `parameters` are judged with them.
pub type DataSettings = Result<Settings, Vec<Violation>>;

/// The data document of an evaluation: its JSON text (`None`: no data), or the settings already
/// read from it by [`data_settings`] (the ABI keeps them between evaluations).
#[derive(Clone, Copy)]
pub enum Data<'a> {
    Text(Option<&'a [u8]>),
    Read(&'a DataSettings),
}

/// [`evaluate`], but input that is not JSON is first offered to `convert` (the ABI turns Rego
/// value text, which the OPA Go SDK sends, into JSON there). Costs nothing for JSON input.
pub fn evaluate_or(
    entrypoint: Entrypoint,
    input: &[u8],
    data: Data<'_>,
    convert: impl FnOnce() -> Option<Vec<u8>>,
) -> String {
    let mut outcome = decide_with(input, data);
    if outcome.not_json
        && let Some(json) = convert()
    {
        outcome = decide_with(&json, data);
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

/// Judges one input document against a data document given as JSON text.
pub fn decide(input: &[u8], data: Option<&[u8]>) -> Outcome {
    decide_with(input, Data::Text(data))
}

/// Judges one input document.
pub fn decide_with(input: &[u8], data: Data<'_>) -> Outcome {
    let doc = match Doc::parse(input) {
        Ok(doc) => doc,
        Err(e) => {
            return Outcome {
                not_json: true,
                dialect: None,
                uid: String::new(),
                decision: Decision::invalid("input", format!("input is not JSON: {}", e.message())),
            };
        }
    };
    let parsed = match Input::parse(&doc) {
        Ok(parsed) => parsed,
        Err(e) => {
            return Outcome {
                not_json: false,
                dialect: e.dialect,
                // The API server refuses an answer whose uid is not its request's: a denial
                // without it would be left to the webhook's failurePolicy.
                uid: doc
                    .root()
                    .get("request")
                    .and_then(|r| r.get("uid"))
                    .and_then(|u| u.as_str())
                    .map(|u| u.into_owned())
                    .unwrap_or_default(),
                decision: Decision::invalid(e.path, e.message),
            };
        }
    };
    let uid = parsed.request.uid.as_deref().unwrap_or("").to_owned();
    let from_input;
    let from_data;
    let settings = match (parsed.parameters, data) {
        (Some(parameters), _) => {
            from_input = read_settings(Some(parameters), Source::Parameters);
            &from_input
        }
        (None, Data::Read(settings)) => settings,
        (None, Data::Text(text)) => {
            from_data = data_settings(text);
            &from_data
        }
    };
    let decision = match settings {
        Ok(settings) => judge(&parsed, settings),
        Err(violations) => Decision::from_violations(None, violations.clone()),
    };
    let Input {
        dialect, request, ..
    } = parsed;
    release(request);
    Outcome {
        not_json: false,
        dialect: Some(dialect),
        uid,
        decision,
    }
}

/// The settings of a data document (JSON text; `None`: no data).
pub fn data_settings(data: Option<&[u8]>) -> DataSettings {
    let Some(data) = data else {
        return read_settings(None, Source::Data);
    };
    match Doc::parse(data) {
        Ok(doc) => read_settings(Some(doc.root()), Source::Data),
        Err(e) => Err(vec![Violation::new(
            RuleName::ValidRequest,
            "data",
            format!("the data document is not JSON: {}", e.message()),
        )]),
    }
}

/// Settings from `value` (the input's `parameters` or the data document).
fn read_settings(value: Option<Json<'_>>, source: Source) -> DataSettings {
    let origin = match source {
        Source::Parameters => "input.parameters",
        Source::Data => "data",
    };
    let invalid = |path: &str, msg: String| vec![Violation::new(RuleName::ValidRequest, path, msg)];
    let empty = value.is_none_or(|v| match v.kind() {
        Kind::Null => true,
        Kind::Object => v.entries().all(|(k, _)| ENGINE_KEYS.contains(&k.as_ref())),
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
                    match source {
                        // The Rego twin says the same of Gatekeeper parameters.
                        Source::Parameters => format!("invalid settings ({origin}): {e}"),
                        Source::Data => format!("invalid policy settings: {e}"),
                    },
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
    // A CREATE or UPDATE always carries the object it writes; without one there is nothing to
    // judge, and allowing it would fail open.
    if let (Some(op), Object::Absent) = (request.operation, &object)
        && op.writes_object()
    {
        return Decision::invalid(
            "request.object",
            format!(
                "this {} carries no object (request.object is missing or null), so it cannot be judged; the API server always sends the object a CREATE or UPDATE writes",
                op.as_str()
            ),
        );
    }
    let requester = settings.runner_for(username);
    let runner = requester.map(|r| r.runner_type);
    if is_one_of(username, &settings.exempt_users) {
        return Decision::from_violations(runner, Vec::new());
    }
    let Some(ctx) = Context::new(request, &object, settings, requester) else {
        return Decision::invalid("request.operation", "the request has no operation");
    };
    let violations = rules::run_all(&ctx);
    drop(ctx);
    release(object);
    Decision::from_violations(runner, violations)
}

/// Drops the request model, except in the module: there the host resets the whole heap after
/// every evaluation (the ABI's contract), and the bump allocator can only take back its most
/// recent block, so walking the model to free it would be wasted time.
fn release<T>(model: T) {
    if cfg!(target_arch = "wasm32") {
        std::mem::forget(model);
    } else {
        drop(model);
    }
}
