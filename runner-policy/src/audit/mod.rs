//! Kubernetes audit logs as admission requests: what the policy would have said about every
//! write a cluster's audit log shows, before the policy is enforced there.
//!
//! An `audit.k8s.io/v1` Event records a request, not the AdmissionRequest the API server built
//! from it, so [`AuditLog`] rebuilds one per event:
//! - identity: `impersonatedUser` when set (admission sees the impersonated user), else `user`;
//! - operation: `create` is CREATE, `update` and `patch` are UPDATE, `delete` and
//!   `deletecollection` are DELETE, and any verb on `exec`, `attach`, `portforward` or `proxy`
//!   is CONNECT; reads are not admitted, and requests refused before admission are not judged;
//! - object: the response object (the stored result, defaults and mutations included, which is
//!   what validating admission sees), else the request object; a `patch` without a response
//!   object holds a patch, not an object, and is skipped;
//! - old object, for pod-bearing kinds only (the only ones whose previous state a rule reads):
//!   the last state of the same object that the log showed, from writes and `get`s, kept up to
//!   date through bindings and graceful deletes and forgotten when a write's result is unknown;
//!   for the `status` subresource, which cannot change a spec, the new object; else none, and
//!   the rules judge the UPDATE as if the spec changed ([`Note::WithoutPreviousState`]);
//! - CONNECT options (PodExecOptions and kin) and `dryRun` come from the request URI's query
//!   (a DELETE's dry run from its DeleteOptions).
//!
//! Only an event's last stage is replayed (`ResponseComplete`, `Panic`, or an event without a
//! stage), so a request logged at several stages is judged once.

mod event;
mod outcome;
mod rebuilt;
mod request;
mod scan;
#[cfg(test)]
mod tests;

pub use event::{Event, Facts, ObjectRef, Raw, ResponseStatus, is_audit_event};
pub use outcome::{Note, Replayed, Skip};
pub use rebuilt::Rebuilt;
use request::{connect_kind, connect_options, is_state_of, query};
pub use scan::read_line;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::k8s::kind_of;
use policy::request::Operation;

/// The identity of an object across events: group, resource, namespace, name.
pub(crate) type ObjectKey = (String, String, String, String);

/// Rebuilds admission requests from audit events in log order, remembering each object's last
/// state for the UPDATEs that follow.
#[derive(Debug, Default)]
pub struct AuditLog {
    /// Each object's last state, as the JSON text the log held (shared with the requests it is
    /// part of; a week of a busy cluster's log holds many objects).
    states: HashMap<ObjectKey, Arc<Raw>>,
    /// Events not replayed, by reason.
    pub skipped: BTreeMap<Skip, usize>,
}

impl AuditLog {
    /// The admission request `event` was, or why it is not replayed.
    pub fn replay(&mut self, event: &Event) -> Result<Replayed, Skip> {
        self.request(event).map(|rebuilt| Replayed {
            review: rebuilt.review(),
            note: rebuilt.note,
        })
    }

    /// As [`AuditLog::replay`], the request as its parts and the objects as their text.
    pub fn request(&mut self, event: &Event) -> Result<Rebuilt, Skip> {
        let result = self.rebuild(event);
        if let Err(skip) = result {
            *self.skipped.entry(skip).or_default() += 1;
        }
        result
    }

