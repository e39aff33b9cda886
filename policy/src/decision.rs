//! The typed outcome of an evaluation: which rules were broken, where, and why.

use crate::json_text::push_string;
pub use crate::rule_name::RuleName;
use crate::settings::RunnerType;
use alloc::{borrow::ToOwned, string::String, vec, vec::Vec};

/// One broken rule: where in the object, and a message that says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: RuleName,
    pub msg: String,
    /// The field path in the object (`spec.containers[0].securityContext.privileged`), or the
    /// request field for request-level problems (`request.namespace`).
    pub path: String,
    pub container: Option<String>,
}

impl Violation {
    pub fn new(rule: RuleName, path: impl Into<String>, msg: impl Into<String>) -> Self {
        Self::from_parts(rule, path.into(), &[&msg.into()])
    }

    /// A violation whose message is `parts` joined: one allocation of the right size, where
    /// nested `format!`s copy each part again and grow their strings step by step.
    pub fn from_parts(rule: RuleName, path: String, parts: &[&str]) -> Self {
        let name = rule.as_str();
        let len = parts.iter().fold(name.len().saturating_add(2), |n, p| {
            n.saturating_add(p.len())
        });
        let mut msg = String::with_capacity(len);
        msg.push_str(name);
        msg.push_str(": ");
        for part in parts {
            msg.push_str(part);
        }
        Violation {
            rule,
            msg,
            path,
            container: None,
        }
    }

    pub fn in_container(mut self, container: &str) -> Self {
        self.container = Some(container.to_owned());
        self
    }
}

/// The full decision for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The runner type of the requesting identity, when it is a runner manager.
    pub runner: Option<RunnerType>,
    pub violations: Vec<Violation>,
}

impl Decision {
    pub fn from_violations(runner: Option<RunnerType>, violations: Vec<Violation>) -> Self {
        Decision {
            allowed: violations.is_empty(),
            runner,
            violations,
        }
    }

    /// A denial for input that cannot be judged (malformed input, invalid settings).
    pub fn invalid(path: &str, msg: impl Into<String>) -> Self {
        Self::from_violations(
            None,
            vec![Violation::new(RuleName::ValidRequest, path, msg)],
        )
    }

    /// The decision's JSON text (the `runners/decision` result): `{"allowed", "runner",
    /// "violations": [{"rule", "msg", "path", "container"?}]}`.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(text_len(&self.violations));
        self.write_json(&mut out);
        out
    }

    /// [`Decision::to_json`], written at the end of `out`.
    pub(crate) fn write_json(&self, out: &mut String) {
        out.push_str(if self.allowed {
            "{\"allowed\":true,\"runner\":"
        } else {
            "{\"allowed\":false,\"runner\":"
        });
        match self.runner {
            Some(runner) => push_string(out, runner.as_str()),
            None => out.push_str("null"),
        }
        out.push_str(",\"violations\":[");
        for (i, violation) in self.violations.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_violation(out, violation, true);
        }
        out.push_str("]}");
    }

    /// The distinct rule names of the violations, in report order.
    pub fn rules(&self) -> Vec<RuleName> {
        let mut rules: Vec<RuleName> = self.violations.iter().map(|v| v.rule).collect();
        rules.sort();
        rules.dedup();
        rules
    }
}

/// Roughly the bytes the violations take as JSON (a capacity hint).
pub(crate) fn text_len(violations: &[Violation]) -> usize {
    violations.iter().fold(64, |len, v| {
        len.saturating_add(v.msg.len())
            .saturating_add(v.path.len())
            .saturating_add(64)
    })
}

/// A violation's JSON object: `{"rule", "msg", "path", "container"?}`; without `msg` when
/// `with_msg` is false (a Gatekeeper violation's `details`, whose `msg` is beside it).
pub(crate) fn push_violation(out: &mut String, violation: &Violation, with_msg: bool) {
    out.push_str("{\"rule\":\"");
    out.push_str(violation.rule.as_str()); // kebab-case ASCII: nothing to escape
    if with_msg {
        out.push_str("\",\"msg\":");
        push_string(out, &violation.msg);
        out.push_str(",\"path\":");
    } else {
        out.push_str("\",\"path\":");
    }
    push_string(out, &violation.path);
    if let Some(container) = &violation.container {
        out.push_str(",\"container\":");
        push_string(out, container);
    }
    out.push('}');
}
