//! One evaluation: input bytes and the data document in, the entrypoint's result out.

use crate::decision::{Decision, RuleName, Violation};
use crate::dialect::Answer;
use crate::request::{Dialect, Input, Object};
use crate::rules::{self, Context};
use crate::settings::{Settings, Source};
use crate::Entrypoint;
use serde_json::Value;

/// Evaluates one request.
///
/// `input` is the JSON text of the input document in any of the three dialects; `data` is the
/// data document (settings live there unless the input carries `parameters`). Returns the JSON
/// text of the entrypoint's result value (the `X` of the result set `[{"result": X}]`).
/// Never fails: malformed input or settings become a `valid-request` denial.
pub fn evaluate(entrypoint: Entrypoint, input: &[u8], data: Option<&Value>) -> String {
    let outcome = decide(input, data);
    Answer {
        dialect: outcome.dialect.as_ref(),
        uid: &outcome.uid,
        decision: &outcome.decision,
    }
    .render(entrypoint)
}

/// The decision with what the edge needs to answer in the caller's dialect.
pub struct Outcome {
    pub dialect: Option<Dialect>,
    pub uid: String,
    pub decision: Decision,
}

/// Judges one input document.
pub fn decide(input: &[u8], data: Option<&Value>) -> Outcome {
    let parsed = match Input::parse(input) {
        Ok(parsed) => parsed,
        Err(e) => {
            return Outcome {
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
        dialect: Some(parsed.dialect),
        uid,
        decision,
    }
}

/// Settings from `parameters` when the input has them, else from the data document.
fn settings(input: &Input<'_>, data: Option<&Value>) -> Result<Settings, Vec<Violation>> {
    let invalid = |path: &str, msg: String| vec![Violation::new(RuleName::ValidRequest, path, msg)];
    let (value, source, origin) = match (input.parameters, data) {
        (Some(raw), _) => match serde_json::from_str::<Value>(raw.get()) {
            Ok(v) => (v, Source::Parameters, "input.parameters"),
            Err(e) => return Err(invalid("input.parameters", format!("parameters are not valid JSON: {e}"))),
        },
        (None, Some(data)) => (data.clone(), Source::Data, "data"),
        (None, None) => (Value::Null, Source::Data, "data"),
    };
    let empty = match &value {
        Value::Null => true,
        Value::Object(o) => o.keys().all(|k| k == "kubernetes" || k == "inventory"),
        _ => false,
    };
    if empty {
        return Err(invalid(
            origin,
            "no settings: give them as the Gatekeeper constraint's parameters, or as the data document (OPA bundle data.json, Kubewarden settings); see the README's settings reference".to_owned(),
        ));
    }
    Settings::from_value(&value, source).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| {
                let path = e.split_once(':').map_or("settings", |(p, _)| p).to_owned();
                Violation::new(RuleName::ValidRequest, path, format!("invalid settings ({origin}): {e}"))
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
                format!("request.object is not a valid {}: {e}", request.kind.kind),
            );
        }
    };
    let runner = settings.runner_for(username).map(|r| r.runner_type);
    if settings.exempt_users.iter().any(|u| u == username) {
        return Decision::from_violations(runner, Vec::new());
    }
    let ctx = Context::new(request, &object, settings);
    Decision::from_violations(runner, rules::run_all(&ctx))
}
