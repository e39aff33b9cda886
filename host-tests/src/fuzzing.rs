//! Properties that must hold for every input, whatever its bytes.
//!
//! The fuzz targets in `fuzz/` (cargo-fuzz, nightly) call these on generated inputs, and
//! `tests/fuzz_regressions.rs` (stable, part of `cargo xtask test`) calls them on the recorded
//! requests and on every input kept under `fuzz/regressions/`. Each check returns the broken
//! property as an `Err` with the input it broke on, so that a fuzzer's crash report and a failing
//! test say the same thing.

use std::collections::BTreeSet;
use std::path::Path;

use policy::Entrypoint;
use policy::decision::RuleName;
use policy::request::json::{Doc, Json, Kind};
use policy::settings::ENGINE_KEYS;
use serde_json::Value;

use runner_policy::decision::Decision;
use runner_policy::host::{EntrypointId, Policy, Runtime};

/// serde_json's recursion limit: deeper texts are JSON it cannot judge.
const SERDE_DEPTH: usize = 127;

/// The recorded dind job pod: the request the settings target judges.
const DIND_POD: &[u8] = include_bytes!("../requests/dind/job-pod.json");

/// The fixed documents the checks evaluate against.
#[derive(Debug, Clone)]
pub struct Checker {
    /// The bundled example settings, as JSON text (the data document).
    settings: Vec<u8>,
    /// The recorded dind job pod's `request`, as a value (for Gatekeeper reviews).
    dind_request: Value,
}

/// How a fuzz target reports a broken property: a panic (libFuzzer keeps the input).
///
/// # Panics
/// When `result` is an `Err`, with its message.
pub fn must_hold(result: Result<(), String>) {
    if let Err(broken) = result {
        panic!("{broken}");
    }
}

impl Checker {
    /// One checker for the whole process, built on first use (the fuzz targets' state).
    ///
    /// # Panics
    /// When the bundled files do not parse (a broken checkout).
    pub fn shared() -> &'static Checker {
        static SHARED: std::sync::LazyLock<Checker> =
            std::sync::LazyLock::new(|| Checker::new().unwrap_or_else(|e| panic!("{e:#}")));
        &SHARED
    }

    /// Loads the example settings and the recorded dind pod.
    ///
    /// # Errors
    /// When either bundled file does not parse (a broken checkout).
    pub fn new() -> anyhow::Result<Self> {
        let settings = serde_json::to_vec(&runner_policy::settings::example()?)?;
        let review: Value = serde_json::from_slice(DIND_POD)?;
        let dind_request = review
            .get("request")
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the recorded dind pod has no request"))?;
        Ok(Checker {
            settings,
            dind_request,
        })
    }

    /// `input` as the input document, with the example settings as data: every entrypoint
    /// answers JSON of its shape, the three answers agree, the same input gets the same answer
    /// twice, text that is not JSON is denied by `valid-request`, and the same document written
    /// another way (see [`rewritings`]) gets the same verdict, rules and paths: a reader that
    /// could be steered by how a value is spelt would be a way around the rules.
    ///
    /// # Errors
    /// The property that does not hold, with the input.
    pub fn evaluation(&self, input: &[u8]) -> Result<(), String> {
        let decision = self.decision(input, &self.settings, "input")?;
        if go_reads_json(input) == Some(false) && !decision.rules().contains(invalid()) {
            return Err(broken(
                "text that is not JSON was not denied by valid-request",
                input,
            ));
        }
        rewritings_agree(input, &decision, |text| {
            self.decision(text, &self.settings, "rewritten input")
        })?;
        let violations = answer(Entrypoint::Violation, input, &self.settings)?;
        check_violations(&violations, &decision).map_err(|e| broken(&e, input))?;
        match answer(Entrypoint::Main, input, &self.settings)? {
            list @ Value::Array(_) => check_violations(&list, &decision),
            review => check_review(&review, &decision),
        }
        .map_err(|e| broken(&format!("runners/main: {e}"), input))
    }

    /// `data` as the settings, both as the data document and (when it is JSON) as a Gatekeeper
    /// constraint's `parameters`, judging the recorded dind pod: a well-formed decision, a
    /// `valid-request` denial when the settings are not JSON, and the same decision for the same
    /// settings written another way (see [`rewritings`]).
    ///
    /// # Errors
    /// The property that does not hold, with the settings text.
    pub fn settings(&self, data: &[u8]) -> Result<(), String> {
        let decision = self.decision(DIND_POD, data, "data")?;
        let is_json = go_reads_json(data);
        if is_json == Some(false) && !decision.rules().contains(invalid()) {
            return Err(broken(
                "settings that are not JSON were not reported by valid-request",
                data,
            ));
        }
        rewritings_agree(data, &decision, |text| {
            self.decision(DIND_POD, text, "rewritten settings")
        })?;
        // Engines add keys of their own to a data document (not to parameters), so only settings
        // without them must read alike both ways.
        let comparable = is_json == Some(true)
            && serde_json::from_slice::<Value>(data).is_ok_and(|v| {
                v.as_object()
                    .is_none_or(|o| !ENGINE_KEYS.iter().any(|k| o.contains_key(*k)))
            });
        if !comparable {
            return Ok(());
        }
        // The settings text is spliced in as it is (duplicate keys, escapes and all).
        let mut input = br#"{"review":"#.to_vec();
        input.extend(serde_json::to_vec(&self.dind_request).map_err(|e| e.to_string())?);
        input.extend(br#","parameters":"#);
        input.extend(data);
        input.push(b'}');
        let from_parameters = self.decision(&input, b"{}", "parameters")?;
        if from_parameters.allowed != decision.allowed {
            return Err(broken(
                "the same settings decide differently as data and as parameters",
                data,
            ));
        }
        Ok(())
    }

    /// The `runners/decision` answer, checked for its shape and for determinism.
    fn decision(&self, input: &[u8], data: &[u8], what: &str) -> Result<Decision, String> {
        let value = answer(Entrypoint::Decision, input, data)?;
        let again = answer(Entrypoint::Decision, input, data)?;
        if value != again {
            return Err(broken(
                &format!("the same {what} was decided two ways"),
                input,
            ));
        }
        let decision = Decision::from_value(value).map_err(|e| broken(&format!("{e:#}"), input))?;
        let known: BTreeSet<&str> = RuleName::ALL.iter().map(|r| r.as_str()).collect();
        if decision.allowed != decision.violations.is_empty() {
            return Err(broken(
                "`allowed` disagrees with the violations list",
                input,
            ));
        }
        if let Some(v) = decision
            .violations
            .iter()
            .find(|v| !known.contains(v.rule.as_str()) || v.msg.trim().is_empty())
        {
            return Err(broken(
                &format!("a violation without a known rule or a message: {v:?}"),
                input,
            ));
        }
        Ok(decision)
    }
}

