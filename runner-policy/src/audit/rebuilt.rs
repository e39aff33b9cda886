//! An admission request rebuilt from an audit event, the user and the objects as the JSON text
//! the log held: written out as an AdmissionReview's text for the module, or as a tree.

use std::sync::Arc;

use serde_json::Value;

use super::event::{Facts, Raw};
use super::outcome::Note;
use crate::k8s::{Parts, admission_review, write_admission_review};
use policy::request::Operation;

/// The parts of the AdmissionReview an audit event was (see [`crate::k8s::Parts`]).
#[derive(Debug, Clone)]
pub struct Rebuilt {
    /// The event's `auditID`.
    pub uid: String,
    pub group: String,
    pub version: String,
    pub kind: String,
    pub kind_api_version: Option<String>,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    pub namespace: String,
    pub operation: Operation,
    pub user_info: Arc<Raw>,
    pub object: Option<Arc<Raw>>,
    pub old_object: Option<Arc<Raw>>,
    pub dry_run: bool,
    /// What the request's line should add, if anything.
    pub note: Option<Note>,
}

impl Rebuilt {
    fn parts<'a, O>(&'a self, object: impl Fn(&'a Raw) -> O) -> Parts<'a, O> {
        Parts {
            uid: &self.uid,
            group: &self.group,
            version: &self.version,
            kind: &self.kind,
            kind_api_version: self.kind_api_version.as_deref(),
            resource: &self.resource,
            subresource: &self.subresource,
            name: &self.name,
            namespace: &self.namespace,
            operation: self.operation.as_str(),
            user_info: object(&self.user_info),
            object: self.object.as_deref().map(&object),
            old_object: self.old_object.as_deref().map(&object),
            dry_run: self.dry_run,
        }
    }

    /// The `admission.k8s.io/v1` AdmissionReview, as a tree.
    pub fn review(&self) -> Value {
        admission_review(self.parts(Raw::value))
    }

    /// The AdmissionReview's JSON text, appended to `out`.
    pub fn write_review(&self, out: &mut Vec<u8>) {
        write_admission_review(&self.parts(Raw::text), out);
    }

    /// What [`crate::documents::summary`] says of the review: `(operation, kind,
    /// namespace/name, username)`.
    pub fn summary(&self) -> (String, String, String, String) {
        let namespace = if self.group.is_empty() && self.resource == "namespaces" {
            &self.name
        } else {
            &self.namespace
        };
        fn fact(raw: Option<&Arc<Raw>>, field: fn(&Facts) -> &Option<String>) -> &str {
            raw.and_then(|r| field(r.facts()).as_deref())
                .unwrap_or_default()
        }
        let name = [
            self.name.as_str(),
            fact(self.object.as_ref(), |f| &f.name),
            fact(self.old_object.as_ref(), |f| &f.name),
            fact(self.object.as_ref(), |f| &f.generate_name),
        ]
        .into_iter()
        .find(|n| !n.is_empty())
        .unwrap_or("-");
        let target = if namespace.is_empty() {
            name.to_owned()
        } else {
            format!("{namespace}/{name}")
        };
        (
            self.operation.as_str().to_owned(),
            self.kind.clone(),
            target,
            fact(Some(&self.user_info), |f| &f.username).to_owned(),
        )
    }
}
