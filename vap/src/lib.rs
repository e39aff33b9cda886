//! The runner-policy rules as a Kubernetes ValidatingAdmissionPolicy: CEL that the API server
//! evaluates itself, with no webhook to run.
//!
//! [`generate`] writes the policy for one set of settings. Everything it needs comes from the
//! `policy` crate: rule names ([`RuleName`]), the settings as the module reads them
//! ([`Settings`]), the rules' public constants, and the constants the rule modules keep private,
//! read from their source text ([`source`]). The settings are baked in as literals (exempt users
//! as `matchConditions`): ConfigMap parameters are string maps and CRD parameters drop unknown
//! keys, so a changed settings file means a regenerated policy.
//!
//! What the module calls `valid-request` (input that is not an admission request, fields of the
//! wrong type, a request without username, invalid settings) is the API server's own job here:
//! it decodes and validates every object before admission, and the settings are checked when
//! the policy is generated.
//!
//! One validation per rule part, in the module's report order. Kubernetes reports only the first
//! failing validation's message; each `messageExpression` starts with the rule name and says
//! what the module's message says of the first violation.

pub mod cel;
mod rules;
pub mod source;

use anyhow::{Result, anyhow};
use policy::rule_name::RuleName;
use policy::settings::Settings;
use serde_json::{Value, json};

/// The Kubernetes version the generated policy needs: `admissionregistration.k8s.io/v1`
/// ValidatingAdmissionPolicy with `variables` and `matchConditions` is GA from 1.30, and the
/// expressions use only the base CEL environment and the strings extension (`lowerAscii`,
/// `upperAscii`, `split`) and `lists` (`indexOf`, messages only) that every 1.30 API server has.
pub const KUBERNETES_MIN_VERSION: &str = "1.30";

/// A named CEL expression, computed once per request and read as `variables.<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub expression: String,
}

/// One check: true when the request passes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    pub rule: RuleName,
    /// Which part of the rule (`containers`, `volumes`, ...), for readers and reports.
    pub part: String,
    pub expression: String,
    /// The message when the request fails it, starting with the rule name.
    pub message_expression: String,
    /// The message Kubernetes shows when `message_expression` itself fails.
    pub message: String,
}

/// A `matchCondition`: the policy applies only when every one is true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchCondition {
    pub name: String,
    pub expression: String,
}

/// A generated policy.
#[derive(Debug, Clone)]
pub struct Vap {
    pub name: String,
    pub match_conditions: Vec<MatchCondition>,
    pub variables: Vec<Variable>,
    pub validations: Vec<Validation>,
}

/// Reads and validates settings as the module does (the data document's rules).
///
/// # Errors
/// Every problem the module would report as `valid-request`, one per line.
pub fn settings_from_json(value: &Value) -> Result<Settings> {
    let text = serde_json::to_string(value)?;
    let doc = policy::request::json::Doc::parse(text.as_bytes())
        .map_err(|e| anyhow!("settings are not JSON: {}", e.message()))?;
    Settings::from_json(doc.root(), policy::settings::Source::Data).map_err(|errors| {
        let problems: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow!("invalid settings:\n  {}", problems.join("\n  "))
    })
}

/// The policy for `settings`, named `name` (its Binding is `<name>-binding`).
///
/// # Errors
/// When a constant of the policy crate can no longer be read (see [`source`]).
pub fn generate(settings: &Settings, name: &str) -> Result<Vap> {
    let private = source::Private::read()?;
    let mut b = rules::Builder::new(settings, &private);
    b.build_all();
    let match_conditions = if settings.exempt_users.is_empty() {
        Vec::new()
    } else {
        vec![MatchCondition {
            name: "not-exempt".to_owned(),
            expression: format!(
                "!(request.userInfo.username in {})",
                cel::list(&settings.exempt_users)
            ),
        }]
    };
    Ok(Vap {
        name: name.to_owned(),
        match_conditions,
        variables: b.variables,
        validations: b.validations,
    })
}

/// The CEL that says whether the parts list `parts` (a CEL expression) is a registry auth path
/// (`policy::rules::no_push_credentials::is_registry_auth_path`), for tests of that piece.
///
/// # Errors
/// When a constant of the policy crate can no longer be read.
pub fn registry_auth_path(settings: &Settings, parts: &str) -> Result<String> {
    let private = source::Private::read()?;
    Ok(rules::auth_parts(
        &rules::Builder::new(settings, &private),
        parts,
    ))
}

impl Vap {
    /// The ValidatingAdmissionPolicy object.
    pub fn policy(&self) -> Value {
        let variables: Vec<Value> = self
            .variables
            .iter()
            .map(|v| json!({"name": v.name, "expression": v.expression}))
            .collect();
        let validations: Vec<Value> = self
            .validations
            .iter()
            .map(|v| {
                json!({
                    "expression": v.expression,
                    "messageExpression": v.message_expression,
                    "message": v.message,
                    "reason": "Forbidden",
                })
            })
            .collect();
        let mut spec = json!({
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [{
                    "apiGroups": ["*"],
                    "apiVersions": ["*"],
                    // DELETE and CONNECT reach runner-namespace; subresources (exec, token,
                    // ephemeralcontainers) are requests like any other.
                    "operations": ["CREATE", "UPDATE", "DELETE", "CONNECT"],
                    "resources": ["*", "*/*"],
                    "scope": "*",
                }],
            },
            "variables": variables,
            "validations": validations,
        });
        if !self.match_conditions.is_empty() {
            spec["matchConditions"] = self
                .match_conditions
                .iter()
                .map(|c| json!({"name": c.name, "expression": c.expression}))
                .collect();
        }
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {
                "name": self.name,
                "annotations": {
                    "runner-policy.gitlab.com/kubernetes-min-version": KUBERNETES_MIN_VERSION,
                    "runner-policy.gitlab.com/valid-request": VALID_REQUEST_NOTE,
                },
            },
            "spec": spec,
        })
    }

    /// The ValidatingAdmissionPolicyBinding: deny, cluster-wide.
    pub fn binding(&self) -> Value {
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": format!("{}-binding", self.name)},
            "spec": {"policyName": self.name, "validationActions": ["Deny"]},
        })
    }

    /// The YAML stream: a comment header, the policy, the binding.
    ///
    /// # Errors
    /// When YAML serialisation fails (it does not for these values).
    pub fn to_yaml(&self) -> Result<String> {
        let mut out = String::from(HEADER);
        out.push_str(&serde_yaml::to_string(&self.policy())?);
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&self.binding())?);
        Ok(out)
    }

    /// The rule of a validation, by its index in `spec.validations`.
    pub fn rule_of(&self, index: usize) -> Option<RuleName> {
        self.validations.get(index).map(|v| v.rule)
    }
}

const VALID_REQUEST_NOTE: &str = "valid-request is the API server's job here: it decodes and validates every object before admission policies run; the settings were validated when this policy was generated";

const HEADER: &str = "\
# runner-policy as a Kubernetes ValidatingAdmissionPolicy (CEL), generated by
# `runner-policy vap` from the same rules and constants as the wasm module and the Rego twin;
# do not edit: regenerate it when the settings change (they are baked in as literals).
# Needs Kubernetes 1.30+ (admissionregistration.k8s.io/v1). Apply with `kubectl apply -f`.
# valid-request is the API server's job here: it decodes and validates every object before
# admission, so the module's checks of unreadable input have no counterpart.
# Only the first failing validation's message reaches the client (the module lists every
# violation).
";
