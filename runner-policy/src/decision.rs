//! The `runners/decision` result, typed.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use policy::decision::RuleName;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
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
    /// The rule broken; its stable name (`dind-only-privilege`...) in JSON, where a name that is
    /// no rule's does not read.
    #[serde(serialize_with = "rule_name", deserialize_with = "parse_rule")]
    pub rule: RuleName,
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

    /// The distinct rule names of the violations, in name order (as reports list them).
    pub fn rules(&self) -> BTreeSet<String> {
        self.violations
            .iter()
            .map(|v| v.rule.as_str().to_owned())
            .collect()
    }

    /// `ALLOW` or `DENY`.
    pub fn verdict(&self) -> &'static str {
        if self.allowed { "ALLOW" } else { "DENY" }
    }
}

fn rule_name<S: Serializer>(rule: &RuleName, out: S) -> Result<S::Ok, S::Error> {
    out.serialize_str(rule.as_str())
}

fn parse_rule<'de, D: Deserializer<'de>>(input: D) -> Result<RuleName, D::Error> {
    let name = <std::borrow::Cow<'de, str>>::deserialize(input)?;
    name.parse().map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rules_read_by_name() {
        let decision = Decision::from_value(json!({"allowed": false, "runner": null,
            "violations": [{"rule": "no-host-access", "msg": "m", "path": "p"}]}))
        .unwrap();
        assert_eq!(decision.violations[0].rule, RuleName::NoHostAccess);
        assert_eq!(
            serde_json::to_value(&decision.violations[0]).unwrap()["rule"],
            "no-host-access"
        );
        let unknown =
            json!({"allowed": false, "violations": [{"rule": "no-such-rule", "msg": "m"}]});
        let err = format!("{:#}", Decision::from_value(unknown).unwrap_err());
        assert!(err.contains("`no-such-rule` is not a rule"), "{err}");
    }
}