    pub(crate) fn rebuild(&mut self, event: &Event) -> Result<Rebuilt, Skip> {
        if !matches!(event.stage.as_str(), "ResponseComplete" | "Panic" | "") {
            return Err(Skip::EarlierStage);
        }
        let target = event.object_ref.as_ref().ok_or(Skip::NoObjectRef)?;
        if target.resource.is_empty() {
            return Err(Skip::NoObjectRef);
        }
        let code = event.response_status.as_ref().map_or(0, |s| s.code);
        let succeeded = code == 0 || (100..300).contains(&code);
        let connect = connect_kind(&target.resource, &target.subresource);
        let operation = match (event.verb.as_str(), connect) {
            (_, Some(_)) => Operation::Connect,
            ("create", None) => Operation::Create,
            ("update" | "patch", None) => Operation::Update,
            ("delete" | "deletecollection", None) => Operation::Delete,
            _ => {
                self.learn(event, target, succeeded);
                return Err(Skip::NotAdmitted);
            }
        };
        if refused_before_admission(event, code) {
            return Err(Skip::RefusedBeforeAdmission);
        }
        let user = match event.impersonated_user.as_ref().or(event.user.as_ref()) {
            Some(user) if user.facts().object => Arc::clone(user),
            _ => return Err(Skip::NoUser),
        };
        let version = if target.api_version.is_empty() {
            "v1"
        } else {
            &target.api_version
        };
        let collection = event.verb == "deletecollection";
        let dry_run = query(&event.request_uri)
            .iter()
            .any(|(k, v)| k == "dryRun" && v == "All")
            // A DELETE carries its DeleteOptions, dry run included, in the body.
            || (operation == Operation::Delete
                && event
                    .request_object
                    .as_ref()
                    .is_some_and(|o| o.facts().dry_run_all));
        // The kind the object should have; a subresource write (eviction, binding) names its
        // own kind in its request object.
        let expected = kind_of(&target.api_group, &target.resource)
            .filter(|_| target.subresource.is_empty() || target.subresource == "status");
        let response = event
            .response_object
            .as_ref()
            .filter(|o| succeeded && o.is_object_of(expected));
        let request = event
            .request_object
            .as_ref()
            .filter(|o| o.is_object_of(None));
        let name = match response.or(request) {
            Some(o) if target.name.is_empty() && !collection => {
                o.facts().name.clone().unwrap_or_default()
            }
            _ => target.name.clone(),
        };
        let key: ObjectKey = (
            target.api_group.clone(),
            target.resource.clone(),
            target.namespace.clone(),
            name.clone(),
        );
        let changes_state = succeeded && !dry_run;
        let object = match operation {
            Operation::Connect => Some(Arc::new(connect_options(
                connect.unwrap_or_default(),
                version,
                &event.request_uri,
            ))),
            Operation::Delete => None,
            _ => match (response, request, event.verb.as_str()) {
                (Some(o), _, _) | (None, Some(o), "create" | "update") => Some(Arc::clone(o)),
                (None, _, verb) => {
                    // The object changed in a way the log does not show: what was known of it
                    // is out of date (a status write cannot change a spec).
                    if changes_state && !keeps_spec(&target.subresource) {
                        self.states.remove(&key);
                    }
                    return Err(if verb == "patch" {
                        Skip::PatchWithoutResult
                    } else {
                        Skip::NoObject
                    });
                }
            },
        };
        let kind = object
            .as_ref()
            .and_then(|o| o.facts().kind.clone())
            .or_else(|| expected.map(str::to_owned))
            .unwrap_or_else(|| target.resource.clone());
        // A subresource's object may be of another group's kind (a TokenRequest, an Eviction).
        let kind_api_version = object
            .as_ref()
            .filter(|_| !target.subresource.is_empty())
            .and_then(|o| o.facts().api_version.clone());
        let carries_pod =
            policy::request::object::carries_pod(&target.api_group, kind_of_target(target, &kind));
        let old_object = match operation {
            Operation::Update | Operation::Delete if carries_pod => {
                self.previous(&key, request, event.verb == "update")
                    .or_else(|| {
                        // A status write cannot change a spec: the new object stands for the old.
                        (target.subresource == "status")
                            .then(|| object.clone())
                            .flatten()
                    })
            }
            _ => None,
        };
        let note = if collection {
            Some(Note::WholeCollection)
        } else if operation == Operation::Update && carries_pod && old_object.is_none() {
            Some(Note::WithoutPreviousState)
        } else {
            None
        };
        if changes_state {
            let known = old_object
                .as_deref()
                .filter(|_| operation == Operation::Delete);
            self.record(operation, &key, target, event, object.as_ref(), known);
        }
        Ok(Rebuilt {
            uid: event.audit_id.clone(),
            group: target.api_group.clone(),
            version: version.to_owned(),
            kind,
            kind_api_version,
            resource: target.resource.clone(),
            subresource: target.subresource.clone(),
            name,
            namespace: target.namespace.clone(),
            operation,
            user_info: user,
            object,
            old_object,
            dry_run,
            note,
        })
    }

    /// The state an UPDATE or DELETE of `key` starts from, when the log showed it and it is not
    /// out of date: an `update` names the version it replaces, which must be the one known.
    pub(crate) fn previous(
        &self,
        key: &ObjectKey,
        request: Option<&Arc<Raw>>,
        names_version: bool,
    ) -> Option<Arc<Raw>> {
        let state = self.states.get(key)?;
        let version = |o: &Raw| o.facts().resource_version.clone().filter(|v| !v.is_empty());
        match (
            names_version
                .then(|| request.and_then(|r| version(r)))
                .flatten(),
            version(state),
        ) {
            (Some(replaced), Some(known)) if replaced != known => None,
            _ => Some(Arc::clone(state)),
        }
    }