/// The built module in wasmtime, held to the native build of the same rules.
pub struct ModuleChecker {
    policy: Policy,
    entrypoints: Vec<(Entrypoint, EntrypointId)>,
    /// The example settings as the native build's data document, and their settings kept.
    native_data: Vec<u8>,
    native: policy::SettingsCache,
    out: Vec<u8>,
}

impl std::fmt::Debug for ModuleChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleChecker")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl ModuleChecker {
    /// Instantiates the module at `module` with the example settings as its data document.
    ///
    /// # Errors
    /// When the module cannot be loaded or lacks an entrypoint.
    pub fn new(module: &Path) -> anyhow::Result<Self> {
        let settings = runner_policy::settings::example()?;
        let mut policy = Runtime::load(module)?.instantiate(&settings)?;
        let entrypoints = Entrypoint::ALL
            .into_iter()
            .map(|e| Ok((e, policy.entrypoint(e.name())?)))
            .collect::<anyhow::Result<_>>()?;
        // Warm the module's settings cache so that every evaluation starts from the same state.
        policy.evaluate(Entrypoint::Decision.name(), b"{}")?;
        Ok(ModuleChecker {
            policy,
            entrypoints,
            native_data: serde_json::to_vec(&settings)?,
            native: policy::SettingsCache::new(),
            out: Vec::new(),
        })
    }

    /// `input` through `opa_eval` at every entrypoint: the module never traps, answers a JSON
    /// result set, and answers JSON input as the native build does. (Text that is not JSON may be
    /// Rego value text, which only the module converts, so there a result set is all it owes.)
    ///
    /// # Errors
    /// The property that does not hold, with the input.
    pub fn evaluation(&mut self, input: &[u8]) -> Result<(), String> {
        let is_json = Doc::parse(input).is_ok();
        for at in 0..self.entrypoints.len() {
            let Some(&(entrypoint, id)) = self.entrypoints.get(at) else {
                continue;
            };
            let name = entrypoint.name();
            self.policy
                .eval_raw(id, input, &mut self.out)
                .map_err(|e| broken(&format!("{name}: the module failed: {e:#}"), input))?;
            let answer = runner_policy::host::result_of(&self.out)
                .map_err(|e| broken(&format!("{name}: the module's answer: {e:#}"), input))?;
            if is_json {
                let native = self
                    .native
                    .decide(input, Some(&self.native_data))
                    .render(entrypoint);
                let native: Value = serde_json::from_str(&native).map_err(|e| e.to_string())?;
                if answer != native {
                    return Err(broken(
                        &format!("{name}: the module answered {answer}, the native build {native}"),
                        input,
                    ));
                }
                self.context_path(entrypoint, id, input)?;
            }
        }
        Ok(())
    }

    /// The ABI 1.0 path (what burrego, Kubewarden and OPA's SDKs call): the host has the module
    /// parse the input into a value first, so the policy judges that value. It must answer as
    /// `opa_eval` answers the value's own JSON text (`opa_json_dump`), where duplicate keys are
    /// already resolved and numbers normalised.
    fn context_path(
        &mut self,
        entrypoint: Entrypoint,
        id: EntrypointId,
        input: &[u8],
    ) -> Result<(), String> {
        let name = entrypoint.name();
        let failed = |e: anyhow::Error| broken(&format!("{name} (ctx path): {e:#}"), input);
        let from_value = self.policy.evaluate_ctx(name, input).map_err(failed)?;
        let value_text = self.value_text(input).map_err(failed)?;
        self.policy
            .eval_raw(id, &value_text, &mut self.out)
            .map_err(failed)?;
        let from_text = runner_policy::host::result_of(&self.out).map_err(failed)?;
        if from_value != from_text {
            return Err(broken(
                &format!(
                    "{name}: the ctx path answered {from_value}, opa_eval on the parsed value's \
                     text {from_text}"
                ),
                input,
            ));
        }
        Ok(())
    }

    /// `opa_json_dump(opa_json_parse(input))`: the input as the module holds it as a value.
    fn value_text(&mut self, input: &[u8]) -> anyhow::Result<Vec<u8>> {
        let value = self.policy.parse_input(input)?;
        let text = self.policy.opa_json_dump(value)?;
        Ok(self.policy.read_cstr(text)?.to_vec())
    }
}

