//! One evaluation: input bytes and the data document in, a decision out, rendered for the
//! entrypoint the caller asked for.

use crate::Entrypoint;
use crate::cache::{Keep, SettingsCache};
use crate::decision::{Decision, RuleName, Violation};
use crate::dialect::Answer;
use crate::request::json::{Doc, Json, JsonError, Kind, is_one_of};
use crate::request::{AdmissionRequest, Dialect, Document, Input, Object, ReadError};
use crate::rules::{self, Context};
use crate::settings::{ENGINE_KEYS, Settings, Source};
use alloc::{borrow::ToOwned, boxed::Box, format, string::String, vec, vec::Vec};

/// Judges one input document, reading its settings afresh.
///
/// `input` is the JSON text of the input document in any of the three dialects; `data` is the
/// JSON text of the data document (`None`: no data), whose settings apply unless the input
/// carries `parameters`. Never fails: malformed input or settings become a `valid-request`
/// denial. [`SettingsCache::decide`] does the same, reading each settings text only once.
pub fn decide(input: &[u8], data: Option<&[u8]>) -> Outcome {
    SettingsCache::<crate::cache::Heap>::new().decide(input, data)
}

/// The decision with what the edge needs to answer in the caller's dialect.
pub struct Outcome {
    /// The input was not JSON at all (so another reading of it may be tried).
    pub not_json: bool,
    pub dialect: Option<Dialect>,
    pub uid: String,
    pub decision: Decision,
}

impl Outcome {
    /// `decision` about an input that was not judged, in no dialect.
    pub fn unjudged(decision: Decision) -> Self {
        Outcome {
            not_json: false,
            dialect: None,
            uid: String::new(),
            decision,
        }
    }

    /// The JSON text of the entrypoint's result value (the `X` of the result set
    /// `[{"result": X}]`).
    pub fn render(&self, entrypoint: Entrypoint) -> String {
        self.answer().render(entrypoint)
    }

    /// [`Outcome::render`] between `head` and `tail` (see [`Answer::render_between`]).
    pub fn render_between(&self, entrypoint: Entrypoint, head: &str, tail: &str) -> String {
        self.answer().render_between(entrypoint, head, tail)
    }

    fn answer(&self) -> Answer<'_> {
        Answer {
            dialect: self.dialect.as_ref(),
            uid: &self.uid,
            decision: &self.decision,
        }
    }
}

/// The settings a data document or a `parameters` value holds, or the `valid-request`
/// violations saying why it holds none.
pub type ReadSettings = Result<Settings, Vec<Violation>>;

impl<K: Keep> SettingsCache<K> {
    /// [`decide`], with settings read once per distinct text and kept here.
    pub fn decide(&mut self, input: &[u8], data: Option<&[u8]>) -> Outcome {
        // A Gatekeeper input repeats the parameters of the last one, as a rule: that text is
        // known to be JSON, and is not checked again.
        let known = self.last_text(Source::Parameters);
        let mut document = model(Document::default());
        let parsed = match document.read(input, known) {
            Ok(parsed) => parsed,
            Err(ReadError::NotJson(e)) => {
                return Outcome {
                    not_json: true,
                    dialect: None,
                    uid: String::new(),
                    decision: Decision::invalid(
                        "input",
                        format!("input is not JSON: {}", e.message()),
                    ),
                };
            }
            Err(ReadError::Invalid(e)) => {
                return Outcome {
                    not_json: false,
                    dialect: e.dialect,
                    // The API server refuses an answer whose uid is not its request's: a denial
                    // without it would be left to the webhook's failurePolicy. (The text is
                    // JSON: it is read again, on this path only.)
                    uid: Doc::parse(input)
                        .ok()
                        .and_then(|doc| doc.root().get("request"))
                        .and_then(|r| r.get("uid"))
                        .and_then(|u| u.as_str())
                        .map(|u| u.into_owned())
                        .unwrap_or_default(),
                    decision: Decision::invalid(e.path, e.message),
                };
            }
        };
        let uid = parsed.request.uid.as_deref().unwrap_or("").to_owned();
        // Settings come from the input's `parameters` when it has them, else from the data.
        // One reader for both keeps one copy of the cache's code in the module.
        let parameters = parsed.parameters;
        let (source, text) = match parameters {
            Some(parameters) => (Source::Parameters, Some(parameters.raw().as_bytes())),
            None => (Source::Data, data),
        };
        let settings = match text {
            Some(text) => {
                self.settings(source, text, parsed.parameters_known, || match parameters {
                    Some(parameters) => read_settings(Some(parameters), Source::Parameters),
                    None => data_settings(Some(text)),
                })
            }
            None => data_settings(None).map(alloc::borrow::Cow::Owned),
        };
        // The object read in the pass, if its kind came before it.
        let object = parsed.request.read_object.take();
        let decision = match settings {
            Ok(settings) => judge(&parsed, &settings, object),
            Err(violations) => Decision::from_violations(None, violations),
        };
        Outcome {
            not_json: false,
            dialect: Some(parsed.dialect),
            uid,
            decision,
        }
    }
}

