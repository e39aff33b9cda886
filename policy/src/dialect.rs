//! The edge: a [`Decision`] rendered in the caller's dialect. The only place that knows the
//! wire shapes of Gatekeeper violations and AdmissionReview responses.

use crate::Entrypoint;
use crate::decision::{Decision, Violation};
use crate::request::Dialect;
use crate::request::json::plain_run;

/// Everything the edge needs to answer one request.
pub struct Answer<'d> {
    pub dialect: Option<&'d Dialect>,
    pub uid: &'d str,
    pub decision: &'d Decision,
}

impl Answer<'_> {
    /// The JSON text of the entrypoint's result value.
    pub fn render(&self, entrypoint: Entrypoint) -> String {
        match entrypoint {
            Entrypoint::Decision => self.decision.to_json(),
            Entrypoint::Violation => self.violations(),
            Entrypoint::Main => match self.dialect {
                Some(Dialect::KubewardenOpa) => self.review("admission.k8s.io/v1"),
                Some(Dialect::AdmissionReview { api_version }) => self.review(api_version),
                // Unknown input gets the Gatekeeper form: a non-empty violations list denies in
                // every engine, while an AdmissionReview would be unreadable (so allowed) there.
                Some(Dialect::Gatekeeper) | None => self.violations(),
            },
        }
    }

    /// Gatekeeper violations: `[{"msg": ..., "details": {violation}}]`.
    fn violations(&self) -> String {
        let violations = &self.decision.violations;
        let mut out = String::with_capacity(text_len(violations).saturating_mul(2));
        out.push('[');
        for (i, violation) in violations.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"msg\":");
            push_string(&mut out, &violation.msg);
            out.push_str(",\"details\":");
            push_violation(&mut out, violation);
            out.push('}');
        }
        out.push(']');
        out
    }

    /// An AdmissionReview answer: `{"apiVersion", "kind", "response": {"uid", "allowed",
    /// "status"?}}`; a denial's status message is every violation's message, `; `-separated.
    fn review(&self, api_version: &str) -> String {
        let violations = &self.decision.violations;
        let mut out = String::with_capacity(text_len(violations).saturating_add(160));
        out.push_str("{\"apiVersion\":");
        push_string(&mut out, api_version);
        out.push_str(",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":");
        push_string(&mut out, self.uid);
        if self.decision.allowed {
            out.push_str(",\"allowed\":true}}");
            return out;
        }
        out.push_str(
            ",\"allowed\":false,\"status\":{\"code\":403,\"reason\":\"Forbidden\",\"message\":\"",
        );
        for (i, violation) in violations.iter().enumerate() {
            if i > 0 {
                out.push_str("; ");
            }
            push_escaped(&mut out, &violation.msg);
        }
        out.push_str("\"}}}");
        out
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

/// A violation's JSON object: `{"rule", "msg", "path", "container"?}`.
pub(crate) fn push_violation(out: &mut String, violation: &Violation) {
    out.push_str("{\"rule\":\"");
    out.push_str(violation.rule.as_str()); // kebab-case ASCII: nothing to escape
    out.push_str("\",\"msg\":");
    push_string(out, &violation.msg);
    out.push_str(",\"path\":");
    push_string(out, &violation.path);
    if let Some(container) = &violation.container {
        out.push_str(",\"container\":");
        push_string(out, container);
    }
    out.push('}');
}

/// Appends `text` as a JSON string literal.
#[inline(never)]
pub fn push_string(out: &mut String, text: &str) {
    out.push('"');
    push_escaped(out, text);
    out.push('"');
}

/// Appends `text` escaped for the inside of a JSON string literal, as serde_json escapes it: `"`
/// and `\\`, the short forms `\b \t \n \f \r`, `\u00xx` for the other control characters, and
/// everything else (DEL and non-ASCII too) as it is.
#[inline(never)]
pub fn push_escaped(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    loop {
        // The reader's scan finds the next byte to escape eight bytes at a time; `i` is at an
        // ASCII byte (or the end), so both ends of the run are character boundaries.
        let i = plain_run(bytes, start);
        out.push_str(text.get(start..i).unwrap_or_default());
        let Some(&byte) = bytes.get(i) else {
            return;
        };
        out.push_str(match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            _ => CONTROL.get(usize::from(byte)).copied().unwrap_or_default(),
        });
        start = i.saturating_add(1);
    }
}

/// The `\u00xx` escapes of the control characters (those with short forms are never looked up).
const CONTROL: [&str; 32] = [
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
    "\\u0008", "\\u0009", "\\u000a", "\\u000b", "\\u000c", "\\u000d", "\\u000e", "\\u000f",
    "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
    "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::RuleName;
    use crate::settings::RunnerType;
    use serde_json::{Value, json};

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        push_string(&mut out, text);
        out
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut every_ascii: String = (0u8..=0x7f).map(char::from).collect();
        every_ascii.push_str("é 中 😀 \u{2028}");
        for text in [
            "",
            "plain",
            "a\"b\\c/d",
            "\u{0}\u{1f}\u{7f}",
            every_ascii.as_str(),
        ] {
            assert_eq!(
                escaped(text),
                serde_json::to_string(text).unwrap(),
                "{text:?}"
            );
        }
        // Every byte to escape at every place in and around an eight-byte word.
        for special in ['"', '\\', '\n', '\u{1}'] {
            for at in 0..20 {
                let mut text: String = "0123456789abcdefghij".chars().take(at).collect();
                text.push(special);
                text.push_str("é-tail");
                assert_eq!(
                    escaped(&text),
                    serde_json::to_string(&text).unwrap(),
                    "{text:?}"
                );
            }
        }
    }

    fn decision(allowed: bool) -> Decision {
        let violations = if allowed {
            Vec::new()
        } else {
            vec![
                Violation::new(RuleName::NoHostAccess, "spec.hostPID", "no \"host\"\n"),
                Violation::new(RuleName::PublicRegistries, "spec.containers[0].image", "x")
                    .in_container("bu\u{1}ild"),
            ]
        };
        Decision::from_violations(Some(RunnerType::Dind), violations)
    }

    #[test]
    fn every_shape_is_json_with_the_fields_in_order() {
        let denied = decision(false);
        let text = denied.to_json();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            json!({"allowed": false, "runner": "dind", "violations": [
                {"rule": "no-host-access", "msg": "no-host-access: no \"host\"\n", "path": "spec.hostPID"},
                {"rule": "public-registries", "msg": "public-registries: x",
                 "path": "spec.containers[0].image", "container": "bu\u{1}ild"},
            ]})
        );
        // Compact, in declaration order (serde_json's `Value` would sort the keys).
        assert!(text.starts_with(r#"{"allowed":false,"runner":"dind","violations":[{"rule":"#));
        let allowed = Decision::from_violations(None, Vec::new());
        assert_eq!(
            allowed.to_json(),
            r#"{"allowed":true,"runner":null,"violations":[]}"#
        );

        let answer = |decision, dialect| Answer {
            dialect,
            uid: "u\"1",
            decision,
        };
        let gatekeeper = answer(&denied, Some(&Dialect::Gatekeeper)).render(Entrypoint::Main);
        let value: Value = serde_json::from_str(&gatekeeper).unwrap();
        assert_eq!(value[1]["msg"], "public-registries: x");
        assert_eq!(value[1]["details"]["container"], "bu\u{1}ild");
        assert!(
            gatekeeper.starts_with(r#"[{"msg":"no-host-access: no \"host\"\n","details":{"rule":"#)
        );
        assert_eq!(answer(&allowed, None).render(Entrypoint::Violation), "[]");

        let review = answer(&denied, Some(&Dialect::KubewardenOpa)).render(Entrypoint::Main);
        assert_eq!(
            review,
            r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u\"1","allowed":false,"status":{"code":403,"reason":"Forbidden","message":"no-host-access: no \"host\"\n; public-registries: x"}}}"#
        );
        let v1beta1 = Dialect::AdmissionReview {
            api_version: "admission.k8s.io/v1beta1".to_owned(),
        };
        assert_eq!(
            answer(&allowed, Some(&v1beta1)).render(Entrypoint::Main),
            r#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","response":{"uid":"u\"1","allowed":true}}"#
        );
    }
}