    /// Keeps what a successful write did to the states: a created or written pod-bearing object
    /// is remembered, a deleted one (`deleted`: its state before) forgotten, a scheduled pod
    /// gets its node.
    pub(crate) fn record(
        &mut self,
        operation: Operation,
        key: &ObjectKey,
        target: &ObjectRef,
        event: &Event,
        object: Option<&Arc<Raw>>,
        deleted: Option<&Raw>,
    ) {
        match operation {
            Operation::Delete if event.verb == "deletecollection" => {
                let (group, resource, namespace, _) = key;
                self.states
                    .retain(|(g, r, n, _), _| (g, r, n) != (group, resource, namespace));
            }
            // A graceful deletion leaves the object in place, marked, until a last DELETE
            // (the kubelet's, for a pod): later writes to it still have a previous state.
            Operation::Delete => {
                let already_deleting = deleted.is_some_and(|o| o.facts().deleting);
                match event.response_object.as_ref().filter(|o| {
                    is_state_of(o, target) && keeps_state(o.facts()) && o.facts().deleting
                }) {
                    Some(o) if !already_deleting => {
                        self.states.insert(key.clone(), o.detached());
                    }
                    _ => {
                        self.states.remove(key);
                    }
                }
            }
            // The scheduler binds a pod through `pods/binding`: the API server sets
            // `spec.nodeName`, and the log holds only the Binding.
            Operation::Create if target.subresource == "binding" => {
                let node = event
                    .request_object
                    .as_ref()
                    .and_then(|b| b.facts().target_name.as_deref());
                match self.states.get(key).zip(node) {
                    Some((pod, node)) => match bound(pod, node) {
                        Some(pod) => {
                            self.states.insert(key.clone(), Arc::new(pod));
                        }
                        None => {
                            self.states.remove(key);
                        }
                    },
                    None => {
                        self.states.remove(key);
                    }
                }
            }
            Operation::Create | Operation::Update => {
                match object.filter(|o| is_state_of(o, target)) {
                    Some(o) if keeps_state(o.facts()) => {
                        self.states.insert(key.clone(), o.detached());
                    }
                    Some(_) => {}
                    // A write whose result the log does not show: what the object is now is not
                    // known, unless the write cannot change a spec.
                    None if !keeps_spec(&target.subresource) => {
                        self.states.remove(key);
                    }
                    None => {}
                }
            }
            _ => {}
        }
    }

    /// Remembers the object a successful read returned.
    pub(crate) fn learn(&mut self, event: &Event, target: &ObjectRef, succeeded: bool) {
        if event.verb != "get" || !succeeded {
            return;
        }
        if let Some(object) = event
            .response_object
            .as_ref()
            .filter(|o| is_state_of(o, target) && keeps_state(o.facts()))
        {
            let key = (
                target.api_group.clone(),
                target.resource.clone(),
                target.namespace.clone(),
                target.name.clone(),
            );
            self.states.insert(key, object.detached());
        }
    }
}

/// `pod` with `spec.nodeName` set to `node`; `None` when it has no `spec` object.
fn bound(pod: &Raw, node: &str) -> Option<Raw> {
    // Once per scheduled pod: a tree is simpler than editing the text, and costs little.
    let mut pod = pod.value();
    pod.get_mut("spec")?
        .as_object_mut()?
        .insert("nodeName".into(), node.into());
    Some(Raw::from_value(&pod))
}

/// Subresources whose writes leave the spec as it was: `status` (the API server keeps the
/// stored spec) and `eviction` (which deletes the pod, gracefully).
pub(crate) fn keeps_spec(subresource: &str) -> bool {
    matches!(subresource, "status" | "eviction")
}

/// Whether a state of this object is worth keeping: only pod-bearing objects' previous states
/// change a decision (an UPDATE that leaves the pod spec as it was is not judged by the pod
/// rules), so only they are kept, and memory grows with them alone.
pub(crate) fn keeps_state(object: &Facts) -> bool {
    let group = object
        .api_version
        .as_deref()
        .and_then(|v| v.split_once('/'))
        .map_or("", |(g, _)| g);
    policy::request::object::carries_pod(group, object.kind.as_deref().unwrap_or(""))
}

/// The kind the pod rules would see for `target`: the resource's own kind for its
/// subresources (an UPDATE of `pods/ephemeralcontainers` is an UPDATE of a Pod).
pub(crate) fn kind_of_target<'k>(target: &ObjectRef, kind: &'k str) -> &'k str {
    match kind_of(&target.api_group, &target.resource) {
        Some(own) => own,
        None => kind,
    }
}

/// Whether the API server refused the request before admission ran: authorization said no
/// (the audit annotation), or it answered with a status admission never leads to (bad
/// request, unauthenticated, not found, not allowed, unprocessable). A 403 without the
/// annotation is a denial by admission itself, and a 409 comes from storage, after it.
pub(crate) fn refused_before_admission(event: &Event, code: u16) -> bool {
    event
        .annotations
        .get("authorization.k8s.io/decision")
        .is_some_and(|d| d == "forbid")
        || matches!(code, 400 | 401 | 404 | 405 | 406 | 413 | 415 | 422)
}