/// The settings of a data document (JSON text; `None`: no data), as every evaluation reads
/// them.
pub fn data_settings(data: Option<&[u8]>) -> ReadSettings {
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
fn read_settings(value: Option<Json<'_>>, source: Source) -> ReadSettings {
    let origin = match source {
        Source::Parameters => "input.parameters",
        Source::Data => "data",
    };
    let empty = value.is_none_or(|v| match v.kind() {
        Kind::Null => true,
        Kind::Object => v.entries().all(|(k, _)| ENGINE_KEYS.contains(&k.as_ref())),
        _ => false,
    });
    let Some(value) = value.filter(|_| !empty) else {
        return Err(vec![Violation::new(
            RuleName::ValidRequest,
            origin,
            "no settings: give them as the Gatekeeper constraint's parameters, or as the data document (OPA bundle data.json, Kubewarden settings); see the README's settings reference",
        )]);
    };
    Settings::from_json(value, source).map_err(|errors| {
        let mut violations = Vec::with_capacity(errors.len());
        for error in errors {
            let msg = match source {
                // The Rego twin says the same of Gatekeeper parameters.
                Source::Parameters => format!("invalid settings ({origin}): {error}"),
                Source::Data => format!("invalid policy settings: {error}"),
            };
            violations.push(Violation::new(RuleName::ValidRequest, error.path, msg));
        }
        violations
    })
}

fn judge<'a>(
    input: &Input<'_, 'a>,
    settings: &Settings,
    object: Option<Result<Box<Object<'a>>, JsonError>>,
) -> Decision {
    let request: &AdmissionRequest = input.request;
    let username = request.username();
    if username.is_empty() {
        return Decision::invalid(
            "request.userInfo.username",
            "the request has no userInfo.username: identity comes from userInfo only, so it cannot be judged (admission requests always carry it; background audits cannot judge identity rules)",
        );
    }
    let object = object.unwrap_or_else(|| {
        Object::parse(&request.kind.group, &request.kind.kind, request.object).map(Box::new)
    });
    let object = match object {
        Ok(object) => model(object),
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
    let object: &Object = &object;
    // A CREATE or UPDATE always carries the object it writes; without one there is nothing to
    // judge, and allowing it would fail open.
    if let (Some(op), Object::Absent) = (request.operation, object)
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
    let Some(ctx) = Context::new(request, object, settings, requester) else {
        return Decision::invalid("request.operation", "the request has no operation");
    };
    let violations = rules::run_all(&ctx);
    Decision::from_violations(runner, violations)
}

/// The request model of one evaluation. In the module it is never dropped: the host resets the
/// whole heap after every evaluation (the ABI's contract), and the bump allocator can only take
/// back its most recent block, so walking the model to free it would be wasted time.
#[cfg(target_arch = "wasm32")]
type Model<T> = core::mem::ManuallyDrop<T>;
#[cfg(not(target_arch = "wasm32"))]
type Model<T> = T;

/// `value` as a [`Model`].
fn model<T>(value: T) -> Model<T> {
    #[cfg(target_arch = "wasm32")]
    let value = core::mem::ManuallyDrop::new(value);
    value
}
