//! The native build's answers to any input document and any settings.

use std::collections::BTreeSet;

use policy::Entrypoint;
use policy::decision::RuleName;
use policy::settings::ENGINE_KEYS;
use serde_json::Value;

use runner_policy::decision::Decision;

use super::broken;
use super::json::go_reads_json;
use super::rewritings::rewritings_agree;

/// The recorded dind job pod: the request the settings target judges.
const DIND_POD: &[u8] = include_bytes!("../../requests/dind/job-pod.json");

/// The fixed documents the checks evaluate against.
#[derive(Debug, Clone)]
pub struct Checker {
    /// The bundled example settings, as JSON text (the data document).
    settings: Vec<u8>,
    /// The recorded dind job pod's `request`, as a value (for Gatekeeper reviews).
    dind_request: Value,
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
    /// another way (see [`rewritings`](super::rewritings::rewritings)) gets the same verdict,
    /// rules and paths: a reader that could be steered by how a value is spelt would be a way
    /// around the rules.
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
    /// settings written another way (see [`rewritings`](super::rewritings::rewritings)).
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