/// Each rewriting of `text` (see [`rewritings`]) must get the verdict of `decision` from `judge`.
fn rewritings_agree(
    text: &[u8],
    decision: &Decision,
    judge: impl Fn(&[u8]) -> Result<Decision, String>,
) -> Result<(), String> {
    for (how, rewritten) in rewritings(text) {
        let (judged, expected) = (judge(&rewritten)?, verdict(decision));
        if verdict(&judged) != expected {
            return Err(broken(
                &format!(
                    "the same document written {how} is judged otherwise: {:?} against {expected:?}",
                    verdict(&judged)
                ),
                text,
            ));
        }
    }
    Ok(())
}

/// What a rewriting must keep: allowed or not, and each violation's rule and path.
fn verdict(decision: &Decision) -> (bool, Vec<(&str, &str)>) {
    let mut found: Vec<(&str, &str)> = decision
        .violations
        .iter()
        .map(|v| (v.rule.as_str(), v.path.as_str()))
        .collect();
    found.sort_unstable();
    (decision.allowed, found)
}

/// The same JSON document written the other ways an API client may write it: compact, indented,
/// every object's keys in reverse order, every character of every string and key escaped as
/// `\uXXXX`. Numbers keep their text. None for a text the policy's reader refuses, or with a
/// duplicate key (judged as written: see `valid-request`).
pub fn rewritings(input: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let Ok(doc) = Doc::parse(input) else {
        return Vec::new();
    };
    if has_duplicate_keys(doc.root()) {
        return Vec::new();
    }
    [
        ("compact", Spelling::default()),
        (
            "indented",
            Spelling {
                indent: true,
                ..Spelling::default()
            },
        ),
        (
            "with its keys reversed",
            Spelling {
                reverse_keys: true,
                ..Spelling::default()
            },
        ),
        (
            "with every character escaped",
            Spelling {
                escape_all: true,
                ..Spelling::default()
            },
        ),
    ]
    .into_iter()
    .map(|(how, spelling)| {
        let mut out = Vec::new();
        spelling.write(doc.root(), 0, &mut out);
        (how, out)
    })
    .collect()
}

/// Whether some object below `v` repeats a key (after unescaping).
fn has_duplicate_keys(v: Json<'_>) -> bool {
    match v.kind() {
        Kind::Object => {
            let mut keys = BTreeSet::new();
            v.entries()
                .any(|(k, child)| !keys.insert(k.into_owned()) || has_duplicate_keys(child))
        }
        Kind::Array => v.items().any(has_duplicate_keys),
        _ => false,
    }
}

