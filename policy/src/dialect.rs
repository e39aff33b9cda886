//! The edge: a [`Decision`] rendered in the caller's dialect. The only place that knows the
//! wire shapes of Gatekeeper violations and AdmissionReview responses.

use crate::Entrypoint;
use crate::decision::{Decision, push_violation, text_len};
use crate::json_text::{push_escaped, push_string};
use crate::request::Dialect;
use alloc::string::String;

/// Everything the edge needs to answer one request.
pub struct Answer<'d> {
    pub dialect: Option<&'d Dialect>,
    pub uid: &'d str,
    pub decision: &'d Decision,
}

impl Answer<'_> {
    /// The JSON text of the entrypoint's result value.
    pub fn render(&self, entrypoint: Entrypoint) -> String {
        self.render_between(entrypoint, "", "")
    }

    /// [`Answer::render`] between `head` and `tail`, in one buffer: the module hands out its
    /// result set this way without copying the result into it.
    pub fn render_between(&self, entrypoint: Entrypoint, head: &str, tail: &str) -> String {
        let violations = &self.decision.violations;
        let shape = self.shape(entrypoint);
        let hint = match shape {
            Shape::Decision => text_len(violations),
            Shape::Violations => text_len(violations).saturating_mul(2),
            Shape::Review(_) => text_len(violations).saturating_add(160),
        };
        let mut out =
            String::with_capacity(hint.saturating_add(head.len()).saturating_add(tail.len()));
        // An empty push is still a copy call in the module.
        if !head.is_empty() {
            out.push_str(head);
        }
        match shape {
            Shape::Decision => self.decision.write_json(&mut out),
            Shape::Violations => self.violations(&mut out),
            Shape::Review(api_version) => self.review(api_version, &mut out),
        }
        if !tail.is_empty() {
            out.push_str(tail);
        }
        out
    }

    fn shape(&self, entrypoint: Entrypoint) -> Shape<'_> {
        match entrypoint {
            Entrypoint::Decision => Shape::Decision,
            Entrypoint::Violation => Shape::Violations,
            Entrypoint::Main => match self.dialect {
                Some(Dialect::KubewardenOpa) => Shape::Review("admission.k8s.io/v1"),
                Some(Dialect::AdmissionReview { api_version }) => Shape::Review(api_version),
                // Unknown input gets the Gatekeeper form: a non-empty violations list denies in
                // every engine, while an AdmissionReview would be unreadable (so allowed) there.
                Some(Dialect::Gatekeeper) | None => Shape::Violations,
            },
        }
    }

    /// Gatekeeper violations: `[{"msg": ..., "details": {"rule", "path", "container"?}}]`, the
    /// Rego twin's shape. The message is said once: engines that parse the answer (Kubewarden's
    /// does) pay for every byte of it.
    fn violations(&self, out: &mut String) {
        out.push('[');
        for (i, violation) in self.decision.violations.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"msg\":");
            push_string(out, &violation.msg);
            out.push_str(",\"details\":");
            push_violation(out, violation, false);
            out.push('}');
        }
        out.push(']');
    }

    /// An AdmissionReview answer: `{"apiVersion", "kind", "response": {"uid", "allowed",
    /// "status"?}}`; a denial's status message is every violation's message, `; `-separated.
    fn review(&self, api_version: &str, out: &mut String) {
        out.push_str("{\"apiVersion\":");
        push_string(out, api_version);
        out.push_str(",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":");
        push_string(out, self.uid);
        if self.decision.allowed {
            out.push_str(",\"allowed\":true}}");
            return;
        }
        out.push_str(
            ",\"allowed\":false,\"status\":{\"code\":403,\"reason\":\"Forbidden\",\"message\":\"",
        );
        for (i, violation) in self.decision.violations.iter().enumerate() {
            if i > 0 {
                out.push_str("; ");
            }
            push_escaped(out, &violation.msg);
        }
        out.push_str("\"}}}");
    }
}

/// The wire shape of an answer.
#[derive(Clone, Copy)]
enum Shape<'d> {
    Decision,
    Violations,
    /// An AdmissionReview, with its apiVersion.
    Review(&'d str),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{RuleName, Violation};
    use crate::settings::RunnerType;
    use serde_json::{Value, json};

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
        assert_eq!(
            value[1]["details"],
            json!({"rule": "public-registries", "path": "spec.containers[0].image", "container": "bu\u{1}ild"})
        );
        assert_eq!(
            value[0]["details"],
            json!({"rule": "no-host-access", "path": "spec.hostPID"})
        );
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

    /// The framed rendering (what `opa_eval` hands out) is the plain one between its head and
    /// tail, for every entrypoint, dialect and decision, with or without a frame.
    #[test]
    fn a_framed_answer_is_the_answer_in_its_frame() {
        let review = Dialect::AdmissionReview {
            api_version: "admission.k8s.io/v1beta1".to_owned(),
        };
        let dialects = [
            None,
            Some(&Dialect::Gatekeeper),
            Some(&Dialect::KubewardenOpa),
            Some(&review),
        ];
        let frames = [
            ("", ""),
            ("[{\"result\":", "}]\0"),
            ("{{\"result\":", ""),
            ("", "\0"),
        ];
        for allowed in [true, false] {
            let decision = decision(allowed);
            for dialect in dialects {
                let answer = Answer {
                    dialect,
                    uid: "u",
                    decision: &decision,
                };
                for entrypoint in Entrypoint::ALL {
                    let plain = answer.render(entrypoint);
                    assert!(plain.starts_with(['{', '[']), "{plain}");
                    for (head, tail) in frames {
                        assert_eq!(
                            answer.render_between(entrypoint, head, tail),
                            format!("{head}{plain}{tail}")
                        );
                    }
                }
            }
        }
    }
}
