//! The `runners/decision` result, typed.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `{"allowed": bool, "runner": type-or-null, "violations": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether the request is admitted.
    pub allowed: bool,
    /// The runner type of the requesting identity, if it is a runner.
    #[serde(default)]
    pub runner: Option<String>,
    /// Every violation found.
    #[serde(default)]
    pub violations: Vec<Violation>,
}

/// One violation of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The stable rule name (`dind-only-privilege`, `valid-request`, ...).
    pub rule: String,
    /// What is wrong, for humans.
    pub msg: String,
    /// Where in the object (a JSON path), empty when not applicable.
    #[serde(default)]
    pub path: String,
    /// The container concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

impl Decision {
    /// Reads a decision from the module's result value.
    ///
    /// # Errors
    /// When the value does not have the decision's shape.
    pub fn from_value(value: Value) -> Result<Self> {
        serde_json::from_value(value).context("runners/decision result has an unexpected shape")
    }

    /// The distinct rule names of the violations.
    pub fn rules(&self) -> BTreeSet<String> {
        self.violations.iter().map(|v| v.rule.clone()).collect()
    }

    /// `ALLOW` or `DENY`.
    pub fn verdict(&self) -> &'static str {
        if self.allowed { "ALLOW" } else { "DENY" }
    }
}
