//! The edge: a [`Decision`] rendered in the caller's dialect. The only place that knows the
//! wire shapes of Gatekeeper violations and AdmissionReview responses.

use crate::Entrypoint;
use crate::decision::{Decision, Violation};
use crate::request::Dialect;
use serde::Serialize;

/// A Gatekeeper violation: `{"msg": ..., "details": {...}}`.
#[derive(Serialize)]
pub struct GatekeeperViolation<'d> {
    pub msg: &'d str,
    pub details: &'d Violation,
}

#[derive(Serialize)]
struct Status {
    code: u16,
    reason: &'static str,
    message: String,
}

#[derive(Serialize)]
struct Response<'d> {
    uid: &'d str,
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AdmissionReview<'d> {
    api_version: &'d str,
    kind: &'static str,
    response: Response<'d>,
}

/// Everything the edge needs to answer one request.
pub struct Answer<'d> {
    pub dialect: Option<&'d Dialect>,
    pub uid: &'d str,
    pub decision: &'d Decision,
}

/// Written when serialisation itself fails (it cannot for these types; this keeps the promise
/// of a well-formed, failing-closed answer without a panic path).
const FALLBACK_VIOLATIONS: &str = r#"[{"msg":"valid-request: the decision could not be serialised","details":{"rule":"valid-request","msg":"valid-request: the decision could not be serialised","path":"input"}}]"#;

impl Answer<'_> {
    /// The JSON text of the entrypoint's result value.
    pub fn render(&self, entrypoint: Entrypoint) -> String {
        let text = match entrypoint {
            Entrypoint::Decision => serde_json::to_string(self.decision),
            Entrypoint::Violation => serde_json::to_string(&self.violations()),
            Entrypoint::Main => match self.dialect {
                Some(Dialect::KubewardenOpa) => {
                    serde_json::to_string(&self.review("admission.k8s.io/v1"))
                }
                Some(Dialect::AdmissionReview { api_version }) => {
                    serde_json::to_string(&self.review(api_version))
                }
                // Unknown input gets the Gatekeeper form: a non-empty violations list denies in
                // every engine, while an AdmissionReview would be unreadable (so allowed) there.
                Some(Dialect::Gatekeeper) | None => serde_json::to_string(&self.violations()),
            },
        };
        text.unwrap_or_else(|_| FALLBACK_VIOLATIONS.to_owned())
    }

    fn violations(&self) -> Vec<GatekeeperViolation<'_>> {
        self.decision
            .violations
            .iter()
            .map(|v| GatekeeperViolation {
                msg: &v.msg,
                details: v,
            })
            .collect()
    }

    fn review<'s>(&'s self, api_version: &'s str) -> AdmissionReview<'s> {
        let status = (!self.decision.allowed).then(|| Status {
            code: 403,
            reason: "Forbidden",
            message: self
                .decision
                .violations
                .iter()
                .map(|v| v.msg.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        });
        AdmissionReview {
            api_version,
            kind: "AdmissionReview",
            response: Response {
                uid: self.uid,
                allowed: self.decision.allowed,
                status,
            },
        }
    }
}
