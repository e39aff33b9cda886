//! The Rego twin (`policy/rego/`, embedded in `bundles/gatekeeper/template.yaml`) evaluated
//! natively through regorus, as Gatekeeper would evaluate it: input
//! `{"review": AdmissionRequest, "parameters": Settings}`, result the `violation` set.
//!
//! # Examples
//! ```no_run
//! use runner_policy::rego::RegoPolicy;
//! let mut twin = RegoPolicy::from_template(&RegoPolicy::default_template_path())?;
//! let request = serde_json::json!({"uid": "1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
//!     "operation": "CREATE", "namespace": "example-runners", "userInfo": {"username": "admin"},
//!     "object": {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "build"}]}}});
//! let settings = runner_policy::settings::example()?;
//! let input = RegoPolicy::gatekeeper_input(&request, &settings);
//! assert!(twin.violations(&input.to_string())?.is_empty());
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::{Value, json};

/// The rule the twin's violations come from (Gatekeeper's entry point).
pub const VIOLATION_RULE: &str = "data.k8srunnersecurity.violation";

/// One Gatekeeper violation of the twin.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct RegoViolation {
    pub msg: String,
    pub details: Details,
}

/// The `details` of a violation: the module's rule name, path and container.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct Details {
    pub rule: String,
    pub path: String,
    #[serde(default)]
    pub container: Option<String>,
}

/// The twin, loaded into a regorus engine.
#[derive(Clone)]
pub struct RegoPolicy {
    engine: regorus::Engine,
}

impl RegoPolicy {
    /// `bundles/gatekeeper/template.yaml` of this workspace.
    pub fn default_template_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../bundles/gatekeeper/template.yaml")
    }

    /// Loads the Rego embedded in a ConstraintTemplate: exactly what Gatekeeper runs.
    ///
    /// # Errors
    /// The file cannot be read, is not a ConstraintTemplate with a Rego source, or the Rego does
    /// not compile.
    pub fn from_template(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let template: Value = serde_yaml::from_str(&text)
            .with_context(|| format!("{} is not YAML", path.display()))?;
        let targets = template["spec"]["targets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let rego = targets
            .iter()
            .flat_map(|t| t["code"].as_array().cloned().unwrap_or_default())
            .find(|c| c["engine"] == "Rego")
            .and_then(|c| c["source"]["rego"].as_str().map(str::to_owned))
            .or_else(|| {
                targets
                    .first()
                    .and_then(|t| t["rego"].as_str().map(str::to_owned))
            });
        let Some(rego) = rego else {
            bail!(
                "{}: no Rego in spec.targets[].code[].source.rego",
                path.display()
            );
        };
        Self::from_sources([(path.display().to_string(), rego)])
    }

    /// Loads Rego modules given as `(name, text)`.
    ///
    /// # Errors
    /// A module does not parse as Rego v1.
    pub fn from_sources(modules: impl IntoIterator<Item = (String, String)>) -> Result<Self> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        for (name, text) in modules {
            engine
                .add_policy(name.clone(), text)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("{name} is not valid Rego v1"))?;
        }
        Ok(RegoPolicy { engine })
    }

    /// The Gatekeeper input for one AdmissionRequest and the settings.
    pub fn gatekeeper_input(request: &Value, settings: &Value) -> Value {
        json!({"review": request, "parameters": settings})
    }

    /// Evaluates `violation` on one input document (JSON text; parsing is part of the cost).
    ///
    /// # Errors
    /// The input is not JSON, or evaluation fails (a Rego runtime error, such as a conflict).
    pub fn violations(&mut self, input_json: &str) -> Result<Vec<RegoViolation>> {
        let input =
            regorus::Value::from_json_str(input_json).map_err(|e| anyhow::anyhow!("input: {e}"))?;
        self.engine.set_input(input);
        let result = self
            .engine
            .eval_rule(VIOLATION_RULE.to_owned())
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("evaluating the Rego twin")?;
        let json = result.to_json_str().map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut out: Vec<RegoViolation> = match serde_json::from_str::<Value>(&json)? {
            Value::Null => Vec::new(),
            other => {
                serde_json::from_value(other).context("violation is not a set of {msg, details}")?
            }
        };
        out.sort();
        Ok(out)
    }

    /// The sorted `(rule, path)` multiset of one input's violations.
    ///
    /// # Errors
    /// As [`RegoPolicy::violations`].
    pub fn rule_paths(&mut self, input_json: &str) -> Result<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> = self
            .violations(input_json)?
            .into_iter()
            .map(|v| (v.details.rule, v.details.path))
            .collect();
        out.sort();
        Ok(out)
    }
}

impl RegoPolicy {
    /// The decision for one input document in any dialect, shaped like the module's
    /// `runners/decision` (`runner` is always null: the twin does not report it). A Gatekeeper
    /// input is evaluated as it is; otherwise its AdmissionRequest is wrapped with `settings`.
    ///
    /// # Errors
    /// The document holds no AdmissionRequest, or evaluation fails.
    pub fn decide(&mut self, doc: &Value, settings: &Value) -> Result<Value> {
        let input = if doc.get("review").is_some() {
            doc.clone()
        } else {
            let request = admission_request(doc).context("no AdmissionRequest in the document")?;
            Self::gatekeeper_input(request, settings)
        };
        let violations: Vec<Value> = self
            .violations(&input.to_string())?
            .into_iter()
            .map(|v| {
                let mut out = json!({"rule": v.details.rule, "msg": v.msg, "path": v.details.path});
                if let Some(c) = v.details.container {
                    out["container"] = json!(c);
                }
                out
            })
            .collect();
        Ok(json!({"allowed": violations.is_empty(), "runner": null, "violations": violations}))
    }
}

/// The AdmissionRequest of an input document in any dialect (the `review`, the `request` of an
/// AdmissionReview or of Kubewarden's opa mode), if there is one.
pub fn admission_request(doc: &Value) -> Option<&Value> {
    doc.get("review")
        .or_else(|| doc.get("request"))
        .filter(|r| r.is_object())
}