/// One way of writing a JSON document.
#[derive(Debug, Clone, Copy, Default)]
struct Spelling {
    indent: bool,
    reverse_keys: bool,
    escape_all: bool,
}

impl Spelling {
    fn write(self, v: Json<'_>, depth: usize, out: &mut Vec<u8>) {
        match v.kind() {
            Kind::Object => {
                let mut entries: Vec<_> = v.entries().collect();
                if self.reverse_keys {
                    entries.reverse();
                }
                out.push(b'{');
                for (i, (key, child)) in entries.into_iter().enumerate() {
                    self.separate(i, depth + 1, out);
                    self.string(&key, out);
                    out.extend_from_slice(if self.indent { b": " } else { b":" });
                    self.write(child, depth + 1, out);
                }
                self.close(v.len_hint() > 0, depth, b'}', out);
            }
            Kind::Array => {
                out.push(b'[');
                for (i, item) in v.items().enumerate() {
                    self.separate(i, depth + 1, out);
                    self.write(item, depth + 1, out);
                }
                self.close(v.len_hint() > 0, depth, b']', out);
            }
            Kind::String => self.string(&v.as_str().unwrap_or_default(), out),
            // Numbers, booleans and null keep their text.
            _ => out.extend_from_slice(v.raw().as_bytes()),
        }
    }

    fn separate(self, i: usize, depth: usize, out: &mut Vec<u8>) {
        if i > 0 {
            out.push(b',');
        }
        self.newline(depth, out);
    }

    fn close(self, any: bool, depth: usize, bracket: u8, out: &mut Vec<u8>) {
        if any {
            self.newline(depth, out);
        }
        out.push(bracket);
    }

    fn newline(self, depth: usize, out: &mut Vec<u8>) {
        if self.indent {
            out.push(b'\n');
            out.extend(std::iter::repeat_n(b' ', 2 * depth));
        }
    }

    fn string(self, text: &str, out: &mut Vec<u8>) {
        if !self.escape_all {
            out.extend(Value::from(text).to_string().into_bytes());
            return;
        }
        out.push(b'"');
        for unit in text.encode_utf16() {
            out.extend(format!("\\u{unit:04x}").into_bytes());
        }
        out.push(b'"');
    }
}

/// The name of the rule every unreadable input must be denied by.
fn invalid() -> &'static str {
    RuleName::ValidRequest.as_str()
}

/// Evaluates at `entrypoint` natively and reads the answer as JSON.
fn answer(entrypoint: Entrypoint, input: &[u8], data: &[u8]) -> Result<Value, String> {
    let text = policy::decide(input, Some(data)).render(entrypoint);
    serde_json::from_str(&text).map_err(|e| {
        broken(
            &format!(
                "{} answered text that is not JSON ({e}): {text}",
                entrypoint.name()
            ),
            input,
        )
    })
}

/// A Gatekeeper violations list: one `{"msg", "details"}` per violation of the decision.
fn check_violations(list: &Value, decision: &Decision) -> Result<(), String> {
    let items = list
        .as_array()
        .ok_or("runners/violation did not answer a list")?;
    if items.len() != decision.violations.len() {
        return Err(format!(
            "{} Gatekeeper violations for {} in the decision",
            items.len(),
            decision.violations.len()
        ));
    }
    for (item, violation) in items.iter().zip(&decision.violations) {
        if item.get("msg").and_then(Value::as_str) != Some(violation.msg.as_str()) {
            return Err(format!("a Gatekeeper violation lost its message: {item}"));
        }
    }
    Ok(())
}

/// An AdmissionReview answer whose `response.allowed` is the decision's.
fn check_review(review: &Value, decision: &Decision) -> Result<(), String> {
    let response = review
        .get("response")
        .ok_or("an AdmissionReview answer without a response")?;
    if response.get("uid").and_then(Value::as_str).is_none() {
        return Err("an AdmissionReview answer without a string uid".to_owned());
    }
    if response.get("allowed").and_then(Value::as_bool) != Some(decision.allowed) {
        return Err(format!(
            "response.allowed is not the decision's {}: {review}",
            decision.allowed
        ));
    }
    Ok(())
}

/// The message of a broken property, with the input (lossily, shortened).
fn broken(what: &str, input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let shown: String = text.chars().take(600).collect();
    let more = if shown.len() < text.len() { " ..." } else { "" };
    format!("{what}\ninput ({} bytes): {shown:?}{more}", input.len())
}

/// Whether Go's `encoding/json` (the API server's decoder) reads `text` as JSON, told by
/// serde_json with two readings of Go's: a number too large for an f64 is still JSON, and a
/// surrogate escape that is not part of a pair reads as U+FFFD. `None` for texts nested deeper
/// than serde_json's recursion limit.
pub fn go_reads_json(text: &[u8]) -> Option<bool> {
    if nesting(text) > SERDE_DEPTH {
        return None;
    }
    let go_text = surrogates_replaced(text);
    Some(match serde_json::from_slice::<Value>(&go_text) {
        Ok(_) => true,
        // The f64 stopped the parse: the rest is checked by skipping values (which reads numbers
        // as syntax only, and strings without their UTF-8, checked apart).
        Err(e) if e.to_string().starts_with("number out of range") => {
            serde_json::from_slice::<serde::de::IgnoredAny>(&go_text).is_ok()
                && std::str::from_utf8(text).is_ok()
        }
        Err(_) => false,
    })
}

/// The policy's JSON reader accepts `text` exactly when Go's decoder does.
///
/// # Errors
/// When they disagree, saying which way.
pub fn json_readers_agree(text: &[u8]) -> Result<(), String> {
    let Some(theirs) = go_reads_json(text) else {
        return Ok(());
    };
    let ours = Doc::parse(text).is_ok();
    if ours == theirs {
        return Ok(());
    }
    let say = |yes: bool| if yes { "accepts" } else { "refuses" };
    Err(broken(
        &format!("the reader {} what Go's decoder {}", say(ours), say(theirs)),
        text,
    ))
}

/// The deepest nesting of `[` and `{` outside strings (an upper bound when the text is not JSON).
fn nesting(text: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for &b in text {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') | (false, _, b'"') => in_string = !in_string,
            (false, _, b'[' | b'{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (false, _, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// `text` with every `\uXXXX` escape of a surrogate written as `\uFFFD`, so that serde_json
/// reads what Go reads (a well-formed pair becomes two replacement characters, which changes no
/// verdict).
fn surrogates_replaced(text: &[u8]) -> Vec<u8> {
    let mut out = text.to_vec();
    let mut i = 0;
    while i < out.len() {
        if out[i] != b'\\' {
            i += 1;
            continue;
        }
        let code = out
            .get(i + 2..i + 6)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok());
        if out.get(i + 1) == Some(&b'u') && code.is_some_and(|c| (0xD800..0xE000).contains(&c)) {
            out[i + 2..i + 6].copy_from_slice(b"FFFD");
            i += 6;
        } else {
            i += 2;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_brackets_outside_strings() {
        assert_eq!(nesting(br#"[{"a": "[[[\"[["}]"#), 2);
        assert_eq!(nesting(b"[[[]]]"), 3);
        assert_eq!(nesting(b"{}"), 1);
        assert_eq!(nesting(b"\"[\""), 0);
    }

    #[test]
    fn go_readings_differ_from_serde_where_go_does() {
        assert_eq!(go_reads_json(b"1e400"), Some(true));
        assert_eq!(go_reads_json(br#""\udc00""#), Some(true));
        assert_eq!(go_reads_json(b"[1,]"), Some(false));
        assert_eq!(go_reads_json(&[b'['; 200]), None);
    }

    #[test]
    fn rewritings_spell_the_same_document() {
        let text = r#"{"a": ["é", 1, {"b": null}], "c": "x\"y"}"#.as_bytes();
        let original: Value = serde_json::from_slice(text).unwrap();
        let all = rewritings(text);
        assert_eq!(all.len(), 4);
        for (how, rewritten) in &all {
            let value: Value = serde_json::from_slice(rewritten).unwrap();
            assert_eq!(value, original, "{how}");
        }
        let escaped = &all[3].1;
        assert!(
            escaped.starts_with(br#"{"\u0061":["\u00e9""#),
            "{escaped:?}"
        );
        assert!(rewritings(br#"{"a": 1, "a": 2}"#).is_empty());
        assert!(rewritings(br#"{"a": 1, "b": {"c": 1, "c": 1}}"#).is_empty());
        assert!(rewritings(b"[1,").is_empty());
    }

    #[test]
    fn a_broken_property_is_reported_with_its_input() {
        let checker = Checker::new().unwrap();
        assert!(checker.evaluation(b"{").is_ok());
        let message = broken("something broke", b"{\"a\":1}");
        assert!(message.contains("something broke") && message.contains("7 bytes"));
    }
}
